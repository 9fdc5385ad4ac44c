"""Every chapter runs top to bottom as a notebook, as Jupyter Book runs it
(tests/notebooks.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from notebooks import execute_chapter, keep_execution

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted(
    p for p in (ROOT / "chapters").glob("*.md") if "{code-cell}" in p.read_text(encoding="utf-8")
)


@pytest.mark.chapters
@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_chapter_executes(path):
    notebook = execute_chapter(path)  # raises, with the traceback, on any failing cell
    errors = [
        out
        for cell in notebook.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]
    assert not errors, errors
    # A warning printed in a cell (overflow, deprecation, ...) would be shown to readers.
    stderr = [
        out["text"]
        for cell in notebook.cells
        if cell.cell_type == "code"
        for out in cell.get("outputs", [])
        if out.get("output_type") == "stream" and out.get("name") == "stderr"
    ]
    assert not stderr, stderr
    keep_execution(path, notebook)  # the determinism test of the built site compares with it


def test_every_chapter_is_in_the_toc():
    """No orphan chapter and no dangling toc entry."""
    yaml = pytest.importorskip("yaml")
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    listed = {toc["root"]}

    def walk(node):
        for key in ("chapters", "sections", "parts"):
            for child in node.get(key, []) or []:
                if "file" in child:
                    listed.add(child["file"])
                walk(child)

    walk(toc)
    on_disk = {f"chapters/{p.stem}" for p in (ROOT / "chapters").glob("*.md")}
    assert listed == on_disk
