"""Counts of what the index kept, dropped, merged, excluded or skipped, and why, and the files
it could not use (SPEC §3, §10)."""
from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from ..checks import OptionError
from ..corpus.cues import CUE_FAULTS
from ..errors import MCoRecDataError

#: Segments a file they need could not serve: it does not read (``on_error="skip"``) or its video
#: is not 25 fps (always). The files are listed in :attr:`IndexReport.unusable`.
BAD_FILE = "bad_file"
#: Reasons a cue does not become a segment of its own, in the order they are checked: the
#: cue rule's (:data:`~mcorec_torch.corpus.cues.CUE_FAULTS`), then the segment options'.
DROP_REASONS = (*CUE_FAULTS, "too_short", "too_long", "no_video", "no_audio", BAD_FILE, "empty_text",
                "duplicate")  # duplicate: a chunk (SPEC §12) with the frames of another of its speaker
#: Cues absorbed into the previous segment by ``merge_gap`` (not dropped: their text and time are kept).
MERGED = "merged"
KEPT = "kept"
#: Speakers the ``exclude`` option leaves out, one per speaker (their cues are not read).
EXCLUDED = "excluded"
SKIPPED = "skipped"  # samples that failed to load with on_error="skip" (counted per process)
#: Segments a view of a dataset leaves out (``MCoRecDataset.select``): moved from ``kept``.
NOT_SELECTED = "not_selected"
#: Segments in the other part of a held-out split (``MCoRecDataset.split_by_session`` and
#: ``split_by_speaker``): moved from ``kept`` in each part.
SPLIT_OFF = "split_off"
#: Outcomes of segments that exist but a view of the dataset leaves out.
VIEW_OUTCOMES = (NOT_SELECTED, SPLIT_OFF)
#: Outcomes that do not count cues (so :meth:`IndexReport.cues` leaves them out).
NOT_CUES = (EXCLUDED, SKIPPED)

#: The options that decide each outcome but ``kept`` and ``merged``, the first one most directly:
#: where a split yields no segment, the outcome with the largest count names the option most
#: likely at fault. An empty tuple: the data decide (their problems are listed by ``check``).
OUTCOME_OPTIONS: Dict[str, Tuple[str, ...]] = {
    "bad_cue": (), "outside_uem": (), "beyond_video": (),
    "too_short": ("min_duration",),
    "too_long": ("max_duration",),
    "no_video": ("missing_video", "min_video_coverage", "crops", "view"),
    "no_audio": ("audio",),
    BAD_FILE: (),
    "empty_text": ("normalizer",),
    "duplicate": ("segments", "chunk_size"),
    EXCLUDED: ("exclude",),
}

Key = Tuple[str, str, str]  # (split, session, speaker)


@dataclass(frozen=True)
class UnusableFile:
    """A file the index left out, and what it served.

    ``serves``: e.g. ``"central crop 1 of spk_2"``, ``"central video"``; ``speaker`` is ``""``
    for a file of the whole session. ``error``: True when the file does not read (missing,
    truncated, corrupt: an error under ``on_error="raise"``), False when it reads but cannot be
    used (a video that is not 25 fps: always left out). ``key``/``line``: where in the file, as
    :class:`~mcorec_torch.errors.MCoRecDataError` names it."""

    path: str
    reason: str
    split: str
    session: str
    speaker: str
    serves: str
    error: bool
    key: Optional[str] = None
    line: Optional[int] = None

    def as_error(self) -> MCoRecDataError:
        """The :class:`~mcorec_torch.errors.MCoRecDataError` reading this file raised."""
        return MCoRecDataError(self.path, self.reason, key=self.key, line=self.line)

    def describe(self) -> str:
        where = "/".join(p for p in (self.split, self.session) if p)
        return f"{where} {self.serves}: {self.as_error()}"


class IndexReport:
    """Per (split, session, speaker) counts of cues by outcome, and the files left out.

    Every cue of every speaker ends in exactly one outcome, so for any group
    ``kept + merged + sum(dropped) == cues``. Besides cues: ``excluded`` counts speakers the
    ``exclude`` option left out, ``skipped`` samples that failed to load (:data:`NOT_CUES`).
    :attr:`unusable` lists the files the index could not use (:class:`UnusableFile`).
    """

    def __init__(self, counts: Mapping[Key, Mapping[str, int]] = (),
                 unusable: Iterable[UnusableFile] = ()) -> None:
        self.counts: Dict[Key, Counter] = {k: Counter(v) for k, v in dict(counts).items()}
        self.unusable: List[UnusableFile] = list(unusable)

    def add(self, key: Key, outcome: str, n: int = 1) -> None:
        self.counts.setdefault(key, Counter())[outcome] += n

    def add_unusable(self, file: UnusableFile) -> None:
        if file not in self.unusable:
            self.unusable.append(file)

    def merged_with(self, other: "IndexReport") -> "IndexReport":
        result = IndexReport(self.counts, self.unusable)
        for key, counter in other.counts.items():
            for outcome, n in counter.items():
                result.add(key, outcome, n)
        for file in other.unusable:
            result.add_unusable(file)
        return result

    def _group(self, depth: int) -> Dict[Tuple[str, ...], Counter]:
        groups: Dict[Tuple[str, ...], Counter] = {}
        for key, counter in self.counts.items():
            groups.setdefault(key[:depth], Counter()).update(counter)
        return groups

    def total(self) -> Counter:
        """Counts summed over everything."""
        return self._group(0).get((), Counter())

    def by_split(self) -> Dict[str, Counter]:
        return {k[0]: v for k, v in self._group(1).items()}

    def by_session(self) -> Dict[Tuple[str, str], Counter]:
        return {(k[0], k[1]): v for k, v in self._group(2).items()}

    def by_speaker(self) -> Dict[Key, Counter]:
        return {k: Counter(v) for k, v in self.counts.items()}

    @property
    def kept(self) -> int:
        return self.total()[KEPT]

    @staticmethod
    def cues(counter: Mapping[str, int]) -> int:
        """Cues accounted for by one counter (every outcome but those of :data:`NOT_CUES`)."""
        return sum(n for outcome, n in counter.items() if outcome not in NOT_CUES)

    def to_dict(self) -> dict:
        """JSON-friendly nested ``{split: {session: {speaker: {outcome: n}}}}`` plus totals and
        the list of unusable files (one dict per :class:`UnusableFile`)."""
        nested: Dict[str, dict] = {}
        for (split, session, speaker), counter in sorted(self.counts.items()):
            nested.setdefault(split, {}).setdefault(session, {})[speaker] = dict(counter)
        return {"total": dict(self.total()), "splits": nested, "unusable_files": [asdict(f) for f in self.unusable]}

    @classmethod
    def from_tables(cls, counts: Sequence[Sequence], unusable: Sequence[Mapping]) -> "IndexReport":
        """The report saved as :meth:`tables` (the index cache)."""
        return cls({tuple(k): v for k, v in counts}, [UnusableFile(**f) for f in unusable])

    def tables(self) -> Tuple[List[list], List[dict]]:
        """``(counts, unusable files)`` as JSON-friendly lists, read back by :meth:`from_tables`."""
        return [[list(k), dict(v)] for k, v in self.counts.items()], [asdict(f) for f in self.unusable]

    def format(self, per_session: bool = True) -> str:
        """A readable table: one row per split (and session), columns = outcomes; then the
        unusable files, one line each."""
        columns: List[str] = [KEPT, MERGED, *DROP_REASONS, *VIEW_OUTCOMES, EXCLUDED, SKIPPED]
        present = [c for c in columns if self.total()[c]] or [KEPT]
        rows: List[Tuple[str, Counter]] = []
        for split, counter in sorted(self.by_split().items()):
            rows.append((split, counter))
            if per_session:
                for (s, session), c in sorted(self.by_session().items()):
                    if s == split:
                        rows.append((f"  {session}", c))
        rows.append(("TOTAL", self.total()))
        width = max([len(r[0]) for r in rows] + [5])
        header = f"{'':<{width}} {'cues':>6} " + " ".join(f"{c:>12}" for c in present)
        lines = [header]
        for label, counter in rows:
            lines.append(f"{label:<{width}} {self.cues(counter):>6} " + " ".join(f"{counter[c]:>12}" for c in present))
        if self.unusable:
            lines.append(f"\n{len(self.unusable)} unusable file(s), left out with what they serve "
                         f"(segments that needed them: {BAD_FILE}):")
            lines += [f"  {f.describe()}" for f in self.unusable]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.format()


class NoSegmentsError(OptionError):
    """A dataset of 0 segments that was not asked for (``allow_empty=False``). ``option``: the
    option most likely at fault (:data:`OUTCOME_OPTIONS` of the largest outcome; ``allow_empty``
    when the data decided); ``report``: the :class:`IndexReport`, whose table the message shows."""

    def __init__(self, option: str, message: str, report: IndexReport) -> None:
        self.report = report
        super().__init__(option, message)

    def __reduce__(self):  # noqa: D105 - picklable with its report
        return _rebuild_no_segments, (self.option, str(self), self.report.counts, self.report.unusable)


def _rebuild_no_segments(option: str, message: str, counts: Mapping[Key, Mapping[str, int]],
                         unusable: List[UnusableFile]) -> NoSegmentsError:
    return NoSegmentsError(option, message, IndexReport(counts, unusable))


def no_segments_error(report: IndexReport, roots: Sequence[str], settings: Mapping[str, object]) -> NoSegmentsError:
    """The error for a result of 0 segments from ``roots``: the outcome with the largest count
    (cues, or excluded speakers), the option that decides it (:data:`OUTCOME_OPTIONS`) with its
    value from ``settings`` (option name -> value), and the drop table."""
    total = report.total()
    counted = [(n, outcome) for outcome, n in total.items() if outcome in OUTCOME_OPTIONS and n > 0]
    where = ", ".join(str(r) for r in roots)
    if not counted:
        option = "segments"
        why = (f"no transcript cue or chunk was found (segments={settings.get('segments')!r} with "
               f"label_dir={settings.get('label_dir')!r}: a split without labels needs segments='asd', "
               f"'windows' or 'ranges')")
    else:
        n, outcome = max(counted)
        names = OUTCOME_OPTIONS[outcome]
        unit = "speaker(s)" if outcome == EXCLUDED else f"of {IndexReport.cues(total)} cue(s)"
        if names:
            option = names[0]
            decided = ", ".join(f"{name}={settings[name]!r}" for name in names if name in settings)
            verb = "decides" if len(names) == 1 else "decide"
            why = f"the most common outcome is {outcome} ({n} {unit}), which {' / '.join(names)} {verb} ({decided})"
        else:
            option = "allow_empty"
            why = (f"the most common outcome is {outcome} ({n} {unit}), a fault of the data, not of an option "
                   f"(`mcorec-torch check` lists the problems)")
    message = (f"{option}: 0 segments from {where}: {why}; pass allow_empty=True (--allow-empty) to accept an "
               f"empty result\n{report.format()}")
    return NoSegmentsError(option, message, report)
