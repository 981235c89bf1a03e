"""The bench's synthetic split: tracks of realistic shape, written once into ``--out`` and reused.

Shape (default): 1 session of 9,000 frames (6 minutes at 25 fps), 2 speakers, 96x96 lip and
224x224 face crops, x264 defaults (keyint 250 = a keyframe every 10 s, 3 B-frames, crf 23).
``quick``: 1 session of 375 frames (15 s), 1 speaker. The planner's own cues are 0.4-4 s, so
the bench replaces each speaker's cues with cues of 1-15 s inside the speaker's UEM (the track
layout, gaps and encodings of :func:`~mcorec_torch.synthetic.plan_session` are kept).
"""
from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List

import numpy as np

from ..synthetic import CueSpec, SessionSpec, plan_session, write_synthetic_session
from ..timeline import FPS, MS_PER_FRAME

__all__ = ["SplitShape", "FULL_SHAPE", "QUICK_SHAPE", "long_cues", "ensure_split"]

_WORDS = ("alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet")
_MARKER = "bench_split.json"


@dataclass(frozen=True)
class SplitShape:
    """Sessions, frames per session (25 fps), speakers per session, cue lengths (ms)."""

    sessions: int
    num_frames: int
    speakers: int
    cue_min_ms: int = 1000
    cue_max_ms: int = 15000

    @property
    def key(self) -> str:
        return f"s{self.sessions}-f{self.num_frames}-k{self.speakers}-c{self.cue_min_ms}-{self.cue_max_ms}"

    def describe(self) -> str:
        return (f"{self.sessions} session(s) x {self.num_frames} frames ({self.num_frames / FPS / 60:.1f} min), "
                f"{self.speakers} speaker(s), 96x96 lip + 224x224 face, x264 defaults (keyint 250, B-frames), "
                f"cues {self.cue_min_ms / 1000:g}-{self.cue_max_ms / 1000:g} s")


FULL_SHAPE = SplitShape(sessions=1, num_frames=9000, speakers=2)
QUICK_SHAPE = SplitShape(sessions=1, num_frames=375, speakers=1, cue_min_ms=1000, cue_max_ms=4000)


def long_cues(rng: np.random.Generator, uem_start_s: float, uem_end_s: float,
              min_ms: int, max_ms: int) -> List[CueSpec]:
    """Non-overlapping cues of ``min_ms``-``max_ms`` (uniform) with 0.2-2 s pauses, inside the
    UEM ``[uem_start_s, uem_end_s]`` (seconds); starts are not frame aligned."""
    cues: List[CueSpec] = []
    t = int(uem_start_s * 1000) + 200
    end_limit = int(uem_end_s * 1000) - 100
    while True:
        start = t + int(rng.integers(200, 2001))
        if start % MS_PER_FRAME == 0:
            start += 7
        end = start + int(rng.integers(min_ms, max_ms + 1))
        if end > end_limit:
            break
        words = max(1, (end - start) // 400)
        text = " ".join(_WORDS[int(w)] for w in rng.integers(0, len(_WORDS), size=words))
        cues.append(CueSpec(start_ms=start, end_ms=end, text=text))
        t = end
    return cues


def plan(shape: SplitShape, index: int, seed: int = 0) -> SessionSpec:
    """Session ``index`` of ``shape``: :func:`plan_session`'s tracks with :func:`long_cues`."""
    spec = plan_session(f"session_{index:02d}", seed + index, num_frames=shape.num_frames,
                        num_speakers=shape.speakers, num_conversations=1)
    rng = np.random.default_rng([seed, index, 1515])
    for speaker in spec.speakers:
        speaker.cues = long_cues(rng, speaker.uem_start, speaker.uem_end, shape.cue_min_ms, shape.cue_max_ms)
    return spec


def ensure_split(out: Path, shape: SplitShape) -> Dict[str, Any]:
    """The split of ``shape`` under ``out`` (written unless a complete one is there).

    Returns ``{"path", "shape", "written", "write_s"}`` (``write_s``: seconds spent encoding
    now, 0 when reused)."""
    split = Path(out) / f"split-{shape.key}" / "dev"
    marker = split.parent / _MARKER
    written, seconds = False, 0.0
    if not marker.is_file():
        if split.exists():
            shutil.rmtree(split)
        started = time.perf_counter()
        for i in range(shape.sessions):
            write_synthetic_session(plan(shape, i), split, video_options={})
        seconds = time.perf_counter() - started
        marker.write_text(json.dumps({"shape": shape.key, "write_s": seconds}))
        written = True
    return {"path": str(split), "shape": shape.describe(), "written": written, "write_s": seconds}
