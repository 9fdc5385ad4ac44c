"""optlib.training.train: K configurations in one run equal K runs; shapes; bad input."""

from __future__ import annotations

import numpy as np
import pytest

import optlib
from optlib import learning
from optlib.training import TrainingRun, train

pytest.importorskip("sklearn")

K = 3
STEPS = 25


@pytest.fixture(scope="module")
def sets():
    return learning.split(learning.digits(), 0.25, seed=0)


def row(params, k):
    return {key: leaf[k] for key, leaf in params.items()}


def assert_rows_equal(batched, separate, k, rtol=1e-12):
    """Row k of a batched run against an un-batched run, to ``rtol`` relative."""
    for key in separate.params:
        a, b = batched.params[key][k], separate.params[key]
        assert np.linalg.norm(a - b) <= rtol * np.linalg.norm(b), key
    for field in ("batch_loss", "train_loss", "train_accuracy", "validation_loss",
                  "validation_accuracy"):
        a, b = getattr(batched, field), getattr(separate, field)
        if b is None:
            assert a is None
            continue
        np.testing.assert_allclose(a[:, k], b, rtol=rtol, atol=0, err_msg=field)


CASES = {
    "adam-tanh": (lambda lr: optlib.adam(lr=lr), lambda: learning.mlp((64, 16, 10))),
    "momentum-relu": (lambda lr: optlib.momentum(lr=lr, momentum=0.9),
                      lambda: learning.mlp((64, 16, 10), "relu")),
    "rmsprop-logistic": (lambda lr: optlib.rmsprop(lr=lr, momentum=0.5),
                         lambda: learning.logistic_regression()),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("per_config", [False, True], ids=["shared-batches", "per-config"])
def test_batched_run_equals_separate_runs(sets, case, per_config):
    train_set, valid = sets
    make_opt, make_model = CASES[case]
    model = make_model()
    params0 = model.init(seed=5, configs=K)
    lrs = np.array([3e-3, 1e-2, 3e-2])
    opt = make_opt(lrs.reshape(K, 1, 1))  # a hyperparameter array of shape (K, 1, 1)
    batched = train(opt, model, params0, train_set, STEPS, batch_size=32, seed=2,
                    validation=valid, every=10, per_config_batches=per_config)
    assert batched.batch_loss.shape == (STEPS, K)
    for k in range(K):
        seed = (2, k) if per_config else 2
        separate = train(make_opt(lrs[k]), model, row(params0, k), train_set, STEPS,
                         batch_size=32, seed=seed, validation=valid, every=10)
        assert_rows_equal(batched, separate, k)
    # the configurations did differ
    assert not np.allclose(batched.train_loss[-1, 0], batched.train_loss[-1, 1])


METHODS = ["gd", "momentum", "adagrad", "rmsprop", "adadelta", "adam", "adamw", "adamax",
           "nadam", "radam", "adabelief", "yogi", "lion", "adafactor", "muon",
           "schedule_free_adamw"]


@pytest.mark.parametrize("name", METHODS)
def test_every_method_trains_batched_as_separately(sets, name):
    """Any optlib Optimizer: the K-model run equals K runs (matrix methods act per matrix)."""
    model = learning.mlp((64, 8, 10))
    method = getattr(optlib, name)
    opt = method(lr=0.05) if name in ("gd", "momentum", "adagrad", "rmsprop") else method()
    params0 = model.init(seed=1, configs=2)
    batched = train(opt, model, params0, sets[0], 8, batch_size=16, every=4)
    for k in range(2):
        assert_rows_equal(batched, train(opt, model, row(params0, k), sets[0], 8,
                                         batch_size=16, every=4), k)
    assert not np.array_equal(batched.params["W1"], params0["W1"])


def test_per_config_batches_differ_and_shared_ones_do_not(sets):
    train_set, _ = sets
    model = learning.logistic_regression()
    p0 = model.init(seed=0, configs=1)
    p0 = {k: np.repeat(v, 2, axis=0) for k, v in p0.items()}  # two identical models
    shared = train(optlib.gd(0.1), model, p0, train_set, 5, batch_size=16, every=5)
    np.testing.assert_array_equal(shared.batch_loss[:, 0], shared.batch_loss[:, 1])
    own = train(optlib.gd(0.1), model, p0, train_set, 5, batch_size=16, every=5,
                per_config_batches=True)
    assert not np.array_equal(own.batch_loss[:, 0], own.batch_loss[:, 1])


def test_train_is_the_hand_written_loop(sets):
    train_set, valid = sets
    model = learning.mlp((64, 8, 10))
    opt = optlib.adam(lr=1e-2)
    params = model.init(seed=1)
    result = train(opt, model, params, train_set, 12, batch_size=20, seed=4, replace=True,
                   validation=valid, every=5)
    idx = learning.batch_indices(train_set.labels.size, 20, 12, seed=4, replace=True)
    state = opt.init(params)
    X, y = train_set.features, train_set.labels
    losses, records = [], {}
    for t in range(12):
        if t % 5 == 0:
            records[t] = (model.loss(params, X, y), model.accuracy(params, X, y),
                          model.loss(params, valid.features, valid.labels))
        loss, grads = model.loss_and_grad(params, X[idx[t]], y[idx[t]])
        losses.append(loss)
        step, state = opt.update(grads, state, params)
        params = {key: params[key] + step[key] for key in params}
    records[12] = (model.loss(params, X, y), model.accuracy(params, X, y),
                   model.loss(params, valid.features, valid.labels))
    np.testing.assert_array_equal(result.batch_loss, losses)
    assert result.steps.tolist() == [0, 5, 10, 12]
    np.testing.assert_array_equal(result.train_loss, [records[t][0] for t in (0, 5, 10, 12)])
    np.testing.assert_array_equal(result.train_accuracy,
                                  [records[t][1] for t in (0, 5, 10, 12)])
    np.testing.assert_array_equal(result.validation_loss,
                                  [records[t][2] for t in (0, 5, 10, 12)])
    for key in params:
        np.testing.assert_array_equal(result.params[key], params[key])
    # explicit indices reproduce the seeded stream
    again = train(opt, model, model.init(seed=1), train_set, 12, batch_size=20, every=5,
                  indices=idx, validation=valid)
    np.testing.assert_array_equal(again.batch_loss, result.batch_loss)


def test_eval_params_schedule_free(sets):
    model = learning.mlp((64, 8, 10))
    opt = optlib.schedule_free_adamw(lr=1e-2)
    p0 = model.init(seed=2, configs=2)
    plain = train(opt, model, p0, sets[0], 10, batch_size=16, every=5)
    averaged = train(opt, model, p0, sets[0], 10, batch_size=16, every=5,
                     eval_params=lambda p, s: optlib.schedule_free_eval_params(opt, s, p))
    np.testing.assert_array_equal(plain.batch_loss, averaged.batch_loss)
    for key in p0:  # the iterates are the same; only where the metrics are taken differs
        np.testing.assert_array_equal(plain.params[key], averaged.params[key])
    x = optlib.schedule_free_eval_params(opt, averaged.state, averaged.params)
    loss, accuracy = learning.evaluate(model, x, sets[0])
    np.testing.assert_array_equal(averaged.train_loss[-1], loss)
    np.testing.assert_array_equal(averaged.train_accuracy[-1], accuracy)
    # x_0 = y_0, up to the rounding of (y - (1 - beta1) z) / beta1
    np.testing.assert_allclose(averaged.train_loss[0], plain.train_loss[0], rtol=1e-14)
    assert not np.allclose(averaged.train_loss[-1], plain.train_loss[-1], rtol=1e-6)


def test_training_run_shapes(sets):
    train_set, valid = sets
    model = learning.logistic_regression()
    one = train(optlib.gd(0.5), model, model.init(), train_set, 30, batch_size=64, every=10)
    assert isinstance(one, TrainingRun)
    assert one.steps.tolist() == [0, 10, 20, 30] and one.steps.dtype == np.int64
    assert one.batch_loss.shape == (30,) and one.train_loss.shape == (4,)
    assert one.train_accuracy.shape == (4,)
    assert one.validation_loss is None and one.validation_accuracy is None
    assert one.params["W"].shape == (64, 10)
    assert one.train_loss[-1] < one.train_loss[0]  # it learns
    many = train(optlib.adam(1e-2), model, model.init(configs=4), train_set, 7, batch_size=64,
                 every=3, validation=valid)
    assert many.steps.tolist() == [0, 3, 6, 7]
    assert many.batch_loss.shape == (7, 4)
    for field in ("train_loss", "train_accuracy", "validation_loss", "validation_accuracy"):
        assert getattr(many, field).shape == (4, 4)
    assert many.params["W"].shape == (4, 64, 10)
    assert np.all((many.validation_accuracy >= 0) & (many.validation_accuracy <= 1))
    zero = train(optlib.gd(0.5), model, model.init(), train_set, 0, batch_size=64)
    assert zero.steps.tolist() == [0] and zero.batch_loss.shape == (0,)
    np.testing.assert_array_equal(zero.params["W"], model.init()["W"])


def test_train_does_not_modify_params0(sets):
    model = learning.logistic_regression()
    p0 = model.init(configs=2)
    copy = {k: v.copy() for k, v in p0.items()}
    train(optlib.momentum(0.1, 0.9), model, p0, sets[0], 5, batch_size=8)
    for key in p0:
        np.testing.assert_array_equal(p0[key], copy[key])


def test_train_with_a_schedule(sets):
    model = learning.logistic_regression()
    schedule = optlib.schedules.warmup_cosine(peak=np.array([1e-2, 1e-1]).reshape(2, 1, 1),
                                              warmup_steps=5, decay_steps=20)
    result = train(optlib.adam(lr=schedule), model, model.init(configs=2), sets[0], 20,
                   batch_size=32, every=10)
    assert result.train_loss.shape == (3, 2)
    assert np.all(result.train_loss[-1] < result.train_loss[0])


@pytest.mark.parametrize("kwargs,message", [
    (dict(steps=-1), "steps must be an integer with 0 <= steps"),
    (dict(steps=2.0), "steps must be an integer"),
    (dict(every=0), "every must be an integer with 1 <= every"),
    (dict(batch_size=0), "batch_size must be an integer with 1 <= batch_size <= n = 1347"),
    (dict(batch_size=2000), "batch_size must be an integer with 1 <= batch_size <= n = 1347"),
    (dict(seed=-1), "seed must be a non-negative integer"),
    (dict(per_config_batches=True), "per_config_batches=True needs params0 with a"),
    (dict(params0=[np.zeros((64, 10))]), "params0 must be a dict of arrays"),
    (dict(data=(np.zeros((3, 64)), np.zeros(3))), "data must be a Dataset"),
    (dict(validation=learning.Dataset(np.zeros((3, 5)), np.zeros(3, int), 10, "v")),
     "validation.features must have 64 columns"),
    (dict(indices=np.zeros((4, 8), int)), r"indices must be integers in \[0, 1347\) of shape"),
    (dict(indices=np.full((5, 8), 1347)), r"indices must be integers in \[0, 1347\)"),
    (dict(opt=optlib.gd(np.ones((2, 1, 1)))), "the optimizer's hyperparameters widened"),
])
def test_train_errors(sets, kwargs, message):
    model = learning.logistic_regression()
    args = dict(opt=optlib.gd(0.1), model=model, params0=model.init(), data=sets[0], steps=5,
                batch_size=8)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        train(args.pop("opt"), args.pop("model"), args.pop("params0"), args.pop("data"),
              args.pop("steps"), **args)


def test_model_errors_reach_the_caller(sets):
    model = learning.mlp((64, 8, 10))
    bad = learning.Dataset(sets[0].features, sets[0].labels, 5, "five classes")
    with pytest.raises(ValueError, match=r"data.labels must hold integer labels in \[0, 5\)"):
        train(optlib.gd(0.1), model, model.init(), bad, 3, batch_size=8)
    with pytest.raises(ValueError, match=r"params\['W1'\] must have shape"):
        train(optlib.gd(0.1), model, learning.mlp((64, 9, 10)).init(), sets[0], 3,
              batch_size=8)
