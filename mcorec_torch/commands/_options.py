"""The SPEC §4 options as command-line flags, derived from :class:`~mcorec_torch.index.DatasetOptions`
so that every subcommand that reads segments takes the same flags with the same defaults."""
from __future__ import annotations

import argparse
import dataclasses
from typing import Any, Dict, Optional

from ..index.options import FOLDER, DatasetOptions, check_option, option_fields

_METAVARS = {"seconds": "SECONDS", "fraction": "FRACTION"}
_LIST_METAVAR = "SESSION[/SPEAKER]"


def add_dataset_options(parser: argparse.ArgumentParser, *, cache_dir: bool = True,
                        defaults: Optional[Dict[str, Any]] = None) -> None:
    """``--crops``, ``--view``, ... (one flag per :class:`DatasetOptions` field, with its help,
    allowed values and default) and ``--cache-dir``. ``defaults``: a subcommand's own defaults
    for some options (shown in ``--help`` too)."""
    group = parser.add_argument_group("segment options (SPEC §4; the same for every subcommand)")
    defaults = dict(defaults or {})
    for spec, info in option_fields():
        flag = "--" + spec.name.replace("_", "-")
        default = defaults.pop(spec.name, spec.default)
        kwargs: Dict[str, Any] = {"default": default, "dest": spec.name}
        shown = default
        if isinstance(spec.default, bool):
            kwargs["action"] = argparse.BooleanOptionalAction
        elif isinstance(spec.default, tuple):  # a list option: the flag is repeated, once per item
            kwargs.update(action="append", default=list(default), type=_list_item(spec.name, spec.default, info),
                          metavar=_LIST_METAVAR)
            shown = ", ".join(default) or "none"
        elif info.choices:
            kwargs["choices"] = info.choices
        elif isinstance(spec.default, str):
            kwargs["metavar"] = "NAME"
        elif info.unit == FOLDER:
            kwargs["metavar"] = "DIR"
        else:
            kwargs["type"] = _number(spec.name, spec.default, info)
            kwargs["metavar"] = _METAVARS.get(info.unit or "", "NUMBER")
        kwargs["help"] = f"{info.help} ({'repeatable; ' if kwargs.get('action') == 'append' else ''}default: {shown})"
        group.add_argument(flag, **kwargs)
    if defaults:
        raise TypeError(f"defaults for unknown options {sorted(defaults)}")
    if cache_dir:
        group.add_argument("--cache-dir", default=None,
                           help="index and audio cache (default: $MCOREC_TORCH_CACHE or ~/.cache/mcorec_torch)")


def _number(name: str, default: Any, info: Any) -> Any:
    """argparse ``type`` of a numeric option: a float that :func:`check_option` accepts, else
    a usage error naming the flag (exit 2, no traceback)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        try:
            check_option(name, value, default, info)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return value
    parse.__name__ = "number"
    return parse


def _list_item(name: str, default: Any, info: Any) -> Any:
    """argparse ``type`` of one item of a list option (``--exclude session_03/spk_1``): checked
    as :func:`check_option` checks the list, else a usage error naming the flag."""
    def parse(text: str) -> str:
        try:
            check_option(name, [text], default, info)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return text
    parse.__name__ = "name"
    return parse


def dataset_options(args: argparse.Namespace) -> DatasetOptions:
    """The validated options of parsed :func:`add_dataset_options` flags. Each flag's value is
    checked by argparse; options that clash (e.g. ``--segments asd --view ego``) raise
    :class:`~mcorec_torch.config.ConfigError` (the command line exits 2 with the message)."""
    from ..config.schema import ConfigError

    try:
        return DatasetOptions(**{spec.name: getattr(args, spec.name) for spec, _ in option_fields()})
    except ValueError as exc:
        raise ConfigError("command line", "", str(exc)) from None


def dataset_kwargs(args: argparse.Namespace) -> Dict[str, Any]:
    """``MCoRecDataset`` keyword arguments from parsed :func:`add_dataset_options` flags
    (validated as :func:`dataset_options` validates them)."""
    kwargs: Dict[str, Any] = dataclasses.asdict(dataset_options(args))
    kwargs["cache_dir"] = getattr(args, "cache_dir", None)
    return kwargs
