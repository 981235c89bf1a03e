"""The ``kaldi`` format: an ESPnet/Kaldi data directory ``OUT/kaldi`` over the source
recordings. No media is written: each record names the recording its audio is cut from (the
source :meth:`~mcorec_torch.data.reader.SegmentReader.audio_plan` decides, as for the dataset) with the cut in
seconds of that file, and the crop tracks of its frames."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

from ..._io import atomic_write_text
from ...corpus.layout import CENTRAL_VIDEO_FILE
from ...errors import MCoRecDataError
from ...timeline import SAMPLE_RATE, frame_to_sample
from ..compare import segment_numbers
from .base import ExportFormat, Record, Sample, SessionWriter


class KaldiWriter(SessionWriter):
    """Per record: ``recording`` (the source file), ``recording_id``, ``begin``/``end`` (seconds
    of that file) and ``video`` (``[track, first_track_frame, offset, length]`` per covered run)."""

    def write(self, i: int, record: Record) -> Record:
        dataset, index = self.plan.dataset, self.plan.dataset.index
        row = dataset.index_row(i)
        speaker = index.speakers[int(index.speaker[row])]
        session = index.sessions[speaker.session]
        source = dataset.reader.audio_plan(row)
        if source.kind == "ego":
            rec_id = f"{session.name}-{speaker.name}-ego"
        elif source.kind == "central":
            rec_id = session.name
        else:
            raise MCoRecDataError(Path(session.path) / CENTRAL_VIDEO_FILE,
                                  "missing: a kaldi export cuts the audio from the source recording; export this "
                                  "split in another format (mp4, wds, ...) or with --audio ego (train)")
        tracks = [[index.tracks[t].path, track_frame, offset, length] for t, offset, track_frame, length in index.pieces(row)]
        paths = {"recording": str(source.path), "recording_id": rec_id,
                 "begin": (source.start - source.offset) / SAMPLE_RATE,
                 "end": (source.stop - source.offset) / SAMPLE_RATE, "video": tracks}
        return dict(record, paths=paths)


def kaldi_utt(record: Record) -> Tuple[str, str]:
    """``(utterance id, speaker id)``: ``<session>-<spk>-<F0>-<F1>`` and ``<session>-<spk>``
    (the speaker id prefixes the utterance id, so both sort alike as Kaldi requires)."""
    speaker = f"{record['session']}-{record['speaker']}"
    return f"{speaker}-{record['frame_start']:07d}-{record['frame_end']:07d}", speaker


def kaldi_files(records: List[Record]) -> Dict[str, List[str]]:
    """The lines of each file of the data directory: ``wav.scp`` (an ffmpeg pipe giving 16 kHz
    mono WAV of the recording's audio), ``segments`` (seconds of that audio), ``text``,
    ``utt2spk``, ``spk2utt``, ``utt2num_frames`` (video frames), ``video.scp`` (the first crop
    track) and ``video_segments`` (``utt track first_track_frame offset_in_segment length`` per
    covered run of frames)."""
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
    return {"wav.scp": [wav[k] for k in sorted(wav)], "segments": segments, "text": text, "utt2spk": utt2spk,
            "spk2utt": [f"{s} {' '.join(u)}" for s, u in sorted(spk2utt.items())], "utt2num_frames": frames,
            "video.scp": video, "video_segments": video_segments}


class KaldiFormat(ExportFormat):
    """The data directory; verified by its cuts and texts (there is no media to re-read)."""

    name = "kaldi"
    writer = KaldiWriter

    def finalize(self, out: Path, split: str, records: List[Record]) -> None:
        for name, lines in kaldi_files(records).items():
            atomic_write_text(out / "kaldi" / name, "".join(line + "\n" for line in lines))

    def read(self, out: Path, records: List[Record], color: str) -> Iterator[Sample]:
        raise MCoRecDataError(out, "a kaldi export holds no media to read back (it cuts the source recordings); "
                                   "read the split itself")

    def verify(self, out: Path, dataset: Any, records: List[Record], fingerprint: Dict[str, Any]) -> Dict[str, Any]:
        """Each record's ``segments`` cut (seconds) is the segment's sample range and its text
        the dataset's (from the index: no media decoded)."""
        by_id = segment_numbers(dataset)
        problems = []
        for record in records:
            i = by_id[record["id"]]
            begin, end = record["paths"]["begin"], record["paths"]["end"]
            if round((end - begin) * SAMPLE_RATE) != frame_to_sample(dataset.num_frames(i)) or \
                    record["text"] != dataset.text(i):
                problems.append(f"{record['id']}: segments cut {begin}-{end} s or text differs from the dataset")
        return {"checked": len(records), "problems": problems, "lossless": False, "frame_indices": 0, "frames": 0,
                "note": "kaldi: the segments cuts (seconds) and texts equal the dataset's"}


FORMAT = KaldiFormat()
