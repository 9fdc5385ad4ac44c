"""Explorable figures: sliders over a precomputed sweep, drawn by Bokeh in the static site.

An explorable holds, in the page, the result of ONE vectorised optlib sweep over the grid of
slider values (``optlib.grid``), so every position of the sliders shows optlib's own iterates:
the page's JavaScript only picks a row, it computes nothing. Bokeh (``bokeh==3.9.2``, see the
README for the choice) draws it; its JavaScript is served once from the site's ``_static/`` by
the book's Sphinx extension (``chapters/_ext/rolling_site.py``), which adds the script tags to
the pages that hold an explorable (marked by :data:`MARKER`).

Bokeh is imported inside the functions, so ``import optlib`` never needs it (as
:mod:`optlib.plotting` does with Matplotlib). The pieces:

- :func:`slider_values` checks a grid of slider values (evenly spaced) and returns its
  ``(start, end, step)``; :func:`grid_slider` makes the slider, labelled, showing its value,
  with handles large enough for a finger; :func:`index_slider` steps through a grid that is
  not evenly spaced (log-spaced learning rates), showing each position's label.
- :func:`book_figure` is a Bokeh figure in the book's style (:data:`FONT`, the palette of
  :mod:`optlib.plotting`, no toolbar, width following the page).
- :func:`flat_rows` lays a sweep's result out as flat columns, one block of rows per grid
  position, and :func:`select_rows` is the callback that copies the block of the sliders'
  current position into the sources that are drawn.
- :func:`to_html` wraps the layout as the HTML a notebook cell displays (never
  ``bokeh.io.show``, which would fetch BokehJS from a CDN), with the marker, an accessible
  name for each slider and the dark-theme rule.

A page without JavaScript, and a downloaded notebook opened elsewhere, keep the chapter's
static Matplotlib figure, which stays next to the explorable.
"""

from __future__ import annotations

import html as _html
import json
import re

import numpy as np

from .plotting import PALETTE

__all__ = ["FONT", "MARKER", "LIBRARY", "FALLBACK", "library_version", "slider_values",
           "grid_slider", "index_slider", "book_figure", "flat_rows", "select_rows", "to_html"]

#: The Python package that draws the explorables (its version keys the execution cache).
LIBRARY = "bokeh"

#: The class of the element that holds an explorable. The site adds Bokeh's scripts to
#: exactly the pages whose HTML contains it.
MARKER = "rolling-explorable"

#: The font of the book's Matplotlib figures (its default, DejaVu Sans), then fall-backs.
FONT = "DejaVu Sans, Verdana, Helvetica, Arial, sans-serif"

_TEXT_SIZE = "11pt"
_TICK_SIZE = "10pt"

# noUiSlider's handle, enlarged to a touch target (about 30 px), inside the slider's shadow DOM
_SLIDER_CSS = """
.noUi-horizontal { height: 10px; }
.noUi-horizontal .noUi-handle { width: 30px; height: 30px; top: -11px; right: -15px;
  border-radius: 50%; cursor: pointer; }
.noUi-handle:before, .noUi-handle:after { display: none; }
.noUi-handle:focus-visible { outline: 3px solid #0072B2; outline-offset: 2px; }
.bk-slider-title { font-size: 11pt; }
"""

# Dark theme: the theme puts HTML outputs on a light panel; the figure is inverted instead
# (hue turned back), so it follows the theme switch without JavaScript.
_DARK_CSS = (
    f"html[data-theme=dark] .bd-content div.cell_output .text_html:has(.{MARKER})"
    " { background-color: transparent !important; padding: 0 !important; }\n"
    f"html[data-theme=dark] .{MARKER} {{ filter: invert(0.88) hue-rotate(180deg); }}\n"
    f".{MARKER} {{ max-width: 100%; }}\n"
)

# Gives each slider's handle an accessible name once Bokeh has drawn it (asynchronously, after
# the page loads; every Bokeh view sits in a shadow root, so the search walks them), and to the
# handle of an index_slider a value text that is its position's label, kept up to date as it
# moves (noUiSlider would announce the position). Polls for at most 20 s.
_ARIA_JS = """
(function () {
  const labels = %s;
  const valueTexts = %s;
  function walk(root, test, out) {
    for (const el of root.querySelectorAll('*')) {
      if (test(el)) out.push(el);
      if (el.shadowRoot) walk(el.shadowRoot, test, out);
    }
    return out;
  }
  let tries = 0;
  function apply() {
    let missing = 0;
    for (const [cls, label] of Object.entries(labels)) {
      const hosts = walk(document, (el) => el.classList && el.classList.contains(cls), []);
      const handles = hosts.flatMap(
        (h) => walk(h.shadowRoot || h, (el) => el.getAttribute('role') === 'slider', []));
      if (handles.length === 0) missing += 1;
      for (const handle of handles) {
        handle.setAttribute('aria-label', label);
        const texts = valueTexts[cls];
        if (texts && !handle.rollingValueText) {
          handle.rollingValueText = true;
          const fix = () => {
            const want = texts[Math.round(Number(handle.getAttribute('aria-valuenow')))];
            if (want !== undefined && handle.getAttribute('aria-valuetext') !== want) {
              handle.setAttribute('aria-valuetext', want);
            }
          };
          new MutationObserver(fix).observe(
            handle, {attributes: true, attributeFilter: ['aria-valuetext', 'aria-valuenow']});
          fix();
        }
      }
    }
    if (missing > 0 && tries++ < 200) setTimeout(apply, 100);
  }
  apply();
})();
"""


def library_version() -> str:
    """``"bokeh==<version>"``, the drawing library as installed (for the execution cache)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{LIBRARY}=={version(LIBRARY)}"
    except PackageNotFoundError:
        return f"{LIBRARY} not installed"


def slider_values(values) -> tuple[float, float, float]:
    """``(start, end, step)`` of an evenly spaced, increasing grid of slider values.

    >>> slider_values([0.1, 0.2, 0.3])
    (0.1, 0.3, 0.1)
    >>> slider_values([0.1, 0.3, 0.4])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: values must be evenly spaced and increasing (a slider's grid), got steps ...
    """
    v = np.asarray(values, dtype=float)
    if v.ndim != 1 or v.size < 2:
        raise ValueError(f"values must be a 1-D grid of at least 2 values, got shape {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError("values must be finite")
    d = np.diff(v)
    step = (v[-1] - v[0]) / (v.size - 1)
    if step <= 0 or np.max(np.abs(d - step)) > 1e-9 * max(1.0, abs(step)):
        raise ValueError("values must be evenly spaced and increasing (a slider's grid), "
                         f"got steps from {d.min():.3g} to {d.max():.3g}")
    return float(v[0]), float(v[-1]), float(np.round(step, 12))


def grid_slider(values, *, title: str, value=None, name: str, label: str | None = None,
                format: str = "0[.]00"):
    """A Bokeh ``Slider`` over the grid ``values``, titled ``title`` and showing its value.

    ``name`` identifies it in the page (the CSS class ``rolling-slider-<name>`` of its element
    and the model's name); ``label`` (default ``title``) is its accessible name, set on the
    handle by :func:`to_html`. ``value`` (default: the first) must be one of ``values``.
    """
    from bokeh.models import InlineStyleSheet, Slider

    start, end, step = slider_values(values)
    grid = np.asarray(values, dtype=float)
    value = grid[0] if value is None else float(value)
    if np.min(np.abs(grid - value)) > 1e-9 * max(1.0, abs(step)):
        raise ValueError(f"value must be one of the slider's values ({start:g} to {end:g} in "
                         f"steps of {step:g}), got {value!r}")
    if not name.isidentifier():
        raise ValueError(f"name must be an identifier, got {name!r}")
    slider = Slider(start=start, end=end, step=step, value=value, title=title, format=format,
                    name=name, css_classes=[f"rolling-slider-{name}"],
                    sizing_mode="stretch_width", margin=(8, 18, 14, 18),
                    stylesheets=[InlineStyleSheet(css=_SLIDER_CSS)])
    slider.tags = [{"label": label or title}]
    return slider


def index_slider(labels, *, title: str, name: str, index: int = 0, label: str | None = None):
    """A Bokeh ``Slider`` over the positions ``0 .. len(labels) - 1`` of a grid, showing labels.

    For a grid that is not evenly spaced (log-spaced learning rates, β₂ = 0.9 ... 0.9999): the
    slider moves one grid position per arrow key and shows ``labels[position]`` (strings, e.g.
    the formatted grid values) as its value. Give :func:`select_rows` the grid
    ``range(len(labels))`` for it. ``name``, ``label`` as for :func:`grid_slider`.
    """
    from bokeh.models import CustomJSTickFormatter

    labels = [str(x) for x in labels]
    if len(labels) < 2:
        raise ValueError(f"labels must name at least 2 grid positions, got {len(labels)}")
    if isinstance(index, bool) or not 0 <= int(index) < len(labels) or int(index) != index:
        raise ValueError(f"index must be an integer from 0 to {len(labels) - 1}, got {index!r}")
    slider = grid_slider(np.arange(len(labels), dtype=float), title=title, value=float(index),
                         name=name, label=label)
    slider.format = CustomJSTickFormatter(
        args=dict(labels=labels), code="return labels[Math.round(tick)] ?? String(tick);")
    slider.tags = [{**slider.tags[0], "value_labels": labels}]  # to_html: the handle's value text
    return slider


def book_figure(*, title: str | None = None, x_label: str = "", y_label: str = "",
                height: int = 300, **kwargs):
    """A Bokeh figure in the book's style: its font, a light grid, no toolbar, no drag.

    The width follows the page (``sizing_mode="stretch_width"``), so it fits a phone.
    ``kwargs`` go to ``bokeh.plotting.figure`` (``x_range``, ``y_axis_type``, ...).
    Labels are plain Unicode (η, μ): Bokeh would need another bundle for TeX.
    """
    from bokeh.plotting import figure

    kwargs.setdefault("sizing_mode", "stretch_width")
    fig = figure(title=title, height=height, toolbar_location=None, tools="", **kwargs)
    fig.xaxis.axis_label = x_label
    fig.yaxis.axis_label = y_label
    for axis in (*fig.xaxis, *fig.yaxis):
        axis.axis_label_text_font = FONT
        axis.axis_label_text_font_style = "normal"
        axis.axis_label_text_font_size = _TEXT_SIZE
        axis.major_label_text_font = FONT
        axis.major_label_text_font_size = _TICK_SIZE
        axis.axis_line_color = PALETTE["black"]
    if fig.title is not None:
        fig.title.text_font = FONT
        fig.title.text_font_size = "11.5pt"
        fig.title.text_font_style = "normal"
    fig.grid.grid_line_color = "#e6e6e6"
    fig.outline_line_color = None
    fig.background_fill_color = "#ffffff"
    fig.border_fill_color = "#ffffff"
    fig.min_border_left = 50
    return fig


def flat_rows(data: dict, grid_ndim: int, *, dtype=np.float32) -> dict:
    """Columns of a sweep laid out for :func:`select_rows`: one block per grid position.

    Each value of ``data`` has the grid's ``grid_ndim`` axes first (row-major, the order of the
    sliders), then the rows of one position (e.g. the steps). Returns flat columns of
    ``dtype``, position after position, and ``"length"``, the rows per position. Values
    beyond the range of ``dtype`` (a diverged run) become ``inf``, without a warning.

    >>> cols = flat_rows({"x": np.arange(12.0).reshape(2, 3, 2)}, 2)
    >>> cols["length"], cols["x"].tolist()
    (2, [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0])
    """
    arrays = {k: np.asarray(v) for k, v in data.items()}
    if not arrays:
        raise ValueError("data must hold at least one column")
    shapes = {k: a.shape for k, a in arrays.items()}
    first = next(iter(arrays.values()))
    if first.ndim < grid_ndim:
        raise ValueError(f"grid_ndim must be at most the arrays' ndim {first.ndim}, "
                         f"got {grid_ndim}")
    if len(set(shapes.values())) != 1:
        raise ValueError(f"every column must have the same shape, got {shapes}")
    length = int(np.prod(first.shape[grid_ndim:], dtype=int))
    with np.errstate(over="ignore"):  # a diverged run's huge values become inf in float32
        out = {k: a.astype(dtype).reshape(-1) for k, a in arrays.items()}
    out["length"] = length
    return out


def select_rows(sliders, values, pairs, *, current=None, div=None):
    """The ``CustomJS`` callback that shows the block of the sliders' current grid position.

    ``sliders`` are the grid's sliders, in the order of its axes; ``values`` their grids.
    A Bokeh ``Select`` may stand for an axis too: its grid is its ``options`` (strings, in the
    order of the axis), and its current option picks the position.
    ``pairs`` is a list of ``(full, shown, length)``: ``full`` holds every position's block of
    ``length`` rows, one after the other (:func:`flat_rows`), and ``shown`` receives the block
    of the current position (every column of ``shown`` that ``full`` holds is copied from it;
    its other columns stay, so two callbacks over different axes can fill one source, e.g.
    the steps of the problem picked and the losses of the setting picked).
    ``div`` (optional, a Bokeh ``Div``) receives, as its HTML, the first row of the first
    ``shown`` source that has a ``text`` column (a readout per position, written in Python).
    ``current`` (optional) is a ``ColumnDataSource`` whose ``index`` column receives the flat
    index of the position (the page's tests read it).
    """
    from bokeh.models import CustomJS

    values = list(values)
    if len(values) != len(sliders):
        raise ValueError(f"values must give one grid per slider ({len(sliders)}), "
                         f"got {len(values)}")
    specs = []
    for widget, v in zip(sliders, values, strict=True):
        if hasattr(widget, "options"):  # a Select: its options are the axis
            if [str(o) for o in v] != list(widget.options):
                raise ValueError(f"values of a Select must be its options {widget.options}, "
                                 f"got {list(v)}")
            specs.append([str(o) for o in v])
        else:
            specs.append(list(slider_values(v)))
    for full, shown, _ in pairs:
        if not set(full.data) & set(shown.data):
            raise ValueError("pairs: a shown source must share a column with its full source, "
                             f"got {sorted(shown.data)} and {sorted(full.data)}")
    code = """
let k = 0;
for (let a = 0; a < sliders.length; a++) {
  let n, i;
  if (typeof specs[a][0] === 'string') {
    n = specs[a].length;
    i = Math.max(0, specs[a].indexOf(sliders[a].value));
  } else {
    const [start, end, step] = specs[a];
    n = Math.round((end - start) / step) + 1;
    i = Math.min(n - 1, Math.max(0, Math.round((sliders[a].value - start) / step)));
  }
  k = k * n + i;
}
for (const [full, shown, length] of pairs) {
  const data = {...shown.data};
  for (const col of Object.keys(shown.data)) {
    if (col in full.data) data[col] = full.data[col].slice(k * length, (k + 1) * length);
  }
  shown.data = data;
}
if (current !== null) current.data = {index: [k]};
if (div !== null) {
  for (const [full, shown, length] of pairs) {
    if ('text' in shown.data) { div.text = shown.data.text[0]; break; }
  }
}
"""
    return CustomJS(args=dict(sliders=list(sliders), specs=specs,
                              pairs=[list(p) for p in pairs], current=current, div=div),
                    code=code)


#: What a reader sees in place of the explorable where BokehJS does not run. That is a browser
#: without JavaScript, or the downloaded notebook in Jupyter (whose untrusted outputs run no
#: script).
FALLBACK = ("This figure is explorable in the book's web pages, with JavaScript. Here, the "
            "static figures of this section show the same runs for fixed settings.")

_SCRIPT = re.compile(r"^\s*<script[^>]*>(?P<code>.*)</script>\s*$", re.DOTALL)


def to_html(layout, *, label: str, sliders=(), fallback: str = FALLBACK):
    """The layout as an ``IPython.display.HTML`` for a notebook cell (myst-nb renders it).

    The figure is wrapped in ``<div class="rolling-explorable" role="figure" aria-label=...>``
    (``label``). The sliders (from :func:`grid_slider`) get their accessible names once Bokeh
    has drawn them. BokehJS must be on the page (the book's site loads it from ``_static/``);
    where it is not (no JavaScript, or a notebook in Jupyter), Bokeh's script does nothing and
    ``fallback`` (HTML, :data:`FALLBACK` by default) stays visible instead of an empty box.
    """
    from bokeh.embed import components
    from IPython.display import HTML

    if not label:
        raise ValueError("label must be a non-empty description of the figure")
    labels, value_texts = {}, {}
    for s in sliders:
        tags = [t for t in s.tags if isinstance(t, dict) and "label" in t]
        labels[f"rolling-slider-{s.name}"] = tags[0]["label"] if tags else s.title
        if tags and "value_labels" in tags[0]:  # an index_slider
            value_texts[f"rolling-slider-{s.name}"] = tags[0]["value_labels"]
    script, div = components(layout)
    match = _SCRIPT.match(script)
    if match is None:  # pragma: no cover - a change in Bokeh's components()
        raise RuntimeError("bokeh.embed.components returned an unexpected script")
    guarded = ('<script type="text/javascript">\nif (window.Bokeh) {\n'
               f'{match.group("code")}\n'
               f"  for (const p of document.querySelectorAll('.{MARKER}-fallback')) "
               "p.hidden = true;\n}\n</script>")
    body = (f'<style>{_DARK_CSS}</style>\n'
            f'<div class="{MARKER}" role="figure" aria-label="{_html.escape(label)}">\n'
            f'<p class="{MARKER}-fallback">{fallback}</p>\n'
            f"{div}\n{guarded}\n</div>\n")
    if labels:
        script = _ARIA_JS % (json.dumps(labels), json.dumps(value_texts))
        body += f'<script type="text/javascript">{script}</script>\n'
    return HTML(body)
