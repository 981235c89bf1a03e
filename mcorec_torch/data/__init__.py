"""Samples for training (SPEC §4, §5): the segment reader, the map-style dataset, the collate
function and the length-bucketing batch sampler."""
from .collate import Collator, collate
from .dataset import MCoRecDataset
from .reader import SegmentReader
from .sample import Batch, Sample
from .samplers import BucketBatchSampler

__all__ = ["Collator", "collate", "MCoRecDataset", "SegmentReader", "Batch", "Sample", "BucketBatchSampler"]
