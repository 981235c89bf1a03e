"""``mcorec-torch demo``: end to end on a synthetic MCoRec-format split the package writes itself."""
from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

from ..corpus.layout import CENTRAL_VIDEO_FILE
from ._options import add_dataset_options, dataset_options


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("demo", help="generate a small synthetic split, index it, load it, verify it")
    parser.add_argument("--out", default=None, help="folder for the synthetic split and cache (default: a temp dir)")
    parser.add_argument("--sessions", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="DataLoader worker processes")
    parser.add_argument("--batch-size", type=int, default=4)
    # the demo's own defaults: the 96x96 gray lip crops most AVSR models train on, and no
    # segment shorter than 0.1 s (so none of 1 or 2 frames; they are counted as too_short)
    add_dataset_options(parser, cache_dir=False, defaults={"crops": "lip", "color": "gray", "min_duration": 0.1})
    parser.set_defaults(func=run)


def _mirror_without_central_videos(split_dir: Path, target: Path) -> Path:
    """``target`` as the ``*_without_central_videos`` download of ``split_dir``: every file
    linked except ``central_video.mp4``, so the audio comes from the crops' own tracks."""
    import os

    for folder, _, files in os.walk(split_dir):
        for name in files:
            if name == CENTRAL_VIDEO_FILE:
                continue
            source = Path(folder) / name
            link = target / source.relative_to(split_dir)
            link.parent.mkdir(parents=True, exist_ok=True)
            if not link.exists():
                link.symlink_to(source.resolve())
    return target


def _expected(spec, sample: dict, options, crop_audio: bool) -> tuple:
    """``(first frame index shown, reference audio)`` of a loaded sample of the synthetic split."""
    import numpy as np

    from .. import synthetic
    from ..timeline import ego_sample_offset, ego_start_frame, frame_to_sample

    speaker = spec.speaker(sample["speaker"])
    f0, f1 = int(sample["frame_start"]), int(sample["frame_end"])
    first = f0 if options.view == "central" else ego_start_frame(f0, speaker.uem_start, speaker.ego.uem_start)
    start, stop = frame_to_sample(f0), frame_to_sample(f1)
    if options.audio == "ego":
        d = ego_sample_offset(speaker.uem_start, speaker.ego.uem_start)
        return first, synthetic.ego_audio(spec, speaker.name, start - d, stop - d)
    reference = synthetic.central_audio(spec, start, stop)
    if crop_audio:  # the crops carry the central mic only where some track of the session exists
        frames = np.arange(start, stop) // frame_to_sample(1)
        covered = np.zeros(len(frames), bool)
        for other in spec.speakers:
            for track in other.tracks:
                covered |= (frames >= track.frame_start) & (frames < track.frame_stop)
        reference = reference * covered
    return first, reference


def _verify(dataset, specs: dict, args: argparse.Namespace, show_batches: bool, crop_audio: bool = False) -> tuple:
    """Load every segment through a DataLoader; returns (problems, segments, frames, padding frames)."""
    from torch.utils.data import DataLoader

    from .. import synthetic
    from ..data.collate import collate
    from ..qa.verify import check_sample

    loader = DataLoader(dataset, batch_size=args.batch_size, num_workers=args.workers, collate_fn=collate)
    problems, segments, frames, padded = [], 0, 0, 0
    for number, batch in enumerate(loader):
        if show_batches and number < 3:
            print(f"batch {number}: video {tuple(batch['video'].shape)} {batch['video'].dtype}, "
                  f"audio {tuple(batch['audio'].shape)}, video_lengths {batch['video_lengths'].tolist()}, "
                  f"text[0] {batch['text'][0]!r}")
        for b in range(len(batch["id"])):
            t = int(batch["video_lengths"][b])
            sample = {key: batch[key][b] for key in ("id", "frame_start", "frame_end", "speaker")}
            sample["video"] = batch["video"][b, :t]
            sample["video_mask"] = batch["video_mask"][b, :t]
            sample["audio"] = batch["audio"][b, : int(batch["audio_lengths"][b])]
            first, reference = _expected(specs[batch["session"][b]], sample, dataset.options, crop_audio)
            problems += check_sample(sample, synthetic.decode_frame_index, reference, view_start=first)
            segments += 1
            frames += t
            padded += int((~sample["video_mask"]).sum())
    return problems, segments, frames, padded


def run(args: argparse.Namespace) -> int:
    from .. import synthetic
    from ..data.dataset import MCoRecDataset

    options = dataset_options(args)
    # the ego view and the lapel mic exist in train splits only
    split = "train" if "ego" in (options.view, options.audio) else "dev"
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="mcorec-demo-"))
    split_dir = out / split
    started = time.perf_counter()
    specs = {spec.name: spec for spec in synthetic.make_split(split_dir, split, num_sessions=args.sessions, seed=0)}
    print(f"wrote {len(specs)} synthetic sessions to {split_dir} in {time.perf_counter() - started:.1f} s")
    first = next(iter(specs.values()))
    open_gop = next(f"{spk.name}/{t.name}" for spk in first.speakers for t in spk.tracks if t.encoding == "open_gop")
    stereo = next(f"{spk.name}/{t.name}" for spk in first.speakers for t in spk.tracks if t.audio_format == "stereo48k")
    print(f"real-world encodings in each session: an open-GOP track ({open_gop}), "
          f"a 48 kHz stereo track ({stereo})")

    started = time.perf_counter()
    dataset = MCoRecDataset(split_dir, cache_dir=out / "cache", **dataclasses.asdict(options))
    print(f"indexed {len(dataset)} segments in {time.perf_counter() - started:.2f} s\n")
    print(dataset.report().format())
    print()

    started = time.perf_counter()
    problems, segments, frames, padded = _verify(dataset, specs, args, True)
    seconds = time.perf_counter() - started
    print(f"\nloaded {segments} segments ({frames} frames) with {args.workers} workers in {seconds:.1f} s")
    expected = len(dataset)

    if options.audio == "central":
        # The same split as the *_without_central_videos download: audio from the crops' own tracks.
        mirror = _mirror_without_central_videos(split_dir, out / f"{split}_without_central_videos")
        crop_audio = MCoRecDataset(mirror, cache_dir=out / "cache", **dataclasses.asdict(options))
        more = _verify(crop_audio, specs, args, False, crop_audio=True)
        print(f"loaded {more[1]} segments again without central_video.mp4 (audio from the crops' tracks)")
        expected += len(crop_audio)
        problems, segments, frames, padded = (problems + more[0], segments + more[1], frames + more[2],
                                              padded + more[3])

    for problem in problems[:20]:
        print(f"MISMATCH {problem}")
    if problems or segments != expected:
        print(f"FAILED: {len(problems)} problem(s); {segments} of {expected} segments loaded")
        return 1
    sources = ("the lapel mics of ego_video.mp4" if options.audio == "ego"
               else "central_video.mp4 and from the crops")
    frames_named = "F0..F1-1" if options.view == "central" else "E0..E0+T-1 (ego frames)"
    print(f"verified: {segments} segments, {frames - padded} frame indices read from the pixels equal "
          f"{frames_named}, {padded} padding frames are zero and masked, every audio is 640*T samples at "
          f"lag 0 (±16) and at the source's level (±1 dB), from {sources}")
    return 0
