"""The mouth ROI from landmarks (SPEC §13; auto_avsr's recipe, written here).

Per frame: the similarity transform (rotation, uniform scale, shift) that maps the frame's
:data:`~.mean_face.STABLE_POINTS` best onto the reference face (least squares) aligns the
face; the ROI is the ``96 x 96`` square of the aligned face centred on the frame's own mouth
(the mean of points 48-67). Both steps are one affine map from ROI pixels to frame pixels
(:func:`roi_transforms`), sampled bilinearly with zero outside the frame (:func:`warp_rois`):
the ROI of frame ``j`` is made from frame ``j`` alone. auto_avsr fits the similarity with
OpenCV's least-median estimator and cuts the ROI at whole pixels; here it is plain least
squares and the mouth centre lands exactly on the ROI centre.
"""
from __future__ import annotations

import numpy as np

from .mean_face import MOUTH, ROI_SIZE, STABLE_POINTS, reference_points


def fit_similarities(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Least-squares similarity transforms (no reflection) mapping ``source`` points onto
    ``target``: ``source`` ``[T, N, 2]``, ``target`` ``[N, 2]``; returns ``[T, 2, 3]`` float64
    ``[[a, -b, tx], [b, a, ty]]`` (``x' = a x - b y + tx``, ``y' = b x + a y + ty``)."""
    source = np.asarray(source, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    src_mean = source.mean(axis=1, keepdims=True)
    dst_mean = target.mean(axis=0)
    s = source - src_mean
    d = target - dst_mean
    norm = np.maximum((s ** 2).sum(axis=(1, 2)), 1e-12)
    a = (s[..., 0] * d[:, 0] + s[..., 1] * d[:, 1]).sum(axis=1) / norm
    b = (s[..., 0] * d[:, 1] - s[..., 1] * d[:, 0]).sum(axis=1) / norm
    mx, my = src_mean[:, 0, 0], src_mean[:, 0, 1]
    transforms = np.empty((len(source), 2, 3))
    transforms[:, 0] = np.stack([a, -b, dst_mean[0] - (a * mx - b * my)], axis=1)
    transforms[:, 1] = np.stack([b, a, dst_mean[1] - (b * mx + a * my)], axis=1)
    return transforms


def roi_transforms(points: np.ndarray, roi_size: int = ROI_SIZE) -> np.ndarray:
    """Affine maps from ROI pixels to frame pixels, float32 ``[T, 2, 3]``: ROI pixel
    ``(u, v)`` (column, row; pixel centres at integers) shows frame point
    ``A @ (u, v, 1)``. ``points``: the frames' (smoothed) landmarks ``[T, 68, 2]``.

    The aligned face is the frame under the similarity ``S`` of its stable points onto the
    reference; the ROI is its ``roi_size`` square centred on the frame's mouth ``m``, so ROI
    pixel ``(u, v)`` is frame point ``m + L^-1 ((u, v) - c)``, ``L`` the linear part of ``S``
    and ``c = (roi_size - 1) / 2`` the ROI centre."""
    points = np.asarray(points, dtype=np.float64)
    similarity = fit_similarities(points[:, list(STABLE_POINTS)], reference_points(roi_size))
    a, b = similarity[:, 0, 0], similarity[:, 1, 0]
    scale2 = np.maximum(a * a + b * b, 1e-12)
    inverse = np.empty((len(points), 2, 2))
    inverse[:, 0, 0], inverse[:, 0, 1] = a / scale2, b / scale2
    inverse[:, 1, 0], inverse[:, 1, 1] = -b / scale2, a / scale2
    mouth = points[:, MOUTH].mean(axis=1)
    centre = np.full(2, (roi_size - 1) / 2)
    transforms = np.empty((len(points), 2, 3), dtype=np.float64)
    transforms[:, :, :2] = inverse
    transforms[:, :, 2] = mouth - inverse @ centre
    return transforms.astype(np.float32)


def roi_scale(transforms: np.ndarray) -> np.ndarray:
    """Frame pixels per ROI pixel of each transform of :func:`roi_transforms` (``[T]``)."""
    transforms = np.asarray(transforms, dtype=np.float64)
    return np.sqrt(np.abs(np.linalg.det(transforms[:, :, :2])))


def warp_rois(frames: np.ndarray, transforms: np.ndarray, roi_size: int = ROI_SIZE) -> np.ndarray:
    """The ROIs of ``frames`` (uint8 ``[T, C, H, W]``) under ``transforms`` (``[T, 2, 3]``, ROI
    pixel -> frame pixel, :func:`roi_transforms`): uint8 ``[T, C, roi_size, roi_size]``,
    bilinear, zero where the ROI reaches outside the frame, rounded to the nearest level."""
    frames = np.ascontiguousarray(frames)
    count, channels, height, width = frames.shape
    if len(transforms) != count:
        raise ValueError(f"{len(transforms)} transforms for {count} frames")
    grid = np.arange(roi_size, dtype=np.float32)
    u, v = np.meshgrid(grid, grid)  # u: column, v: row
    matrix = np.asarray(transforms, dtype=np.float32)[:, :, :, None, None]
    x = (matrix[:, 0, 0] * u + matrix[:, 0, 1] * v + matrix[:, 0, 2]).reshape(count, 1, -1)  # frame column
    y = (matrix[:, 1, 0] * u + matrix[:, 1, 1] * v + matrix[:, 1, 2]).reshape(count, 1, -1)  # frame row
    x0, y0 = np.floor(x), np.floor(y)
    fx, fy = x - x0, y - y0
    index = np.int64 if frames.size >= 2 ** 31 else np.int32
    x0, y0 = x0.astype(index), y0.astype(index)
    # where each frame's channel planes start in the flat array: [T, C, 1]
    planes = (np.arange(count, dtype=index)[:, None, None] * channels
              + np.arange(channels, dtype=index)[None, :, None]) * (height * width)
    flat = frames.reshape(-1)
    out = np.zeros((count, channels, roi_size * roi_size), dtype=np.float32)
    for dy, dx in ((0, 0), (0, 1), (1, 0), (1, 1)):
        xs, ys = x0 + dx, y0 + dy
        weight = (fx if dx else 1 - fx) * (fy if dy else 1 - fy)
        inside = (xs >= 0) & (xs < width) & (ys >= 0) & (ys < height)
        out += flat.take(planes + np.where(inside, ys * width + xs, 0)) * (weight * inside)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8).reshape(count, channels, roi_size, roi_size)


def mouth_rois(frames: np.ndarray, points: np.ndarray, roi_size: int = ROI_SIZE) -> np.ndarray:
    """:func:`warp_rois` of ``frames`` (uint8 ``[T, C, H, W]``) with :func:`roi_transforms`
    of their landmarks ``points`` (``[T, 68, 2]``, smoothed or not)."""
    return warp_rois(frames, roi_transforms(points, roi_size), roi_size)
