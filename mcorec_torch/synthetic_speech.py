"""Learnable content for synthetic sessions: ``content="speech"`` (see :mod:`.synthetic`).

In the default ``content="index"`` mode every synthetic crop frame shows its frame index
and every audio track is noise: ideal for proving alignment, useless for learning. In
``"speech"`` mode the pixels and the audio follow the transcript, character by character,
so a small AVSR model can learn to read them on a CPU in minutes:

* **Texts** (:func:`speech_cue_text`): words from a small list (all 26 letters occur, a few
  contractions, now and then a vocal event such as "um" that normalization removes, some
  punctuation and two-line cues), about one normalized character per 3-4 cue frames.
* **Articulation** (:func:`articulation`): for each speaker, one symbol per central frame.
  The characters of a cue's ``"train"``-normalized text (:data:`CHARSET`: ``A-Z``,
  apostrophe, space) are spread evenly over the cue's frames ``[F0, F1)``
  (:func:`character_spans`); the first frame of a character's span is :data:`NEUTRAL`
  (closed mouth) when the span has two frames or more, so doubled letters show twice;
  frames outside cues are neutral.
* **Pixels** (:func:`crop_renderer`): the face crops (224x224) and lip crops (96x96) of
  the central and ego cameras show a mid-gray textured face with a mouth whose shape
  encodes the symbol (:func:`mouth_shape`): the opening's height (4 levels) and width
  (4 levels) and its inner brightness (2 levels) - a dark ellipse inside a lip ring,
  mirror-symmetric (horizontal flips keep it valid), centred in the lip crop (it lies
  inside the central 80x80, so every 88x88 crop holds all of it), in the lower middle of
  the face crop; the neutral symbol is closed lips (no opening). Each frame gets +-2 px
  position jitter and small gaussian noise (deterministic). Ego crop frame ``e`` shows the
  wearer's mouth at central frame ``e - ego_start_frame(0, uem_central, uem_ego)``, the
  inverse of the dataset's ego frame mapping (SPEC §4). The central and ego *videos* keep
  the frame-index pixels of the index mode.
* **Audio** (:func:`lapel_signal`, :func:`central_signal`): a speaker's lapel microphone is,
  on each character span without its neutral first frame, a Hann-windowed sum of two tones
  chosen by the symbol (:func:`symbol_tones`: a DTMF-like 4 x 7 grid inside 300-3400 Hz,
  scaled by the speaker's pitch factor 0.95-1.05, :func:`speaker_pitch`), near silence
  elsewhere. The central microphone is the sum of all speakers' lapel signals (overlapping
  conversations, as in MCoRec) plus low noise, scaled down where needed to peak at 0.9.

Everything is deterministic from the session seed. This module is used through
:func:`.synthetic.plan_session` / :func:`.synthetic.make_split` with ``content="speech"``.
"""
from __future__ import annotations

import functools
import math
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np

from . import timeline
from .synthetic import (FACE_SIZE, LIP_SIZE, SessionSpec, SpeakerSpec, _WORDS, _seed_words)
from .text import normalize
from .timeline import SAMPLES_PER_FRAME

__all__ = [
    "CHARSET", "NEUTRAL", "LOW_TONES", "HIGH_TONES",
    "symbol_of", "mouth_shape", "symbol_tones", "speaker_pitch",
    "speech_cue_text", "assign_speech_texts", "normalized_text",
    "character_spans", "articulation", "central_frame_of_ego",
    "mouth_template", "crop_renderer", "lapel_signal", "central_signal",
]

#: The symbols a mouth can show, in id order: ``CHARSET[i]`` is symbol ``i``.
CHARSET: str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ' "
#: Symbol id of a closed mouth (no character): frames outside cues, and the first frame of
#: each character span of two frames or more.
NEUTRAL: int = -1

_SYMBOL = {c: i for i, c in enumerate(CHARSET)}


def symbol_of(char: str) -> int:
    """The symbol id of one :data:`CHARSET` character (``ValueError`` for any other)."""
    try:
        return _SYMBOL[char]
    except KeyError:
        raise ValueError(f"character {char!r} is not in the speech charset {CHARSET!r}") from None


# ---------------------------------------------------------------------------------------
# Texts
# ---------------------------------------------------------------------------------------

# _WORDS plus words that bring the letters it lacks (J, Q, X, Z) and some variety.
_SPEECH_WORDS: Tuple[str, ...] = tuple(_WORDS) + tuple(
    "just quiz jazz box six next zoo quick lazy fox jump join quite video zero yes".split())
_CONTRACTIONS: Tuple[str, ...] = ("don't", "I'm", "it\u2019s", "we\u2019re", "can't", "that's",
                                  "o'clock")
_SPEECH_VOCAL_EVENTS: Tuple[str, ...] = ("um", "uh", "hmm")
_FRAMES_PER_CHAR = (3.0, 4.0)
_TINY_FRAMES = 10  # cues shorter than this (< 400 ms) get one short word


def _word_pool(rng: np.random.Generator, room: int) -> List[str]:
    pool = [w for w in _SPEECH_WORDS if len(w) <= room]
    if rng.random() < 0.12:
        pool = [w for w in _CONTRACTIONS if len(w) <= room] or pool
    return pool


def speech_cue_text(rng: np.random.Generator, start_ms: int, end_ms: int) -> str:
    """A cue text for ``[start_ms, end_ms]`` whose ``"train"`` normalization has about one
    character per 3-4 of the cue's frames (:func:`.timeline.cue_frames`).

    Cues under 10 frames get one word of at most as many letters as frames. Now and then
    a vocal event ("um", removed by normalization), a comma or a final "." / "?", or a
    line break (a two-line cue); the first word is capitalized.
    """
    f0, f1 = timeline.cue_frames(start_ms, end_ms)
    frames = max(1, f1 - f0)
    if frames < _TINY_FRAMES:
        pool = [w for w in _SPEECH_WORDS if len(w) <= frames] or ["I"]
        word = str(rng.choice(pool))
        return word[:1].upper() + word[1:]
    target = max(1, int(round(frames / rng.uniform(*_FRAMES_PER_CHAR))))
    words: List[str] = []
    length = 0
    while True:
        room = target - length - (1 if words else 0)
        if room < 1 or (words and room < 2):
            break
        pool = _word_pool(rng, room)
        if not pool:
            break
        word = str(rng.choice(pool))
        words.append(word)
        length += len(word) + (1 if len(words) > 1 else 0)
    tokens = list(words)
    tokens[0] = tokens[0][:1].upper() + tokens[0][1:]
    if rng.random() < 0.15:
        at = int(rng.integers(0, len(tokens) + 1))
        event = str(rng.choice(_SPEECH_VOCAL_EVENTS))
        tokens.insert(at, (event[:1].upper() + event[1:] + ",") if at == 0 else event)
    if len(tokens) >= 3 and rng.random() < 0.2:
        at = int(rng.integers(0, len(tokens) - 1))
        tokens[at] += ","
    draw = rng.random()
    if draw < 0.2:
        tokens[-1] += "."
    elif draw < 0.3:
        tokens[-1] += "?"
    if len(tokens) >= 4 and rng.random() < 0.2:
        cut = int(rng.integers(1, len(tokens)))
        return " ".join(tokens[:cut]) + "\n" + " ".join(tokens[cut:])
    return " ".join(tokens)


def assign_speech_texts(session: SessionSpec) -> SessionSpec:
    """Replace every cue text of ``session`` by a :func:`speech_cue_text` (in place; returns
    ``session``). Timings are untouched; the texts come from their own random stream
    (seed, session and speaker name), so the plan's timings equal the index mode's."""
    for spk in session.speakers:
        rng = np.random.default_rng(np.random.SeedSequence(
            list(_seed_words(session.seed, "speech-text", session.name, spk.name))))
        for cue in spk.cues:
            cue.text = speech_cue_text(rng, cue.start_ms, cue.end_ms)
    return session


def normalized_text(text: str) -> str:
    """``text.normalize(text, "train")``, checked to use :data:`CHARSET` characters only."""
    norm = normalize(text, "train")
    bad = sorted(set(norm) - set(CHARSET))
    if bad:
        raise ValueError(f"cue text {text!r} normalizes to {norm!r}, which has characters "
                         f"{bad} outside the speech charset (A-Z, apostrophe, space)")
    return norm


# ---------------------------------------------------------------------------------------
# Articulation
# ---------------------------------------------------------------------------------------

def _cues_key(spk: SpeakerSpec) -> Tuple[Tuple[int, int, str], ...]:
    return tuple((int(c.start_ms), int(c.end_ms), str(c.text)) for c in spk.cues)


@functools.lru_cache(maxsize=256)
def _spans(cues: Tuple[Tuple[int, int, str], ...]) -> Tuple[Tuple[int, int, int], ...]:
    spans = []
    for start_ms, end_ms, text in cues:
        f0, f1 = timeline.cue_frames(start_ms, end_ms)
        chars = normalized_text(text)
        n, frames = len(chars), f1 - f0
        for i, char in enumerate(chars):
            a = f0 + (i * frames) // n
            b = f0 + ((i + 1) * frames) // n
            if b > a:
                spans.append((a, b, symbol_of(char)))
    return tuple(spans)


def character_spans(session: SessionSpec, speaker_name: str) -> List[Tuple[int, int, int]]:
    """``(first, stop, symbol)`` per character of the speaker's cues, in cue order:
    central frames ``[first, stop)``; the symbol shows on ``[first + 1, stop)`` when the
    span has two frames or more (``first`` is then :data:`NEUTRAL`), on ``first`` alone
    otherwise. Characters of a cue with more characters than frames may get no frame
    (and no span)."""
    return list(_spans(_cues_key(session.speaker(speaker_name))))


def _voiced(first: int, stop: int) -> int:
    """First frame of a span that shows (and sounds) its symbol."""
    return first + 1 if stop - first >= 2 else first


def articulation(session: SessionSpec, speaker_name: str) -> np.ndarray:
    """The symbol the speaker's mouth shows on every central frame: int64
    ``[session.num_frames]``, :data:`CHARSET` ids, :data:`NEUTRAL` (-1) for a closed mouth.
    What ``content="speech"`` renders; ``ValueError`` when a cue's normalized text has
    characters outside :data:`CHARSET` (e.g. the digits of index-mode texts)."""
    out = np.full(session.num_frames, NEUTRAL, dtype=np.int64)
    for first, stop, symbol in character_spans(session, speaker_name):
        lo, hi = max(_voiced(first, stop), 0), min(stop, session.num_frames)
        if hi > lo:
            out[lo:hi] = symbol
    return out


def central_frame_of_ego(speaker: SpeakerSpec, ego_frame: int) -> int:
    """The central frame ego frame ``ego_frame`` of ``speaker`` shows: the inverse of the
    dataset's ``E0 = round(F0 - 25 * (uem_central.start - uem_ego.start))`` (SPEC §4)."""
    if speaker.ego is None:
        raise ValueError(f"{speaker.name} has no ego recording")
    return int(ego_frame) - timeline.ego_start_frame(0, speaker.uem_start, speaker.ego.uem_start)


# ---------------------------------------------------------------------------------------
# Pixels
# ---------------------------------------------------------------------------------------

#: Opening semi-axes (lip-crop pixels) and inner gray level of the mouth, by level.
_OPEN_HALF_HEIGHT = (3.0, 6.0, 9.0, 12.0)
_OPEN_HALF_WIDTH = (12.0, 17.0, 22.0, 27.0)
_OPEN_FILL = (28.0, 78.0)
_LIP_THICKNESS = 3.5
_CLOSED_HALF = (20.0, 4.0)  # closed lips: (half width, half height)
_JITTER = 2
_NOISE_STD = 2.0
_NOISE_BANK = 8  # noise fields, each larger than the image by _NOISE_SHIFT: a frame takes a
_NOISE_SHIFT = 16  # window at a random offset, so 8 * 16 * 16 noise images are cheap to draw
_NOISE_IMAGES = _NOISE_BANK * _NOISE_SHIFT * _NOISE_SHIFT
_FACE_SCALE = 1.6
_FACE_MOUTH_Y = 163


def mouth_shape(symbol: int) -> Optional[Tuple[int, int, int]]:
    """``(height level 0-3, width level 0-3, fill level 0-1)`` of the mouth opening that
    shows ``symbol`` (``symbol = height + 4 * width + 16 * fill``), ``None`` for
    :data:`NEUTRAL` (closed lips)."""
    symbol = int(symbol)
    if symbol == NEUTRAL:
        return None
    if not 0 <= symbol < len(CHARSET):
        raise ValueError(f"symbol {symbol} outside -1..{len(CHARSET) - 1}")
    return symbol % 4, (symbol // 4) % 4, symbol // 16


def _coverage(ys: np.ndarray, xs: np.ndarray, half_h: float, half_w: float) -> np.ndarray:
    """Fraction of each pixel inside the ellipse (4x4 supersampled); pixel centres at
    ``ys`` x ``xs`` relative to the ellipse centre."""
    sub = (np.arange(4) + 0.5) / 4.0 - 0.5
    yy = (ys[:, None, None, None] + sub[None, :, None, None]) / half_h
    xx = (xs[None, None, :, None] + sub[None, None, None, :]) / half_w
    return ((yy * yy + xx * xx) <= 1.0).mean(axis=(1, 3))


@functools.lru_cache(maxsize=8)
def _mouth_layers(scale: float, lip_level: float) -> Tuple[int, int, Dict[int, Tuple[np.ndarray, np.ndarray]]]:
    """Per symbol ``(mul, add)`` patches: a face region becomes ``region * mul + add``.
    Returns (half height, half width, layers) of the patch, centred on the mouth."""
    hh = int(math.ceil((_OPEN_HALF_HEIGHT[-1] + _LIP_THICKNESS) * scale)) + 1
    hw = int(math.ceil((_OPEN_HALF_WIDTH[-1] + _LIP_THICKNESS) * scale)) + 1
    ys = np.arange(-hh, hh + 1, dtype=np.float64)
    xs = np.arange(-hw, hw + 1, dtype=np.float64)
    layers = {}
    for symbol in range(NEUTRAL, len(CHARSET)):
        shape = mouth_shape(symbol)
        if shape is None:
            outer = _coverage(ys, xs, _CLOSED_HALF[1] * scale, _CLOSED_HALF[0] * scale)
            inner, fill = np.zeros_like(outer), 0.0
        else:
            h, w, f = shape
            oh, ow = _OPEN_HALF_HEIGHT[h], _OPEN_HALF_WIDTH[w]
            outer = _coverage(ys, xs, (oh + _LIP_THICKNESS) * scale, (ow + _LIP_THICKNESS) * scale)
            inner = _coverage(ys, xs, oh * scale, ow * scale)
            fill = _OPEN_FILL[f]
        mul = (1.0 - outer).astype(np.float32)
        add = (lip_level * (outer - inner) + fill * inner).astype(np.float32)
        layers[symbol] = (mul, add)
    return hh, hw, layers


def _smooth_noise(rng: np.random.Generator, size: Tuple[int, int], cell: int) -> np.ndarray:
    """Low-frequency noise in [-1, 1]: a coarse random grid, bilinearly upsampled."""
    height, width = size
    gh, gw = height // cell + 2, width // cell + 2
    grid = rng.uniform(-1.0, 1.0, (gh, gw))
    y = np.arange(height) / cell
    x = np.arange(width) / cell
    y0, x0 = y.astype(int), x.astype(int)
    ty, tx = (y - y0)[:, None], (x - x0)[None, :]
    top = grid[y0][:, x0] * (1 - tx) + grid[y0][:, x0 + 1] * tx
    bottom = grid[y0 + 1][:, x0] * (1 - tx) + grid[y0 + 1][:, x0 + 1] * tx
    return top * (1 - ty) + bottom * ty


class _Face:
    """A speaker's face as seen by one kind of crop (``"lip"`` or ``"face"``)."""

    def __init__(self, seed: int, speaker_name: str, size: Tuple[int, int]) -> None:
        self.size = size
        height, width = size
        rng = np.random.default_rng(np.random.SeedSequence(
            list(_seed_words(seed, "speech-face", speaker_name, height, width))))
        skin = float(rng.uniform(140.0, 165.0))
        lip_level = float(round(rng.uniform(104.0, 116.0)))
        yy, xx = np.mgrid[:height, :width].astype(np.float64)
        if size == LIP_SIZE:
            self.scale, self.center = 1.0, (height // 2, width // 2)
            base = skin + 6.0 * (yy / height - 0.5) + 5.0 * _smooth_noise(rng, size, 12)
        else:
            self.scale = _FACE_SCALE * min(height, width) / FACE_SIZE[0]
            self.center = (int(round(_FACE_MOUTH_Y * height / FACE_SIZE[0])), width // 2)
            cy, cx = height * 0.5, width * 0.5
            inside = ((yy - cy) / (0.47 * height)) ** 2 + ((xx - cx) / (0.36 * width)) ** 2
            background = 80.0 + 10.0 * _smooth_noise(rng, size, 32)
            face = skin + 5.0 * _smooth_noise(rng, size, 16) - 8.0 * (yy / height)
            base = np.where(inside <= 1.0, face, background)
            for ex in (0.34, 0.66):  # eyes and brows, mirror-symmetric
                eye = ((yy - 0.38 * height) / (0.035 * height)) ** 2 + ((xx - ex * width) / (0.07 * width)) ** 2
                base = np.where(eye <= 1.0, 45.0, base)
                brow = ((yy - 0.30 * height) / (0.015 * height)) ** 2 + ((xx - ex * width) / (0.09 * width)) ** 2
                base = np.where(brow <= 1.0, 95.0, base)
            nose = ((yy - 0.58 * height) / (0.02 * height)) ** 2 + ((xx - cx) / (0.06 * width)) ** 2
            base = np.where(nose <= 1.0, skin - 25.0, base)
        texture = np.where(((yy // 2) + (xx // 2)) % 2 == 0, 3.0, -3.0)  # fixed fine detail
        self.base = (base + texture).astype(np.float32)
        self.hh, self.hw, self.layers = _mouth_layers(self.scale, lip_level)
        self.noise = rng.normal(0.0, _NOISE_STD, (_NOISE_BANK, height + _NOISE_SHIFT,
                                                  width + _NOISE_SHIFT)).astype(np.float32)

    def render(self, symbol: int, dy: int = 0, dx: int = 0, noise: Optional[int] = None) -> np.ndarray:
        """Full-range gray ``uint8 [H, W]`` image of the face showing ``symbol``, the mouth
        moved by ``(dy, dx)`` pixels, plus noise image ``noise`` (``0 .. _NOISE_IMAGES - 1``;
        None: none)."""
        if noise is None:
            image = self.base.copy()
        else:
            field, rest = divmod(int(noise) % _NOISE_IMAGES, _NOISE_SHIFT * _NOISE_SHIFT)
            oy, ox = divmod(rest, _NOISE_SHIFT)
            height, width = self.size
            image = self.base + self.noise[field, oy: oy + height, ox: ox + width]
        mul, add = self.layers[int(symbol)]
        y0 = self.center[0] + int(dy) - self.hh
        x0 = self.center[1] + int(dx) - self.hw
        region = image[y0: y0 + mul.shape[0], x0: x0 + mul.shape[1]]
        region *= mul
        region += add
        image += 0.5
        np.clip(image, 0.0, 255.0, out=image)
        return image.astype(np.uint8)


@functools.lru_cache(maxsize=16)
def _face(seed: int, speaker_name: str, size: Tuple[int, int]) -> "_Face":
    return _Face(seed, speaker_name, size)


def mouth_template(symbol: int, size: Tuple[int, int] = LIP_SIZE, *, session: Optional[SessionSpec] = None,
                   speaker_name: str = "spk_0") -> np.ndarray:
    """A clean (no jitter, no noise) gray ``uint8 [H, W]`` crop showing ``symbol``: what a
    template classifier compares decoded frames against. ``size``: :data:`.synthetic.LIP_SIZE`
    or :data:`.synthetic.FACE_SIZE`. The face (skin level, texture) is ``speaker_name``'s
    in ``session`` (default: seed 0)."""
    seed = session.seed if session is not None else 0
    return _face(int(seed), speaker_name, tuple(size)).render(symbol)


def crop_renderer(session: SessionSpec, speaker_name: str, size: Tuple[int, int],
                  view: str = "central") -> Callable[[int], np.ndarray]:
    """``render(frame) -> uint8 [H, W]`` full-range gray image of ``speaker_name``'s crop of
    ``size`` at ``frame``: a central frame (``view="central"``) or an ego frame
    (``view="ego"``, showing the mouth at :func:`central_frame_of_ego`). Jitter and noise
    are drawn per frame, deterministically (seed, speaker, view, size, frame)."""
    if view not in ("central", "ego"):
        raise ValueError(f"view must be 'central' or 'ego', got {view!r}")
    spk = session.speaker(speaker_name)
    symbols = articulation(session, speaker_name)
    shift = central_frame_of_ego(spk, 0) if view == "ego" else 0
    num_frames = spk.ego.num_frames if view == "ego" and spk.ego is not None else session.num_frames
    face = _face(int(session.seed), speaker_name, tuple(size))
    height, width = size
    key = list(_seed_words(session.seed, "speech-jitter", speaker_name, view, height, width))
    # Per-frame draws for the whole video at once: a frame's look does not depend on the
    # track it is written to.
    rng = np.random.default_rng(np.random.SeedSequence(key))
    jitter = rng.integers(-_JITTER, _JITTER + 1, size=(max(num_frames, 0), 2)).tolist()
    noise = rng.integers(0, _NOISE_IMAGES, size=max(num_frames, 0)).tolist()

    def render(frame: int) -> np.ndarray:
        frame = int(frame)
        if not 0 <= frame < num_frames:
            raise ValueError(f"{speaker_name}: frame {frame} outside the {view} video's "
                             f"{num_frames} frames")
        central = frame + shift
        symbol = int(symbols[central]) if 0 <= central < len(symbols) else NEUTRAL
        dy, dx = jitter[frame]
        return face.render(symbol, dy, dx, noise[frame])

    return render


# ---------------------------------------------------------------------------------------
# Audio
# ---------------------------------------------------------------------------------------

#: Tone grid (Hz) before the speaker's pitch factor: symbol ``s`` sounds
#: ``LOW_TONES[s % 4] + HIGH_TONES[s // 4]``. Neighbours are >= 23 % apart, so they stay
#: apart for pitch factors 0.95-1.05; 300-3400 Hz, the telephone band, after scaling.
LOW_TONES: Tuple[float, ...] = (320.0, 420.0, 550.0, 720.0)
HIGH_TONES: Tuple[float, ...] = (900.0, 1110.0, 1370.0, 1700.0, 2100.0, 2590.0, 3200.0)
_TONE_AMPLITUDE = 0.12
_LAPEL_NOISE_STD = 0.001
_CENTRAL_NOISE_STD = 0.003
_CENTRAL_PEAK = 0.9


def symbol_tones(symbol: int, pitch: float = 1.0) -> Tuple[float, float]:
    """``(low, high)`` tone frequencies (Hz) of ``symbol`` for a speaker of pitch factor ``pitch``."""
    symbol = int(symbol)
    if not 0 <= symbol < len(CHARSET):
        raise ValueError(f"symbol {symbol} has no tones (0..{len(CHARSET) - 1})")
    return LOW_TONES[symbol % 4] * pitch, HIGH_TONES[symbol // 4] * pitch


def _speaker_voice(seed: int, speaker_name: str) -> Tuple[float, float]:
    rng = np.random.default_rng(np.random.SeedSequence(
        list(_seed_words(seed, "speech-voice", speaker_name))))
    return float(rng.uniform(0.95, 1.05)), float(rng.uniform(0.75, 1.0))


def speaker_pitch(session: SessionSpec, speaker_name: str) -> float:
    """The speaker's pitch factor (0.95-1.05) that scales :func:`symbol_tones`."""
    session.speaker(speaker_name)
    return _speaker_voice(int(session.seed), speaker_name)[0]


@functools.lru_cache(maxsize=16)  # a session has up to 8 speakers; 3.8 MB per minute each
def _lapel(seed: int, speaker_name: str, num_samples: int,
           cues: Tuple[Tuple[int, int, str], ...]) -> np.ndarray:
    pitch, gain = _speaker_voice(seed, speaker_name)
    rng = np.random.default_rng(np.random.SeedSequence(
        list(_seed_words(seed, "speech-lapel", speaker_name))))
    signal = rng.normal(0.0, _LAPEL_NOISE_STD, num_samples)
    for first, stop, symbol in _spans(cues):
        a = max(_voiced(first, stop) * SAMPLES_PER_FRAME, 0)
        b = min(stop * SAMPLES_PER_FRAME, num_samples)
        if b - a < 16:
            continue
        t = np.arange(b - a) / float(timeline.SAMPLE_RATE)
        low, high = symbol_tones(symbol, pitch)
        phases = rng.uniform(0.0, 2.0 * math.pi, 2)
        tone = np.sin(2 * math.pi * low * t + phases[0]) + np.sin(2 * math.pi * high * t + phases[1])
        signal[a:b] += (_TONE_AMPLITUDE * gain) * np.hanning(b - a) * tone
    out = signal.astype(np.float32)
    out.setflags(write=False)
    return out


def lapel_signal(session: SessionSpec, speaker_name: str) -> np.ndarray:
    """The speaker's whole lapel signal (central timeline, float32 ``[num_samples]``,
    read-only): symbol tones on the voiced part of each character span, noise of std 0.001
    elsewhere."""
    spk = session.speaker(speaker_name)
    return _lapel(int(session.seed), spk.name, session.num_samples, _cues_key(spk))


@functools.lru_cache(maxsize=4)
def _central(seed: int, num_samples: int,
             speakers: Tuple[Tuple[str, Tuple[Tuple[int, int, str], ...]], ...]) -> np.ndarray:
    rng = np.random.default_rng(np.random.SeedSequence(list(_seed_words(seed, "speech-central"))))
    mix = rng.normal(0.0, _CENTRAL_NOISE_STD, num_samples)
    for name, cues in speakers:
        mix += _lapel(seed, name, num_samples, cues)
    peak = float(np.max(np.abs(mix))) if num_samples else 0.0
    if peak > _CENTRAL_PEAK:
        mix *= _CENTRAL_PEAK / peak
    out = mix.astype(np.float32)
    out.setflags(write=False)
    return out


def central_signal(session: SessionSpec) -> np.ndarray:
    """The whole central microphone signal (float32 ``[num_samples]``, read-only): the sum
    of every speaker's :func:`lapel_signal` plus noise of std 0.003, scaled by
    ``0.9 / peak`` where its peak would exceed 0.9."""
    speakers = tuple((spk.name, _cues_key(spk)) for spk in session.speakers)
    return _central(int(session.seed), session.num_samples, speakers)
