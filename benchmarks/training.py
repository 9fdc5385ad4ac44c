"""Training 64 MLPs at once: one vectorised optlib run against loops and against torch.

K = 64 configurations of the MLP 64-32-10 (tanh) on all 1,797 digits, minibatches of 64, 300
Adam steps each (default betas and eps), float64. The configurations differ in their learning
rate (64 values log-spaced from 1e-4 to 3e-2) and in their initial weights (configuration k
from ``model.init(seed=(0, k))``, i.e. ``model.init(seed=0, configs=64)[k]``). All 64 see the
same minibatch stream (``optlib.learning.batch_indices(1797, 64, 300, seed=0)``, without
replacement), as ``optlib.training.train`` gives them by default.

The cases, each timed in its own subprocess (best of ``--repeat``, default 3):

- ``optlib_vectorised``: ONE ``optlib.training.train`` run of all 64 (parameters with a leading
  axis of 64, the learning rates an array of shape (64, 1, 1)); it keeps only the last
  parameters (and, as ``train`` always does, evaluates the whole training set at steps 0 and
  300).
- ``optlib_vectorised_run``: the same with ``optlib.run(..., record="last")`` and a gradient
  function that walks the minibatch stream (no full-set evaluation).
- ``optlib_every_iterate``: ``optlib.run`` keeping every iterate (301 x 64 x 2,410 floats):
  the memory contrast.
- ``optlib_looped``: the 64 configurations one at a time, each its own ``train`` run.
- ``torch_looped``: 64 ``torch.nn`` models (Linear-Tanh-Linear) trained one after the other,
  each with its own ``torch.optim.Adam`` and autograd, torch's defaults (on the CPU the
  single-tensor ``for``-loop implementation).
- ``torch_looped_fused``: the same with ``Adam(fused=True)`` (one fused kernel per tensor),
  torch's fastest looped path.
- ``torch_batched``: one model stacked over K (weights ``(64, in, out)``, ``torch.matmul``
  broadcasting the shared minibatch), autograd, and ONE ``torch.optim.Adam`` over the four
  stacked tensors. torch.optim takes one scalar learning rate per parameter group, so the 64
  rates enter through the parametrisation ``theta_k = lr_k * phi_k`` trained with
  ``Adam(lr=1)`` on ``phi`` and the loss ``sum_k L_k(theta_k) / lr_k``: the gradient Adam
  sees is then ``g_k`` itself, and its step on ``theta_k`` is ``lr_k`` times Adam's lr-free
  direction, which is Adam with rate ``lr_k`` (exact up to rounding).
- ``torch_batched_fused``: the same with ``Adam(fused=True)``, torch's fastest batched path.
- ``numpy_floor``: not optlib: the same training (same products, tanh, softmax and Adam, in
  the same order) written by hand in NumPy for speed alone, every array allocated once and
  updated in place: what NumPy's arithmetic costs without optlib's structure, and so about
  how far the ratios against torch can go with NumPy on this machine.

Memory: each case runs in a fresh interpreter, which reports its peak resident set size
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``), and the same before training (after the
imports, the data and the initial weights): the difference is what training added. For the
NumPy cases ``tracemalloc``'s peak (NumPy reports its buffers to it) is measured in an extra,
untimed run. The runs are checked to agree: the final full-set loss of every configuration
(with ``model.loss`` on each run's final parameters) of the vectorised, the looped and the
hand-written NumPy runs to 1e-12 relative, and optlib against torch to 1e-10.

Run (torch is needed only here; any Python with numpy, scikit-learn and torch, the repository
on the path)::

    /tmp/refvenv/bin/python benchmarks/training.py            # prints the table, writes
                                                              # benchmarks/training_results.md

Options: ``--threads`` (default ``1 2``: a full set of runs with every BLAS and torch's
intra-op pool at each count), ``--repeat``, ``--cases`` (a subset), ``--no-write``. On an idle
2-core machine the default takes about 5 minutes. On a loaded one, two threads make torch's
OpenMP workers spin-wait: the 64 looped torch runs then take minutes each (measured at a load
average of 10: 163 s for one set of 64), so use ``--threads 1`` there.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

K = 64
STEPS = 300
BATCH_SIZE = 64
SIZES = (64, 32, 10)
LR_RANGE = (1e-4, 3e-2)
INIT_SEED = 0
BATCH_SEED = 0
RESULTS = Path(__file__).resolve().parent / "training_results.md"

CASES = {
    "optlib_vectorised": "optlib, one vectorised `train` run, last parameters only",
    "optlib_vectorised_run": "optlib, one vectorised `optlib.run(record=\"last\")`",
    "optlib_every_iterate": "optlib, one vectorised `optlib.run`, every iterate kept",
    "optlib_looped": "optlib, 64 `train` runs one at a time",
    "torch_looped": "torch, 64 models one at a time (`torch.optim.Adam`, autograd)",
    "torch_looped_fused": "torch, the same with `Adam(fused=True)`",
    "torch_batched": "torch, one model stacked over K, one `torch.optim.Adam`, autograd",
    "torch_batched_fused": "torch, the same with `Adam(fused=True)`",
    "numpy_floor": "NumPy by hand, every array preallocated and updated in place (no optlib)",
}
NUMPY_CASES = {name for name in CASES if name.startswith(("optlib", "numpy"))}


# --------------------------------------------------------------------------------------------
# The cases (each runs in a child process: ``--case NAME``)
# --------------------------------------------------------------------------------------------


def _setup():
    import numpy as np

    from optlib import learning

    data = learning.digits()
    model = learning.mlp(SIZES, activation="tanh")
    lrs = np.geomspace(*LR_RANGE, K)
    params0 = model.init(seed=INIT_SEED, configs=K)
    batches = learning.batch_indices(len(data.labels), BATCH_SIZE, STEPS, seed=BATCH_SEED)
    return data, model, lrs, params0, batches


def _optlib_case(name, data, model, lrs, params0, batches):
    """A function running case ``name`` and returning the final (K, ...) parameters."""
    import numpy as np

    import optlib
    from optlib import training

    X, y = data.features, data.labels
    lr = optlib.grid(lrs, event_ndim=2)[0]  # (K, 1, 1)

    def grad_fn_walking(stream):
        position = iter(range(STEPS))

        def grad_fn(params):
            t = next(position)
            return model.loss_and_grad(params, X[stream[t]], y[stream[t]])[1]
        return grad_fn

    if name == "optlib_vectorised":
        def go():
            run = training.train(optlib.adam(lr=lr), model, params0, data, STEPS,
                                 batch_size=BATCH_SIZE, seed=BATCH_SEED, every=STEPS)
            return run.params
    elif name == "optlib_vectorised_run":
        def go():
            return optlib.run(optlib.adam(lr=lr), grad_fn_walking(batches), params0, STEPS,
                              record="last")
    elif name == "optlib_every_iterate":
        def go():
            xs = optlib.run(optlib.adam(lr=lr), grad_fn_walking(batches), params0, STEPS)
            assert xs["W1"].shape == (STEPS + 1, K, SIZES[0], SIZES[1])
            return {leaf: value[-1].copy() for leaf, value in xs.items()}  # not a view: frees xs
    elif name == "optlib_looped":
        def go():
            finals = []
            for k in range(K):
                one = {leaf: value[k] for leaf, value in params0.items()}
                run = training.train(optlib.adam(lr=float(lrs[k])), model, one, data, STEPS,
                                     batch_size=BATCH_SIZE, seed=BATCH_SEED, every=STEPS)
                finals.append(run.params)
            return {leaf: np.stack([f[leaf] for f in finals]) for leaf in finals[0]}
    elif name == "numpy_floor":
        return _numpy_floor(X, y, lrs, params0, batches)
    else:
        raise ValueError(f"case must be one of {sorted(CASES)}, got {name!r}")
    return go


def _numpy_floor(X, y, lrs, params0, batches):
    """The same training written for speed alone: what NumPy's arithmetic costs.

    The operations of the vectorised run (the five matrix products, tanh, the softmax, Adam),
    in the same order of rounding, but each writing into a buffer allocated once: no optimizer
    or model abstraction, no container walk, no new array per step. This is no way to write a
    library (it works on these four arrays only, and nothing is checked), but it bounds from
    below what any NumPy implementation of this training can take on this machine.
    """
    import numpy as np

    beta1, beta2, eps = 0.9, 0.999, 1e-8
    lr = lrs.reshape(K, 1, 1)
    classes = SIZES[2]
    ones = np.ones((1, BATCH_SIZE))
    sums = np.ones((classes, 1))
    rows = np.arange(K * BATCH_SIZE) * classes

    def go():
        params = {leaf: value.copy() for leaf, value in params0.items()}
        first = {leaf: np.zeros_like(value) for leaf, value in params.items()}
        second = {leaf: np.zeros_like(value) for leaf, value in params.items()}
        grads = {leaf: np.empty_like(value) for leaf, value in params.items()}
        scratch = {leaf: np.empty_like(value) for leaf, value in params.items()}
        hidden = np.empty((K, BATCH_SIZE, SIZES[1]))
        derivative = np.empty_like(hidden)
        back = np.empty_like(hidden)
        logits = np.empty((K, BATCH_SIZE, classes))
        top = np.empty((K, BATCH_SIZE, 1))
        total = np.empty((K, BATCH_SIZE, 1))
        W1, b1, W2, b2 = (params[leaf] for leaf in ("W1", "b1", "W2", "b2"))
        for t, index in enumerate(batches, start=1):
            xb = X[index]
            np.matmul(xb, W1, out=hidden)
            hidden += b1
            np.tanh(hidden, out=hidden)
            np.matmul(hidden, W2, out=logits)
            logits += b2
            np.max(logits, axis=-1, keepdims=True, out=top)
            logits -= top
            np.exp(logits, out=logits)
            np.matmul(logits, sums, out=total)
            logits /= total                                     # softmax P
            flat = logits.reshape(-1)
            flat[rows + np.tile(y[index], K)] -= 1.0            # P - Y
            logits *= 1.0 / BATCH_SIZE
            np.matmul(np.swapaxes(hidden, -1, -2), logits, out=grads["W2"])
            np.matmul(ones, logits, out=grads["b2"])
            np.matmul(logits, np.swapaxes(W2, -1, -2), out=back)
            np.multiply(hidden, hidden, out=derivative)
            np.subtract(1.0, derivative, out=derivative)
            back *= derivative
            np.matmul(xb.T, back, out=grads["W1"])
            np.matmul(ones, back, out=grads["b1"])
            correction1 = 1 - beta1**t
            root_correction2 = np.sqrt(1 - beta2**t)
            for leaf, p in params.items():
                g, m, v, tmp = grads[leaf], first[leaf], second[leaf], scratch[leaf]
                m *= beta1
                np.multiply(g, 1 - beta1, out=tmp)
                m += tmp
                v *= beta2
                np.multiply(g, 1 - beta2, out=tmp)
                tmp *= g
                v += tmp
                np.sqrt(v, out=tmp)
                tmp /= root_correction2
                tmp += eps
                np.divide(m, tmp, out=tmp)
                tmp /= correction1
                tmp *= lr
                p -= tmp
        return params

    return go


def _torch_case(name, data, model, lrs, params0, batches):
    import numpy as np
    import torch

    torch.set_default_dtype(torch.float64)
    X = torch.from_numpy(np.ascontiguousarray(data.features))
    y = torch.from_numpy(np.ascontiguousarray(data.labels))
    stream = [torch.from_numpy(index) for index in batches]
    F = torch.nn.functional

    adam_options = {"fused": True} if name.endswith("_fused") else {}

    if name.startswith("torch_looped"):
        def one(k):
            first = torch.nn.Linear(SIZES[0], SIZES[1])
            second = torch.nn.Linear(SIZES[1], SIZES[2])
            with torch.no_grad():
                for layer, (w, b) in ((first, ("W1", "b1")), (second, ("W2", "b2"))):
                    layer.weight.copy_(torch.from_numpy(params0[w][k].T))
                    layer.bias.copy_(torch.from_numpy(params0[b][k][0]))
            net = torch.nn.Sequential(first, torch.nn.Tanh(), second)
            opt = torch.optim.Adam(net.parameters(), lr=float(lrs[k]), **adam_options)
            for index in stream:
                opt.zero_grad()
                F.cross_entropy(net(X[index]), y[index]).backward()
                opt.step()
            return {"W1": first.weight.detach().numpy().T, "b1": first.bias.detach().numpy()[None],
                    "W2": second.weight.detach().numpy().T,
                    "b2": second.bias.detach().numpy()[None]}

        def go():
            finals = [one(k) for k in range(K)]
            return {leaf: np.stack([f[leaf] for f in finals]) for leaf in finals[0]}
        return go

    lr = torch.from_numpy(lrs).reshape(K, 1, 1)

    def batched_loss(p, index):
        h = torch.tanh(torch.matmul(X[index], p["W1"]) + p["b1"])      # (K, B, 32)
        z = torch.matmul(h, p["W2"]) + p["b2"]                          # (K, B, 10)
        labels = y[index].repeat(K)
        losses = F.cross_entropy(z.reshape(K * BATCH_SIZE, SIZES[2]), labels,
                                 reduction="none").reshape(K, BATCH_SIZE).mean(dim=1)
        return losses                                                   # (K,)

    if name.startswith("torch_batched"):
        def go():
            phi = {leaf: (torch.from_numpy(value) / lr).requires_grad_()
                   for leaf, value in params0.items()}
            opt = torch.optim.Adam(list(phi.values()), lr=1.0, **adam_options)
            weight = 1.0 / lr.reshape(K)
            for index in stream:
                opt.zero_grad()
                theta = {leaf: value * lr for leaf, value in phi.items()}
                (batched_loss(theta, index) * weight).sum().backward()
                opt.step()
            with torch.no_grad():
                return {leaf: (value * lr).numpy() for leaf, value in phi.items()}
        return go

    raise ValueError(f"case must be one of {sorted(CASES)}, got {name!r}")


# Where the time of one train() call goes: (label, file name, function name) of the calls that
# train makes, whose cumulative CPU times cProfile reports.
PROFILE_PARTS = [
    ("model: forward and backward (`model.loss_and_grad`)", "learning.py", "loss_and_grad"),
    ("optimizer: `opt.update` (Adam, leaf by leaf)", "base.py", "leafwise_update"),
    ("parameters + step (`tree.map(np.add, ...)`)", "tree.py", "map"),
    ("full-set loss and accuracy at steps 0 and 300 (`evaluate`)", "learning.py", "evaluate"),
]


def _profile(go) -> dict:
    """One more run of ``go`` under cProfile (CPU time): the cumulative time of each part."""
    import cProfile
    import pstats

    profiler = cProfile.Profile(time.process_time)
    profiler.runcall(go)
    stats = pstats.Stats(profiler).stats
    total = sum(t for (file, _, function), (_, _, _, t, _) in stats.items()
                if file.endswith("training.py") and function == "train")
    parts = {label: sum(t for (file, _, f), (_, _, _, t, _) in stats.items()
                        if file.endswith(suffix) and f == function)
             for label, suffix, function in PROFILE_PARTS}
    return {"total": total, "parts": parts}


def _maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def child(name: str, repeat: int, threads: int, out: Path) -> None:
    """Run case ``name`` ``repeat`` times; write its timings, memory and results."""
    import numpy as np

    versions = {"numpy": np.__version__}
    if name.startswith("torch"):
        import torch

        torch.set_num_threads(threads)
        versions["torch"] = torch.__version__
        versions["torch_threads"] = torch.get_num_threads()
    data, model, lrs, params0, batches = _setup()
    make = _optlib_case if name in NUMPY_CASES else _torch_case
    go = make(name, data, model, lrs, params0, batches)
    baseline = _maxrss_mib()
    times, cpu_times, final = [], [], None
    for _ in range(repeat):
        final = None  # the previous run's result is freed before the next one allocates
        t0, c0 = time.perf_counter(), time.process_time()
        final = go()
        times.append(time.perf_counter() - t0)
        cpu_times.append(time.process_time() - c0)
    peak = _maxrss_mib()
    traced = None
    if name in NUMPY_CASES:
        import tracemalloc

        del final
        tracemalloc.start()
        final = go()
        traced = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    profile = _profile(go) if name == "optlib_vectorised" else None
    final = {leaf: np.asarray(value, dtype=np.float64) for leaf, value in final.items()}
    losses = model.loss(final, data.features, data.labels)
    try:
        from threadpoolctl import threadpool_info

        versions["blas"] = sorted(
            f"{i['internal_api']} {i['version']} from {Path(i['filepath']).parent.name}"
            for i in threadpool_info() if i["user_api"] == "blas")
    except ImportError:
        pass
    np.savez(out / f"{name}.npz", losses=losses, **final)
    (out / f"{name}.json").write_text(json.dumps({
        "times": times, "cpu_times": cpu_times, "baseline_mib": baseline, "peak_mib": peak,
        "traced_mib": traced, "profile": profile, "versions": versions}), encoding="utf-8")


# --------------------------------------------------------------------------------------------
# The parent: run every case in its own process, compare, print, write
# --------------------------------------------------------------------------------------------


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _relative(a, b):
    import numpy as np

    return float(np.max(np.abs(a - b) / np.abs(b)))


def _params_relative(a, b):
    import numpy as np

    return max(float(np.max(np.abs(a[k] - b[k]) / (np.abs(b[k]) + 1e-3))) for k in ("W1", "b1",
                                                                                   "W2", "b2"))


def _measure(threads: int, args) -> dict:
    """Every case with ``threads`` threads, each in its own process; their agreement."""
    import numpy as np

    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(threads)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    load_before = _load()
    print(f"{threads} thread(s); load average before: {load_before}")
    results, finals = {}, {}
    with tempfile.TemporaryDirectory(prefix="training-bench-") as tmp:
        for name in args.cases:
            command = [sys.executable, __file__, "--case", name, "--out", tmp,
                       "--repeat", str(args.repeat), "--threads", str(threads)]
            started = time.perf_counter()
            subprocess.run(command, check=True, env=env, cwd=ROOT)
            results[name] = json.loads(Path(tmp, f"{name}.json").read_text(encoding="utf-8"))
            with np.load(Path(tmp, f"{name}.npz")) as npz:
                finals[name] = {key: npz[key] for key in npz.files}
            r = results[name]
            print(f"  {name:22s} best {min(r['times']):7.3f} s, CPU {min(r['cpu_times']):7.3f} s "
                  f"(runs {', '.join(f'{t:.3f}' for t in r['times'])}; "
                  f"{time.perf_counter() - started:.0f} s with start-up)  "
                  f"peak RSS {r['peak_mib']:.0f} MiB (+{r['peak_mib'] - r['baseline_mib']:.0f})"
                  f"  load {_load()}", flush=True)
    checks = []
    reference = "optlib_vectorised" if "optlib_vectorised" in finals else None
    for name in finals if reference else ():
        if name == reference:
            continue
        tolerance = 1e-12 if name in NUMPY_CASES else 1e-10
        loss_rel = _relative(finals[name]["losses"], finals[reference]["losses"])
        param_rel = _params_relative(finals[name], finals[reference])
        checks.append((name, loss_rel, param_rel, tolerance, loss_rel <= tolerance))
    return {"threads": threads, "results": results, "finals": finals, "checks": checks,
            "load_before": load_before, "load_after": _load()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="thread counts of BLAS and torch, each a full set of runs "
                             "(default: 1 2)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per case (best of)")
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=list(CASES),
                        help="a subset of the cases")
    parser.add_argument("--no-write", action="store_true",
                        help=f"do not write {RESULTS.name}")
    args = parser.parse_args()
    if args.case:
        child(args.case, args.repeat, args.threads[0], Path(args.out))
        return 0

    print(f"{K} configurations of the MLP {'-'.join(map(str, SIZES))} (tanh) on the digits, "
          f"batch {BATCH_SIZE}, {STEPS} Adam steps, float64; lr log-spaced "
          f"{LR_RANGE[0]:g}..{LR_RANGE[1]:g}; best of {args.repeat}")
    measurements = [_measure(threads, args) for threads in args.threads]
    lines = _report(args, measurements)
    print()
    print("\n".join(lines))
    if not args.no_write:
        RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"\nwrote {RESULTS}")
    ok = all(check[-1] for m in measurements for check in m["checks"])
    if not ok:
        print("THE RUNS DO NOT AGREE (see the agreement tables)")
    return 0 if ok else 1


def _ratios(best: dict) -> list[tuple[str, float, str, bool | None]]:
    """The ratios of the issue's goals, from the best time of each case."""
    rows = []
    vec = best.get("optlib_vectorised")
    batched = [best[n] for n in ("torch_batched", "torch_batched_fused") if n in best]
    if vec:
        if "optlib_looped" in best:
            ratio = best["optlib_looped"] / vec
            rows.append(("looped optlib / vectorised optlib", ratio, ">= 2.5", ratio >= 2.5))
        if "torch_looped" in best:
            ratio = best["torch_looped"] / vec
            rows.append(("looped torch (defaults) / vectorised optlib", ratio, ">= 15",
                         ratio >= 15))
        if "torch_looped_fused" in best:
            ratio = best["torch_looped_fused"] / vec
            rows.append(("looped torch (fused Adam) / vectorised optlib", ratio, "-", None))
        if batched:
            ratio = vec / min(batched)
            rows.append(("vectorised optlib / best torch batched", ratio, "<= 1.2",
                         ratio <= 1.2))
    if "numpy_floor" in best and "torch_looped" in best:
        rows.append(("looped torch (defaults) / NumPy by hand, in place (`numpy_floor`)",
                     best["torch_looped"] / best["numpy_floor"], "-", None))
    if vec and "numpy_floor" in best:
        rows.append(("vectorised optlib / NumPy by hand, in place", vec / best["numpy_floor"],
                     "-", None))
    if "optlib_every_iterate" in best and "optlib_vectorised_run" in best:
        rows.append(("every iterate kept / last only (both `optlib.run`)",
                     best["optlib_every_iterate"] / best["optlib_vectorised_run"], "-", None))
    return rows


def _report(args, measurements) -> list[str]:
    import numpy as np

    versions = {}
    for m in measurements:
        for r in m["results"].values():
            versions.update(r["versions"])
    lines = [
        "# Training benchmark: 64 MLPs at once",
        "",
        "Written by `benchmarks/training.py` (run it again to refresh this file; the command "
        "is at the end).",
        "",
        f"{K} configurations of the MLP {'-'.join(map(str, SIZES))} (tanh) on all 1,797 "
        f"digits, minibatches of {BATCH_SIZE} (the same stream for every configuration, "
        f"without replacement, seed {BATCH_SEED}), {STEPS} Adam steps (default betas and eps), "
        f"float64. Configuration k: learning rate k of {K} log-spaced from {LR_RANGE[0]:g} to "
        f"{LR_RANGE[1]:g}, initial weights `model.init(seed=({INIT_SEED}, k))`. Each case in "
        f"its own process; times are the best of {args.repeat} runs, wall clock and CPU time "
        "of the process (user + system, all its threads). With one thread the CPU time is "
        "about what the wall time would be on an idle machine; on a loaded machine the wall "
        "time is inflated, and with two threads torch's OpenMP workers spin while they wait, "
        "which a loaded machine turns into far longer runs.",
        "",
        "## Machine",
        "",
        f"- {_cpu()}, {os.cpu_count()} logical CPUs, {platform.system()} "
        f"{platform.release()}",
        f"- Python {platform.python_version()}, numpy {versions.get('numpy')}, "
        f"torch {versions.get('torch', '-')}; BLAS libraries loaded: "
        f"{'; '.join(versions.get('blas', ['unknown']))}",
        "- threads: set for every BLAS (OMP/OPENBLAS/MKL_NUM_THREADS) and for torch "
        "(`torch.set_num_threads`); NumPy's element-wise operations use one thread whatever "
        "the setting",
    ]
    met_text = {None: "-", True: "yes", False: "no"}
    for m in measurements:
        results = m["results"]
        wall = {name: min(r["times"]) for name, r in results.items()}
        cpu = {name: min(r["cpu_times"]) for name, r in results.items()}
        lines += [
            "",
            f"## {m['threads']} thread{'s' if m['threads'] > 1 else ''}",
            "",
            f"Load average (1, 5, 15 min) before: {m['load_before']}; after: "
            f"{m['load_after']} (the machine has {os.cpu_count()} CPUs).",
            "",
            "| case | wall (s) | CPU (s) | wall, each run (s) | peak RSS (MiB) "
            "| added by training (MiB) | tracemalloc peak (MiB) |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for name, r in results.items():
            traced = "-" if r["traced_mib"] is None else f"{r['traced_mib']:.1f}"
            lines.append(
                f"| {CASES[name]} (`{name}`) | {wall[name]:.3f} | {cpu[name]:.3f} | "
                f"{' / '.join(f'{t:.2f}' for t in r['times'])} | {r['peak_mib']:.0f} | "
                f"{r['peak_mib'] - r['baseline_mib']:.0f} | {traced} |")
        lines += ["", "| comparison | wall | CPU | goal | met (wall) | met (CPU) |",
                  "|---|---:|---:|---:|---|---|"]
        for (label, ratio, goal, met), (_, cpu_ratio, _, cpu_met) in zip(
                _ratios(wall), _ratios(cpu), strict=True):
            lines.append(f"| {label} | {ratio:.2f} | {cpu_ratio:.2f} | {goal} | "
                         f"{met_text[met]} | {met_text[cpu_met]} |")
        if "torch_looped" in wall and "numpy_floor" in wall:
            lines += ["", f"15x the looped torch run needs {wall['torch_looped'] / 15:.2f} s "
                      f"(wall). The same training written by hand in NumPy for speed alone, "
                      f"every array preallocated and updated in place (`numpy_floor`: no "
                      f"allocation, no optimizer or model structure), takes "
                      f"{wall['numpy_floor']:.2f} s, "
                      f"{wall['torch_looped'] / wall['numpy_floor']:.1f}x faster than torch's "
                      "loop: NumPy's arithmetic alone does not reach 15x here."]
        lines += ["", "Agreement with the vectorised optlib run: the final full-set loss of "
                  "each of the 64 configurations (largest relative difference) and the final "
                  "parameters (largest difference relative to |p| + 1e-3).", "",
                  "| case | loss | parameters | tolerance (loss) | within |",
                  "|---|---:|---:|---:|---|"]
        for name, loss_rel, param_rel, tolerance, passed in m["checks"]:
            lines.append(f"| `{name}` | {loss_rel:.1e} | {param_rel:.1e} | {tolerance:.0e} | "
                         f"{'yes' if passed else 'NO'} |")
        profile = results.get("optlib_vectorised", {}).get("profile")
        if profile and profile["total"] > 0:
            total = profile["total"]
            lines += ["", "Where the vectorised `train` run spends its time (one more run under "
                      f"cProfile, CPU time, {total:.2f} s with the profiler's overhead):", "",
                      "| part | CPU (s) | share |", "|---|---:|---:|"]
            for label, seconds in profile["parts"].items():
                lines.append(f"| {label} | {seconds:.3f} | {seconds / total:.0%} |")
            rest = total - sum(profile["parts"].values())
            lines.append(f"| the rest (minibatch indexing, the loop, recording) | {rest:.3f} | "
                         f"{rest / total:.0%} |")
    first = measurements[0]["finals"].get("optlib_vectorised")
    lines += [
        "",
        "Peak RSS: `ru_maxrss` of the case's process (interpreter, imports, data included); "
        "added by training: the peak minus the same measure taken just before the first run. "
        "tracemalloc: NumPy's buffers during one extra, untimed run.",
    ]
    if first is not None:
        lines += ["", f"Final training losses of the 64 configurations: "
                  f"{np.min(first['losses']):.3g} (best) to {np.max(first['losses']):.3g}."]
    lines += ["", "## Command", "", "```bash",
              f"/tmp/refvenv/bin/python benchmarks/training.py --threads "
              f"{' '.join(str(m['threads']) for m in measurements)} --repeat {args.repeat}",
              "```", "",
              "Any Python with numpy, scikit-learn and torch works (the repository is put on "
              "the path); torch is needed only for this benchmark."]
    return lines


if __name__ == "__main__":
    sys.exit(main())
