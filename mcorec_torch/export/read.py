"""Reading an export back into SPEC §4 sample dicts: per-segment files (``mp4``, ``lhotse``),
WebDataset shards (a plain ``tarfile`` loop; :class:`WdsDataset` for DataLoaders) and ``hf``
rows. Video is uint8 ``[T, C, H, W]``, audio float32 ``[640 * T]`` at 16 kHz; padding frames
(``video_mask`` False) are zero."""
from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from ..errors import MCoRecDataError, PathLike
from ..timeline import frame_to_sample
from . import codec
from .plan import mask_from_padding

_KEYS = ("id", "session", "speaker", "conversation", "text", "start", "end", "frame_start", "frame_end")


def to_sample(record: Dict[str, Any], video: np.ndarray, audio: np.ndarray) -> Dict[str, Any]:
    """The SPEC §4 sample dict (torch tensors) of a manifest record and its decoded media."""
    mask = mask_from_padding(record["padding"], record["frames"])
    video = np.array(video, dtype=np.uint8)
    video[~mask] = 0
    sample: Dict[str, Any] = {key: record[key] for key in _KEYS}
    sample["video"] = torch.from_numpy(video)
    sample["video_mask"] = torch.from_numpy(mask)
    sample["audio"] = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))
    if "tokens" in record:
        sample["tokens"] = torch.as_tensor(record["tokens"], dtype=torch.int64)
    return sample


def read_files_record(out: PathLike, record: Dict[str, Any], color: str) -> Dict[str, Any]:
    """The sample of an ``mp4`` or ``lhotse`` export's record (the mp4's frames; the audio
    file's samples when the record has one, else the mp4's)."""
    out = Path(out)
    path = out / record["paths"]["video"]
    if not path.exists():
        raise MCoRecDataError(path, f"missing: the manifest lists it for segment {record['id']}")
    video, audio = codec.read_segment_mp4(path, color, record["frames"], name=str(path))
    if "audio" in record["paths"]:
        audio = codec.read_audio_file(out / record["paths"]["audio"], frame_to_sample(record["frames"]))
    return to_sample(record, video, audio)


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
    return to_sample(record, video, audio)


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
