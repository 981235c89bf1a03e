"""SentencePiece tokens for the transcripts (SPEC §6): load, encode/decode, train.

Two id spaces:

* **Model ids** (no units file): the SentencePiece model's own ids (``<unk>`` 0, ``<s>`` 1,
  ``</s>`` 2 for models trained here, like sentencepiece's defaults). No CTC blank.
* **Unit ids** (ESPnet-style units file, e.g. the baseline's ``unigram5000_units.txt``): the
  file lists ``piece id`` per line, ``<unk> 1`` first and the pieces numbered ``2..N``. Id 0
  is the CTC blank and ``<eos>`` (also used as ``<sos>``) is ``N + 1``, the last id, so the
  output layer has ``N + 2`` entries — the layout of ESPnet and auto_avsr, whose token list
  is ``["<blank>"] + pieces-in-file-order + ["<eos>"]``. A file that lists ``<blank> 0`` or
  ``<eos> K`` itself is honoured. Encoding maps each piece through the table, a piece the
  table lacks to ``<unk>``.

Padding is -1 everywhere (the collate function's ignore index); :meth:`Tokenizer.decode`
drops it, and with a units file also drops the blank and ``<eos>``.

sentencepiece and torch load on first use, so that the command line's flags (``--model-type``
offers :data:`MODEL_TYPES`) are built without them.
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from .._io import atomic_write_text, read_text
from ..checks import OptionError
from ..corpus.cues import cue_fault
from ..corpus.layout import DEFAULT_LABEL_DIR, METADATA_FILE, list_sessions, speaker_sort_key
from ..corpus.metadata import load_metadata
from ..corpus.vtt import read_vtt
from ..errors import MCoRecDataError, PathLike
from .normalize import normalize

if TYPE_CHECKING:
    import torch

from .choices import MODEL_TYPES

__all__ = [
    "MODEL_TYPES",
    "Tokenizer",
    "collect_transcripts",
    "load_tokenizer",
    "piece_count",
    "read_units",
    "train_named_tokenizer",
    "train_tokenizer",
    "write_units",
]

#: What follows a trained tokenizer's name in its files: the model, its vocabulary, the ESPnet units.
TOKENIZER_SUFFIXES = (".model", ".vocab", "_units.txt")

#: SentencePiece's refusal of a vocabulary smaller than the characters it must cover.
_TOO_FEW = re.compile(r"Vocabulary size is smaller than required_chars\. (\d+) vs (\d+)")


BLANK = "<blank>"
UNK = "<unk>"
EOS = "<eos>"


def _sentencepiece() -> Any:
    """The ``sentencepiece`` module, imported on first use."""
    import sentencepiece

    return sentencepiece


def read_units(path: PathLike) -> Dict[str, int]:
    """Read an ESPnet-style units file (``piece id`` per line) into ``{piece: id}``.

    Checks: two fields per line, integer ids, no piece or id twice, ``<unk>`` present, a
    listed ``<blank>`` has id 0 and nothing else does, the other ids are contiguous from 1,
    and a listed ``<eos>`` has the largest id. Raises :class:`MCoRecDataError` naming the
    file and line otherwise.
    """
    path = os.fspath(path)
    lines = read_text(path, "units file").splitlines()

    table: Dict[str, int] = {}
    seen_ids: Dict[int, int] = {}
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2:
            raise MCoRecDataError(path, f"expected 'piece id', got {line.strip()!r}", line=number)
        piece, raw_id = fields
        try:
            unit_id = int(raw_id)
        except ValueError:
            raise MCoRecDataError(path, f"id {raw_id!r} is not an integer", line=number) from None
        if piece in table:
            raise MCoRecDataError(path, f"piece {piece!r} listed twice", line=number)
        if unit_id in seen_ids:
            raise MCoRecDataError(path, f"id {unit_id} already used on line {seen_ids[unit_id]}",
                                  line=number)
        if (unit_id == 0) != (piece == BLANK):
            raise MCoRecDataError(path, f"id 0 is reserved for {BLANK} (got {piece!r} {unit_id})",
                                  line=number)
        table[piece] = unit_id
        seen_ids[unit_id] = number
    if UNK not in table:
        raise MCoRecDataError(path, f"no {UNK} entry")
    others = sorted(i for p, i in table.items() if p not in (BLANK, EOS))
    if others != list(range(1, len(others) + 1)):
        raise MCoRecDataError(path, "ids are not contiguous from 1 (ESPnet numbers pieces 1..N)")
    if EOS in table and table[EOS] != len(others) + 1:
        raise MCoRecDataError(path, f"{EOS} must have the last id {len(others) + 1}, "
                                    f"got {table[EOS]}", line=seen_ids[table[EOS]])
    return table


class Tokenizer:
    """A SentencePiece model, optionally behind an ESPnet-style units table.

    ``Tokenizer(model_path, units_path=None)``. Picklable (DataLoader workers, spawn).

    Attributes: :attr:`vocab_size` (size of the output layer: model pieces, or units + blank
    + eos), :attr:`blank_id` (0 with a units file, else ``None``), :attr:`eos_id`,
    :attr:`unk_id`.
    """

    def __init__(self, model_path: PathLike, units_path: Optional[PathLike] = None) -> None:
        self.model_path = Path(model_path)
        self.units_path = Path(units_path) if units_path is not None else None
        if not self.model_path.is_file():
            raise MCoRecDataError(self.model_path, "SentencePiece model does not exist")
        self._sp = _sentencepiece().SentencePieceProcessor()
        try:
            self._sp.load(str(self.model_path))
        except (OSError, RuntimeError) as exc:
            raise MCoRecDataError(self.model_path, f"not a SentencePiece model: {exc}") from None

        self._units: Optional[Dict[str, int]] = None
        self._unit_pieces: List[Optional[str]] = []
        if self.units_path is None:
            self.vocab_size = self._sp.get_piece_size()
            self.blank_id: Optional[int] = None
            self.unk_id = self._sp.unk_id()
            self.eos_id: Optional[int] = self._sp.eos_id() if self._sp.eos_id() >= 0 else None
            return

        units = read_units(self.units_path)
        pieces = [p for p in units if p not in (BLANK, EOS, UNK)]
        foreign = [p for p in pieces if self._sp.piece_to_id(p) == self._sp.unk_id()]
        if foreign:
            raise MCoRecDataError(self.units_path, f"{len(foreign)} pieces are not in the model "
                                  f"{self.model_path.name} (e.g. {foreign[:3]}); units and "
                                  "model do not belong together")
        self._units = units
        self.blank_id = 0
        self.unk_id = units[UNK]
        self.eos_id = units.get(EOS, max(units.values()) + 1)
        self.vocab_size = self.eos_id + 1
        self._unit_pieces = [None] * self.vocab_size
        for piece, unit_id in units.items():
            self._unit_pieces[unit_id] = piece

    def __len__(self) -> int:
        return self.vocab_size

    def __repr__(self) -> str:
        units = f", units_path='{self.units_path}'" if self.units_path else ""
        return f"Tokenizer(model_path='{self.model_path}'{units}, vocab_size={self.vocab_size})"

    @property
    def token_list(self) -> List[str]:
        """Piece of every id, ``vocab_size`` long (ESPnet's ``token_list`` with a units file)."""
        if self._units is None:
            return [self._sp.id_to_piece(i) for i in range(self.vocab_size)]
        names = list(self._unit_pieces)
        names[0] = BLANK
        names[self.eos_id] = EOS
        return [name if name is not None else UNK for name in names]

    def pieces(self, text: str) -> List[str]:
        """The SentencePiece pieces of ``text``."""
        return self._sp.encode(text, out_type=str)

    def encode(self, text: str) -> "torch.Tensor":
        """Token ids of ``text``: int64 tensor ``[L]`` (``L`` may be 0)."""
        import torch

        if self._units is None:
            ids = self._sp.encode(text)
        else:
            ids = [self._units.get(piece, self.unk_id) for piece in self._sp.encode(text, out_type=str)]
        return torch.tensor(ids, dtype=torch.long)

    def decode(self, ids: Union["torch.Tensor", Sequence[int], Iterable[int]]) -> str:
        """Text of a 1-D id sequence; -1 (padding) is skipped, and with a units file the blank
        (0) and ``<eos>`` too. Raises ``ValueError`` for an id outside ``[0, vocab_size)``."""
        torch = sys.modules.get("torch")  # a tensor means torch is loaded
        if torch is not None and isinstance(ids, torch.Tensor):
            if ids.dim() > 1:
                raise ValueError(f"decode takes one sequence, got a tensor of shape {tuple(ids.shape)}")
            ids = ids.tolist()
        values = [int(i) for i in ids if int(i) != -1]
        bad = [i for i in values if not 0 <= i < self.vocab_size]
        if bad:
            raise ValueError(f"token ids {bad[:5]} outside [0, {self.vocab_size})")
        if self._units is None:
            return self._sp.decode(values)
        model_ids = [self._sp.piece_to_id(self._unit_pieces[i])
                     for i in values if i not in (self.blank_id, self.eos_id)]
        return self._sp.decode(model_ids)


TokenizerSpec = Union[None, Tokenizer, str, "os.PathLike[str]", Mapping[str, PathLike]]


def load_tokenizer(spec: TokenizerSpec) -> Optional[Tokenizer]:
    """Resolve the dataset's ``tokenizer=`` argument.

    ``None`` -> ``None``; a :class:`Tokenizer` -> itself; a path -> ``Tokenizer(path)`` (a
    ``.model`` file; no units file is looked for); a mapping ``{"model": path, "units":
    path}`` (``"units"`` optional) -> ``Tokenizer(model, units)``.
    """
    if spec is None or isinstance(spec, Tokenizer):
        return spec
    if isinstance(spec, (str, os.PathLike)):
        return Tokenizer(spec)
    if isinstance(spec, Mapping):
        unknown = set(spec) - {"model", "units"}
        if "model" not in spec or unknown:
            raise ValueError("a tokenizer mapping needs a 'model' key and may have a 'units' key; "
                             f"got keys {sorted(spec)}")
        return Tokenizer(spec["model"], spec.get("units"))
    raise TypeError(f"tokenizer must be None, a Tokenizer, a path to a .model file or "
                    f"{{'model': ..., 'units': ...}}; got {type(spec).__name__}")


def write_units(model_path: PathLike, units_path: PathLike) -> int:
    """Write the ESPnet-style units file of a SentencePiece model; returns the piece count N.

    ``<unk> 1`` first, then every normal piece of the model sorted by code point (ESPnet's
    ``LC_ALL=C sort`` of the pieces) numbered from 2. Control pieces (``<s>``, ``</s>``) are
    left out: the blank (0) and ``<eos>`` (N + 1) are implicit.
    """
    sp = _sentencepiece().SentencePieceProcessor(model_file=os.fspath(model_path))
    pieces = sorted(sp.id_to_piece(i) for i in range(sp.get_piece_size())
                    if not (sp.is_control(i) or sp.is_unknown(i)))
    lines = [f"{UNK} 1"] + [f"{piece} {number}" for number, piece in enumerate(pieces, start=2)]
    atomic_write_text(units_path, "\n".join(lines) + "\n")
    return len(lines)


def piece_count(model_path: PathLike) -> int:
    """The pieces of a SentencePiece model: its vocabulary as ``vocab_size`` counts it
    (``<unk>``, ``<s>`` and ``</s>`` included; a model trained with ``vocab_size=5000`` on
    enough text has 5000)."""
    return int(_sentencepiece().SentencePieceProcessor(model_file=os.fspath(model_path)).get_piece_size())


def train_tokenizer(texts: Iterable[str], out_prefix: PathLike, vocab_size: int, *,
                    model_type: str = "unigram", character_coverage: float = 1.0,
                    num_threads: int = 1, write_units_file: bool = True, option: str = "vocab_size") -> Path:
    """Train a SentencePiece model on ``texts`` (one sentence each; empty ones skipped).

    Writes ``<out_prefix>.model``, ``<out_prefix>.vocab`` and, unless ``write_units_file`` is
    False, ``<out_prefix>_units.txt``; returns the ``.model`` path. ``hard_vocab_limit`` is
    off, so a corpus too small for ``vocab_size`` yields the largest vocabulary it supports
    (:func:`piece_count` of the result) instead of an error. A ``vocab_size`` below the
    characters the text needs (unigram, bpe) raises :class:`~mcorec_torch.checks.OptionError`
    naming ``option`` and the smallest that works. Deterministic for the same texts and
    arguments (the thread count changes the result, hence a fixed default of 1).
    """
    sentences = [t for t in texts if t and not t.isspace()]
    if not sentences:
        raise ValueError("no non-empty text to train a tokenizer on")
    out_prefix = Path(out_prefix)
    out_prefix.parent.mkdir(parents=True, exist_ok=True)
    try:
        _sentencepiece().SentencePieceTrainer.train(
            sentence_iterator=iter(sentences),
            model_prefix=str(out_prefix),
            vocab_size=int(vocab_size),
            model_type=model_type,
            character_coverage=character_coverage,
            hard_vocab_limit=False,
            num_threads=int(num_threads),
            minloglevel=2,
        )
    except RuntimeError as exc:
        too_few = _TOO_FEW.search(str(exc))
        if too_few is None:
            raise
        raise OptionError(option, f"{option} {vocab_size} is smaller than the {too_few.group(2)} characters and "
                          f"control pieces the text needs ({model_type} model): use at least {too_few.group(2)}, or a "
                          "lower character coverage") from None
    model_path = out_prefix.with_name(out_prefix.name + ".model")
    if write_units_file:
        write_units(model_path, out_prefix.with_name(out_prefix.name + "_units.txt"))
    return model_path


def train_named_tokenizer(texts: Iterable[str], out_dir: PathLike, vocab_size: int, *, name: Optional[str] = None,
                          model_type: str = "unigram", character_coverage: float = 1.0,
                          option: str = "vocab_size") -> Tuple[Path, int]:
    """:func:`train_tokenizer` into ``out_dir``, the files named ``<name>.model``,
    ``<name>.vocab`` and ``<name>_units.txt`` (:data:`TOKENIZER_SUFFIXES`) where ``name``
    defaults to ``<model_type><pieces>``, the vocabulary the model really has: the text may
    support fewer pieces than ``vocab_size`` (then that smaller number, the largest that works,
    names it). Trained in a temporary folder of ``out_dir`` and moved into place, so no file of
    a failed run is left. Returns ``(model path, pieces)``."""
    out_dir = Path(out_dir)
    created = not out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory(dir=out_dir, prefix=".tokenizer-") as work:
            trained = train_tokenizer(texts, Path(work) / "tokenizer", vocab_size, model_type=model_type,
                                      character_coverage=character_coverage, option=option)
            pieces = piece_count(trained)
            final = name or f"{model_type}{pieces}"
            for suffix in TOKENIZER_SUFFIXES:
                os.replace(Path(work) / f"tokenizer{suffix}", out_dir / f"{final}{suffix}")
    except BaseException:
        if created and not any(out_dir.iterdir()):
            out_dir.rmdir()  # the folder this call made, still empty
        raise
    return out_dir / f"{final}.model", pieces


def collect_transcripts(split_dirs: Union[PathLike, Sequence[PathLike]], style: Optional[str] = "train",
                        label_dir_name: str = DEFAULT_LABEL_DIR) -> List[str]:
    """Normalized cue texts of one or more split directories, for tokenizer training.

    For every session (sorted) and every ``labels/spk_N.vtt`` (sorted), the cues inside the
    speaker's central UEM (``start >= uem.start and end <= uem.end``, integer milliseconds as
    in the dataset) with ``end > start``, normalized with ``style`` (``None``: as written);
    empty results are left out. Sessions without a labels folder are skipped.
    """
    if isinstance(split_dirs, (str, os.PathLike)):
        split_dirs = [split_dirs]
    texts: List[str] = []
    for split_dir in split_dirs:
        for session in list_sessions(split_dir):
            label_dir = session / label_dir_name
            if not label_dir.is_dir():
                continue
            metadata = load_metadata(session)
            for vtt in sorted(label_dir.glob("*.vtt"), key=lambda p: speaker_sort_key(p.stem)):
                speaker = metadata.speakers.get(vtt.stem)
                if speaker is None or speaker.central is None:
                    raise MCoRecDataError(vtt, f"speaker {vtt.stem!r} has no central entry in "
                                               f"{session / METADATA_FILE}")
                for cue in read_vtt(vtt):
                    if cue_fault(cue, speaker.central.uem_ms) is not None:
                        continue
                    text = normalize(cue.text, style) if style is not None else cue.text.strip()
                    if text:
                        texts.append(text)
    return texts
