"""optlib.learning: the digits, split, minibatch streams, and the models' backpropagation."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from optlib import learning

pytest.importorskip("sklearn")

MODELS = {
    "logistic": lambda: learning.logistic_regression(64, 10),
    "mlp-tanh": lambda: learning.mlp((64, 32, 10), "tanh"),
    "mlp-relu": lambda: learning.mlp((64, 32, 10), "relu"),
    "mlp-deep-tanh": lambda: learning.mlp((64, 12, 8, 10), "tanh"),
    "logistic-l2": lambda: learning.l2_penalised(learning.logistic_regression(64, 10), 0.3),
    "mlp-deep-tanh-l2": lambda: learning.l2_penalised(learning.mlp((64, 12, 8, 10), "tanh"), 0.3),
}


@pytest.fixture(scope="module")
def data():
    return learning.digits()


def batch(data, size=16, seed=0):
    idx = np.random.default_rng(seed).choice(data.labels.size, size, replace=False)
    return data.features[idx], data.labels[idx]


def relative(a, b):
    return np.linalg.norm(np.ravel(a - b)) / np.linalg.norm(np.ravel(b))


def pre_activations(model, params, X):
    """Every hidden layer's Z, from a forward pass written here (not the module's)."""
    zs, h = [], X
    for i in range(1, len(model.sizes) - 1):
        z = h @ params[f"W{i}"] + params[f"b{i}"]
        zs.append(z)
        h = np.tanh(z) if model.activation == "tanh" else np.maximum(z, 0)
    return zs


# ------------------------------------------------------------------------------- the data


def test_digits(data):
    assert data.features.shape == (1797, 64) and data.features.dtype == np.float64
    assert data.labels.shape == (1797,) and data.labels.dtype == np.int64
    assert data.n_classes == 10 and data.name == "digits"
    assert data.features.min() == 0.0 and data.features.max() == 1.0
    # pixel counts 0..16 divided by 16
    np.testing.assert_array_equal(data.features * 16, np.round(data.features * 16))
    assert np.bincount(data.labels).tolist() == np.bincount(learning.digits().labels).tolist()
    assert set(np.unique(data.labels)) == set(range(10))


def test_digits_returns_fresh_arrays(data):
    other = learning.digits()
    other.features[0, 0] = 99.0
    other.labels[0] = 7
    assert learning.digits().features[0, 0] != 99.0
    assert data.features[0, 0] != 99.0


def test_digits_without_scikit_learn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    learning._load_digits.cache_clear()
    try:
        with pytest.raises(ImportError, match=r'pip install "optlib\[learning\]"'):
            learning.digits()
    finally:
        learning._load_digits.cache_clear()


def test_split_is_stratified_disjoint_and_complete(data):
    tagged = learning.Dataset(np.arange(data.labels.size, dtype=float)[:, None], data.labels,
                              10, "tagged")
    train, valid = learning.split(tagged, 0.25, seed=3)
    a, b = train.features[:, 0].astype(int), valid.features[:, 0].astype(int)
    assert not set(a) & set(b)
    assert sorted(np.concatenate([a, b]).tolist()) == list(range(data.labels.size))
    assert np.all(np.diff(a) > 0) and np.all(np.diff(b) > 0)  # original order kept
    np.testing.assert_array_equal(train.labels, data.labels[a])
    np.testing.assert_array_equal(valid.labels, data.labels[b])
    counts = np.bincount(data.labels)
    np.testing.assert_array_equal(np.bincount(valid.labels), np.round(0.25 * counts))
    np.testing.assert_array_equal(np.bincount(train.labels), counts - np.round(0.25 * counts))
    assert train.name == "tagged (train)" and valid.name == "tagged (validation)"
    # seeded: same seed, same split; another seed, another split
    again = learning.split(tagged, 0.25, seed=3)[1]
    np.testing.assert_array_equal(again.features, valid.features)
    assert not np.array_equal(learning.split(tagged, 0.25, seed=4)[1].features, valid.features)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 1.5, True, "0.2", None])
def test_split_rejects_validation_fraction(data, fraction):
    with pytest.raises(ValueError, match="validation_fraction must be a number with 0 < "):
        learning.split(data, fraction)


def test_split_rejects_an_empty_side():
    tiny = learning.Dataset(np.zeros((3, 1)), np.array([0, 1, 2]), 3, "tiny")
    with pytest.raises(ValueError, match="validation_fraction=0.1 leaves an empty validation"):
        learning.split(tiny, 0.1)


def test_split_rejects_bad_datasets():
    with pytest.raises(ValueError, match=r"data.labels must hold integer labels in \[0, 2\)"):
        learning.split(learning.Dataset(np.zeros((3, 1)), np.array([0, 1, 2]), 2, "x"))
    with pytest.raises(ValueError, match=r"data.labels must have shape \(n,\) = \(3,\)"):
        learning.split(learning.Dataset(np.zeros((3, 1)), np.array([0, 1]), 2, "x"))
    with pytest.raises(ValueError, match=r"data.features must have shape \(n, d\)"):
        learning.split(learning.Dataset(np.zeros(3), np.array([0, 1, 0]), 2, "x"))
    with pytest.raises(ValueError, match="data.n_classes must be an integer"):
        learning.split(learning.Dataset(np.zeros((3, 1)), np.array([0, 1, 0]), 0, "x"))
    with pytest.raises(ValueError, match="data must be a Dataset"):
        learning.split((np.zeros((3, 1)), np.zeros(3)))
    with pytest.raises(ValueError, match="data.labels must hold integer labels"):
        learning.split(learning.Dataset(np.zeros((3, 1)), np.array([0.0, 1.0, 0.0]), 2, "x"))


# ---------------------------------------------------------------------------- minibatches


@pytest.mark.parametrize("n,batch_size", [(12, 3), (12, 5), (10, 10), (7, 1)])
def test_batch_indices_without_replacement(n, batch_size):
    per_epoch = n // batch_size
    steps = 4 * per_epoch + 1
    idx = learning.batch_indices(n, batch_size, steps, seed=1)
    assert idx.shape == (steps, batch_size) and idx.dtype == np.int64
    for epoch in range(4):
        block = idx[epoch * per_epoch:(epoch + 1) * per_epoch].ravel()
        assert len(set(block.tolist())) == block.size  # no repeat within an epoch
        if n % batch_size == 0:  # every index exactly once per epoch
            assert sorted(block.tolist()) == list(range(n))
    assert idx.min() >= 0 and idx.max() < n
    # epochs are fresh permutations, not the same one again
    if per_epoch * batch_size > 2:
        assert not np.array_equal(idx[:per_epoch], idx[per_epoch:2 * per_epoch])


def test_batch_indices_with_replacement():
    idx = learning.batch_indices(50, 20, 400, seed=2, replace=True)
    assert idx.shape == (400, 20) and idx.dtype == np.int64
    assert idx.min() >= 0 and idx.max() < 50
    assert set(idx.ravel().tolist()) == set(range(50))
    assert any(len(set(row.tolist())) < 20 for row in idx)  # repeats within a batch happen
    counts = np.bincount(idx.ravel(), minlength=50)  # uniform: 160 expected per index
    assert counts.min() > 100 and counts.max() < 220


@pytest.mark.parametrize("replace", [False, True])
def test_batch_indices_seeds_and_configs(replace):
    one = learning.batch_indices(30, 4, 25, seed=5, replace=replace)
    np.testing.assert_array_equal(one, learning.batch_indices(30, 4, 25, seed=5, replace=replace))
    assert not np.array_equal(one, learning.batch_indices(30, 4, 25, seed=6, replace=replace))
    many = learning.batch_indices(30, 4, 25, seed=5, replace=replace, configs=3)
    assert many.shape == (25, 3, 4)
    for k in range(3):  # config k is the stream of seed (5, k)
        np.testing.assert_array_equal(
            many[:, k], learning.batch_indices(30, 4, 25, seed=(5, k), replace=replace))
    assert not np.array_equal(many[:, 0], many[:, 1])
    assert not np.array_equal(many[:, 1], many[:, 2])
    assert learning.batch_indices(30, 4, 0).shape == (0, 4)


@pytest.mark.parametrize("replace", [False, True])
def test_batch_indices_longer_runs_extend_shorter_ones(replace):
    long = learning.batch_indices(23, 4, 40, seed=8, replace=replace, configs=2)
    for steps in (0, 1, 5, 6, 17):
        short = learning.batch_indices(23, 4, steps, seed=8, replace=replace, configs=2)
        np.testing.assert_array_equal(short, long[:steps])


def test_batch_indices_use_the_documented_generators():
    rng = np.random.default_rng(12)
    np.testing.assert_array_equal(learning.batch_indices(9, 3, 7, seed=12, replace=True),
                                  rng.integers(0, 9, size=(7, 3)))
    rng = np.random.default_rng([12, 1])
    first_epoch = rng.permutation(9)  # permuted() on the first row draws as permutation()
    np.testing.assert_array_equal(
        learning.batch_indices(9, 3, 3, seed=12, configs=2)[:, 1].ravel(), first_epoch)


@pytest.mark.parametrize("kwargs,message", [
    (dict(n=10, batch_size=11, steps=3), "batch_size must be an integer with 1 <= batch_size"),
    (dict(n=10, batch_size=0, steps=3), "batch_size must be an integer with 1 <= batch_size"),
    (dict(n=10, batch_size=11, steps=3, replace=True), "batch_size must be an integer with 1"),
    (dict(n=10, batch_size=2.0, steps=3), "batch_size must be an integer"),
    (dict(n=0, batch_size=1, steps=3), "n must be an integer with 1 <= n"),
    (dict(n=10, batch_size=2, steps=-1), "steps must be an integer with 0 <= steps"),
    (dict(n=10, batch_size=2, steps=3, configs=0), "configs must be an integer with 1 <= configs"),
    (dict(n=10, batch_size=2, steps=3, seed=-1), "seed must be a non-negative integer"),
    (dict(n=10, batch_size=2, steps=3, seed=1.5), "seed must be a non-negative integer"),
])
def test_batch_indices_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        learning.batch_indices(**kwargs)


# -------------------------------------------------------------------------------- models


def test_parameter_layout_and_init():
    model = learning.mlp((64, 32, 10))
    params = model.init(seed=4)
    assert list(params) == ["W1", "b1", "W2", "b2"]
    shapes = {"W1": (64, 32), "b1": (1, 32), "W2": (32, 10), "b2": (1, 10)}
    assert {k: v.shape for k, v in params.items()} == shapes
    for key, fan_in in [("W1", 64), ("b1", 64), ("W2", 32), ("b2", 32)]:
        leaf = params[key]
        assert leaf.dtype == np.float64
        assert np.abs(leaf).max() < 1 / np.sqrt(fan_in)
        assert np.abs(leaf).max() > 0.8 / np.sqrt(fan_in)  # spread over the whole interval
    # drawn W1, b1, W2, b2 in order from one generator, as documented
    rng = np.random.default_rng(4)
    for key, fan_in in [("W1", 64), ("b1", 64), ("W2", 32), ("b2", 32)]:
        bound = 1 / np.sqrt(fan_in)
        np.testing.assert_array_equal(params[key], rng.uniform(-bound, bound, shapes[key]))
    many = model.init(seed=4, configs=5)
    assert {k: v.shape for k, v in many.items()} == {k: (5, *s) for k, s in shapes.items()}
    for k in range(5):
        single = model.init(seed=(4, k))
        for key in shapes:
            np.testing.assert_array_equal(many[key][k], single[key])
    assert not np.array_equal(many["W1"][0], many["W1"][1])
    assert list(learning.logistic_regression().init()) == ["W", "b"]
    assert learning.configs_of(many) == 5 and learning.configs_of(params) is None


@pytest.mark.parametrize("name", sorted(MODELS))
def test_loss_and_grad_against_finite_differences(data, name):
    model = MODELS[name]()
    X, y = batch(data, 16, seed=1)
    params = model.init(seed=7)
    # random, not only the init: larger weights so the hidden units are not all linear
    rng = np.random.default_rng(11)
    params = {k: v + 0.3 * rng.standard_normal(v.shape) for k, v in params.items()}
    if model.activation == "relu":  # away from the kinks: no pre-activation near 0
        assert min(np.abs(z).min() for z in pre_activations(model, params, X)) > 1e-4
    loss, grads = model.loss_and_grad(params, X, y)
    assert np.isclose(loss, model.loss(params, X, y), rtol=1e-14)
    h = 1e-6
    for key, leaf in params.items():
        numeric = np.empty_like(leaf)
        for i in np.ndindex(leaf.shape):
            plus, minus = dict(params), dict(params)
            plus[key], minus[key] = leaf.copy(), leaf.copy()
            plus[key][i] += h
            minus[key][i] -= h
            numeric[i] = (model.loss(plus, X, y) - model.loss(minus, X, y)) / (2 * h)
        assert grads[key].shape == leaf.shape
        assert np.linalg.norm(numeric) > 1e-4  # the check has something to check
        assert relative(grads[key], numeric) <= 1e-6, key


def test_loss_is_the_cross_entropy(data):
    model = MODELS["mlp-tanh"]()
    params = model.init(seed=2)
    X, y = batch(data, 20)
    z = np.tanh(X @ params["W1"] + params["b1"]) @ params["W2"] + params["b2"]
    np.testing.assert_allclose(model.logits(params, X), z, rtol=1e-13)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    expected = -np.mean(np.log(p[np.arange(20), y]))
    assert np.isclose(model.loss(params, X, y), expected, rtol=1e-13)
    assert model.accuracy(params, X, y) == np.mean(np.argmax(z, axis=1) == y)
    loss, acc = learning.evaluate(model, params, learning.Dataset(X, y, 10, "b"))
    assert loss == model.loss(params, X, y) and acc == model.accuracy(params, X, y)


def test_l2_penalised_adds_the_weights_penalty_only(data):
    base = learning.mlp((64, 12, 8, 10), "tanh")
    model = learning.l2_penalised(base, 0.3)
    params = base.init(seed=4)
    X, y = batch(data, 12)
    weights = sum(np.sum(params[k] ** 2) for k in ("W1", "W2", "W3"))
    assert np.isclose(model.loss(params, X, y) - base.loss(params, X, y), 0.15 * weights,
                      rtol=1e-13)
    _, grads = model.loss_and_grad(params, X, y)
    _, plain = base.loss_and_grad(params, X, y)
    for key in params:  # the weights get lam W, the biases nothing
        added = 0.3 * params[key] if key.startswith("W") else 0.0
        np.testing.assert_allclose(grads[key], plain[key] + added, rtol=1e-13, atol=1e-16)
    assert model.name == f"{base.name} + L2"
    assert learning.l2_penalised(base, 0).loss(params, X, y) == base.loss(params, X, y)
    batched = base.init(seed=4, configs=3)   # K models: a penalty each
    np.testing.assert_allclose(
        model.loss(batched, X, y),
        [model.loss({k: v[i] for k, v in batched.items()}, X, y) for i in range(3)], rtol=1e-13)
    for bad in (-0.1, np.inf, np.nan, "0.1"):
        with pytest.raises(ValueError, match="lam"):
            learning.l2_penalised(base, bad)
    with pytest.raises(ValueError, match="lam must be a single number"):
        learning.l2_penalised(base, np.array([0.1, 0.2]))


def test_large_logits_do_not_overflow():
    model = learning.logistic_regression(2, 3)
    params = {"W": np.array([[1e4, 0.0, -1e4], [0.0, 0.0, 0.0]]), "b": np.zeros((1, 3))}
    X, y = np.array([[1.0, 0.0], [1.0, 0.0]]), np.array([0, 2])
    loss, grads = model.loss_and_grad(params, X, y)
    assert np.isclose(loss, 1e4)  # (0 + 2e4) / 2
    assert all(np.all(np.isfinite(g)) for g in grads.values())


@pytest.mark.parametrize("name", sorted(MODELS))
def test_per_example_grads_average_to_the_batch_gradient(data, name):
    model = MODELS[name]()
    params = model.init(seed=3)
    X, y = batch(data, 24, seed=2)
    per = model.per_example_grads(params, X, y)
    _, grads = model.loss_and_grad(params, X, y)
    for key, leaf in params.items():
        assert per[key].shape == (24, *leaf.shape)
        assert relative(per[key].mean(axis=0), grads[key]) < 1e-13
    for i in (0, 17):  # and each row is that example's own gradient
        _, own = model.loss_and_grad(params, X[i:i + 1], y[i:i + 1])
        for key in params:
            assert relative(per[key][i], own[key]) < 1e-13


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("shared", [True, False], ids=["shared-X", "per-config-X"])
def test_batched_configs_equal_separate_models(data, name, shared):
    model = MODELS[name]()
    K = 4
    params = model.init(seed=9, configs=K)
    if shared:
        X, y = batch(data, 16)
        Xs, ys = [X] * K, [y] * K
    else:
        pairs = [batch(data, 16, seed=k) for k in range(K)]
        X, y = np.stack([p[0] for p in pairs]), np.stack([p[1] for p in pairs])
        Xs, ys = list(X), list(y)
    loss, grads = model.loss_and_grad(params, X, y)
    logits = model.logits(params, X)
    accuracy = model.accuracy(params, X, y)
    assert loss.shape == (K,) and accuracy.shape == (K,) and logits.shape == (K, 16, 10)
    for k in range(K):
        single = {key: leaf[k] for key, leaf in params.items()}
        loss_k, grads_k = model.loss_and_grad(single, Xs[k], ys[k])
        assert abs(loss[k] - loss_k) <= 1e-12 * abs(loss_k)
        for key in params:
            assert grads[key][k].shape == grads_k[key].shape
            assert relative(grads[key][k], grads_k[key]) <= 1e-12
        assert relative(logits[k], model.logits(single, Xs[k])) <= 1e-12
        assert accuracy[k] == model.accuracy(single, Xs[k], ys[k])


def test_model_functions_do_not_modify_their_arguments(data):
    model = MODELS["mlp-relu"]()
    params = model.init(seed=1, configs=2)
    copies = {k: v.copy() for k, v in params.items()}
    X, y = batch(data, 8)
    X0, y0 = X.copy(), y.copy()
    for f in (model.loss, model.loss_and_grad, model.accuracy):
        f(params, X, y)
    model.logits(params, X)
    model.per_example_grads({k: v[0] for k, v in params.items()}, X, y)
    for k in params:
        np.testing.assert_array_equal(params[k], copies[k])
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


def test_names_and_fields():
    assert learning.mlp().name == "mlp(64-32-10, tanh)"
    assert learning.mlp((64, 10), "relu").sizes == (64, 10)
    assert learning.logistic_regression().name == "logistic_regression(64-10)"
    assert learning.logistic_regression().activation is None


# ---------------------------------------------------------------------------- bad input

MODEL = learning.mlp((4, 3, 2))
P = MODEL.init()
PK = MODEL.init(configs=2)
X4, Y4 = np.ones((5, 4)), np.array([0, 1, 0, 1, 1])


@pytest.mark.parametrize("call,message", [
    (lambda: MODEL.loss(P, X4, np.array([0, 1, 0, 1, 2])),
     r"y must hold integer labels in \[0, 2\), got values from 0 to 2"),
    (lambda: MODEL.loss(P, X4, np.array([0, 1, 0, 1, -1])), r"y must hold integer labels"),
    (lambda: MODEL.loss(P, X4, np.array([0.0, 1, 0, 1, 1])), r"y must hold integer labels"),
    (lambda: MODEL.loss(P, X4, Y4[:4]), r"y must have shape \(5,\) to match X"),
    (lambda: MODEL.loss(P, np.ones((5, 3)), Y4), r"X must have shape \(B, 4\) or \(K, B, 4\)"),
    (lambda: MODEL.logits(P, np.ones(4)), r"X must have shape \(B, 4\)"),
    (lambda: MODEL.logits(P, np.ones((0, 4))), r"X must have shape .* with B >= 1"),
    (lambda: MODEL.logits(P, np.ones((2, 5, 4))), r"X of shape \(2, 5, 4\) does not match "
                                                   r"params: params without a configuration"),
    (lambda: MODEL.logits(PK, np.ones((3, 5, 4))), r"params have K = 2 configurations"),
    (lambda: MODEL.logits({**P, "W1": np.ones((3, 4))}, X4),
     r"params\['W1'\] must have shape \(4, 3\) or \(K, 4, 3\), got \(3, 4\)"),
    (lambda: MODEL.logits({**PK, "b2": P["b2"]}, X4),
     r"params\['b2'\] has shape \(1, 2\) but params\['W1'\] has shape \(2, 4, 3\)"),
    (lambda: MODEL.logits({"W1": P["W1"]}, X4), r"params must be a dict with keys"),
    (lambda: MODEL.per_example_grads(PK, X4, Y4), r"params must be un-batched here"),
    (lambda: MODEL.per_example_grads(P, np.ones((2, 5, 4)), np.ones((2, 5), int)),
     r"X must have shape \(B, 4\) here"),
    (lambda: MODEL.init(configs=0), "configs must be an integer with 1 <= configs"),
    (lambda: MODEL.init(seed=-3), "seed must be a non-negative integer"),
    (lambda: learning.mlp((64,)), "sizes must be a sequence of at least two integers"),
    (lambda: learning.mlp((64, 0, 10)), r"sizes\[1\] must be an integer with 1 <= sizes\[1\]"),
    (lambda: learning.mlp(64), "sizes must be a sequence"),
    (lambda: learning.mlp(activation="sigmoid"), "activation must be 'tanh' or 'relu'"),
    (lambda: learning.logistic_regression(0), "n_features must be an integer"),
    (lambda: learning.logistic_regression(64, 1.5), "n_classes must be an integer"),
])
def test_errors_name_the_parameter(call, message):
    with pytest.raises(ValueError, match=message):
        call()
