"""The package's version as installed: what ``mcorec-torch --version`` prints and the demo's
manifest records."""
from __future__ import annotations

#: The distribution (pyproject.toml's ``name``) whose version is the package's.
DISTRIBUTION = "mcorec_torch"


def package_version() -> str:
    """The installed version of the package (``importlib.metadata``), or ``"unknown"`` when it
    runs from a source tree that is not installed."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown"
