r"""Training a model on minibatches: the loop of Part V, beside :func:`optlib.run`.

:func:`train` runs any :class:`optlib.Optimizer` on a :class:`optlib.learning.Model` over a
seeded stream of minibatches (:func:`optlib.learning.batch_indices`) and records what a training
curve needs: the minibatch loss of every update, and, every ``every`` steps only, the loss and
accuracy on the whole training set (and on a validation set). Parameters with a leading
configuration axis train K models in one vectorised run; a hyperparameter array of shape
``(K, 1, 1)`` gives each its own value. The methods never import this module.

Algorithm (``t`` counts the updates made, from 0):

.. code-block:: text

    params = params0; state = opt.init(params0)
    for t = 0, 1, ..., steps - 1:
        if t in recorded: record full-set metrics of params
        X_t, y_t = data.features[idx[t]], data.labels[idx[t]]        # (B, d) or (K, B, d)
        batch_loss[t], grads = model.loss_and_grad(params, X_t, y_t)  # one pass
        step, state = opt.update(grads, state, params)
        params = params + step                                        # leaf by leaf
    record full-set metrics of params (t = steps)

>>> import numpy as np, optlib
>>> from optlib import learning
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(40, 3)); y = (X[:, 0] > 0).astype(np.int64)
>>> data = learning.Dataset(X, y, 2, "toy")
>>> model = learning.logistic_regression(3, 2)
>>> lrs = optlib.grid([0.1, 1.0], event_ndim=2)[0]              # shape (2, 1, 1)
>>> result = train(optlib.gd(lr=lrs), model, model.init(configs=2), data, 50,
...                batch_size=8, every=25)
>>> result.steps.tolist(), result.batch_loss.shape, result.train_loss.shape
([0, 25, 50], (50, 2), (3, 2))
>>> bool(result.train_loss[-1, 1] < result.train_loss[-1, 0] < result.train_loss[0, 0])
True
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from . import tree
from ._backend import integer
from .learning import Dataset, _check_dataset, _check_seed, batch_indices, configs_of, evaluate

__all__ = ["TrainingRun", "train"]


class TrainingRun(NamedTuple):
    """What :func:`train` records. ``K`` axes appear only for batched params.

    - ``params``: the final parameters (after ``steps`` updates).
    - ``steps``: int64, the step numbers at which the full-set metrics were recorded:
      ``0, every, 2 * every, ...`` and always ``steps`` itself (the last).
    - ``batch_loss``: ``(steps,)`` or ``(steps, K)``, the minibatch loss at each update
      (before it, at the parameters the gradient was taken at).
    - ``train_loss``, ``train_accuracy``: ``(n_records,)`` or ``(n_records, K)``, on the whole
      training set at ``steps``.
    - ``validation_loss``, ``validation_accuracy``: the same on ``validation``, or ``None``.
    - ``state``: the optimizer's final state (e.g. for
      :func:`optlib.schedule_free_eval_params`).
    """

    params: dict
    steps: np.ndarray
    batch_loss: np.ndarray
    train_loss: np.ndarray
    validation_loss: np.ndarray | None
    validation_accuracy: np.ndarray | None
    train_accuracy: np.ndarray
    state: Any = None


def train(opt, model, params0, data: Dataset, steps: int, *, batch_size: int, seed=0,
          replace: bool = False, validation: Dataset | None = None, every: int = 10,
          per_config_batches: bool = False, indices: np.ndarray | None = None,
          eval_params=None) -> TrainingRun:
    """Train ``model`` from ``params0`` with ``opt`` for ``steps`` minibatch updates.

    Args:
        opt: any optlib :class:`~optlib.Optimizer` (hyperparameters may be arrays of shape
            ``(K, 1, 1)`` for batched params, and ``lr`` a schedule).
        model: a :class:`optlib.learning.Model`.
        params0: the starting parameters, from ``model.init``; a leading axis of K
            configurations (3-D leaves) trains K models at once. Not modified.
        data: the training :class:`~optlib.learning.Dataset`.
        steps: the number of updates, an integer ``steps >= 0``.
        batch_size: the minibatch size B, ``1 <= batch_size <= len(data.labels)``.
        seed, replace: the minibatch stream, as in :func:`optlib.learning.batch_indices`.
        validation: an optional validation Dataset, evaluated at the recorded steps.
        every: record the full-set metrics every ``every`` steps, an integer ``every >= 1``.
            Each record is a forward pass over the whole set (for K models), so it costs
            about as much as ``n / B`` updates: do not record every step of a long run.
        per_config_batches: with K configurations, give each its own minibatch stream
            (configuration k draws from ``np.random.default_rng([*seed, k])``, so it sees what
            an un-batched run with ``seed=(seed, k)`` sees); otherwise (default) every
            configuration sees the same minibatches, whose rows ``(B, d)`` are shared.
        indices: optional explicit minibatch indices ``(steps, B)`` or ``(steps, K, B)``
            (e.g. a stream saved from another framework); then ``seed``, ``replace``,
            ``batch_size`` and ``per_config_batches`` are not used.
        eval_params: optional ``eval_params(params, state)`` giving the parameters at which
            the full-set metrics are recorded (default: ``params``). For schedule-free AdamW,
            ``lambda p, s: optlib.schedule_free_eval_params(opt, s, p)`` records them at the
            average :math:`x` rather than at the iterate :math:`y` the gradients are taken
            at (``TrainingRun.params`` stays the iterate).

    Returns:
        A :class:`TrainingRun`.
    """
    steps, every = integer("steps", steps, low=0), integer("every", every, low=1)
    data = _check_dataset(data, "data")
    if validation is not None:
        validation = _check_dataset(validation, "validation")
        if validation.features.shape[1] != data.features.shape[1]:
            raise ValueError(f"validation.features must have {data.features.shape[1]} columns "
                             f"like data.features, got shape {validation.features.shape}")
    if not isinstance(params0, dict):
        raise ValueError(f"params0 must be a dict of arrays (from model.init), got "
                         f"{type(params0).__name__}")
    configs = configs_of(params0)
    n = data.labels.size
    if indices is None:
        if per_config_batches and configs is None:
            raise ValueError("per_config_batches=True needs params0 with a configuration axis "
                             "(model.init(configs=K))")
        indices = batch_indices(n, batch_size, steps, seed=_check_seed(seed), replace=replace,
                                configs=configs if per_config_batches else None)
    else:
        indices = np.asarray(indices)
        if (not np.issubdtype(indices.dtype, np.integer) or indices.ndim not in (2, 3)
                or indices.shape[0] != steps or indices.size and (
                    indices.min() < 0 or indices.max() >= n)
                or indices.ndim == 3 and indices.shape[1] != configs):
            raise ValueError(f"indices must be integers in [0, {n}) of shape (steps, B) or "
                             f"(steps, K, B) with steps = {steps}, K = {configs}, got "
                             f"{indices.dtype} {indices.shape}")

    X, y = data.features, data.labels
    recorded = list(range(0, steps + 1, every))
    if recorded[-1] != steps:
        recorded.append(steps)
    tail = () if configs is None else (configs,)
    batch_loss = np.empty((steps, *tail))
    records = {name: np.empty((len(recorded), *tail))
               for name in ("train_loss", "train_accuracy", "validation_loss",
                            "validation_accuracy")}

    def record(row, params, state):
        if eval_params is not None:
            params = eval_params(params, state)
        records["train_loss"][row], records["train_accuracy"][row] = evaluate(
            model, params, data)
        if validation is not None:
            (records["validation_loss"][row],
             records["validation_accuracy"][row]) = evaluate(model, params, validation)

    params = params0
    state = opt.init(params0)
    row = 0
    for t in range(steps):
        if t == recorded[row]:
            record(row, params, state)
            row += 1
        batch = indices[t]
        loss, grads = model.loss_and_grad(params, X[batch], y[batch])
        batch_loss[t] = loss
        step, state = opt.update(grads, state, params)
        params = tree.map(np.add, params, step)
        if t == 0 and configs_of(params) != configs:
            raise ValueError(
                f"the optimizer's hyperparameters widened params0 (configurations {configs}) "
                f"to {configs_of(params)} configurations: give params0 the configuration axis, "
                "model.init(configs=K), to train K models")
    record(row, params, state)
    return TrainingRun(
        params=params,
        steps=np.asarray(recorded, dtype=np.int64),
        batch_loss=batch_loss,
        train_loss=records["train_loss"],
        validation_loss=records["validation_loss"] if validation is not None else None,
        validation_accuracy=records["validation_accuracy"] if validation is not None else None,
        train_accuracy=records["train_accuracy"],
        state=state,
    )
