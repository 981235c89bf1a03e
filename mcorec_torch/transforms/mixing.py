"""Interfering speech: the audio of another speaker of the same session added at an SNR (dB), the
overlapped speech of a multi-party conversation. Time in samples (16 kHz)."""
from __future__ import annotations

from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np
import torch

from ._access import Batch, Sample, _get
from ._checks import _check_probability, _check_range
from ._snr import _AddAtSnr
from .base import _rand, _randint, _uniform


class InterferingSpeech(_AddAtSnr):
    """With probability ``p``, add the audio of another speaker of the same session at an SNR (dB)
    drawn uniformly from ``snr_db = [low, high]`` (a single number means that SNR) — the
    overlapped speech of a multi-party conversation.

    Needs :meth:`bind` (``compose.bind(dataset)``): it uses ``dataset.segment_session``,
    ``dataset.segment_speaker`` and ``dataset.load_audio(j)`` (audio only, no video decoded), and
    the sample's ``index`` into that dataset.

    - interferer: a segment ``j`` chosen uniformly among the dataset's segments of the same session
      whose speaker differs from the sample's. If there is none (a single-speaker session), the
      sample is returned **unchanged**;
    - placement, for a target of ``L`` samples and an interferer of ``M``: if ``M >= L`` a random
      window of ``L`` samples of the interferer (start uniform in ``[0, M - L]``); otherwise the whole
      interferer at a random offset (uniform in ``[0, L - M]``) with zeros around it;
    - level: ``10 log10(E_target / E_interferer) == snr``, energies over the target's ``L`` samples.
      A silent target or silent interferer window leaves the sample unchanged.

    The candidate table (one sort of the dataset's session/speaker arrays) is built on first use
    in each process and is O(1) per sample afterwards.
    """

    _name = "InterferingSpeech"

    def __init__(self, snr_db: Any = (0.0, 10.0), p: float = 0.5) -> None:
        self.snr_db = _check_range("InterferingSpeech", "snr_db", snr_db)
        self.p = _check_probability("InterferingSpeech", p)
        self.dataset: Any = None
        self._table: Optional[Tuple[np.ndarray, ...]] = None

    def _config(self) -> Dict[str, Any]:
        return {"snr_db": list(self.snr_db), "p": self.p}

    def bind(self, dataset: Any) -> None:
        for name in ("segment_session", "segment_speaker", "load_audio"):
            if not hasattr(dataset, name):
                raise TypeError(f"InterferingSpeech.bind: the dataset has no {name!r} (an MCoRecDataset is expected)")
        self.dataset = dataset
        self._table = None

    def __getstate__(self) -> Dict[str, Any]:
        state = dict(self.__dict__)
        state["_table"] = None  # rebuilt lazily where it is used
        return state

    def _candidates(self) -> Tuple[np.ndarray, ...]:
        """``(order, session_lo, session_hi, speaker_lo, speaker_hi)``: segments sorted by
        (session, speaker) and, per segment, the ranges of its session and of its own speaker in
        that order. Its candidates are the session range minus the speaker range."""
        if self._table is None:
            session = np.asarray(self.dataset.segment_session, dtype=np.int64)
            speaker = np.asarray(self.dataset.segment_speaker, dtype=np.int64)
            if session.shape != speaker.shape or session.ndim != 1:
                raise ValueError(f"InterferingSpeech: segment_session {session.shape} and segment_speaker "
                                 f"{speaker.shape} must be 1-d arrays of the same length")
            n = len(session)
            order = np.lexsort((speaker, session))
            s_sorted, p_sorted = session[order], speaker[order]
            new_session = np.ones(n, dtype=bool)
            new_session[1:] = s_sorted[1:] != s_sorted[:-1]
            new_speaker = new_session.copy()
            new_speaker[1:] |= p_sorted[1:] != p_sorted[:-1]

            def ranges(starts_flag: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
                starts = np.flatnonzero(starts_flag)
                ends = np.append(starts[1:], n)
                block = np.cumsum(starts_flag) - 1
                lo, hi = np.empty(n, np.int64), np.empty(n, np.int64)
                lo[order], hi[order] = starts[block], ends[block]
                return lo, hi

            session_lo, session_hi = ranges(new_session)
            speaker_lo, speaker_hi = ranges(new_speaker)
            self._table = (order.astype(np.int64), session_lo, session_hi, speaker_lo, speaker_hi)
        return self._table

    def candidates(self, index: int) -> np.ndarray:
        """All segments ``index`` may take its interferer from (sorted; for inspection and tests)."""
        order, s_lo, s_hi, p_lo, p_hi = self._candidates()
        i = int(index)
        return np.sort(np.concatenate([order[s_lo[i]:p_lo[i]], order[p_hi[i]:s_hi[i]]]))

    def _draw(self, generator: torch.Generator, index: Any, length: int) -> Tuple[Optional[torch.Tensor], float]:
        """The placed interferer ``[length]`` (CPU float32; ``None`` = unchanged) and the SNR."""
        added, snr, _ = self._draw_with_source(generator, index, length)
        return added, snr

    def _draw_with_source(self, generator: torch.Generator, index: Any, length: int
                          ) -> Tuple[Optional[torch.Tensor], float, Optional[Tuple[int, int]]]:
        """:meth:`_draw` and ``(interferer item, shift)``: its sample ``s`` is the target's
        sample ``s + shift`` (``None`` when nothing is added)."""
        if self.dataset is None:
            raise RuntimeError("InterferingSpeech is not bound to a dataset: call compose.bind(dataset) "
                               "(or transform.bind(dataset)) before using it")
        if index is None:
            raise KeyError("InterferingSpeech needs the sample's 'index' (its position in the bound dataset)")
        order, s_lo, s_hi, p_lo, p_hi = self._candidates()
        i = int(index)
        if not 0 <= i < len(order):
            raise IndexError(f"InterferingSpeech: sample index {i} is outside the bound dataset "
                             f"({len(order)} segments); bind the dataset the samples come from")
        apply = _rand(generator) < self.p
        snr = _uniform(generator, self.snr_db)
        before = int(p_lo[i] - s_lo[i])
        count = before + int(s_hi[i] - p_hi[i])
        if not apply or count == 0 or length == 0:
            return None, snr, None
        k = _randint(generator, 0, count - 1)
        position = s_lo[i] + k if k < before else p_hi[i] + (k - before)
        other = self.dataset.load_audio(int(order[position]))
        other = torch.as_tensor(other, dtype=torch.float32).reshape(-1).cpu()
        m, item = int(other.shape[0]), int(order[position])
        if m >= length:
            start = _randint(generator, 0, m - length)
            return other[start:start + length].clone(), snr, (item, -start)
        placed = torch.zeros(length, dtype=torch.float32)
        offset = _randint(generator, 0, length - m)
        placed[offset:offset + m] = other
        return placed, snr, (item, offset)

    def _added_keys(self, keys: Sample, index: Any, source: Any, row: Optional[int] = None) -> Sample:
        """With the ``activity`` option the interferer's speakers are heard too: ``activity``,
        ``stno`` and ``activity_scores`` of the sample (or of batch row ``row``) become those of
        :meth:`ActivityTable.with_interferer <mcorec_torch.data.activity.ActivityTable.with_interferer>`
        (the batch's tensors are copied, never changed in place)."""
        if "activity" not in keys:
            return {}
        table = getattr(self.dataset, "activity_table", None)
        if table is None:
            raise ValueError("InterferingSpeech: the sample has 'activity' but the bound dataset has no activity "
                             "option: bind the dataset the samples come from")
        item, shift = source
        changed = table.with_interferer(self.dataset.index_row(int(index)), self.dataset.index_row(item), shift)
        frames, speakers = changed["activity"].shape
        current = keys["activity"] if row is None else keys["activity"][row]
        if current.shape[0] < frames or current.shape[-1] < speakers or (row is None and current.shape[0] != frames):
            raise ValueError(f"InterferingSpeech: the sample's activity is {tuple(current.shape)}, its segment has "
                             f"{frames} frames and {speakers} speakers: a transform before it changed the frames")
        if row is None:
            return {key: value.to(keys[key].device) for key, value in changed.items()}
        out = {}
        for key, value in changed.items():
            batched = keys[key].clone()
            batched[row, :frames, : value.shape[1]] = value.to(batched.device, batched.dtype)
            out[key] = batched
        return out

    def _batch_indices(self, batch: Batch, rows: int) -> Sequence[Any]:
        return _get(batch, "index", "InterferingSpeech", "batch")
