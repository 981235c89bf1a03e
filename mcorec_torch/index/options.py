"""The SPEC §4 dataset options, declared once.

:class:`DatasetOptions` names every option a user sets on :class:`~mcorec_torch.MCoRecDataset`,
in a YAML config's ``dataset`` section and on the command line (``--crops``, ...), with its
allowed values, default, unit and one line of help. The dataset's keyword arguments and
their validation, the config schema and every subcommand's flags are derived from it.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, Literal, Optional, Tuple, get_args

from ..checks import OptionError, check_choice, check_flag, check_number, check_text
from ..corpus.layout import CROPS, DEFAULT_LABEL_DIR, VIEWS, Crop, View
from ..media.color import COLORS, Color
from .asd_chunks import DEFAULT_CHUNK_SIZE

AudioSource = Literal["central", "ego"]
MissingVideo = Literal["pad", "drop"]
OnError = Literal["raise", "skip"]
#: Sources of segments (SPEC §3, §12): transcript cues, ASD chunks, fixed windows, VTT time ranges.
SegmentSource = Literal["labels", "asd", "windows", "ranges"]
AUDIO_SOURCES: Tuple[str, ...] = get_args(AudioSource)
MISSING_VIDEO: Tuple[str, ...] = get_args(MissingVideo)
ON_ERROR: Tuple[str, ...] = get_args(OnError)
SEGMENT_SOURCES: Tuple[str, ...] = get_args(SegmentSource)
#: Where ``crops="lip"`` frames come from (SPEC §13): mouth crop videos where they exist, or always
#: the ROI derived from the face frames.
LipSource = Literal["released", "derived"]
LIP_SOURCES: Tuple[str, ...] = get_args(LipSource)
#: Sources of who speaks when (SPEC §4, the ``activity`` option): transcript cues or ASD chunks.
ActivitySource = Literal["labels", "asd"]
ACTIVITY_SOURCES: Tuple[str, ...] = get_args(ActivitySource)
#: Who counts as "non-target" in ``stno`` (the ``non_target`` option): every other speaker of the
#: session, the target's conversation partners only, or the speakers of the other conversations only.
NonTarget = Literal["all", "partners", "others"]
NON_TARGETS: Tuple[str, ...] = get_args(NonTarget)
#: The unit of an option naming a folder (a path string, or None).
FOLDER = "folder"


@dataclass(frozen=True)
class OptionInfo:
    """What users are told about one option, and the bounds it is checked against.

    ``unit``: ``"seconds"`` or ``"fraction"`` (None for words); ``minimum``/``maximum``:
    inclusive bounds; ``above``: an exclusive lower bound; ``segments``: whether the option
    decides which segments exist (it is then part of the index's cache key)."""

    help: str
    choices: Optional[Tuple[str, ...]] = None
    unit: Optional[str] = None
    minimum: Optional[float] = None
    maximum: Optional[float] = None
    above: Optional[float] = None
    segments: bool = True


def _option(default: Any, help: str, **info: Any) -> Any:
    return field(default=default, metadata={"option": OptionInfo(help=help, **info)})


@dataclass(frozen=True)
class DatasetOptions:
    """The SPEC §4 options (durations in seconds). Invalid values raise
    :class:`~mcorec_torch.checks.OptionError` (a ``ValueError``) naming the option (``.option``),
    what is allowed and what was given."""

    crops: Crop = _option("lip", 'crop video: "lip" = track_XX_lip.av.mp4 (96x96 mouth ROI), '
                                '"face" = track_XX.mp4 (224x224)', choices=CROPS)
    view: View = _option("central", 'crops of the 360-degree "central" camera, or of the speaker\'s phone '
                                   '("ego", train only)', choices=VIEWS)
    color: Color = _option("rgb", '"rgb" (C=3) or "gray" (C=1, full-range luma)', choices=COLORS, segments=False)
    audio: AudioSource = _option("central", '"central": central_video.mp4\'s audio, else the crops\' own; '
                                    '"ego": the speaker\'s lapel mic (train only)', choices=AUDIO_SOURCES)
    missing_video: MissingVideo = _option("pad", 'frames no face track covers: "pad" with zero frames (video_mask '
                                        'False) or "drop" the segment', choices=MISSING_VIDEO)
    min_video_coverage: float = _option(0.5, 'with missing_video="pad", the fraction of frames that must exist',
                                        unit="fraction", minimum=0.0, maximum=1.0)
    min_duration: float = _option(0.0, "cues shorter than this are dropped (counted as too_short)",
                                  unit="seconds", minimum=0.0)
    max_duration: Optional[float] = _option(None, "cues longer than this are dropped (too_long); "
                                                  "also caps merged segments", unit="seconds", above=0.0)
    merge_gap: Optional[float] = _option(None, "merge consecutive cues of a speaker whose gap is at most "
                                               "this (total at most max_duration)", unit="seconds", minimum=0.0)
    exclude: Tuple[str, ...] = _option((), 'sessions ("session_03") and speakers ("session_03/spk_1") to leave '
                                          'out (counted as excluded, per speaker); an entry that names nothing '
                                          'in the split is an error')
    on_error: OnError = _option("raise", '"skip": a file the index cannot read leaves out what it serves (listed '
                                     'in the report) and a segment that fails to load becomes None (counted); '
                                     'both logged. "raise": either is an error naming the file',
                                     choices=ON_ERROR, segments=False)
    allow_empty: bool = _option(False, "accept a result of 0 segments (else an error shows the drop table and the "
                                       "option most likely at fault)", segments=False)
    label_dir: str = _option(DEFAULT_LABEL_DIR, "transcript folder inside each session")
    frame_cache: bool = _option(False, "read frames from the decoded-frame cache in cache_dir (each track "
                                       "decoded once into a memory-mapped array; built on first use or by "
                                       "`mcorec-torch cache`)", segments=False)
    segments: SegmentSource = _option("labels", 'where segments come from (SPEC §12): "labels" = transcript cues; '
                                      '"asd" = the baseline\'s chunks of track_XX_asd.json; "windows" = '
                                      'fixed windows of chunk_size over every track; "ranges" = the time '
                                      'ranges of label_dir/spk_N.vtt. All but "labels" carry no text and '
                                      'work without labels/', choices=SEGMENT_SOURCES)
    chunk_size: float = _option(DEFAULT_CHUNK_SIZE, 'segments="asd": longest chunk (active frames; the baseline\'s '
                                      'max_chunk_size); "windows": window length', unit="seconds", above=0.0)
    asd_exact_baseline: bool = _option(True, 'segments="asd": the chunks the baseline\'s inference '
                                             'produces (gaps of up to 25 frames merged, by its fallback to '
                                             'min_duration_on; frames [first, last), its last frame dropped); '
                                             'false: its documented parameter table (gaps of up to 12 frames) '
                                             'and frames [first, last + 1)')
    lip_source: LipSource = _option("released", 'crops="lip": "released" = a track\'s mouth crop video (listed in '
                                    'metadata.json, else written by `mcorec-torch lips` beside the face track or '
                                    'in lip_dir), else its 96x96 mouth ROI derived from the face frames on the fly '
                                    '(the lips extra); "derived" = always derived', choices=LIP_SOURCES)
    lip_dir: Optional[str] = _option(None, 'a folder `mcorec-torch lips --out` wrote: its mouth crop videos '
                                           '(<lip_dir>/<split>/<session>/...) count as released', unit=FOLDER)
    activity: Optional[ActivitySource] = _option(None, 'who speaks when, per frame (samples get activity, '
                                                 'activity_speakers, stno): "labels" = every cue of every speaker '
                                                 '(inside their UEM); "asd" = the ASD chunks of their central tracks '
                                                 '(and activity_scores); none: off', choices=ACTIVITY_SOURCES,
                                                 segments=False)
    non_target: NonTarget = _option("all", 'with activity: who is "non-target" in stno: "all" other speakers of '
                                          'the session, the target\'s conversation "partners" '
                                          '(speaker_to_cluster.json), or "others" (the other conversations)',
                                    choices=NON_TARGETS, segments=False)

    def __post_init__(self) -> None:
        if isinstance(self.exclude, list):  # a list from Python or YAML, kept as a tuple (hashable)
            object.__setattr__(self, "exclude", tuple(self.exclude))
        if isinstance(self.lip_dir, os.PathLike):  # a pathlib.Path from Python, kept as text (the cache key)
            object.__setattr__(self, "lip_dir", os.fspath(self.lip_dir))
        for spec, info in option_fields():
            check_option(spec.name, getattr(self, spec.name), spec.default, info)
        if self.segments != "labels" and self.view != "central":
            raise OptionError("view", f'segments={self.segments!r} reads the central view (eval sessions have no ego '
                             f'videos); got view={self.view!r}')

    def segment_options(self) -> Dict[str, Any]:
        """The options that decide which segments exist (the index's cache key), by name."""
        return {spec.name: getattr(self, spec.name) for spec, info in option_fields() if info.segments}

    def replace(self, **changes: Any) -> "DatasetOptions":
        return dataclasses.replace(self, **changes)


def option_fields() -> Iterator[Tuple[dataclasses.Field, OptionInfo]]:
    """``(field, info)`` of every option, in declaration order."""
    for spec in dataclasses.fields(DatasetOptions):
        yield spec, spec.metadata["option"]


def check_option(name: str, value: Any, default: Any, info: OptionInfo) -> None:
    """Raise :class:`~mcorec_torch.checks.OptionError` (a ``ValueError`` naming the option in
    ``.option``) when ``value`` is not allowed for option ``name``: its choices, a bool, a
    non-empty string, or a finite number inside its bounds (NaN and infinity are refused)."""
    optional = default is None
    if value is None and optional:
        return
    if isinstance(default, tuple):
        check_exclude_entries(name, value)
    elif isinstance(default, bool):
        check_flag(name, value)
    elif info.choices is not None:
        check_choice(name, value, info.choices)
    elif isinstance(default, str) or info.unit == FOLDER:
        check_text(name, value)
    else:
        check_number(name, value, minimum=info.minimum, maximum=info.maximum, above=info.above,
                     unit=info.unit if info.unit == "seconds" else None, optional=optional)


def check_exclude_entries(name: str, value: Any) -> None:
    """Raise :class:`~mcorec_torch.checks.OptionError` unless ``value`` is a list (or tuple) of
    ``"SESSION"`` or ``"SESSION/SPEAKER"`` names (no empty part, no surrounding spaces)."""
    allowed = f"{name} must be a list of 'SESSION' or 'SESSION/SPEAKER' names"
    if not isinstance(value, (list, tuple)):
        raise OptionError(name, f"{allowed}, got {value!r}")
    for entry in value:
        parts = entry.split("/") if isinstance(entry, str) else []
        if not 1 <= len(parts) <= 2 or any(not p or p != p.strip() for p in parts):
            raise OptionError(name, f"{allowed}, got {entry!r} in {list(value)!r}")


def exclude_entry(entry: str) -> Tuple[str, Optional[str]]:
    """``(session, speaker)`` of an ``exclude`` entry (speaker ``None`` for a whole session)."""
    session, _, speaker = entry.partition("/")
    return session, speaker or None


#: What a list option (``exclude``) takes, for the options tables.
LIST_ALLOWED = "list of SESSION or SESSION/SPEAKER"


def options_table() -> str:
    """A plain-text table of the options (name, default, allowed values or unit, help), for
    docstrings and ``--help``."""
    rows = []
    for spec, info in option_fields():
        allowed = (" | ".join(info.choices) if info.choices else "true | false" if isinstance(spec.default, bool)
                   else LIST_ALLOWED if isinstance(spec.default, tuple) else (info.unit or "text"))
        rows.append(f"    {spec.name} = {spec.default!r}  ({allowed}): {info.help}")
    return "\n".join(rows)


def options_markdown() -> str:
    """The options as a Markdown table (option, default, allowed values or unit, meaning): the
    table of ``docs/options.md``, generated here so the docs cannot drift from the options."""
    rows = ["| option | default | allowed | meaning |", "| --- | --- | --- | --- |"]
    for spec, info in option_fields():
        allowed = (" \\| ".join(f"`{c}`" for c in info.choices) if info.choices
                   else "`true` \\| `false`" if isinstance(spec.default, bool)
                   else LIST_ALLOWED if isinstance(spec.default, tuple) else (info.unit or "text"))
        meaning = info.help.replace("|", "\\|")
        rows.append(f"| `{spec.name}` | `{spec.default!r}` | {allowed} | {meaning} |")
    return "\n".join(rows) + "\n"
