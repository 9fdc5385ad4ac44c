"""Plotting helpers for the book's figures: contours with trajectories, and the rolling ball.

Matplotlib is imported inside the functions, so ``import optlib`` stays light. The methods
never import this module.
"""

from __future__ import annotations

import numpy as np

__all__ = ["contour", "trajectories", "ball_animation", "animation_html"]


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


def trajectories(ax, paths: dict, *, markers=True, **kwargs):
    """Draw 2-D iterate paths ``{label: array of shape (steps + 1, 2)}`` on ``ax``."""
    lines = []
    for label, xs in paths.items():
        xs = np.asarray(xs)
        (line,) = ax.plot(xs[:, 0], xs[:, 1], marker="o" if markers else None,
                          markersize=2.5, linewidth=1.2, label=label, **kwargs)
        lines.append(line)
    ax.legend(loc="best", fontsize="small")
    return lines


def ball_animation(f, paths: dict, *, xlim, frames=None, every=1, figsize=(7.5, 3.2), dpi=60,
                   interval=80):
    """A ``FuncAnimation`` of balls rolling on the curve ``y = f(x)``, one per path.

    ``paths`` maps a label to a 1-D array of iterates. The left panel shows the balls on the
    curve, the right one x against the step. ``every`` keeps every n-th iterate; ``frames``
    caps the frame count. Small ``dpi`` keeps the embedded animation light.
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
    ax_time.set_xlim(0, (n - 1) * every)
    lo = min(float(np.min(v[:n])) for v in data.values())
    hi = max(float(np.max(v[:n])) for v in data.values())
    pad = 0.05 * (hi - lo or 1.0)
    ax_time.set_ylim(lo - pad, hi + pad)
    ax_time.set_xlabel("step")
    ax_time.set_ylabel("x")
    balls, traces = [], []
    for i, k in enumerate(labels):
        color = f"C{i}"
        (ball,) = ax_curve.plot([], [], "o", color=color, markersize=8, label=k)
        (trace,) = ax_time.plot([], [], "-", color=color, linewidth=1.2)
        balls.append(ball)
        traces.append(trace)
    ax_curve.legend(loc="upper center", fontsize="small")
    fig.tight_layout()

    def draw(frame):
        for k, ball, trace in zip(labels, balls, traces, strict=True):
            v = data[k]
            j = min(frame, len(v) - 1)
            ball.set_data([v[j]], [f(v[j])])
            trace.set_data(np.arange(j + 1) * every, v[: j + 1])
        return balls + traces

    anim = FuncAnimation(fig, draw, frames=n, interval=interval, blit=True)
    plt.close(fig)
    return anim


def animation_html(anim, *, embed_limit_mb=2.5, frame_format="png"):
    """The animation as self-contained HTML+JS (plays in a static page, no kernel).

    Raises ``ValueError`` if the embedded frames would exceed ``embed_limit_mb``.
    """
    import matplotlib as mpl
    from IPython.display import HTML

    with mpl.rc_context({"animation.embed_limit": embed_limit_mb,
                         "animation.frame_format": frame_format}):
        html = anim.to_jshtml(default_mode="once")
    if len(html) > embed_limit_mb * 2**20:
        raise ValueError(f"animation is {len(html) / 2**20:.1f} MB, over embed_limit_mb="
                         f"{embed_limit_mb}")
    return HTML(html)
