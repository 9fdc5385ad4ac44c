r"""Every method of Parts I-III of the book, in one namespace.

The methods live in one module per part of the book, so that a reader of a chapter finds its
method's code in one short file:

- :mod:`optlib.descent`: gradient descent, momentum and Nesterov (Foundations, Part I);
- :mod:`optlib.adaptive`: Adagrad, RMSProp and Adadelta (Part II);
- :mod:`optlib.adam_family`: Adam, AMSGrad, AdamW, Adamax and NAdam (Part III);
- :mod:`optlib.frontier`: the methods practitioners use now (Part IV).

This module gathers the first three (every name is also importable from ``optlib`` itself).

Each constructor validates its hyperparameters and returns an :class:`~optlib.base.Optimizer`.
The update code uses only arithmetic and the helpers of :mod:`optlib._backend`, so the same
function runs on floats, NumPy arrays of any shape and dtype, hyperparameter arrays that
broadcast against the parameters (a whole sweep in one call), and SymPy expressions.

Notation: :math:`g_t` the gradient at step :math:`t` (counting from 1), :math:`\eta` the
learning rate ``lr``, :math:`\Delta x_t` the returned step, :math:`x_t = x_{t-1} + \Delta x_t`.
All products, quotients and roots are element-wise.
"""

from __future__ import annotations

from .adam_family import AdamaxState, AdamState, NadamState, adam, adamax, adamw, nadam
from .adaptive import AdadeltaState, AdagradState, RMSPropState, adadelta, adagrad, rmsprop
from .descent import GDState, MomentumState, gd, momentum

__all__ = [
    "gd",
    "momentum",
    "adagrad",
    "rmsprop",
    "adadelta",
    "adam",
    "adamw",
    "adamax",
    "nadam",
    "GDState",
    "MomentumState",
    "AdagradState",
    "RMSPropState",
    "AdadeltaState",
    "AdamState",
    "AdamaxState",
    "NadamState",
]
