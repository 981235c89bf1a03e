"""``mcorec-torch score SPLIT --hyp DIR``: hypotheses kept apart from the labels (issue 21)."""
import json
import shutil

from mcorec_torch import cli


def test_score_reads_hypotheses_from_hyp_dir(dev_split, tmp_path, capsys):
    """Perfect hypotheses under DIR/SESSION/output/ score WER 0 and F1 1 against the split's
    labels; the same files inside the split (the official layout) give the same figures, and
    a speaker's hypothesis missing from DIR is named by its path under DIR."""
    root, hyp = tmp_path / "dev", tmp_path / "hyp"
    shutil.copytree(dev_split[0], root)
    for session in sorted(root.iterdir()):
        shutil.copytree(session / "labels", hyp / session.name / "output")
    assert cli.main(["score", str(root), "--hyp", str(hyp), "--json", str(tmp_path / "apart.json")]) == 0
    apart = json.loads((tmp_path / "apart.json").read_text())
    assert apart["average"] == {"conversation_f1": 1.0, "speaker_wer": 0.0, "joint_error": 0.0}
    assert apart["hyp_root"] == str(hyp) and apart["num_sessions"] == len(list(root.iterdir()))
    assert cli.main(["score", str(root)]) == 2  # nothing inside the split itself
    assert "hypothesis file(s) missing" in capsys.readouterr().err
    vtt = next((hyp / "session_00" / "output").glob("spk_*.vtt"))
    vtt.write_text("WEBVTT\n")  # one speaker says nothing: every reference word deleted, WER 1
    assert cli.main(["score", str(root), "--hyp", str(hyp), "--json", str(tmp_path / "worse.json")]) == 0
    worse = json.loads((tmp_path / "worse.json").read_text())
    assert worse["sessions"]["session_00"]["speakers"][vtt.stem]["wer"] == 1.0
    vtt.unlink()
    assert cli.main(["score", str(root), "--hyp", str(hyp)]) == 2
    assert f"1 hypothesis file(s) missing: {vtt}" in capsys.readouterr().err
