"""Fixtures of the `check` tests: the dev split with every planted fault."""
import pytest

from planted import plant_faults


@pytest.fixture(scope="session")
def faulty(dev_split, tmp_path_factory):
    """A copy of the dev split with every fault of ``planted.PROBLEMS``, ``planted.NOTES`` and
    ``planted.DEEP_ONLY`` (shared read-only by the tests)."""
    root, _ = dev_split
    return plant_faults(root, tmp_path_factory.mktemp("faulty") / "dev")
