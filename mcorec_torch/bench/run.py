""":func:`run_bench`: every row once per round in a fixed order, ``rounds`` times, so each ratio
is taken between passes of the same round; :func:`format_bench_report`: the printed table."""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import av
import numpy as np
import torch

from ..data import MCoRecDataset
from .activity_rows import WITHOUT_ACTIVITY, activity_rows
from .extras import index_times, worker_rss
from .gpu_rows import gpu_rows
from .measure import Measurement, summarize_rounds
from .rows import (MIN_PASS_SEGMENTS, Skip, baseline_pass, cpu_count, dataset_pass, limit_pass, loader_pass,
                   random_order, startup_dominated, steady_loader_pass, track_paths)
from .split import FULL_SHAPE, QUICK_SHAPE, ensure_split

__all__ = ["run_bench", "format_bench_report", "CONFIGS", "LOADER_CONFIG", "STEADY_WORKERS"]

#: ``(crops, color)`` of the dataset rows, in the order they run.
CONFIGS: Tuple[Tuple[str, str], ...] = (("lip", "gray"), ("lip", "rgb"), ("face", "rgb"), ("face", "gray"))
#: The configuration of the DataLoader (start-up included), GPU and RSS rows.
LOADER_CONFIG = ("lip", "gray")
#: Workers of the steady-state DataLoader rows of every configuration: (d0) and (d).
STEADY_WORKERS = (0, 2)
#: Where the synthetic split and the caches are kept when ``args.out`` is not given.
DEFAULT_OUT = Path(tempfile.gettempdir()) / "mcorec-bench"


def _name(kind: str, config: Tuple[str, str], workers: Optional[int] = None) -> str:
    label = "/".join(config)
    return f"{kind} w={workers} {label}" if workers is not None else f"{kind} {label}"


def _frame_cache_dataset(roots: List[str], out: Path, crops: str, color: str, order: List[int]) -> MCoRecDataset:
    """A ``frame_cache=True`` dataset with its cache built (one untimed pass over ``order``);
    :class:`Skip` if the option raises or writes no cache files."""
    cache = out / "cache-frames"
    try:
        dataset = MCoRecDataset(roots, crops=crops, color=color, cache_dir=cache, frame_cache=True)
        for i in sorted(set(order)):
            dataset[int(i)]
    except Exception as exc:  # not built yet, or broken: the row says why
        raise Skip(f"frame_cache=True failed: {type(exc).__name__}: {str(exc).splitlines()[0][:160] if str(exc) else ''}")
    # Anything in the cache directory besides the index and the audio cache is the frame cache.
    frames = [p for p in cache.rglob("*") if p.is_file() and "audio" not in p.relative_to(cache).parts
              and not p.name.startswith("index-")]
    if not frames:
        dataset.close()
        raise Skip("frame_cache=True accepted but no frame cache was written (not functional yet)")
    return dataset


def _plan_rows(roots: List[str], out: Path, args: argparse.Namespace, segments: Optional[int]
               ) -> Tuple[List[Tuple[str, Dict[str, Any], Callable[[], Measurement]]], Dict[str, str],
                          Dict[str, Dict[str, Optional[str]]], List[MCoRecDataset]]:
    """``(rows, skipped, references, datasets)``: the row callables in their fixed order."""
    rng = np.random.default_rng(0)
    rows: List[Tuple[str, Dict[str, Any], Callable[[], Measurement]]] = []
    skipped: Dict[str, str] = {}
    refs: Dict[str, Dict[str, Optional[str]]] = {}
    opened: List[MCoRecDataset] = []
    datasets: Dict[Tuple[str, str], MCoRecDataset] = {}
    orders: Dict[Tuple[str, str], List[int]] = {}
    for config in CONFIGS:
        crops, color = config
        ds = MCoRecDataset(roots, crops=crops, color=color, cache_dir=out / "cache")
        opened.append(ds)
        order = random_order(rng, len(ds), segments or max(len(ds), MIN_PASS_SEGMENTS))
        ds[order[0]]  # opens the audio track (decoded once, cached) outside the timed passes
        datasets[config], orders[config] = ds, order
        paths = track_paths(ds, order)
        limit, base = _name("limit", config), _name("baseline", config)
        rows.append((limit, {"kind": "limit", "config": "/".join(config), "files": len(paths)},
                     lambda p=paths, c=color, f=float(ds.lengths[order].mean()): limit_pass(p, c, f)))
        rows.append((_name("dataset", config), {"kind": "dataset", "config": "/".join(config)},
                     lambda d=ds, o=order: dataset_pass(d, o)))
        refs[_name("dataset", config)] = {"limit": limit, "baseline": base}
        rows.append((base, {"kind": "baseline", "config": "/".join(config)},
                     lambda d=ds, o=order: baseline_pass(d, o)))
        refs[base] = {"limit": limit}
        name = _name("frame_cache", config)
        meta = {"kind": "frame_cache", "config": "/".join(config)}
        try:
            cached = _frame_cache_dataset(roots, out, crops, color, order)
            opened.append(cached)
            rows.append((name, meta, lambda d=cached, o=order: dataset_pass(d, o)))
        except Skip as exc:
            rows.append((name, meta, lambda reason=str(exc): (_ for _ in ()).throw(Skip(reason))))
        refs[name] = {"limit": limit, "baseline": base, "dataset": _name("dataset", config)}
        for w in STEADY_WORKERS:
            name = _name("steady", config, w)
            rows.append((name, {"kind": "steady", "config": "/".join(config), "workers": w},
                         lambda d=ds, o=order, w=w: steady_loader_pass(d, o, w)))
            refs[name] = {"limit": limit, "baseline": base, "one_process": _name("dataset", config)}
    more, more_refs, more_opened = activity_rows(roots, out / "cache", LOADER_CONFIG, orders[LOADER_CONFIG], _name)
    rows.extend(more)
    refs.update(more_refs)
    opened.extend(more_opened)
    ds, order = datasets[LOADER_CONFIG], orders[LOADER_CONFIG]
    workers = [1, 2] + ([args.workers] if args.workers not in (1, 2) else [])
    for w in workers:
        name = _name("dataloader", LOADER_CONFIG, w)
        rows.append((name, {"kind": "dataloader", "config": "/".join(LOADER_CONFIG), "workers": w},
                     lambda w=w: loader_pass(ds, order, w)))
        refs[name] = {"limit": _name("limit", LOADER_CONFIG), "baseline": _name("baseline", LOADER_CONFIG),
                      "one_process": _name("dataset", LOADER_CONFIG)}
    more, more_refs = gpu_rows(datasets, orders, _name)
    rows.extend(more)
    refs.update(more_refs)
    if getattr(args, "gpu_only", False):  # what scripts/gpu_check.sh measures
        rows = [row for row in rows if row[1]["kind"] in ("gpu", "cpu_loader", "limit")]
    return rows, skipped, refs, opened


def run_bench(args: argparse.Namespace) -> Dict[str, Any]:
    """Run the bench; returns every figure (the JSON of ``--json``)."""
    quick = bool(getattr(args, "quick", False))
    rounds = int(getattr(args, "rounds", None) or (1 if quick else 3))
    args.workers = int(getattr(args, "workers", None) or cpu_count())
    samples = int(getattr(args, "samples", None) or (16 if quick else 2000))
    segments = getattr(args, "segments", None) or (3 if quick else None)
    out = Path(getattr(args, "out", None) or DEFAULT_OUT)
    out.mkdir(parents=True, exist_ok=True)
    if getattr(args, "root", None):
        roots = [str(r) for r in args.root]
        split: Dict[str, Any] = {"path": roots, "shape": "real split(s)", "written": False, "write_s": 0.0}
    else:
        split = ensure_split(out, QUICK_SHAPE if quick else FULL_SHAPE)
        roots = [split["path"]]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        index = index_times(roots, crops=LOADER_CONFIG[0])
        rows, skipped, refs, opened = _plan_rows(roots, out, args, segments)
        per_round: List[Dict[str, Measurement]] = []
        for _ in range(rounds):
            measured: Dict[str, Measurement] = {}
            for name, _meta, fn in rows:
                if name in skipped:
                    continue
                try:
                    measured[name] = fn()
                except Skip as exc:
                    skipped[name] = str(exc)
            per_round.append(measured)
        per_pass = int(segments or max(len(opened[0]), MIN_PASS_SEGMENTS))
        rss = worker_rss(opened[0], samples, workers=min(2, args.workers))
        for ds in opened:
            ds.close()
    finally:
        torch.set_num_threads(threads)
    summary = summarize_rounds(per_round, refs)
    result_rows: Dict[str, Any] = {}
    for name, meta, _fn in rows:
        entry = dict(meta, skipped=skipped.get(name), rounds=[r[name].to_dict() for r in per_round if name in r])
        entry.update(summary.get(name, {"median": None, "ratios": {}, "ratio_rounds": {}}))
        entry["references"] = dict(refs.get(name, {}))
        entry["startup_dominated"] = bool(entry["median"]) and startup_dominated(entry["median"])
        result_rows[name] = entry
    return {"split": split, "rounds": rounds, "segments_per_pass": per_pass, "workers": args.workers,
            "machine": {"cpu_count": cpu_count(), "torch": torch.__version__, "av": av.__version__,
                        "cuda": bool(torch.cuda.is_available())},
            "rows": result_rows, "index": index, "rss": rss}


def _fmt(value: Optional[float], digits: int = 0) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _startup_in(row: Dict[str, Any], rows: Dict[str, Any]) -> bool:
    """Whether ``row`` or a row its ratios compare with is mostly start-up (``rows``: every row
    by name); its ratio lines are then not printed."""
    compared = [rows.get(ref) for ref in row.get("references", {}).values() if ref]
    return any(r is not None and r.get("startup_dominated") for r in [row, *compared])


def _steady_lines(rows: Dict[str, Any]) -> List[str]:
    """The steady-state DataLoader rows against the 1-process dataset row, one line per config:
    (d0)/(b), (d)/(b), CPU core-seconds per 1,000 frames of (b), (d0), (d), and RSS."""
    lines: List[str] = []
    for crops, color in CONFIGS:
        config = f"{crops}/{color}"
        dataset = rows.get(f"dataset {config}") or {}
        steady = [rows.get(_name("steady", (crops, color), w)) or {} for w in STEADY_WORKERS]
        if not dataset.get("median") or not all(r.get("median") for r in steady):
            continue
        if not lines:
            lines.append("DataLoader in steady state (batches of 8, collate; workers started before the pass) "
                         "against the dataset row (b):")
        ratios = ", ".join(f"(d{'0' if w == 0 else ''})/(b) {_fmt(r['ratios'].get('one_process'), 2)}"
                           + (f" with {w} workers" if w else "") for w, r in zip(STEADY_WORKERS, steady))
        cpu = " / ".join(_fmt(r["median"]["cpu_s_per_1000_frames"], 3) for r in [dataset] + steady)
        workers = steady[-1]["median"]
        lines.append(f"  {config}: {ratios}; CPU s/1k frames (b) / (d0) / (d) {cpu}; RSS main "
                     f"{workers['main_rss_mib']:.0f} MiB, largest worker {workers['worker_rss_mib']:.0f} MiB "
                     f"({workers.get('worker_shmem_mib', 0.0):.0f} MiB of it batch blocks)")
    return lines


def format_bench_report(result: Dict[str, Any]) -> str:
    """The table of :func:`run_bench`'s result (medians over rounds; ratios of frames/s taken
    within each round, then their median), then index and RSS figures. A loader row whose
    median pass spent at least :data:`~.rows.STARTUP_SHARE` of its time before the first batch
    is printed as start-up, without figures or ratios."""
    lines = [f"split: {result['split']['path']} ({result['split']['shape']})",
             f"{result['rounds']} interleaved round(s); medians; ratios of frames/s taken within a round",
             f"{'row':<16} {'config':<9} {'frames/s':>10} {'segments/s':>10} {'CPU s/1k fr':>11} "
             f"{'x limit':>8} {'x baseline':>10}"]
    rows = result["rows"]
    for name, row in rows.items():
        label = name.split(" ")[0] + (f" w={row['workers']}" if "workers" in row else "")
        if row["skipped"] or not row["median"]:
            lines.append(f"{label:<16} {row['config']:<9} skipped: {row['skipped']}")
            continue
        med, ratios = row["median"], row["ratios"]
        if row.get("startup_dominated"):
            lines.append(f"{label:<16} {row['config']:<9} start-up, not throughput: {med['first_batch_s']:.2f} s of "
                         f"{med['wall_s']:.2f} s before the first batch (a longer pass: without --quick, or --segments)")
            continue
        lines.append(f"{label:<16} {row['config']:<9} {_fmt(med['frames_per_s']):>10} "
                     f"{_fmt(med['segments_per_s'], 1):>10} {_fmt(med['cpu_s_per_1000_frames'], 3):>11} "
                     f"{_fmt(ratios.get('limit'), 2):>8} {_fmt(ratios.get('baseline'), 2):>10}")
    for name, row in result["rows"].items():
        med = row.get("median") or {}
        if "p50_batch_s" in med:
            lines.append(f"{name}: batch latency p50 {med['p50_batch_s'] * 1000:.1f} ms, p95 "
                         f"{med['p95_batch_s'] * 1000:.1f} ms, GPU peak {med['gpu_peak_mib']:.0f} MiB")
    other = {"one_process": "the 1-process dataset row", "dataset": "the dataset row without the cache",
             "cpu_path": "the CPU path (DataLoader) with as many workers",
             WITHOUT_ACTIVITY: "the same row without activity (the activity option's cost)"}
    for name, row in rows.items():
        if _startup_in(row, rows) or row.get("kind") == "steady":  # steady rows: the lines below
            continue
        for key, what in other.items():
            if row.get("ratios", {}).get(key) is not None:
                lines.append(f"{name}: {row['ratios'][key]:.2f}x {what} (frames/s, within rounds)")
    lines.extend(_steady_lines(rows))
    index, rss = result["index"], result["rss"]
    lines.append(f"index build: cold {index['cold_s']:.3f} s, cached {index['cached_s']:.3f} s")
    lines.append(f"worker RSS after {rss['samples']} samples ({rss['workers']} workers): "
                 f"first batch {', '.join(f'{v:.0f}' for v in rss['first_mib'])} MiB, "
                 f"last {', '.join(f'{v:.0f}' for v in rss['last_mib'])} MiB")
    return "\n".join(lines)
