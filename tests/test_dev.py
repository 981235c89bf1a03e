"""``dev.py test --fast``: the suite without the tests marked ``slow``; ``dev.py test`` runs all."""
import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_dev():
    spec = importlib.util.spec_from_file_location("dev", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fast_leaves_out_the_slow_tests_and_passes_the_rest_on():
    dev = load_dev()
    assert dev.pytest_args([]) == []
    assert dev.pytest_args(["-k", "index"]) == ["-k", "index"]
    assert dev.pytest_args(["--fast"]) == ["-m", "not slow"]
    assert dev.pytest_args(["--fast", "-k", "index", "-x"]) == ["-m", "not slow", "-k", "index", "-x"]
    # pytest keeps only the last -m: a user's marker expression is combined with ours, not dropped
    assert dev.pytest_args(["--fast", "-m", "not gpu", "-x"]) == ["-m", "not slow and (not gpu)", "-x"]
    assert "dev.py test --fast" in dev.__doc__


def test_the_slow_marker_is_registered_and_used():
    """The fast selection collects fewer tests than the whole suite, and more than none."""
    def collected(*args):
        result = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                                 "tests/commands", *args], cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
        return int(result.stdout.strip().splitlines()[-1].split()[0].split("/")[0])

    everything, fast = collected(), collected("-m", "not slow")
    assert 0 < fast < everything
