"""What a session's microphones and crops carry, by its content mode (:data:`.spec.CONTENTS`):
``"index"`` (:mod:`.index_content`: frame indices, noise) or ``"speech"`` (:mod:`.speech`:
mouths and tones that follow the transcript). The one place that chooses between the two.
"""
from __future__ import annotations

from typing import Callable, Tuple

import numpy as np

from ..media.audio import slice_padded
from ..timeline import SAMPLES_PER_FRAME
from . import speech
from .index_content import central_noise, frame_index_renderer, lapel_noise
from .spec import SessionSpec, check_content

__all__ = ["central_audio", "lapel_audio", "ego_audio", "crop_pixels"]


def _is_speech(session: SessionSpec) -> bool:
    return check_content(session.content) == "speech"


def _slice_signal(signal: np.ndarray, start: int, stop: int) -> np.ndarray:
    start, stop = int(start), int(stop)
    if stop < start:
        raise ValueError(f"stop {stop} < start {start}")
    return slice_padded(signal, start, stop)


def central_audio(session: SessionSpec, start: int, stop: int) -> np.ndarray:
    """The central microphone on central-timeline samples ``[start, stop)`` (float32).

    Zeros outside ``[0, session.num_samples)``. This is the audio of ``central_video.mp4``
    and of every central crop (``track_XX.mp4``, ``track_XX_lip.av.mp4``). With
    ``content="speech"``: every speaker's lapel signal summed, plus low noise."""
    signal = speech.central_signal(session) if _is_speech(session) else central_noise(session)
    return _slice_signal(signal, start, stop)


def lapel_audio(session: SessionSpec, speaker_name: str, start: int, stop: int) -> np.ndarray:
    """Speaker ``speaker_name``'s lapel (close-talk) microphone on **central**-timeline
    samples ``[start, stop)`` (float32), zeros outside ``[0, session.num_samples)``.

    ``ego_video.mp4``'s audio sample ``k`` is ``lapel_audio`` at central sample ``k + D``,
    ``D = speaker.ego_sample_offset``. It is defined over the whole session, but the phone
    only recorded part of it: see :func:`ego_audio` for what a reader of the ego file gets.
    """
    session.speaker(speaker_name)  # KeyError for an unknown speaker
    signal = (speech.lapel_signal(session, speaker_name) if _is_speech(session)
              else lapel_noise(session, speaker_name))
    return _slice_signal(signal, start, stop)


def ego_audio(session: SessionSpec, speaker_name: str, start: int, stop: int) -> np.ndarray:
    """What ``ego_video.mp4`` holds on **ego** samples ``[start, stop)``: the lapel signal
    at central samples ``[start + D, stop + D)``, zero where the phone was not recording
    (ego samples outside ``[0, ego.num_frames * 640)``)."""
    spk = session.speaker(speaker_name)
    if spk.ego is None:
        raise ValueError(f"{speaker_name} has no ego recording")
    d = spk.ego_sample_offset
    out = lapel_audio(session, speaker_name, int(start) + d, int(stop) + d)
    ego_len = spk.ego.num_frames * SAMPLES_PER_FRAME
    k = np.arange(int(start), int(stop))
    out[(k < 0) | (k >= ego_len)] = 0.0
    return out


def crop_pixels(session: SessionSpec, speaker_name: str, size: Tuple[int, int],
                view: str = "central") -> Callable[[int], np.ndarray]:
    """``render(frame) -> uint8 [H, W]`` full-range gray image of ``speaker_name``'s crop of
    ``size`` (height, width) at ``frame``, a central frame (``view="central"``) or an ego
    frame (``view="ego"``): the frame index (:func:`.index_content.encode_frame_index`), or
    with ``content="speech"`` the speaker's mouth (:func:`.mouths.crop_renderer`)."""
    if _is_speech(session):
        return speech.crop_renderer(session, speaker_name, size, view)
    return frame_index_renderer(size)
