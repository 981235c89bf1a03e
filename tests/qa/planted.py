"""Planting faults in copies of the synthetic dev split, for the `check` tests: media writers,
the planted problems and notes (``(what was planted, a fragment check prints for it,
session)``) and :func:`plant_faults`, which plants all of them."""
import json
import shutil
from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def encode(path, frames, size, fps, gop=250):
    """A plain H.264 mp4 of ``frames`` gray frames (no audio), a keyframe every ``gop``."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(fps), options={"g": str(gop), "bf": "0"})
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        for k in range(frames):
            image = np.full((size, size, 3), k % 256, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def video_only(src, dst):
    """``src`` remuxed without its audio stream into ``dst`` (may be ``src``)."""
    tmp = dst.with_name("tmp_" + dst.name)
    with av.open(str(src)) as inp, av.open(str(tmp), "w") as out:
        video = out.add_stream_from_template(inp.streams.video[0])
        for packet in inp.demux(inp.streams.video[0]):
            if packet.dts is None:
                continue
            packet.stream = video
            out.mux(packet)
    tmp.replace(dst)


def corrupt_middle(path, nbytes=3000, seed=1):
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(seed)
    mid = len(data) // 2
    data[mid: mid + nbytes] = rng.integers(0, 256, nbytes, dtype=np.uint8).tobytes()
    path.write_bytes(bytes(data))


def crops(session, speaker):
    return session / "speakers" / speaker / "central_crops"


#: Planted problems: (what, a fragment check prints for it, session).
PROBLEMS = [
    ("crop path leaving the session folder", "key 'spk_1.central.crops[0].video': path '../../../outside.mp4' leaves", "session_00"),
    ("absolute bbox path", "key 'spk_1.central.crops[1].bbox': absolute path", "session_00"),
    ("NaN UEM start", "key 'spk_2.central.uem.start': expected a finite number, got nan", "session_00"),
    ("1e999 frame_end", "track_00.json: key 'frame_end': expected a finite number", "session_00"),
    ("timing line with '->'", "spk_1.vtt:3: malformed cue timing", "session_00"),
    ("speaker missing from speaker_to_cluster.json", "speaker spk_3 of metadata.json has no conversation id", "session_00"),
    ("crop sizes differ in one speaker", "crop size 96x96 differs from 224x224", "session_00"),
    ("30 fps video", "video is 30 fps", "session_00"),
    ("Infinity in an ASD json", "track_00_asd.json: key '9': expected a finite number as score", "session_00"),
    ("bbox key not a frame", "track_01_bbox.json: key 'x': expected a frame number", "session_00"),
    ("crop without audio where the central audio comes from the crops", "has no audio stream; without central_video.mp4", "session_01"),
]
#: Planted notes (loadable but unusual).
NOTES = [
    ("overlapping tracks", "overlap track_00.mp4", "session_00"),
    ("overlapping cues", "of the same speaker", "session_00"),
    ("UEM ending after the video", "key 'spk_0.central.uem': the UEM ends at 99 s, after the video", "session_00"),
    ("no central video", "central_video.mp4: no central video", "session_01"),
    ("48 kHz stereo audio", "48000 Hz, 2 channel(s): resampled to 16000 Hz and averaged to mono", "session_01"),
]
#: The problem only ``--deep`` finds.
DEEP_ONLY = ("corrupt middle of a track", "packet(s) do not decode", "session_00")


def plant_faults(source, copy):
    """Copy the dev split ``source`` to ``copy`` and plant every fault of :data:`PROBLEMS`,
    :data:`NOTES` and :data:`DEEP_ONLY` in it; returns ``copy``."""
    copy = Path(copy)
    shutil.copytree(source, copy)
    s0, s1 = copy / "session_00", copy / "session_01"
    meta_path = s0 / "metadata.json"
    meta = json.loads(meta_path.read_text())
    meta["spk_1"]["central"]["crops"][0]["video"] = "../../../outside.mp4"
    meta["spk_1"]["central"]["crops"][1]["bbox"] = "/abs/track_bbox.json"
    meta["spk_2"]["central"]["uem"]["start"] = float("nan")
    meta["spk_0"]["central"]["uem"]["end"] = 99.0
    meta_path.write_text(json.dumps(meta))  # json writes NaN, as a careless tool would
    track = crops(s0, "spk_3") / "track_00.json"
    track.write_text(track.read_text().replace('"frame_end": ', '"frame_end": 1e999, "_was": '))
    first, second = (json.loads((crops(s0, "spk_0") / f"track_0{k}.json").read_text()) for k in (0, 1))
    shift = second["frame_start"] - (first["frame_start"] + 10)
    second.update(frame_start=second["frame_start"] - shift, frame_end=second["frame_end"] - shift)
    (crops(s0, "spk_0") / "track_01.json").write_text(json.dumps(second))
    vtt = s0 / "labels" / "spk_1.vtt"
    vtt.write_text(vtt.read_text().replace("-->", "->", 1))
    vtt = s0 / "labels" / "spk_2.vtt"
    vtt.write_text(vtt.read_text() + "\n00:00:05.000 --> 00:00:06.000\nonce\n\n00:00:05.500 --> 00:00:06.500\ntwice\n")
    clusters = s0 / "labels" / "speaker_to_cluster.json"
    clusters.write_text(json.dumps({k: v for k, v in json.loads(clusters.read_text()).items() if k != "spk_3"}))
    shutil.copy(crops(s0, "spk_2") / "track_01_lip.av.mp4", crops(s0, "spk_2") / "track_01.mp4")
    third = json.loads((crops(s0, "spk_0") / "track_02.json").read_text())
    encode(crops(s0, "spk_0") / "track_02.mp4", third["frame_end"] - third["frame_start"], 224, 30)
    (crops(s0, "spk_0") / "track_00_asd.json").write_text('{"9": Infinity}')
    (crops(s0, "spk_0") / "track_01_bbox.json").write_text('{"x": {"x1": 1, "y1": 1, "x2": 2, "y2": 2}}')
    (s1 / "central_video.mp4").unlink()
    video_only(crops(s1, "spk_1") / "track_00_lip.av.mp4", crops(s1, "spk_1") / "track_00_lip.av.mp4")
    # short GOPs: decoding the first and last frames does not pass the middle
    timing = json.loads((crops(s0, "spk_3") / "track_01.json").read_text())
    encode(crops(s0, "spk_3") / "track_01.mp4", timing["frame_end"] - timing["frame_start"], 224, 25, gop=10)
    corrupt_middle(crops(s0, "spk_3") / "track_01.mp4", nbytes=400)
    return copy
