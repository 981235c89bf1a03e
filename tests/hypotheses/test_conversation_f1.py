"""Conversation F1 through the scorer (SPEC §11-§12): the baseline clustering of a synthetic
split's ASD scores scores 1.0, and a planted wrong cluster lowers it by the hand-computed
amount."""
import pytest

from mcorec_torch.corpus.vtt import read_vtt
from mcorec_torch.hypotheses import cluster_session, write_hypotheses
from mcorec_torch.text.scoring import score_session


def reference_hypotheses(session):
    """Every speaker's reference cues as its hypotheses: WER 0, so only the clusters differ."""
    return {vtt.stem: [(c.start_ms / 1000, c.end_ms / 1000, c.text) for c in read_vtt(vtt)]
            for vtt in sorted((session / "labels").glob("spk_*.vtt"))}


def scored(session, clusters, out_root):
    write_hypotheses(out_root / session.name / "output", reference_hypotheses(session), clusters)
    return score_session(session, hyp_root=out_root)


def test_a_planted_wrong_cluster_lowers_f1_by_the_hand_computed_amount(dev_split, tmp_path):
    root, specs = dev_split
    session = root / "session_00"
    planted = {s.name: s.conversation for s in specs["session_00"].speakers}
    assert planted == {"spk_0": 0, "spk_1": 0, "spk_2": 1, "spk_3": 1}
    found = cluster_session(session)
    result = scored(session, found, tmp_path / "found")
    assert result["conversation_f1"] == 1.0 and result["speaker_wer"] == 0.0
    # spk_1 moved to the other conversation: predicted pairs {1,2}, {1,3}, {2,3}; true pairs
    # {0,1}, {2,3}. One pair right: precision 1/3, recall 1/2, F1 = 2 * (1/6) / (5/6) = 0.4.
    wrong = dict(found, spk_1=found["spk_2"])
    result = scored(session, wrong, tmp_path / "wrong")
    assert result["conversation_f1"] == pytest.approx(0.4)
    # per speaker (the official pairs of each speaker): spk_0 has none predicted and loses
    # its true one (F1 0); spk_1 gets 2 wrong pairs and loses its true one (0); spk_2 and spk_3
    # keep their true pair and get one wrong: precision 1/2, recall 1 (2/3)
    assert {spk: f["clustering_f1"] for spk, f in result["speakers"].items()} == \
        {"spk_0": 0.0, "spk_1": 0.0, "spk_2": 0.6667, "spk_3": 0.6667}
    # joint error per speaker 0.5 * WER + 0.5 * (1 - F1), WER 0: its mean
    assert result["joint_error"] == pytest.approx(0.5 * (1 + 1 + 1 / 3 + 1 / 3) / 4, abs=1e-4)
