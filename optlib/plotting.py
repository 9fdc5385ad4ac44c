"""Plotting helpers for the book's figures: contours with trajectories, and the rolling ball.

Matplotlib is imported inside the functions, so ``import optlib`` stays light. The methods
never import this module.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BOOK_STYLE", "PALETTE", "METHOD_STYLES", "method_style", "use_book_style",
           "contour", "trajectories", "ball_animation", "ball_grid_animation",
           "animation_html"]

#: Okabe & Ito's colour-blind-safe palette (Okabe & Ito 2008, "Color Universal Design"),
#: without its yellow, which is too light on a white page; a neutral grey takes its place.
PALETTE = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
    "grey": "#8C8C8C",
}

#: The book's one figure style, for ``plt.style.use(BOOK_STYLE)`` or ``use_book_style()``.
#: Sized for the text column (about 750 px), labels legible at that size, no top or right
#: spines, a light grid, and the palette above as the colour cycle.
BOOK_STYLE = {
    "figure.figsize": (7.2, 3.4),
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "font.size": 11,
    "axes.titlesize": 11.5,
    "axes.labelsize": 11,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "legend.fontsize": 9.5,
    "legend.frameon": False,
    "lines.linewidth": 1.8,
    "lines.markersize": 4.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "0.9",
    "grid.linewidth": 0.7,
    "axes.axisbelow": True,
    "axes.prop_cycle": f"cycler(color={list(PALETTE.values())!r})",
    # Fixed ids in SVG output, so a figure renders to the same text every time.
    "svg.hashsalt": "rolling-downhill",
    "svg.fonttype": "path",
}

#: One colour and line style per method, the same on every page. A family shares a colour
#: where it shares an idea (the momentum methods are blue, the RMSProp family green and
#: purple, Adam's family orange and vermillion), and the line style tells members apart.
METHOD_STYLES = {
    "gd": {"label": "gradient descent", "color": PALETTE["black"], "linestyle": "-"},
    "momentum": {"label": "momentum", "color": PALETTE["blue"], "linestyle": "-"},
    "nesterov": {"label": "Nesterov", "color": PALETTE["sky blue"], "linestyle": "-."},
    "adagrad": {"label": "Adagrad", "color": PALETTE["bluish green"], "linestyle": ":"},
    "rmsprop": {"label": "RMSProp", "color": PALETTE["bluish green"], "linestyle": "-"},
    "rmsprop_momentum": {"label": "RMSProp with momentum", "color": PALETTE["reddish purple"],
                         "linestyle": "-"},
    "rmsprop_nesterov": {"label": "RMSProp with Nesterov", "color": PALETTE["reddish purple"],
                         "linestyle": "-."},
    "rmsprop_centered": {"label": "centered RMSProp", "color": PALETTE["reddish purple"],
                         "linestyle": ":"},
    "adadelta": {"label": "Adadelta", "color": PALETTE["grey"], "linestyle": "--"},
    "adam": {"label": "Adam", "color": PALETTE["orange"], "linestyle": "--"},
    "amsgrad": {"label": "AMSGrad", "color": PALETTE["vermillion"], "linestyle": ":"},
    "adamw": {"label": "AdamW", "color": PALETTE["vermillion"], "linestyle": "--"},
    "adamax": {"label": "Adamax", "color": PALETTE["orange"], "linestyle": ":"},
    "nadam": {"label": "NAdam", "color": PALETTE["orange"], "linestyle": "-."},
    "radam": {"label": "RAdam", "color": PALETTE["orange"], "linestyle": "-"},
    "adabelief": {"label": "AdaBelief", "color": PALETTE["vermillion"], "linestyle": "-"},
    "yogi": {"label": "Yogi", "color": PALETTE["vermillion"], "linestyle": "-."},
    "lion": {"label": "Lion", "color": PALETTE["sky blue"], "linestyle": "-"},
    "adafactor": {"label": "Adafactor", "color": PALETTE["grey"], "linestyle": "-"},
    "muon": {"label": "Muon", "color": PALETTE["blue"], "linestyle": "--"},
    "schedule_free_adamw": {"label": "schedule-free AdamW", "color": PALETTE["black"],
                            "linestyle": "--"},
}

# Other names the chapters use for the same methods.
_ALIASES = {
    "gradient descent": "gd", "sgd": "gd", "gradient_descent": "gd",
    "heavy ball": "momentum", "heavy_ball": "momentum", "sgd with momentum": "momentum",
    "nesterov momentum": "nesterov", "sgd with nesterov": "nesterov",
    "rmsprop with momentum": "rmsprop_momentum", "rmsprop+momentum": "rmsprop_momentum",
    "rms+mom": "rmsprop_momentum", "rmsprop + momentum": "rmsprop_momentum",
    "rmsprop with nesterov": "rmsprop_nesterov", "rmsprop+nesterov": "rmsprop_nesterov",
    "centered rmsprop": "rmsprop_centered", "rmsprop (centered)": "rmsprop_centered",
    "schedule-free adamw": "schedule_free_adamw", "schedule-free": "schedule_free_adamw",
}


def method_style(name: str) -> dict:
    """The book's colour, line style and display label of the method called ``name``.

    Names are matched without regard to case, and the chapters' other names for a method
    (``"heavy ball"``, ``"SGD"``, ``"RMSProp with momentum"``) are understood. Returns a new
    dict with ``color``, ``linestyle`` and ``label``, ready for ``ax.plot(..., **style)``.

    >>> method_style("Adam")
    {'label': 'Adam', 'color': '#E69F00', 'linestyle': '--'}
    >>> method_style("heavy ball") == method_style("momentum")
    True
    >>> method_style("lbfgs")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: method_style: unknown method 'lbfgs'; known: gd, momentum, nesterov, ...
    """
    key = " ".join(str(name).lower().split())
    key = _ALIASES.get(key, key)
    if key not in METHOD_STYLES:
        raise ValueError(
            f"method_style: unknown method {name!r}; known: {', '.join(METHOD_STYLES)} "
            "(and their usual names, e.g. 'heavy ball', 'RMSProp with momentum')")
    return dict(METHOD_STYLES[key])


def _line_style(label, index):
    """The method's style where ``label`` names a method, else the palette's ``index``-th."""
    try:
        style = method_style(label)
    except ValueError:
        cycle = list(PALETTE.values())
        return {"color": cycle[index % len(cycle)]}
    style.pop("label")
    return style


def use_book_style(figure_format: str = "svg") -> None:
    """Apply ``BOOK_STYLE`` and make notebook figures crisp on high-density screens.

    ``figure_format`` is ``"svg"`` (vector; the book's default for line and contour plots) or
    ``"retina"`` (PNG at twice the resolution, displayed at its normal size; for heatmaps and
    dense scatter plots, whose SVG is heavy). Outside IPython only the style is applied.
    """
    import matplotlib.pyplot as plt

    if figure_format not in ("svg", "retina"):
        raise ValueError(f"figure_format must be 'svg' or 'retina', got {figure_format!r}")
    plt.style.use(BOOK_STYLE)
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:
        return
    if get_ipython() is not None:
        set_matplotlib_formats(figure_format)


def contour(ax, problem, xlim, ylim, *, levels=20, n=200, log=False, **kwargs):
    """Draw the contours of a 2-D ``problem`` on ``ax`` over ``xlim`` × ``ylim``.

    ``log=True`` spaces the levels geometrically (for Rosenbrock). Returns the contour set.
    """
    x1 = np.linspace(*xlim, n)
    x2 = np.linspace(*ylim, n)
    grid = np.stack(np.meshgrid(x1, x2), axis=-1)
    z = problem.f(grid)
    if log:
        lo = max(float(z.min()), 1e-3)
        levels = np.geomspace(lo, float(z.max()), levels if np.isscalar(levels) else len(levels))
    kwargs.setdefault("colors", "0.75")
    kwargs.setdefault("linewidths", 0.8)
    cs = ax.contour(x1, x2, z, levels=levels, **kwargs)
    if problem.minimizer is not None and np.ndim(problem.minimizer) == 1:
        ax.plot(*problem.minimizer, marker="*", color="k", markersize=10, linestyle="none")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return cs


def trajectories(ax, paths: dict, *, markers=True, legend=True, **kwargs):
    """Draw 2-D iterate paths ``{label: array of shape (steps + 1, 2)}`` on ``ax``.

    A label that names a method (:func:`method_style`) gets that method's colour and line
    style; other labels take the palette in order. ``kwargs`` (e.g. ``color``) override both.
    """
    lines = []
    for i, (label, xs) in enumerate(paths.items()):
        xs = np.asarray(xs)
        style = dict(_line_style(label, i), **kwargs)
        (line,) = ax.plot(xs[:, 0], xs[:, 1], marker="o" if markers else None,
                          markersize=3, linewidth=1.5, label=label, **style)
        lines.append(line)
    if legend:
        ax.legend(loc="best")
    return lines


def ball_animation(f, paths: dict, *, xlim, frames=None, every=1, start=0, trail=0,
                   time_label="step", figsize=(7.2, 3.2), dpi=90, interval=80):
    """A ``FuncAnimation`` of balls rolling on the curve ``y = f(x)``, one per path.

    ``paths`` maps a label to a 1-D array of iterates, all on the same clock. The left panel
    shows the balls on the curve, the right one x against the step. ``every`` keeps every
    n-th iterate; ``frames`` caps the frame count. ``start`` is the step number of the first
    iterate (e.g. negative, for windows aligned at an event; ``time_label`` names that
    clock). ``trail`` draws that many earlier (kept) positions behind each ball as small
    dots: their spacing shows the speed. Small ``dpi`` keeps the embedded animation light.
    """
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation

    labels = list(paths)
    data = {k: np.asarray(v)[::every] for k, v in paths.items()}
    n = max(len(v) for v in data.values())
    if frames is not None:
        n = min(n, frames)
    fig, (ax_curve, ax_time) = plt.subplots(1, 2, figsize=figsize, dpi=dpi)
    xs = np.linspace(*xlim, 400)
    ax_curve.plot(xs, f(xs), color="0.6")
    ax_curve.set_xlim(*xlim)
    ax_curve.set_xlabel("x")
    ax_curve.set_ylabel("f(x)")
    clock = ax_time.text(0.5, 1.02, f"{time_label} {start}", transform=ax_time.transAxes,
                         ha="center", va="bottom")  # sized for tight_layout
    ax_time.set_xlim(start, start + (n - 1) * every)
    lo = min(float(np.min(v[:n])) for v in data.values())
    hi = max(float(np.max(v[:n])) for v in data.values())
    pad = 0.05 * (hi - lo or 1.0)
    ax_time.set_ylim(lo - pad, hi + pad)
    ax_time.set_xlabel(time_label)
    ax_time.set_ylabel("x")
    balls, trails, traces = [], [], []
    for i, k in enumerate(labels):
        color = _line_style(k, i)["color"]
        (ball,) = ax_curve.plot([], [], "o", color=color, markersize=8, label=k)
        (dots,) = ax_curve.plot([], [], ".", color=color, markersize=3, alpha=0.5)
        (trace,) = ax_time.plot([], [], "-", color=color, linewidth=1.2)
        balls.append(ball)
        trails.append(dots)
        traces.append(trace)
    ax_curve.legend(loc="upper left")
    fig.tight_layout()

    def draw(frame):
        for k, ball, dots, trace in zip(labels, balls, trails, traces, strict=True):
            v = data[k]
            j = min(frame, len(v) - 1)
            ball.set_data([v[j]], [f(v[j])])
            past = v[max(j - trail, 0):j] if trail else v[:0]
            dots.set_data(past, f(past))
            trace.set_data(start + np.arange(j + 1) * every, v[: j + 1])
        clock.set_text(f"{time_label} {start + frame * every}")
        return balls + trails + traces + [clock]

    anim = FuncAnimation(fig, draw, frames=n, interval=interval, blit=True)
    plt.close(fig)
    return anim


def ball_grid_animation(f, paths: dict, *, xlim, frames=48, ncols=2, trail=6,
                        figsize=None, dpi=80, interval=100):
    """A ``FuncAnimation`` with one panel per path, each path on its own clock.

    ``paths`` maps a label to a 1-D array of iterates; each path is resampled to ``frames``
    evenly spaced iterates from its first to its last, so paths of very different lengths
    (methods whose time scales differ by orders of magnitude) play side by side. Each panel
    shows the curve ``y = f(x)`` over ``xlim``, the ball, ``trail`` earlier sampled
    positions, and the current step number. The defaults (two panels a row, each about
    375 px wide at 80 dpi, so the figure fills the ~750 px text column) keep titles and step
    counts legible.
    """
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation

    labels = list(paths)
    nrows = -(-len(labels) // ncols)
    if figsize is None:
        figsize = (4.7 * ncols, 1.9 * nrows)
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, dpi=dpi, sharey=True,
                             squeeze=False)
    xs = np.linspace(*xlim, 300)
    picks, balls, trails, clocks = [], [], [], []
    for i, k in enumerate(labels):
        ax = axes.flat[i]
        v = np.asarray(paths[k])
        idx = np.round(np.linspace(0, len(v) - 1, frames)).astype(int)
        picks.append((v, idx))
        ax.plot(xs, f(xs), color="0.6", linewidth=1)
        ax.set_xlim(*xlim)
        ax.set_title(k)
        color = _line_style(k, i)["color"]
        (dots,) = ax.plot([], [], ".", color=color, markersize=3, alpha=0.5)
        (ball,) = ax.plot([], [], "o", color=color, markersize=7)
        clock = ax.text(0.03, 0.93, "", transform=ax.transAxes, va="top")
        balls.append(ball)
        trails.append(dots)
        clocks.append(clock)
    for ax in axes.flat[len(labels):]:
        ax.set_visible(False)
    fig.tight_layout()

    def draw(frame):
        for (v, idx), ball, dots, clock in zip(picks, balls, trails, clocks, strict=True):
            x = v[idx[frame]]
            ball.set_data([x], [f(x)])
            past = v[idx[max(frame - trail, 0):frame]]
            dots.set_data(past, f(past))
            clock.set_text(f"step {idx[frame]}")
        return balls + trails + clocks

    anim = FuncAnimation(fig, draw, frames=frames, interval=interval, blit=True)
    plt.close(fig)
    return anim


def animation_html(anim, *, embed_limit_mb=2.5, frame_format="png", colors=None,
                   default_mode="once"):
    """The animation as self-contained HTML+JS (plays in a static page, no kernel).

    ``colors`` (an integer, e.g. 64) renders each frame as a PNG with a palette of that many
    colors, which makes line-art frames several times lighter; blitted animations (such as
    :func:`ball_animation`'s) then redraw only their animated artists, which is also much
    faster. Raises ``ValueError`` if the page would exceed ``embed_limit_mb``.

    >>> import pytest  # skipped without matplotlib (optlib[plot]) and IPython
    >>> _ = pytest.importorskip("matplotlib"), pytest.importorskip("IPython")
    >>> import numpy as np, optlib
    >>> anim = optlib.plotting.ball_animation(abs, {"ball": np.linspace(1, -1, 3)},
    ...                                       xlim=(-1, 1), figsize=(2, 1), dpi=30)
    >>> html = optlib.plotting.animation_html(anim, colors=16).data
    >>> html.count("data:image/png;base64")
    3
    """
    import matplotlib as mpl
    from IPython.display import HTML

    if colors is None:
        with mpl.rc_context({"animation.embed_limit": 10 * embed_limit_mb,
                             "animation.frame_format": frame_format}):
            html = anim.to_jshtml(default_mode=default_mode)
    else:
        html = _palette_jshtml(anim, int(colors), default_mode)
    if len(html) > embed_limit_mb * 2**20:
        raise ValueError(f"animation is {len(html) / 2**20:.1f} MB, over embed_limit_mb="
                         f"{embed_limit_mb}")
    return HTML(html)


def _palette_jshtml(anim, colors, default_mode):
    """``anim.to_jshtml`` with every frame rendered as a palette PNG of ``colors`` colors.

    Frames are rendered on an Agg canvas at the figure's dpi. When the animation blits, the
    static background is drawn once and only the animated artists are redrawn per frame.
    """
    import base64
    from io import BytesIO
    from pathlib import Path
    from tempfile import TemporaryDirectory

    from matplotlib.animation import HTMLWriter
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    class PaletteWriter(HTMLWriter):
        canvas = background = None
        animated = ()

        def grab_frame(self, **savefig_kwargs):
            fig = self.fig
            figure_canvas = fig.canvas  # restored below, so the animation's own redraws
            if self.canvas is None:     # between frames stay on the figure's canvas
                self.canvas = FigureCanvasAgg(fig)
                self.animated = sorted((a for a in fig.findobj() if a.get_animated()),
                                       key=lambda a: a.get_zorder())
                self.canvas.draw()  # not saving: the animated artists are left out
                self.background = self.canvas.copy_from_bbox(fig.bbox)
            fig.set_canvas(self.canvas)
            try:
                if self.animated:
                    self.canvas.restore_region(self.background)
                    for artist in self.animated:
                        fig.draw_artist(artist)
                else:
                    self.canvas.draw()
            finally:
                fig.set_canvas(figure_canvas)
            rgb = Image.fromarray(np.asarray(self.canvas.buffer_rgba())).convert("RGB")
            frame = rgb.quantize(colors=colors, method=Image.Quantize.MAXCOVERAGE)
            out = BytesIO()
            frame.save(out, format="png", optimize=True)
            self._saved_frames.append(base64.encodebytes(out.getvalue()).decode("ascii"))

    fps = 1000 / getattr(anim, "_interval", 100)
    with TemporaryDirectory() as tmp:
        path = Path(tmp, "animation.html")
        writer = PaletteWriter(fps=fps, embed_frames=True, default_mode=default_mode)
        anim.save(str(path), writer=writer)
        return path.read_text()
