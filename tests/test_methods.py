"""Behaviour of every method: shapes and dtypes, purity, sweeps, validation of bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest
from method_cases import METHODS, make

import optlib

NAMES = sorted(METHODS)


def _grad(x):
    """A gradient that is not constant, changes sign and works on any shape."""
    return 2.0 * x - 0.5 + 0.3 * np.cos(3.0 * x)


def _updates(opt, x0, steps=6):
    """Run ``steps`` updates by hand; return the steps, states and iterates."""
    x, state = x0, opt.init(x0)
    steps_, states, xs = [], [state], [x0]
    for _ in range(steps):
        step, state = opt.update(_grad(x), state, x)
        x = x + step
        steps_.append(step)
        states.append(state)
        xs.append(x)
    return steps_, states, xs


def _numeric_fields(state):
    """The array-valued fields of a state (skipping step counters and NAdam's scalar product)."""
    return {k: v for k, v in state._asdict().items() if k not in ("count", "mu_product")}


# --------------------------------------------------------------------------------------------
# Floats, 0-d, 1-d and 2-d arrays; float32 kept; float64 kept
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", [(), (3,), (3, 4)], ids=["0d", "1d", "3x4"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shape_and_dtype_are_kept(name, shape, dtype):
    opt = make(name)
    x0 = np.linspace(-1.0, 2.0, math.prod(shape)).reshape(shape).astype(dtype)
    steps, states, xs = _updates(opt, x0)
    for step, state, x in zip(steps, states[1:], xs[1:], strict=True):
        assert np.shape(step) == shape
        assert np.asarray(step).dtype == dtype, (name, np.asarray(step).dtype)
        assert np.asarray(x).dtype == dtype
        for field, value in _numeric_fields(state).items():
            assert np.shape(value) == shape, field
            assert np.asarray(value).dtype == dtype, (name, field, np.asarray(value).dtype)
        assert np.all(np.isfinite(step))
    assert np.abs(np.asarray(xs[-1]) - x0).max() > 0


@pytest.mark.parametrize("name", NAMES)
def test_python_floats(name):
    opt = make(name)
    steps, states, xs = _updates(opt, 1.5)
    assert all(np.ndim(s) == 0 for s in steps)
    assert isinstance(float(xs[-1]), float) and xs[-1] != 1.5
    # a float and a 0-d array give the same numbers
    _, _, xs0d = _updates(opt, np.array(1.5))
    np.testing.assert_array_equal(np.array(xs, dtype=float), np.array(xs0d, dtype=float))


@pytest.mark.parametrize("name", NAMES)
def test_float32_and_float64_agree_to_float32_precision(name):
    opt = make(name)
    x64 = np.linspace(-1.0, 2.0, 12).reshape(3, 4)
    _, _, xs64 = _updates(opt, x64, steps=10)
    _, _, xs32 = _updates(opt, x64.astype(np.float32), steps=10)
    np.testing.assert_allclose(xs32[-1], xs64[-1], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_integer_start_gives_float_state(name):
    opt = make(name)
    for field, value in _numeric_fields(opt.init(np.arange(3))).items():
        assert np.asarray(value).dtype == np.float64, field
    if name == "adagrad":
        np.testing.assert_array_equal(opt.init(np.arange(3)).sum_of_squares, 0.1)


@pytest.mark.parametrize("name", NAMES)
def test_each_dimension_is_independent(name):
    """The updates act element-wise (AdamW's decay too): a 3x4 run equals 12 scalar runs."""
    opt = make(name)
    x0 = np.linspace(-1.0, 2.0, 12).reshape(3, 4)
    _, _, xs = _updates(opt, x0)
    for index in np.ndindex(3, 4):
        _, _, xs1 = _updates(opt, float(x0[index]))
        np.testing.assert_array_equal([x[index] for x in xs], np.array(xs1, dtype=float))


# --------------------------------------------------------------------------------------------
# Purity
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_update_is_pure(name):
    opt = make(name)
    x = np.array([[0.5, -1.0], [2.0, 0.25]])
    state = opt.init(x)
    for _ in range(3):  # a state that is not the initial one
        step, state = opt.update(_grad(x), state, x)
        x = x + step
    grad = _grad(x)
    copies = {k: np.copy(v) for k, v in state._asdict().items()}
    grad_copy, x_copy = grad.copy(), x.copy()
    step1, state1 = opt.update(grad, state, x)
    step2, state2 = opt.update(grad, state, x)
    np.testing.assert_array_equal(step1, step2)
    for a, b in zip(state1, state2, strict=True):
        np.testing.assert_array_equal(a, b)
    for k, v in state._asdict().items():  # the old state, grad and x are untouched
        np.testing.assert_array_equal(v, copies[k], err_msg=k)
    np.testing.assert_array_equal(grad, grad_copy)
    np.testing.assert_array_equal(x, x_copy)
    for k, v in state1._asdict().items():  # the new state does not alias the inputs
        if isinstance(v, np.ndarray):
            assert not np.shares_memory(v, grad) and not np.shares_memory(v, x), k


@pytest.mark.parametrize("name", NAMES)
def test_init_state_values(name):
    opt = make(name)
    state = opt.init(np.ones(3))
    assert type(state).__name__.endswith("State")
    fields = _numeric_fields(state)
    expected = 0.1 if name == "adagrad" else 0.0  # adagrad's initial_accumulator
    for value in fields.values():
        np.testing.assert_array_equal(value, expected)
    if "count" in state._fields:
        assert state.count == 0
    assert opt.name and isinstance(opt.hyperparams, dict) and opt.hyperparams["lr"] > 0


def test_optimizer_names():
    assert make("gd").name == "GD"
    assert make("nesterov").name == "Nesterov"
    assert make("rmsprop").name == "RMSProp"
    assert make("rmsprop_momentum").name == "RMSProp with momentum"
    assert make("rmsprop_nesterov").name == "RMSProp with Nesterov momentum"
    assert make("amsgrad").name == "AMSGrad"
    assert {make(n).name for n in ("adam", "adamw", "adamax", "nadam")} == {
        "Adam", "AdamW", "Adamax", "NAdam"}


# --------------------------------------------------------------------------------------------
# Sweeps: hyperparameter arrays that broadcast; one run equals the one-at-a-time runs
# --------------------------------------------------------------------------------------------

LRS = np.geomspace(1e-3, 0.3, 20)
SWEEP_AXIS = {  # the second hyperparameter swept with lr (15 values)
    "gd": None,
    "momentum": ("momentum", np.linspace(0.0, 0.95, 15)),
    "nesterov": ("momentum", np.linspace(0.0, 0.95, 15)),
    "adagrad": ("initial_accumulator", np.linspace(0.0, 1.0, 15)),
    "rmsprop": ("decay", np.linspace(0.0, 0.99, 15)),
    "rmsprop_momentum": ("momentum", np.linspace(0.0, 0.95, 15)),
    "rmsprop_nesterov": ("momentum", np.linspace(0.05, 0.95, 15)),
    "rmsprop_centered": ("decay", np.linspace(0.5, 0.99, 15)),
    "rmsprop_eps_inside_sqrt": ("eps", np.geomspace(1e-8, 1e-1, 15)),
    "adadelta": ("decay", np.linspace(0.0, 0.99, 15)),
    "adam": ("beta1", np.linspace(0.0, 0.99, 15)),
    "amsgrad": ("beta2", np.linspace(0.5, 0.999, 15)),
    "adamw": ("weight_decay", np.linspace(0.0, 0.5, 15)),
    "adamax": ("beta2", np.linspace(0.5, 0.999, 15)),
    "nadam": ("beta1", np.linspace(0.0, 0.99, 15)),
}


@pytest.mark.parametrize("name", NAMES)
def test_sweep_equals_one_at_a_time(name):
    """20 lr x 15 values of a second hyperparameter in one run: every row equals its own run,
    bit for bit (the same element-wise operations; powers such as ``beta1**t`` go through
    NumPy's array loop for Python floats too, see ``optlib._backend.power``)."""
    problem = optlib.problems.ravine()
    x0 = np.array([-3.0, 1.5])
    steps = 25
    axis = SWEEP_AXIS[name]
    if axis is None:
        (lr,) = optlib.grid(LRS)
        xs = optlib.run(make(name, lr=lr), problem.grad, x0, steps)
        assert xs.shape == (steps + 1, 20, 2)
        for i, a in enumerate(LRS):
            one = optlib.run(make(name, lr=a), problem.grad, x0, steps)
            np.testing.assert_array_equal(xs[:, i], one)
        return
    key, values = axis
    lr, second = optlib.grid(LRS, values)
    xs = optlib.run(make(name, lr=lr, **{key: second}), problem.grad, x0, steps)
    assert xs.shape == (steps + 1, 20, 15, 2)
    assert np.all(np.isfinite(xs))
    np.testing.assert_array_equal(xs[0], np.broadcast_to(x0, (20, 15, 2)))
    for i, a in enumerate(LRS):
        for j, b in enumerate(values):
            one = optlib.run(make(name, lr=a, **{key: b}), problem.grad, x0, steps)
            np.testing.assert_array_equal(xs[:, i, j], one, err_msg=f"{name} lr={a} {key}={b}")


def test_adam_sweep_on_rosenbrock_matches_rows():
    problem = optlib.problems.rosenbrock()
    lrs, beta1s = np.geomspace(1e-3, 0.1, 20), np.linspace(0.0, 0.95, 15)
    lr, beta1 = optlib.grid(lrs, beta1s)
    x0 = np.array([-1.2, 1.0])
    xs = optlib.run(optlib.adam(lr=lr, beta1=beta1), problem.grad, x0, 60)
    assert xs.shape == (61, 20, 15, 2)
    for i, j in [(0, 0), (19, 14), (7, 3), (12, 9), (19, 0), (0, 14)]:
        one = optlib.run(optlib.adam(lr=lrs[i], beta1=beta1s[j]), problem.grad, x0, 60)
        np.testing.assert_array_equal(xs[:, i, j], one)


def test_sweep_over_three_hyperparameters_and_array_parameters():
    """A 4 x 3 x 2 grid of (lr, beta1, beta2) over 3x4 parameters: event_ndim=2."""
    lrs, b1s, b2s = [0.01, 0.03, 0.1, 0.3], [0.0, 0.5, 0.9], [0.9, 0.999]
    lr, b1, b2 = optlib.grid(lrs, b1s, b2s, event_ndim=2)
    assert lr.shape == (4, 1, 1, 1, 1) and b2.shape == (1, 1, 2, 1, 1)
    x0 = np.linspace(-1.0, 2.0, 12).reshape(3, 4)
    xs = optlib.run(optlib.adam(lr=lr, beta1=b1, beta2=b2), _grad, x0, 10)
    assert xs.shape == (11, 4, 3, 2, 3, 4)
    one = optlib.run(optlib.adam(lr=lrs[2], beta1=b1s[1], beta2=b2s[0]), _grad, x0, 10)
    np.testing.assert_array_equal(xs[:, 2, 1, 0], one)


def test_float32_parameters_with_scalar_hyperparameters_stay_float32_in_run():
    x0 = np.array([-1.2, 1.0], dtype=np.float32)
    for name in NAMES:
        xs = optlib.run(make(name, lr=1e-3), optlib.problems.rosenbrock().grad, x0, 5)
        assert xs.dtype == np.float32, name


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------

CONSTRUCTORS = {
    "gd": optlib.gd, "momentum": optlib.momentum, "adagrad": optlib.adagrad,
    "rmsprop": optlib.rmsprop, "adadelta": optlib.adadelta, "adam": optlib.adam,
    "adamw": optlib.adamw, "adamax": optlib.adamax, "nadam": optlib.nadam,
}
DECAYS = [  # (constructor, parameter in [0, 1))
    ("momentum", "momentum"), ("rmsprop", "decay"), ("rmsprop", "momentum"),
    ("adadelta", "decay"), ("adam", "beta1"), ("adam", "beta2"), ("adamw", "beta1"),
    ("adamw", "beta2"), ("adamax", "beta1"), ("adamax", "beta2"), ("nadam", "beta1"),
    ("nadam", "beta2"),
]
NONNEGATIVE = [  # (constructor, parameter in [0, inf))
    ("adagrad", "eps"), ("adagrad", "initial_accumulator"), ("rmsprop", "eps"),
    ("adadelta", "eps"), ("adam", "eps"), ("adamw", "eps"), ("adamw", "weight_decay"),
    ("adamax", "eps"), ("nadam", "eps"), ("nadam", "momentum_decay"),
]


def _build(constructor, **kwargs):
    return CONSTRUCTORS[constructor](**{"lr": 0.1, **kwargs})


@pytest.mark.parametrize("constructor", sorted(CONSTRUCTORS))
@pytest.mark.parametrize("bad", [0.0, -0.1, math.nan, math.inf, -math.inf,
                                 np.array([0.1, -0.2, 0.3]), np.array([[0.1], [np.nan]])])
def test_bad_lr(constructor, bad):
    with pytest.raises(ValueError, match=r"lr must satisfy 0\.0 < lr, finite, got"):
        _build(constructor, lr=bad)


@pytest.mark.parametrize(("constructor", "param"), DECAYS)
@pytest.mark.parametrize("bad", [1.0, 1.5, -0.1, math.nan, math.inf, np.array([0.5, 1.0])])
def test_bad_decay(constructor, param, bad):
    pattern = rf"{param} must satisfy 0\.0 <= {param} < 1\.0, got"
    with pytest.raises(ValueError, match=pattern):
        _build(constructor, **{param: bad})


@pytest.mark.parametrize(("constructor", "param"), DECAYS)
def test_decay_boundaries_allowed(constructor, param):
    _build(constructor, **{param: 0.0})
    _build(constructor, **{param: np.nextafter(1.0, 0.0)})


@pytest.mark.parametrize(("constructor", "param"), NONNEGATIVE)
@pytest.mark.parametrize("bad", [-1e-8, math.inf, math.nan, np.array([1e-8, -1.0])])
def test_bad_nonnegative(constructor, param, bad):
    pattern = rf"{param} must satisfy 0\.0 <= {param}, finite, got"
    with pytest.raises(ValueError, match=pattern):
        _build(constructor, **{param: bad})


@pytest.mark.parametrize(("constructor", "param"), NONNEGATIVE)
def test_zero_is_allowed_for_nonnegative(constructor, param):
    assert _build(constructor, **{param: 0.0}).hyperparams[param] == 0.0


def test_message_names_the_bad_element_of_an_array():
    with pytest.raises(ValueError, match=r"beta1 must satisfy 0\.0 <= beta1 < 1\.0, got 1\.2"):
        optlib.adam(beta1=np.array([[0.5, 0.9], [1.2, 0.0]]))


@pytest.mark.parametrize("bad", [True, False, "0.1", b"0.1", None, 1j, np.array([True]),
                                 np.bool_(True), ["0.1"], object()])
@pytest.mark.parametrize("param", ["lr", "beta1", "eps"])
def test_non_numeric_hyperparameters(param, bad):
    with pytest.raises(ValueError, match=rf"{param} must"):
        optlib.adam(**{"lr": 0.1, param: bad})


@pytest.mark.parametrize("flag", ["nesterov", "centered", "eps_inside_sqrt"])
@pytest.mark.parametrize("bad", [1, 0, "yes", None, 0.5])
def test_bad_flags(flag, bad):
    with pytest.raises(ValueError, match=rf"{flag} must be True or False"):
        optlib.rmsprop(lr=0.1, momentum=0.5, **{flag: bad})


def test_flags_accept_numpy_bools():
    assert optlib.adam(amsgrad=np.True_).hyperparams["amsgrad"] is True
    with pytest.raises(ValueError, match=r"amsgrad must be True or False"):
        optlib.adam(amsgrad=1)
    with pytest.raises(ValueError, match=r"nesterov must be True or False"):
        optlib.momentum(0.1, nesterov="False")


@pytest.mark.parametrize("momentum", [0.0, np.array([0.5, 0.0])])
def test_rmsprop_nesterov_needs_momentum(momentum):
    with pytest.raises(ValueError, match=r"nesterov=True needs momentum > 0"):
        optlib.rmsprop(lr=0.1, momentum=momentum, nesterov=True)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("grad_shape", "x_shape"), [((3,), (2,)), ((2, 3), (3, 2)),
                                                     ((4,), (3, 4, 2))])
def test_grad_shape_must_broadcast_with_x(name, grad_shape, x_shape):
    opt = make(name)
    x = np.ones(x_shape)
    pattern = rf"grad has shape \({grad_shape[0]},.*does not broadcast with x of shape"
    with pytest.raises(ValueError, match=pattern):
        opt.update(np.ones(grad_shape), opt.init(x), x)


@pytest.mark.parametrize("name", NAMES)
def test_grad_that_broadcasts_is_accepted(name):
    """A batch of gradients against one point (the first step of a sweep) broadcasts."""
    opt = make(name)
    x = np.ones(2)
    step, _ = opt.update(np.ones((5, 2)), opt.init(x), x)
    assert np.shape(step) == (5, 2)


def test_adamw_needs_x():
    opt = optlib.adamw()
    with pytest.raises(ValueError, match="adamw's update needs the parameters"):
        opt.update(1.0, opt.init(0.0))


@pytest.mark.parametrize("bad", [-1, -10, 2.0, 1.5, True, "3", None])
def test_bad_steps(bad):
    with pytest.raises(ValueError, match=r"steps must be an integer with 0 <= steps"):
        optlib.run(optlib.gd(0.1), _grad, 1.0, bad)


def test_symbolic_hyperparameters_skip_the_numeric_checks():
    sp = pytest.importorskip("sympy")
    eta, b1, b2, eps, lam, mu, rho = sp.symbols("eta beta1 beta2 epsilon lambda mu rho")
    optlib.adam(lr=eta, beta1=b1, beta2=b2, eps=eps, amsgrad=True)
    optlib.adamw(lr=eta, beta1=b1, beta2=b2, eps=eps, weight_decay=lam)
    optlib.rmsprop(lr=eta, decay=rho, momentum=mu, nesterov=True)  # momentum not known > 0
    optlib.nadam(lr=eta, momentum_decay=sp.Symbol("psi"))
    optlib.adagrad(lr=eta, initial_accumulator=sp.Symbol("s0"))
    optlib.momentum(lr=-eta, momentum=sp.Integer(2))  # symbols are taken as given


# --------------------------------------------------------------------------------------------
# Keras' "epsilon-hat" form of Adam is ours with eps_t = eps_hat / sqrt(1 - beta2^t)
# --------------------------------------------------------------------------------------------


def _keras_adam(grad_fn, x0, steps, lr, beta1, beta2, eps_hat):
    """Keras 3's Adam written out: raw moments, ``lr_t = lr sqrt(1 - b2^t) / (1 - b1^t)``."""
    x, m, v = np.array(x0, dtype=float), np.zeros_like(x0), np.zeros_like(x0)
    xs = [x]
    for t in range(1, steps + 1):
        g = grad_fn(x)
        m = m + (g - m) * (1 - beta1)
        v = v + (g * g - v) * (1 - beta2)
        lr_t = lr * math.sqrt(1 - beta2**t) / (1 - beta1**t)
        x = x - lr_t * m / (np.sqrt(v) + eps_hat)
        xs.append(x)
    return np.array(xs)


def _adam_with_eps_per_step(grad_fn, x0, steps, lr, beta1, beta2, eps_of_t):
    """optlib.adam, its eps replaced at step t by ``eps_of_t(t)`` (the state is eps-free)."""
    x = np.array(x0, dtype=float)
    state = optlib.adam(lr, beta1, beta2).init(x)
    xs = [x]
    for t in range(1, steps + 1):
        step, state = optlib.adam(lr, beta1, beta2, eps=eps_of_t(t)).update(grad_fn(x), state, x)
        x = x + step
        xs.append(x)
    return np.array(xs)


def test_keras_eps_hat_form_is_ours_with_eps_divided_by_the_root():
    """The Adam docstring's mapping, checked on whole trajectories of the ravine.

    ``eps_hat`` is large (0.5) so that where eps sits changes the iterates visibly: the
    mapping ``eps_hat * sqrt(1 - beta2^t)`` (the docstring's former claim) must fail.
    """
    grad = optlib.problems.ravine().grad
    x0, lr, beta1, beta2, eps_hat = np.array([-5.0, 2.0]), 0.1, 0.9, 0.999, 0.5
    keras = _keras_adam(grad, x0, 200, lr, beta1, beta2, eps_hat)

    def ours(eps_of_t):
        return _adam_with_eps_per_step(grad, x0, 200, lr, beta1, beta2, eps_of_t)

    right = ours(lambda t: eps_hat / math.sqrt(1 - beta2**t))
    wrong = ours(lambda t: eps_hat * math.sqrt(1 - beta2**t))
    scale = np.max(np.abs(keras))
    assert np.max(np.abs(right - keras)) <= 1e-12 * scale
    assert np.max(np.abs(wrong - keras)) > 1e-2 * scale


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("x", [None, 0.5, np.ones(2)])
def test_update_refuses_a_missing_gradient(name, x):
    if name == "adamw" and x is None:
        pytest.skip("adamw's update first asks for x (test_adamw_needs_x)")
    opt = make(name)
    state = opt.init(0.5 if x is None else x)
    with pytest.raises(ValueError, match=r"^grad is None: update\(grad, state, x\) needs"):
        opt.update(None, state, x)
