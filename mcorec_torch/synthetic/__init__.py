"""Synthetic MCoRec sessions in the exact on-disk layout of the real data (SPEC §1).

The real MCoRec data is gated, so the tests and ``mcorec-torch demo`` run on sessions
written by this package. They are built to *prove alignment* (SPEC §2):

* every video frame carries its frame index in its pixels (:func:`encode_frame_index` /
  :func:`decode_frame_index`): central video, face crops and lip crops show the
  **central** frame index, the ego video and ego crops the **ego** frame index;
* every audio track is a slice of a known, deterministic band-limited noise
  (:func:`central_audio` for the central microphone, :func:`lapel_audio` for a speaker's
  close-talk microphone), so cross-correlation against the reference has one sharp peak.

That is ``content="index"``, the default. ``content="speech"`` (:mod:`.speech`)
keeps the same plans and timings but makes the crops and the audio *learnable*: cue texts fit
their durations, every crop frame shows a mouth whose shape encodes the character spoken
at that frame, and the microphones carry two-tone "phonemes" per character (the central
and ego videos keep their frame-index pixels).

Plans are plain dataclasses (:class:`SessionSpec` and friends) so tests can build edge
cases by hand; :func:`plan_session` draws a realistic random plan, :func:`write_synthetic_session`
writes one session folder, :func:`make_split` writes a whole split directory (how the files
are encoded and what a reader of them sees: :mod:`.write`).

The modules, each importing only those above it:

* :mod:`.spec`: the plan dataclasses, the constants of what is written, seed words;
* :mod:`.index_content`: frame-index pixels, noise audio, the stereo form of a signal;
* :mod:`.texts`: cue texts of both contents;
* :mod:`.articulation`, :mod:`.mouths`, :mod:`.speech`: ``content="speech"``: which symbol
  each frame shows, its pixels, the tones (``speech`` gathers the names of all three);
* :mod:`.conversation`: who talks when (conversations that take turns inside and talk in
  step across), as each speaker's cues;
* :mod:`.edges`: UEMs and face tracks laid on those cues (the SPEC §4 edge cases);
* :mod:`.plan`: :func:`plan_session`;
* :mod:`.asd`: the ASD scores of a track (``"clean"`` or ``"noisy"``), following the cues;
* :mod:`.content`: the microphones and crop pixels of a session, by its content;
* :mod:`.write`: the files (mp4 through :mod:`mcorec_torch.media.encode`, JSON, VTT).
"""
from __future__ import annotations

from ..media.encode import cut_by_stream_copy
from .content import central_audio, ego_audio, lapel_audio
from .index_content import FRAME_INDEX_MAX, decode_frame_index, encode_frame_index, stereo_channels
from .plan import plan_session
from .spec import (ASD_STYLES, AUDIO_FORMATS, CENTRAL_SIZE, CONTENTS, EGO_SIZE, FACE_SIZE, LIP_SIZE,
                   OPEN_GOP_X264_PARAMS, STEREO_RATE, VIDEO_ENCODINGS, CueSpec, EgoSpec, SessionSpec, SpeakerSpec,
                   TrackSpec)
from .speech import (CHARSET, HIGH_TONES, LOW_TONES, NEUTRAL, articulation, assign_speech_texts,
                     central_frame_of_ego, central_signal, character_spans, crop_renderer, lapel_signal,
                     mouth_shape, mouth_template, normalized_text, speaker_pitch, speech_cue_text, symbol_of,
                     symbol_tones)
from .write import (SPEECH_VIDEO_OPTIONS, make_split, plan_split, write_synthetic_session, write_synthetic_vtt,
                    write_track_video)

# Private names the tests reach through the package.
from .index_content import _noise  # noqa: F401,E402
from .spec import _seed_words  # noqa: F401,E402

__all__ = [
    "TrackSpec", "CueSpec", "EgoSpec", "SpeakerSpec", "SessionSpec",
    "plan_session", "write_synthetic_session", "make_split", "plan_split", "write_synthetic_vtt", "write_track_video",
    "encode_frame_index", "decode_frame_index", "FRAME_INDEX_MAX",
    "central_audio", "lapel_audio", "ego_audio",
    "CENTRAL_SIZE", "EGO_SIZE", "FACE_SIZE", "LIP_SIZE", "CONTENTS", "SPEECH_VIDEO_OPTIONS",
    "VIDEO_ENCODINGS", "OPEN_GOP_X264_PARAMS", "AUDIO_FORMATS", "STEREO_RATE", "ASD_STYLES", "stereo_channels",
    "cut_by_stream_copy",
    # content="speech" (mcorec_torch.synthetic.speech)
    "CHARSET", "NEUTRAL", "LOW_TONES", "HIGH_TONES",
    "symbol_of", "mouth_shape", "symbol_tones", "speaker_pitch",
    "speech_cue_text", "assign_speech_texts", "normalized_text",
    "character_spans", "articulation", "central_frame_of_ego",
    "mouth_template", "crop_renderer", "lapel_signal", "central_signal",
]
