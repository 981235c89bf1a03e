"""Decoding a split with the example model (SPEC §12): chunks of the split (ASD chunks by
default, :mod:`mcorec_torch.index.chunks`), greedy CTC, hypotheses in the official layout
(:class:`~mcorec_torch.hypotheses.HypothesisCollector`, conversations from the baseline
clustering), and the official scores when the split has labels.

    mcorec-torch decode configs/demo.yaml runs/demo/last.pt valid
    python scripts/infer_avsr.py configs/demo.yaml runs/demo/last.pt path/to/eval
    torchrun --nproc_per_node 2 scripts/infer_avsr.py configs/demo.yaml runs/demo/last.pt valid

Under torchrun every rank decodes its share of the batches; rank 0 gathers, writes, scores.
"""
from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path
from typing import Any, Dict, List, Sequence

import torch

from ..config import ExperimentConfig, build_dataset, build_sampler, build_tokenizer, load_config, prepare_data
from ..config.load import split_dataset_options
from ..config.schema import ConfigError, SplitConfig
from ..errors import MCoRecDataError
from ..corpus.layout import DEFAULT_LABEL_DIR, labels_dir_exists, session_folders
from ..data.chunk_samples import chunk_counts
from ..hypotheses import HypothesisCollector
from .runtime import Run, build_model, to_device
from .model import ctc_greedy_decode

DECODE_SPLIT = "_decode"


def decode_config(config: ExperimentConfig, split: str, segments: str = "asd", chunk_size: float = 15.0) -> str:
    """Add (or adjust) the split to decode in ``config`` and return its name: ``split`` itself
    when the config has it, else a split over the directory ``split`` with the transforms of
    the config's evaluation split (``train.eval_split``, else
    ``valid``, ``dev``, the first unshuffled split). Chunks are never dropped by the config's duration limits:
    ``max_duration``, ``min_duration`` and ``merge_gap`` are cleared (``chunk_size`` limits them)."""
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


def _blank(tokenizer: Any):
    if tokenizer.blank_id is not None:
        return tokenizer.vocab_size, tokenizer.blank_id
    return tokenizer.vocab_size + 1, tokenizer.vocab_size


@torch.no_grad()
def decode_texts(model: torch.nn.Module, loader, tokenizer, blank: int, device: torch.device,
                 collector: HypothesisCollector) -> int:
    """Greedy CTC over ``loader`` into ``collector``; returns the chunks decoded here."""
    drop = [tokenizer.eos_id] if tokenizer.eos_id is not None else []
    was_training = model.training
    model.eval()
    count = 0
    for batch in loader:
        if not batch["id"]:
            continue
        batch = to_device(batch, device)
        log_probs, lengths = model(batch)
        texts = [tokenizer.decode(ids).replace("<unk>", " ") for ids in ctc_greedy_decode(log_probs, lengths, blank, drop)]
        collector.add(batch["id"], texts)
        count += len(texts)
    model.train(was_training)
    return count


def _loader(config: ExperimentConfig, name: str, dataset: Any, run: Run):
    from torch.utils.data import DataLoader

    from ..data.collate import Collator

    sampler = build_sampler(config, name, dataset, num_replicas=run.world, rank=run.rank)
    return DataLoader(dataset, batch_sampler=sampler, num_workers=config.loader.num_workers,
                      collate_fn=Collator(pad_to_multiple_of=config.loader.pad_to_multiple_of))


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
    """Decode, write, score and print (rank 0); ``args`` as :func:`mcorec_torch.commands.decode.add_arguments`
    parses them."""
    from ..text.scoring import format_report, write_json

    started = time.perf_counter()
    config = load_config(args.config, args.overrides)
    name = decode_config(config, args.split, args.segments, args.chunk_size)
    run = Run(config)
    if run.main:
        prepare_data(config, name)
    run.barrier()
    tokenizer = build_tokenizer(config)
    if tokenizer is None:
        raise ConfigError(config.source, "text.tokenizer", "is needed to turn CTC ids into text")
    num_classes, blank = _blank(tokenizer)
    dataset = build_dataset(config, name, tokenizer=tokenizer)
    counts = chunk_counts(dataset.report())
    run.log(f"{len(dataset)} chunks ({args.segments}, chunk_size {args.chunk_size:g} s) in {len(counts)} "
            f"session(s): " + ", ".join(f"{s} {sum(c.values())}" for s, c in counts.items()))
    if len(dataset) == 0:
        raise MCoRecDataError(args.split, f"no chunks to decode ({args.segments}, chunk_size {args.chunk_size:g} s)")
    model = build_model(config, dataset[0], num_classes, blank).to(run.device)
    state = torch.load(args.checkpoint, map_location="cpu", weights_only=True)
    model.load_state_dict(state["model"])
    collector = HypothesisCollector(dataset, hyp_dir_name=args.hyp_dir_name)
    decoded = decode_texts(model, _loader(config, name, dataset, run), tokenizer, blank, run.device, collector)
    written = collector.finish()
    seconds = time.perf_counter() - started
    if run.main:
        print(f"decoded {decoded} chunks on rank 0 of {run.world}; wrote {len(written)} session(s) "
              f"({sum(sum(w.cues.values()) for w in written.values())} cues, "
              f"{sum(w.empty_skipped for w in written.values())} empty hypotheses skipped) in {seconds:.1f} s")
        if not args.no_score:
            roots = config.splits[name].roots
            results = score_roots(roots, args.hyp_dir_name, split_dataset_options(config, name).label_dir)
            for result in results:
                print(format_report(result))
            if args.json and results:
                write_json(results[0] if len(results) == 1 else {"splits": results}, args.json)
            if not results:
                print("no labels/: hypotheses written, nothing to score (submit the output/ folders)")
    run.close()
    return 0
