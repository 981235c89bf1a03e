"""A landmark backend for synthetic frames, behind the same interface as dlib's: synthetic
frames are not faces (dlib finds none on them, see test_real_face.py), so these landmarks are
placed where the mouth ROI becomes the whole frame scaled to 96x96, and the frame-index code
survives the crop (blocks of 224/4 pixels become blocks of 24)."""
import time

import numpy as np

from mcorec_torch.lips import MOUTH, STABLE_POINTS, reference_points
from mcorec_torch.synthetic import decode_frame_index


def whole_frame_points(height, width, roi_size=96):
    """68 points whose ROI is the whole ``height x width`` frame: the reference's stable points
    scaled by ``width / roi_size`` (frame pixels per ROI pixel), the mouth centred in the frame."""
    scale = width / roi_size
    centre = np.array([(width - 1) / 2, (height - 1) / 2])
    reference = reference_points(roi_size)
    corners = reference[[STABLE_POINTS.index(48), STABLE_POINTS.index(54)]]
    points = np.tile(centre, (68, 1))
    points[list(STABLE_POINTS)] = centre + scale * (reference - corners.mean(axis=0))
    others = [p for p in range(MOUTH.start, MOUTH.stop) if p not in (48, 54)]
    # the rest of the mouth balances the corners: the mouth's mean is the frame centre
    points[others] = (20 * centre - points[48] - points[54]) / len(others)
    return points.astype(np.float32)


class ScriptedLandmarks:
    """``detect``: :func:`whole_frame_points` on every frame, except that frames whose code
    reads ``index % no_face_every == no_face_every - 1`` are reported without a face (to
    exercise the interpolation and its count); ``frames_seen`` counts the frames seen;
    ``delay``: seconds each call waits (to kill a run midway)."""

    name = "scripted"

    def __init__(self, no_face_every=0, delay=0.0):
        self.no_face_every = no_face_every
        self.delay = delay
        self.frames_seen = 0

    def detect(self, frames):
        count, height, width, _ = frames.shape
        self.frames_seen += count
        time.sleep(self.delay)
        points = np.repeat(whole_frame_points(height, width)[None], count, axis=0)
        found = np.ones(count, dtype=bool)
        if self.no_face_every:
            codes = np.array([decode_frame_index(f, strict=False) for f in frames])
            found = codes % self.no_face_every != self.no_face_every - 1
        return points, found
