"""The README's examples work on what ``mcorec-torch demo`` writes, as a new user types them.

Each line of the README's ``bash`` blocks and each of its ``python`` blocks runs in the
folder where the demo ran (it plays the repository root: the demo wrote ``data-bin/demo``
there) and must exit 0; plain ``mcorec-torch demo`` is the run that wrote the folder. Nothing in
an example is rewritten, with one documented exception: ``python3 dev.py demo ARGS`` and
``python3 dev.py run CMD`` run what dev.py runs once ./.venv is ready (``mcorec-torch demo
ARGS``, ``CMD``) in the environment these tests run in. A line whose
comment ends with ``[skip: REASON]`` (a python block: its first line) is not run, because it
takes minutes or needs what such a line makes (docs/development.md); its paths are still
checked.

Every data path of the README's and the guides' examples (``data-bin/...``, ``data/...``,
``/tmp/...`` in ``bash`` and ``python`` blocks) must be one the demo wrote: the examples use
the demo's folder, so a newcomer can run each of them as it stands.
"""
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCUMENTS = [README, *sorted((ROOT / "docs").glob("*.md"))]

#: Languages of the fenced blocks that hold examples, by how they run.
SHELL_BLOCKS = ("bash", "shell", "sh")
PYTHON_BLOCKS = ("python",)
#: The marker of an example the test does not run: ``# ... [skip: takes minutes]``.
SKIP_MARKER = re.compile(r"\[skip: ([^\]]+)\]\s*$")
#: A data path in an example: what a user has to have for it to run.
DATA_PATH = re.compile(r"(?<![\w./$-])((?:data-bin|data|/tmp)/[\w./-]*)")
#: Where every data path of an example must lead: the demo's folder.
DEMO_FOLDER = "data-bin/demo"


@dataclass
class Example:
    document: Path
    line: int  # 1-based line of the README where it starts
    language: str
    text: str
    skip: Optional[str]  # the reason of its [skip: ...] marker

    @property
    def where(self) -> str:
        return f"{self.document.relative_to(ROOT)}:{self.line}"


def fenced_blocks(document: Path):
    """``(language, line of its first text line, text)`` of every fenced block of ``document``."""
    language, start, lines = None, 0, []
    for number, line in enumerate(document.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith("```"):
            if language is None:
                language, start, lines = line[3:].strip(), number + 1, []
            else:
                yield language, start, "\n".join(lines)
                language = None
        elif language is not None:
            lines.append(line)


def examples(document: Path) -> List[Example]:
    """The shell commands (one a line; ``\\`` continues a line) and python blocks of ``document``."""
    found = []
    for language, start, text in fenced_blocks(document):
        if language in PYTHON_BLOCKS:
            marker = SKIP_MARKER.search(text.splitlines()[0]) if text else None
            found.append(Example(document, start, language, text, marker and marker.group(1)))
        elif language in SHELL_BLOCKS:
            pending, first = "", start
            for number, line in enumerate(text.splitlines(), start):
                if not pending:
                    first = number
                pending += line
                if pending.endswith("\\"):
                    pending = pending[:-1] + " "
                    continue
                if pending.strip() and not pending.strip().startswith("#"):
                    marker = SKIP_MARKER.search(pending)
                    found.append(Example(document, first, language, pending.strip(), marker and marker.group(1)))
                pending = ""
    return found


def as_run_here(command: str) -> str:
    """``command`` as it runs here: ``python3 dev.py demo ARGS`` is ``mcorec-torch demo ARGS`` and
    ``python3 dev.py run CMD`` is ``CMD`` (dev.py's ``main`` once ./.venv is ready); anything
    else as written."""
    words = shlex.split(command, comments=True)
    if words[:2] != ["python3", "dev.py"]:
        return command
    if words[2:3] == ["demo"]:
        return shlex.join(["mcorec-torch", *words[2:]])
    if words[2:3] == ["run"]:
        return shlex.join(words[3:])
    raise AssertionError(f"{command!r}: dev.py {' '.join(words[2:3])} is not run here; mark it [skip: REASON]")


README_EXAMPLES = examples(README)


def test_the_readme_has_examples_of_both_kinds_and_runs_most():
    kinds = {example.language for example in README_EXAMPLES}
    assert kinds == {"bash", "python"}
    run = [example for example in README_EXAMPLES if example.skip is None]
    assert len(run) >= len(README_EXAMPLES) / 2, [e.text for e in README_EXAMPLES if e.skip]


@pytest.mark.slow  # runs the demo (once, shared) and the README's commands on it
@pytest.mark.parametrize("example", README_EXAMPLES, ids=lambda example: f"README:{example.line}")
def test_readme_example_runs_on_the_demo_folder(example, demo_run):
    if example.skip is not None:
        pytest.skip(f"{example.where} is marked [skip: {example.skip}]")
    if example.language in PYTHON_BLOCKS:
        argv = [sys.executable, "-c", example.text]
    else:
        argv = ["bash", "-c", as_run_here(example.text)]
    if shlex.split(argv[-1], comments=True) == ["mcorec-torch", "demo"]:
        result = demo_run.result  # the fixture ran this very command in this folder
    else:
        result = subprocess.run(argv, cwd=demo_run.workdir, env=demo_run.env, capture_output=True, text=True,
                                timeout=600)
    assert result.returncode == 0, f"{example.where}: {example.text}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert "Traceback" not in result.stderr, result.stderr
    assert list(demo_run.tmpdir.iterdir()) == [], "an example left files in the temporary folder"


def is_pattern(path: str) -> bool:
    """Whether ``path`` names a pattern, not a file: a part in capitals (``.../SESSION/output/``)."""
    return any(re.fullmatch(r"[A-Z][A-Z_]*", part) for part in path.split("/"))


def data_paths():
    """``(example, path)`` of every data path in the README's and the guides' examples."""
    for document in DOCUMENTS:
        for example in examples(document):
            for path in DATA_PATH.findall(example.text):
                if not is_pattern(path):
                    yield example, path.rstrip(".")


def in_demo_folder(path: str) -> bool:
    return path == DEMO_FOLDER or path.startswith(f"{DEMO_FOLDER}/")


def test_every_example_data_path_is_in_the_demo_folder():
    wrong = [f"{example.where}: {path}" for example, path in data_paths() if not in_demo_folder(path)]
    assert wrong == [], f"examples must use the demo's folder ({DEMO_FOLDER}/...): {wrong}"


@pytest.mark.slow  # runs the demo (once, shared)
def test_every_example_data_path_exists_after_the_demo(demo_run):
    missing = sorted({f"{example.where}: {path}" for example, path in data_paths()
                      if in_demo_folder(path) and not (demo_run.workdir / path).exists()})
    assert missing == []
