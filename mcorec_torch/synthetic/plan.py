"""Realistic random plans of synthetic sessions (:func:`plan_session`): conversations that hold
a floor (:mod:`.conversation`: who talks when, as cues at millisecond resolution), UEMs and face
tracks with gaps and contiguous boundaries laid on those cues so that they cross the edge cases
the SPEC §4 rules have to decide (:mod:`.edges`), phone recordings, and the real-world
encodings of a few files. Deterministic from ``(name, seed)``.
"""
from __future__ import annotations

from typing import List

import numpy as np

from ..timeline import MS_PER_FRAME
from .conversation import Floor, speaker_cues
from .edges import add_tiny_cue, plan_tracks, plan_uem
from .spec import (DEFAULT_NUM_FRAMES, CueSpec, EgoSpec, SessionSpec, SpeakerSpec, TrackSpec, check_asd_style,
                   check_content, _seed_words)
from .texts import _cue_text, assign_speech_texts

__all__ = ["plan_session"]


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
                 ego: bool = False, content: str = "index", asd: str = "clean") -> SessionSpec:
    """A realistic random plan for one session, deterministic from ``(name, seed)``.

    Speaker ``i`` is in conversation ``i * num_conversations // num_speakers``. The
    conversations hold a floor (:mod:`.conversation`): the members of one take turns (gaps of
    80-600 ms, now and then a short overlap or a backchannel), different conversations talk
    at the same time. A speaker's turns are its cues, 0.4-4 s at millisecond resolution.

    Every speaker gets a central UEM that does not cover the whole session (starts 1.7-4.5 s
    in, ends 1-6 s before the end), 2-3 face tracks separated by gaps of 20-37 frames
    (speaker 0: a gap, then two contiguous tracks), laid on its cues (:mod:`.edges`) so that
    there is, where its turns allow: a cue crossing the UEM start; one ending exactly at the
    UEM end (even speakers) or crossing it (odd speakers); one wholly inside a track gap (odd
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
    their durations (:func:`.texts.assign_speech_texts`). ``asd``: the style of the ASD
    scores written for it, ``"clean"`` or ``"noisy"`` (:mod:`.asd`).
    """
    check_content(content)
    check_asd_style(asd)
    if num_frames < 375:
        raise ValueError(f"num_frames={num_frames}: synthetic sessions need >= 375 frames (15 s)")
    if not 1 <= num_speakers <= 8:
        raise ValueError("num_speakers must be 1..8")
    if not 1 <= num_conversations <= min(4, num_speakers):
        raise ValueError("num_conversations must be 1..min(4, num_speakers)")
    rng = np.random.default_rng(np.random.SeedSequence(list(_seed_words(seed, "plan", name))))
    duration_ms = num_frames * MS_PER_FRAME
    conversation_of = [i * num_conversations // num_speakers for i in range(num_speakers)]
    floor = Floor(rng, duration_ms, [[i for i in range(num_speakers) if conversation_of[i] == c]
                                     for c in range(num_conversations)])
    planners = speaker_cues(rng, floor, duration_ms)
    speakers: List[SpeakerSpec] = []
    for i, planner in enumerate(planners):
        uem_start_ms, uem_end_ms = plan_uem(rng, planner, i, duration_ms)
        tracks, _, _ = plan_tracks(rng, num_frames, i, planner, floor.listening_rounds(i))
        add_tiny_cue(rng, planner, i, (uem_start_ms, uem_end_ms), tracks)
        ego_spec = _plan_ego(rng, num_frames, i, uem_start_ms, uem_end_ms) if ego else None
        cues = [CueSpec(start_ms=a, end_ms=b, text=_cue_text(rng, b - a)) for a, b in sorted(planner.intervals)]
        speakers.append(SpeakerSpec(name=f"spk_{i}", conversation=conversation_of[i], uem_start=uem_start_ms / 1000.0,
                                    uem_end=uem_end_ms / 1000.0, tracks=tracks, cues=cues, ego=ego_spec))
    # Real-world encodings (SPEC §2): one open-GOP track, one stereo 48 kHz track (the speaker's
    # own, so it is the one read for audio without central_video.mp4) and a stereo phone.
    speakers[-1].tracks[0].encoding = "open_gop"
    speakers[0].tracks[0].audio_format = "stereo48k"
    if speakers[0].ego is not None:
        speakers[0].ego.audio_format = "stereo48k"
    spec = SessionSpec(name=name, num_frames=num_frames, speakers=speakers, seed=int(seed), asd=asd)
    if content == "speech":
        spec.content = content
        assign_speech_texts(spec)
    return spec
