"""Learnable content for synthetic sessions: ``content="speech"`` (see :mod:`mcorec_torch.synthetic`).

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
:func:`.plan.plan_session` / :func:`.write.make_split` with ``content="speech"``.
The texts are made in :mod:`.texts`, the articulation in :mod:`.articulation`, the pixels in
:mod:`.mouths`; this module makes the audio and gathers the public names of all four.
"""
from __future__ import annotations

import functools
import math
from typing import Tuple

import numpy as np

from .. import timeline
from ..timeline import SAMPLES_PER_FRAME
from .articulation import (CHARSET, NEUTRAL, _cues_key, _spans, _voiced, articulation, central_frame_of_ego,
                           character_spans, normalized_text, symbol_of)
from .mouths import _face, _mouth_layers, crop_renderer, mouth_shape, mouth_template  # noqa: F401 (tests)
from .spec import SessionSpec, _seed_words
from .texts import assign_speech_texts, speech_cue_text

__all__ = [
    "CHARSET", "NEUTRAL", "LOW_TONES", "HIGH_TONES",
    "symbol_of", "mouth_shape", "symbol_tones", "speaker_pitch",
    "speech_cue_text", "assign_speech_texts", "normalized_text",
    "character_spans", "articulation", "central_frame_of_ego",
    "mouth_template", "crop_renderer", "lapel_signal", "central_signal",
]

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
