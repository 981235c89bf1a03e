"""``--verify``: re-read a sample of what an export wrote and compare it with the dataset.

Lossless exports must give the dataset's frames and audio back exactly. Lossy ones are held
to what the codecs allow: every frame that exists shows the same frame index as the
dataset's frame (when the frames carry one, as synthetic splits do; else the mean absolute
pixel difference is at most ``max_pixel_error``), padding stays masked, the audio is ``640 *
T`` samples at lag 0 (within ``max_lag`` samples) and at the dataset's level (within 1 dB).
Texts, ids, frames and seconds must always be equal. ``kaldi`` exports write no media: their
``segments`` cut (seconds) must be the segment's sample range.
"""
from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import numpy as np

from ..errors import PathLike
from ..qa.verify import audio_lag, gain_db
from ..synthetic import decode_frame_index
from ..timeline import SAMPLE_RATE, frame_to_sample
from .merge import read_manifest
from .plan import read_fingerprint
from .read import read_files_record, sample_from_wds, iter_tar_groups

_EQUAL = ("id", "session", "speaker", "conversation", "text", "frame_start", "frame_end", "start", "end")


def _frame_index(frame: np.ndarray) -> Any:
    try:
        return decode_frame_index(frame)
    except ValueError:
        return None


def compare(exported: Dict[str, Any], reference: Dict[str, Any], video_exact: bool, audio_exact: bool,
            max_lag: int = 2, max_pixel_error: float = 8.0) -> Tuple[List[str], bool]:
    """``(problems, frame_indices_checked)`` of one exported sample against the dataset's;
    ``video_exact``/``audio_exact``: require equal frames / samples (lossless), else the
    tolerances above (``max_lag`` in samples, ``max_pixel_error`` in gray levels)."""
    sid = reference["id"]
    problems = [f"{sid}: {key} is {exported.get(key)!r}, the dataset has {reference[key]!r}"
                for key in _EQUAL if exported.get(key) != reference[key]]
    if "tokens" in reference and exported.get("tokens") is not None and \
            list(map(int, exported["tokens"])) != list(map(int, reference["tokens"])):
        problems.append(f"{sid}: tokens differ")
    video, ref_video = np.asarray(exported["video"]), reference["video"].numpy()
    mask, ref_mask = np.asarray(exported["video_mask"]), reference["video_mask"].numpy()
    audio, ref_audio = np.asarray(exported["audio"]), reference["audio"].numpy()
    indexed = False
    if video.shape != ref_video.shape or not np.array_equal(mask, ref_mask):
        problems.append(f"{sid}: video {video.shape} / mask differ from the dataset's {ref_video.shape}")
    elif video_exact:
        if not np.array_equal(video, ref_video):
            problems.append(f"{sid}: frames differ (lossless export), max |diff| "
                            f"{np.abs(video.astype(int) - ref_video).max()}")
    else:
        for t in np.flatnonzero(ref_mask):
            want = _frame_index(ref_video[t])
            if want is not None:
                indexed = True
                if _frame_index(video[t]) != want:
                    problems.append(f"{sid}: frame {t} shows index {_frame_index(video[t])}, the dataset's {want}")
                    break
            elif np.abs(video[t].astype(np.float64) - ref_video[t]).mean() > max_pixel_error:
                problems.append(f"{sid}: frame {t} differs by more than {max_pixel_error} per pixel")
                break
    if audio.shape != ref_audio.shape:
        problems.append(f"{sid}: {audio.shape[0]} audio samples, the dataset has {ref_audio.shape[0]}")
    elif audio_exact and not np.array_equal(audio, ref_audio):
        problems.append(f"{sid}: audio differs (lossless export), max |diff| {np.abs(audio - ref_audio).max():.2e}")
    elif not audio_exact and np.abs(ref_audio).max() > 0:
        lag = audio_lag(audio, ref_audio, max_lag=64)
        if abs(lag) > max_lag:
            problems.append(f"{sid}: audio is {lag} samples off")
        if abs(gain_db(audio, ref_audio)) > 1.0:
            problems.append(f"{sid}: audio level is {gain_db(audio, ref_audio):+.1f} dB off")
    return problems, indexed


def _exported(out: Path, fmt: str, records: List[Dict[str, Any]], color: str) -> Iterator[Dict[str, Any]]:
    if fmt in ("mp4", "lhotse"):
        for record in records:
            yield read_files_record(out, record, color)
    elif fmt == "wds":
        wanted = {r["paths"]["key"]: r for r in records}
        for shard in sorted({r["paths"]["shard"] for r in records}):
            for group in iter_tar_groups(out / shard):
                if group["__key__"] in wanted:
                    yield sample_from_wds(group, color, name=shard)
    elif fmt == "hf":
        import datasets

        from .hf import row_sample

        table = datasets.load_from_disk(str(out / "hf" / "dataset")).cast_column("audio", datasets.Audio(decode=False))
        ids = {r["id"] for r in records}
        for row in table.filter(lambda batch: [i in ids for i in batch["id"]], batched=True):
            yield row_sample(row, color)


def verify_export(out: PathLike, dataset: Any, count: int = 20, seed: int = 0) -> Dict[str, Any]:
    """Compare ``count`` records of the finished export in ``out`` (drawn with ``seed``) with
    ``dataset`` (the same configuration). Returns ``{"checked", "problems", "lossless",
    "frame_indices", "frames"}`` (``frame_indices``: frames whose index was read from the
    pixels and matched)."""
    out = Path(out)
    fingerprint = read_fingerprint(out)
    settings = fingerprint["settings"]
    fmt, audio_exact = settings["format"], settings["lossless"]
    video_exact = audio_exact or settings["video"] == "npy"  # raw frames are exact with either audio
    records = read_manifest(out)
    chosen = random.Random(seed).sample(records, min(count, len(records)))
    by_id = {dataset.segment_id(i): i for i in range(len(dataset))}
    problems: List[str] = []
    frames = indexed = 0
    if fmt == "kaldi":
        for record in chosen:
            i = by_id[record["id"]]  # length and text from the index: no media decoded
            begin, end = record["paths"]["begin"], record["paths"]["end"]
            if round((end - begin) * SAMPLE_RATE) != frame_to_sample(dataset.num_frames(i)) or \
                    record["text"] != dataset.text(i):
                problems.append(f"{record['id']}: segments cut {begin}-{end} s or text differs from the dataset")
        return {"checked": len(chosen), "problems": problems, "lossless": False, "frame_indices": 0, "frames": 0,
                "note": "kaldi: the segments cuts (seconds) and texts equal the dataset's"}
    for sample in _exported(out, fmt, chosen, fingerprint["options"]["color"]):
        reference = dataset.load(by_id[sample["id"]])
        found, seen = compare(sample, reference, video_exact, audio_exact)
        problems += found
        frames += int(reference["video_mask"].sum())
        indexed += int(reference["video_mask"].sum()) if seen and not found else 0
    return {"checked": len(chosen), "problems": problems, "lossless": audio_exact,
            "frame_indices": indexed, "frames": frames}


def format_report(result: Dict[str, Any]) -> str:
    """One paragraph for the command line."""
    head = (f"verify: {result['checked']} segments re-read, {len(result['problems'])} problem(s); "
            + result["note"] if "note" in result else
            f"verify: {result['checked']} segments re-read, {len(result['problems'])} problem(s); " + ("lossless: frames and audio equal the dataset's" if result["lossless"] and not result["problems"]
               else f"{result['frame_indices']} of {result['frames']} frame indices read from the pixels match, "
                    "audio at lag 0 (±2 samples) and level (±1 dB)"))
    return "\n".join([head] + [f"  MISMATCH {p}" for p in result["problems"][:20]])
