"""Synthetic MCoRec sessions in the exact on-disk layout of the real data (SPEC §1).

The real MCoRec data is gated, so the tests and ``mcorec-torch demo`` run on sessions
written by this module. They are built to *prove alignment* (SPEC §2):

* every video frame carries its frame index in its pixels (:func:`encode_frame_index` /
  :func:`decode_frame_index`): central video, face crops and lip crops show the
  **central** frame index, the ego video and ego crops the **ego** frame index;
* every audio track is a slice of a known, deterministic band-limited noise
  (:func:`central_audio` for the central microphone, :func:`lapel_audio` for a speaker's
  close-talk microphone), so cross-correlation against the reference has one sharp peak.

That is ``content="index"``, the default. ``content="speech"`` (:mod:`.synthetic_speech`)
keeps the same plans and timings but makes the crops and the audio *learnable*: cue texts fit
their durations, every crop frame shows a mouth whose shape encodes the character spoken
at that frame, and the microphones carry two-tone "phonemes" per character (the central
and ego videos keep their frame-index pixels).

Files are written the way real ones are: H.264 (libx264 through PyAV, yuv420p, x264
defaults: keyint 250, bframes 3, crf 23) with AAC audio (FFmpeg's native ``aac`` encoder,
16 kHz mono) in mp4. Planned sessions also hold one open-GOP track (``encoding="open_gop"``)
and 48 kHz stereo audio with different channels (``audio_format="stereo48k"``), and
:func:`cut_by_stream_copy` makes an edit-list file as ``ffmpeg -ss T -c copy`` does.
Everything is deterministic from a seed.

Plans are plain dataclasses (:class:`SessionSpec` and friends) so tests can build edge
cases by hand; :func:`plan_session` draws a realistic random plan, :func:`write_session`
writes one session folder, :func:`make_split` writes a whole split directory.

What a reader of these files sees (PyAV 18.1 / FFmpeg 8.1, measured):

* video: first frame pts 0 (the mp4 edit list hides the B-frame composition delay; with
  ``ignore_editlist`` the first pts is 2 frames late), ``stream.frames`` equals the frame
  count, keyframes every 250 frames (a fixed texture keeps x264's scene-cut detection from
  firing), about a third to a half of the frames are B-frames;
* audio: decoded at lag 0 against the reference (the 1024-sample encoder priming is
  trimmed through the edit list); the decoder returns the written length rounded up to a
  multiple of 1024 (end padding is not trimmed); ``stream.duration`` (time base 1/16000)
  is the written length exactly; ``stream.frames`` counts one extra (priming) packet.
What goes into the encoders (frames, audio, options) and every JSON/VTT file is identical
across runs. The H.264 bytes of ``content="index"`` files are not guaranteed to be: x264's
multi-threaded encoding was measured to differ between runs in some crop files (decoded
pixels within 2 gray levels; the frame-index code tolerates that). ``content="speech"``
encodes single-threaded and its files were byte-identical in two runs.
"""
from __future__ import annotations

import fractions
import functools
import json
import math
import os
import types
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import timeline
from .timeline import FPS, MS_PER_FRAME, SAMPLE_RATE, SAMPLES_PER_FRAME

__all__ = [
    "TrackSpec", "CueSpec", "EgoSpec", "SpeakerSpec", "SessionSpec",
    "plan_session", "write_session", "make_split", "write_vtt",
    "encode_frame_index", "decode_frame_index", "FRAME_INDEX_MAX",
    "central_audio", "lapel_audio", "ego_audio",
    "CENTRAL_SIZE", "EGO_SIZE", "FACE_SIZE", "LIP_SIZE", "CONTENTS", "SPEECH_VIDEO_OPTIONS",
    "VIDEO_ENCODINGS", "OPEN_GOP_X264_PARAMS", "AUDIO_FORMATS", "STEREO_RATE", "stereo_channels",
    "cut_by_stream_copy",
]

PathLike = Union[str, "os.PathLike[str]"]

# Frame sizes (height, width) of what is written.
CENTRAL_SIZE: Tuple[int, int] = (96, 160)
EGO_SIZE: Tuple[int, int] = (96, 128)
FACE_SIZE: Tuple[int, int] = (224, 224)
LIP_SIZE: Tuple[int, int] = (96, 96)

DEFAULT_NUM_FRAMES = 600  # 24 s

#: What the crops and audio show: ``"index"`` (frame indices and noise: alignment tests) or
#: ``"speech"`` (mouths and tones that follow the transcript: :mod:`.synthetic_speech`).
CONTENTS: Tuple[str, ...] = ("index", "speech")

#: libx264 options of ``content="speech"`` sessions when none are given: x264's ultrafast
#: preset with CABAC and 3 B-frames back (keyint 250 and crf 23 as by default), one thread
#: per file (files are written in parallel): about 4x faster than the defaults on noisy crops.
SPEECH_VIDEO_OPTIONS: Mapping[str, str] = types.MappingProxyType(
    {"preset": "ultrafast", "x264-params": "bframes=3:cabac=1", "threads": "1"})


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


def _check_choice(name: str, value: str, allowed: Tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return value


def _check_content(content: str) -> str:
    if content not in CONTENTS:
        raise ValueError(f"content must be one of {CONTENTS}, got {content!r}")
    return content


# ---------------------------------------------------------------------------------------
# Frame index <-> pixels
# ---------------------------------------------------------------------------------------

_INDEX_BITS = 14
FRAME_INDEX_MAX: int = (1 << _INDEX_BITS) - 1  # 16383 frames = 655 s at 25 fps
_BLACK = 16   # full-range gray level of a 0 bit  (luma Y = 30)
_WHITE = 240  # full-range gray level of a 1 bit  (luma Y = 222)
_TEXTURE = 12  # amplitude of the fixed checkerboard overlay
_AMBIGUOUS = (96.0, 160.0)  # a block mean strictly inside this range is not a clean bit


def _parity(value: int) -> int:
    return bin(value).count("1") & 1


def _code_word(index: int) -> int:
    """16-bit code: Gray-coded index in bits 0..13, two inverted parity bits in 14, 15.

    Gray coding makes consecutive frames differ in one block (an off-by-one frame decodes to
    a different index, never to garbage); the inverted parity bits make an all-black
    (padding) or all-white image, and any single wrong block, fail the check.
    """
    gray = index ^ (index >> 1)
    p_even = 1 ^ _parity(gray & 0x1555)
    p_odd = 1 ^ _parity(gray & 0x2AAA)
    return gray | (p_even << 14) | (p_odd << 15)


def _index_from_gray(gray: int) -> int:
    index = 0
    while gray:
        index ^= gray
        gray >>= 1
    return index


@functools.lru_cache(maxsize=16)
def _texture(height: int, width: int) -> np.ndarray:
    """A fixed +-12 checkerboard of 2x2 cells: static detail that makes intra coding
    expensive and inter prediction cheap, as in real video, so that x264's scene-cut
    detection does not fire on every block flip (keyframes then follow keyint, 250)."""
    yy, xx = np.mgrid[:height, :width]
    texture = np.where(((yy // 2) + (xx // 2)) % 2 == 0, _TEXTURE, -_TEXTURE).astype(np.int16)
    texture.setflags(write=False)
    return texture


def encode_frame_index(index: int, height: int, width: int) -> np.ndarray:
    """A gray ``uint8 [height, width]`` image that shows ``index`` (0..FRAME_INDEX_MAX).

    A 4x4 grid of blocks (``height // 4`` x ``width // 4`` each; 24x24 at 96x96), one bit
    each, row-major from the top left: black (gray 16) or white (gray 240), overlaid with a
    fixed +-12 checkerboard texture of 2x2-pixel cells. Rows/columns left over when the size
    is not a multiple of 4 are black. The bits are a 14-bit Gray code of ``index`` plus two
    inverted parity bits. Values are full-range gray, i.e. what a decoder returns as gray or
    as R = G = B; written to yuv420p as luma ``16 + gray * 219 / 255`` (19..40 and 212..232).
    """
    index = int(index)
    if not 0 <= index <= FRAME_INDEX_MAX:
        raise ValueError(f"frame index {index} outside 0..{FRAME_INDEX_MAX}")
    if height < 8 or width < 8:
        raise ValueError(f"image {height}x{width} too small for a frame-index code (min 8x8)")
    word = _code_word(index)
    bits = np.array([(word >> b) & 1 for b in range(16)], dtype=np.int16).reshape(4, 4)
    levels = np.where(bits == 1, _WHITE, _BLACK).astype(np.int16)
    bh, bw = height // 4, width // 4
    image = np.full((height, width), _BLACK, dtype=np.int16)
    image[: 4 * bh, : 4 * bw] = np.repeat(np.repeat(levels, bh, axis=0), bw, axis=1)
    image += _texture(height, width)
    return np.clip(image, 0, 255).astype(np.uint8)


def _as_hwc(image: Any) -> np.ndarray:
    """A view of ``image`` as ``[H, W, C]`` (C in 1, 3), numpy."""
    if hasattr(image, "detach") and hasattr(image, "cpu"):  # torch tensor
        image = image.detach().cpu().numpy()
    array = np.asarray(image)
    if array.ndim == 2:
        return array[:, :, None]
    if array.ndim == 3:
        if array.shape[0] in (1, 3) and array.shape[-1] not in (1, 3):
            return np.moveaxis(array, 0, -1)
        if array.shape[-1] in (1, 3):
            return array
        if array.shape[0] in (1, 3):
            return np.moveaxis(array, 0, -1)
    raise ValueError(f"expected an image shaped [H,W], [C,H,W] or [H,W,C] with C in (1, 3), "
                     f"got shape {tuple(array.shape)}")


def decode_frame_index(image: Any, *, strict: bool = True) -> int:
    """The frame index shown by ``image`` (see :func:`encode_frame_index`).

    ``image``: numpy array or torch tensor, ``[H,W]``, ``[1,H,W]``, ``[3,H,W]`` (CHW),
    ``[H,W,1]`` or ``[H,W,3]`` (HWC), gray or RGB (channels are averaged), full-range values
    (0..255). Each block is read as the mean of its central half, thresholded at 128.

    With ``strict`` (default) a :class:`ValueError` is raised when the image is not a clean
    code: a block mean between 96 and 160, or a failed parity check (e.g. a zero padding
    frame). ``strict=False`` returns the decoded index regardless.
    """
    hwc = _as_hwc(image)
    height, width = hwc.shape[:2]
    if height < 8 or width < 8:
        raise ValueError(f"image {height}x{width} too small for a frame-index code")
    bh, bw = height // 4, width // 4
    hh, hw = max(bh // 2, 1), max(bw // 2, 1)
    rows = (np.arange(4)[:, None] * bh + bh // 4 + np.arange(hh)[None, :]).reshape(-1)
    cols = (np.arange(4)[:, None] * bw + bw // 4 + np.arange(hw)[None, :]).reshape(-1)
    sub = hwc[np.ix_(rows, cols)].astype(np.float64)  # [4*hh, 4*hw, C]
    means = sub.reshape(4, hh, 4, hw, -1).mean(axis=(1, 3, 4)).reshape(-1)
    if strict:
        unclear = np.flatnonzero((means > _AMBIGUOUS[0]) & (means < _AMBIGUOUS[1]))
        if unclear.size:
            b = int(unclear[0])
            raise ValueError(f"not a frame-index image: block {b} has mean {means[b]:.1f}")
    word = int(np.dot((means >= 128.0).astype(np.int64), 1 << np.arange(16, dtype=np.int64)))
    gray_code = word & FRAME_INDEX_MAX
    if strict and word != _code_word(_index_from_gray(gray_code)):
        raise ValueError(f"not a frame-index image: parity check failed (code {word:#06x})")
    return _index_from_gray(gray_code)


def _gray_to_luma_lut() -> np.ndarray:
    values = np.arange(256, dtype=np.float64)
    return np.clip(np.floor(16.0 + values * 219.0 / 255.0 + 0.5), 16, 235).astype(np.uint8)


_GRAY_TO_LUMA = _gray_to_luma_lut()


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
        _check_choice("encoding", self.encoding, VIDEO_ENCODINGS)
        _check_choice("audio_format", self.audio_format, AUDIO_FORMATS)

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
        _check_choice("audio_format", self.audio_format, AUDIO_FORMATS)


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
    ``"index"`` (frame indices, noise audio) or ``"speech"`` (see :mod:`.synthetic_speech`)."""

    name: str
    num_frames: int
    speakers: List[SpeakerSpec]
    seed: int
    content: str = "index"

    def __post_init__(self) -> None:
        _check_content(self.content)

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


# ---------------------------------------------------------------------------------------
# Audio
# ---------------------------------------------------------------------------------------

_FIR_TAPS = 129
_NOISE_STD = 0.07  # peak stays well under 0.5 for any session length used here


def _lowpass_fir(cutoff_hz: float = 4000.0, taps: int = _FIR_TAPS, rate: int = SAMPLE_RATE) -> np.ndarray:
    n = np.arange(taps) - (taps - 1) / 2.0
    h = 2.0 * cutoff_hz / rate * np.sinc(2.0 * cutoff_hz / rate * n)
    h *= np.hamming(taps)
    return h / h.sum()


def _seed_words(*parts: Union[int, str]) -> Tuple[int, ...]:
    words = []
    for part in parts:
        if isinstance(part, str):
            words.append(zlib.crc32(part.encode("utf-8")))
        else:
            words.append(int(part) & 0xFFFFFFFF)
            words.append((int(part) >> 32) & 0xFFFFFFFF)
    return tuple(words)


@functools.lru_cache(maxsize=16)
def _noise(seed_words: Tuple[int, ...], length: int) -> np.ndarray:
    """Band-limited (~4 kHz) noise, float32, read-only; deterministic from the seed."""
    rng = np.random.default_rng(np.random.SeedSequence(list(seed_words)))
    white = rng.standard_normal(length + _FIR_TAPS - 1)
    h = _lowpass_fir()
    signal = np.convolve(white, h, mode="valid")
    signal *= _NOISE_STD / math.sqrt(float(np.sum(h * h)))
    signal = np.clip(signal, -0.95, 0.95).astype(np.float32)
    signal.setflags(write=False)
    return signal


def _slice_signal(signal: np.ndarray, start: int, stop: int) -> np.ndarray:
    start, stop = int(start), int(stop)
    if stop < start:
        raise ValueError(f"stop {stop} < start {start}")
    out = np.zeros(stop - start, dtype=np.float32)
    lo, hi = max(start, 0), min(stop, len(signal))
    if hi > lo:
        out[lo - start: hi - start] = signal[lo:hi]
    return out


def central_audio(session: SessionSpec, start: int, stop: int) -> np.ndarray:
    """The central microphone on central-timeline samples ``[start, stop)`` (float32).

    Zeros outside ``[0, session.num_samples)``. This is the audio of ``central_video.mp4``
    and of every central crop (``track_XX.mp4``, ``track_XX_lip.av.mp4``). With
    ``content="speech"``: every speaker's lapel signal summed, plus low noise."""
    if _check_content(session.content) == "speech":
        from . import synthetic_speech

        return _slice_signal(synthetic_speech.central_signal(session), start, stop)
    return _slice_signal(_noise(_seed_words(session.seed, "central"), session.num_samples),
                         start, stop)


def lapel_audio(session: SessionSpec, speaker_name: str, start: int, stop: int) -> np.ndarray:
    """Speaker ``speaker_name``'s lapel (close-talk) microphone on **central**-timeline
    samples ``[start, stop)`` (float32), zeros outside ``[0, session.num_samples)``.

    ``ego_video.mp4``'s audio sample ``k`` is ``lapel_audio`` at central sample ``k + D``,
    ``D = speaker.ego_sample_offset``. It is defined over the whole session, but the phone
    only recorded part of it: see :func:`ego_audio` for what a reader of the ego file gets.
    """
    session.speaker(speaker_name)  # KeyError for an unknown speaker
    if _check_content(session.content) == "speech":
        from . import synthetic_speech

        return _slice_signal(synthetic_speech.lapel_signal(session, speaker_name), start, stop)
    return _slice_signal(
        _noise(_seed_words(session.seed, "lapel", speaker_name), session.num_samples), start, stop)


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


# ---------------------------------------------------------------------------------------
# Planning
# ---------------------------------------------------------------------------------------

_WORDS = (
    "so I think we should go there tomorrow the weather is nice and my sister said "
    "that the new place downtown has really good coffee but it gets busy on weekends "
    "did you see the game last night they played well in the second half what about "
    "your trip to the mountains we stayed three days and hiked every morning".split()
)
_SPECIAL_WORDS = ["don't", "I'm", "it’s", "we’re", "can't", "“really”", "2", "15",
                  "1990", "3.5", "o'clock", "Oh,", "okay.", "right?", "Dr.", "DC"]
_VOCAL_EVENTS = ["um", "uh", "haha", "wow", "hmm", "yeah"]


def _cue_text(rng: np.random.Generator, duration_ms: int) -> str:
    if duration_ms < 400:  # tiny edge-case cues keep a plain word, so they survive normalizing
        word = str(rng.choice(_WORDS))
        return word[:1].upper() + word[1:]
    if rng.random() < 0.08:  # a cue that is only a vocal event
        return str(rng.choice(_VOCAL_EVENTS))
    count = max(1, min(14, int(round(duration_ms / 1000.0 * 2.5))))
    words = []
    for _ in range(count):
        draw = rng.random()
        if draw < 0.12:
            words.append(str(rng.choice(_VOCAL_EVENTS)))
        elif draw < 0.27:
            words.append(str(rng.choice(_SPECIAL_WORDS)))
        else:
            words.append(str(rng.choice(_WORDS)))
    words[0] = words[0][:1].upper() + words[0][1:]
    if len(words) >= 4 and rng.random() < 0.3:  # a two-line cue
        cut = int(rng.integers(1, len(words)))
        return " ".join(words[:cut]) + "\n" + " ".join(words[cut:])
    return " ".join(words)


class _CuePlanner:
    """Places non-overlapping cues (at least ``margin`` ms apart) on one speaker."""

    def __init__(self, duration_ms: int, margin: int = 60) -> None:
        self.duration_ms = duration_ms
        self.margin = margin
        self.intervals: List[Tuple[int, int]] = []

    def free(self, start: int, end: int) -> bool:
        if start < 0 or end > self.duration_ms or end <= start:
            return False
        return all(end + self.margin <= s or start >= e + self.margin for s, e in self.intervals)

    def add(self, start: int, end: int) -> bool:
        if not self.free(start, end):
            return False
        self.intervals.append((start, end))
        return True

    def next_start_after(self, t: int) -> Optional[int]:
        starts = [s for s, _ in self.intervals if s >= t]
        return min(starts) if starts else None

    def end_of_covering(self, t: int) -> Optional[int]:
        for s, e in self.intervals:
            if s - self.margin <= t <= e + self.margin:
                return e
        return None


def _plan_tracks(rng: np.random.Generator, n: int, speaker_index: int
                 ) -> Tuple[List[TrackSpec], List[Tuple[int, int]], List[int]]:
    """Tracks of one speaker over ``n`` central frames; returns (tracks, gaps, contiguous
    boundaries) with gaps as ``(first missing frame, first frame of the next track)``."""
    cov_start = int(rng.integers(0, 25))
    cov_end = n - int(rng.integers(0, 20))
    if speaker_index == 0:
        kinds = ["gap", "contiguous"]
    elif rng.random() < 0.5:
        kinds = ["gap", str(rng.choice(["gap", "contiguous"]))]
    else:
        kinds = ["gap"]
    if len(kinds) == 2:
        bounds = [int(round(n * 0.35)) + int(rng.integers(-15, 16)),
                  int(round(n * 0.68)) + int(rng.integers(-15, 16))]
    else:
        bounds = [int(round(n * 0.5)) + int(rng.integers(-20, 21))]
    tracks, gaps, contiguous = [], [], []
    start = cov_start
    for bound, kind in zip(bounds, kinds):
        tracks.append(TrackSpec(index=len(tracks), frame_start=start, num_frames=bound - start))
        if kind == "gap":
            gap = int(rng.integers(20, 38))
            gaps.append((bound, bound + gap))
            start = bound + gap
        else:
            contiguous.append(bound)
            start = bound
    tracks.append(TrackSpec(index=len(tracks), frame_start=start, num_frames=cov_end - start))
    return tracks, gaps, contiguous


def _plan_cues(rng: np.random.Generator, n: int, speaker_index: int, uem_start_ms: int,
               uem_end_ms: int, tracks: List[TrackSpec], gaps: List[Tuple[int, int]],
               contiguous: List[int]) -> List[CueSpec]:
    duration_ms = n * MS_PER_FRAME
    planner = _CuePlanner(duration_ms)
    r = lambda lo, hi: int(rng.integers(lo, hi + 1))  # noqa: E731  inclusive ints

    def try_add(make, attempts: int = 30) -> None:
        for _ in range(attempts):
            start, end = make()
            if planner.add(start, end):
                return

    # Crossing the UEM start (dropped by the UEM rule).
    try_add(lambda: (uem_start_ms - r(300, 900), uem_start_ms + r(400, 1500)))
    # Ending exactly at the UEM end (kept: boundary equality) or crossing it (dropped).
    if speaker_index % 2 == 0:
        try_add(lambda: (uem_end_ms - r(800, 2500), uem_end_ms))
    else:
        try_add(lambda: (uem_end_ms - r(500, 1500), min(uem_end_ms + r(200, 800), duration_ms)))
    # Around track gaps: one wholly inside the first gap (odd speakers), others crossing.
    for g, (g0, g1) in enumerate(gaps):
        gap_ms = (g1 - g0) * MS_PER_FRAME
        if g == 0 and speaker_index % 2 == 1:
            def inside(g0=g0, gap_ms=gap_ms):
                start = g0 * MS_PER_FRAME + r(30, 150)
                return start, start + r(400, max(400, g0 * MS_PER_FRAME + gap_ms - 30 - start))
            try_add(inside)
        else:
            try_add(lambda g0=g0, g1=g1: (g0 * MS_PER_FRAME - r(700, 1800),
                                          g1 * MS_PER_FRAME + r(700, 1800)))
    # Across a boundary of two contiguous tracks (frames come from two tracks).
    for b in contiguous:
        try_add(lambda b=b: (b * MS_PER_FRAME - r(300, 1500), b * MS_PER_FRAME + r(300, 1500)))
    # Tiny cues inside the UEM, on covered frames.
    covered = set()
    for t in tracks:
        covered.update(range(t.frame_start, t.frame_stop))
    lo_f = uem_start_ms // MS_PER_FRAME + 2
    hi_f = uem_end_ms // MS_PER_FRAME - 3
    candidates = [f for f in range(lo_f, hi_f) if f in covered and f + 1 in covered]
    if candidates and speaker_index == 0:  # a one-frame cue: 20 ms inside one frame
        def one_frame():
            f = candidates[r(0, len(candidates) - 1)]
            start = f * MS_PER_FRAME + r(0, 15)
            return start, start + 20
        try_add(one_frame, attempts=200)
    if candidates and speaker_index == 2:  # a 2 ms cue straddling a frame boundary
        def straddle():
            f = candidates[r(0, len(candidates) - 1)]
            return f * MS_PER_FRAME + 39, f * MS_PER_FRAME + 41
        try_add(straddle, attempts=200)

    # Fill the rest with ordinary cues, 0.4-4 s, mostly not frame aligned.
    t = r(100, 600)
    while True:
        start = t + r(80, 1200)
        if start % MS_PER_FRAME == 0:
            start += 7
        if start >= duration_ms - 600:
            break
        blocker = planner.end_of_covering(start)
        if blocker is not None:
            t = blocker + planner.margin
            continue
        end = start + r(400, 4000)
        if rng.random() < 0.15:  # some ends on a frame boundary
            end = -(-end // MS_PER_FRAME) * MS_PER_FRAME
        end = min(end, duration_ms - 100)
        nxt = planner.next_start_after(start)
        if nxt is not None and end + planner.margin > nxt:
            end = nxt - planner.margin - r(0, 200)
        if end - start < 400:
            if nxt is None:
                break
            t = planner.end_of_covering(nxt) + planner.margin
            continue
        planner.add(start, end)
        t = end

    cues = [CueSpec(start_ms=s, end_ms=e, text=_cue_text(rng, e - s))
            for s, e in sorted(planner.intervals)]
    return cues


def _plan_ego(rng: np.random.Generator, n: int, speaker_index: int, uem_start_ms: int,
              uem_end_ms: int) -> EgoSpec:
    if speaker_index == 0:
        offset_ms = 1316
    else:
        offset_ms = int(rng.integers(900, min(1600, uem_start_ms - 100) + 1))
    if offset_ms % MS_PER_FRAME == 0:
        offset_ms += 1  # D = 16 * offset_ms samples, never a multiple of 640
    duration_ms = n * MS_PER_FRAME
    if speaker_index % 2 == 0:  # recording ends after the central UEM, before the session end
        end_central_ms = duration_ms - int(rng.integers(300, 901))
    else:  # recording ends inside the central UEM: some ego requests fall outside it
        end_central_ms = uem_end_ms - int(rng.integers(300, 701))
    ego_frames = (end_central_ms - offset_ms) // MS_PER_FRAME
    ego_uem_start_ms = uem_start_ms - offset_ms
    ego_uem_end_ms = min(uem_end_ms - offset_ms, ego_frames * MS_PER_FRAME)
    s0 = int(rng.integers(0, 16))
    bound = ego_frames // 2 + int(rng.integers(-20, 21))
    gap = int(rng.integers(10, 31))
    stop = ego_frames - int(rng.integers(0, 16))
    tracks = [TrackSpec(index=0, frame_start=s0, num_frames=bound - s0),
              TrackSpec(index=1, frame_start=bound + gap, num_frames=stop - bound - gap)]
    return EgoSpec(uem_start=ego_uem_start_ms / 1000.0, uem_end=ego_uem_end_ms / 1000.0,
                   num_frames=ego_frames, tracks=tracks)


def plan_session(name: str, seed: int, *, num_frames: int = DEFAULT_NUM_FRAMES,
                 num_speakers: int = 4, num_conversations: int = 2,
                 ego: bool = False, content: str = "index") -> SessionSpec:
    """A realistic random plan for one session, deterministic from ``(name, seed)``.

    Every speaker gets a central UEM that does not cover the whole session (starts 1.7-3 s
    in, ends 1-2.5 s before the end), 2-3 face tracks separated by gaps of 20-37 frames
    (speaker 0: a gap, then two contiguous tracks), and cues of 0.4-4 s at millisecond
    resolution including: one crossing the UEM start; one ending exactly at the UEM end
    (even speakers) or crossing it (odd speakers); one wholly inside a track gap (odd
    speakers), ones crossing a gap, one across a contiguous track boundary; a one-frame
    20 ms cue (speaker 0) and a 2 ms cue straddling a frame boundary (speaker 2); some
    two-line cues, vocal events, contractions, curly quotes and numbers.

    ``ego=True`` adds a phone recording per speaker (train split): it starts
    ``uem_central.start - uem_ego.start`` seconds (1.316 s for speaker 0, never a whole
    number of frames) after the central one and stops before the session end (odd
    speakers: before their central UEM end, so some ego requests fall outside it).

    Files as real recordings have them: the last speaker's first track is open-GOP
    (``encoding="open_gop"``); speaker 0's first track, and with ``ego`` its phone video, have
    48 kHz stereo audio with different channels (``audio_format="stereo48k"``).

    ``content="speech"``: the same plan (timings, tracks, ego), with cue texts that fit
    their durations (:func:`.synthetic_speech.assign_speech_texts`).
    """
    _check_content(content)
    if num_frames < 375:
        raise ValueError(f"num_frames={num_frames}: synthetic sessions need >= 375 frames (15 s)")
    if not 1 <= num_speakers <= 8:
        raise ValueError("num_speakers must be 1..8")
    if not 1 <= num_conversations <= min(4, num_speakers):
        raise ValueError("num_conversations must be 1..min(4, num_speakers)")
    rng = np.random.default_rng(np.random.SeedSequence(list(_seed_words(seed, "plan", name))))
    duration_ms = num_frames * MS_PER_FRAME
    speakers = []
    for i in range(num_speakers):
        uem_start_ms = int(rng.integers(1700, 3001))
        uem_end_ms = duration_ms - int(rng.integers(1000, 2501))
        tracks, gaps, contiguous = _plan_tracks(rng, num_frames, i)
        cues = _plan_cues(rng, num_frames, i, uem_start_ms, uem_end_ms, tracks, gaps, contiguous)
        ego_spec = _plan_ego(rng, num_frames, i, uem_start_ms, uem_end_ms) if ego else None
        speakers.append(SpeakerSpec(
            name=f"spk_{i}", conversation=i * num_conversations // num_speakers,
            uem_start=uem_start_ms / 1000.0, uem_end=uem_end_ms / 1000.0,
            tracks=tracks, cues=cues, ego=ego_spec))
    # Real-world encodings (SPEC §2): one open-GOP track, one stereo 48 kHz track (the speaker's
    # own, so it is the one read for audio without central_video.mp4) and a stereo phone.
    speakers[-1].tracks[0].encoding = "open_gop"
    speakers[0].tracks[0].audio_format = "stereo48k"
    if speakers[0].ego is not None:
        speakers[0].ego.audio_format = "stereo48k"
    spec = SessionSpec(name=name, num_frames=num_frames, speakers=speakers, seed=int(seed))
    if content == "speech":
        from . import synthetic_speech

        spec.content = content
        synthetic_speech.assign_speech_texts(spec)
    return spec


# ---------------------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------------------

def _vtt_time(ms: int) -> str:
    ms = int(ms)
    hours, rest = divmod(ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def write_vtt(path: PathLike, cues: Iterable[CueSpec]) -> Path:
    """Write ``cues`` as WebVTT (``HH:MM:SS.mmm --> HH:MM:SS.mmm``, multi-line text kept)."""
    lines = ["WEBVTT", ""]
    for cue in cues:
        text = "\n".join(line for line in str(cue.text).split("\n") if line.strip())
        if "-->" in text:
            raise ValueError(f"cue text may not contain '-->': {cue.text!r}")
        lines += [f"{_vtt_time(cue.start_ms)} --> {_vtt_time(cue.end_ms)}", text, ""]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _write_json(path: Path, obj: Any, *, indent: Optional[int] = 2) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(obj, handle, indent=indent, ensure_ascii=False)
        handle.write("\n")


@dataclass
class _MediaJob:
    """One mp4 to write: frame ``j`` shows ``indices[j]`` (or ``render(indices[j])``), with
    ``audio`` (16 kHz mono float32, or None) written as ``audio_format``."""

    path: Path
    indices: Sequence[int]
    size: Tuple[int, int]
    audio: Optional[np.ndarray]
    render: Optional[Callable[[int], np.ndarray]] = None
    encoding: str = "default"
    audio_format: str = "mono16k"
    stereo_seed: Tuple[int, ...] = ()

    @property
    def cost(self) -> int:
        return len(self.indices) * self.size[0] * self.size[1]


def _upsample(signal: np.ndarray, factor: int) -> np.ndarray:
    """``signal`` (band-limited well below 8 kHz at 16 kHz) at ``factor`` times the rate:
    zero-stuffing and a linear-phase low-pass, so sample ``k`` lands on sample ``factor * k``."""
    stuffed = np.zeros(len(signal) * factor, dtype=np.float64)
    stuffed[::factor] = signal
    h = _lowpass_fir(SAMPLE_RATE / 2 * 0.9, _FIR_TAPS * factor, rate=SAMPLE_RATE * factor) * factor
    return np.convolve(stuffed, h, mode="same")


def stereo_channels(signal: np.ndarray, seed_words: Tuple[int, ...]) -> np.ndarray:
    """The ``"stereo48k"`` form of a 16 kHz ``signal``: float32 ``[2, 3 * len(signal)]`` at
    48 kHz, left ``x + d``, right ``x - d`` with ``d`` an independent band-limited noise
    (from ``seed_words``), so the mean of the channels is ``signal`` at its own level."""
    factor = STEREO_RATE // SAMPLE_RATE
    x = _upsample(np.asarray(signal, dtype=np.float64), factor)
    d = _upsample(_noise(seed_words, len(signal)).astype(np.float64), factor)
    return np.clip(np.stack([x + d, x - d]), -1.0, 1.0).astype(np.float32)


def _video_options(options: Optional[Mapping[str, str]], encoding: str) -> Dict[str, str]:
    """libx264 options of one file: the session's, with the ``encoding``'s x264-params last."""
    merged = {str(k): str(v) for k, v in dict(options or {}).items()}
    if _check_choice("encoding", encoding, VIDEO_ENCODINGS) == "open_gop":
        params = merged.get("x264-params")
        merged["x264-params"] = f"{params}:{OPEN_GOP_X264_PARAMS}" if params else OPEN_GOP_X264_PARAMS
    return merged


def _write_av(job: _MediaJob, video_options: Optional[Mapping[str, str]]) -> None:
    """An mp4 with an H.264 stream whose frame ``j`` shows ``job.indices[j]`` (gray in yuv420p,
    U = V = 128, constant 25 fps, pts = j) and an AAC stream of ``job.audio`` (16 kHz mono, or
    48 kHz stereo by :func:`stereo_channels`; pts in samples, 1024-sample frames), interleaved
    as a recorder would. ``job.render(index)`` gives a frame's full-range gray image instead
    of :func:`encode_frame_index`."""
    import av  # local: importing the package does not need PyAV

    height, width = job.size
    render = job.render
    job.path.parent.mkdir(parents=True, exist_ok=True)
    container = av.open(os.fspath(job.path), mode="w")
    try:
        vstream = container.add_stream("libx264", rate=FPS)
        vstream.width, vstream.height, vstream.pix_fmt = width, height, "yuv420p"
        vstream.options = _video_options(video_options, job.encoding)
        astream = None
        audio = job.audio
        rate, layout = SAMPLE_RATE, "mono"
        if audio is not None:
            if _check_choice("audio_format", job.audio_format, AUDIO_FORMATS) == "stereo48k":
                rate, layout = STEREO_RATE, "stereo"
                audio = stereo_channels(audio, job.stereo_seed)
            else:
                audio = np.asarray(audio, dtype=np.float32)[None, :]
            astream = container.add_stream("aac", rate=rate)
            astream.layout = layout
            astream.options = {"aac_coder": "fast"}  # FFmpeg's native encoder, 2x faster coder
        audio_pos = 0
        audio_tb = fractions.Fraction(1, rate)
        buffer = np.empty((height * 3 // 2, width), dtype=np.uint8)
        buffer[height:] = 128

        def push_audio(until_16k: int) -> None:
            nonlocal audio_pos
            until = until_16k * rate // SAMPLE_RATE
            while astream is not None and audio_pos < min(until, audio.shape[1]):
                chunk = np.ascontiguousarray(audio[:, audio_pos: audio_pos + 1024], dtype=np.float32)
                aframe = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
                aframe.sample_rate = rate
                aframe.time_base = audio_tb
                aframe.pts = audio_pos
                for packet in astream.encode(aframe):
                    container.mux(packet)
                audio_pos += chunk.shape[1]

        for j, index in enumerate(job.indices):
            gray = (encode_frame_index(int(index), height, width) if render is None
                    else render(int(index)))
            np.take(_GRAY_TO_LUMA, gray, out=buffer[:height])
            vframe = av.VideoFrame.from_ndarray(buffer, format="yuv420p")
            vframe.pts = j
            for packet in vstream.encode(vframe):
                container.mux(packet)
            push_audio((j + 1) * SAMPLES_PER_FRAME)
        for packet in vstream.encode():
            container.mux(packet)
        if astream is not None:
            push_audio(audio.shape[1] * SAMPLE_RATE // rate)
            for packet in astream.encode():
                container.mux(packet)
    finally:
        container.close()


def _run_jobs(jobs: Sequence[_MediaJob], video_options: Optional[Mapping[str, str]],
              workers: Optional[int]) -> None:
    if workers is None:
        workers = min(4, os.cpu_count() or 1)
    # Longest first, so the pool does not end on one long file.
    jobs = sorted(jobs, key=lambda job: -job.cost)
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            _write_av(job, video_options)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=int(workers)) as pool:
        futures = [pool.submit(_write_av, job, video_options) for job in jobs]
        for future in futures:
            future.result()


def cut_by_stream_copy(source: PathLike, target: PathLike, first_frame: int) -> int:
    """Write ``target`` as ``ffmpeg -ss T -i source -c copy target`` does (``T`` = ``first_frame``
    / 25 s): no re-encoding, so the packets from the keyframe at or before ``first_frame``
    are kept and an mp4 edit list hides the ones before it (their timestamps become
    negative). The header then counts more frames than are presented. Audio packets are
    cut the same way, keeping one 1024-sample packet of pre-roll. Returns how many video
    packets the edit list hides."""
    import av  # local: importing the package does not need PyAV

    with av.open(os.fspath(source)) as probe:
        video = probe.streams.video[0]
        cut_pts = int(fractions.Fraction(int(first_frame), FPS) / fractions.Fraction(video.time_base))
        key_pts = [p.pts for p in probe.demux(video) if p.size and p.is_keyframe and p.pts <= cut_pts]
    if not key_pts:
        raise ValueError(f"{source}: no keyframe at or before frame {first_frame}")
    keep_from = max(key_pts)
    hidden = 0
    with av.open(os.fspath(source)) as inp, av.open(os.fspath(target), mode="w") as out:
        copies = {s.index: out.add_stream_from_template(s) for s in inp.streams if s.type in ("video", "audio")}
        for packet in inp.demux(*[inp.streams[i] for i in copies]):
            if not packet.size or packet.pts is None:
                continue
            stream = packet.stream
            if stream.type == "video":
                if packet.pts < keep_from:
                    continue
                shift = cut_pts
                hidden += packet.pts < cut_pts
            else:
                shift = int(fractions.Fraction(int(first_frame), FPS) / fractions.Fraction(stream.time_base))
                if packet.pts + (packet.duration or 1024) <= shift - 1024:
                    continue
            packet.pts -= shift
            packet.dts -= shift
            packet.stream = copies[stream.index]
            out.mux(packet)
    return hidden


def _bbox(frame: int, slot: int, slots: int, size: Tuple[int, int]) -> Dict[str, int]:
    height, width = size
    cx = (slot + 0.5) * width / slots + 3.0 * math.sin(2 * math.pi * frame / 100.0 + slot)
    cy = height / 2.0 + 2.0 * math.cos(2 * math.pi * frame / 80.0 + slot)
    half_w = max(4.0, min(14.0, width / slots / 2.0 - 1.0))
    half_h = min(18.0, height / 2.0 - 3.0)
    x1 = int(max(0, math.floor(cx - half_w)))
    y1 = int(max(0, math.floor(cy - half_h)))
    x2 = int(min(width, math.ceil(cx + half_w)))
    y2 = int(min(height, math.ceil(cy + half_h)))
    return {"x1": x1, "y1": y1, "x2": x2, "y2": y2}


def _track_json(track: TrackSpec) -> Dict[str, Any]:
    frame_end = track.written_frame_end
    start_time = track.frame_start / FPS
    end_time = frame_end / FPS
    return {"frame_start": int(track.frame_start), "frame_end": int(frame_end),
            "start_time": start_time, "end_time": end_time, "duration": end_time - start_time}


def _asd_scores(session: SessionSpec, spk: SpeakerSpec, track: TrackSpec) -> Dict[str, float]:
    rng = np.random.default_rng(np.random.SeedSequence(
        list(_seed_words(session.seed, "asd", spk.name, track.index))))
    speaking = np.zeros(session.num_frames + 1, dtype=bool)
    for cue in spk.cues:
        f0, f1 = timeline.cue_frames(cue.start_ms, cue.end_ms)
        speaking[max(f0, 0): max(min(f1, session.num_frames), 0)] = True
    scores = {}
    for f in range(track.frame_start, track.frame_stop):
        base = 1.5 if (0 <= f < len(speaking) and speaking[f]) else -1.5
        scores[str(f)] = round(float(base + rng.normal(0.0, 0.5)), 4)
    return scores


def write_session(spec: SessionSpec, split_dir: PathLike, *, central_video: bool = True,
                  lip: bool = True, labels: bool = True, ego: Optional[bool] = None,
                  video_options: Optional[Mapping[str, str]] = None,
                  workers: Optional[int] = None) -> Path:
    """Write session ``spec`` as ``split_dir/spec.name/`` in the MCoRec layout; returns it.

    ``central_video``: write ``central_video.mp4`` (metadata lists it either way, as in the
    ``*_without_central_videos`` download). ``lip``: write ``track_XX_lip.av.mp4`` and
    ``track_XX_asd.json`` (and list them in metadata). ``labels``: write ``labels/``.
    ``ego``: write ``ego_video.mp4`` and ``ego_crops`` (default: iff the speakers have ego
    specs). ``video_options``: libx264 options (default ``{}``: x264 defaults, keyint 250,
    bframes 3, crf 23), e.g. ``{"g": "12", "bf": "0"}``; for ``content="speech"`` sessions
    :data:`SPEECH_VIDEO_OPTIONS`. ``workers``: media files written
    in parallel threads (PyAV releases the GIL while encoding; default ``min(4, cpu_count)``).

    ``spec.content="speech"``: the face, lip and ego crops show mouths and carry tones that
    follow the transcript (:mod:`.synthetic_speech`); the central and ego videos keep their
    frame-index pixels.
    """
    jobs: List[_MediaJob] = []
    speech = _check_content(spec.content) == "speech"
    if video_options is None and speech:
        video_options = SPEECH_VIDEO_OPTIONS

    def renderer(name: str, size: Tuple[int, int], view: str) -> Optional[Callable[[int], np.ndarray]]:
        if not speech:
            return None  # frame-index pixels
        from .synthetic_speech import crop_renderer

        return crop_renderer(spec, name, size, view)

    if ego is None:
        ego = any(spk.ego is not None for spk in spec.speakers)
    if ego:
        missing = [spk.name for spk in spec.speakers if spk.ego is None]
        if missing:
            raise ValueError(f"ego=True but speakers {missing} have no EgoSpec")
    session_dir = Path(split_dir) / spec.name
    session_dir.mkdir(parents=True, exist_ok=True)
    n_spk = len(spec.speakers)

    if central_video:
        jobs.append(_MediaJob(session_dir / "central_video.mp4", range(spec.num_frames), CENTRAL_SIZE,
                              central_audio(spec, 0, spec.num_samples)))

    metadata: Dict[str, Any] = {}
    for slot, spk in enumerate(spec.speakers):
        spk_rel = f"speakers/{spk.name}"
        crops = []
        for track in spk.tracks:
            if track.num_frames <= 0:
                raise ValueError(f"{spec.name}/{spk.name}/{track.name}: num_frames must be > 0")
            if track.frame_start < 0 or track.frame_stop > spec.num_frames:
                raise ValueError(f"{spec.name}/{spk.name}/{track.name}: frames "
                                 f"[{track.frame_start}, {track.frame_stop}) outside the "
                                 f"session's {spec.num_frames} frames")
            base = f"{spk_rel}/central_crops/{track.name}"
            frames = range(track.frame_start, track.frame_stop)
            audio = central_audio(spec, track.frame_start * SAMPLES_PER_FRAME,
                                  track.frame_stop * SAMPLES_PER_FRAME)
            formats = dict(encoding=track.encoding, audio_format=track.audio_format,
                           stereo_seed=_seed_words(spec.seed, "stereo", spk.name, "central", track.index))
            jobs.append(_MediaJob(session_dir / f"{base}.mp4", frames, FACE_SIZE, audio,
                                  renderer(spk.name, FACE_SIZE, "central"), **formats))
            _write_json(session_dir / f"{base}.json", _track_json(track))
            _write_json(session_dir / f"{base}_bbox.json",
                        {str(f): _bbox(f, slot, n_spk, CENTRAL_SIZE) for f in frames}, indent=None)
            entry = {"video": f"{base}.mp4", "crop_metadata": f"{base}.json",
                     "bbox": f"{base}_bbox.json"}
            if lip:
                jobs.append(_MediaJob(session_dir / f"{base}_lip.av.mp4", frames, LIP_SIZE, audio,
                                      renderer(spk.name, LIP_SIZE, "central"), **formats))
                _write_json(session_dir / f"{base}_asd.json", _asd_scores(spec, spk, track),
                            indent=None)
                entry["lip"] = f"{base}_lip.av.mp4"
                entry["asd"] = f"{base}_asd.json"
            crops.append(entry)
        entry_spk: Dict[str, Any] = {
            "camera": {"device": "synthetic-360", "slot": slot},  # an extra key, as real files have
            "central": {"video": "central_video.mp4",
                        "uem": {"start": spk.uem_start, "end": spk.uem_end},
                        "crops": crops},
        }
        if ego:
            egospec = spk.ego
            d = spk.ego_sample_offset
            ego_len = egospec.num_frames * SAMPLES_PER_FRAME
            jobs.append(_MediaJob(session_dir / f"{spk_rel}/ego_video.mp4", range(egospec.num_frames),
                                  EGO_SIZE, lapel_audio(spec, spk.name, d, d + ego_len),
                                  audio_format=egospec.audio_format,
                                  stereo_seed=_seed_words(spec.seed, "stereo", spk.name, "ego_video")))
            ego_crops = []
            for track in egospec.tracks:
                if (track.num_frames <= 0 or track.frame_start < 0
                        or track.frame_stop > egospec.num_frames):
                    raise ValueError(f"{spec.name}/{spk.name}/ego {track.name}: frames "
                                     f"[{track.frame_start}, {track.frame_stop}) outside the "
                                     f"ego video's {egospec.num_frames} frames")
                base = f"{spk_rel}/ego_crops/{track.name}"
                frames = range(track.frame_start, track.frame_stop)
                audio = lapel_audio(spec, spk.name, track.frame_start * SAMPLES_PER_FRAME + d,
                                    track.frame_stop * SAMPLES_PER_FRAME + d)
                jobs.append(_MediaJob(session_dir / f"{base}.mp4", frames, FACE_SIZE, audio,
                                      renderer(spk.name, FACE_SIZE, "ego"), encoding=track.encoding,
                                      audio_format=track.audio_format,
                                      stereo_seed=_seed_words(spec.seed, "stereo", spk.name, "ego", track.index)))
                _write_json(session_dir / f"{base}.json", _track_json(track))
                _write_json(session_dir / f"{base}_bbox.json",
                            {str(f): _bbox(f, 0, 1, EGO_SIZE) for f in frames}, indent=None)
                ego_crops.append({"video": f"{base}.mp4", "crop_metadata": f"{base}.json",
                                  "bbox": f"{base}_bbox.json"})
            entry_spk["ego"] = {"video": f"{spk_rel}/ego_video.mp4",
                                "uem": {"start": egospec.uem_start, "end": egospec.uem_end},
                                "crops": ego_crops}
        metadata[spk.name] = entry_spk
    _write_json(session_dir / "metadata.json", metadata)
    _run_jobs(jobs, video_options, workers)

    if labels:
        _write_json(session_dir / "labels" / "speaker_to_cluster.json",
                    {spk.name: int(spk.conversation) for spk in spec.speakers})
        for spk in spec.speakers:
            write_vtt(session_dir / "labels" / f"{spk.name}.vtt", spk.cues)
    return session_dir


def make_split(out_dir: PathLike, split: str = "dev", num_sessions: int = 2, seed: int = 0, *,
               central_video: bool = True, lip: bool = True, num_frames: Optional[int] = None,
               video_options: Optional[Mapping[str, str]] = None, num_speakers: int = 4,
               num_conversations: int = 2, workers: Optional[int] = None,
               content: str = "index") -> List[SessionSpec]:
    """Write ``out_dir`` as a synthetic split directory holding ``session_00``, ...

    ``split="train"`` adds ego videos and ego crops; ``split="eval"`` writes no labels.
    ``content``: ``"index"`` (alignment proofs) or ``"speech"`` (learnable: mouths and tones
    follow the transcript, :mod:`.synthetic_speech`); same plans and timings either way.
    Returns the session plans (in order) so callers can compute expectations.
    """
    _check_content(content)
    if split not in ("train", "dev", "eval"):
        raise ValueError(f"split must be 'train', 'dev' or 'eval', got {split!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    specs = []
    for i in range(int(num_sessions)):
        session_seed = int(np.random.SeedSequence([int(seed), i, zlib.crc32(split.encode())])
                           .generate_state(1)[0])
        spec = plan_session(f"session_{i:02d}", session_seed,
                            num_frames=int(num_frames or DEFAULT_NUM_FRAMES),
                            num_speakers=num_speakers, num_conversations=num_conversations,
                            ego=(split == "train"), content=content)
        write_session(spec, out, central_video=central_video, lip=lip,
                      labels=(split != "eval"), ego=(split == "train"),
                      video_options=video_options, workers=workers)
        specs.append(spec)
    return specs
