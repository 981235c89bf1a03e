"""A misspelled transform name or argument in a config (SPEC §9): the library's message naming
the key, the argument and what is allowed, never Python's ``__init__() got an unexpected keyword``."""
import pytest
import yaml

from mcorec_torch.config import ConfigError, load_config


def load_with_transform(tmp_path, transform):
    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump({"splits": {"train": {"roots": ["d"], "transforms": [transform]}}}))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return path, info.value


def test_a_misspelled_transform_name_names_the_closest(tmp_path):
    path, error = load_with_transform(tmp_path, {"name": "random_crp", "size": 88})
    assert error.key == "splits.train.transforms[0].name"
    assert str(error).startswith(f"{path}: splits.train.transforms[0].name: unknown transform 'random_crp'; known: ")
    assert str(error).endswith("(did you mean random_crop?)")


@pytest.mark.parametrize("transform, argument, message", [
    ({"name": "random_crop", "sise": 88}, "sise",
     "transform 'random_crop' has no argument 'sise'; its arguments: size (did you mean size?)"),
    ({"name": "noise", "snr": [5, 10]}, "snr",
     "transform 'noise' has no argument 'snr'; its arguments: snr_db, p (did you mean snr_db?)"),
    ({"name": "gray", "p": 0.5}, "p", "transform 'gray' has no argument 'p'; it takes no arguments"),
])
def test_a_misspelled_transform_argument_names_it_and_the_allowed_ones(tmp_path, transform, argument, message):
    path, error = load_with_transform(tmp_path, transform)
    assert error.key == f"splits.train.transforms[0].{argument}"
    assert str(error) == f"{path}: splits.train.transforms[0].{argument}: {message}"
    assert "__init__" not in str(error) and "unexpected keyword" not in str(error)


def test_a_bad_transform_value_keeps_the_transforms_own_message(tmp_path):
    path, error = load_with_transform(tmp_path, {"name": "hflip", "p": 2})
    assert str(error).startswith(f"{path}: splits.train.transforms[0]: HorizontalFlip: p must be in [0, 1]")
