"""Exporting segments for other toolkits (SPEC §7): per-segment mp4 with transcripts, a manifest
and an auto_avsr CSV; WebDataset tar shards; lhotse manifests; a Hugging Face ``datasets``
dataset; an ESPnet/Kaldi data directory. ``mcorec-torch export`` and ``export-merge`` run it.

Modules, each with one job: :mod:`.plan` (settings, fingerprint, shards, records),
:mod:`.codec` (segment media files), :mod:`.writers` (one session in one format),
:mod:`.hf` (the Arrow schema and parts), :mod:`.merge` (final files from the parts),
:mod:`.run` (the pool, the bar, resume), :mod:`.read` (exports back into sample dicts,
:class:`WdsDataset`), :mod:`.verify` (``--verify``).

Segments are read through :class:`~mcorec_torch.MCoRecDataset` (its ``SegmentReader``);
``webdataset``, ``lhotse`` and ``datasets`` are needed only to read the exports (``datasets``
also writes ``hf``).
"""
from .merge import read_manifest, merge_export
from .plan import FORMATS, ExportPlan, ExportSettings, parse_shard
from .read import WdsDataset, iter_wds, read_files_record, sample_from_wds, shard_paths
from .run import ExportResult, export_split, output_size, speech_hours
from .verify import format_report, verify_export

__all__ = ["FORMATS", "ExportSettings", "ExportPlan", "ExportResult", "export_split", "merge_export",
           "read_manifest", "parse_shard", "verify_export", "format_report", "iter_wds", "WdsDataset",
           "sample_from_wds", "read_files_record", "shard_paths", "output_size", "speech_hours"]
