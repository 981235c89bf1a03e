"""``mcorec-torch bench``: loader throughput (frames/s, segments/s, CPU core-seconds per 1,000
frames) against the decode limit and the baseline's loader, in interleaved rounds
(:mod:`mcorec_torch.bench`)."""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("bench", help="measure loading against the decode limit and the baseline")
    add_arguments(parser)
    parser.set_defaults(func=run)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The bench's flags (``mcorec-torch bench`` and ``scripts/bench_loader.py``)."""
    parser.add_argument("--root", action="append", metavar="SPLIT_DIR",
                        help="a real split directory (repeatable); default: the synthetic bench split")
    parser.add_argument("--out", default=str(Path(tempfile.gettempdir()) / "mcorec-bench"),
                        help="where the synthetic split and caches are kept and reused (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help="a tiny split and few samples (seconds; for CI)")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 3, quick 1)")
    parser.add_argument("--workers", type=int, default=None, help="DataLoader workers of the third loader row "
                        "(default: the cores here)")
    parser.add_argument("--samples", type=int, default=None, help="samples of the worker-RSS pass (default 2000, "
                        "quick 16)")
    parser.add_argument("--segments", type=int, default=None, help="segments per pass, random order (default: all, reshuffled up to 256; quick 3)")
    parser.add_argument("--gpu-only", action="store_true", help="only the GPU rows, their CPU-path rows and the "
                        "limit (what scripts/gpu_check.sh runs)")
    parser.add_argument("--json", metavar="FILE", help="write every figure as JSON")


def run(args: argparse.Namespace) -> int:
    from ..bench.run import format_bench_report, run_bench

    result = run_bench(args)
    print(format_bench_report(result))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=2)
    return 0
