"""optlib reproduces torch.optim's iterates, to 1e-10 relative, in float64.

The reference trajectories were computed with torch.optim by ``generate_torch_reference.py``
(which holds the mapping of hyperparameter names, :data:`TORCH_TO_OPTLIB`) and are stored in
``tests/data/``; this test does not need torch.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from generate_torch_reference import (
    AMPLIFICATION_MAX,
    JSON_PATH,
    NPZ_PATH,
    TORCH_TO_OPTLIB,
    to_optlib,
)

import optlib

RTOL = 1e-10
ATOL = 1e-13  # for coordinates that converge to 0 (the problems are of scale 1)

META = json.loads(Path(JSON_PATH).read_text(encoding="utf-8"))
with np.load(NPZ_PATH) as _npz:
    REFERENCE = {key: _npz[key] for key in _npz.files}
KEYS = sorted(META["trajectories"])


def _grad_fn(problem: str):
    if problem == "ravine":
        return optlib.problems.ravine().grad
    if problem == "rosenbrock":
        return optlib.problems.rosenbrock().grad
    if problem == "quadratic":
        spec = META["problems"]["quadratic"]
        d, c = np.array(spec["d"]), np.array(spec["c"])
        return lambda x: d * (x - c)
    raise ValueError(problem)


def _run(key: str, **changes):
    """The optlib trajectory of reference ``key``, with optlib hyperparameters ``changes``."""
    entry = META["trajectories"][key]
    name, kwargs = to_optlib(entry["torch_optimizer"], entry["torch_kwargs"])
    kwargs.update(changes)
    problem = META["problems"][entry["problem"]]
    opt = getattr(optlib, name)(**kwargs)
    return optlib.run(opt, _grad_fn(entry["problem"]), np.array(problem["x0"]), problem["steps"])


@pytest.mark.parametrize("key", KEYS)
def test_optlib_matches_torch(key):
    reference = REFERENCE[key]
    xs = _run(key)
    assert xs.dtype == np.float64
    assert xs.shape == reference.shape
    np.testing.assert_allclose(xs, reference, rtol=RTOL, atol=ATOL, err_msg=key)


def test_reference_data_covers_every_torch_method():
    assert META["torch_version"].startswith("2.13.0")
    assert META["dtype"] == "float64"
    assert set(REFERENCE) == set(KEYS)
    cases = {entry["case"] for entry in META["trajectories"].values()}
    assert {
        "sgd", "sgd_momentum", "sgd_nesterov", "adagrad", "adagrad_initial_accumulator",
        "rmsprop", "rmsprop_momentum", "rmsprop_centered", "rmsprop_centered_momentum",
        "adadelta", "adadelta_lr", "adam", "amsgrad", "adamw", "adamax", "nadam",
    } <= cases
    assert {e["torch_optimizer"] for e in META["trajectories"].values()} == set(TORCH_TO_OPTLIB)
    for case in cases:  # every case runs on the three problems, including the 3x4 array
        problems = {e["problem"] for e in META["trajectories"].values() if e["case"] == case}
        assert problems == {"ravine", "rosenbrock", "quadratic"}, case
    assert REFERENCE["adam/quadratic"].shape == (META["problems"]["quadratic"]["steps"] + 1, 3, 4)
    size = Path(JSON_PATH).stat().st_size + Path(NPZ_PATH).stat().st_size
    assert size < 1_000_000
    # well-conditioned trajectories only: a perturbation of x0 grows at most 100-fold
    assert max(e["amplification"] for e in META["trajectories"].values()) <= AMPLIFICATION_MAX


def test_reference_hyperparameters_are_not_the_defaults():
    """Non-default values, so that a wrong default in the mapping cannot go unnoticed."""
    for key, entry in META["trajectories"].items():
        kwargs = entry["torch_kwargs"]
        if entry["torch_optimizer"] != "SGD":
            assert "eps" in kwargs, key
        for name in ("alpha", "rho", "betas", "momentum_decay", "initial_accumulator_value"):
            defaults = {"alpha": 0.99, "rho": 0.9, "betas": [0.9, 0.999],
                        "momentum_decay": 4e-3, "initial_accumulator_value": 0.0}
            if name in kwargs and name != "rho":
                assert kwargs[name] != defaults[name], (key, name)


def test_trajectories_are_distinct_and_move():
    """Each trajectory travels, and no two methods give the same iterates on a problem."""
    for key, xs in REFERENCE.items():
        assert np.abs(xs[-1] - xs[0]).max() > 1e-2, key
    by_problem: dict[str, list[str]] = {}
    for key, entry in META["trajectories"].items():
        by_problem.setdefault(entry["problem"], []).append(key)
    for keys in by_problem.values():
        for i, a in enumerate(keys):
            for b in keys[i + 1:]:
                assert not np.allclose(REFERENCE[a], REFERENCE[b], rtol=1e-6, atol=1e-9), (a, b)


def _perturbations(key):
    """optlib hyperparameter changes that must break the agreement with torch."""
    entry = META["trajectories"][key]
    name, kwargs = to_optlib(entry["torch_optimizer"], entry["torch_kwargs"])
    for hyper, value in kwargs.items():
        if isinstance(value, bool):
            yield hyper, {hyper: not value}
        elif value != 0:
            yield hyper, {hyper: value * (1 + 1e-5)}
    if name == "rmsprop":
        yield "eps_inside_sqrt", {"eps_inside_sqrt": True}
        if not kwargs.get("centered", False):
            yield "centered", {"centered": True}
        if kwargs.get("momentum", 0) > 0 and not kwargs.get("nesterov", False):
            yield "nesterov", {"nesterov": True}
    if name == "adam" and not kwargs.get("amsgrad", False):
        yield "amsgrad", {"amsgrad": True}
    if name == "momentum" and not kwargs.get("nesterov", False):
        yield "nesterov", {"nesterov": True}


CASES = sorted({entry["case"] for entry in META["trajectories"].values()})


@pytest.mark.parametrize("case", CASES)
def test_reference_detects_wrong_hyperparameters(case):
    """The comparison is sharp: a 1e-5 relative change of any hyperparameter (eps included:
    its placement matters at the sizes used), or a flipped option (nesterov, centered, amsgrad,
    eps inside the root), moves the iterates outside the tolerance on at least one of the
    case's problems (eps is negligible against Rosenbrock's large gradients, not elsewhere)."""
    keys = [k for k, e in META["trajectories"].items() if e["case"] == case]
    detected: dict[str, bool] = {}
    for key in keys:
        reference = REFERENCE[key]
        for hyper, change in _perturbations(key):
            xs = _run(key, **change)
            excess = np.abs(xs - reference) - (ATOL + RTOL * np.abs(reference))
            detected[hyper] = detected.get(hyper, False) or bool(excess.max() > 0)
    assert "lr" in detected
    assert all(detected.values()), detected
