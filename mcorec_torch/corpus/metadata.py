"""The session model: ``metadata.json``, track json, bbox json and labels of one session (SPEC §1).

Parsing only; no media is opened here. Every malformed input raises
:class:`~mcorec_torch.errors.MCoRecDataError` naming the file and the key (SPEC §10).
Unknown keys are kept in ``extra`` dicts, never rejected.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple

from .._io import read_json
from ..errors import MCoRecDataError, PathLike
from ..timeline import seconds_to_ms
from .layout import METADATA_FILE, VIEWS, speaker_sort_key


def _number(path: PathLike, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MCoRecDataError(path, f"expected a number, got {value!r}", key=key)
    return float(value)


def _object(path: PathLike, key: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MCoRecDataError(path, f"expected an object, got {type(value).__name__}", key=key)
    return value


def _string(path: PathLike, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise MCoRecDataError(path, f"expected a non-empty path string, got {value!r}", key=key)
    return value


@dataclass(frozen=True)
class CropEntry:
    """One face track of a speaker in one view. Paths are relative to the session folder."""

    video: str
    crop_metadata: str
    bbox: Optional[str] = None
    lip: Optional[str] = None
    asd: Optional[str] = None
    extra: Dict[str, Any] = field(default_factory=dict)

    def media(self, crops: str) -> Optional[str]:
        """The crop video for ``crops="face"`` (``video``) or ``crops="lip"`` (``lip``)."""
        return self.lip if crops == "lip" else self.video


@dataclass(frozen=True)
class ViewInfo:
    """A speaker's ``central`` or ``ego`` entry: video, UEM (seconds) and crops."""

    video: Optional[str]
    uem_start: float
    uem_end: float
    crops: Tuple[CropEntry, ...]
    extra: Dict[str, Any] = field(default_factory=dict)

    @property
    def uem_ms(self) -> Tuple[int, int]:
        """UEM as integer milliseconds ``(start_ms, end_ms)``."""
        return seconds_to_ms(self.uem_start), seconds_to_ms(self.uem_end)


@dataclass(frozen=True)
class SpeakerInfo:
    """One ``spk_N`` of ``metadata.json``."""

    name: str
    central: Optional[ViewInfo]
    ego: Optional[ViewInfo]
    extra: Dict[str, Any] = field(default_factory=dict)

    def view(self, name: str) -> Optional[ViewInfo]:
        """``"central"`` or ``"ego"`` view info, ``None`` when absent."""
        return self.central if name == "central" else self.ego


@dataclass(frozen=True)
class SessionMetadata:
    """Parsed ``metadata.json`` of one session folder."""

    session_dir: Path
    speakers: Dict[str, SpeakerInfo]

    @property
    def name(self) -> str:
        return self.session_dir.name

    def path(self, relative: str) -> Path:
        """Absolute path of a file named relative to the session folder."""
        return self.session_dir / relative


def _parse_crop(path: Path, key: str, value: Any) -> CropEntry:
    entry = _object(path, key, value)
    for required in ("video", "crop_metadata"):
        if required not in entry:
            raise MCoRecDataError(path, "missing required key", key=f"{key}.{required}")
    known = {name: entry.get(name) for name in ("video", "crop_metadata", "bbox", "lip", "asd")}
    for name, item in known.items():
        if item is not None:
            _string(path, f"{key}.{name}", item)
    extra = {k: v for k, v in entry.items() if k not in known}
    return CropEntry(extra=extra, **known)


def _parse_view(path: Path, key: str, value: Any) -> ViewInfo:
    view = _object(path, key, value)
    if "uem" not in view:
        raise MCoRecDataError(path, "missing required key", key=f"{key}.uem")
    uem = _object(path, f"{key}.uem", view["uem"])
    for bound in ("start", "end"):
        if bound not in uem:
            raise MCoRecDataError(path, "missing required key", key=f"{key}.uem.{bound}")
    start = _number(path, f"{key}.uem.start", uem["start"])
    end = _number(path, f"{key}.uem.end", uem["end"])
    if end < start:
        raise MCoRecDataError(path, f"UEM end {end} is before start {start}", key=f"{key}.uem")
    video = view.get("video")
    if video is not None:
        _string(path, f"{key}.video", video)
    crops_value = view.get("crops", [])
    if not isinstance(crops_value, list):
        raise MCoRecDataError(path, "expected a list of crops", key=f"{key}.crops")
    crops = tuple(_parse_crop(path, f"{key}.crops[{i}]", c) for i, c in enumerate(crops_value))
    extra = {k: v for k, v in view.items() if k not in ("video", "uem", "crops")}
    return ViewInfo(video=video, uem_start=start, uem_end=end, crops=crops, extra=extra)


def load_metadata(session_dir: PathLike) -> SessionMetadata:
    """Parse ``SESSION/metadata.json``.

    Raises :class:`MCoRecDataError` when it is missing, not JSON, or not the documented
    shape ``{"spk_N": {"central": {...}, "ego": {...}}}``.
    """
    session_dir = Path(session_dir)
    path = session_dir / METADATA_FILE
    document = _object(path, "<root>", read_json(path))
    speakers: Dict[str, SpeakerInfo] = {}
    for name in sorted(document, key=speaker_sort_key):
        entry = _object(path, name, document[name])
        views = {v: _parse_view(path, f"{name}.{v}", entry[v]) if v in entry else None for v in VIEWS}
        if views["central"] is None and views["ego"] is None:
            raise MCoRecDataError(path, "speaker has neither 'central' nor 'ego'", key=name)
        extra = {k: v for k, v in entry.items() if k not in VIEWS}
        speakers[name] = SpeakerInfo(name=name, central=views["central"], ego=views["ego"], extra=extra)
    return SessionMetadata(session_dir=session_dir, speakers=speakers)


@dataclass(frozen=True)
class TrackTiming:
    """``track_XX.json``: frames on the view's timeline (central, or ego for ego crops)."""

    frame_start: int
    frame_end: int
    start_time: Optional[float]
    end_time: Optional[float]
    duration: Optional[float]


def read_track_json(path: PathLike) -> TrackTiming:
    """Parse a track json; ``frame_start``/``frame_end`` must be whole numbers."""
    document = _object(path, "<root>", read_json(path))
    values: Dict[str, Any] = {}
    for key in ("frame_start", "frame_end"):
        if key not in document:
            raise MCoRecDataError(path, "missing required key", key=key)
        number = _number(path, key, document[key])
        if number != int(number) or number < 0:
            raise MCoRecDataError(path, f"expected a non-negative whole frame number, got {number}", key=key)
        values[key] = int(number)
    if values["frame_end"] < values["frame_start"]:
        raise MCoRecDataError(path, f"frame_end {values['frame_end']} < frame_start {values['frame_start']}",
                              key="frame_end")
    for key in ("start_time", "end_time", "duration"):
        values[key] = _number(path, key, document[key]) if document.get(key) is not None else None
    return TrackTiming(**values)


def read_bbox(path: PathLike) -> Dict[int, Tuple[float, float, float, float]]:
    """Parse a ``track_XX_bbox.json`` (large; read only on demand): frame -> (x1, y1, x2, y2)."""
    document = _object(path, "<root>", read_json(path))
    boxes: Dict[int, Tuple[float, float, float, float]] = {}
    for frame, box in document.items():
        if not str(frame).lstrip("-").isdigit():
            raise MCoRecDataError(path, "expected a frame number as key", key=str(frame))
        box = _object(path, frame, box)
        try:
            boxes[int(frame)] = tuple(_number(path, f"{frame}.{c}", box[c]) for c in ("x1", "y1", "x2", "y2"))
        except KeyError as exc:
            raise MCoRecDataError(path, "missing required key", key=f"{frame}.{exc.args[0]}") from None
    return boxes


def read_speaker_to_cluster(path: PathLike) -> Dict[str, int]:
    """Parse ``labels/speaker_to_cluster.json``: ``{"spk_0": 0, ...}`` (conversation ids)."""
    document = _object(path, "<root>", read_json(path))
    clusters: Dict[str, int] = {}
    for name, value in document.items():
        number = _number(path, name, value)
        if number != int(number):
            raise MCoRecDataError(path, f"expected a whole conversation id, got {value!r}", key=name)
        clusters[name] = int(number)
    return clusters
