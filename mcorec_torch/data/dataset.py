"""``MCoRecDataset``: a map-style dataset of frame-exact MCoRec utterance segments (SPEC §4)."""
from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch.utils.data import Dataset

from ..corpus.layout import DEFAULT_LABEL_DIR, Crop, View
from ..errors import MCoRecDataError, PathLike
from ..index.asd_chunks import DEFAULT_CHUNK_SIZE
from ..index.build import build_index, default_cache_dir
from ..index.options import (ActivitySource, AudioSource, DatasetOptions, LipSource, MissingVideo, NonTarget,
                             OnError, SegmentSource, option_fields, options_table)
from ..index.report import NOT_SELECTED, SKIPPED, IndexReport, no_segments_error
from ..index.segment_index import SegmentIndex
from ..index.select import Selection
from ..lips.backend import LandmarkBackend
from ..lips.store import LandmarkStore, landmark_folder
from ..media.color import Color
from ..media.frame_cache import FrameCache
from ..text.normalize import NormalizerSpec, get_normalizer
from .activity import ActivityTable, check_activity_options
from .chunk_samples import chunk_track, warn_dropped_chunks
from .reader import SegmentReader
from .sample import Sample
from .views import make_view, split_views
from .worker import SkipCounts, tune_worker_process

if TYPE_CHECKING:
    from .describe import DatasetDescription

logger = logging.getLogger(__name__)


def _resolve_tokenizer(tokenizer: Any) -> Any:
    if tokenizer is None:
        return None
    from ..text.tokenizer import load_tokenizer
    return load_tokenizer(tokenizer)


class MCoRecDataset(Dataset):
    """Utterance segments of one or more MCoRec split directories.

    ``dataset[i]`` is a dict (SPEC §4): ``video`` uint8 ``[T, C, H, W]``, ``video_mask`` bool
    ``[T]``, ``audio`` float32 ``[640 * T]`` (16 kHz), ``text``, optional ``tokens`` int64
    ``[L]``, ``id``, ``session``, ``speaker``, ``conversation``, ``start``/``end`` (seconds,
    central timeline) and ``frame_start``/``frame_end`` (central frames F0, F1); with the
    ``activity`` option also ``activity``, ``activity_speakers``, ``stno`` (and ``activity_scores``):
    who speaks when (:mod:`mcorec_torch.data.activity`).
    With ``on_error="skip"`` a segment that fails to load gives ``None`` (dropped by
    :func:`mcorec_torch.collate`) and is counted in :meth:`report` and logged, and a file the
    index cannot read leaves out what it serves (listed in :meth:`report`) instead of raising.
    A result of 0 segments raises :class:`~mcorec_torch.index.report.NoSegmentsError` (an
    ``OptionError`` naming the option most likely at fault, with the drop table) unless
    ``allow_empty=True``.

    Two kinds of segments, told apart by :attr:`labelled`: transcript cues (``segments="labels"``,
    samples hold ``text`` and ``tokens``) and unlabeled chunks (``"asd"``, ``"windows"``,
    ``"ranges"``, SPEC §12: samples hold ``track`` and no text).

    Arguments: ``roots`` (a split directory or a list of them), the SPEC §4 options of
    :class:`~mcorec_torch.index.DatasetOptions` (keyword-only, same names, types and defaults;
    listed below), ``normalizer`` (SPEC §6: ``"default"``/``"train"``, ``"official"``, ``None`` or
    a callable), ``tokenizer`` (a :class:`~mcorec_torch.Tokenizer` or a ``.model`` path),
    ``transform`` (callable on the sample dict), ``cache_dir`` (index, audio and landmark cache),
    ``rebuild_index``, ``landmark_backend`` (what finds the landmarks of derived mouth ROIs, SPEC
    §13; default dlib's, the ``lips`` extra). The options:

{options}
    """

    def __init__(
        self,
        roots: Union[PathLike, Sequence[PathLike]],
        *,
        crops: Crop = "lip",
        view: View = "central",
        color: Color = "rgb",
        audio: AudioSource = "central",
        missing_video: MissingVideo = "pad",
        min_video_coverage: float = 0.5,
        min_duration: float = 0.0,
        max_duration: Optional[float] = None,
        merge_gap: Optional[float] = None,
        exclude: Tuple[str, ...] = (),
        on_error: OnError = "raise",
        allow_empty: bool = False,
        label_dir: str = DEFAULT_LABEL_DIR,
        frame_cache: bool = False,
        segments: SegmentSource = "labels",
        chunk_size: float = DEFAULT_CHUNK_SIZE,
        asd_exact_baseline: bool = True,
        lip_source: LipSource = "released",
        lip_dir: Optional[str] = None,
        activity: Optional[ActivitySource] = None,
        non_target: NonTarget = "all",
        normalizer: NormalizerSpec = "default",
        tokenizer: Any = None,
        transform: Optional[Callable[[Dict[str, Any]], Any]] = None,
        cache_dir: Optional[PathLike] = None,
        rebuild_index: bool = False,
        landmark_backend: Optional[LandmarkBackend] = None,
    ) -> None:
        arguments = locals()
        #: The SPEC §4 options, validated (:class:`~mcorec_torch.index.DatasetOptions`).
        self.options = DatasetOptions(**{spec.name: arguments[spec.name] for spec, _ in option_fields()})
        if isinstance(roots, (str, os.PathLike)):
            roots = [roots]
        self.roots = [Path(r) for r in roots]
        self.color = self.options.color
        self.on_error = self.options.on_error
        self.transform = transform
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.normalize = get_normalizer(normalizer)
        self.tokenizer = _resolve_tokenizer(tokenizer)
        self.index: SegmentIndex = build_index(self.roots, self.options, self.cache_dir, use_cache=not rebuild_index)
        self._select_nonempty_texts()
        if len(self) == 0 and not self.options.allow_empty:
            settings = {**dataclasses.asdict(self.options), "normalizer": normalizer}
            report = self.index.report.merged_with(self._extra_report)
            raise no_segments_error(report, [str(r) for r in self.roots], settings)
        if not self.labelled:
            warn_dropped_chunks(self.index.report, self.options)
        self.reader = SegmentReader(self.index, audio_cache_dir=self.cache_dir / "audio",
                                    frame_cache=FrameCache(self.cache_dir / "frames") if self.options.frame_cache else None,
                                    landmarks=LandmarkStore(landmark_folder(self.cache_dir), landmark_backend))
        self._skipped = SkipCounts(len(self))  # shared memory: DataLoader workers' skips count too
        check_activity_options(self.index, self.options)
        #: Who speaks when (the ``activity`` option; :mod:`mcorec_torch.data.activity`), else ``None``.
        self.activity_table = ActivityTable(self.index, self.options) if self.options.activity else None
        if hasattr(transform, "bind"):  # e.g. InterferingSpeech draws other segments of this dataset
            transform.bind(self)

    def _select_nonempty_texts(self) -> None:
        """Normalize every segment's text once; keep those with text left.

        Segments whose normalized text is empty (a cue of only "um") move from ``kept`` to
        ``empty_text`` in :meth:`report`. Texts are stored as one bytes blob plus offsets so
        DataLoader workers share the pages instead of touching a list of Python strings.
        """
        index = self.index
        keep, encoded = [], []
        self._extra_report = IndexReport()
        for i in range(len(index)):
            if not self.labelled:  # chunks (SPEC §12) carry no text
                keep.append(i)
                encoded.append(b"")
                continue
            raw = index.text(i)
            text = self.normalize(raw) if self.normalize is not None else raw
            if text.strip():
                keep.append(i)
                encoded.append(text.encode("utf-8"))
                continue
            key = self._report_key(i)
            self._extra_report.add(key, "kept", -1)
            self._extra_report.add(key, "empty_text")
        self._rows = np.asarray(keep, dtype=np.int64)
        self._text_item = np.arange(len(keep), dtype=np.int64)  # item -> its text in the blob (views pick)
        self._text_ptr = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(t) for t in encoded], out=self._text_ptr[1:])
        self._text_bytes = np.frombuffer(b"".join(encoded), dtype=np.uint8).copy()

    def _report_key(self, row: int) -> tuple:
        """``(split, session, speaker)`` of index row ``row``, as the report counts it."""
        return self._speaker_key(int(self.index.speaker[row]))

    def _speaker_key(self, speaker_row: int) -> tuple:
        """``(split, session, speaker)`` of row ``speaker_row`` of the index's speakers."""
        speaker = self.index.speakers[speaker_row]
        session = self.index.sessions[speaker.session]
        return session.split, session.name, speaker.name

    @property
    def labelled(self) -> bool:
        """True when the segments are transcript cues (``segments="labels"``: samples hold ``text``
        and, with a tokenizer, ``tokens``); False for unlabeled chunks (ASD chunks, windows, VTT
        time ranges; SPEC §12: samples hold ``track`` instead, and no text)."""
        return self.options.segments == "labels"

    # -- sizes -------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(len(self._rows))

    @property
    def lengths(self) -> np.ndarray:
        """Frames per segment (int64 array, from the index; nothing is decoded)."""
        return self.index.num_frames[self._rows]

    def num_frames(self, i: int) -> int:
        """Frames ``T`` of segment ``i`` (from the index)."""
        row = int(self._rows[i])
        return int(self.index.frame_end[row] - self.index.frame_start[row])

    @property
    def segment_speaker(self) -> np.ndarray:
        """Speaker of every segment as an int64 array (ids unique across sessions and roots)."""
        return self.index.speaker[self._rows].astype(np.int64)

    @property
    def segment_frame_start(self) -> np.ndarray:
        """First frame of every segment on the central timeline (int64, frames): with
        :attr:`segment_speaker`, the file order ``BucketBatchSampler(locality=...)`` uses."""
        return self.index.frame_start[self._rows].astype(np.int64)

    @property
    def segment_session(self) -> np.ndarray:
        """Session of every segment as an int64 array (ids unique across roots)."""
        sessions = np.asarray([s.session for s in self.index.speakers], dtype=np.int64)
        return sessions[self.segment_speaker]

    def index_row(self, i: int) -> int:
        """Row of :attr:`index` that segment ``i`` is (segments with no text left are not rows of
        the dataset, so the two numberings differ)."""
        return int(self._rows[i])

    def segment_id(self, i: int) -> str:
        return self.index.segment_id(int(self._rows[i]))

    def text(self, i: int) -> str:
        """Normalized transcript of segment ``i`` (no media decoded)."""
        j = int(self._text_item[i])
        return bytes(self._text_bytes[self._text_ptr[j]: self._text_ptr[j + 1]]).decode("utf-8")

    def report(self) -> IndexReport:
        """Counts of kept / merged / dropped cues and why, plus ``skipped``: samples that failed
        to load with ``on_error="skip"`` (each time they were skipped), in this process and in
        every DataLoader worker of this dataset object (the counts live in shared memory; fork,
        spawn and persistent workers alike). Under DDP each rank counts its own loads."""
        report = self.index.report.merged_with(self._extra_report)
        for key, n in self._skipped.by(lambda item: self._report_key(int(self._rows[item]))).items():
            report.add(key, SKIPPED, n)
        return report

    # -- views and figures ------------------------------------------------------------------
    def select(self, *, sessions: Optional[Sequence[str]] = None, speakers: Optional[Sequence[str]] = None,
               conversations: Optional[Sequence[Union[str, int]]] = None, min_duration: Optional[float] = None,
               max_duration: Optional[float] = None,
               where: Optional[Callable[[Dict[str, Any]], bool]] = None) -> "MCoRecDataset":
        """A view of the segments that meet every criterion given (``None``: no criterion).

        ``sessions``: session names; ``speakers``: ``"SESSION/SPEAKER"``; ``conversations``:
        ``"SESSION/ID"`` or an id (that conversation of every session); ``min_duration`` /
        ``max_duration``: seconds of the cue (``end - start``), bounds included; ``where``: a
        callable on :meth:`segment_info` returning a bool. A name that matches nothing of the
        index is an :class:`~mcorec_torch.checks.OptionError` naming the closest one.

        The view is an ``MCoRecDataset`` sharing this one's index arrays, reader, text and
        options (nothing is rebuilt or read again); its item ``i`` is its ``i``-th selected
        segment, in this dataset's order. Its :meth:`report` counts the segments left out as
        ``not_selected`` (moved from ``kept``), its skip counts are its own, and a transform
        that binds to its dataset (``InterferingSpeech``) is copied and bound to the view.
        A view of 0 segments raises :class:`~mcorec_torch.index.report.NoSegmentsError` unless
        the dataset was made with ``allow_empty=True``."""
        selection = Selection(sessions, speakers, conversations, min_duration, max_duration, where)
        keep = selection.mask(self.index, self._rows, self.segment_info)
        return make_view(self, keep, NOT_SELECTED, selection.describe())

    def split_by_session(self, fraction: float, seed: int = 0) -> Tuple["MCoRecDataset", "MCoRecDataset"]:
        """``(rest, held_out)``: two views with no session in both. ``fraction`` (in (0, 1)) is
        the share of the *segments* the held-out part aims at: sessions, in an order shuffled by
        ``seed``, go to it while that brings its segment count closer to ``fraction`` of the
        total (at least one session in each part; fewer than 2 sessions with segments is an
        :class:`~mcorec_torch.checks.OptionError`). Deterministic for a seed, whatever the order
        of the roots. Each part's :meth:`report` counts the other part's segments as
        ``split_off``."""
        return split_views(self, "session", fraction, seed)

    def split_by_speaker(self, fraction: float, seed: int = 0) -> Tuple["MCoRecDataset", "MCoRecDataset"]:
        """``(rest, held_out)`` with no speaker (``SESSION/SPEAKER``) in both; otherwise as
        :meth:`split_by_session` (speakers of one session may fall in different parts)."""
        return split_views(self, "speaker", fraction, seed)

    def describe(self) -> "DatasetDescription":
        """Figures of this dataset (hours, segments, speakers, sessions, conversations, duration
        percentiles and histogram, per-session and per-speaker tables, each session's speech
        overlap from its labels): a :class:`~mcorec_torch.data.describe.DatasetDescription`
        (``to_dict()``, ``str()`` a printed table). Nothing is decoded."""
        from .describe import describe_dataset

        return describe_dataset(self)

    # -- loading -------------------------------------------------------------------------
    def load_audio(self, i: int) -> torch.Tensor:
        """Only the audio of segment ``i``: float32 ``[640 * T]`` samples, no video decoded."""
        if not 0 <= i < len(self):
            raise IndexError(f"segment {i} out of range for {len(self)} segments")
        audio = self.reader.audio(int(self._rows[i]))
        return torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))

    def load(self, i: int, *, video: bool = True) -> Sample:
        """Segment ``i`` as a sample dict, without the ``on_error`` and ``transform`` handling.

        Besides the SPEC §4 keys the dict holds ``index`` (``i``, which seeds random
        transforms, see :mod:`mcorec_torch.transforms`). ``video=False``: the frames are not
        decoded; the dict holds ``video_plan`` (a :class:`~mcorec_torch.data.reader.VideoPlan`:
        shape, mask and track pieces) instead of ``video`` (the GPU path decodes it, SPEC §8)."""
        row = self._checked_row(i)
        if video:
            frames, mask = self.reader.video(row)
        else:
            plan = self.reader.video_plan(row)
            mask = plan.mask
        audio = self.reader.audio(row)
        sample: Sample = {"video": torch.from_numpy(frames)} if video else {"video_plan": plan}
        sample.update({
            "video_mask": torch.from_numpy(mask),
            "audio": torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32)),
        })
        sample.update(self.segment_info(i))
        return sample

    def _checked_row(self, i: int) -> int:
        """Index row of segment ``i``; ``IndexError`` outside ``[0, len(self))``."""
        if not 0 <= i < len(self):
            raise IndexError(f"segment {i} out of range for {len(self)} segments")
        return int(self._rows[i])

    def segment_info(self, i: int) -> Sample:
        """The SPEC §4 keys of segment ``i`` besides its media (``video``, ``video_mask``,
        ``audio``): ``id``, ``session``, ..., ``index``, then ``text`` (and ``tokens``) or
        ``track``, and with the ``activity`` option who speaks when; nothing is decoded."""
        row = self._checked_row(i)
        index = self.index
        speaker = index.speakers[int(index.speaker[row])]
        text = self.text(i) if self.labelled else None
        sample: Sample = {
            "id": index.segment_id(row),
            "session": index.sessions[speaker.session].name,
            "speaker": speaker.name,
            "conversation": int(speaker.conversation),
            "start": int(index.start_ms[row]) / 1000.0,
            "end": int(index.end_ms[row]) / 1000.0,
            "frame_start": int(index.frame_start[row]),
            "frame_end": int(index.frame_end[row]),
            "index": int(i),
        }
        if text is None:
            sample["track"] = chunk_track(index, row)
        else:
            sample["text"] = text
        if self.tokenizer is not None and text is not None:
            sample["tokens"] = self.tokenizer.encode(text)
        if self.activity_table is not None:
            sample.update(self.activity_table.sample_keys(row))
        return sample

    def __getitem__(self, i: int) -> Optional[Sample]:
        return self.fetch(int(i))

    #: ``Tmax`` (frames) of the batches :meth:`__getitems__` decodes is rounded up to a multiple
    #: of this: set it to the collate function's ``pad_to_multiple_of`` (the loaders built from
    #: a config do), else :class:`~mcorec_torch.data.collate.Collator` copies into a longer batch.
    batch_pad_to_multiple_of: Optional[int] = None

    def __getitems__(self, indices: Sequence[int]) -> List[Optional[Sample]]:
        """``[dataset[i] for i in indices]``, what a ``DataLoader`` asks for one batch (it calls
        this with a batch sampler's indices and hands the list to its ``collate_fn``).

        Without a :attr:`transform` the frames and audio are decoded straight into one padded
        batch (a :class:`~mcorec_torch.data.collate.PaddedSamples`: each sample's tensors are
        views of its row, the padding is zero): :func:`mcorec_torch.collate` takes that batch
        without copying. Samples, frames and the ``on_error`` handling (``None`` and a count in
        :meth:`report` per skipped sample) are those of ``dataset[i]``; with a transform, or
        frames of differing sizes, it is exactly ``[dataset[i] for i in indices]``."""
        from .batch_fetch import fetch_batch

        return fetch_batch(self, [int(i) for i in indices])

    def fetch(self, i: int, *, video: bool = True, transform: bool = True) -> Optional[Sample]:
        """``dataset[i]`` with choices: ``video=False`` leaves the frames undecoded (see
        :meth:`load`), ``transform=False`` does not apply :attr:`transform`. ``on_error``
        applies as it does to ``dataset[i]``."""
        tune_worker_process()
        try:
            sample = self.load(int(i), video=video)
        except IndexError:
            raise
        except Exception as exc:
            self.load_failed(int(i), exc)
            return None
        return self.transform(sample) if transform and self.transform is not None else sample

    def load_failed(self, i: int, exc: Exception) -> None:
        """``on_error`` for segment ``i`` whose loading raised ``exc`` (call it while handling
        ``exc``): ``"raise"`` raises it, naming the segment; ``"skip"`` counts the skip (in
        :meth:`report`) and logs it."""
        segment = self.index.segment_id(int(self._rows[int(i)]))
        if self.on_error == "raise":
            if isinstance(exc, MCoRecDataError) and exc.segment is None:
                raise exc.with_segment(segment) from exc
            if hasattr(exc, "add_note"):
                exc.add_note(f"while loading segment {segment} (dataset item {int(i)})")
            raise exc
        self._skipped.add(int(i))
        logger.warning("skipping segment %s: %s", segment, exc)

    def close(self) -> None:
        """Close every open media file of this process."""
        self.reader.close()

    def __repr__(self) -> str:
        roots = ", ".join(str(r) for r in self.roots)
        return (f"MCoRecDataset([{roots}], segments={len(self)}, crops={self.options.crops!r}, "
                f"view={self.options.view!r}, color={self.color!r}, audio={self.options.audio!r})")

MCoRecDataset.__doc__ = (MCoRecDataset.__doc__ or "").replace("{options}", options_table())
