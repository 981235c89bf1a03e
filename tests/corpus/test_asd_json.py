"""ASD score files with keys and values that Python parses but the planner cannot use: each is
the library's error naming the file and the key, never ValueError/OverflowError."""
import json

import pytest

from mcorec_torch.corpus.asd_scores import read_asd_scores
from mcorec_torch.errors import MCoRecDataError


@pytest.mark.parametrize("text,key", [
    ('{"0": 1.0, "\u00b2": 0.5}', "\u00b2"),            # a superscript digit: str.isdigit() says yes
    ('{"0": 1.0, "\u0663": 0.5}', "\u0663"),            # an Arabic-Indic digit: int() would accept it
    ('{"12345678901234567890123": 0.5}', "12345678901234567890123"),  # beyond int64
    ('{"0": 1' + "0" * 400 + '}', "0"),                  # an integer too large for a float
    ('{"0": -1' + "0" * 400 + '}', "0"),
])
def test_unusable_keys_and_scores_are_named(tmp_path, text, key):
    path = tmp_path / "track_00_asd.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MCoRecDataError) as caught:
        read_asd_scores(path)
    assert caught.value.path == str(path) or str(path) in str(caught.value)
    assert key[:20] in str(caught.value)


def test_large_but_valid_frame_numbers_and_integer_scores_are_read(tmp_path):
    path = tmp_path / "track_00_asd.json"
    path.write_text(json.dumps({"90000": 2, "89999": -1.5}), encoding="utf-8")
    frames, scores = read_asd_scores(path)
    assert frames.tolist() == [89999, 90000] and scores.tolist() == [-1.5, 2.0]
