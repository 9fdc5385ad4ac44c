"""Running an optimizer: trajectories, and sweeps as one vectorised run.

The methods never import this module; it only calls their ``init`` and ``update``.
"""

from __future__ import annotations

import numbers

import numpy as np

from ._backend import is_symbolic
from .base import Optimizer

__all__ = ["run", "grid"]


def run(opt: Optimizer, grad_fn, x0, steps: int, *, grad_at=None, return_states=False):
    """Iterate ``x = x + step`` for ``steps`` steps and return every iterate.

    Args:
        opt: an optimizer from :mod:`optlib` (any object with ``init`` and ``update``).
        grad_fn: the gradient, ``grad_fn(x)``; for a sweep it must accept a batch of points
            (the problems in :mod:`optlib.problems` do: the coordinates are the last axis).
            It returns an array of the shape of its argument, or of a shape that broadcasts
            to the iterates' (a scalar, say). A gradient with an axis that neither ``x0`` nor
            the hyperparameters have raises ``ValueError`` rather than widening the iterates:
            to run a batch of problems in one go, give ``x0`` the batch axes. A scalar ``x0``
            is the exception: one-dimensional problems act element-wise, so
            ``lambda x: curvatures * x`` runs one problem per curvature from ``x0 = 1.0``.
        x0: the starting point: a float, an array, or a SymPy expression.
        steps: the number of updates, ``0 <= steps``.
        grad_at: optional ``grad_at(x, state)`` giving the point where the gradient is taken
            (default ``x``). ``grad_at=lambda x, s: x + mu * s.velocity`` with
            ``optlib.momentum(lr, mu)`` is Sutskever's look-ahead Nesterov.
        return_states: also return the states, as a list of ``steps + 1`` states.

    Returns:
        For numeric ``x0``, an array of shape ``(steps + 1, *shape)`` whose first row is
        ``x0``, where ``shape`` is ``x0``'s shape broadcast against the hyperparameters (so a
        sweep with ``lr`` of shape ``(100, 1, 1)`` from a 2-D ``x0`` gives rows of shape
        ``(100, 1, 2)`` or wider). For symbolic ``x0``, or a scalar ``x0`` with symbolic
        hyperparameters, a list of expressions. With ``steps=0`` no update runs, so the
        result is ``x0`` alone, shape ``(1, *x0.shape)``, whatever the hyperparameters.

    >>> import numpy as np, optlib
    >>> xs = optlib.run(optlib.gd(lr=0.25), lambda x: 2 * x, np.array([1.0, -2.0]), 3)
    >>> xs.shape
    (4, 2)
    >>> xs[:, 0].tolist()  # x_{t+1} = (1 - 2 lr) x_t = x_t / 2
    [1.0, 0.5, 0.25, 0.125]
    >>> optlib.run(optlib.gd(0.1), lambda x: np.ones((2, 2)), np.zeros(2), 5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: grad_fn returned a gradient of shape (2, 2) at step 1 for x of shape (2,): ...
    >>> import pytest
    >>> sp = pytest.importorskip("sympy")  # optlib[symbolic]; the rest is skipped without it
    >>> eta = sp.Symbol("eta")
    >>> optlib.run(optlib.gd(lr=eta), lambda x: 1, 0.0, 2)[1:]  # symbolic lr, numeric x0
    [-eta, -2*eta]
    """
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) or steps < 0:
        raise ValueError(f"steps must be an integer with 0 <= steps, got {steps!r}")
    steps = int(steps)
    symbolic = is_symbolic(x0)
    if not symbolic:
        x0 = np.asarray(x0)
        if not np.issubdtype(x0.dtype, np.floating):
            x0 = x0.astype(float)
    x = x0
    state = opt.init(x0)
    states = [state] if return_states else None
    xs = [x0] if symbolic else None
    out = None
    for t in range(steps):
        point = x if grad_at is None else grad_at(x, state)
        grad = grad_fn(point)
        _check_gradient(grad, point, x, state, opt, t + 1)
        step, state = opt.update(grad, state, x)
        x = x + step
        if not symbolic and out is None and np.ndim(x) == 0 and is_symbolic(x):
            symbolic = True  # symbolic hyperparameters: a list of expressions, as for symbols
            xs = [x0[()]]
        if symbolic:
            xs.append(x)
        else:
            if out is None:
                shape = np.broadcast_shapes(np.shape(x), x0.shape)
                dtype = np.result_type(x0.dtype, np.asarray(x).dtype)
                out = np.empty((steps + 1, *shape), dtype=dtype)
                out[0] = x0
            out[t + 1] = x
        if return_states:
            states.append(state)
    if symbolic:
        result = xs
    elif out is None:
        result = x0[None].copy()
    else:
        result = out
    return (result, states) if return_states else result


def _check_gradient(grad, point, x, state, opt, step):
    """Raise ``ValueError`` for a gradient that is missing or would widen the iterates.

    The gradient may have the shape of the point it was taken at, or any shape that broadcasts
    to the shape a sweep gives the iterates (``x`` broadcast against the optimizer's
    hyperparameters and state): a scalar, a row of the sweep. It may not add or lengthen an
    axis that none of them has: ``x`` would silently take that shape. A 0-d point is exempt:
    a scalar has no coordinate axis, so every axis of the gradient is a batch axis (a family
    of one-dimensional problems, ``lambda x: curvatures * x``).
    """
    if grad is None:
        raise ValueError(
            f"grad_fn returned None at step {step} (for x of shape {np.shape(point)}): it must "
            "return the gradient at x (did it forget to return?)"
        )
    if is_symbolic(grad, point):
        return
    grad_shape, point_shape = np.shape(grad), np.shape(point)
    if grad_shape == point_shape or not point_shape:
        return
    allowed = _sweep_shape(point_shape, x, state, opt)
    expected = "the shape of x" if allowed == point_shape else (
        f"the shape of x or that of the sweep's iterates, {allowed}")
    head = f"grad_fn returned a gradient of shape {grad_shape} at step {step} for x of shape "
    try:
        widened = np.broadcast_shapes(grad_shape, allowed)
    except ValueError:
        raise ValueError(
            f"{head}{point_shape}: expected {expected}, or a shape that broadcasts to it"
        ) from None
    if widened != allowed:
        raise ValueError(
            f"{head}{point_shape}: expected {expected}, or a shape that broadcasts to it; this "
            f"gradient would widen the iterates to {widened}. To run a batch of problems at "
            f"once, give x0 the batch axes, e.g. np.broadcast_to(x0, {widened})"
        )


def _sweep_shape(point_shape, x, state, opt):
    """``point_shape`` broadcast against ``x``, the hyperparameters and the state's arrays."""
    shapes = [point_shape, np.shape(x)]
    values = list(getattr(opt, "hyperparams", {}).values())
    values += list(state) if isinstance(state, tuple) else []
    for value in values:
        if isinstance(value, np.ndarray) and not is_symbolic(value):
            shapes.append(value.shape)
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:  # the update itself will report the mismatch
        return point_shape


def grid(*axes, event_ndim: int = 1):
    """Reshape 1-D hyperparameter arrays into orthogonal axes that broadcast into a grid.

    ``lr, mu = grid(lrs, mus)`` gives ``lr`` of shape ``(len(lrs), 1, 1)`` and ``mu`` of
    shape ``(1, len(mus), 1)`` when the parameters have one axis (``event_ndim=1``), so
    ``optlib.run(optlib.momentum(lr, mu), ...)`` runs every pair at once and returns
    iterates of shape ``(steps + 1, len(lrs), len(mus), dim)``.

    >>> import numpy as np, optlib
    >>> a, b = optlib.grid(np.arange(3.0), np.arange(4.0))
    >>> a.shape, b.shape
    ((3, 1, 1), (1, 4, 1))
    """
    if isinstance(event_ndim, bool) or not isinstance(event_ndim, int) or event_ndim < 0:
        raise ValueError(f"event_ndim must be an integer with 0 <= event_ndim, got {event_ndim!r}")
    n = len(axes)
    out = []
    for i, axis in enumerate(axes):
        axis = np.asarray(axis, dtype=float)
        if axis.ndim != 1:
            raise ValueError(f"axis {i} must be 1-D, got shape {axis.shape}")
        shape = [1] * (n + event_ndim)
        shape[i] = axis.size
        out.append(axis.reshape(shape))
    return tuple(out)
