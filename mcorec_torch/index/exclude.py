"""The ``exclude`` option (SPEC §4): sessions and speakers left out of the index, counted as
``excluded`` per speaker, and every entry checked to name something of the split(s)."""
from __future__ import annotations

import difflib
from pathlib import Path
from typing import Dict, List, Sequence, Set

from ..checks import OptionError
from .options import exclude_entry


class Exclusions:
    """The entries of ``exclude`` and which of them named something while the index was built.

    ``"SESSION"`` leaves out a session folder (of any split directory given),
    ``"SESSION/SPEAKER"`` one speaker of it."""

    def __init__(self, entries: Sequence[str]) -> None:
        self.entries = tuple(entries)
        self._sessions: Set[str] = set()
        self._speakers: Set[tuple] = set()
        for entry in self.entries:
            session, speaker = exclude_entry(entry)
            if speaker is None:
                self._sessions.add(session)
            else:
                self._speakers.add((session, speaker))
        self._matched: Set[str] = set()
        self._seen: Dict[str, List[str]] = {}  # session -> its speakers (of metadata.json)

    def session_excluded(self, session: str) -> bool:
        """Whether the whole session is left out (noting that the entry named something)."""
        self._seen.setdefault(session, [])
        if session in self._sessions:
            self._matched.add(session)
            return True
        return False

    def speaker_excluded(self, session: str, speaker: str) -> bool:
        """Whether ``session/speaker`` is left out (noting that the entry named something)."""
        self._seen.setdefault(session, []).append(speaker)
        if (session, speaker) in self._speakers:
            self._matched.add(f"{session}/{speaker}")
            return True
        return False

    def check_all_matched(self, roots: Sequence[Path]) -> None:
        """Raise :class:`~mcorec_torch.checks.OptionError` naming the first entry that named no
        session or speaker of ``roots`` (a typo must not exclude nothing)."""
        where = ", ".join(str(r) for r in roots)
        for entry in self.entries:
            session, speaker = exclude_entry(entry)
            if entry in self._matched or session in self._matched:  # or inside an excluded session
                continue
            if session not in self._seen:
                close = difflib.get_close_matches(session, sorted(self._seen), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise OptionError("exclude", f"exclude must name sessions or SESSION/SPEAKER of {where}, got "
                                             f"{entry!r}: there is no session {session!r}{hint}")
            known = self._seen[session]
            if speaker not in known:
                close = difflib.get_close_matches(speaker or "", known, n=1)
                hint = f" (did you mean {session}/{close[0]}?)" if close else ""
                listed = ", ".join(known) or "none"
                raise OptionError("exclude", f"exclude must name sessions or SESSION/SPEAKER of {where}, got "
                                             f"{entry!r}: session {session!r} has no speaker {speaker!r} "
                                             f"(speakers: {listed}){hint}")
