"""Writing synthetic sessions: :func:`write_synthetic_session` writes one session folder, :func:`make_split`
a whole split directory, in the exact on-disk layout of the real data (SPEC §1; every file
name comes from :mod:`mcorec_torch.corpus.layout`).

Files are written the way real ones are (:func:`mcorec_torch.media.encode.write_mp4`): H.264
(libx264 through PyAV, yuv420p, x264 defaults: keyint 250, bframes 3, crf 23) with AAC audio
(FFmpeg's native ``aac`` encoder, 16 kHz mono) in mp4. Planned sessions also hold one
open-GOP track (``encoding="open_gop"``) and 48 kHz stereo audio with different channels
(``audio_format="stereo48k"``), and :func:`mcorec_torch.media.encode.cut_by_stream_copy`
makes an edit-list file as ``ffmpeg -ss T -c copy`` does. Everything is deterministic from a
seed.

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

import json
import math
import os
import types
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from .._io import atomic_write_text
from ..corpus import layout, vtt
from ..errors import PathLike
from ..media.encode import write_mp4
from ..checks import check_choice
from ..timeline import FPS, SAMPLE_RATE, SAMPLES_PER_FRAME
from .asd import asd_scores
from .content import central_audio, crop_pixels, lapel_audio
from .index_content import frame_index_renderer, stereo_channels
from .plan import plan_session
from .spec import (AUDIO_FORMATS, CENTRAL_SIZE, DEFAULT_NUM_FRAMES, EGO_SIZE, FACE_SIZE, LIP_SIZE,
                   OPEN_GOP_X264_PARAMS, STEREO_RATE, VIDEO_ENCODINGS, CueSpec, SessionSpec, SpeakerSpec,
                   TrackSpec, check_content, _seed_words)

__all__ = ["write_synthetic_session", "make_split", "plan_split", "write_synthetic_vtt", "write_track_video", "SPEECH_VIDEO_OPTIONS"]

#: libx264 options of ``content="speech"`` sessions when none are given: x264's ultrafast
#: preset with CABAC and 3 B-frames back (keyint 250 and crf 23 as by default), one thread
#: per file (files are written in parallel): about 4x faster than the defaults on noisy crops.
SPEECH_VIDEO_OPTIONS: Mapping[str, str] = types.MappingProxyType(
    {"preset": "ultrafast", "x264-params": "bframes=3:cabac=1", "threads": "1"})


def write_synthetic_vtt(path: PathLike, cues: Iterable[CueSpec]) -> Path:
    """Write ``cues`` as WebVTT (``HH:MM:SS.mmm --> HH:MM:SS.mmm``, multi-line text kept):
    :func:`mcorec_torch.corpus.vtt.write_vtt` of their ``(start_ms, end_ms, text)``."""
    return vtt.write_vtt(path, ((cue.start_ms, cue.end_ms, cue.text) for cue in cues))


def _write_json(path: Path, obj: Any, *, indent: Optional[int] = 2) -> None:
    atomic_write_text(path, json.dumps(obj, indent=indent, ensure_ascii=False) + "\n")


def _video_options(options: Optional[Mapping[str, str]], encoding: str) -> Dict[str, str]:
    """libx264 options of one file: the session's, with the ``encoding``'s x264-params last."""
    merged = {str(k): str(v) for k, v in dict(options or {}).items()}
    if check_choice("encoding", encoding, VIDEO_ENCODINGS) == "open_gop":
        params = merged.get("x264-params")
        merged["x264-params"] = f"{params}:{OPEN_GOP_X264_PARAMS}" if params else OPEN_GOP_X264_PARAMS
    return merged


def write_track_video(path: PathLike, indices: Sequence[int], size: Tuple[int, int],
                      audio: Optional[np.ndarray] = None, video_options: Optional[Mapping[str, str]] = None, *,
                      render: Optional[Callable[[int], np.ndarray]] = None, encoding: str = "default",
                      audio_format: str = "mono16k", stereo_seed: Tuple[int, ...] = ()) -> Path:
    """Write one synthetic mp4 (:func:`mcorec_torch.media.encode.write_mp4`); returns its path.

    An H.264 stream whose frame ``j`` shows ``indices[j]`` (frame indices: central or ego
    frames) as :func:`.encode_frame_index` at ``size`` = (height, width) pixels, or as the
    full-range gray uint8 image ``render(indices[j])`` (of its own size); gray in yuv420p,
    U = V = 128, constant 25 fps, pts = j. An AAC stream of ``audio`` (float32 ``[samples]``
    at 16 kHz, mono, as long as the video; or None: no audio) written as ``audio_format``
    (:data:`.AUDIO_FORMATS`: 16 kHz mono, or 48 kHz stereo by :func:`.stereo_channels` of
    ``stereo_seed``; pts in samples, 1024-sample frames), interleaved as a recorder would.
    ``video_options``: libx264 options, with the x264-params of ``encoding``
    (:data:`.VIDEO_ENCODINGS`) appended.
    """
    options = _video_options(video_options, encoding)
    rate = SAMPLE_RATE
    if audio is not None and check_choice("audio_format", audio_format, AUDIO_FORMATS) == "stereo48k":
        audio, rate = stereo_channels(audio, stereo_seed), STEREO_RATE
    render = render if render is not None else frame_index_renderer(size)
    return write_mp4(path, (render(int(index)) for index in indices), FPS, audio=audio, audio_rate=rate,
                     video_options=options)


@dataclass
class _MediaJob:
    """One mp4 to write: the arguments of :func:`write_track_video`."""

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

    def write(self, video_options: Optional[Mapping[str, str]]) -> None:
        write_track_video(self.path, self.indices, self.size, self.audio, video_options, render=self.render,
                          encoding=self.encoding, audio_format=self.audio_format, stereo_seed=self.stereo_seed)


def _run_jobs(jobs: Sequence[_MediaJob], video_options: Optional[Mapping[str, str]],
              workers: Optional[int]) -> None:
    if workers is None:
        workers = min(4, os.cpu_count() or 1)
    # Longest first, so the pool does not end on one long file.
    jobs = sorted(jobs, key=lambda job: -job.cost)
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            job.write(video_options)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=int(workers)) as pool:
        futures = [pool.submit(job.write, video_options) for job in jobs]
        for future in futures:
            future.result()


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


def _write_track(jobs: List[_MediaJob], session_dir: Path, spec: SessionSpec, spk: SpeakerSpec, view: str,
                 track: TrackSpec, audio: np.ndarray, bbox: Callable[[int], Dict[str, int]],
                 lip: bool) -> Dict[str, str]:
    """Queue the face (and with ``lip`` the lip) video of one track of ``view`` (``"central"`` or
    ``"ego"``), write its json, bbox json (``bbox(frame)``) and with ``lip`` asd json; returns
    its crop entry of ``metadata.json``."""
    files = layout.track_files(spk.name, view, track.index)
    frames = range(track.frame_start, track.frame_stop)
    formats = dict(encoding=track.encoding, audio_format=track.audio_format,
                   stereo_seed=_seed_words(spec.seed, "stereo", spk.name, view, track.index))
    jobs.append(_MediaJob(session_dir / files["video"], frames, FACE_SIZE, audio,
                          crop_pixels(spec, spk.name, FACE_SIZE, view), **formats))
    _write_json(session_dir / files["crop_metadata"], _track_json(track))
    _write_json(session_dir / files["bbox"], {str(f): bbox(f) for f in frames}, indent=None)
    entry = {key: files[key] for key in ("video", "crop_metadata", "bbox")}
    if lip:
        jobs.append(_MediaJob(session_dir / files["lip"], frames, LIP_SIZE, audio,
                              crop_pixels(spec, spk.name, LIP_SIZE, view), **formats))
        _write_json(session_dir / files["asd"], asd_scores(spec, spk, track), indent=None)
        entry["lip"] = files["lip"]
        entry["asd"] = files["asd"]
    return entry


def write_synthetic_session(spec: SessionSpec, split_dir: PathLike, *, central_video: bool = True,
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
    follow the transcript (:mod:`.speech`); the central and ego videos keep their
    frame-index pixels.
    """
    jobs: List[_MediaJob] = []
    if video_options is None and check_content(spec.content) == "speech":
        video_options = SPEECH_VIDEO_OPTIONS

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
        jobs.append(_MediaJob(session_dir / layout.CENTRAL_VIDEO_FILE, range(spec.num_frames), CENTRAL_SIZE,
                              central_audio(spec, 0, spec.num_samples)))

    metadata: Dict[str, Any] = {}
    for slot, spk in enumerate(spec.speakers):
        crops = []
        for track in spk.tracks:
            if track.num_frames <= 0:
                raise ValueError(f"{spec.name}/{spk.name}/{track.name}: num_frames must be > 0")
            if track.frame_start < 0 or track.frame_stop > spec.num_frames:
                raise ValueError(f"{spec.name}/{spk.name}/{track.name}: frames "
                                 f"[{track.frame_start}, {track.frame_stop}) outside the "
                                 f"session's {spec.num_frames} frames")
            audio = central_audio(spec, track.frame_start * SAMPLES_PER_FRAME,
                                  track.frame_stop * SAMPLES_PER_FRAME)
            crops.append(_write_track(jobs, session_dir, spec, spk, "central", track, audio,
                                      lambda f, slot=slot: _bbox(f, slot, n_spk, CENTRAL_SIZE), lip))
        entry_spk: Dict[str, Any] = {
            "camera": {"device": "synthetic-360", "slot": slot},  # an extra key, as real files have
            "central": {"video": layout.CENTRAL_VIDEO_FILE,
                        "uem": {"start": spk.uem_start, "end": spk.uem_end},
                        "crops": crops},
        }
        if ego:
            egospec = spk.ego
            d = spk.ego_sample_offset
            ego_len = egospec.num_frames * SAMPLES_PER_FRAME
            ego_video = f"{layout.speaker_folder(spk.name)}/{layout.EGO_VIDEO_FILE}"
            jobs.append(_MediaJob(session_dir / ego_video, range(egospec.num_frames),
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
                audio = lapel_audio(spec, spk.name, track.frame_start * SAMPLES_PER_FRAME + d,
                                    track.frame_stop * SAMPLES_PER_FRAME + d)
                ego_crops.append(_write_track(jobs, session_dir, spec, spk, "ego", track, audio,
                                              lambda f: _bbox(f, 0, 1, EGO_SIZE), lip=False))
            entry_spk["ego"] = {"video": ego_video,
                                "uem": {"start": egospec.uem_start, "end": egospec.uem_end},
                                "crops": ego_crops}
        metadata[spk.name] = entry_spk
    _write_json(session_dir / layout.METADATA_FILE, metadata)
    _run_jobs(jobs, video_options, workers)

    if labels:
        _write_json(layout.cluster_path(session_dir),
                    {spk.name: int(spk.conversation) for spk in spec.speakers})
        for spk in spec.speakers:
            write_synthetic_vtt(layout.vtt_path(session_dir, spk.name), spk.cues)
    return session_dir


def make_split(out_dir: PathLike, split: str = "dev", num_sessions: int = 2, seed: int = 0, *,
               central_video: bool = True, lip: bool = True, num_frames: Optional[int] = None,
               video_options: Optional[Mapping[str, str]] = None, num_speakers: int = 4,
               num_conversations: int = 2, workers: Optional[int] = None,
               content: str = "index", asd: str = "clean") -> List[SessionSpec]:
    """Write ``out_dir`` as a synthetic split directory holding ``session_00``, ...

    ``split="train"`` adds ego videos and ego crops; ``split="eval"`` writes no labels.
    ``content``: ``"index"`` (alignment proofs) or ``"speech"`` (learnable: mouths and tones
    follow the transcript, :mod:`.speech`); same plans and timings either way. ``asd``: the
    style of the ASD scores, ``"clean"`` or ``"noisy"`` (:mod:`.asd`).
    Returns the session plans (in order) so callers can compute expectations.
    """
    specs = plan_split(split, num_sessions, seed, num_frames=num_frames, num_speakers=num_speakers,
                       num_conversations=num_conversations, content=content, asd=asd)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for spec in specs:
        write_synthetic_session(spec, out, central_video=central_video, lip=lip,
                                labels=(split != "eval"), ego=(split == "train"),
                                video_options=video_options, workers=workers)
    return specs


def plan_split(split: str = "dev", num_sessions: int = 2, seed: int = 0, *, num_frames: Optional[int] = None,
               num_speakers: int = 4, num_conversations: int = 2, content: str = "index",
               asd: str = "clean") -> List[SessionSpec]:
    """The session plans :func:`make_split` writes for the same arguments, without writing
    anything (to check files written earlier against them)."""
    check_content(content)
    check_choice("split", split, layout.SPLITS)
    specs = []
    for i in range(int(num_sessions)):
        session_seed = int(np.random.SeedSequence([int(seed), i, zlib.crc32(split.encode())])
                           .generate_state(1)[0])
        specs.append(plan_session(f"session_{i:02d}", session_seed,
                                  num_frames=int(num_frames or DEFAULT_NUM_FRAMES),
                                  num_speakers=num_speakers, num_conversations=num_conversations,
                                  ego=(split == "train"), content=content, asd=asd))
    return specs
