"""The optimizer type shared by every method: a pair of pure functions."""

from __future__ import annotations

import contextvars
import functools
import inspect
import numbers
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from . import tree
from ._backend import is_symbolic


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


# --------------------------------------------------------------------------------------------
# A learning rate that is a function of the step count
# --------------------------------------------------------------------------------------------

#: True while a method is being built with the rate a schedule gave for one step: such a
#: rate may be 0 (the start of a warmup, the end of a decay), a constant ``lr`` may not.
rate_from_schedule = contextvars.ContextVar("optlib_rate_from_schedule", default=False)


class ScheduledState(NamedTuple):
    """The state of a method whose learning rate is a schedule.

    ``count`` is the number of updates made so far (the schedule's argument at the next
    update) and ``inner`` the method's own state.
    """

    count: Any
    inner: Any


def is_schedule(lr) -> bool:
    """Whether ``lr`` is a schedule (a function of the step count) rather than a value."""
    return (callable(lr) and not isinstance(lr, (numbers.Number, np.ndarray))
            and not is_symbolic(lr))


def schedule_rate(schedule, count):
    """``schedule(count)``, checked: a learning rate from a schedule is finite and ``>= 0``."""
    rate = schedule(count)
    if is_symbolic(rate) or is_symbolic(count):
        return rate
    try:
        values = np.asarray(rate, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"lr: the schedule gave {rate!r} at step count {count}, "
                         "not a real number or an array of them") from None
    bad = ~(np.isfinite(values) & (values >= 0))
    if np.any(bad):
        shown = float(values[bad].flat[0]) if values.ndim else float(values)
        raise ValueError(f"lr: the schedule gave {shown:.6g} at step count {count}; a learning "
                         "rate from a schedule must satisfy 0 <= lr, finite")
    return rate


def accepts_schedule(factory):
    r"""Let ``factory``'s ``lr`` be a schedule, ``lr_t = schedule(t)``, as in optax.

    ``t`` is the number of updates already made (0 at the first update). The method built
    is the same rule with :math:`\eta_t` in the place of :math:`\eta` at step ``t``: each
    update builds ``factory(lr=schedule(t), ...)`` (the other arguments as given) and runs
    its ``update`` on the method's own state, which ``ScheduledState`` carries with the
    count. A method whose state does not involve the rate (Adam: its step is
    ``-lr * direction``) therefore scales its steps; one whose state carries the rate (the
    velocity :math:`v \leftarrow \mu v - \eta g` of :func:`optlib.momentum`, Keras's form)
    accumulates the scheduled rates, as Keras's optimizers do under a schedule; PyTorch's
    ``SGD`` keeps the rate out of the velocity, so its iterates differ under a schedule.

    A constant ``lr`` (a number, an array, a SymPy expression) builds the method unchanged.
    """
    signature = inspect.signature(factory)

    @functools.wraps(factory)
    def build(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        schedule = bound.arguments.get("lr")
        if not is_schedule(schedule):
            return factory(*args, **kwargs)
        return _scheduled(factory, dict(bound.arguments), schedule)

    return build


def _scheduled(factory, arguments, schedule):
    def at(rate):
        token = rate_from_schedule.set(True)
        try:
            return factory(**{**arguments, "lr": rate})
        finally:
            rate_from_schedule.reset(token)

    first = at(schedule_rate(schedule, 0))  # checks the other arguments, and the first rate

    def init(x0):
        return ScheduledState(count=0, inner=first.init(x0))

    def update(grad, state, x=None):
        if not isinstance(state, ScheduledState):
            raise ValueError("state: a method with a learning-rate schedule needs the state "
                             "its init made (a ScheduledState), got "
                             f"{type(state).__name__}")
        step, inner = at(schedule_rate(schedule, state.count)).update(grad, state.inner, x)
        return step, ScheduledState(count=state.count + 1, inner=inner)

    return Optimizer(init, update, first.name, {**first.hyperparams, "lr": schedule})
