"""The one set of value checks (mcorec_torch.checks) and its users: every option error is an
OptionError naming the option, NaN and infinity are refused wherever a number is asked for."""
import math

import pytest

from mcorec_torch.checks import OptionError, check_choice, check_flag, check_int, check_number, check_text
from mcorec_torch.index.options import DatasetOptions, option_fields

NOT_FINITE = [float("nan"), float("inf"), -float("inf")]
NUMBER_OPTIONS = ["min_video_coverage", "min_duration", "max_duration", "merge_gap", "chunk_size"]


@pytest.mark.parametrize("name", NUMBER_OPTIONS)
@pytest.mark.parametrize("value", NOT_FINITE)
def test_dataset_options_refuse_nan_and_infinity_naming_the_option(name, value):
    with pytest.raises(OptionError, match=rf"^{name} must be a finite number.*got {value!r}") as info:
        DatasetOptions(**{name: value})
    assert info.value.option == name and info.value.owner is None
    assert isinstance(info.value, ValueError)


def test_every_dataset_option_error_names_its_option():
    wrong = {"crops": "mouth", "view": "side", "color": "bgr", "audio": "lapel", "missing_video": "skip",
             "min_video_coverage": 2.0, "min_duration": -1.0, "max_duration": 0.0, "merge_gap": -0.5,
             "on_error": "ignore", "label_dir": "", "frame_cache": "yes", "segments": "vad",
             "chunk_size": 0.0, "asd_exact_baseline": 1, "exclude": "session_00", "allow_empty": "yes",
             "lip_source": "drawn", "lip_dir": 3, "activity": "vad", "non_target": "nobody"}
    assert set(wrong) == {spec.name for spec, _ in option_fields()}
    for name, value in wrong.items():
        with pytest.raises(OptionError) as info:
            DatasetOptions(**{name: value})
        assert info.value.option == name, (name, str(info.value))
        assert str(info.value).startswith(f"{name} must be "), str(info.value)


def test_a_rule_across_options_names_one_of_them():
    with pytest.raises(OptionError, match="central view") as info:
        DatasetOptions(segments="asd", view="ego", crops="face")
    assert info.value.option == "view"


@pytest.mark.parametrize("value, message", [
    (True, "x must be a finite number >= 0 seconds, got True"),
    ("1", "x must be a finite number >= 0 seconds, got '1'"),
    (-0.5, "x must be >= 0 seconds, got -0.5"),
    (math.nan, "x must be a finite number >= 0 seconds, got nan"),
])
def test_check_number_messages(value, message):
    with pytest.raises(OptionError) as info:
        check_number("x", value, minimum=0.0, unit="seconds")
    assert str(info.value) == message


def test_check_number_bounds_and_owner():
    assert check_number("p", 1, minimum=0.0, maximum=1.0) == 1.0
    assert check_number("p", None, optional=True) is None
    with pytest.raises(OptionError, match=r"^Flip: p must be in \[0, 1\], got 1.5$") as info:
        check_number("p", 1.5, owner="Flip", minimum=0.0, maximum=1.0)
    assert (info.value.option, info.value.owner) == ("p", "Flip")
    with pytest.raises(OptionError, match=r"must be > 0 or None, got 0"):
        check_number("gap", 0, above=0.0, optional=True)


def test_check_int_choice_flag_text():
    assert check_int("n", 3, minimum=1) == 3
    for bad in (1.5, True, "2"):
        with pytest.raises(OptionError, match=r"^n must be an integer >= 1, got"):
            check_int("n", bad, minimum=1)
    with pytest.raises(OptionError, match=r"^n must be >= 1, got 0$"):
        check_int("n", 0, minimum=1)
    assert check_choice("c", "a", ("a", "b")) == "a"
    with pytest.raises(OptionError, match=r"^c must be one of \('a', 'b'\), got 'z'$"):
        check_choice("c", "z", ("a", "b"))
    assert check_flag("f", False) is False
    with pytest.raises(OptionError, match="f must be true or false, got 0"):
        check_flag("f", 0)
    with pytest.raises(OptionError, match="t must be a non-empty string, got ''"):
        check_text("t", "")
