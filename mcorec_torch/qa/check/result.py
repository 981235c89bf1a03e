"""What ``check`` found: problems (the library refuses, skips, loses or misplaces data, or the
format is contradicted; exit 1) and notes (loadable but unusual), each naming the file and the
key or line, grouped by session. Which kind of finding is which: :mod:`.findings`."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

PROBLEM = "problem"
NOTE = "note"


@dataclass(frozen=True)
class Problem:
    """One finding: the file, the message (naming the file, and the key or line), the
    session folder it belongs to (``None``: the split itself), its ``level``: ``"problem"``
    or ``"note"``, and its ``kind`` (a name of :data:`~.findings.KINDS`, which declares the
    level)."""

    path: str
    message: str
    session: Optional[str] = None
    level: str = PROBLEM
    kind: str = ""

    def __str__(self) -> str:
        return self.message if self.message.startswith(self.path) else f"{self.path}: {self.message}"

    def relative(self, root: Path) -> str:
        """``str(self)`` with the split folder's (and session's) path cut off the front."""
        text = str(self)
        for prefix in ([root / self.session] if self.session else []) + [root]:
            head = f"{prefix}/"
            if text.startswith(head):
                return text[len(head):]
        return text


@dataclass
class CheckResult:
    """Everything ``check_split`` found in one split."""

    root: str
    sessions: int
    files: int
    problems: List[Problem] = field(default_factory=list)
    notes: List[Problem] = field(default_factory=list)
    frames_decoded: int = 0
    #: The session folders checked, by name (sorted).
    session_names: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No problem (notes do not count): ``check`` exits 0."""
        return not self.problems

    def by_session(self) -> Dict[Optional[str], List[Problem]]:
        """Problems and then notes of each session (``None``: the split), sessions sorted."""
        groups: Dict[Optional[str], List[Problem]] = {}
        for finding in self.problems + self.notes:
            groups.setdefault(finding.session, []).append(finding)
        return dict(sorted(groups.items(), key=lambda item: (item[0] is not None, item[0] or "")))

    def format(self) -> str:
        """Readable lines: per session its problems, then its notes, then a summary line."""
        root = Path(self.root)
        lines: List[str] = []
        for session, findings in self.by_session().items():
            lines.append(f"{session or root}:")
            for finding in findings:
                lines.append(f"  {finding.level:<7} {finding.relative(root)}")
        status = "OK" if self.ok else f"{len(self.problems)} problem(s)"
        notes = f", {len(self.notes)} note(s)" if self.notes else ""
        decoded = f", {self.frames_decoded} frames decoded" if self.frames_decoded else ""
        lines.append(f"checked {self.sessions} session(s), {self.files} file(s){decoded}: {status}{notes}")
        return "\n".join(lines)

    def to_dict(self) -> Dict[str, Any]:
        """JSON-friendly: counts, ``ok`` and the findings grouped by session (``"."``: the split)."""
        return {"root": self.root, "sessions": self.sessions, "files": self.files, "ok": self.ok,
                "frames_decoded": self.frames_decoded, "problems": len(self.problems), "notes": len(self.notes),
                "by_session": {session or ".": [asdict(f) for f in findings]
                               for session, findings in self.by_session().items()}}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)
