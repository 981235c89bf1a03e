"""The ``kaldi`` format: an ESPnet/Kaldi data directory ``OUT/kaldi`` over the source
recordings. No media is written: ``wav.scp`` pipes decode each recording onto the central
timeline (:mod:`mcorec_torch.export.kaldi_wav`, run by the Python that made the export) and
``segments`` cut it at the segments' first and last frames (F0 / 25, F1 / 25 seconds).

The audio of a record is where :meth:`~mcorec_torch.data.reader.SegmentReader.audio_plan` says,
as for the dataset: the central video (``recording_id`` = the session), the speaker's lapel mic
(``<session>-<speaker>-ego``, at its own offset) or, without a central video, the central
crops' own audio (``<session>-<speaker>-crops``, the speaker's crop first). Every path is
absolute, so the directory works from any folder."""
from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Tuple

import numpy as np

from ..._io import atomic_write_text
from ...checks import OptionError
from ...errors import MCoRecDataError
from ...timeline import SAMPLE_RATE, SAMPLES_PER_FRAME, frame_to_sample
from ..compare import segment_numbers
from ..kaldi_wav import PCM16_SCALE, read_pcm16_wav
from .base import ExportFormat, Record, Sample, SessionWriter

#: The module the ``wav.scp`` pipes run (``python -m``).
WAV_PROGRAM = "mcorec_torch.export.kaldi_wav"


def derived_lip_tracks(dataset: Any, segments: Iterable[int]) -> List[str]:
    """Paths of the derived lip tracks (``Track.lip == "derived"``, SPEC §13) that ``segments``
    (segment numbers of ``dataset``) read, in first-use order: such a track's file is the FACE
    video the reader cuts mouth ROIs from, never a mouth crop video to point at."""
    index = dataset.index
    if not any(track.lip == "derived" for track in index.tracks):
        return []
    paths: Dict[str, None] = {}
    for i in segments:
        for track_id, _, _, _ in index.pieces(dataset.index_row(i)):
            if index.tracks[track_id].lip == "derived":
                paths.setdefault(index.tracks[track_id].path)
    return list(paths)


def derived_lip_refusal(paths: List[str]) -> str:
    """Why a kaldi export of segments reading the derived lip tracks ``paths`` is refused, and
    what to do instead."""
    more = f" and {len(paths) - 1} other face track(s)" if len(paths) > 1 else ""
    return (f"crops='lip' reads derived mouth crops of {paths[0]}{more}: the file is the face video the "
            f"reader cuts each frame's mouth ROI from (no mouth crop video exists), so the kaldi export's "
            f"video.scp and video_segments would hand out face frames as lip crops; run "
            f"'mcorec-torch lips SPLIT_DIR --view VIEW' first (the index then reads the mouth crop videos it "
            f"writes), or export with crops='face'")


def absolute(path: str) -> str:
    """``path`` made absolute against the current folder (symbolic links kept)."""
    return os.path.abspath(path)


def audio_sources(plan: Any, index: Any) -> List[List[Any]]:
    """``[[absolute path, samples, offset], ...]`` of an
    :class:`~mcorec_torch.data.reader.AudioPlan` (see :mod:`mcorec_torch.export.kaldi_wav`):
    its file for ``"central"`` and ``"ego"``, its crop tracks in order for ``"crops"`` (each
    covering the central samples of its frames)."""
    if plan.kind != "crops":
        return [[absolute(plan.path), int(plan.samples), int(plan.offset)]]
    tracks = [index.tracks[t] for t in plan.tracks]
    return [[absolute(t.path), int(t.num_frames) * SAMPLES_PER_FRAME, frame_to_sample(int(t.start))] for t in tracks]


class KaldiWriter(SessionWriter):
    """Per record: ``recording_id``, ``audio`` (its sources, :func:`audio_sources`), ``begin``
    and ``end`` (seconds of the central timeline: F0 / 25, F1 / 25) and ``video``
    (``[absolute track path, first_track_frame, offset, length]`` per covered run)."""

    def write(self, i: int, record: Record) -> Record:
        dataset, index = self.plan.dataset, self.plan.dataset.index
        row = dataset.index_row(i)
        speaker = index.speakers[int(index.speaker[row])]
        session = index.sessions[speaker.session]
        source = dataset.reader.audio_plan(row)
        rec_id = session.name if source.kind == "central" else f"{session.name}-{speaker.name}-{source.kind}"
        tracks = [[absolute(index.tracks[t].path), track_frame, offset, length]
                  for t, offset, track_frame, length in index.pieces(row)]
        paths = {"recording_id": rec_id, "audio": audio_sources(source, index),
                 "begin": source.start / SAMPLE_RATE, "end": source.stop / SAMPLE_RATE, "video": tracks}
        return dict(record, paths=paths)


def kaldi_utt(record: Record) -> Tuple[str, str]:
    """``(utterance id, speaker id)``: ``<session>-<spk>-<F0>-<F1>`` and ``<session>-<spk>``
    (the speaker id prefixes the utterance id, so both sort alike as Kaldi requires)."""
    speaker = f"{record['session']}-{record['speaker']}"
    return f"{speaker}-{record['frame_start']:07d}-{record['frame_end']:07d}", speaker


def _cut(record: Record) -> Tuple[int, int]:
    """The record's ``[begin, end)`` in samples of its recording."""
    return round(record["paths"]["begin"] * SAMPLE_RATE), round(record["paths"]["end"] * SAMPLE_RATE)


def wav_commands(records: List[Record]) -> Dict[str, str]:
    """``{recording id: shell command}`` writing each recording's WAV (16 kHz mono 16-bit,
    central sample 0 first, long enough for every segment cut from it) to standard output.
    ``MCoRecDataError`` when two records of one recording name different sources."""
    sources: Dict[str, List[List[Any]]] = {}
    length: Dict[str, int] = {}
    for r in records:
        rec = r["paths"]["recording_id"]
        if sources.setdefault(rec, r["paths"]["audio"]) != r["paths"]["audio"]:
            raise MCoRecDataError(r["id"], f"its audio sources {r['paths']['audio']} differ from those of another "
                                           f"segment of recording {rec} ({sources[rec]})")
        length[rec] = max(length.get(rec, 0), _cut(r)[1])
    python = shlex.quote(os.path.abspath(sys.executable))
    commands = {}
    for rec in sorted(sources):
        args = " ".join(f"--source {shlex.quote(path)} {samples} {offset}" for path, samples, offset in sources[rec])
        commands[rec] = f"{python} -m {WAV_PROGRAM} --length {length[rec]} {args}"
    return commands


def kaldi_files(records: List[Record]) -> Dict[str, List[str]]:
    """The lines of each file of the data directory: ``wav.scp`` (``<recording> <command> |``,
    :func:`wav_commands`), ``segments`` (seconds of that recording: the central timeline),
    ``text``, ``utt2spk``, ``spk2utt``, ``utt2num_frames`` (video frames), ``video.scp`` (the
    first crop track) and ``video_segments`` (``utt track first_track_frame offset_in_segment
    length`` per covered run of frames). Paths are absolute."""
    segments, text, utt2spk, frames, video, video_segments = [], [], [], [], [], []
    spk2utt: Dict[str, List[str]] = {}
    for r in sorted(records, key=lambda r: kaldi_utt(r)[0]):
        utt, spk = kaldi_utt(r)
        p = r["paths"]
        segments.append(f"{utt} {p['recording_id']} {p['begin']:.7f} {p['end']:.7f}")
        text.append(f"{utt} {r['text']}")
        utt2spk.append(f"{utt} {spk}")
        frames.append(f"{utt} {r['frames']}")
        spk2utt.setdefault(spk, []).append(utt)
        if p["video"]:
            video.append(f"{utt} {p['video'][0][0]}")
        video_segments += [f"{utt} {track} {first} {offset} {length}" for track, first, offset, length in p["video"]]
    wav = [f"{rec} {command} |" for rec, command in wav_commands(records).items()]
    return {"wav.scp": wav, "segments": segments, "text": text, "utt2spk": utt2spk,
            "spk2utt": [f"{s} {' '.join(u)}" for s, u in sorted(spk2utt.items())], "utt2num_frames": frames,
            "video.scp": video, "video_segments": video_segments}


def run_wav_command(command: str) -> np.ndarray:
    """The samples (float32) a ``wav.scp`` command writes; ``MCoRecDataError`` with its error
    output when it fails."""
    done = subprocess.run(["sh", "-c", command], capture_output=True)
    if done.returncode != 0:
        raise MCoRecDataError(command, f"exited with status {done.returncode}: "
                                       f"{done.stderr.decode(errors='replace').strip()[-500:]}")
    return read_pcm16_wav(done.stdout)


class KaldiFormat(ExportFormat):
    """The data directory; verified by running its ``wav.scp`` commands and cutting them by
    ``segments`` (there is no media of its own to re-read)."""

    name = "kaldi"
    writer = KaldiWriter

    def check_plan(self, plan: Any) -> None:
        """``OptionError`` (option ``crops``) when a segment of the export, in any shard, reads a
        derived lip track (:func:`derived_lip_refusal`): ``video.scp`` would point at its face video."""
        segments = [i for rows in plan.all_sessions.values() for i in rows]
        paths = derived_lip_tracks(plan.dataset, segments)
        if paths:
            raise OptionError("crops", derived_lip_refusal(paths))

    def finalize(self, out: Path, split: str, records: List[Record]) -> None:
        for name, lines in kaldi_files(records).items():
            atomic_write_text(out / "kaldi" / name, "".join(line + "\n" for line in lines))

    def read(self, out: Path, records: List[Record], color: str) -> Iterator[Sample]:
        raise MCoRecDataError(out, "a kaldi export holds no media to read back (it cuts the source recordings); "
                                   "read the split itself")

    def verify(self, out: Path, dataset: Any, records: List[Record], fingerprint: Dict[str, Any]) -> Dict[str, Any]:
        """Each record's audio, from its recording's ``wav.scp`` command cut at its ``segments``
        times, equals the dataset's within 16-bit rounding; its text is the dataset's; no video
        entry is the face video of a derived lip track (an export made before such exports were
        refused)."""
        by_id = segment_numbers(dataset)
        derived = {absolute(path) for path in derived_lip_tracks(dataset, [by_id[r["id"]] for r in records])}
        commands = dict(line[:-2].split(" ", 1) for line in
                        (out / "kaldi" / "wav.scp").read_text(encoding="utf-8").splitlines())
        recordings: Dict[str, np.ndarray] = {}
        problems = []
        for record in records:
            i = by_id[record["id"]]
            rec = record["paths"]["recording_id"]
            if rec not in recordings:
                recordings[rec] = run_wav_command(commands[rec])
            begin, end = _cut(record)
            audio = recordings[rec][begin:end]
            reference = dataset.load_audio(i).numpy()
            if len(audio) != len(reference) or np.abs(audio - reference).max() > 1 / PCM16_SCALE:
                problems.append(f"{record['id']}: the wav.scp audio of {rec} cut at {begin}-{end} differs from the "
                                f"dataset's")
            faces = sorted({run[0] for run in record["paths"]["video"] if run[0] in derived})
            if faces:
                problems.append(f"{record['id']}: its video entries point at {', '.join(faces)}, the face video of "
                                f"a derived lip track (not mouth crops)")
            if record["text"] != dataset.text(i):
                problems.append(f"{record['id']}: the text differs from the dataset's")
        return {"checked": len(records), "problems": problems, "lossless": False, "frame_indices": 0, "frames": 0,
                "note": "kaldi: the wav.scp audio cut by segments equals the dataset's within 16-bit rounding, "
                        "the texts are the dataset's, and no video entry is the face video of a derived lip track"}


FORMAT = KaldiFormat()
