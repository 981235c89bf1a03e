"""The official MCoRec metrics for a split with hypothesis folders (SPEC §11).

Reproduces the public baseline's ``script/evaluate.py`` number for number:

* **Speaker WER.** For every speaker listed in ``SESSION/metadata.json`` (file order), the
  cues of ``labels/spk_N.vtt`` and of ``<hyp>/spk_N.vtt`` that lie inside the speaker's
  *central* UEM are normalized with the official style (:func:`mcorec_torch.text.normalize_official`),
  joined with single spaces, and scored with ``jiwer``; the WER is rounded to 4 decimals.
  The UEM test is the scorer's own float comparison: a cue is dropped when
  ``S + ms / 1000 < uem.start`` or ``E + ms / 1000 > uem.end`` where ``S``/``E`` are whole
  seconds (webvtt-py's ``start_in_seconds``) — the same rule as SPEC §3, computed the same
  way so that cues exactly on a UEM edge fall on the same side.
* **Conversation F1** per session: pairwise F1 over all pairs of the speakers of
  ``labels/speaker_to_cluster.json`` (same conversation or not), 0 when no pair is a true
  positive (so a session whose speakers all sit in different conversations scores 0, even
  when the hypothesis says the same).
* **Speaker clustering F1**: the same over the pairs that include one speaker, rounded to 4
  decimals; 0 for a speaker without a true-positive partner.
* **Joint error** per speaker: ``0.5 * WER + 0.5 * (1 - speaker F1)``.
* **Averages**: conversation F1 over sessions; WER and joint error over all speakers of all
  sessions (plain ``sum / len`` in session order, then speaker order).

Sessions are taken in name order (the official script takes its glob's order, which only
changes the last bits of the float sums). Where the official script would crash, this
module raises :class:`~mcorec_torch.errors.MCoRecDataError` naming every missing file or
speaker instead. An empty reference is scored as jiwer 4 scores it (WER = number of
hypothesis words, 0 when both are empty) and flagged with ``"empty_reference": True``;
jiwer 3, which the baseline pinned, refuses such a speaker.
"""
from __future__ import annotations

import itertools
import json
import os
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import jiwer

from .._io import atomic_write_text, read_json
from ..corpus.layout import (DEFAULT_HYPOTHESIS_DIR, DEFAULT_LABEL_DIR, METADATA_FILE, SPEAKER_TO_CLUSTER_FILE,
                             list_sessions)
from ..corpus.metadata import load_metadata
from ..corpus.vtt import Cue, read_vtt
from ..errors import MCoRecDataError, PathLike
from .normalize import normalize_official

__all__ = ["format_score_report", "pairwise_f1", "pairwise_f1_per_speaker", "score_session", "score_split",
           "write_json"]


def _f1_of_pairs(pairs: Iterable[Tuple[int, int]], true_labels: Sequence[Any], pred_labels: Sequence[Any]) -> float:
    """F1 of "same cluster" decisions over ``pairs``: ``2PR / (P + R)``, 0.0 without a true positive."""
    tp = fp = fn = 0
    for i, j in pairs:
        true_same = true_labels[i] == true_labels[j]
        pred_same = pred_labels[i] == pred_labels[j]
        if pred_same and true_same:
            tp += 1
        elif pred_same:
            fp += 1
        elif true_same:
            fn += 1
    if tp == 0:
        return 0.0
    precision = tp / (tp + fp)
    recall = tp / (tp + fn)
    return 2 * precision * recall / (precision + recall)


def pairwise_f1(true_labels: Sequence[Any], pred_labels: Sequence[Any]) -> float:
    """Pairwise clustering F1 over all unordered pairs; 0.0 when there is no true positive.

    Computed as the official ``pairwise_f1_score``: ``2 * P * R / (P + R)``.
    """
    return _f1_of_pairs(itertools.combinations(range(len(true_labels)), 2), true_labels, pred_labels)


def pairwise_f1_per_speaker(true_labels: Sequence[Any], pred_labels: Sequence[Any]) -> List[float]:
    """For each index ``i``, the pairwise F1 over the pairs ``(i, j)``, ``j != i`` (unrounded);
    0.0 when ``i`` has no true-positive partner."""
    n = len(true_labels)
    return [_f1_of_pairs(((i, j) for j in range(n) if j != i), true_labels, pred_labels) for i in range(n)]


def _official_seconds(ms: int) -> float:
    """webvtt-py's ``start_in_seconds + start_time.milliseconds / 1000`` for a time in ms."""
    return ms // 1000 + (ms % 1000) / 1000


def _inside_uem(cue: Cue, uem_start: float, uem_end: float) -> bool:
    return not (_official_seconds(cue.start_ms) < uem_start or _official_seconds(cue.end_ms) > uem_end)


def _speaker_wer(ref_vtt: Path, hyp_vtt: Path, uem_start: float, uem_end: float) -> Dict[str, Any]:
    """WER of one speaker (rounded to 4 decimals) and its error counts."""
    sides = {}
    for side, path in (("reference", ref_vtt), ("hypothesis", hyp_vtt)):
        cues = read_vtt(path)
        kept = [normalize_official(c.text) for c in cues if _inside_uem(c, uem_start, uem_end)]
        sides[side] = (" ".join(kept), len(kept), len(cues) - len(kept))
    reference, hypothesis = sides["reference"][0], sides["hypothesis"][0]
    output = jiwer.process_words(reference, hypothesis)
    return {
        "wer": round(output.wer, 4),
        "reference_words": output.hits + output.substitutions + output.deletions,
        "hypothesis_words": output.hits + output.substitutions + output.insertions,
        "substitutions": output.substitutions,
        "deletions": output.deletions,
        "insertions": output.insertions,
        "reference_cues": sides["reference"][1],
        "reference_cues_outside_uem": sides["reference"][2],
        "hypothesis_cues": sides["hypothesis"][1],
        "hypothesis_cues_outside_uem": sides["hypothesis"][2],
        "empty_reference": not reference.split(),
    }


def _read_clusters(path: Path) -> Dict[str, Any]:
    """``speaker_to_cluster.json`` with its ids as written: the scorer only compares them for
    equality, so string ids are as good as integers (and ``0`` equals ``0.0``)."""
    document = read_json(path)
    if not isinstance(document, dict):
        raise MCoRecDataError(path, f"expected an object {{speaker: conversation id}}, got {type(document).__name__}")
    for speaker, value in document.items():
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise MCoRecDataError(path, f"expected a conversation id (number or string), got {value!r}",
                                  key=speaker)
    return document


def _speakers_and_uems(session_dir: Path) -> List[Tuple[str, float, float]]:
    """``(speaker, central uem start, end)`` in ``metadata.json`` key order (seconds)."""
    metadata = load_metadata(session_dir)
    order = list(read_json(session_dir / METADATA_FILE))
    speakers = []
    for name in order:
        central = metadata.speakers[name].central
        if central is None:
            raise MCoRecDataError(session_dir / METADATA_FILE, "missing required key", key=f"{name}.central")
        speakers.append((name, central.uem_start, central.uem_end))
    return speakers


def _missing_files(label_dir: Path, hyp_dir: Path, speakers: Sequence[str]) -> Tuple[List[Path], List[Path]]:
    """(missing label files, missing hypothesis files) of one session whose labels are in
    ``label_dir`` and hypotheses in ``hyp_dir``."""
    needed = [SPEAKER_TO_CLUSTER_FILE] + [f"{spk}.vtt" for spk in speakers]
    return ([label_dir / name for name in needed if not (label_dir / name).is_file()],
            [hyp_dir / name for name in needed if not (hyp_dir / name).is_file()])


def _hypothesis_dir(session_dir: Path, hyp_dir_name: str, hyp_root: Optional[PathLike]) -> Path:
    """Where a session's hypotheses are: ``SESSION/<hyp_dir_name>`` (the official layout), or
    ``<hyp_root>/<session name>/<hyp_dir_name>`` when they live apart from the data."""
    return (session_dir if hyp_root is None else Path(hyp_root) / session_dir.name) / hyp_dir_name


def score_session(session_dir: PathLike, hyp_dir_name: str = DEFAULT_HYPOTHESIS_DIR,
                  label_dir_name: str = DEFAULT_LABEL_DIR, hyp_root: Optional[PathLike] = None) -> Dict[str, Any]:
    """Official figures of one session folder; its hypotheses are read from
    ``SESSION/<hyp_dir_name>/``, or with ``hyp_root`` from ``<hyp_root>/<session name>/<hyp_dir_name>/``
    (hypotheses kept apart from the data, which may be read-only).

    Returns ``{"conversation_f1", "speaker_wer", "joint_error", "speakers": {spk: {"wer",
    "clustering_f1", "joint_error", counts...}}}`` where ``speaker_wer`` / ``joint_error``
    are this session's means over its speakers.
    """
    session_dir = Path(session_dir)
    speakers = _speakers_and_uems(session_dir)
    label_dir, hyp_dir = session_dir / label_dir_name, _hypothesis_dir(session_dir, hyp_dir_name, hyp_root)
    missing_labels, missing_hyps = _missing_files(label_dir, hyp_dir, [s for s, _, _ in speakers])
    if missing_labels or missing_hyps:
        raise _missing_error(session_dir, missing_labels, missing_hyps)

    label_path = label_dir / SPEAKER_TO_CLUSTER_FILE
    hyp_path = hyp_dir / SPEAKER_TO_CLUSTER_FILE
    label_clusters = _read_clusters(label_path)
    hyp_clusters = _read_clusters(hyp_path)
    absent = [spk for spk in label_clusters if spk not in hyp_clusters]
    if absent:
        raise MCoRecDataError(hyp_path, f"no conversation for speaker(s) {', '.join(absent)} "
                                        f"of {label_path}")
    unlabelled = [spk for spk, _, _ in speakers if spk not in label_clusters]
    if unlabelled:
        raise MCoRecDataError(label_path, f"no conversation for speaker(s) {', '.join(unlabelled)} "
                                          f"of {session_dir / METADATA_FILE}")

    # The official script passes (labels, output) to functions whose parameters are named
    # the other way round, so "true" is the hypothesis here; F1 is symmetric either way.
    cluster_speakers = list(label_clusters)
    true = [hyp_clusters[spk] for spk in cluster_speakers]
    pred = [label_clusters[spk] for spk in cluster_speakers]
    conversation_f1 = pairwise_f1(true, pred)
    speaker_f1 = {spk: round(f1, 4) for spk, f1 in zip(cluster_speakers, pairwise_f1_per_speaker(true, pred))}

    per_speaker: Dict[str, Dict[str, Any]] = {}
    for spk, uem_start, uem_end in speakers:
        figures = _speaker_wer(label_dir / f"{spk}.vtt", hyp_dir / f"{spk}.vtt", uem_start, uem_end)
        figures["clustering_f1"] = speaker_f1[spk]
        figures["joint_error"] = 0.5 * figures["wer"] + 0.5 * (1 - speaker_f1[spk])
        per_speaker[spk] = figures
    wers = [f["wer"] for f in per_speaker.values()]
    joints = [f["joint_error"] for f in per_speaker.values()]
    return {
        "conversation_f1": conversation_f1,
        "speaker_wer": sum(wers) / len(wers) if wers else None,
        "joint_error": sum(joints) / len(joints) if joints else None,
        "speakers": per_speaker,
    }


def _missing_error(where: Path, labels: Sequence[Path], hyps: Sequence[Path]) -> MCoRecDataError:
    parts = []
    if hyps:
        parts.append(f"{len(hyps)} hypothesis file(s) missing: " + ", ".join(map(os.fspath, hyps)))
    if labels:
        parts.append(f"{len(labels)} label file(s) missing: " + ", ".join(map(os.fspath, labels)))
    return MCoRecDataError(where, "; ".join(parts))


def _check_hyp_root(hyp_root: Path, sessions: Sequence[Path], hyp_dir_name: str) -> None:
    """Refuse a hypothesis folder that does not exist or holds none of the split's sessions
    (e.g. one level too high), naming what it should hold."""
    if not hyp_root.is_dir():
        raise MCoRecDataError(hyp_root, "hypothesis folder does not exist")
    if sessions and not any((hyp_root / s.name).is_dir() for s in sessions):
        held = sorted(p.name for p in hyp_root.iterdir() if p.is_dir())
        raise MCoRecDataError(hyp_root, f"holds none of the split's sessions ({', '.join(s.name for s in sessions[:3])}"
                              f"{', ...' if len(sessions) > 3 else ''}); expected SESSION/{hyp_dir_name}/ folders"
                              + (f", found {', '.join(held[:5])}" if held else ", found no folder"))


def score_split(split_dir: PathLike, hyp_dir_name: str = DEFAULT_HYPOTHESIS_DIR,
                label_dir_name: str = DEFAULT_LABEL_DIR, hyp_root: Optional[PathLike] = None) -> Dict[str, Any]:
    """Official figures of every session of a split directory. Hypotheses are read from each
    ``SESSION/<hyp_dir_name>/``, or with ``hyp_root`` from ``<hyp_root>/<session name>/<hyp_dir_name>/``
    (what ``mcorec-torch decode --out`` writes); labels always from the split.

    Returns ``{"split_dir", "hyp_root", "hyp_dir_name", "label_dir_name", "num_sessions",
    "num_speakers", "sessions": {name: score_session(...)}, "average": {"conversation_f1",
    "speaker_wer", "joint_error"}}``. Every missing label or hypothesis file of the split is
    named in one :class:`MCoRecDataError` before anything is scored.
    """
    split_dir = Path(split_dir)
    sessions = list_sessions(split_dir)
    if hyp_root is not None:
        _check_hyp_root(Path(hyp_root), sessions, hyp_dir_name)
    missing_labels: List[Path] = []
    missing_hyps: List[Path] = []
    for session in sessions:
        speakers = [spk for spk, _, _ in _speakers_and_uems(session)]
        labels, hyps = _missing_files(session / label_dir_name, _hypothesis_dir(session, hyp_dir_name, hyp_root),
                                      speakers)
        missing_labels += labels
        missing_hyps += hyps
    if missing_labels or missing_hyps:
        raise _missing_error(split_dir, missing_labels, missing_hyps)

    results = {s.name: score_session(s, hyp_dir_name, label_dir_name, hyp_root) for s in sessions}
    conversation = [r["conversation_f1"] for r in results.values()]
    wers = [f["wer"] for r in results.values() for f in r["speakers"].values()]
    joints = [f["joint_error"] for r in results.values() for f in r["speakers"].values()]
    return {
        "split_dir": os.fspath(split_dir),
        "hyp_root": None if hyp_root is None else os.fspath(hyp_root),
        "hyp_dir_name": hyp_dir_name,
        "label_dir_name": label_dir_name,
        "num_sessions": len(results),
        "num_speakers": len(wers),
        "sessions": results,
        "average": {
            "conversation_f1": sum(conversation) / len(conversation),
            "speaker_wer": sum(wers) / len(wers) if wers else None,
            "joint_error": sum(joints) / len(joints) if joints else None,
        },
    }


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.4f}"


def format_score_report(result: Dict[str, Any], per_speaker: bool = False) -> str:
    """A text table of :func:`score_split`'s result: one row per session (and per speaker
    with ``per_speaker=True``), then the averages at full precision."""
    header = ("session", "speakers", "conv_F1", "WER", "joint") + (("spk_F1",) if per_speaker else ())
    rows = [header]
    for name, session in result["sessions"].items():
        row = (name, str(len(session["speakers"])), _fmt(session["conversation_f1"]),
               _fmt(session["speaker_wer"]), _fmt(session["joint_error"]))
        rows.append(row + (("",) if per_speaker else ()))
        if per_speaker:
            for spk, figures in session["speakers"].items():
                note = " (empty reference)" if figures["empty_reference"] else ""
                rows.append((f"  {spk}{note}", "", "", _fmt(figures["wer"]), _fmt(figures["joint_error"]),
                             _fmt(figures["clustering_f1"])))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths)))
             .rstrip() for row in rows]
    average = result["average"]
    empty = sum(f["empty_reference"] for s in result["sessions"].values() for f in s["speakers"].values())
    lines += [
        "",
        f"{result['num_sessions']} session(s), {result['num_speakers']} speaker(s)",
        f"Average Conversation Clustering F1 score: {average['conversation_f1']}",
        f"Average Speaker WER: {average['speaker_wer']}",
        f"Average Joint ASR-Clustering Error Rate: {average['joint_error']}",
    ]
    if empty:
        lines.append(f"warning: {empty} speaker(s) have an empty reference inside the UEM "
                     "(WER = hypothesis words, as jiwer 4 counts it)")
    return "\n".join(lines)


def write_json(result: Dict[str, Any], path: PathLike) -> None:
    """Write :func:`score_split`'s result as indented JSON."""
    atomic_write_text(path, json.dumps(result, indent=2) + "\n")
