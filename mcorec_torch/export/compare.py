"""One exported sample against the dataset's (``--verify``; :mod:`.verify` has the rules).

Lossless exports must give the dataset's frames and audio back exactly. Lossy ones are held
to what the codecs allow: every frame that exists shows the same frame index as the
dataset's frame (when the frames carry one, as synthetic splits do; else the mean absolute
pixel difference is at most ``max_pixel_error`` gray levels), padding stays masked, the audio
is ``SAMPLES_PER_FRAME * T`` samples at lag 0 (within ``max_lag`` samples) and at the dataset's
level (within 1 dB). Texts, ids, frames and seconds, and the who-speaks-when keys (the
``activity`` option), must always be equal.
"""
from __future__ import annotations

from typing import Any, Dict, Iterable, List, Tuple

import numpy as np

from ..data.sample import ACTIVITY_KEYS, ACTIVITY_SPEAKERS
from ..qa.verify import audio_lag, gain_db
from ..synthetic import decode_frame_index

_EQUAL = ("id", "session", "speaker", "conversation", "text", "frame_start", "frame_end", "start", "end")


def _frame_index(frame: np.ndarray) -> Any:
    try:
        return decode_frame_index(frame)
    except ValueError:
        return None


def _compare_video(sid: str, video: np.ndarray, ref_video: np.ndarray, ref_mask: np.ndarray, exact: bool,
                   max_pixel_error: float) -> Tuple[List[str], bool]:
    """``(problems, frame_indices_checked)`` of frames of equal shape and mask."""
    if exact:
        if not np.array_equal(video, ref_video):
            return [f"{sid}: frames differ (lossless export), max |diff| "
                    f"{np.abs(video.astype(int) - ref_video).max()}"], False
        return [], False
    indexed = False
    for t in np.flatnonzero(ref_mask):
        want = _frame_index(ref_video[t])
        if want is not None:
            indexed = True
            if _frame_index(video[t]) != want:
                return [f"{sid}: frame {t} shows index {_frame_index(video[t])}, the dataset's {want}"], indexed
        elif np.abs(video[t].astype(np.float64) - ref_video[t]).mean() > max_pixel_error:
            return [f"{sid}: frame {t} differs by more than {max_pixel_error} per pixel"], indexed
    return [], indexed


def _compare_audio(sid: str, audio: np.ndarray, ref_audio: np.ndarray, exact: bool, max_lag: int) -> List[str]:
    """Problems of the audio (samples at 16 kHz): its length, and its samples (exact) or lag and level."""
    if audio.shape != ref_audio.shape:
        return [f"{sid}: {audio.shape[0]} audio samples, the dataset has {ref_audio.shape[0]}"]
    if exact:
        if not np.array_equal(audio, ref_audio):
            return [f"{sid}: audio differs (lossless export), max |diff| {np.abs(audio - ref_audio).max():.2e}"]
        return []
    problems = []
    if np.abs(ref_audio).max() > 0:
        lag = audio_lag(audio, ref_audio, max_lag=64)
        if abs(lag) > max_lag:
            problems.append(f"{sid}: audio is {lag} samples off")
        if abs(gain_db(audio, ref_audio)) > 1.0:
            problems.append(f"{sid}: audio level is {gain_db(audio, ref_audio):+.1f} dB off")
    return problems


def compare(exported: Dict[str, Any], reference: Dict[str, Any], video_exact: bool, audio_exact: bool,
            max_lag: int = 2, max_pixel_error: float = 8.0) -> Tuple[List[str], bool]:
    """``(problems, frame_indices_checked)`` of one exported sample against the dataset's;
    ``video_exact``/``audio_exact``: require equal frames / samples (lossless), else the
    tolerances above (``max_lag`` in samples, ``max_pixel_error`` in gray levels)."""
    sid = reference["id"]
    problems = [f"{sid}: {key} is {exported.get(key)!r}, the dataset has {reference[key]!r}"
                for key in _EQUAL if exported.get(key) != reference[key]]
    if "tokens" in reference and exported.get("tokens") is not None and \
            list(map(int, exported["tokens"])) != list(map(int, reference["tokens"])):
        problems.append(f"{sid}: tokens differ")
    video, ref_video = np.asarray(exported["video"]), reference["video"].numpy()
    mask, ref_mask = np.asarray(exported["video_mask"]), reference["video_mask"].numpy()
    indexed = False
    if video.shape != ref_video.shape or not np.array_equal(mask, ref_mask):
        problems.append(f"{sid}: video {video.shape} / mask differ from the dataset's {ref_video.shape}")
    else:
        found, indexed = _compare_video(sid, video, ref_video, ref_mask, video_exact, max_pixel_error)
        problems += found
    problems += _compare_audio(sid, np.asarray(exported["audio"]), reference["audio"].numpy(), audio_exact, max_lag)
    problems += _compare_activity(sid, exported, reference)
    return problems, indexed


def _compare_activity(sid: str, exported: Dict[str, Any], reference: Dict[str, Any]) -> List[str]:
    """Problems of the who-speaks-when keys (the ``activity`` option): always exact."""
    problems = [f"{sid}: {key} differs from the dataset's" for key in ACTIVITY_KEYS if key in reference
                and (exported.get(key) is None or not np.array_equal(np.asarray(exported[key]), reference[key].numpy()))]
    if ACTIVITY_SPEAKERS in reference and list(exported.get(ACTIVITY_SPEAKERS) or []) != reference[ACTIVITY_SPEAKERS]:
        problems.append(f"{sid}: activity_speakers is {exported.get(ACTIVITY_SPEAKERS)!r}, "
                        f"the dataset has {reference[ACTIVITY_SPEAKERS]!r}")
    return problems


def segment_numbers(dataset: Any) -> Dict[str, int]:
    """Segment id -> its number in ``dataset``."""
    return {dataset.segment_id(i): i for i in range(len(dataset))}


def compare_samples(samples: Iterable[Dict[str, Any]], dataset: Any, checked: int, video_exact: bool,
                    audio_exact: bool) -> Dict[str, Any]:
    """:func:`compare` of each exported sample with ``dataset``'s of the same id; returns
    ``{"checked", "problems", "lossless", "frame_indices", "frames"}`` (``frame_indices``:
    frames whose index was read from the pixels and matched; ``checked``: records asked for)."""
    by_id = segment_numbers(dataset)
    problems: List[str] = []
    frames = indexed = 0
    for sample in samples:
        reference = dataset.load(by_id[sample["id"]])
        found, seen = compare(sample, reference, video_exact, audio_exact)
        problems += found
        frames += int(reference["video_mask"].sum())
        indexed += int(reference["video_mask"].sum()) if seen and not found else 0
    return {"checked": checked, "problems": problems, "lossless": audio_exact, "frame_indices": indexed,
            "frames": frames}
