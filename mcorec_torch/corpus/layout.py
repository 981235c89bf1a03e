"""File and folder names of the MCoRec layout (SPEC §1) and finding sessions in a split.

Every name of the on-disk format is declared here once; everything else asks this module.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Dict, List, Literal, Optional, Tuple, get_args

from ..errors import MCoRecDataError, PathLike

METADATA_FILE = "metadata.json"
CENTRAL_VIDEO_FILE = "central_video.mp4"
EGO_VIDEO_FILE = "ego_video.mp4"
SPEAKER_TO_CLUSTER_FILE = "speaker_to_cluster.json"
#: Transcript folder inside a session (``label_dir`` option); hypotheses go to ``output``.
DEFAULT_LABEL_DIR = "labels"
DEFAULT_HYPOTHESIS_DIR = "output"
#: The splits of the release (folders ``train/``, ``dev/``, ``eval/``; only ``train`` has ego recordings).
SPLITS: Tuple[str, ...] = ("train", "dev", "eval")
#: The two cameras of a speaker's entry in ``metadata.json``.
View = Literal["central", "ego"]
VIEWS: Tuple[str, ...] = get_args(View)
#: The two crop videos of a face track: ``"lip"`` (``track_XX_lip.av.mp4``, the 96x96 mouth
#: ROI of the preprocessed release) and ``"face"`` (``track_XX.mp4``, 224x224).
Crop = Literal["lip", "face"]
CROPS: Tuple[str, ...] = get_args(Crop)
#: Frame size (height, width) in pixels of each crop video of the release.
CROP_SIZES = {"lip": (96, 96), "face": (224, 224)}
LIP_SIZE = CROP_SIZES["lip"]
FACE_SIZE = CROP_SIZES["face"]
#: Crop folder of each view inside ``speakers/spk_N/``.
CROP_FOLDERS = {"central": "central_crops", "ego": "ego_crops"}
#: How a mouth crop video's name ends: ``track_XX_lip.av.mp4`` beside the face track ``track_XX.mp4``.
LIP_VIDEO_SUFFIX = "_lip.av.mp4"


def speaker_folder(speaker: str) -> str:
    """``speakers/spk_N`` (relative to the session folder)."""
    return f"speakers/{speaker}"


def track_files(speaker: str, view: str, track: int) -> Dict[str, str]:
    """Relative paths of one face track's files, keyed as ``metadata.json`` keys them:
    ``video`` (``track_XX.mp4``), ``crop_metadata`` (``track_XX.json``), ``bbox``
    (``track_XX_bbox.json``), ``lip`` (``track_XX_lip.av.mp4``), ``asd`` (``track_XX_asd.json``)."""
    base = f"{speaker_folder(speaker)}/{CROP_FOLDERS[view]}/track_{int(track):02d}"
    return {"video": f"{base}.mp4", "crop_metadata": f"{base}.json", "bbox": f"{base}_bbox.json",
            "lip": f"{base}{LIP_VIDEO_SUFFIX}", "asd": f"{base}_asd.json"}


def lip_video_for(face_video: str) -> str:
    """The mouth crop video named after a face track video (a path relative to the session
    folder, as ``metadata.json`` writes it): ``.../track_00.mp4`` -> ``.../track_00_lip.av.mp4``."""
    stem = face_video[:-len(".mp4")] if face_video.endswith(".mp4") else face_video
    return f"{stem}{LIP_VIDEO_SUFFIX}"


def lip_video_path(session_dir: PathLike, face_video: str, lip_dir: Optional[PathLike] = None) -> Path:
    """Where ``mcorec-torch lips`` writes, and the index looks for, the mouth crop of the face
    track ``face_video`` (relative to ``session_dir``) that ``metadata.json`` does not list
    (SPEC §13): beside it (:func:`lip_video_for`), or with ``lip_dir`` at the same place in a
    mirror, ``lip_dir/<split>/<session>/...``."""
    session_dir = Path(session_dir)
    relative = lip_video_for(face_video)
    if lip_dir is None:
        return session_dir / relative
    return Path(lip_dir) / session_dir.parent.name / session_dir.name / relative


def speaker_sort_key(name: str) -> Tuple[int, str]:
    """Sort ``spk_2`` before ``spk_10``."""
    tail = name.rsplit("_", 1)[-1]
    return (int(tail), name) if tail.isascii() and tail.isdigit() else (1 << 30, name)


def session_folders(split_dir: PathLike) -> List[Path]:
    """Visible sub-folders of a split directory (every one is a session), sorted by name;
    ``[]`` when the directory does not exist. Folders starting with ``.`` or ``_`` (caches,
    scratch) are not sessions."""
    split_dir = Path(split_dir)
    if not split_dir.is_dir():
        return []
    return sorted(p for p in split_dir.iterdir() if p.is_dir() and not p.name.startswith((".", "_")))


def split_level_fault(split_dir: PathLike) -> Optional[str]:
    """What is wrong when ``split_dir`` is a folder one level too low (a session folder) or
    too high (the folder holding the splits), or ``None``. Checked before anything else, as
    either one otherwise gives a misleading error about its parts."""
    split_dir = Path(split_dir)
    if (split_dir / METADATA_FILE).is_file() or (split_dir / "speakers").is_dir():
        return f"this is a session folder (it holds {METADATA_FILE} or speakers/); pass its parent, the split"
    folders = session_folders(split_dir)
    if folders and not any((f / METADATA_FILE).is_file() for f in folders):
        splits = [f.name for f in folders if any((s / METADATA_FILE).is_file() for s in session_folders(f))]
        if splits:
            return f"this folder holds the splits {', '.join(splits)}; pass one of them"
    return None


def list_sessions(split_dir: PathLike) -> List[Path]:
    """:func:`session_folders`, raising :class:`MCoRecDataError` when the split directory
    does not exist, is a session folder or the folder of the splits
    (:func:`split_level_fault`), holds no session, or a session has no ``metadata.json``."""
    split_dir = Path(split_dir)
    if not split_dir.is_dir():
        raise MCoRecDataError(split_dir, "split directory does not exist")
    fault = split_level_fault(split_dir)
    if fault is not None:
        raise MCoRecDataError(split_dir, fault)
    sessions = session_folders(split_dir)
    for session in sessions:
        if not (session / METADATA_FILE).is_file():
            raise MCoRecDataError(session / METADATA_FILE, "session folder has no metadata.json")
    if not sessions:
        raise MCoRecDataError(split_dir, "no session folders found")
    return sessions


def vtt_path(session_dir: PathLike, speaker: str, label_dir: str = DEFAULT_LABEL_DIR) -> Path:
    """``SESSION/<label_dir>/spk_N.vtt``."""
    return Path(session_dir) / label_dir / f"{speaker}.vtt"


def cluster_path(session_dir: PathLike, label_dir: str = DEFAULT_LABEL_DIR) -> Path:
    """``SESSION/<label_dir>/speaker_to_cluster.json``."""
    return Path(session_dir) / label_dir / SPEAKER_TO_CLUSTER_FILE


def labels_dir_exists(session_dir: PathLike, label_dir: str = DEFAULT_LABEL_DIR) -> bool:
    return os.path.isdir(Path(session_dir) / label_dir)
