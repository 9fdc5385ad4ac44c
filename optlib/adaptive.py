r"""Per-coordinate step sizes: Adagrad, RMSProp (plain, centered, with momentum) and Adadelta
(Part II of the book).

What every method here shares (validation, one update code for floats, arrays, sweeps and
SymPy) and the notation are in :mod:`optlib.methods`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ._backend import (
    check_grad_shape,
    full_like,
    is_symbolic,
    sqrt,
    zeros_like,
)
from ._hyper import _decay, _eps, _flag, _lr, _positive
from .base import Optimizer, accepts_schedule

__all__ = [
    "adagrad",
    "rmsprop",
    "adadelta",
    "AdagradState",
    "RMSPropState",
    "AdadeltaState",
]


# --------------------------------------------------------------------------------------------
# Adagrad
# --------------------------------------------------------------------------------------------


class AdagradState(NamedTuple):
    """State of :func:`adagrad`: the running sum of squared gradients."""

    sum_of_squares: Any


@accepts_schedule
def adagrad(lr, eps=1e-10, initial_accumulator=0.0) -> Optimizer:
    r"""Adagrad: each coordinate's step is divided by the root of its summed squared gradients.

    .. math::

        s_t = s_{t-1} + g_t^2, \qquad
        \Delta x_t = -\frac{\eta}{\sqrt{s_t} + \epsilon}\, g_t, \qquad
        s_0 = \text{initial\_accumulator}.

    **Algorithm**

    1. :math:`g_t \leftarrow \nabla f(x_{t-1})`
    2. :math:`s_t \leftarrow s_{t-1} + g_t^2`
    3. :math:`\Delta x_t \leftarrow -\eta\, g_t / (\sqrt{s_t} + \epsilon)`

    **Conventions.** :math:`\epsilon` is added after the root, as in ``torch.optim.Adagrad``
    (``eps=1e-10``, ``initial_accumulator_value=0``, ``lr_decay=0``): identical iterates.
    Keras' Adagrad starts the accumulator at 0.1 and uses ``eps=1e-7`` inside the root;
    optax's ``adagrad`` also starts it at 0.1 and puts ``eps`` inside the root.

    Args:
        lr: learning rate :math:`\eta`, ``0 < lr``, finite; or a
            schedule, a function of the step count (:mod:`optlib.schedules`).
        eps: :math:`\epsilon`, ``0 <= eps``, finite.
        initial_accumulator: :math:`s_0`, ``0 <= initial_accumulator``, finite.

    Reference: Duchi, Hazan and Singer (2011).

    >>> import optlib
    >>> opt = optlib.adagrad(lr=1.0, eps=0.0)
    >>> state = opt.init(0.0)
    >>> for _ in range(4):  # constant gradient 0.5: the step is -1/sqrt(t)
    ...     step, state = opt.update(0.5, state, 0.0)
    >>> float(step)
    -0.5
    """
    lr = _lr(lr)
    eps = _eps("eps", eps)
    initial_accumulator = _eps("initial_accumulator", initial_accumulator)

    def init(x0):
        return AdagradState(sum_of_squares=full_like(x0, initial_accumulator))

    def update(grad, state, x=None):
        check_grad_shape(grad, x)
        sum_of_squares = state.sum_of_squares + grad * grad
        step = -lr * grad / (sqrt(sum_of_squares) + eps)
        return step, AdagradState(sum_of_squares=sum_of_squares)

    return Optimizer(
        init, update, "Adagrad", {"lr": lr, "eps": eps, "initial_accumulator": initial_accumulator}
    )


# --------------------------------------------------------------------------------------------
# RMSProp
# --------------------------------------------------------------------------------------------


class RMSPropState(NamedTuple):
    """State of :func:`rmsprop`.

    ``mean_square``: moving average of :math:`g^2`; ``mean_grad``: moving average of
    :math:`g` (used when centered); ``velocity``: the momentum buffer (used when momentum > 0).
    """

    mean_square: Any
    mean_grad: Any
    velocity: Any


@accepts_schedule
def rmsprop(
    lr, decay=0.9, eps=1e-8, momentum=0.0, nesterov=False, centered=False, eps_inside_sqrt=False
) -> Optimizer:
    r"""RMSProp, plain, centered, with momentum, or with Nesterov momentum.

    .. math::

        r_t &= \rho\, r_{t-1} + (1-\rho)\, g_t^2, \qquad r_0 = 0 \\
        d_t &= \sqrt{r_t} + \epsilon
              \quad\text{or, with eps\_inside\_sqrt,}\quad d_t = \sqrt{r_t + \epsilon} \\
        v_t &= \mu\, v_{t-1} - \eta\, g_t / d_t, \qquad v_0 = 0 \\
        \Delta x_t &= v_t \quad\text{(momentum)}, \qquad
        \Delta x_t = \mu v_t - \eta\, g_t / d_t \quad\text{(Nesterov)} .

    With ``momentum=0`` the step is :math:`-\eta g_t / d_t`. With ``centered=True``,
    :math:`a_t = \rho a_{t-1} + (1-\rho) g_t` and :math:`r_t` is replaced by
    :math:`r_t - a_t^2` (an estimate of the variance) inside :math:`d_t`.

    **Algorithm**

    1. :math:`g_t \leftarrow \nabla f(x_{t-1})`
    2. :math:`r_t \leftarrow \rho r_{t-1} + (1-\rho) g_t^2`;
       if centered, :math:`a_t \leftarrow \rho a_{t-1} + (1-\rho) g_t` and
       :math:`r \leftarrow r_t - a_t^2`
    3. :math:`d_t \leftarrow \sqrt{r} + \epsilon` (or :math:`\sqrt{r + \epsilon}`)
    4. :math:`v_t \leftarrow \mu v_{t-1} - \eta g_t / d_t`
    5. :math:`\Delta x_t \leftarrow v_t`, or :math:`\mu v_t - \eta g_t / d_t` with Nesterov

    **Conventions.** "RMSProp with momentum" here is TensorFlow's ``ApplyRMSProp``
    (``training_ops.cc``) and the seed answer's: momentum is applied to the rescaled gradient,
    with :math:`\eta` inside the velocity. ``torch.optim.RMSprop`` keeps
    ``buf = momentum * buf + g / d`` and steps ``-lr * buf``: identical iterates for a constant
    learning rate. PyTorch's ``alpha`` (default 0.99) is our ``decay``; its ``eps`` (1e-8) is
    added after the root, as here by default; TensorFlow puts it inside the root
    (``eps_inside_sqrt=True``: the ``ApplyRMSProp`` kernel, TF1, Keras 3 and ``tf.keras``
    from 2.11; TF2's legacy ``optimizer_v2`` RMSprop with ``momentum=0`` adds it after the
    root). PyTorch and Keras start :math:`r_0 = 0`; TF1's
    ``tf.train.RMSPropOptimizer`` starts it at 1 (replace ``state.mean_square`` to match).
    Nesterov momentum follows Goodfellow et al., Algorithm 8.6, rewritten so the gradient is
    taken at the current point (the iterates are that algorithm's look-ahead points).

    Args:
        lr: learning rate :math:`\eta`, ``0 < lr``, finite; or a
            schedule, a function of the step count (:mod:`optlib.schedules`).
        decay: :math:`\rho`, ``0 <= decay < 1`` (PyTorch ``alpha``, TensorFlow ``rho``).
        eps: :math:`\epsilon`, ``0 <= eps``, finite.
        momentum: :math:`\mu`, ``0 <= momentum < 1``.
        nesterov: Nesterov momentum (needs ``momentum > 0``).
        centered: divide by the root of the variance estimate :math:`r_t - a_t^2`.
        eps_inside_sqrt: TensorFlow's :math:`\sqrt{r_t + \epsilon}`.

    References: Hinton, Srivastava and Swersky (2012), lecture 6e; Graves (2013) for the
    centered form; Goodfellow, Bengio and Courville (2016), Algorithms 8.5 and 8.6.

    >>> import optlib
    >>> opt = optlib.rmsprop(lr=0.1, decay=0.9, eps=0.0)
    >>> step, state = opt.update(3.0, opt.init(0.0), 0.0)
    >>> round(float(step), 6)  # -0.1 * 3 / sqrt(0.1 * 9): the first step is 1/sqrt(1-decay) too big
    -0.316228
    """
    lr = _lr(lr)
    rho = _decay("decay", decay)
    eps = _eps("eps", eps)
    mu = _decay("momentum", momentum)
    nesterov = _flag("nesterov", nesterov)
    centered = _flag("centered", centered)
    eps_inside_sqrt = _flag("eps_inside_sqrt", eps_inside_sqrt)
    if nesterov and not is_symbolic(mu) and not _positive(mu):
        raise ValueError("nesterov=True needs momentum > 0 (0 < momentum < 1)")

    def init(x0):
        zero = zeros_like(x0)
        return RMSPropState(mean_square=zero, mean_grad=zero, velocity=zero)

    def update(grad, state, x=None):
        check_grad_shape(grad, x)
        mean_square = rho * state.mean_square + (1 - rho) * grad * grad
        mean_grad = rho * state.mean_grad + (1 - rho) * grad if centered else state.mean_grad
        second_moment = mean_square - mean_grad * mean_grad if centered else mean_square
        if eps_inside_sqrt:
            scaled_grad = grad / sqrt(second_moment + eps)
        else:
            scaled_grad = grad / (sqrt(second_moment) + eps)
        velocity = mu * state.velocity - lr * scaled_grad
        step = mu * velocity - lr * scaled_grad if nesterov else velocity
        return step, RMSPropState(mean_square, mean_grad, velocity)

    if nesterov:
        name = "RMSProp with Nesterov momentum"
    elif not is_symbolic(mu) and not _positive(mu):
        name = "RMSProp"
    else:
        name = "RMSProp with momentum"
    hyper = {"lr": lr, "decay": rho, "eps": eps, "momentum": mu, "nesterov": nesterov,
             "centered": centered, "eps_inside_sqrt": eps_inside_sqrt}
    return Optimizer(init, update, name, hyper)




# --------------------------------------------------------------------------------------------
# Adadelta
# --------------------------------------------------------------------------------------------


class AdadeltaState(NamedTuple):
    """State of :func:`adadelta`: moving averages of :math:`g^2` and of the squared update."""

    mean_square_grad: Any
    mean_square_delta: Any


@accepts_schedule
def adadelta(lr=1.0, decay=0.9, eps=1e-6) -> Optimizer:
    r"""Adadelta: the step is a ratio of two RMS values, so it carries the units of :math:`x`.

    .. math::

        E[g^2]_t &= \rho E[g^2]_{t-1} + (1-\rho) g_t^2 \\
        u_t &= -\frac{\sqrt{E[u^2]_{t-1} + \epsilon}}{\sqrt{E[g^2]_t + \epsilon}}\, g_t \\
        E[u^2]_t &= \rho E[u^2]_{t-1} + (1-\rho) u_t^2 \\
        \Delta x_t &= \eta\, u_t, \qquad E[g^2]_0 = E[u^2]_0 = 0 .

    **Algorithm** (Zeiler, Algorithm 1, with PyTorch's multiplier :math:`\eta`)

    1. :math:`g_t \leftarrow \nabla f(x_{t-1})`
    2. :math:`E[g^2]_t \leftarrow \rho E[g^2]_{t-1} + (1-\rho) g_t^2`
    3. :math:`u_t \leftarrow -\mathrm{RMS}[u]_{t-1} / \mathrm{RMS}[g]_t \cdot g_t`
    4. :math:`E[u^2]_t \leftarrow \rho E[u^2]_{t-1} + (1-\rho) u_t^2`
    5. :math:`\Delta x_t \leftarrow \eta u_t`

    **Conventions.** Zeiler's method has no learning rate: that is ``lr=1``. PyTorch's
    ``Adadelta`` (``rho=0.9``, ``eps=1e-6``, ``lr=1.0``) multiplies the update by ``lr`` but
    accumulates the square of the unscaled update :math:`u_t`, as here: identical iterates.
    Keras' default ``lr`` is 0.001, which makes Adadelta crawl; its ``rho`` is 0.95 and its
    ``epsilon`` 1e-7.

    Args:
        lr: multiplier :math:`\eta` of the update, ``0 < lr``, finite (1 is Zeiler's method); or a
            schedule, a function of the step count (:mod:`optlib.schedules`).
        decay: :math:`\rho`, ``0 <= decay < 1`` (PyTorch ``rho``).
        eps: :math:`\epsilon`, ``0 <= eps``, finite; it also sets the size of the first steps,
            :math:`\sqrt{\epsilon}/\mathrm{RMS}[g]`.

    Reference: Zeiler (2012).

    >>> import optlib
    >>> opt = optlib.adadelta(decay=0.0, eps=1e-6)
    >>> step, state = opt.update(1.0, opt.init(0.0), 0.0)
    >>> round(float(step), 10)  # -sqrt(eps) / sqrt(1 + eps): the first step is tiny
    -0.0009999995
    """
    lr = _lr(lr)
    rho = _decay("decay", decay)
    eps = _eps("eps", eps)

    def init(x0):
        zero = zeros_like(x0)
        return AdadeltaState(mean_square_grad=zero, mean_square_delta=zero)

    def update(grad, state, x=None):
        check_grad_shape(grad, x)
        mean_square_grad = rho * state.mean_square_grad + (1 - rho) * grad * grad
        delta = -sqrt(state.mean_square_delta + eps) / sqrt(mean_square_grad + eps) * grad
        mean_square_delta = rho * state.mean_square_delta + (1 - rho) * delta * delta
        return lr * delta, AdadeltaState(mean_square_grad, mean_square_delta)

    return Optimizer(init, update, "Adadelta", {"lr": lr, "decay": rho, "eps": eps})
