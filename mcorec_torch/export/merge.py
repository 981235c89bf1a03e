"""Joining the sessions' part files of an export (one run, or the shards of a job array) into
its final files: ``manifest.jsonl``, ``skipped.jsonl`` and the format's own (auto_avsr CSV,
lhotse manifests, the Kaldi data directory, the HF dataset, the WebDataset shard list)."""
from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any, Dict, List, Tuple

from .._io import atomic_write_bytes, atomic_write_text
from ..errors import MCoRecDataError, PathLike
from ..timeline import FPS, SAMPLE_RATE, frame_to_sample
from .plan import read_fingerprint
from .writers import part_path, read_part

MANIFEST = "manifest.jsonl"
SKIPPED = "skipped.jsonl"


def _lines(entries: List[Dict[str, Any]]) -> str:
    return "".join(json.dumps(e, sort_keys=True) + "\n" for e in entries)


def _gz_jsonl(path: Path, entries: List[Dict[str, Any]]) -> None:
    atomic_write_bytes(path, gzip.compress(_lines(entries).encode("utf-8"), mtime=0))


def merge_export(out: PathLike) -> Tuple[int, int]:
    """Write the final files of the export in ``out`` from its part files; returns
    ``(segments, skipped)``. ``MCoRecDataError`` naming the sessions whose parts are missing
    (shards not finished) when there are any."""
    out = Path(out)
    fingerprint = read_fingerprint(out)
    split, fmt = fingerprint["split"], fingerprint["settings"]["format"]
    parts = [part_path(out, split, name) for name in fingerprint["sessions"]]
    missing = [p.name for p in parts if not p.exists()]
    if missing:
        raise MCoRecDataError(out / "parts", f"{len(missing)} of {len(parts)} sessions are not exported yet "
                                             f"({', '.join(missing[:5])}{', ...' if len(missing) > 5 else ''}); "
                                             "run the missing --shard jobs (or export again) first")
    records: List[Dict[str, Any]] = []
    skipped: List[Dict[str, Any]] = []
    for part in parts:
        done, failed = read_part(part)
        records += done
        skipped += failed
    if fmt == "mp4":
        _auto_avsr_csv(out, split, records)
    elif fmt == "lhotse":
        _lhotse(out, records)
    elif fmt == "kaldi":
        _kaldi(out / "kaldi", records)
    elif fmt == "wds":
        shards = sorted({r["paths"]["shard"] for r in records})
        atomic_write_text(out / "wds" / "shards.txt", "".join(s + "\n" for s in shards))
    elif fmt == "hf":
        from .hf import join_parts

        arrows = sorted({out / r["paths"]["arrow"] for r in records}, key=lambda p: p.name)
        if arrows:
            join_parts(arrows, out / "hf" / "dataset")
    atomic_write_text(out / SKIPPED, _lines(skipped))
    atomic_write_text(out / MANIFEST, _lines(records))  # last: its presence means the export is complete
    return len(records), len(skipped)


def read_manifest(out: PathLike) -> List[Dict[str, Any]]:
    """The records of a finished export (``OUT/manifest.jsonl``), in session and file order."""
    path = Path(out) / MANIFEST
    if not path.exists():
        raise MCoRecDataError(path, "missing: the export is not finished (run mcorec-torch export-merge "
                                    "after the last --shard job)")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _auto_avsr_csv(out: Path, split: str, records: List[Dict[str, Any]]) -> None:
    """``OUT/<split>.csv``, auto_avsr's label list without a header: ``dataset,rel_path,
    input_length[,token_ids]`` (``input_length`` in video frames, token ids space-separated)."""
    rows = []
    for r in records:
        row = [split, r["paths"]["video"], str(r["frames"])]
        if "tokens" in r:
            row.append(" ".join(str(t) for t in r["tokens"]))
        rows.append(",".join(row) + "\n")
    atomic_write_text(out / f"{split}.csv", "".join(rows))


def _lhotse(out: Path, records: List[Dict[str, Any]]) -> None:
    """``lhotse/{recordings,supervisions,cuts}.jsonl.gz``: one recording per segment over its
    exported audio file (absolute path), one supervision covering it, one ``MonoCut`` with the
    mp4 path and the segment's frames in ``custom``."""
    recordings, supervisions, cuts = [], [], []
    for r in records:
        samples = frame_to_sample(r["frames"])
        recording = {"id": r["id"], "sources": [{"type": "file", "channels": [0],
                                                 "source": str((out / r["paths"]["audio"]).resolve())}],
                     "sampling_rate": SAMPLE_RATE, "num_samples": samples, "duration": samples / SAMPLE_RATE,
                     "channel_ids": [0]}
        custom = {"session": r["session"], "conversation": r["conversation"], "frame_start": r["frame_start"],
                  "frame_end": r["frame_end"], "cue_start": r["start"], "cue_end": r["end"],
                  "video": str((out / r["paths"]["video"]).resolve()), "padding": r["padding"]}
        supervision = {"id": r["id"], "recording_id": r["id"], "start": 0.0, "duration": r["frames"] / FPS,
                       "channel": 0, "text": r["text"], "speaker": f"{r['session']}/{r['speaker']}",
                       "custom": custom}
        recordings.append(recording)
        supervisions.append(supervision)
        cuts.append({"id": r["id"], "start": 0.0, "duration": r["frames"] / FPS, "channel": 0,
                     "supervisions": [supervision], "recording": recording, "custom": {"video": custom["video"]},
                     "type": "MonoCut"})
    folder = out / "lhotse"
    _gz_jsonl(folder / "recordings.jsonl.gz", recordings)
    _gz_jsonl(folder / "supervisions.jsonl.gz", supervisions)
    _gz_jsonl(folder / "cuts.jsonl.gz", cuts)


def kaldi_utt(record: Dict[str, Any]) -> Tuple[str, str]:
    """``(utterance id, speaker id)``: ``<session>-<spk>-<F0>-<F1>`` and ``<session>-<spk>``
    (the speaker id prefixes the utterance id, so both sort alike as Kaldi requires)."""
    speaker = f"{record['session']}-{record['speaker']}"
    return f"{speaker}-{record['frame_start']:07d}-{record['frame_end']:07d}", speaker


def _kaldi(folder: Path, records: List[Dict[str, Any]]) -> None:
    """An ESPnet/Kaldi data directory over the source recordings: ``wav.scp`` (an ffmpeg pipe
    giving 16 kHz mono WAV of the recording's audio), ``segments`` (seconds of that audio),
    ``text``, ``utt2spk``, ``spk2utt``, ``utt2num_frames`` (video frames), ``video.scp``
    (the first crop track) and ``video_segments`` (``utt track first_track_frame
    offset_in_segment length`` per covered run of frames)."""
    wav, segments, text, utt2spk, frames, video, video_segments = {}, [], [], [], [], [], []
    spk2utt: Dict[str, List[str]] = {}
    for r in sorted(records, key=lambda r: kaldi_utt(r)[0]):
        utt, spk = kaldi_utt(r)
        p = r["paths"]
        wav[p["recording_id"]] = f"{p['recording_id']} ffmpeg -nostdin -v error -i {p['recording']} -vn -ac 1 " \
                                 f"-ar {SAMPLE_RATE} -f wav - |"
        segments.append(f"{utt} {p['recording_id']} {p['begin']:.7f} {p['end']:.7f}")
        text.append(f"{utt} {r['text']}")
        utt2spk.append(f"{utt} {spk}")
        frames.append(f"{utt} {r['frames']}")
        spk2utt.setdefault(spk, []).append(utt)
        if p["video"]:
            video.append(f"{utt} {p['video'][0][0]}")
        video_segments += [f"{utt} {track} {first} {offset} {length}" for track, first, offset, length in p["video"]]
    files = {"wav.scp": [wav[k] for k in sorted(wav)], "segments": segments, "text": text, "utt2spk": utt2spk,
             "spk2utt": [f"{s} {' '.join(u)}" for s, u in sorted(spk2utt.items())], "utt2num_frames": frames,
             "video.scp": video, "video_segments": video_segments}
    for name, lines in files.items():
        atomic_write_text(folder / name, "".join(line + "\n" for line in lines))
