"""One face track's landmarks (SPEC §13): detected on every frame, frames without a face
filled by linear interpolation (held at the ends) and counted, then smoothed over time as
auto_avsr does (the mean over 13 frames, ±6, fewer at the ends, moved back to the frame's
own centroid: the shape steadies, the position follows the frame)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..errors import MCoRecDataError, PathLike
from ..media.probe import presented_frames, read_header
from ..media.video import VideoReader
from .backend import LandmarkBackend
from .mean_face import NUM_POINTS

#: auto_avsr's ``window_margin``: landmarks are averaged over ``SMOOTHING_WINDOW // 2`` frames
#: on each side of a frame (13 frames in all).
SMOOTHING_WINDOW = 12
#: Frames handed to a backend at once while a whole track is detected.
DETECT_CHUNK_FRAMES = 64


@dataclass(frozen=True)
class TrackLandmarks:
    """Landmarks of every frame of one track, as detected: ``points`` float32 ``[T, 68, 2]``
    (frame pixels; meaningless where not found), ``found`` bool ``[T]``; ``backend``: the
    name of what found them."""

    points: np.ndarray
    found: np.ndarray
    backend: str

    @property
    def frames(self) -> int:
        return int(len(self.found))

    @property
    def missing(self) -> int:
        """Frames with no face (filled by interpolation in :meth:`filled`)."""
        return int(self.frames - np.count_nonzero(self.found))

    @property
    def missing_share(self) -> float:
        """The fraction of frames with no face (1.0 for a track of no frames)."""
        return self.missing / self.frames if self.frames else 1.0

    def filled(self, path: PathLike = "") -> np.ndarray:
        """``points`` with the frames without a face interpolated (:func:`fill_missing`);
        :class:`MCoRecDataError` naming ``path`` when no frame has a face."""
        if not self.found.any():
            raise MCoRecDataError(path, f"no face found on any of its {self.frames} frames ({self.backend} "
                                        f"landmarks): its mouth ROI cannot be derived (use crops='face' for it)")
        return fill_missing(self.points, self.found)

    def smoothed(self, path: PathLike = "") -> np.ndarray:
        """:meth:`filled`, then :func:`smooth`: the landmarks the mouth ROI is cut with."""
        return smooth(self.filled(path))


def fill_missing(points: np.ndarray, found: np.ndarray) -> np.ndarray:
    """``points`` (``[T, 68, 2]``) where ``found`` is False replaced by the linear
    interpolation between the nearest frames with a face before and after; before the first
    and after the last one, that frame's points are repeated. At least one frame must be found."""
    points = np.asarray(points, dtype=np.float32)
    found = np.asarray(found, dtype=bool)
    known = np.flatnonzero(found)
    if known.size == 0:
        raise ValueError("no frame with a face to interpolate from")
    if known.size == len(found):
        return points.copy()
    flat = points.reshape(len(points), -1)
    frames = np.arange(len(points))
    filled = np.empty_like(flat)
    for k in range(flat.shape[1]):  # 136 coordinates; np.interp holds the ends
        filled[:, k] = np.interp(frames, known, flat[known, k])
    return filled.reshape(points.shape)


def smooth(points: np.ndarray, window: int = SMOOTHING_WINDOW) -> np.ndarray:
    """auto_avsr's temporal smoothing of ``points`` (``[T, 68, 2]``): frame ``j`` becomes the
    mean of frames ``[j - h, j + h]`` with ``h = min(window // 2, j, T - 1 - j)``, shifted so
    that its centroid is frame ``j``'s own."""
    points = np.asarray(points, dtype=np.float64)
    count = len(points)
    if count == 0:
        return points.astype(np.float32)
    half = np.minimum(np.minimum(window // 2, np.arange(count)), count - 1 - np.arange(count))
    sums = np.concatenate([np.zeros((1,) + points.shape[1:]), np.cumsum(points, axis=0)])
    frames = np.arange(count)
    means = (sums[frames + half + 1] - sums[frames - half]) / (2 * half + 1)[:, None, None]
    means += points.mean(axis=1, keepdims=True) - means.mean(axis=1, keepdims=True)
    return means.astype(np.float32)


def track_frame_count(path: PathLike) -> int:
    """Presented frames of a video file (the header's count where it shows it, else decoded)."""
    return presented_frames(path, read_header(path))


def detect_track(path: PathLike, backend: LandmarkBackend, frames: Optional[int] = None,
                 chunk: int = DETECT_CHUNK_FRAMES) -> TrackLandmarks:
    """Decode every frame of the video ``path`` (RGB, front to back) and find its landmarks
    with ``backend``. ``frames``: its presented-frame count when known (else counted)."""
    total = track_frame_count(path) if frames is None else int(frames)
    points = np.zeros((total, NUM_POINTS, 2), dtype=np.float32)
    found = np.zeros(total, dtype=bool)
    reader = VideoReader(path)
    try:
        for first in range(0, total, chunk):
            count = min(chunk, total - first)
            rgb = np.moveaxis(reader.read(first, count, "rgb"), 1, -1)  # [count, H, W, 3]
            got_points, got_found = backend.detect(np.ascontiguousarray(rgb))
            if got_points.shape != (count, NUM_POINTS, 2) or got_found.shape != (count,):
                raise ValueError(f"landmark backend {backend.name!r} returned {got_points.shape} and "
                                 f"{got_found.shape} for {count} frames")
            points[first: first + count] = got_points
            found[first: first + count] = got_found
    finally:
        reader.close()
    return TrackLandmarks(points, found, backend.name)
