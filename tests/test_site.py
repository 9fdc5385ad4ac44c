"""The built site as a reader meets it (``make browser``, after a book build).

Headless Chromium (Debian's ``/usr/bin/chromium``, driven by Playwright for Python; no browser
download) opens every page of ``_build/html`` from disk (``file://``) with the network cut
off for the page (any request that leaves the machine is aborted and reported), and checks:

- math typeset: every formula Sphinx wrote (``.math`` elements) holds a MathJax
  ``mjx-container``, none is a MathJax error, and no raw TeX delimiter (``\\(``, ``\\)``,
  ``\\[``, ``\\]``, ``$$``, ``\\begin{``) is left in the page's text outside code;
- every ``<img>`` loaded (``naturalWidth > 0``), and every matplotlib ``to_jshtml``
  animation's script ran, shows a frame, and every one of its embedded frames decodes;
- no console error, no uncaught exception, no failed or outside request;
- every local link leads to an existing file, and to an existing anchor in it;
- page weight at most ``MAX_PAGE_BYTES`` (3 MB = 3,000,000 bytes). The weight of a page is
  the size of its HTML file (which holds the embedded animation frames, as base64) plus the
  size of every distinct local file its ``<img>``, ``<video>``, ``<source>``, ``<object>`` and
  ``<iframe>`` elements load, except shared theme assets under ``_static/`` (CSS, JS, fonts,
  MathJax: downloaded once for the whole site).

A full-page screenshot of each page goes to ``_build/screenshots/`` for a person to look at.
``test_checker_catches_*`` run the same checker on tiny pages written to a temporary folder:
it must report a raw formula, a missing image, a broken animation frame and an overweight
page, and must pass a good page typeset by the same MathJax the site ships.

Also here, because they need the built site: no CDN named in any page, script or
stylesheet; the notebook downloads (``_sources/chapters/NAME.ipynb``) are valid and carry
exactly the chapter's code; the API page documents every public name of optlib; and the
chapters' text outputs are deterministic: the book build's execution (read back from its
execution cache, ``_build/.jupyter_cache``) and a fresh one (nbclient) give the same streams
and text/plain, text/latex, text/markdown parts, glued values included. This executes every
chapter once more; ``make browser`` spreads the tests over ``$(JOBS)`` workers.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from notebooks import execute_chapter

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "_build"
SITE = BUILD / "html"
SHOTS = BUILD / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
MAX_PAGE_BYTES = 3_000_000
TIMEOUT_MS = 30_000
SKIP_DIRS = {"_static", "_sources", "_images", "_downloads", "reports"}

pytestmark = pytest.mark.browser


def site_pages(site: Path = SITE) -> list[Path]:
    """Every HTML page of the built site (not the theme's assets)."""
    if not site.is_dir():
        return []
    return sorted(
        p for p in site.rglob("*.html") if not SKIP_DIRS & set(p.relative_to(site).parts[:-1])
    )


# --- the checker -----------------------------------------------------------------------------

# Run in the page after "load": wait for MathJax (if the page loads it) and for every image,
# exercise the animations, then report what a reader would see.
PAGE_PROBE = r"""
async () => {
  const out = {problems: [], formulas: 0, typeset: 0, resources: []};
  const mathNodes = Array.from(document.querySelectorAll('.math'));
  out.formulas = mathNodes.length;
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    try { await MathJax.startup.promise; } catch (e) { out.problems.push('MathJax failed: ' + e); }
  } else if (mathNodes.length) {
    out.problems.push(`MathJax not loaded, ${mathNodes.length} formulas left as TeX`);
  }
  const untypeset = mathNodes.filter(n => !n.querySelector('mjx-container'));
  out.typeset = mathNodes.length - untypeset.length;
  if (untypeset.length) {
    out.problems.push(`${untypeset.length} of ${mathNodes.length} formulas not typeset, e.g. `
                      + JSON.stringify(untypeset[0].textContent.slice(0, 80)));
  }
  for (const err of document.querySelectorAll('mjx-merror')) {
    out.problems.push('MathJax error: ' + (err.getAttribute('data-mjx-error') || err.textContent));
  }

  // raw TeX in the text, outside code and outside MathJax's own output
  const skip = 'pre, code, script, style, textarea, kbd, mjx-container, .highlight';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const raw = /\\\(|\\\)|\\\[|\\\]|\$\$|\\begin\{/;
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.parentElement && node.parentElement.closest(skip)) continue;
    const m = node.textContent.match(raw);
    if (m) {
      const i = m.index;
      out.problems.push('raw TeX in text: ' +
        JSON.stringify(node.textContent.slice(Math.max(0, i - 30), i + 50)));
    }
  }

  // animations (matplotlib to_jshtml): the script made an Animation, every frame decodes
  for (const img of document.querySelectorAll('img[id^="_anim_img"]')) {
    const anim = window['anim' + img.id.slice('_anim_img'.length)];
    if (!anim || !anim.frames) {
      out.problems.push(`animation ${img.id}: script did not run`);
      continue;
    }
    let bad = 0;
    for (const frame of anim.frames) {  // Image objects (matplotlib) or data: URLs
      const probe = new Image();
      probe.src = frame.src || frame;
      try { await probe.decode(); if (!probe.naturalWidth) bad++; } catch (e) { bad++; }
    }
    const n = anim.frames.length;
    if (bad) out.problems.push(`animation ${img.id}: ${bad} of ${n} frames broken`);
    anim.set_frame(anim.frames.length - 1);
  }

  // every image loaded (lazy ones are asked for now)
  const imgs = Array.from(document.images);
  for (const img of imgs) if (img.loading === 'lazy') img.loading = 'eager';
  await Promise.all(imgs.map(img => img.complete ? null :
    new Promise(r => { img.addEventListener('load', r); img.addEventListener('error', r);
                       setTimeout(r, 10000); })));
  for (const img of imgs) {
    if (!img.complete || img.naturalWidth === 0) {
      const src = img.getAttribute('src') || '';
      const shown = src.startsWith('data:') ? src.slice(0, 40) + '...' : src;
      out.problems.push('image not loaded: ' + shown);
    }
  }
  const sel = 'img, video, source, object, iframe';
  for (const el of document.querySelectorAll(sel)) {
    const src = el.currentSrc || el.src || el.data;
    if (src && !src.startsWith('data:')) out.resources.push(src);
  }
  out.links = Array.from(document.querySelectorAll('a[href]'), a => a.href);
  return out;
}
"""


REFRESH = re.compile(r'<meta http-equiv="refresh" content="0; url=([^"]+)"', re.IGNORECASE)


@dataclass
class PageReport:
    url: str
    problems: list[str] = field(default_factory=list)
    weight: int = 0
    formulas: int = 0
    typeset: int = 0


def page_weight(html_file: Path, resources: list[str], site: Path) -> int:
    """HTML bytes plus the distinct local files the page's media elements load (not _static/)."""
    total = html_file.stat().st_size
    seen = set()
    for url in resources:
        parsed = urlparse(url)
        if parsed.scheme != "file":
            continue
        path = Path(unquote(parsed.path))
        try:
            rel = path.resolve().relative_to(site.resolve())
        except ValueError:
            rel = None
        if rel is not None and rel.parts[:1] == ("_static",):
            continue
        if path.is_file() and path not in seen:
            seen.add(path)
            total += path.stat().st_size
    return total


def broken_links(links: list[str], page_url: str) -> list[str]:
    """Local links whose file, or whose ``#anchor`` in that file, does not exist."""
    problems, texts = [], {}
    for link in sorted(set(links)):
        parsed = urlparse(link)
        if parsed.scheme != "file":
            continue
        path = Path(unquote(parsed.path))
        if path.is_dir():
            path = path / "index.html"
        if not path.is_file():
            problems.append(f"broken link: {link}")
            continue
        if parsed.fragment and path.suffix == ".html":
            if path not in texts:
                texts[path] = path.read_text(encoding="utf-8", errors="replace")
            anchor = re.escape(unquote(parsed.fragment))
            if not re.search(rf"""\b(id|name)=["']{anchor}["']""", texts[path]):
                problems.append(f"link to a missing anchor: {link}")
    return problems


def check_page(context, html_file: Path, site: Path, screenshot: Path | None = None) -> PageReport:
    """Open ``html_file`` in a new page of the Playwright ``context``; return what is wrong."""
    url = html_file.resolve().as_uri()
    report = PageReport(url=url)
    page = context.new_page()

    def on_console(msg):
        if msg.type == "error":
            report.problems.append(f"console error: {msg.text}")

    def on_request_failed(request):
        report.problems.append(f"request failed: {request.url[:120]} ({request.failure})")

    def on_outside(route):
        report.problems.append(f"request leaves the machine: {route.request.url[:120]}")
        route.abort()

    page.on("console", on_console)
    page.on("pageerror", lambda exc: report.problems.append(f"uncaught exception: {exc}"))
    page.on("requestfailed", on_request_failed)
    page.route(re.compile(r"^(https?|wss?|ftp)://"), on_outside)
    try:
        page.goto(url, wait_until="load", timeout=TIMEOUT_MS)
        refresh = REFRESH.search(html_file.read_text(encoding="utf-8", errors="replace")[:2000])
        if refresh:  # e.g. index.html, a redirect to the first chapter: check where it leads
            target = (html_file.parent / refresh.group(1)).resolve()
            if not target.is_file():
                report.problems.append(f"redirect to a missing page: {refresh.group(1)}")
                return report
            page.wait_for_url(target.as_uri(), wait_until="load", timeout=TIMEOUT_MS)
        result = page.evaluate(PAGE_PROBE)
        report.problems.extend(result["problems"])
        report.formulas, report.typeset = result["formulas"], result["typeset"]
        report.problems.extend(broken_links(result["links"], page.url))
        report.weight = page_weight(html_file, result["resources"], site)
        if report.weight > MAX_PAGE_BYTES:
            report.problems.append(
                f"page weighs {report.weight:,} bytes, over {MAX_PAGE_BYTES:,}"
            )
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True, timeout=TIMEOUT_MS)
    finally:
        page.close()
    # a missing file also shows as a console error; keep the specific report first
    return report


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser_context():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} not found: `make browser` installs Debian's chromium")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        yield context
        context.close()
        browser.close()


# --- the checker catches what it must (tiny pages in a temporary folder) ---------------------


def _mathjax_bundle() -> Path:
    import mathjax  # django-static-mathjax: the MathJax the site ships

    return Path(mathjax.__file__).parent / "static" / "mathjax" / "es5" / "tex-mml-chtml.js"


GOOD_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<script>window.MathJax = {{options: {{processHtmlClass: "math"}}}};</script>
<script defer src="{mathjax}"></script></head>
<body class="tex2jax_ignore">
<p>Inline <span class="math notranslate">\\(x_{{k+1}} = x_k - \\eta g\\)</span></p>
<div class="math notranslate">\\[\\hat m = \\frac{{m}}{{1 - \\beta_1^t}}\\]</div>
<img src="dot.png" alt="a dot"><pre>code may say \\( and $$ freely</pre></body></html>"""

BROKEN_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"></head>
<body><p>A formula left raw: <span class="math notranslate">\\(\\nabla f(x)\\)</span> and $$y$$</p>
<img src="missing.png" alt="gone"><a href="nowhere.html">dead</a><a href="#nosuch">anchor</a>
<img id="_anim_img1" alt="animation">
<script>
  var anim1 = {{frames: ["{frame}", "data:image/png;base64,AAAA"],
               set_frame: function (i) {{
                 document.getElementById("_anim_img1").src = this.frames[i]; }}}};
  anim1.set_frame(0);
</script>
<!-- {padding} -->
</body></html>"""


def _png_1x1() -> bytes:
    import base64

    return base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    )


def test_checker_passes_a_good_page(browser_context, tmp_path):
    (tmp_path / "dot.png").write_bytes(_png_1x1())
    page = tmp_path / "good.html"
    page.write_text(GOOD_PAGE.format(mathjax=_mathjax_bundle().as_uri()), encoding="utf-8")
    (tmp_path / "index.html").write_text('<meta http-equiv="Refresh" content="0; url=good.html" />')
    report = check_page(browser_context, tmp_path / "index.html", tmp_path, tmp_path / "good.png")
    assert report.problems == []
    assert report.formulas == report.typeset == 2
    assert (tmp_path / "good.png").stat().st_size > 0


def test_checker_catches_raw_math_missing_images_and_weight(browser_context, tmp_path):
    import base64

    frame = "data:image/png;base64," + base64.b64encode(_png_1x1()).decode()
    page = tmp_path / "broken.html"
    page.write_text(
        BROKEN_PAGE.format(frame=frame, padding="x" * (MAX_PAGE_BYTES + 1)), encoding="utf-8"
    )
    report = check_page(browser_context, page, tmp_path)
    problems = "\n".join(report.problems)
    assert "MathJax not loaded" in problems
    assert "formulas not typeset" in problems
    assert "raw TeX in text" in problems and "$$y$$" in problems
    assert "image not loaded: missing.png" in problems
    assert "animation _anim_img1: 1 of 2 frames broken" in problems
    assert "console error" in problems  # the missing file
    assert "over 3,000,000" in problems
    assert "broken link: " in problems and "nowhere.html" in problems
    assert "link to a missing anchor: " in problems and "#nosuch" in problems


def test_checker_reports_outside_requests(browser_context, tmp_path):
    page = tmp_path / "cdn.html"
    page.write_text(
        '<!DOCTYPE html><html><head><script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/'
        'tex-mml-chtml.js"></script></head><body><p>hi</p></body></html>',
        encoding="utf-8",
    )
    problems = "\n".join(check_page(browser_context, page, tmp_path).problems)
    assert "request leaves the machine: https://cdn.jsdelivr.net/npm/mathjax" in problems


# --- every page of the built site ------------------------------------------------------------


def test_site_is_built():
    assert (SITE / "index.html").is_file(), (
        f"no built site at {SITE}: build the book first (`make book` or `make build-clean`)"
    )


PAGES = site_pages()


@pytest.mark.parametrize("html_file", PAGES, ids=[str(p.relative_to(SITE)) for p in PAGES])
def test_page_renders(browser_context, html_file):
    rel = html_file.relative_to(SITE)
    report = check_page(browser_context, html_file, SITE, SHOTS / rel.with_suffix(".png"))
    print(f"{rel}: {report.weight:,} bytes, {report.typeset}/{report.formulas} formulas typeset")
    assert not report.problems, f"{rel}:\n  " + "\n  ".join(report.problems)


def test_no_cdn_in_built_site():
    """No page, script or stylesheet of the site refers to a CDN: it works offline.

    MathJax's own files are the exception, checked in the browser instead: its bundles carry
    CDN URLs that are never requested here (speech-rule-engine defaults overridden by
    MathJax's configuration to ``_static/mathjax/sre/``, and Internet Explorer fall-backs).
    """
    cdn = re.compile(r"cdn\.jsdelivr|unpkg\.com|cdnjs|bootstrapcdn|googleapis|gstatic|mathjax@")
    assets = [
        p
        for p in SITE.rglob("*")
        if p.suffix in {".html", ".js", ".css"} and "mathjax" not in p.relative_to(SITE).parts
    ]
    offenders = [
        f"{p.relative_to(SITE)}: {m.group(0)}"
        for p in assets
        for m in [cdn.search(p.read_text(encoding="utf-8", errors="replace"))]
        if m
    ]
    assert assets and not offenders, offenders


# --- notebooks readers take away -------------------------------------------------------------


def notebook_chapters() -> list[Path]:
    """Chapters that are Jupyter notebooks (a kernelspec in the header) and were built."""
    return sorted(
        md
        for md in (ROOT / "chapters").glob("*.md")
        if (SITE / "chapters" / f"{md.stem}.html").is_file()
        and "kernelspec:" in md.read_text(encoding="utf-8").split("\n---", 1)[0]
    )


NOTEBOOKS = notebook_chapters()


def code_cells(notebook) -> list[str]:
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


@pytest.mark.parametrize("md", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_chapter_downloads_as_notebook(md):
    """The page offers NAME.ipynb; it is a valid notebook holding exactly the chapter's code
    (``from myst_nb import glue`` replaced by a stand-in) and the book's outputs (the rest of
    the download is tested in tests/test_notebooks.py)."""
    jupytext = pytest.importorskip("jupytext")
    nbformat = pytest.importorskip("nbformat")
    ipynb = SITE / "_sources" / "chapters" / f"{md.stem}.ipynb"
    assert ipynb.is_file(), f"no download {ipynb}"
    page = (SITE / "chapters" / f"{md.stem}.html").read_text(encoding="utf-8")
    assert f'href="../_sources/chapters/{md.stem}.ipynb"' in page
    notebook = nbformat.read(ipynb, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec.name == "python3"
    sys.path.insert(0, str(ROOT / "chapters" / "_ext"))
    from rolling_site import without_myst_nb

    assert code_cells(notebook) == [without_myst_nb(c) for c in code_cells(jupytext.read(md))]
    assert any(cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")


# --- deterministic text output ---------------------------------------------------------------

SITE_PACKAGES = re.compile(r"/\S*?/site-packages/")
TEXT_MIME = re.compile(r"(^|/)(text/plain|text/latex|text/markdown|application/json)$")


def text_outputs(notebook) -> list[list[tuple]]:
    """Per code cell, its text outputs: streams (consecutive chunks of one stream joined),
    errors and the text parts of displays (glue values included); images and HTML
    (animations carry random element ids) are left out."""
    cells = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        outs = []
        for out in cell.get("outputs", []):
            kind = out["output_type"]
            if kind == "stream":  # warnings name files by absolute path: drop the prefix
                text = SITE_PACKAGES.sub("<site-packages>/", out["text"])
                if outs and outs[-1][0] == out["name"]:  # how output is chunked is timing
                    outs[-1] = (out["name"], outs[-1][1] + text)
                else:
                    outs.append((out["name"], text))
            elif kind == "error":
                outs.append(("error", out["ename"], out["evalue"]))
            else:
                for mime, value in sorted(out.get("data", {}).items()):
                    if TEXT_MIME.search(mime):
                        outs.append((mime, value if isinstance(value, str) else repr(value)))
        cells.append(outs)
    return cells


@pytest.mark.parametrize("md", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_text_outputs_are_deterministic(md):
    """The book build's execution (from its cache) and a fresh one give the same text."""
    jupytext = pytest.importorskip("jupytext")
    jupyter_cache = pytest.importorskip("jupyter_cache")
    cache = jupyter_cache.get_cache(BUILD / ".jupyter_cache")
    try:
        record = cache.match_cache_notebook(jupytext.read(md))
    except KeyError:
        pytest.fail(f"{md.name} is not in the book's execution cache: rebuild the book")
    built = cache.get_cache_bundle(record.pk).nb
    notebook = execute_chapter(md)
    built_text, fresh_text = text_outputs(built), text_outputs(notebook)
    diffs = [
        f"code cell {i}: build {a!r}\n            fresh {b!r}"
        for i, (a, b) in enumerate(zip(built_text, fresh_text, strict=True))
        if a != b
    ]
    assert not diffs, f"{md.name}: text output differs between two executions:\n" + "\n".join(
        d[:600] for d in diffs
    )


def test_api_page_documents_every_public_name():
    """chapters/api.md lists the methods by hand: no public name of optlib may be missing."""
    import types

    import optlib

    page = SITE / "chapters" / "api.html"
    assert page.is_file(), "chapters/api is not in the built book"
    html = page.read_text(encoding="utf-8")
    expected = [f"optlib.{name}" for name in optlib.__all__
                if not isinstance(getattr(optlib, name), types.ModuleType)]
    for module in (optlib.problems, optlib.plotting):
        expected += [f"{module.__name__}.{name}" for name in module.__all__]
    missing = [name for name in expected if f'id="{name}"' not in html]
    assert not missing, f"add to chapters/api.md: {missing}"
