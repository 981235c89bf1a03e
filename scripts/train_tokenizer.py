#!/usr/bin/env python
"""Train a SentencePiece tokenizer on the transcripts of MCoRec split directories (SPEC §6); the
same as ``mcorec-torch tokenizer``.

    python scripts/train_tokenizer.py data/train --vocab-size 5000 --out-dir tokenizer/
"""
import sys

from mcorec_torch.cli import main

if __name__ == "__main__":
    sys.exit(main(["tokenizer", *sys.argv[1:]]))
