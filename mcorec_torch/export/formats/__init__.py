"""The export formats (SPEC §7), one module of this package each, and their registry.

A format is an :class:`~mcorec_torch.export.formats.base.ExportFormat`: it writes one session's
segments (its :class:`~mcorec_torch.export.formats.base.SessionWriter`), names the files a
session writes (so a resumed run finds what a killed one left), writes the format's own final
files from every session's records (the merge), reads its samples back and verifies them. Everything
else (``ExportSettings``, the merge, ``--verify``, :func:`~mcorec_torch.export.read_export`, the
``--format`` choices of ``mcorec-torch export``) asks this registry.

Adding a format: write ``formats/<name>.py`` defining a subclass of ``ExportFormat`` with
``name = "<name>"`` and ``FORMAT = <Class>()``, and add ``"<name>": "<name>"`` to
:data:`REGISTRY`. This module imports the format modules on first use only (so the command
line's ``--help`` stays fast).
"""
from __future__ import annotations

import importlib
from typing import Any, Dict, Tuple

from ...checks import check_choice

#: Format name (``--format``, ``ExportSettings.format``) -> the module of this package defining it.
REGISTRY: Dict[str, str] = {
    "mp4": "mp4",
    "wds": "wds",
    "lhotse": "lhotse",
    "hf": "hf",
    "kaldi": "kaldi",
}
#: The export formats, in the order ``--help`` lists them.
FORMATS: Tuple[str, ...] = tuple(REGISTRY)
#: How frames are stored (``ExportSettings.video``, ``--video``): an encoded ``"mp4"`` (with the
#: audio) or raw uint8 ``"npy"`` arrays (formats whose ``raw_video`` is true).
VIDEO_CHOICES: Tuple[str, ...] = ("mp4", "npy")


def get_format(name: str) -> Any:
    """The :class:`~mcorec_torch.export.formats.base.ExportFormat` registered as ``name`` (its
    module imported on first use; typed ``Any`` as this module imports none of them);
    :class:`~mcorec_torch.checks.OptionError` naming the choices for an unknown name."""
    check_choice("format", name, FORMATS)
    return importlib.import_module(f"{__name__}.{REGISTRY[name]}").FORMAT


__all__ = ["REGISTRY", "FORMATS", "VIDEO_CHOICES", "get_format"]
