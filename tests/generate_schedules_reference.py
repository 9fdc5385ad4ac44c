"""Regenerate ``tests/data/schedules_reference.json``: optax's, Keras's and PyTorch's schedules.

Needs optax 0.2.8 (jax 0.10.2, Python 3.11), Keras 3 (3.15.1, on its JAX backend) and torch
(2.13.0) in a virtualenv of its own; ``make test`` never needs it (see
``tests/generate_frontier_reference.py`` for the venv; Keras added with ``pip install keras``)::

    /tmp/refvenv/bin/python tests/generate_schedules_reference.py

Each case is an optlib schedule (name and arguments, as in :data:`CASES`) and the optax
schedule with the same meaning, or, where optax has none (the inverse-time decay) or to check
a correspondence the docstrings state, the Keras schedule or the PyTorch scheduler; evaluated
in float64 at ``t = 0, 1, ..., STEPS``. Keras's optimizers, like optax's, ask their schedule
for the rate at the number of updates already made; a PyTorch scheduler is stepped after
every update, and the rate of update ``t`` is the optimizer's ``lr`` before it. JSON keys are
strings, so the test turns the boundaries of ``piecewise_constant`` back into integers.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

STEPS = 60
PATH = Path(__file__).resolve().parent / "data" / "schedules_reference.json"

# (optlib name, optlib arguments, the optax call that means the same)
CASES = [
    ("constant", {"value": 0.3}, "constant_schedule(0.3)"),
    ("linear", {"init": 0.5, "end": 0.02, "steps": 40}, "linear_schedule(0.5, 0.02, 40)"),
    ("linear_warmup", {"peak": 0.1, "warmup_steps": 13, "init": 0.001},
     "linear_schedule(0.001, 0.1, 13)"),
    ("linear_decay", {"peak": 0.1, "decay_steps": 37, "final": 0.004},
     "linear_schedule(0.1, 0.004, 37)"),
    ("cosine_decay", {"peak": 0.2, "decay_steps": 45, "final": 0.2 * 0.05},
     "cosine_decay_schedule(0.2, 45, alpha=0.05)"),
    ("warmup_cosine", {"peak": 0.3, "warmup_steps": 9, "decay_steps": 50, "init": 0.01,
                       "final": 0.002},
     "warmup_cosine_decay_schedule(0.01, 0.3, 9, 50, end_value=0.002)"),
    ("warmup_linear", {"peak": 0.3, "warmup_steps": 9, "decay_steps": 50, "init": 0.0,
                       "final": 0.02},
     "join_schedules([linear_schedule(0.0, 0.3, 9), linear_schedule(0.3, 0.02, 41)], [9])"),
    ("exponential_decay", {"init": 0.2, "decay_rate": 0.9, "transition_steps": 7},
     "exponential_decay(0.2, 7, 0.9)"),
    ("exponential_decay", {"init": 0.3, "decay_rate": 0.6, "transition_steps": 5,
                           "staircase": True, "transition_begin": 4, "end": 0.02},
     "exponential_decay(0.3, 5, 0.6, transition_begin=4, staircase=True, end_value=0.02)"),
    ("exponential_decay", {"init": 0.01, "decay_rate": 1.5, "transition_steps": 4, "end": 0.5},
     "exponential_decay(0.01, 4, 1.5, end_value=0.5)"),
    ("piecewise_constant", {"init": 0.4, "boundaries_and_scales": {0: 0.5, 15: 0.1, 31: 3.0,
                                                                    45: 0.2}},
     "piecewise_constant_schedule(0.4, {0: 0.5, 15: 0.1, 31: 3.0, 45: 0.2})"),
    ("polynomial_decay", {"init": 0.5, "end": 0.01, "power": 2.0, "decay_steps": 40},
     "polynomial_schedule(0.5, 0.01, 2.0, 40)"),
    ("polynomial_decay", {"init": 0.3, "end": 0.0, "power": 0.9, "decay_steps": 35,
                          "transition_begin": 10},
     "polynomial_schedule(0.3, 0.0, 0.9, 35, transition_begin=10)"),
    ("inverse_time_decay", {"init": 0.4, "decay_rate": 0.7, "decay_steps": 8},
     "keras: InverseTimeDecay(0.4, 8, 0.7)"),
    ("inverse_time_decay", {"init": 0.4, "decay_rate": 0.7, "decay_steps": 8, "staircase": True},
     "keras: InverseTimeDecay(0.4, 8, 0.7, staircase=True)"),
    ("exponential_decay", {"init": 0.2, "decay_rate": 0.9, "transition_steps": 7},
     "keras: ExponentialDecay(0.2, 7, 0.9)"),
    ("exponential_decay", {"init": 0.3, "decay_rate": 0.6, "transition_steps": 5,
                           "staircase": True},
     "keras: ExponentialDecay(0.3, 5, 0.6, staircase=True)"),
    ("polynomial_decay", {"init": 0.5, "end": 0.01, "power": 2.0, "decay_steps": 40},
     "keras: PolynomialDecay(0.5, 40, 0.01, 2.0)"),
    ("exponential_decay", {"init": 0.2, "decay_rate": 0.9, "transition_steps": 1},
     "torch: ExponentialLR(optimizer(0.2), gamma=0.9)"),
    ("exponential_decay", {"init": 0.3, "decay_rate": 0.6, "transition_steps": 5,
                           "staircase": True},
     "torch: StepLR(optimizer(0.3), step_size=5, gamma=0.6)"),
    ("piecewise_constant", {"init": 0.4, "boundaries_and_scales": {10: 0.5, 25: 0.5, 40: 0.5}},
     "torch: MultiStepLR(optimizer(0.4), milestones=[10, 25, 40], gamma=0.5)"),
    ("polynomial_decay", {"init": 0.5, "end": 0.0, "power": 2.0, "decay_steps": 40},
     "torch: PolynomialLR(optimizer(0.5), total_iters=40, power=2.0)"),
    # Keras's boundaries b are optax's (and optlib's) b + 1
    ("piecewise_constant", {"init": 0.4, "boundaries_and_scales": {10: 0.5, 21: 0.2}},
     "keras: PiecewiseConstantDecay([9, 20], [0.4, 0.2, 0.04])"),
]


def _torch_rates(expression):
    """The learning rate of each update under a PyTorch scheduler, stepped after each."""
    import torch

    def optimizer(lr):
        return torch.optim.SGD([torch.zeros(1, dtype=torch.float64, requires_grad=True)], lr=lr)

    scheduler = eval(expression, {"optimizer": optimizer,  # noqa: S307 - our own strings
                                  **vars(torch.optim.lr_scheduler)})
    rates = []
    for _ in range(STEPS + 1):
        rates.append(float(scheduler.optimizer.param_groups[0]["lr"]))
        scheduler.optimizer.step()
        scheduler.step()
    return rates


def main():
    import jax
    import optax
    import torch

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    os.environ.setdefault("KERAS_BACKEND", "jax")
    import keras

    keras.config.set_floatx("float64")
    namespaces = {
        "optax": {name: getattr(optax, name) for name in dir(optax) if not name.startswith("_")},
        "keras": vars(keras.optimizers.schedules),
    }
    cases = []
    for name, arguments, call in CASES:
        library, _, expression = call.partition(": ")
        if library not in ("keras", "torch"):
            library, expression = "optax", call
        if library == "torch":
            values = _torch_rates(expression)
        else:
            schedule = eval(expression, namespaces[library])  # noqa: S307 - our own strings
            values = [float(schedule(jnp.asarray(t, dtype=jnp.int64)))
                      for t in range(STEPS + 1)]
        cases.append({"name": name, "arguments": arguments, library: expression,
                      "values": values})
    PATH.write_text(json.dumps({"optax": optax.__version__, "keras": keras.__version__,
                                "keras_backend": keras.backend.backend(),
                                "torch": torch.__version__,
                                "jax": jax.__version__, "steps": STEPS, "cases": cases},
                               indent=1) + "\n")
    print(f"wrote {PATH}")


if __name__ == "__main__":
    main()
