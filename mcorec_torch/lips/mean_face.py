"""The reference face the mouth ROI is aligned to (auto_avsr's recipe, SPEC §13).

A frame's landmarks are mapped by a similarity transform onto a reference "mean face" at its
*stable points* (the nose bridge and tip, the eye corners and the mouth corners: points
28, 33, 36, 39, 42, 45, 48, 54 of the iBUG 68-point layout), then a square ROI is cut around
the frame's own mouth. The reference here is derived from data: it is the mean shape of the
68-point dlib model (``shape_predictor_68_face_landmarks.dat``, the shape its regression trees
start from, in units of the face detector's box), read by :func:`read_dlib_mean_shape`, at
the stable points, rounded to 4 decimals; ``tests/lips`` derives it again from the installed
model. Its scale in ROI pixels is a rule of this library: the reference mouth is half as wide
as the ROI (48 of 96 pixels), which puts the nose tip near the top edge and the chin near the
bottom one.
"""
from __future__ import annotations

from pathlib import Path
from typing import Tuple

import numpy as np

from ..errors import MCoRecDataError, PathLike

#: Points of the iBUG 68-point layout (0-based, as dlib and FAN number them).
NUM_POINTS = 68
#: The mouth: outer lip 48-59, inner lip 60-67; 48 and 54 are its corners.
MOUTH = slice(48, 68)
MOUTH_CORNERS = (48, 54)
#: Points that move little while a person speaks: nose bridge (28), nose tip (33), eye corners
#: (36, 39, 42, 45) and mouth corners (48, 54).
STABLE_POINTS: Tuple[int, ...] = (28, 33, 36, 39, 42, 45, 48, 54)

#: The dlib 68-point model's mean shape at :data:`STABLE_POINTS` (x, y in units of the
#: detector's box; derived by :func:`read_dlib_mean_shape`, see the module docstring).
MEAN_FACE_STABLE = np.array([
    [0.5000, 0.3857],  # 28 nose bridge
    [0.5000, 0.6337],  # 33 nose tip (bottom)
    [0.2139, 0.3156],  # 36 outer corner of the left eye (image left)
    [0.3794, 0.3276],  # 39 inner corner of the left eye
    [0.6207, 0.3276],  # 42 inner corner of the right eye
    [0.7862, 0.3156],  # 45 outer corner of the right eye
    [0.3171, 0.7511],  # 48 left mouth corner
    [0.6829, 0.7511],  # 54 right mouth corner
], dtype=np.float64)
MEAN_FACE_STABLE.setflags(write=False)

#: Side of the square mouth ROI in pixels (the release's ``track_XX_lip.av.mp4`` are 96x96).
ROI_SIZE = 96
#: Width of the reference mouth (corner to corner) in ROI pixels: half the ROI.
REFERENCE_MOUTH_WIDTH = ROI_SIZE / 2


def reference_points(roi_size: int = ROI_SIZE) -> np.ndarray:
    """The reference stable points in aligned-face pixels (float64 ``[8, 2]``): the mean face
    scaled so that its mouth is ``roi_size / 2`` pixels wide. Only their shape and scale
    matter: the ROI is centred on each frame's own mouth after the alignment."""
    left, right = (STABLE_POINTS.index(p) for p in MOUTH_CORNERS)
    width = float(np.linalg.norm(MEAN_FACE_STABLE[right] - MEAN_FACE_STABLE[left]))
    return MEAN_FACE_STABLE * ((roi_size / 2) / width)


def _read_int(data: bytes, pos: int, path: PathLike) -> Tuple[int, int]:
    """One integer of dlib's serialization at ``pos``: a control byte (low 4 bits: how many
    little-endian bytes follow; bit 7: negative), then the bytes. Returns (value, next pos)."""
    if pos >= len(data):
        raise MCoRecDataError(path, "ends inside its mean shape (not a dlib shape predictor?)")
    control = data[pos]
    size = control & 0x0F
    if size > 8 or pos + 1 + size > len(data):
        raise MCoRecDataError(path, f"byte {pos} is not a dlib integer (not a dlib shape predictor?)")
    value = int.from_bytes(data[pos + 1: pos + 1 + size], "little")
    return (-value if control & 0x80 else value), pos + 1 + size


def read_dlib_mean_shape(path: PathLike) -> np.ndarray:
    """The mean shape of a dlib shape predictor file (its ``initial_shape``), float64
    ``[points, 2]`` in units of the detector's box. The file starts with the format version
    (1), the shape as a column matrix (``-rows``, ``-cols``) and its values, each a dlib float
    (an integer mantissa and an integer exponent of 2); only the first few kilobytes are read."""
    path = Path(path)
    with open(path, "rb") as handle:
        data = handle.read(1 << 14)
    version, pos = _read_int(data, 0, path)
    rows, pos = _read_int(data, pos, path)
    cols, pos = _read_int(data, pos, path)
    if version != 1 or rows >= 0 or cols != -1 or -rows % 2:
        raise MCoRecDataError(path, f"not a dlib shape predictor of format 1 (version {version}, "
                                    f"shape {-rows}x{-cols})")
    values = []
    for _ in range(-rows):
        mantissa, pos = _read_int(data, pos, path)
        exponent, pos = _read_int(data, pos, path)
        values.append(mantissa * 2.0 ** exponent)
    return np.asarray(values, dtype=np.float64).reshape(-1, 2)
