"""Validate a split directory and list every problem, instead of stopping at the first (SPEC §10)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, TypeVar

import av

from .._io import read_json
from ..corpus.cues import BAD_CUE, BEYOND_VIDEO, cue_fault
from ..corpus.layout import METADATA_FILE, cluster_path, labels_dir_exists, session_folders, vtt_path
from ..corpus.metadata import SessionMetadata, load_metadata, read_bbox, read_speaker_to_cluster, read_track_json
from ..corpus.vtt import read_vtt
from ..errors import MCoRecDataError, PathLike
from ..index.options import DatasetOptions
from ..media.probe import MediaHeader, count_presented_frames, count_video_packets, read_header
from ..media.video import VideoReader

T = TypeVar("T")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the data: the file and what is wrong (key/line inside ``message``)."""

    path: str
    message: str

    def __str__(self) -> str:
        return self.message if self.message.startswith(self.path) else f"{self.path}: {self.message}"


class _Checker:
    def __init__(self, decode: bool, options: DatasetOptions) -> None:
        self.decode = decode
        self.options = options
        self.problems: List[Problem] = []
        self.files_checked = 0

    def attempt(self, path: PathLike, action: Callable[[], T]) -> Optional[T]:
        """Run ``action``; record its :class:`MCoRecDataError` (or any media error) as a problem."""
        try:
            return action()
        except MCoRecDataError as exc:
            self.problems.append(Problem(exc.path or str(path), str(exc)))
        except (av.error.FFmpegError, OSError, ValueError) as exc:
            self.problems.append(Problem(str(path), f"{path}: {exc}"))
        return None

    def media(self, path: Path, expected_frames: Optional[int] = None, need_audio: bool = False) -> Optional[int]:
        """Open, demux and (with ``decode``) decode the first and last frame; returns frames."""
        self.files_checked += 1
        if not path.is_file():
            self.problems.append(Problem(str(path), f"{path}: file listed in metadata.json does not exist"))
            return None
        header = self.attempt(path, lambda: read_header(path))
        if header is None:
            return None
        if need_audio and not header.has_audio:
            self.problems.append(Problem(str(path), f"{path}: has no audio stream"))
        frames = self.attempt(path, lambda: self.frame_count(path, header, expected_frames)) if header.has_video else 0
        if frames is None:
            return None
        if header.has_video and frames == 0:
            self.problems.append(Problem(str(path), f"{path}: video stream has no frames"))
            return 0
        if expected_frames is not None and abs(frames - expected_frames) > 1:
            self.problems.append(Problem(str(path), f"{path}: holds {frames} frames but its track json says "
                                                    f"{expected_frames} (frame_end - frame_start)"))
        if self.decode and header.has_video:
            def decode_ends() -> None:
                reader = VideoReader(path)
                try:
                    reader.read(0, 1, "gray")
                    reader.read(frames - 1, 1, "gray")
                finally:
                    reader.close()
            self.attempt(path, decode_ends)
        return frames

    @staticmethod
    def frame_count(path: Path, header: MediaHeader, expected_frames: Optional[int]) -> int:
        """Presented frames (SPEC §2): all packets are demuxed (a truncated file shows here);
        the header's count stands only where it is shown and the packets agree, else the
        stream is decoded and its frames counted (an edit list can hide packets)."""
        packets = count_video_packets(path)
        if packets == header.num_frames and header.frames_shown(expected_frames):
            return packets
        return count_presented_frames(path)

    def session(self, session_dir: Path) -> None:
        meta: Optional[SessionMetadata] = self.attempt(session_dir / METADATA_FILE, lambda: load_metadata(session_dir))
        if meta is None:
            return
        session_frames: Optional[int] = None
        checked_videos = set()
        for name, speaker in meta.speakers.items():
            for view in (speaker.central, speaker.ego):
                if view is None:
                    continue
                if view.video and view.video not in checked_videos:
                    checked_videos.add(view.video)
                    frames = self.media(meta.path(view.video), need_audio=True)
                    if view is speaker.central and frames:
                        session_frames = frames
                for crop in view.crops:
                    timing = self.attempt(meta.path(crop.crop_metadata), lambda: read_track_json(meta.path(crop.crop_metadata)))
                    expected = timing.frame_end - timing.frame_start if timing else None
                    for media in (crop.video, crop.lip):
                        if media:
                            self.media(meta.path(media), expected)
                    for extra in (crop.bbox, crop.asd):
                        if extra:
                            reader = read_bbox if extra == crop.bbox else read_json
                            self.files_checked += 1
                            self.attempt(meta.path(extra), lambda: reader(meta.path(extra)))
        self.labels(meta, session_frames)

    def labels(self, meta: SessionMetadata, session_frames: Optional[int]) -> None:
        session_dir = meta.session_dir
        label_dir = self.options.label_dir
        if not labels_dir_exists(session_dir, label_dir):
            return
        cluster_file = cluster_path(session_dir, label_dir)
        clusters = self.attempt(cluster_file, lambda: read_speaker_to_cluster(cluster_file)) or {}
        for name in clusters:
            if name not in meta.speakers:
                self.problems.append(Problem(str(cluster_file), f"{cluster_file}: key '{name}': speaker is not in metadata.json"))
        for vtt in sorted((session_dir / label_dir).glob("*.vtt")):
            if vtt.stem not in meta.speakers:
                self.problems.append(Problem(str(vtt), f"{vtt}: transcript of a speaker metadata.json does not list"))
        for name in meta.speakers:
            path = vtt_path(session_dir, name, label_dir)
            self.files_checked += 1
            cues = self.attempt(path, lambda: read_vtt(path))
            for cue in cues or ():
                # the index's cue rule; cues outside the UEM are expected (the scorer drops them too)
                fault = cue_fault(cue, None, session_frames)
                if fault == BAD_CUE:
                    self.problems.append(Problem(str(path), f"{path}:{cue.line}: cue ends at {cue.end_ms} ms, "
                                                            f"not after its start {cue.start_ms} ms"))
                elif fault == BEYOND_VIDEO:
                    self.problems.append(Problem(str(path), f"{path}:{cue.line}: cue ends at {cue.end_ms} ms, "
                                                            f"beyond the video ({session_frames} frames)"))


def check_split(root: PathLike, decode: bool = True, options: Optional[DatasetOptions] = None) -> "CheckResult":
    """Validate every session of a split directory: metadata shape, every listed file,
    media containers (demuxed; with ``decode`` first and last frames decoded), track json,
    bbox json, labels (in ``options.label_dir``), cues. Returns all problems found."""
    root = Path(root)
    checker = _Checker(decode, options if options is not None else DatasetOptions())
    sessions: List[Path] = session_folders(root)
    if not root.is_dir():
        checker.problems.append(Problem(str(root), f"{root}: split directory does not exist"))
    elif not sessions:
        checker.problems.append(Problem(str(root), f"{root}: no session folders found"))
    for session_dir in sessions:
        checker.session(session_dir)
    return CheckResult(sessions=len(sessions), files=checker.files_checked, problems=checker.problems)


@dataclass(frozen=True)
class CheckResult:
    sessions: int
    files: int
    problems: List[Problem]

    @property
    def ok(self) -> bool:
        return not self.problems
