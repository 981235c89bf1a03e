"""`check --html`: one self-contained page with every finding (parsed with html.parser, not
searched for substrings), files as file:// links that resolve, the segment report of a clean
split, escaped text, the same bytes for the same input; and a headless Chromium screenshot of
it where a chromium binary exists."""
import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import av
import numpy as np
import pytest

from mcorec_torch.cli import main
from mcorec_torch.qa.check import check_split
from mcorec_torch.qa.check.html import render_html
from mcorec_torch.qa.check.result import CheckResult, Problem
from planted import NOTES, PROBLEMS


class Page(HTMLParser):
    """What the page holds: rows of each table (class, cell texts, the section id), links,
    and every tag and attribute seen."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.rows, self.links, self.tags, self.cell_tags, self.attributes = [], [], set(), set(), []
        self._section, self._row, self._cell = None, None, None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.add(tag)
        if self._cell is not None:
            self.cell_tags.add(tag)
        self.attributes += list(attrs.items())
        if tag == "section":
            self._section = attrs.get("id")
        elif tag == "tr":
            self._row = {"class": attrs.get("class", ""), "cells": [], "section": self._section}
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "a":
            self.links.append(attrs.get("href", ""))

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self._row["cells"].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.rows.append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)

    def findings(self):
        """(section, class, kind, "file: what") of each finding row."""
        return [(r["section"], r["class"], r["cells"][1], f"{r['cells'][2]}: {r['cells'][3]}")
                for r in self.rows
                if r["class"] in ("problem", "note") and r["section"].startswith(("session-", "split"))]


@pytest.fixture(scope="module")
def planted_page(faulty, tmp_path_factory):
    out = tmp_path_factory.mktemp("html") / "check.html"
    assert main(["check", str(faulty), "--no-decode", "--html", str(out)]) == 1
    return out, Page(out.read_text(encoding="utf-8"))


@pytest.mark.parametrize("what,fragment,session", PROBLEMS, ids=[p[0] for p in PROBLEMS])
def test_every_planted_problem_is_a_problem_row_of_its_session(planted_page, what, fragment, session):
    _, page = planted_page
    rows = [f for f in page.findings() if fragment in f[3]]
    assert rows, f"{what}: {fragment!r} not in a row of the page"
    assert {(section, level) for section, level, _, _ in rows} == {(f"session-{session}", "problem")}


@pytest.mark.parametrize("what,fragment,session", NOTES, ids=[n[0] for n in NOTES])
def test_every_planted_note_is_a_note_row_of_its_session(planted_page, what, fragment, session):
    _, page = planted_page
    rows = [f for f in page.findings() if fragment in f[3] and f[0] == f"session-{session}"]
    assert rows and {level for _, level, _, _ in rows} == {"note"}, f"{what}: {fragment!r}"


def test_the_page_holds_every_finding_once_and_the_counts(planted_page, faulty):
    _, page = planted_page
    result = check_split(faulty, decode=False)
    rows = page.findings()
    assert len(rows) == len(result.problems) + len(result.notes)
    assert sorted((level, kind) for _, level, kind, _ in rows) == sorted(
        (f.level, f.kind) for f in result.problems + result.notes)
    kinds = {r["cells"][1]: (r["class"], int(r["cells"][2])) for r in page.rows
             if r["section"] == "kinds" and r["class"]}
    assert kinds["cue_overlap"] == ("note", 2) and kinds["frame_rate"] == ("problem", 1)


def test_links_are_absolute_file_uris_of_existing_files(planted_page, faulty):
    _, page = planted_page
    files = [link for link in page.links if link.startswith("file://")]
    assert len(files) >= 20
    for link in files:
        path = Path(unquote(urlparse(link).path))
        assert path.is_absolute() and path.exists(), link
    linked = {Path(unquote(urlparse(link).path)) for link in files}
    assert faulty.resolve() / "session_00" / "labels" / "spk_2.vtt" in linked
    assert all(link.startswith(("file://", "#")) for link in page.links), page.links


def test_the_page_is_self_contained(planted_page):
    out, page = planted_page
    assert not page.tags & {"script", "link", "img", "iframe", "object", "embed"}
    assert not [value for name, value in page.attributes if name in ("src", "srcset")]
    assert "http://" not in out.read_text() and "https://" not in out.read_text()
    assert "style" in page.tags


def test_text_is_escaped():
    finding = Problem("/data/x<y>.vtt", "/data/x<y>.vtt:3: cue <b>bold</b> & more", "s&<1>", "problem", "vtt")
    result = CheckResult(root="/data", sessions=1, files=1, problems=[finding], session_names=["s&<1>"])
    text = render_html(result)
    page = Page(text)
    assert "b" not in page.cell_tags and "&lt;b&gt;bold&lt;/b&gt; &amp; more" in text
    assert page.findings() == [("session-s&<1>", "problem", "vtt", "x<y>.vtt:3: cue <b>bold</b> & more")]


def test_clean_split_page_has_the_segment_report_and_is_deterministic(dev_split, tmp_path, capsys):
    root, _ = dev_split
    pages = []
    for k in range(2):
        out = tmp_path / f"check{k}.html"
        assert main(["check", str(root), "--no-decode", "--html", str(out), "--json", str(tmp_path / "c.json"),
                     "--cache-dir", str(tmp_path / "cache")]) == 0
        pages.append(out.read_bytes())
    capsys.readouterr()
    assert pages[0] == pages[1]
    page = Page(pages[0].decode())
    report = json.loads((tmp_path / "c.json").read_text())["segments"]
    table = [r for r in page.rows if r["section"] == "segments"]
    header = next(r["cells"] for r in table if r["class"] == "")
    total = next(dict(zip(header, r["cells"])) for r in table if r["class"] == "total")
    assert int(total["kept"]) == report["report"]["total"]["kept"] == report["count"] > 0
    assert int(total["cues"]) == sum(report["report"]["total"].values())
    speakers = [r for r in table if r["class"] == "speaker"]
    assert len(speakers) == sum(len(s) for s in report["report"]["splits"]["dev"].values())
    assert not [r for r in page.rows if r["class"] == "problem"]


CHROMIUM = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(name)), None)
#: The window the screenshot is taken at (pixels).
WINDOW = (1000, 700)


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (apt-get install chromium) for the screenshot")
def test_headless_chromium_renders_the_page(planted_page, tmp_path):
    out, _ = planted_page
    png = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--user-data-dir={tmp_path / 'profile'}", f"--window-size={WINDOW[0]},{WINDOW[1]}",
                    f"--screenshot={png}", out.resolve().as_uri()],
                   check=True, capture_output=True, timeout=120)
    with av.open(str(png)) as container:
        image = next(container.decode(video=0)).to_ndarray(format="rgb24")
    assert image.shape == (WINDOW[1], WINDOW[0], 3)
    assert image.std() > 10 and len(np.unique(image.reshape(-1, 3), axis=0)) > 50  # not blank
    problem_red = np.all(np.abs(image.astype(int) - (0xb4, 0x23, 0x18)) < 24, axis=-1)
    assert problem_red.sum() > 100  # the problem rows' marks are drawn: the CSS applied
