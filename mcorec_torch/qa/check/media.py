"""``check``'s look at one media file: it exists, opens, demuxes; its video is on the 25 fps
timeline (the index's rule) and its frame count matches the track json; a missing audio
stream is reported as the caller says (a problem where the library reads that audio, a note
where it does not); rate and channels other than 16 kHz mono are noted (resampled and
averaged when read); its first and last frames decode, or with ``deep`` every video and
audio frame."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, Tuple

import av

from ...media.probe import (MediaHeader, count_presented_frames, count_video_packets, open_container, read_header,
                            timing_fault)
from ...media.video import VideoReader
from ...timeline import SAMPLE_RATE
from .collector import Collector
from .findings import (AUDIO_CONVERTED, DECODE_FAILED, FRAME_COUNT, FRAME_RATE, MEDIA_UNREADABLE, MISSING_FILE,
                       NO_FRAMES, Kind)


@dataclass(frozen=True)
class MediaInfo:
    """What ``check`` learnt about a media file."""

    path: Path
    frames: int
    width: int
    height: int
    has_audio: bool
    #: Whether its frames are on the 25 fps timeline (the index's rule,
    #: :func:`~mcorec_torch.media.probe.timing_fault`); the index leaves out a video that is not.
    on_timeline: bool = True


@dataclass(frozen=True)
class DeepJob:
    """A file to decode in full (``--deep``), with its session for the report."""

    path: Path
    frames: int
    session: Optional[str]


def audio_facts(path: Path) -> Tuple[int, int]:
    """``(audio sample rate, audio channels)`` from the headers (0, 0 without audio)."""
    with open_container(path) as container:
        audio = container.streams.audio[0] if container.streams.audio else None
        if audio is None:
            return 0, 0
        return int(audio.sample_rate or 0), int(audio.codec_context.channels or 0)


def frame_count(path: Path, header: MediaHeader, expected_frames: Optional[int]) -> int:
    """Presented frames (SPEC §2): all packets are demuxed (a truncated file shows here); the
    header's count stands only where it is shown and the packets agree, else the stream is
    decoded and its frames counted (an edit list can hide packets)."""
    packets = count_video_packets(path)
    if packets == header.num_frames and header.frames_shown(expected_frames):
        return packets
    return count_presented_frames(path)


def check_media(out: Collector, path: Path, *, expected_frames: Optional[int] = None,
                no_audio: Optional[Tuple[Kind, str]] = None, decode: bool = True,
                deep: Optional[List[DeepJob]] = None) -> Optional[MediaInfo]:
    """Check one media file; returns what was learnt, or ``None`` when it cannot be read.
    ``no_audio``: the finding (kind, what it means) when the file has no audio stream (None:
    none); ``deep``: a list to which the file is added for full decoding instead of decoding
    its first and last frames."""
    out.files += 1
    if not path.is_file():
        out.add(MISSING_FILE, path, "file listed in metadata.json does not exist")
        return None
    header = out.attempt(MEDIA_UNREADABLE, path, lambda: read_header(path))
    facts = out.attempt(MEDIA_UNREADABLE, path, lambda: audio_facts(path)) if header is not None else None
    if header is None or facts is None:
        return None
    audio_rate, channels = facts
    done = ([f"resampled to {SAMPLE_RATE} Hz"] if audio_rate != SAMPLE_RATE else []) + (
        ["averaged to mono"] if channels > 1 else [])
    if header.has_audio and done:
        out.add(AUDIO_CONVERTED, path, f"audio is {audio_rate} Hz, {channels} channel(s): {' and '.join(done)} "
                                       "when it is read")
    elif not header.has_audio and no_audio is not None:
        kind, meaning = no_audio
        out.add(kind, path, f"has no audio stream; {meaning}")
    if not header.has_video:
        out.add(NO_FRAMES, path, "has no video stream")
        return MediaInfo(path, 0, 0, 0, header.has_audio)
    frames = out.attempt(MEDIA_UNREADABLE, path, lambda: frame_count(path, header, expected_frames))
    if frames is None:
        return None
    if frames == 0:
        out.add(NO_FRAMES, path, "video stream has no frames")
        return MediaInfo(path, 0, header.width, header.height, header.has_audio)
    off_timeline = timing_fault(header, frames)  # the index's rule: it leaves such a video out
    if off_timeline is not None:
        out.add(FRAME_RATE, path, f"{off_timeline}; the index leaves it out")
    if expected_frames is not None and abs(frames - expected_frames) > 1:
        out.add(FRAME_COUNT, path, f"holds {frames} frames but its track json says {expected_frames} "
                                   "(frame_end - frame_start)")
    if deep is not None:
        deep.append(DeepJob(path, frames, out.session))
    elif decode and off_timeline is None:  # frames of another rate cannot be asked for by 25 fps number
        out.attempt(DECODE_FAILED, path, lambda: _decode_ends(path, frames))
    return MediaInfo(path, frames, header.width, header.height, header.has_audio, off_timeline is None)


def _decode_ends(path: Path, frames: int) -> None:
    reader = VideoReader(path)
    try:
        reader.read(0, 1, "gray")
        reader.read(frames - 1, 1, "gray")
    finally:
        reader.close()


def decode_everything(path: Path, progress: Callable[[int], None]) -> Tuple[int, List[str]]:
    """Decode every packet of every audio and video stream of ``path``; returns (video frames
    decoded, what failed). ``progress(n)`` is called with each batch of decoded video frames."""
    failures: List[str] = []
    frames = 0
    failed_packets = 0
    first_failure: Optional[str] = None
    with open_container(path) as container:
        streams = [s for s in container.streams if s.type in ("video", "audio")]
        try:
            for packet in container.demux(*streams):
                try:
                    decoded = packet.decode()
                except (av.error.FFmpegError, ValueError) as exc:
                    failed_packets += 1
                    if first_failure is None:
                        first_failure = f"{packet.stream.type} packet near video frame {frames}: {exc}"
                    continue
                if packet.stream.type == "video" and decoded:
                    frames += len(decoded)
                    progress(len(decoded))
        except (av.error.FFmpegError, ValueError) as exc:
            failures.append(f"demuxing stops near video frame {frames}: {exc}")
    if failed_packets:
        failures.append(f"{failed_packets} packet(s) do not decode (corrupt data), the first {first_failure}")
    return frames, failures


def run_deep(out: Collector, jobs: List[DeepJob], show_progress: bool = True) -> int:
    """Decode every file of ``jobs`` in full with a progress bar (frames); records failures and
    files that decode to fewer frames than they hold. Returns the frames decoded."""
    from tqdm import tqdm

    total = 0
    with tqdm(total=sum(j.frames for j in jobs), unit="frame", desc="decoding every frame",
              disable=None if show_progress else True) as bar:
        for job in jobs:
            out.session = job.session
            result = out.attempt(DECODE_FAILED, job.path, lambda: decode_everything(job.path, bar.update))
            if result is None:
                continue
            frames, failures = result
            total += frames
            for failure in failures:
                out.add(DECODE_FAILED, job.path, failure)
            if frames < job.frames:
                out.add(DECODE_FAILED, job.path, f"{frames} of its {job.frames} frames decode")
    return total
