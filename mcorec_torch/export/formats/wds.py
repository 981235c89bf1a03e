"""The ``wds`` format: WebDataset tar shards ``wds/<split>-<k>.tar`` of at most ``shard_size``
samples or megabytes, listed in ``wds/shards.txt``, whose samples are a seeded permutation of
the whole split, so each shard mixes sessions and speakers; read back by a plain ``tarfile`` loop
(:func:`iter_wds`) or, for DataLoaders, :class:`WdsDataset`.

Two steps, so reading stays sequential and the export resumable: each session is written (in
a worker, its tracks read front to back) into one part tar ``parts/wds/<split>-<session>.tar``;
the merge then lays the shards out from the records alone (:func:`plan_shards`: the seed and
the entries' sizes) and copies each sample's entries, bytes as they are, from the part tars into
the shards (each written under a temporary name and renamed; a shard already there is kept),
and removes the part tars once every shard is written. The same seed gives the same shards."""
from __future__ import annotations

import contextlib
import io
import json
import re
import tarfile
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np
from torch.utils.data import IterableDataset, get_worker_info

from ..._io import atomic_write_text
from ...data.sample import ACTIVITY_KEYS
from ...errors import MCoRecDataError, PathLike
from ...timeline import frame_to_sample
from .. import codec
from ..plan import PARTS_DIR, ExportPlan, ExportSettings, read_fingerprint
from ..read import to_sample
from .base import ExportFormat, PendingFile, Record, Sample, SessionWriter, leftover_target

#: Bytes a tar entry takes besides its data (its header), counted toward a ``"100MB"`` shard size.
ENTRY_HEADER = 512
#: Where a session's part tar is, relative to the output folder.
PART_FOLDER = f"{PARTS_DIR}/wds"


def add_entry(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    """Add file ``name`` holding ``data`` to ``tar`` with fixed metadata (mtime 0, mode 644, no
    owner names), so the same entries give the same bytes."""
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode, info.uname, info.gname = len(data), 0, 0o644, "", ""
    tar.addfile(info, io.BytesIO(data))


def shard_name(split: str, number: int) -> str:
    """``wds/<split>-<number:05d>.tar`` (relative to the output folder)."""
    return f"wds/{split}-{number:05d}.tar"


class TarWriter(SessionWriter):
    """The session's samples, in file order, in its part tar ``parts/wds/<split>-<session>.tar``
    (written under a temporary name, renamed when the session is complete); per sample
    ``<key>.mp4`` (frames + audio) or ``<key>.npy`` (frames) with ``<key>.flac``/``.wav``,
    ``<key>.txt``, with the ``activity`` option ``<key>.activity.npy``, ``<key>.stno.npy`` (and
    ``<key>.activity_scores.npy``), and ``<key>.json`` (the record). Keys are segment ids with
    ``/`` replaced by ``_``. The record's ``paths`` say where the sample is and how many bytes
    its entries take: ``{"part", "key", "bytes"}`` (the merge turns them into ``{"shard", "key"}``)."""

    def __init__(self, plan: ExportPlan, out: Path, session: str) -> None:
        super().__init__(plan, out, session)
        self.path = out / PART_FOLDER / f"{plan.split}-{session}.tar"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.pending = PendingFile(self.path)
        self.tar: Optional[tarfile.TarFile] = None
        try:
            self.tar = tarfile.open(self.pending.tmp, "w", format=tarfile.USTAR_FORMAT)
        except BaseException:
            self.pending.discard()
            raise

    def write(self, i: int, record: Record) -> Record:
        sample = self.load(i)
        key = record["id"].replace("/", "_")
        ext, video = self.encoded_video(sample)
        entries = [(key + ext, video), (key + ".txt", record["text"].encode("utf-8"))]
        if ext == ".npy":
            entries.append((key + self.settings.audio_suffix, self.audio_bytes(sample)))
        entries += [(f"{key}.{name}.npy", data) for name, data in self.activity_files(sample).items()]
        entries.append((key + ".json", json.dumps(record, sort_keys=True).encode("utf-8")))
        for name, data in entries:
            add_entry(self.tar, name, data)
        size = sum(len(data) + ENTRY_HEADER for _, data in entries)
        return dict(record, paths={"part": self.path.relative_to(self.out).as_posix(), "key": key, "bytes": size})

    def close(self) -> None:
        """Finish the part tar: close it, rename it to its name."""
        self.tar.close()
        self.pending.commit()
        self.tar = None  # after the rename: abort() still removes a tar interrupted before it

    def abort(self) -> None:
        """Drop the part tar (its temporary file is removed); an error closing it (the failure
        being handled may be this file's own) does not hide the one being raised."""
        if self.tar is not None:
            with contextlib.suppress(Exception):
                self.tar.close()
            self.tar = None
            self.pending.discard()


def plan_shards(records: List[Record], settings: ExportSettings) -> List[List[int]]:
    """The shards of a ``wds`` export as lists of positions in ``records`` (every record once):
    the records in the order of ``numpy.random.default_rng(settings.seed).permutation``, cut
    into shards of ``shard_size`` samples, or of at most ``shard_size`` megabytes by the
    records' entry sizes (``paths["bytes"]``; a sample larger than that is a shard alone)."""
    kind, limit = settings.shard_limit()
    shards: List[List[int]] = []
    size = 0
    for position in np.random.default_rng(settings.seed).permutation(len(records)).tolist():
        incoming = int(records[position]["paths"]["bytes"])
        if not shards or (len(shards[-1]) >= limit if kind == "samples" else size + incoming > limit):
            shards.append([])
            size = 0
        shards[-1].append(position)
        size += incoming
    return shards


class TarIndex:
    """Where each sample's entries are in tar files (part tars, shards): ``(name, offset, size)``
    of each entry, by tar (a path relative to the output folder) and key, read from a tar's
    headers the first time it is asked for; :meth:`group` reads a sample's entries."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.members: Dict[str, Dict[str, List[Tuple[str, int, int]]]] = {}

    def locate(self, tar: str, key: str, why: str) -> List[Tuple[str, int, int]]:
        """The entries of sample ``key`` in ``tar``; ``MCoRecDataError`` saying ``why`` it is
        needed when the tar is missing, or that the sample is not in it."""
        path = self.out / tar
        if tar not in self.members:
            if not path.exists():
                raise MCoRecDataError(path, f"missing: {why}")
            found: Dict[str, List[Tuple[str, int, int]]] = {}
            with tarfile.open(path) as archive:
                for member in archive:
                    found.setdefault(member.name.partition(".")[0], []).append(
                        (member.name, member.offset_data, member.size))
            self.members[tar] = found
        if key not in self.members[tar]:
            raise MCoRecDataError(path, f"holds no sample {key!r} ({why})")
        return self.members[tar][key]

    def entries(self, tar: str, key: str, why: str) -> List[Tuple[str, bytes]]:
        """``[(entry name, bytes), ...]`` of sample ``key`` of ``tar``, in the tar's order."""
        found, members = [], self.locate(tar, key, why)
        with open(self.out / tar, "rb") as source:
            for name, offset, size in members:
                source.seek(offset)
                found.append((name, source.read(size)))
        return found

    def group(self, tar: str, key: str, why: str) -> Dict[str, Any]:
        """Sample ``key`` of ``tar`` as ``{"__key__": key, extension: bytes, ...}`` (as
        :func:`iter_tar_groups` gives it)."""
        return {"__key__": key, **{name.partition(".")[2]: data for name, data in self.entries(tar, key, why)}}


def write_shard(out: Path, name: str, records: List[Record], parts: TarIndex) -> None:
    """Shard ``name`` holding ``records``' samples in that order, their entries copied byte for
    byte from the part tars (under a temporary name, renamed when complete)."""
    why = f"{name} is written from it (part tars are removed once every shard is written); export into a new folder"
    pending = PendingFile(out / name)
    try:
        with tarfile.open(pending.tmp, "w", format=tarfile.USTAR_FORMAT) as tar:
            for record in records:
                for entry, data in parts.entries(record["paths"]["part"], record["paths"]["key"], why):
                    add_entry(tar, entry, data)
        pending.commit()
    except BaseException:
        pending.discard()
        raise


def _remove_leftover_shards(out: Path, split: str) -> None:
    """Delete shards a killed merge left under temporary names."""
    pattern = re.compile(rf"{re.escape(split)}-\d+\.tar")
    folder = out / "wds"
    if folder.is_dir():
        for path in folder.iterdir():
            target = leftover_target(path.name)
            if target is not None and pattern.fullmatch(target):
                path.unlink()


def iter_tar_groups(path: PathLike) -> Iterator[Dict[str, bytes]]:
    """The samples of one tar shard as ``{extension: bytes}`` (with ``"__key__"``), grouped by
    key in file order, as WebDataset groups them."""
    group: Dict[str, Any] = {}
    with tarfile.open(path) as tar:
        for member in tar:
            if not member.isfile():
                continue
            name = member.name.rsplit("/", 1)[-1]
            key, _, ext = name.partition(".")
            if group and key != group["__key__"]:
                yield group
                group = {}
            group["__key__"] = key
            group[ext] = tar.extractfile(member).read()
    if group:
        yield group


def sample_from_wds(group: Dict[str, Any], color: str, name: str = "<shard>") -> Dict[str, Any]:
    """A WebDataset sample (``{extension: bytes}`` as ``webdataset`` or :func:`iter_tar_groups`
    give it, undecoded) as the SPEC §4 sample dict."""
    if "json" not in group:
        raise MCoRecDataError(name, f"sample {group.get('__key__')!r} has no .json entry")
    record = json.loads(group["json"])
    frames = int(record["frames"])
    if "mp4" in group:
        video, audio = codec.read_segment_mp4(bytes(group["mp4"]), color, frames, name=f"{name}:{group['__key__']}")
    elif "npy" in group:
        video = codec.read_npy(group["npy"])
        audio_key = "wav" if "wav" in group else "flac"
        audio = codec.read_audio_file(bytes(group[audio_key]), frame_to_sample(frames))
    else:
        raise MCoRecDataError(name, f"sample {group['__key__']!r} has neither .mp4 nor .npy frames")
    activity = {key: codec.read_npy(group[f"{key}.npy"]) for key in ACTIVITY_KEYS if f"{key}.npy" in group}
    return to_sample(record, video, audio, activity)


def iter_wds(paths: Iterable[PathLike], color: str = "rgb") -> Iterator[Dict[str, Any]]:
    """The samples of WebDataset shards ``paths`` in order (plain ``tarfile``, no ``webdataset``)."""
    for path in paths:
        for group in iter_tar_groups(path):
            yield sample_from_wds(group, color, name=str(path))


def shard_paths(out: PathLike) -> List[Path]:
    """The tar shards of a finished ``wds`` export (``OUT/wds/shards.txt``)."""
    listing = Path(out) / "wds" / "shards.txt"
    if not listing.exists():
        raise MCoRecDataError(listing, "missing: not a finished wds export")
    return [Path(out) / line for line in listing.read_text().split()]


class WdsDataset(IterableDataset):
    """The samples of WebDataset shards as an ``IterableDataset``: DataLoader workers (and,
    with ``num_replicas``/``rank``, DDP ranks) read disjoint shards; ``color`` as exported."""

    def __init__(self, shards: Sequence[PathLike], color: str = "rgb", *, num_replicas: int = 1, rank: int = 0,
                 transform: Optional[Any] = None) -> None:
        self.shards = [Path(s) for s in shards]
        self.color, self.num_replicas, self.rank, self.transform = color, num_replicas, rank, transform

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        info = get_worker_info()
        workers, worker = (info.num_workers, info.id) if info is not None else (1, 0)
        step, first = self.num_replicas * workers, self.rank * workers + worker
        for sample in iter_wds(self.shards[first::step], self.color):
            yield self.transform(sample) if self.transform is not None else sample


class WdsFormat(ExportFormat):
    """WebDataset tar shards mixing the sessions, and their list."""

    name = "wds"
    raw_video = True
    writer = TarWriter
    session_pattern = PART_FOLDER + r"/{split}-{session}\.tar"

    def finalize(self, out: Path, split: str, records: List[Record]) -> None:
        """Lay out the shards (:func:`plan_shards`), write those not there yet, list them in
        ``wds/shards.txt``, point each record at its shard, and remove the part tars."""
        fingerprint = read_fingerprint(out)
        settings = ExportSettings(**fingerprint["settings"])
        shards = plan_shards(records, settings)
        names = [shard_name(split, k) for k in range(len(shards))]
        _remove_leftover_shards(out, split)
        parts = TarIndex(out)
        for name, positions in zip(names, shards):
            if not (out / name).exists():
                write_shard(out, name, [records[p] for p in positions], parts)
        atomic_write_text(out / "wds" / "shards.txt", "".join(name + "\n" for name in names))
        for name, positions in zip(names, shards):
            for p in positions:
                records[p]["paths"] = {"shard": name, "key": records[p]["paths"]["key"]}
        for session in fingerprint["sessions"]:  # also those whose every segment was skipped
            (out / PART_FOLDER / f"{split}-{session}.tar").unlink(missing_ok=True)

    def read(self, out: Path, records: List[Record], color: str) -> Iterator[Sample]:
        """The samples of ``records``, in their order (each read from its shard by offset)."""
        shards = TarIndex(out)
        for record in records:
            shard, key = record["paths"]["shard"], record["paths"]["key"]
            group = shards.group(shard, key, f"the manifest lists it for segment {record['id']}")
            yield sample_from_wds(group, color, name=shard)


FORMAT = WdsFormat()
