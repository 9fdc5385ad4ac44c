"""Arithmetic that works unchanged on floats, NumPy arrays and SymPy expressions.

The update rules in :mod:`optlib.methods` call only the helpers here (besides ``+``, ``-``,
``*``, ``/`` and ``**``), so one definition of each method serves simulations, vectorised
sweeps and symbolic derivations alike.
"""

from __future__ import annotations

import math
import numbers
import sys

import numpy as np


def is_symbolic(*values) -> bool:
    """True if any value is a SymPy object.

    SymPy is only consulted when it has already been imported: nothing can be symbolic before
    that, and plain numeric use of optlib never pays for importing it.
    """
    sympy = sys.modules.get("sympy")
    if sympy is None:
        return False
    return any(isinstance(v, sympy.Basic) for v in values)


def sqrt(x):
    """Square root: ``sympy.sqrt`` for symbols, ``numpy.sqrt`` otherwise (keeps the dtype).

    A Python number gives a Python ``float``, which NumPy treats as "weak": a factor such as
    ``sqrt(1 - beta2**t)`` then leaves a float32 array float32 (a ``numpy.float64`` would
    promote it to float64).

    >>> type(sqrt(4.0)).__name__, sqrt(np.ones(2, np.float32) * 4.0).dtype.name
    ('float', 'float32')
    """
    if is_symbolic(x):
        return sys.modules["sympy"].sqrt(x)
    if type(x) in (int, float):  # not numpy.float64, a float subclass
        return float(np.sqrt(x))
    return np.sqrt(x)


def power(base, exponent):
    """``base ** exponent``: SymPy's power for symbols, NumPy's array loop otherwise.

    Python's ``**`` on floats (the C library's ``pow``) and NumPy's vectorised ``power`` may
    differ in the last bit. Computing scalar powers with NumPy's array loop too makes a sweep
    (array hyperparameters) give rows bit-identical to the one-at-a-time runs. Python numbers
    give a Python ``float`` (weak, as in :func:`sqrt`).

    >>> power(0.9, 3) == float(power(np.array([0.9, 0.5]), 3)[0])
    True
    """
    if is_symbolic(base, exponent):
        return base**exponent
    b = np.asarray(base, dtype=float)
    e = np.asarray(exponent, dtype=float)
    if b.ndim == 0 and e.ndim == 0:
        return float(np.power(b.reshape(1), e)[0])
    return np.power(b, e)


def maximum(a, b):
    """Element-wise maximum: ``sympy.Max`` for symbols, ``numpy.maximum`` otherwise."""
    if is_symbolic(a, b):
        return sys.modules["sympy"].Max(a, b)
    return np.maximum(a, b)


def sign(x):
    """-1, 0 or 1 element-wise: ``sympy.sign`` for symbols, ``numpy.sign`` otherwise."""
    if is_symbolic(x):
        return sys.modules["sympy"].sign(x)
    return np.sign(x)


def zeros_like(x):
    """A zero of the same kind as ``x``: SymPy's 0, a NumPy scalar, or an array of zeros.

    The dtype and shape of a numeric ``x`` are kept, so float32 runs stay float32; an integer
    ``x`` gives float zeros (state that starts at an integer would truncate).

    >>> zeros_like(np.ones(2, np.float32)).dtype.name, zeros_like(3).dtype.name
    ('float32', 'float64')
    """
    if is_symbolic(x):
        return sys.modules["sympy"].S.Zero
    return np.zeros_like(x, dtype=np.result_type(x, 0.0))[()]


def full_like(x, value):
    """``value`` broadcast to the kind, shape and dtype of ``x`` (SymPy: ``value`` itself).

    An array ``value`` (a hyperparameter of a sweep) broadcasts against ``x``.

    >>> full_like(np.zeros(2, np.float32), 0.5).dtype.name, full_like(np.zeros(2), [[1], [2]]).shape
    ('float32', (2, 2))
    """
    if is_symbolic(x) or is_symbolic(value):
        sympy = sys.modules["sympy"]
        if not is_symbolic(value) and np.ndim(value) == 0 and float(value).is_integer():
            # a whole-number start (0.0) becomes SymPy's exact integer, so that derivations
            # see 0, not Float(0.0) (which SymPy does not treat as equal to 0)
            return sympy.Integer(int(value))
        return sympy.sympify(value)
    shape = np.broadcast_shapes(np.shape(x), np.shape(value))
    return np.full(shape, value, dtype=np.result_type(x, 0.0))[()]


def integer(name, value, *, low):
    """``value`` as a Python ``int``; ``ValueError`` unless it is an integer (a bool is not)
    with ``low <= value``: a number of steps, a recording interval, a length."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an integer with {low} <= {name}, got {value!r}")
    return int(value)


def hyperparameter(name, value, *, low, high, low_open, high_open=True, allow_inf=False):
    """Validate a hyperparameter and return it in the form the updates use.

    A numeric scalar becomes a Python ``float`` (NumPy treats Python scalars as "weak", so a
    float32 run stays float32); an array is checked element-wise and kept as a float array, so
    that it broadcasts against the parameters to make a sweep. SymPy values skip the numeric
    checks and are returned as they are.

    The allowed range is ``low < value`` (or ``<=`` when ``low_open`` is false) and
    ``value < high`` (or ``<=``); ``high=math.inf`` means no upper bound.
    """
    if is_symbolic(value):
        return value
    if isinstance(value, bool) or value is None:
        raise ValueError(_range_message(name, value, low, high, low_open, high_open))
    try:
        if np.asarray(value).dtype.kind not in "iufO":  # no bools, strings, complex numbers
            raise TypeError
        arr = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a real number or an array of real numbers "
            f"{_range_text(name, low, high, low_open, high_open)}, got {value!r}"
        ) from None
    ok = ~np.isnan(arr)
    if not allow_inf:
        ok &= np.isfinite(arr)
    ok &= (arr > low) if low_open else (arr >= low)
    if high != math.inf:
        ok &= (arr < high) if high_open else (arr <= high)
    if not np.all(ok):
        bad = arr[~ok] if arr.ndim else arr
        shown = float(bad.flat[0]) if arr.ndim else value
        raise ValueError(_range_message(name, shown, low, high, low_open, high_open))
    return float(arr) if arr.ndim == 0 else arr


def _range_text(name, low, high, low_open, high_open):
    left = "<" if low_open else "<="
    if high == math.inf:
        return f"({low} {left} {name}, finite)"
    right = "<" if high_open else "<="
    return f"({low} {left} {name} {right} {high})"


def _range_message(name, value, low, high, low_open, high_open):
    return (
        f"{name} must satisfy {_range_text(name, low, high, low_open, high_open)[1:-1]}, "
        f"got {value!r}"
    )


def check_grad_shape(grad, x):
    """Raise ``ValueError`` if ``grad`` is None or does not broadcast against ``x``.

    A gradient wider than ``x`` is accepted here: in :func:`optlib.run` with ``grad_at`` the
    gradient is taken at a point that a sweep has widened while ``x`` has not been yet. The
    runner, which knows that point, rejects a gradient that would widen the iterates.

    SymPy operands are not checked: a symbol stands for a scalar (or for a whole vector, as a
    ``MatrixSymbol`` of symbolic size), and ``numpy.shape`` cannot read an ``Indexed`` term.
    """
    if grad is None:
        raise ValueError("grad is None: update(grad, state, x) needs the gradient at x")
    if x is None or is_symbolic(grad, x):
        return
    try:
        np.broadcast_shapes(np.shape(grad), np.shape(x))
    except ValueError:
        raise ValueError(
            f"grad has shape {np.shape(grad)}, which does not broadcast with x of shape "
            f"{np.shape(x)}"
        ) from None
