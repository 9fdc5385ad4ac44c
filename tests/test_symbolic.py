"""The same update code on SymPy symbols: the formulas the chapters derive from optlib."""

from __future__ import annotations

import numpy as np
import pytest
from method_cases import METHODS, make

import optlib

sp = pytest.importorskip("sympy")

NAMES = sorted(METHODS)
eta, mu, rho, b1, b2, eps, lam, psi, s0 = sp.symbols(
    "eta mu rho beta1 beta2 epsilon lambda psi s0", positive=True)
g, g1, g2, x = sp.symbols("g g1 g2 x", positive=True)

SYMBOLS = {"lr": eta, "momentum": mu, "decay": rho, "beta1": b1, "beta2": b2, "eps": eps,
           "weight_decay": lam, "momentum_decay": psi, "initial_accumulator": s0}


def _symbolic(name):
    """The optimizer of METHODS with every numeric hyperparameter replaced by a symbol."""
    constructor, kwargs = METHODS[name]
    changes = {k: SYMBOLS[k] for k, v in kwargs.items() if not isinstance(v, bool)}
    changes["lr"] = eta
    return constructor(**{**kwargs, **changes}), {SYMBOLS[k]: v for k, v in kwargs.items()
                                                    if not isinstance(v, bool)}


def _zero(expr):
    return sp.simplify(expr) == 0


@pytest.mark.parametrize("name", NAMES)
def test_every_update_gives_expressions(name):
    opt, _ = _symbolic(name)
    state = opt.init(x)
    for grad in (g1, g2):
        step, state = opt.update(grad, state, x)
        assert isinstance(step, sp.Basic), type(step)
        assert step.free_symbols & {g1, g2, eta}
        for field, value in state._asdict().items():
            assert isinstance(value, (sp.Basic, int)), (field, type(value))


def test_gd():
    opt = optlib.gd(eta)
    step, _ = opt.update(g, opt.init(x), x)
    assert step == -eta * g


@pytest.mark.parametrize("t", range(1, 6))
def test_momentum_step_on_a_constant_slope(t):
    """The t-th heavy-ball step on a constant gradient: -eta g (1 - mu^t) / (1 - mu)."""
    opt = optlib.momentum(eta, mu)
    state = opt.init(x)
    for _ in range(t):
        step, state = opt.update(g, state, x)
    assert _zero(step + eta * g * (1 - mu**t) / (1 - mu))


@pytest.mark.parametrize("t", range(1, 6))
def test_nesterov_step_on_a_constant_slope(t):
    """PyTorch-form Nesterov runs one step ahead: -eta g (1 - mu^(t+1)) / (1 - mu)."""
    opt = optlib.momentum(eta, mu, nesterov=True)
    state = opt.init(x)
    for _ in range(t):
        step, state = opt.update(g, state, x)
    assert _zero(step + eta * g * (1 - mu ** (t + 1)) / (1 - mu))


def test_adagrad_first_steps():
    opt = optlib.adagrad(eta, eps=eps, initial_accumulator=s0)
    state = opt.init(x)
    assert state.sum_of_squares == s0
    step1, state = opt.update(g1, state, x)
    step2, state = opt.update(g2, state, x)
    assert _zero(step1 + eta * g1 / (sp.sqrt(s0 + g1**2) + eps))
    assert _zero(step2 + eta * g2 / (sp.sqrt(s0 + g1**2 + g2**2) + eps))


@pytest.mark.parametrize("t", range(1, 6))
def test_adagrad_constant_gradient_steps_shrink_like_one_over_root_t(t):
    opt = optlib.adagrad(eta, eps=0)
    state = opt.init(x)
    for _ in range(t):
        step, state = opt.update(g, state, x)
    assert _zero(step + eta / sp.sqrt(t))


def test_rmsprop_eps_placement():
    after = optlib.rmsprop(eta, decay=rho, eps=eps)
    inside = optlib.rmsprop(eta, decay=rho, eps=eps, eps_inside_sqrt=True)
    step_after, state_after = after.update(g1, after.init(x), x)
    step_inside, state_inside = inside.update(g1, inside.init(x), x)
    assert _zero(step_after + eta * g1 / (sp.sqrt((1 - rho) * g1**2) + eps))
    assert _zero(step_inside + eta * g1 / sp.sqrt((1 - rho) * g1**2 + eps))
    assert not _zero(step_after - step_inside)
    step2, _ = inside.update(g2, state_inside, x)
    r2 = rho * (1 - rho) * g1**2 + (1 - rho) * g2**2
    assert _zero(step2 + eta * g2 / sp.sqrt(r2 + eps))


def test_rmsprop_centered_and_momentum():
    opt = optlib.rmsprop(eta, decay=rho, eps=0, centered=True, momentum=mu)
    step1, state = opt.update(g1, opt.init(x), x)
    # r - a^2 = (1 - rho) g^2 - (1 - rho)^2 g^2 = rho (1 - rho) g^2
    d1 = sp.sqrt(rho * (1 - rho) * g1**2)
    assert _zero(step1 + eta * g1 / d1)
    step2, state = opt.update(g2, state, x)
    r2 = rho * (1 - rho) * g1**2 + (1 - rho) * g2**2
    a2 = rho * (1 - rho) * g1 + (1 - rho) * g2
    assert _zero(step2 - (mu * step1 - eta * g2 / sp.sqrt(r2 - a2**2)))


def test_adadelta_first_step():
    opt = optlib.adadelta(eta, decay=rho, eps=eps)
    step, state = opt.update(g, opt.init(x), x)
    assert _zero(step + eta * sp.sqrt(eps) * g / sp.sqrt((1 - rho) * g**2 + eps))
    assert _zero(state.mean_square_delta - (1 - rho) * (step / eta) ** 2)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_first_step_is_minus_lr(amsgrad):
    c = sp.Symbol("c", positive=True)  # beta2 = 1 - c, so that SymPy knows beta2 < 1
    opt = optlib.adam(lr=eta, beta1=b1, beta2=1 - c, eps=0, amsgrad=amsgrad)
    step, _ = opt.update(g, opt.init(x), x)
    assert sp.simplify(step) == -eta


@pytest.mark.parametrize("t", range(1, 5))
def test_adam_bias_correction_on_a_constant_gradient(t):
    """Bias correction makes every step on a constant gradient exactly -eta (eps = 0)."""
    opt = optlib.adam(lr=eta, beta1=b1, beta2=b2, eps=0)
    state = opt.init(x)
    for _ in range(t):
        step, state = opt.update(g, state, x)
    assert _zero(state.first_moment / (1 - b1**t) - g)
    assert _zero(step + eta)


def test_keras_eps_hat_form_is_ours_with_eps_divided_by_the_root():
    """Keras' Adam step from any state equals optlib's with eps = eps_hat / sqrt(1 - beta2^t).

    Keras (3.x, ``keras/src/optimizers/adam.py``) keeps the raw moments and steps
    ``-lr_t m_t / (sqrt(v_t) + eps_hat)`` with ``lr_t = lr sqrt(1 - beta2^t) / (1 - beta1^t)``.
    The step count t is a symbol, the previous moments are symbols: an identity for every step.
    """
    t, m_prev, v_prev, eps_hat = sp.symbols("t m_prev v_prev epsilon_hat", positive=True)
    c1, c2 = sp.symbols("c1 c2", positive=True)  # beta = 1 - c, so SymPy knows beta < 1
    beta1, beta2 = 1 - c1, 1 - c2
    state = optlib.AdamState(t - 1, m_prev, v_prev, sp.S.Zero)
    m = beta1 * m_prev + (1 - beta1) * g
    v = beta2 * v_prev + (1 - beta2) * g**2
    lr_t = eta * sp.sqrt(1 - beta2**t) / (1 - beta1**t)
    keras = -lr_t * m / (sp.sqrt(v) + eps_hat)

    def ours(eps_t):
        return optlib.adam(lr=eta, beta1=beta1, beta2=beta2, eps=eps_t).update(g, state, x)[0]

    assert _zero(ours(eps_hat / sp.sqrt(1 - beta2**t)) - keras)
    # the docstring's former claim, eps_hat * sqrt(1 - beta2^t), has a counterexample
    wrong = ours(eps_hat * sp.sqrt(1 - beta2**t)) - keras
    point = {t: 1, c1: sp.Rational(1, 10), c2: sp.Rational(1, 1000), g: 1, eta: 1,
             m_prev: 0, v_prev: 0, eps_hat: sp.Rational(1, 10)}
    assert abs(float(wrong.subs(point))) > 0.5  # -0.24 (Keras) against -0.997


def test_adamw_first_step():
    opt = optlib.adamw(lr=eta, beta1=b1, beta2=b2, eps=0, weight_decay=lam)
    step, _ = opt.update(g, opt.init(x), x)
    assert _zero(step - (-eta * lam * x - eta))


def test_adamax_first_step_and_infinity_norm():
    opt = optlib.adamax(lr=eta, beta1=b1, beta2=b2, eps=0)
    step, state = opt.update(g, opt.init(x), x)
    assert _zero(step + eta)
    _, state = opt.update(g2, state, x)
    assert state.infinity_norm == sp.Max(b2 * g, g2)


def test_nadam_first_step():
    opt = optlib.nadam(lr=eta, beta1=b1, beta2=b2, eps=0, momentum_decay=psi)
    step, state = opt.update(g, opt.init(x), x)
    # optlib writes 0.5 and 0.96 as floats: nsimplify makes them 1/2 and 24/25
    mu1 = b1 * (1 - sp.Rational(1, 2) * sp.Rational(24, 25) ** psi)
    mu2 = b1 * (1 - sp.Rational(1, 2) * sp.Rational(24, 25) ** (2 * psi))
    assert _zero(sp.nsimplify(state.mu_product) - mu1)
    # g / sqrt(v_hat) = 1 on the first step, so the step is -eta (1 + mu2 (1 - b1)/(1 - mu1 mu2))
    assert _zero(sp.nsimplify(step) + eta * (1 + mu2 * (1 - b1) / (1 - mu1 * mu2)))


@pytest.mark.parametrize("name", NAMES)
def test_numeric_substitution_equals_the_numeric_run(name):
    """Run on symbols (hyperparameters and x0), substitute the numbers: the numeric run."""
    opt, values = _symbolic(name)
    x0 = sp.Symbol("x0")
    grad = lambda z: 2 * z - 1  # noqa: E731  (works on numbers and on symbols)
    symbolic = optlib.run(opt, grad, x0, 3)
    numeric = optlib.run(make(name), grad, 1.3, 3)
    values = {**values, x0: 1.3}
    substituted = [float(sp.N(e.xreplace({k: sp.Float(v) for k, v in values.items()})))
                   for e in symbolic]
    np.testing.assert_allclose(substituted, numeric, rtol=1e-12)
