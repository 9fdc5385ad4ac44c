"""The optimizer type shared by every method: a pair of pure functions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple


class Optimizer(NamedTuple):
    """An optimization method as two pure functions over explicit state.

    ``state = init(x0)`` builds the method's starting state for parameters shaped like ``x0``.
    ``step, state = update(grad, state, x)`` takes the gradient at ``x`` and returns the step
    :math:`\\Delta x` (the caller does ``x = x + step``) and the new state. Nothing is mutated:
    calling ``update`` twice with the same arguments gives the same result.

    ``name`` and ``hyperparams`` record how the optimizer was built, for labels and tables.
    """

    init: Callable[[Any], Any]
    update: Callable[..., tuple[Any, Any]]
    name: str
    hyperparams: dict
