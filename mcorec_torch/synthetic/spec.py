"""Plans of synthetic sessions: plain dataclasses (:class:`SessionSpec` and friends) that say
what a session holds (frames, speakers, tracks, cues, phone recordings), the constants of
what is written (frame sizes, content modes, video encodings, audio formats), and the seed
words every random stream of a session derives from.

Tests build edge cases by hand with these classes; :func:`.plan.plan_session` draws a
realistic random plan.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import List, Optional, Tuple, Union

import numpy as np

from .. import timeline
from ..checks import check_choice
from ..corpus import layout as _layout
from ..timeline import MS_PER_FRAME, SAMPLES_PER_FRAME

__all__ = [
    "TrackSpec", "CueSpec", "EgoSpec", "SpeakerSpec", "SessionSpec",
    "CENTRAL_SIZE", "EGO_SIZE", "FACE_SIZE", "LIP_SIZE", "DEFAULT_NUM_FRAMES", "CONTENTS",
    "VIDEO_ENCODINGS", "OPEN_GOP_X264_PARAMS", "AUDIO_FORMATS", "STEREO_RATE", "ASD_STYLES",
]

# Frame sizes (height, width) of what is written.
CENTRAL_SIZE: Tuple[int, int] = (96, 160)
EGO_SIZE: Tuple[int, int] = (96, 128)
FACE_SIZE: Tuple[int, int] = _layout.FACE_SIZE
LIP_SIZE: Tuple[int, int] = _layout.LIP_SIZE

DEFAULT_NUM_FRAMES = 600  # 24 s

#: What the crops and audio show: ``"index"`` (frame indices and noise: alignment tests) or
#: ``"speech"`` (mouths and tones that follow the transcript: :mod:`.speech`).
CONTENTS: Tuple[str, ...] = ("index", "speech")

#: How a file's video is encoded: ``"default"`` (the session's libx264 options) or
#: ``"open_gop"``: open GOPs with a B-pyramid of 8 B-frames and keyframes every 50 frames
#: (:data:`OPEN_GOP_X264_PARAMS`, appended to the session's ``x264-params``, so it wins). The
#: B-frames presented just before each keyframe are decoded after it and reference the
#: previous GOP: a reader that seeks to that keyframe loses them.
VIDEO_ENCODINGS: Tuple[str, ...] = ("default", "open_gop")
OPEN_GOP_X264_PARAMS = "open-gop=1:b-pyramid=normal:bframes=8:keyint=50:min-keyint=50:scenecut=0"

#: How a file's audio is written: ``"mono16k"`` (AAC, 16 kHz, mono) or ``"stereo48k"`` (AAC,
#: 48 kHz, stereo, as phones and cameras record): the left channel is the signal plus an
#: independent noise, the right the signal minus it, so the *mean* of the channels is the
#: signal at its own level (SPEC §2); one channel alone, or a 1/sqrt(2) downmix, is not.
AUDIO_FORMATS: Tuple[str, ...] = ("mono16k", "stereo48k")
STEREO_RATE = 48000


#: What the ASD score files hold (:mod:`.asd`): ``"clean"`` (scores well away from the
#: thresholds, active exactly where the cues are) or ``"noisy"`` (a real detector's shifted
#: onsets and offsets, dropouts, false activations and scores near the thresholds).
ASD_STYLES: Tuple[str, ...] = ("clean", "noisy")


def check_asd_style(asd: str) -> str:
    """``asd`` when it is one of :data:`ASD_STYLES`; :class:`~mcorec_torch.checks.OptionError` otherwise."""
    return check_choice("asd", asd, ASD_STYLES)


def check_content(content: str) -> str:
    """``content`` when it is one of :data:`CONTENTS`; :class:`~mcorec_torch.checks.OptionError` otherwise."""
    return check_choice("content", content, CONTENTS)


def _seed_words(*parts: Union[int, str]) -> Tuple[int, ...]:
    """Entropy words of one named random stream of a session: a string gives its CRC-32, an int
    its low and high 32 bits (for ``np.random.SeedSequence``)."""
    words = []
    for part in parts:
        if isinstance(part, str):
            words.append(zlib.crc32(part.encode("utf-8")))
        else:
            words.append(int(part) & 0xFFFFFFFF)
            words.append((int(part) >> 32) & 0xFFFFFFFF)
    return tuple(words)


# ---------------------------------------------------------------------------------------
# Plans
# ---------------------------------------------------------------------------------------

@dataclass
class TrackSpec:
    """One face track. ``frame_start``: first frame (central frames for central crops, ego
    frames for ego crops); the container holds exactly ``num_frames`` frames, frame ``j``
    showing index ``frame_start + j``. ``frame_end_written`` overrides the ``frame_end``
    written to the track json (default: :attr:`written_frame_end`). ``encoding``
    (:data:`VIDEO_ENCODINGS`) and ``audio_format`` (:data:`AUDIO_FORMATS`) say how its
    face and lip files are written."""

    index: int
    frame_start: int
    num_frames: int
    frame_end_written: Optional[int] = None
    encoding: str = "default"      # one of VIDEO_ENCODINGS
    audio_format: str = "mono16k"  # one of AUDIO_FORMATS

    def __post_init__(self) -> None:
        check_choice("encoding", self.encoding, VIDEO_ENCODINGS)
        check_choice("audio_format", self.audio_format, AUDIO_FORMATS)

    @property
    def frame_stop(self) -> int:
        """One past the last frame: ``frame_start + num_frames``."""
        return self.frame_start + self.num_frames

    @property
    def written_frame_end(self) -> int:
        """``frame_end`` as written to the json: the override if set, else inclusive
        (``frame_stop - 1``) for even track indices and exclusive (``frame_stop``) for odd."""
        if self.frame_end_written is not None:
            return int(self.frame_end_written)
        return self.frame_stop - 1 if self.index % 2 == 0 else self.frame_stop

    @property
    def name(self) -> str:
        return f"track_{self.index:02d}"


@dataclass
class CueSpec:
    """One VTT cue, central timeline, integer milliseconds."""

    start_ms: int
    end_ms: int
    text: str


@dataclass
class EgoSpec:
    """A speaker's phone recording (train split), on the ego timeline.

    ``uem_start`` / ``uem_end``: ego UEM in seconds (ms resolution); the ego video holds
    ``num_frames`` frames; ``tracks`` are ego-frame tracks of ``ego_crops``;
    ``audio_format``: how the ego video's audio is written (:data:`AUDIO_FORMATS`)."""

    uem_start: float
    uem_end: float
    num_frames: int
    tracks: List[TrackSpec] = field(default_factory=list)
    audio_format: str = "mono16k"  # of ego_video.mp4 (the lapel mic): one of AUDIO_FORMATS

    def __post_init__(self) -> None:
        check_choice("audio_format", self.audio_format, AUDIO_FORMATS)


@dataclass
class SpeakerSpec:
    """One target speaker: central UEM (seconds, ms resolution), central-frame tracks,
    transcript cues, conversation id and optionally the ego recording."""

    name: str
    conversation: int
    uem_start: float
    uem_end: float
    tracks: List[TrackSpec]
    cues: List[CueSpec]
    ego: Optional[EgoSpec] = None

    @property
    def uem_start_ms(self) -> int:
        return timeline.seconds_to_ms(self.uem_start)

    @property
    def uem_end_ms(self) -> int:
        return timeline.seconds_to_ms(self.uem_end)

    @property
    def ego_sample_offset(self) -> int:
        """``D``: ego audio sample ``k`` is central sample ``k + D`` (SPEC §2, §4)."""
        if self.ego is None:
            raise ValueError(f"{self.name} has no ego recording")
        return timeline.ego_sample_offset(self.uem_start, self.ego.uem_start)

    def covered_frames(self) -> np.ndarray:
        """Sorted central frames covered by the speaker's tracks."""
        if not self.tracks:
            return np.zeros(0, dtype=np.int64)
        return np.unique(np.concatenate(
            [np.arange(t.frame_start, t.frame_stop, dtype=np.int64) for t in self.tracks]))


@dataclass
class SessionSpec:
    """A whole session: ``num_frames`` central frames (the central video's length), the
    speakers, and the ``seed`` every signal of the session derives from. ``content``:
    ``"index"`` (frame indices, noise audio) or ``"speech"`` (see :mod:`.speech`); ``asd``:
    the style of the ASD scores, ``"clean"`` or ``"noisy"`` (see :mod:`.asd`)."""

    name: str
    num_frames: int
    speakers: List[SpeakerSpec]
    seed: int
    content: str = "index"
    asd: str = "clean"

    def __post_init__(self) -> None:
        check_content(self.content)
        check_asd_style(self.asd)

    @property
    def num_samples(self) -> int:
        """Central-timeline audio length: ``num_frames * 640``."""
        return self.num_frames * SAMPLES_PER_FRAME

    @property
    def duration_ms(self) -> int:
        return self.num_frames * MS_PER_FRAME

    def speaker(self, name: str) -> SpeakerSpec:
        for spk in self.speakers:
            if spk.name == name:
                return spk
        raise KeyError(f"{self.name} has no speaker {name!r}")
