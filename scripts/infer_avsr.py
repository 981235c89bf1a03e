#!/usr/bin/env python3
"""Decode a split with the example AVSR model of ``scripts/train_avsr.py`` and write the
hypotheses in the official layout (SPEC §12); scores when the split has labels.

    python scripts/infer_avsr.py configs/demo.yaml runs/demo/last.pt valid
    python scripts/infer_avsr.py configs/demo.yaml runs/demo/last.pt path/to/eval --segments windows
    torchrun --nproc_per_node 2 scripts/infer_avsr.py configs/demo.yaml runs/demo/last.pt valid

Same as ``mcorec-torch decode``; the code lives in :mod:`mcorec_torch.train.decode`, the arguments in :mod:`mcorec_torch.commands.decode`.
"""
import sys
from typing import List, Optional

from mcorec_torch.cli import main as cli_main


def main(argv: Optional[List[str]] = None) -> int:
    """``mcorec-torch decode ARGS`` (``argv``: ARGS, default the script's own)."""
    return cli_main(["decode", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
