r"""Gradient descent, momentum and Nesterov momentum (the book's Foundations and Part I).

What every method here shares (validation, one update code for floats, arrays, sweeps and
SymPy) and the notation are in :mod:`optlib.methods`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ._backend import (
    check_grad_shape,
    zeros_like,
)
from ._hyper import _decay, _flag, _lr
from .base import Optimizer, accepts_schedule

__all__ = [
    "gd",
    "momentum",
    "GDState",
    "MomentumState",
]


# --------------------------------------------------------------------------------------------
# Gradient descent
# --------------------------------------------------------------------------------------------


class GDState(NamedTuple):
    """Gradient descent keeps no state."""


@accepts_schedule
def gd(lr) -> Optimizer:
    r"""Gradient descent with a constant step size.

    .. math::

        \Delta x_t = -\eta\, g_t

    **Algorithm**

    1. :math:`g_t \leftarrow \nabla f(x_{t-1})`
    2. :math:`\Delta x_t \leftarrow -\eta g_t`

    **Conventions.** Matches ``torch.optim.SGD(lr=lr)`` with ``momentum=0``,
    ``tf.keras.optimizers.SGD`` and ``optax.sgd``.

    Args:
        lr: learning rate :math:`\eta`, ``0 < lr``, finite; or a
            schedule, a function of the step count (:mod:`optlib.schedules`).

    Reference: Cauchy (1847).

    >>> import optlib
    >>> opt = optlib.gd(lr=0.1)
    >>> step, state = opt.update(2.0, opt.init(1.0), 1.0)
    >>> float(step)
    -0.2
    """
    lr = _lr(lr)

    def init(x0):
        return GDState()

    def update(grad, state, x=None):
        check_grad_shape(grad, x)
        return -lr * grad, state

    return Optimizer(init, update, "GD", {"lr": lr})


# --------------------------------------------------------------------------------------------
# Momentum (heavy ball) and Nesterov
# --------------------------------------------------------------------------------------------


class MomentumState(NamedTuple):
    """State of :func:`momentum`: the velocity :math:`v` (the previous heavy-ball step)."""

    velocity: Any


@accepts_schedule
def momentum(lr, momentum=0.9, nesterov=False) -> Optimizer:
    r"""Heavy-ball momentum (Polyak), optionally Nesterov's accelerated gradient.

    Heavy ball, in the form of the seeds and of Goodfellow et al. (Algorithm 8.2):

    .. math::

        v_t = \mu v_{t-1} - \eta g_t, \qquad \Delta x_t = v_t, \qquad v_0 = 0.

    With ``nesterov=True``, the form that needs the gradient only at the current point
    (PyTorch's):

    .. math::

        v_t = \mu v_{t-1} - \eta g_t, \qquad \Delta x_t = \mu v_t - \eta g_t .

    Its iterates are the look-ahead points :math:`\tilde x = x + \mu v` of Sutskever et al.'s
    form :math:`v_t = \mu v_{t-1} - \eta \nabla f(x_{t-1} + \mu v_{t-1})`,
    :math:`x_t = x_{t-1} + v_t` (proved in the Nesterov chapter). Sutskever's form itself is
    ``momentum(lr, mu)`` run with the gradient taken at ``x + mu * state.velocity``: see
    ``grad_at`` in :func:`optlib.run`.

    **Algorithm**

    1. :math:`g_t \leftarrow \nabla f(x_{t-1})`
    2. :math:`v_t \leftarrow \mu v_{t-1} - \eta g_t`
    3. if nesterov: :math:`\Delta x_t \leftarrow \mu v_t - \eta g_t`, else
       :math:`\Delta x_t \leftarrow v_t`

    **Conventions.** :math:`\eta` sits inside the velocity. ``torch.optim.SGD`` keeps
    ``buf = momentum * buf + g`` (first step ``buf = g``) and steps ``-lr * buf``
    (Nesterov: ``-lr * (g + momentum * buf)``), so :math:`v = -\eta\,\mathrm{buf}`: identical
    iterates for a constant learning rate (``dampening=0``), different ones under a schedule.
    Keras ``SGD(momentum=...)`` uses our form; ``optax.sgd(momentum=...)`` uses PyTorch's.

    Args:
        lr: learning rate :math:`\eta`, ``0 < lr``, finite; or a
            schedule, a function of the step count (:mod:`optlib.schedules`).
        momentum: momentum coefficient :math:`\mu`, ``0 <= momentum < 1``.
        nesterov: use Nesterov's accelerated gradient.

    References: Polyak (1964); Nesterov (1983); Sutskever et al. (2013).

    >>> import optlib
    >>> opt = optlib.momentum(lr=1.0, momentum=0.5)
    >>> state = opt.init(0.0)
    >>> steps = []
    >>> for _ in range(3):  # a constant slope: the step grows toward -lr / (1 - momentum)
    ...     step, state = opt.update(1.0, state, 0.0)
    ...     steps.append(float(step))
    >>> steps
    [-1.0, -1.5, -1.75]
    """
    lr = _lr(lr)
    mu = _decay("momentum", momentum)
    nesterov = _flag("nesterov", nesterov)

    def init(x0):
        return MomentumState(velocity=zeros_like(x0))

    def update(grad, state, x=None):
        check_grad_shape(grad, x)
        velocity = mu * state.velocity - lr * grad
        step = mu * velocity - lr * grad if nesterov else velocity
        return step, MomentumState(velocity=velocity)

    name = "Nesterov" if nesterov else "momentum"
    return Optimizer(init, update, name, {"lr": lr, "momentum": mu, "nesterov": nesterov})
