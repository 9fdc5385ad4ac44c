"""Site infrastructure for the Rolling Downhill book (a local Sphinx extension).

Loaded by ``_config.yml`` (``sphinx: local_extensions: {rolling_site: chapters/_ext}``). It
does seven things that Jupyter Book 1 does not do on its own:

1. **Offline math.** MathJax 3 is served by the site itself. The files come from the PyPI
   package ``django-static-mathjax`` (pinned in ``requirements.txt``; it installs the whole
   MathJax 3.2.2 distribution as the package ``mathjax``). At the end of an HTML build the
   ``es5`` components that a page can load (the ``tex-mml-chtml.js`` bundle, the TeX
   extensions loaded on demand, the CHTML and SVG outputs with their fonts, the menu and the
   accessibility/speech components) are copied to ``_static/mathjax/``; ``mathjax_path`` in
   ``_config.yml`` points at that copy with a relative path, so pages opened from disk load it.
   Every page loads it (a title with math shows in the navigation of every page).
2. **No third-party requests.** sphinx-thebe writes a ``https://unpkg.com/thebe`` URL and a
   Binder configuration into every page; live code on Binder needs the network and is not
   offered, so its two page hooks are disconnected. Matplotlib's ``to_jshtml`` animations
   link Font Awesome 4 from ``maxcdn.bootstrapcdn.com`` for their button icons; the link is
   removed from the HTML outputs (the theme's own Font Awesome 6 draws the same icons).
3. **Notebook downloads.** Every chapter is a MyST text notebook; the page offers it as an
   ``.ipynb`` for plain Jupyter (``_sources/chapters/NAME.ipynb``, in the theme's download
   menu): jupytext's conversion with the outputs of the book's own execution (from MyST-NB's
   execution cache, so a cached rebuild writes the same file), the glued numbers written in
   as text (formatted by MyST-NB's own function), theorems, proofs, exercises, solutions and
   admonitions as plain Markdown, references and citations as the book prints them, and
   ``from myst_nb import glue`` replaced by a stand-in, so that it runs with ``optlib[book]``
   alone (the theme offers a download by itself only when a Binder/Colab launch button is
   configured, and then copies MyST-NB's ``jupyter_execute`` notebook, which lacks outputs
   after a cache hit).
4. **Cache aware of optlib.** The execution cache keys on the code cells only, so a change to
   ``optlib`` would not re-run cached chapters. The SHA-256 of ``optlib/*.py`` is stored in
   ``_build/.optlib-hash`` after each successful build; when it differs (or is missing), the
   execution cache is deleted and every document is re-read, so every chapter re-executes. A
   rebuild with nothing changed re-executes nothing.
5. **One search box.** pydata-sphinx-theme 0.17.1 would add a header bar holding a second
   search field above the sidebar's; ``navbar_persistent`` is set empty, as sphinx-book-theme
   means it to be.
6. **Explorable figures.** Bokeh's two minified bundles (``bokeh.min.js``,
   ``bokeh-widgets.min.js``, from the installed ``bokeh`` wheel) are added to
   ``html_static_path`` by absolute path, so Sphinx copies them to ``_static/`` once for the
   whole site; the ``<script>`` tags are added (in ``<head>``, without ``defer``) only to the
   pages whose body holds an explorable (``optlib.explorables.MARKER``). The execution cache
   is also keyed on Bokeh's version (item 4), so cached outputs never meet other BokehJS.
7. **Chapters executed side by side.** MyST-NB executes each notebook when Sphinx reads it,
   one after the other, so a clean build used one core. Before the reading starts, the
   chapters that will be read and are not in the execution cache are executed in worker
   processes, as many at once as the machine has cores (at most ``MAX_WORKERS``), each with
   MyST-NB's own reader, its execution function and its settings (cwd, timeout), longest
   source first; each success is stored in MyST-NB's cache exactly as MyST-NB stores it, so
   the reading then finds every chapter cached. A chapter that fails here is not stored:
   MyST-NB executes it again itself and reports the failure as always (``-W`` fails the
   build). The log gives each chapter's time (``[rolling_site] executed ... in N s``).
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)

# What is copied from mathjax/static/mathjax/es5 (everything a page may load at run time);
# the other combined bundles (tex-svg.js, mml-chtml.js, ...) are never loaded by our pages,
# and latest.js is MathJax's CDN redirector.
MATHJAX_BUNDLE = "tex-mml-chtml.js"
MATHJAX_PARTS = [
    MATHJAX_BUNDLE,
    "core.js",
    "loader.js",
    "startup.js",
    "a11y",
    "adaptors",
    "input",
    "output",
    "sre",
    "ui",
]
MATHJAX_STATIC_DIR = "mathjax"  # under _static/
HASH_FILE = ".optlib-hash"  # under _build/


def mathjax_source() -> Path:
    """The ``es5`` folder of the MathJax distribution installed from PyPI."""
    import mathjax  # django-static-mathjax

    src = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (src / MATHJAX_BUNDLE).is_file():
        raise FileNotFoundError(f"MathJax not found at {src}: pip install django-static-mathjax")
    return src


def optlib_hash(srcdir: Path) -> str:
    """SHA-256 over the names and contents of ``optlib/*.py``."""
    digest = hashlib.sha256()
    for path in sorted((srcdir / "optlib").glob("*.py")):
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


# --- 4. execution cache keyed on optlib's source ------------------------------------------


def _check_optlib(app: Sphinx, config: Any) -> None:
    build_dir = Path(app.outdir).parent
    current = optlib_hash(Path(app.srcdir)) + " " + explorable_library_version()
    stamp = build_dir / HASH_FILE
    previous = stamp.read_text().strip() if stamp.is_file() else None
    app.rolling_optlib_hash = current  # type: ignore[attr-defined]
    app.rolling_optlib_changed = previous != current  # type: ignore[attr-defined]
    if previous == current:
        return
    cache = Path(config.nb_execution_cache_path or build_dir / ".jupyter_cache")
    if not cache.is_absolute():
        cache = Path(app.srcdir) / cache
    if cache.exists():
        logger.info(
            "[rolling_site] optlib changed since the last build: clearing %s", cache, color="red"
        )
        shutil.rmtree(cache)


def _outdated_if_optlib_changed(app: Sphinx, env: Any, added, changed, removed) -> list[str]:
    if getattr(app, "rolling_optlib_changed", False):
        return sorted(env.found_docs - set(added) - set(changed) - set(removed))
    return []


# --- 7. chapters executed side by side ----------------------------------------------------

MAX_WORKERS = 4


def _execute_one(notebook_json: str, cwd: str, timeout: int) -> tuple[str | None, float, str]:
    """Execute one notebook (in a worker process): ``(executed notebook or None, seconds,
    error text)``, with the function MyST-NB's cache mode calls."""
    import nbformat
    from jupyter_cache.executors.utils import single_nb_execution

    notebook = nbformat.reads(notebook_json, as_version=4)
    result = single_nb_execution(notebook, cwd=cwd, allow_errors=False, timeout=timeout,
                                 meta_override=True)
    if result.err is not None:
        first_line = (str(result.err).strip().splitlines() or [""])[0][:200]
        return None, result.time, f"{result.err.__class__.__name__}: {first_line}"
    return nbformat.writes(notebook), result.time, ""


def _execute_ahead(app: Sphinx, env: Any, docnames: list[str]) -> None:
    import fnmatch
    import multiprocessing
    import os
    import time
    from concurrent.futures import ProcessPoolExecutor

    import nbformat
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn
    from myst_nb.core.read import create_nb_reader

    nb_config = env.mystnb_config
    workers = min(MAX_WORKERS, os.cpu_count() or 1)
    if nb_config.execution_mode != "cache" or nb_config.execution_in_temp or workers < 2:
        return
    cache = get_cache(nb_config.execution_cache_path or ".jupyter_cache")
    todo = []
    for docname in docnames:
        path = Path(env.doc2path(docname))
        if path.suffix != ".md":
            continue
        text = path.read_text(encoding="utf-8")
        reader = create_nb_reader(str(path), env.myst_config, nb_config, text)
        if reader is None:
            continue
        notebook = reader.read(text)
        if (not any(cell.cell_type == "code" for cell in notebook.cells)
                or nb_config.metadata_key in notebook.metadata  # its own settings: MyST-NB's
                or any(fnmatch.fnmatch(str(path), pattern)
                       for pattern in nb_config.execution_excludepatterns)):
            continue
        try:
            cache.match_cache_notebook(notebook)
            continue  # cached: nothing to do
        except KeyError:
            todo.append((len(text), path, reader, notebook))
    if len(todo) < 2:
        return
    todo.sort(key=lambda item: -item[0])  # longest first: the last ones to finish are short
    started, done = time.perf_counter(), 0
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=min(workers, len(todo)), mp_context=context) as pool:
        futures = [(path, reader,
                    pool.submit(_execute_one, nbformat.writes(notebook), str(path.parent),
                                nb_config.execution_timeout))
                   for _, path, reader, notebook in todo]
        for path, reader, future in futures:
            name = path.relative_to(app.srcdir)
            try:
                executed, seconds, error = future.result()
            except Exception as exc:  # a worker that died: MyST-NB executes it itself
                executed, seconds, error = None, 0.0, f"{exc.__class__.__name__}: {exc}"
            if executed is None:
                logger.info("[rolling_site] %s failed ahead (%s): MyST-NB runs it again",
                            name, error, color="red")
                continue
            record = cache.add_nb_to_project(str(path), read_data=reader.read_fmt)
            cache.cache_notebook_bundle(
                CacheBundleIn(nbformat.reads(executed, as_version=4), record.uri,
                              data={"execution_seconds": seconds}),
                check_validity=False, overwrite=True)
            logger.info("[rolling_site] executed %s in %.2f s", name, seconds)
            done += 1
    logger.info("[rolling_site] %d of %d chapters executed ahead, %d at a time, in %.1f s",
                done, len(todo), min(workers, len(todo)), time.perf_counter() - started)


# --- 2. no thebe ---------------------------------------------------------------------------


def _disconnect_thebe(app: Sphinx) -> None:
    for listeners in app.events.listeners.values():
        for listener in list(listeners):
            handler = listener.handler
            if getattr(handler, "__module__", "") == "sphinx_thebe" and handler.__name__ in (
                "init_thebe_core",
                "update_thebe_context",
            ):
                app.disconnect(listener.id)
                logger.verbose("[rolling_site] disconnected sphinx_thebe.%s", handler.__name__)


# matplotlib.animation's JS_INCLUDE: <link rel="stylesheet" href="https://maxcdn...">
CDN_STYLESHEET = re.compile(
    r'<link\s+rel="stylesheet"\s+href="https://maxcdn\.bootstrapcdn\.com/font-awesome/[^"]*"\s*/?>'
)


def _strip_cdn_stylesheets(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    for node in list(doctree.findall(nodes.raw)):
        if "html" in node.get("format", "").split() and CDN_STYLESHEET.search(node.astext()):
            text = CDN_STYLESHEET.sub("", node.astext())
            node.replace_self(nodes.raw(node.rawsource, text, **node.attributes))


# --- 3. notebook downloads -----------------------------------------------------------------
#
# The download is the chapter as a reader can run and read it in plain Jupyter: the outputs
# of the book's own execution (read back from MyST-NB's execution cache, which holds the
# executed notebook on a clean build and on a cached rebuild alike), the glued numbers
# written in as text, MyST directives and roles turned into plain Markdown, and
# ``from myst_nb import glue`` replaced by a stand-in that needs no Sphinx.

GLUE_IMPORT = re.compile(r"^(\s*)from\s+myst_nb\s+import\s+glue\s*$", re.MULTILINE)
GLUE_STANDIN = '''\
{indent}def glue(name, value, display=True):
{indent}    """The book's glue, outside the book: shows ``value`` when ``display`` is true."""
{indent}    if display:
{indent}        from IPython.display import display as _display
{indent}        _display(value)'''
GLUE_MIME_PREFIX = "application/papermill.record/"  # myst_nb.ext.glue.GLUE_PREFIX
ROLE_OR_CODE = re.compile(r"\{([A-Za-z][\w:+.-]*)\}`([^`]*)`|(?P<code>`+[^`]*`+)")
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|:{3,})\s*(?P<info>.*?)\s*$")
DIRECTIVE_INFO = re.compile(r"^\{(?P<name>[\w:.-]+)\}\s*(?P<arg>.*)$")
OPTION = re.compile(r"^:(?P<key>[\w-]+):\s*(?P<value>.*)$")
TARGET = re.compile(r"^\s*\((?P<label>[^()\s]+)\)=\s*$")
LABELLED_MATH_END = re.compile(r"^(?P<head>.*)\$\$\s*\((?P<label>[^()\s]+)\)\s*$")
EXPLICIT_TARGET = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.DOTALL)
ADMONITIONS = {
    "note", "tip", "hint", "important", "warning", "caution", "attention", "danger",
    "error", "seealso", "margin", "sidebar", "topic", "epigraph",
}


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line.strip() else ">" for line in text.strip("\n").split("\n"))


class ReaderMarkdown:
    """MyST Markdown of one chapter as plain (Jupyter) Markdown.

    ``glue`` maps a glue key to its MIME bundle (from the executed notebook); ``index`` holds
    what the book resolved while building (see :func:`book_index`): ``labels`` (a label as
    the book prints a reference to it, e.g. "Theorem 3.1", a section title, "(8.1)"),
    ``numbers`` (a labelled block's number as the book prints it, e.g. "Exercise 3.2"),
    ``docs`` (a document's title), ``cites`` (a bibliography key as author and year).
    Unknown labels read as the label itself; an unknown glue key raises ``KeyError``.
    """

    def __init__(self, glue: dict[str, dict], index: dict[str, dict] | None = None):
        self.glue = glue
        self.index = {"labels": {}, "numbers": {}, "docs": {}, "cites": {}, "bib": {}}
        self.index.update(index or {})
        self.cited: list[str] = []
        self.exercises: dict[str, str] = {}
        self.counters: dict[str, int] = {}

    # roles
    def glue_text(self, role: str, text: str) -> str:
        from myst_nb.core.variables import format_plain_text

        kind = role.split(":", 1)[1] if ":" in role else ""
        key, fmt = text, ""
        if kind == "text":
            key, fmt = text.rsplit(":", 1) if ":" in text else (text, "s")
        elif kind == "md":
            key = text.rsplit(":", 1)[0] if ":" in text else text
        key = key.split("::", 1)[-1]
        data = self.glue[key]
        if kind == "md" and "text/markdown" in data:
            return data["text/markdown"]
        if kind in ("", "any") and "text/markdown" in data:
            return data["text/markdown"]
        if kind in ("", "any") and "text/latex" in data:
            return data["text/latex"]
        return format_plain_text(data["text/plain"], fmt)

    def glue_block(self, kind: str, key: str, options: dict[str, str], body: str) -> str:
        """A glue directive (``{glue}``, ``{glue:figure}``, ``{glue:math}``, ``{glue:md}``):
        the value as Markdown, an image as a data URI, with the figure's caption."""
        data = self.glue[key.split("::", 1)[-1]]
        caption = self.convert(body).strip()
        for mime in ("image/svg+xml", "image/png", "image/jpeg"):
            if mime in data and kind in ("", "glue", "any", "figure"):
                payload = data[mime]
                if mime == "image/svg+xml":
                    import base64

                    payload = base64.b64encode(payload.encode()).decode()
                image = f"![{options.get('alt', key)}](data:{mime};base64,{payload})"
                return image + (f"\n\n{caption}" if caption else "")
        if "text/latex" in data and kind in ("", "glue", "any", "math"):
            latex = data["text/latex"].strip().strip("$").removeprefix("\\displaystyle").strip()
            return f"$$\n{latex}\n$$"
        if "text/markdown" in data:
            return data["text/markdown"]
        from myst_nb.core.variables import format_plain_text

        return format_plain_text(data["text/plain"], "")

    def cite(self, role: str, text: str) -> str:
        keys = [k.strip() for k in text.split(",") if k.strip()]
        self.cited += [k for k in keys if k not in self.cited]
        authors = [self.index["cites"].get(k, (f"[{k}]", "")) for k in keys]
        if role.endswith(":t"):
            return "; ".join(f"{a} ({y})" if y else a for a, y in authors)
        return "(" + "; ".join(f"{a}, {y}" if y else a for a, y in authors) + ")"

    def role(self, match: re.Match) -> str:
        role, text = match.group(1), match.group(2)
        if role == "glue" or role.startswith("glue:"):
            return self.glue_text(role, text)
        if role.startswith("cite"):
            return self.cite(role, text)
        if role == "math":
            return f"${text}$"
        explicit = EXPLICIT_TARGET.match(text)
        if role in ("ref", "numref", "doc", "prf:ref", "eq", "term", "any", "abbr"):
            if explicit and role != "eq":
                shown, target = explicit.group("text"), explicit.group("target")
                if role == "numref" and "%s" in shown:
                    number = self.index["labels"].get(target, target).split(" ")[-1]
                    return shown.replace("%s", number)
                return shown
            if role == "doc":
                stem = text.removesuffix(".md").rsplit("/", 1)[-1]
                return self.index["docs"].get(stem, stem)
            if role == "eq":
                return self.index["labels"].get(text, f"({text})")
            return self.index["labels"].get(text, text)
        if role.startswith(("py:", "func", "class", "meth", "attr", "mod", "obj")):
            target = explicit.group("target") if explicit else text
            target = target.lstrip("~!")
            return f"`{target}()`" if role.endswith("func") else f"`{target}`"
        return explicit.group("text") if explicit else text

    def inline(self, text: str) -> str:
        """Roles in ``text`` replaced; inline code left as it is."""
        return ROLE_OR_CODE.sub(lambda m: m.group(0) if m.group("code") else self.role(m), text)

    # directives
    def title_of(self, kind: str, label: str | None) -> str:
        if label and label in self.index["numbers"]:
            return self.index["numbers"][label]
        self.counters[kind] = self.counters.get(kind, 0) + 1
        return f"{kind.title()} {self.counters[kind]}"

    def directive(self, name: str, arg: str, options: dict[str, str], body: str) -> str:
        kind = name.split(":")[-1]
        label = options.get("label")
        arg = self.inline(arg)
        if name.startswith("prf:") and kind == "proof":
            return f"**Proof.** {self.convert(body).strip()} ∎"
        if name.startswith("prf:") or name == "exercise":
            title = self.title_of(kind, label)
            if name == "exercise" and label:
                self.exercises[label] = title
            head = f"**{title}**" + (f" ({arg})" if arg else "")
            return _quote(f"{head}\n\n{self.convert(body).strip()}")
        if name in ("solution-start", "solution"):
            target = arg.strip()
            exercise = self.exercises.get(target) or self.index["numbers"].get(target, target)
            head = f"**Solution to {exercise}**"
            return head if name == "solution-start" else f"{head}\n\n{self.convert(body)}"
        if name == "solution-end":
            return "*(end of the solution)*"
        if name == "admonition" or name in ADMONITIONS:
            title = arg if name == "admonition" else name.title() + (f": {arg}" if arg else "")
            return _quote(f"**{title}**\n\n{self.convert(body).strip()}")
        if name == "math":
            number = self.index["labels"].get(label or "", "").strip("()")
            tag = f"\\tag{{{number}}}" if number else ""
            return f"$$\n{body.strip()}{tag}\n$$"
        if name in ("code", "code-block", "sourcecode"):
            return f"```{arg}\n{body.rstrip()}\n```"
        if name == "bibliography":
            return self.bibliography()
        if name in ("figure", "image"):
            return f"![{self.convert(body).strip()}]({arg})"
        if name == "glue" or name.startswith("glue:"):
            return self.glue_block(kind, arg.strip(), options, body)
        if name == "eval-rst":
            return "*(generated reference documentation: see the book)*"
        return _quote(f"**{arg or name}**\n\n{self.convert(body).strip()}")

    def bibliography(self) -> str:
        keys = sorted((k for k in self.cited if k in self.index["bib"]),
                      key=lambda k: self.index["cites"].get(k, (k, "")))
        return "\n".join("- " + " ".join(self.index["bib"][k].split()) for k in keys)

    def convert(self, text: str) -> str:
        """``text`` (MyST Markdown) as plain Markdown."""
        lines, out, i = text.split("\n"), [], 0
        while i < len(lines):
            line = lines[i]
            fence = FENCE.match(line)
            if TARGET.match(line):
                i += 1
                continue
            if line.lstrip().startswith("%") and not line.lstrip().startswith("%%"):
                i += 1  # a MyST comment
                continue
            if fence is None:
                math_end = LABELLED_MATH_END.match(line)
                if math_end and "$$" in "\n".join(out[-200:]) + math_end.group("head"):
                    number = self.index["labels"].get(math_end.group("label"), "").strip("()")
                    tag = f"\\tag{{{number}}}" if number else ""
                    out.append(self.inline(math_end.group("head")) + f"{tag}$$")
                else:
                    out.append(self.inline(line))
                i += 1
                continue
            marker, info = fence.group("fence"), fence.group("info")
            end = i + 1
            while end < len(lines):
                close = FENCE.match(lines[end])
                if (close and not close.group("info") and close.group("fence")[0] == marker[0]
                        and len(close.group("fence")) >= len(marker)):
                    break
                end += 1
            body_lines = lines[i + 1 : end]
            i = end + 1
            directive = DIRECTIVE_INFO.match(info)
            if directive is None:  # a code block: as it is
                out.append(f"{marker}{info}\n" + "\n".join(body_lines) + f"\n{marker}")
                continue
            options: dict[str, str] = {}
            if body_lines and body_lines[0].strip() == "---":
                stop = body_lines.index("---", 1) if "---" in body_lines[1:] else 0
                for option_line in body_lines[1:stop]:
                    key, _, value = option_line.partition(":")
                    options[key.strip()] = value.strip()
                body_lines = body_lines[stop + 1 :]
            while body_lines and OPTION.match(body_lines[0]):
                option = OPTION.match(body_lines[0])
                options[option.group("key")] = option.group("value")
                body_lines = body_lines[1:]
            out.append(
                self.directive(
                    directive.group("name"), directive.group("arg"), options,
                    "\n".join(body_lines),
                )
            )
        return "\n".join(out)


def without_myst_nb(code: str) -> str:
    """``code`` with ``from myst_nb import glue`` replaced by a stand-in (no Sphinx needed)."""
    return GLUE_IMPORT.sub(lambda m: GLUE_STANDIN.format(indent=m.group(1)), code)


def cell_tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def reader_notebook(source: Path, executed, index: dict[str, dict] | None = None) -> str:
    """The chapter ``source`` (MyST text notebook) as ``.ipynb`` text for a reader.

    ``executed`` is the book's executed notebook of this chapter (its code cells are the
    chapter's, in order): its outputs are copied in, except the glue records (invisible
    outside the book); glued values are written into the text; directives and roles become
    plain Markdown (:class:`ReaderMarkdown`); ``from myst_nb import glue`` becomes a
    stand-in; a figure's caption follows its cell; cells folded in the book are collapsed
    in Jupyter. Cell ids are derived from the position and the source, so two builds write
    the same file.
    """
    import jupytext
    import nbformat

    notebook = jupytext.read(source)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    ran = [cell for cell in executed.cells if cell.cell_type == "code"]
    if [c.source for c in code] != [c.source for c in ran]:
        raise ValueError(f"{source}: the executed notebook does not hold this chapter's code")
    glue: dict[str, dict] = {}
    for cell, done in zip(code, ran, strict=True):
        outputs = []
        for output in done.get("outputs", []):
            output = nbformat.from_dict(output)
            record = output.get("metadata", {}).get("scrapbook")
            if record:
                prefix = record.get("mime_prefix", "")
                glue[record["name"]] = {
                    k.removeprefix(prefix): v for k, v in output.get("data", {}).items()
                }
                if prefix:
                    continue
            outputs.append(output)
        cell["outputs"] = outputs
        cell["execution_count"] = done.get("execution_count")
        cell.source = without_myst_nb(cell.source)
    markdown = ReaderMarkdown(glue, index)
    cells = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = markdown.convert(cell.source).strip("\n")
        tags = cell_tags(cell)
        if cell.cell_type == "code" and {"hide-input", "remove-input", "remove-cell"} & set(tags):
            cell.metadata.setdefault("jupyter", {})["source_hidden"] = True
        if cell.cell_type == "code" and "remove-cell" in tags:
            cell.metadata["jupyter"]["outputs_hidden"] = True
        cells.append(cell)
        figure = cell.get("metadata", {}).get("mystnb", {}).get("figure", {})
        if cell.cell_type == "code" and figure.get("caption"):
            name = str(figure.get("name", ""))
            number = markdown.index["labels"].get(name, "Figure")
            caption = markdown.convert(str(figure["caption"])).strip()
            cells.append(nbformat.v4.new_markdown_cell(f"**{number}** {caption}"))
    notebook.cells = cells
    for position, cell in enumerate(notebook.cells):
        digest = hashlib.sha256(f"{position}\0{cell.source}".encode()).hexdigest()[:12]
        cell["id"] = f"cell-{position}-{digest}"
    notebook.metadata.pop("jupytext", None)
    return jupytext.writes(notebook, fmt="ipynb")


def book_index(app: Sphinx) -> dict[str, dict]:
    """What the book resolved, for :class:`ReaderMarkdown`: references as the pages print
    them (numbers of theorems, exercises, figures and equations; section titles), each
    document's title, and each bibliography entry as author-year text and as a full line."""
    env = app.env
    numbers = getattr(env, "toc_fignumbers", {})
    fmt = dict(app.config.numfig_format or {})

    def number(docname: str, figtype: str, node_id: str) -> str | None:
        found = numbers.get(docname, {}).get(figtype, {}).get(node_id)
        return ".".join(map(str, found)) if found else None

    labels: dict[str, str] = {}
    blocks: dict[str, str] = {}
    std = env.get_domain("std")
    for label, (_doc, _id, title) in std.labels.items():
        if title:
            labels[label] = title
    for label, (docname, node_id) in std.anonlabels.items():
        for figtype in ("figure", "table", "code-block"):
            n = number(docname, figtype, node_id)
            if n:
                labels[label] = fmt.get(figtype, "Fig. %s") % n
    for label, entry in getattr(env, "proof_list", {}).items():
        n = number(entry["docname"], entry.get("countertype", entry["realtype"]), label)
        text = f"{entry['realtype'].title()} {n}" if n else entry["realtype"].title()
        labels[label] = blocks[label] = text
    for label, entry in getattr(env, "sphinx_exercise_registry", {}).items():
        if entry.get("type") != "exercise":
            continue
        n = number(entry["docname"], "exercise", label)
        labels[label] = blocks[label] = f"Exercise {n}" if n else "Exercise"
    math = env.get_domain("math")
    for label, (docname, eqno) in getattr(math, "equations", {}).items():
        n = number(docname, "displaymath", f"equation-{label}") or str(eqno)
        labels[label] = f"({n})"
    docs = {docname.rsplit("/", 1)[-1]: title.astext() for docname, title in env.titles.items()}
    cites, bib = {}, {}
    try:
        from pybtex.database import parse_file
        from pybtex.plugin import find_plugin

        for bibfile in app.config.bibtex_bibfiles:
            data = parse_file(str(Path(app.srcdir) / bibfile))
            style = find_plugin("pybtex.style.formatting", "plain")()
            for entry in style.format_entries(data.entries.values()):
                bib[entry.key] = entry.text.render_as("markdown")
            for key, entry in data.entries.items():
                names = [
                    " ".join(n.render_as("text") for n in person.rich_last_names)
                    for person in entry.persons.get("author", [])
                ]
                if len(names) > 2 or "others" in names:
                    author = f"{names[0]} et al."
                else:
                    author = " and ".join(names)
                cites[key] = (author or key, entry.fields.get("year", ""))
    except Exception as exc:  # a citation then reads as its key
        logger.warning("[rolling_site] bibliography not read for the downloads: %s", exc)
    return {"labels": labels, "numbers": blocks, "docs": docs, "cites": cites, "bib": bib}


def executed_notebook(app: Sphinx, source: Path):
    """The book's execution of ``source``: the executed notebook MyST-NB stored in its
    execution cache (``_build/.jupyter_cache``; present after a clean build and after a
    cached rebuild), or ``None``."""
    import jupytext
    from jupyter_cache import get_cache

    path = Path(app.config.nb_execution_cache_path or Path(app.outdir).parent / ".jupyter_cache")
    if not path.is_absolute():
        path = Path(app.srcdir) / path
    if not path.exists():
        return None
    cache = get_cache(path)
    try:
        record = cache.match_cache_notebook(jupytext.read(source))
    except KeyError:
        return None
    return cache.get_cache_bundle(record.pk).nb


def _offer_ipynb(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    if doctree is None or "kernelspec" not in app.env.metadata.get(pagename, {}):
        return
    source = Path(app.env.doc2path(pagename))
    if source.suffix != ".md":
        return
    if app.config.nb_execution_mode != "cache":  # e.g. a one-page build: no download
        logger.verbose("[rolling_site] %s: no execution cache, no download", pagename)
        return
    executed = executed_notebook(app, source)
    if executed is None:
        logger.warning(
            "[rolling_site] %s: no executed notebook in the execution cache; the download "
            "is not written",
            pagename,
            location=pagename,
        )
        return
    if not hasattr(app, "rolling_book_index"):
        app.rolling_book_index = book_index(app)  # type: ignore[attr-defined]
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        text = reader_notebook(source, executed, app.rolling_book_index)  # type: ignore[attr-defined]
    except (KeyError, ValueError) as exc:
        logger.warning("[rolling_site] %s: download not written: %r", pagename, exc,
                       location=pagename)
        return
    target.write_text(text, encoding="utf-8")
    context["ipynb_source"] = f"{pagename}.ipynb"  # read by sphinx-book-theme's download menu


# --- 5. one search box --------------------------------------------------------------------


def _one_search_box(app: Sphinx, config: Any) -> None:
    """No header strip with a second search field above the sidebar's.

    pydata-sphinx-theme 0.17.1 sets ``navbar_persistent`` to its search field whenever the
    user's theme options do not name it (its ``update_config``), over sphinx-book-theme
    1.3.0's empty default in ``theme.conf``: every page then gets pydata's header bar holding
    nothing but that field. Naming it empty here keeps the book theme's layout: the search
    field in the sidebar and, on narrow screens, the search button of the article header.
    """
    if isinstance(config.html_theme_options, dict):
        config.html_theme_options.setdefault("navbar_persistent", [])


# --- 1. MathJax served locally, and the optlib stamp ---------------------------------------


def _finish(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    src = mathjax_source()
    dest = Path(app.outdir) / "_static" / MATHJAX_STATIC_DIR
    dest.mkdir(parents=True, exist_ok=True)
    for part in MATHJAX_PARTS:
        if (src / part).is_dir():
            shutil.copytree(src / part, dest / part, dirs_exist_ok=True)
        else:
            shutil.copy2(src / part, dest / part)
    for name in ("LICENSE",):
        shutil.copy2(src.parent / name, dest / name)
    stamp = Path(app.outdir).parent / HASH_FILE
    stamp.write_text(app.rolling_optlib_hash + "\n")  # type: ignore[attr-defined]


def _check_mathjax_path(app: Sphinx, config: Any) -> None:
    expected = f"{MATHJAX_STATIC_DIR}/{MATHJAX_BUNDLE}"
    if config.mathjax_path != expected:
        logger.warning(
            "[rolling_site] mathjax_path is %r; set it to %r so that math renders offline",
            config.mathjax_path,
            expected,
        )


# --- 6. explorable figures: BokehJS served once, loaded where a page has an explorable ------

EXPLORABLE_MARKER = "rolling-explorable"  # optlib.explorables.MARKER
EXPLORABLE_BUNDLES = ("bokeh.min.js", "bokeh-widgets.min.js")  # in this order


def explorable_library_version() -> str:
    """``bokeh==<version>`` as installed (part of the execution cache's key)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"bokeh=={version('bokeh')}"
    except PackageNotFoundError:
        return "bokeh not installed"


def explorable_bundles() -> list[Path]:
    """The absolute paths of BokehJS's minified bundles in the installed ``bokeh`` wheel."""
    import bokeh

    folder = Path(bokeh.__file__).parent / "server" / "static" / "js"
    paths = [folder / name for name in EXPLORABLE_BUNDLES]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(f"BokehJS not found: {missing}; pip install -r requirements.txt")
    return paths


def _serve_explorable_js(app: Sphinx, config: Any) -> None:
    for path in explorable_bundles():
        if str(path) not in config.html_static_path:
            config.html_static_path.append(str(path))


def _load_explorable_js(app: Sphinx, pagename: str, templatename: str, context: dict,
                        doctree) -> None:
    body = context.get("body") or ""
    if f'class="{EXPLORABLE_MARKER}"' not in body:
        return
    for priority, name in enumerate(EXPLORABLE_BUNDLES, start=200):
        app.builder.add_js_file(name, priority=priority)  # type: ignore[attr-defined]


def setup(app: Sphinx) -> dict[str, Any]:
    # MathJax (and every extension's assets) on every page, not only on pages with math of
    # their own: chapter titles with math appear in the navigation of every page.
    app.set_html_assets_policy("always")
    app.connect("config-inited", _check_mathjax_path)
    app.connect("config-inited", _check_optlib)
    app.connect("config-inited", _one_search_box)
    app.connect("env-get-outdated", _outdated_if_optlib_changed)
    app.connect("env-before-read-docs", _execute_ahead)
    app.connect("doctree-resolved", _strip_cdn_stylesheets)
    app.connect("html-page-context", _offer_ipynb)  # before the theme's buttons (priority 501)
    app.connect("build-finished", _finish)
    app.connect("config-inited", _serve_explorable_js)
    app.connect("html-page-context", _load_explorable_js)
    # after every extension's setup(), so that sphinx_thebe's hooks exist
    app.connect("config-inited", lambda app, config: _disconnect_thebe(app))
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
