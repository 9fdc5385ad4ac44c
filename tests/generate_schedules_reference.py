"""Regenerate ``tests/data/schedules_reference.json``: optax's schedules, for comparison.

Needs optax 0.2.8 (jax 0.10.2, Python 3.11) in a virtualenv of its own; ``make test`` never
needs it (see ``tests/generate_frontier_reference.py`` for the venv)::

    /tmp/refvenv/bin/python tests/generate_schedules_reference.py

Each case is an optlib schedule (name and arguments, as in :data:`CASES`) and the optax
schedule with the same meaning, evaluated in float64 at ``t = 0, 1, ..., STEPS``.
"""

from __future__ import annotations

import json
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
]


def main():
    import jax
    import optax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    namespace = {name: getattr(optax, name) for name in dir(optax) if not name.startswith("_")}
    cases = []
    for name, arguments, call in CASES:
        schedule = eval(call, namespace)  # noqa: S307 - our own constant strings
        values = [float(schedule(jnp.asarray(t, dtype=jnp.int64))) for t in range(STEPS + 1)]
        cases.append({"name": name, "arguments": arguments, "optax": call, "values": values})
    PATH.write_text(json.dumps({"optax": optax.__version__, "jax": jax.__version__,
                                "steps": STEPS, "cases": cases}, indent=1) + "\n")
    print(f"wrote {PATH}")


if __name__ == "__main__":
    main()
