"""The bench's rows. Each measures one pass and returns a :class:`~.measure.Measurement`
(frames delivered, segments, wall seconds, CPU core-seconds), or raises :class:`Skip` with
the reason the row cannot run here.

* :func:`limit_pass`: the decode limit: every track the pass's segments read, decoded once in
  file order by PyAV on one thread, with the loader's conversion and one reusable swscale context;
* :func:`dataset_pass`: ``MCoRecDataset[i]`` in this process over a fixed random order;
* :func:`loader_pass`: a ``DataLoader`` (batch 8, ``collate``) with ``W`` workers, and the
  seconds before its first batch (:func:`startup_dominated`: a pass mostly start-up is not a
  throughput);
* :func:`steady_loader_pass`: the same over batches of the order, with 0 or 2 workers started
  before the timed pass (steady state), and the RSS of the main process and the workers;
* :func:`baseline_pass`: the MCoRec baseline's torchcodec loader (a new
  ``VideoDecoder``/``AudioDecoder`` per sample), when torchcodec imports here.

The GPU rows are in :mod:`.gpu_rows`.
"""
from __future__ import annotations

import collections
import os
import time
from typing import Any, Dict, List, Sequence

import av
import numpy as np
import torch
from av.video.reformatter import VideoReformatter
from torch.utils.data import DataLoader

from ..data import MCoRecDataset, collate
from ..media.color import frame_to_gray, frame_to_rgb
from ..timeline import FPS, SAMPLES_PER_FRAME
from .measure import Measurement, stopwatch

__all__ = ["Skip", "worker_init", "track_paths", "limit_pass", "dataset_pass", "loader_pass", "steady_loader_pass",
           "vm_rss_kib",
           "baseline_pass", "BATCH_SIZE", "MIN_PASS_SEGMENTS", "random_order", "STARTUP_SHARE", "startup_dominated"]

#: Samples per DataLoader batch in the loader rows.
BATCH_SIZE = 8

#: Segments of a pass when ``--segments`` is not given: the whole split, repeated (in fresh random
#: orders) up to this many, so a pass lasts seconds and DataLoader start-up does not dominate it.
MIN_PASS_SEGMENTS = 256


#: A loader pass that spent at least this share of its wall time before its first batch (worker
#: start-up and the first batch's loading) measures start-up, not throughput (``--quick``: one batch).
STARTUP_SHARE = 0.5


def startup_dominated(figures: Dict[str, Any]) -> bool:
    """Whether a loader row's figures (a :class:`~.measure.Measurement` as a dict, or their
    medians) are mostly start-up: ``first_batch_s >= STARTUP_SHARE * wall_s``. Rows without
    ``first_batch_s`` (not a loader) are not."""
    first = figures.get("first_batch_s")
    return first is not None and first >= STARTUP_SHARE * figures["wall_s"]


def random_order(rng: np.random.Generator, n: int, count: int) -> List[int]:
    """``count`` indices: random permutations of ``range(n)``, concatenated."""
    order: List[int] = []
    while len(order) < count:
        order.extend(int(i) for i in rng.permutation(n))
    return order[:count]


class Skip(Exception):
    """A row that cannot run here; the message is the reason."""


def worker_init(_worker_id: int) -> None:
    """DataLoader ``worker_init_fn``: one torch thread per worker (FACTS: two intra-op threads
    on a busy 2-core machine stall small ops)."""
    torch.set_num_threads(1)


def track_paths(dataset: MCoRecDataset, order: Sequence[int]) -> List[str]:
    """Crop videos of the speakers of segments ``order`` (the files the pass reads), sorted."""
    index = dataset.index
    speakers = set(int(s) for s in dataset.segment_speaker[np.asarray(order, dtype=np.int64)])
    return sorted({index.tracks[t].path for s in speakers for t in index.speakers[s].tracks})


def limit_pass(paths: Sequence[str], color: str, frames_per_segment: float) -> Measurement:
    """Decode every file of ``paths`` once, sequentially, PyAV with one thread, converting each
    frame as the loader does (SPEC §8 gray or RGB) with one reusable ``VideoReformatter``.
    ``segments`` is in segment equivalents: frames / ``frames_per_segment`` (the pass's mean)."""
    reformatter = VideoReformatter()
    frames = 0
    with stopwatch() as watch:
        for path in paths:
            with av.open(path) as container:
                stream = container.streams.video[0]
                stream.thread_type = "SLICE"
                stream.codec_context.thread_count = 1
                for frame in container.decode(stream):
                    if color == "gray":
                        frame_to_gray(frame, reformatter)
                    else:
                        frame_to_rgb(frame, reformatter)
                    frames += 1
    return watch.measurement(frames, int(round(frames / max(frames_per_segment, 1e-9))))


def dataset_pass(dataset: MCoRecDataset, order: Sequence[int]) -> Measurement:
    """``dataset[i]`` for ``i`` in ``order``, in this process."""
    frames = 0
    with stopwatch() as watch:
        for i in order:
            frames += int(dataset[int(i)]["video"].shape[0])
    return watch.measurement(frames, len(order))


def loader_pass(dataset: MCoRecDataset, order: Sequence[int], workers: int) -> Measurement:
    """A ``DataLoader`` over ``order`` with ``workers`` worker processes (started and joined
    inside the measurement, so their CPU time is reaped into ``RUSAGE_CHILDREN``). The
    measurement's ``extra`` holds ``first_batch_s``: wall seconds from the start until the
    first batch arrived (worker start-up and that batch's loading)."""
    frames = segments = 0
    first_batch_s = None
    with stopwatch() as watch:
        started = time.perf_counter()
        loader = DataLoader(dataset, batch_size=BATCH_SIZE, sampler=[int(i) for i in order], num_workers=workers,
                            collate_fn=collate, worker_init_fn=worker_init if workers else None)
        iterator = iter(loader)
        for batch in iterator:
            if first_batch_s is None:
                first_batch_s = time.perf_counter() - started
            frames += int(batch["video_lengths"].sum())
            segments += int(batch["video_lengths"].numel())
        del iterator, loader
    measurement = watch.measurement(frames, segments)
    measurement.extra = {"first_batch_s": first_batch_s if first_batch_s is not None else watch.wall_s}
    return measurement


def _cpu_s_of(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (``/proc/<pid>/stat``; 0 where unreadable)."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def steady_loader_pass(dataset: MCoRecDataset, order: Sequence[int], workers: int) -> Measurement:
    """``DataLoader(dataset, batch_sampler=<batches of 8 of order>, collate_fn=collate)`` in steady
    state: one untimed pass over the same batches comes first (workers started, persistent;
    their files opened and their batch blocks allocated, as after the first minutes of
    training), so start-up is not measured. CPU: this process plus the workers' own
    (``/proc/<pid>/stat``, read before and after the pass). ``extra``: ``main_rss_mib``,
    ``worker_rss_mib`` (the largest worker's RSS after the pass; 0 without workers) and
    ``worker_shmem_mib`` (the shared memory in it: the worker's batch blocks)."""
    batches = [[int(i) for i in order[k: k + BATCH_SIZE]] for k in range(0, len(order), BATCH_SIZE)]
    loader = DataLoader(dataset, batch_sampler=batches, collate_fn=collate, num_workers=workers,
                        persistent_workers=workers > 0, worker_init_fn=worker_init if workers else None)
    frames = segments = 0
    try:
        collections.deque(loader, maxlen=0)  # the untimed pass, keeping no batch
        pids = [w.pid for w in getattr(loader._iterator, "_workers", [])] if workers else []
        before = sum(_cpu_s_of(pid) for pid in pids)
        with stopwatch() as watch:
            for batch in loader:
                frames += int(batch["video_lengths"].sum())
                segments += int(batch["video_lengths"].numel())
        measurement = watch.measurement(frames, segments)
        measurement.cpu_s += sum(_cpu_s_of(pid) for pid in pids) - before
        largest = max(pids, key=lambda pid: vm_rss_kib(str(pid)), default=None)
        measurement.extra = {
            "main_rss_mib": vm_rss_kib() / 1024.0,
            "worker_rss_mib": vm_rss_kib(str(largest)) / 1024.0 if largest is not None else 0.0,
            "worker_shmem_mib": vm_rss_kib(str(largest), "RssShmem") / 1024.0 if largest is not None else 0.0}
    finally:
        iterator = getattr(loader, "_iterator", None)
        if iterator is not None and hasattr(iterator, "_shutdown_workers"):
            iterator._shutdown_workers()
        del loader
    return measurement


def vm_rss_kib(pid: str = "self", field: str = "VmRSS") -> int:
    """Resident set size of process ``pid`` in KiB (``VmRSS`` of ``/proc/<pid>/status``, or
    another of its fields such as ``RssShmem``: shared memory; 0 where unreadable)."""
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _baseline_modules() -> Any:
    try:
        import torchcodec.decoders as decoders  # noqa: PLC0415  optional peer
    except Exception as exc:  # ImportError, or OSError/RuntimeError loading FFmpeg's libraries
        raise Skip(f"torchcodec not importable: {type(exc).__name__}: {str(exc).splitlines()[0][:160]}")
    return decoders


def _cut_or_pad(audio: torch.Tensor, length: int) -> torch.Tensor:
    """The baseline's ``cut_or_pad``: first ``length`` samples, zero-padded at the end."""
    if audio.shape[-1] >= length:
        return audio[..., :length]
    return torch.nn.functional.pad(audio, (0, length - audio.shape[-1]))


def baseline_pass(dataset: MCoRecDataset, order: Sequence[int]) -> Measurement:
    """The MCoRec baseline's way, call for call (FACTS.md): per sample a new torchcodec
    ``VideoDecoder(track)`` and ``get_frames_played_in_range(start, end)`` on the cue's
    seconds relative to the track start, a new ``AudioDecoder(track)`` and
    ``get_samples_played_in_range(start, end)``, audio cut or padded to ``640 * T``; gray is
    the luma of the decoded RGB. Segments spanning several tracks read their first track."""
    decoders = _baseline_modules()
    index = dataset.index
    gray = dataset.color == "gray"
    weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    frames = 0
    with stopwatch() as watch:
        for i in order:
            start_s, end_s = _segment_seconds(dataset, int(i))
            # the track of the segment's first covered frame (a cue may start in a gap)
            track = index.tracks[index.pieces(dataset.index_row(int(i)))[0][0]]
            offset = track.start / FPS
            begin = max(0.0, start_s - offset)
            # a cue running past the track's end: torchcodec refuses a stop beyond the stream,
            # so the peer reads up to the stream's end (and pads its audio, as cut_or_pad does)
            video_decoder = decoders.VideoDecoder(track.path)
            video = video_decoder.get_frames_played_in_range(
                begin, min(end_s - offset, float(video_decoder.metadata.end_stream_seconds))).data
            if gray:
                video = (video.float() * weights).sum(1, keepdim=True).round().clamp(0, 255).to(torch.uint8)
            audio_decoder = decoders.AudioDecoder(track.path)
            audio_end = float(audio_decoder.metadata.duration_seconds_from_header or end_s - offset)
            samples = audio_decoder.get_samples_played_in_range(begin, min(end_s - offset, audio_end)).data.mean(0)
            _cut_or_pad(samples, SAMPLES_PER_FRAME * int(video.shape[0]))
            frames += int(video.shape[0])
    return watch.measurement(frames, len(order))


def _segment_seconds(dataset: MCoRecDataset, i: int) -> tuple:
    """Cue start and end of segment ``i`` in seconds (central timeline)."""
    index = dataset.index
    row = dataset.index_row(i)
    return int(index.start_ms[row]) / 1000.0, int(index.end_ms[row]) / 1000.0


def cpu_count() -> int:
    """Usable CPU cores of this process."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
