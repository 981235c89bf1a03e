"""The Kaldi export's audio, by content: each ``wav.scp`` pipe, run from another folder, cut by
``segments``, gives the samples ``MCoRecDataset`` returns for the same utterance (within 16-bit
rounding), for every audio source the reader decides (``SegmentReader.audio_plan``): the
central video (also one whose audio starts 186 ms after its video), the lapel mic (its own
offset) and, without a central video, the central crops' own audio. Every path written is
absolute."""
import io
import os
import shlex
import shutil
import subprocess
import wave
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from mcorec_torch import MCoRecDataset, synthetic
from mcorec_torch.export import ExportSettings, export_split
from mcorec_torch.media.audio import decode_audio
from mcorec_torch.timeline import SAMPLE_RATE

#: The planted delay of the central video's audio: 0.186 s (2,976 samples at 16 kHz).
LATE_SECONDS = Fraction(186, 1000)
LATE_SAMPLES = int(LATE_SECONDS * SAMPLE_RATE)
#: One 16-bit step: the pipe writes 16-bit PCM, so each sample is within half of it.
PCM16_STEP = 1 / 32767


def remux_shifted(source: Path, target: Path, video_seconds: Fraction, audio_seconds: Fraction) -> None:
    """Copy ``source``'s packets into ``target`` with every video timestamp ``video_seconds``
    and every audio timestamp ``audio_seconds`` later (no re-encoding)."""
    import av

    with av.open(str(source)) as inp, av.open(str(target), "w", format="mp4") as out:
        streams = {s.index: out.add_stream_from_template(s) for s in inp.streams}
        for packet in inp.demux():
            if packet.dts is None:  # the demuxer's flush packet
                continue
            shift = video_seconds if packet.stream.type == "video" else audio_seconds
            ticks = int(shift / packet.stream.time_base)
            packet.pts += ticks
            packet.dts += ticks
            packet.stream = streams[packet.stream.index]
            out.mux(packet)


@pytest.fixture(scope="module")
def made(dev_split, train_split, dev_split_without_central, tmp_path_factory):
    """The shared dev split, the same with session_00's central video audio 0.186 s after its
    video (the video starting at 1 s), the shared train split (lapel mics) and the dev split
    without central videos."""
    dev = dev_split[0]
    late = tmp_path_factory.mktemp("late") / "dev"
    shutil.copytree(dev, late)
    central = late / "session_00" / "central_video.mp4"
    central.unlink()
    remux_shifted(dev / "session_00" / "central_video.mp4", central, Fraction(1), 1 + LATE_SECONDS)
    return {"dev": dev, "late": late, "train": train_split[0], "nocentral": dev_split_without_central[0]}


def _pipe_audio(command: str, cwd: Path) -> np.ndarray:
    """Run a ``wav.scp`` rxfilename (``cmd |``) as Kaldi does (``sh -c``) in ``cwd``; its WAV's
    samples as float (16-bit PCM / 32767)."""
    assert command.endswith("|")
    done = subprocess.run(["sh", "-c", command[:-1]], cwd=cwd, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    with wave.open(io.BytesIO(done.stdout)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, SAMPLE_RATE)
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    return pcm.astype(np.float32) / 32767


def _kaldi_dir(out: Path) -> dict:
    folder = out / "kaldi"
    wav = dict(line.split(" ", 1) for line in (folder / "wav.scp").read_text().splitlines())
    segments = [line.split() for line in (folder / "segments").read_text().splitlines()]
    return {"wav": wav, "segments": segments}


def _cut_pipes(out: Path, cwd: Path) -> dict:
    """``{utterance id: samples}``: every recording's pipe run once in ``cwd``, cut by ``segments``."""
    kaldi = _kaldi_dir(out)
    recordings = {rec: _pipe_audio(command, cwd) for rec, command in kaldi["wav"].items()}
    cuts = {}
    for utt, rec, begin, end in kaldi["segments"]:
        signal = recordings[rec]
        first, stop = round(float(begin) * SAMPLE_RATE), round(float(end) * SAMPLE_RATE)
        assert 0 <= first < stop <= len(signal), (utt, first, stop, len(signal))
        cuts[utt] = (signal, first, stop)
    return cuts


def _utterances(dataset):
    """``{Kaldi utterance id: dataset segment number}``."""
    from mcorec_torch.export.formats.kaldi import kaldi_utt

    out = {}
    for i in range(len(dataset)):
        sample = dataset.load(i)
        out[kaldi_utt({"session": sample["session"], "speaker": sample["speaker"],
                       "frame_start": sample["frame_start"], "frame_end": sample["frame_end"]})[0]] = i
    return out


def _check_against_dataset(dataset, out: Path, cwd: Path, shift_must_differ: int = 0) -> int:
    """Every utterance's pipe cut equals the dataset's audio within 16-bit rounding; with
    ``shift_must_differ``, the cut that many samples later does not. Returns the count."""
    cuts = _cut_pipes(out, cwd)
    by_utt = _utterances(dataset)
    assert sorted(cuts) == sorted(by_utt)
    checked = 0
    for utt, (signal, first, stop) in cuts.items():
        reference = dataset.load_audio(by_utt[utt]).numpy()
        if not np.abs(reference).max() > 0.05:
            continue  # silence proves no alignment
        assert np.abs(signal[first:stop] - reference).max() <= PCM16_STEP, utt
        if shift_must_differ:
            later = signal[first + shift_must_differ: stop + shift_must_differ]
            if len(later) == len(reference):
                assert np.abs(later - reference).max() > 0.05, utt
        checked += 1
    return checked


def test_the_planted_file_starts_its_audio_late(made):
    late = decode_audio(made["late"] / "session_00" / "central_video.mp4")
    aligned = decode_audio(made["dev"] / "session_00" / "central_video.mp4")
    span = len(aligned) - 4096
    assert np.array_equal(late[LATE_SAMPLES: LATE_SAMPLES + span], aligned[:span])
    assert np.abs(late[:span] - aligned[:span]).max() > 0.05


def test_kaldi_audio_of_late_central_audio_lands_on_the_central_timeline(made, tmp_path, monkeypatch):
    """The bug: the pipe's WAV started at the file's first audio sample, so every utterance
    held audio from 2,976 samples later than the dataset's. The export here is run with a
    relative split path and a relative output folder, the pipes from another folder."""
    workdir = tmp_path / "work"
    shutil.copytree(made["late"], workdir / "late" / "dev")
    monkeypatch.chdir(workdir)
    dataset = MCoRecDataset("late/dev", cache_dir=tmp_path / "cache", color="gray")
    export_split(dataset, "dev", "out", ExportSettings("kaldi"), progress=False)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert _check_against_dataset(dataset, workdir / "out", elsewhere, shift_must_differ=LATE_SAMPLES) >= 10


@pytest.mark.parametrize("name,audio", [("dev", "central"), ("train", "ego"),
                                        pytest.param("nocentral", "central", marks=pytest.mark.slow)])
def test_kaldi_audio_of_every_source_is_the_dataset_audio(made, tmp_path, name, audio):
    """Central video, lapel mic (``--audio ego``: the phone's own offset) and, without central
    videos, the central crops' own audio (the speaker's first)."""
    dataset = MCoRecDataset(made[name], cache_dir=tmp_path / "cache", color="gray", audio=audio)
    kind = dataset.reader.audio_plan(dataset.index_row(0)).kind
    assert kind == {"dev": "central", "train": "ego", "nocentral": "crops"}[name]
    export_split(dataset, name, tmp_path / "out", ExportSettings("kaldi"), progress=False)
    assert _check_against_dataset(dataset, tmp_path / "out", tmp_path) >= 10


def test_kaldi_paths_are_absolute(made, tmp_path, monkeypatch):
    """``wav.scp``, ``video.scp`` and ``video_segments`` name files by absolute paths, so they
    work from any folder: exported with a relative split path."""
    workdir = tmp_path / "work"
    shutil.copytree(made["dev"], workdir / "dev")
    monkeypatch.chdir(workdir)
    dataset = MCoRecDataset("dev", cache_dir=tmp_path / "cache", color="gray")
    export_split(dataset, "dev", "out", ExportSettings("kaldi"), progress=False)
    folder = workdir / "out" / "kaldi"
    os.chdir(tmp_path)
    for line in (folder / "wav.scp").read_text().splitlines():
        words = shlex.split(line.split(" ", 1)[1][:-1])
        files = [w for w in words if w.endswith(".mp4")]
        assert files and all(os.path.isabs(f) and os.path.isfile(f) for f in files), line
    tracks = [line.split()[1] for line in (folder / "video.scp").read_text().splitlines()]
    tracks += [line.split()[1] for line in (folder / "video_segments").read_text().splitlines()]
    assert tracks and all(os.path.isabs(t) and os.path.isfile(t) for t in tracks)


def test_the_pipe_program_names_an_unreadable_file_and_imports_no_torch(tmp_path):
    """A recording that cannot be read: exit 2, ``error:`` naming the file, nothing on standard
    output (Kaldi sees the pipe fail); the program starts without torch."""
    import sys

    missing = tmp_path / "gone" / "central_video.mp4"
    code = ("import runpy, sys; sys.argv = ['kaldi_wav', '--source', %r, '640', '0']\n"
            "try:\n    runpy.run_module('mcorec_torch.export.kaldi_wav', run_name='__main__')\n"
            "except SystemExit as exc:\n    sys.stderr.write('torch' + str('torch' in sys.modules)); sys.exit(exc.code)"
            % str(missing))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 2 and done.stdout == ""
    assert f"error: {missing}: media file does not exist" in done.stderr and done.stderr.endswith("torchFalse")


def test_timeline_audio_places_sources_and_gives_the_first_priority():
    """Two sources overlapping on the central timeline, one starting before sample 0: the first
    listed wins where both cover a sample; nothing covers the rest (zero)."""
    from mcorec_torch.export.kaldi_wav import timeline_audio

    files = {"a": np.full(10, 0.5, np.float32), "b": np.arange(1, 21, dtype=np.float32) / 100}
    out = timeline_audio([("a", 10, 6), ("b", 20, -4)], length=24, decode=lambda path, n: files[path][:n])
    expected = np.zeros(24, np.float32)
    expected[0:16] = files["b"][4:20]
    expected[6:16] = 0.5
    assert np.array_equal(out, expected)
    assert len(timeline_audio([("a", 10, 30)], length=5, decode=lambda path, n: files[path])) == 40
