"""The segment index (SPEC §3): which frames, samples and text make each segment, built from
metadata, labels and container headers without decoding (a track whose header does not show
its presented-frame count is counted once), cached on disk. No torch here."""
from .build import INDEX_VERSION, build_index, default_cache_dir
from .options import AUDIO_SOURCES, MISSING_VIDEO, ON_ERROR, DatasetOptions, OptionInfo, option_fields
from .report import (BAD_FILE, DROP_REASONS, EXCLUDED, KEPT, MERGED, OUTCOME_OPTIONS, SKIPPED, IndexReport,
                     NoSegmentsError, UnusableFile)
from .segment_index import SegmentIndex, SessionEntry, SpeakerEntry, Track

__all__ = ["INDEX_VERSION", "build_index", "default_cache_dir", "AUDIO_SOURCES", "MISSING_VIDEO", "ON_ERROR",
           "DatasetOptions", "OptionInfo", "option_fields", "DROP_REASONS", "KEPT", "MERGED", "SKIPPED",
           "BAD_FILE", "EXCLUDED", "OUTCOME_OPTIONS", "IndexReport", "NoSegmentsError", "UnusableFile",
           "SegmentIndex", "SessionEntry", "SpeakerEntry", "Track"]
