"""MCoRecDataset spells its options as typed keyword-only parameters (type checkers and editors see
them) that equal DatasetOptions field for field: names, order, defaults, types and choices."""
import inspect
import typing
from pathlib import Path

import pytest

import mcorec_torch
from mcorec_torch import MCoRecDataset
from mcorec_torch.index.options import DatasetOptions, option_fields


def option_parameters():
    parameters = inspect.signature(MCoRecDataset.__init__).parameters
    names = [spec.name for spec, _ in option_fields()]
    return parameters, names


def test_the_dataset_parameters_equal_the_options_field_for_field():
    parameters, names = option_parameters()
    listed = list(parameters)
    assert listed[:2] == ["self", "roots"]
    assert listed[2:2 + len(names)] == names  # same names, same order, right after roots
    hints = typing.get_type_hints(MCoRecDataset.__init__)
    option_hints = typing.get_type_hints(DatasetOptions)
    for spec, info in option_fields():
        parameter = parameters[spec.name]
        assert parameter.kind is inspect.Parameter.KEYWORD_ONLY, spec.name
        assert parameter.default == spec.default and type(parameter.default) is type(spec.default), spec.name
        assert hints[spec.name] == option_hints[spec.name], spec.name
        if info.choices is not None:
            hint = hints[spec.name]
            if spec.default is None:  # an option that may be off: Optional[Literal[...]]
                assert typing.get_origin(hint) is typing.Union and type(None) in typing.get_args(hint), spec.name
                hint = next(arg for arg in typing.get_args(hint) if arg is not type(None))
            assert typing.get_origin(hint) is typing.Literal, spec.name
            assert typing.get_args(hint) == info.choices, spec.name


def test_no_catch_all_keywords_and_unknown_options_are_a_type_error(tmp_path):
    parameters, _ = option_parameters()
    assert all(p.kind is not inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    with pytest.raises(TypeError, match="crop"):
        MCoRecDataset(tmp_path, crop="lip")


def test_a_bad_option_value_is_refused_before_any_file_is_read(tmp_path):
    with pytest.raises(ValueError, match=r"^min_duration must be a finite number"):
        MCoRecDataset(tmp_path / "does-not-exist", min_duration=float("nan"))


def test_the_package_ships_its_type_information():
    assert (Path(mcorec_torch.__file__).parent / "py.typed").is_file()
