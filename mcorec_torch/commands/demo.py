"""``mcorec-torch demo``: end to end on a synthetic MCoRec-format split the package writes itself.

It writes into ``--out`` (default ``./data-bin/demo``): the split (``dev/``, or ``train/`` when
the ego view or the lapel audio is asked for) with a manifest beside it (``dev.demo.json``: what
was written, file by file), the same split as the ``*_without_central_videos`` download (links),
and the index cache (``cache/``). A later run reuses a split its manifest still describes; a
split that differs (another ``--sessions``, a file changed or missing) is written again. Nothing
goes anywhere else (no temporary folder: files are written beside their place and renamed).
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import shlex
import time
from pathlib import Path
from typing import Dict, List, Tuple

from .._io import atomic_path, atomic_write_text, read_json, remove_temporary, temporary_target
from ..checks import OptionError, check_int
from ..corpus.layout import CENTRAL_VIDEO_FILE
from ..errors import MCoRecDataError
from ._options import add_dataset_options, dataset_options

#: Where the demo writes without ``--out``: relative to the working directory.
DEFAULT_OUT = Path("data-bin") / "demo"
#: The demo's own defaults for the segment options: the 96x96 gray lip crops most AVSR models
#: train on, and no segment shorter than 0.1 s (so none of 1 or 2 frames; counted as too_short).
#: With ``--view ego`` and no ``--crops`` the crops are :data:`EGO_CROPS` (:func:`demo_crops`).
DEMO_DEFAULTS = {"crops": "lip", "color": "gray", "min_duration": 0.1}
#: The demo's crops for the ego view: there are no released mouth crops of ego tracks, and the
#: mouth ROI cannot be derived from synthetic crops (their pixels are frame-index codes, not
#: faces: no landmark model finds a face on them, SPEC §13).
EGO_CROPS = "face"
#: Why the demo reads face crops in the ego view (said when it does, and in ``--help``).
EGO_CROPS_REASON = ("the ego view has no released mouth crops, and the synthetic crops are frame-index codes, not "
                    "faces, so no mouth ROI can be derived from them")
#: Seed of the synthetic split (the same split on every run and machine).
SEED = 0
#: Version of the manifest's format; a manifest of another version is not reused.
MANIFEST_VERSION = 1


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("demo", help="generate a small synthetic split, index it, load it, verify it",
                                   epilog=f"With --view ego the crops are {EGO_CROPS} unless --crops is given: "
                                          f"{EGO_CROPS_REASON}.")
    parser.add_argument("--out", default=str(DEFAULT_OUT),
                        help=f"folder for the synthetic split and its cache, reused by the next run (default: {DEFAULT_OUT})")
    parser.add_argument("--sessions", type=int, default=2, help="sessions in the synthetic split (default: 2)")
    parser.add_argument("--workers", type=int, default=2, help="DataLoader worker processes (default: 2)")
    parser.add_argument("--batch-size", type=int, default=4, help="segments in a batch (default: 4)")
    add_dataset_options(parser, cache_dir=False, defaults=DEMO_DEFAULTS)
    # None: --crops not given, so demo_crops can tell it from an explicit --crops lip
    parser.set_defaults(func=run, interrupted_note=interrupted_note, crops=None)


def demo_crops(args: argparse.Namespace) -> Tuple[str, str]:
    """``(crops, line to print)``: ``--crops`` as given; without it :data:`EGO_CROPS` for the ego
    view (said in the line) and ``DEMO_DEFAULTS["crops"]`` otherwise (no line).
    :class:`~mcorec_torch.checks.OptionError` for ``--crops lip --view ego`` (see
    :data:`EGO_CROPS_REASON`)."""
    if args.crops is None:
        if args.view == "ego":
            return EGO_CROPS, f"reading {EGO_CROPS} crops (--view ego without --crops): {EGO_CROPS_REASON}"
        return DEMO_DEFAULTS["crops"], ""
    if args.crops == "lip" and args.view == "ego":
        raise OptionError("crops", f"--crops lip with --view ego derives each mouth ROI from the face frames, but "
                                   f"the demo's synthetic crops are frame-index codes, not faces (no face is found "
                                   f"on them): use --crops {EGO_CROPS}, or leave --crops out")
    return args.crops, ""


def split_name(args: argparse.Namespace) -> str:
    """The split the demo writes: ``train`` when the ego view or the lapel audio is asked for
    (only train splits have them), else ``dev``."""
    return "train" if "ego" in (args.view, args.audio) else "dev"


def manifest_path(split_dir: Path) -> Path:
    """The manifest beside ``split_dir``: ``data-bin/demo/dev.demo.json`` for ``data-bin/demo/dev``."""
    return split_dir.with_name(f"{split_dir.name}.demo.json")


def _files(folder: Path) -> Dict[str, int]:
    """Every file under ``folder``: relative path (POSIX) -> size in bytes."""
    found = {}
    for parent, _, names in os.walk(folder):
        for name in names:
            path = Path(parent) / name
            found[path.relative_to(folder).as_posix()] = path.stat().st_size
    return dict(sorted(found.items()))


def _manifest(split: str, specs: list, files: Dict[str, int]) -> dict:
    """What the demo wrote: the split, the plans' digest and every file with its size."""
    from ._version import package_version

    plans = hashlib.sha256(repr(specs).encode()).hexdigest()
    return {"written_by": "mcorec-torch demo", "manifest_version": MANIFEST_VERSION, "version": package_version(),
            "split": split, "sessions": len(specs), "seed": SEED, "plans": plans, "files": files}


def _reusable(split_dir: Path, wanted: dict) -> bool:
    """Whether ``split_dir`` holds exactly what ``wanted`` (a manifest without its file list)
    describes: its manifest says so and every file is there with its size, and no other."""
    path = manifest_path(split_dir)
    if not path.is_file() or not split_dir.is_dir():
        return False
    try:
        written = read_json(path)
    except MCoRecDataError:
        return False
    if not isinstance(written, dict) or any(written.get(key) != value for key, value in wanted.items()):
        return False
    return written.get("files") == _files(split_dir)


def _remove_leftovers(out: Path, name: str) -> None:
    """Remove the temporaries of ``out/name`` that a killed run left (its process cannot)."""
    if out.is_dir():
        for entry in out.iterdir():
            if temporary_target(entry.name) == name:
                remove_temporary(entry)


def prepare_split(out: Path, split: str, sessions: int) -> Tuple[list, bool]:
    """``(plans, reused)``: the synthetic ``split`` of ``sessions`` sessions in ``out/split``,
    reused when its manifest describes it, else written (into a temporary sibling renamed when
    complete, so an interrupted run leaves the old folder or none). Refuses a folder there that
    the demo did not write (no manifest) rather than replace it."""
    from .. import synthetic

    split_dir = out / split
    specs = synthetic.plan_split(split, sessions, seed=SEED)
    wanted = {key: value for key, value in _manifest(split, specs, {}).items() if key != "files"}
    if _reusable(split_dir, wanted):
        return specs, True
    manifest = manifest_path(split_dir)
    if split_dir.exists() and not manifest.exists():
        raise MCoRecDataError(split_dir, f"exists and was not written by mcorec-torch demo (no {manifest.name} "
                              "beside it); give another --out, or remove it")
    _remove_leftovers(out, split_dir.name)
    with atomic_path(split_dir) as partial:
        synthetic.make_split(partial, split, num_sessions=sessions, seed=SEED)
        atomic_write_text(manifest, json.dumps({**wanted, "files": _files(partial)}, indent=1) + "\n")
    return specs, False


def _mirror_without_central_videos(split_dir: Path, target: Path) -> Path:
    """``target`` as the ``*_without_central_videos`` download of ``split_dir``: every file
    linked (relative links, so the folder can move) except ``central_video.mp4``, so the audio
    comes from the crops' own tracks. Made again on every run (links are cheap)."""
    with atomic_path(target) as partial:
        for folder, _, files in os.walk(split_dir):
            for name in files:
                if name == CENTRAL_VIDEO_FILE:
                    continue
                source = Path(folder) / name
                relative = source.relative_to(split_dir)
                link = partial / relative
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to(os.path.relpath(split_dir.resolve() / relative, (target / relative).parent.resolve()))
    return target


def shown(path: Path) -> str:
    """``path`` as a user types it here: relative to the working directory when inside it,
    else absolute; quoted for the shell when it needs to be."""
    absolute = path.resolve()
    try:
        text = absolute.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        text = absolute.as_posix()
    return shlex.quote(text)


def _segment_flags(options) -> List[str]:
    """The segment flags that give ``options`` (a :class:`~mcorec_torch.index.DatasetOptions`)
    where they differ from the library's defaults, the demo's own defaults left out: what a
    command needs to cut the same segments the demo loaded."""
    from ..index.options import DatasetOptions

    defaults = DatasetOptions()
    flags: List[str] = []
    for field in dataclasses.fields(DatasetOptions):
        value = getattr(options, field.name)
        library_default = getattr(defaults, field.name)
        if value in (library_default, DEMO_DEFAULTS.get(field.name, library_default)):
            continue
        flag = "--" + field.name.replace("_", "-")
        if isinstance(value, bool):
            flags.append(flag if value else f"--no-{flag[2:]}")
        elif isinstance(value, (tuple, list)):  # a list option: the flag once per item
            for item in value:
                flags += [flag, str(item)]
        else:
            flags += [flag, f"{value:g}" if isinstance(value, float) else str(value)]
    return flags


def next_commands(out: Path, split_dir: Path, options) -> List[Tuple[str, str]]:
    """The three commands to try next on the demo's folder, with the segment flags that give
    ``options``: ``(command line, what it shows)``."""
    split, flags = shown(split_dir), " ".join(shlex.quote(flag) for flag in _segment_flags(options))
    flags = f" {flags}" if flags else ""
    export = shown(out / "exports" / f"{split_dir.name}-mp4")
    return [(f"mcorec-torch check {split}{flags}", "every problem and note of the split, and its segments"),
            (f"mcorec-torch index {split}{'' if ' --crops ' in flags + ' ' else ' --crops face'}{flags}",
             "the segment report of the face crops"),
            (f"mcorec-torch export {split} {export} --format mp4{flags}", "one mp4 and transcript per segment")]


def interrupted_note(args: argparse.Namespace) -> str:
    """What an interrupted demo kept (the split when it was complete) and how to go on."""
    split_dir = Path(args.out) / split_name(args)
    if manifest_path(split_dir).is_file() and split_dir.is_dir():
        return f"the synthetic split {shown(split_dir)} is complete and kept; run the same command again to reuse it"
    return f"{shown(split_dir)} was not completed, nothing of it is kept; run the same command again to write it"


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
    from ..data.dataset import MCoRecDataset

    args.crops, crops_line = demo_crops(args)
    options = dataset_options(args)
    sessions = check_int("sessions", args.sessions, minimum=1)
    split = split_name(args)
    out = Path(args.out)
    split_dir = out / split
    started = time.perf_counter()
    specs_list, reused = prepare_split(out, split, sessions)
    specs = {spec.name: spec for spec in specs_list}
    if reused:
        print(f"reusing the {len(specs)} synthetic sessions in {shown(split_dir)} (written by an earlier run; "
              f"{manifest_path(split_dir).name} lists its files)")
    else:
        print(f"wrote {len(specs)} synthetic sessions to {shown(split_dir)} in {time.perf_counter() - started:.1f} s")
    first = next(iter(specs.values()))
    open_gop = next(f"{spk.name}/{t.name}" for spk in first.speakers for t in spk.tracks if t.encoding == "open_gop")
    stereo = next(f"{spk.name}/{t.name}" for spk in first.speakers for t in spk.tracks if t.audio_format == "stereo48k")
    print(f"real-world encodings in each session: an open-GOP track ({open_gop}), "
          f"a 48 kHz stereo track ({stereo})")

    if crops_line:
        print(crops_line)
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
        print(f"loaded {more[1]} segments again from {shown(mirror)} (no central_video.mp4: "
              f"audio from the crops' tracks)")
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
    print(f"\nThe synthetic split is in {shown(split_dir)} (the real MCoRec layout); the next run reuses it. "
          "Next, try:")
    commands = next_commands(out, split_dir, options)
    width = max(len(command) for command, _ in commands)
    for command, what in commands:
        print(f"  {command:<{width}}   # {what}")
    return 0
