"""What the chosen options need from the data, checked while the index is built: one crop
size per speaker, lip crops where ``crops="lip"``, and ego recordings where ``view="ego"``
or ``audio="ego"`` (MCoRec records them in the train split only). Each failure is an
:class:`~mcorec_torch.errors.MCoRecDataError` saying what to change, instead of a
``ValueError`` in a worker mid-epoch or an index of 0 segments."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ..errors import MCoRecDataError
from .options import DatasetOptions
from .segment_index import SpeakerEntry, Track


def missing_lip_message(view: str, crops: str) -> str:
    """Why a crop entry without a ``lip`` video cannot serve ``crops="lip"`` in ``view``."""
    if view == "ego":
        return (f"crops={crops!r} with view='ego', but ego crops have no 'lip' video (MCoRec's preprocessed "
                f"release has lip crops of the central camera only): use crops='face' with view='ego', "
                f"or view='central'")
    return (f"crops={crops!r} but this crop has no 'lip' video (the preprocessed release has "
            f"track_XX_lip.av.mp4 files; or use crops='face')")


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
