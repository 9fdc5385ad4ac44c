r"""The methods practitioners use now: RAdam, AdaBelief, Yogi, Lion, Adafactor, Muon and
schedule-free AdamW, each as an ``init``/``update`` pair.

As in :mod:`optlib.methods`, each constructor validates its hyperparameters and returns an
:class:`~optlib.base.Optimizer`, and ``update(grad, state, x)`` returns the step
:math:`\Delta x_t` and the new state. The element-wise methods (RAdam, AdaBelief, Yogi, Lion,
schedule-free AdamW) run unchanged on floats, NumPy arrays, hyperparameter arrays that
broadcast (a sweep in one call) and SymPy symbols. Adafactor and Muon act on matrices: the
last two axes of a parameter are the matrix and any leading axes are a batch, so a sweep over
``K`` configurations (hyperparameters of shape ``(K, 1, 1)``) still runs at once.

Notation: :math:`g_t` the gradient at step :math:`t` (counting from 1), :math:`\eta` the
learning rate ``lr``, :math:`x_t = x_{t-1} + \Delta x_t`. Products, quotients and roots are
element-wise unless a matrix product is written.
"""

from __future__ import annotations

import math
import sys
from typing import Any, NamedTuple

import numpy as np

from . import tree
from ._backend import (
    check_grad_shape,
    full_like,
    hyperparameter,
    is_symbolic,
    maximum,
    power,
    sign,
    sqrt,
    zeros_like,
)
from ._hyper import _INF, _adam_hyperparameters, _decay, _eps, _flag, _lr, _needs_x
from .base import Optimizer, accepts_schedule

__all__ = [
    "radam",
    "adabelief",
    "yogi",
    "lion",
    "adafactor",
    "muon",
    "newton_schulz",
    "schedule_free_adamw",
    "schedule_free_eval_params",
    "RAdamState",
    "AdaBeliefState",
    "YogiState",
    "LionState",
    "AdafactorState",
    "MuonState",
    "ScheduleFreeState",
]


# --------------------------------------------------------------------------------------------
# Helpers: whether a weight decay acts, and a two-way choice that also runs on SymPy
# --------------------------------------------------------------------------------------------


def _acts(weight_decay):
    """False only for a decay that is the number 0 (then ``update`` needs no ``x``)."""
    return is_symbolic(weight_decay) or np.ndim(weight_decay) > 0 or weight_decay != 0


def _choose(condition, if_true, if_false):
    """``if_true`` where ``condition`` holds, else ``if_false``.

    ``condition`` is a pair ``(value, threshold)`` meaning ``value > threshold``, evaluated
    lazily: the branches are functions, so a branch that is undefined where it is not chosen
    (a square root of a negative number) is never evaluated there for scalars, and is
    evaluated quietly and discarded for arrays. Symbols give a ``sympy.Piecewise``.
    """
    value, threshold = condition
    if is_symbolic(value):
        sympy = sys.modules["sympy"]
        return sympy.Piecewise((if_true(), sympy.Gt(value, threshold)), (if_false(), True))
    if np.ndim(value) == 0:
        return if_true() if value > threshold else if_false()
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(value > threshold, if_true(), if_false())


# --------------------------------------------------------------------------------------------
# RAdam
# --------------------------------------------------------------------------------------------


class RAdamState(NamedTuple):
    """State of :func:`radam`: step count, :math:`m` and :math:`v` (biased averages)."""

    count: Any
    first_moment: Any
    second_moment: Any


def radam_sma_length(beta2, t):
    r"""The length :math:`\rho_t` of the simple moving average that Adam's EMA imitates.

    .. math::

        \rho_\infty = \frac{2}{1-\beta_2} - 1, \qquad
        \rho_t = \rho_\infty - \frac{2 t \beta_2^t}{1 - \beta_2^t}

    >>> [round(radam_sma_length(0.999, t), 3) for t in (1, 5, 6)]   # rectified from t = 6
    [1.0, 4.996, 5.994]
    """
    rho_inf = 2 / (1 - beta2) - 1
    decay = power(beta2, t)
    return rho_inf - 2 * t * decay / (1 - decay)


@accepts_schedule
def radam(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
          decoupled_weight_decay=False) -> Optimizer:
    r"""RAdam: Adam whose adaptive step is switched on, and rectified, once :math:`v` is reliable.

    .. math::

        \rho_\infty = \tfrac{2}{1-\beta_2} - 1, \quad
        \rho_t = \rho_\infty - \tfrac{2t\beta_2^t}{1-\beta_2^t}, \quad
        r_t = \sqrt{\tfrac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}}

        \Delta x_t = \begin{cases}
            -\eta\, r_t\, \hat m_t \sqrt{1-\beta_2^t} / (\sqrt{v_t} + \epsilon) & \rho_t > 5 \\
            -\eta\, \hat m_t & \text{otherwise (momentum SGD with a bias-corrected average)}
        \end{cases}

    **Algorithm** (``torch.optim.RAdam``)

    1. :math:`t \leftarrow t+1`; :math:`g_t \leftarrow \nabla f(x_{t-1})`; L2 decay
       (``decoupled_weight_decay=False``): :math:`g_t \leftarrow g_t + \lambda x_{t-1}`
    2. :math:`m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1) g_t`,
       :math:`v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2) g_t^2`
    3. :math:`\hat m_t \leftarrow m_t / (1-\beta_1^t)`; :math:`\rho_t` as above
    4. the step above; decoupled decay adds :math:`-\eta\lambda x_{t-1}`

    **Conventions.** As ``torch.optim.RAdam``: :math:`\epsilon` is added to the root of the
    *uncorrected* :math:`v_t` (that is :math:`\sqrt{\hat v_t} + \epsilon/\sqrt{1-\beta_2^t}`),
    and the threshold is :math:`\rho_t > 5`, strict. ``optax.radam`` adds :math:`\epsilon` to
    :math:`\sqrt{\hat v_t}` (identical iterates at ``eps=0``), switches at
    :math:`\rho_t \ge` ``threshold`` (default 5) and has no weight decay. With
    :math:`\beta_2 = 0.999` the first rectified step is :math:`t = 6`.

    Args:
        lr: :math:`\eta`, ``0 < lr``, finite; or a
            schedule, a function of the step count (:mod:`optlib.schedules`).
        beta1, beta2: the decays, ``0 <= beta < 1``.
        eps: :math:`\epsilon`, ``0 <= eps``, finite.
        weight_decay: :math:`\lambda`, ``0 <= weight_decay``, finite; ``update`` then needs ``x``.
        decoupled_weight_decay: AdamW-style decay (``x *= 1 - lr * weight_decay``) instead of L2.

    Reference: Liu et al. (2020), "On the Variance of the Adaptive Learning Rate and Beyond".

    >>> import optlib
    >>> opt = optlib.radam(lr=0.1)
    >>> step, state = opt.update(2.0, opt.init(0.0), 0.0)   # rho_1 = 1: a momentum step
    >>> round(float(step), 12)  # -lr * m_hat, m_hat = g
    -0.2
    """
    lr, beta1, beta2, eps = _adam_hyperparameters(lr, beta1, beta2, eps)
    weight_decay = _eps("weight_decay", weight_decay)
    decoupled_weight_decay = _flag("decoupled_weight_decay", decoupled_weight_decay)
    rho_inf = 2 / (1 - beta2) - 1
    decays = _acts(weight_decay)

    def init(x0):
        zero = zeros_like(x0)
        return RAdamState(count=0, first_moment=zero, second_moment=zero)

    def update(grad, state, x=None):
        check_grad_shape(grad, x)
        if decays:
            _needs_x("radam", x)
            if not decoupled_weight_decay:
                grad = grad + weight_decay * x
        count = state.count + 1
        first_moment = beta1 * state.first_moment + (1 - beta1) * grad
        second_moment = beta2 * state.second_moment + (1 - beta2) * grad * grad
        bias_correction1 = 1 - power(beta1, count)
        bias_correction2 = 1 - power(beta2, count)
        corrected_first = first_moment / bias_correction1
        rho_t = radam_sma_length(beta2, count)

        def rectified():
            rectification = sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                                 / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            return (corrected_first * rectification * sqrt(bias_correction2)
                    / (sqrt(second_moment) + eps))

        step = -lr * _choose((rho_t, 5), rectified, lambda: corrected_first)
        if decays and decoupled_weight_decay:
            step = step - lr * weight_decay * x
        return step, RAdamState(count, first_moment, second_moment)

    hyper = {"lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps,
             "weight_decay": weight_decay, "decoupled_weight_decay": decoupled_weight_decay}
    return Optimizer(init, update, "RAdam", hyper)


# --------------------------------------------------------------------------------------------
# AdaBelief
# --------------------------------------------------------------------------------------------


class AdaBeliefState(NamedTuple):
    """State of :func:`adabelief`: step count, :math:`m`, and :math:`s`, the average of
    :math:`(g - m)^2` (the "belief" in the gradient)."""

    count: Any
    first_moment: Any
    belief: Any


@accepts_schedule
def adabelief(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-16, eps_root=1e-16) -> Optimizer:
    r"""AdaBelief: Adam with the second moment of :math:`g - m` in place of :math:`g^2`.

    .. math::

        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad
        s_t = \beta_2 s_{t-1} + (1-\beta_2)(g_t - m_t)^2 + \epsilon_{\text{root}}

        \Delta x_t = -\eta\, \frac{m_t/(1-\beta_1^t)}{\sqrt{s_t/(1-\beta_2^t)} + \epsilon}

    A gradient close to its average ("believed") gives a small :math:`s` and a large step; a
    gradient far from it, a small step.

    **Algorithm** (``optax.adabelief``)

    1. :math:`t \leftarrow t+1`; :math:`g_t \leftarrow \nabla f(x_{t-1})`
    2. :math:`m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1) g_t`
    3. :math:`s_t \leftarrow \beta_2 s_{t-1} + (1-\beta_2)(g_t - m_t)^2 + \epsilon_{\text{root}}`
       (with the *new* :math:`m_t`; :math:`\epsilon_{\text{root}}` enters the stored state)
    4. :math:`\Delta x_t \leftarrow -\eta\,\hat m_t / (\sqrt{\hat s_t} + \epsilon)`

    **Conventions.** As ``optax.adabelief`` (defaults ``eps=1e-16, eps_root=1e-16``);
    Zhuang et al.'s Algorithm 2 adds :math:`\epsilon` inside :math:`s_t` the same way, and
    their code defaults to ``eps=1e-16`` (optax's docstring gives the paper's as 1e-8, 0).
    PyTorch and Keras have no AdaBelief.

    Args:
        lr: :math:`\eta`, ``0 < lr``, finite; or a
            schedule, a function of the step count (:mod:`optlib.schedules`).
        beta1, beta2: the decays, ``0 <= beta < 1``.
        eps: added to the root, ``0 <= eps``, finite.
        eps_root: added to :math:`s_t` at every step, ``0 <= eps_root``, finite.

    Reference: Zhuang et al. (2020), "AdaBelief Optimizer: Adapting Stepsizes by the Belief in
    Observed Gradients".

    >>> import optlib
    >>> opt = optlib.adabelief(lr=0.1, eps=0.0, eps_root=0.0)
    >>> state = opt.init(0.0)
    >>> for _ in range(50):           # a constant gradient: g - m -> 0, the step grows
    ...     step, state = opt.update(1.0, state, 0.0)
    >>> round(float(step) / 0.1, 2)   # in units of lr, the size of Adam's step here
    -3.46
    """
    lr, beta1, beta2, eps = _adam_hyperparameters(lr, beta1, beta2, eps)
    eps_root = _eps("eps_root", eps_root)

    def init(x0):
        zero = zeros_like(x0)
        return AdaBeliefState(count=0, first_moment=zero, belief=zero)

    def update(grad, state, x=None):
        check_grad_shape(grad, x)
        count = state.count + 1
        first_moment = beta1 * state.first_moment + (1 - beta1) * grad
        surprise = grad - first_moment
        belief = beta2 * state.belief + (1 - beta2) * surprise * surprise + eps_root
        corrected_first = first_moment / (1 - power(beta1, count))
        corrected_belief = belief / (1 - power(beta2, count))
        step = -lr * corrected_first / (sqrt(corrected_belief) + eps)
        return step, AdaBeliefState(count, first_moment, belief)

    hyper = {"lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps, "eps_root": eps_root}
    return Optimizer(init, update, "AdaBelief", hyper)


# --------------------------------------------------------------------------------------------
# Yogi
# --------------------------------------------------------------------------------------------


class YogiState(NamedTuple):
    """State of :func:`yogi`: step count, :math:`m` and :math:`v`."""

    count: Any
    first_moment: Any
    second_moment: Any


@accepts_schedule
def yogi(lr=1e-2, beta1=0.9, beta2=0.999, eps=1e-3, initial_accumulator=1e-6) -> Optimizer:
    r"""Yogi: Adam with an additive, sign-controlled update of the second moment.

    .. math::

        v_t = v_{t-1} - (1-\beta_2)\,\operatorname{sign}(v_{t-1} - g_t^2)\, g_t^2

    Adam's :math:`v_t - v_{t-1} = (1-\beta_2)(g_t^2 - v_{t-1})` is proportional to
    :math:`v_{t-1}` when :math:`g_t` is small, so a large :math:`v` can fall fast; Yogi's change
    is at most :math:`(1-\beta_2) g_t^2` in size, whatever :math:`v_{t-1}` is.

    **Algorithm** (``optax.yogi``)

    1. :math:`t \leftarrow t+1`; :math:`g_t \leftarrow \nabla f(x_{t-1})`
    2. :math:`m_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1) g_t`
    3. :math:`v_t \leftarrow
       v_{t-1} - (1-\beta_2)\operatorname{sign}(v_{t-1} - g_t^2)\, g_t^2`
    4. :math:`\Delta x_t \leftarrow
       -\eta\,\frac{m_t/(1-\beta_1^t)}{\sqrt{v_t/(1-\beta_2^t)} + \epsilon}`

    **Conventions.** As ``optax.yogi``: *both* moments start at ``initial_accumulator``
    (:math:`10^{-6}`), and both are bias-corrected although they do not start at zero.
    Zaheer et al.'s Algorithm 2 starts :math:`v` at :math:`10^{-6}` and has no bias
    correction. PyTorch and Keras (3) have no Yogi.

    Args:
        lr: :math:`\eta`, ``0 < lr``, finite; or a
            schedule, a function of the step count (:mod:`optlib.schedules`).
        beta1, beta2: the decays, ``0 <= beta < 1``.
        eps: added to the root, ``0 <= eps``, finite.
        initial_accumulator: the starting value of :math:`m` and :math:`v`, ``0 <= value``.

    Reference: Zaheer et al. (2018), "Adaptive Methods for Nonconvex Optimization".

    >>> import optlib, pytest
    >>> sp = pytest.importorskip("sympy")  # optlib[symbolic]; skipped without it
    >>> v, g, b2 = sp.symbols("v g beta2", positive=True)
    >>> opt = optlib.yogi(beta2=b2, initial_accumulator=v)
    >>> _, state = opt.update(g, opt.init(sp.Symbol("x")))
    >>> sp.factor(state.second_moment - v)   # the change of v: (1 - beta2) g^2 in size
    g**2*(beta2 - 1)*sign(-g**2 + v)
    """
    lr, beta1, beta2, eps = _adam_hyperparameters(lr, beta1, beta2, eps)
    initial_accumulator = _eps("initial_accumulator", initial_accumulator)

    def init(x0):
        start = full_like(x0, initial_accumulator)
        return YogiState(count=0, first_moment=start, second_moment=start)

    def update(grad, state, x=None):
        check_grad_shape(grad, x)
        count = state.count + 1
        first_moment = beta1 * state.first_moment + (1 - beta1) * grad
        squared = grad * grad
        second_moment = (state.second_moment
                         - (1 - beta2) * sign(state.second_moment - squared) * squared)
        corrected_first = first_moment / (1 - power(beta1, count))
        corrected_second = second_moment / (1 - power(beta2, count))
        step = -lr * corrected_first / (sqrt(corrected_second) + eps)
        return step, YogiState(count, first_moment, second_moment)

    hyper = {"lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps,
             "initial_accumulator": initial_accumulator}
    return Optimizer(init, update, "Yogi", hyper)


# --------------------------------------------------------------------------------------------
# Lion
# --------------------------------------------------------------------------------------------


class LionState(NamedTuple):
    """State of :func:`lion`: one moment, :math:`m` (Adam keeps two)."""

    momentum: Any


@accepts_schedule
def lion(lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0) -> Optimizer:
    r"""Lion: the sign of an interpolated momentum; every coordinate moves by exactly :math:`\eta`.

    .. math::

        \Delta x_t = -\eta\,\bigl(\operatorname{sign}(\beta_1 m_{t-1} + (1-\beta_1) g_t)
                     + \lambda x_{t-1}\bigr), \qquad
        m_t = \beta_2 m_{t-1} + (1-\beta_2) g_t

    **Algorithm** (Chen et al., Program 1; ``optax.lion``)

    1. :math:`g_t \leftarrow \nabla f(x_{t-1})`
    2. :math:`c_t \leftarrow \beta_1 m_{t-1} + (1-\beta_1) g_t` (with the *old* :math:`m`)
    3. :math:`\Delta x_t \leftarrow -\eta(\operatorname{sign}(c_t) + \lambda x_{t-1})`
    4. :math:`m_t \leftarrow \beta_2 m_{t-1} + (1-\beta_2) g_t`

    **Conventions.** As ``optax.lion`` with ``weight_decay`` given; optax's default decay is
    1e-3 and this one's is 0 (no decay unless asked for), so ``optax.lion(lr)`` equals
    ``lion(lr, weight_decay=1e-3)``. The decay is decoupled and
    scaled by :math:`\eta`. PyTorch has no Lion; Keras 3's ``Lion`` has the same update.

    Args:
        lr: :math:`\eta`, ``0 < lr``, finite; or a
            schedule, a function of the step count (:mod:`optlib.schedules`).
        beta1: the interpolation weight of the sign's argument, ``0 <= beta1 < 1``.
        beta2: the decay of the stored momentum, ``0 <= beta2 < 1``.
        weight_decay: :math:`\lambda`, ``0 <= weight_decay``, finite; ``update`` then needs ``x``.

    Reference: Chen et al. (2023), "Symbolic Discovery of Optimization Algorithms".

    >>> import numpy as np, optlib
    >>> opt = optlib.lion(lr=0.01)
    >>> step, _ = opt.update(np.array([3.0, -1e-9, 0.0]), opt.init(np.zeros(3)))
    >>> np.abs(step).tolist()     # every coordinate with a gradient moves by exactly lr
    [0.01, 0.01, 0.0]
    """
    lr = _lr(lr)
    beta1, beta2 = _decay("beta1", beta1), _decay("beta2", beta2)
    weight_decay = _eps("weight_decay", weight_decay)
    decays = _acts(weight_decay)

    def init(x0):
        return LionState(momentum=zeros_like(x0))

    def update(grad, state, x=None):
        check_grad_shape(grad, x)
        direction = sign(beta1 * state.momentum + (1 - beta1) * grad)
        if decays:
            _needs_x("lion", x)
            direction = direction + weight_decay * x
        momentum = beta2 * state.momentum + (1 - beta2) * grad
        return -lr * direction, LionState(momentum)

    hyper = {"lr": lr, "beta1": beta1, "beta2": beta2, "weight_decay": weight_decay}
    return Optimizer(init, update, "Lion", hyper)


# --------------------------------------------------------------------------------------------
# Matrix helpers: the last two axes are the matrix, leading axes a batch
# --------------------------------------------------------------------------------------------


def _matrix_shape(name, x):
    """Reject what is not a numeric array with at least two axes, naming the method."""
    if is_symbolic(x):
        raise ValueError(f"{name} acts on numeric matrices; got a SymPy expression")
    if np.ndim(x) < 2:
        raise ValueError(f"{name} acts on matrices: x must have at least 2 axes (the last two "
                         f"are the matrix, any leading axes a batch), got shape {np.shape(x)}")


def _rms(x, ndim):
    """Root mean square over the last ``ndim`` axes, kept as length-1 axes (|x| for 0)."""
    if ndim == 0:
        return np.abs(x)
    axes = tuple(range(-ndim, 0))
    return np.sqrt(np.mean(x * x, axis=axes, keepdims=True))


# --------------------------------------------------------------------------------------------
# Adafactor
# --------------------------------------------------------------------------------------------


class AdafactorState(NamedTuple):
    """State of :func:`adafactor`.

    For a matrix (at least two axes): ``row`` :math:`R`, the running mean of :math:`g^2` over
    each row (shape ``(..., n, 1)``), and ``col`` :math:`C`, over each column
    (``(..., 1, m)``); ``variance`` is ``None``. For a vector or a scalar: ``variance``
    :math:`V`, shaped like the parameter, and ``row``/``col`` are ``None``.
    ``parameter_ndim`` is the number of axes of the parameter itself (leading axes beyond it
    are a sweep's batch).
    """

    count: Any
    row: Any
    col: Any
    variance: Any
    parameter_ndim: int


@accepts_schedule
def adafactor(lr=1e-2, beta2_decay=-0.8, eps1=None, eps2=1e-3, d=1.0,
              weight_decay=0.0) -> Optimizer:
    r"""Adafactor: a factored second moment (row and column means) and a relative step size.

    For an :math:`n \times m` gradient :math:`G_t`, with
    :math:`1 - \hat\beta_{2,t} = t^{c}` (``beta2_decay`` :math:`c = -0.8`):

    .. math::

        R_t &= R_{t-1} + t^{c}\,(\operatorname{mean}_{\text{cols}} G_t^2 - R_{t-1}), \qquad
        C_t = C_{t-1} + t^{c}\,(\operatorname{mean}_{\text{rows}} G_t^2 - C_{t-1}) \\
        \hat V_t &= \frac{R_t C_t}{\max(\operatorname{mean}(R_t), \epsilon_1)}, \qquad
        U_t = \frac{G_t}{\sqrt{\max(\hat V_t, \epsilon_1^2)}} \\
        \Delta X_t &= -\alpha_t \frac{U_t}{\max(1, \operatorname{RMS}(U_t)/d)}
                      - \eta\lambda X_{t-1}, \qquad
        \alpha_t = \max(\epsilon_2, \operatorname{RMS}(X_{t-1}))\,\min(\eta, 1/\sqrt t)

    :math:`R_t C_t` (an outer product) is the rank-one matrix with the same row and column
    sums as the running average of :math:`G^2`: it is exact when that average has rank one,
    and it stores :math:`n + m` numbers instead of :math:`nm`. A vector or scalar parameter
    keeps the full :math:`V_t = V_{t-1} + t^{c}(g_t^2 - V_{t-1})`.

    **Algorithm** (``torch.optim.Adafactor``)

    1. :math:`t \leftarrow t+1`; :math:`k \leftarrow t^{c}`;
       :math:`\rho_t \leftarrow \min(\eta, 1/\sqrt t)`;
       :math:`\alpha_t \leftarrow \max(\epsilon_2, \operatorname{RMS}(X_{t-1}))\,\rho_t`
    2. matrix: update :math:`R_t, C_t`, form :math:`\hat V_t`; otherwise update
       :math:`V_t = \hat V_t`
    3. :math:`U_t \leftarrow G_t / \sqrt{\max(\hat V_t, \epsilon_1^2)}`
    4. :math:`\Delta X_t \leftarrow -\eta\lambda X_{t-1} - \alpha_t U_t / \max(1,
       \operatorname{RMS}(U_t)/d)`

    **Conventions.** As ``torch.optim.Adafactor`` (its ``eps=(None, 1e-3)`` pair is
    ``eps1, eps2``; ``eps1=None`` means the machine epsilon of the parameter's dtype), which
    factors the last two axes. RMS is taken per matrix (per parameter for vectors), so a
    sweep's leading axes are independent runs; ``torch`` takes the RMS of a 3-D or larger
    parameter over all of it. Shazeer and Stern's Algorithm 4 adds :math:`\epsilon_1 = 10^{-30}`
    to :math:`G^2` instead of clamping, caps :math:`\rho_t` at :math:`10^{-2}` rather than at
    :math:`\eta`, and has no weight decay. ``optax.adafactor`` factors the two *largest* axes,
    only when the second largest has at least 128 entries, has no :math:`\min(\eta, 1/\sqrt
    t)` schedule (:math:`\eta` is multiplied in), computes :math:`\hat\beta_2` in float32,
    and adds weight decay unscaled by :math:`\eta`.

    Args:
        lr: :math:`\eta`, ``0 < lr``, finite; or a
            schedule, a function of the step count (:mod:`optlib.schedules`).
        beta2_decay: :math:`c`, ``c <= 0`` (``1 - beta2_hat = t**c``; 0 keeps only the last
            gradient).
        eps1: the floor of the second-moment estimate, ``0 < eps1`` finite, or ``None``.
        eps2: the floor of the parameter scale, ``0 <= eps2``, finite.
        d: the clipping threshold of RMS(U), ``1 <= d``, finite (as PyTorch requires).
        weight_decay: :math:`\lambda`, ``0 <= weight_decay``, finite.

    Reference: Shazeer and Stern (2018), "Adafactor: Adaptive Learning Rates with Sublinear
    Memory Cost".

    >>> import numpy as np, optlib
    >>> opt = optlib.adafactor()
    >>> state = opt.init(np.ones((300, 200)))
    >>> state.row.shape, state.col.shape    # n + m numbers of state, not n * m
    ((300, 1), (1, 200))
    """
    lr = _lr(lr)
    beta2_decay = hyperparameter("beta2_decay", beta2_decay, low=-_INF, high=0.0,
                                 low_open=True, high_open=False)
    if eps1 is not None:
        eps1 = hyperparameter("eps1", eps1, low=0.0, high=_INF, low_open=True)
    eps2 = _eps("eps2", eps2)
    d = hyperparameter("d", d, low=1.0, high=_INF, low_open=False)
    weight_decay = _eps("weight_decay", weight_decay)

    def init(x0):
        if is_symbolic(x0):
            raise ValueError("adafactor acts on numeric arrays; got a SymPy expression")
        x0 = np.asarray(x0)
        zero = zeros_like(x0)
        if x0.ndim >= 2:
            return AdafactorState(0, zeros_like(zero[..., :1]), zeros_like(zero[..., :1, :]),
                                  None, x0.ndim)
        return AdafactorState(0, None, None, zero, x0.ndim)

    def update(grad, state, x=None):
        _needs_x("adafactor", x)
        check_grad_shape(grad, x)
        grad = np.asarray(grad)
        x = np.asarray(x)
        floor = eps1 if eps1 is not None else float(np.finfo(np.result_type(x, 0.0)).eps)
        count = state.count + 1
        keep = power(float(count), beta2_decay)           # 1 - beta2_hat
        relative_lr = np.minimum(lr, 1 / math.sqrt(count))
        matrix_ndim = min(state.parameter_ndim, 2)
        scale = np.maximum(eps2, _rms(x, matrix_ndim)) * relative_lr
        squared = grad * grad
        if state.parameter_ndim >= 2:
            row = state.row + keep * (np.mean(squared, axis=-1, keepdims=True) - state.row)
            col = state.col + keep * (np.mean(squared, axis=-2, keepdims=True) - state.col)
            estimate = row @ col / np.maximum(np.mean(row, axis=-2, keepdims=True), floor)
            variance = None
        else:
            variance = state.variance + keep * (squared - state.variance)
            estimate, row, col = variance, None, None
        direction = grad / np.sqrt(np.maximum(estimate, floor * floor))
        clip = np.maximum(1.0, _rms(direction, matrix_ndim) / d)
        step = -scale / clip * direction - lr * weight_decay * x
        return step, AdafactorState(count, row, col, variance, state.parameter_ndim)

    hyper = {"lr": lr, "beta2_decay": beta2_decay, "eps1": eps1, "eps2": eps2, "d": d,
             "weight_decay": weight_decay}
    return Optimizer(init, update, "Adafactor", hyper)


# --------------------------------------------------------------------------------------------
# Muon
# --------------------------------------------------------------------------------------------

MUON_COEFFICIENTS = (3.4445, -4.775, 2.0315)


def newton_schulz(matrix, coefficients=MUON_COEFFICIENTS, steps=5, eps=1e-7):
    r"""Orthogonalise ``matrix`` approximately: :math:`U \Sigma V^\top \mapsto U p(\Sigma) V^\top`.

    The matrix (last two axes; leading axes a batch) is divided by its Frobenius norm, so its
    singular values lie in :math:`[0, 1]`, then ``steps`` times
    :math:`X \leftarrow aX + (bA + cA^2)X` with :math:`A = XX^\top` (on the wide orientation:
    a tall matrix is transposed first and back at the end). Each iteration maps every singular
    value :math:`\sigma` to the odd quintic :math:`a\sigma + b\sigma^3 + c\sigma^5`, leaving
    the singular vectors alone.

    On a SymPy scalar (one singular value, already in :math:`[0, 1]`) it applies the composed
    polynomial directly, without normalisation: that is the function the iteration computes on
    each singular value.

    Args:
        matrix: an array with at least two axes, or a SymPy scalar.
        coefficients: ``(a, b, c)``; the default is Jordan's quintic (``torch.optim.Muon``).
        steps: the number of iterations, ``1 <= steps < 100``.
        eps: the floor of the Frobenius norm (``torch``: ``max(norm, eps)``).

    >>> import numpy as np, pytest
    >>> sp = pytest.importorskip("sympy")  # optlib[symbolic]; skipped without it
    >>> s = sp.Symbol("sigma")
    >>> sp.expand(newton_schulz(s, steps=1))
    2.0315*sigma**5 - 4.775*sigma**3 + 3.4445*sigma
    >>> q = newton_schulz(np.array([[3.0, 0.0], [0.0, 0.01]]))   # singular values to ~1
    >>> bool(np.all((0.6 < np.diag(q)) & (np.diag(q) < 1.3)))
    True
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps < 100:
        raise ValueError(f"steps must be an integer with 1 <= steps < 100, got {steps!r}")
    if len(coefficients) != 3:
        raise ValueError(f"coefficients must be three numbers (a, b, c), got {coefficients!r}")
    a, b, c = coefficients
    if is_symbolic(matrix):
        value = matrix
        for _ in range(steps):
            value = a * value + b * value**3 + c * value**5
        return value
    _matrix_shape("newton_schulz", matrix)
    x = np.asarray(matrix, dtype=np.result_type(matrix, 0.0))
    tall = x.shape[-2] > x.shape[-1]
    if tall:
        x = np.swapaxes(x, -1, -2)
    x = x / np.maximum(np.sqrt(np.sum(x * x, axis=(-2, -1), keepdims=True)), eps)
    for _ in range(steps):
        gram = x @ np.swapaxes(x, -1, -2)
        x = a * x + (b * gram + c * gram @ gram) @ x
    return np.swapaxes(x, -1, -2) if tall else x


class MuonState(NamedTuple):
    """State of :func:`muon`: the momentum buffer :math:`B` (an average of gradients)."""

    momentum: Any


@accepts_schedule
def muon(lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
         ns_coefficients=MUON_COEFFICIENTS, eps=1e-7, ns_steps=5,
         adjust_lr_fn=None) -> Optimizer:
    r"""Muon: momentum, orthogonalised by a Newton–Schulz iteration, for matrix parameters.

    .. math::

        B_t = \mu B_{t-1} + (1-\mu) G_t, \qquad
        M_t = \begin{cases} (1-\mu) G_t + \mu B_t & \text{Nesterov} \\ B_t \end{cases}

        \Delta X_t = -\eta\lambda X_{t-1} - \eta_{\text{adj}}\,
                     \operatorname{NS}(M_t), \qquad
        \eta_{\text{adj}} = \eta\sqrt{\max(1, A/B)}

    for an :math:`A \times B` parameter. :math:`\operatorname{NS}` (:func:`newton_schulz`)
    maps :math:`M = U\Sigma V^\top` to about :math:`UV^\top`: every direction of the update
    gets a similar size, which is steepest descent under the spectral norm.

    **Algorithm** (``torch.optim.Muon``)

    1. :math:`B_t \leftarrow \mu B_{t-1} + (1-\mu) G_t`
    2. :math:`M_t \leftarrow (1-\mu) G_t + \mu B_t` (Nesterov) or :math:`B_t`
    3. :math:`O_t \leftarrow \operatorname{NS}(M_t)`: normalise by
       :math:`\max(\lVert M_t\rVert_F, \epsilon)`, ``ns_steps`` quintic iterations
    4. :math:`\Delta X_t \leftarrow -\eta\lambda X_{t-1} - \eta_{\text{adj}} O_t`;
       ``adjust_lr_fn="match_rms_adamw"`` uses :math:`\eta_{\text{adj}} =
       0.2\,\eta\sqrt{\max(A, B)}`

    **Conventions.** As ``torch.optim.Muon``, except that PyTorch runs the Newton–Schulz
    iteration in bfloat16 (about three significant digits) and this one in the parameter's
    dtype. ``torch`` refuses parameters that are not matrices; so does this function, but a
    batch of matrices (leading axes) is accepted: each matrix is its own parameter.
    ``optax.contrib.muon`` bias-corrects the momentum (which the normalisation cancels
    without Nesterov), divides by :math:`\lVert M\rVert_F + 10^{-8}`, scales by
    :math:`\sqrt{\max(1, B/A)}` (its weights are (in, out), PyTorch's (out, in)), has no
    weight decay by default and sends non-matrix parameters to AdamW.

    Args:
        lr: :math:`\eta`, ``0 < lr``, finite; or a
            schedule, a function of the step count (:mod:`optlib.schedules`).
        weight_decay: :math:`\lambda`, ``0 <= weight_decay``, finite.
        momentum: :math:`\mu`, ``0 <= momentum < 1``.
        nesterov: use the Nesterov combination.
        ns_coefficients: ``(a, b, c)`` of the quintic.
        eps: the floor of the Frobenius norm, ``0 <= eps``, finite.
        ns_steps: iterations, ``1 <= ns_steps < 100``.
        adjust_lr_fn: ``None`` or ``"original"``, or ``"match_rms_adamw"``.

    References: Jordan et al. (2024), "Muon: An optimizer for hidden layers in neural
    networks"; Bernstein and Newhouse (2024), "Old Optimizer, New Norm".

    >>> import numpy as np, optlib
    >>> opt = optlib.muon(lr=0.1, weight_decay=0.0, nesterov=False)
    >>> g = np.diag([5.0, 0.5])                  # one direction ten times steeper
    >>> step, _ = opt.update(g, opt.init(np.zeros((2, 2))), np.zeros((2, 2)))
    >>> np.round(np.diag(step), 3).tolist()   # both directions get a step of similar size
    [-0.07, -0.071]
    """
    lr = _lr(lr)
    weight_decay = _eps("weight_decay", weight_decay)
    momentum = _decay("momentum", momentum)
    nesterov = _flag("nesterov", nesterov)
    eps = _eps("eps", eps)
    if adjust_lr_fn not in (None, "original", "match_rms_adamw"):
        raise ValueError("adjust_lr_fn must be None, 'original' or 'match_rms_adamw', "
                         f"got {adjust_lr_fn!r}")
    newton_schulz(np.eye(2), ns_coefficients, ns_steps, eps)  # validates coefficients, steps

    def init(x0):
        _matrix_shape("muon", x0)
        return MuonState(momentum=zeros_like(np.asarray(x0)))

    def update(grad, state, x=None):
        _needs_x("muon", x)
        _matrix_shape("muon", x)
        check_grad_shape(grad, x)
        buffer = momentum * state.momentum + (1 - momentum) * grad
        direction = (1 - momentum) * grad + momentum * buffer if nesterov else buffer
        orthogonal = newton_schulz(direction, ns_coefficients, ns_steps, eps)
        rows, cols = np.shape(x)[-2:]
        if adjust_lr_fn == "match_rms_adamw":
            adjusted_lr = lr * 0.2 * math.sqrt(max(rows, cols))
        else:
            adjusted_lr = lr * math.sqrt(max(1, rows / cols))
        return -lr * weight_decay * x - adjusted_lr * orthogonal, MuonState(buffer)

    hyper = {"lr": lr, "weight_decay": weight_decay, "momentum": momentum,
             "nesterov": nesterov, "ns_coefficients": tuple(ns_coefficients), "eps": eps,
             "ns_steps": ns_steps, "adjust_lr_fn": adjust_lr_fn}
    return Optimizer(init, update, "Muon", hyper)


# --------------------------------------------------------------------------------------------
# Schedule-free AdamW
# --------------------------------------------------------------------------------------------


class ScheduleFreeState(NamedTuple):
    """State of :func:`schedule_free_adamw`.

    ``count``: steps taken; ``base``: the base sequence :math:`z` (where the AdamW steps
    accumulate); ``second_moment``: :math:`v`; ``weight_sum``: :math:`S`, the sum of the
    averaging weights; ``max_lr``: the largest learning rate seen. The average :math:`x` is
    not stored: it is :math:`(y - (1-\\beta_1) z)/\\beta_1` (:func:`schedule_free_eval_params`).
    """

    count: Any
    base: Any
    second_moment: Any
    weight_sum: Any
    max_lr: Any


@accepts_schedule
def schedule_free_adamw(lr=2.5e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0,
                        warmup_steps=0, weight_lr_power=2.0) -> Optimizer:
    r"""Schedule-free AdamW: gradients at an interpolation, an average as the answer.

    Three sequences: the base :math:`z` takes AdamW-like steps, :math:`x` is a weighted
    average of the :math:`z`'s, and the gradient is taken at their interpolation
    :math:`y = \beta_1 x + (1-\beta_1) z`, which is what this optimizer's iterates are
    (``optax``'s ``params``). Evaluate the model at :math:`x`
    (:func:`schedule_free_eval_params`).

    .. math::

        z_{t+1} &= z_t - \gamma_{t-1}\Bigl(\frac{g_t}{\sqrt{\hat v_t} + \epsilon}
                  + \lambda y_t\Bigr), \qquad g_t = \nabla f(y_t) \\
        x_{t+1} &= (1 - c_{t+1})\, x_t + c_{t+1}\, z_{t+1}, \qquad
        c_{t+1} = \frac{w_t}{\sum_{i \le t} w_i}, \quad
        w_t = \bigl(\max_{i\le t}\gamma_i\bigr)^{p} \\
        y_{t+1} &= \beta_1 x_{t+1} + (1-\beta_1) z_{t+1}

    with :math:`\gamma_k = \eta\min(k, W)/W` under a warmup of :math:`W` steps (else
    :math:`\eta`), and :math:`\hat v_t` Adam's bias-corrected average of :math:`g^2`.

    **Algorithm** (``optax.contrib.schedule_free_adamw``)

    1. :math:`t \leftarrow t+1`; :math:`\gamma^{\max} \leftarrow \max(\gamma^{\max},
       \gamma_t)`; :math:`w \leftarrow (\gamma^{\max})^p`; :math:`S \leftarrow S + w`;
       :math:`c \leftarrow w/S` (0 when :math:`S = 0`)
    2. :math:`v_t \leftarrow \beta_2 v_{t-1} + (1-\beta_2) g_t^2`;
       :math:`\hat v_t \leftarrow v_t/(1-\beta_2^t)`
    3. :math:`z \leftarrow z - \gamma_{t-1}(g_t/(\sqrt{\hat v_t}+\epsilon) + \lambda y_t)`
       (the base step's counter starts at 0, so a warmup makes the first step a no-op)
    4. :math:`x_t \leftarrow (y_t - (1-\beta_1) z_{\text{old}})/\beta_1`;
       :math:`x_{t+1} \leftarrow (1-c)x_t + c z`;
       :math:`\Delta y_t = \beta_1 x_{t+1} + (1-\beta_1) z - y_t`

    **Conventions.** As ``optax.contrib.schedule_free_adamw`` in float64 (optax computes the
    warmup schedule in float32, so with a warmup its iterates differ from these by about
    1e-8 relative). Defazio et al.'s Algorithm 1 folds :math:`\sqrt{1-\beta_2^t}` into
    :math:`\gamma_t` instead of bias-correcting :math:`v`, weights by
    :math:`\gamma_t^2` and has no lag of the warmup. The special cases of the paper:
    :math:`\beta_1 = 1` takes the gradient at the average (primal averaging, :math:`y = x`);
    :math:`\beta_1 \to 0` at the base sequence with :math:`x` its running average
    (Polyak–Ruppert); here :math:`\beta_1 = 0` is refused, since :math:`x` is recovered by
    dividing by it (optax gives NaN).

    Args:
        lr: :math:`\eta`, ``0 < lr``, finite; or a
            schedule, a function of the step count (:mod:`optlib.schedules`).
        beta1: the interpolation :math:`\beta_1`, ``0 < beta1 <= 1``.
        beta2: :math:`\beta_2`, ``0 <= beta2 < 1``.
        eps: added to the root, ``0 <= eps``, finite.
        weight_decay: :math:`\lambda`, ``0 <= weight_decay``, finite.
        warmup_steps: :math:`W`, an integer ``0 <= warmup_steps`` (0: no warmup).
        weight_lr_power: :math:`p`, ``0 <= p``, finite.

    Reference: Defazio et al. (2024), "The Road Less Scheduled".

    >>> import optlib, pytest
    >>> sp = pytest.importorskip("sympy")  # optlib[symbolic]; skipped without it
    >>> y, g, eta = sp.symbols("y g eta", positive=True)
    >>> opt = optlib.schedule_free_adamw(lr=eta, beta1=1, eps=0)
    >>> state = opt.init(y)
    >>> step, state = opt.update(g, state, y)   # beta1 = 1: y is the average x
    >>> sp.simplify(optlib.schedule_free_eval_params(opt, state, y + step) - (y + step))
    0
    """
    lr = _lr(lr)
    beta1 = hyperparameter("beta1", beta1, low=0.0, high=1.0, low_open=True, high_open=False)
    beta2 = _decay("beta2", beta2)
    eps = _eps("eps", eps)
    weight_decay = _eps("weight_decay", weight_decay)
    if (isinstance(warmup_steps, bool) or not isinstance(warmup_steps, (int, np.integer))
            or warmup_steps < 0):
        raise ValueError(f"warmup_steps must be an integer with 0 <= warmup_steps, "
                         f"got {warmup_steps!r}")
    warmup_steps = int(warmup_steps)
    weight_lr_power = _eps("weight_lr_power", weight_lr_power)

    def schedule(k):
        return lr if warmup_steps == 0 else lr * min(k, warmup_steps) / warmup_steps

    def init(x0):
        zero = zeros_like(x0)
        start = x0 if is_symbolic(x0) else np.asarray(x0, dtype=np.result_type(x0, 0.0))[()]
        return ScheduleFreeState(count=0, base=start, second_moment=zero, weight_sum=0,
                                 max_lr=0)

    def update(grad, state, x=None):
        _needs_x("schedule_free_adamw", x)
        check_grad_shape(grad, x)
        y = x
        count = state.count + 1
        max_lr = maximum(state.max_lr, schedule(count))
        weight = power(max_lr, weight_lr_power)
        weight_sum = state.weight_sum + weight
        mix = _ratio(weight, weight_sum)
        second_moment = beta2 * state.second_moment + (1 - beta2) * grad * grad
        corrected = second_moment / (1 - power(beta2, count))
        base = state.base - schedule(count - 1) * (grad / (sqrt(corrected) + eps)
                                                   + weight_decay * y)
        average = (y - (1 - beta1) * state.base) / beta1
        average = (1 - mix) * average + mix * base
        new_y = beta1 * average + (1 - beta1) * base
        new_state = ScheduleFreeState(count, base, second_moment, weight_sum, max_lr)
        return new_y - y, new_state

    hyper = {"lr": lr, "beta1": beta1, "beta2": beta2, "eps": eps,
             "weight_decay": weight_decay, "warmup_steps": warmup_steps,
             "weight_lr_power": weight_lr_power}
    return Optimizer(init, update, "Schedule-free AdamW", hyper)


def schedule_free_eval_params(opt: Optimizer, state: ScheduleFreeState, y):
    r"""The point to evaluate a schedule-free model at: the average :math:`x`.

    :math:`x = (y - (1-\beta_1) z)/\beta_1`, from the iterate ``y`` that
    :func:`schedule_free_adamw` produced and its ``state`` (optax's
    ``schedule_free_eval_params``). For a container ``y`` (see :mod:`optlib.tree`), ``state``
    is the container of per-leaf states and the result a container too.
    """
    beta1 = opt.hyperparams["beta1"]
    if tree.is_container(y):
        return tree.map(lambda leaf, leaf_state: (leaf - (1 - beta1) * leaf_state.base) / beta1,
                        y, state, names=["state"])
    return (y - (1 - beta1) * state.base) / beta1


def _ratio(numerator, denominator):
    """``numerator / denominator``, and 0 where both are 0 (the first weights of a warmup)."""
    if is_symbolic(numerator, denominator):
        return numerator / denominator
    if np.ndim(denominator) == 0:
        return numerator / denominator if denominator != 0 else 0.0 * numerator
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator != 0, numerator / denominator, 0.0)

