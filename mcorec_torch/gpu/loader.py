"""``GpuBatchLoader``: batches whose video is decoded in the training process, on the GPU
where NVDEC works, while DataLoader workers stay on the CPU (SPEC §8)."""
from __future__ import annotations

import zlib
from collections import Counter, deque
from typing import Any, Deque, Dict, Iterator, List, Optional, Sequence, Tuple

import torch
from torch.utils.data import DataLoader, Dataset

from ..checks import OptionError, check_int
from ..data.collate import Collator, to_device
from ..data.sample import Batch
from .decoders import CpuFrameDecoder, FrameDecoder, cuda_unavailable_reason, open_decoder
from .lanes import FallbackLog, Job, Lane
from .selftest import luma_self_test


class _WithoutVideo(Dataset):
    """The dataset's samples with the video left undecoded (``video_plan``) and no per-sample
    transform (it runs on the batch): what the CPU workers of :class:`GpuBatchLoader` load."""

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, i: int) -> Any:
        return self.dataset.fetch(int(i), video=False, transform=False)


def refuse_derived_lips(dataset: Any) -> None:
    """``OptionError`` (option ``crops``) when ``dataset`` reads a derived lip track (SPEC §13):
    its file is the face video, whose mouth ROIs only the CPU reader cuts; the lanes decode
    track files as they are."""
    derived = [track.path for track in dataset.index.tracks if track.lip == "derived"]
    if derived:
        raise OptionError("crops", f"GpuBatchLoader decodes mouth crop videos only, and {len(derived)} track(s) "
                                   f"of this dataset (crops='lip', lip_source="
                                   f"{dataset.options.lip_source!r}) have none: their mouth ROIs are derived "
                                   f"from the face video (e.g. {derived[0]}), which is cut on the CPU path "
                                   f"(the dataset in a DataLoader); run 'mcorec-torch lips SPLIT_DIR --view "
                                   f"VIEW' first and read the videos it writes, or use crops='face'")


class GpuBatchLoader:
    """Iterates batches of ``dataset`` (an :class:`~mcorec_torch.MCoRecDataset`) like
    ``DataLoader(dataset, collate_fn=collate, ...)``, with ``batch["video"]`` decoded on
    ``device``.

    - DataLoader workers (``num_workers``, CPU only) load everything but the video: audio,
      text, tokens, masks, lengths, and each segment's :class:`~mcorec_torch.data.reader.VideoPlan`.
    - ``threads`` decode lanes in this process (each with its own CUDA stream and an LRU of
      ``max_open`` open files; a file always goes to the same lane) decode the pieces of a
      batch, in file order, into one ``[B, Tmax, C, H, W]`` uint8 tensor on ``device``. The
      next batch is decoded while the training step runs on this one; the consumer's stream
      waits on the lanes' events before the batch is handed over.
    - Every tensor of the batch is delivered on ``device``, and the dataset's ``transform`` is
      applied to the batch there (``transform.batch``), not per sample in the workers.
    - NVDEC is used on a CUDA device when it works; otherwise, or if a startup self-test finds
      GPU luma different from CPU luma, or a file cannot be opened on the GPU, the CPU decoder
      is used for that file (or the run), said once in the log and counted in :meth:`report`.
      ``device="cpu"``: the same stage with the CPU decoder (batches equal the DataLoader's).
    - Derived mouth crops (``crops="lip"`` on a track without a mouth crop video, SPEC §13) are
      refused when the loader is built (:func:`refuse_derived_lips`).
    """

    def __init__(self, dataset: Any, *, batch_sampler: Optional[Any] = None, batch_size: int = 1,
                 shuffle: bool = False, num_workers: int = 0, device: "torch.device | str" = "cuda",
                 threads: int = 4, max_open: int = 16, pad_to_multiple_of: Optional[int] = None,
                 self_test: bool = True, **loader_kwargs: Any) -> None:
        check_int("threads", threads, minimum=1)
        refuse_derived_lips(dataset)
        self.dataset = dataset
        self.device = torch.device(device)
        if self.device.type == "cuda" and self.device.index is None and torch.cuda.is_available():
            self.device = torch.device("cuda", torch.cuda.current_device())  # this rank's GPU
        self.color = dataset.color
        self.threads = int(threads)
        self.max_open = int(max_open)
        self.self_test = bool(self_test)
        sampling = {"batch_sampler": batch_sampler} if batch_sampler is not None else {
            "batch_size": batch_size, "shuffle": shuffle}
        self.loader = DataLoader(_WithoutVideo(dataset), num_workers=num_workers,
                                 collate_fn=Collator(pad_to_multiple_of=pad_to_multiple_of),
                                 **sampling, **loader_kwargs)
        self.fallbacks = FallbackLog()
        #: why the whole run decodes on the CPU (``None``: NVDEC is used where it opens)
        self.run_fallback: Optional[str] = cuda_unavailable_reason(self.device) if self.device.type == "cuda" else None
        if self.run_fallback is not None:
            self.fallbacks.add(self.run_fallback, "the run")
        #: where batches are delivered: ``device``, or the CPU when torch sees no CUDA device
        self.output_device = self.device
        if self.device.type == "cuda" and not torch.cuda.is_available():
            self.output_device = torch.device("cpu")
        self._lanes: Optional[List[Lane]] = None
        self._tested = not (self.self_test and self.device.type == "cuda" and self.run_fallback is None)
        self.batches = 0
        self.segments = 0

    @property
    def batch_sampler(self) -> Any:
        """The sampler of the underlying DataLoader (``config.build.set_epoch`` reaches it here)."""
        return self.loader.batch_sampler

    def __len__(self) -> int:
        return len(self.loader)

    def _open(self, path: str) -> FrameDecoder:
        if self.device.type == "cpu":
            return CpuFrameDecoder(path)
        if self.run_fallback is not None:
            return CpuFrameDecoder(path, fallback_reason=self.run_fallback)
        return open_decoder(path, self.device)

    def _ensure_lanes(self) -> List[Lane]:
        if self._lanes is None:
            self._lanes = [Lane(f"mcorec-decode-{k}", self.output_device, self._open, self.fallbacks, self.max_open)
                           for k in range(self.threads)]
        return self._lanes

    def _check_gpu_once(self, plans: Sequence[Any]) -> None:
        if self._tested:
            return
        self._tested = True
        piece = next((p for plan in plans for p in plan.pieces), None)
        if piece is None:
            self._tested = False  # no video in this batch: test on the next one
            return
        reason = luma_self_test(piece.path, self.device)
        if reason is not None:
            self.run_fallback = reason
            self.fallbacks.add(reason, piece.path)

    def _lane_of(self, path: str) -> int:
        return zlib.crc32(path.encode("utf-8")) % self.threads

    def _start(self, batch: Batch) -> Tuple[Batch, List[Any]]:
        """Allocate the batch's video on ``device`` and hand its pieces to the lanes."""
        plans = batch.pop("video_plans", None)
        shape = batch.pop("video_shape", None)
        if plans is None:  # an empty batch (every sample skipped)
            return batch, []
        self._check_gpu_once(plans)
        lanes = self._ensure_lanes()
        video = torch.zeros(shape, dtype=torch.uint8, device=self.output_device)
        jobs: Dict[int, List[Job]] = {}
        ordered = sorted(((piece.path, piece.track_frame, row, piece) for row, plan in enumerate(plans)
                          for piece in plan.pieces), key=lambda item: item[:3])
        for path, _, row, piece in ordered:
            jobs.setdefault(self._lane_of(path), []).append((row, piece))
        ready = None
        if self.output_device.type == "cuda":
            ready = torch.cuda.Event()
            ready.record(torch.cuda.current_stream(self.output_device))
        futures = [lanes[k].submit(video, todo, self.color, ready) for k, todo in sorted(jobs.items())]
        batch["video"] = video
        return batch, futures

    def _finish(self, batch: Batch, futures: List[Any]) -> Batch:
        events = [future.result() for future in futures]  # re-raises a lane's error
        if self.output_device.type == "cuda":
            stream = torch.cuda.current_stream(self.output_device)
            for event in events:
                if event is not None:
                    stream.wait_event(event)
        self.batches += 1
        self.segments += len(batch.get("id", []))
        batch = to_device(batch, self.output_device)  # the GPU-side transforms see one device
        transform = getattr(self.dataset, "transform", None)
        if transform is not None and batch["video"].shape[0] > 0:
            batch = transform.batch(batch)
        return batch

    def __iter__(self) -> Iterator[Batch]:
        pending: Deque[Tuple[Batch, List[Any]]] = deque()
        for batch in self.loader:
            pending.append(self._start(batch))
            if len(pending) > 1:  # batch k+1 decodes while batch k is used
                yield self._finish(*pending.popleft())
        while pending:
            yield self._finish(*pending.popleft())

    def report(self) -> Dict[str, Any]:
        """What the stage did: device, batches and segments delivered, frames decoded, files
        opened (and by decoder class), and the CPU fallbacks by reason (files per reason;
        ``"the run"`` for all)."""
        lanes = self._lanes or []
        return {"device": str(self.output_device), "threads": self.threads, "batches": self.batches,
                "segments": self.segments, "frames_decoded": sum(lane.frames for lane in lanes),
                "files_opened": sum(lane.opened for lane in lanes),
                "decoders": dict(sum((lane.kinds for lane in lanes), Counter())), "run_fallback": self.run_fallback,
                "fallbacks": dict(self.fallbacks.counts)}

    def close(self) -> None:
        """Close every open decoder and stop the lanes."""
        for lane in self._lanes or []:
            lane.close()
        self._lanes = None

    def __enter__(self) -> "GpuBatchLoader":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
