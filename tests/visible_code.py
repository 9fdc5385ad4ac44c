"""How many lines of code a reader sees on a built chapter page, with every fold closed.

The measure (used by ``tests/test_site.py``'s visible-code budget, and runnable on any built
site: ``python tests/visible_code.py _build/html`` prints it per chapter):

- a *code line* is a non-blank line of the code of a code-cell input: the ``<pre>`` in a
  ``div.cell_input``, which myst-nb writes for a ``{code-cell}`` (blank lines do not count,
  nor the copy button's text);
- it is *visible* unless the ``div.cell_input`` sits inside an element that is closed when
  the page loads:

  * a ``<details>`` element without the ``open`` attribute: myst-nb's ``hide-input`` and
    ``hide-cell`` tags (``details.hide`` inside ``.cell.tag_hide-input`` / ``tag_hide-cell``),
    sphinx-design's ``{dropdown}``, a ``<details>`` written by hand;
  * an element sphinx-togglebutton collapses on load (its selector ``.toggle,
    .admonition.dropdown``, except one carrying ``toggle-shown``): an exercise solution or an
    admonition with ``:class: dropdown``, a ``{toggle}``;
  * an element carrying ``toggle-hidden`` (the class sphinx-togglebutton gives a collapsed
    item at run time) or the tag classes ``tag_hide-input`` / ``tag_hide-cell``;

- cells tagged ``remove-input`` / ``remove-cell`` have no ``div.cell_input`` and count 0.

Code in the text (``` ``` ``` blocks, inline code), outputs and the API page's docstring
examples are not code cells and are not counted. The browser test checks that this static
measure equals the lines Chromium actually renders on page load.
"""

from __future__ import annotations

import sys
from pathlib import Path

from bs4 import BeautifulSoup, Tag


def _closed_on_load(el: Tag) -> bool:
    classes = set(el.get("class") or [])
    if el.name == "details" and not el.has_attr("open"):
        return True
    if classes & {"toggle-hidden", "tag_hide-input", "tag_hide-cell"}:
        return True
    togglebutton = "toggle" in classes or {"admonition", "dropdown"} <= classes
    return togglebutton and "toggle-shown" not in classes


def code_lines(cell_input: Tag) -> int:
    """Non-blank lines of the code (``<pre>``) of one ``div.cell_input``."""
    return sum(
        1 for pre in cell_input.select("pre") for line in pre.get_text().splitlines()
        if line.strip()
    )


def visible_code_lines(html: str) -> dict[str, int]:
    """``{"visible": n, "folded": m, "cells": c}`` for one page's HTML (see module docstring)."""
    soup = BeautifulSoup(html, "html.parser")
    counts = {"visible": 0, "folded": 0, "cells": 0}
    for cell_input in soup.select("div.cell_input"):
        n = code_lines(cell_input)
        folded = any(_closed_on_load(parent) for parent in cell_input.parents)
        counts["folded" if folded else "visible"] += n
        counts["cells"] += 1
    return counts


def chapter_counts(site: Path) -> dict[str, dict[str, int]]:
    """The measure for every page ``site/chapters/*.html``, by chapter stem."""
    return {
        page.stem: visible_code_lines(page.read_text(encoding="utf-8"))
        for page in sorted((site / "chapters").glob("*.html"))
    }


if __name__ == "__main__":
    site = Path(sys.argv[1] if len(sys.argv) > 1 else "_build/html")
    for stem, counts in chapter_counts(site).items():
        print(f"{stem:20s} visible {counts['visible']:4d}  folded {counts['folded']:4d}  "
              f"cells {counts['cells']:3d}")
