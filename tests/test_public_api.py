"""The package-level public names. (What the README and docs/ show is checked in
tests/test_docs.py: every name they import or write as ``mcorec_torch.x.y`` resolves, and the
options table equals ``DatasetOptions``.)"""
import pytest


def test_package_level_names():
    import mcorec_torch

    for name in mcorec_torch.__all__:
        assert getattr(mcorec_torch, name) is not None, name
    with pytest.raises(AttributeError):
        mcorec_torch.NoSuchName  # noqa: B018
