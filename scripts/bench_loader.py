#!/usr/bin/env python3
"""Loader throughput against the decode limit and the baseline's loader; the same as
``mcorec-torch bench`` (see ``--help``).

    python3 dev.py run python scripts/bench_loader.py [--quick] [--rounds 3] [--json FILE]
"""
from __future__ import annotations

import sys

from mcorec_torch.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
