"""A 10,000-configuration Adam sweep on Rosenbrock: one vectorised run against a Python loop.

100 learning rates (log-spaced) x 100 values of beta1, 1,000 steps each, on the 2-D Rosenbrock
function from (-1.2, 1). The sweep is ONE ``optlib.run`` with hyperparameter arrays from
``optlib.grid``; the loop runs the same configurations one at a time with scalar
hyperparameters. Looping over all 10,000 would take minutes, so the loop times a random sample
of configurations (``--sample``, 200 by default, ``--sample 10000`` for all) and extrapolates
linearly; it also checks that each sampled run equals its row of the vectorised result. Peak
memory of the vectorised run is measured with ``tracemalloc`` (NumPy reports its buffers to
it), in a separate run so that tracing does not slow the timed one.

Run: ``.venv/bin/python benchmarks/sweep.py`` (or ``make benchmark``).
"""

from __future__ import annotations

import argparse
import platform
import time
import tracemalloc

import numpy as np

import optlib

N_LR, N_BETA1, STEPS = 100, 100, 1000
LRS = np.geomspace(1e-4, 1e-1, N_LR)
BETA1S = np.linspace(0.0, 0.99, N_BETA1)
X0 = np.array([-1.2, 1.0])


def vectorised():
    lr, beta1 = optlib.grid(LRS, BETA1S)  # shapes (100, 1, 1) and (1, 100, 1)
    grad = optlib.problems.rosenbrock().grad
    return optlib.run(optlib.adam(lr=lr, beta1=beta1), grad, X0, STEPS)


def one(i: int, j: int):
    grad = optlib.problems.rosenbrock().grad
    return optlib.run(optlib.adam(lr=LRS[i], beta1=BETA1S[j]), grad, X0, STEPS)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=200,
                        help="configurations the loop runs (default 200; 10000 for all)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample")
    args = parser.parse_args()
    n_configs = N_LR * N_BETA1
    sample = min(max(args.sample, 1), n_configs)

    print(f"Adam on 2-D Rosenbrock from {X0.tolist()}: {N_LR} lr (log-spaced "
          f"{LRS[0]:g}..{LRS[-1]:g}) x {N_BETA1} beta1 ({BETA1S[0]:g}..{BETA1S[-1]:g}) = "
          f"{n_configs:,} configurations, {STEPS:,} steps each")
    print(f"numpy {np.__version__}, Python {platform.python_version()}, "
          f"{platform.machine()}")

    vectorised()  # warm-up (imports, first-touch allocation)
    t0 = time.perf_counter()
    xs = vectorised()
    t_vec = time.perf_counter() - t0
    assert xs.shape == (STEPS + 1, N_LR, N_BETA1, 2), xs.shape

    rng = np.random.default_rng(args.seed)
    picks = rng.choice(n_configs, size=sample, replace=False)
    worst, identical = 0.0, 0
    t0 = time.perf_counter()
    runs = []
    for k in picks:
        runs.append(one(*divmod(int(k), N_BETA1)))
    t_loop_sample = time.perf_counter() - t0
    for k, row in zip(picks, runs, strict=True):
        i, j = divmod(int(k), N_BETA1)
        ref = xs[:, i, j]
        np.testing.assert_allclose(row, ref, rtol=1e-12, atol=1e-300,
                                   err_msg=f"lr={LRS[i]:g}, beta1={BETA1S[j]:g}")
        identical += bool(np.array_equal(row, ref))
        scale = np.maximum(np.abs(ref), 1e-300)
        worst = max(worst, float(np.max(np.abs(row - ref) / scale)))
    t_loop = t_loop_sample * n_configs / sample

    tracemalloc.start()
    xs_traced = vectorised()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del xs_traced

    f_final = optlib.problems.rosenbrock().f(xs[-1])
    i_best, j_best = np.unravel_index(np.nanargmin(f_final), f_final.shape)
    print()
    print(f"vectorised (one optlib.run):     {t_vec:8.2f} s")
    extrapolated = "measured" if sample == n_configs else (
        f"extrapolated from a random sample of {sample} configurations "
        f"({t_loop_sample:.2f} s, {1e3 * t_loop_sample / sample:.1f} ms each)")
    print(f"loop (one run per config):       {t_loop:8.2f} s  ({extrapolated})")
    print(f"speed-up of the vectorised run:  {t_loop / t_vec:8.0f} x")
    print(f"sampled rows equal the vectorised rows: {sample}/{sample} to rtol 1e-12 "
          f"({identical} bit for bit; largest relative difference {worst:.1e})")
    print(f"peak memory of the vectorised run (tracemalloc): {peak / 2**20:8.1f} MiB "
          f"(the iterates alone: {xs.nbytes / 2**20:.1f} MiB)")
    print(f"best configuration after {STEPS} steps: lr={LRS[i_best]:.3g}, "
          f"beta1={BETA1S[j_best]:.2f}, f={f_final[i_best, j_best]:.2e}; median f "
          f"{np.nanmedian(f_final):.2e}")


if __name__ == "__main__":
    main()
