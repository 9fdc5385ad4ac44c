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


# --- the frameworks' other schedules: exponential, step, polynomial, inverse-time ----------

@pytest.mark.parametrize("t", [0, 1, 4, 5, 6, 13, 20, 21, 100])
def test_the_framework_schedules_follow_their_formulas(t):
    assert schedules.exponential_decay(0.2, 0.9, 5)(t) == pytest.approx(0.2 * 0.9 ** (t / 5))
    stair = schedules.exponential_decay(0.2, 0.5, 5, staircase=True, transition_begin=3,
                                        end=0.01)
    assert stair(t) == pytest.approx(max(0.2 * 0.5 ** (max(t - 3, 0) // 5), 0.01))
    grow = schedules.exponential_decay(0.01, 2.0, 4, end=0.05)
    assert grow(t) == pytest.approx(min(0.01 * 2.0 ** (t / 4), 0.05))
    steps = schedules.piecewise_constant(0.3, {20: 0.1, 5: 0.5})   # any order
    assert steps(t) == pytest.approx(0.3 * (0.5 if t >= 5 else 1) * (0.1 if t >= 20 else 1))
    s = min(max(t - 4, 0), 13)
    assert schedules.polynomial_decay(0.3, 0.01, 1.7, 13, transition_begin=4)(t) == (
        pytest.approx(0.29 * (1 - s / 13) ** 1.7 + 0.01))
    assert schedules.inverse_time_decay(0.3, 0.5, 4)(t) == pytest.approx(0.3 / (1 + t / 8))
    assert schedules.inverse_time_decay(0.3, 0.5, 4, staircase=True)(t) == pytest.approx(
        0.3 / (1 + 0.5 * (t // 4)))


def test_linear_decay_is_the_polynomial_decay_of_power_one():
    ts = np.arange(40)
    for peak, steps, final in ((0.1, 20, 0.0), (0.3, 7, 0.02)):
        np.testing.assert_allclose(schedules.polynomial_decay(peak, final, 1, steps)(ts),
                                   schedules.linear_decay(peak, steps, final)(ts),
                                   rtol=1e-15, atol=1e-17)
    eta, final, big_t = sp.symbols("eta eta_min T", positive=True)
    big_t = sp.Symbol("T", integer=True, positive=True)
    poly = schedules.polynomial_decay(eta, final, 1, big_t)(T)
    assert sp.simplify(poly - schedules.linear_decay(eta, big_t, final)(T)) == 0
    square = schedules.polynomial_decay(eta, final, 2, big_t)(T)
    assert sp.simplify(square - schedules.linear_decay(eta, big_t, final)(T)) != 0


def test_step_decays_agree():
    """PyTorch's StepLR two ways: a staircase exponential decay, and the scale at every
    multiple of the step size; MultiStepLR's milestones are the boundaries."""
    ts = np.arange(100)
    stair = schedules.exponential_decay(0.4, 0.5, 10, staircase=True)(ts)
    steps = schedules.piecewise_constant(0.4, {k: 0.5 for k in range(10, 100, 10)})(ts)
    np.testing.assert_allclose(stair, steps, rtol=1e-15)
    np.testing.assert_allclose(stair, 0.4 * 0.5 ** (ts // 10), rtol=1e-15)
    assert schedules.piecewise_constant(0.4, {})(7) == 0.4
    assert schedules.piecewise_constant(0.4, {0: 0.25})(0) == 0.1  # from the first update


@pytest.mark.parametrize("build", [
    lambda p: schedules.exponential_decay(p, 0.8, 3, staircase=True, transition_begin=2,
                                          end=p / 10),
    lambda p: schedules.piecewise_constant(p, {3: 0.5, 7: 0.2}),
    lambda p: schedules.polynomial_decay(p, p / 20, 2.5, 9, transition_begin=1),
    lambda p: schedules.inverse_time_decay(p, 0.5, 4),
], ids=["exponential", "piecewise", "polynomial", "inverse-time"])
def test_framework_schedules_broadcast_peaks_and_steps(build):
    peaks = np.array([0.05, 0.1, 0.4]).reshape(3, 1, 1)
    sweep = build(peaks)
    ts = np.arange(15)
    for t in ts:
        value = sweep(int(t))
        assert value.shape == (3, 1, 1)
        np.testing.assert_array_equal(
            value, np.array([build(p)(int(t)) for p in peaks.ravel()]).reshape(3, 1, 1))
    single = build(0.1)   # an array of counts: NumPy's power may differ in the last bit
    np.testing.assert_allclose(single(ts), [single(int(t)) for t in ts], rtol=1e-15, atol=0)


def test_framework_schedules_closed_forms():
    """On a SymPy t each gives its closed form, equal to the numeric values."""
    eta, rate = sp.Rational(3, 10), sp.Rational(4, 5)
    cases = [
        (schedules.exponential_decay(eta, rate, 4)(T),
         schedules.exponential_decay(0.3, 0.8, 4)),
        (schedules.exponential_decay(eta, rate, 3, staircase=True, transition_begin=5,
                                     end=sp.Rational(1, 10))(T),
         schedules.exponential_decay(0.3, 0.8, 3, staircase=True, transition_begin=5,
                                     end=0.1)),
        (schedules.exponential_decay(eta / 10, sp.Rational(3, 2), 4, end=eta)(T),
         schedules.exponential_decay(0.03, 1.5, 4, end=0.3)),
        (schedules.piecewise_constant(eta, {4: sp.Rational(1, 2), 9: rate})(T),
         schedules.piecewise_constant(0.3, {4: 0.5, 9: 0.8})),
        (schedules.polynomial_decay(eta, eta / 20, sp.Rational(5, 2), 9,
                                    transition_begin=2)(T),
         schedules.polynomial_decay(0.3, 0.015, 2.5, 9, transition_begin=2)),
        (schedules.inverse_time_decay(eta, rate, 6)(T),
         schedules.inverse_time_decay(0.3, 0.8, 6)),
        (schedules.inverse_time_decay(eta, rate, 6, staircase=True)(T),
         schedules.inverse_time_decay(0.3, 0.8, 6, staircase=True)),
    ]
    for closed, numeric in cases:
        assert closed.has(T)
        for t in (0, 1, 3, 4, 5, 6, 8, 9, 12, 30, 61):
            assert float(closed.subs(T, t)) == pytest.approx(float(numeric(t)), abs=1e-15)
    steps = schedules.piecewise_constant(eta, {4: sp.Rational(1, 2)})(T)
    assert isinstance(steps, sp.Piecewise)
    # the textbook formulas, exactly
    a, eta_s = sp.symbols("a eta", positive=True)
    assert sp.simplify(schedules.inverse_time_decay(eta_s, a, 6)(T)
                       - eta_s / (1 + a * T / 6)) == 0
    assert sp.simplify(schedules.exponential_decay(eta_s, a, 6)(T) - eta_s * a ** (T / 6)) == 0
    # a length may be a positive integer symbol
    big_t = sp.Symbol("T", integer=True, positive=True)
    exp_t = schedules.exponential_decay(eta_s, a, big_t)(T)
    assert sp.simplify(exp_t.subs({T: 10, big_t: 5}) - eta_s * a**2) == 0
    with pytest.raises(ValueError, match="transition_steps"):
        schedules.exponential_decay(eta_s, a, sp.Symbol("T", negative=True))


def test_inverse_time_decay_satisfies_robbins_monro():
    """For every eta_0, a, T > 0: sum_t eta_t diverges and sum_t eta_t^2 converges, exactly.

    Limit comparison: eta_t (t + 1) tends to eta_0 T / a, a positive finite number, so
    sum_t eta_t diverges with sum_t 1/(t + 1) and sum_t eta_t^2 converges with
    sum_t 1/(t + 1)^2 = pi^2/6. A faster decay would fail the first limit (it would be 0).
    """
    eta, a, big_t = sp.symbols("eta_0 a T", positive=True)
    rate = schedules.inverse_time_decay(eta, a, big_t)(T)
    ratio = sp.limit(rate * (T + 1), T, sp.oo)
    assert sp.simplify(ratio - eta * big_t / a) == 0 and ratio.is_positive and ratio.is_finite
    assert sp.summation(1 / (T + 1), (T, 0, sp.oo)) is sp.oo
    squares = sp.limit(rate**2 * (T + 1) ** 2, T, sp.oo)
    assert squares.is_positive and squares.is_finite
    assert sp.summation(1 / (T + 1) ** 2, (T, 0, sp.oo)) == sp.pi**2 / 6
    # SymPy also sums the squares in closed form; for eta_0 = a = T = 1 it is pi^2/6
    total = sp.simplify(sp.summation(rate**2, (T, 0, sp.oo)))
    assert not total.has(sp.Sum)
    assert sp.simplify(sp.expand_func(total.subs({eta: 1, a: 1, big_t: 1})) - sp.pi**2 / 6) == 0
    # the comparison fails for a rate that decays like 1/t^2: its sum converges
    fast = eta / (1 + a * T / big_t) ** 2
    assert sp.limit(fast * (T + 1), T, sp.oo) == 0


@pytest.mark.parametrize(
    "build, message",
    [(lambda: schedules.exponential_decay(0.1, 0.0, 5), r"decay_rate must satisfy 0.0 < "),
     (lambda: schedules.exponential_decay(0.1, math.inf, 5), "decay_rate"),
     (lambda: schedules.exponential_decay(-0.1, 0.5, 5), r"init must satisfy 0.0 <= init"),
     (lambda: schedules.exponential_decay(0.1, 0.5, 0), r"transition_steps.*1 <= "),
     (lambda: schedules.exponential_decay(0.1, 0.5, 5, transition_begin=-1),
      r"transition_begin.*0 <= transition_begin"),
     (lambda: schedules.exponential_decay(0.1, 0.5, 5, staircase="yes"), "staircase"),
     (lambda: schedules.exponential_decay(0.1, 0.5, 5, end=0.2), r"end <= init if decay_rate"),
     (lambda: schedules.exponential_decay(0.1, 2.0, 5, end=0.05), r"end >= init if decay_rate"),
     (lambda: schedules.exponential_decay(np.array([0.1, 0.2]), 0.5, 5, end=0.15), "end <="),
     (lambda: schedules.exponential_decay(0.1, 0.5, 5, end=-0.01), r"end must satisfy 0.0 <="),
     (lambda: schedules.piecewise_constant(0.1, [(3, 0.1)]), "boundaries_and_scales must be"),
     (lambda: schedules.piecewise_constant(0.1, {-1: 0.1}), r"0 <= boundary, got -1"),
     (lambda: schedules.piecewise_constant(0.1, {2.5: 0.1}), r"boundary, got 2.5"),
     (lambda: schedules.piecewise_constant(0.1, {True: 0.1}), r"boundary, got True"),
     (lambda: schedules.piecewise_constant(0.1, {3: -0.1}),
      r"boundaries_and_scales\[3\] must satisfy 0.0 <="),
     (lambda: schedules.piecewise_constant(0.1, {3: math.nan}), r"boundaries_and_scales\[3\]"),
     (lambda: schedules.piecewise_constant(math.inf, {3: 0.1}), "init"),
     (lambda: schedules.polynomial_decay(0.1, 0.0, 0.0, 5), r"power must satisfy 0.0 < power"),
     (lambda: schedules.polynomial_decay(0.1, 0.0, -1.0, 5), "power"),
     (lambda: schedules.polynomial_decay(0.1, -0.1, 1.0, 5), r"end must satisfy 0.0 <= end"),
     (lambda: schedules.polynomial_decay(0.1, 0.0, 1.0, 0), r"decay_steps.*1 <= decay_steps"),
     (lambda: schedules.polynomial_decay(0.1, 0.0, 1.0, 5, transition_begin=1.5),
      "transition_begin"),
     (lambda: schedules.inverse_time_decay(0.1, -0.5, 5), r"decay_rate must satisfy 0.0 <="),
     (lambda: schedules.inverse_time_decay(0.1, 0.5, 2.5), r"decay_steps.*1 <= decay_steps"),
     (lambda: schedules.inverse_time_decay(0.1, 0.5, 5, staircase=1), "staircase"),
     (lambda: schedules.inverse_time_decay(math.nan, 0.5, 5), "init")],
)
def test_framework_schedules_refuse_bad_arguments(build, message):
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


@pytest.mark.parametrize("schedule", [
    schedules.linear_decay(0.1, 5, 0.01),
    schedules.exponential_decay(0.1, 0.5, 2, transition_begin=1),
    schedules.piecewise_constant(0.1, {2: 0.3, 4: 0.5}),
    schedules.polynomial_decay(0.1, 0.01, 2.0, 4),
    schedules.inverse_time_decay(0.1, 1.0, 2, staircase=True),
], ids=repr)
def test_adam_steps_scale_with_the_rate_momentum_accumulates_it(schedule):
    """Adam's state ignores the rate, so its steps scale; momentum's velocity carries it."""
    g = lambda x: 0.7 * x - 0.2  # noqa: E731
    xs = np.array([1.0])
    assert len({schedule(t) for t in range(5)}) > 1   # the rate changes over the 5 steps
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


# --- optax's and Keras's schedules and PyTorch's schedulers (tests/data/schedules_reference.json,
# from generate_schedules_reference.py)

REFERENCE = json.loads((Path(__file__).parent / "data" / "schedules_reference.json").read_text())


def _arguments(case):
    """The case's arguments; JSON keys are strings: the boundaries become integers again."""
    arguments = dict(case["arguments"])
    if "boundaries_and_scales" in arguments:
        arguments["boundaries_and_scales"] = {
            int(b): s for b, s in arguments["boundaries_and_scales"].items()}
    return arguments


def _changed(arguments):
    """Each argument changed a little, one at a time: a float by 1e-6 relative (and 1e-9),
    an integer by one, a flag flipped, each boundary and each scale of a dict."""
    def nudge(value):
        if isinstance(value, bool):
            return not value
        if isinstance(value, int):
            return value + 1
        return value * (1 + 1e-6) + 1e-9

    for key, value in arguments.items():
        if isinstance(value, dict):
            for b, scale in value.items():
                yield key, {**value, b: nudge(scale)}
                moved = {k: v for k, v in value.items() if k != b}
                if b + 1 not in moved:
                    yield key, {**moved, b + 1: scale}
        elif value is not None:
            yield key, nudge(value)


def _library(case):
    library = next(key for key in ("optax", "keras", "torch") if key in case)
    return f"{library}: {case[library]}"


def _values(schedule):
    return np.array([schedule(t) for t in range(REFERENCE["steps"] + 1)], dtype=float)


@pytest.mark.parametrize("case", REFERENCE["cases"],
                         ids=lambda case: f"{case['name']}-{_library(case)}")
def test_schedules_match_optax_keras_and_torch(case):
    build = getattr(schedules, case["name"])
    arguments = _arguments(case)
    np.testing.assert_allclose(_values(build(**arguments)), case["values"], rtol=1e-12,
                               atol=1e-15)
    # and a schedule that means something else does not (the test can fail): every argument
    changes = list(_changed(arguments))
    assert len(changes) >= len(arguments)
    for key, value in changes:
        other = _values(build(**{**arguments, key: value}))
        assert not np.allclose(other, case["values"], rtol=1e-12, atol=1e-15), (key, value)
