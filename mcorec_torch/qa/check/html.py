"""``check --html``: the findings of :func:`~mcorec_torch.qa.check.check_split` as one
self-contained page (inline CSS; no script, font or image fetched): a summary, per session
its problems and notes (visibly distinct: colour and a word), each file a ``file://`` link
(absolute path), the kinds found with why each is in its class, and the segment report the
options make of the split (:class:`~mcorec_torch.index.report.IndexReport`). The same input
gives the same bytes (no time stamps); all text is escaped."""
from __future__ import annotations

import re
from collections import Counter
from html import escape
from pathlib import Path
from typing import Iterable, List, Mapping, Optional, Sequence, Tuple

from ...index.report import DROP_REASONS, KEPT, MERGED, SKIPPED, IndexReport
from .findings import BY_NAME
from .result import NOTE, PROBLEM, CheckResult, Problem

#: The page's style: system fonts, no external asset.
STYLE = """
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: #1d2430; background: #f6f7f9; margin: 0; }
main { max-width: 1180px; margin: 0 auto; padding: 20px 28px 40px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
code, .path { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
.path { color: #4a5568; word-break: break-all; }
.summary { display: flex; gap: 10px; flex-wrap: wrap; margin: 14px 0; }
.count { background: #fff; border: 1px solid #d7dce3; border-radius: 6px; padding: 8px 14px; min-width: 90px; }
.count b { display: block; font-size: 20px; }
.count.problem { border-color: #e0a3a3; background: #fdf0f0; } .count.problem b { color: #b42318; }
.count.note { border-color: #a9c3e6; background: #f0f5fd; } .count.note b { color: #1f5fa8; }
.count.ok { border-color: #9fd1ad; background: #effaf2; } .count.ok b { color: #18794e; }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid #d7dce3; }
th, td { text-align: left; vertical-align: top; padding: 5px 8px; border-bottom: 1px solid #e6e9ee; }
th { background: #eef1f5; font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.problem td { background: #fdf0f0; } tr.problem td:first-child { border-left: 4px solid #b42318; }
tr.note td { background: #f3f7fd; } tr.note td:first-child { border-left: 4px solid #5b8fd1; }
.level { font-weight: 700; text-transform: uppercase; font-size: 11px; letter-spacing: .04em; }
tr.problem .level { color: #b42318; } tr.note .level { color: #1f5fa8; }
.missing { color: #b42318; }
.missing::after { content: " (not there)"; color: #6b7482; font-family: system-ui, sans-serif; }
nav ul { list-style: none; padding: 0; margin: 0; display: flex; flex-wrap: wrap; gap: 6px 16px; }
tr.split td { font-weight: 600; } tr.session td:first-child { padding-left: 24px; }
tr.total td { font-weight: 700; border-top: 2px solid #c3cad4; }
details { margin-top: 8px; } summary { cursor: pointer; color: #4a5568; }
.muted { color: #6b7482; }
"""

_LINE = re.compile(r"^:(\d+): ")


def _link(path: str, text: str) -> str:
    """``text`` linked to ``path`` as a ``file://`` URI (absolute); plain where nothing is there."""
    target = Path(path)
    if not target.exists():
        return f'<code class="missing" title="not there">{escape(text)}</code>'
    return f'<a href="{escape(target.resolve().as_uri())}"><code>{escape(text)}</code></a>'


def split_finding(finding: Problem, root: Path) -> Tuple[str, str, str]:
    """``(file shown, file's line or "", message without the file)`` of ``finding``, the
    file relative to its session folder (or the split)."""
    text = str(finding)
    rest = text[len(finding.path):] if text.startswith(finding.path) else f": {finding.message}"
    line = ""
    match = _LINE.match(rest)
    if match:
        line, rest = match.group(1), rest[match.end():]
    else:
        rest = rest[2:] if rest.startswith(": ") else rest
    shown = finding.path
    for prefix in ([root / finding.session] if finding.session else []) + [root]:
        if shown.startswith(f"{prefix}/"):
            shown = shown[len(str(prefix)) + 1:]
            break
    return shown, line, rest


def _finding_row(finding: Problem, root: Path) -> str:
    shown, line, message = split_finding(finding, root)
    kind = BY_NAME.get(finding.kind)
    title = f' title="{escape(kind.why)}"' if kind is not None else ""
    where = _link(finding.path, f"{shown}:{line}" if line else shown)
    return (f'<tr class="{escape(finding.level)}"><td class="level">{escape(finding.level)}</td>'
            f'<td><code{title}>{escape(finding.kind)}</code></td><td>{where}</td><td>{escape(message)}</td></tr>')


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _session_section(session: Optional[str], findings: Sequence[Problem], root: Path) -> str:
    problems = sum(f.level == PROBLEM for f in findings)
    title = escape(session) if session else "the split folder"
    folder = (root / session if session else root).resolve()
    rows = "\n".join(_finding_row(f, root) for f in findings)
    return (f'<section id="{escape(_anchor(session))}"><h2>{title} '
            f'<span class="muted">({_plural(problems, "problem")}, {_plural(len(findings) - problems, "note")})</span>'
            f'</h2>\n<p class="path">{_link(str(folder), str(folder))}</p>\n'
            '<table class="findings"><thead><tr><th>class</th><th>kind</th><th>file</th><th>what</th></tr></thead>'
            f"<tbody>\n{rows}\n</tbody></table></section>")


def _anchor(session: Optional[str]) -> str:
    return f"session-{session}" if session else "split"


def _summary(result: CheckResult, segments: Optional[int]) -> str:
    boxes = [("problem" if result.problems else "ok", len(result.problems), "problems"),
             ("note", len(result.notes), "notes"), ("", result.sessions, "sessions"), ("", result.files, "files")]
    if result.frames_decoded:
        boxes.append(("", result.frames_decoded, "frames decoded"))
    if segments is not None:
        boxes.append(("", segments, "segments"))
    cells = "".join(f'<div class="count {css}"><b>{n}</b>{escape(label)}</div>' for css, n, label in boxes)
    verdict = ("no problem: exit status 0" if result.ok else
               f"{_plural(len(result.problems), 'problem')}: exit status 1")
    return f'<div class="summary">{cells}</div>\n<p><b>{escape(verdict)}</b> (notes do not change it)</p>'


def _kinds_table(result: CheckResult) -> str:
    """Each kind found: its class, how often, what it is and why it is in its class."""
    found = Counter((f.level, f.kind) for f in result.problems + result.notes)
    rows = []
    for (level, name), n in sorted(found.items(), key=lambda item: (item[0][0] != PROBLEM, item[0][1])):
        kind = BY_NAME.get(name)
        what, why = (kind.what, kind.why) if kind is not None else ("", "")
        rows.append(f'<tr class="{escape(level)}"><td class="level">{escape(level)}</td><td><code>{escape(name)}</code>'
                    f'</td><td class="n">{n}</td><td>{escape(what)}</td><td>{escape(why)}</td></tr>')
    if not rows:
        return ""
    return ('<section id="kinds"><h2>Kinds found</h2><table><thead><tr><th>class</th><th>kind</th>'
            '<th class="n">found</th><th>what</th><th>why it is in its class</th></tr></thead><tbody>\n'
            + "\n".join(rows) + "\n</tbody></table></section>")


def _columns(report: IndexReport) -> List[str]:
    total = report.total()
    return [c for c in (KEPT, MERGED, *DROP_REASONS, SKIPPED) if total[c]] or [KEPT]


def _count_row(css: str, label: str, counter: Mapping[str, int], columns: Iterable[str]) -> str:
    cells = "".join(f'<td class="n">{counter.get(c, 0)}</td>' for c in columns)
    return f'<tr class="{css}"><td>{escape(label)}</td><td class="n">{IndexReport.cues(counter)}</td>{cells}</tr>'


def segment_section(report: IndexReport, description: str) -> str:
    """The segment report as tables: per split and session (as ``IndexReport.format``), and
    per speaker in a ``<details>`` block."""
    columns = _columns(report)
    head = "".join(f'<th class="n">{escape(c)}</th>' for c in columns)
    rows = []
    sessions = report.by_session()
    for split, counter in sorted(report.by_split().items()):
        rows.append(_count_row("split", split, counter, columns))
        rows += [_count_row("session", session, c, columns) for (s, session), c in sorted(sessions.items())
                 if s == split]
    rows.append(_count_row("total", "TOTAL", report.total(), columns))
    speakers = [_count_row("speaker", f"{split}/{session}/{speaker}", c, columns)
                for (split, session, speaker), c in sorted(report.by_speaker().items())]
    table = (f'<table><thead><tr><th></th><th class="n">cues</th>{head}</tr></thead><tbody>\n'
             + "\n".join(rows) + "\n</tbody></table>")
    per_speaker = (f'<details><summary>per speaker ({len(speakers)})</summary><table><thead><tr><th></th>'
                   f'<th class="n">cues</th>{head}</tr></thead><tbody>\n' + "\n".join(speakers)
                   + "\n</tbody></table></details>")
    return (f'<section id="segments"><h2>Segments</h2><p>{escape(description)}</p>\n{table}\n{per_speaker}'
            '</section>')


def render_html(result: CheckResult, segments: Optional[Tuple[int, IndexReport, str]] = None) -> str:
    """The page of ``result``; ``segments``: ``(segment count, the index's report, what options
    made them)`` when the split was indexed (``check`` indexes it only when there is no problem)."""
    root = Path(result.root)
    groups = result.by_session()
    nav = "".join(f'<li><a href="#{escape(_anchor(s))}">{escape(s or "the split folder")}</a> '
                  f'<span class="muted">{sum(f.level == PROBLEM for f in fs)} / {sum(f.level == NOTE for f in fs)}'
                  "</span></li>" for s, fs in groups.items())
    clean = [s for s in result.session_names if s not in groups]
    body = [f"<h1>mcorec-torch check: {escape(root.name or str(root))}</h1>",
            f'<p class="path">{_link(str(root), str(root.resolve()))}</p>',
            _summary(result, segments[0] if segments else None)]
    if groups:
        body.append(f'<nav><h2>Sessions with findings <span class="muted">(problems / notes)</span></h2>'
                    f"<ul>{nav}</ul></nav>")
    body += [_session_section(session, findings, root) for session, findings in groups.items()]
    if clean:
        body.append(f'<p class="muted">No finding in {escape(", ".join(clean))}.</p>')
    body.append(_kinds_table(result))
    if segments is not None:
        body.append(segment_section(segments[1], segments[2]))
    else:
        body.append('<section id="segments"><h2>Segments</h2><p>Not indexed: with problems the index would '
                    "refuse or lose data; fix them and check again for the segment report.</p></section>")
    body.append('<footer><p class="muted">A <b>problem</b> makes the library refuse, skip, lose or misplace data, '
                "or contradicts the format; a <b>note</b> is loadable but unusual (SPEC §10). Hover a kind for why "
                "it is in its class.</p></footer>")
    title = escape(f"check: {root}")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>"
            f"<style>{STYLE}</style></head>\n<body><main>\n" + "\n".join(b for b in body if b)
            + "\n</main></body></html>\n")
