"""Mouth ROIs for every face track (SPEC §13): landmarks behind an interface (:mod:`.backend`,
dlib's 68 points from the ``lips`` extra), per-track filling and smoothing (:mod:`.track`), the
landmark cache (:mod:`.store`), the reference face (:mod:`.mean_face`), the ROI (:mod:`.roi`:
auto_avsr's recipe) and the mouth crop videos of ``mcorec-torch lips`` (:mod:`.write`).

Pure numpy and :mod:`mcorec_torch.media`; the data layer crops segments with it on the fly
(``crops="lip"`` for a track without a mouth crop video, or ``lip_source="derived"``).
"""
from __future__ import annotations

from .backend import LIPS_EXTRA_HINT, DlibLandmarks, LandmarkBackend, LipsExtraMissing, lips_extra_available
from .mean_face import MOUTH, MOUTH_CORNERS, ROI_SIZE, STABLE_POINTS, read_dlib_mean_shape, reference_points
from .roi import fit_similarities, mouth_rois, roi_scale, roi_transforms, warp_rois
from .store import LandmarkStore, landmark_folder
from .track import SMOOTHING_WINDOW, TrackLandmarks, detect_track, fill_missing, smooth
from .write import LipJob, LipOutcome, LipPlan, plan_lip_jobs, run_lips, write_lip_video, write_lip_videos

__all__ = [
    "LIPS_EXTRA_HINT", "DlibLandmarks", "LandmarkBackend", "LipsExtraMissing", "lips_extra_available",
    "MOUTH", "MOUTH_CORNERS", "ROI_SIZE", "STABLE_POINTS", "read_dlib_mean_shape", "reference_points",
    "fit_similarities", "mouth_rois", "roi_scale", "roi_transforms", "warp_rois",
    "LandmarkStore", "landmark_folder",
    "SMOOTHING_WINDOW", "TrackLandmarks", "detect_track", "fill_missing", "smooth",
    "LipJob", "LipOutcome", "LipPlan", "plan_lip_jobs", "run_lips", "write_lip_video", "write_lip_videos",
]
