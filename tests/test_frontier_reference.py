"""optlib's newer methods reproduce torch.optim 2.13 and optax 0.2.8, to 1e-10 relative, in
float64.

The reference iterates were computed with the frameworks by ``generate_frontier_reference.py``
and are stored in ``tests/data/``; this test needs neither framework. The cases, their
hyperparameters in both namings and the problem are in ``frontier_cases.py``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from frontier_cases import CASES, JSON_PATH, NPZ_PATH, SHAPES, STEPS, run_optlib

import optlib

RTOL = 1e-10
ATOL = 1e-13

META = json.loads(JSON_PATH.read_text(encoding="utf-8"))
with np.load(NPZ_PATH) as _npz:
    ARRAYS = {key: _npz[key] for key in _npz.files}
PROBLEMS = {name: {key: ARRAYS[f"problem/{name}/{key}"] for key in ("c", "target", "x0", "noise")}
            for name in SHAPES}
MATCHED = sorted(name for name, case in CASES.items() if not case.get("stock_bfloat16"))


def _run(name, **changes):
    case = CASES[name]
    factory, kwargs = case["optlib"]
    return run_optlib(getattr(optlib, factory)(**dict(kwargs, **changes)),
                      PROBLEMS[case["shape"]])


def _excess(xs, reference, rtol, atol=ATOL):
    return float((np.abs(xs - reference) - (atol + rtol * np.abs(reference))).max())


@pytest.mark.parametrize("name", MATCHED)
def test_optlib_matches_the_framework(name):
    reference = ARRAYS[f"case/{name}"]
    xs = _run(name)
    assert xs.dtype == np.float64 and xs.shape == reference.shape
    np.testing.assert_allclose(xs, reference, rtol=CASES[name].get("rtol", RTOL),
                               atol=CASES[name].get("atol", ATOL), err_msg=name)


@pytest.mark.parametrize("name", [n for n in MATCHED if CASES[n].get("perturb")
                                  or CASES[n].get("flip") or CASES[n].get("changes")])
def test_a_small_change_of_any_hyperparameter_breaks_agreement(name):
    """A 1e-5 relative change of each listed hyperparameter (Lion's decays, which act through
    a sign only, 1e-2), or a flipped option, moves the iterates outside the tolerance: the
    agreement is sharp, not a coincidence of defaults."""
    case = CASES[name]
    reference = ARRAYS[f"case/{name}"]
    kwargs = case["optlib"][1]
    tolerance = case.get("rtol", RTOL), case.get("atol", ATOL)
    defaults = {"initial_accumulator": 1e-6}
    for entry in case.get("perturb", []):
        hyper, relative = entry if isinstance(entry, tuple) else (entry, 1e-5)
        value = kwargs.get(hyper, defaults.get(hyper))
        changed = _run(name, **{hyper: value * (1 + relative)})
        assert _excess(changed, reference, *tolerance) > 0, hyper
    for hyper in case.get("flip", []):
        assert _excess(_run(name, **{hyper: not kwargs[hyper]}), reference, *tolerance) > 0, hyper
    for change in case.get("changes", []):
        assert _excess(_run(name, **change), reference, *tolerance) > 0, change


def test_reference_data_covers_every_method_the_frameworks_have():
    assert META["torch_version"].startswith("2.13.0")
    assert META["optax_version"] == "0.2.8"
    assert META["dtype"] == "float64" and META["steps"] == STEPS
    assert set(META["cases"]) == set(CASES)
    torch_methods = {c["optimizer"] for c in CASES.values() if c["framework"] == "torch"}
    optax_methods = {c["optimizer"] for c in CASES.values() if c["framework"] == "optax"}
    assert torch_methods == {"RAdam", "Adafactor", "Muon"}
    assert optax_methods == {"lion", "yogi", "adabelief", "radam",
                             "contrib.schedule_free_adamw"}
    # RAdam in both weight-decay modes; Adafactor on a matrix and a vector; Muon on a matrix
    radam_modes = {c["kwargs"]["decoupled_weight_decay"] for c in CASES.values()
                   if c["optimizer"] == "RAdam"}
    assert radam_modes == {True, False}
    adafactor_ndims = {len(SHAPES[c["shape"]]) for c in CASES.values()
                       if c["optimizer"] == "Adafactor"}
    assert adafactor_ndims == {1, 2}
    for name in CASES:
        xs = ARRAYS[f"case/{name}"]
        assert xs.shape == (STEPS + 1, *SHAPES[CASES[name]["shape"]])
        assert np.abs(xs[-1] - xs[0]).max() > 0.1, name  # each run travels


def test_torch_muon_as_shipped_is_only_bfloat16_close():
    """PyTorch's Muon orthogonalises in bfloat16 (8 significant bits), optlib in float64: the
    iterates stay close but cannot agree to float64 precision."""
    stock = ARRAYS["case/muon_bfloat16"]
    exact = ARRAYS["case/muon_nesterov"]     # same hyperparameters, float64 Newton-Schulz
    xs = _run("muon_bfloat16")
    np.testing.assert_allclose(xs, exact, rtol=RTOL, atol=ATOL)
    relative = np.abs(xs - stock).max() / np.abs(stock).max()
    assert 1e-5 < relative < 2e-2, relative
