"""Parameters that are containers of arrays (optlib.tree), and recording only what is asked.

Every factory of optlib.methods and optlib.frontier runs on a dict of a (3, 2) matrix and a
(2,) vector, leaf by leaf, bit-identical to running each leaf on its own; nested containers,
NamedTuple parameters, SymPy leaves and sweeps too. Wrong structures are ValueErrors that say
what was expected and what came. ``optlib.run(record=..., every=...)`` keeps only what is asked,
checked by the shapes it allocates and by the peak memory of a long run.
"""

from __future__ import annotations

import inspect
import tracemalloc
from typing import Any, NamedTuple

import numpy as np
import pytest
from method_cases import METHODS

import optlib
from optlib import tree

# Every factory with settings that use all its code (weight decay needs x, say).
FRONTIER = {
    "radam": (optlib.radam, {"lr": 0.05, "weight_decay": 0.1}),
    "radam_decoupled": (optlib.radam, {"lr": 0.05, "weight_decay": 0.1,
                                       "decoupled_weight_decay": True}),
    "adabelief": (optlib.adabelief, {"lr": 0.05}),
    "yogi": (optlib.yogi, {"lr": 0.05}),
    "lion": (optlib.lion, {"lr": 0.01, "weight_decay": 0.1}),
    "adafactor": (optlib.adafactor, {"lr": 0.05, "weight_decay": 0.1}),
    "muon": (optlib.muon, {"lr": 0.02, "weight_decay": 0.05}),
    "schedule_free_adamw": (optlib.schedule_free_adamw, {"lr": 0.05, "warmup_steps": 3,
                                                         "weight_decay": 0.01}),
}
CASES = {**METHODS, **FRONTIER}
NAMES = sorted(CASES)
NOT_FACTORIES = {"newton_schulz", "schedule_free_eval_params"}


def make(name, **changes):
    constructor, kwargs = CASES[name]
    return constructor(**{**kwargs, **changes})


def _factories():
    names = set()
    for module in (optlib.methods, optlib.frontier):
        for name in module.__all__:
            if inspect.isfunction(getattr(module, name)) and name not in NOT_FACTORIES:
                names.add(name)
    return names


def test_every_factory_is_covered():
    assert {constructor.__name__ for constructor, _ in CASES.values()} == _factories()


def test_a_replaced_update_acts_leaf_by_leaf_too():
    opt = optlib.gd(0.5)
    negated = opt._replace(update=lambda grad, state, x=None: (-grad, state))
    step, _ = negated.update({"a": np.ones(2), "b": 3.0}, negated.init({"a": 0.0, "b": 0.0}))
    assert step["a"].tolist() == [-1.0, -1.0] and step["b"] == -3.0
    assert negated.name == "GD" and isinstance(negated, optlib.Optimizer)


def _params(name):
    """A (3, 2) matrix and a (2,) vector; Muon refuses vectors, so it gets a (2, 4) matrix."""
    rng = np.random.default_rng(7)
    second = (2, 4) if name == "muon" else (2,)
    return {"w": rng.normal(size=(3, 2)), "b": rng.normal(size=second)}


def _leaf_grad(seed, shape):
    """A non-convex gradient for one leaf, acting on that leaf alone."""
    rng = np.random.default_rng(seed)
    c, target = rng.uniform(0.1, 2.0, shape), rng.normal(size=shape)
    return lambda x: c * (x - target) + 0.3 * np.sin(3 * x)


def _container_grad(params):
    grads = {key: _leaf_grad(i, np.shape(value)) for i, (key, value) in
             enumerate(sorted(params.items()))}
    return grads, lambda p: {key: grads[key](p[key]) for key in p}


def _assert_same_state(a, b):
    assert type(a) is type(b)
    for left, right in zip(a, b, strict=True):
        if left is None or isinstance(left, int):
            assert left == right
        else:
            np.testing.assert_array_equal(left, right)
            assert np.asarray(left).dtype == np.asarray(right).dtype


@pytest.mark.parametrize("name", NAMES)
def test_a_container_runs_leaf_by_leaf_bit_identical(name):
    opt = make(name)
    params = _params(name)
    leaf_grads, grad = _container_grad(params)
    xs, states = optlib.run(opt, grad, params, 12, return_states=True)
    assert isinstance(xs, dict) and list(xs) == list(params)
    for key, x0 in params.items():
        alone, alone_states = optlib.run(opt, leaf_grads[key], x0, 12, return_states=True)
        assert xs[key].shape == (13, *x0.shape)
        np.testing.assert_array_equal(xs[key], alone)
        assert not np.array_equal(xs[key][-1], x0)
        for state, alone_state in zip(states, alone_states, strict=True):
            assert list(state) == list(params)
            _assert_same_state(state[key], alone_state)


@pytest.mark.parametrize("name", NAMES)
def test_update_returns_containers_of_steps_and_states(name):
    opt = make(name)
    params = _params(name)
    _, grad = _container_grad(params)
    state = opt.init(params)
    step, new_state = opt.update(grad(params), state, params)
    assert list(step) == list(params) and list(new_state) == list(params)
    for key in params:
        leaf_step, leaf_state = opt.update(grad(params)[key], opt.init(params[key]), params[key])
        np.testing.assert_array_equal(step[key], leaf_step)
        _assert_same_state(new_state[key], leaf_state)


class Layer(NamedTuple):
    weight: Any
    bias: Any


def test_nested_containers_and_namedtuple_parameters():
    rng = np.random.default_rng(3)
    params = {"hidden": Layer(rng.normal(size=(4, 3)), rng.normal(size=4)),
              "out": [rng.normal(size=(2, 4)), (rng.normal(size=2),)]}
    leaves, structure = tree.flatten(params)
    assert tree.leaf_paths(structure) == ["['hidden'].weight", "['hidden'].bias",
                                          "['out'][0]", "['out'][1][0]"]
    grads = [_leaf_grad(i, leaf.shape) for i, leaf in enumerate(leaves)]

    def grad(p):
        return tree.unflatten(structure, [g(leaf) for g, leaf in
                                          zip(grads, tree.flatten(p)[0], strict=True)])

    opt = optlib.adam(lr=0.05)
    xs, states = optlib.run(opt, grad, params, 9, return_states=True)
    assert isinstance(xs["hidden"], Layer) and isinstance(xs["out"], list)
    assert isinstance(xs["out"][1], tuple)
    assert isinstance(states[-1]["hidden"], Layer)
    assert isinstance(states[-1]["hidden"].weight, optlib.AdamState)
    for g, leaf, trajectory in zip(grads, leaves, tree.flatten(xs)[0], strict=True):
        np.testing.assert_array_equal(trajectory, optlib.run(opt, g, leaf, 9))


def test_namedtuple_parameters_against_a_namedtuple_state():
    """A NamedTuple of parameters is a container; its state is that NamedTuple of states."""
    params = Layer(np.ones((2, 2)), np.zeros(2))
    opt = optlib.momentum(0.1, 0.9)
    state = opt.init(params)
    assert isinstance(state, Layer) and isinstance(state.bias, optlib.MomentumState)
    step, state = opt.update(Layer(np.ones((2, 2)), np.ones(2)), state, params)
    assert isinstance(step, Layer)
    np.testing.assert_array_equal(step.bias, [-0.1, -0.1])
    with pytest.raises(ValueError, match=r"state does not have the structure .*expected a "
                                         r"Layer \(NamedTuple\).* got a MomentumState"):
        opt.update(Layer(np.ones((2, 2)), np.ones(2)), opt.init(np.zeros(2)), params)


def test_sympy_leaves():
    sp = pytest.importorskip("sympy")
    w, b, g, h, eta = sp.symbols("w b g h eta", positive=True)
    opt = optlib.adam(lr=eta, eps=0)
    step, state = opt.update({"w": g, "b": h}, opt.init({"w": w, "b": b}), {"w": w, "b": b})
    assert sp.simplify(step["w"] + eta) == 0 and sp.simplify(step["b"] + eta) == 0
    xs = optlib.run(optlib.gd(eta), lambda p: {"w": 2 * p["w"], "b": 1}, {"w": w, "b": b}, 2)
    assert isinstance(xs["w"], list) and len(xs["w"]) == 3
    assert sp.expand(xs["w"][2] - w * (1 - 2 * eta) ** 2) == 0
    assert sp.expand(xs["b"][2] - (b - 2 * eta)) == 0


def test_a_list_of_numbers_is_still_one_array():
    assert not tree.is_container([1.0, 2.0]) and not tree.is_container([[1, 0], [0, 1]])
    assert not tree.is_container(np.ones(3)) and not tree.is_container(2.0)
    assert tree.is_container((np.ones(2), np.ones(3))) and tree.is_container({})
    xs = optlib.run(optlib.gd(0.5), lambda x: x, [4.0, 2.0], 1)
    assert isinstance(xs, np.ndarray) and xs.tolist() == [[4.0, 2.0], [2.0, 1.0]]


@pytest.mark.parametrize("name", ["adam", "lion", "adafactor", "schedule_free_adamw"])
def test_a_sweep_over_a_container(name):
    lrs = np.array([0.01, 0.03, 0.05])
    params = _params(name)
    leaf_grads, grad = _container_grad(params)
    xs = optlib.run(make(name, lr=lrs.reshape(3, 1, 1)), grad, params, 8)
    assert xs["w"].shape == (9, 3, 3, 2) and xs["b"].shape == (9, 3, 1, 2)
    for k, lr in enumerate(lrs):
        for key, x0 in params.items():
            alone = optlib.run(make(name, lr=float(lr)), leaf_grads[key], x0, 8)
            np.testing.assert_array_equal(xs[key][:, k].reshape(alone.shape), alone)


def test_schedule_free_eval_params_on_a_container():
    params = _params("schedule_free_adamw")
    _, grad = _container_grad(params)
    opt = make("schedule_free_adamw")
    xs, states = optlib.run(opt, grad, params, 5, return_states=True)
    y = {key: value[-1] for key, value in xs.items()}
    average = optlib.schedule_free_eval_params(opt, states[-1], y)
    for key in params:
        np.testing.assert_array_equal(
            average[key], optlib.schedule_free_eval_params(opt, states[-1][key], y[key]))


# --- bad structures --------------------------------------------------------------------------


def test_update_with_a_mismatched_gradient():
    opt = optlib.adam()
    params = {"w": np.ones((3, 2)), "b": np.zeros(2)}
    state = opt.init(params)
    with pytest.raises(ValueError, match=r"grad does not have the structure of the parameters: "
                                         r"expected a dict with keys \['w', 'b'\] at grad, got "
                                         r"a dict with keys \['w'\]"):
        opt.update({"w": np.ones((3, 2))}, state, params)
    with pytest.raises(ValueError, match=r"expected a dict .* got a list of 2 items"):
        opt.update([np.ones((3, 2)), np.ones(2)], state, params)
    with pytest.raises(ValueError, match=r"expected a leaf .* at grad\['b'\], got a dict"):
        opt.update({"w": np.ones((3, 2)), "b": {"c": np.ones(2)}}, state, params)
    with pytest.raises(ValueError, match=r"expected a dict .* at state, got an AdamState"):
        opt.update({"w": np.ones((3, 2)), "b": np.ones(2)}, opt.init(np.ones(2)), params)
    with pytest.raises(ValueError, match=r"^leaf x\['b'\]: grad has shape \(3,\)"):
        opt.update({"w": np.ones((3, 2)), "b": np.ones(3)}, state, params)
    with pytest.raises(ValueError, match=r"^leaf x\['b'\]: grad is None"):
        opt.update({"w": np.ones((3, 2)), "b": None}, state, params)


def test_muon_names_the_vector_leaf():
    with pytest.raises(ValueError, match=r"^leaf x\['b'\]: muon acts on matrices.*shape \(2,\)"):
        optlib.muon().init({"w": np.ones((3, 2)), "b": np.zeros(2)})


def test_run_names_the_leaf_of_a_bad_gradient():
    params = {"w": np.ones((3, 2)), "b": np.zeros(2)}
    with pytest.raises(ValueError, match=r"grad_fn returned a gradient at step 1 that does not "
                                         r"have the structure .*got a dict with keys \['w'\]"):
        optlib.run(optlib.gd(0.1), lambda p: {"w": p["w"]}, params, 3)
    with pytest.raises(ValueError, match=r"grad_fn returned None at step 1 \(for x\['b'\] of "
                                         r"shape \(2,\)\)"):
        optlib.run(optlib.gd(0.1), lambda p: {"w": p["w"], "b": None}, params, 3)
    with pytest.raises(ValueError, match=r"grad_fn returned None at step 1 \(for x a dict"):
        optlib.run(optlib.gd(0.1), lambda p: None, params, 3)
    with pytest.raises(ValueError, match=r"gradient of shape \(4, 2\) at step 1 for x\['b'\] "
                                         r"of shape \(2,\).*widen the iterates to \(4, 2\)"):
        optlib.run(optlib.gd(0.1), lambda p: {"w": p["w"], "b": np.ones((4, 2))}, params, 3)
    # a sweep's row still broadcasts: a gradient of the sweep's shape is fine
    xs = optlib.run(optlib.gd(np.array([0.1, 0.2]).reshape(2, 1)),
                    lambda p: {"w": p["w"], "b": p["b"] + 1}, {"w": np.ones(2), "b": 0.0}, 2)
    assert xs["w"].shape == (3, 2, 2) and xs["b"].shape == (3, 2, 1)


# --- recording only what is asked ------------------------------------------------------------


@pytest.mark.parametrize("every", [1, 3, 4, 10, 11])
def test_every_equals_slicing_the_full_run(every):
    opt, grad = optlib.adam(0.05), optlib.problems.rosenbrock().grad
    lr = np.array([0.01, 0.05]).reshape(2, 1)
    full, states = optlib.run(optlib.adam(lr), grad, np.array([-1.2, 1.0]), 10,
                              return_states=True)
    part, part_states = optlib.run(optlib.adam(lr), grad, np.array([-1.2, 1.0]), 10,
                                   return_states=True, every=every)
    assert part.shape == (10 // every + 1, 2, 2)   # only the kept rows are allocated
    np.testing.assert_array_equal(part, full[::every])
    assert len(part_states) == len(part)
    for a, b in zip(part_states, states[::every], strict=True):
        _assert_same_state(a, b)
    params = _params("adam")
    _, container_grad = _container_grad(params)
    full = optlib.run(opt, container_grad, params, 10)
    part = optlib.run(opt, container_grad, params, 10, every=every)
    for key in params:
        np.testing.assert_array_equal(part[key], full[key][::every])


def test_record_last():
    grad = optlib.problems.rosenbrock().grad
    full, states = optlib.run(optlib.nadam(0.01), grad, np.array([-1.2, 1.0]), 7,
                              return_states=True)
    last, state = optlib.run(optlib.nadam(0.01), grad, np.array([-1.2, 1.0]), 7,
                             record="last", return_states=True)
    assert last.shape == (2,)
    np.testing.assert_array_equal(last, full[-1])
    _assert_same_state(state, states[-1])
    x0 = np.array([1.0, 2.0])
    start = optlib.run(optlib.gd(0.1), grad, x0, 0, record="last")
    assert start.tolist() == [1.0, 2.0] and start is not x0
    params = _params("adam")
    _, container_grad = _container_grad(params)
    full = optlib.run(optlib.adam(0.1), container_grad, params, 6)
    last = optlib.run(optlib.adam(0.1), container_grad, params, 6, record="last")
    for key in params:
        np.testing.assert_array_equal(last[key], full[key][-1])


def test_record_last_on_symbols():
    sp = pytest.importorskip("sympy")
    eta = sp.Symbol("eta")
    assert optlib.run(optlib.gd(eta), lambda x: 1, 0.0, 3, record="last") == -3 * eta


def test_record_a_metric():
    problem = optlib.problems.rosenbrock()
    lr = np.logspace(-4, -2, 5).reshape(5, 1)
    full = optlib.run(optlib.adam(lr), problem.grad, np.array([-1.2, 1.0]), 20)
    losses = optlib.run(optlib.adam(lr), problem.grad, np.array([-1.2, 1.0]), 20,
                        record=lambda x, state, t: problem.f(x), every=5)
    assert losses.shape == (5, 5)     # steps 0, 5, 10, 15, 20 of 5 configurations
    np.testing.assert_array_equal(losses, problem.f(full[::5]))
    counts = optlib.run(optlib.adam(0.1), problem.grad, np.array([-1.2, 1.0]), 4,
                        record=lambda x, state, t: (t, state.count))
    assert counts.tolist() == [[t, t] for t in range(5)]
    params = _params("adam")
    _, container_grad = _container_grad(params)
    norms = optlib.run(optlib.adam(0.1), container_grad, params, 6,
                       record=lambda p, state, t: {k: np.sum(v * v) for k, v in p.items()})
    full = optlib.run(optlib.adam(0.1), container_grad, params, 6)
    for key in params:
        axes = tuple(range(1, full[key].ndim))
        np.testing.assert_array_equal(norms[key], np.sum(full[key] ** 2, axis=axes))


def test_bad_record_and_every():
    grad = optlib.problems.ravine().grad
    for every in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match=r"every must be an integer with 1 <= every"):
            optlib.run(optlib.gd(0.1), grad, np.zeros(2), 3, every=every)
    with pytest.raises(ValueError, match=r"record must be 'iterates', 'last' or a function"):
        optlib.run(optlib.gd(0.1), grad, np.zeros(2), 3, record="first")
    with pytest.raises(ValueError, match=r"every must be 1 with record='last'"):
        optlib.run(optlib.gd(0.1), grad, np.zeros(2), 3, record="last", every=2)


def test_a_long_run_keeps_only_the_last_iterate():
    """20,000 steps of 10,000 parameters: every iterate would be 1.6 GB; the last one is 80 kB."""
    x0 = np.linspace(-1.0, 1.0, 10_000)
    tracemalloc.start()
    try:
        last = optlib.run(optlib.gd(1e-4), lambda x: x, x0, 20_000, record="last")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert last.shape == x0.shape
    np.testing.assert_allclose(last, x0 * (1 - 1e-4) ** 20_000, rtol=1e-9)
    assert peak < 10 * x0.nbytes     # a few iterates and gradients, not 20,001 of them


def test_a_million_configurations_keep_a_metric():
    """10^6 learning rates on a 2-D problem, 50 steps: the losses every 10 steps only."""
    lr = np.linspace(1e-3, 0.4, 1_000_000).reshape(-1, 1)
    curvature = np.array([1.0, 2.0])
    losses = optlib.run(optlib.gd(lr), lambda x: curvature * x, np.ones(2), 50,
                        record=lambda x, state, t: 0.5 * np.sum(curvature * x * x, axis=-1),
                        every=10)
    assert losses.shape == (6, 1_000_000) and losses.dtype == np.float64
    x50 = (1 - lr * curvature) ** 50          # gradient descent on a quadratic, exactly
    np.testing.assert_allclose(losses[-1], 0.5 * np.sum(curvature * x50 * x50, axis=-1),
                               rtol=1e-9)
