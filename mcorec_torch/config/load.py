"""Reading a config: YAML and ``KEY=VALUE`` overrides through OmegaConf onto the schema of
:mod:`mcorec_torch.config.schema`, every problem a :class:`ConfigError` naming file and key.

Steps: (1) YAML → plain data, overrides merged as an OmegaConf dotlist; (2) :func:`_check_types`,
a strict type check of the raw values (OmegaConf alone would turn ``"yes"`` into True, ``5``
into ``"5"`` and let a list pass as an item of ``List[str]``; interpolations are left for after
resolution); (3) merge onto ``OmegaConf.structured(ExperimentConfig)`` (defaults, unknown keys,
missing keys) and ``OmegaConf.to_object`` (``${...}`` interpolations resolved), OmegaConf's
errors translated by :func:`_translate`; (4) closed choices, the dataset options (through
:class:`~mcorec_torch.index.options.DatasetOptions`) and the transforms (by building them).
"""
from __future__ import annotations

import dataclasses
import difflib
import inspect
import io
import os
import re
import typing
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import yaml
from omegaconf import OmegaConf
from omegaconf.errors import (ConfigKeyError, GrammarParseError, InterpolationKeyError, InterpolationResolutionError,
                              MissingMandatoryValue, OmegaConfBaseException, ValidationError)

from ..checks import OptionError
from ..index.options import DatasetOptions
from ..index.select import Selection, check_held_out
from .schema import ConfigError, DatasetConfig, ExperimentConfig, SelectConfig

__all__ = ["load_config", "parse_config", "split_dataset_options", "select_criteria", "build_transform"]

_NONE = type(None)


def _join(prefix: str, key: Any) -> str:
    key = "" if key is None else str(key)
    if not prefix or not key:
        return prefix or key
    return f"{prefix}{key}" if key.startswith("[") else f"{prefix}.{key}"


def _optional(hint: Any) -> Tuple[Any, bool]:
    """``(X, True)`` for ``Optional[X]``, else ``(hint, False)``."""
    if typing.get_origin(hint) is Union and _NONE in typing.get_args(hint):
        (inner,) = [a for a in typing.get_args(hint) if a is not _NONE]
        return inner, True
    return hint, False


def _describe(hint: Any, choices: Optional[Tuple[str, ...]] = None) -> str:
    """``an integer``, ``'lip' or 'face'``, ``a number or null``, ``a list of strings``, ..."""
    hint, optional = _optional(hint)
    tail = " or null" if optional else ""
    origin = typing.get_origin(hint)
    if origin in (list, tuple):
        item = _item(hint)
        if choices:
            return f"a list of ({_describe(item, choices)}){tail}"
        plural = {str: "strings", int: "integers", float: "numbers", bool: "true/false values"}.get(item)
        if plural is None and (typing.get_origin(item) is dict or dataclasses.is_dataclass(item)):
            plural = "mappings"
        return f"a list of {plural}{tail}" if plural else f"a list of ({_describe(item)}){tail}"
    if choices:
        return " or ".join(repr(c) for c in choices) + tail
    if origin is dict or dataclasses.is_dataclass(hint):
        return "a mapping" + tail
    names = {bool: "true/false", int: "an integer", float: "a number", str: "a string"}
    return names.get(hint, getattr(hint, "__name__", str(hint))) + tail


def _item(hint: Any) -> Any:
    """The item type of ``List[X]`` or ``Tuple[X, ...]``."""
    return typing.get_args(hint)[0]


def _is_interpolation(value: Any) -> bool:
    return isinstance(value, str) and "${" in value


def _scalar_ok(hint: Any, value: Any) -> bool:
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        if isinstance(value, str):  # PyYAML reads 1e-4 as a string; OmegaConf converts it
            try:
                float(value)
            except ValueError:
                return False
            return True
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    return True


def _check_types(value: Any, hint: Any, key: str, source: str, choices: Optional[Tuple[str, ...]] = None) -> Any:
    """``value`` (plain data) checked against ``hint``; returns it with ``null`` sections as
    ``{}`` and mapping keys as strings. Keys the schema lacks are left for OmegaConf to report."""
    if hint is Any or _is_interpolation(value):
        return value
    inner, optional = _optional(hint)
    if value is None and (optional or dataclasses.is_dataclass(inner)):
        return None if optional else {}  # an empty section means its defaults
    wrong = ConfigError(source, key or "(top level)", f"expected {_describe(hint, choices)}, got {value!r}")
    origin = typing.get_origin(inner)
    if dataclasses.is_dataclass(inner):
        if not isinstance(value, dict):
            raise wrong
        hints = typing.get_type_hints(inner)
        fields = {f.name: f for f in dataclasses.fields(inner)}
        return {str(k): _check_types(v, hints[k], _join(key, k), source, fields[k].metadata.get("choices"))
                if k in fields else v for k, v in value.items()}
    if origin in (list, tuple):  # Tuple[X, ...] (a list option of DatasetOptions) is a YAML list too
        if not isinstance(value, (list, tuple) if origin is tuple else list):  # a tuple: a config's to_dict()
            raise wrong
        item = _item(inner)
        return [_check_types(v, item, f"{key}[{i}]", source, choices) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise wrong
        item = typing.get_args(inner)[1]
        return {str(k): _check_types(v, item, _join(key, k), source) for k, v in value.items()}
    if not _scalar_ok(inner, value):
        raise wrong
    return value


def _first_line(exc: OmegaConfBaseException) -> str:
    return (exc.msg or str(exc)).strip().split("\n")[0]


def _translate(exc: OmegaConfBaseException, source: str, prefix: str = "") -> ConfigError:
    """OmegaConf's error as a ConfigError naming ``source`` and the full dotted key."""
    key = _join(prefix, exc.full_key) or prefix or "(top level)"
    parent = exc.object_type if dataclasses.is_dataclass(exc.object_type) else None
    if isinstance(exc, ConfigKeyError) and parent is not None:
        known = sorted(f.name for f in dataclasses.fields(parent))
        close = difflib.get_close_matches(str(exc.key), known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        return ConfigError(source, key, f"unknown key; known keys here: {', '.join(known)}{hint}")
    if isinstance(exc, GrammarParseError):
        return ConfigError(source, key, f"not a valid interpolation ({_first_line(exc)}); quote a default "
                           "holding special characters: ${oc.env:VAR,'~/data'}")
    if isinstance(exc, MissingMandatoryValue):
        return ConfigError(source, key, "missing (this key is required)")
    if isinstance(exc, InterpolationResolutionError):
        env = re.search(r"Environment variable '([^']*)' not found", str(exc))
        if env:
            return ConfigError(source, key, f"environment variable {env.group(1)} is not set (write "
                               f"${{oc.env:{env.group(1)},default}} for a default)")
        missing = re.search(r"Interpolation key '([^']*)' not found", str(exc))
        if isinstance(exc, InterpolationKeyError) and missing:
            name = missing.group(1)
            return ConfigError(source, key, f"${{{name}}}: no key {name} in this config (for the environment "
                               f"variable write ${{oc.env:{name}}} or ${name})")
        return ConfigError(source, key, f"cannot resolve: {_first_line(exc)}")
    if isinstance(exc, ValidationError) and parent is not None and exc.key in typing.get_type_hints(parent):
        spec = {f.name: f for f in dataclasses.fields(parent)}[exc.key]
        expected = _describe(typing.get_type_hints(parent)[exc.key], spec.metadata.get("choices"))
        return ConfigError(source, key, f"expected {expected}, got {exc.value!r}")
    return ConfigError(source, key, _first_line(exc))


def _check_choices(obj: Any, key: str, source: str) -> None:
    """Closed choices (``choices`` in field metadata) of ``obj`` and the sections inside it."""
    hints = typing.get_type_hints(type(obj))
    for spec in dataclasses.fields(obj):
        value, sub = getattr(obj, spec.name), _join(key, spec.name)
        choices = spec.metadata.get("choices")
        if choices:
            hint = hints[spec.name]
            items = [(f"{sub}[{i}]", v) for i, v in enumerate(value)] if isinstance(value, list) else [(sub, value)]
            if isinstance(value, list):
                hint = typing.get_args(hint)[0]
            for item_key, item in items:
                if not (item is None and _optional(hint)[1]) and item not in choices:
                    raise ConfigError(source, item_key, f"expected {_describe(hint, choices)}, got {item!r}")
        elif dataclasses.is_dataclass(value):
            _check_choices(value, sub, source)
        elif isinstance(value, dict):
            for name, item in value.items():
                if dataclasses.is_dataclass(item):
                    _check_choices(item, _join(sub, name), source)


def _check_dataset_options(options: Any, key: str, source: str) -> None:
    """The DatasetOptions rules (choices, bounds) on a DatasetConfig; errors name the option."""
    try:
        DatasetOptions(**dataclasses.asdict(options))
    except OptionError as exc:
        raise ConfigError(source, _join(key, exc.option), str(exc)) from None


def _structured(schema: Any, data: Any, source: str, prefix: str) -> Any:
    """``data`` merged onto ``schema`` (a class or an instance) and returned as a dataclass."""
    try:
        return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(schema), data))
    except OmegaConfBaseException as exc:
        raise _translate(exc, source, prefix) from None


def split_dataset_options(config: ExperimentConfig, split: str) -> DatasetConfig:
    """The ``dataset`` section with ``splits.<split>.dataset`` overrides applied and checked."""
    key = f"splits.{split}.dataset"
    overrides = _check_types(config.split(split).dataset, DatasetConfig, key, config.source)
    options = _structured(config.dataset, overrides, config.source, key)
    _check_choices(options, key, config.source)
    _check_dataset_options(options, key, config.source)
    return options


def select_criteria(spec: SelectConfig) -> Dict[str, Any]:
    """The ``MCoRecDataset.select`` arguments a ``select`` section gives (those not null)."""
    return {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec)
            if f.name != "held_out" and getattr(spec, f.name) is not None}


def _check_select(spec: Optional[SelectConfig], key: str, source: str) -> None:
    """What a ``select`` section can be checked for without the data (the form of the names,
    durations, the held-out fraction); the names themselves are checked when it is built."""
    if spec is None:
        return
    try:
        Selection(**select_criteria(spec))
    except OptionError as exc:
        raise ConfigError(source, _join(key, exc.option), str(exc)) from None
    if spec.held_out is not None:
        held_out = spec.held_out
        try:
            check_held_out(held_out.by, held_out.fraction, held_out.seed)
        except OptionError as exc:
            raise ConfigError(source, _join(f"{key}.held_out", exc.option), str(exc)) from None


def _transform_arguments(cls: type) -> Optional[Dict[str, inspect.Parameter]]:
    """The keyword arguments ``cls(...)`` takes, by name; ``None`` when it takes any (``**kwargs``)."""
    parameters = inspect.signature(cls).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        return None
    return {name: p for name, p in parameters.items()
            if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)}


def _check_transform_arguments(name: str, cls: type, kwargs: Dict[str, Any], key: str, source: str) -> None:
    """A :class:`ConfigError` naming the first argument ``cls`` does not take (with the ones it
    takes and the closest), or the arguments it needs and was not given."""
    known = _transform_arguments(cls)
    if known is None:
        return
    allowed = f"its arguments: {', '.join(known)}" if known else "it takes no arguments"
    for argument in kwargs:
        if argument not in known:
            close = difflib.get_close_matches(str(argument), list(known), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ConfigError(source, f"{key}.{argument}",
                              f"transform {name!r} has no argument {argument!r}; {allowed}{hint}")
    missing = [arg for arg, p in known.items() if p.default is inspect.Parameter.empty and arg not in kwargs]
    if missing:
        raise ConfigError(source, key, f"transform {name!r} needs {', '.join(missing)}; {allowed}")


def build_transform(spec: Dict[str, Any], key: str, source: str, registry: Dict[str, Any]) -> Any:
    """The transform ``{name: ..., <argument>: ...}`` from ``registry``; errors name ``key`` (and
    the argument), a misspelled name or argument with the closest known ones."""
    if "name" not in spec:
        raise ConfigError(source, key, f"a transform needs a name, one of {', '.join(sorted(registry))}")
    name = spec["name"]
    if name not in registry:
        close = difflib.get_close_matches(str(name), sorted(registry), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ConfigError(source, f"{key}.name", f"unknown transform {name!r}; known: {', '.join(sorted(registry))}{hint}")
    kwargs = {k: v for k, v in spec.items() if k != "name"}
    _check_transform_arguments(name, registry[name], kwargs, key, source)
    try:
        return registry[name](**kwargs)
    except TypeError as exc:
        raise ConfigError(source, key, f"{name}: {exc}") from None
    except ValueError as exc:  # the transform's own message names the class and the argument
        raise ConfigError(source, key, str(exc)) from None


def _apply_overrides(data: Dict[str, Any], overrides: Sequence[str], source: str) -> Dict[str, Any]:
    """``data`` with ``a.b.c=value`` overrides (values parsed as YAML, ``null`` = None)."""
    if not overrides:
        return data
    try:
        config = OmegaConf.create(data)
    except OmegaConfBaseException as exc:
        raise _translate(exc, source) from None
    for assignment in overrides:
        if "=" not in assignment:
            raise ConfigError(source, assignment, "an override is KEY=VALUE, e.g. sampler.max_frames=800")
        path = assignment.split("=", 1)[0].strip()
        try:
            config = OmegaConf.merge(config, OmegaConf.from_dotlist([assignment]))
        except (OmegaConfBaseException, TypeError, yaml.YAMLError) as exc:
            message = _first_line(exc) if isinstance(exc, OmegaConfBaseException) else str(exc).split("\n")[0]
            raise ConfigError(source, path, f"cannot apply {assignment!r}: {message}") from None
    return OmegaConf.to_container(config, resolve=False)


def parse_config(data: Dict[str, Any], source: str = "<dict>",
                 overrides: Sequence[str] = ()) -> ExperimentConfig:
    """An :class:`ExperimentConfig` from plain data (as loaded from YAML) plus ``KEY=VALUE``
    overrides; raises :class:`ConfigError` naming ``source`` and the key."""
    if data is not None and not isinstance(data, dict):
        raise ConfigError(source, "(top level)", f"expected a mapping, got {data!r}")
    data = _apply_overrides(dict(data or {}), overrides, source)
    data = _check_types(data, ExperimentConfig, "", source)
    config = _structured(ExperimentConfig, data, source, "")
    config.source = source
    if not config.splits:
        raise ConfigError(source, "splits", "at least one split is needed")
    _check_choices(config, "", source)
    _check_dataset_options(config.dataset, "dataset", source)
    from ..transforms import TRANSFORMS

    for name, split in config.splits.items():
        if not split.roots:
            raise ConfigError(source, f"splits.{name}.roots", "at least one split directory is needed")
        split_dataset_options(config, name)
        _check_select(split.select, f"splits.{name}.select", source)
        for i, spec in enumerate(split.transforms):
            build_transform(spec, f"splits.{name}.transforms[{i}]", source, TRANSFORMS)
    return config


def load_config(path: Union[str, os.PathLike], overrides: Sequence[str] = ()) -> ExperimentConfig:
    """Read and validate a YAML experiment file (``overrides``: ``KEY=VALUE`` strings)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), "", f"cannot read: {exc.strerror or exc}") from None
    try:
        data = OmegaConf.to_container(OmegaConf.load(io.StringIO(text)), resolve=False)
    except yaml.YAMLError as exc:
        raise ConfigError(str(path), "", f"not valid YAML: {exc}") from None
    except OSError:  # OmegaConf refuses a file holding a single scalar
        raise ConfigError(str(path), "(top level)", f"expected a mapping, got {yaml.safe_load(text)!r}") from None
    except OmegaConfBaseException as exc:  # e.g. an interpolation that does not parse
        raise _translate(exc, str(path)) from None
    return parse_config(data, str(path), overrides)
