r"""Every optimization method of the book, each as an ``init``/``update`` pair.

Each constructor validates its hyperparameters and returns an :class:`~optlib.base.Optimizer`.
The update code uses only arithmetic and the helpers of :mod:`optlib._backend`, so the same
function runs on floats, NumPy arrays of any shape and dtype, hyperparameter arrays that
broadcast against the parameters (a whole sweep in one call), and SymPy expressions.

Notation: :math:`g_t` the gradient at step :math:`t` (counting from 1), :math:`\eta` the
learning rate ``lr``, :math:`\Delta x_t` the returned step, :math:`x_t = x_{t-1} + \Delta x_t`.
All products, quotients and roots are element-wise.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from ._backend import (
    check_grad_shape,
    full_like,
    hyperparameter,
    is_symbolic,
    maximum,
    power,
    sqrt,
    zeros_like,
)
from .base import Optimizer, accepts_schedule, rate_from_schedule

__all__ = [
    "gd",
    "momentum",
    "adagrad",
    "rmsprop",
    "adadelta",
    "adam",
    "adamw",
    "adamax",
    "nadam",
    "GDState",
    "MomentumState",
    "AdagradState",
    "RMSPropState",
    "AdadeltaState",
    "AdamState",
    "AdamaxState",
    "NadamState",
]

_INF = math.inf


def _lr(lr):
    # a rate a schedule gave for one step may be 0 (the start of a warmup); a constant may not
    return hyperparameter("lr", lr, low=0.0, high=_INF, low_open=not rate_from_schedule.get())


def _decay(name, value):
    return hyperparameter(name, value, low=0.0, high=1.0, low_open=False, high_open=True)


def _eps(name, value):
    return hyperparameter(name, value, low=0.0, high=_INF, low_open=False)


def _adam_hyperparameters(lr, beta1, beta2, eps):
    """The checks shared by Adam and its descendants: ``lr``, the two decays and ``eps``."""
    return _lr(lr), _decay("beta1", beta1), _decay("beta2", beta2), _eps("eps", eps)


def _needs_x(name, x):
    """Raise unless ``x`` was passed: methods whose step depends on the parameters need it."""
    if x is None:
        raise ValueError(f"{name}'s update needs the parameters: call update(grad, state, x)")


def _flag(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


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


def _positive(value) -> bool:
    """True if a (validated, non-negative) numeric hyperparameter is positive everywhere."""
    return bool(np.all(np.asarray(value) > 0))


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


# --------------------------------------------------------------------------------------------
# Adam and its descendants
# --------------------------------------------------------------------------------------------


class AdamState(NamedTuple):
    """State of :func:`adam` and :func:`adamw`.

    ``count``: steps taken; ``first_moment``: :math:`m`, the biased moving average of
    :math:`g`; ``second_moment``: :math:`v`, that of :math:`g^2`; ``max_second_moment``: the
    running maximum of :math:`v` (AMSGrad only, else unused).
    """

    count: Any
    first_moment: Any
    second_moment: Any
    max_second_moment: Any


def _adam_core(beta1, beta2, eps, amsgrad):
    """The shared Adam update: returns ``init`` and a function giving the unscaled step."""

    def init(x0):
        zero = zeros_like(x0)
        return AdamState(count=0, first_moment=zero, second_moment=zero, max_second_moment=zero)

    def direction(grad, state):
        count = state.count + 1
        first_moment = beta1 * state.first_moment + (1 - beta1) * grad
        second_moment = beta2 * state.second_moment + (1 - beta2) * grad * grad
        if amsgrad:
            max_second_moment = maximum(state.max_second_moment, second_moment)
            denominator_moment = max_second_moment
        else:
            max_second_moment = state.max_second_moment
            denominator_moment = second_moment
        bias_correction1 = 1 - power(beta1, count)
        bias_correction2 = 1 - power(beta2, count)
        # The PyTorch order of operations: sqrt(v) / sqrt(1 - beta2^t) + eps, then
        # m / (1 - beta1^t) divided by it.
        denominator = sqrt(denominator_moment) / sqrt(bias_correction2) + eps
        direction = first_moment / bias_correction1 / denominator
        return direction, AdamState(count, first_moment, second_moment, max_second_moment)

    return init, direction


@accepts_schedule
def adam(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, amsgrad=False) -> Optimizer:
    r"""Adam: the ratio of bias-corrected moving averages of :math:`g` and :math:`g^2`.

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2, \qquad m_0 = v_0 = 0 \\
        \hat m_t &= \frac{m_t}{1-\beta_1^t}, \qquad \hat v_t = \frac{v_t}{1-\beta_2^t} \\
        \Delta x_t &= -\eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon} .

    With ``amsgrad=True``, :math:`\hat v_t` is replaced by
    :math:`\max(v_1, \dots, v_t) / (1-\beta_2^t)`.

    **Algorithm** (Kingma and Ba, Algorithm 1)

    1. :math:`t \leftarrow t + 1`; :math:`g_t \leftarrow \nabla f(x_{t-1})`
    2. :math:`m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1) g_t`
    3. :math:`v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2) g_t^2`;
       AMSGrad: :math:`v^{\max}_t \leftarrow \max(v^{\max}_{t-1}, v_t)` and use it below
    4. :math:`\Delta x_t \leftarrow
       -\eta\, \frac{m_t/(1-\beta_1^t)}{\sqrt{v_t}/\sqrt{1-\beta_2^t} + \epsilon}`

    **Conventions.** :math:`\epsilon` is added to the bias-corrected root, as in the paper's
    Algorithm 1, ``torch.optim.Adam`` and ``optax.adam`` (identical iterates to PyTorch's).
    TensorFlow/Keras use the paper's "ε-hat" form (end of Section 2): no bias-corrected
    moments, the step :math:`-\eta_t m_t / (\sqrt{v_t} + \hat\epsilon)` with
    :math:`\eta_t = \eta\sqrt{1-\beta_2^t}/(1-\beta_1^t)`. That is ours with an
    :math:`\epsilon` that changes with the step,
    :math:`\epsilon_t = \hat\epsilon/\sqrt{1-\beta_2^t}` (larger than :math:`\hat\epsilon`
    in the first steps, tending to it); Keras' default ``epsilon`` (:math:`\hat\epsilon`) is
    1e-7. AMSGrad follows PyTorch: the maximum is of the raw :math:`v_t`, bias-corrected
    afterwards (Reddi et al.'s Algorithm 2 has no bias correction).

    Args:
        lr: learning rate :math:`\eta`, ``0 < lr``, finite; or a
            schedule, a function of the step count (:mod:`optlib.schedules`).
        beta1: :math:`\beta_1`, ``0 <= beta1 < 1``.
        beta2: :math:`\beta_2`, ``0 <= beta2 < 1``.
        eps: :math:`\epsilon`, ``0 <= eps``, finite.
        amsgrad: use the AMSGrad maximum.

    References: Kingma and Ba (2015); Reddi, Kale and Kumar (2018) for AMSGrad.

    >>> import optlib, pytest
    >>> sp = pytest.importorskip("sympy")  # optlib[symbolic]; skipped without it
    >>> eta, b1, b2, g, x = sp.symbols('eta beta1 beta2 g x', positive=True)
    >>> opt = optlib.adam(lr=eta, beta1=b1, beta2=b2, eps=0)
    >>> step, state = opt.update(g, opt.init(x), x)
    >>> sp.simplify(step)  # bias correction makes the first step exactly -eta
    -eta
    """
    lr, beta1, beta2, eps = _adam_hyperparameters(lr, beta1, beta2, eps)
    amsgrad = _flag("amsgrad", amsgrad)
    init, direction = _adam_core(beta1, beta2, eps, amsgrad)

    def update(grad, state, x=None):
        check_grad_shape(grad, x)
        unscaled, state = direction(grad, state)
        return -lr * unscaled, state

    hyper = {"lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps, "amsgrad": amsgrad}
    return Optimizer(init, update, "AMSGrad" if amsgrad else "Adam", hyper)


@accepts_schedule
def adamw(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2) -> Optimizer:
    r"""AdamW: Adam with weight decay decoupled from the gradient.

    .. math::

        \Delta x_t = -\eta\,\lambda\, x_{t-1} - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}

    with :math:`\hat m_t, \hat v_t` as in :func:`adam`, computed from the loss gradient alone.
    L2 regularisation would instead add :math:`\lambda x` to :math:`g_t`, where Adam's
    normalisation would rescale it.

    **Algorithm**

    1. :math:`g_t \leftarrow \nabla f(x_{t-1})`
    2. :math:`m_t, v_t` and :math:`\hat m_t, \hat v_t` as in Adam
    3. :math:`\Delta x_t \leftarrow
       -\eta\lambda x_{t-1} - \eta \hat m_t / (\sqrt{\hat v_t} + \epsilon)`

    **Conventions.** As ``torch.optim.AdamW`` (decay ``p *= 1 - lr * weight_decay``, scaled
    by the learning rate, default 1e-2), identical iterates. Loshchilov and Hutter's
    Algorithm 2 multiplies the decay by a schedule multiplier rather than by :math:`\eta`;
    ``optax.adamw`` (default 1e-4) matches PyTorch; Keras' ``AdamW`` defaults to 0.004.

    Args:
        lr: learning rate :math:`\eta`, ``0 < lr``, finite; or a
            schedule, a function of the step count (:mod:`optlib.schedules`).
        beta1: :math:`\beta_1`, ``0 <= beta1 < 1``.
        beta2: :math:`\beta_2`, ``0 <= beta2 < 1``.
        eps: :math:`\epsilon`, ``0 <= eps``, finite.
        weight_decay: :math:`\lambda`, ``0 <= weight_decay``, finite. ``update`` needs ``x``.

    Reference: Loshchilov and Hutter (2019).

    >>> import optlib
    >>> opt = optlib.adamw(lr=0.1, weight_decay=0.5)
    >>> step, state = opt.update(0.0, opt.init(2.0), 2.0)  # zero gradient: only the decay acts
    >>> round(float(step), 12)
    -0.1
    """
    lr, beta1, beta2, eps = _adam_hyperparameters(lr, beta1, beta2, eps)
    weight_decay = _eps("weight_decay", weight_decay)
    init, direction = _adam_core(beta1, beta2, eps, False)

    def update(grad, state, x=None):
        _needs_x("adamw", x)
        check_grad_shape(grad, x)
        unscaled, state = direction(grad, state)
        return -lr * weight_decay * x - lr * unscaled, state

    hyper = {"lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps, "weight_decay": weight_decay}
    return Optimizer(init, update, "AdamW", hyper)


class AdamaxState(NamedTuple):
    """State of :func:`adamax`: step count, :math:`m`, and the infinity norm :math:`u`."""

    count: Any
    first_moment: Any
    infinity_norm: Any


@accepts_schedule
def adamax(lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8) -> Optimizer:
    r"""Adamax: Adam with the :math:`L^2` moving average replaced by an :math:`L^\infty` one.

    .. math::

        m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        u_t = \max(\beta_2 u_{t-1},\ |g_t| + \epsilon), \qquad m_0 = u_0 = 0 \\
        \Delta x_t &= -\frac{\eta}{1-\beta_1^t}\, \frac{m_t}{u_t} .

    **Algorithm** (Kingma and Ba, Algorithm 2)

    1. :math:`t \leftarrow t + 1`; :math:`g_t \leftarrow \nabla f(x_{t-1})`
    2. :math:`m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1) g_t`
    3. :math:`u_t \leftarrow \max(\beta_2 u_{t-1}, |g_t| + \epsilon)`
    4. :math:`\Delta x_t \leftarrow -\eta\, m_t / ((1-\beta_1^t)\, u_t)`

    **Conventions.** As ``torch.optim.Adamax`` (``eps`` added to :math:`|g_t|` inside the
    maximum), identical iterates. The paper has no :math:`\epsilon`; Keras adds it to
    :math:`u_t` in the denominator; ``optax.adamax`` adds it inside the maximum, as
    here.

    Args:
        lr: learning rate :math:`\eta`, ``0 < lr``, finite; or a
            schedule, a function of the step count (:mod:`optlib.schedules`).
        beta1: :math:`\beta_1`, ``0 <= beta1 < 1``.
        beta2: :math:`\beta_2`, ``0 <= beta2 < 1``.
        eps: :math:`\epsilon`, ``0 <= eps``, finite.

    Reference: Kingma and Ba (2015), Section 7.1.

    >>> import optlib
    >>> opt = optlib.adamax(lr=0.1, eps=0.0)
    >>> step, state = opt.update(-4.0, opt.init(0.0), 0.0)
    >>> round(float(step), 12)  # the first step is lr * sign(g)
    0.1
    """
    lr, beta1, beta2, eps = _adam_hyperparameters(lr, beta1, beta2, eps)

    def init(x0):
        zero = zeros_like(x0)
        return AdamaxState(count=0, first_moment=zero, infinity_norm=zero)

    def update(grad, state, x=None):
        check_grad_shape(grad, x)
        count = state.count + 1
        first_moment = beta1 * state.first_moment + (1 - beta1) * grad
        infinity_norm = maximum(beta2 * state.infinity_norm, abs(grad) + eps)
        step = -(lr / (1 - power(beta1, count))) * first_moment / infinity_norm
        return step, AdamaxState(count, first_moment, infinity_norm)

    return Optimizer(init, update, "Adamax", {"lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps})


class NadamState(NamedTuple):
    """State of :func:`nadam`: step count, :math:`m`, :math:`v`, and
    :math:`\\prod_{i \\le t} \\mu_i`."""

    count: Any
    first_moment: Any
    second_moment: Any
    mu_product: Any


@accepts_schedule
def nadam(lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, momentum_decay=4e-3) -> Optimizer:
    r"""NAdam: Adam with Nesterov momentum and Dozat's momentum schedule.

    .. math::

        \mu_t &= \beta_1\left(1 - \tfrac12\, 0.96^{t\psi}\right), \qquad
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \\
        \Delta x_t &= -\eta\,
            \frac{\dfrac{(1-\mu_t)\, g_t}{1-\prod_{i\le t}\mu_i}
                  + \dfrac{\mu_{t+1}\, m_t}{1-\prod_{i\le t+1}\mu_i}}
                 {\sqrt{v_t/(1-\beta_2^t)} + \epsilon} .

    **Algorithm** (Dozat 2016, Algorithm 2, as in PyTorch)

    1. :math:`t \leftarrow t + 1`; :math:`g_t \leftarrow \nabla f(x_{t-1})`
    2. :math:`\mu_t, \mu_{t+1}` from the schedule; :math:`P_t \leftarrow P_{t-1}\mu_t`
    3. :math:`m_t, v_t` as in Adam
    4. :math:`\Delta x_t` as above, with :math:`P_t` and :math:`P_t\mu_{t+1}` in the
       denominators of the two momentum terms

    **Conventions.** As ``torch.optim.NAdam`` (``momentum_decay`` :math:`\psi` = 4e-3,
    decoupled weight decay off), identical iterates. Legacy Keras' ``Nadam`` uses the same
    schedule, Keras 3 uses :math:`0.96^t` (:math:`\psi = 1`);
    ``optax.nadam`` uses a constant :math:`\mu = \beta_1` (no schedule).

    Args:
        lr: learning rate :math:`\eta`, ``0 < lr``, finite; or a
            schedule, a function of the step count (:mod:`optlib.schedules`).
        beta1: :math:`\beta_1`, ``0 <= beta1 < 1``.
        beta2: :math:`\beta_2`, ``0 <= beta2 < 1``.
        eps: :math:`\epsilon`, ``0 <= eps``, finite.
        momentum_decay: :math:`\psi`, ``0 <= momentum_decay``, finite.

    Reference: Dozat (2016).

    >>> import optlib
    >>> opt = optlib.nadam(lr=0.01)
    >>> state = opt.init(0.0)
    >>> step, state = opt.update(1.0, state, 0.0)
    >>> state.count
    1
    """
    lr, beta1, beta2, eps = _adam_hyperparameters(lr, beta1, beta2, eps)
    psi = _eps("momentum_decay", momentum_decay)

    def init(x0):
        zero = zeros_like(x0)
        return NadamState(count=0, first_moment=zero, second_moment=zero, mu_product=1.0)

    def update(grad, state, x=None):
        check_grad_shape(grad, x)
        count = state.count + 1
        mu = beta1 * (1 - 0.5 * power(0.96, count * psi))
        mu_next = beta1 * (1 - 0.5 * power(0.96, (count + 1) * psi))
        mu_product = state.mu_product * mu
        first_moment = beta1 * state.first_moment + (1 - beta1) * grad
        second_moment = beta2 * state.second_moment + (1 - beta2) * grad * grad
        denominator = sqrt(second_moment / (1 - power(beta2, count))) + eps
        step = -lr * (1 - mu) / (1 - mu_product) * grad / denominator
        step = step - lr * mu_next / (1 - mu_product * mu_next) * first_moment / denominator
        return step, NadamState(count, first_moment, second_moment, mu_product)

    hyper = {"lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps, "momentum_decay": psi}
    return Optimizer(init, update, "NAdam", hyper)
