"""What the chosen options need from the data, checked while the index is built: which video
a crop is read from (``crops``, ``lip_source``, ``lip_dir``), one crop size per speaker, and
ego recordings where ``view="ego"`` or ``audio="ego"`` (MCoRec records them in the train split
only). Each failure is an
:class:`~mcorec_torch.errors.MCoRecDataError` saying what to change, instead of a
``ValueError`` in a worker mid-epoch or an index of 0 segments."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence, Tuple

from ..corpus.layout import LIP_SIZE, lip_video_path
from ..corpus.metadata import CropEntry, SessionMetadata
from ..errors import MCoRecDataError
from .options import DatasetOptions
from .segment_index import SpeakerEntry, Track


def crop_media(meta: SessionMetadata, crop: CropEntry, options: DatasetOptions) -> Tuple[Path, str]:
    """The video a crop's track is read from, and its :attr:`Track.lip` (SPEC §13): the face track
    and ``""`` for ``crops="face"``; for ``crops="lip"`` with ``lip_source="released"``, the mouth
    crop video ``metadata.json`` lists (whether or not it exists: a listed file that is missing is
    a broken download), else one ``mcorec-torch lips`` wrote beside the face track or into
    ``lip_dir``, each ``"released"``; otherwise the face track, ``"derived"`` (the reader crops
    the mouth ROI of every frame)."""
    face = meta.path(crop.video)
    if options.crops == "face":
        return face, ""
    if options.lip_source == "released":
        if crop.lip is not None:
            return meta.path(crop.lip), "released"
        for folder in (None, options.lip_dir) if options.lip_dir else (None,):
            written = lip_video_path(meta.session_dir, crop.video, folder)
            if written.is_file():
                return written, "released"
    return face, "derived"


def mark_lip_source(track: Track, lip: str) -> None:
    """Record where a usable track's frames come from (:func:`crop_media`); a derived one is
    read at the mouth ROI's size."""
    track.lip = lip
    if lip == "derived":
        track.height, track.width = LIP_SIZE


def require_lip_dir(options: DatasetOptions) -> None:
    """``lip_dir``, when set, is a folder (a mistyped one would otherwise derive every ROI)."""
    if options.lip_dir is not None and not Path(options.lip_dir).is_dir():
        raise MCoRecDataError(options.lip_dir, "lip_dir is not a folder (it is what `mcorec-torch lips --out` "
                                               "wrote: <lip_dir>/<split>/<session>/...)")


def require_one_crop_size(tracks: Sequence[Track], speaker: str, view: str) -> None:
    """All ``tracks`` of one speaker in one view have the first one's frame size: a segment may
    take frames from two of them, and a batch needs one size."""
    if not tracks:
        return
    first = tracks[0]
    for track in tracks[1:]:
        if (track.width, track.height) != (first.width, first.height):
            raise MCoRecDataError(track.path, f"crop size {track.width}x{track.height} differs from "
                                              f"{first.width}x{first.height} of {first.path}, another "
                                              f"{view} track of {speaker} (crops of one speaker must share a size)")


def require_view_sources(root: Path, options: DatasetOptions, speakers: Sequence[SpeakerEntry]) -> None:
    """``view="ego"`` needs some speaker of the split with ego crops, ``audio="ego"`` one with
    an ``ego_video.mp4`` that has audio; both exist in the train split only."""
    if not speakers:
        return
    if options.view == "ego" and not any(s.tracks for s in speakers):
        raise MCoRecDataError(root, "view='ego' but no speaker of this split has ego crops: ego recordings "
                                    "exist in the train split only (use view='central' here)")
    if options.audio == "ego" and not any(s.ego_audio_path for s in speakers):
        raise MCoRecDataError(root, "audio='ego' but no speaker of this split has an ego_video.mp4 with "
                                    "audio: the lapel microphones exist in the train split only (use "
                                    "audio='central' here)")
