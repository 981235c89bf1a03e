"""Landmarks of whole face tracks, computed once and kept on disk (SPEC §13).

One ``.npz`` per track and backend under the store's folder (``<cache_dir>/landmarks``),
named like the decoded-frame cache's entries: ``<source sha1[:16]>-<key sha1>.npz``, the key
holding the track's path, size and modification time (:func:`~mcorec_torch._io.file_stamp`)
and the backend's name, so a changed file or another backend gets its own entry. Entries are
written atomically; two processes computing the same track write the same entry.
"""
from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from pathlib import Path
from typing import Iterable, List, Optional, Tuple

import numpy as np

from .. import _io
from ..errors import PathLike
from .backend import LIPS_EXTRA_HINT, LandmarkBackend, LipsExtraMissing, default_backend, lips_extra_available
from .roi import roi_transforms
from .track import TrackLandmarks, detect_track

#: Bump when what an entry holds changes (older entries are then computed anew).
LANDMARK_CACHE_VERSION = 1


class LandmarkStore:
    """Landmarks (and ROI transforms) of face tracks, from the cache in ``folder`` or found
    with ``backend`` (default :class:`~.backend.DlibLandmarks`, created on first use).
    ``folder=None``: nothing is kept on disk. Pickles cheaply into worker processes (its
    per-process memo of ROI transforms is not carried)."""

    def __init__(self, folder: Optional[PathLike], backend: Optional[LandmarkBackend] = None,
                 max_memo: int = 256) -> None:
        self.folder = Path(folder) if folder is not None else None
        self._backend = backend
        self.max_memo = max_memo
        self._memo: "OrderedDict[Tuple[str, Tuple[int, int]], np.ndarray]" = OrderedDict()

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_memo"] = OrderedDict()
        return state

    @property
    def backend(self) -> LandmarkBackend:
        if self._backend is None:
            self._backend = default_backend()
        return self._backend

    @property
    def backend_name(self) -> str:
        return self._backend.name if self._backend is not None else type(default_backend()).name

    def entry(self, path: PathLike, stamp: Optional[Tuple[int, int]] = None) -> Optional[Path]:
        """The cache file of ``path`` as it is now (``None`` without a folder);
        ``FileNotFoundError`` when ``path`` does not exist."""
        if self.folder is None:
            return None
        path = os.path.abspath(os.fspath(path))
        size, mtime_ns = stamp if stamp is not None else _io.file_stamp(path)
        source = hashlib.sha1(f"{path}|{self.backend_name}".encode()).hexdigest()[:16]
        key = f"v{LANDMARK_CACHE_VERSION}|{path}|{size}|{mtime_ns}|{self.backend_name}"
        return self.folder / f"{source}-{hashlib.sha1(key.encode()).hexdigest()}.npz"

    def cached(self, path: PathLike) -> Optional[TrackLandmarks]:
        """The cached landmarks of ``path`` as it is now, or ``None``."""
        entry = self.entry(path)
        if entry is None or not entry.is_file():
            return None
        try:
            with np.load(entry, allow_pickle=False) as data:
                return TrackLandmarks(data["points"], data["found"], str(data["backend"]))
        except (OSError, ValueError, KeyError):
            return None  # unreadable: computed anew

    def landmarks(self, path: PathLike, frames: Optional[int] = None) -> TrackLandmarks:
        """The landmarks of every frame of ``path``: cached, else found now (and cached).
        ``frames``: its presented-frame count when known."""
        path = os.fspath(path)
        stamp = _io.file_stamp(path)
        found = self.cached(path)
        if found is not None and (frames is None or found.frames == int(frames)):
            return found
        found = detect_track(path, self.backend, frames)
        entry = self.entry(path, stamp)
        if entry is not None:
            with _io.atomic_path(entry) as tmp:
                with open(tmp, "wb") as handle:
                    np.savez(handle, points=found.points, found=found.found, backend=np.array(found.backend))
        return found

    def transforms(self, path: PathLike, frames: Optional[int] = None) -> np.ndarray:
        """ROI transforms of every frame of ``path`` (float32 ``[T, 2, 3]``, see
        :func:`~.roi.roi_transforms`) from its smoothed landmarks, kept in memory for the
        ``max_memo`` tracks used last. :class:`MCoRecDataError` when no frame has a face."""
        path = os.fspath(path)
        key = (os.path.abspath(path), _io.file_stamp(path))
        known = self._memo.pop(key, None)
        if known is None or (frames is not None and len(known) != int(frames)):
            known = roi_transforms(self.landmarks(path, frames).smoothed(path))
        self._memo[key] = known
        while len(self._memo) > self.max_memo:
            self._memo.popitem(last=False)
        return known

    def missing(self, paths: Iterable[PathLike]) -> List[str]:
        """Those of ``paths`` with no cached landmarks (to be found on first use)."""
        return [os.fspath(p) for p in paths if self.cached(p) is None]

    def require_ready(self, paths: Iterable[PathLike]) -> None:
        """Raise :class:`~.backend.LipsExtraMissing` (an ``ImportError`` naming the extra) when
        some of ``paths`` has no cached landmarks and the default backend cannot run."""
        if self._backend is not None or lips_extra_available():
            return
        missing = self.missing(paths)
        if missing:
            raise LipsExtraMissing(f"{len(missing)} face track(s) need mouth ROIs derived from landmarks that are "
                                   f"not cached (first: {missing[0]}), and dlib is not installed: "
                                   f"{LIPS_EXTRA_HINT}")


def landmark_folder(cache_dir: PathLike) -> Path:
    """Where the landmark cache lives inside a cache folder: ``<cache_dir>/landmarks``."""
    return Path(cache_dir) / "landmarks"
