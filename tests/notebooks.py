"""Executing a chapter as Jupyter Book does: jupytext reads the MyST text notebook, nbclient
runs it with the chapter's folder as working directory. Shared by the chapter tests and the
determinism test of the built site."""

from __future__ import annotations

import os
from pathlib import Path


def execute_chapter(path: Path):
    """The chapter at ``path`` as an executed notebook (raises ``CellExecutionError``, with the
    traceback, on any failing cell)."""
    import jupytext
    import nbclient

    notebook = jupytext.read(path)
    client = nbclient.NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(Path(path).parent)}},
    )
    client.execute()
    return notebook


# `make chapters` keeps each chapter's execution here, and the determinism test of the built
# site (tests/test_site.py) compares the book's own execution with it instead of running every
# chapter a third time. A kept notebook is used only if its code is the chapter's current code.
EXECUTED = Path(os.environ.get("ROLLING_BUILD", Path(__file__).resolve().parent.parent / "_build")
                ) / "executed"


def _code(notebook) -> list[str]:
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def keep_execution(path: Path, notebook) -> None:
    """Save the executed notebook of chapter ``path`` for :func:`executed_chapter`."""
    import nbformat

    EXECUTED.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, EXECUTED / f"{Path(path).stem}.ipynb")


def executed_chapter(path: Path):
    """The chapter executed: the execution `make chapters` kept, if it ran the current code;
    otherwise a fresh one (:func:`execute_chapter`)."""
    import jupytext
    import nbformat

    kept = EXECUTED / f"{Path(path).stem}.ipynb"
    if kept.is_file():
        notebook = nbformat.read(kept, as_version=4)
        if _code(notebook) == _code(jupytext.read(path)):
            return notebook
    return execute_chapter(path)
