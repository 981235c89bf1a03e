"""Synthetic splits written once per test run (session-scoped), shared read-only by tests."""
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

from mcorec_torch import synthetic


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """Keep the library's default cache out of the user's home during tests."""
    os.environ["MCOREC_TORCH_CACHE"] = str(tmp_path_factory.mktemp("default-cache"))


@pytest.fixture(scope="session")
def dev_split(tmp_path_factory):
    """A 2-session dev split (x264 defaults: B-frames, keyint 250) and its plans by name."""
    root = tmp_path_factory.mktemp("data") / "dev"
    specs = synthetic.make_split(root, "dev", num_sessions=2, seed=0)
    return root, {s.name: s for s in specs}


@pytest.fixture(scope="session")
def dev_split_without_central(dev_split, tmp_path_factory):
    """The same dev split as the ``*_without_central_videos`` download: no central_video.mp4."""
    root, specs = dev_split
    copy = tmp_path_factory.mktemp("nocentral") / "dev"
    shutil.copytree(root, copy)
    for video in copy.glob("*/central_video.mp4"):
        video.unlink()
    return copy, specs


@pytest.fixture
def dev_copy(dev_split, tmp_path):
    """A writable copy of the dev split (``tmp_path / "dev"``), for planting faults."""
    root, _ = dev_split
    copy = tmp_path / "dev"
    shutil.copytree(root, copy)
    return copy


@pytest.fixture(scope="session")
def train_split(tmp_path_factory):
    """A 1-session train split with ego videos, ego crops and lapel audio."""
    root = tmp_path_factory.mktemp("data") / "train"
    specs = synthetic.make_split(root, "train", num_sessions=1, seed=1)
    return root, {s.name: s for s in specs}


@pytest.fixture
def worker_error():
    """``worker_error(loader)``: the exception iterating ``loader`` raises, after its worker
    processes are shut down (a failed iterator left to the garbage collector, held alive by the
    traceback, shuts its workers down at a random later point and can break other tests)."""
    def run(loader):
        iterator = iter(loader)
        try:
            for _ in iterator:
                pass
        except Exception as exc:  # noqa: BLE001 - returned to the test to inspect
            exc.__traceback__ = None
            return exc
        finally:
            shutdown = getattr(iterator, "_shutdown_workers", None)
            if shutdown is not None:
                shutdown()
        raise AssertionError("iterating the loader raised nothing")
    return run


def command_line_program():
    """How a test runs ``mcorec-torch`` in a subprocess: the installed script beside this
    Python, else ``python -m mcorec_torch.cli``."""
    script = Path(sys.executable).with_name("mcorec-torch")
    return [str(script)] if script.exists() else [sys.executable, "-m", "mcorec_torch.cli"]


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory):
    """``mcorec-torch demo`` run once as a new user runs it: in an empty working directory
    (``workdir``, so it writes ``workdir/data-bin/demo``), its temporary folder pointed at an
    empty ``tmpdir`` (``TMPDIR``). Holds ``workdir``, ``tmpdir``, ``env`` (for more commands
    there), ``program`` (how to call ``mcorec-torch``) and ``result`` (the completed process).
    Only tests marked slow use it (about 15-30 s)."""
    workdir = tmp_path_factory.mktemp("newcomer")
    tmpdir = tmp_path_factory.mktemp("tmpdir")
    env = dict(os.environ, TMPDIR=str(tmpdir), PYTHONUNBUFFERED="1",
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    program = command_line_program()
    result = subprocess.run([*program, "demo"], cwd=workdir, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    return types.SimpleNamespace(workdir=workdir, tmpdir=tmpdir, env=env, program=program, result=result)
