"""What every export format is made of: :class:`ExportFormat` (write a session, name its files,
finalize, read back, verify) and :class:`SessionWriter` (one session's segments in one format),
and the one way export files are written, :func:`commit_bytes` (atomic: a temporary name, then a
rename; a killed run's temporaries are removed by the next run, :func:`leftover_target`)."""
from __future__ import annotations

import abc
import os
import re
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, Type

from ..._io import atomic_path, commit_temporary, remove_temporary, start_temporary, temporary_target
from .. import codec
from ..compare import compare_samples
from ..plan import PARTIAL, PARTS_DIR, ExportPlan

Sample = Dict[str, Any]
Record = Dict[str, Any]

#: Private test hook (see :func:`segment_written`): the export process exits hard after this many
#: segments. Read by the export worker only; not an option.
FAIL_AFTER_ENV = "_MCOREC_TORCH_EXPORT_FAIL_AFTER"
#: Exit status of a process stopped by :data:`FAIL_AFTER_ENV`.
FAIL_EXIT = 86
#: Private test hook, as :data:`FAIL_AFTER_ENV` but raising ``KeyboardInterrupt`` (a Ctrl-C:
#: the cleanup runs) instead of exiting.
INTERRUPT_AFTER_ENV = "_MCOREC_TORCH_EXPORT_INTERRUPT_AFTER"
_WRITTEN = [0]  # segments written by this process


def segment_written() -> None:
    """Count one segment written by this process. Failure injection for the resume tests: with
    the environment variable :data:`FAIL_AFTER_ENV` set to ``N``, the next
    :func:`commit_bytes` after ``N`` segments exits the process with :data:`FAIL_EXIT` through
    ``os._exit`` (no cleanup, as a kill would) while its file is still under its temporary name;
    with :data:`INTERRUPT_AFTER_ENV`, it raises ``KeyboardInterrupt`` there instead."""
    _WRITTEN[0] += 1


def _fail_point() -> None:
    limit = os.environ.get(FAIL_AFTER_ENV)
    if limit is not None and _WRITTEN[0] >= int(limit):
        os._exit(FAIL_EXIT)
    limit = os.environ.get(INTERRUPT_AFTER_ENV)
    if limit is not None and _WRITTEN[0] >= int(limit):
        raise KeyboardInterrupt


def commit_file(path: Path, write: Callable[[Path], Any]) -> None:
    """``write(temporary path)`` and rename the file to ``path`` (readers and resumed runs see the
    whole file or none); the temporary file is removed when writing fails."""
    with atomic_path(path) as tmp:
        write(tmp)
        _fail_point()


def commit_bytes(path: Path, data: bytes) -> None:
    """:func:`commit_file` of ``data``."""
    commit_file(path, lambda tmp: tmp.write_bytes(data))


class PendingFile:
    """A file written over several calls (a tar shard, an Arrow part) under its temporary name
    (the steps of :func:`~mcorec_torch._io.atomic_path`): :attr:`tmp` is where to write,
    :meth:`commit` renames it to ``path``, :meth:`discard` removes it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tmp = start_temporary(path)

    def commit(self) -> None:
        commit_temporary(self.tmp, self.path)

    def discard(self) -> None:
        remove_temporary(self.tmp)


def leftover_target(name: str) -> Optional[str]:
    """The file name that ``name`` (of a file a killed run left) stands for: a temporary name of
    :func:`commit_bytes` / ``atomic_path`` (``.b.mp4.tmp42`` -> ``b.mp4``) or a ``.partial`` name
    (a writer's scratch mp4, or a run of an earlier version: ``b.partial.mp4`` -> ``b.mp4``);
    ``None`` for any other file."""
    target = temporary_target(name)
    if target is None and PARTIAL in name:
        target = name.replace(PARTIAL, "", 1)
    return target


def scratch_pattern(split: str, session: str) -> str:
    """The regular expression of the final name (:func:`leftover_target`) of the scratch mp4s
    :meth:`SessionWriter.mp4_bytes` encodes ``session``'s segments into."""
    return rf"{re.escape(PARTS_DIR)}/{re.escape(split)}-{re.escape(session)}-\d+\.mp4"


class SessionWriter(abc.ABC):
    """Writes the segments of one session in one format; ``write(i, record)`` returns the
    record with its ``paths`` or raises; ``close()`` finishes container files (tars, Arrow),
    ``abort()`` drops them (the session failed)."""

    def __init__(self, plan: ExportPlan, out: Path, session: str) -> None:
        self.plan, self.out, self.session = plan, out, session
        self.settings = plan.settings
        self.reused = 0

    def load(self, i: int) -> Sample:
        """Segment ``i`` as the dataset reads it (``MCoRecDataset.load``: ``SegmentReader``)."""
        return self.plan.dataset.load(i)

    def mp4_bytes(self, sample: Sample) -> bytes:
        """The sample's frames and audio as the bytes of a segment mp4 (encoded into a scratch
        file ``OUT/parts/<split>-<session>-<pid>.partial.mp4``: the encoder picks the container
        by the extension)."""
        scratch = self.out / PARTS_DIR / f"{self.plan.split}-{self.session}-{os.getpid()}{PARTIAL}.mp4"
        scratch.parent.mkdir(parents=True, exist_ok=True)
        try:
            codec.write_segment_mp4(scratch, sample["video"].numpy(), sample["audio"].numpy(), self.settings.lossless)
            return scratch.read_bytes()
        finally:
            scratch.unlink(missing_ok=True)

    def encoded_video(self, sample: Sample) -> Tuple[str, bytes]:
        """``(extension, bytes)`` of the sample's frames (and audio, for mp4) as stored in a container."""
        if self.settings.video == "npy":
            return ".npy", codec.npy_bytes(sample["video"].numpy())
        return ".mp4", self.mp4_bytes(sample)

    def activity_files(self, sample: Sample) -> Dict[str, bytes]:
        """``{key: .npy bytes}`` of the sample's who-speaks-when arrays (``plan.activity``: the
        ``activity`` option's ``ACTIVITY_KEYS``; none without it)."""
        return {key: codec.npy_bytes(sample[key].numpy()) for key in self.plan.activity}

    def audio_bytes(self, sample: Sample) -> bytes:
        """The sample's audio as a FLAC file, or lossless as a float WAV file (16 kHz mono)."""
        audio = sample["audio"].numpy()
        return codec.wav_bytes(audio) if self.settings.lossless else codec.flac_bytes(audio)

    @abc.abstractmethod
    def write(self, i: int, record: Record) -> Record:
        """Write segment ``i`` (its manifest ``record``) and return the record with its ``paths``."""

    def close(self) -> None:
        """Nothing to finish for per-segment files."""

    def abort(self) -> None:
        """Nothing to drop for per-segment files (each is complete or absent)."""


class ExportFormat(abc.ABC):
    """One export format: registered under :attr:`name` in
    :data:`mcorec_torch.export.formats.REGISTRY`; one instance (``FORMAT``) per module."""

    #: The registry key, the ``--format`` value and ``ExportSettings.format``.
    name: str = ""
    #: Whether frames may be stored as raw uint8 arrays (``video="npy"``).
    raw_video: bool = False
    #: The class writing one session (one instance per session, in a worker process).
    writer: Type[SessionWriter]

    def open_writer(self, plan: ExportPlan, out: Path, session: str) -> SessionWriter:
        """A writer of ``session``'s segments into ``out``."""
        return self.writer(plan, out, session)

    #: The regular expression of the paths (relative to the output folder, ``/``-separated) of
    #: the files the writer of a session writes, with ``{split}`` and ``{session}`` standing for
    #: the escaped names; ``None``: a session writes no file of its own.
    session_pattern: Optional[str] = None

    def session_files(self, split: str, session: str) -> List[str]:
        """Regular expressions of the paths of the files the writer of ``session`` writes, and
        of no other session's (:attr:`session_pattern` follows the session name by ``/``, by
        ``-`` and digits or by the extension, so ``session_4`` does not match ``session_40``'s)."""
        if self.session_pattern is None:
            return []
        return [self.session_pattern.format(split=re.escape(split), session=re.escape(session))]

    def check_plan(self, plan: ExportPlan) -> None:
        """Refuse, before anything is written, an export this format cannot make truthfully
        (``OptionError`` saying why and what to do instead). Formats that write the samples the
        dataset decodes can export every plan; a format pointing at source files overrides this."""

    @abc.abstractmethod
    def finalize(self, out: Path, split: str, records: List[Record]) -> None:
        """Write the format's own final files from the records of every session (the merge;
        ``records`` as the sessions' part files hold them). A format whose final files are not
        the sessions' (``wds`` shards) sets each record's final ``paths`` here: the manifest is
        written from ``records`` after this returns."""

    @abc.abstractmethod
    def read(self, out: Path, records: List[Record], color: str) -> Iterator[Sample]:
        """The SPEC §4 samples of ``records`` (of the finished export in ``out``) read back from
        its files, in ``color`` as exported."""

    def verify(self, out: Path, dataset: Any, records: List[Record], fingerprint: Dict[str, Any]) -> Dict[str, Any]:
        """Compare ``records`` read back with ``dataset`` (see :mod:`mcorec_torch.export.verify`):
        lossless exports exactly, lossy ones within the codecs' tolerances."""
        settings = fingerprint["settings"]
        audio_exact = bool(settings["lossless"])
        video_exact = audio_exact or settings["video"] == "npy"  # raw frames are exact with either audio
        samples = self.read(out, records, fingerprint["options"]["color"])
        return compare_samples(samples, dataset, len(records), video_exact, audio_exact)

