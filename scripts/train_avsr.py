#!/usr/bin/env python3
"""Train the small audio-visual CTC model of :mod:`mcorec_torch.train` from a YAML config.

    python scripts/train_avsr.py --config configs/demo.yaml
    torchrun --nproc_per_node 2 scripts/train_avsr.py --config configs/demo.yaml
    python scripts/train_avsr.py --config configs/demo.yaml --resume      # continue runs/demo/last.pt
    python scripts/train_avsr.py --config configs/demo.yaml --set train.epochs=2 --set sampler.max_frames=800

Same as ``mcorec-torch train``; the arguments live in :mod:`mcorec_torch.commands.train`, the
loop in :mod:`mcorec_torch.train.loop` (see its docstring for what is logged and saved).
"""
import sys
from typing import List, Optional

from mcorec_torch.cli import main as cli_main


def main(argv: Optional[List[str]] = None) -> int:
    """``mcorec-torch train ARGS`` (``argv``: ARGS, default the script's own)."""
    return cli_main(["train", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
