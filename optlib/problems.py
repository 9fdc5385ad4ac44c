r"""Test functions with their gradients.

Every function takes points whose coordinates lie along the last axis, so a whole batch of
points (one per configuration of a sweep) is evaluated in one call. One-dimensional problems
act element-wise. The methods never import this module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

__all__ = ["Problem", "seed_slope", "ravine", "quadratic", "rosenbrock", "noisy"]


class Problem(NamedTuple):
    """A test function: ``f(x)``, its gradient ``grad(x)``, a minimiser and a description."""

    name: str
    f: Callable
    grad: Callable
    minimizer: np.ndarray | float | None
    description: str


def seed_slope(right: float = 1.0, left: float = -0.1) -> Problem:
    r"""The kinked slope of seed 000: :math:`f(x) = x` for :math:`x > 0`, :math:`-0.1x` otherwise.

    A ball released at :math:`x_0 = 2` rolls down the steep right side, crosses the kink at 0
    and climbs the shallow left side, where the gradient points back. The gradient at the
    kink itself is taken from the left side, as in the seed's ``f_grad``.

    Args:
        right: slope for :math:`x > 0` (positive).
        left: slope for :math:`x \le 0` (negative).

    >>> p = seed_slope()
    >>> float(p.f(2.0)), float(p.grad(2.0)), float(p.grad(-3.0))
    (2.0, 1.0, -0.1)
    >>> p.grad(np.float32(2.0)).dtype
    dtype('float32')
    """
    if not right > 0:
        raise ValueError(f"right must satisfy 0 < right, got {right!r}")
    if not left < 0:
        raise ValueError(f"left must satisfy left < 0, got {left!r}")

    def f(x):
        x = np.asarray(x)
        return np.where(x > 0, right * x, left * x)[()]

    def grad(x):
        x = np.asarray(x)
        return np.where(x > 0, right, left).astype(np.result_type(x, 1.0))[()]  # keeps float32

    desc = f"f(x) = {right:g} x for x > 0, {left:g} x otherwise (seed 000)"
    return Problem("seed slope", f, grad, 0.0, desc)


def _coordinates(problem, x, n):
    """``x`` as an array whose last axis holds the ``n`` coordinates of ``problem``'s points.

    Raises ``ValueError`` naming the problem, the expected size and what came, rather than
    letting NumPy fail on a product (or silently ignore a third coordinate).
    """
    x = np.asarray(x)
    if x.ndim == 0 or x.shape[-1] != n:
        raise ValueError(
            f"{problem} is {n}-dimensional: x must have {n} coordinates along its last axis "
            f"(shape ({n},), or (..., {n}) for a batch of points), got x of shape {x.shape}"
        )
    return x


def quadratic(A, b=None) -> Problem:
    r"""The quadratic :math:`f(x) = \tfrac12 x^\top A x - b^\top x` with symmetric positive
    definite :math:`A`; its minimiser solves :math:`A x = b`.

    >>> p = quadratic([[2.0, 0.0], [0.0, 4.0]])
    >>> p.grad(np.array([1.0, 1.0])).tolist()
    [2.0, 4.0]
    >>> p.grad(np.ones(2, dtype=np.float32)).dtype, p.f(np.ones(2, dtype=np.float32)).dtype
    (dtype('float32'), dtype('float32'))
    """
    return _quadratic(A, b, "quadratic", "f(x) = x^T A x / 2 - b^T x")


def _quadratic(A, b, name, description) -> Problem:
    A = np.asarray(A, dtype=float)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"A must be a square matrix, got shape {A.shape}")
    if not np.allclose(A, A.T):
        raise ValueError("A must be symmetric")
    if np.linalg.eigvalsh(A).min() <= 0:
        raise ValueError("A must be positive definite (all eigenvalues > 0)")
    n = A.shape[0]
    b = np.zeros(n) if b is None else np.asarray(b, dtype=float)
    if b.shape != (n,):
        raise ValueError(f"b must have shape ({n},), got {b.shape}")

    def f(x):
        x = _coordinates(name, x, n)
        dt = np.result_type(x, 1.0)  # float32 points give float32 values
        return 0.5 * np.einsum("...i,ij,...j->...", x, A.astype(dt), x) - x @ b.astype(dt)

    def grad(x):
        x = _coordinates(name, x, n)
        dt = np.result_type(x, 1.0)
        return x @ A.astype(dt) - b.astype(dt)  # A is symmetric, so x A = (A x)^T

    return Problem(name, f, grad, np.linalg.solve(A, b), description)


def ravine() -> Problem:
    r"""The ravine of seed 002 (from Dive into Deep Learning): :math:`0.1 x_1^2 + 2 x_2^2`.

    Curvatures 0.2 and 4 along the two axes: condition number 20. The valley floor runs
    along :math:`x_1`; gradient descent zig-zags across :math:`x_2`.

    >>> p = ravine()
    >>> p.grad(np.array([1.0, 1.0])).tolist()
    [0.2, 4.0]
    >>> p.grad(np.array([1.0, 1.0, 1.0]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: ravine is 2-dimensional: x must have 2 coordinates ..., got x of shape (3,)
    """
    return _quadratic(np.diag([0.2, 4.0]), None, "ravine", "f(x) = 0.1 x1^2 + 2 x2^2 (seed 002)")


def rosenbrock(a: float = 1.0, b: float = 100.0) -> Problem:
    r"""Rosenbrock's banana :math:`(a - x_1)^2 + b (x_2 - x_1^2)^2`, minimum at :math:`(a, a^2)`.

    >>> p = rosenbrock()
    >>> p.grad(np.array([1.0, 1.0])).tolist() == [0.0, 0.0]
    True
    """

    def f(x):
        x = _coordinates("Rosenbrock", x, 2)
        x1, x2 = x[..., 0], x[..., 1]
        return (a - x1) ** 2 + b * (x2 - x1**2) ** 2

    def grad(x):
        x = _coordinates("Rosenbrock", x, 2)
        x1, x2 = x[..., 0], x[..., 1]
        d1 = -2 * (a - x1) - 4 * b * x1 * (x2 - x1**2)
        d2 = 2 * b * (x2 - x1**2)
        return np.stack([d1, d2], axis=-1)

    return Problem("Rosenbrock", f, grad, np.array([a, a * a]), f"(a - x1)^2 + {b:g} (x2 - x1^2)^2")


def noisy(problem: Problem, sigma: float, seed: int = 0) -> Problem:
    """The same problem with Gaussian noise of standard deviation ``sigma`` on each gradient.

    The noise comes from ``numpy.random.default_rng(seed)``: the gradient function has state
    (each call draws new noise), so build a fresh problem for each run to repeat a run exactly.

    >>> p = noisy(ravine(), sigma=0.0)
    >>> p.grad(np.array([1.0, 1.0])).tolist()
    [0.2, 4.0]
    """
    if not (np.isfinite(sigma) and sigma >= 0):
        raise ValueError(f"sigma must satisfy 0 <= sigma, finite, got {sigma!r}")
    rng = np.random.default_rng(seed)

    def grad(x):
        g = problem.grad(x)
        noise = rng.standard_normal(np.shape(g)).astype(np.result_type(g, 1.0))
        return g + sigma * noise  # drawn in float64, cast so float32 runs stay float32

    return problem._replace(
        name=f"noisy {problem.name}",
        grad=grad,
        description=f"{problem.description}, gradient noise N(0, {sigma:g}^2)",
    )
