"""Executing a chapter as Jupyter Book does: jupytext reads the MyST text notebook, nbclient
runs it with the chapter's folder as working directory. Shared by the chapter tests and the
determinism test of the built site."""

from __future__ import annotations

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
