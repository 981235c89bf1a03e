#!/usr/bin/env python3
"""Segments per second of MCoRecDataset iteration (num_workers=0) on a synthetic split.

    python3 dev.py run python scripts/benchmark_loading.py [--sessions 2] [--out DIR]

Prints one line per configuration (lip/gray, lip/rgb, face/gray, face/rgb) with segments/s and
frames/s, random order and sequential order, measured in one run so the ratios are comparable
on a noisy machine. The first pass over a configuration also decodes and caches the audio
tracks; it is reported separately ("cold").
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from mcorec_torch import MCoRecDataset, synthetic


def iterate(dataset: MCoRecDataset, order) -> tuple:
    started = time.perf_counter()
    frames = 0
    for i in order:
        frames += dataset[int(i)]["video"].shape[0]
    seconds = time.perf_counter() - started
    return len(order) / seconds, frames / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=2)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="mcorec-bench-"))
    split = out / "dev"
    if not split.is_dir():
        synthetic.make_split(split, "dev", num_sessions=args.sessions, seed=0)
    print(f"synthetic split: {split}")
    print(f"{'config':<12} {'order':<11} {'segments/s':>11} {'frames/s':>10}")
    for crops, color in (("lip", "gray"), ("lip", "rgb"), ("face", "gray"), ("face", "rgb")):
        dataset = MCoRecDataset(split, crops=crops, color=color, cache_dir=out / f"cache-{crops}")
        n = len(dataset)
        rng = np.random.default_rng(0)
        for label, order in (("cold", rng.permutation(n)), ("random", rng.permutation(n)),
                             ("sequential", np.arange(n))):
            segs, frames = iterate(dataset, order)
            print(f"{crops + '/' + color:<12} {label:<11} {segs:>11.1f} {frames:>10.0f}")
        dataset.close()


if __name__ == "__main__":
    main()
