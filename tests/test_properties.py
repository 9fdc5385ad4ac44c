"""Property tests (hypothesis): statements that hold for every gradient sequence.

Each asserted bound is a theorem (proof sketched in its docstring), not an approximation.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from method_cases import METHODS, make

import optlib

SETTINGS = settings(max_examples=60, deadline=None)

# gradient sequences: magnitudes in [1e-3, 1e3] or exactly 0, the first one nonzero
_magnitude = st.one_of(st.just(0.0), st.floats(1e-3, 1e3))
_grad = st.builds(lambda m, s: m * s, _magnitude, st.sampled_from([-1.0, 1.0]))
_first = st.builds(lambda m, s: m * s, st.floats(1e-3, 1e3), st.sampled_from([-1.0, 1.0]))
grads = st.builds(lambda a, rest: [a, *rest], _first, st.lists(_grad, max_size=39))
decays = st.floats(0.0, 0.99)


def _steps(opt, gs, x=0.0):
    """The steps of ``opt`` for the gradient sequence ``gs``, all taken at the point ``x``."""
    state, out = opt.init(x), []
    for grad in gs:
        step, state = opt.update(grad, state, x)
        out.append(float(step))
    return np.array(out)


def adam_step_bound(lr, beta1, beta2, t):
    r"""The exact bound on Adam's t-th step (eps = 0), for any gradients.

    :math:`|m_t| = (1-\beta_1)|\sum_i \beta_1^{t-i} g_i|
    \le (1-\beta_1)\sqrt{\sum_i (\beta_1^2/\beta_2)^{t-i}}\sqrt{\sum_i \beta_2^{t-i} g_i^2}`
    (Cauchy-Schwarz) and :math:`v_t = (1-\beta_2)\sum_i \beta_2^{t-i} g_i^2`, so
    :math:`|\Delta_t| \le \eta \frac{1-\beta_1}{1-\beta_1^t}\sqrt{\frac{1-\beta_2^t}{1-\beta_2}}
    \sqrt{\sum_{k<t} (\beta_1^2/\beta_2)^k}`, with equality for
    :math:`g_i \propto (\beta_1/\beta_2)^{t-i}`. It exceeds Kingma and Ba's
    :math:`\eta(1-\beta_1)/\sqrt{1-\beta_2}` (their Section 2.1 bound is not exact).
    """
    gamma = beta1 * beta1 / beta2
    return (lr * (1 - beta1) / (1 - beta1**t) * math.sqrt((1 - beta2**t) / (1 - beta2))
            * math.sqrt(sum(gamma**k for k in range(t))))


@SETTINGS
@given(gs=grads, beta1=decays, beta2=st.floats(0.5, 0.9999), lr=st.floats(1e-4, 10.0),
       amsgrad=st.booleans())
def test_adam_step_bound(gs, beta1, beta2, lr, amsgrad):
    """AMSGrad too: its denominator is at least Adam's."""
    steps = _steps(optlib.adam(lr, beta1, beta2, eps=0.0, amsgrad=amsgrad), gs)
    for t, step in enumerate(steps, start=1):
        assert abs(step) <= adam_step_bound(lr, beta1, beta2, t) * (1 + 1e-9)
    assert abs(steps[0]) == pytest.approx(lr, rel=1e-12)  # bias correction: |first step| = lr


@pytest.mark.parametrize(("beta1", "beta2"), [(0.9, 0.999), (0.9, 0.99), (0.5, 0.9), (0.3, 0.95)])
@pytest.mark.parametrize("t", [1, 2, 10, 60])
def test_adam_step_bound_is_attained(beta1, beta2, t):
    gs = [(beta1 / beta2) ** (t - i) for i in range(1, t + 1)]
    step = _steps(optlib.adam(1.0, beta1, beta2, eps=0.0), gs)[-1]
    assert -step == pytest.approx(adam_step_bound(1.0, beta1, beta2, t), rel=1e-12)


def test_kingma_ba_simplified_bound_is_exceeded():
    """For (1 - beta1) > sqrt(1 - beta2) the paper states |step| <= lr (1-beta1)/sqrt(1-beta2);
    a gradient sequence growing like (beta2/beta1)^i exceeds it."""
    beta1, beta2, t = 0.5, 0.9, 50
    assert 1 - beta1 > math.sqrt(1 - beta2)
    gs = [(beta1 / beta2) ** (t - i) for i in range(1, t + 1)]
    step = _steps(optlib.adam(1.0, beta1, beta2, eps=0.0), gs)[-1]
    assert -step > (1 - beta1) / math.sqrt(1 - beta2) * 1.1


@SETTINGS
@given(gs=grads, beta1=decays, beta2=st.floats(0.5, 0.9999), lr=st.floats(1e-4, 10.0))
def test_adamax_step_bound(gs, beta1, beta2, lr):
    r"""With eps = 0, :math:`u_t \ge \beta_2^{t-i}|g_i|`, so
    :math:`|\Delta_t| \le \eta\frac{1-\beta_1}{1-\beta_1^t}\sum_{k<t}(\beta_1/\beta_2)^k`."""
    steps = _steps(optlib.adamax(lr, beta1, beta2, eps=0.0), gs)
    for t, step in enumerate(steps, start=1):
        bound = lr * (1 - beta1) / (1 - beta1**t) * sum((beta1 / beta2) ** k for k in range(t))
        assert abs(step) <= bound * (1 + 1e-9)


@SETTINGS
@given(gs=grads, mu=decays, lr=st.floats(1e-4, 10.0))
def test_momentum_velocity_bound(gs, mu, lr):
    r"""Triangle inequality: :math:`|v_t| \le \eta G (1-\mu^t)/(1-\mu)`, :math:`G=\max|g_i|`;
    equal for a constant gradient."""
    steps = _steps(optlib.momentum(lr, mu), gs)
    G = max(abs(g) for g in gs)
    for t, step in enumerate(steps, start=1):
        assert abs(step) <= lr * G * (1 - mu**t) / (1 - mu) * (1 + 1e-9) + 1e-300
    constant = _steps(optlib.momentum(lr, mu), [G] * len(gs))
    t = len(gs)
    assert -constant[-1] == pytest.approx(lr * G * (1 - mu**t) / (1 - mu), rel=1e-9)


@SETTINGS
@given(gs=grads, lr=st.floats(1e-4, 10.0), eps=st.floats(0.0, 1.0),
       s0=st.floats(0.0, 10.0))
def test_adagrad_steps_never_exceed_lr(gs, lr, eps, s0):
    """:math:`|g_t| \\le \\sqrt{s_t}`, so :math:`|\\Delta_t| \\le \\eta`."""
    steps = _steps(optlib.adagrad(lr, eps=eps, initial_accumulator=s0), gs)
    assert np.all(np.abs(steps) <= lr * (1 + 1e-12))


@SETTINGS
@given(gs=grads, lr=st.floats(1e-4, 10.0), rho=st.floats(0.01, 0.99),
       eps=st.floats(0.0, 1.0), inside=st.booleans())
def test_rmsprop_step_bound(gs, lr, rho, eps, inside):
    """:math:`r_t \\ge (1-\\rho) g_t^2`, so :math:`|\\Delta_t| \\le \\eta/\\sqrt{1-\\rho}`
    (rho > 0 and a nonzero first gradient keep :math:`r_t > 0`, so no 0/0 when eps = 0)."""
    steps = _steps(optlib.rmsprop(lr, decay=rho, eps=eps, eps_inside_sqrt=inside), gs)
    assert np.all(np.abs(steps) <= lr / math.sqrt(1 - rho) * (1 + 1e-12))


ODD = sorted(METHODS)


@SETTINGS
@given(gs=grads, name=st.sampled_from(ODD))
def test_every_method_is_odd_in_the_gradient(gs, name):
    """Negating every gradient negates every step, exactly (at x = 0, where AdamW's decay
    vanishes)."""
    opt = make(name)
    np.testing.assert_array_equal(_steps(opt, [-g for g in gs]), -_steps(opt, gs))


SCALE_FREE = {  # eps = 0 (and no initial accumulator): the steps do not depend on |g|'s scale
    "adagrad": {"eps": 0.0, "initial_accumulator": 0.0},
    "rmsprop": {"eps": 0.0},
    "rmsprop_momentum": {"eps": 0.0},
    "rmsprop_nesterov": {"eps": 0.0},
    "rmsprop_centered": {"eps": 0.0},
    "rmsprop_eps_inside_sqrt": {"eps": 0.0},
    "adam": {"eps": 0.0},
    "amsgrad": {"eps": 0.0},
    "adamw": {"eps": 0.0},
    "adamax": {"eps": 0.0},
    "nadam": {"eps": 0.0},
}


@SETTINGS
@given(gs=grads, name=st.sampled_from(sorted(SCALE_FREE)), k=st.integers(-20, 20))
def test_scale_invariance_with_zero_eps(gs, name, k):
    """With eps = 0 the adaptive methods are invariant to the gradients' scale; scaling by a
    power of two is exact in floating point, so the steps agree bit for bit."""
    opt = make(name, **SCALE_FREE[name])
    base = _steps(opt, gs)
    assume(np.all(np.isfinite(base)))
    np.testing.assert_array_equal(_steps(opt, [g * 2.0**k for g in gs]), base)
