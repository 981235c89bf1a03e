"""The bench's rows for the cost of who speaks when (the ``activity`` option, SPEC §4): the
dataset row (``dataset[i]`` in one process) and the steady DataLoader row without workers
(batches of 8 through ``__getitems__`` and ``collate``) of one configuration again, with
``activity="labels"`` (the bench reads transcript segments, so the transcripts are there), over
the same segments in the same order. Each is compared, within every round, with its row without
activity (``without_activity``: frames/s with / without, so 0.97 is 3% slower). Each session's
activity is computed once per process, so a round after the first measures the cost per sample."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence, Tuple

from ..data import MCoRecDataset
from .measure import Measurement
from .rows import dataset_pass, steady_loader_pass

__all__ = ["activity_rows", "ACTIVITY_KIND", "WITHOUT_ACTIVITY"]

#: The rows' ``kind`` in the bench's JSON.
ACTIVITY_KIND = "activity"
#: The name of their ratio (frames/s with activity / without, within a round).
WITHOUT_ACTIVITY = "without_activity"

Row = Tuple[str, Dict[str, Any], Callable[[], Measurement]]


def activity_rows(roots: Sequence[str], cache: Path, config: Tuple[str, str], order: List[int],
                  name: Callable[..., str]) -> Tuple[List[Row], Dict[str, Dict[str, str]], List[MCoRecDataset]]:
    """``(rows, references, datasets)``: ``activity <config>`` (against ``dataset <config>``) and
    ``activity w=0 <config>`` (against ``steady w=0 <config>``) over ``order``; ``name`` is the
    bench's row naming (``name(kind, config, workers=None)``)."""
    crops, color = config
    meta = {"kind": ACTIVITY_KIND, "config": "/".join(config)}
    one, steady = name(ACTIVITY_KIND, config), name(ACTIVITY_KIND, config, 0)
    refs = {one: {WITHOUT_ACTIVITY: name("dataset", config)}, steady: {WITHOUT_ACTIVITY: name("steady", config, 0)}}
    dataset = MCoRecDataset(list(roots), crops=crops, color=color, cache_dir=cache, activity="labels")
    dataset[order[0]]  # the audio track decoded and cached outside the timed passes, as for the dataset row
    rows = [(one, meta, lambda: dataset_pass(dataset, order)),
            (steady, dict(meta, workers=0), lambda: steady_loader_pass(dataset, order, 0))]
    return rows, refs, [dataset]
