"""optlib.run and optlib.grid: shapes, first row, states, look-ahead gradients, sweeps."""

from __future__ import annotations

import numpy as np
import pytest
from method_cases import METHODS, make

import optlib

NAMES = sorted(METHODS)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("x0", [1.5, np.array(1.5), np.array([-1.2, 1.0]),
                                np.linspace(-1, 1, 12).reshape(3, 4)],
                         ids=["float", "0d", "1d", "3x4"])
def test_run_shape_and_first_row(name, x0):
    xs = optlib.run(make(name), lambda x: 2 * x - 0.3, x0, 7)
    assert xs.shape == (8, *np.shape(x0))
    assert xs.dtype == np.float64
    np.testing.assert_array_equal(xs[0], x0)
    assert not np.array_equal(xs[-1], xs[0])


@pytest.mark.parametrize("name", NAMES)
def test_run_equals_the_hand_written_loop(name):
    opt, grad = make(name, lr=1e-3), optlib.problems.rosenbrock().grad
    x = np.array([-1.2, 1.0])
    xs, states = optlib.run(opt, grad, x, 12, return_states=True)
    assert np.all(np.isfinite(xs))
    state = opt.init(x)
    assert len(states) == 13
    for t in range(12):
        for a, b in zip(states[t], state, strict=True):
            np.testing.assert_array_equal(a, b)
        step, state = opt.update(grad(x), state, x)
        x = x + step
        np.testing.assert_array_equal(xs[t + 1], x)


def test_steps_zero():
    xs = optlib.run(optlib.adam(), lambda x: x, np.array([1.0, 2.0]), 0)
    assert xs.shape == (1, 2)
    np.testing.assert_array_equal(xs[0], [1.0, 2.0])
    xs, states = optlib.run(optlib.momentum(0.1), lambda x: x, 3.0, 0, return_states=True)
    assert xs.tolist() == [3.0] and len(states) == 1 and states[0].velocity == 0.0


def test_integer_start_and_numpy_integer_steps():
    xs = optlib.run(optlib.gd(0.5), lambda x: x, [4, 2], np.int64(2))
    assert xs.dtype == np.float64
    assert xs.tolist() == [[4.0, 2.0], [2.0, 1.0], [1.0, 0.5]]


def test_run_does_not_mutate_x0():
    x0 = np.array([-1.2, 1.0])
    optlib.run(optlib.adam(0.1), optlib.problems.rosenbrock().grad, x0, 5)
    np.testing.assert_array_equal(x0, [-1.2, 1.0])


def test_float32_run():
    x0 = np.array([-5.0, -2.0], dtype=np.float32)
    xs = optlib.run(optlib.momentum(0.1, 0.5), optlib.problems.ravine().grad, x0, 20)
    assert xs.dtype == np.float32
    ref = optlib.run(optlib.momentum(0.1, 0.5), optlib.problems.ravine().grad,
                     x0.astype(float), 20)
    np.testing.assert_allclose(xs, ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    ("problem", "x0", "lr", "mu"),
    [
        (optlib.problems.ravine(), [-5.0, -2.0], 0.1, 0.8),
        (optlib.problems.rosenbrock(), [-1.2, 1.0], 5e-4, 0.9),
        (optlib.problems.quadratic(np.diag([1.0, 3.0, 0.5]), b=[1.0, 0.0, -1.0]),
         [2.0, -1.0, 0.5], 0.2, 0.6),
    ],
    ids=["ravine", "rosenbrock", "quadratic"],
)
def test_sutskever_look_ahead_is_pytorch_nesterov(problem, x0, lr, mu):
    """Sutskever's form (gradient at x + mu v, via grad_at) and the PyTorch form of Nesterov
    (momentum(nesterov=True)) have the same iterates after the change of variables
    x~ = x + mu v."""
    x0 = np.array(x0)
    xs, states = optlib.run(optlib.momentum(lr, mu), problem.grad, x0, 150,
                            grad_at=lambda x, s: x + mu * s.velocity, return_states=True)
    look_ahead = xs + mu * np.array([s.velocity for s in states])
    nesterov = optlib.run(optlib.momentum(lr, mu, nesterov=True), problem.grad, x0, 150)
    np.testing.assert_allclose(look_ahead, nesterov, rtol=1e-12, atol=1e-12)
    # and the look-ahead is not the plain heavy ball
    heavy = optlib.run(optlib.momentum(lr, mu), problem.grad, x0, 150)
    assert np.abs(heavy - nesterov).max() > 1e-3


def test_sutskever_equivalence_on_a_sweep():
    problem = optlib.problems.ravine()
    lr, mu = optlib.grid(np.geomspace(0.01, 0.3, 6), np.linspace(0.0, 0.9, 5))
    x0 = np.array([-5.0, -2.0])
    xs, states = optlib.run(optlib.momentum(lr, mu), problem.grad, x0, 60,
                            grad_at=lambda x, s: x + mu * s.velocity, return_states=True)
    look_ahead = xs + mu * np.array([np.broadcast_to(s.velocity, xs.shape[1:]) for s in states])
    nesterov = optlib.run(optlib.momentum(lr, mu, nesterov=True), problem.grad, x0, 60)
    assert nesterov.shape == (61, 6, 5, 2)
    np.testing.assert_allclose(look_ahead, nesterov, rtol=1e-12, atol=1e-12)


def test_grad_at_receives_the_current_state():
    seen = []
    opt = optlib.adam(0.1)

    def grad_at(x, state):
        seen.append(state.count)
        return x

    optlib.run(opt, lambda x: x, 1.0, 4, grad_at=grad_at)
    assert seen == [0, 1, 2, 3]


def test_sweep_run_shapes():
    lrs, mus = np.geomspace(1e-3, 0.1, 20), np.linspace(0.0, 0.9, 15)
    lr, mu = optlib.grid(lrs, mus)
    assert lr.shape == (20, 1, 1) and mu.shape == (1, 15, 1)
    xs = optlib.run(optlib.momentum(lr, mu), optlib.problems.ravine().grad,
                    np.array([-5.0, -2.0]), 30)
    assert xs.shape == (31, 20, 15, 2)
    np.testing.assert_array_equal(xs[0], np.broadcast_to([-5.0, -2.0], (20, 15, 2)))
    one = optlib.run(optlib.momentum(lrs[4], mus[11]), optlib.problems.ravine().grad,
                     np.array([-5.0, -2.0]), 30)
    np.testing.assert_array_equal(xs[:, 4, 11], one)


def test_grid():
    a, b = optlib.grid(np.arange(3.0), [0.5, 0.25, 0.125, 0.0625])
    assert a.shape == (3, 1, 1) and b.shape == (1, 4, 1)
    assert a.dtype == b.dtype == np.float64
    np.testing.assert_array_equal(a.ravel(), [0.0, 1.0, 2.0])
    (c,) = optlib.grid([1, 2], event_ndim=0)
    assert c.shape == (2,)
    a, b, c = optlib.grid([1.0], [1.0, 2.0], [1.0, 2.0, 3.0], event_ndim=2)
    assert (a.shape, b.shape, c.shape) == ((1, 1, 1, 1, 1), (1, 2, 1, 1, 1), (1, 1, 3, 1, 1))
    with pytest.raises(ValueError, match="axis 1 must be 1-D"):
        optlib.grid([1.0], [[1.0]])
    (d,) = optlib.grid([1.0, 2.0], event_ndim=np.int64(1))  # a NumPy integer is an integer
    assert d.shape == (2, 1)
    for bad in (-1, 1.0, True):
        with pytest.raises(ValueError, match="event_ndim must be an integer with 0 <= event_ndim"):
            optlib.grid([1.0], event_ndim=bad)


def test_symbolic_run_returns_expressions():
    sp = pytest.importorskip("sympy")
    eta, x0 = sp.symbols("eta x0")
    xs = optlib.run(optlib.gd(eta), lambda x: 2 * x, x0, 3)
    assert isinstance(xs, list) and len(xs) == 4 and xs[0] == x0
    assert sp.expand(xs[3] - x0 * (1 - 2 * eta) ** 3) == 0
    xs, states = optlib.run(optlib.momentum(eta, 0.5), lambda x: 1, x0, 2, return_states=True)
    assert len(states) == 3 and sp.simplify(states[2].velocity + 1.5 * eta) == 0


def test_symbolic_hyperparameters_with_a_numeric_start():
    sp = pytest.importorskip("sympy")
    eta, mu = sp.symbols("eta mu")
    xs = optlib.run(optlib.momentum(eta, mu), lambda x: 1, 0.0, 3)
    assert isinstance(xs, list) and len(xs) == 4 and xs[0] == 0
    assert sp.simplify(xs[3] - (-eta * (3 + 2 * mu + mu**2))) == 0


# --------------------------------------------------------------------------------------------
# Gradients that are missing or would widen the iterates
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_gradient_wider_than_x_is_refused(name):
    """grad (2, 2) at x (2,) would silently give iterates of shape (steps + 1, 2, 2)."""
    pattern = (r"^grad_fn returned a gradient of shape \(2, 2\) at step 1 for x of shape \(2,\): "
               r"expected the shape of x.*would widen the iterates to \(2, 2\)")
    with pytest.raises(ValueError, match=pattern):
        optlib.run(make(name), lambda x: np.ones((2, 2)), np.zeros(2), 5)


def test_gradient_that_widens_later_is_refused_at_that_step():
    def grad(x):
        return 2 * x if np.all(x == 1.0) else np.ones((3, *np.shape(x)))

    with pytest.raises(ValueError, match=r"at step 2 for x of shape \(2,\)"):
        optlib.run(optlib.gd(0.1), grad, np.ones(2), 5)


def test_gradient_wider_than_the_sweep_is_refused():
    lr, = optlib.grid([0.1, 0.2])                       # shape (2, 1): iterates (2, 2)
    with pytest.raises(ValueError, match=r"that of the sweep's iterates, \(2, 2\).*widen the "
                                         r"iterates to \(3, 2, 2\)"):
        optlib.run(optlib.gd(lr), lambda x: np.ones((3, 2, 2)), np.zeros(2), 5)
    with pytest.raises(ValueError, match=r"shape \(3, 2\) at step 1 for x of shape \(2,\): "
                                         r"expected the shape of x or that of the sweep's"):
        optlib.run(optlib.gd(lr), lambda x: np.ones((3, 2)), np.zeros(2), 5)


def test_gradient_that_does_not_broadcast_is_refused_by_run():
    with pytest.raises(ValueError, match=r"^grad_fn returned a gradient of shape \(3,\) at step 1 "
                                         r"for x of shape \(2,\): expected the shape of x"):
        optlib.run(optlib.adam(0.1), lambda x: np.ones(3), np.zeros(2), 5)


@pytest.mark.parametrize("x0", [0.0, np.zeros(2)])
def test_gradient_none_is_refused(x0):
    def forgot_to_return(x):
        2 * x

    with pytest.raises(ValueError, match=r"^grad_fn returned None at step 1"):
        optlib.run(optlib.momentum(0.1), forgot_to_return, x0, 3)


def test_readme_sweep_still_runs():
    """README's sweep: hyperparameter arrays broadcast a grid against x0 of shape (2,)."""
    lr, beta1 = optlib.grid(np.logspace(-3, 0, 5), np.linspace(0.5, 0.99, 4))
    xs = optlib.run(optlib.adam(lr=lr, beta1=beta1), optlib.problems.rosenbrock().grad,
                    np.array([-1.0, 1.0]), steps=10)
    assert xs.shape == (11, 5, 4, 2)
    row = optlib.run(optlib.adam(lr=float(lr[2, 0, 0]), beta1=float(beta1[0, 3, 0])),
                     optlib.problems.rosenbrock().grad, np.array([-1.0, 1.0]), steps=10)
    np.testing.assert_array_equal(xs[:, 2, 3], row)


def test_batches_declared_by_the_hyperparameters_x0_or_a_scalar_start_are_accepted():
    # a batch of problems along an axis the learning rates already have (gradient descent
    # chapter: one curvature pair and one lr per row)
    curv = np.array([[1.0, 2.0], [1.0, 20.0], [1.0, 200.0]])
    lr = 2 / curv.sum(axis=1)
    xs = optlib.run(optlib.gd(lr=lr[:, None]), lambda x: curv * x, np.ones(2), 4)
    assert xs.shape == (5, 3, 2)
    # a batch of problems declared by x0's own batch axis
    a = np.array([0.1, 1.0, 10.0])[:, None]
    xs = optlib.run(optlib.adam(0.1), lambda x: a * (x - 3.0), np.zeros((3, 1)), 4)
    assert xs.shape == (5, 3, 1)
    with pytest.raises(ValueError, match=r"np.broadcast_to\(x0, \(3, 1\)\)"):
        optlib.run(optlib.adam(0.1), lambda x: a * (x - 3.0), np.zeros(1), 4)
    # a scalar start: one-dimensional problems act element-wise (a family of curvatures)
    h = np.linspace(0.5, 2.0, 7)
    xs = optlib.run(optlib.momentum(0.1, 0.9), lambda x: h * x, 1.0, 4)
    assert xs.shape == (5, 7)
    np.testing.assert_array_equal(xs[:, 3], optlib.run(optlib.momentum(0.1, 0.9),
                                                       lambda x: h[3] * x, 1.0, 4))


def test_grad_at_may_widen_the_point():
    """A look-ahead point widened by an array that is not a hyperparameter is not refused."""
    shifts = np.array([[0.0, 0.0], [0.5, -0.5], [1.0, 1.0]])
    grad = optlib.problems.ravine().grad
    xs = optlib.run(optlib.momentum(0.1, 0.5), grad, np.ones(2), 3,
                    grad_at=lambda x, s: x + shifts)
    assert xs.shape == (4, 3, 2)
