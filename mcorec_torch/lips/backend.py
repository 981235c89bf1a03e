"""Landmark backends: frames in, 68 points per frame (or "no face") out (SPEC §13).

A backend is any object with a ``name`` (what cached landmarks are keyed on: landmarks of two
backends are never mixed) and ``detect(frames) -> (points, found)``: ``frames`` uint8 RGB
``[T, H, W, 3]``, ``points`` float32 ``[T, 68, 2]`` (x, y in frame pixels, pixel centres at
integers; any value where not found), ``found`` bool ``[T]``. It must pickle (DataLoader
workers and the ``lips`` pool receive it).

:class:`DlibLandmarks` is the one shipped: dlib's HOG face detector and its 68-point shape
predictor, from the ``lips`` extra (``pip install 'mcorec_torch[lips]'``: ``dlib-bin`` and
``face-recognition-models``), imported on first use.
"""
from __future__ import annotations

from typing import Any, Optional, Protocol, Tuple

import numpy as np

from .mean_face import NUM_POINTS

#: How to install what :class:`DlibLandmarks` needs.
LIPS_EXTRA_HINT = "pip install 'mcorec_torch[lips]'"


class LandmarkBackend(Protocol):
    """What finds 68 landmarks on frames (see the module docstring)."""

    name: str

    def detect(self, frames: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        ...


class LipsExtraMissing(ImportError):
    """The ``lips`` extra is not installed (its message says how to install it)."""


def _import_dlib() -> Tuple[Any, str]:
    """``(dlib module, path of the 68-point model)``; :class:`LipsExtraMissing` naming the extra."""
    try:
        import dlib
        import face_recognition_models
    except ImportError as exc:
        raise LipsExtraMissing(f"mouth ROIs derived from face crops need dlib's 68-point landmarks, which are "
                               f"not installed ({exc.name or exc}): {LIPS_EXTRA_HINT}") from None
    return dlib, face_recognition_models.pose_predictor_model_location()


def lips_extra_available() -> bool:
    """Whether :class:`DlibLandmarks` can run (the ``lips`` extra is installed)."""
    try:
        _import_dlib()
    except LipsExtraMissing:
        return False
    return True


class DlibLandmarks:
    """dlib's HOG frontal-face detector and 68-point shape predictor (iBUG 300-W layout).

    On each frame the face nearest the frame centre is kept (a face crop is centred on its
    speaker); ``upsample``: how many times the detector doubles the frame first (0: faces of
    about 80 pixels and more, which is every face of a 224x224 crop). The models load on the
    first :meth:`detect` in each process."""

    name = "dlib68"

    def __init__(self, upsample: int = 0) -> None:
        self.upsample = int(upsample)
        self._models: Optional[Tuple[Any, Any]] = None

    def __getstate__(self) -> dict:
        return {"upsample": self.upsample, "_models": None}

    def _load(self) -> Tuple[Any, Any]:
        if self._models is None:
            dlib, model_path = _import_dlib()
            self._models = (dlib.get_frontal_face_detector(), dlib.shape_predictor(model_path))
        return self._models

    def detect(self, frames: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """Landmarks of each of ``frames`` (uint8 ``[T, H, W, 3]`` RGB): float32 ``[T, 68, 2]``
        pixels (0 where no face) and bool ``[T]`` found."""
        detector, predictor = self._load()
        frames = np.asarray(frames)
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise ValueError(f"frames must be uint8 [T, H, W, 3], got {frames.dtype} {frames.shape}")
        points = np.zeros((len(frames), NUM_POINTS, 2), dtype=np.float32)
        found = np.zeros(len(frames), dtype=bool)
        centre = np.array([frames.shape[2] - 1, frames.shape[1] - 1], dtype=np.float64) / 2
        for t, frame in enumerate(frames):
            image = np.ascontiguousarray(frame)
            boxes = list(detector(image, self.upsample))
            if not boxes:
                continue
            box = min(boxes, key=lambda b: float(np.hypot((b.left() + b.right()) / 2 - centre[0],
                                                          (b.top() + b.bottom()) / 2 - centre[1])))
            shape = predictor(image, box)
            points[t] = [(p.x, p.y) for p in shape.parts()]
            found[t] = True
        return points, found


def default_backend() -> DlibLandmarks:
    """The backend used when none is given: :class:`DlibLandmarks`."""
    return DlibLandmarks()
