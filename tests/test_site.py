"""The built site as a reader meets it (``make browser``, after a book build).

Headless Chromium (Debian's ``/usr/bin/chromium``, driven by Playwright for Python; no browser
download) opens every page of ``_build/html`` from disk (``file://``) with the network cut
off for the page (any request that leaves the machine is aborted and reported), and checks:

- math typeset: every formula Sphinx wrote (``.math`` elements) holds a MathJax
  ``mjx-container``, none is a MathJax error, and no raw TeX delimiter (``\\(``, ``\\)``,
  ``\\[``, ``\\]``, ``$$``, ``\\begin{``) is left in the page's text outside code;
- no raw Markdown: no line of the page's text (outside code inputs and math; cell outputs
  included, folded or not) is a Markdown table row or rule (``| a | b |``, ``|---|``), and no
  ``{glue`` role is left unrendered (``$$`` is a raw TeX delimiter, above);
- layout, every fold open, at the desktop width (1280 x 900) and at a phone's (390 x 844,
  ``test_page_fits_a_phone``): the page never scrolls sideways
  (``document.scrollingElement.scrollWidth`` at most the viewport's width) and nothing is cut
  (LAYOUT_PROBE): display equations, code cells, outputs and tables wider than their box
  scroll in it (``overflow-x: auto | scroll``, ``_static/rolling.css``), no element reaches
  past the edge of an ancestor that clips it without scrolling, and at the desktop width no
  table that scrolls sideways is taller than the screen (its scrollbar would be out of sight);
  exactly one search box or button is visible;
- every ``<img>`` loaded (``naturalWidth > 0``), and every matplotlib ``to_jshtml``
  animation's script ran, shows a frame, and every one of its embedded frames decodes;
- no console error, no uncaught exception, no failed or outside request;
- every local link leads to an existing file, and to an existing anchor in it;
- page weight at most ``MAX_PAGE_BYTES`` (3 MB = 3,000,000 bytes). The weight of a page is
  the size of its HTML file (which holds the embedded animation frames, as base64) plus the
  size of every distinct local file its ``<img>``, ``<video>``, ``<source>``, ``<object>`` and
  ``<iframe>`` elements load, except shared theme assets under ``_static/`` (CSS, JS, fonts,
  MathJax: downloaded once for the whole site).

A full-page screenshot of each page goes to ``_build/screenshots/`` for a person to look at
(``NAME.png`` at the desktop width, ``NAME.phone.png`` at the phone's).

Visible-code budget (``test_visible_code_budget``): on every chapter page the code lines a
reader sees with every fold closed (``tests/visible_code.py`` defines the measure) are at most
``CODE_BUDGET`` (35 %) of the same measure on the book before its reader pass
(``BASELINE_VISIBLE_CODE``); the browser pass checks that the measure equals the code lines
Chromium renders on page load.
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
from notebooks import executed_chapter
from visible_code import chapter_counts, visible_code_lines

ROOT = Path(__file__).resolve().parent.parent
# The build to test: ``_build`` of this tree, or another one (a build in a scratch copy):
# ROLLING_BUILD=/tmp/copy/_build pytest tests/test_site.py
BUILD = Path(os.environ.get("ROLLING_BUILD", ROOT / "_build")).resolve()
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
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
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

  // raw Markdown: the page's text, one line per line break and per block element, outside
  // code inputs (a cell's output <pre> is what a reader is shown: it counts) and math
  const mdSkip = 'script, style, textarea, kbd, mjx-container, .math, .cell_input';
  const skipped = el => el.closest(mdSkip) ||
    (el.closest('pre, code, .highlight') && !el.closest('.cell_output'));
  const blockOf = el => {
    while (el && el !== document.body && getComputedStyle(el).display.startsWith('inline')) {
      el = el.parentElement;
    }
    return el;
  };
  const textWalker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const lines = [''];
  let lastBlock = null;
  for (let node = textWalker.nextNode(); node; node = textWalker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || skipped(parent)) continue;
    const block = blockOf(parent);
    if (block !== lastBlock) { lines.push(''); lastBlock = block; }
    const parts = node.textContent.split('\n');
    lines[lines.length - 1] += parts[0];
    for (const part of parts.slice(1)) lines.push(part);
  }
  const tableRow = /^\|.*\|.*\|$/, tableRule = /(^|\|)\s*:?-{3,}:?\s*\|/;
  let mdRows = 0, mdExample = '';
  for (const raw of lines) {
    const line = raw.trim();
    if (line.includes('{glue')) {
      out.problems.push('raw glue role in text: ' + JSON.stringify(line.slice(0, 100)));
    }
    if (tableRow.test(line) || tableRule.test(line)) {
      mdRows++;
      if (!mdExample) mdExample = line.slice(0, 100);
    }
  }
  if (mdRows) {
    out.problems.push(`raw Markdown table in text (${mdRows} lines), e.g. ` +
                      JSON.stringify(mdExample));
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


# Run in the page after PAGE_PROBE (or after "load" at phone width): the code lines and search
# boxes a reader sees on load; with ``openFolds``, every fold is then opened and the layout
# checked at this viewport. The page must not scroll sideways, and nothing may be *cut*:
# - a display equation, code cell, output or table box whose content is wider than the box
#   scrolls (``overflow-x: auto | scroll``);
# - no element reaches past the padding box of the nearest ancestor that clips it without
#   scrolling (``overflow-x: hidden | clip``); inside a scroll container nothing is cut;
# - with a mouse (desktop, no touch), a box holding a table that scrolls sideways is at most
#   the screen's height, so that its scrollbar is on screen with the table.
# MathJax's inner elements are judged as one, their ``mjx-container``.
LAYOUT_PROBE = r"""
async (openFolds) => {
  const out = {problems: [], codeLinesShown: 0, searchBoxes: []};
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    try { await MathJax.startup.promise; } catch (e) { /* reported by PAGE_PROBE */ }
  }
  await document.fonts.ready;
  const describe = el => {
    let name = el.tagName.toLowerCase();
    if (el.id) name += '#' + el.id;
    const cls = (typeof el.className === 'string' ? el.className : '').trim().split(/\s+/);
    if (cls[0]) name += '.' + cls.slice(0, 3).join('.');
    const text = (el.textContent || '').replace(/\s+/g, ' ').trim().slice(0, 60);
    return text ? `${name} "${text}"` : name;
  };
  const scrolls = ox => ox === 'auto' || ox === 'scroll';
  const shown = el => el.getClientRects().length > 0 &&
                      el.checkVisibility({visibilityProperty: true, opacityProperty: true});

  // what a reader sees of the code cells on load, folds closed (tests/visible_code.py)
  for (const pre of document.querySelectorAll('div.cell_input pre')) {
    if (!shown(pre)) continue;
    out.codeLinesShown += pre.textContent.split('\n').filter(l => l.trim()).length;
  }

  // search boxes and buttons a reader sees (the search page's own form is its content)
  const searchSel = 'input[type="search"], form.bd-search, .search-button__button, ' +
                    '.search-button, .search-button-field, [role="search"]';
  const boxes = Array.from(document.querySelectorAll(searchSel))
    .filter(el => shown(el) && !el.closest('article, .bd-search-container'));
  out.searchBoxes = boxes.filter(el => !boxes.some(o => o !== el && o.contains(el)))
    .map(describe);

  if (!openFolds) return out;

  // the layout with every fold open (myst-nb's hidden inputs, dropdown solutions): nothing may
  // be cut there either
  for (const d of document.querySelectorAll('details')) d.open = true;
  for (const el of document.querySelectorAll('.toggle-hidden')) {
    el.classList.remove('toggle-hidden');
  }
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));

  const style = new Map(), clipper = new Map();
  const css = el => {
    if (!style.has(el)) style.set(el, getComputedStyle(el));
    return style.get(el);
  };
  const clippingAncestor = el => {  // nearest ancestor whose overflow-x is not visible
    if (clipper.has(el)) return clipper.get(el);
    const parent = el.parentElement;
    const result = !parent ? null : css(parent).overflowX !== 'visible' ? parent
                                                                       : clippingAncestor(parent);
    clipper.set(el, result);
    return result;
  };
  const elements = Array.from(document.body.querySelectorAll('*')).filter(el =>
    !['SCRIPT', 'STYLE', 'BR', 'WBR', 'TEMPLATE'].includes(el.tagName) &&
    (el.tagName === 'MJX-CONTAINER' || !el.parentElement.closest('mjx-container')) && shown(el));
  const innermost = list => list.filter(([el]) => !list.some(([o]) => o !== el && el.contains(o)));
  const report = (list, what) => {
    const worst = innermost(list);
    for (const [el, why] of worst.slice(0, 6)) {
      out.problems.push(`${what}: ${describe(el)}: ${why}`);
    }
    if (worst.length > 6) out.problems.push(`${what}: ... and ${worst.length - 6} more`);
  };

  // the page itself never scrolls sideways (and what sticks out of the viewport)
  const viewport = document.documentElement.clientWidth;
  const page = document.scrollingElement || document.documentElement;
  if (page.scrollWidth > viewport + 1) {
    out.problems.push(`page scrolls sideways: ${page.scrollWidth} px wide ` +
                      `in a ${viewport} px viewport`);
    const reach = el => {  // the right edge of the element, or of content spilling out of it
      const r = el.getBoundingClientRect();
      const spill = css(el).overflowX === 'visible' ? r.left + el.clientLeft + el.scrollWidth : 0;
      return Math.max(r.right, spill);
    };
    report(elements.filter(el => !clippingAncestor(el) && reach(el) > viewport + 1)
                   .map(el => [el, `reaches ${Math.round(reach(el))} px`]),
           'wider than the page');
  }

  // display equations, code and outputs scroll in their own box when wider than it
  const cut = [];
  for (const el of elements) {
    const cs = css(el);
    const own = el.matches('mjx-container[display="true"], pre, div.cell_output, ' +
                           'div.highlight, .pst-scrollable-table-container');
    if (own && el.scrollWidth > el.clientWidth + 1 && !scrolls(cs.overflowX)) {
      cut.push([el, `${el.scrollWidth} px of content in a ${el.clientWidth} px box that does ` +
                    `not scroll (overflow-x: ${cs.overflowX})`]);
      continue;
    }
    // no element reaches past an ancestor that clips it without scrolling
    const clip = clippingAncestor(el);
    if (!clip || scrolls(css(clip).overflowX)) continue;
    const r = el.getBoundingClientRect(), c = clip.getBoundingClientRect();
    const left = c.left + clip.clientLeft, right = left + clip.clientWidth;
    if (clip.clientWidth <= 2 || r.width === 0) continue;  // visually-hidden text
    if (r.right > right + 1 || r.left < left - 1) {
      cut.push([el, `reaches ${Math.round(Math.max(r.right - right, left - r.left))} px past ` +
                    `${describe(clip).slice(0, 50)}, which clips without scrolling`]);
    }
  }
  report(cut, 'cut');

  // with a mouse (no touch), a table that scrolls sideways shows its scrollbar with its
  // content: not taller than the screen (code cells scroll sideways, whatever their height)
  if (!matchMedia('(pointer: coarse)').matches) {
    const tall = elements.filter(el => el !== page && scrolls(css(el).overflowX) &&
      el.querySelector('table') && !el.closest('pre, div.highlight') &&
      el.scrollWidth > el.clientWidth + 1 && el.getBoundingClientRect().height > innerHeight);
    report(tall.map(el => [el, `scrolls sideways (${el.scrollWidth} px in ${el.clientWidth}) ` +
                               `but is ${Math.round(el.getBoundingClientRect().height)} px tall, ` +
                               `its scrollbar off the ${innerHeight} px screen`]), 'cut');
  }

  return out;
}
"""


def search_box_problems(boxes: list[str]) -> list[str]:
    """Exactly one search box or button is visible (outside the page's own content)."""
    if len(boxes) == 1:
        return []
    return [f"{len(boxes)} search boxes visible, expected 1: {boxes}"]


REFRESH = re.compile(r'<meta http-equiv="refresh" content="0; url=([^"]+)"', re.IGNORECASE)


@dataclass
class PageReport:
    url: str
    problems: list[str] = field(default_factory=list)
    weight: int = 0
    formulas: int = 0
    typeset: int = 0
    code_lines_shown: int = 0
    search_boxes: list[str] = field(default_factory=list)


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


def check_page(
    context, html_file: Path, site: Path, screenshot: Path | None = None, full: bool = True
) -> PageReport:
    """Open ``html_file`` in a new page of the Playwright ``context``; return what is wrong.

    ``full=False`` checks only the layout (LAYOUT_PROBE), as the phone-width pass does.
    """
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
        if full:
            result = page.evaluate(PAGE_PROBE)
            report.problems.extend(result["problems"])
            report.formulas, report.typeset = result["formulas"], result["typeset"]
            report.problems.extend(broken_links(result["links"], page.url))
            report.weight = page_weight(html_file, result["resources"], site)
            if report.weight > MAX_PAGE_BYTES:
                report.problems.append(
                    f"page weighs {report.weight:,} bytes, over {MAX_PAGE_BYTES:,}"
                )
        layout = page.evaluate(LAYOUT_PROBE, False)  # folds closed, as a reader meets the page
        report.code_lines_shown = layout["codeLinesShown"]
        report.search_boxes = layout["searchBoxes"]
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True, timeout=TIMEOUT_MS)
        layout = page.evaluate(LAYOUT_PROBE, True)  # every fold open
        report.problems.extend(layout["problems"])
    finally:
        page.close()
    # a missing file also shows as a console error; keep the specific report first
    return report


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} not found: `make browser` installs Debian's chromium")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def browser_context(browser):
    context = browser.new_context(viewport=DESKTOP)
    yield context
    context.close()


@pytest.fixture(scope="module")
def phone_context(browser):
    """A phone: 390 x 844 CSS pixels, mobile viewport rules and touch (as an iPhone 12-15)."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    yield context
    context.close()


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


RAW_MARKDOWN_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>
<p>| method | best lr |
|---|---|
| <code>adam</code> | 0.1 |</p>
<p>The rate is {glue:text}`rate:.3g` per step.</p>
<div class="cell_output"><pre>| printed | table |</pre></div>
</body></html>"""

CLEAN_MARKDOWN_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>
<table><tr><th>method</th><th>best lr</th></tr><tr><td>|g|</td><td>0.1</td></tr></table>
<div class="cell_input"><pre>print("| a | b |")
print("|---|---|")  # code may build a table</pre></div>
<p>Write <code>| a | b |</code> for a row; the norm |g| and x | y in prose.</p>
</body></html>"""


def test_checker_catches_raw_markdown(browser_context, tmp_path):
    page = tmp_path / "raw.html"
    page.write_text(RAW_MARKDOWN_PAGE, encoding="utf-8")
    problems = "\n".join(check_page(browser_context, page, tmp_path).problems)
    assert 'raw Markdown table in text (4 lines), e.g. "| method | best lr |"' in problems
    assert 'raw glue role in text: "The rate is {glue:text}' in problems
    clean = tmp_path / "clean.html"
    clean.write_text(CLEAN_MARKDOWN_PAGE, encoding="utf-8")
    assert check_page(browser_context, clean, tmp_path).problems == []


# A page laid out as the theme lays out math (div.math: flex, overflow hidden), with a display
# equation wider than a phone, a clipped box, a too-wide paragraph and two search buttons; the
# site's CSS (_static/rolling.css) must turn the equation into a box that scrolls.
LAYOUT_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body {{ margin: 0 16px; }} div.math {{ display: flex; overflow: hidden; max-width: 100%; }}
.search-button {{ width: 40px; height: 20px; }}</style>{css}
<script>window.MathJax = {{options: {{processHtmlClass: "math"}}}};</script>
<script defer src="{mathjax}"></script></head>
<body class="tex2jax_ignore"><article class="bd-article">
<div class="math notranslate">\\[v_t = \\mu v_{{t-1}} - \\eta \\nabla f(x_{{t-1}}), \\qquad
x_t = x_{{t-1}} + v_t = x_{{t-1}} + \\mu v_{{t-1}} - \\eta \\nabla f(x_{{t-1}})\\]</div>
{extra}</article>
<button class="search-button">S</button>{search}</body></html>"""


def _layout_page(tmp_path, name, css="", extra="", search=""):
    css_link = f'<link rel="stylesheet" href="{css}">' if css else ""
    page = tmp_path / name
    page.write_text(LAYOUT_PAGE.format(mathjax=_mathjax_bundle().as_uri(), css=css_link,
                                       extra=extra, search=search), encoding="utf-8")
    return page


def test_checker_catches_what_a_phone_cuts(phone_context, tmp_path):
    wide = '<p style="white-space: nowrap">' + "word " * 80 + "</p>"
    clipped = '<div style="overflow: hidden; width: 200px"><div style="width: 300px">x</div></div>'
    page = _layout_page(tmp_path, "phone.html", extra=wide + clipped,
                        search='<button class="search-button">S</button>')
    report = check_page(phone_context, page, tmp_path, full=False)
    problems = "\n".join(report.problems)
    assert "page scrolls sideways" in problems
    assert 'wider than the page: p "word word' in problems
    assert 'cut: mjx-container' in problems and "clips without scrolling" in problems
    assert 'cut: div "x": reaches 100 px past div' in problems
    assert search_box_problems(report.search_boxes) == [
        "2 search boxes visible, expected 1: ['button.search-button \"S\"', "
        "'button.search-button \"S\"']"
    ]


def test_site_css_lets_a_long_equation_scroll_on_a_phone(phone_context, tmp_path):
    css = (ROOT / "_static" / "rolling.css").as_uri()
    page = _layout_page(tmp_path, "fixed.html", css=css)
    report = check_page(phone_context, page, tmp_path, tmp_path / "fixed.png", full=False)
    assert report.problems == [] and len(report.search_boxes) == 1


def test_checker_catches_a_tall_table_scrolling_sideways_on_a_desktop(browser_context, tmp_path):
    rows = "".join(f'<tr><td style="white-space: nowrap">{"cell " * 60}</td></tr>'
                   for _ in range(60))
    table = ('<div class="pst-scrollable-table-container" style="overflow-x: auto">'
             f"<table>{rows}</table></div>")
    page = _layout_page(tmp_path, "table.html", extra=table)
    problems = "\n".join(check_page(browser_context, page, tmp_path, full=False).problems)
    assert "scrolls sideways" in problems and "its scrollbar off the 900 px screen" in problems


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
    print(f"{rel}: {report.weight:,} bytes, {report.typeset}/{report.formulas} formulas typeset, "
          f"{report.code_lines_shown} code lines shown")
    problems = report.problems + search_box_problems(report.search_boxes)
    if rel.parts[0] == "chapters":  # the static measure of the budget is what Chromium shows
        measured = visible_code_lines(html_file.read_text(encoding="utf-8"))["visible"]
        if measured != report.code_lines_shown:
            problems.append(f"tests/visible_code.py counts {measured} visible code lines, "
                            f"Chromium shows {report.code_lines_shown}")
    assert not problems, f"{rel}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("html_file", PAGES, ids=[str(p.relative_to(SITE)) for p in PAGES])
def test_page_fits_a_phone(phone_context, html_file):
    """At 390 px nothing is cut and the page does not scroll sideways; one search button."""
    rel = html_file.relative_to(SITE)
    shot = SHOTS / rel.with_suffix(".phone.png")
    report = check_page(phone_context, html_file, SITE, shot, full=False)
    problems = report.problems + search_box_problems(report.search_boxes)
    assert not problems, f"{rel} at {PHONE['width']} px:\n  " + "\n  ".join(problems)


def test_no_cdn_in_built_site():
    """No page, script or stylesheet of the site refers to a CDN: it works offline.

    MathJax's own files are the exception, checked in the browser instead: its bundles carry
    CDN URLs that are never requested here (speech-rule-engine defaults overridden by
    MathJax's configuration to ``_static/mathjax/sre/``, and Internet Explorer fall-backs).
    So are BokehJS's bundles (``_static/bokeh*.min.js``, the explorables' library), which name
    jsdelivr and Google Fonts for features the book does not use (icon sets, math); the
    explorables' pages are opened with the network cut in the browser tests.
    """
    cdn = re.compile(r"cdn\.jsdelivr|unpkg\.com|cdnjs|bootstrapcdn|googleapis|gstatic|mathjax@")
    assets = [
        p
        for p in SITE.rglob("*")
        if p.suffix in {".html", ".js", ".css"} and "mathjax" not in p.relative_to(SITE).parts
        and not re.fullmatch(r"_static/bokeh(-\w+)?\.min\.js", p.relative_to(SITE).as_posix())
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


FLOAT = re.compile(r"-?\d+\.\d+(?:e[-+]?\d+)?")


def _rounded(text: str) -> str:
    """``text`` with every decimal number rounded to 11 significant digits: BLAS may sum in
    another order from one run to the next (threads, blocking), which moves the last digits of
    a float64; a result that is not seeded moves far more than that."""
    return FLOAT.sub(lambda m: f"{float(m.group()):.11g}", text)


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
                        text = value if isinstance(value, str) else repr(value)
                        outs.append((mime, _rounded(text)))
        cells.append(outs)
    return cells


@pytest.mark.parametrize("md", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_text_outputs_are_deterministic(md):
    """The book build's execution (from its cache) and another one give the same text (the
    one `make chapters` kept when it ran the same code, else a fresh execution)."""
    jupytext = pytest.importorskip("jupytext")
    jupyter_cache = pytest.importorskip("jupyter_cache")
    cache = jupyter_cache.get_cache(BUILD / ".jupyter_cache")
    try:
        record = cache.match_cache_notebook(jupytext.read(md))
    except KeyError:
        pytest.fail(f"{md.name} is not in the book's execution cache: rebuild the book")
    built = cache.get_cache_bundle(record.pk).nb
    notebook = executed_chapter(md)  # `make chapters`' execution, or a fresh one
    built_text, fresh_text = text_outputs(built), text_outputs(notebook)
    diffs = [
        f"code cell {i}: build {a!r}\n            fresh {b!r}"
        for i, (a, b) in enumerate(zip(built_text, fresh_text, strict=True))
        if a != b
    ]
    assert not diffs, f"{md.name}: text output differs between two executions:\n" + "\n".join(
        d[:600] for d in diffs
    )


def test_rounding_keeps_what_differs():
    assert _rounded("0.7102135034404804") == _rounded("0.7102135034404805") == "0.71021350344"
    assert _rounded("[1.0, 2.5e-05]") == "[1, 2.5e-05]"
    assert _rounded("0.71021351") != _rounded("0.71021352")


def test_api_page_documents_every_public_name():
    """chapters/api.md lists the methods by hand: no public name of optlib may be missing."""
    import types

    import optlib

    page = SITE / "chapters" / "api.html"
    assert page.is_file(), "chapters/api is not in the built book"
    html = page.read_text(encoding="utf-8")
    expected = [f"optlib.{name}" for name in optlib.__all__
                if not isinstance(getattr(optlib, name), types.ModuleType)]
    for module in (optlib.problems, optlib.plotting, optlib.schedules, optlib.learning,
                   optlib.training):
        expected += [f"{module.__name__}.{name}" for name in module.__all__]
    missing = [name for name in expected if f'id="{name}"' not in html]
    assert not missing, f"add to chapters/api.md: {missing}"


# --- visible-code budget ---------------------------------------------------------------------

CODE_BUDGET = 0.35  # a chapter shows at most 35 % of the code lines it showed before
# A recorded baseline, not a result: the visible code lines (tests/visible_code.py's measure:
# non-blank lines of every div.cell_input that no closed fold contains) of each chapter page
# of the book as it was before its reader pass (issue 9), at commit 5dc4f2d. Measured on
# 2026-11-29 with
#   git worktree add /tmp/h6-baseline 5dc4f2d && cd /tmp/h6-baseline
#   ln -s /work/main/.venv .venv
#   PYTHONPATH=$PWD .venv/bin/jupyter-book build . -W -n --keep-going    # build succeeded
#   .venv/bin/python /work/main/tests/visible_code.py _build/html
# (PYTHONPATH so that the chapters and autodoc import that commit's optlib, not the
# editable install's; the measure reads only the code cells, which come from the chapters).
# Pages without code cells (intro, api, bibliography) counted 0 and have no budget; nor
# have chapters written after that commit (no "before" to measure against).
BASELINE_VISIBLE_CODE = {
    "gradient-descent": 250,
    "momentum": 314,
    "nesterov": 194,
    "seed-simulation": 452,
    "adagrad-rmsprop": 142,
    "adadelta": 156,
    "rmsprop-momentum": 212,
    "adam": 367,
    "adam-vs-rmsprop": 194,
    "descendants": 216,
    "comparison": 146,
}


def budget_problems(shown: dict[str, int], baseline: dict[str, int], budget: float) -> list[str]:
    """A line per chapter showing more than ``budget`` times its baseline code lines."""
    return [
        f"{stem}: {n} visible code lines, over {budget:.0%} of {baseline[stem]} "
        f"(at most {int(budget * baseline[stem])})"
        for stem, n in shown.items()
        if stem in baseline and n > budget * baseline[stem]
    ]


def test_budget_catches_a_chapter_that_shows_too_much_code():
    page = """<div class="cell docutils container"><div class="cell_input docutils container">
<pre>x = 1

y = 2
z = 3
</pre></div></div>"""
    shown = {"wall": visible_code_lines(page)["visible"], "folded": 0}
    assert shown["wall"] == 3
    assert budget_problems(shown, {"wall": 8, "folded": 8}, 0.35) == [
        "wall: 3 visible code lines, over 35% of 8 (at most 2)"
    ]
    assert budget_problems(shown, {"wall": 9, "folded": 8}, 0.35) == []


def test_visible_code_measure_on_small_pages():
    """Folded inputs (myst-nb's hide-input, a closed <details>, a dropdown solution, a
    {toggle}) do not count, open ones do; blank lines never count."""
    cell = '<div class="cell_input docutils container"><pre>a = 1\n\nb = 2\n</pre></div>'
    title = '<p class="admonition-title">S</p>'
    pages = {
        cell: 2,
        f'<div class="cell tag_hide-input"><details class="hide above-input">'
        f"<summary>Show code</summary>{cell}</details></div>": 0,
        f"<details open><summary>open</summary>{cell}</details>": 2,
        f"<details><summary>closed</summary>{cell}</details>": 0,
        f'<div class="solution dropdown admonition">{title}{cell}</div>': 0,
        f'<div class="admonition dropdown toggle-shown">{title}{cell}</div>': 2,
        f'<div class="toggle">{cell}</div>': 0,
        f'<div class="cell_output"><pre>printed\noutput</pre></div>{cell}{cell}': 4,
    }
    for html, expected in pages.items():
        assert visible_code_lines(html)["visible"] == expected, html


def test_visible_code_measure_matches_the_browser(browser_context, tmp_path):
    """The static measure and what Chromium renders agree on the same small page (the site's
    pages are compared in test_page_renders)."""
    cell = '<div class="cell_input docutils container"><pre>a = 1\n\nb = 2\n</pre></div>'
    html = (
        f"<!DOCTYPE html><html><body>{cell}"
        f'<div class="cell tag_hide-input"><details class="hide above-input">'
        f"<summary>Show code</summary>{cell}</details></div>"
        f"<details open><summary>open</summary>{cell}</details></body></html>"
    )
    page = tmp_path / "cells.html"
    page.write_text(html, encoding="utf-8")
    report = check_page(browser_context, page, tmp_path, full=False)
    assert report.code_lines_shown == visible_code_lines(html)["visible"] == 4


SHOWN_CODE = {
    stem: counts["visible"]
    for stem, counts in chapter_counts(SITE).items()
    if stem in BASELINE_VISIBLE_CODE
} if (SITE / "chapters").is_dir() else {}


@pytest.mark.parametrize("stem", sorted(BASELINE_VISIBLE_CODE))
def test_visible_code_budget(stem):
    """A chapter shows at most CODE_BUDGET of the code lines it showed at the baseline."""
    assert stem in SHOWN_CODE, f"chapters/{stem}.html is not in the built site {SITE}"
    print(f"{stem}: {SHOWN_CODE[stem]} visible code lines, baseline "
          f"{BASELINE_VISIBLE_CODE[stem]}, budget {int(CODE_BUDGET * BASELINE_VISIBLE_CODE[stem])}")
    problems = budget_problems({stem: SHOWN_CODE[stem]}, BASELINE_VISIBLE_CODE, CODE_BUDGET)
    assert not problems, problems[0]


# Chapters written after the reader pass have no "before"; they were written to its
# conventions, and hold to the most code any reader-pass chapter showed when that pass was
# done (momentum: 80 visible lines, with its explorable's explanation).
NEW_CHAPTER_CODE_CAP = 80
NO_CODE_PAGES = {"intro", "api", "bibliography", "questions"}
NEW_CHAPTERS = sorted(
    path.stem for path in (Path(__file__).resolve().parent.parent / "chapters").glob("*.md")
    if path.stem not in BASELINE_VISIBLE_CODE and path.stem not in NO_CODE_PAGES)

NEW_SHOWN_CODE = {
    stem: counts["visible"]
    for stem, counts in chapter_counts(SITE).items()
    if stem in NEW_CHAPTERS
} if (SITE / "chapters").is_dir() else {}


@pytest.mark.parametrize("stem", NEW_CHAPTERS)
def test_visible_code_cap_of_newer_chapters(stem):
    """A chapter written after the reader pass shows at most NEW_CHAPTER_CODE_CAP code lines."""
    assert stem in NEW_SHOWN_CODE, f"chapters/{stem}.html is not in the built site {SITE}"
    shown = NEW_SHOWN_CODE[stem]
    print(f"{stem}: {shown} visible code lines, cap {NEW_CHAPTER_CODE_CAP}")
    assert shown <= NEW_CHAPTER_CODE_CAP, (
        f"{stem}: {shown} visible code lines, over the cap of {NEW_CHAPTER_CODE_CAP}: fold "
        "plotting, tables and checks behind a labelled fold")


# --- explorable figures (issue 12) -----------------------------------------------------------
#
# Each explorable is a Bokeh document in a chapter page (optlib.explorables): its sliders are
# noUiSlider handles (``[role=slider]``, inside Bokeh's shadow roots, which Playwright's CSS
# locators pierce), and its data sources are read back from ``Bokeh.documents``.

# Explorables of other chapters have their browser tests in tests/test_explorable_<stem>.py,
# which import the helpers below (and the browser fixtures) from this module.
EXPLORABLE_PAGES = {"momentum": SITE / "chapters" / "momentum.html"}


def explorable_page(stem: str) -> Path:
    """The built page of chapter ``stem``."""
    return EXPLORABLE_PAGES.get(stem, SITE / "chapters" / f"{stem}.html")

# The shown run, the sliders' values and the grid position, read from the page's document.
READ_MOMENTUM = """() => {
  const doc = Bokeh.documents[0];
  const shown = doc.get_model_by_name('shown').data;
  const settings = doc.get_model_by_name('settings').data;
  const k = doc.get_model_by_name('current').data.index[0];
  return {eta: doc.get_model_by_name('eta').value, mu: doc.get_model_by_name('mu').value, k,
          grid_eta: settings.eta[k], grid_mu: settings.mu[k],
          x1: Array.from(shown.x1), x2: Array.from(shown.x2), loss: Array.from(shown.loss)};
}"""


def _save_explorable_shot(page, filename: str):
    """Save a screenshot of the page's first explorable under _build/screenshots/explorables/."""
    shot = SHOTS / "explorables" / filename
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.locator(".rolling-explorable").first.screenshot(path=str(shot))


def _open_explorable(context, stem: str):
    """The page of ``stem`` opened from disk, its Bokeh document drawn; and what went wrong."""
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda exc: problems.append(f"uncaught exception: {exc}"))

    def outside(route):
        problems.append(f"request leaves the machine: {route.request.url[:120]}")
        route.abort()

    page.route(re.compile(r"^(https?|wss?|ftp)://"), outside)
    page.goto(explorable_page(stem).resolve().as_uri(), wait_until="load", timeout=TIMEOUT_MS)
    page.wait_for_function("() => window.Bokeh && Bokeh.documents.length > 0",
                           timeout=TIMEOUT_MS)
    page.locator(".rolling-explorable [role=slider][aria-label]").first.wait_for(
        timeout=TIMEOUT_MS)
    return page, problems


def _slider(page, label: str):
    handles = page.locator(f'[role=slider][aria-label="{label}"]')
    assert handles.count() == 1, f"no slider handle labelled {label!r}"
    return handles.first


def _tap_slider_on_a_phone(page, slider, dx: float):
    """Check that the explorable lies within a phone's screen and that ``slider``'s handle is
    big enough for a finger; then tap ``dx`` CSS pixels right of the handle (left if < 0)."""
    box = page.locator(".rolling-explorable").first.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 0.5, box
    handle = slider.bounding_box()
    assert handle["width"] >= 24 and handle["height"] >= 24, handle
    slider.scroll_into_view_if_needed()
    handle = slider.bounding_box()
    page.touchscreen.tap(handle["x"] + handle["width"] / 2 + dx,
                         handle["y"] + handle["height"] / 2)


def test_explorable_bundle_served_once_and_only_where_used():
    """BokehJS is a file of _static/ (not inlined), loaded by the explorables' pages only."""
    static = SITE / "_static"
    assert (static / "bokeh.min.js").is_file() and (static / "bokeh-widgets.min.js").is_file()
    for html_file in site_pages():
        text = html_file.read_text(encoding="utf-8", errors="replace")
        has = 'class="rolling-explorable"' in text
        loads = re.findall(r'<script src="[^"]*_static/(bokeh[-\w]*\.min\.js)[^"]*"', text)
        assert loads == (["bokeh.min.js", "bokeh-widgets.min.js"] if has else []), html_file
        assert "cdn.bokeh.org" not in text and len(text) < MAX_PAGE_BYTES, html_file


def test_explorable_momentum_controls_keyboard_and_data(browser_context):
    """Labelled sliders showing their value; arrows move them; the run drawn is optlib's."""
    import numpy as np

    sys.path.insert(0, str(ROOT))
    import optlib

    page, problems = _open_explorable(browser_context, "momentum")
    try:
        eta, mu = _slider(page, "learning rate η"), _slider(page, "momentum μ")
        before = page.evaluate(READ_MOMENTUM)
        assert (before["eta"], before["mu"]) == (0.4, 0.5)
        # BokehJS ran: the note for readers without it is hidden
        fallback = page.locator(".rolling-explorable-fallback")
        assert fallback.count() == 1 and fallback.first.is_hidden()
        assert eta.get_attribute("aria-valuetext") == "0.40"
        titles = page.locator(".bk-slider-title")
        assert "learning rate η" in titles.nth(0).inner_text()
        assert "0.40" in titles.nth(0).inner_text() and "0.50" in titles.nth(1).inner_text()

        eta.focus()
        page.keyboard.press("ArrowRight")
        mu.focus()
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "() => Bokeh.documents[0].get_model_by_name('current').data.index[0] !== "
            f"{before['k']}", timeout=TIMEOUT_MS)
        after = page.evaluate(READ_MOMENTUM)
        assert eta.get_attribute("aria-valuetext") == "0.42"
        assert mu.get_attribute("aria-valuetext") == "0.60"
        assert "0.42" in titles.nth(0).inner_text() and "0.60" in titles.nth(1).inner_text()
        assert after["x1"] != before["x1"], "moving the sliders did not change the run drawn"
        # the readout (a Bokeh Div, in a shadow root: Playwright's text locator pierces it)
        readout = page.get_by_text("η = 0.42, μ = 0.60")
        assert readout.count() == 1 and readout.first.is_visible()
        line = readout.first.evaluate("el => el.parentElement.textContent")
        assert "rate per step" in line.lower() and "roots" in line, line
        assert abs(after["grid_eta"] - after["eta"]) < 1e-9
        assert abs(after["grid_mu"] - after["mu"]) < 1e-9

        # a fresh optlib run at the setting shown, cast to the page's float32: equal
        ravine = optlib.problems.ravine()
        steps = len(after["x1"]) - 1
        xs = optlib.run(optlib.momentum(after["grid_eta"], after["grid_mu"]), ravine.grad,
                        np.array([-5.0, -2.0]), steps)
        np.testing.assert_array_equal(np.float32(xs[:, 0]), np.float32(after["x1"]))
        np.testing.assert_array_equal(np.float32(xs[:, 1]), np.float32(after["x2"]))
        np.testing.assert_array_equal(np.float32(ravine.f(xs)), np.float32(after["loss"]))
        # and not the default setting's run
        xs0 = optlib.run(optlib.momentum(0.4, 0.5), ravine.grad, np.array([-5.0, -2.0]), steps)
        assert not np.array_equal(np.float32(xs0[:, 0]), np.float32(after["x1"]))

        _save_explorable_shot(page, "momentum.png")
    finally:
        page.close()
    assert not problems, problems


def test_explorable_momentum_on_a_phone(phone_context):
    """At 390 px: within the screen, handles a finger can hit, a tap moves the slider."""
    page, problems = _open_explorable(phone_context, "momentum")
    try:
        before = page.evaluate(READ_MOMENTUM)
        _tap_slider_on_a_phone(page, _slider(page, "learning rate η"), dx=60)
        page.wait_for_function(
            "() => Bokeh.documents[0].get_model_by_name('current').data.index[0] !== "
            f"{before['k']}", timeout=TIMEOUT_MS)
        assert page.evaluate(READ_MOMENTUM)["eta"] > before["eta"]
        _save_explorable_shot(page, "momentum.phone.png")
    finally:
        page.close()
    assert not problems, problems


# The explorables over http too (a site is usually served, not opened from disk): the built
# site served by Python's http.server on the loopback interface; every other host is cut.
EXPLORABLE_STEMS = ("momentum", "adagrad-rmsprop", "adam", "adam-vs-rmsprop", "comparison",
                    "stochastic-gradients")


@pytest.fixture(scope="module")
def served_site():
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(SITE)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_every_explorable_page_is_tested_and_served():
    """The pages with an explorable are exactly those listed (each with its own test)."""
    with_explorable = sorted(path.stem for path in site_pages()
                             if 'class="rolling-explorable"' in path.read_text(errors="replace"))
    assert with_explorable == sorted(EXPLORABLE_STEMS)
    for stem in EXPLORABLE_STEMS:
        if stem != "momentum":
            assert (ROOT / "tests" / f"test_explorable_{stem.replace('-', '_')}.py").is_file()


@pytest.mark.parametrize("stem", EXPLORABLE_STEMS)
def test_explorable_works_over_http(browser_context, served_site, stem):
    """Served over http: BokehJS loads from the site, the figure draws, a slider moves it."""
    page = browser_context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: m.type == "error" and problems.append(f"console: {m.text}"))
    page.on("pageerror", lambda exc: problems.append(f"uncaught exception: {exc}"))
    loaded: list[str] = []
    page.on("requestfinished", lambda request: loaded.append(request.url))

    def outside(route):
        if route.request.url.startswith(served_site):
            route.continue_()
        else:
            problems.append(f"request leaves the machine: {route.request.url[:120]}")
            route.abort()

    page.route(re.compile(r"^(https?|wss?|ftp)://"), outside)
    try:
        page.goto(f"{served_site}/chapters/{stem}.html", wait_until="load", timeout=TIMEOUT_MS)
        page.wait_for_function("() => window.Bokeh && Bokeh.documents.length > 0",
                               timeout=TIMEOUT_MS)
        assert any(url.endswith("/_static/bokeh.min.js") or "/_static/bokeh.min.js?" in url
                   for url in loaded), "BokehJS was not loaded from the site's _static/"
        slider = page.locator(".rolling-explorable [role=slider][aria-label]").first
        slider.wait_for(timeout=TIMEOUT_MS)
        assert page.locator(".rolling-explorable-fallback").first.is_hidden()
        before = slider.get_attribute("aria-valuetext")
        assert before, "the slider does not announce its value"
        slider.focus()
        for key in ("ArrowRight", "ArrowLeft", "ArrowLeft"):  # the start may be the maximum
            page.keyboard.press(key)
            for _ in range(20):  # BokehJS updates the handle asynchronously
                if slider.get_attribute("aria-valuetext") != before:
                    break
                page.wait_for_timeout(100)
            if slider.get_attribute("aria-valuetext") != before:
                break
        assert slider.get_attribute("aria-valuetext") != before, "the arrow keys did nothing"
    finally:
        page.close()
    assert not problems, problems
