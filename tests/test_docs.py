"""The README and the guides in docs/: one page of README, links that lead somewhere, names that
import from where the docs say, and the options table equal to ``DatasetOptions``.

Run as a script to write the generated options table into docs/options.md again:

    python3 dev.py run python tests/test_docs.py --write-options
"""
import ast as python_ast
import importlib
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
OPTIONS_DOC = DOCS / "options.md"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
BEGIN, END = "<!-- options:begin -->", "<!-- options:end -->"
REGENERATE = "python3 dev.py run python tests/test_docs.py --write-options"
#: The two commands a newcomer runs; `.ci/run` runs the second.
NEWCOMER_COMMANDS = ("python3 dev.py demo", "python3 dev.py test")


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def without_code(text: str) -> str:
    """``text`` without fenced code blocks and inline code (links inside them are not links)."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    return re.sub(r"`[^`\n]*`", "", text)


def options_block() -> str:
    """What docs/options.md must hold: the generated table between its markers."""
    from mcorec_torch.index.options import options_markdown

    return f"{BEGIN}\n\n{options_markdown()}\n{END}"


def write_options() -> None:
    text = read(OPTIONS_DOC)
    start, end = text.index(BEGIN), text.index(END) + len(END)
    OPTIONS_DOC.write_text(text[:start] + options_block() + text[end:], encoding="utf-8")


# --- the README is one page for a newcomer -------------------------------------------------

def test_readme_fits_on_one_page():
    lines = read(README).count("\n")
    assert lines <= 200, f"README.md has {lines} lines; move detail into a guide in docs/ (at most 200)"


def test_readme_shows_the_two_commands_early_in_a_code_block():
    head = "\n".join(read(README).splitlines()[:60])
    blocks = "\n".join(re.findall(r"^```.*?^```", head, flags=re.M | re.S))
    for command in NEWCOMER_COMMANDS:
        assert re.search(rf"^{re.escape(command)}(\s|$)", blocks, re.M), \
            f"README.md must show `{command}` in a ``` block within its first 60 lines"


def test_ci_runs_the_readme_test_command():
    assert NEWCOMER_COMMANDS[1] in read(ROOT / ".ci" / "run")


def test_every_guide_is_linked_from_the_readme():
    linked = {Path(target).name for target in re.findall(r"\]\(docs/([^)#\s]+)", read(README))}
    missing = sorted(p.name for p in DOCS.glob("*.md") if p.name not in linked)
    assert not missing, f"README.md does not link the guides {missing}"


# --- links -------------------------------------------------------------------------------

def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set:
    found, seen = set(), {}
    for heading in re.findall(r"^#{1,6} (.+)$", re.sub(r"^```.*?^```", "", read(path), flags=re.M | re.S), re.M):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def relative_links():
    links = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)\s]+)\)", without_code(read(page))):
            if not re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto: ...
                links.append((page.relative_to(ROOT).as_posix(), target))
    return links


def test_the_docs_have_links_to_check():
    assert len(relative_links()) >= 20


@pytest.mark.parametrize("page,target", relative_links())
def test_relative_link_points_to_an_existing_file(page, target):
    path_part, _, anchor = target.partition("#")
    source = ROOT / page
    destination = (source.parent / path_part).resolve() if path_part else source
    assert destination.exists(), f"{page}: link {target!r} points to a missing file"
    if anchor and destination.suffix == ".md":
        assert anchor in anchors(destination), \
            f"{page}: link {target!r}: {destination.name} has no heading with anchor #{anchor}"


# --- the options table is generated -------------------------------------------------------

def test_options_doc_holds_the_generated_table():
    text = read(OPTIONS_DOC)
    assert text.count(BEGIN) == 1 and text.count(END) == 1, f"docs/options.md needs one {BEGIN} and one {END}"
    assert options_block() in text, (
        f"docs/options.md's options table differs from DatasetOptions; regenerate it with: {REGENERATE}")


def test_options_doc_documents_every_option_with_its_default():
    """The docs document every SPEC §4 option with the default DatasetOptions declares
    (formerly checked on the README's arguments table)."""
    from mcorec_torch.index.options import option_fields

    section = read(OPTIONS_DOC).split(BEGIN, 1)[1].split(END, 1)[0]
    documented = {}
    for names, defaults in re.findall(r"^\| ((?:`\w+`(?:, )?)+) \| ([^|]*) \|", section, re.M):
        keys = re.findall(r"`(\w+)`", names)
        values = [v.strip().strip("`") for v in defaults.split(",")] if defaults.strip() else [""] * len(keys)
        documented.update(zip(keys, values))
    for spec, _ in option_fields():
        assert spec.name in documented, f"docs/options.md's options table lacks {spec.name}"
        assert python_ast.literal_eval(documented[spec.name]) == spec.default, spec.name


# --- every name the docs show imports from where they say (moved from test_public_api) ----

def all_text() -> str:
    return "\n".join(read(page) for page in PAGES)


def from_imports():
    """``from mcorec_torch[.x] import a, b`` lines of the code blocks of the README and docs/."""
    found = []
    for module, names in re.findall(r"^\s*from (mcorec_torch[\w.]*) import ([\w, ]+)", all_text(), re.M):
        found += [(module, name.strip()) for name in names.split(",") if name.strip()]
    return sorted(set(found))


def dotted_names():
    """``mcorec_torch.x.y`` written in backticks (with or without a call), outside file paths."""
    names = set()
    for page in PAGES:
        prose = re.sub(r"^```.*?^```", "", read(page), flags=re.M | re.S)  # inline code only
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


def test_the_docs_name_enough_to_check():
    assert len(from_imports()) >= 8 and len(dotted_names()) >= 8


@pytest.mark.parametrize("module,name", from_imports())
def test_docs_from_import(module, name):
    assert getattr(importlib.import_module(module), name) is not None


@pytest.mark.parametrize("dotted", dotted_names())
def test_docs_dotted_name(dotted):
    assert resolve(dotted) is not None


if __name__ == "__main__":
    if sys.argv[1:] != ["--write-options"]:
        sys.exit(f"usage: {REGENERATE}")
    write_options()
    print(f"wrote the options table into {OPTIONS_DOC.relative_to(ROOT)}")
