"""Media on the CPU with PyAV: container headers and presented-frame counts, frame-exact video
reads, whole-track audio decoding, the per-process pools and disk caches, and mp4 writing.
No torch here."""
from .audio import AUDIO_DECODER_VERSION, decode_audio, slice_padded
from .color import COLORS, GRAY_LUT, frame_to_gray, frame_to_rgb, swscale_gray_is_exact
from .headers import HEADER_VERSION, HeaderCache
from .pool import MediaPool
from .probe import (MediaHeader, count_presented_frames, count_video_packets, open_container, presented_frames,
                    read_header)
from .video import VideoReader

__all__ = ["AUDIO_DECODER_VERSION", "decode_audio", "slice_padded", "COLORS", "GRAY_LUT", "frame_to_gray",
           "frame_to_rgb", "swscale_gray_is_exact", "HEADER_VERSION", "HeaderCache", "MediaPool", "MediaHeader",
           "count_presented_frames", "count_video_packets", "open_container", "presented_frames", "read_header",
           "VideoReader"]
