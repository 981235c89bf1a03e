"""``HypothesisCollector``: decoded texts of a chunk dataset's batches, in any order and from
any number of DDP ranks, written as each session's official hypothesis files (SPEC §12)."""
from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from ..corpus.layout import DEFAULT_HYPOTHESIS_DIR, DEFAULT_LABEL_DIR, METADATA_FILE
from ..errors import PathLike
from .writer import WrittenSession, write_hypotheses

logger = logging.getLogger(__name__)

#: ``{speaker: id}`` per session, or a function of the session folder that returns it.
Clusters = Union[Mapping[str, Mapping[str, int]], Callable[[Path], Mapping[str, int]], None]


def _distributed() -> Tuple[int, int]:
    try:
        import torch.distributed as dist
    except ImportError:  # pragma: no cover - torch is a dependency of the dataset anyway
        return 0, 1
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _link_or_copy(source: Path, target: Path) -> None:
    """``target`` becomes a symlink to ``source`` (a copy where symlinks are not allowed);
    an older link or copy there is replaced, one already pointing at ``source`` kept."""
    if target.is_symlink():
        if os.readlink(target) == os.fspath(source):
            return
        target.unlink()
    elif target.is_dir():
        shutil.rmtree(target)
    elif target.exists():
        target.unlink()
    try:
        target.symlink_to(source, target_is_directory=source.is_dir())
    except OSError:  # e.g. Windows without the symlink privilege
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)


def mirror_session(session_dir: PathLike, target: PathLike, label_dir_name: str = DEFAULT_LABEL_DIR) -> Path:
    """Make ``target`` a session folder for the scorer without touching ``session_dir``: links
    to its ``metadata.json`` and, when it has one, its ``label_dir_name`` folder (copies where
    symlinks are not allowed). Hypotheses written to ``target`` then score with
    ``score_split(target.parent)`` exactly as they would inside the data. Returns ``target``."""
    source, target = Path(session_dir).resolve(), Path(target)
    if target.resolve() == source:  # linking its files onto themselves would delete them
        raise ValueError(f"{target}: is the session folder itself; mirror it into another folder")
    target.mkdir(parents=True, exist_ok=True)
    _link_or_copy(source / METADATA_FILE, target / METADATA_FILE)
    if (source / label_dir_name).is_dir():
        _link_or_copy(source / label_dir_name, target / label_dir_name)
    return target


class HypothesisCollector:
    """Collects ``(id, text)`` of every chunk of ``dataset`` (an :class:`~mcorec_torch.MCoRecDataset`
    with ``segments="asd"|"windows"|"ranges"``, or labels) and writes each session with
    :func:`~mcorec_torch.hypotheses.write_hypotheses` once all its chunks are in.

    ``clusters``: ``{session: {speaker: id}}``, a function of the session folder (default:
    :func:`~mcorec_torch.hypotheses.cluster_session`, the baseline clustering from ASD scores).
    Single process: :meth:`add` writes a session as soon as it completes. Under
    ``torch.distributed`` every rank calls :meth:`add` with its own batches and then
    :meth:`finish` (a collective): rank 0 gathers everything and writes; other ranks write
    nothing. The same id twice (a DDP sampler repeats batches to keep ranks equal) is fine
    when the text is the same; an id the dataset does not have raises ``KeyError``.

    ``out_root``: write outside the data (which may be read-only): session ``S`` goes to
    ``out_root/S/<hyp_dir_name>/``, beside links to ``S``'s ``metadata.json`` and
    ``label_dir_name`` folder (:func:`mirror_session`), so ``out_root`` reads as a split and
    ``mcorec-torch score out_root`` scores it. Default: inside each session folder.
    """

    def __init__(self, dataset: Any, clusters: Clusters = None, hyp_dir_name: str = DEFAULT_HYPOTHESIS_DIR, *,
                 out_root: Optional[PathLike] = None, label_dir_name: str = DEFAULT_LABEL_DIR) -> None:
        index = dataset.index
        self.hyp_dir_name = hyp_dir_name
        self.clusters = clusters
        self.out_root = Path(out_root) if out_root is not None else None
        self.label_dir_name = label_dir_name
        #: id -> (session, speaker, start_s, end_s)
        self.chunks: Dict[str, Tuple[str, str, float, float]] = {}
        self.session_dirs: Dict[str, Path] = {}
        self.pending: Dict[str, set] = {}
        for entry in index.sessions:
            self.session_dirs[entry.name] = Path(entry.path)
            self.pending.setdefault(entry.name, set())
        for i in range(len(dataset)):
            row = dataset.index_row(i)
            speaker = index.speakers[int(index.speaker[row])]
            session = index.sessions[speaker.session].name
            chunk_id = index.segment_id(row)
            self.chunks[chunk_id] = (session, speaker.name, int(index.start_ms[row]) / 1000.0,
                                     int(index.end_ms[row]) / 1000.0)
            self.pending[session].add(chunk_id)
        self.texts: Dict[str, str] = {}
        self.written: Dict[str, WrittenSession] = {}
        self.rank, self.world = _distributed()

    def add(self, ids: Sequence[str], texts: Sequence[str]) -> List[str]:
        """Record decoded ``texts`` of chunks ``ids``; returns the sessions written now."""
        if len(ids) != len(texts):
            raise ValueError(f"{len(ids)} ids but {len(texts)} texts")
        touched = set()
        for chunk_id, text in zip(ids, texts):
            if chunk_id not in self.chunks:
                raise KeyError(f"chunk {chunk_id!r} is not a segment of the collector's dataset")
            previous = self.texts.get(chunk_id)
            if previous is not None and previous != text:
                logger.warning("chunk %s decoded twice with different texts; keeping the first", chunk_id)
                continue
            self.texts[chunk_id] = str(text)
            touched.add(self.chunks[chunk_id][0])
        if self.world > 1:
            return []
        return [s for s in sorted(touched) if self._write_if_complete(s)]

    def missing(self) -> Dict[str, List[str]]:
        """``{session: [ids without a text]}`` of the sessions not complete (this process's view)."""
        return {s: sorted(ids - self.texts.keys()) for s, ids in self.pending.items() if ids - self.texts.keys()}

    def _write_if_complete(self, session: str) -> bool:
        if session in self.written or self.pending[session] - self.texts.keys():
            return False
        hypotheses: Dict[str, List[Tuple[float, float, str]]] = {}
        for chunk_id in self.pending[session]:
            _, speaker, start, end = self.chunks[chunk_id]
            hypotheses.setdefault(speaker, []).append((start, end, self.texts[chunk_id]))
        session_dir = self.session_dirs[session]
        target = session_dir
        if self.out_root is not None:
            target = mirror_session(session_dir, self.out_root / session, self.label_dir_name)
        self.written[session] = write_hypotheses(target, hypotheses, self._clusters(session, session_dir),
                                                 hyp_dir_name=self.hyp_dir_name)
        return True

    def _clusters(self, session: str, session_dir: Path) -> Mapping[str, int]:
        if self.clusters is None:
            from .clustering import cluster_session
            return cluster_session(session_dir)
        if callable(self.clusters):
            return self.clusters(session_dir)
        return self.clusters[session]

    def finish(self) -> Dict[str, WrittenSession]:
        """Gather every rank's texts on rank 0 (collective under ``torch.distributed``), write
        the sessions not yet written, and return what this process wrote. Raises
        ``RuntimeError`` on rank 0 naming the chunks that never got a text."""
        if self.world > 1:
            import torch.distributed as dist
            gathered: List[Optional[Dict[str, str]]] = [None] * self.world if self.rank == 0 else None
            dist.gather_object(self.texts, gathered, dst=0)
            if self.rank != 0:
                return {}
            for texts in gathered:
                for chunk_id, text in (texts or {}).items():
                    self.texts.setdefault(chunk_id, text)
        missing = self.missing()
        if missing:
            count = sum(len(v) for v in missing.values())
            example = next(iter(missing.values()))[0]
            raise RuntimeError(f"{count} chunk(s) of {len(missing)} session(s) have no hypothesis, e.g. {example}")
        for session in sorted(self.pending):
            self._write_if_complete(session)
        return dict(self.written)
