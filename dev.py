#!/usr/bin/env python3
"""Set up and run mcorec_torch on a machine that has only Python (>= 3.10) and pip.

    python3 dev.py demo     # create/reuse .venv, install pinned deps, run `mcorec-torch demo`
    python3 dev.py test     # create/reuse .venv, install pinned deps, run the whole test suite (as CI)
    python3 dev.py test --fast  # the same without the tests marked `slow` (pytest -m "not slow"):
                                # demo, training, multi-process and export-kill tests
    python3 dev.py train    # create/reuse .venv, train the demo AVSR model (configs/demo.yaml, ~6 min)
    python3 dev.py docs     # create/reuse .venv, serve the documentation site at http://127.0.0.1:8000
    python3 dev.py docs --build DIR  # build the site into DIR (default ./site) with --strict, as CI does
    python3 dev.py setup    # only the set-up
    python3 dev.py run CMD  # run CMD inside the environment, e.g. `python3 dev.py run mcorec-torch index DIR`

Arguments after ``test`` (or ``test --fast``) go to pytest, e.g. ``python3 dev.py test --fast -k index``.
The virtual environment lives in ./.venv (override with MCOREC_TORCH_VENV). It is reused
while requirements/constraints.txt and pyproject.toml are unchanged; a change reinstalls.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("MCOREC_TORCH_VENV", ROOT / ".venv"))
CONSTRAINTS = ROOT / "requirements" / "constraints.txt"
STAMP = VENV / ".mcorec_torch-installed"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def _say(message: str) -> None:
    print(f"[dev.py] {message}", flush=True)


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for path in (CONSTRAINTS, ROOT / "pyproject.toml"):
        digest.update(path.read_bytes())
    digest.update(str(ROOT).encode())
    return digest.hexdigest()


def setup() -> None:
    """Create the virtual environment if missing and install the pinned dependencies."""
    if sys.version_info < (3, 10):
        sys.exit(f"mcorec_torch needs Python >= 3.10, this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        _say(f"creating virtual environment in {VENV}")
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = _fingerprint()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    _say("installing pinned dependencies (first time: several minutes, ~5 GB for torch's CUDA build)")
    subprocess.run([str(PYTHON), "-m", "pip", "install", "--disable-pip-version-check", "-q",
                    "-c", str(CONSTRAINTS), "-e", f"{ROOT}[train,test,export,lightning,docs,viz,lips]"], check=True, stdin=subprocess.DEVNULL)
    STAMP.write_text(wanted + "\n")
    _say("environment ready")


def run(argv: list, timeout: "float | None" = None) -> int:
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", VIRTUAL_ENV=str(VENV))
    try:
        return subprocess.run(argv, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, timeout=timeout).returncode
    except subprocess.TimeoutExpired:
        print(f"[dev.py] {' '.join(argv)} ran past {timeout:.0f} s and was stopped", file=sys.stderr)
        return 1


def pytest_args(rest: list) -> list:
    """pytest's arguments for ``dev.py test REST``: ``--fast`` (the inner loop) becomes ``-m "not slow"``,
    every test but those marked slow in pyproject.toml's markers; the rest go through as given."""
    if "--fast" not in rest:
        return list(rest)
    rest = [arg for arg in rest if arg != "--fast"]
    marker = "not slow"
    if "-m" in rest[:-1]:  # pytest keeps only the last -m: fold the user's expression into ours
        at = rest.index("-m")
        marker = f"not slow and ({rest[at + 1]})"
        rest = rest[:at] + rest[at + 2:]
    return ["-m", marker, *rest]


def docs_args(rest: list) -> list:
    """mkdocs's arguments for ``dev.py docs REST``: ``--build [DIR]`` builds the site into DIR
    (default ./site) with ``--strict``, so a broken link or reference fails as in CI; anything
    else serves it, REST going to ``mkdocs serve`` (e.g. ``-a 127.0.0.1:8001``)."""
    if rest[:1] != ["--build"]:
        return ["serve", *rest]
    rest = rest[1:]
    named = bool(rest) and not rest[0].startswith("-")
    site = Path(rest[0]).resolve() if named else ROOT / "site"
    return ["build", "--strict", "--site-dir", str(site), *rest[named:]]


def main() -> int:
    command, rest = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("help", [])
    if command not in ("setup", "demo", "test", "train", "run", "docs"):
        print(__doc__)
        return 0 if command in ("help", "-h", "--help") else 2
    setup()
    if command == "setup":
        return 0
    if command == "demo":
        return run([str(BIN / "mcorec-torch"), "demo", *rest])
    if command == "train":  # extra arguments go to the script, e.g. --resume or --set train.epochs=2
        return run([str(PYTHON), "scripts/train_avsr.py", "--config", "configs/demo.yaml", *rest])
    if command == "run":
        return run(rest)
    if command == "docs":  # mkdocs.yml; NO_MKDOCS_2_WARNING quiets mkdocs-material's banner about MkDocs 2
        os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
        return run([str(PYTHON), "-m", "mkdocs", *docs_args(rest)])
    # the suite takes about 4.5 minutes on 2 cores (docs/development.md); a hang must fail well inside CI's 90 minutes
    code = run([str(PYTHON), "-m", "pytest", *pytest_args(rest)], timeout=float(os.environ.get("MCOREC_TORCH_TEST_TIMEOUT", 2400)))
    if code == 5:
        print("[dev.py] pytest selected no tests: that is a failure, not a pass", file=sys.stderr)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
