"""``mcorec-torch bench``: loader throughput against the decode limit and the baseline's way.

* :mod:`.split`: the realistic synthetic split (long tracks, x264 defaults, 1-15 s cues), cached;
* :mod:`.measure`: one measurement (frames, segments, wall and CPU seconds) and the
  within-round ratio / median arithmetic;
* :mod:`.rows`: the rows: decode limit, dataset, DataLoader, frame cache, GPU, baseline peer;
* :mod:`.extras`: index build cold / cached and worker RSS;
* :mod:`.run`: :func:`run_bench` (interleaved rounds) and the printed table.
"""
from __future__ import annotations

from .measure import Measurement, summarize_rounds
from .run import format_bench_report, run_bench

__all__ = ["Measurement", "summarize_rounds", "run_bench", "format_bench_report"]
