"""Running an optimizer: trajectories, and sweeps as one vectorised run.

The methods never import this module; it only calls their ``init`` and ``update``.
"""

from __future__ import annotations

import numpy as np

from . import tree
from ._backend import integer, is_symbolic
from .base import Optimizer

__all__ = ["run", "grid"]


def run(opt: Optimizer, grad_fn, x0, steps: int, *, grad_at=None, return_states=False,
        record="iterates", every=1):
    """Iterate ``x = x + step`` for ``steps`` steps and return the iterates (or what is asked).

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
        x0: the starting point: a float, an array, a SymPy expression, or a container of them
            (a dict, list, tuple or NamedTuple of arrays, nested; see :mod:`optlib.tree`).
            For a container, ``grad_fn`` takes and returns containers of that structure, and
            each leaf is checked as above (the error names the leaf, ``x['w']``).
        steps: the number of updates, ``0 <= steps``.
        grad_at: optional ``grad_at(x, state)`` giving the point where the gradient is taken
            (default ``x``). ``grad_at=lambda x, s: x + mu * s.velocity`` with
            ``optlib.momentum(lr, mu)`` is Sutskever's look-ahead Nesterov.
        return_states: also return the states: a list of the states at the recorded steps
            (all ``steps + 1`` by default), or the last state with ``record="last"``.
        record: what to keep, so that a long run or a huge sweep fits in memory:

            1. ``"iterates"`` (default): the iterates at steps ``0, every, 2 * every, ...``
               (at most ``steps``): ``run(..., every=k)`` equals ``run(...)[::k]`` and keeps
               only those rows in memory.
            2. ``"last"``: only the last iterate, without the leading step axis (the memory
               of two iterates); ``every`` must be 1.
            3. a function ``record(x, state, t)`` (a metric, e.g. the loss): its values at
               steps ``t = 0, every, 2 * every, ...``, stacked along a new first axis (a list
               if they are SymPy expressions; a container of stacked arrays if they are
               containers). The iterates themselves are not kept.
        every: record every ``every``-th step, an integer ``1 <= every``.

    Returns:
        For numeric ``x0``, an array of shape ``(steps + 1, *shape)`` whose first row is
        ``x0``, where ``shape`` is ``x0``'s shape broadcast against the hyperparameters (so a
        sweep with ``lr`` of shape ``(100, 1, 1)`` from a 2-D ``x0`` gives rows of shape
        ``(100, 1, 2)`` or wider). For symbolic ``x0``, or a scalar ``x0`` with symbolic
        hyperparameters, a list of expressions. With ``steps=0`` no update runs, so the
        result is ``x0`` alone, shape ``(1, *x0.shape)``, whatever the hyperparameters.
        ``every`` keeps ``steps // every + 1`` of the rows. For a container ``x0``, a
        container of that structure holding each leaf's result (an array of shape
        ``(steps + 1, *leaf_shape)``, or a list for a symbolic leaf).

    >>> import numpy as np, optlib
    >>> xs = optlib.run(optlib.gd(lr=0.25), lambda x: 2 * x, np.array([1.0, -2.0]), 3)
    >>> xs.shape
    (4, 2)
    >>> xs[:, 0].tolist()  # x_{t+1} = (1 - 2 lr) x_t = x_t / 2
    [1.0, 0.5, 0.25, 0.125]
    >>> optlib.run(optlib.gd(lr=0.25), lambda x: 2 * x, np.array([1.0, -2.0]), 3,
    ...            record="last").tolist()
    [0.125, -0.25]
    >>> losses = optlib.run(optlib.gd(lr=0.25), lambda x: 2 * x, np.array([1.0, -2.0]), 1000,
    ...                     record=lambda x, state, t: np.sum(x * x), every=250)
    >>> losses.shape   # steps 0, 250, 500, 750, 1000; no iterate kept
    (5,)
    >>> params = {"w": np.ones((3, 2)), "b": np.zeros(2)}
    >>> xs = optlib.run(optlib.adam(0.1), lambda p: {"w": p["w"], "b": p["b"] - 1}, params, 5)
    >>> xs["w"].shape, xs["b"].shape
    ((6, 3, 2), (6, 2))
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
    steps, every = integer("steps", steps, low=0), integer("every", every, low=1)
    metric = record if callable(record) else None
    if metric is None and not (isinstance(record, str) and record in ("iterates", "last")):
        raise ValueError("record must be 'iterates', 'last' or a function "
                         f"record(x, state, t), got {record!r}")
    last = record == "last" if metric is None else False
    if last and every != 1:
        raise ValueError(f"every must be 1 with record='last' (only the last iterate is "
                         f"kept), got every={every!r}")
    container = tree.is_container(x0)
    leaves0, structure = tree.flatten(x0)
    leaves0 = [_as_start(leaf) for leaf in leaves0]
    paths = tree.leaf_paths(structure)
    x0 = tree.unflatten(structure, leaves0)
    keep_iterates = metric is None
    traces = ([_Trace(leaf, steps, every, last) for leaf in leaves0]
              if keep_iterates else None)
    x = x0
    state = opt.init(x0)
    states = [state] if return_states and not last else None
    metrics = [metric(x0, state, 0)] if metric is not None else None
    x_leaves = leaves0
    for t in range(1, steps + 1):
        point = x if grad_at is None else grad_at(x, state)
        grad = grad_fn(point)
        if container:
            _check_container_gradient(grad, point, x_leaves, state, opt, t, structure, paths,
                                      point is x)
        else:
            _check_gradient(grad, point, x, state, opt, t)
        step, state = opt.update(grad, state, x)
        if container:
            x_leaves = [leaf + leaf_step for leaf, leaf_step in zip(
                x_leaves, tree.flatten_up_to(structure, step, "step"), strict=True)]
            x = tree.unflatten(structure, x_leaves)
        else:
            x = x + step
            x_leaves = [x]
        recorded = t % every == 0
        if keep_iterates:
            for trace, leaf in zip(traces, x_leaves, strict=True):
                trace.add(t, leaf)
        elif recorded:
            metrics.append(metric(x, state, t))
        if return_states and recorded and not last:
            states.append(state)
    if keep_iterates:
        result = tree.unflatten(structure, [trace.result() for trace in traces])
    else:
        result = _stack(metrics)
    if return_states:
        return result, (state if last else states)
    return result


def _as_start(leaf):
    """A numeric start as a float array (an integer start would truncate); symbols as given."""
    if is_symbolic(leaf):
        return leaf
    leaf = np.asarray(leaf)
    if not np.issubdtype(leaf.dtype, np.floating):
        leaf = leaf.astype(float)
    return leaf


class _Trace:
    """The recorded iterates of one array (one leaf of a container).

    Numeric iterates go into one preallocated array of the recorded rows, allocated at the
    first step (when the sweep's shape is known); symbolic ones into a list. A numeric scalar
    start whose first iterate is symbolic (symbolic hyperparameters) switches to a list.
    """

    def __init__(self, x0, steps, every, last):
        self.x0, self.steps, self.every, self.last = x0, steps, every, last
        self.symbolic = is_symbolic(x0)
        self.xs = [x0] if self.symbolic and not last else None
        self.out = None
        self.started = False
        self.final = x0

    def add(self, t, x):
        first = not self.started
        self.started = True
        self.final = x
        if first and not self.symbolic and np.ndim(x) == 0 and is_symbolic(x):
            self.symbolic = True  # symbolic hyperparameters: a list of expressions
            self.xs = None if self.last else [self.x0[()]]
        if self.last:
            return
        if self.symbolic:
            if t % self.every == 0:
                self.xs.append(x)
            return
        if first:
            shape = np.broadcast_shapes(np.shape(x), self.x0.shape)
            dtype = np.result_type(self.x0.dtype, np.asarray(x).dtype)
            self.out = np.empty((self.steps // self.every + 1, *shape), dtype=dtype)
            self.out[0] = self.x0
        if t % self.every == 0:
            self.out[t // self.every] = x

    def result(self):
        if self.last:
            if not self.started:
                return self.x0 if self.symbolic else self.x0.copy()
            return self.final
        if self.symbolic:
            return self.xs
        if self.out is None:
            return self.x0[None].copy()
        return self.out


def _stack(values):
    """Recorded metric values along a new first axis: an array, a list (SymPy), a container."""
    if tree.is_container(values[0]):
        _, structure = tree.flatten(values[0])
        columns = zip(*(tree.flatten_up_to(structure, v, "record's value") for v in values),
                      strict=True)
        return tree.unflatten(structure, [_stack(list(column)) for column in columns])
    if any(is_symbolic(v) for v in values):
        return list(values)
    # the value at step 0 may be narrower than a sweep's (x0 has no configuration axes yet)
    return np.stack(np.broadcast_arrays(*[np.asarray(v) for v in values]))


def _check_container_gradient(grad, point, x_leaves, state, opt, step, structure, paths,
                              at_x):
    """:func:`_check_gradient` for each leaf of a container, naming the leaf."""
    if grad is None:
        raise ValueError(
            f"grad_fn returned None at step {step} (for x {tree.describe_structure(structure)})"
            ": it must return the gradient at x, a container of x's structure (did it forget "
            "to return?)"
        )
    try:
        grads = tree.flatten_up_to(structure, grad, "grad")
    except ValueError as error:
        raise ValueError(f"grad_fn returned a gradient at step {step} that {error}".replace(
            "that grad does not", "that does not")) from None
    points = x_leaves if at_x else tree.flatten_up_to(structure, point, "grad_at's point")
    states = None
    for i, (g, p) in enumerate(zip(grads, points, strict=True)):
        if g is not None and np.shape(g) == np.shape(p) and not is_symbolic(g, p):
            continue  # the usual case, nothing to check (and no state to look at)
        if states is None:
            states = tree.flatten_up_to(structure, state, "state", strict=False)
        _check_gradient(g, p, x_leaves[i], states[i], opt, step, f"x{paths[i]}")


def _check_gradient(grad, point, x, state, opt, step, name="x"):
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
            f"grad_fn returned None at step {step} (for {name} of shape {np.shape(point)}): it "
            f"must return the gradient at {name} (did it forget to return?)"
        )
    if is_symbolic(grad, point):
        return
    grad_shape, point_shape = np.shape(grad), np.shape(point)
    if grad_shape == point_shape or not point_shape:
        return
    allowed = _sweep_shape(point_shape, x, state, opt)
    expected = f"the shape of {name}" if allowed == point_shape else (
        f"the shape of x or that of the sweep's iterates, {allowed}")
    head = f"grad_fn returned a gradient of shape {grad_shape} at step {step} for {name} of shape "
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
    event_ndim = integer("event_ndim", event_ndim, low=0)
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
