"""Files the index cannot use (SPEC §3, §10): a video that is not 25 fps is never read as 25 fps
frames, an unreadable file stops the split only under on_error="raise", and both are listed in
the report. Frames are checked by their content (the synthetic frame-index code)."""
import fractions
import shutil
import logging

import av
import pytest

from mcorec_torch import MCoRecDataError, MCoRecDataset, synthetic
from mcorec_torch.cli import main
from mcorec_torch.index import build as index_module
from mcorec_torch.index.report import BAD_FILE
from mcorec_torch.qa.verify import check_sample

VICTIM = ("session_00", "spk_0", 0)  # spk_0's first central track: frames [10, 218) of session_00


def crop_path(root, session, speaker, track, crops="lip"):
    name = f"track_{track:02d}_lip.av.mp4" if crops == "lip" else f"track_{track:02d}.mp4"
    return root / session / "speakers" / speaker / "central_crops" / name


def retime(path, rate, jitter=None):
    """Rewrite ``path`` with the same packets, its video re-timed to ``rate`` fps as ffmpeg's
    ``setpts=N/(rate*TB)`` does; ``jitter``: ``{packet number: ticks}`` added to some video pts."""
    source = path.with_name(path.name + ".src")
    path.rename(source)
    with av.open(str(source)) as inp, av.open(str(path), "w", format="mp4") as out:
        video = inp.streams.video[0]
        streams = {s.index: out.add_stream_from_template(s) for s in inp.streams if s.type in ("video", "audio")}
        origin = int(video.start_time or 0)
        scale = fractions.Fraction(25, rate)
        number = 0
        for packet in inp.demux(*[inp.streams[i] for i in streams]):
            if not packet.size:
                continue
            if packet.stream.type == "video":
                for name in ("pts", "dts"):
                    value = getattr(packet, name)
                    if value is not None:
                        setattr(packet, name, origin + round((value - origin) * scale))
                packet.duration = round(packet.duration * scale) if packet.duration else None
                if jitter and number in jitter:
                    packet.pts += jitter[number]
                number += 1
            packet.stream = streams[packet.stream.index]
            out.mux(packet)
    source.unlink()


def content_problems(ds, session=None, speaker=None):
    """Frame-index problems of the samples of ``session``/``speaker`` (all when None)."""
    problems = []
    for i in range(len(ds)):
        sample = ds[i]
        if session in (None, sample["session"]) and speaker in (None, sample["speaker"]):
            problems += check_sample(sample, synthetic.decode_frame_index)
    return problems


def frames_over(ds, session, speaker, first, stop):
    """Segments of ``session/speaker`` with frames in ``[first, stop)``: (sample, mask there)."""
    found = []
    for i in range(len(ds)):
        sample = ds[i]
        if (sample["session"], sample["speaker"]) != (session, speaker):
            continue
        f0, f1 = sample["frame_start"], sample["frame_end"]
        lo, hi = max(f0, first), min(f1, stop)
        if hi > lo:
            found.append((sample, sample["video_mask"][lo - f0: hi - f0]))
    return found


def victim_span(dev_split):
    _, specs = dev_split
    session, speaker, track = VICTIM
    spec = specs[session].speaker(speaker).tracks[track]
    return spec.frame_start, spec.frame_stop


def test_a_crop_at_30_fps_is_never_read_as_25_fps(dev_split, dev_copy, tmp_path):
    session, speaker, track = VICTIM
    victim = crop_path(dev_copy, session, speaker, track)
    retime(victim, 30)
    ds = MCoRecDataset(dev_copy, crops="lip", color="gray", cache_dir=tmp_path)
    assert content_problems(ds, session, speaker) == []  # every frame shows its own central frame
    first, stop = victim_span(dev_split)
    over = frames_over(ds, session, speaker, first, stop)
    assert all(not mask.any() for _, mask in over)  # its frames are padding, never the 30 fps ones
    report = ds.report()
    dropped = report.by_speaker()[("dev", session, speaker)][BAD_FILE]
    assert over or dropped  # the test covers segments that needed the track
    (listed,) = report.unusable
    assert listed.path == str(victim) and not listed.error and "30 fps, not 25" in listed.reason
    assert listed.serves == f"central crop {track} of {speaker}" and str(victim) in report.format()
    assert str(victim) not in {t.path for t in ds.index.tracks}
    assert report.to_dict()["unusable_files"][0]["path"] == str(victim)


def test_a_crop_at_25_fps_with_jittered_timestamps_is_used_frame_exact(dev_split, dev_copy, tmp_path):
    session, speaker, track = VICTIM
    victim = crop_path(dev_copy, session, speaker, track)
    retime(victim, 25, jitter={20: 150, 21: 100, 90: 200})  # up to 0.4 frame late (512 ticks a frame)
    ds = MCoRecDataset(dev_copy, crops="lip", color="gray", cache_dir=tmp_path)
    assert ds.report().unusable == []
    assert str(victim) in {t.path for t in ds.index.tracks}
    first, stop = victim_span(dev_split)
    assert any(mask.any() for _, mask in frames_over(ds, session, speaker, first, stop))
    assert content_problems(ds, session, speaker) == []


def test_a_central_video_at_30_fps_is_left_out_and_the_crops_carry_the_audio(dev_copy, tmp_path):
    central = dev_copy / "session_00" / "central_video.mp4"
    retime(central, 30)
    ds = MCoRecDataset(dev_copy, crops="lip", color="gray", cache_dir=tmp_path)
    sessions = {s.name: s for s in ds.index.sessions}
    assert sessions["session_00"].central_audio_path == "" and sessions["session_00"].audio_tracks
    assert sessions["session_01"].central_audio_path.endswith("central_video.mp4")
    (listed,) = ds.report().unusable
    assert listed.path == str(central) and listed.serves == "central video" and "30 fps" in listed.reason
    row = next(i for i in range(len(ds)) if ds[i]["session"] == "session_00")
    assert ds.reader.audio_plan(ds.index_row(row)).kind == "crops"


@pytest.mark.parametrize("keep", ["half", 100])
def test_a_truncated_crop_stops_the_split_only_under_raise(dev_split, dev_copy, tmp_path, caplog, monkeypatch,
                                                         keep):
    session, speaker, track = VICTIM
    victim = crop_path(dev_copy, session, speaker, track)
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2 if keep == "half" else keep])
    with pytest.raises(MCoRecDataError) as err:
        MCoRecDataset(dev_copy, crops="lip", color="gray", cache_dir=tmp_path)
    assert err.value.path == str(victim) and "not a readable media container" in str(err.value)
    assert "on_error='skip'" in str(err.value)
    # the same cached index serves on_error="skip": nothing is rebuilt
    monkeypatch.setattr(index_module, "_Builder", None)
    with caplog.at_level(logging.WARNING, logger="mcorec_torch.index.usable"):
        ds = MCoRecDataset(dev_copy, crops="lip", color="gray", cache_dir=tmp_path, on_error="skip")
    assert [r.getMessage() for r in caplog.records if str(victim) in r.getMessage()] != []
    assert len([r for r in caplog.records if str(victim) in r.getMessage()]) == 1  # logged once
    (listed,) = ds.report().unusable
    assert listed.path == str(victim) and listed.error and listed.session == session
    first, stop = victim_span(dev_split)
    assert all(not mask.any() for _, mask in frames_over(ds, session, speaker, first, stop))
    assert content_problems(ds, session, speaker) == []
    by_speaker = ds.report().by_speaker()
    assert by_speaker[("dev", session, speaker)]["kept"] > 0  # the speaker's other tracks still serve
    total = ds.report().total()
    cues = sum(len(spk.cues) for spec in dev_split[1].values() for spk in spec.speakers)
    assert sum(total.values()) == cues  # every cue still ends in one outcome


def test_index_command_under_skip_names_the_truncated_file(dev_copy, tmp_path, capsys):
    session, speaker, track = VICTIM
    victim = crop_path(dev_copy, session, speaker, track)
    victim.write_bytes(victim.read_bytes()[:100])
    flags = ["--crops", "lip", "--cache-dir", str(tmp_path)]
    assert main(["index", str(dev_copy), *flags]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {victim}: not a readable media container") and "Traceback" not in err
    assert main(["index", str(dev_copy), *flags, "--on-error", "skip"]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if str(victim) in line)
    assert line.strip().startswith(f"dev/{session} central crop {track} of {speaker}: {victim}: not a readable")
    assert "1 unusable file(s)" in out


def test_an_excluded_speaker_with_a_bad_file_builds_under_raise(dev_copy, tmp_path):
    session, speaker, track = VICTIM
    victim = crop_path(dev_copy, session, speaker, track)
    victim.write_bytes(victim.read_bytes()[:100])
    ds = MCoRecDataset(dev_copy, crops="lip", cache_dir=tmp_path, exclude=[f"{session}/{speaker}"])
    assert ds.report().unusable == [] and ds.report().by_speaker()[("dev", session, speaker)] == {"excluded": 1}
    assert all((ds.index.sessions[s.session].name, s.name) != (session, speaker) for s in ds.index.speakers)


def test_an_ego_video_at_30_fps_gives_no_lapel_audio_and_is_counted(train_split, tmp_path):
    root, specs = train_split
    copy = tmp_path / "train"
    shutil.copytree(root, copy)
    session = next(iter(specs))
    speaker = specs[session].speakers[0].name
    ego = copy / session / "speakers" / speaker / "ego_video.mp4"
    retime(ego, 30)
    ds = MCoRecDataset(copy, crops="lip", color="gray", audio="ego", cache_dir=tmp_path / "c")
    (listed,) = ds.report().unusable
    assert listed.path == str(ego) and listed.serves == f"ego video of {speaker}" and not listed.error
    counts = ds.report().by_speaker()[("train", session, speaker)]
    assert counts[BAD_FILE] > 0 and counts["kept"] == 0 and "no_audio" not in counts
    assert speaker not in {ds[i]["speaker"] for i in range(len(ds))} and len(ds) > 0
