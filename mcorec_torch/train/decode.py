"""Decoding a split with the example model (SPEC §12): chunks of the split (ASD chunks by
default, :mod:`mcorec_torch.index.chunks`), greedy CTC, hypotheses in the official layout
(:class:`~mcorec_torch.hypotheses.HypothesisCollector`, conversations from the baseline
clustering), and the official scores when the split has labels.

    mcorec-torch decode configs/demo.yaml runs/demo/last.pt valid     # -> runs/demo/hypotheses/valid
    python scripts/infer_avsr.py configs/demo.yaml runs/demo/last.pt path/to/eval --out hyp/eval
    torchrun --nproc_per_node 2 scripts/infer_avsr.py configs/demo.yaml runs/demo/last.pt valid

Hypotheses never go into the data unless asked (``--in-place``): session ``S`` is written to
``OUT/S/<hyp-dir-name>/`` beside links to its ``metadata.json`` and labels
(:func:`~mcorec_torch.hypotheses.mirror_session`), ``OUT`` being ``--out`` or
``<train.out_dir>/hypotheses/<split name>``; the data may be read-only.

The chunks are loaded by the config's loader (:func:`~mcorec_torch.config.build_dataloader`, as
training loads: the ``loader`` options and ``decode.device``). Under torchrun every rank
decodes its share of the batches; rank 0 gathers, writes, scores.
"""
from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch

from ..config import ExperimentConfig, build_dataloader, load_config, prepare_data
from ..config.load import split_dataset_options
from ..config.schema import SplitConfig
from ..corpus.layout import DEFAULT_LABEL_DIR, labels_dir_exists, session_folders
from ..data.chunk_samples import chunk_counts
from ..errors import MCoRecDataError
from ..hypotheses import HypothesisCollector
from ..index.asd_chunks import DEFAULT_CHUNK_SIZE
from .resume import run_folder
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


def score_roots(roots: Sequence[str], hyp_dir_name: str, label_dir_name: str = DEFAULT_LABEL_DIR,
                hyp_root: Optional[Path] = None) -> List[Dict[str, Any]]:
    """The official scores of every root whose sessions all have labels in ``label_dir_name``
    (the split's ``label_dir`` option; SPEC §11); hypotheses in each session, or with
    ``hyp_root`` in ``hyp_root/<session>/<hyp_dir_name>``."""
    from ..text.scoring import score_split

    results = []
    for root in roots:
        sessions = session_folders(Path(root))
        if sessions and all(labels_dir_exists(s, label_dir_name) for s in sessions):
            results.append(score_split(root, hyp_dir_name=hyp_dir_name, label_dir_name=label_dir_name,
                                       hyp_root=hyp_root))
    return results


def split_label(config: ExperimentConfig, split: str) -> str:
    """The name a decoded split's hypotheses are filed under: the config's split name, or the
    last component of a split directory (``data/eval`` -> ``eval``)."""
    if split in config.splits:
        return split
    return Path(split).resolve().name or "split"


def hypothesis_root(config: ExperimentConfig, split: str, args: argparse.Namespace,
                    hypotheses_folder: str) -> Optional[Path]:
    """Where ``decode`` writes: ``None`` with ``--in-place`` (inside the split's sessions),
    else ``--out`` or ``<train.out_dir>/<hypotheses_folder>/<split name>``."""
    if getattr(args, "in_place", False):
        return None
    out = getattr(args, "out", None)
    if out:
        return Path(out)
    return run_folder(config) / hypotheses_folder / split_label(config, split)


def run_decode(args: argparse.Namespace, hypotheses_folder: str) -> int:
    """Decode, write, score and print (rank 0); ``args`` as ``mcorec-torch decode``
    parses them (:mod:`mcorec_torch.commands.decode`); ``hypotheses_folder``: the run folder's
    folder for the default ``--out``. The process group (torchrun) is ended also when decoding fails."""
    started = time.perf_counter()
    config = load_config(args.config, args.overrides)
    out_root = hypothesis_root(config, args.split, args, hypotheses_folder)
    name = decode_config(config, args.split, args.segments, args.chunk_size)
    run = Run(config)
    try:
        decoded, written = decode_split(config, name, args, run, out_root)
        if run.main:
            where = f"{out_root}" if out_root is not None else f"the split's SESSION/{args.hyp_dir_name}/ (--in-place)"
            print(f"decoded {decoded} chunks on rank 0 of {run.world}; wrote {len(written)} session(s) "
                  f"({sum(sum(w.cues.values()) for w in written.values())} cues, "
                  f"{sum(w.empty_skipped for w in written.values())} empty hypotheses skipped) to {where} in "
                  f"{time.perf_counter() - started:.1f} s")
            if not args.no_score:
                print_scores(config, name, args, out_root)
    finally:
        run.close()
    return 0


def _refuse_shared_session_names(dataset: Any, split: str, out_root: Optional[Path]) -> None:
    """Sessions of two roots with one name would overwrite each other's hypotheses in
    ``out_root``: refuse, naming the session."""
    if out_root is None:
        return
    seen: Dict[str, str] = {}
    for entry in dataset.index.sessions:
        if entry.name in seen:
            raise MCoRecDataError(split, f"two roots hold a session named {entry.name} ({seen[entry.name]} and "
                                  f"{entry.path}): their hypotheses would overwrite each other in {out_root}; "
                                  "decode one root at a time or pass --in-place")
        seen[entry.name] = str(entry.path)


def decode_split(config: ExperimentConfig, name: str, args: argparse.Namespace, run: Run,
                 out_root: Optional[Path] = None) -> Tuple[int, Dict[str, Any]]:
    """Decode this rank's share of split ``name``'s chunks with the checkpoint ``args.checkpoint``
    and write the hypotheses (rank 0, after gathering) to ``out_root/SESSION/<hyp-dir-name>/``
    (None: into the split's own sessions); returns ``(chunks decoded here, what
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
    _refuse_shared_session_names(dataset, args.split, out_root)
    model = build_model(config, first_sample(config, dataset, name), num_classes, blank).to(run.device)
    state = torch.load(args.checkpoint, map_location="cpu", weights_only=True)
    model.load_state_dict(state["model"])
    collector = HypothesisCollector(dataset, hyp_dir_name=args.hyp_dir_name, out_root=out_root,
                                    label_dir_name=split_dataset_options(config, name).label_dir)
    decoded = decode_texts(model, loader, tokenizer, blank, run.device, collector)
    return decoded, collector.finish()


def print_scores(config: ExperimentConfig, name: str, args: argparse.Namespace,
                 out_root: Optional[Path] = None) -> None:
    """Print (and with ``args.json`` write) the official scores of split ``name``'s roots that
    have labels (hypotheses in ``out_root``, or in the split with None), or say that there is
    nothing to score."""
    from ..text.scoring import format_score_report, write_json

    label_dir = split_dataset_options(config, name).label_dir
    results = score_roots(config.splits[name].roots, args.hyp_dir_name, label_dir, out_root)
    for result in results:
        print(format_score_report(result))
    if args.json and results:
        write_json(results[0] if len(results) == 1 else {"splits": results}, args.json)
    if not results:
        print(f"no {label_dir}/: hypotheses written, nothing to score (submit the SESSION/{args.hyp_dir_name}/ "
              f"folders{f' of {out_root}' if out_root is not None else ''})")
