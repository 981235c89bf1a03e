"""The documentation site (mkdocs.yml): it builds with ``--strict`` (a broken link, anchor or API
reference fails), holds every guide and the API reference rendered from the docstrings, and
``python3 dev.py docs`` serves or builds it. Needs the ``docs`` extra; skipped without it."""
import ast
import html
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def load_dev():
    spec = importlib.util.spec_from_file_location("dev", ROOT / "dev.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def nav_pages(nav) -> list:
    """The Markdown files mkdocs.yml's ``nav`` lists, at any depth."""
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, dict):
        return [page for value in nav.values() for page in nav_pages(value)]
    return [page for entry in nav for page in nav_pages(entry)]


def class_docstring(path: Path, name: str) -> str:
    """The docstring of class ``name`` in the source file ``path``, read without importing it."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return next(ast.get_docstring(node) for node in ast.walk(tree)
                if isinstance(node, ast.ClassDef) and node.name == name)


def page_text(site: Path, page: str) -> str:
    """The text of a built page (tags removed, entities decoded, whitespace collapsed)."""
    text = re.sub(r"<[^>]+>", " ", (site / page).read_text(encoding="utf-8"))
    return re.sub(r"\s+", " ", html.unescape(text))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    for extra in ("mkdocs", "material", "mkdocstrings", "mkdocstrings_handlers.python"):
        pytest.importorskip(extra, reason=f"the docs extra is not installed ({extra}): pip install -e '.[docs]'")
    out = tmp_path_factory.mktemp("site")
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
                           cwd=ROOT, capture_output=True, text=True, timeout=300,
                           env=dict(os.environ, NO_MKDOCS_2_WARNING="1"))
    assert built.returncode == 0, f"mkdocs build --strict failed:\n{built.stdout}\n{built.stderr}"
    return out


def test_every_page_of_docs_is_in_the_navigation():
    """A new guide or API page must be added to mkdocs.yml's nav (mkdocs only logs one that is not)."""
    yaml = pytest.importorskip("yaml")
    class Loader(yaml.SafeLoader):  # mkdocs.yml names a Python function (the heading slugs): not needed here
        pass

    Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: None)
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=Loader)
    listed = set(nav_pages(config["nav"]))
    pages = {path.relative_to(DOCS).as_posix() for path in DOCS.rglob("*.md")}
    assert pages - listed == set(), f"docs pages missing from mkdocs.yml's nav: {sorted(pages - listed)}"
    assert listed - pages == set(), f"mkdocs.yml's nav lists missing pages: {sorted(listed - pages)}"


def test_the_guides_are_pages_of_the_site(site):
    options = page_text(site, "options/index.html")
    assert "Dataset options and samples" in options
    assert "min_video_coverage" in options
    assert "Where to go next" in page_text(site, "index.html")


def test_the_api_reference_renders_the_docstrings(site):
    docstring = class_docstring(ROOT / "mcorec_torch" / "data" / "dataset.py", "MCoRecDataset")
    first_sentence = re.sub(r"\s+", " ", docstring.split(".")[0])
    dataset_page = page_text(site, "api/dataset/index.html")
    assert first_sentence in dataset_page
    # the options table the code fills in at import time is filled in here too (docs/hooks.py)
    assert "{options}" not in dataset_page
    assert "min_video_coverage 0.5 fraction" in dataset_page
    assert "BucketBatchSampler" in page_text(site, "api/batching/index.html")


def test_sphinx_roles_show_as_sphinx_shows_them(site):
    """``:class:`~mcorec_torch.index.DatasetOptions``` reads ``DatasetOptions``, not the role."""
    for page in sorted((site / "api").rglob("index.html")):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r":(class|func|meth|attr|data|mod|exc):<code>", text), page
    assert "options of DatasetOptions (keyword-only" in page_text(site, "api/dataset/index.html")


def test_dev_py_docs_serves_or_builds_strictly():
    dev = load_dev()
    assert dev.docs_args([]) == ["serve"]
    assert dev.docs_args(["-a", "127.0.0.1:8001"]) == ["serve", "-a", "127.0.0.1:8001"]
    assert dev.docs_args(["--build"]) == ["build", "--strict", "--site-dir", str(ROOT / "site")]
    assert dev.docs_args(["--build", "out", "-q"]) == ["build", "--strict", "--site-dir", str(Path("out").resolve()), "-q"]
    assert "dev.py docs" in dev.__doc__


def test_heading_anchors_are_those_tests_test_docs_checks_links_against(site):
    """A guide's heading anchors are GitHub's on the site too, so one link works in both places."""
    spec = importlib.util.spec_from_file_location("docs_checks", ROOT / "tests" / "test_docs.py")
    docs_checks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(docs_checks)
    for page in sorted(DOCS.glob("*.md")):
        built = (site / ("index.html" if page.stem == "index" else f"{page.stem}/index.html")).read_text(encoding="utf-8")
        ids = set(re.findall(r'\bid="([^"]+)"', built))
        missing = docs_checks.anchors(page) - ids
        assert not missing, f"{page.name}: headings whose anchor on the site differs from GitHub's: {sorted(missing)}"
