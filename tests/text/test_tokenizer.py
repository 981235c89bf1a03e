"""SentencePiece tokenizer wrapper, ESPnet units files and tokenizer training (SPEC §6)."""
import json
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from mcorec_torch.cli import build_parser, main
from mcorec_torch.errors import MCoRecDataError
from mcorec_torch.text.tokenizer import (Tokenizer, collect_transcripts, load_tokenizer, read_units,
                                    train_tokenizer)

ROOT = Path(__file__).resolve().parents[2]
WORDS = ("THE CAT SAT ON MAT DOG RAN FAST SLOW HOUSE GARDEN WE ARE GOING TO SEE IT'S A GOOD DAY "
         "PEOPLE TALK ABOUT WEATHER MUSIC FOOD 20 50% TOMORROW").split()


def corpus(n=300):
    # deterministic pseudo-random sentences
    lines = []
    for i in range(n):
        length = 3 + (i * 7) % 6
        lines.append(" ".join(WORDS[(i * 13 + k * 5) % len(WORDS)] for k in range(length)))
    return lines


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("spm")
    model = train_tokenizer(corpus(), out / "unigram60", 60)
    return model, out / "unigram60_units.txt"


def test_training_writes_files_deterministically(trained, tmp_path):
    model, units = trained
    assert model.name == "unigram60.model" and model.is_file()
    assert model.with_suffix(".vocab").is_file() and units.is_file()
    again = train_tokenizer(corpus(), tmp_path / "again", 60)
    # the .model proto also records the output prefix, so compare the pieces and scores
    assert again.with_suffix(".vocab").read_text() == model.with_suffix(".vocab").read_text()
    assert (tmp_path / "again_units.txt").read_text() == units.read_text()


def test_tiny_corpus_does_not_fail_on_large_vocab(tmp_path):
    model = train_tokenizer(["HELLO WORLD", "HELLO THERE"], tmp_path / "tiny", 5000)
    tok = Tokenizer(model)
    assert 10 < tok.vocab_size < 5000
    assert tok.decode(tok.encode("HELLO WORLD")) == "HELLO WORLD"


def test_training_needs_text(tmp_path):
    with pytest.raises(ValueError, match="no non-empty text"):
        train_tokenizer(["", "  "], tmp_path / "x", 50)


def test_model_ids_round_trip(trained):
    model, _ = trained
    tok = Tokenizer(model)
    assert (tok.blank_id, tok.unk_id, tok.eos_id) == (None, 0, 2)
    text = "WE ARE GOING TO SEE THE CAT"
    ids = tok.encode(text)
    assert ids.dtype == torch.int64 and ids.dim() == 1 and len(ids) > 0
    assert tok.decode(ids) == text
    padded = torch.cat([ids, torch.full((4,), -1, dtype=torch.long)])
    assert tok.decode(padded) == text
    assert tok.decode(ids.tolist()) == text
    assert tok.encode("").tolist() == []
    assert len(tok.token_list) == tok.vocab_size == len(tok)


def test_units_file_layout(trained):
    model, units_path = trained
    lines = units_path.read_text().splitlines()
    assert lines[0] == "<unk> 1"
    pieces = [line.split()[0] for line in lines[1:]]
    assert pieces == sorted(pieces)                      # LC_ALL=C order, as ESPnet sorts
    assert [int(line.split()[1]) for line in lines] == list(range(1, len(lines) + 1))
    assert "<s>" not in pieces and "</s>" not in pieces


def test_units_mapping(trained):
    model, units_path = trained
    n = len(units_path.read_text().splitlines())       # <unk> + pieces = ids 1..n
    tok = Tokenizer(model, units_path)
    assert (tok.blank_id, tok.unk_id, tok.eos_id, tok.vocab_size) == (0, 1, n + 1, n + 2)
    table = read_units(units_path)
    text = "THE DOG RAN TO THE GARDEN"
    ids = tok.encode(text)
    assert ids.dtype == torch.int64
    assert all(1 <= i <= n for i in ids.tolist())      # never blank, never eos
    assert [table[p] for p in tok.pieces(text)] == ids.tolist()
    assert [tok.token_list[i] for i in ids.tolist()] == tok.pieces(text)
    assert tok.token_list[0] == "<blank>" and tok.token_list[-1] == "<eos>" and tok.token_list[1] == "<unk>"
    # CTC-style output: blanks, repeats are the model's business; padding -1 and eos ignored
    noisy = [0, *ids.tolist()[:2], 0, 0, *ids.tolist()[2:], tok.eos_id, -1, -1]
    assert tok.decode(noisy) == text
    assert tok.decode(torch.tensor(noisy)) == text


def test_units_unknown_piece_maps_to_unk(trained):
    model, units_path = trained
    tok = Tokenizer(model, units_path)
    ids = tok.encode("THE Ω CAT").tolist()
    assert tok.unk_id in ids
    with pytest.raises(ValueError, match="outside"):
        tok.decode([tok.vocab_size])


def test_units_with_explicit_blank_and_eos(trained, tmp_path):
    model, units_path = trained
    lines = units_path.read_text().splitlines()
    explicit = tmp_path / "explicit_units.txt"
    explicit.write_text("\n".join(["<blank> 0", *lines, f"<eos> {len(lines) + 1}"]) + "\n")
    a, b = Tokenizer(model, units_path), Tokenizer(model, explicit)
    assert (a.vocab_size, a.eos_id) == (b.vocab_size, b.eos_id)
    assert a.encode("THE CAT").tolist() == b.encode("THE CAT").tolist()


@pytest.mark.parametrize("content,message,line", [
    ("<unk> 1\nA\n", "expected 'piece id'", 2),
    ("<unk> 1\nA x\n", "not an integer", 2),
    ("<unk> 1\nA 2\nB 2\n", "already used on line 2", 3),
    ("<unk> 1\nA 0\n", "reserved for <blank>", 2),
    ("<unk> 1\nA 2\nA 3\n", "listed twice", 3),
    ("<unk> 1\nA 3\n", "not contiguous", None),
    ("A 1\n", "no <unk>", None),
    ("<unk> 1\nA 2\n<eos> 7\n", "last id 3", 3),
])
def test_bad_units_file(tmp_path, content, message, line):
    path = tmp_path / "units.txt"
    path.write_text(content)
    with pytest.raises(MCoRecDataError, match=message) as info:
        read_units(path)
    assert info.value.line == line and str(path) in str(info.value)


def test_units_of_another_model_rejected(trained, tmp_path):
    model, _ = trained
    other = train_tokenizer(["ZZZ QQQ VVV", "QQQ ZZZ"] * 5, tmp_path / "other", 20)
    with pytest.raises(MCoRecDataError, match="not in the model"):
        Tokenizer(model, tmp_path / "other_units.txt")
    assert other.is_file()


def test_missing_or_bad_model(tmp_path):
    with pytest.raises(MCoRecDataError, match="does not exist"):
        Tokenizer(tmp_path / "nope.model")
    junk = tmp_path / "junk.model"
    junk.write_bytes(b"not a model")
    with pytest.raises(MCoRecDataError, match="not a SentencePiece model"):
        Tokenizer(junk)


def test_load_tokenizer(trained):
    model, units = trained
    assert load_tokenizer(None) is None
    tok = Tokenizer(model)
    assert load_tokenizer(tok) is tok
    assert load_tokenizer(str(model)).units_path is None
    assert load_tokenizer(model).vocab_size == tok.vocab_size
    with_units = load_tokenizer({"model": model, "units": units})
    assert with_units.blank_id == 0
    assert load_tokenizer({"model": str(model)}).blank_id is None
    with pytest.raises(ValueError, match="'model' key"):
        load_tokenizer({"units": units})
    with pytest.raises(TypeError):
        load_tokenizer(5)


def test_pickle(trained):
    model, units = trained
    tok = Tokenizer(model, units)
    clone = pickle.loads(pickle.dumps(tok))
    assert clone.encode("THE CAT SAT").tolist() == tok.encode("THE CAT SAT").tolist()
    assert clone.decode(tok.encode("THE CAT SAT")) == "THE CAT SAT"


# --- training from a split ------------------------------------------------------------------

def _write_split(root: Path):
    session = root / "session_1"
    (session / "labels").mkdir(parents=True)
    metadata = {
        "spk_0": {"central": {"video": "a.mp4", "uem": {"start": 1.0, "end": 20.0}, "crops": []}},
        "spk_1": {"central": {"video": "b.mp4", "uem": {"start": 0.0, "end": 9.5}, "crops": []}},
    }
    (session / "metadata.json").write_text(json.dumps(metadata))
    (session / "labels" / "spk_0.vtt").write_text(
        "WEBVTT\n\n"
        "00:00:00.500 --> 00:00:02.000\nzebra outside the uem\n\n"
        "00:00:02.000 --> 00:00:04.000\nUm, the cat’s on the mat.\n\n"
        "00:00:05.000 --> 00:00:06.000\nyeah\n")
    (session / "labels" / "spk_1.vtt").write_text(
        "WEBVTT\n\n"
        "00:00:01.000 --> 00:00:03.000\nWe're going\nhome now\n\n"
        "00:00:09.000 --> 00:00:09.600\nzebra ends after the uem\n")
    (root / "session_2").mkdir()              # eval-like session: metadata, no labels
    (root / "session_2" / "metadata.json").write_text(json.dumps(metadata))


def test_collect_transcripts(tmp_path):
    _write_split(tmp_path)
    assert collect_transcripts(tmp_path) == ["THE CAT'S ON THE MAT", "WE'RE GOING HOME NOW"]
    assert collect_transcripts([tmp_path], style="official") == ["the cat s on the mat", "we are going home now"]
    assert collect_transcripts(tmp_path, style=None) == ["Um, the cat’s on the mat.", "yeah",
                                                         "We're going\nhome now"]


def test_tokenizer_command(tmp_path, capsys):
    _write_split(tmp_path / "train")
    out = tmp_path / "tok"
    assert main(["tokenizer", str(tmp_path / "train"), "--vocab-size", "18", "--out-dir", str(out),
                 "--model-type", "char"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["char18.model", "char18.vocab", "char18_units.txt"]
    printed = capsys.readouterr().out
    assert "trained on 2 cues" in printed and "fewer than" not in printed  # 14 characters, the space, <unk>, <s>, </s>
    tok = Tokenizer(out / "char18.model", out / "char18_units.txt")
    assert tok.decode(tok.encode("THE CAT'S ON THE MAT")) == "THE CAT'S ON THE MAT"
    assert "Z" not in "".join(tok.token_list)  # "zebra" cues were outside the UEM
    # bad input is a one-line error naming the path and exit 2 (SPEC §9), as for every command
    assert main(["tokenizer", str(tmp_path / "missing"), "--out-dir", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"error: {tmp_path / 'missing'}" in err and "Traceback" not in err


def test_tokenizer_command_reads_the_label_dir_option(tmp_path, capsys):
    """``--label-dir``: the flag of the dataset option ``label_dir``; a split without cues in
    it is bad input (exit 2) naming the split."""
    _write_split(tmp_path / "train")
    for session in (tmp_path / "train").iterdir():
        if (session / "labels").is_dir():
            (session / "labels").rename(session / "labels_v2")
    out = tmp_path / "tok"
    assert main(["tokenizer", str(tmp_path / "train"), "--vocab-size", "30", "--out-dir", str(out),
                 "--label-dir", "labels_v2"]) == 0
    assert "trained on 2 cues" in capsys.readouterr().out
    assert main(["tokenizer", str(tmp_path / "train"), "--out-dir", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"error: {tmp_path / 'train'}: no transcript cues" in err and "labels" in err
    assert "Traceback" not in err


def test_train_tokenizer_script_is_the_command_and_bad_data_exits_2_naming_the_file(tmp_path):
    """``scripts/train_tokenizer.py`` runs ``mcorec-torch tokenizer``: a speaker the metadata
    lacks is bad data, exit 2 with the VTT's path."""
    _write_split(tmp_path / "train")
    stray = tmp_path / "train" / "session_1" / "labels" / "spk_9.vtt"
    stray.write_text("WEBVTT\n\n00:00:02.000 --> 00:00:04.000\nnobody\n")
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "train_tokenizer.py"), str(tmp_path / "train"),
                             "--out-dir", str(tmp_path / "tok")], capture_output=True, text=True, timeout=300)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"error: {stray}: speaker 'spk_9' has no central entry" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "tok").exists()


def test_tokenizer_choices_are_declared_once():
    """``--model-type`` and ``--style`` offer what the tokenizer and the normalizer declare."""
    from mcorec_torch.text.normalize import STYLES
    from mcorec_torch.text.tokenizer import MODEL_TYPES

    actions = {a.dest: a for a in _subparser("tokenizer")._actions}
    assert tuple(actions["model_type"].choices) == MODEL_TYPES == ("unigram", "bpe", "char", "word")
    assert tuple(actions["style"].choices) == (*STYLES, "none")
    assert actions["label_dir"].default == "labels"


def _subparser(name):
    parser = build_parser()
    choices = next(a for a in parser._actions if a.dest == "command").choices
    return choices[name]


@pytest.mark.parametrize("flags, message", [
    (["--vocab-size", "0"], "--vocab-size must be >= 1, got 0"),
    (["--character-coverage", "1.5"], "--character-coverage must be > 0 and <= 1, got 1.5"),
    (["--character-coverage", "nan"], "--character-coverage must be a finite number"),
])
def test_tokenizer_flag_values_are_bad_input_not_a_sentencepiece_traceback(tmp_path, capsys, flags, message):
    _write_split(tmp_path / "train")
    assert main(["tokenizer", str(tmp_path / "train"), "--out-dir", str(tmp_path / "tok"), *flags]) == 2
    err = capsys.readouterr().err
    assert f"error: {message}" in err and "Traceback" not in err
    assert not (tmp_path / "tok").exists()


def _largest_vocabulary(texts, model_type, tmp_path):
    """SentencePiece's own answer: the largest vocabulary it accepts for ``texts`` with a hard
    limit ("Vocabulary size too high (N). Please set it to a value <= M.")."""
    import re

    import sentencepiece

    with pytest.raises(RuntimeError, match="Vocabulary size too high") as info:
        sentencepiece.SentencePieceTrainer.train(sentence_iterator=iter(texts), model_prefix=str(tmp_path / "hard"),
                                                 vocab_size=5000, model_type=model_type, hard_vocab_limit=True,
                                                 num_threads=1, minloglevel=2)
    return int(re.search(r"value <= (\d+)", str(info.value)).group(1))


@pytest.mark.parametrize("model_type", ["unigram", "bpe"])
def test_tokenizer_command_names_the_model_by_the_vocabulary_it_has(tmp_path, capsys, model_type):
    """Issue 21: ``--vocab-size 5000`` on a split that supports fewer pieces names the files by
    the pieces the model has (the largest vocabulary SentencePiece accepts for that text) and
    says so; ``--name`` keeps the user's name and still says how many pieces it has."""
    _write_split(tmp_path / "train")
    largest = _largest_vocabulary(collect_transcripts(tmp_path / "train"), model_type, tmp_path)
    out = tmp_path / "tok"
    assert main(["tokenizer", str(tmp_path / "train"), "--out-dir", str(out), "--model-type", model_type]) == 0
    name = f"{model_type}{largest}"
    assert sorted(p.name for p in out.iterdir()) == [f"{name}.model", f"{name}.vocab", f"{name}_units.txt"]
    printed = capsys.readouterr().out
    assert (f"the text supports {largest} pieces, fewer than --vocab-size 5000: the model has {largest}, "
            f"named {name}\n") in printed
    assert f"model: {out / name}.model" in printed
    assert Tokenizer(out / f"{name}.model").vocab_size == largest
    assert main(["tokenizer", str(tmp_path / "train"), "--out-dir", str(tmp_path / "named"), "--name", "mine",
                 "--model-type", model_type]) == 0
    printed = capsys.readouterr().out
    assert f"the model has {largest}\n" in printed and (tmp_path / "named" / "mine_units.txt").is_file()


def test_a_vocabulary_below_the_characters_of_the_text_is_bad_input(tmp_path, capsys):
    """``--vocab-size`` smaller than the characters the text needs: an ``error:`` naming the
    flag and the smallest that works, not SentencePiece's traceback; nothing is left behind."""
    _write_split(tmp_path / "train")
    out = tmp_path / "tok"
    assert main(["tokenizer", str(tmp_path / "train"), "--vocab-size", "5", "--out-dir", str(out)]) == 2
    err = capsys.readouterr().err
    assert "error: --vocab-size 5 is smaller than the " in err and "Traceback" not in err
    smallest = int(err.split("use at least ")[1].split(",")[0])
    assert not out.exists()
    assert main(["tokenizer", str(tmp_path / "train"), "--vocab-size", str(smallest), "--out-dir", str(out)]) == 0
    assert (out / f"unigram{smallest}.model").is_file()
