"""Hypothesis files in the official layout (SPEC §12): ``SESSION/output/spk_N.vtt`` and
``SESSION/output/speaker_to_cluster.json``, exactly what ``mcorec-torch score`` (SPEC §11)
and the baseline's ``evaluate.py`` read."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Mapping, Optional, Sequence, Tuple

from .._io import atomic_write_text, read_json
from ..corpus.layout import DEFAULT_HYPOTHESIS_DIR, METADATA_FILE, SPEAKER_TO_CLUSTER_FILE, speaker_sort_key
from ..corpus.vtt import write_vtt
from ..errors import PathLike
from ..timeline import seconds_to_ms

#: ``(start_s, end_s, text)``: one decoded chunk, seconds on the central timeline.
Hypothesis = Tuple[float, float, str]


@dataclass
class WrittenSession:
    """What :func:`write_hypotheses` wrote: the output folder, cues per speaker, and how many
    hypotheses had no text left (not written, as the baseline skips them)."""

    out_dir: Path
    cues: Dict[str, int] = field(default_factory=dict)
    empty_skipped: int = 0


def _metadata_speakers(session_dir: Path) -> Sequence[str]:
    document = read_json(session_dir / METADATA_FILE)
    return list(document) if isinstance(document, dict) else []


def write_hypotheses(session_dir_or_out: PathLike, hypotheses: Mapping[str, Sequence[Hypothesis]],
                     clusters: Optional[Mapping[str, int]] = None, *,
                     hyp_dir_name: str = DEFAULT_HYPOTHESIS_DIR) -> WrittenSession:
    """Write one session's hypotheses.

    ``session_dir_or_out``: a session folder (one holding ``metadata.json``: files go to its
    ``hyp_dir_name`` folder, and every speaker of the metadata gets a file, empty when it has
    no hypothesis, since the scorer needs one per speaker) or the output folder itself.
    ``hypotheses``: ``{speaker: [(start_s, end_s, text), ...]}`` in any order; cues are written
    sorted by time with millisecond timestamps rounded to the nearest millisecond; texts that
    are empty after stripping are skipped and counted. ``clusters``: ``{speaker: conversation
    id}``; ``None`` puts every speaker in conversation 0. Raises ``ValueError`` for a cue
    whose end is before its start or whose time is negative (naming speaker and cue).
    """
    target = Path(session_dir_or_out)
    if (target / METADATA_FILE).is_file():
        out_dir = target / hyp_dir_name
        speakers = set(_metadata_speakers(target)) | set(hypotheses)
    else:
        out_dir = target
        speakers = set(hypotheses) | set(clusters or {})
    ordered = sorted(speakers, key=speaker_sort_key)
    missing = [spk for spk in ordered if clusters is not None and spk not in clusters]
    if missing:
        raise ValueError(f"clusters has no conversation for speaker(s) {', '.join(missing)}")
    mapping = {spk: (int(clusters[spk]) if clusters is not None else 0) for spk in ordered}
    result = WrittenSession(out_dir=out_dir)
    for speaker in ordered:
        cues = []
        for start, end, text in hypotheses.get(speaker, ()):
            start_ms, end_ms = seconds_to_ms(start), seconds_to_ms(end)
            if start_ms < 0 or end_ms < start_ms:
                raise ValueError(f"{speaker}: hypothesis ({start}, {end}) s has a negative time or ends "
                                 f"before it starts")
            text = " ".join(str(text).split())
            if not text:
                result.empty_skipped += 1
                continue
            cues.append((start_ms, end_ms, text))
        cues.sort(key=lambda c: (c[0], c[1]))
        write_vtt(out_dir / f"{speaker}.vtt", cues)
        result.cues[speaker] = len(cues)
    atomic_write_text(out_dir / SPEAKER_TO_CLUSTER_FILE, json.dumps(mapping, indent=4) + "\n")
    return result
