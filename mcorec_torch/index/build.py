"""The segment index (SPEC §2-§3): which frames, samples and text make each segment.

Built from metadata, labels and the containers' stream headers only (no media decoding),
deterministic, stored as flat numpy arrays (so DataLoader workers share pages instead of
copying Python objects), and cached on disk keyed on the files' sizes and modification
times plus the options, so a second start reads it back in milliseconds.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence, Set, Tuple

import numpy as np

from .._io import file_stamp
from ..corpus.cues import cue_fault
from ..corpus.layout import METADATA_FILE, cluster_path, labels_dir_exists, list_sessions, vtt_path
from ..corpus.metadata import SessionMetadata, ViewInfo, load_metadata, read_speaker_to_cluster
from ..corpus.vtt import Cue, read_vtt
from ..errors import MCoRecDataError, PathLike
from ..media.headers import HeaderCache
from ..timeline import cue_frames, ego_sample_offset, ego_start_frame, frame_to_sample, seconds_to_ms
from .chunks import plan_chunks
from .exclude import Exclusions
from .options import DatasetOptions
from .report import BAD_FILE, EXCLUDED, KEPT, MERGED, IndexReport, Key
from .segment_index import SegmentIndex, SessionEntry, SpeakerEntry, Track
from .sources import crop_media, mark_lip_source, require_lip_dir, require_one_crop_size, require_view_sources
from .usable import LostSpan, MediaFiles, lost_overlap, settle_unusable

#: Bump when the index layout or the rules that build it change (invalidates caches).
INDEX_VERSION = 5  # 4: segments="asd" merges gaps of 25 frames by default (the baseline's inference);
# 5: files the index cannot use listed in the report and left out (Track.position), exclude


def default_cache_dir() -> Path:
    """``$MCOREC_TORCH_CACHE`` or ``~/.cache/mcorec_torch``."""
    env = os.environ.get("MCOREC_TORCH_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "mcorec_torch"


# -- building ------------------------------------------------------------------------------
@dataclass
class _Segment:
    speaker: int
    f0: int
    f1: int
    view_start: int
    start_ms: int
    end_ms: int
    text: str
    pieces: List[Tuple[int, int, int, int]]


def _coverage(tracks: Sequence[Tuple[int, Track]], first: int, count: int) -> List[Tuple[int, int, int, int]]:
    """Pieces covering view frames ``[first, first+count)``; earlier-listed tracks win overlaps."""
    covered = np.zeros(count, dtype=bool)
    pieces = []
    for track_id, track in tracks:
        lo = max(first, track.start)
        hi = min(first + count, track.start + track.num_frames)
        if hi <= lo:
            continue
        free = ~covered[lo - first: hi - first]
        if not free.any():
            continue
        # runs of frames not yet covered
        edges = np.flatnonzero(np.diff(np.concatenate(([0], free.astype(np.int8), [0]))))
        for run_start, run_stop in zip(edges[::2], edges[1::2]):
            a, b = lo + int(run_start), lo + int(run_stop)
            pieces.append((track_id, a - first, a - track.start, b - a))
            covered[a - first: b - first] = True
    pieces.sort(key=lambda p: p[1])
    return pieces


def _merge_cues(cues: List[Cue], merge_gap_ms: Optional[int], max_ms: Optional[int]) -> Tuple[List[Cue], int]:
    """Merge consecutive cues (gap <= merge_gap, total <= max_duration); return (cues, merged count)."""
    if merge_gap_ms is None or not cues:
        return cues, 0
    merged = [cues[0]]
    absorbed = 0
    for cue in cues[1:]:
        last = merged[-1]
        gap = cue.start_ms - last.end_ms
        total = cue.end_ms - last.start_ms
        if 0 <= gap <= merge_gap_ms and (max_ms is None or total <= max_ms):
            merged[-1] = Cue(start_ms=last.start_ms, end_ms=cue.end_ms, text=f"{last.text} {cue.text}",
                             line=last.line)
            absorbed += 1
        else:
            merged.append(cue)
    return merged, absorbed


class _Crops(NamedTuple):
    """A speaker's crops in one view: ``ids``, the index's tracks of those it can use;
    ``planned``, every crop in the order of ``metadata.json`` as the chunk planner sees it (its
    track; for one that cannot be used, a track spanning what its track json says, or None when
    that does not read); ``lost``, what each crop that cannot be used would have covered."""

    ids: List[int]
    planned: List[Optional[Track]]
    lost: List[LostSpan]


class _Builder:
    def __init__(self, options: DatasetOptions, headers: HeaderCache) -> None:
        self.options = options
        self.headers = headers
        self.sessions: List[SessionEntry] = []
        self.speakers: List[SpeakerEntry] = []
        self.tracks: List[Track] = []
        self.segments: List[_Segment] = []
        self.report = IndexReport()
        self.files = MediaFiles(headers, self.report)
        self.exclusions = Exclusions(options.exclude)
        #: per speaker row: spans of its crops in the read view that the index could not use
        self.lost_spans: Dict[int, List[LostSpan]] = {}
        #: per speaker row: its crops in the order of ``metadata.json`` as the chunk planner sees
        #: them (a usable track, an unusable one's span from its track json, or None)
        self.plan_tracks: Dict[int, List[Optional[Track]]] = {}
        #: speaker rows whose ego video could not be used (their ego audio is lost, not absent)
        self.lost_ego_audio: Set[int] = set()

    def _crop_tracks(self, meta: SessionMetadata, place: Key, view: Optional[ViewInfo], view_name: str) -> _Crops:
        """The speaker's crops in ``view`` (:class:`_Crops`); those that cannot be used are noted
        (:class:`.usable.MediaFiles`)."""
        crops = _Crops([], [], [])
        if view is None:
            return crops
        speaker = place[2]
        for k, crop in enumerate(view.crops):
            media, lip = crop_media(meta, crop, self.options)
            key = f"{speaker}.{view_name}.crops[{k}]"
            track, usable = self.files.crop_track(meta, place, crop.crop_metadata, media, key,
                                                  f"{view_name} crop {k}", owner=len(self.speakers))
            crops.planned.append(track)
            if usable:
                track.position = k
                mark_lip_source(track, lip)
                self.tracks.append(track)
                crops.ids.append(len(self.tracks) - 1)
            else:
                crops.lost.append((track.start, track.num_frames) if track is not None else None)
        require_one_crop_size([self.tracks[i] for i in crops.ids], speaker, view_name)
        return crops

    def add_split(self, root: Path) -> None:
        first = len(self.speakers)
        for session_dir in list_sessions(root):
            if self.exclusions.session_excluded(session_dir.name):
                self._exclude_session(root.name, session_dir)
            else:
                self.add_session(root.name, session_dir)
        require_view_sources(root, self.options, self.speakers[first:])

    def _exclude_session(self, split: str, session_dir: Path) -> None:
        """Count every speaker of an excluded session as ``excluded`` (one row ``*`` when its
        metadata.json does not read: it is left out unread)."""
        try:
            speakers = list(load_metadata(session_dir).speakers)
        except MCoRecDataError:
            speakers = ["*"]
        for name in speakers:
            self.report.add((split, session_dir.name, name), EXCLUDED)

    def add_session(self, split: str, session_dir: Path) -> None:
        options = self.options
        meta = load_metadata(session_dir)
        session_id = len(self.sessions)
        session = SessionEntry(split=split, name=session_dir.name, path=str(session_dir))
        session_frames: Optional[int] = None
        central_videos = {s.central.video for s in meta.speakers.values() if s.central and s.central.video}
        for video in sorted(central_videos):
            path = meta.path(video)
            if path.is_file():
                # one that does not read or is not 25 fps is left out: the session is then read as
                # without central video (audio from the crops, cues not checked against its end)
                usable = self.files.whole_video(path, (split, session.name, ""), "central video")
                if usable is not None:
                    header, span = usable
                    session_frames = span or None
                    if header.has_audio:
                        session.central_audio_path = str(path)
                        session.central_audio_samples = (frame_to_sample(session_frames) if session_frames
                                                         else header.audio_samples)
                break
        self.sessions.append(session)

        has_labels = labels_dir_exists(session_dir, options.label_dir)
        clusters: Dict[str, int] = {}
        if has_labels:
            cluster_file = cluster_path(session_dir, options.label_dir)
            if cluster_file.is_file():
                clusters = read_speaker_to_cluster(cluster_file)
            for name in clusters:
                if name not in meta.speakers:
                    raise MCoRecDataError(cluster_file, "speaker is not in metadata.json", key=name)
            for vtt in sorted((session_dir / options.label_dir).glob("*.vtt")):
                if vtt.stem not in meta.speakers:
                    raise MCoRecDataError(vtt, f"transcript of speaker {vtt.stem!r} that metadata.json does not list")

        for name, info in meta.speakers.items():
            place = (split, session.name, name)
            if self.exclusions.speaker_excluded(session.name, name):
                self.report.add(place, EXCLUDED)
                continue
            speaker_id = len(self.speakers)
            entry = SpeakerEntry(session=session_id, name=name, conversation=clusters.get(name, -1))
            view = info.view(options.view)
            crops = self._crop_tracks(meta, place, view, options.view)
            entry.tracks = crops.ids
            self.plan_tracks[speaker_id], self.lost_spans[speaker_id] = crops.planned, crops.lost
            if info.ego is not None and info.central is not None:
                entry.ego_frame_uem = (info.central.uem_start, info.ego.uem_start)
                if info.ego.video and meta.path(info.ego.video).is_file():
                    ego_path = meta.path(info.ego.video)
                    ego = self.files.whole_video(ego_path, place, f"ego video of {name}")
                    if ego is None:
                        self.lost_ego_audio.add(speaker_id)
                    elif ego[0].has_audio:
                        entry.ego_audio_path = str(ego_path)
                        entry.ego_audio_offset = ego_sample_offset(info.central.uem_start, info.ego.uem_start)
                        entry.ego_audio_samples = frame_to_sample(ego[1])
            if not session.central_audio_path:
                # without central_video.mp4 the audio comes from the central crops' own tracks
                session.audio_tracks += (entry.tracks if options.view == "central"
                                         else self._crop_tracks(meta, place, info.central, "central").ids)
            self.speakers.append(entry)
            if options.segments != "labels":
                self._add_chunks(split, session, session_frames, meta, name, speaker_id, entry)
            elif has_labels:
                self._add_cues(split, session, session_frames, meta, name, speaker_id, entry)

    def _add_cues(self, split: str, session: SessionEntry, session_frames: Optional[int],
                  meta: SessionMetadata, name: str, speaker_id: int, entry: SpeakerEntry) -> None:
        options = self.options
        key = (split, session.name, name)
        path = vtt_path(meta.session_dir, name, options.label_dir)
        if not path.is_file():
            raise MCoRecDataError(path, f"speaker {name!r} of metadata.json has no transcript")
        central = meta.speakers[name].central
        if central is None:
            raise MCoRecDataError(meta.path(METADATA_FILE), "speaker has labels but no central UEM",
                                  key=f"{name}.central")
        uem_start_ms, uem_end_ms = central.uem_ms
        valid: List[Cue] = []
        for cue in read_vtt(path):
            fault = cue_fault(cue, (uem_start_ms, uem_end_ms), session_frames)
            if fault is not None:
                self.report.add(key, fault)
            else:
                valid.append(cue)
        valid.sort(key=lambda c: (c.start_ms, c.end_ms))
        max_ms = seconds_to_ms(options.max_duration) if options.max_duration is not None else None
        merge_ms = seconds_to_ms(options.merge_gap) if options.merge_gap is not None else None
        merged, absorbed = _merge_cues(valid, merge_ms, max_ms)
        if absorbed:
            self.report.add(key, MERGED, absorbed)
        for cue in merged:
            self._add_segment(key, speaker_id, entry, *cue_frames(cue.start_ms, cue.end_ms),
                              cue.start_ms, cue.end_ms, cue.text)

    def _add_chunks(self, split: str, session: SessionEntry, session_frames: Optional[int],
                    meta: SessionMetadata, name: str, speaker_id: int, entry: SpeakerEntry) -> None:
        """Segments without text from ASD scores, windows or time ranges (SPEC §12, :mod:`.chunks`)."""
        key = (split, session.name, name)
        view = meta.speakers[name].central
        if view is None:
            return
        chunks, faults = plan_chunks(self.options, meta, name, view, self.plan_tracks[speaker_id], session_frames)
        self.report.add(key, KEPT, 0)  # every speaker is listed, also one without chunks
        for fault in faults:
            self.report.add(key, fault)
        for f0, f1, start_ms, end_ms in chunks:
            self._add_segment(key, speaker_id, entry, f0, f1, start_ms, end_ms, "")

    def _add_segment(self, key: Tuple[str, str, str], speaker_id: int, entry: SpeakerEntry, f0: int, f1: int,
                     start_ms: int, end_ms: int, text: str) -> None:
        """Frames ``[f0, f1)`` (central) as a segment, or the reason it is not one, counted."""
        options = self.options
        max_ms = seconds_to_ms(options.max_duration) if options.max_duration is not None else None
        min_ms = seconds_to_ms(options.min_duration)
        view_tracks = [(t, self.tracks[t]) for t in entry.tracks]
        duration = end_ms - start_ms
        if duration < min_ms or f1 <= f0:
            self.report.add(key, "too_short")
            return
        if max_ms is not None and duration > max_ms:
            self.report.add(key, "too_long")
            return
        count = f1 - f0
        view_start = f0 if options.view == "central" else ego_start_frame(f0, *entry.ego_frame_uem)
        pieces = _coverage(view_tracks, view_start, count)
        covered = sum(p[3] for p in pieces)
        if covered < count and (options.missing_video == "drop" or covered == 0
                                or covered < options.min_video_coverage * count):
            lost = lost_overlap(self.lost_spans.get(speaker_id, []), pieces, view_start, count)
            self.report.add(key, BAD_FILE if lost else "no_video")
            return
        if options.audio == "ego" and not entry.ego_audio_path:
            self.report.add(key, BAD_FILE if speaker_id in self.lost_ego_audio else "no_audio")
            return
        self.segments.append(_Segment(speaker_id, f0, f1, view_start, start_ms, end_ms, text, pieces))
        self.report.add(key, KEPT)

    def finish(self) -> SegmentIndex:
        segments = self.segments
        n = len(segments)
        texts = [s.text.encode("utf-8") for s in segments]
        text_ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum([len(t) for t in texts], out=text_ptr[1:])
        piece_counts = [len(s.pieces) for s in segments]
        piece_ptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(piece_counts, out=piece_ptr[1:])
        all_pieces = np.array([p for s in segments for p in s.pieces], dtype=np.int32).reshape(-1, 4)
        arrays = {
            "speaker": np.array([s.speaker for s in segments], dtype=np.int32),
            "frame_start": np.array([s.f0 for s in segments], dtype=np.int64),
            "frame_end": np.array([s.f1 for s in segments], dtype=np.int64),
            "view_start": np.array([s.view_start for s in segments], dtype=np.int64),
            "start_ms": np.array([s.start_ms for s in segments], dtype=np.int64),
            "end_ms": np.array([s.end_ms for s in segments], dtype=np.int64),
            "text_ptr": text_ptr,
            "text_bytes": np.frombuffer(b"".join(texts), dtype=np.uint8).copy(),
            "piece_ptr": piece_ptr,
            "piece_track": all_pieces[:, 0].copy(),
            "piece_offset": all_pieces[:, 1].copy(),
            "piece_track_frame": all_pieces[:, 2].copy(),
            "piece_length": all_pieces[:, 3].copy(),
        }
        return SegmentIndex(self.options, self.sessions, self.speakers, self.tracks, arrays, self.report)


def _fingerprint(roots: Sequence[Path], options: DatasetOptions) -> str:
    """Hash of the segment options, of each root as written and resolved (the index stores its
    files' paths as the root was written: a relative root read back from another working
    directory, or the same split named otherwise, is another index), and of every file's (path,
    size, mtime) under the roots."""
    digest = hashlib.sha1(f"v{INDEX_VERSION}|{json.dumps(options.segment_options(), sort_keys=True)}".encode())
    lip_dir = [Path(options.lip_dir)] if options.lip_dir is not None else []  # its files are the crops too
    for root in [*roots, *lip_dir]:
        digest.update(f"|root:{root}|{root.resolve()}".encode())
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))  # e.g. a cache dir kept inside
            for name in sorted(files):
                if name.endswith((".json", ".vtt", ".mp4")) and not name.endswith("_bbox.json"):
                    size, mtime_ns = file_stamp(os.path.join(folder, name))
                    digest.update(f"|{os.path.relpath(os.path.join(folder, name), root)}:{size}:{mtime_ns}".encode())
    return digest.hexdigest()


def build_index(roots: Sequence[PathLike], options: DatasetOptions, cache_dir: Optional[PathLike] = None,
                use_cache: bool = True) -> SegmentIndex:
    """Build (or read back from the cache) the segment index of one or more split directories.

    ``cache_dir``: where ``index-<hash>.npz`` and ``headers.json`` live (default
    :func:`default_cache_dir`); ``use_cache=False`` rebuilds and rewrites the cache.
    """
    root_paths = [Path(r) for r in roots]
    for root in root_paths:
        if not root.is_dir():
            raise MCoRecDataError(root, "split directory does not exist")
    require_lip_dir(options)
    cache = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    cache_file = cache / f"index-{_fingerprint(root_paths, options)}.npz"
    index = _cached(cache_file) if use_cache else None
    if index is None:
        headers = HeaderCache(cache / "headers.json")
        builder = _Builder(options, headers)
        for root in root_paths:
            builder.add_split(root)
        builder.exclusions.check_all_matched(root_paths)
        index = builder.finish()
        headers.save()
        try:
            index.save(cache_file)
        except OSError:
            pass  # read-only cache location: the index still works, the next start rebuilds it
    index.options = options  # same segment options (the cache key), the caller's others
    settle_unusable(index.report, options.on_error)
    return index


def _cached(cache_file: Path) -> Optional[SegmentIndex]:
    """The index saved in ``cache_file``, or None when there is none or it does not read."""
    if not cache_file.is_file():
        return None
    try:
        return SegmentIndex.load(cache_file)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # unreadable or from another layout: rebuild
