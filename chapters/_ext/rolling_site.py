"""Site infrastructure for the Rolling Downhill book (a local Sphinx extension).

Loaded by ``_config.yml`` (``sphinx: local_extensions: {rolling_site: chapters/_ext}``). It
does four things that Jupyter Book 1 does not do on its own:

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
3. **Notebook downloads.** Every chapter is a MyST text notebook; jupytext converts it to
   ``.ipynb`` (code and text, no outputs: run it to get them) next to the page sources
   (``_sources/chapters/NAME.ipynb``), and the theme's download menu offers it as ``.ipynb``
   (the theme does this by itself only when a Binder/Colab launch button is configured, and
   then copies MyST-NB's ``jupyter_execute`` notebook, which lacks outputs after a cache hit).
4. **Cache aware of optlib.** The execution cache keys on the code cells only, so a change to
   ``optlib`` would not re-run cached chapters. The SHA-256 of ``optlib/*.py`` is stored in
   ``_build/.optlib-hash`` after each successful build; when it differs (or is missing), the
   execution cache is deleted and every document is re-read, so every chapter re-executes. A
   rebuild with nothing changed re-executes nothing.
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
    current = optlib_hash(Path(app.srcdir))
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


def chapter_notebook(source: Path) -> str:
    """The MyST text notebook ``source`` as ``.ipynb`` text (jupytext), without outputs.

    Cell ids are derived from the position and the source, so two builds write the same file.
    """
    import jupytext

    notebook = jupytext.read(source)
    for index, cell in enumerate(notebook.cells):
        digest = hashlib.sha256(f"{index}\0{cell.source}".encode()).hexdigest()[:12]
        cell["id"] = f"cell-{index}-{digest}"
    return jupytext.writes(notebook, fmt="ipynb")


def _offer_ipynb(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    if doctree is None or "kernelspec" not in app.env.metadata.get(pagename, {}):
        return
    source = Path(app.env.doc2path(pagename))
    if source.suffix != ".md":
        return
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(chapter_notebook(source), encoding="utf-8")
    context["ipynb_source"] = f"{pagename}.ipynb"  # read by sphinx-book-theme's download menu


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


def setup(app: Sphinx) -> dict[str, Any]:
    # MathJax (and every extension's assets) on every page, not only on pages with math of
    # their own: chapter titles with math appear in the navigation of every page.
    app.set_html_assets_policy("always")
    app.connect("config-inited", _check_mathjax_path)
    app.connect("config-inited", _check_optlib)
    app.connect("env-get-outdated", _outdated_if_optlib_changed)
    app.connect("doctree-resolved", _strip_cdn_stylesheets)
    app.connect("html-page-context", _offer_ipynb)  # before the theme's buttons (priority 501)
    app.connect("build-finished", _finish)
    # after every extension's setup(), so that sphinx_thebe's hooks exist
    app.connect("config-inited", lambda app, config: _disconnect_thebe(app))
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
