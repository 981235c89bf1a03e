"""Mouth crop videos from face tracks: what ``mcorec-torch lips`` writes (SPEC §13).

For every face track of a view that has no released mouth crop, ``track_XX_lip.av.mp4``:
H.264 at 25 fps, one 96x96 ROI per face frame (the ROI of frame ``j`` from face frame ``j``,
so the same presented-frame count and timestamps), the face track's audio carried over as the
library decodes it (16 kHz mono, re-encoded AAC). It goes beside the face track or, with
``lip_dir``, into the mirror ``lip_dir/<split>/<session>/...``
(:func:`~mcorec_torch.corpus.layout.lip_video_path`), where the index finds it. Each file is
written atomically, so a killed run leaves whole files only and the same run again writes
the rest, byte for byte what one uninterrupted run writes.
"""
from __future__ import annotations

import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Tuple

import numpy as np

from .. import _io
from ..corpus.layout import list_sessions, lip_video_path
from ..corpus.metadata import load_metadata, read_track_json
from ..errors import MCoRecDataError, PathLike
from ..media.audio import decode_audio
from ..media.encode import write_mp4
from ..media.headers import HeaderCache
from ..media.probe import read_header
from ..media.video import VideoReader
from ..timeline import SAMPLES_PER_FRAME
from .roi import roi_transforms, warp_rois
from .store import LandmarkStore, landmark_folder

#: libx264 options of the written mouth crops: one thread per file (files are written in
#: parallel processes, and one thread gives the same bytes on every run), x264 defaults else.
LIP_VIDEO_OPTIONS = {"threads": "1"}
#: Face frames decoded and cropped at once.
CROP_CHUNK_FRAMES = 64


@dataclass(frozen=True)
class LipJob:
    """One face track to crop: ``face`` (its video), ``target`` (the mouth crop video to
    write), ``frames`` (its presented frames), ``name`` (``session/spk_N view crop k``)."""

    face: str
    target: str
    frames: int
    name: str


@dataclass
class LipOutcome:
    """What became of one track. ``status``: ``"written"``, ``"kept"`` (a whole file from an
    earlier run, newer than the face track), ``"landmarks"`` (landmarks cached, no video
    asked for), ``"refused"`` (``reason`` says why: no face on any frame, or the face track
    does not read). ``no_face``: frames without a face (interpolated); ``bytes``: of the file;
    ``readable``: False when it was refused because its files do not read."""

    name: str
    face: str
    target: str
    status: str
    frames: int = 0
    no_face: int = 0
    reason: str = ""
    bytes: int = 0
    readable: bool = True


@dataclass
class LipPlan:
    """The tracks of a split to crop (``jobs``), those refused before any work (``refused``:
    the face track or its json does not read) and how many have a released mouth crop
    (``released``: listed in metadata.json and present, left alone)."""

    jobs: List[LipJob]
    refused: List[LipOutcome]
    released: int


def plan_lip_jobs(split_dir: PathLike, view: str, lip_dir: Optional[PathLike] = None,
                  headers: Optional[HeaderCache] = None) -> LipPlan:
    """Every face track of ``view`` in the split without a released mouth crop, with the path
    its mouth crop goes to and its presented-frame count (``headers``: the header cache)."""
    headers = headers if headers is not None else HeaderCache(None)
    plan = LipPlan([], [], 0)
    for session_dir in list_sessions(split_dir):
        meta = load_metadata(session_dir)
        for speaker, info in meta.speakers.items():
            entry = info.view(view)
            for k, crop in enumerate(entry.crops if entry is not None else ()):
                if crop.lip is not None and meta.path(crop.lip).is_file():
                    plan.released += 1
                    continue
                name = f"{session_dir.name}/{speaker} {view} crop {k}"
                face = meta.path(crop.video)
                target = lip_video_path(session_dir, crop.video, lip_dir)
                try:
                    expected = read_track_json(meta.path(crop.crop_metadata))
                    frames = headers.frame_count(face, expected=expected.frame_end - expected.frame_start)
                except MCoRecDataError as exc:
                    plan.refused.append(LipOutcome(name, str(face), str(target), "refused", reason=str(exc),
                                                   readable=False))
                    continue
                plan.jobs.append(LipJob(str(face), str(target), frames, name))
    return plan


def remove_stale_temporaries(jobs: List[LipJob]) -> int:
    """Remove what a killed run left of the jobs' files (hidden temporary siblings, see
    :func:`~mcorec_torch._io.temporary_name`); returns how many."""
    removed = 0
    targets = {}
    for job in jobs:
        targets.setdefault(Path(job.target).parent, set()).add(Path(job.target).name)
    for folder, names in targets.items():
        if not folder.is_dir():
            continue
        for item in folder.iterdir():
            if _io.temporary_target(item.name) in names:
                _io.remove_temporary(item)
                removed += 1
    return removed


def is_written(job: LipJob) -> bool:
    """Whether ``job.target`` exists and is not older than its face track (files are only ever
    renamed into place whole, so one that exists is complete)."""
    try:
        return os.stat(job.target).st_mtime_ns >= os.stat(job.face).st_mtime_ns
    except FileNotFoundError:
        return False


def _roi_frames(job: LipJob, transforms: np.ndarray) -> Iterator[np.ndarray]:
    """The ROIs of every face frame, uint8 ``[96, 96, 3]`` one by one."""
    reader = VideoReader(job.face)
    try:
        for first in range(0, job.frames, CROP_CHUNK_FRAMES):
            count = min(CROP_CHUNK_FRAMES, job.frames - first)
            rois = warp_rois(reader.read(first, count, "rgb"), transforms[first: first + count])
            yield from np.moveaxis(rois, 1, -1)
    finally:
        reader.close()


def write_lip_video(job: LipJob, store: LandmarkStore, landmarks_only: bool = False) -> LipOutcome:
    """Crop one track (see the module docstring); ``landmarks_only``: cache its landmarks and
    write no video. A track without a face on any frame, or whose face track does not read,
    becomes a ``"refused"`` outcome saying why."""
    outcome = LipOutcome(job.name, job.face, job.target, "refused", frames=job.frames)
    try:
        landmarks = store.landmarks(job.face, job.frames)
        outcome.no_face = landmarks.missing
        if not landmarks.found.any():
            outcome.reason = f"no face found on any of its {job.frames} frames ({landmarks.backend} landmarks)"
            return outcome
        if not landmarks_only:
            transforms = roi_transforms(landmarks.smoothed(job.face))
            audio = decode_audio(job.face, job.frames * SAMPLES_PER_FRAME) if read_header(job.face).has_audio else None
            with _io.atomic_path(job.target) as tmp:
                write_mp4(tmp, _roi_frames(job, transforms), audio=audio, video_options=LIP_VIDEO_OPTIONS)
    except MCoRecDataError as exc:
        outcome.reason, outcome.readable = str(exc), False
        return outcome
    if landmarks_only:
        outcome.status = "landmarks"
    else:
        outcome.status, outcome.bytes = "written", os.path.getsize(job.target)
    return outcome


def write_lip_videos(jobs: List[LipJob], store: LandmarkStore, workers: int = 1, landmarks_only: bool = False,
                     progress: Optional[Callable[[LipOutcome], None]] = None) -> List[LipOutcome]:
    """:func:`write_lip_video` of every job not written yet (in ``workers`` processes when more
    than 1), what a killed run left removed first; ``progress(outcome)`` after each track.
    Outcomes in the order of ``jobs``."""
    remove_stale_temporaries(jobs)
    outcomes: List[Optional[LipOutcome]] = [None] * len(jobs)
    todo: List[Tuple[int, LipJob]] = []
    for i, job in enumerate(jobs):
        if not landmarks_only and is_written(job):
            outcomes[i] = LipOutcome(job.name, job.face, job.target, "kept", job.frames,
                                     bytes=os.path.getsize(job.target))
            if progress is not None:
                progress(outcomes[i])
        else:
            todo.append((i, job))

    def done(i: int, outcome: LipOutcome) -> None:
        outcomes[i] = outcome
        if progress is not None:
            progress(outcome)

    if workers <= 1 or len(todo) <= 1:
        for i, job in todo:
            done(i, write_lip_video(job, store, landmarks_only))
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(write_lip_video, job, store, landmarks_only): i for i, job in todo}
            for future in as_completed(futures):
                done(futures[future], future.result())
    return [o for o in outcomes if o is not None]


def run_lips(split_dir: PathLike, view: str = "central", lip_dir: Optional[PathLike] = None,
             cache_dir: Optional[PathLike] = None, store: Optional[LandmarkStore] = None, workers: int = 1,
             landmarks_only: bool = False,
             progress: Optional[Callable[[LipOutcome], None]] = None) -> Tuple[LipPlan, List[LipOutcome], float]:
    """Plan and write the mouth crops of a split (see the module docstring): ``(plan, outcomes
    of its jobs, seconds)``. ``cache_dir``: the header cache and, without ``store``, the
    landmark cache (``<cache_dir>/landmarks``)."""
    started = time.perf_counter()
    headers = HeaderCache(Path(cache_dir) / "headers.json" if cache_dir is not None else None)
    plan = plan_lip_jobs(split_dir, view, lip_dir, headers)
    headers.save()
    if store is None:
        store = LandmarkStore(landmark_folder(cache_dir) if cache_dir is not None else None)
    store.require_ready(job.face for job in plan.jobs)
    outcomes = write_lip_videos(plan.jobs, store, workers, landmarks_only, progress)
    return plan, outcomes, time.perf_counter() - started
