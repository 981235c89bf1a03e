"""The config names (YAML) of the transforms."""
from __future__ import annotations

from typing import Dict

from .audio import AddNoise, AudioTimeMask
from .features import LogFbank
from .mixing import InterferingSpeech
from .video import CenterCrop, Gray, HorizontalFlip, Normalize, RandomCrop, VideoTimeMask

#: Config names (YAML) to transform classes.
TRANSFORMS: Dict[str, type] = {
    "center_crop": CenterCrop,
    "random_crop": RandomCrop,
    "gray": Gray,
    "normalize": Normalize,
    "hflip": HorizontalFlip,
    "video_time_mask": VideoTimeMask,
    "audio_time_mask": AudioTimeMask,
    "noise": AddNoise,
    "interfering_speech": InterferingSpeech,
    "fbank": LogFbank,
}
