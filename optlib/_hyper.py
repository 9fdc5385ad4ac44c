"""The hyperparameter checks shared by every method (private: the methods' own modules import
them; :func:`optlib._backend.hyperparameter` does the checking)."""

from __future__ import annotations

import math

import numpy as np

from ._backend import hyperparameter
from .base import rate_from_schedule

_INF = math.inf


def _lr(lr):
    # a rate a schedule gave for one step may be 0 (the start of a warmup); a constant may not
    return hyperparameter("lr", lr, low=0.0, high=_INF, low_open=not rate_from_schedule.get())


def _decay(name, value):
    return hyperparameter(name, value, low=0.0, high=1.0, low_open=False, high_open=True)


def _eps(name, value):
    return hyperparameter(name, value, low=0.0, high=_INF, low_open=False)


def _adam_hyperparameters(lr, beta1, beta2, eps):
    """The checks shared by Adam and its descendants: ``lr``, the two decays and ``eps``."""
    return _lr(lr), _decay("beta1", beta1), _decay("beta2", beta2), _eps("eps", eps)


def _needs_x(name, x):
    """Raise unless ``x`` was passed: methods whose step depends on the parameters need it."""
    if x is None:
        raise ValueError(f"{name}'s update needs the parameters: call update(grad, state, x)")


def _flag(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)




def _positive(value) -> bool:
    """True if a (validated, non-negative) numeric hyperparameter is positive everywhere."""
    return bool(np.all(np.asarray(value) > 0))

