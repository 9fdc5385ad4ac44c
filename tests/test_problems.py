"""The test problems: gradients against finite differences, batches, dtypes, noise."""

from __future__ import annotations

import re

import numpy as np
import pytest

from optlib import problems


def _central_difference(f, x, h=1e-6):
    x = np.asarray(x, dtype=float)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (f(x + e) - f(x - e)) / (2 * h)
    return g


def _random_spd(rng, n):
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return q @ np.diag(rng.uniform(0.5, 5.0, n)) @ q.T


rng0 = np.random.default_rng(0)
SPD = _random_spd(rng0, 3)
CASES = {
    "ravine": (problems.ravine(), 2),
    "quadratic": (problems.quadratic(SPD, b=[1.0, -2.0, 0.5]), 3),
    "rosenbrock": (problems.rosenbrock(), 2),
    "rosenbrock_a2_b10": (problems.rosenbrock(a=2.0, b=10.0), 2),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradient_matches_central_differences(name):
    problem, dim = CASES[name]
    rng = np.random.default_rng(1)
    for _ in range(10):
        x = rng.uniform(-2.0, 2.0, dim)
        np.testing.assert_allclose(
            problem.grad(x), _central_difference(problem.f, x), rtol=1e-6, atol=1e-6
        )


@pytest.mark.parametrize("x", [2.0, 0.3, 1e-3, -1e-3, -0.7, -5.0])
def test_seed_slope_gradient_away_from_the_kink(x):
    p = problems.seed_slope()
    h = min(1e-6, abs(x) / 10)
    assert float(p.grad(x)) == pytest.approx((p.f(x + h) - p.f(x - h)) / (2 * h), rel=1e-9)
    assert float(p.grad(x)) == (1.0 if x > 0 else -0.1)


def test_seed_slope_values_and_kink():
    p = problems.seed_slope()
    assert float(p.f(2.0)) == 2.0 and float(p.f(-3.0)) == pytest.approx(0.3)
    assert float(p.grad(0.0)) == -0.1  # the kink takes the left slope, as the seed's f_grad
    q = problems.seed_slope(right=2.0, left=-0.5)
    assert float(q.grad(1.0)) == 2.0 and float(q.grad(-1.0)) == -0.5
    np.testing.assert_array_equal(p.grad(np.array([[1.0, -1.0], [0.5, 0.0]])),
                                  [[1.0, -0.1], [1.0, -0.1]])
    with pytest.raises(ValueError, match="right must satisfy 0 < right"):
        problems.seed_slope(right=0.0)
    with pytest.raises(ValueError, match="left must satisfy left < 0"):
        problems.seed_slope(left=0.1)


@pytest.mark.parametrize("name", sorted(CASES))
def test_batched_evaluation(name):
    """A batch of points (coordinates along the last axis) is evaluated in one call."""
    problem, dim = CASES[name]
    xs = np.random.default_rng(2).uniform(-2.0, 2.0, (5, 4, dim))
    g, f = problem.grad(xs), problem.f(xs)
    assert g.shape == xs.shape and f.shape == (5, 4)
    for i in np.ndindex(5, 4):
        np.testing.assert_allclose(g[i], problem.grad(xs[i]), rtol=1e-13, atol=1e-13)
        np.testing.assert_allclose(f[i], problem.f(xs[i]), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("name", sorted(CASES))
def test_minimizer(name):
    problem, dim = CASES[name]
    np.testing.assert_allclose(problem.grad(problem.minimizer), np.zeros(dim), atol=1e-12)
    x = problem.minimizer + np.random.default_rng(3).normal(size=dim) * 0.1
    assert problem.f(x) > problem.f(problem.minimizer)


@pytest.mark.parametrize("name", sorted(CASES) + ["seed_slope"])
def test_float32_points_give_float32(name):
    problem, dim = CASES[name] if name != "seed_slope" else (problems.seed_slope(), 3)
    x = np.linspace(-1.0, 1.5, dim).astype(np.float32)
    assert problem.grad(x).dtype == np.float32
    assert np.asarray(problem.f(x)).dtype == np.float32


def test_ravine_is_seed_002():
    p = problems.ravine()
    x = np.array([3.0, -2.0])
    assert p.f(x) == pytest.approx(0.1 * 9 + 2 * 4)
    np.testing.assert_allclose(p.grad(x), [0.2 * 3, 4 * -2.0])
    np.testing.assert_array_equal(p.minimizer, [0.0, 0.0])


def test_quadratic_validation():
    with pytest.raises(ValueError, match="square"):
        problems.quadratic(np.ones((2, 3)))
    with pytest.raises(ValueError, match="symmetric"):
        problems.quadratic([[1.0, 2.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="positive definite"):
        problems.quadratic([[1.0, 0.0], [0.0, -1.0]])
    with pytest.raises(ValueError, match="b must have shape"):
        problems.quadratic(np.eye(2), b=[1.0, 2.0, 3.0])


def test_noisy_is_deterministic_per_seed():
    base = problems.ravine()
    x = np.array([1.0, -1.0])
    a = problems.noisy(base, sigma=0.5, seed=7)
    b = problems.noisy(base, sigma=0.5, seed=7)
    c = problems.noisy(base, sigma=0.5, seed=8)
    ga = [a.grad(x) for _ in range(5)]
    gb = [b.grad(x) for _ in range(5)]
    gc = [c.grad(x) for _ in range(5)]
    np.testing.assert_array_equal(ga, gb)
    assert not np.allclose(ga, gc)
    assert not np.allclose(ga[0], ga[1])  # each call draws new noise
    assert a.f is base.f and a.name == "noisy ravine"


def test_noisy_statistics_and_zero_noise():
    base = problems.ravine()
    x = np.zeros((20000, 2))  # a batch: one draw per row
    g = problems.noisy(base, sigma=0.3, seed=0).grad(x)
    assert g.shape == x.shape
    assert abs(g.mean()) < 0.01 and g.std() == pytest.approx(0.3, rel=0.02)
    x1 = np.array([1.0, 2.0])
    np.testing.assert_array_equal(problems.noisy(base, 0.0).grad(x1), base.grad(x1))
    for bad in (-0.1, np.nan, np.inf):
        with pytest.raises(ValueError, match="sigma must satisfy 0 <= sigma"):
            problems.noisy(base, bad)


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("wrong", ["one more", "one fewer", "scalar", "batch"])
def test_wrong_number_of_coordinates_names_problem_expected_and_given(name, wrong):
    """A point of the wrong size is refused by f and grad, with what was expected and what came."""
    p, n = CASES[name]
    x = {"one more": np.ones(n + 1), "one fewer": np.ones(n - 1), "scalar": np.float64(1.0),
         "batch": np.ones((4, n + 1))}[wrong]
    pattern = (rf"^{p.name} is {n}-dimensional: x must have {n} coordinates along its last axis"
               rf".*got x of shape {re.escape(str(x.shape))}$")
    for fn in (p.f, p.grad):
        with pytest.raises(ValueError, match=pattern):
            fn(x)


def test_wrong_size_start_in_a_run_names_the_problem():
    import optlib

    with pytest.raises(ValueError, match=r"^ravine is 2-dimensional: .*got x of shape \(3,\)$"):
        optlib.run(optlib.adam(0.1), problems.ravine().grad, np.array([1.0, 2.0, 3.0]), 5)


def test_noisy_keeps_the_size_check():
    p = problems.noisy(problems.ravine(), sigma=0.1)
    with pytest.raises(ValueError, match=r"^ravine is 2-dimensional"):
        p.grad(np.ones(3))
