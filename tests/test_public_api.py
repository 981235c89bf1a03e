"""Every public name the README shows imports from where the README says."""
import importlib
import re
from pathlib import Path

import pytest

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def from_imports():
    """``from mcorec_torch[.x] import a, b`` lines of the README's code blocks."""
    found = []
    for module, names in re.findall(r"^\s*from (mcorec_torch[\w.]*) import ([\w, ]+)", README, re.M):
        found += [(module, name.strip()) for name in names.split(",") if name.strip()]
    return sorted(set(found))


def dotted_names():
    """``mcorec_torch.x.y`` written in backticks (with or without a call), outside file paths."""
    names = set()
    prose = re.sub(r"^```.*?^```", "", README, flags=re.M | re.S)  # inline code only
    for text in re.findall(r"`([^`\n]+)`", prose):
        match = re.match(r"(mcorec_torch(?:\.\w+)+)", text)
        if match and "/" not in text:
            names.add(match.group(1))
    return sorted(names)


def resolve(dotted):
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            value = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            value = getattr(value, attribute)
        return value
    raise ModuleNotFoundError(dotted)


def test_the_readme_names_enough_to_check():
    assert len(from_imports()) >= 8 and len(dotted_names()) >= 8


@pytest.mark.parametrize("module,name", from_imports())
def test_readme_from_import(module, name):
    assert getattr(importlib.import_module(module), name) is not None


@pytest.mark.parametrize("dotted", dotted_names())
def test_readme_dotted_name(dotted):
    assert resolve(dotted) is not None


def test_package_level_names():
    import mcorec_torch

    for name in mcorec_torch.__all__:
        assert getattr(mcorec_torch, name) is not None, name
    with pytest.raises(AttributeError):
        mcorec_torch.NoSuchName  # noqa: B018


def test_readme_arguments_table_matches_the_options_declaration():
    """The README documents every SPEC §4 option with the default DatasetOptions declares."""
    import ast as python_ast

    from mcorec_torch.index.options import option_fields

    section = README.split("### Arguments (SPEC §4)", 1)[1].split("\n### ", 1)[0]
    documented = {}
    for names, defaults in re.findall(r"^\| ((?:`\w+`(?:, )?)+) \| ([^|]*) \|", section, re.M):
        keys = re.findall(r"`(\w+)`", names)
        values = [v.strip().strip("`") for v in defaults.split(",")] if defaults.strip() else [""] * len(keys)
        documented.update(zip(keys, values))
    for spec, _ in option_fields():
        assert spec.name in documented, f"README's arguments table lacks {spec.name}"
        assert python_ast.literal_eval(documented[spec.name]) == spec.default, spec.name
