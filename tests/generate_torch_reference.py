"""Regenerate the torch.optim reference trajectories of ``tests/test_torch_reference.py``.

Run from the repository root, with torch installed in the virtualenv (it is needed only here,
never by ``make test``, and is not in requirements.txt)::

    .venv/bin/pip install torch==2.13.0
    .venv/bin/python tests/generate_torch_reference.py

It runs every torch.optim method that optlib has, in float64 (``torch.set_default_dtype`` too,
so that the scalar state PyTorch keeps, such as NAdam's ``mu_product``, is float64 as well),
with the single-tensor ("for-loop") implementation and hyperparameters that are not just the
defaults, on three problems:

* ``ravine``: seed 002's :math:`0.1 x_1^2 + 2 x_2^2` from :math:`(-5, -2)`;
* ``rosenbrock``: :math:`(1 - x_1)^2 + 100 (x_2 - x_1^2)^2` from :math:`(-1.2, 1)`, small steps;
* ``quadratic``: :math:`\\tfrac12 \\sum d (x - c)^2` over a 3x4 array, ``d`` random in
  :math:`[0.5, 5]` (a random SPD diagonal), ``c`` and ``x0`` random normal.

The gradients are computed in torch with the same formulas, in the same order of operations,
as :mod:`optlib.problems`, so both sides see the same gradients at the same points. Each
trajectory must be well conditioned: rerun from ``x0`` perturbed by 1e-10, it may move by at
most ``AMPLIFICATION_MAX`` times that (recorded as ``amplification``), so that rounding-level
differences between two correct implementations stay far below the test's 1e-10.

It writes ``tests/data/torch_reference.json`` (torch's version, the problems, and for each
trajectory the optimizer and its hyperparameters in torch's naming) and
``tests/data/torch_reference.npz`` (the trajectories, ``steps + 1`` rows each, first row
``x0``). The mapping from torch's hyperparameters to optlib's is :data:`TORCH_TO_OPTLIB`,
shared with the test through :func:`to_optlib`.

This module imports torch only inside :func:`main`, so the test (and ``--doctest-modules``)
can import it without torch.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

# --------------------------------------------------------------------------------------------
# The mapping torch.optim -> optlib: optimizer class -> (optlib constructor, {torch name: optlib
# name}). A tuple of optlib names splits a torch tuple (``betas``). Every torch keyword a
# reference case uses must appear here: anything else is an error, not silently ignored.
# --------------------------------------------------------------------------------------------
TORCH_TO_OPTLIB: dict[str, tuple[str, dict[str, str | tuple[str, ...]]]] = {
    # SGD with momentum=0 maps to optlib.gd(lr) (see to_optlib); dampening must be 0.
    "SGD": ("momentum", {"lr": "lr", "momentum": "momentum", "nesterov": "nesterov"}),
    "Adagrad": (
        "adagrad",
        {"lr": "lr", "eps": "eps", "initial_accumulator_value": "initial_accumulator"},
    ),
    "RMSprop": (
        "rmsprop",
        {"lr": "lr", "alpha": "decay", "eps": "eps", "momentum": "momentum",
         "centered": "centered"},
    ),
    "Adadelta": ("adadelta", {"lr": "lr", "rho": "decay", "eps": "eps"}),
    "Adam": (
        "adam",
        {"lr": "lr", "betas": ("beta1", "beta2"), "eps": "eps", "amsgrad": "amsgrad"},
    ),
    "AdamW": (
        "adamw",
        {"lr": "lr", "betas": ("beta1", "beta2"), "eps": "eps", "weight_decay": "weight_decay"},
    ),
    "Adamax": ("adamax", {"lr": "lr", "betas": ("beta1", "beta2"), "eps": "eps"}),
    "NAdam": (
        "nadam",
        {"lr": "lr", "betas": ("beta1", "beta2"), "eps": "eps",
         "momentum_decay": "momentum_decay"},
    ),
}

# torch keywords that must keep these values for the iterates to match (PyTorch's defaults,
# written out so the generator passes them explicitly). ``foreach=False`` selects the
# single-tensor implementations (``_single_tensor_*`` in torch/optim/*.py).
TORCH_FIXED: dict[str, dict] = {
    "SGD": {"dampening": 0.0, "weight_decay": 0.0, "maximize": False, "foreach": False},
    "Adagrad": {"lr_decay": 0.0, "weight_decay": 0.0, "maximize": False, "foreach": False},
    "RMSprop": {"weight_decay": 0.0, "maximize": False, "foreach": False},
    "Adadelta": {"weight_decay": 0.0, "maximize": False, "foreach": False},
    "Adam": {"weight_decay": 0.0, "maximize": False, "foreach": False},
    "AdamW": {"amsgrad": False, "maximize": False, "foreach": False},
    "Adamax": {"weight_decay": 0.0, "maximize": False, "foreach": False},
    "NAdam": {"weight_decay": 0.0, "decoupled_weight_decay": False, "maximize": False,
              "foreach": False},
}


def to_optlib(torch_name: str, torch_kwargs: dict) -> tuple[str, dict]:
    """The optlib constructor name and keyword arguments equivalent to a torch.optim call.

    >>> to_optlib("RMSprop", {"lr": 0.01, "alpha": 0.9, "centered": True})
    ('rmsprop', {'lr': 0.01, 'decay': 0.9, 'centered': True})
    >>> to_optlib("Adam", {"lr": 0.1, "betas": [0.8, 0.95]})
    ('adam', {'lr': 0.1, 'beta1': 0.8, 'beta2': 0.95})
    >>> to_optlib("SGD", {"lr": 0.1, "momentum": 0.0})
    ('gd', {'lr': 0.1})
    """
    name, names = TORCH_TO_OPTLIB[torch_name]
    kwargs: dict = {}
    for key, value in torch_kwargs.items():
        if key not in names:
            raise KeyError(f"torch {torch_name} keyword {key!r} has no optlib counterpart")
        target = names[key]
        if isinstance(target, tuple):
            kwargs.update(zip(target, value, strict=True))
        else:
            kwargs[target] = value
    if torch_name == "SGD" and kwargs.get("momentum", 0.0) == 0.0:
        if kwargs.get("nesterov", False):
            raise ValueError("torch SGD needs momentum > 0 for nesterov=True")
        return "gd", {"lr": kwargs["lr"]}
    return name, kwargs


# --------------------------------------------------------------------------------------------
# Problems (numpy side; the torch side below uses the same formulas)
# --------------------------------------------------------------------------------------------

QUADRATIC_SEED = 20240521
START = {"ravine": [-5.0, -2.0], "rosenbrock": [-1.2, 1.0]}
STEPS = {"ravine": 100, "rosenbrock": 200, "quadratic": 60}


def quadratic_data(seed: int = QUADRATIC_SEED) -> dict:
    """``d``, ``c`` and ``x0`` (3x4 arrays) of the array-shaped quadratic problem."""
    rng = np.random.default_rng(seed)
    return {
        "d": rng.uniform(0.5, 5.0, (3, 4)).tolist(),
        "c": rng.normal(size=(3, 4)).tolist(),
        "x0": rng.normal(size=(3, 4)).tolist(),
    }


# --------------------------------------------------------------------------------------------
# Reference cases: torch optimizer, torch keyword arguments except lr, and lr per problem.
# Hyperparameters are deliberately not the defaults, and eps is large enough that its
# placement (inside or after the root, before or after bias correction) changes the iterates
# far beyond the test tolerance.
# --------------------------------------------------------------------------------------------

# (case id, torch class, torch kwargs except lr, per problem: lr, or a dict of kwargs that
# override the shared ones). Each trajectory must be well conditioned (see AMPLIFICATION_MAX),
# which is why some Rosenbrock runs take their own hyperparameters.
CASES: list[tuple[str, str, dict, dict[str, float | dict]]] = [
    ("sgd", "SGD", {"momentum": 0.0},
     {"ravine": 0.4, "rosenbrock": 1e-3, "quadratic": 0.3}),
    ("sgd_momentum", "SGD", {"momentum": 0.7},
     {"ravine": 0.1, "rosenbrock": 5e-4, "quadratic": 0.1}),
    ("sgd_nesterov", "SGD", {"momentum": 0.85, "nesterov": True},
     {"ravine": 0.1, "rosenbrock": 3e-4, "quadratic": 0.08}),
    ("adagrad", "Adagrad", {"eps": 1e-3},
     {"ravine": 0.9, "rosenbrock": 0.1, "quadratic": 0.5}),
    ("adagrad_initial_accumulator", "Adagrad", {"eps": 1e-2, "initial_accumulator_value": 0.5},
     {"ravine": 1.5, "rosenbrock": 0.2, "quadratic": 0.7}),
    ("rmsprop", "RMSprop", {"alpha": 0.9, "eps": 1e-3},
     {"ravine": 0.05, "rosenbrock": 1e-3, "quadratic": 0.03}),
    ("rmsprop_momentum", "RMSprop", {"alpha": 0.95, "eps": 1e-3, "momentum": 0.6},
     {"ravine": 0.02, "rosenbrock": 1e-3, "quadratic": 0.02}),
    ("rmsprop_centered", "RMSprop", {"alpha": 0.85, "eps": 1e-2, "centered": True},
     {"ravine": 0.03, "rosenbrock": 2e-4, "quadratic": 0.02}),
    ("rmsprop_centered_momentum", "RMSprop",
     {"alpha": 0.9, "eps": 1e-3, "momentum": 0.5, "centered": True},
     {"ravine": 0.01, "rosenbrock": 2e-4, "quadratic": 0.01}),
    ("adadelta", "Adadelta", {"rho": 0.9, "eps": 1e-3},
     {"ravine": 1.0, "rosenbrock": {"lr": 1.0, "eps": 1e-6}, "quadratic": 1.0}),
    ("adadelta_lr", "Adadelta", {"rho": 0.8, "eps": 1e-2},
     {"ravine": 0.5, "rosenbrock": {"lr": 0.5, "rho": 0.95, "eps": 1e-5}, "quadratic": 0.7}),
    ("adam", "Adam", {"betas": (0.8, 0.95), "eps": 1e-3},
     {"ravine": 0.1, "rosenbrock": 0.01, "quadratic": 0.05}),
    ("amsgrad", "Adam", {"betas": (0.9, 0.99), "eps": 1e-4, "amsgrad": True},
     {"ravine": 0.2, "rosenbrock": 0.02, "quadratic": 0.1}),
    ("adamw", "AdamW", {"betas": (0.85, 0.99), "eps": 1e-3, "weight_decay": 0.1},
     {"ravine": 0.1, "rosenbrock": 0.01, "quadratic": 0.05}),
    ("adamax", "Adamax", {"betas": (0.9, 0.9), "eps": 1e-3},
     {"ravine": 0.2, "rosenbrock": 0.02, "quadratic": 0.1}),
    ("nadam", "NAdam", {"betas": (0.9, 0.99), "eps": 1e-3, "momentum_decay": 0.01},
     {"ravine": 0.1, "rosenbrock": 0.01, "quadratic": 0.05}),
]

# A trajectory is kept only if a perturbation of x0 grows by less than this factor over the run:
# rounding differences (1e-16) between torch and numpy then stay far below the 1e-10 tolerance.
# (RMSprop, centered RMSprop and Adadelta on Rosenbrock with larger steps are chaotic: a 1e-15
# change of x0 moves the end point by 1e-2, so no two implementations can agree there.)
AMPLIFICATION_MAX = 100.0

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
JSON_PATH = DATA / "torch_reference.json"
NPZ_PATH = DATA / "torch_reference.npz"


def main() -> None:
    import torch  # only here: the tests never need torch

    torch.set_default_dtype(torch.float64)
    quad = quadratic_data()
    d = torch.tensor(quad["d"])
    c = torch.tensor(quad["c"])
    ravine_A = torch.diag(torch.tensor([0.2, 4.0]))

    def grad(problem, x):
        # The formulas of optlib.problems, in the same order of operations.
        if problem == "ravine":
            return x @ ravine_A  # quadratic(diag(0.2, 4)).grad: x @ A - b, b = 0
        if problem == "rosenbrock":
            a, b = 1.0, 100.0
            x1, x2 = x[..., 0], x[..., 1]
            d1 = -2 * (a - x1) - 4 * b * x1 * (x2 - x1**2)
            d2 = 2 * b * (x2 - x1**2)
            return torch.stack([d1, d2], dim=-1)
        if problem == "quadratic":
            return d * (x - c)
        raise ValueError(problem)

    starts = {**START, "quadratic": quad["x0"]}
    meta = {
        "torch_version": torch.__version__,
        "python_version": sys.version.split()[0],
        "dtype": "float64",
        "generator": "tests/generate_torch_reference.py",
        "problems": {
            "ravine": {"x0": START["ravine"], "steps": STEPS["ravine"],
                       "f": "0.1 x1^2 + 2 x2^2 (optlib.problems.ravine)"},
            "rosenbrock": {"x0": START["rosenbrock"], "steps": STEPS["rosenbrock"],
                           "f": "(1 - x1)^2 + 100 (x2 - x1^2)^2 (optlib.problems.rosenbrock)"},
            "quadratic": {"x0": quad["x0"], "d": quad["d"], "c": quad["c"],
                          "steps": STEPS["quadratic"], "f": "sum(d (x - c)^2) / 2, grad d (x - c)"},
        },
        "trajectories": {},
    }
    arrays = {}
    def trajectory(torch_name, call, problem, x0):
        p = torch.nn.Parameter(torch.tensor(x0))
        opt = getattr(torch.optim, torch_name)([p], **call)
        rows = [p.detach().clone()]
        for _ in range(STEPS[problem]):
            with torch.no_grad():
                p.grad = grad(problem, p.detach().clone())
            opt.step()
            rows.append(p.detach().clone())
        return torch.stack(rows).numpy()

    rng = np.random.default_rng(0)
    for case, torch_name, kwargs, per_problem in CASES:
        for problem, override in per_problem.items():
            if not isinstance(override, dict):
                override = {"lr": override}
            torch_kwargs = {"lr": override["lr"]}
            for k, v in {**kwargs, **override}.items():
                torch_kwargs[k] = list(v) if isinstance(v, tuple) else v
            to_optlib(torch_name, torch_kwargs)  # every keyword must be mapped
            call = {**torch_kwargs, **TORCH_FIXED[torch_name]}
            if "betas" in call:
                call["betas"] = tuple(call["betas"])
            x0 = np.array(starts[problem])
            xs = trajectory(torch_name, call, problem, x0.tolist())
            if not np.all(np.isfinite(xs)):
                raise RuntimeError(f"{case} on {problem} diverged")
            amplification = 0.0
            for _ in range(3):
                dx = 1e-10 * rng.standard_normal(x0.shape)
                moved = trajectory(torch_name, call, problem, (x0 + dx).tolist())
                amplification = max(amplification, np.abs(moved - xs).max() / np.abs(dx).max())
            key = f"{case}/{problem}"
            if amplification > AMPLIFICATION_MAX:
                raise RuntimeError(f"{key} is ill-conditioned: amplification {amplification:.3g}")
            arrays[key] = xs
            meta["trajectories"][key] = {
                "case": case, "problem": problem, "torch_optimizer": torch_name,
                "torch_kwargs": torch_kwargs, "torch_fixed": TORCH_FIXED[torch_name],
                "amplification": round(float(amplification), 3),
            }
    DATA.mkdir(exist_ok=True)
    JSON_PATH.write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    np.savez_compressed(NPZ_PATH, **arrays)
    size = JSON_PATH.stat().st_size + NPZ_PATH.stat().st_size
    print(f"torch {torch.__version__}: {len(arrays)} trajectories, {size / 1024:.0f} KiB in "
          f"{JSON_PATH.relative_to(HERE.parent)} and {NPZ_PATH.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
