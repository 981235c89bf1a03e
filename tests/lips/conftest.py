"""A small train split for the lips tests: two speakers with central and ego face tracks,
gaps between tracks that cues cross (padding), an open-GOP track and a 48 kHz stereo one."""
import pytest

from mcorec_torch import synthetic
from mcorec_torch.synthetic import CueSpec, EgoSpec, SessionSpec, SpeakerSpec, TrackSpec


def small_session(name="session_lips", seed=3):
    spk0 = SpeakerSpec(
        name="spk_0", conversation=0, uem_start=1.5, uem_end=5.8,
        tracks=[TrackSpec(index=0, frame_start=0, num_frames=70, encoding="open_gop"),
                TrackSpec(index=1, frame_start=80, num_frames=70)],
        cues=[CueSpec(1600, 3000, "hello there"), CueSpec(3100, 5500, "a longer one here")],
        ego=EgoSpec(uem_start=1.0, uem_end=5.0, num_frames=120,
                    tracks=[TrackSpec(index=0, frame_start=0, num_frames=40),
                            TrackSpec(index=1, frame_start=52, num_frames=60, audio_format="stereo48k")]))
    spk1 = SpeakerSpec(
        name="spk_1", conversation=0, uem_start=1.5, uem_end=5.8,
        tracks=[TrackSpec(index=0, frame_start=20, num_frames=120)],
        cues=[CueSpec(2000, 3600, "second speaker talks")],
        ego=EgoSpec(uem_start=1.2, uem_end=5.2, num_frames=110,
                    tracks=[TrackSpec(index=0, frame_start=10, num_frames=90)]))
    return SessionSpec(name=name, num_frames=150, speakers=[spk0, spk1], seed=seed)


@pytest.fixture(scope="session")
def lips_split(tmp_path_factory):
    """``(split folder, {session name: spec})`` of one :func:`small_session` (read-only)."""
    root = tmp_path_factory.mktemp("lips") / "train"
    spec = small_session()
    synthetic.write_synthetic_session(spec, root)
    return root, {spec.name: spec}
