"""The bench's SPEC §8 rows: the GPU stage (:class:`~mcorec_torch.gpu.GpuBatchLoader`) with 1, 4
and 8 decode lanes for each crop/colour, each against the CPU path with as many cores (a
DataLoader with that many workers), plus p50/p95 batch latency and peak GPU memory.
Without GPU decoding here the rows are skipped with the reason."""
from __future__ import annotations

import time
from typing import Any, Callable, Dict, List, Sequence, Tuple

import numpy as np
import torch

from ..data import MCoRecDataset
from ..gpu import GpuBatchLoader, cuda_unavailable_reason
from .measure import Measurement, stopwatch
from .rows import BATCH_SIZE, Skip, loader_pass

#: Decode lanes (GPU rows) and DataLoader workers (their CPU rows) compared.
GPU_THREADS = (1, 4, 8)

Row = Tuple[str, Dict[str, Any], Callable[[], Measurement]]


def _batches(order: Sequence[int]) -> List[List[int]]:
    return [list(map(int, order[k: k + BATCH_SIZE])) for k in range(0, len(order), BATCH_SIZE)]


def gpu_pass(dataset: MCoRecDataset, order: Sequence[int], threads: int, device: str = "cuda") -> Measurement:
    """Batches of ``order`` from the GPU stage with ``threads`` lanes (no DataLoader workers:
    audio and text load in this process, so CPU core-seconds count everything). The
    measurement's ``extra`` holds ``p50_batch_s``/``p95_batch_s`` (wait for each batch,
    GPU work included) and ``gpu_peak_mib``."""
    if device.startswith("cuda"):
        reason = cuda_unavailable_reason(device)
        if reason is not None:
            raise Skip(f"no GPU decoding here: {reason}")
        torch.cuda.reset_peak_memory_stats()
    frames = segments = 0
    waits: List[float] = []
    with stopwatch() as watch:
        loader = GpuBatchLoader(dataset, batch_sampler=_batches(order), device=device, threads=threads)
        try:
            last = time.perf_counter()
            for batch in loader:
                if device.startswith("cuda"):
                    torch.cuda.current_stream().synchronize()  # the batch is ready for use
                now = time.perf_counter()
                waits.append(now - last)
                frames += int(batch["video_lengths"].sum())
                segments += int(batch["video_lengths"].numel())
                last = time.perf_counter()
            report = loader.report()
        finally:
            loader.close()
    if report["run_fallback"] is not None or report["fallbacks"]:
        raise Skip(f"the GPU stage fell back to the CPU: {report['run_fallback'] or report['fallbacks']}")
    measurement = watch.measurement(frames, segments)
    measurement.extra = {"p50_batch_s": float(np.percentile(waits, 50)), "p95_batch_s": float(np.percentile(waits, 95)),
                         "gpu_peak_mib": (torch.cuda.max_memory_allocated() / 2 ** 20) if device.startswith("cuda") else 0.0}
    return measurement


def gpu_rows(datasets: Dict[Tuple[str, str], MCoRecDataset], orders: Dict[Tuple[str, str], List[int]],
             name: Callable[..., str]) -> Tuple[List[Row], Dict[str, Dict[str, str]]]:
    """``(rows, references)``: with GPU decoding, per config and lane count a ``gpu`` row and a
    ``cpu_loader`` row (DataLoader, as many workers); without it one skipped ``gpu`` row."""
    reason = cuda_unavailable_reason("cuda")
    if reason is not None:
        config = next(iter(datasets))
        return [(name("gpu", config), {"kind": "gpu", "config": "/".join(config)},
                 lambda: (_ for _ in ()).throw(Skip(f"no GPU decoding here: {reason}")))], {}
    rows: List[Row] = []
    refs: Dict[str, Dict[str, str]] = {}
    for config, ds in datasets.items():
        order = orders[config]
        for threads in GPU_THREADS:
            gpu, cpu = name("gpu", config, threads), name("cpu_loader", config, threads)
            rows.append((cpu, {"kind": "cpu_loader", "config": "/".join(config), "workers": threads},
                         lambda d=ds, o=order, t=threads: loader_pass(d, o, t)))
            rows.append((gpu, {"kind": "gpu", "config": "/".join(config), "workers": threads},
                         lambda d=ds, o=order, t=threads: gpu_pass(d, o, t)))
            refs[gpu] = {"cpu_path": cpu, "limit": name("limit", config)}
    return rows, refs
