"""Hypotheses written with ``write_hypotheses`` are what ``score`` reads: the round trip gives WER 0
and conversation F1 1, planted errors the hand-computed figures (SPEC §11, §12)."""
import json

import pytest

from mcorec_torch import synthetic
from mcorec_torch.corpus.vtt import read_vtt, write_vtt
from mcorec_torch.hypotheses import (HypothesisCollector, cluster_speakers, conversation_statistics,
                                     write_hypotheses)
from mcorec_torch.text.scoring import score_split
from mcorec_torch import MCoRecDataset
import numpy as np


@pytest.fixture(scope="module")
def dev_split(tmp_path_factory):
    root = tmp_path_factory.mktemp("hyp") / "dev"
    synthetic.make_split(root, "dev", num_sessions=2, seed=5, num_frames=400)
    return root


def test_round_trip_of_the_references_scores_perfectly(dev_split):
    for session in sorted(dev_split.iterdir()):
        clusters = json.loads((session / "labels" / "speaker_to_cluster.json").read_text())
        hyps = {vtt.stem: [(c.start, c.end, c.text) for c in reversed(read_vtt(vtt))]
                for vtt in (session / "labels").glob("spk_*.vtt")}
        written = write_hypotheses(session, hyps, clusters=clusters)
        assert written.out_dir == session / "output" and sum(written.cues.values()) > 0
    average = score_split(dev_split)["average"]
    assert average == {"conversation_f1": 1.0, "speaker_wer": 0.0, "joint_error": 0.0}


def test_collector_round_trip_from_a_labels_dataset(dev_split, tmp_path):
    ds = MCoRecDataset(dev_split, normalizer=None, missing_video="pad", cache_dir=tmp_path)
    labels = {s.name: json.loads((s / "labels" / "speaker_to_cluster.json").read_text())
              for s in dev_split.iterdir()}
    collector = HypothesisCollector(ds, clusters=labels, hyp_dir_name="output_c")
    order = list(range(len(ds)))[::-1]
    written = []
    for i in order:
        written += collector.add([ds.segment_id(i)], [ds.text(i)])
    assert sorted(written) == sorted(labels) and collector.finish().keys() == labels.keys()
    result = score_split(dev_split, hyp_dir_name="output_c")
    kept = ds.report().total()
    if kept.get("no_video", 0) == 0:
        assert result["average"]["speaker_wer"] == 0.0
    assert result["average"]["conversation_f1"] == 1.0
    with pytest.raises(KeyError):
        collector.add(["session_00/spk_0/0000000-0000001"], ["x"])


def test_collector_out_root_leaves_the_data_alone_and_scores_the_same(dev_split, tmp_path):
    ds = MCoRecDataset(dev_split, normalizer=None, missing_video="pad", cache_dir=tmp_path)
    labels = {s.name: json.loads((s / "labels" / "speaker_to_cluster.json").read_text())
              for s in dev_split.iterdir()}
    before = {p.relative_to(dev_split) for p in dev_split.rglob("*")}
    for _ in range(2):  # a second validation replaces the hypotheses, keeps the links
        collector = HypothesisCollector(ds, clusters=labels, hyp_dir_name="output_m", out_root=tmp_path / "mirror")
        collector.add([ds.segment_id(i) for i in range(len(ds))], [ds.text(i) for i in range(len(ds))])
        written = collector.finish()
    assert {p.relative_to(dev_split) for p in dev_split.rglob("*")} == before
    assert {w.out_dir for w in written.values()} == {tmp_path / "mirror" / s / "output_m" for s in labels}
    session = tmp_path / "mirror" / "session_00"
    assert (session / "metadata.json").resolve() == (dev_split / "session_00" / "metadata.json").resolve()
    assert (session / "labels").is_symlink()
    mirrored = score_split(tmp_path / "mirror", hyp_dir_name="output_m")
    for session_dir in dev_split.iterdir():  # the same texts written inside the data
        write_hypotheses(session_dir, _hypotheses(collector, session_dir.name), clusters=labels[session_dir.name],
                         hyp_dir_name="output_d")
    inside = score_split(dev_split, hyp_dir_name="output_d")
    assert mirrored["average"] == inside["average"] and mirrored["sessions"] == inside["sessions"]


def _hypotheses(collector, session):
    hyps = {}
    for chunk_id in collector.pending[session]:
        _, speaker, start, end = collector.chunks[chunk_id]
        hyps.setdefault(speaker, []).append((start, end, collector.texts[chunk_id]))
    return hyps


def make_session(root, refs, clusters):
    session = root / "session_x"
    meta = {spk: {"central": {"video": "central_video.mp4", "uem": {"start": 0.0, "end": 100.0}, "crops": []}}
            for spk in refs}
    (session / "labels").mkdir(parents=True)
    (session / "metadata.json").write_text(json.dumps(meta))
    (session / "labels" / "speaker_to_cluster.json").write_text(json.dumps(clusters))
    for spk, cues in refs.items():
        write_vtt(session / "labels" / f"{spk}.vtt", [(int(a * 1000), int(b * 1000), t) for a, b, t in cues])
    return session


def test_planted_errors_give_the_hand_computed_figures(tmp_path):
    refs = {"spk_0": [(1.0, 2.0, "hello world"), (3.0, 4.0, "again")],
            "spk_1": [(1.0, 3.0, "good morning to you")],
            "spk_2": [(5.0, 6.0, "yes")], "spk_3": [(6.0, 7.0, "no thanks")]}
    session = make_session(tmp_path, refs, {"spk_0": 0, "spk_1": 0, "spk_2": 1, "spk_3": 1})
    hyps = {"spk_0": [(3.0, 4.0, "again"), (1.0, 2.0, "hello word"), (4.5, 5.0, "   ")],
            "spk_1": [(1.0, 3.0, "good morning you")],
            "spk_2": [(5.0, 6.0, "yes")], "spk_3": [(6.0, 7.0, "no thanks")]}
    written = write_hypotheses(session, hyps, clusters={"spk_0": 0, "spk_1": 1, "spk_2": 1, "spk_3": 1})
    assert written.empty_skipped == 1 and written.cues == {"spk_0": 2, "spk_1": 1, "spk_2": 1, "spk_3": 1}
    result = score_split(tmp_path)
    speakers = result["sessions"]["session_x"]["speakers"]
    # pairs: (0,1) FN, (1,2) FP, (1,3) FP, (2,3) TP, the rest TN: P = 1/3, R = 1/2, F1 = 0.4
    assert result["average"]["conversation_f1"] == pytest.approx(0.4)
    assert [speakers[s]["clustering_f1"] for s in refs] == [0.0, 0.0, 0.6667, 0.6667]
    assert [speakers[s]["wer"] for s in refs] == [0.3333, 0.25, 0.0, 0.0]  # 1 sub of 3, 1 del of 4
    assert result["average"]["speaker_wer"] == pytest.approx((0.3333 + 0.25) / 4)
    joints = [0.5 * 0.3333 + 0.5, 0.5 * 0.25 + 0.5, 0.5 * (1 - 0.6667), 0.5 * (1 - 0.6667)]
    assert result["average"]["joint_error"] == pytest.approx(sum(joints) / 4)


def test_writer_layout_rounding_and_errors(tmp_path):
    session = make_session(tmp_path, {"spk_0": [(1.0, 2.0, "a")], "spk_1": [(1.0, 2.0, "b")]}, {"spk_0": 0, "spk_1": 0})
    write_hypotheses(session, {"spk_0": [(2.0, 3.0, "second"), (1.2346, 1.9994, "first\nline")]},
                     clusters={"spk_0": np.int64(3), "spk_1": 3})
    text = (session / "output" / "spk_0.vtt").read_text()
    assert text.startswith("WEBVTT\n\n00:00:01.235 --> 00:00:01.999\nfirst line\n\n00:00:02.000 --> 00:00:03.000\nsecond")
    assert [c.text for c in read_vtt(session / "output" / "spk_0.vtt")] == ["first line", "second"]
    assert read_vtt(session / "output" / "spk_1.vtt") == []  # every speaker of metadata.json gets a file
    assert json.loads((session / "output" / "speaker_to_cluster.json").read_text()) == {"spk_0": 3, "spk_1": 3}
    out = write_hypotheses(tmp_path / "plain_out", {"spk_4": [(0.0, 1.0, "x")]})
    assert out.out_dir == tmp_path / "plain_out" and (out.out_dir / "spk_4.vtt").is_file()
    with pytest.raises(ValueError, match="spk_0"):
        write_hypotheses(session, {"spk_0": [(3.0, 2.0, "backwards")]})
    with pytest.raises(ValueError, match="spk_1"):
        write_hypotheses(session, {"spk_0": []}, clusters={"spk_0": 0})


def test_clustering_separates_overlapping_conversations():
    n = 1000
    active = np.zeros((4, n), bool)
    for k, a, b in ((0, 0, 200), (1, 220, 400), (0, 420, 600), (1, 620, 800),      # A takes turns
                    (2, 100, 300), (3, 310, 500), (2, 510, 700), (3, 710, 900)):   # B too, over A
        active[k, a:b] = True
    stats = conversation_statistics(active)
    assert stats["overlap"][0, 1] == 0 and stats["overlap"][0, 2] == 190 and stats["score"][0, 1] == 1.0
    assert stats["score"][0, 2] == pytest.approx(1 - 190 / (380 + 390 - 190))
    assert stats["turns"][0, 1] == 3 and stats["frames"].tolist() == [380, 360, 390, 380]
    assert cluster_speakers(stats["score"]) == [0, 0, 1, 1]
    assert cluster_speakers(np.zeros((3, 3))) == [0, 1, 2]


def test_mirroring_a_session_onto_itself_leaves_the_data_alone(dev_split, tmp_path):
    """``out_root`` pointing at the split itself must not unlink metadata.json or remove labels/."""
    import shutil

    from mcorec_torch.hypotheses.collector import mirror_session

    session = tmp_path / "session_00"
    shutil.copytree(sorted(dev_split.iterdir())[0], session)
    before = sorted(p.relative_to(session) for p in session.rglob("*"))
    with pytest.raises(ValueError, match="is the session folder itself"):
        mirror_session(session, session)
    (tmp_path / "link").symlink_to(session)  # the same folder under another name
    with pytest.raises(ValueError, match="is the session folder itself"):
        mirror_session(session, tmp_path / "link")
    assert sorted(p.relative_to(session) for p in session.rglob("*")) == before
    assert (session / "metadata.json").is_file() and not (session / "metadata.json").is_symlink()


def test_activity_timelines_name_a_listed_asd_file_that_is_missing(dev_split, tmp_path):
    """As the index does (SPEC §10): a missing ASD file that metadata lists is an error, not a
    speaker silently without activity."""
    import shutil

    from mcorec_torch.errors import MCoRecDataError
    from mcorec_torch.hypotheses.clustering import activity_timelines

    session = tmp_path / "session_00"
    shutil.copytree(sorted(dev_split.iterdir())[0], session)
    speakers, active = activity_timelines(session)
    assert active.any(axis=1).all()  # every speaker has ASD activity
    victim = sorted(session.glob("speakers/*/central_crops/*_asd.json"))[0]
    victim.unlink()
    with pytest.raises(MCoRecDataError, match="do not exist") as caught:
        activity_timelines(session)
    assert victim.name in str(caught.value)
