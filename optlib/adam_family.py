r"""Adam and its descendants: Adam (and AMSGrad), AdamW, Adamax and NAdam (Part III of the
book).

What every method here shares (validation, one update code for floats, arrays, sweeps and
SymPy) and the notation are in :mod:`optlib.methods`.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ._backend import (
    check_grad_shape,
    maximum,
    power,
    sqrt,
    zeros_like,
)
from ._hyper import _adam_hyperparameters, _eps, _flag, _needs_x
from .base import Optimizer, accepts_schedule

__all__ = [
    "adam",
    "adamw",
    "adamax",
    "nadam",
    "AdamState",
    "AdamaxState",
    "NadamState",
]


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
