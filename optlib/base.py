"""The optimizer type shared by every method: a pair of pure functions."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

from . import tree


class _OptimizerFields(NamedTuple):
    init: Callable[[Any], Any]
    update: Callable[..., tuple[Any, Any]]
    name: str
    hyperparams: dict


class Optimizer(_OptimizerFields):
    r"""An optimization method as two pure functions over explicit state.

    ``state = init(x0)`` builds the method's starting state for parameters shaped like ``x0``.
    ``step, state = update(grad, state, x)`` takes the gradient at ``x`` and returns the step
    :math:`\Delta x` (the caller does ``x = x + step``) and the new state. Nothing is mutated:
    calling ``update`` twice with the same arguments gives the same result.

    ``name`` and ``hyperparams`` record how the optimizer was built, for labels and tables.

    **Containers of parameters.** The ``init`` and ``update`` a method is written with act on
    one array (or float, or SymPy expression). Building the ``Optimizer`` makes them act leaf
    by leaf on a container of them (a dict, list, tuple or NamedTuple of arrays, nested:
    :mod:`optlib.tree`), so no method is written twice:

    1. ``init(x0)`` for a container ``x0``: the method's state for each leaf, in a container
       of ``x0``'s structure (the state of ``{"w": W, "b": b}`` is
       ``{"w": state_W, "b": state_b}``).
    2. ``update(grad, state, x)`` for a container ``x`` (or ``grad`` when ``x`` is not given):
       ``grad`` must have ``x``'s structure, and ``state`` that structure down to ``x``'s
       leaves (a state per leaf); otherwise ``ValueError`` names the first place they differ.
    3. Each leaf's ``update`` runs on its own gradient, state and parameter; the steps and the
       new states come back as two containers of ``x``'s structure. A leaf's ``ValueError``
       (Muon given a vector, say) is raised again with the leaf's path in front.

    For a leaf (anything but a container) ``init`` and ``update`` are the method's own
    functions, called as they are: results are exactly what they were without containers.
    Hyperparameter arrays (a sweep) broadcast against every leaf.

    >>> import numpy as np, optlib
    >>> opt = optlib.adam(lr=0.1)
    >>> params = {"w": np.ones((3, 2)), "b": np.zeros(2)}
    >>> state = opt.init(params)
    >>> type(state["w"]).__name__
    'AdamState'
    >>> step, state = opt.update({"w": np.ones((3, 2)), "b": -np.ones(2)}, state, params)
    >>> np.round(step["b"], 6).tolist()   # Adam's first step is about -lr * sign(g)
    [0.1, 0.1]
    """

    __slots__ = ()

    def __new__(cls, init, update, name, hyperparams):
        return super().__new__(cls, _leafwise_init(init), _leafwise_update(update), name,
                               hyperparams)

    @classmethod
    def _make(cls, iterable):
        # NamedTuple's _make (which _replace calls) skips __new__: wrap replaced functions too
        return cls(*iterable)


def _reraise(error, path):
    """``error`` again, with the leaf's path in front of its message."""
    return ValueError(f"leaf x{path}: {error}")


def _leafwise_init(init):
    if getattr(init, "_optlib_leafwise", False):
        return init

    @functools.wraps(init)
    def leafwise_init(x0):
        if not tree.is_container(x0):
            return init(x0)
        leaves, structure = tree.flatten(x0)
        states = []
        for i, leaf in enumerate(leaves):
            try:
                states.append(init(leaf))
            except ValueError as error:
                raise _reraise(error, tree.leaf_paths(structure)[i]) from error
        return tree.unflatten(structure, states)

    leafwise_init._optlib_leafwise = True
    return leafwise_init


def _leafwise_update(update):
    if getattr(update, "_optlib_leafwise", False):
        return update

    @functools.wraps(update)
    def leafwise_update(grad, state, x=None):
        if not (tree.is_container(x) or tree.is_container(grad)):
            return update(grad, state, x)
        reference = x if tree.is_container(x) else grad
        _, structure = tree.flatten(reference)
        grads = tree.flatten_up_to(structure, grad, "grad")
        states = tree.flatten_up_to(structure, state, "state", strict=False)
        xs = ([None] * len(grads) if x is None
              else tree.flatten_up_to(structure, x, "x"))
        steps, new_states = [], []
        for i, (g, s, p) in enumerate(zip(grads, states, xs, strict=True)):
            try:
                step, new_state = update(g, s, p)
            except ValueError as error:
                raise _reraise(error, tree.leaf_paths(structure)[i]) from error
            steps.append(step)
            new_states.append(new_state)
        return tree.unflatten(structure, steps), tree.unflatten(structure, new_states)

    leafwise_update._optlib_leafwise = True
    return leafwise_update
