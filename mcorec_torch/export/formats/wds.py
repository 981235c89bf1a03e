"""The ``wds`` format: WebDataset tar shards ``wds/<split>-<session>-<k>.tar`` of at most
``shard_size`` samples or megabytes, listed in ``wds/shards.txt``; read back by a plain
``tarfile`` loop (:func:`iter_wds`) or, for DataLoaders, :class:`WdsDataset`."""
from __future__ import annotations

import contextlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence

from torch.utils.data import IterableDataset, get_worker_info

from ..._io import atomic_write_text
from ...errors import MCoRecDataError, PathLike
from ...timeline import frame_to_sample
from .. import codec
from ..plan import ExportPlan
from ..read import to_sample
from .base import ExportFormat, PendingFile, Record, Sample, SessionWriter


class TarWriter(SessionWriter):
    """The session's samples in tar shards; per sample ``<key>.mp4`` (frames + audio) or
    ``<key>.npy`` (frames) with ``<key>.flac``/``.wav``, ``<key>.txt`` and ``<key>.json`` (the
    record). Keys are segment ids with ``/`` replaced by ``_``. Entries are written with fixed
    metadata (mtime 0, uid 0), so a rerun writes the same bytes. Each shard is written under a
    temporary name and renamed when full."""

    def __init__(self, plan: ExportPlan, out: Path, session: str) -> None:
        super().__init__(plan, out, session)
        self.kind, self.limit = self.settings.shard_limit()
        self.number, self.count, self.size = 0, 0, 0
        self.tar: Optional[tarfile.TarFile] = None
        self.path: Optional[Path] = None
        self.pending: Optional[PendingFile] = None

    def _open(self) -> None:
        self.path = self.out / "wds" / f"{self.plan.split}-{self.session}-{self.number:05d}.tar"
        self.pending = PendingFile(self.path)
        self.tar = tarfile.open(self.pending.tmp, "w", format=tarfile.USTAR_FORMAT)
        self.count, self.size = 0, 0

    def _add(self, name: str, data: bytes) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode, info.uname, info.gname = len(data), 0, 0o644, "", ""
        self.tar.addfile(info, io.BytesIO(data))
        self.size += len(data) + 512

    def write(self, i: int, record: Record) -> Record:
        sample = self.load(i)
        key = record["id"].replace("/", "_")
        ext, video = self.encoded_video(sample)
        entries = [(key + ext, video), (key + ".txt", record["text"].encode("utf-8"))]
        if ext == ".npy":
            entries.append((key + self.settings.audio_suffix, self.audio_bytes(sample)))
        entries.append((key + ".json", json.dumps(record, sort_keys=True).encode("utf-8")))
        incoming = sum(len(d) + 512 for _, d in entries)
        if self.tar is not None and (self.count >= self.limit if self.kind == "samples"
                                     else self.size + incoming > self.limit):
            self.close()
            self.number += 1
        if self.tar is None:
            self._open()
        for name, data in entries:
            self._add(name, data)
        self.count += 1
        return dict(record, paths={"shard": self.path.relative_to(self.out).as_posix(), "key": key})

    def close(self) -> None:
        """Finish the open shard: close the tar, rename it to its name."""
        if self.tar is not None:
            self.tar.close()
            self.pending.commit()
            self.tar = None  # after the rename: abort() still removes a shard interrupted before it

    def abort(self) -> None:
        """Drop the open shard (its temporary file is removed); an error closing it (the failure
        being handled may be this file's own) does not hide the one being raised."""
        if self.tar is not None:
            with contextlib.suppress(Exception):
                self.tar.close()
            self.tar = None
            self.pending.discard()


def iter_tar_groups(path: PathLike) -> Iterator[Dict[str, bytes]]:
    """The samples of one tar shard as ``{extension: bytes}`` (with ``"__key__"``), grouped by
    key in file order, as WebDataset groups them."""
    group: Dict[str, Any] = {}
    with tarfile.open(path) as tar:
        for member in tar:
            if not member.isfile():
                continue
            name = member.name.rsplit("/", 1)[-1]
            key, _, ext = name.partition(".")
            if group and key != group["__key__"]:
                yield group
                group = {}
            group["__key__"] = key
            group[ext] = tar.extractfile(member).read()
    if group:
        yield group


def sample_from_wds(group: Dict[str, Any], color: str, name: str = "<shard>") -> Dict[str, Any]:
    """A WebDataset sample (``{extension: bytes}`` as ``webdataset`` or :func:`iter_tar_groups`
    give it, undecoded) as the SPEC §4 sample dict."""
    if "json" not in group:
        raise MCoRecDataError(name, f"sample {group.get('__key__')!r} has no .json entry")
    record = json.loads(group["json"])
    frames = int(record["frames"])
    if "mp4" in group:
        video, audio = codec.read_segment_mp4(bytes(group["mp4"]), color, frames, name=f"{name}:{group['__key__']}")
    elif "npy" in group:
        video = codec.read_npy(group["npy"])
        audio_key = "wav" if "wav" in group else "flac"
        audio = codec.read_audio_file(bytes(group[audio_key]), frame_to_sample(frames))
    else:
        raise MCoRecDataError(name, f"sample {group['__key__']!r} has neither .mp4 nor .npy frames")
    return to_sample(record, video, audio)


def iter_wds(paths: Iterable[PathLike], color: str = "rgb") -> Iterator[Dict[str, Any]]:
    """The samples of WebDataset shards ``paths`` in order (plain ``tarfile``, no ``webdataset``)."""
    for path in paths:
        for group in iter_tar_groups(path):
            yield sample_from_wds(group, color, name=str(path))


def shard_paths(out: PathLike) -> List[Path]:
    """The tar shards of a finished ``wds`` export (``OUT/wds/shards.txt``)."""
    listing = Path(out) / "wds" / "shards.txt"
    if not listing.exists():
        raise MCoRecDataError(listing, "missing: not a finished wds export")
    return [Path(out) / line for line in listing.read_text().split()]


class WdsDataset(IterableDataset):
    """The samples of WebDataset shards as an ``IterableDataset``: DataLoader workers (and,
    with ``num_replicas``/``rank``, DDP ranks) read disjoint shards; ``color`` as exported."""

    def __init__(self, shards: Sequence[PathLike], color: str = "rgb", *, num_replicas: int = 1, rank: int = 0,
                 transform: Optional[Any] = None) -> None:
        self.shards = [Path(s) for s in shards]
        self.color, self.num_replicas, self.rank, self.transform = color, num_replicas, rank, transform

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        info = get_worker_info()
        workers, worker = (info.num_workers, info.id) if info is not None else (1, 0)
        step, first = self.num_replicas * workers, self.rank * workers + worker
        for sample in iter_wds(self.shards[first::step], self.color):
            yield self.transform(sample) if self.transform is not None else sample


class WdsFormat(ExportFormat):
    """WebDataset tar shards per session and their list."""

    name = "wds"
    raw_video = True
    writer = TarWriter
    session_pattern = r"wds/{split}-{session}-\d+\.tar"

    def finalize(self, out: Path, split: str, records: List[Record]) -> None:
        shards = sorted({r["paths"]["shard"] for r in records})
        atomic_write_text(out / "wds" / "shards.txt", "".join(s + "\n" for s in shards))

    def read(self, out: Path, records: List[Record], color: str) -> Iterator[Sample]:
        wanted = {r["paths"]["key"] for r in records}
        for shard in sorted({r["paths"]["shard"] for r in records}):
            for group in iter_tar_groups(out / shard):
                if group["__key__"] in wanted:
                    yield sample_from_wds(group, color, name=shard)


FORMAT = WdsFormat()
