"""A split's ``select`` section (SPEC §9): the split's dataset is a view (``MCoRecDataset.select``,
a held-out part), the guide's example builds, and bad keys and names are errors naming the key."""
import dataclasses
import inspect
import re
from pathlib import Path

import pytest
import yaml

from mcorec_torch import MCoRecDataset
from mcorec_torch.config import ConfigError, build_dataloader, parse_config
from mcorec_torch.config.schema import HeldOutConfig, SelectConfig

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "research.md"


def guide_config():
    """The YAML example of the guide's "Selecting and describing" section."""
    section = GUIDE.read_text(encoding="utf-8").split("## Selecting and describing", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```yaml\n(.*?)```", section, flags=re.S)
    return yaml.safe_load(block)


def with_roots(data, root, cache):
    data = {**data, "data": {"cache_dir": str(cache)}, "loader": {"num_workers": 0}}
    data["splits"] = {name: {**split, "roots": [str(root)]} for name, split in data["splits"].items()}
    return data


def test_the_select_section_takes_what_select_takes():
    taken = set(inspect.signature(MCoRecDataset.select).parameters) - {"self", "where"}  # where: Python only
    assert {f.name for f in dataclasses.fields(SelectConfig)} - {"held_out"} == taken
    split_by = inspect.signature(MCoRecDataset.split_by_session).parameters
    assert set(split_by) - {"self"} <= {f.name for f in dataclasses.fields(HeldOutConfig)}


def test_the_guides_example_builds_two_parts_without_a_shared_session(dev_split, tmp_path):
    root, _ = dev_split
    config = parse_config(with_roots(guide_config(), root, tmp_path))
    train, valid = build_dataloader(config, "train"), build_dataloader(config, "valid")
    assert set(train.dataset.segment_session).isdisjoint(valid.dataset.segment_session)
    whole = MCoRecDataset(root, cache_dir=tmp_path, **{k: v for k, v in dataclasses.asdict(config.dataset).items()})
    selected = whole.select(**{k: v for k, v in dataclasses.asdict(config.split("train").select).items()
                               if k != "held_out" and v is not None})
    assert len(train.dataset) + len(valid.dataset) == len(selected) < len(whole)
    held = config.split("valid").select.held_out
    rest, held_out = selected.split_by_session(held.fraction, held.seed)
    assert [valid.dataset.segment_id(i) for i in range(len(valid.dataset))] == \
        [held_out.segment_id(i) for i in range(len(held_out))]
    seen = [i for batch in train for i in batch["id"]]
    assert sorted(seen) == sorted(rest.segment_id(i) for i in range(len(rest)))


@pytest.mark.parametrize("select,key,fragment", [
    ({"session": ["x"]}, "splits.train.select.session", "unknown key; known keys here: conversations, held_out"),
    ({"min_duration": -1.0}, "splits.train.select.min_duration", "min_duration must be >= 0 seconds"),
    ({"speakers": ["spk_0"]}, "splits.train.select.speakers", "SESSION/SPEAKER"),
    ({"sessions": "session_00"}, "splits.train.select.sessions", "expected a list of strings"),
    ({"held_out": {"fraction": 1.0}}, "splits.train.select.held_out.fraction", "fraction must be > 0 and < 1"),
    ({"held_out": {"by": "room"}}, "splits.train.select.held_out.by", "expected 'session' or 'speaker'"),
    ({"held_out": {"part": "test"}}, "splits.train.select.held_out.part", "expected 'rest' or 'held_out'"),
])
def test_a_bad_select_section_names_the_key(select, key, fragment):
    with pytest.raises(ConfigError) as raised:
        parse_config({"splits": {"train": {"roots": ["d"], "select": select}}}, "exp.yaml")
    assert str(raised.value).startswith(f"exp.yaml: {key}: ") and fragment in str(raised.value)


@pytest.mark.parametrize("select,key,fragment", [
    ({"sessions": ["session_7"]}, "splits.train.select.sessions", "no session 'session_7'"),
    ({"speakers": ["session_00/spk_9"]}, "splits.train.select.speakers", "has no speaker 'spk_9'"),
    ({"min_duration": 500.0}, "splits.train.select", "0 of"),
    ({"sessions": ["session_00"], "held_out": {"fraction": 0.5}}, "splits.train.select.held_out.fraction",
     "at least 2 sessions"),
])
def test_names_that_match_nothing_are_errors_naming_the_key_when_built(dev_split, tmp_path, select, key, fragment):
    root, _ = dev_split
    config = parse_config({"data": {"cache_dir": str(tmp_path)}, "loader": {"num_workers": 0},
                           "splits": {"train": {"roots": [str(root)], "select": select}}}, "exp.yaml")
    with pytest.raises(ConfigError) as raised:
        build_dataloader(config, "train")
    assert str(raised.value).startswith(f"exp.yaml: {key}: ") and fragment in str(raised.value)
