"""Cue texts of synthetic sessions, deterministic from a random generator.

* ``content="index"`` (:func:`_cue_text`): conversational words about 2.5 per second, with
  vocal events, contractions, curly quotes, numbers and two-line cues: what normalization
  (SPEC §6) has to handle.
* ``content="speech"`` (:func:`speech_cue_text`, :func:`assign_speech_texts`): short words
  in which all 26 letters occur, about one normalized character per 3-4 cue frames, so that
  :mod:`.speech` can articulate every character (what else they hold: :mod:`.speech`).
"""
from __future__ import annotations

from typing import List, Tuple

import numpy as np

from .. import timeline
from .spec import SessionSpec, _seed_words

__all__ = ["speech_cue_text", "assign_speech_texts"]

# ---------------------------------------------------------------------------------------
# content="index"
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


# ---------------------------------------------------------------------------------------
# content="speech"
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
    """Words of at most ``room`` characters; those that fill it or leave room for a space and
    another word of two or more (not a one-letter "I" in a 12-frame cue) when there are any."""
    pool = [w for w in _SPEECH_WORDS if len(w) <= room]
    if rng.random() < 0.12:
        pool = [w for w in _CONTRACTIONS if len(w) <= room] or pool
    return [w for w in pool if room == len(w) or room - len(w) >= 3] or pool


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
