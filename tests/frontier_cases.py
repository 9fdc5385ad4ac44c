"""The reference cases for optlib's newer methods (optlib/frontier.py) against torch.optim 2.13
and optax 0.2.8: shared by ``generate_frontier_reference.py`` (which runs the frameworks) and
``test_frontier_reference.py`` (which needs neither).

Every case runs one parameter array for :data:`STEPS` steps on a noisy, non-convex problem

.. math::

    g_t(x) = c \\odot (x - x^\\star) + 0.3 \\sin(3x) + 0.5\\, \\xi_t,

with ``c`` uniform in [0.1, 2], ``x*``, ``x0`` and the noise ``xi_t`` (fixed per step) standard
normal. The gradient is computed by :func:`gradient` in NumPy on both sides (the generator
hands it to the framework as the parameter's gradient), so both see the same numbers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

STEPS = 60
DATA = Path(__file__).resolve().parent / "data"
JSON_PATH = DATA / "frontier_reference.json"
NPZ_PATH = DATA / "frontier_reference.npz"

SHAPES = {"matrix": (4, 5), "tall": (6, 4), "wide": (3, 5), "vector": (7,)}


def make_problem(shape_name: str) -> dict:
    """The problem's arrays for one shape (the generator stores them; the test reads them)."""
    shape = SHAPES[shape_name]
    rng = np.random.default_rng(sorted(SHAPES).index(shape_name) + 2026)
    return {
        "c": rng.uniform(0.1, 2.0, shape),
        "target": rng.normal(size=shape),
        "x0": rng.normal(size=shape),
        "noise": rng.normal(size=(STEPS, *shape)),
    }


def gradient(x, t: int, problem: dict):
    """The gradient at ``x`` in step ``t`` (counting from 1)."""
    return (problem["c"] * (x - problem["target"]) + 0.3 * np.sin(3 * x)
            + 0.5 * problem["noise"][t - 1])


def run_optlib(opt, problem: dict, steps: int = STEPS):
    """optlib's iterates, ``steps + 1`` rows from ``x0``, with the step-dependent gradient."""
    x = np.array(problem["x0"], dtype=float)
    state = opt.init(x)
    xs = [x]
    for t in range(1, steps + 1):
        step, state = opt.update(gradient(x, t, problem), state, x)
        x = x + step
        xs.append(x)
    return np.stack(xs)


# Each case: the framework, its optimizer and keywords (in the framework's names), the optlib
# factory and keywords that must give the same iterates, the shape, the relative tolerance, and
# the optlib hyperparameters that a small change (relative 1e-5, or as given in a pair) must
# detect ("perturb"), the options whose flip it must detect ("flip"), and other changes of
# the optlib keywords it must detect ("changes").
CASES: dict[str, dict] = {
    "radam_l2": dict(
        framework="torch", optimizer="RAdam",
        kwargs=dict(lr=0.05, betas=(0.85, 0.99), eps=1e-3, weight_decay=0.1,
                    decoupled_weight_decay=False, foreach=False),
        optlib=("radam", dict(lr=0.05, beta1=0.85, beta2=0.99, eps=1e-3, weight_decay=0.1,
                              decoupled_weight_decay=False)),
        shape="matrix", perturb=["lr", "beta1", "beta2", "eps", "weight_decay"],
        flip=["decoupled_weight_decay"]),
    "radam_decoupled": dict(
        framework="torch", optimizer="RAdam",
        kwargs=dict(lr=0.04, betas=(0.8, 0.995), eps=1e-4, weight_decay=0.2,
                    decoupled_weight_decay=True, foreach=False),
        optlib=("radam", dict(lr=0.04, beta1=0.8, beta2=0.995, eps=1e-4, weight_decay=0.2,
                              decoupled_weight_decay=True)),
        shape="vector", perturb=["lr", "beta1", "beta2", "eps", "weight_decay"],
        flip=["decoupled_weight_decay"]),
    "adafactor_matrix": dict(
        framework="torch", optimizer="Adafactor",
        # eps1 large enough that its floors act on some entries, so that it is tested
        kwargs=dict(lr=0.05, beta2_decay=-0.7, eps=(0.5, 1e-3), d=1.05, weight_decay=0.1,
                    foreach=False),
        optlib=("adafactor", dict(lr=0.05, beta2_decay=-0.7, eps1=0.5, eps2=1e-3, d=1.05,
                                  weight_decay=0.1)),
        shape="tall", perturb=["lr", "beta2_decay", "eps1", "d", "weight_decay"]),
    "adafactor_scale_floor": dict(
        framework="torch", optimizer="Adafactor",
        # eps2 above the parameters' RMS: the scale floor acts
        kwargs=dict(lr=0.08, beta2_decay=-0.5, eps=(None, 2.0), d=1.02, weight_decay=0.0,
                    foreach=False),
        optlib=("adafactor", dict(lr=0.08, beta2_decay=-0.5, eps1=None, eps2=2.0, d=1.02)),
        shape="wide", perturb=["lr", "beta2_decay", "eps2", "d"]),
    "adafactor_vector": dict(
        framework="torch", optimizer="Adafactor",
        kwargs=dict(lr=0.05, beta2_decay=-0.6, eps=(1e-3, 1e-3), d=1.0, weight_decay=0.05,
                    foreach=False),
        optlib=("adafactor", dict(lr=0.05, beta2_decay=-0.6, eps1=1e-3, eps2=1e-3, d=1.0,
                                  weight_decay=0.05)),
        shape="vector", perturb=["lr", "beta2_decay", "d", "weight_decay"]),
    "muon_nesterov": dict(
        framework="torch", optimizer="Muon", patch="float64_newton_schulz",
        kwargs=dict(lr=0.02, weight_decay=0.05, momentum=0.9, nesterov=True),
        optlib=("muon", dict(lr=0.02, weight_decay=0.05, momentum=0.9, nesterov=True)),
        shape="tall", perturb=["lr", "weight_decay", "momentum"], flip=["nesterov"]),
    "muon_adamw_rms": dict(
        framework="torch", optimizer="Muon", patch="float64_newton_schulz",
        kwargs=dict(lr=0.01, weight_decay=0.1, momentum=0.8, nesterov=False, ns_steps=4,
                    adjust_lr_fn="match_rms_adamw"),
        optlib=("muon", dict(lr=0.01, weight_decay=0.1, momentum=0.8, nesterov=False,
                             ns_steps=4, adjust_lr_fn="match_rms_adamw")),
        shape="wide", perturb=["lr", "weight_decay", "momentum"], flip=["nesterov"],
        # the quintic's coefficients (each 1e-5 relative), one more iteration, the other rule
        # for the learning rate; eps is a floor of the Frobenius norm that never acts here
        changes=[{"ns_coefficients": (3.4445 * (1 + 1e-5), -4.775, 2.0315)},
                 {"ns_coefficients": (3.4445, -4.775 * (1 + 1e-5), 2.0315)},
                 {"ns_coefficients": (3.4445, -4.775, 2.0315 * (1 + 1e-5))},
                 {"ns_steps": 5}, {"adjust_lr_fn": None}]),
    "muon_bfloat16": dict(
        framework="torch", optimizer="Muon",  # PyTorch as shipped: Newton-Schulz in bfloat16
        kwargs=dict(lr=0.02, weight_decay=0.05, momentum=0.9, nesterov=True),
        optlib=("muon", dict(lr=0.02, weight_decay=0.05, momentum=0.9, nesterov=True)),
        shape="tall", stock_bfloat16=True),
    "lion": dict(
        framework="optax", optimizer="lion",
        kwargs=dict(learning_rate=0.01, b1=0.8, b2=0.95, weight_decay=0.05),
        optlib=("lion", dict(lr=0.01, beta1=0.8, beta2=0.95, weight_decay=0.05)),
        # the decays act only through a sign: a 1e-5 change flips none here, 1e-2 does
        shape="matrix", perturb=["lr", ("beta1", 1e-2), ("beta2", 1e-2), "weight_decay"]),
    "yogi": dict(
        framework="optax", optimizer="yogi",
        kwargs=dict(learning_rate=0.05, b1=0.85, b2=0.99, eps=1e-2),
        optlib=("yogi", dict(lr=0.05, beta1=0.85, beta2=0.99, eps=1e-2)),
        shape="matrix", perturb=["lr", "beta1", "beta2", "eps", "initial_accumulator"]),
    "adabelief": dict(
        framework="optax", optimizer="adabelief",
        kwargs=dict(learning_rate=0.02, b1=0.8, b2=0.99, eps=1e-3, eps_root=1e-4),
        optlib=("adabelief", dict(lr=0.02, beta1=0.8, beta2=0.99, eps=1e-3, eps_root=1e-4)),
        shape="vector", perturb=["lr", "beta1", "beta2", "eps", "eps_root"]),
    "radam_optax": dict(
        # optax puts eps on the bias-corrected root, torch (and optlib) on the raw one: they
        # agree exactly at eps = 0, which is what this case checks.
        framework="optax", optimizer="radam",
        kwargs=dict(learning_rate=0.05, b1=0.85, b2=0.99, eps=0.0),
        optlib=("radam", dict(lr=0.05, beta1=0.85, beta2=0.99, eps=0.0)),
        shape="matrix", perturb=["lr", "beta1", "beta2"]),
    "schedule_free_adamw": dict(
        framework="optax", optimizer="contrib.schedule_free_adamw",
        kwargs=dict(learning_rate=0.02, b1=0.85, b2=0.99, eps=1e-3, weight_decay=0.05),
        optlib=("schedule_free_adamw", dict(lr=0.02, beta1=0.85, beta2=0.99, eps=1e-3,
                                            weight_decay=0.05)),
        # with a constant rate every averaging weight is lr**p, so p cannot matter here
        shape="matrix", perturb=["lr", "beta1", "beta2", "eps", "weight_decay"]),
    "schedule_free_adamw_warmup": dict(
        framework="optax", optimizer="contrib.schedule_free_adamw",
        kwargs=dict(learning_rate=0.03, b1=0.9, b2=0.95, eps=1e-3, weight_decay=0.02,
                    warmup_steps=10, weight_lr_power=1.5),
        optlib=("schedule_free_adamw", dict(lr=0.03, beta1=0.9, beta2=0.95, eps=1e-3,
                                            weight_decay=0.02, warmup_steps=10,
                                            weight_lr_power=1.5)),
        # optax computes the warmup schedule in float32 (its step counter is an int32), so
        # its rates differ from optlib's float64 ones by ~1e-8 relative
        shape="vector", rtol=1e-6, atol=1e-7, perturb=["lr", "beta1", "weight_lr_power"]),
}
