"""The on-disk MCoRec format (SPEC §1): file names, ``metadata.json``, track/bbox json, VTT
transcripts, and which cues can become segments. Parsing only: no media is opened and torch
is not imported here."""
from .asd_scores import read_asd_scores
from .cues import BAD_CUE, BEYOND_VIDEO, CUE_FAULTS, OUTSIDE_UEM, cue_fault
from .layout import (CENTRAL_VIDEO_FILE, CROPS, DEFAULT_HYPOTHESIS_DIR, DEFAULT_LABEL_DIR, METADATA_FILE,
                     SPEAKER_TO_CLUSTER_FILE, VIEWS, cluster_path, labels_dir_exists, list_sessions,
                     session_folders, speaker_sort_key, track_files, vtt_path)
from .metadata import (CropEntry, SessionMetadata, SpeakerInfo, TrackTiming, ViewInfo, load_metadata,
                       read_bbox, read_speaker_to_cluster, read_track_json)
from .vtt import Cue, format_timestamp, read_vtt, write_vtt

__all__ = [
    "read_asd_scores",
    "BAD_CUE", "BEYOND_VIDEO", "CUE_FAULTS", "OUTSIDE_UEM", "cue_fault",
    "CENTRAL_VIDEO_FILE", "CROPS", "DEFAULT_HYPOTHESIS_DIR", "DEFAULT_LABEL_DIR", "METADATA_FILE",
    "SPEAKER_TO_CLUSTER_FILE", "VIEWS", "cluster_path", "labels_dir_exists", "list_sessions",
    "session_folders", "speaker_sort_key", "track_files", "vtt_path",
    "CropEntry", "SessionMetadata", "SpeakerInfo", "TrackTiming", "ViewInfo", "load_metadata",
    "read_bbox", "read_speaker_to_cluster", "read_track_json",
    "Cue", "format_timestamp", "read_vtt", "write_vtt",
]
