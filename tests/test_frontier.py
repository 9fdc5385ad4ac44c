"""The newer methods (optlib/frontier.py): what each one promises, beyond matching the
frameworks (test_frontier_reference.py): bad input, sweeps, matrices, and the symbolic path."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import optlib

RNG = np.random.default_rng(7)
ELEMENTWISE = {
    "radam": (optlib.radam, {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 1e-4,
                             "weight_decay": 0.1}),
    "adabelief": (optlib.adabelief, {"lr": 0.05, "beta1": 0.8, "eps": 1e-6}),
    "yogi": (optlib.yogi, {"lr": 0.05, "beta2": 0.99}),
    "lion": (optlib.lion, {"lr": 0.01, "beta1": 0.8, "weight_decay": 0.1}),
    "schedule_free_adamw": (optlib.schedule_free_adamw, {"lr": 0.05, "beta1": 0.8,
                                                         "weight_decay": 0.05,
                                                         "warmup_steps": 5}),
}
MATRIX = {
    "adafactor": (optlib.adafactor, {"lr": 0.05, "weight_decay": 0.1}),
    "muon": (optlib.muon, {"lr": 0.02}),
}


def _quadratic_grad(x):
    return 1.5 * x - 0.5 + 0.3 * np.sin(3 * x)


def _run(opt, x0, steps=40):
    return optlib.run(opt, _quadratic_grad, x0, steps)


# ---------------------------------------------------------------------------------------------
# Bad input: a ValueError that names the parameter and the allowed range
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("factory, kwargs, message", [
    (optlib.radam, {"lr": 0.0}, "lr must satisfy 0.0 < lr"),
    (optlib.radam, {"beta2": 1.0}, "beta2 must satisfy 0.0 <= beta2 < 1.0"),
    (optlib.radam, {"weight_decay": -0.1}, "weight_decay must satisfy 0.0 <= weight_decay"),
    (optlib.radam, {"decoupled_weight_decay": 1}, "decoupled_weight_decay must be True or False"),
    (optlib.adabelief, {"eps_root": -1e-16}, "eps_root must satisfy 0.0 <= eps_root"),
    (optlib.yogi, {"initial_accumulator": -1.0}, "initial_accumulator must satisfy"),
    (optlib.lion, {"beta1": 1.5}, "beta1 must satisfy 0.0 <= beta1 < 1.0"),
    (optlib.adafactor, {"beta2_decay": 0.5}, "beta2_decay must satisfy .* <= 0.0"),
    (optlib.adafactor, {"d": 0.5}, "d must satisfy 1.0 <= d"),
    (optlib.adafactor, {"eps1": 0.0}, "eps1 must satisfy 0.0 < eps1"),
    (optlib.muon, {"momentum": 1.0}, "momentum must satisfy 0.0 <= momentum < 1.0"),
    (optlib.muon, {"ns_steps": 0}, "steps must be an integer with 1 <= steps < 100"),
    (optlib.muon, {"ns_coefficients": (1.0, 2.0)}, "coefficients must be three numbers"),
    (optlib.muon, {"adjust_lr_fn": "spectral"}, "adjust_lr_fn must be None, 'original'"),
    (optlib.schedule_free_adamw, {"beta1": 0.0}, "beta1 must satisfy 0.0 < beta1 <= 1.0"),
    (optlib.schedule_free_adamw, {"warmup_steps": 2.5}, "warmup_steps must be an integer"),
    (optlib.schedule_free_adamw, {"weight_lr_power": -1}, "weight_lr_power must satisfy"),
])
def test_bad_hyperparameters_name_the_parameter_and_range(factory, kwargs, message):
    with pytest.raises(ValueError, match=message):
        factory(**kwargs)


@pytest.mark.parametrize("opt", [optlib.muon(), optlib.adafactor(), optlib.lion(weight_decay=0.1),
                                 optlib.radam(weight_decay=0.1), optlib.schedule_free_adamw()],
                         ids=lambda opt: opt.name)
def test_methods_that_need_the_parameters_say_so(opt):
    x0 = np.ones((2, 3))
    with pytest.raises(ValueError, match="needs the parameters"):
        opt.update(np.ones((2, 3)), opt.init(x0))


@pytest.mark.parametrize("shape", [(), (5,)])
def test_muon_refuses_what_is_not_a_matrix(shape):
    with pytest.raises(ValueError, match=r"muon acts on matrices: x must have at least 2 axes"):
        optlib.muon().init(np.ones(shape))


def test_matrix_methods_refuse_symbols():
    with pytest.raises(ValueError, match="adafactor acts on numeric arrays"):
        optlib.adafactor().init(sp.Symbol("x"))
    with pytest.raises(ValueError, match="muon acts on numeric matrices"):
        optlib.muon().init(sp.Symbol("x"))


# ---------------------------------------------------------------------------------------------
# Arrays, dtypes and sweeps
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_elementwise_methods_keep_shape_and_dtype(name, dtype):
    factory, kwargs = ELEMENTWISE[name]
    x0 = RNG.normal(size=(3, 4)).astype(dtype)
    xs = _run(factory(**kwargs), x0, steps=5)
    assert xs.shape == (6, 3, 4) and xs.dtype == dtype
    assert np.all(np.isfinite(xs))


@pytest.mark.parametrize("name", sorted(ELEMENTWISE) + sorted(MATRIX))
def test_a_sweep_equals_its_runs_one_at_a_time(name):
    factory, kwargs = {**ELEMENTWISE, **MATRIX}[name]
    lrs = np.array([0.01, 0.03, 0.1])
    x0 = RNG.normal(size=(4, 3))
    swept = _run(factory(**{**kwargs, "lr": lrs[:, None, None]}), x0)
    assert swept.shape == (41, 3, 4, 3)
    for k, lr in enumerate(lrs):
        single = _run(factory(**{**kwargs, "lr": lr}), x0)
        np.testing.assert_allclose(swept[:, k], single, rtol=1e-12, atol=1e-15)


def test_matrix_methods_treat_leading_axes_as_a_batch():
    """A stack of matrices gives each matrix the iterates it has alone."""
    x0 = RNG.normal(size=(2, 5, 3))
    for factory, kwargs in MATRIX.values():
        stacked = _run(factory(**kwargs), x0)
        for k in range(2):
            np.testing.assert_allclose(stacked[:, k], _run(factory(**kwargs), x0[k]),
                                       rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------------------------------------
# What each method promises
# ---------------------------------------------------------------------------------------------


def test_radam_first_steps_are_momentum_sgd_then_rectified():
    beta2 = 0.999
    opt = optlib.radam(lr=0.1, beta1=0.9, beta2=beta2, eps=0.0)
    state, x = opt.init(0.0), 0.0
    grads = RNG.normal(size=8) + 2.0
    m = 0.0
    for t, g in enumerate(grads, start=1):
        step, state = opt.update(g, state, x)
        m = 0.9 * m + 0.1 * g
        if t <= 5:  # rho_t <= 5: the step is -lr * m_hat
            assert step == pytest.approx(-0.1 * m / (1 - 0.9**t), rel=1e-14)
        else:       # rectified: a different, smaller step
            assert abs(step) < abs(0.1 * m / (1 - 0.9**t))
    assert optlib.frontier.radam_sma_length(beta2, 5) < 5 < optlib.frontier.radam_sma_length(
        beta2, 6)


def test_radam_symbolic_first_step():
    eta, g, b1, b2 = sp.symbols("eta g beta1 beta2", positive=True)
    opt = optlib.radam(lr=eta, beta1=b1, beta2=b2, eps=0)
    step, _ = opt.update(g, opt.init(sp.Symbol("x")))
    # rho_1 = 1 for every beta2: the first step is momentum SGD's, exactly -eta g
    assert sp.simplify(sp.piecewise_fold(step).subs(b2, sp.Rational(99, 100)) + eta * g) == 0


def test_lion_moves_every_coordinate_by_exactly_lr_symbolically():
    eta, b1, b2 = sp.symbols("eta beta1 beta2", positive=True)
    g, m = sp.symbols("g m", real=True, nonzero=True)
    opt = optlib.lion(lr=eta, beta1=b1, beta2=b2)
    step, state = opt.update(g, optlib.LionState(momentum=m))
    assert sp.simplify(sp.Abs(step) - eta * sp.Abs(sp.sign(b1 * m + (1 - b1) * g))) == 0
    assert sp.simplify(state.momentum - (b2 * m + (1 - b2) * g)) == 0


def test_yogi_change_of_v_is_bounded_by_the_squared_gradient():
    """|v_t - v_{t-1}| <= (1 - beta2) g^2 for every v and g, where Adam's change is
    (1 - beta2)|g^2 - v|, unbounded in v."""
    v, one_minus_b2 = sp.symbols("v one_minus_beta2", positive=True)
    g = sp.Symbol("g", real=True)
    opt = optlib.yogi(beta2=1 - one_minus_b2, initial_accumulator=v)
    _, state = opt.update(g, opt.init(sp.Symbol("x")))
    change = state.second_moment - v
    # |change| = (1 - beta2) g^2 |sign(v - g^2)|, and |sign| <= 1
    assert sp.simplify(sp.Abs(change) - one_minus_b2 * g**2 * sp.Abs(sp.sign(v - g**2))) == 0


def test_adabelief_with_a_constant_gradient_takes_larger_steps_than_adam():
    belief, adam = optlib.adabelief(lr=0.1, eps=1e-16), optlib.adam(lr=0.1, eps=1e-16)
    xs_b = optlib.run(belief, lambda x: np.ones_like(x), np.zeros(1), 30)
    xs_a = optlib.run(adam, lambda x: np.ones_like(x), np.zeros(1), 30)
    assert np.all(np.diff(xs_b[:, 0])[1:] < np.diff(xs_a[:, 0])[1:])


def test_adafactor_factored_estimate_is_exact_for_rank_one_squared_gradients():
    rows, cols = RNG.uniform(0.5, 2.0, 6), RNG.uniform(0.5, 2.0, 4)
    g = np.sqrt(np.outer(rows, cols))   # g^2 = rows cols^T, rank one
    opt = optlib.adafactor(lr=0.01, eps1=1e-30)
    state = opt.init(np.ones((6, 4)))
    for _ in range(5):
        step, state = opt.update(g, state, np.ones((6, 4)))
    estimate = state.row @ state.col / state.row.mean(axis=-2, keepdims=True)
    np.testing.assert_allclose(estimate, g**2, rtol=1e-12)
    assert state.row.size + state.col.size == 6 + 4


def test_adafactor_step_is_clipped_to_rms_d_times_the_scale():
    opt = optlib.adafactor(lr=0.05, d=1.0)
    x0 = RNG.normal(size=(5, 3))
    step, _ = opt.update(RNG.normal(size=(5, 3)), opt.init(x0), x0)
    scale = max(1e-3, np.sqrt(np.mean(x0**2))) * 0.05
    assert np.sqrt(np.mean(step**2)) <= scale * (1 + 1e-12)


def test_newton_schulz_pushes_singular_values_towards_one():
    matrix = RNG.normal(size=(8, 5))
    singular = np.linalg.svd(optlib.newton_schulz(matrix), compute_uv=False)
    assert np.all((0.6 < singular) & (singular < 1.25))
    u, _, vt = np.linalg.svd(matrix, full_matrices=False)
    # the singular vectors are kept: O = U p(S) V^T
    inner = u.T @ optlib.newton_schulz(matrix) @ vt.T
    np.testing.assert_allclose(inner, np.diag(np.diag(inner)), atol=1e-12)


def test_newton_schulz_on_a_symbol_is_the_composed_quintic():
    s = sp.Symbol("sigma")
    a, b, c = optlib.frontier.MUON_COEFFICIENTS
    once = optlib.newton_schulz(s, steps=1)
    assert sp.expand(once - (a * s + b * s**3 + c * s**5)) == 0
    twice = optlib.newton_schulz(s, steps=2)
    assert sp.expand(twice - once.subs(s, once)) == 0


def test_muon_learning_rate_adjustment_by_shape():
    for shape, factor in [((6, 4), np.sqrt(6 / 4)), ((4, 6), 1.0)]:
        opt = optlib.muon(lr=0.1, weight_decay=0.0, nesterov=False, momentum=0.0)
        g = RNG.normal(size=shape)
        step, _ = opt.update(g, opt.init(np.zeros(shape)), np.zeros(shape))
        np.testing.assert_allclose(step, -0.1 * factor * optlib.newton_schulz(g), rtol=1e-13)


def test_schedule_free_eval_point_is_the_average_of_the_base_sequence():
    """With equal weights (p = 0) the evaluation point x is the plain running average of the
    base iterates z_2, ..., z_{t+1} (optax's c_t = w_t / sum of w includes the current weight,
    so the first average is z_2 itself)."""
    opt = optlib.schedule_free_adamw(lr=0.05, beta1=0.7, weight_lr_power=0.0)
    y = RNG.normal(size=3)
    state = opt.init(y)
    bases = []
    for _ in range(6):
        step, state = opt.update(_quadratic_grad(y), state, y)
        y = y + step
        bases.append(state.base)
        np.testing.assert_allclose(optlib.schedule_free_eval_params(opt, state, y),
                                   np.mean(bases, axis=0), rtol=1e-12)


def test_schedule_free_warmup_makes_the_first_step_a_no_op():
    opt = optlib.schedule_free_adamw(lr=0.1, warmup_steps=4)
    x0 = RNG.normal(size=3)
    step, _ = opt.update(_quadratic_grad(x0), opt.init(x0), x0)
    assert np.all(step == 0)
