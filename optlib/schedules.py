r"""Learning-rate schedules: the learning rate as a function of the step count.

A schedule is a pure function :math:`\eta_t = \text{schedule}(t)` of the number of updates
already made, :math:`t = 0` at the first update (optax's convention). Every method of optlib
takes one in the place of a constant ``lr``:

>>> import numpy as np, optlib
>>> schedule = optlib.schedules.warmup_cosine(peak=0.1, warmup_steps=2, decay_steps=6)
>>> [round(float(schedule(t)), 4) for t in range(7)]
[0.0, 0.05, 0.1, 0.0854, 0.05, 0.0146, 0.0]
>>> opt = optlib.gd(lr=schedule)
>>> xs = optlib.run(opt, lambda x: np.ones_like(x), np.zeros(1), 7)
>>> np.round(xs[:, 0], 4).tolist()   # x_{t+1} = x_t - eta_t * 1
[0.0, 0.0, -0.05, -0.15, -0.2354, -0.2854, -0.3, -0.3]

At step :math:`t` the method runs its own rule with :math:`\eta_t` in the place of
:math:`\eta` (:func:`optlib.base.accepts_schedule` says what that means for methods whose
state carries the rate). The schedules are written with NumPy and SymPy operations only, so

1. a peak value may be an array: a sweep over peak learning rates (shape ``(K, 1, 1)`` for
   ``K`` models) is one vectorised run, the schedule's values broadcasting like a constant
   ``lr`` would;
2. ``t`` may be a SymPy symbol: the schedule returns its closed form, a ``Piecewise`` where
   the schedule has phases, so a chapter derives with the very function the runs use; the
   lengths (``decay_steps``, ``warmup_steps``) may be positive integer symbols too, for the
   closed form at every length.

Each schedule checks its arguments (values ``>= 0`` and finite, step counts positive
integers, the update a phase begins at a non-negative one; a decay rate or a power ``> 0``
where ``0`` would mean nothing), raising ``ValueError`` that names the argument and its
range; :func:`optlib.base.schedule_rate` checks every rate a method is given (a function of
your own that returns a negative rate raises ``ValueError`` naming ``lr``).

Besides the cosine and linear schedules (with or without warmup), the schedules met in the
frameworks are here too: the exponential decay (PyTorch's ``ExponentialLR``, Keras's
``ExponentialDecay``), the step decay (:func:`piecewise_constant`: ``MultiStepLR``,
``StepLR``), the polynomial decay (``PolynomialLR``, Keras's ``PolynomialDecay``) and the
inverse-time decay :math:`\eta_0/(1 + a t/T)` (Keras's ``InverseTimeDecay``, Robbins and
Monro's :math:`1/t` family).

References: Loshchilov & Hutter (2017), SGDR (cosine decay); Goyal et al. (2017) (linear
warmup); Robbins & Monro (1951) (the :math:`1/t` rates); optax's ``optax.schedules`` (the
conventions followed here).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ._backend import hyperparameter, integer, is_symbolic
from ._backend import power as _power
from ._hyper import _flag

__all__ = [
    "Schedule",
    "constant",
    "linear",
    "linear_warmup",
    "linear_decay",
    "cosine_decay",
    "warmup_linear",
    "warmup_cosine",
    "exponential_decay",
    "piecewise_constant",
    "polynomial_decay",
    "inverse_time_decay",
]


class Schedule(NamedTuple):
    """A learning-rate schedule: ``schedule(t)`` is the rate of the update after ``t`` updates.

    ``name`` and ``hyperparams`` record how it was built (for labels and tables); ``function``
    is the pure function of ``t``.
    """

    name: str
    function: Callable[[Any], Any]
    hyperparams: dict

    def __call__(self, t):
        return self.function(t)

    def __repr__(self):
        arguments = ", ".join(f"{key}={_short(value)}" for key, value in self.hyperparams.items())
        return f"{self.name}({arguments})"


def _short(value):
    if isinstance(value, np.ndarray):
        return f"array{value.shape}"
    return repr(value)


def _value(name, value):
    return hyperparameter(name, value, low=0.0, high=math.inf, low_open=False)


def _steps(name, value, *, allow_zero=False):
    low = 0 if allow_zero else 1
    if is_symbolic(value):
        # a length given as a symbol (T) gives the closed form for every length; the symbol
        # must not be known to be a non-integer or below the allowed minimum
        if value.is_integer is False or (value - low).is_nonnegative is False:
            raise ValueError(f"{name} must be an integer with {low} <= {name}, got {value!r}")
        return value
    return integer(name, value, low=low)


def _sympy(*values):
    """SymPy if ``t`` or a schedule's value is symbolic (then the arithmetic stays exact)."""
    return sys.modules["sympy"] if is_symbolic(*values) else None


def _fraction(t, steps, *values):
    """``min(t, steps) / steps``, the elapsed fraction of a phase of ``steps`` updates."""
    sympy = _sympy(t, steps, *values)
    if sympy is not None:
        return sympy.Min(t, steps) / sympy.sympify(steps)
    return np.minimum(t, steps) / steps


def _line(start, end, steps):
    """``t -> start + (end - start) min(t, steps) / steps``: a straight line, then ``end``."""
    return lambda t: start + (end - start) * _fraction(t, steps, start, end)


def _phases(t, boundary, before, after):
    """``before(t)`` while ``t < boundary``, then ``after(t)``: a ``Piecewise`` for SymPy."""
    if is_symbolic(t, boundary):
        sympy = sys.modules["sympy"]
        return sympy.Piecewise((before(t), sympy.StrictLessThan(t, boundary)), (after(t), True))
    if np.ndim(t) == 0:
        return before(t) if t < boundary else after(t)
    return np.where(np.asarray(t) < boundary, before(t), after(t))


def _half_cosine(fraction, *values):
    """``(1 + cos(pi * fraction)) / 2``, from 1 at ``fraction = 0`` down to 0 at 1."""
    sympy = _sympy(fraction, *values)
    if sympy is not None:
        return (1 + sympy.cos(sympy.pi * fraction)) / 2
    return (1 + np.cos(math.pi * fraction)) / 2


def constant(value) -> Schedule:
    r""":math:`\eta_t = \eta` for every ``t``.

    Args:
        value: :math:`\eta`, ``0 <= value``, finite (an array for a sweep).

    >>> import optlib
    >>> optlib.schedules.constant(0.1)(1000)
    0.1
    """
    value = _value("value", value)
    return Schedule("constant", lambda t: value, {"value": value})


def linear(init, end, steps) -> Schedule:
    r"""From ``init`` to ``end`` in a straight line over ``steps`` updates, then ``end``.

    .. math::

        \eta_t = \eta_{\text{init}} + (\eta_{\text{end}} - \eta_{\text{init}})
                 \,\frac{\min(t, T)}{T}

    Matches ``optax.linear_schedule(init, end, steps)``.

    Args:
        init: :math:`\eta_{\text{init}}`, ``0 <= init``, finite.
        end: :math:`\eta_{\text{end}}`, ``0 <= end``, finite.
        steps: :math:`T`, an integer ``>= 1``.

    >>> import optlib
    >>> [float(optlib.schedules.linear(1.0, 0.0, 4)(t)) for t in (0, 1, 4, 9)]
    [1.0, 0.75, 0.0, 0.0]
    """
    init, end, steps = _value("init", init), _value("end", end), _steps("steps", steps)
    return Schedule("linear", _line(init, end, steps), {"init": init, "end": end, "steps": steps})


def linear_warmup(peak, warmup_steps, init=0.0) -> Schedule:
    r"""A linear warmup from ``init`` to ``peak`` over ``warmup_steps`` updates, then ``peak``.

    .. math::

        \eta_t = \eta_0 + (\eta_{\max} - \eta_0)\,\frac{\min(t, W)}{W}

    Args:
        peak: :math:`\eta_{\max}`, ``0 <= peak``, finite.
        warmup_steps: :math:`W`, an integer ``>= 1``.
        init: :math:`\eta_0`, ``0 <= init``, finite (default 0: the first update does not
            move, as in optax's warmup schedules).

    >>> import optlib
    >>> [float(optlib.schedules.linear_warmup(0.1, 4)(t)) for t in (0, 2, 4, 100)]
    [0.0, 0.05, 0.1, 0.1]
    """
    peak, init = _value("peak", peak), _value("init", init)
    warmup_steps = _steps("warmup_steps", warmup_steps)
    return Schedule("linear_warmup", _line(init, peak, warmup_steps),
                    {"peak": peak, "warmup_steps": warmup_steps, "init": init})


def linear_decay(peak, decay_steps, final=0.0) -> Schedule:
    r"""From ``peak`` down to ``final`` in a straight line over ``decay_steps``, then ``final``.

    .. math::

        \eta_t = \eta_{\max} + (\eta_{\min} - \eta_{\max})\,\frac{\min(t, T)}{T}

    Args:
        peak: :math:`\eta_{\max}`, ``0 <= peak``, finite.
        decay_steps: :math:`T`, an integer ``>= 1``.
        final: :math:`\eta_{\min}`, ``0 <= final``, finite.

    >>> import optlib
    >>> [float(optlib.schedules.linear_decay(0.1, 4)(t)) for t in (0, 2, 4, 100)]
    [0.1, 0.05, 0.0, 0.0]
    """
    peak, final = _value("peak", peak), _value("final", final)
    decay_steps = _steps("decay_steps", decay_steps)
    return Schedule("linear_decay", _line(peak, final, decay_steps),
                    {"peak": peak, "decay_steps": decay_steps, "final": final})


def cosine_decay(peak, decay_steps, final=0.0) -> Schedule:
    r"""Half a cosine from ``peak`` down to ``final`` over ``decay_steps``, then ``final``.

    .. math::

        \eta_t = \eta_{\min} + \frac{\eta_{\max} - \eta_{\min}}{2}
                 \left(1 + \cos\frac{\pi \min(t, T)}{T}\right)

    Loshchilov & Hutter's SGDR without restarts. ``optax.cosine_decay_schedule(init_value,
    decay_steps, alpha)`` is this with ``peak = init_value`` and ``final = alpha *
    init_value``.

    Args:
        peak: :math:`\eta_{\max}`, ``0 <= peak``, finite.
        decay_steps: :math:`T`, an integer ``>= 1``.
        final: :math:`\eta_{\min}`, ``0 <= final``, finite.

    >>> import optlib
    >>> [round(float(optlib.schedules.cosine_decay(0.1, 4)(t)), 6) for t in (0, 2, 4, 9)]
    [0.1, 0.05, 0.0, 0.0]
    """
    peak, final = _value("peak", peak), _value("final", final)
    decay_steps = _steps("decay_steps", decay_steps)

    def function(t):
        return final + (peak - final) * _half_cosine(_fraction(t, decay_steps, peak, final),
                                                     peak, final)

    return Schedule("cosine_decay", function,
                    {"peak": peak, "decay_steps": decay_steps, "final": final})


def _warmup_then(name, decay, peak, warmup_steps, decay_steps, init, final):
    peak, init, final = _value("peak", peak), _value("init", init), _value("final", final)
    warmup_steps = _steps("warmup_steps", warmup_steps, allow_zero=True)
    decay_steps = _steps("decay_steps", decay_steps)
    if not is_symbolic(decay_steps, warmup_steps) and decay_steps <= warmup_steps:
        raise ValueError(f"decay_steps (the schedule's whole length, warmup included) must be "
                         f"> warmup_steps = {warmup_steps}, got {decay_steps}")
    tail = decay(peak, decay_steps - warmup_steps, final)
    hyperparams = {"peak": peak, "warmup_steps": warmup_steps, "decay_steps": decay_steps,
                   "init": init, "final": final}
    if warmup_steps == 0:
        return Schedule(name, tail.function, hyperparams)
    warmup = _line(init, peak, warmup_steps)

    def function(t):
        return _phases(t, warmup_steps, warmup, lambda s: tail(s - warmup_steps))

    return Schedule(name, function, hyperparams)


def warmup_cosine(peak, warmup_steps, decay_steps, init=0.0, final=0.0) -> Schedule:
    r"""A linear warmup to ``peak``, then a cosine decay to ``final``.

    .. math::

        \eta_t = \begin{cases}
            \eta_0 + (\eta_{\max} - \eta_0)\, t / W & t < W \\
            \eta_{\min} + \frac{\eta_{\max} - \eta_{\min}}{2}
            \left(1 + \cos\frac{\pi \min(t - W,\, T - W)}{T - W}\right) & t \ge W
        \end{cases}

    ``decay_steps`` :math:`T` is the whole length, warmup included, as in
    ``optax.warmup_cosine_decay_schedule(init, peak, warmup_steps, decay_steps, final)``.

    Args:
        peak: :math:`\eta_{\max}`, ``0 <= peak``, finite.
        warmup_steps: :math:`W`, an integer ``>= 0`` (0: no warmup).
        decay_steps: :math:`T`, an integer ``> warmup_steps``.
        init: :math:`\eta_0`, ``0 <= init``, finite.
        final: :math:`\eta_{\min}`, ``0 <= final``, finite.

    >>> import optlib
    >>> s = optlib.schedules.warmup_cosine(1.0, warmup_steps=2, decay_steps=4)
    >>> [round(float(s(t)), 6) for t in range(6)]
    [0.0, 0.5, 1.0, 0.5, 0.0, 0.0]
    """
    return _warmup_then("warmup_cosine", cosine_decay, peak, warmup_steps, decay_steps, init,
                        final)


def warmup_linear(peak, warmup_steps, decay_steps, init=0.0, final=0.0) -> Schedule:
    r"""A linear warmup to ``peak``, then a linear decay to ``final`` (a triangle by default).

    .. math::

        \eta_t = \begin{cases}
            \eta_0 + (\eta_{\max} - \eta_0)\, t / W & t < W \\
            \eta_{\max} + (\eta_{\min} - \eta_{\max})\,\frac{\min(t - W,\, T - W)}{T - W}
            & t \ge W
        \end{cases}

    ``decay_steps`` :math:`T` is the whole length, warmup included (optax's
    ``warmup_constant_schedule`` and ``join_schedules`` build the same).

    Args:
        peak: :math:`\eta_{\max}`, ``0 <= peak``, finite.
        warmup_steps: :math:`W`, an integer ``>= 0`` (0: no warmup).
        decay_steps: :math:`T`, an integer ``> warmup_steps``.
        init: :math:`\eta_0`, ``0 <= init``, finite.
        final: :math:`\eta_{\min}`, ``0 <= final``, finite.

    >>> import optlib
    >>> s = optlib.schedules.warmup_linear(1.0, warmup_steps=2, decay_steps=6)
    >>> [float(s(t)) for t in range(7)]
    [0.0, 0.5, 1.0, 0.75, 0.5, 0.25, 0.0]
    """
    return _warmup_then("warmup_linear", linear_decay, peak, warmup_steps, decay_steps, init,
                        final)


def _ratio(numerator, denominator, *values):
    """``numerator / denominator``, exact (a SymPy ``Rational``) when anything is symbolic."""
    sympy = _sympy(numerator, denominator, *values)
    if sympy is not None:
        return sympy.sympify(numerator) / sympy.sympify(denominator)
    return numerator / denominator


def _elapsed(t, begin):
    """``max(t - begin, 0)``: the updates made since update ``begin`` (0 before it)."""
    if not is_symbolic(begin) and begin == 0:
        return t
    sympy = _sympy(t, begin)
    if sympy is not None:
        return sympy.Max(t - begin, 0)
    return np.maximum(t - begin, 0)


def _floor(x):
    sympy = _sympy(x)
    return sympy.floor(x) if sympy is not None else np.floor(x)


def _stop_at(value, end, decay_rate):
    """``max(value, end)`` for a decaying rate (``decay_rate < 1``), ``min`` for a growing one."""
    sympy = _sympy(value, end, decay_rate)
    if sympy is not None:
        return sympy.Piecewise((sympy.Max(value, end), sympy.StrictLessThan(decay_rate, 1)),
                               (sympy.Min(value, end), True))
    if np.ndim(decay_rate) == 0:
        return np.maximum(value, end) if decay_rate < 1 else np.minimum(value, end)
    return np.where(np.asarray(decay_rate) < 1, np.maximum(value, end), np.minimum(value, end))


def exponential_decay(init, decay_rate, transition_steps, *, staircase=False, transition_begin=0,
                      end=None) -> Schedule:
    r"""``init`` times ``decay_rate`` per ``transition_steps`` updates, smoothly or in steps.

    .. math::

        \eta_t = \eta_0\, \gamma^{\max(t - B,\, 0)/T}

    with the exponent floored, :math:`\lfloor \max(t - B, 0)/T \rfloor`, if ``staircase``. If
    ``end`` is given the rate stops there: :math:`\max(\eta_t, \eta_{\text{end}})` for
    :math:`\gamma < 1`, :math:`\min(\eta_t, \eta_{\text{end}})` for :math:`\gamma \ge 1`.

    The semantics of ``optax.exponential_decay(init, transition_steps, decay_rate,
    transition_begin, staircase, end_value=end)`` and of Keras's ``ExponentialDecay(init,
    decay_steps, decay_rate, staircase)`` (``transition_steps = decay_steps``). PyTorch's
    ``ExponentialLR(gamma)`` stepped after every update is ``transition_steps=1``, stepped
    once per epoch of ``n`` updates ``transition_steps=n, staircase=True``; its
    ``StepLR(step_size, gamma)`` is ``transition_steps=step_size, staircase=True``.

    Args:
        init: :math:`\eta_0`, ``0 <= init``, finite (an array for a sweep).
        decay_rate: :math:`\gamma`, ``0 < decay_rate``, finite (above 1 the rate grows).
        transition_steps: :math:`T`, an integer ``>= 1``.
        staircase: floor the exponent: the rate changes every ``T`` updates.
        transition_begin: :math:`B`, an integer ``>= 0``: the rate is ``init`` until then.
        end: ``None``, or :math:`\eta_{\text{end}}`, ``0 <= end``, finite, on the side the rate
            moves to: ``end <= init`` if ``decay_rate < 1``, ``end >= init`` otherwise.

    >>> import optlib
    >>> s = optlib.schedules.exponential_decay(1.0, 0.5, 2)     # halves every 2 updates
    >>> [round(float(s(t)), 4) for t in range(5)]
    [1.0, 0.7071, 0.5, 0.3536, 0.25]
    >>> s = optlib.schedules.exponential_decay(1.0, 0.5, 2, staircase=True, end=0.3)
    >>> [float(s(t)) for t in range(7)]
    [1.0, 1.0, 0.5, 0.5, 0.3, 0.3, 0.3]
    """
    init = _value("init", init)
    decay_rate = hyperparameter("decay_rate", decay_rate, low=0.0, high=math.inf, low_open=True)
    transition_steps = _steps("transition_steps", transition_steps)
    transition_begin = _steps("transition_begin", transition_begin, allow_zero=True)
    staircase = _flag("staircase", staircase)
    if end is not None:
        end = _value("end", end)
        if not is_symbolic(init, decay_rate, end):
            wrong = np.where(np.asarray(decay_rate) < 1, np.asarray(end) > init,
                             np.asarray(end) < init)
            if np.any(wrong):
                raise ValueError("end must satisfy end <= init if decay_rate < 1, end >= init "
                                 f"if decay_rate >= 1, got end={_short(end)}, "
                                 f"init={_short(init)}, decay_rate={_short(decay_rate)}")

    def function(t):
        exponent = _ratio(_elapsed(t, transition_begin), transition_steps, init, decay_rate)
        if staircase:
            exponent = _floor(exponent)
        value = init * _power(decay_rate, exponent)
        return value if end is None else _stop_at(value, end, decay_rate)

    return Schedule("exponential_decay", function,
                    {"init": init, "decay_rate": decay_rate,
                     "transition_steps": transition_steps, "staircase": staircase,
                     "transition_begin": transition_begin, "end": end})


def piecewise_constant(init, boundaries_and_scales) -> Schedule:
    r"""``init``, multiplied by each scale from its boundary on: the step decay.

    .. math::

        \eta_t = \eta_0 \prod_{i:\ t \ge b_i} s_i

    The semantics of ``optax.piecewise_constant_schedule(init, boundaries_and_scales)``.
    PyTorch's ``MultiStepLR(milestones, gamma)`` stepped after every update is
    ``{m: gamma for m in milestones}``, its ``StepLR(step_size, gamma)`` the scale ``gamma``
    at every multiple of ``step_size`` (:func:`exponential_decay` with ``staircase=True``).
    Keras's ``PiecewiseConstantDecay(boundaries, values)`` takes the values, not their
    ratios, and changes after its boundary (``t > b``): its ``b`` is ``b + 1`` here. He et
    al. (2016) divided the rate by 10 twice in this way.

    Args:
        init: :math:`\eta_0`, ``0 <= init``, finite (an array for a sweep).
        boundaries_and_scales: a dict ``{b_i: s_i}``: boundaries, integers ``>= 0`` (the
            update count from which the scale applies), and scales ``0 <= s_i``, finite.

    >>> import optlib
    >>> s = optlib.schedules.piecewise_constant(1.0, {3: 0.1, 5: 0.1})
    >>> [round(float(s(t)), 6) for t in range(7)]
    [1.0, 1.0, 1.0, 0.1, 0.1, 0.01, 0.01]
    """
    init = _value("init", init)
    if not isinstance(boundaries_and_scales, dict):
        raise ValueError("boundaries_and_scales must be a dict {boundary: scale}, got "
                         f"{boundaries_and_scales!r}")
    steps = []
    for boundary, scale in sorted(boundaries_and_scales.items(), key=lambda item: item[0]):
        if isinstance(boundary, bool) or not isinstance(boundary, (int, np.integer)) \
                or boundary < 0:
            raise ValueError("boundaries_and_scales: each boundary must be an integer with "
                             f"0 <= boundary, got {boundary!r}")
        steps.append((int(boundary), _value(f"boundaries_and_scales[{boundary}]", scale)))

    def function(t):
        if is_symbolic(t):
            sympy = sys.modules["sympy"]
            pieces, rate = [], init
            for boundary, scale in steps:
                pieces.append((rate, sympy.StrictLessThan(t, boundary)))
                rate = rate * scale
            return sympy.Piecewise(*pieces, (rate, True))
        rate = init
        for boundary, scale in steps:
            if np.ndim(t) == 0:
                rate = rate * scale if t >= boundary else rate
            else:
                rate = rate * np.where(np.asarray(t) >= boundary, scale, 1.0)
        return rate

    return Schedule("piecewise_constant", function,
                    {"init": init, "boundaries_and_scales": dict(steps)})


def polynomial_decay(init, end, power, decay_steps, *, transition_begin=0) -> Schedule:
    r"""From ``init`` to ``end`` along a power of the remaining fraction, then ``end``.

    .. math::

        \eta_t = (\eta_0 - \eta_{\text{end}})\left(1 - \frac{s}{T}\right)^{p}
                 + \eta_{\text{end}}, \qquad s = \min(\max(t - B, 0),\, T)

    The semantics of ``optax.polynomial_schedule(init, end, power, decay_steps,
    transition_begin)`` and of Keras's ``PolynomialDecay(init, decay_steps, end, power)``
    (without ``cycle``); PyTorch's ``PolynomialLR(total_iters=decay_steps, power=power)`` is
    ``end = 0``. ``power = 1`` is :func:`linear_decay`; ``power = 0.9`` is the "poly" policy
    of DeepLab (Chen et al., 2018).

    Args:
        init: :math:`\eta_0`, ``0 <= init``, finite (an array for a sweep).
        end: :math:`\eta_{\text{end}}`, ``0 <= end``, finite.
        power: :math:`p`, ``0 < power``, finite.
        decay_steps: :math:`T`, an integer ``>= 1``.
        transition_begin: :math:`B`, an integer ``>= 0``: the rate is ``init`` until then.

    >>> import optlib
    >>> s = optlib.schedules.polynomial_decay(1.0, 0.0, 2, 4)
    >>> [float(s(t)) for t in range(6)]
    [1.0, 0.5625, 0.25, 0.0625, 0.0, 0.0]
    """
    init, end = _value("init", init), _value("end", end)
    power = hyperparameter("power", power, low=0.0, high=math.inf, low_open=True)
    decay_steps = _steps("decay_steps", decay_steps)
    transition_begin = _steps("transition_begin", transition_begin, allow_zero=True)

    def function(t):
        fraction = _fraction(_elapsed(t, transition_begin), decay_steps, init, end, power)
        exponent = power
        if _sympy(fraction) is not None and np.ndim(power) == 0 and not is_symbolic(power) \
                and power == int(power):
            exponent = int(power)   # an exact whole power in the closed form (2, not 2.0)
        return (init - end) * _power(1 - fraction, exponent) + end

    return Schedule("polynomial_decay", function,
                    {"init": init, "end": end, "power": power, "decay_steps": decay_steps,
                     "transition_begin": transition_begin})


def inverse_time_decay(init, decay_rate, decay_steps, *, staircase=False) -> Schedule:
    r"""``init / (1 + decay_rate * t / decay_steps)``: rates that fall like :math:`1/t`.

    .. math::

        \eta_t = \frac{\eta_0}{1 + a\, t / T}

    with :math:`t/T` floored, :math:`\lfloor t/T \rfloor`, if ``staircase``. Keras's
    ``InverseTimeDecay(init, decay_steps, decay_rate, staircase)`` (optax has none; in
    PyTorch, ``LambdaLR(lambda t: 1 / (1 + a * t / T))``). For :math:`a > 0` the rates
    satisfy Robbins and Monro's (1951) conditions: :math:`\eta_t\, t \to \eta_0 T/a`, so
    :math:`\sum_t \eta_t = \infty` and :math:`\sum_t \eta_t^2 < \infty` (compared with
    :math:`\sum 1/t` and :math:`\sum 1/t^2`; proved with SymPy in the tests).

    Args:
        init: :math:`\eta_0`, ``0 <= init``, finite (an array for a sweep).
        decay_rate: :math:`a`, ``0 <= decay_rate``, finite (0: constant).
        decay_steps: :math:`T`, an integer ``>= 1``.
        staircase: floor :math:`t/T`: the rate changes every ``T`` updates.

    >>> import optlib, pytest
    >>> s = optlib.schedules.inverse_time_decay(1.0, 1.0, 10)
    >>> [float(s(t)) for t in (0, 10, 30, 90)]
    [1.0, 0.5, 0.25, 0.1]
    >>> sp = pytest.importorskip("sympy")  # optlib[symbolic]; skipped without it
    >>> eta, a, t = sp.symbols("eta a t")
    >>> optlib.schedules.inverse_time_decay(eta, a, 100)(t)
    eta/(a*t/100 + 1)
    """
    init, decay_rate = _value("init", init), _value("decay_rate", decay_rate)
    decay_steps = _steps("decay_steps", decay_steps)
    staircase = _flag("staircase", staircase)

    def function(t):
        elapsed = _ratio(t, decay_steps, init, decay_rate)
        if staircase:
            elapsed = _floor(elapsed)
        return init / (1 + decay_rate * elapsed)

    return Schedule("inverse_time_decay", function,
                    {"init": init, "decay_rate": decay_rate, "decay_steps": decay_steps,
                     "staircase": staircase})
