r"""Stochastic problems on real data: the digits, minibatches, and two models with backprop.

Part V of the book trains real models. This module gives them: a real data set
(:func:`digits`), a seeded stratified train/validation split (:func:`split`), seeded minibatch
streams (:func:`batch_indices`), and two classifiers, multinomial logistic regression
(:func:`logistic_regression`, convex) and a multilayer perceptron (:func:`mlp`, not convex),
each a :class:`Model`: a bundle of pure functions of explicit parameters, whose gradients are
written out by hand (backpropagation in NumPy, no automatic differentiation). The optimizers
never import this module; :func:`optlib.training.train` joins the two.

**Parameters.** A model's parameters are a dict of arrays, one weight matrix ``W`` of shape
``(fan_in, fan_out)`` and one bias row ``b`` of shape ``(1, fan_out)`` per layer
(``"W"``/``"b"`` for logistic regression, ``"W1"``, ``"b1"``, ``"W2"``, ... for the MLP).
A layer maps a batch of rows :math:`H \in \mathbb{R}^{B \times n_\text{in}}` to
:math:`Z = H W + b`. ``torch.nn.Linear`` stores the transpose, ``weight`` of shape
``(fan_out, fan_in)``, and computes ``x @ weight.T + bias``: ``W = weight.T`` and
``b = bias[None]`` give the same layer, and ``init`` draws from the same distribution
(from NumPy's generator, so not the same numbers).

**Many models at once.** ``init(seed, configs=K)`` gives every leaf a leading configuration
axis, ``(K, fan_in, fan_out)`` and ``(K, 1, fan_out)``: K models, each from its own random
stream. Every function then works on all K at once, with one batched matrix product per layer
(``np.matmul`` broadcasts over the leading axis; there is no Python loop over configurations).
The inputs may be shared, ``X`` of shape ``(B, d)`` (every model sees the same minibatch), or
one per configuration, ``(K, B, d)``. Since every leaf has three axes, a hyperparameter array
of shape ``(K, 1, 1)`` (``optlib.grid(lrs, event_ndim=2)``) broadcasts against every leaf:
K learning rates train in one vectorised run.

**Seeds.** ``seed`` is a non-negative integer or a tuple of them. Configuration ``k`` of a
batched call uses ``np.random.default_rng([*seed, k])``; an un-batched call uses
``np.random.default_rng(seed)``. So configuration ``k`` of ``init(seed=0, configs=K)`` equals
``init(seed=(0, k))``, and the same holds for :func:`batch_indices`: a batched run can be
repeated one configuration at a time.

**Data.** :func:`digits` is the UCI "Optical Recognition of Handwritten Digits" data
(Alpaydin & Kaynak 1998, CC BY 4.0) as shipped in scikit-learn (BSD-3-Clause), read with no
network; scikit-learn is the ``learning`` extra and is imported only by :func:`digits`.

Everything is float64. Bad input is a ``ValueError`` that names the parameter.

>>> import numpy as np
>>> from optlib import learning
>>> model = learning.mlp((4, 3, 2))
>>> params = model.init(seed=0)
>>> {name: leaf.shape for name, leaf in params.items()}
{'W1': (4, 3), 'b1': (1, 3), 'W2': (3, 2), 'b2': (1, 2)}
>>> X, y = np.ones((5, 4)), np.array([0, 1, 1, 0, 1])
>>> loss, grads = model.loss_and_grad(params, X, y)
>>> bool(np.isclose(loss, model.loss(params, X, y))), grads["W1"].shape
(True, (4, 3))
>>> many = model.init(seed=0, configs=8)       # eight models, one call
>>> many["W1"].shape, model.loss(many, X, y).shape
((8, 4, 3), (8,))
>>> bool(np.array_equal(many["W1"][3], model.init(seed=(0, 3))["W1"]))
True
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ._backend import hyperparameter, integer

__all__ = [
    "Dataset",
    "Model",
    "digits",
    "split",
    "batch_indices",
    "logistic_regression",
    "mlp",
    "l2_penalised",
    "evaluate",
    "configs_of",
]


# --------------------------------------------------------------------------------------------
# Data


class Dataset(NamedTuple):
    """A classification data set: ``features`` ``(n, d)`` float64, ``labels`` ``(n,)`` int64
    in ``[0, n_classes)``, and a ``name`` for labels and tables."""

    features: np.ndarray
    labels: np.ndarray
    n_classes: int
    name: str


@functools.lru_cache(maxsize=1)
def _load_digits():
    try:
        from sklearn.datasets import load_digits
    except ImportError as error:  # scikit-learn is an extra
        raise ImportError(
            "optlib.learning.digits() needs scikit-learn, which ships the digits data: "
            'pip install "optlib[learning]" (or pip install scikit-learn)'
        ) from error
    bunch = load_digits()
    features = np.asarray(bunch.data, dtype=np.float64) / 16.0
    labels = np.asarray(bunch.target, dtype=np.int64)
    features.flags.writeable = False
    labels.flags.writeable = False
    return features, labels


def digits() -> Dataset:
    """The handwritten digits: 1,797 images of 8 x 8 pixels, ten classes, no network needed.

    The data is the test part of the UCI "Optical Recognition of Handwritten Digits" data set
    (E. Alpaydin and C. Kaynak, 1998; UCI Machine Learning Repository, licence CC BY 4.0), as
    shipped inside scikit-learn (BSD-3-Clause) and read by ``sklearn.datasets.load_digits``:
    each image is a 32 x 32 bitmap of a digit written by one of 13 people, counted in 4 x 4
    blocks, so each of the 64 pixels is an integer from 0 to 16. Here ``features`` is the
    pixel count divided by 16 (values in [0, 1], float64, one row per image, pixels in row
    order) and ``labels`` the digit (int64, 0 to 9). Each call returns fresh arrays.

    scikit-learn is imported only here, so ``import optlib`` never needs it; without it this
    raises ``ImportError`` saying ``pip install "optlib[learning]"``.

    >>> import pytest
    >>> _ = pytest.importorskip("sklearn")    # optlib[learning]
    >>> data = digits()
    >>> data.features.shape, data.labels.shape, data.n_classes, data.name
    ((1797, 64), (1797,), 10, 'digits')
    >>> float(data.features.min()), float(data.features.max()), data.labels.dtype.name
    (0.0, 1.0, 'int64')
    """
    features, labels = _load_digits()
    return Dataset(features.copy(), labels.copy(), 10, "digits")


def _check_dataset(data, name="data"):
    """``data`` as a Dataset of float64 features and int64 labels, or a ValueError."""
    if not (isinstance(data, tuple) and hasattr(data, "features") and hasattr(data, "labels")):
        raise ValueError(f"{name} must be a Dataset (features, labels, n_classes, name), "
                         f"got {type(data).__name__}")
    features = np.asarray(data.features, dtype=np.float64)
    labels = np.asarray(data.labels)
    if features.ndim != 2 or features.shape[0] < 1:
        raise ValueError(f"{name}.features must have shape (n, d) with n >= 1, "
                         f"got {features.shape}")
    if labels.shape != features.shape[:1]:
        raise ValueError(f"{name}.labels must have shape (n,) = {features.shape[:1]} to match "
                         f"{name}.features {features.shape}, got {labels.shape}")
    n_classes = _check_count(data.n_classes, f"{name}.n_classes")
    _check_labels(labels, n_classes, f"{name}.labels")
    return Dataset(features, labels.astype(np.int64, copy=False), n_classes, str(data.name))


def split(data: Dataset, validation_fraction: float = 0.25, *, seed=0
          ) -> tuple[Dataset, Dataset]:
    """A seeded, stratified split into a training and a validation set.

    For each class with :math:`n_c` examples, :math:`\\mathrm{round}(f\\, n_c)` of them, drawn
    without replacement by ``np.random.default_rng(seed)`` (classes in increasing order), go to
    the validation set and the rest to the training set, where :math:`f` is
    ``validation_fraction``; so both sets have the class proportions of ``data``. The two sets
    are disjoint, together they are ``data``, and each keeps the examples in their original
    order. Their names are ``data.name + " (train)"`` and ``" (validation)"``.

    Args:
        data: a :class:`Dataset`.
        validation_fraction: the share :math:`f` of each class held out, ``0 < f < 1``.
        seed: a non-negative integer or a tuple of them.

    >>> data = Dataset(np.arange(20.0).reshape(10, 2), np.array([0] * 6 + [1] * 4), 2, "toy")
    >>> train, valid = split(data, 0.5, seed=1)
    >>> np.bincount(train.labels).tolist(), np.bincount(valid.labels).tolist()
    ([3, 2], [3, 2])
    >>> split(data, 1.0)
    Traceback (most recent call last):
    ...
    ValueError: validation_fraction must be a number with 0 < validation_fraction < 1, got 1.0
    """
    data = _check_dataset(data)
    if (isinstance(validation_fraction, bool)
            or not isinstance(validation_fraction, numbers.Real)
            or not 0 < validation_fraction < 1):
        raise ValueError("validation_fraction must be a number with 0 < validation_fraction < 1, "
                         f"got {validation_fraction!r}")
    rng = np.random.default_rng(_check_seed(seed))
    held_out = []
    for c in range(data.n_classes):
        members = np.flatnonzero(data.labels == c)
        count = int(round(validation_fraction * members.size))
        held_out.append(rng.permutation(members)[:count])
    mask = np.zeros(data.labels.size, dtype=bool)
    mask[np.concatenate(held_out)] = True
    if mask.all() or not mask.any():
        raise ValueError(f"validation_fraction={validation_fraction!r} leaves an empty "
                         f"{'training' if mask.all() else 'validation'} set for "
                         f"{data.labels.size} examples")
    train = Dataset(data.features[~mask], data.labels[~mask], data.n_classes,
                    f"{data.name} (train)")
    validation = Dataset(data.features[mask], data.labels[mask], data.n_classes,
                         f"{data.name} (validation)")
    return train, validation


def batch_indices(n: int, batch_size: int, steps: int, *, seed=0, replace: bool = False,
                  configs: int | None = None) -> np.ndarray:
    """The indices of the examples in each minibatch of a run: a seeded stream.

    Without replacement (``replace=False``, the default, what a ``DataLoader`` with
    ``shuffle=True, drop_last=True`` does): each epoch is a fresh random permutation of
    ``0, ..., n - 1`` cut into :math:`\\lfloor n / B \\rfloor` consecutive batches of
    :math:`B` = ``batch_size``; the incomplete last batch of an epoch is dropped, so within an
    epoch no index repeats and, when :math:`B` divides :math:`n`, each index appears exactly
    once. With replacement (``replace=True``): every index drawn uniformly and independently.
    A stream does not depend on its length: the first ``s`` batches of a run of ``steps > s``
    are the batches of a run of ``s`` steps.

    Args:
        n: the number of examples, an integer ``n >= 1``.
        batch_size: :math:`B`, an integer ``1 <= batch_size <= n``.
        steps: the number of minibatches, an integer ``steps >= 0``.
        seed: a non-negative integer or a tuple of them (see the module docstring).
        replace: sample with replacement.
        configs: ``None`` for one stream, from ``np.random.default_rng(seed)``, or ``K >= 1``
            for K streams, stream ``k`` from ``np.random.default_rng([*seed, k])`` (so equal
            to ``batch_indices(..., seed=(seed, k))``).

    Returns:
        int64 indices of shape ``(steps, batch_size)``, or ``(steps, configs, batch_size)``:
        ``X[idx[t]]`` is minibatch ``t`` (of every configuration, ``(K, B, d)``).

    >>> idx = batch_indices(6, 2, 6, seed=0)
    >>> idx.shape
    (6, 2)
    >>> sorted(idx[:3].ravel().tolist()), sorted(idx[3:].ravel().tolist())   # two epochs
    ([0, 1, 2, 3, 4, 5], [0, 1, 2, 3, 4, 5])
    >>> batch_indices(6, 2, 5, configs=3).shape
    (5, 3, 2)
    >>> batch_indices(6, 7, 5)
    Traceback (most recent call last):
    ...
    ValueError: batch_size must be an integer with 1 <= batch_size <= n = 6, got 7
    """
    n = _check_count(n, "n")
    if (isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral)
            or not 1 <= batch_size <= n):
        raise ValueError(f"batch_size must be an integer with 1 <= batch_size <= n = {n}, "
                         f"got {batch_size!r}")
    batch_size = int(batch_size)
    steps = integer("steps", steps, low=0)
    seed = _check_seed(seed)
    if configs is None:
        return _stream(np.random.default_rng(seed), n, batch_size, steps, replace)
    configs = _check_count(configs, "configs")
    streams = [_stream(np.random.default_rng([*_seed_words(seed), k]), n, batch_size, steps,
                       replace) for k in range(configs)]
    return np.stack(streams, axis=1)


def _stream(rng, n, batch_size, steps, replace):
    if replace:
        return rng.integers(0, n, size=(steps, batch_size), dtype=np.int64)
    per_epoch = n // batch_size
    epochs = -(-steps // per_epoch)
    order = rng.permuted(np.broadcast_to(np.arange(n, dtype=np.int64), (epochs, n)), axis=1)
    batches = order[:, :per_epoch * batch_size].reshape(epochs * per_epoch, batch_size)
    return np.ascontiguousarray(batches[:steps])


# --------------------------------------------------------------------------------------------
# Models


class Model(NamedTuple):
    r"""A classifier as pure functions of explicit parameters (a dict of arrays).

    Fields (``params`` as built by ``init``; ``X`` of shape ``(B, d)`` or ``(K, B, d)``;
    ``y`` int labels of shape ``X.shape[:-1]``):

    - ``name``: a label, e.g. ``"mlp(64-32-10, tanh)"``.
    - ``init(seed=0, configs=None)``: the starting parameters, as ``torch.nn.Linear`` draws
      them: every weight and bias uniform in :math:`(-1/\sqrt{n_\text{in}}, 1/\sqrt{n_\text{in}})`,
      drawn layer by layer (``W`` then ``b``) from one generator; ``configs=K`` gives K models
      along a leading axis (see the module docstring for the seeds).
    - ``logits(params, X)``: the scores :math:`Z`, ``(B, C)`` or ``(K, B, C)``.
    - ``loss(params, X, y)``: the mean softmax cross-entropy, a float or ``(K,)``.
    - ``loss_and_grad(params, X, y)``: ``(loss, grads)`` in one forward and one backward pass,
      ``grads`` a dict of ``params``'s keys and shapes.
    - ``per_example_grads(params, X, y)``: for un-batched params and ``X`` of shape ``(B, d)``,
      the gradient of each example's loss: a dict whose leaves have shape
      ``(B, *leaf_shape)``; their mean over the first axis is ``loss_and_grad``'s gradient.
    - ``accuracy(params, X, y)``: the fraction of rows whose largest score is the label's
      (ties go to the lowest class), a float or ``(K,)``.
    - ``sizes``: the layer widths ``(d, ..., C)``; ``activation``: the hidden layers'
      nonlinearity (``None`` for logistic regression).
    """

    name: str
    init: Callable
    logits: Callable
    loss: Callable
    loss_and_grad: Callable
    per_example_grads: Callable
    accuracy: Callable
    sizes: tuple = ()
    activation: str | None = None


def logistic_regression(n_features: int = 64, n_classes: int = 10) -> Model:
    r"""Multinomial logistic regression: :math:`Z = X W + b`, softmax cross-entropy. Convex.

    Parameters ``{"W": (d, C), "b": (1, C)}``. The loss of a batch of :math:`B` rows with
    labels :math:`y_i` is

    .. math::

        \mathcal{L} = \frac{1}{B} \sum_{i=1}^{B} \Bigl( \log \sum_{c} e^{Z_{ic}} - Z_{i y_i}
        \Bigr),

    and its gradient (derived in :func:`mlp`, of which this is the case without hidden layers)
    is :math:`\partial \mathcal{L} / \partial W = X^\top \Delta`,
    :math:`\partial \mathcal{L} / \partial b =
    \mathbf{1}^\top \Delta`, with :math:`\Delta = (\mathrm{softmax}(Z) - \mathrm{onehot}(y))/B`.
    The loss is convex in :math:`(W, b)`: a log-sum-exp of linear functions minus a linear one.

    >>> model = logistic_regression(3, 2)
    >>> params = {"W": np.zeros((3, 2)), "b": np.zeros((1, 2))}
    >>> float(model.loss(params, np.ones((4, 3)), np.array([0, 1, 0, 1])))   # log 2
    0.6931471805599453
    >>> model.loss(params, np.ones((4, 3)), np.array([0, 1, 0, 2]))
    Traceback (most recent call last):
    ...
    ValueError: y must hold integer labels in [0, 2), got values from 0 to 2
    """
    n_features = _check_count(n_features, "n_features")
    n_classes = _check_count(n_classes, "n_classes")
    return _build((n_features, n_classes), None, [("W", "b")],
                  f"logistic_regression({n_features}-{n_classes})")


def mlp(sizes=(64, 32, 10), activation: str = "tanh") -> Model:
    r"""A multilayer perceptron with ``tanh`` (or ``relu``) hidden layers and a softmax output.

    ``sizes = (d, n_1, ..., n_{L-1}, C)`` gives :math:`L` layers with parameters
    ``{"W1": (d, n_1), "b1": (1, n_1), ..., "WL": (n_{L-1}, C), "bL": (1, C)}``. The forward
    pass, for a batch :math:`H_0 = X` of :math:`B` rows:

    .. math::

        Z_\ell = H_{\ell-1} W_\ell + b_\ell, \quad H_\ell = \sigma(Z_\ell)
        \quad (\ell = 1, \dots, L-1), \qquad Z_L = H_{L-1} W_L + b_L,

    with :math:`\sigma = \tanh` or :math:`\sigma(z) = \max(z, 0)`, and the loss is the mean
    softmax cross-entropy of the logits :math:`Z_L`,
    :math:`\mathcal{L} = \frac{1}{B} \sum_i \bigl(\log \sum_c e^{Z_{L,ic}} - Z_{L, i y_i}\bigr)`.

    **Backpropagation** (the gradient, written out; ``loss_and_grad`` computes it in one
    forward pass, one matrix product per layer, and one backward pass, two per layer):

    1. Output: :math:`\partial \mathcal{L} / \partial Z_{L,ic} = \frac{1}{B}(p_{ic} - [c = y_i])`
       with :math:`p_i = \mathrm{softmax}(Z_{L,i})`, because
       :math:`\partial_{z_c} \log \sum_k e^{z_k} = p_c` and :math:`\partial_{z_c} z_y = [c = y]`.
       Call it :math:`\Delta_L = (P - Y)/B`, :math:`Y` the one-hot labels.
    2. A layer :math:`Z = H W + b` with :math:`\Delta = \partial \mathcal{L} / \partial Z`:
       :math:`\partial \mathcal{L} / \partial W = H^\top \Delta`,
       :math:`\partial \mathcal{L} / \partial b = \mathbf{1}^\top \Delta` (the column sums) and
       :math:`\partial \mathcal{L} / \partial H = \Delta W^\top` (the chain rule on
       :math:`Z_{ij} = \sum_k H_{ik} W_{kj} + b_j`).
    3. An activation, element by element: :math:`\Delta_{\ell} = (\Delta_{\ell+1}
       W_{\ell+1}^\top) \odot \sigma'(Z_\ell)`, where :math:`\tanh' = 1 - \tanh^2` (so
       :math:`\sigma'(Z_\ell) = 1 - H_\ell^2`, from the stored output) and
       :math:`\mathrm{relu}'(z) = [z > 0]` (so :math:`[H_\ell > 0]`; at the kink :math:`z = 0`
       the value 0 is taken, as PyTorch does).

    With a configuration axis every product is a batched ``np.matmul`` over the K models;
    with shared ``X`` of shape ``(B, d)``, :math:`X^\top \Delta_1` broadcasts it.
    The logits use the max-shifted log-sum-exp, so large scores do not overflow.

    Args:
        sizes: the layer widths, at least two integers >= 1 (``(d, C)`` is logistic
            regression with the names ``W1``, ``b1``).
        activation: ``"tanh"`` or ``"relu"``.

    >>> model = mlp((64, 32, 10))
    >>> params = model.init(seed=0, configs=4)
    >>> X = np.random.default_rng(0).random((16, 64))
    >>> y = np.arange(16) % 10
    >>> model.logits(params, X).shape, model.accuracy(params, X, y).shape
    ((4, 16, 10), (4,))
    >>> loss, grads = model.loss_and_grad(params, X, y)
    >>> loss.shape, grads["W1"].shape, grads["b2"].shape
    ((4,), (4, 64, 32), (4, 1, 10))
    >>> mlp((64, 32, 10), activation="sigmoid")
    Traceback (most recent call last):
    ...
    ValueError: activation must be 'tanh' or 'relu', got 'sigmoid'
    """
    if activation not in ("tanh", "relu"):
        raise ValueError(f"activation must be 'tanh' or 'relu', got {activation!r}")
    try:
        sizes = tuple(sizes)
    except TypeError:
        raise ValueError(f"sizes must be a sequence of at least two integers >= 1, "
                         f"got {sizes!r}") from None
    if len(sizes) < 2:
        raise ValueError(f"sizes must be a sequence of at least two integers >= 1, got {sizes!r}")
    sizes = tuple(_check_count(s, f"sizes[{i}]") for i, s in enumerate(sizes))
    names = [(f"W{i}", f"b{i}") for i in range(1, len(sizes))]
    return _build(sizes, activation, names, f"mlp({'-'.join(map(str, sizes))}, {activation})")


def _build(sizes, activation, names, label):
    """The Model for layer widths ``sizes`` and parameter names ``[(W, b), ...]``."""
    keys = [key for pair in names for key in pair]
    shapes = {}
    for (w, b), fan_in, fan_out in zip(names, sizes[:-1], sizes[1:], strict=True):
        shapes[w], shapes[b] = (fan_in, fan_out), (1, fan_out)
    n_classes = sizes[-1]

    def init(seed=0, configs=None):
        seed = _check_seed(seed)
        if configs is None:
            return _draw(np.random.default_rng(seed))
        configs = _check_count(configs, "configs")
        draws = [_draw(np.random.default_rng([*_seed_words(seed), k])) for k in range(configs)]
        return {key: np.stack([d[key] for d in draws]) for key in keys}

    def _draw(rng):
        params = {}
        for (w, b), fan_in in zip(names, sizes[:-1], strict=True):
            bound = 1.0 / np.sqrt(fan_in)
            params[w] = rng.uniform(-bound, bound, size=shapes[w])
            params[b] = rng.uniform(-bound, bound, size=shapes[b])
        return params

    def check(params, X, y=None, *, batched_ok=True):
        if not isinstance(params, dict) or set(params) != set(keys):
            got = sorted(params) if isinstance(params, dict) else type(params).__name__
            raise ValueError(f"params must be a dict with keys {keys}, got {got}")
        configs = None
        leaves = {}
        for key in keys:
            leaf = params[key]
            if not isinstance(leaf, np.ndarray):
                leaf = np.asarray(leaf, dtype=np.float64)
            shape = leaf.shape
            if shape[-2:] != shapes[key] or leaf.ndim not in (2, 3):
                raise ValueError(f"params[{key!r}] must have shape {shapes[key]} or "
                                 f"(K, {', '.join(map(str, shapes[key]))}), got {shape}")
            k = shape[0] if leaf.ndim == 3 else None
            if key == keys[0]:
                configs = k
            elif k != configs:
                raise ValueError(f"params[{key!r}] has shape {shape} but params[{keys[0]!r}] "
                                 f"has shape {np.shape(params[keys[0]])}: every leaf needs the "
                                 "same leading configuration axis, or none")
            leaves[key] = leaf
        if configs is not None and not batched_ok:
            raise ValueError("params must be un-batched here (no configuration axis), got "
                             f"params[{keys[0]!r}] of shape {leaves[keys[0]].shape}")
        if not isinstance(X, np.ndarray) or X.dtype != np.float64:
            X = np.asarray(X, dtype=np.float64)
        if X.ndim == 3 and not batched_ok:
            raise ValueError(f"X must have shape (B, {sizes[0]}) here, got {X.shape}")
        if X.ndim not in (2, 3) or X.shape[-1] != sizes[0] or X.shape[-2] < 1:
            raise ValueError(f"X must have shape (B, {sizes[0]}) or (K, B, {sizes[0]}) with "
                             f"B >= 1, got {X.shape}")
        if X.ndim == 3 and X.shape[0] != configs:
            expected = ("params without a configuration axis take X of shape (B, d)"
                        if configs is None else f"params have K = {configs} configurations")
            raise ValueError(f"X of shape {X.shape} does not match params: {expected}")
        if y is None:
            return leaves, X, None
        y = np.asarray(y)
        if y.shape != X.shape[:-1]:
            raise ValueError(f"y must have shape {X.shape[:-1]} to match X of shape "
                             f"{X.shape}, got {y.shape}")
        _check_labels(y, n_classes, "y")
        return leaves, X, y

    def logits(params, X):
        params, X, _ = check(params, X)
        return _forward(params, names, X, activation)[1]

    def loss(params, X, y):
        params, X, y = check(params, X, y)
        return _loss_from_logits(_forward(params, names, X, activation)[1], y)

    def loss_and_grad(params, X, y):
        params, X, y = check(params, X, y)
        return _loss_and_grad(params, names, X, y, activation)

    def per_example_grads(params, X, y):
        params, X, y = check(params, X, y, batched_ok=False)
        # each example is a "configuration" with a batch of one: rows (B, 1, d), labels (B, 1)
        _, grads = _loss_and_grad(params, names, X[:, None, :], y[:, None], activation)
        return grads

    def accuracy(params, X, y):
        params, X, y = check(params, X, y)
        return _accuracy_from_logits(_forward(params, names, X, activation)[1], y)

    for function in (init, logits, loss, loss_and_grad, per_example_grads, accuracy):
        function.__qualname__ = f"{label}.{function.__name__}"
    return Model(label, init, logits, loss, loss_and_grad, per_example_grads, accuracy,
                 tuple(sizes), activation)


def _matmul(h, w):
    """``h @ w``; a large input ``(n, d)`` shared by K weights ``(K, d, m)`` as ONE product.

    ``np.matmul`` would multiply the shared input by each configuration's weights in turn (K
    small products); for a whole data set (an evaluation) one ``(n, d) x (d, K m)`` product is
    faster, and it computes the same sums.
    """
    if h.ndim == 2 and w.ndim == 3 and h.shape[0] >= 256:
        configs, d, m = w.shape
        joined = h @ w.transpose(1, 0, 2).reshape(d, configs * m)
        return joined.reshape(h.shape[0], configs, m).transpose(1, 0, 2)
    return np.matmul(h, w)


def _forward(params, names, X, activation):
    """``(inputs of each layer, logits)``: ``[H_0 = X, H_1, ..., H_{L-1}]`` and ``Z_L``."""
    hidden = [X]
    h = X
    last = len(names) - 1
    for i, (w, b) in enumerate(names):
        z = _matmul(h, params[w])
        z += params[b]
        if i < last:
            if activation == "tanh":
                np.tanh(z, out=z)
            else:
                np.maximum(z, 0.0, out=z)
            hidden.append(z)
        h = z
    return hidden, h


def _label_positions(z, y):
    """Flat indices of the labels' scores in ``z`` of shape ``(..., B, C)``."""
    rows = z.size // z.shape[-1]
    labels = np.broadcast_to(y, z.shape[:-1]).reshape(rows)
    return np.arange(rows) * z.shape[-1] + labels


def _loss_from_logits(z, y, *, keep_softmax=False):
    """Mean cross-entropy over the batch axis. ``z`` is overwritten (the caller owns it); with
    ``keep_softmax`` it ends as the softmax, returned with the labels' flat positions.

    The log-sum-exp is shifted by the row maximum m: log sum exp(z) = m + log sum exp(z - m).
    """
    z -= _row_max(z)
    positions = _label_positions(z, y)
    picked = z.reshape(-1)[positions].reshape(z.shape[:-1])
    np.exp(z, out=z)
    total = np.matmul(z, np.ones((z.shape[-1], 1)))  # row sums (faster than .sum(-1))
    loss = (np.log(total[..., 0]) - picked).mean(axis=-1)
    if keep_softmax:
        z /= total
        return loss, z, positions
    return loss


def _row_max(z):
    """The maximum over the last (short: the classes) axis, keepdims, a column at a time.

    NumPy's ``z.max(axis=-1)`` over a short contiguous axis is several times slower."""
    top = z[..., :1].copy()
    for c in range(1, z.shape[-1]):
        np.maximum(top, z[..., c:c + 1], out=top)
    return top


def _accuracy_from_logits(z, y):
    return (np.argmax(z, axis=-1) == y).mean(axis=-1)


def _loss_and_grad(params, names, X, y, activation):
    """One forward and one backward pass (the algorithm in :func:`mlp`'s docstring)."""
    hidden, z = _forward(params, names, X, activation)
    loss, delta, positions = _loss_from_logits(z, y, keep_softmax=True)
    delta.reshape(-1)[positions] -= 1.0            # P - Y
    delta *= 1.0 / z.shape[-2]                     # (P - Y) / B
    grads = {}
    ones = np.ones((1, z.shape[-2]))
    for i in range(len(names) - 1, -1, -1):
        w, b = names[i]
        h = hidden[i]
        grads[w] = np.matmul(np.swapaxes(h, -1, -2), delta)    # H^T Delta
        grads[b] = np.matmul(ones, delta)                      # 1^T Delta, the column sums
        if i > 0:  # h is H_i = sigma(Z_i), ours (not X): overwritten with sigma'(Z_i)
            back = np.matmul(delta, np.swapaxes(params[w], -1, -2))
            if activation == "tanh":
                np.multiply(h, h, out=h)
                np.subtract(1.0, h, out=h)         # 1 - tanh^2
                back *= h
            else:
                np.multiply(back, h > 0, out=back)  # [Z_i > 0]
            delta = back
    # in-place steps only: expressions such as back * (1 - h * h) keep several large
    # temporaries alive at once, and allocating them costs more than the arithmetic
    return loss, {key: grads[key] for pair in names for key in pair}


def l2_penalised(model: Model, lam) -> Model:
    r"""``model`` with :math:`\frac{\lambda}{2}\sum_\ell \|W_\ell\|^2` added to every
    example's loss: the weight matrices (``W``, or ``W1``, ``W2``, ...) are penalised, the
    biases are not, as in scikit-learn's ``LogisticRegression``.

    ``loss`` and ``loss_and_grad`` add the penalty and its gradient :math:`\lambda W_\ell`;
    ``per_example_grads`` adds :math:`\lambda W_\ell` to each example's gradient (the penalty
    is part of every example's loss, so their mean is still ``loss_and_grad``'s gradient).
    ``logits`` and ``accuracy`` are the model's own; :func:`evaluate` scores the cross-entropy
    alone.

    Args:
        model: a :class:`Model` from :func:`logistic_regression` or :func:`mlp`.
        lam: :math:`\lambda`, a number, ``0 <= lam``, finite.

    >>> model = l2_penalised(logistic_regression(2, 2), 0.5)
    >>> params = {"W": np.ones((2, 2)), "b": np.zeros((1, 2))}
    >>> X, y = np.array([[1.0, 0.0]]), np.array([0])
    >>> float(model.loss(params, X, y) - logistic_regression(2, 2).loss(params, X, y))  # 0.25 * 4
    1.0
    >>> model.name
    'logistic_regression(2-2) + L2'
    """
    lam = hyperparameter("lam", lam, low=0.0, high=np.inf, low_open=False)
    if np.ndim(lam) != 0:
        raise ValueError(f"lam must be a single number with 0 <= lam, got shape {np.shape(lam)}")

    def weights(params):
        return [key for key in params if key.startswith("W")]

    def penalty(params):
        return sum(lam / 2 * np.sum(params[key] ** 2, axis=(-2, -1)) for key in weights(params))

    def with_decay(params, grads):
        return {**grads, **{key: grads[key] + lam * params[key] for key in weights(params)}}

    def loss(params, X, y):
        return model.loss(params, X, y) + penalty(params)

    def loss_and_grad(params, X, y):
        value, grads = model.loss_and_grad(params, X, y)
        return value + penalty(params), with_decay(params, grads)

    def per_example_grads(params, X, y):
        return with_decay(params, model.per_example_grads(params, X, y))

    return model._replace(name=f"{model.name} + L2", loss=loss, loss_and_grad=loss_and_grad,
                          per_example_grads=per_example_grads)


def evaluate(model: Model, params, data: Dataset):
    """``(loss, accuracy)`` of ``model`` on all of ``data``, from one forward pass.

    The mean softmax cross-entropy of ``model.logits`` and the accuracy (floats, or ``(K,)``
    for batched params), for the price of one call to ``model.logits``: the same numbers as
    ``model.loss`` and ``model.accuracy`` of the models :func:`mlp` and
    :func:`logistic_regression` build. A Model whose ``loss`` you replaced (a penalty added,
    say) is still evaluated on the cross-entropy alone: compute the penalised loss yourself.

    >>> model = logistic_regression(2, 2)
    >>> params = {"W": np.eye(2), "b": np.zeros((1, 2))}
    >>> data = Dataset(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]), np.array([0, 1, 1]),
    ...                2, "toy")
    >>> loss, acc = evaluate(model, params, data)
    >>> round(float(loss), 6), round(float(acc), 6)
    (0.646595, 0.666667)
    """
    data = _check_dataset(data)
    z = model.logits(params, data.features)
    accuracy = _accuracy_from_logits(z, data.labels)
    loss = _loss_from_logits(z, data.labels)  # z is a fresh array, overwritten
    return loss, accuracy


def configs_of(params):
    """The number K of configurations of a model's params (a leading axis), or ``None``.

    Un-batched leaves are 2-D (``(fan_in, fan_out)``, ``(1, fan_out)``), batched ones 3-D.

    >>> configs_of(mlp((4, 2)).init(configs=3)), configs_of(mlp((4, 2)).init())
    (3, None)
    """
    leaves = list(params.values()) if isinstance(params, dict) else list(params)
    first = np.ndim(leaves[0])
    return int(np.shape(leaves[0])[0]) if first == 3 else None


# --------------------------------------------------------------------------------------------
# Checks


def _check_count(value, name):
    return integer(name, value, low=1)


def _check_labels(labels, n_classes, name):
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"{name} must hold integer labels in [0, {n_classes}), "
                         f"got dtype {labels.dtype}")
    if labels.size:
        low, high = int(labels.min()), int(labels.max())
        if low < 0 or high >= n_classes:
            raise ValueError(f"{name} must hold integer labels in [0, {n_classes}), got values "
                             f"from {low} to {high}")


def _seed_words(seed):
    return (seed,) if isinstance(seed, int) else tuple(seed)


def _check_seed(seed):
    """A non-negative int, or a tuple of them (what ``np.random.default_rng`` accepts)."""
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0:
        return int(seed)
    if isinstance(seed, (tuple, list)) and seed and all(
            isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 0
            for s in seed):
        return tuple(int(s) for s in seed)
    raise ValueError(f"seed must be a non-negative integer or a tuple of them, got {seed!r}")
