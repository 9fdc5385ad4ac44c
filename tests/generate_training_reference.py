"""Regenerate the torch reference of ``tests/test_training_reference.py``: autograd gradients
of the digits models and whole training runs with torch.optim, in float64.

Needs torch 2.13.0 and scikit-learn 1.9.1 (the digits data), in a virtualenv of its own;
``make test`` never needs torch::

    python3 -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install numpy torch==2.13.0 scikit-learn==1.9.1
    /tmp/refvenv/bin/python tests/generate_training_reference.py

Everything optlib decides is taken from optlib and handed to torch: the data
(``optlib.learning.digits()``, all 1,797 images), the initial weights (``model.init``) and the
minibatches (``optlib.learning.batch_indices``). torch builds the same networks from
``torch.nn.Linear`` layers (its weight is optlib's ``W`` transposed: optlib stores
``(fan_in, fan_out)``, torch ``(fan_out, fan_in)``; optlib's bias ``(1, fan_out)`` is torch's
``(fan_out,)``), computes the mean softmax cross-entropy with
``torch.nn.functional.cross_entropy`` and its gradient with ``torch.autograd``, and trains with
the single-tensor torch.optim implementations (``foreach=False``) in float64.

The cases are the dictionaries :data:`GRADIENT_CASES`, :data:`RUN_CASES` and
:data:`SWEEP_CASES` below (the test imports them; importing this module does not import
torch). It writes ``tests/data/training_reference.json`` (versions, cases, fingerprints of the
data and of the initial weights) and ``tests/data/training_reference.npz`` (the minibatch
indices, gradients, per-step minibatch losses, and the parameters after :data:`SNAPSHOTS`
steps and at the end of each run).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from anywhere, with /work/main's optlib
    sys.path.insert(0, str(ROOT))

from optlib import learning  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
JSON_PATH = DATA / "training_reference.json"
NPZ_PATH = DATA / "training_reference.npz"

STEPS = 100
BATCH_SIZE = 64
SNAPSHOTS = (50,)  # parameters also stored after these many updates

MODELS = {
    "logreg": lambda: learning.logistic_regression(64, 10),
    "mlp_tanh": lambda: learning.mlp((64, 32, 10), activation="tanh"),
    "mlp_relu": lambda: learning.mlp((64, 32, 10), activation="relu"),
}

# Gradients of the mean cross-entropy at model.init(seed) * scale (scale 3: saturated tanh
# units, larger logits) on one minibatch: the first of batch_indices(n, batch, 1, seed=...),
# or the whole data set (batch=None).
GRADIENT_CASES: dict[str, dict] = {
    "logreg_init": dict(model="logreg", seed=0, scale=1.0, batch=BATCH_SIZE, batch_seed=11),
    "logreg_scaled": dict(model="logreg", seed=1, scale=3.0, batch=BATCH_SIZE, batch_seed=12),
    "logreg_full": dict(model="logreg", seed=2, scale=2.0, batch=None, batch_seed=0),
    "mlp_tanh_init": dict(model="mlp_tanh", seed=0, scale=1.0, batch=BATCH_SIZE, batch_seed=13),
    "mlp_tanh_scaled": dict(model="mlp_tanh", seed=1, scale=3.0, batch=BATCH_SIZE,
                            batch_seed=14),
    "mlp_tanh_small_batch": dict(model="mlp_tanh", seed=2, scale=1.5, batch=5, batch_seed=15),
    "mlp_tanh_full": dict(model="mlp_tanh", seed=3, scale=2.0, batch=None, batch_seed=0),
    "mlp_relu_init": dict(model="mlp_relu", seed=0, scale=1.0, batch=BATCH_SIZE, batch_seed=16),
    "mlp_relu_scaled": dict(model="mlp_relu", seed=4, scale=3.0, batch=BATCH_SIZE,
                            batch_seed=17),
}

# Training runs of STEPS updates with minibatches of BATCH_SIZE from
# batch_indices(n, BATCH_SIZE, STEPS, seed=batch_seed, replace=replace), started from
# model.init(seed=init_seed). "torch": the torch.optim class and keywords; "optlib": the
# optlib factory and keywords that must give the same run; "perturb": optlib hyperparameters
# whose change by a factor (1 + 1e-5) must move the run outside the tolerance; "flip": options
# whose flip must.
RUN_CASES: dict[str, dict] = {
    "mlp_tanh_adam": dict(
        model="mlp_tanh", init_seed=0, batch_seed=0, replace=False,
        torch=("Adam", dict(lr=1e-2)), optlib=("adam", dict(lr=1e-2)),
        perturb=["lr", "beta1", "beta2"], flip=["amsgrad"]),
    "mlp_tanh_amsgrad": dict(
        model="mlp_tanh", init_seed=1, batch_seed=1, replace=False,
        torch=("Adam", dict(lr=5e-3, betas=(0.8, 0.99), eps=1e-6, amsgrad=True)),
        optlib=("adam", dict(lr=5e-3, beta1=0.8, beta2=0.99, eps=1e-6, amsgrad=True)),
        perturb=["lr", "beta1", "beta2"], flip=["amsgrad"]),
    "mlp_relu_adamw": dict(
        model="mlp_relu", init_seed=2, batch_seed=2, replace=False,
        torch=("AdamW", dict(lr=3e-3, betas=(0.8, 0.99), weight_decay=0.1)),
        optlib=("adamw", dict(lr=3e-3, beta1=0.8, beta2=0.99, weight_decay=0.1)),
        perturb=["lr", "beta1", "beta2", "weight_decay"]),
    "mlp_tanh_sgd_momentum": dict(
        model="mlp_tanh", init_seed=3, batch_seed=3, replace=False,
        torch=("SGD", dict(lr=0.1, momentum=0.9)),
        optlib=("momentum", dict(lr=0.1, momentum=0.9)),
        perturb=["lr", "momentum"], flip=["nesterov"]),
    "mlp_relu_sgd_nesterov": dict(
        model="mlp_relu", init_seed=4, batch_seed=4, replace=True,
        torch=("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
        optlib=("momentum", dict(lr=0.05, momentum=0.9, nesterov=True)),
        perturb=["lr", "momentum"], flip=["nesterov"]),
    "mlp_tanh_rmsprop_momentum": dict(
        model="mlp_tanh", init_seed=5, batch_seed=5, replace=False,
        torch=("RMSprop", dict(lr=1e-3, alpha=0.95, eps=1e-6, momentum=0.9)),
        optlib=("rmsprop", dict(lr=1e-3, decay=0.95, eps=1e-6, momentum=0.9)),
        perturb=["lr", "decay", "momentum"], flip=["nesterov"]),
    "logreg_adam": dict(
        model="logreg", init_seed=0, batch_seed=6, replace=False,
        torch=("Adam", dict(lr=0.05)), optlib=("adam", dict(lr=0.05)),
        perturb=["lr", "beta1", "beta2"]),
    "logreg_sgd_momentum": dict(
        model="logreg", init_seed=1, batch_seed=7, replace=True,
        torch=("SGD", dict(lr=0.5, momentum=0.9)),
        optlib=("momentum", dict(lr=0.5, momentum=0.9)),
        perturb=["lr", "momentum"], flip=["nesterov"]),
}

# K models in one vectorised optlib.training.train run (init(seed, configs=K), learning rates
# as an array of shape (K, 1, 1)) against K separate torch models and optimizers, each with
# its config's initial weights and minibatches.
SWEEP_CASES: dict[str, dict] = {
    "mlp_tanh_adam_sweep": dict(
        model="mlp_tanh", init_seed=7, batch_seed=8, per_config_batches=True,
        torch=("Adam", dict(betas=(0.85, 0.995))), optlib=("adam", dict(beta1=0.85, beta2=0.995)),
        lrs=(1e-3, 3e-3, 1e-2)),
    "mlp_relu_sgd_sweep": dict(
        model="mlp_relu", init_seed=8, batch_seed=9, per_config_batches=False,
        torch=("SGD", dict(momentum=0.9)), optlib=("momentum", dict(momentum=0.9)),
        lrs=(0.01, 0.03, 0.1)),
}

TORCH_FIXED = {"foreach": False, "maximize": False}


def digits():
    """The data set every case uses: all of ``optlib.learning.digits()``."""
    return learning.digits()


def fingerprint(array) -> list[float]:
    """Three numbers that change when an array does: its sum, sum of squares and first entry."""
    array = np.asarray(array, dtype=float)
    return [float(array.sum()), float((array * array).sum()), float(array.flat[0])]


def gradient_case(name: str, data=None):
    """The parameters and batch indices of gradient case ``name``."""
    case = GRADIENT_CASES[name]
    data = digits() if data is None else data
    n = len(data.labels)
    params = {key: value * case["scale"]
              for key, value in MODELS[case["model"]]().init(seed=case["seed"]).items()}
    if case["batch"] is None:
        index = np.arange(n)
    else:
        index = learning.batch_indices(n, case["batch"], 1, seed=case["batch_seed"])[0]
    return params, index


def run_batches(case: dict, n: int, configs=None):
    """The minibatch indices of a run or sweep case."""
    return learning.batch_indices(n, BATCH_SIZE, STEPS, seed=case["batch_seed"],
                                  replace=case.get("replace", False), configs=configs)


# --------------------------------------------------------------------------------------------
# torch
# --------------------------------------------------------------------------------------------


def _torch_net(model_name: str, params: dict):
    """A torch.nn network with optlib's ``params`` (one configuration) copied in."""
    import torch

    n_layers = len(params) // 2
    names = [("W", "b")] if model_name == "logreg" else [
        (f"W{i}", f"b{i}") for i in range(1, n_layers + 1)]
    layers = []
    for i, (w, b) in enumerate(names):
        fan_in, fan_out = params[w].shape
        linear = torch.nn.Linear(fan_in, fan_out, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(params[w].T)))
            linear.bias.copy_(torch.from_numpy(params[b].reshape(fan_out)))
        layers.append(linear)
        if i < len(names) - 1:
            layers.append(torch.nn.Tanh() if model_name == "mlp_tanh" else torch.nn.ReLU())
    return torch.nn.Sequential(*layers), names


def _to_optlib(net, names, grad=False) -> dict:
    """The parameters (or their gradients) of ``net`` in optlib's layout."""
    linears = [m for m in net if hasattr(m, "weight")]
    out = {}
    for linear, (w, b) in zip(linears, names, strict=True):
        weight, bias = (linear.weight.grad, linear.bias.grad) if grad else (
            linear.weight, linear.bias)
        out[w] = weight.detach().numpy().T.copy()
        out[b] = bias.detach().numpy().reshape(1, -1).copy()
    return out


def _torch_gradient(model_name, params, X, y):
    import torch

    net, names = _torch_net(model_name, params)
    loss = torch.nn.functional.cross_entropy(net(torch.from_numpy(X)), torch.from_numpy(y))
    loss.backward()
    return float(loss.item()), _to_optlib(net, names, grad=True)


def _torch_run(model_name, params0, X, y, batches, optimizer, kwargs):
    """One torch.optim training run: minibatch losses, parameters at SNAPSHOTS and the end."""
    import torch

    net, names = _torch_net(model_name, params0)
    opt = getattr(torch.optim, optimizer)(net.parameters(), **kwargs, **TORCH_FIXED)
    X, y = torch.from_numpy(X), torch.from_numpy(y)
    losses, snapshots = [], {}
    for t, index in enumerate(batches, start=1):
        index = torch.from_numpy(index)
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(X[index]), y[index])
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if t in SNAPSHOTS:
            snapshots[t] = _to_optlib(net, names)
    return np.array(losses), snapshots, _to_optlib(net, names)


def _indices(index, n):
    """Minibatch indices stored as uint16 (n < 65,536), a third of the file's int64 size."""
    assert n < 2**16 and index.min() >= 0 and index.max() < n
    return index.astype(np.uint16)


def main():
    import sklearn
    import torch

    torch.set_default_dtype(torch.float64)
    data = digits()
    X, y = data.features, data.labels
    assert X.dtype == np.float64 and y.dtype == np.int64
    n = len(y)
    arrays: dict[str, np.ndarray] = {}
    meta = {"torch_version": torch.__version__, "sklearn_version": sklearn.__version__,
            "numpy_version": np.__version__, "dtype": "float64", "steps": STEPS,
            "batch_size": BATCH_SIZE, "snapshots": list(SNAPSHOTS),
            "data": {"name": data.name, "n": n, "features": fingerprint(X),
                     "labels": fingerprint(y)},
            "init": {}, "gradients": {}, "runs": {}, "sweeps": {}}

    def note_init(model_name, seed, configs=None):
        params = MODELS[model_name]().init(seed=seed, configs=configs)
        key = f"{model_name}/{seed}" + ("" if configs is None else f"/K{configs}")
        meta["init"][key] = {leaf: fingerprint(value) for leaf, value in params.items()}
        return params

    for name, case in GRADIENT_CASES.items():
        note_init(case["model"], case["seed"])
        params, index = gradient_case(name, data)
        loss, grads = _torch_gradient(case["model"], params, X[index], y[index])
        arrays[f"gradient/{name}/index"] = _indices(index, n)
        arrays[f"gradient/{name}/loss"] = np.array(loss)
        for leaf, value in grads.items():
            arrays[f"gradient/{name}/grad/{leaf}"] = value
        meta["gradients"][name] = dict(case, loss=loss)
        print(f"gradient {name}: loss {loss:.6f}, |grad| max "
              f"{max(np.abs(g).max() for g in grads.values()):.3g}")

    for name, case in RUN_CASES.items():
        params0 = note_init(case["model"], case["init_seed"])
        batches = run_batches(case, n)
        optimizer, kwargs = case["torch"]
        losses, snapshots, final = _torch_run(case["model"], params0, X, y, batches,
                                              optimizer, kwargs)
        arrays[f"run/{name}/batches"] = _indices(batches, n)
        arrays[f"run/{name}/batch_loss"] = losses
        for t, params in [*snapshots.items(), ("final", final)]:
            for leaf, value in params.items():
                arrays[f"run/{name}/params/{t}/{leaf}"] = value
        meta["runs"][name] = {key: value for key, value in case.items()}
        print(f"run {name}: {optimizer} {kwargs}, minibatch loss {losses[0]:.3f} -> "
              f"{losses[-5:].mean():.3f} (mean of the last 5)")

    for name, case in SWEEP_CASES.items():
        K = len(case["lrs"])
        params0 = note_init(case["model"], case["init_seed"], configs=K)
        batches = run_batches(case, n, configs=K if case["per_config_batches"] else None)
        optimizer, kwargs = case["torch"]
        losses, finals = [], []
        for k, lr in enumerate(case["lrs"]):
            config = {leaf: value[k] for leaf, value in params0.items()}
            config_batches = batches[:, k] if case["per_config_batches"] else batches
            loss, _, final = _torch_run(case["model"], config, X, y, config_batches,
                                        optimizer, dict(kwargs, lr=lr))
            losses.append(loss)
            finals.append(final)
        arrays[f"sweep/{name}/batches"] = _indices(batches, n)
        arrays[f"sweep/{name}/batch_loss"] = np.stack(losses, axis=1)  # (steps, K)
        for leaf in finals[0]:
            arrays[f"sweep/{name}/params/final/{leaf}"] = np.stack([f[leaf] for f in finals])
        meta["sweeps"][name] = {key: value for key, value in case.items()}
        print(f"sweep {name}: {optimizer} over lr {case['lrs']}, last minibatch losses "
              f"{np.round(np.stack(losses)[:, -5:].mean(axis=1), 3).tolist()}")

    for key, value in arrays.items():
        assert np.all(np.isfinite(value)), key
    JSON_PATH.write_text(json.dumps(meta, indent=1, default=list) + "\n", encoding="utf-8")
    np.savez_compressed(NPZ_PATH, **arrays)
    print(f"wrote {NPZ_PATH} ({NPZ_PATH.stat().st_size / 1e3:.0f} kB) and {JSON_PATH} "
          f"({JSON_PATH.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main()
