"""Hooks of the documentation site (mkdocs.yml): the docstrings read as Sphinx would show them.

* :class:`ImportTimeDocstrings` (a griffe extension, mkdocs.yml ``extensions``): a docstring that
  the code completes at import time is completed the same way for the site: ``{options}`` in
  :class:`~mcorec_torch.MCoRecDataset`'s docstring becomes the options table of docs/options.md
  (``options_markdown``), so the site and ``help()`` list the same options.
* :func:`on_page_content` (a MkDocs hook, mkdocs.yml ``hooks``): Sphinx roles
  (``:class:`~mcorec_torch.index.DatasetOptions```), which mkdocstrings renders as the role's
  text followed by inline code, show only the code, as Sphinx would: ``~`` keeps the last part of
  the dotted name, a leading ``.`` is dropped, ``title <target>`` shows the title; a paragraph
  ending in ``::`` (an RST literal block follows) ends in ``:``.
"""
from __future__ import annotations

import re
import textwrap
from typing import Any

import griffe

#: The placeholder ``mcorec_torch.data.dataset`` fills with ``options_table()`` at import.
OPTIONS_PLACEHOLDER = "{options}"
#: ``:role:`` then the inline code mkdocstrings made of its target.
ROLE = re.compile(r":(?:py:)?(?:class|func|meth|attr|data|mod|exc|obj|const):<code>([^<]*)</code>")


def with_options_table(docstring: str) -> str:
    """``docstring`` with its ``{options}`` line replaced by the Markdown options table. The
    placeholder line is not indented in the source, so the other lines are dedented here."""
    from mcorec_torch.index.options import options_markdown  # torch-free

    first, _, rest = docstring.partition("\n")
    rest = textwrap.dedent(re.sub(rf"^{re.escape(OPTIONS_PLACEHOLDER)}$", "", rest, flags=re.M))
    return f"{first}\n{rest.rstrip()}\n\n{options_markdown()}"


class ImportTimeDocstrings(griffe.Extension):
    """Complete the docstrings that the code completes at import time (see the module)."""

    def on_class_instance(self, *, cls: griffe.Class, **kwargs: Any) -> None:
        if cls.docstring is not None and OPTIONS_PLACEHOLDER in cls.docstring.value:
            cls.docstring.value = with_options_table(cls.docstring.value)


def shown_name(target: str) -> str:
    """The text Sphinx shows for a role's ``target`` (HTML-escaped, as in the page)."""
    titled = re.fullmatch(r"(.+?)\s*&lt;(.+)&gt;", target)  # `title <target>`
    if titled:
        return titled.group(1)
    if target.startswith("~"):
        return target[1:].rsplit(".", 1)[-1]
    return target.lstrip(".")


def on_page_content(html: str, **_: Any) -> str:
    html = ROLE.sub(lambda match: f"<code>{shown_name(match.group(1))}</code>", html)
    return html.replace("::</p>", ":</p>")
