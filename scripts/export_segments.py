#!/usr/bin/env python
"""Export a split's segments for other toolkits (SPEC §7); the same as ``mcorec-torch export``.

    python scripts/export_segments.py data/dev out/dev-wds --format wds --workers 4 --verify
"""
import sys

from mcorec_torch.cli import main

if __name__ == "__main__":
    sys.exit(main(["export", *sys.argv[1:]]))
