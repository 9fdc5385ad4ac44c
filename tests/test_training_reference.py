"""optlib's digits models and training loop reproduce torch 2.13, to 1e-10 relative, in float64:
the hand-written backpropagation against ``torch.autograd``, and ``optlib.training.train``
against the same training with ``torch.optim`` (same initial weights, same minibatches).

The reference was computed with torch by ``generate_training_reference.py`` (which holds the
cases) and is stored in ``tests/data/training_reference.*``; this test does not need torch.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from generate_training_reference import (
    BATCH_SIZE,
    GRADIENT_CASES,
    JSON_PATH,
    MODELS,
    NPZ_PATH,
    RUN_CASES,
    SNAPSHOTS,
    STEPS,
    SWEEP_CASES,
    digits,
    fingerprint,
    gradient_case,
    run_batches,
)

import optlib
from optlib import training

RTOL = 1e-10
ATOL = 1e-13  # for the entries that are near 0 (parameters and gradients are of scale 0.01-1)

META = json.loads(JSON_PATH.read_text(encoding="utf-8"))
with np.load(NPZ_PATH) as _npz:
    REFERENCE = {key: _npz[key] for key in _npz.files}
DATA = digits()


def _excess(actual, reference, rtol=RTOL, atol=ATOL) -> float:
    """How far ``actual`` is outside the tolerance around ``reference`` (<= 0: inside)."""
    actual, reference = np.asarray(actual), np.asarray(reference)
    assert actual.shape == reference.shape, (actual.shape, reference.shape)
    return float((np.abs(actual - reference) - (atol + rtol * np.abs(reference))).max())


def _params(prefix: str) -> dict:
    """The stored parameters under ``prefix`` (``run/<case>/params/final`` ...), as a dict."""
    return {key[len(prefix) + 1:]: value for key, value in REFERENCE.items()
            if key.startswith(prefix + "/")}


def _assert_params_close(actual: dict, reference: dict, what: str):
    assert set(actual) == set(reference), what
    for leaf in reference:
        assert actual[leaf].dtype == np.float64, (what, leaf)
        np.testing.assert_allclose(actual[leaf], reference[leaf], rtol=RTOL, atol=ATOL,
                                   err_msg=f"{what}: {leaf}")


def _optimizer(case: dict, **changes):
    factory, kwargs = case["optlib"]
    return getattr(optlib, factory)(**dict(kwargs, **changes))


def _train(name: str, **changes):
    case = RUN_CASES[name]
    model = MODELS[case["model"]]()
    return training.train(_optimizer(case, **changes), model, model.init(seed=case["init_seed"]),
                          DATA, STEPS, batch_size=BATCH_SIZE, seed=case["batch_seed"],
                          replace=case["replace"], every=STEPS)


def _loop(name: str):
    """The run of case ``name`` written out with model.loss_and_grad and opt.update, on the
    stored minibatches: its parameters after each of SNAPSHOTS updates and its losses."""
    case = RUN_CASES[name]
    model = MODELS[case["model"]]()
    opt = _optimizer(case)
    params = model.init(seed=case["init_seed"])
    state = opt.init(params)
    snapshots, losses = {}, []
    for t, index in enumerate(REFERENCE[f"run/{name}/batches"].astype(np.int64), start=1):
        loss, grads = model.loss_and_grad(params, DATA.features[index], DATA.labels[index])
        losses.append(loss)
        step, state = opt.update(grads, state, params)
        params = {leaf: params[leaf] + step[leaf] for leaf in params}
        if t in SNAPSHOTS:
            snapshots[t] = params
    return snapshots, np.array(losses)


# --------------------------------------------------------------------------------------------
# the reference itself
# --------------------------------------------------------------------------------------------


def test_reference_data_covers_the_cases():
    assert META["torch_version"].startswith("2.13.0")
    assert META["dtype"] == "float64"
    assert (META["steps"], META["batch_size"]) == (STEPS, BATCH_SIZE)
    assert META["snapshots"] == list(SNAPSHOTS)
    assert set(META["gradients"]) == set(GRADIENT_CASES)
    assert set(META["runs"]) == set(RUN_CASES)
    assert set(META["sweeps"]) == set(SWEEP_CASES)
    # both models, both activations, every optimizer and option the issue names
    assert {c["model"] for c in GRADIENT_CASES.values()} == set(MODELS)
    assert {c["model"] for c in RUN_CASES.values()} == set(MODELS)
    assert {c["torch"][0] for c in RUN_CASES.values()} == {"Adam", "AdamW", "SGD", "RMSprop"}
    assert any(c["torch"][1].get("amsgrad") for c in RUN_CASES.values())
    assert any(c["torch"][1].get("nesterov") for c in RUN_CASES.values())
    assert {c["replace"] for c in RUN_CASES.values()} == {True, False}
    assert {c["per_config_batches"] for c in SWEEP_CASES.values()} == {True, False}
    for key, value in REFERENCE.items():
        if "batches" not in key and "index" not in key:
            assert value.dtype == np.float64, key
    size = JSON_PATH.stat().st_size + NPZ_PATH.stat().st_size
    assert size < 1_000_000, size


def test_every_reference_run_trains():
    """Each torch run lowers its minibatch loss well below log(10) = 2.30 (the loss of
    uniform predictions) and moves every parameter leaf: the runs are not trivial."""
    for name, case in RUN_CASES.items():
        losses = REFERENCE[f"run/{name}/batch_loss"]
        assert losses.shape == (STEPS,)
        assert losses[:3].mean() > 2.0 and losses[-10:].mean() < 0.7, (name, losses[-10:])
        start = MODELS[case["model"]]().init(seed=case["init_seed"])
        final = _params(f"run/{name}/params/final")
        for leaf in start:
            assert np.abs(final[leaf] - start[leaf]).max() > 1e-3, (name, leaf)


def test_the_data_initial_weights_and_minibatches_are_optlibs():
    """The reference was made from optlib's data set, its model.init and its batch_indices:
    if any of them changes, this test says which (then rerun the generator)."""
    data = META["data"]
    assert (data["name"], data["n"]) == (DATA.name, len(DATA.labels))
    np.testing.assert_allclose(fingerprint(DATA.features), data["features"], rtol=1e-12)
    np.testing.assert_allclose(fingerprint(DATA.labels), data["labels"], rtol=1e-12)
    for key, stored in META["init"].items():
        model_name, seed, *configs = key.split("/")
        configs = int(configs[0][1:]) if configs else None
        params = MODELS[model_name]().init(seed=int(seed), configs=configs)
        assert set(params) == set(stored), key
        for leaf, value in params.items():
            np.testing.assert_allclose(fingerprint(value), stored[leaf], rtol=1e-12,
                                       err_msg=f"init {key} {leaf}")
    n = len(DATA.labels)
    for name in GRADIENT_CASES:
        _, index = gradient_case(name, DATA)
        np.testing.assert_array_equal(index, REFERENCE[f"gradient/{name}/index"], err_msg=name)
    for name, case in RUN_CASES.items():
        np.testing.assert_array_equal(run_batches(case, n), REFERENCE[f"run/{name}/batches"],
                                      err_msg=name)
    for name, case in SWEEP_CASES.items():
        K = len(case["lrs"])
        batches = run_batches(case, n, configs=K if case["per_config_batches"] else None)
        np.testing.assert_array_equal(batches, REFERENCE[f"sweep/{name}/batches"], err_msg=name)


# --------------------------------------------------------------------------------------------
# gradients: backpropagation by hand against torch.autograd
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(GRADIENT_CASES))
def test_gradient_matches_autograd(name):
    case = GRADIENT_CASES[name]
    model = MODELS[case["model"]]()
    params, index = gradient_case(name, DATA)
    X, y = DATA.features[index], DATA.labels[index]
    loss, grads = model.loss_and_grad(params, X, y)
    reference = _params(f"gradient/{name}/grad")
    assert set(grads) == set(reference) == set(params)
    np.testing.assert_allclose(loss, REFERENCE[f"gradient/{name}/loss"], rtol=RTOL, atol=0)
    np.testing.assert_allclose(model.loss(params, X, y), loss, rtol=RTOL, atol=0)
    _assert_params_close(grads, reference, name)
    for leaf in reference:  # every leaf carries signal: the comparison is not of zeros
        assert np.abs(reference[leaf]).max() > 1e-3, (name, leaf)


def test_gradient_comparison_tells_the_activations_apart():
    """The same parameters and batch with the other activation (tanh vs relu) give gradients
    far outside the tolerance: agreement is not a property of any two MLP gradients."""
    params, index = gradient_case("mlp_tanh_init", DATA)
    X, y = DATA.features[index], DATA.labels[index]
    reference = _params("gradient/mlp_tanh_init/grad")
    _, relu = MODELS["mlp_relu"]().loss_and_grad(params, X, y)
    assert all(_excess(relu[leaf], reference[leaf]) > 1e-4 for leaf in reference)


# --------------------------------------------------------------------------------------------
# training runs: optlib.training.train against torch.optim
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(RUN_CASES))
def test_training_run_matches_torch_optim(name):
    run = _train(name)
    np.testing.assert_allclose(run.batch_loss, REFERENCE[f"run/{name}/batch_loss"],
                               rtol=RTOL, atol=0, err_msg=name)
    _assert_params_close(run.params, _params(f"run/{name}/params/final"), name)


@pytest.mark.parametrize("name", sorted(RUN_CASES))
def test_update_loop_matches_torch_optim_along_the_way(name):
    """The same run, written as a loop over the stored minibatches, agrees after each of
    SNAPSHOTS updates too (and its minibatch losses are the reference's)."""
    snapshots, losses = _loop(name)
    np.testing.assert_allclose(losses, REFERENCE[f"run/{name}/batch_loss"], rtol=RTOL, atol=0)
    for t in SNAPSHOTS:
        _assert_params_close(snapshots[t], _params(f"run/{name}/params/{t}"), f"{name} t={t}")


@pytest.mark.parametrize("name", sorted(RUN_CASES))
def test_a_small_change_of_a_hyperparameter_breaks_agreement(name):
    """A 1e-5 relative change of each listed hyperparameter, or a flipped option, moves the
    final parameters outside the tolerance: the agreement is sharp."""
    case = RUN_CASES[name]
    reference = _params(f"run/{name}/params/final")
    defaults = {"beta1": 0.9, "beta2": 0.999, "momentum": 0.0}
    kwargs = case["optlib"][1]
    changes = [{hyper: kwargs.get(hyper, defaults.get(hyper)) * (1 + 1e-5)}
               for hyper in case["perturb"]]
    changes += [{flag: not kwargs.get(flag, False)} for flag in case.get("flip", [])]
    assert changes
    for change in changes:
        params = _train(name, **change).params
        assert max(_excess(params[leaf], reference[leaf]) for leaf in reference) > 0, change


@pytest.mark.parametrize("name", sorted(SWEEP_CASES))
def test_vectorised_sweep_matches_separate_torch_runs(name):
    """K models (their own initial weights and learning rates, their own or shared minibatches)
    in ONE optlib.training.train run equal K separate torch.optim runs."""
    case = SWEEP_CASES[name]
    model = MODELS[case["model"]]()
    K = len(case["lrs"])
    lr = optlib.grid(np.array(case["lrs"]), event_ndim=2)[0]  # shape (K, 1, 1)
    run = training.train(_optimizer(case, lr=lr), model,
                         model.init(seed=case["init_seed"], configs=K), DATA, STEPS,
                         batch_size=BATCH_SIZE, seed=case["batch_seed"], every=STEPS,
                         per_config_batches=case["per_config_batches"])
    np.testing.assert_allclose(run.batch_loss, REFERENCE[f"sweep/{name}/batch_loss"],
                               rtol=RTOL, atol=0, err_msg=name)
    _assert_params_close(run.params, _params(f"sweep/{name}/params/final"), name)
    # the learning rates differ enough that no two configurations are alike
    finals = REFERENCE[f"sweep/{name}/batch_loss"][-10:].mean(axis=0)
    assert np.all(np.abs(np.diff(finals)) > 0.05), finals
