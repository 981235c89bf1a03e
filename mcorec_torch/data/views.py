"""Views of an ``MCoRecDataset`` (``select``, ``split_by_session``, ``split_by_speaker``): a copy
of the dataset object that shares its index arrays, reader, texts and options and serves only the
items a mask keeps (which ones: :mod:`mcorec_torch.index.select`)."""
from __future__ import annotations

import copy
from typing import Any, Tuple

import numpy as np

from ..index.report import KEPT, SPLIT_OFF, IndexReport, NoSegmentsError
from ..index.select import held_out_mask
from .worker import SkipCounts

#: An :class:`~mcorec_torch.MCoRecDataset` (not imported: the dataset imports this module).
Dataset = Any

__all__ = ["make_view", "split_views"]


def make_view(dataset: Dataset, keep: np.ndarray, outcome: str, why: str) -> Dataset:
    """The view of ``dataset``'s items that ``keep`` (bool per item) marks. Its own: the rows
    and their texts' places, the report's extra counts (the items left out moved from ``kept`` to
    ``outcome``, per speaker), the skip counts, and a transform bound to ``dataset`` (copied and
    bound to the view). 0 items: :class:`~mcorec_torch.index.report.NoSegmentsError` naming ``why``
    unless the dataset allows empty results."""
    view = copy.copy(dataset)
    view._rows = dataset._rows[keep]
    view._text_item = dataset._text_item[keep]
    view._extra_report = dataset._extra_report.merged_with(IndexReport())
    speakers, counts = np.unique(dataset.index.speaker[dataset._rows[~keep]], return_counts=True)
    for speaker, n in zip(speakers.tolist(), counts.tolist()):
        key = dataset._speaker_key(int(speaker))
        view._extra_report.add(key, KEPT, -n)
        view._extra_report.add(key, outcome, n)
    view._skipped = SkipCounts(len(view))  # shared memory, one counter per item of the view
    if len(view) == 0 and not dataset.options.allow_empty:
        report = view.report()
        raise NoSegmentsError("select", f"select: 0 of {len(dataset)} segments are left by {why} from "
                                        f"{', '.join(str(r) for r in dataset.roots)}; make the dataset with "
                                        f"allow_empty=True to accept an empty view\n{report.format()}", report)
    if hasattr(dataset.transform, "bind"):  # its draws index the dataset it is bound to
        view.transform = copy.deepcopy(dataset.transform, {id(dataset): view})
        view.transform.bind(view)
    return view


def split_views(dataset: Dataset, by: str, fraction: float, seed: int) -> Tuple[Dataset, Dataset]:
    """``(rest, held_out)`` views of ``dataset`` with no session (``by="session"``) or speaker in
    both (:func:`~mcorec_torch.index.select.held_out_mask`); each counts the other's segments as
    ``split_off``."""
    held = held_out_mask(dataset.index, dataset._rows, by, fraction, seed)
    what = f"split_by_{by}(fraction={fraction!r}, seed={seed!r})"
    return (make_view(dataset, ~held, SPLIT_OFF, f"{what}, the rest"),
            make_view(dataset, held, SPLIT_OFF, f"{what}, held out"))
