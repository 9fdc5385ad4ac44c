"""optlib.schedules and ``lr=<schedule>`` in every method."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from test_containers import CASES, NAMES, _params, make

import optlib
from optlib import schedules

sp = pytest.importorskip("sympy")

T = sp.Symbol("t", integer=True, nonnegative=True)


# --- the schedules' values -------------------------------------------------------------------

def _cosine(peak, final, t, steps):
    return final + (peak - final) * (1 + math.cos(math.pi * min(t, steps) / steps)) / 2


@pytest.mark.parametrize("t", [0, 1, 7, 19, 20, 21, 100])
def test_values_follow_the_formulas(t):
    assert schedules.constant(0.3)(t) == 0.3
    assert schedules.linear(0.5, 0.1, 20)(t) == pytest.approx(0.5 - 0.4 * min(t, 20) / 20)
    assert schedules.linear_warmup(0.2, 20)(t) == pytest.approx(0.2 * min(t, 20) / 20)
    assert schedules.linear_decay(0.2, 20, 0.05)(t) == pytest.approx(
        0.2 - 0.15 * min(t, 20) / 20)
    assert schedules.cosine_decay(0.2, 20, 0.01)(t) == pytest.approx(_cosine(0.2, 0.01, t, 20))
    warm = 0.01 + 0.19 * t / 7 if t < 7 else _cosine(0.2, 0.02, t - 7, 13)
    assert schedules.warmup_cosine(0.2, 7, 20, init=0.01, final=0.02)(t) == pytest.approx(warm)
    tri = 0.2 * t / 7 if t < 7 else 0.2 - 0.2 * min(t - 7, 13) / 13
    assert schedules.warmup_linear(0.2, 7, 20)(t) == pytest.approx(tri)


def test_array_of_steps_gives_the_values_at_each():
    s = schedules.warmup_cosine(0.2, 7, 20, final=0.02)
    ts = np.arange(30)
    np.testing.assert_allclose(s(ts), [s(int(t)) for t in ts], rtol=0, atol=1e-15)


def test_no_warmup_is_the_decay_alone():
    s, c = schedules.warmup_cosine(0.2, 0, 20), schedules.cosine_decay(0.2, 20)
    assert [s(t) for t in range(25)] == [c(t) for t in range(25)]


def test_a_peak_array_is_a_sweep():
    peaks = np.array([[0.1], [0.2], [0.4]])
    s = schedules.warmup_cosine(peaks, 5, 30)
    for t in (0, 3, 5, 17, 40):
        np.testing.assert_array_equal(
            s(t), np.array([[schedules.warmup_cosine(p, 5, 30)(t)] for p in peaks[:, 0]]))


def test_symbolic_closed_forms():
    eta, final = sp.symbols("eta eta_min", positive=True)
    cosine = schedules.cosine_decay(eta, 10, final)(T)
    # inside the decay, Min(t, 10) = t: the textbook formula
    inside = cosine.subs(sp.Min(T, 10), T)
    assert sp.simplify(inside - (final + (eta - final) * (1 + sp.cos(sp.pi * T / 10)) / 2)) == 0
    # the values at the integers are the numeric schedule's
    numeric = schedules.cosine_decay(0.3, 10, 0.01)
    for t in (0, 4, 10, 12):
        value = cosine.subs({eta: sp.Rational(3, 10), final: sp.Rational(1, 100), T: t})
        assert float(value) == pytest.approx(numeric(t), abs=1e-15)
    warm = schedules.warmup_cosine(eta, 4, 12)(T)
    assert isinstance(warm, sp.Piecewise)
    assert sp.simplify(warm.subs(T, 2) - eta / 2) == 0 and warm.subs(T, 4) == eta


def test_symbolic_lengths():
    """A length may be a symbol: the closed form for every T, equal to the numeric one."""
    big_t, w = sp.symbols("T W", integer=True, positive=True)
    eta = sp.Symbol("eta", positive=True)
    cosine = schedules.cosine_decay(eta, big_t)(T)
    for t, length in ((0, 5), (3, 5), (5, 5), (9, 5), (4, 12)):
        value = cosine.subs({T: t, big_t: length, eta: sp.Rational(1, 5)})
        assert float(value) == pytest.approx(schedules.cosine_decay(0.2, length)(t), abs=1e-15)
    warm = schedules.warmup_linear(eta, w, big_t)(T)
    assert sp.simplify(warm.subs({T: 3, w: 6}) - eta / 2) == 0
    with pytest.raises(ValueError, match="decay_steps"):
        schedules.cosine_decay(eta, sp.Symbol("T", negative=True))


@pytest.mark.parametrize(
    "build, message",
    [(lambda: schedules.constant(-0.1), "value"),
     (lambda: schedules.cosine_decay(0.1, 0), "decay_steps"),
     (lambda: schedules.cosine_decay(0.1, 2.5), "decay_steps"),
     (lambda: schedules.linear_warmup(np.array([0.1, np.nan]), 3), "peak"),
     (lambda: schedules.warmup_cosine(0.1, 10, 10), "decay_steps"),
     (lambda: schedules.warmup_linear(0.1, -1, 10), "warmup_steps"),
     (lambda: schedules.linear_warmup(0.1, 0), "warmup_steps"),
     (lambda: schedules.linear_decay(0.1, 2.5), "decay_steps"),
     (lambda: schedules.linear_decay(0.1, 5, final=-1.0), "final"),
     (lambda: schedules.linear(0.1, math.inf, 5), "end")],
)
def test_bad_arguments_name_the_parameter(build, message):
    with pytest.raises(ValueError, match=message):
        build()


# --- every method takes a schedule -----------------------------------------------------------

def _run(opt, x0, steps):
    grad = lambda x: 0.7 * x - 0.2 + 0.3 * np.sin(2 * x)  # noqa: E731
    return optlib.run(opt, grad, x0, steps)


@pytest.mark.parametrize("name", NAMES)
def test_constant_schedule_is_the_constant_rate(name):
    """Bit for bit: building the method at each step with the same rate changes nothing."""
    lr = CASES[name][1]["lr"]
    x0 = _params(name)["w"] if name not in ("adafactor", "muon") else np.ones((3, 2)) * 0.5
    plain = _run(make(name), x0, 6)
    scheduled = _run(make(name, lr=schedules.constant(lr)), x0, 6)
    np.testing.assert_array_equal(plain, scheduled)
    also = _run(make(name, lr=lambda t: lr), x0, 6)  # any function of the count
    np.testing.assert_array_equal(plain, also)


@pytest.mark.parametrize("name", NAMES)
def test_each_step_uses_the_rate_of_its_count(name):
    """Step t of the scheduled method is step t of the method built with lr = schedule(t)."""
    lr = CASES[name][1]["lr"]
    schedule = schedules.warmup_cosine(lr, 2, 6, init=lr / 10)
    opt = make(name, lr=schedule)
    x = _params(name)["w"] if name not in ("adafactor", "muon") else np.ones((3, 2)) * 0.5
    state = opt.init(x)
    inner = make(name).init(x)
    for t in range(6):
        g = 0.7 * x - 0.2
        step, state = opt.update(g, state, x)
        expected, inner = make(name, lr=schedule(t)).update(g, inner, x)
        np.testing.assert_array_equal(step, expected)
        assert state.count == t + 1
        x = x + step


def test_gd_under_a_schedule_in_closed_form():
    eta = sp.Symbol("eta", positive=True)
    x0, h = sp.Symbol("x0"), sp.Symbol("h", positive=True)
    schedule = schedules.linear_warmup(eta, 3)
    xs = optlib.run(optlib.gd(lr=schedule), lambda x: h * x, x0, 4)
    expected = x0
    for t in range(4):
        expected = expected * (1 - h * eta * sp.Rational(min(t, 3), 3))
        assert sp.expand(xs[t + 1] - expected) == 0
    assert xs[1] == x0  # the warmup's first rate is 0: the first update does not move


def test_adam_steps_scale_with_the_rate_momentum_accumulates_it():
    """Adam's state ignores the rate, so its steps scale; momentum's velocity carries it."""
    g = lambda x: 0.7 * x - 0.2  # noqa: E731
    schedule = schedules.linear_decay(0.1, 5, 0.01)
    xs = np.array([1.0])
    adam, unit = optlib.adam(lr=schedule), optlib.adam(lr=1.0)
    s1, s2 = adam.init(xs), unit.init(xs)
    for t in range(5):
        a, s1 = adam.update(g(xs), s1, xs)
        u, s2 = unit.update(g(xs), s2, xs)
        np.testing.assert_allclose(a, schedule(t) * u, rtol=1e-15)
    mom = optlib.momentum(lr=schedule, momentum=0.9)
    state, v, x = mom.init(xs), 0.0, xs
    for t in range(5):
        step, state = mom.update(g(x), state, x)
        v = 0.9 * v - schedule(t) * g(x)  # Keras's form: the velocity holds eta_t g_t
        np.testing.assert_allclose(step, v, rtol=1e-15)
        x = x + step


def test_schedule_sweep_equals_separate_runs():
    (peaks,) = optlib.grid([0.05, 0.1, 0.2])  # shape (3, 1): one row per peak rate
    x0 = np.array([1.0, -2.0])
    sweep = _run(optlib.adam(lr=schedules.warmup_cosine(peaks, 3, 12)), x0, 12)
    for k, peak in enumerate([0.05, 0.1, 0.2]):
        single = _run(optlib.adam(lr=schedules.warmup_cosine(peak, 3, 12)), x0, 12)
        np.testing.assert_array_equal(sweep[:, k], single)
    assert sweep.shape == (13, 3, 2)


def test_containers_under_a_schedule():
    params = {"w": np.ones((3, 2)), "b": np.zeros((1, 2))}
    opt = optlib.adam(lr=schedules.cosine_decay(0.1, 10))
    state = opt.init(params)
    assert isinstance(state["w"], optlib.ScheduledState)
    step, state = opt.update({"w": np.ones((3, 2)), "b": np.ones((1, 2))}, state, params)
    assert state["b"].count == 1 and step["w"].shape == (3, 2)


def test_hyperparams_record_the_schedule():
    s = schedules.cosine_decay(0.1, 10)
    opt = optlib.adam(lr=s, beta2=0.99)
    assert opt.hyperparams["lr"] is s and opt.hyperparams["beta2"] == 0.99
    assert opt.name == "Adam" and repr(s).startswith("cosine_decay(peak=0.1")


def test_a_negative_rate_is_refused_naming_lr():
    with pytest.raises(ValueError, match=r"lr: the schedule gave -0\.1 at step count 0"):
        optlib.adam(lr=lambda t: -0.1)
    opt = optlib.gd(lr=lambda t: 0.1 - 0.05 * t)  # fine at 0, 1, 2; negative at 3
    xs = np.array([1.0])
    state = opt.init(xs)
    for _ in range(3):
        _, state = opt.update(xs, state, xs)
    with pytest.raises(ValueError, match=r"gave -0\.05 at step count 3"):
        opt.update(xs, state, xs)
    with pytest.raises(ValueError, match="lr: the schedule gave nan"):
        optlib.gd(lr=lambda t: np.array([0.1, np.nan]))


def test_a_zero_rate_is_allowed_from_a_schedule_only():
    with pytest.raises(ValueError, match="lr"):
        optlib.adam(lr=0.0)
    opt = optlib.adam(lr=schedules.linear_warmup(0.1, 4))
    step, _ = opt.update(1.0, opt.init(0.0), 0.0)
    assert step == 0.0


def test_other_arguments_are_still_checked():
    with pytest.raises(ValueError, match="beta2"):
        optlib.adam(lr=schedules.constant(0.1), beta2=1.5)


def test_state_from_another_init_is_refused():
    opt = optlib.adam(lr=schedules.constant(0.1))
    with pytest.raises(ValueError, match="ScheduledState"):
        opt.update(1.0, optlib.adam(0.1).init(0.0), 0.0)


# --- optax's schedules (tests/data/schedules_reference.json, from generate_schedules_reference.py)

REFERENCE = json.loads((Path(__file__).parent / "data" / "schedules_reference.json").read_text())


@pytest.mark.parametrize("case", REFERENCE["cases"], ids=lambda case: case["name"])
def test_schedules_match_optax(case):
    schedule = getattr(schedules, case["name"])(**case["arguments"])
    ours = np.array([schedule(t) for t in range(REFERENCE["steps"] + 1)], dtype=float)
    np.testing.assert_allclose(ours, case["values"], rtol=1e-12, atol=1e-15)
    # and a schedule that means something else does not (the test can fail)
    changed = {**case["arguments"]}
    key = next(k for k in ("value", "init", "peak") if k in changed)
    changed[key] = changed[key] * (1 + 1e-6) + 1e-9
    other = getattr(schedules, case["name"])(**changed)
    assert not np.allclose([other(t) for t in range(REFERENCE["steps"] + 1)], case["values"],
                           rtol=1e-12, atol=1e-15)
