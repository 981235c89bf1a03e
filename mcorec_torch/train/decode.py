"""Decoding a split with the example model (SPEC §12): chunks of the split (ASD chunks by
default, :mod:`mcorec_torch.index.chunks`), greedy CTC, hypotheses in the official layout
(:class:`~mcorec_torch.hypotheses.HypothesisCollector`, conversations from the baseline
clustering), and the official scores when the split has labels.

    mcorec-torch decode configs/demo.yaml runs/demo/last.pt valid
    python scripts/infer_avsr.py configs/demo.yaml runs/demo/last.pt path/to/eval
    torchrun --nproc_per_node 2 scripts/infer_avsr.py configs/demo.yaml runs/demo/last.pt valid

The chunks are loaded by the config's loader (:func:`~mcorec_torch.config.build_dataloader`, as
training loads: the ``loader`` options and ``decode.device``). Under torchrun every rank
decodes its share of the batches; rank 0 gathers, writes, scores.
"""
from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

import torch

from ..config import ExperimentConfig, build_dataloader, load_config, prepare_data
from ..config.load import split_dataset_options
from ..config.schema import SplitConfig
from ..corpus.layout import DEFAULT_LABEL_DIR, labels_dir_exists, session_folders
from ..data.chunk_samples import chunk_counts
from ..errors import MCoRecDataError
from ..hypotheses import HypothesisCollector
from ..index.asd_chunks import DEFAULT_CHUNK_SIZE
from .runtime import Run, build_model, ctc_classes, first_sample, greedy_texts, model_outputs, require_tokenizer

DECODE_SPLIT = "_decode"


def decode_config(config: ExperimentConfig, split: str, segments: str = "asd",
                  chunk_size: float = DEFAULT_CHUNK_SIZE) -> str:
    """Add (or adjust) the split to decode in ``config`` and return its name: ``split`` itself
    when the config has it, else a split over the directory ``split`` with the transforms of
    the config's evaluation split (``train.eval_split``, else
    ``valid``, ``dev``, the first unshuffled split). Chunks are never dropped by the config's duration limits:
    ``max_duration``, ``min_duration`` and ``merge_gap`` are cleared (``chunk_size``, in
    seconds, limits them)."""
    if split in config.splits:
        name, spec = split, config.splits[split]
    else:
        names = [n for n in (config.train.eval_split, "valid", "dev") if n in config.splits]
        names += [n for n, spec in config.splits.items() if not spec.shuffle] + list(config.splits)
        template = config.splits[names[0]] if names else None
        spec = SplitConfig(roots=[str(split)], shuffle=False,
                           transforms=list(template.transforms) if template is not None else [],
                           dataset=dict(template.dataset) if template is not None else {})
        name = DECODE_SPLIT
    spec = dataclasses.replace(spec, shuffle=False, dataset={
        **spec.dataset, "segments": segments, "chunk_size": float(chunk_size), "max_duration": None,
        "min_duration": 0.0, "merge_gap": None})
    config.splits[name] = spec
    return name


def decode_texts(model: torch.nn.Module, loader: Any, tokenizer: Any, blank: int, device: torch.device,
                 collector: HypothesisCollector) -> int:
    """Greedy CTC over ``loader`` into ``collector`` (``<unk>`` written as a space); returns the
    chunks decoded here."""
    count = 0
    for batch, log_probs, lengths in model_outputs(model, loader, device):
        texts = [text.replace("<unk>", " ") for text in greedy_texts(log_probs, lengths, tokenizer, blank)]
        collector.add(batch["id"], texts)
        count += len(texts)
    return count


def score_roots(roots: Sequence[str], hyp_dir_name: str, label_dir_name: str = DEFAULT_LABEL_DIR) -> List[Dict[str, Any]]:
    """The official scores of every root whose sessions all have labels in ``label_dir_name``
    (the split's ``label_dir`` option; SPEC §11)."""
    from ..text.scoring import score_split

    results = []
    for root in roots:
        sessions = session_folders(Path(root))
        if sessions and all(labels_dir_exists(s, label_dir_name) for s in sessions):
            results.append(score_split(root, hyp_dir_name=hyp_dir_name, label_dir_name=label_dir_name))
    return results


def run_decode(args: argparse.Namespace) -> int:
    """Decode, write, score and print (rank 0); ``args`` as ``mcorec-torch decode``
    parses them (:mod:`mcorec_torch.commands.decode`). The process group (torchrun) is ended also when decoding fails."""
    started = time.perf_counter()
    config = load_config(args.config, args.overrides)
    name = decode_config(config, args.split, args.segments, args.chunk_size)
    run = Run(config)
    try:
        decoded, written = decode_split(config, name, args, run)
        if run.main:
            print(f"decoded {decoded} chunks on rank 0 of {run.world}; wrote {len(written)} session(s) "
                  f"({sum(sum(w.cues.values()) for w in written.values())} cues, "
                  f"{sum(w.empty_skipped for w in written.values())} empty hypotheses skipped) in "
                  f"{time.perf_counter() - started:.1f} s")
            if not args.no_score:
                print_scores(config, name, args)
    finally:
        run.close()
    return 0


def decode_split(config: ExperimentConfig, name: str, args: argparse.Namespace, run: Run) -> Tuple[int, Dict[str, Any]]:
    """Decode this rank's share of split ``name``'s chunks with the checkpoint ``args.checkpoint``
    and write the hypotheses (rank 0, after gathering); returns ``(chunks decoded here, what
    :meth:`HypothesisCollector.finish` returned)``. The loader is the config's
    (:func:`~mcorec_torch.config.build_dataloader`: ``loader`` and ``decode`` sections)."""
    if run.main:
        prepare_data(config, name)
    run.barrier()
    tokenizer = require_tokenizer(config)
    num_classes, blank = ctc_classes(tokenizer)
    loader = build_dataloader(config, name, 0, num_replicas=run.world, rank=run.rank, tokenizer=tokenizer)
    dataset = loader.dataset
    what = f"{args.segments}, chunk_size {args.chunk_size:g} s"
    counts = chunk_counts(dataset.report())
    run.log(f"{len(dataset)} chunks ({what}) in {len(counts)} session(s): "
            + ", ".join(f"{s} {sum(c.values())}" for s, c in counts.items()))
    if len(dataset) == 0:
        raise MCoRecDataError(args.split, f"no chunks to decode ({what})")
    model = build_model(config, first_sample(config, dataset, name), num_classes, blank).to(run.device)
    state = torch.load(args.checkpoint, map_location="cpu", weights_only=True)
    model.load_state_dict(state["model"])
    collector = HypothesisCollector(dataset, hyp_dir_name=args.hyp_dir_name)
    decoded = decode_texts(model, loader, tokenizer, blank, run.device, collector)
    return decoded, collector.finish()


def print_scores(config: ExperimentConfig, name: str, args: argparse.Namespace) -> None:
    """Print (and with ``args.json`` write) the official scores of split ``name``'s roots that
    have labels, or say that there is nothing to score."""
    from ..text.scoring import format_score_report, write_json

    results = score_roots(config.splits[name].roots, args.hyp_dir_name, split_dataset_options(config, name).label_dir)
    for result in results:
        print(format_score_report(result))
    if args.json and results:
        write_json(results[0] if len(results) == 1 else {"splits": results}, args.json)
    if not results:
        print("no labels/: hypotheses written, nothing to score (submit the output/ folders)")
