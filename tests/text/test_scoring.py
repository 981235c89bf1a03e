"""The official MCoRec metrics (SPEC §11) on hand-computable sessions."""
import argparse
import json
from pathlib import Path

import pytest

from mcorec_torch.cli import main
from mcorec_torch.commands import score as score_command
from mcorec_torch.errors import MCoRecDataError
from mcorec_torch.corpus.vtt import write_vtt  # cues: (start_ms, end_ms, text)
from mcorec_torch.text.scoring import (format_score_report, pairwise_f1, pairwise_f1_per_speaker, score_session,
                                  score_split)


def write_session(root: Path, name: str, uems: dict, labels: dict, hyps: dict,
                  label_clusters: dict, hyp_clusters: dict) -> Path:
    """uems: speaker -> (start, end) seconds, in metadata order; labels/hyps: speaker -> cues."""
    session = root / name
    session.mkdir(parents=True)
    metadata = {spk: {"central": {"video": "central_video.mp4", "uem": {"start": s, "end": e}, "crops": []}}
                for spk, (s, e) in uems.items()}
    (session / "metadata.json").write_text(json.dumps(metadata))
    for spk, cues in labels.items():
        write_vtt(session / "labels" / f"{spk}.vtt", cues)
    for spk, cues in hyps.items():
        write_vtt(session / "output" / f"{spk}.vtt", cues)
    (session / "labels" / "speaker_to_cluster.json").write_text(json.dumps(label_clusters))
    (session / "output" / "speaker_to_cluster.json").write_text(json.dumps(hyp_clusters))
    return session


S = 1000  # ms per second


def build_split(root: Path) -> Path:
    # session_a: four speakers, conversations {spk_0, spk_1} and {spk_2, spk_3}; the
    # hypothesis moves spk_2 into the first conversation.
    write_session(
        root, "session_a",
        uems={"spk_0": (10.0, 60.0), "spk_1": (5.0, 50.0), "spk_2": (0.0, 100.0), "spk_3": (0.0, 100.0)},
        labels={
            # spk_0 reference inside the UEM: "the cat sat" + "on the mat" = 6 words
            "spk_0": [(5 * S, 8 * S, "this is before the uem"),
                      (10 * S, 12 * S, "Um, the cat sat"),
                      (20 * S, 25_500, "on the mat."),
                      (59 * S, 60_001, "this ends after the uem")],
            # "Oh, five o'clock, fine" -> "050 clock fine" (3 words): the zero "oh" starts a
            # digit string that "five" and the zero "o" extend
            "spk_1": [(6 * S, 7 * S, "Oh, five o'clock, fine")],
            # -> "we are going to win" (5 words)
            "spk_2": [(1 * S, 2 * S, "Yeah. We're gonna win.")],
            # -> "i do not know" (4 words)
            "spk_3": [(1 * S, 2 * S, "I don't know")],
        },
        hyps={
            # "the dog sat on mat": 1 substitution (cat->dog), 1 deletion (the); the early cue
            # (9.999 s < 10 s) is outside the UEM -> WER 2/6 = 0.3333
            "spk_0": [(9_999, 11 * S, "ignored early words"),
                      (10 * S, 12 * S, "the dog sat"),
                      (20 * S, 25_500, "on mat yeah")],
            # "oh five o'clock fine" normalizes the same; "hello there" = 2 insertions
            # -> WER 2/3 = 0.6667
            "spk_1": [(6 * S, 7 * S, "oh five o'clock fine"), (30 * S, 31 * S, "hello there")],
            # curly apostrophe: "we re going to win" -> 1 substitution (are->re) -> 1/5 = 0.2
            "spk_2": [(1 * S, 2 * S, "We’re gonna win")],
            # nothing said -> 4 deletions -> 1.0
            "spk_3": [],
        },
        label_clusters={"spk_0": 0, "spk_1": 0, "spk_2": 1, "spk_3": 1},
        hyp_clusters={"spk_0": 5, "spk_1": 5, "spk_2": 5, "spk_3": 7},
    )
    # session_b: two speakers in two conversations, clustered correctly. The official F1 has
    # no true-positive pair, so conversation F1 = 0 and both speaker F1 = 0.
    write_session(
        root, "session_b",
        uems={"spk_1": (0.0, 30.0), "spk_0": (0.0, 30.0)},      # metadata order kept
        labels={"spk_0": [(1 * S, 2 * S, "hello world")], "spk_1": [(1 * S, 2 * S, "good morning")]},
        hyps={"spk_0": [(1 * S, 2 * S, "Hello, world!")], "spk_1": [(1 * S, 2 * S, "good evening")]},
        label_clusters={"spk_0": 0, "spk_1": 1},
        hyp_clusters={"spk_0": 0, "spk_1": 1},
    )
    return root


def test_pairwise_f1_by_hand():
    # labels (0,0,1,1) vs hypothesis (5,5,5,7), truth = labels:
    # pairs 01 TP, 02 FP, 03 TN, 12 FP, 13 TN, 23 FN -> P = 1/3, R = 1/2, F1 = 0.4
    assert pairwise_f1([0, 0, 1, 1], [5, 5, 5, 7]) == pytest.approx(0.4, abs=1e-15)
    assert pairwise_f1([5, 5, 5, 7], [0, 0, 1, 1]) == pytest.approx(0.4, abs=1e-15)
    # spk_0: TP with 1, FP with 2 -> P 1/2, R 1 -> 2/3; spk_1 likewise; spk_2, spk_3 no TP -> 0
    assert pairwise_f1_per_speaker([0, 0, 1, 1], [5, 5, 5, 7]) == pytest.approx([2 / 3, 2 / 3, 0.0, 0.0])
    assert pairwise_f1([0, 1, 2], [0, 1, 2]) == 0.0        # all apart: no true positive
    assert pairwise_f1([0], [0]) == 0.0
    assert pairwise_f1([0, 0, 0], [1, 1, 1]) == 1.0


def test_score_split_by_hand(tmp_path):
    result = score_split(build_split(tmp_path))
    a = result["sessions"]["session_a"]
    assert a["conversation_f1"] == pytest.approx(0.4, abs=1e-15)
    speakers = a["speakers"]
    assert list(speakers) == ["spk_0", "spk_1", "spk_2", "spk_3"]
    assert [speakers[s]["wer"] for s in speakers] == [0.3333, 0.6667, 0.2, 1.0]
    assert [speakers[s]["clustering_f1"] for s in speakers] == [0.6667, 0.6667, 0.0, 0.0]
    spk_0 = speakers["spk_0"]
    assert (spk_0["substitutions"], spk_0["deletions"], spk_0["insertions"]) == (1, 1, 0)
    assert (spk_0["reference_words"], spk_0["hypothesis_words"]) == (6, 5)
    assert (spk_0["reference_cues"], spk_0["reference_cues_outside_uem"]) == (2, 2)
    assert (spk_0["hypothesis_cues"], spk_0["hypothesis_cues_outside_uem"]) == (2, 1)
    assert speakers["spk_1"]["insertions"] == 2 and speakers["spk_3"]["deletions"] == 4
    # joint = 0.5 * WER + 0.5 * (1 - speaker F1), with both rounded to 4 decimals first
    joints_a = [0.5 * 0.3333 + 0.5 * (1 - 0.6667), 0.5 * 0.6667 + 0.5 * (1 - 0.6667),
                0.5 * 0.2 + 0.5 * 1.0, 0.5 * 1.0 + 0.5 * 1.0]     # 0.3333, 0.5, 0.6, 1.0
    assert [speakers[s]["joint_error"] for s in speakers] == pytest.approx(joints_a, abs=1e-12)
    assert a["speaker_wer"] == pytest.approx((0.3333 + 0.6667 + 0.2 + 1.0) / 4)

    b = result["sessions"]["session_b"]
    assert b["conversation_f1"] == 0.0
    assert list(b["speakers"]) == ["spk_1", "spk_0"]
    assert b["speakers"]["spk_0"]["wer"] == 0.0                 # punctuation and case normalized away
    assert b["speakers"]["spk_1"]["wer"] == 0.5                 # morning -> evening
    assert b["speakers"]["spk_0"]["clustering_f1"] == 0.0
    assert b["speakers"]["spk_0"]["joint_error"] == 0.5         # 0.5 * 0 + 0.5 * (1 - 0)
    assert b["speakers"]["spk_1"]["joint_error"] == 0.75        # 0.5 * 0.5 + 0.5 * 1

    # averages: conversation F1 over sessions, WER and joint error over all six speakers
    assert result["num_sessions"] == 2 and result["num_speakers"] == 6
    average = result["average"]
    assert average["conversation_f1"] == pytest.approx((0.4 + 0.0) / 2, abs=1e-15)
    assert average["speaker_wer"] == pytest.approx((0.3333 + 0.6667 + 0.2 + 1.0 + 0.5 + 0.0) / 6, abs=1e-12)
    assert average["speaker_wer"] == pytest.approx(0.45, abs=1e-12)
    assert average["joint_error"] == pytest.approx((sum(joints_a) + 0.75 + 0.5) / 6, abs=1e-12)


def test_uem_edge_uses_the_official_float_comparison(tmp_path):
    # The scorer compares whole seconds + ms / 1000 with the UEM: 1 + 0.118 is
    # 1.1179999999999999 < 1.118, so a cue starting exactly on this UEM start is dropped.
    write_session(tmp_path, "session_1", uems={"spk_0": (1.118, 10.0)},
                  labels={"spk_0": [(1118, 2000, "alpha"), (2000, 3000, "beta")]},
                  hyps={"spk_0": [(2000, 3000, "beta")]},
                  label_clusters={"spk_0": 0}, hyp_clusters={"spk_0": 0})
    figures = score_session(tmp_path / "session_1")["speakers"]["spk_0"]
    assert figures["wer"] == 0.0 and figures["reference_cues_outside_uem"] == 1


def test_empty_reference_is_flagged(tmp_path):
    write_session(tmp_path, "session_1", uems={"spk_0": (0.0, 10.0), "spk_1": (0.0, 10.0)},
                  labels={"spk_0": [(1000, 2000, "Yeah, haha.")], "spk_1": [(1000, 2000, "fine")]},
                  hyps={"spk_0": [(1000, 2000, "hello")], "spk_1": [(1000, 2000, "fine")]},
                  label_clusters={"spk_0": 0, "spk_1": 0}, hyp_clusters={"spk_0": 0, "spk_1": 0})
    result = score_split(tmp_path)
    figures = result["sessions"]["session_1"]["speakers"]["spk_0"]
    assert figures["empty_reference"] is True
    assert figures["wer"] == 1                                 # jiwer 4: one inserted word
    assert result["sessions"]["session_1"]["conversation_f1"] == 1.0
    assert "empty reference" in format_score_report(result)


def test_missing_hypothesis_files_are_all_named(tmp_path):
    root = build_split(tmp_path)
    gone = [root / "session_a" / "output" / "spk_1.vtt",
            root / "session_a" / "output" / "speaker_to_cluster.json",
            root / "session_b" / "output" / "spk_0.vtt"]
    for path in gone:
        path.unlink()
    with pytest.raises(MCoRecDataError) as info:
        score_split(root)
    message = str(info.value)
    assert "3 hypothesis file(s) missing" in message
    for path in gone:
        assert str(path) in message


def test_hypothesis_clustering_must_cover_every_speaker(tmp_path):
    root = build_split(tmp_path)
    (root / "session_b" / "output" / "speaker_to_cluster.json").write_text('{"spk_0": 0}')
    with pytest.raises(MCoRecDataError, match="spk_1"):
        score_split(root)


def test_cluster_ids_compared_as_written(tmp_path):
    root = build_split(tmp_path)
    hyp = root / "session_a" / "output" / "speaker_to_cluster.json"
    hyp.write_text('{"spk_0": "x", "spk_1": "x", "spk_2": "x", "spk_3": 7.0}')
    assert score_split(root)["sessions"]["session_a"]["conversation_f1"] == pytest.approx(0.4, abs=1e-15)
    hyp.write_text('{"spk_0": [1], "spk_1": 0, "spk_2": 0, "spk_3": 0}')
    with pytest.raises(MCoRecDataError, match="spk_0"):
        score_split(root)


def test_metadata_speaker_without_conversation_label(tmp_path):
    root = build_split(tmp_path)
    (root / "session_b" / "labels" / "speaker_to_cluster.json").write_text('{"spk_0": 0}')
    (root / "session_b" / "output" / "speaker_to_cluster.json").write_text('{"spk_0": 0}')
    with pytest.raises(MCoRecDataError, match="no conversation for speaker"):
        score_split(root)


def test_format_report(tmp_path):
    result = score_split(build_split(tmp_path))
    text = format_score_report(result, per_speaker=True)
    assert "session_a" in text and "session_b" in text and "spk_F1" in text
    assert any(line.split() == ["spk_0", "0.3333", "0.3333", "0.6667"] for line in text.splitlines())
    assert f"Average Speaker WER: {result['average']['speaker_wer']}" in text
    assert "2 session(s), 6 speaker(s)" in text


def test_cli_run_and_json(tmp_path, capsys):
    root = build_split(tmp_path / "dev")
    parser = argparse.ArgumentParser()
    score_command.add_parser(parser.add_subparsers(dest="command"))
    out = tmp_path / "scores.json"
    args = parser.parse_args(["score", str(root), "--hyp-dir-name", "output", "--json", str(out)])
    assert args.func is score_command.run
    assert args.func(args) == 0
    printed = capsys.readouterr().out
    assert "Average Conversation Clustering F1 score: 0.2" in printed
    saved = json.loads(out.read_text())
    assert set(saved["average"]) == {"conversation_f1", "speaker_wer", "joint_error"}
    assert saved["average"]["speaker_wer"] == pytest.approx(0.45, abs=1e-12)
    assert saved["sessions"]["session_a"]["speakers"]["spk_0"]["wer"] == 0.3333

    missing = argparse.Namespace(split_dir=str(root), hyp_dir_name="nope", label_dir_name="labels",
                                 json=None, per_speaker=False)
    with pytest.raises(MCoRecDataError, match="hypothesis file"):
        score_command.run(missing)
    assert main(["score", str(root), "--hyp-dir-name", "nope"]) == 2  # SPEC §9: message, no traceback, exit 2
    assert "hypothesis file(s) missing" in capsys.readouterr().err


def test_score_takes_the_label_dir_flag_of_the_option_and_the_official_name(tmp_path, capsys):
    """`--label-dir` is the flag of the label_dir option (as in index, check, tokenizer);
    `--label-dir-name`, the official script's spelling, stays an alias."""
    root = build_split(tmp_path / "dev")
    for session in root.iterdir():
        (session / "labels").rename(session / "refs")
    assert main(["score", str(root), "--label-dir", "refs"]) == 0
    assert "Average Conversation Clustering F1 score: 0.2" in capsys.readouterr().out
    assert main(["score", str(root), "--label-dir-name", "refs"]) == 0
    assert main(["score", str(root)]) == 2  # no labels/ folder any more
