"""Proof of alignment on synthetic data: read frame indices from pixels, audio lag by correlation.

Used by ``mcorec-torch demo`` and the tests. Only meaningful for sessions written by
:mod:`mcorec_torch.synthetic`, whose frames carry their own index and whose audio is known.
"""
from __future__ import annotations

from typing import Callable, Dict, List, Optional

import numpy as np
import torch

from ..timeline import SAMPLES_PER_FRAME


def audio_lag(decoded: np.ndarray, reference: np.ndarray, max_lag: int = 320) -> int:
    """Lag in samples (``decoded[k] ~ reference[k - lag]``) maximising the cross-correlation,
    searched over ``[-max_lag, max_lag]``. 0 means aligned."""
    decoded = np.asarray(decoded, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    n = min(len(decoded), len(reference))
    if n <= 2 * max_lag:
        max_lag = max(n // 4, 0)
    best_lag, best = 0, -np.inf
    core = slice(max_lag, n - max_lag)
    ref = reference[core]
    for lag in range(-max_lag, max_lag + 1):
        value = float(np.dot(decoded[max_lag + lag: n - max_lag + lag], ref))
        if value > best:
            best, best_lag = value, lag
    return best_lag


def gain_db(decoded: np.ndarray, reference: np.ndarray) -> float:
    """Level of ``decoded`` against ``reference`` in dB (RMS ratio); 0 means the same level."""
    decoded = np.asarray(decoded, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    n = min(len(decoded), len(reference))
    ref_power = float(np.mean(reference[:n] ** 2)) if n else 0.0
    power = float(np.mean(decoded[:n] ** 2)) if n else 0.0
    if ref_power == 0.0:
        return 0.0 if power == 0.0 else float("inf")
    if power == 0.0:
        return float("-inf")
    return 10.0 * float(np.log10(power / ref_power))


def check_sample(sample: Dict, decode_index: Callable[[np.ndarray], int],
                 reference_audio: Optional[np.ndarray] = None, view_start: Optional[int] = None,
                 max_lag_error: int = 16, max_gain_db: float = 1.0) -> List[str]:
    """Problems with one sample: frame indices vs ``F0..F1-1`` (or ``view_start..``), padding
    frames not zero, audio length, audio lag (samples) and level (dB, RMS) vs
    ``reference_audio`` (same sample range)."""
    problems = []
    video = sample["video"]
    mask = sample["video_mask"]
    video = video.numpy() if isinstance(video, torch.Tensor) else np.asarray(video)
    mask = mask.numpy() if isinstance(mask, torch.Tensor) else np.asarray(mask)
    first = sample["frame_start"] if view_start is None else view_start
    count = sample["frame_end"] - sample["frame_start"]
    if video.shape[0] != count or mask.shape[0] != count:
        problems.append(f"{sample['id']}: {video.shape[0]} frames, expected {count}")
    for t in range(min(count, video.shape[0])):
        if mask[t]:
            found = decode_index(video[t])
            if found != first + t:
                problems.append(f"{sample['id']}: frame {t} shows index {found}, expected {first + t}")
                break
        elif video[t].any():
            problems.append(f"{sample['id']}: padding frame {t} is not zero")
            break
    audio = sample["audio"]
    audio = audio.numpy() if isinstance(audio, torch.Tensor) else np.asarray(audio)
    if len(audio) != SAMPLES_PER_FRAME * count:
        problems.append(f"{sample['id']}: {len(audio)} audio samples, expected {SAMPLES_PER_FRAME * count}")
    elif reference_audio is not None and np.abs(reference_audio).max() > 0 and len(audio) >= SAMPLES_PER_FRAME:
        lag = audio_lag(audio, reference_audio)
        if abs(lag) > max_lag_error:
            problems.append(f"{sample['id']}: audio is {lag} samples off")
        gain = gain_db(audio, reference_audio)
        if abs(gain) > max_gain_db:
            problems.append(f"{sample['id']}: audio level is {gain:+.1f} dB off")
    return problems
