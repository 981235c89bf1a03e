"""The session model: ``metadata.json``, track json, bbox json and labels of one session (SPEC §1).

Parsing only; no media is opened here. Every malformed input raises
:class:`~mcorec_torch.errors.MCoRecDataError` naming the file and the key (SPEC §10).
Unknown keys are kept in ``extra`` dicts, never rejected.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, TypeVar

from .._io import read_json
from ..errors import MCoRecDataError, PathLike
from ..timeline import seconds_to_ms
from .layout import METADATA_FILE, VIEWS, speaker_sort_key


T = TypeVar("T")


def _number(path: PathLike, key: str, value: Any) -> float:
    """A finite JSON number (``NaN``, ``Infinity`` and ``1e999``, which Python's json reads,
    are not)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MCoRecDataError(path, f"expected a number, got {value!r}", key=key)
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        shown = repr(value) if isinstance(value, float) else "an integer too large for a float"
        raise MCoRecDataError(path, f"expected a finite number, got {shown}", key=key)
    return number


#: Bounds that keep numbers within what the index stores (int64 samples, int32 pieces): about
#: 115 days of seconds, 2**31 frames or conversation ids.
MAX_SECONDS = 1e7
MAX_WHOLE = 2 ** 31 - 1


def _seconds(path: PathLike, key: str, value: Any) -> float:
    number = _number(path, key, value)
    if abs(number) > MAX_SECONDS:
        raise MCoRecDataError(path, f"{number:g} s is not a plausible time (at most {MAX_SECONDS:g} s)", key=key)
    return number


def _whole(path: PathLike, key: str, value: Any, what: str, minimum: int) -> int:
    number = _number(path, key, value)
    if number != int(number) or not minimum <= number <= MAX_WHOLE:
        raise MCoRecDataError(path, f"expected a whole {what} in [{minimum}, {MAX_WHOLE}], got {value!r}", key=key)
    return int(number)


def _object(path: PathLike, key: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise MCoRecDataError(path, f"expected an object, got {type(value).__name__}", key=key)
    return value


def _string(path: PathLike, key: str, value: Any) -> str:
    """A path relative to the session folder that stays inside it."""
    if not isinstance(value, str) or not value:
        raise MCoRecDataError(path, f"expected a non-empty path string, got {value!r}", key=key)
    if "\0" in value:
        raise MCoRecDataError(path, f"path holds a NUL character: {value!r}", key=key)
    pure = PurePosixPath(value.replace("\\", "/"))
    if pure.is_absolute() or (len(value) > 1 and value[1] == ":"):
        raise MCoRecDataError(path, f"absolute path {value!r}; paths are relative to the session folder", key=key)
    depth = 0
    for part in pure.parts:
        depth += -1 if part == ".." else 0 if part == "." else 1
        if depth < 0:
            raise MCoRecDataError(path, f"path {value!r} leaves the session folder", key=key)
    return value


def _collect(errors: Optional[List[MCoRecDataError]], action: Callable[[], T]) -> Optional[T]:
    """``action()``; with an ``errors`` list its :class:`MCoRecDataError` is appended there and
    ``None`` returned (so that ``check`` sees every problem of a file), else it propagates."""
    if errors is None:
        return action()
    try:
        return action()
    except MCoRecDataError as exc:
        errors.append(exc)
        return None


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


def _parse_crop(path: Path, key: str, value: Any, errors: Optional[List[MCoRecDataError]]) -> Optional[CropEntry]:
    entry = _object(path, key, value)
    for required in ("video", "crop_metadata"):
        if required not in entry:
            raise MCoRecDataError(path, "missing required key", key=f"{key}.{required}")
    known = {name: entry.get(name) for name in ("video", "crop_metadata", "bbox", "lip", "asd")}
    for name, item in known.items():
        if item is not None and _collect(errors, lambda: _string(path, f"{key}.{name}", item)) is None:
            known[name] = None
    if known["video"] is None or known["crop_metadata"] is None:
        return None  # only when collecting: the error is in ``errors``
    extra = {k: v for k, v in entry.items() if k not in known}
    return CropEntry(extra=extra, **known)


def _parse_uem(path: Path, key: str, view: Mapping[str, Any]) -> Tuple[float, float]:
    if "uem" not in view:
        raise MCoRecDataError(path, "missing required key", key=f"{key}.uem")
    uem = _object(path, f"{key}.uem", view["uem"])
    for bound in ("start", "end"):
        if bound not in uem:
            raise MCoRecDataError(path, "missing required key", key=f"{key}.uem.{bound}")
    start = _seconds(path, f"{key}.uem.start", uem["start"])
    end = _seconds(path, f"{key}.uem.end", uem["end"])
    if end < start:
        raise MCoRecDataError(path, f"UEM end {end} is before start {start}", key=f"{key}.uem")
    return start, end


def _parse_view(path: Path, key: str, value: Any,
                errors: Optional[List[MCoRecDataError]] = None) -> Optional[ViewInfo]:
    view = _object(path, key, value)
    uem = _collect(errors, lambda: _parse_uem(path, key, view))
    video = view.get("video")
    if video is not None and _collect(errors, lambda: _string(path, f"{key}.video", video)) is None:
        video = None
    crops_value = view.get("crops", [])
    if not isinstance(crops_value, list):
        _collect(errors, lambda: _raise(MCoRecDataError(path, "expected a list of crops", key=f"{key}.crops")))
        crops_value = []
    parsed = [_collect(errors, lambda: _parse_crop(path, f"{key}.crops[{i}]", c, errors))
              for i, c in enumerate(crops_value)]
    if uem is None:  # only when collecting (the error is in ``errors``): the rest is still checked
        uem = (math.nan, math.nan)
    extra = {k: v for k, v in view.items() if k not in ("video", "uem", "crops")}
    return ViewInfo(video=video, uem_start=uem[0], uem_end=uem[1], crops=tuple(c for c in parsed if c),
                    extra=extra)


def _raise(error: Exception) -> None:
    raise error


def load_metadata(session_dir: PathLike, errors: Optional[List[MCoRecDataError]] = None) -> SessionMetadata:
    """Parse ``SESSION/metadata.json``.

    Raises :class:`MCoRecDataError` when it is missing, not JSON, or not the documented
    shape ``{"spk_N": {"central": {...}, "ego": {...}}}``, or a path in it is absolute or
    leaves the session folder. With an ``errors`` list (``check``), every problem found is
    appended there and the parts without one are returned (a view whose UEM is unusable with
    NaN bounds); only an unreadable file or a document that is not an object still raises.
    """
    session_dir = Path(session_dir)
    path = session_dir / METADATA_FILE
    document = _object(path, "<root>", read_json(path))
    speakers: Dict[str, SpeakerInfo] = {}
    for name in sorted(document, key=speaker_sort_key):
        entry = _collect(errors, lambda: _object(path, name, document[name]))
        if entry is None:
            continue
        views = {v: _collect(errors, lambda: _parse_view(path, f"{name}.{v}", entry[v], errors)) if v in entry
                 else None for v in VIEWS}
        if all(v not in entry for v in VIEWS):
            _collect(errors, lambda: _raise(MCoRecDataError(path, "speaker has neither 'central' nor 'ego'",
                                                            key=name)))
        if views["central"] is None and views["ego"] is None:
            continue
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
        values[key] = _whole(path, key, document[key], "frame number", 0)
    if values["frame_end"] < values["frame_start"]:
        raise MCoRecDataError(path, f"frame_end {values['frame_end']} < frame_start {values['frame_start']}",
                              key="frame_end")
    for key in ("start_time", "end_time", "duration"):
        values[key] = _seconds(path, key, document[key]) if document.get(key) is not None else None
    return TrackTiming(**values)


def read_bbox(path: PathLike) -> Dict[int, Tuple[float, float, float, float]]:
    """Parse a ``track_XX_bbox.json`` (large; read only on demand): frame -> (x1, y1, x2, y2)."""
    document = _object(path, "<root>", read_json(path))
    boxes: Dict[int, Tuple[float, float, float, float]] = {}
    for frame, box in document.items():
        if re.fullmatch(r"-?[0-9]+", frame) is None:
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
        clusters[name] = _whole(path, name, value, "conversation id", -MAX_WHOLE)
    return clusters
