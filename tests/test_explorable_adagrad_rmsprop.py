"""Browser tests of the adagrad-rmsprop chapter's explorable, "From Adagrad to RMSProp" (issue 12).

Run against a built site (``ROLLING_BUILD``, see tests/test_site.py). The page must hold
optlib's own numbers: the effective learning rates, steps and weights drawn at a non-default
decay (and at ρ = 1, Adagrad's sum), read back from the page's Bokeh document, equal a fresh
optlib run on the chapter's gradient sequence, cast to the page's float32.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from test_site import (  # noqa: F401 (browser fixtures)
    ROOT,
    TIMEOUT_MS,
    _open_explorable,
    _save_explorable_shot,
    _slider,
    _tap_slider_on_a_phone,
    browser,
    browser_context,
    phone_context,
)

pytestmark = pytest.mark.browser

STEM = "adagrad-rmsprop"
RHOS = [0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.999, 1.0]  # the slider; 1 is Adagrad
SEQUENCES = {"constant slope, g = 1": (1.0, 1.0),
             "the answer's gradients in turn: g = 10, then 0.5 from step 101": (10.0, 0.5)}
STEPS, SWITCH, AGES = 3000, 100, 60  # the chapter's X_T, X_SWITCH, X_AGES

READ = """() => {
  const doc = Bokeh.documents[0];
  const get = (n) => doc.get_model_by_name(n);
  const out = {rho: get('rho').value, sequence: get('sequence').value,
               k: get('current').data.index[0], text: get('info').data.text[0], data: {}};
  for (const s of ['curves', 'weights']) {
    out.data[s] = {};
    for (const [c, v] of Object.entries(get(s).data)) out.data[s][c] = Array.from(v);
  }
  return out;
}"""


def fresh(rho: float, grads: np.ndarray):
    """Steps and accumulators of a fresh optlib run (eta = 1) on the gradient sequence grads:
    RMSProp at decay rho (eps = 0), or Adagrad's sum at rho = 1 (eps = 0)."""
    sys.path.insert(0, str(ROOT))
    import optlib

    opt = optlib.adagrad(lr=1.0, eps=0.0) if rho == 1 else optlib.rmsprop(
        lr=1.0, decay=rho, eps=0.0)
    state, steps, accs = opt.init(0.0), [], []
    for g in grads:
        step, state = opt.update(g, state)
        steps.append(step)
        accs.append(state.sum_of_squares if rho == 1 else state.mean_square)
    return np.array(steps), np.array(accs)


def check_drawn(state: dict, rho: float, sequence: str):
    a, b = SEQUENCES[sequence]
    grads = np.r_[np.full(SWITCH, a), np.full(STEPS - SWITCH, b)]
    steps, accs = fresh(rho, grads)
    ada_steps, ada_accs = fresh(1.0, grads)
    curves = {c: np.array(v) for c, v in state["data"]["curves"].items()}
    t = curves["t"].astype(int)
    assert t[0] == 1 and t[-1] == STEPS and SWITCH + 1 in t and np.all(np.diff(t) > 0)
    f32 = np.float32
    np.testing.assert_array_equal(f32(1 / np.sqrt(accs[t - 1])), f32(curves["eff"]))
    np.testing.assert_array_equal(f32(-steps[t - 1]), f32(curves["step"]))
    np.testing.assert_array_equal(f32(1 / np.sqrt(ada_accs[t - 1])), f32(curves["eff_ada"]))
    np.testing.assert_array_equal(f32(-ada_steps[t - 1]), f32(curves["step_ada"]))
    # the weights: a unit impulse, then zeros; the accumulator k steps later
    # (eps = 1 there, as in the chapter: no accumulator depends on it)
    sys.path.insert(0, str(ROOT))
    import optlib

    opt = optlib.adagrad(lr=1.0, eps=1.0) if rho == 1 else optlib.rmsprop(
        lr=1.0, decay=rho, eps=1.0)
    st, w = opt.init(0.0), []
    for g in [1.0] + [0.0] * AGES:
        _, st = opt.update(g, st)
        w.append(st.sum_of_squares if rho == 1 else st.mean_square)
    weights = state["data"]["weights"]
    np.testing.assert_array_equal(np.array(weights["age"]), np.arange(AGES + 1))
    np.testing.assert_array_equal(f32(w), f32(weights["w"]))
    return steps


def test_explorable_adagrad_rmsprop_controls_keyboard_and_data(browser_context):  # noqa: F811
    """A labelled slider showing its value; arrows move it; the curves drawn are optlib's."""
    expect = pytest.importorskip("playwright.sync_api").expect
    page, problems = _open_explorable(browser_context, STEM)
    try:
        rho = _slider(page, "decay ρ")
        before = page.evaluate(READ)
        assert before["sequence"] == "constant slope, g = 1"
        assert RHOS[int(before["rho"])] == 0.9
        fallback = page.locator(".rolling-explorable-fallback")
        assert fallback.count() == 1 and fallback.first.is_hidden()
        assert page.locator(".bk-slider-title").all_inner_texts() == ["decay ρ: 0.9"]
        expect(rho).to_have_attribute("aria-valuetext", "0.9")
        check_drawn(before, 0.9, "constant slope, g = 1")

        # the answer's sequence, and rho two steps right (0.98), with the keyboard
        select = page.get_by_label("gradient sequence", exact=True)
        assert select.count() == 1
        answer = list(SEQUENCES)[1]
        select.select_option(answer)
        rho.focus()
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "() => Bokeh.documents[0].get_model_by_name('rho').value === 5 && "
            f"Bokeh.documents[0].get_model_by_name('current').data.index[0] !== {before['k']}",
            timeout=TIMEOUT_MS)
        after = page.evaluate(READ)
        assert page.locator(".bk-slider-title").all_inner_texts() == ["decay ρ: 0.98"]
        expect(rho).to_have_attribute("aria-valuetext", "0.98")
        assert after["sequence"] == answer
        steps = check_drawn(after, 0.98, answer)
        assert after["data"]["curves"]["step"] != before["data"]["curves"]["step"]
        assert "ρ = 0.98" in after["text"] and f"{-steps[-1]:.3g} η" in after["text"]
        readout = page.get_by_text("half-life 34.3 steps", exact=False)
        assert readout.count() >= 1 and readout.first.is_visible()
        _save_explorable_shot(page, f"{STEM}.png")

        # the end of the slider is Adagrad's sum
        page.keyboard.press("End")
        page.wait_for_function(
            "() => Bokeh.documents[0].get_model_by_name('rho').value === 9", timeout=TIMEOUT_MS)
        page.wait_for_function(
            "() => Bokeh.documents[0].get_model_by_name('info').data.text[0].includes('Adagrad')",
            timeout=TIMEOUT_MS)
        end = page.evaluate(READ)
        assert page.locator(".bk-slider-title").all_inner_texts() == ["decay ρ: 1 (Adagrad)"]
        expect(rho).to_have_attribute("aria-valuetext", "1 (Adagrad)")
        check_drawn(end, 1.0, answer)
        np.testing.assert_array_equal(end["data"]["curves"]["step"],
                                      end["data"]["curves"]["step_ada"])
    finally:
        page.close()
    assert not problems, problems


def test_explorable_adagrad_rmsprop_on_a_phone(phone_context):  # noqa: F811
    """At 390 px: within the screen, a handle a finger can hit, a tap moves the slider."""
    page, problems = _open_explorable(phone_context, STEM)
    try:
        before = page.evaluate(READ)
        _tap_slider_on_a_phone(page, _slider(page, "decay ρ"), dx=80)
        page.wait_for_function(
            "() => Bokeh.documents[0].get_model_by_name('current').data.index[0] !== "
            f"{before['k']}", timeout=TIMEOUT_MS)
        assert page.evaluate(READ)["rho"] > before["rho"]
        _save_explorable_shot(page, f"{STEM}.phone.png")
    finally:
        page.close()
    assert not problems, problems
