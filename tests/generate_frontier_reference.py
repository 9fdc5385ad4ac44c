"""Regenerate the reference iterates of ``tests/test_frontier_reference.py``.

Needs torch 2.13.0 and optax 0.2.8 (with jax 0.10.2, which runs on Python 3.11), in a
virtualenv of their own; ``make test`` never needs them::

    python3 -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install numpy torch==2.13.0 jax==0.10.2 jaxlib==0.10.2 optax==0.2.8
    /tmp/refvenv/bin/python tests/generate_frontier_reference.py

Every case of :data:`frontier_cases.CASES` runs in float64 (``torch.set_default_dtype`` and
jax's ``jax_enable_x64``), with the gradient computed in NumPy by
:func:`frontier_cases.gradient` and handed to the framework. optax runs eagerly (no ``jit``).

torch.optim.Muon runs its Newton-Schulz iteration in bfloat16 (``grad.bfloat16()`` in
``torch/optim/_muon.py``). Cases marked ``patch="float64_newton_schulz"`` replace that
function by the same iteration kept in float64 (:func:`_newton_schulz_float64`, which differs
from PyTorch's only in that cast); the case ``muon_bfloat16`` records PyTorch as shipped.

It writes ``tests/data/frontier_reference.json`` (versions and cases) and
``tests/data/frontier_reference.npz`` (the problems' arrays and each case's ``STEPS + 1``
iterates).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from frontier_cases import CASES, JSON_PATH, NPZ_PATH, SHAPES, STEPS, gradient, make_problem  # noqa: E402, I001


def _newton_schulz_float64(grad, ns_coefficients, ns_steps, eps):
    """``torch.optim._muon._zeropower_via_newtonschulz`` without the cast to bfloat16."""
    import torch

    a, b, c = ns_coefficients
    ortho_grad = grad.clone()
    if grad.size(0) > grad.size(1):
        ortho_grad = ortho_grad.T
    ortho_grad.div_(ortho_grad.norm().clamp(min=eps))
    for _ in range(ns_steps):
        gram_matrix = ortho_grad @ ortho_grad.T
        gram_update = torch.addmm(gram_matrix, gram_matrix, gram_matrix, beta=b, alpha=c)
        ortho_grad = torch.addmm(ortho_grad, gram_update, ortho_grad, beta=a)
    if grad.size(0) > grad.size(1):
        ortho_grad = ortho_grad.T
    return ortho_grad


def _run_torch(case, problem):
    import torch
    import torch.optim._muon as muon_module

    stock = muon_module._zeropower_via_newtonschulz
    if case.get("patch") == "float64_newton_schulz":
        muon_module._zeropower_via_newtonschulz = _newton_schulz_float64
    try:
        param = torch.tensor(problem["x0"], dtype=torch.float64, requires_grad=True)
        opt = getattr(torch.optim, case["optimizer"])([param], **case["kwargs"])
        xs = [param.detach().numpy().copy()]
        for t in range(1, STEPS + 1):
            param.grad = torch.from_numpy(gradient(param.detach().numpy(), t, problem))
            opt.step()
            xs.append(param.detach().numpy().copy())
    finally:
        muon_module._zeropower_via_newtonschulz = stock
    return np.stack(xs)


def _run_optax(case, problem):
    import jax.numpy as jnp
    import optax
    import optax.contrib  # noqa: F401  (schedule_free_adamw)

    factory = optax
    for part in case["optimizer"].split("."):
        factory = getattr(factory, part)
    tx = factory(**case["kwargs"])
    params = jnp.asarray(problem["x0"])
    state = tx.init(params)
    xs = [np.asarray(params)]
    for t in range(1, STEPS + 1):
        grad = jnp.asarray(gradient(np.asarray(params), t, problem))
        updates, state = tx.update(grad, state, params)
        params = optax.apply_updates(params, updates)
        xs.append(np.asarray(params))
    return np.stack(xs)


def main():
    import jax

    jax.config.update("jax_enable_x64", True)
    import optax
    import torch

    torch.set_default_dtype(torch.float64)
    problems = {name: make_problem(name) for name in SHAPES}
    arrays = {f"problem/{name}/{key}": value
              for name, problem in problems.items() for key, value in problem.items()}
    meta = {"torch_version": torch.__version__, "optax_version": optax.__version__,
            "jax_version": jax.__version__, "dtype": "float64", "steps": STEPS, "cases": {}}
    for name, case in CASES.items():
        run = _run_torch if case["framework"] == "torch" else _run_optax
        xs = run(case, problems[case["shape"]])
        assert xs.dtype == np.float64 and np.all(np.isfinite(xs)), name
        arrays[f"case/{name}"] = xs
        meta["cases"][name] = {"framework": case["framework"], "optimizer": case["optimizer"],
                               "kwargs": {k: v for k, v in case["kwargs"].items()},
                               "shape": case["shape"]}
        print(f"{name}: {case['framework']} {case['optimizer']}, moved "
              f"{np.abs(xs[-1] - xs[0]).max():.3g}")
    JSON_PATH.write_text(json.dumps(meta, indent=1, default=list) + "\n", encoding="utf-8")
    np.savez_compressed(NPZ_PATH, **arrays)


if __name__ == "__main__":
    main()
