"""The notebook a reader downloads from a chapter page (``_sources/chapters/NAME.ipynb``).

Two kinds of test:

- the conversion itself (``chapters/_ext/rolling_site.py``: ``ReaderMarkdown``), on small
  MyST texts, with no build: glued values formatted as the book formats them, directives and
  roles turned into plain Markdown (part of ``make unit``);
- ``-m notebooks`` (``make notebooks``, part of ``make test`` after the book build): every
  download of the built site is a valid notebook with the book's outputs, no ``{glue`` role,
  no MyST directive or role, no ``myst_nb`` import; and two chapters' downloads (the shortest
  and one with glued numbers, theorems, proofs and exercises) run top to bottom in a fresh
  virtual environment that has only the README's install line, ``pip install ".[book]"``
  from this checkout, plus ``nbclient`` to drive them. The environment is made once per
  session; set ``NOTEBOOK_VENV`` to a folder to keep it (and reuse it on the next run).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"
DOWNLOADS = SITE / "_sources" / "chapters"
sys.path.insert(0, str(ROOT / "chapters" / "_ext"))

# Executed in the fresh environment: the shortest chapter, and one with glue, theorems,
# proofs, exercises and solutions.
RUN_IN_FRESH_VENV = ["adadelta", "nesterov"]
DIRECTIVE_FENCE = re.compile(r"^\s*(`{3,}|:{3,})\s*\{", re.MULTILINE)
ROLE = re.compile(r"\{[A-Za-z][\w:.-]*\}`")
TARGET = re.compile(r"^\s*\([^()\s]+\)=\s*$", re.MULTILINE)


def reader(glue=None, index=None):
    from rolling_site import ReaderMarkdown

    return ReaderMarkdown(glue or {}, index)


# --- the conversion, without a build ------------------------------------------------------


def test_glue_roles_are_formatted_as_the_book_formats_them():
    glue = {
        "x": {"text/plain": "0.0123456"},
        "n": {"text/plain": "1234"},
        "s": {"text/plain": "'slow'"},
        "v": {"text/plain": "np.float64(2.5)"},
    }
    text = "a {glue:text}`x:.3f`, {glue:text}`x:.1e`, {glue:text}`n:,d`, {glue:text}`s` {glue}`n`"
    assert reader(glue).convert(text) == "a 0.012, 1.2e-02, 1,234, slow 1234"
    # the book itself: myst_nb formats the text/plain repr the same way
    from myst_nb.core.variables import format_plain_text

    assert reader(glue).convert("{glue:text}`x:.2%`") == format_plain_text("0.0123456", ".2%")
    with pytest.raises(KeyError):
        reader(glue).convert("{glue:text}`missing:.2f`")
    assert reader(glue).convert("`{glue:text}` is a role") == "`{glue:text}` is a role"


def test_directives_and_roles_become_plain_markdown():
    index = {
        "labels": {"thm-a": "Theorem 2.1", "sec-b": "The slope", "eq-c": "(2.3)"},
        "numbers": {"thm-a": "Theorem 2.1", "ex-1": "Exercise 2.1"},
        "cites": {"kingma2015": ("Kingma and Ba", "2015")},
        "bib": {"kingma2015": "Kingma and Ba. Adam. 2015."},
    }
    source = "\n".join([
        "(sec-b)=",
        "## The slope",
        "% a comment",
        "```{prf:theorem} A title with $x$",
        ":label: thm-a",
        "",
        "Body {cite:p}`kingma2015`.",
        "```",
        "",
        "````{prf:proof}",
        "By {ref}`sec-b`, {prf:ref}`thm-a`, {eq}`eq-c` and {ref}`that <sec-b>`.",
        "```python",
        "x = 1",
        "```",
        "````",
        "",
        "```{exercise}",
        ":label: ex-1",
        "",
        "Do it, as {cite:t}`kingma2015` did.",
        "```",
        "",
        "````{solution-start} ex-1",
        ":class: dropdown",
        "````",
        "Answer.",
        "````{solution-end}",
        "````",
        ":::{admonition} The answer",
        ":class: tip",
        "Yes.",
        ":::",
        "$$",
        "y = x",
        "$$ (eq-c)",
        "```{bibliography}",
        ":filter: docname in docnames",
        "```",
    ])
    out = reader(index=index).convert(source)
    assert not DIRECTIVE_FENCE.search(out) and not ROLE.search(out) and not TARGET.search(out)
    assert "% a comment" not in out
    assert "> **Theorem 2.1** (A title with $x$)" in out
    assert "> Body (Kingma and Ba, 2015)." in out
    assert "**Proof.** By The slope, Theorem 2.1, (2.3) and that." in out
    assert "```python\nx = 1\n```" in out  # a code block stays a code block
    assert "> Do it, as Kingma and Ba (2015) did." in out
    assert "**Solution to Exercise 2.1**\nAnswer.\n*(end of the solution)*" in out
    assert "> **The answer**\n>\n> Yes." in out
    assert "y = x\n\\tag{2.3}$$" in out
    assert out.endswith("\n- Kingma and Ba. Adam. 2015.")


def test_glue_directives_paste_the_value():
    glue = {
        "fig": {"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"},
        "eq": {"text/latex": "$\\displaystyle x^{2}$", "text/plain": "x**2"},
    }
    out = reader(glue).convert(
        "```{glue:figure} fig\n:alt: a plot\n\nThe caption {glue:text}`eq`.\n```\n"
        "```{glue:math} eq\n```"
    )
    assert out == (
        "![a plot](data:image/png;base64,iVBORw0KGgo=)\n\nThe caption x**2.\n$$\nx^{2}\n$$"
    )


# --- the built site ------------------------------------------------------------------------


def downloads() -> list[Path]:
    return sorted(DOWNLOADS.glob("*.ipynb")) if DOWNLOADS.is_dir() else []


def chapters_with_kernel() -> list[str]:
    return sorted(
        md.stem
        for md in (ROOT / "chapters").glob("*.md")
        if "kernelspec:" in md.read_text(encoding="utf-8").split("\n---", 1)[0]
    )


@pytest.mark.notebooks
def test_every_notebook_chapter_has_a_download():
    if not SITE.is_dir():
        pytest.fail(f"no book in {SITE}: run 'make book' or 'make build-clean' first")
    built = [s for s in chapters_with_kernel() if (SITE / "chapters" / f"{s}.html").is_file()]
    assert built, "no chapter page in the built book"
    assert sorted(p.stem for p in downloads()) == built


@pytest.mark.notebooks
@pytest.mark.parametrize("stem", chapters_with_kernel())
def test_download_reads_without_the_book(stem):
    """Valid, executed (every code cell has the book's execution count, outputs present),
    nothing left that only the book renders: no {glue role, no MyST directive or role, no
    (label)= target, no myst_nb import, no invisible glue record among the outputs."""
    nbformat = pytest.importorskip("nbformat")
    path = DOWNLOADS / f"{stem}.ipynb"
    if not path.is_file():
        pytest.fail(f"no download {path}: build the book first")
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    markdown = "\n\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    assert code and all(isinstance(cell.execution_count, int) for cell in code)
    # a chapter's glue-only cells show nothing (their records are taken out), so not every
    # cell has outputs; a download without the book's outputs would have none or almost none
    assert sum(bool(cell.outputs) for cell in code) >= max(1, len(code) // 5), "outputs missing"
    assert "{glue" not in markdown
    for pattern in (DIRECTIVE_FENCE, ROLE, TARGET):
        found = pattern.search(markdown)
        assert not found, f"{stem}: MyST left in the text: {markdown[found.start():][:120]!r}"
    assert not any("myst_nb" in cell.source for cell in code)
    for cell in code:
        for output in cell.outputs:
            mimes = output.get("data", {})
            assert not any(m.startswith("application/papermill") for m in mimes), output


# --- the fresh virtual environment --------------------------------------------------------

RUNNER = """\
import sys, nbformat, nbclient
notebook = nbformat.read(sys.argv[1], as_version=4)
nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3").execute()
nbformat.write(notebook, sys.argv[2])
"""


def package_copy(dest: Path) -> Path:
    """What ``pip install .`` reads from a clone (building in a copy keeps ``build/`` and
    ``*.egg-info`` out of the working tree)."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "optlib", dest / "optlib",
                    ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True)
    return dest


@pytest.fixture(scope="session")
def fresh_venv(tmp_path_factory):
    """A new virtual environment with ``pip install ".[book]" nbclient`` from this checkout;
    its python, and the seconds the set-up took."""
    home = Path(os.environ["NOTEBOOK_VENV"]) if os.environ.get("NOTEBOOK_VENV") else None
    venv = home or tmp_path_factory.mktemp("fresh") / "venv"
    python = venv / "bin" / "python"
    start = time.perf_counter()
    if not python.is_file():
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", str(venv)], check=True)
    src = package_copy(tmp_path_factory.mktemp("checkout") / "optlib-src")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         f"{src}[book]", "nbclient"],
        check=True,
    )
    return python, time.perf_counter() - start


@pytest.mark.notebooks
@pytest.mark.parametrize("stem", RUN_IN_FRESH_VENV)
def test_download_runs_in_a_fresh_venv(stem, fresh_venv, tmp_path):
    """The download runs top to bottom, outside the repository, with only optlib[book]."""
    python, setup_seconds = fresh_venv
    path = DOWNLOADS / f"{stem}.ipynb"
    if not path.is_file():
        pytest.fail(f"no download {path}: build the book first")
    imports = subprocess.run(
        [str(python), "-c", "import myst_nb"], capture_output=True, text=True
    )
    assert imports.returncode != 0, "myst_nb is in the fresh venv: the test would prove nothing"
    notebook = tmp_path / path.name
    shutil.copy2(path, notebook)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(PATH=f"{python.parent}{os.pathsep}{env.get('PATH', '')}",
               JUPYTER_DATA_DIR=str(tmp_path / "jupyter"), MPLBACKEND="Agg")
    start = time.perf_counter()
    run = subprocess.run(
        [str(python), "-c", RUNNER, str(notebook), str(tmp_path / "ran.ipynb")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900,
    )
    seconds = time.perf_counter() - start
    assert run.returncode == 0, f"{stem}: {run.stderr[-4000:]}"
    ran = json.loads((tmp_path / "ran.ipynb").read_text(encoding="utf-8"))
    errors = [o for c in ran["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert not errors
    print(f"\n{stem}: fresh venv set-up {setup_seconds:.0f} s (once), executed in {seconds:.0f} s")


def imported_modules(code: str) -> set[str]:
    """Top-level module names that ``code`` (a code cell, IPython magics left out) imports."""
    import ast

    lines = [line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))]
    names = set()
    for node in ast.walk(ast.parse("\n".join(lines))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.notebooks
def test_every_import_of_every_download_resolves_in_the_fresh_venv(fresh_venv):
    """What every chapter imports (not only the two chapters run) is in optlib[book]."""
    nbformat = pytest.importorskip("nbformat")
    python, _ = fresh_venv
    if not downloads():
        pytest.fail(f"no downloads in {DOWNLOADS}: build the book first")
    wanted: dict[str, set[str]] = {}
    for path in downloads():
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                for name in imported_modules(cell.source):
                    wanted.setdefault(name, set()).add(path.stem)
    assert {"optlib", "numpy", "sympy", "matplotlib", "IPython"} <= set(wanted)
    check = subprocess.run(
        [str(python), "-c",
         "import importlib.util, sys\n"
         "print(' '.join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))",
         *sorted(wanted)],
        capture_output=True, text=True, check=True,
    )
    missing = check.stdout.split()
    assert not missing, {name: sorted(wanted[name]) for name in missing}
