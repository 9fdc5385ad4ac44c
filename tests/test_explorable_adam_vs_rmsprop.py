"""Browser tests of the adam-vs-rmsprop chapter's explorable, "The two scenarios" (issue 12).

Run against a built site (``ROLLING_BUILD``, see tests/test_site.py). The page must hold
optlib's own iterates: the curves drawn at a non-default setting of (μ = β₁, ρ = β₂, ε, the
two learning rates), read back from the page's Bokeh document, equal a fresh optlib run at
that setting, cast to the page's float32, and the terminal speeds drawn equal the chapter's
formulas at that setting.
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

STEM = "adam-vs-rmsprop"
METHODS = ("adam", "rmsprop_momentum")
LABELS = {"mu": "momentum μ = β₁", "rho": "decay ρ = β₂", "eps": "ε (both)",
          "adam": "learning rate η of Adam",
          "rmsprop_momentum": "learning rate η of RMSProp with momentum"}
STEPS = 6000  # the chapter's X_T

# Every shown source, the sliders' positions and each method's grid position.
READ = """() => {
  const doc = Bokeh.documents[0];
  const get = (n) => doc.get_model_by_name(n);
  const out = {mu: get('mu').value, rho: get('rho').value, eps: get('eps').value,
               lr_adam: get('lr_adam').value, lr_rms: get('lr_rmsprop_momentum').value,
               scenario: get('scenario').value, visible: {}, data: {}, k: {}, text: {}};
  for (const f of ['s1x', 's1v', 's2x', 's2v']) out.visible[f] = get('fig_' + f).visible;
  for (const m of ['adam', 'rmsprop_momentum']) {
    out.k[m] = get(m + '_current').data.index[0];
    out.text[m] = get(m + '_info').data.text[0];
    for (const s of ['s1', 's2', 'ref1', 'ref2']) {
      const d = get(m + '_' + s).data;
      out.data[m + '_' + s] = {};
      for (const c of Object.keys(d)) out.data[m + '_' + s][c] = Array.from(d[c]);
    }
  }
  return out;
}"""


def fresh_run(method: str, mu: float, rho: float, eps: float, lr: float) -> np.ndarray:
    """A fresh optlib run of one method from x0 = 2 on the kinked slope, as the chapter runs it."""
    sys.path.insert(0, str(ROOT))
    import optlib

    if method == "adam":
        opt = optlib.adam(lr=lr, beta1=mu, beta2=rho, eps=eps)
    else:
        opt = optlib.rmsprop(lr=lr, decay=rho, momentum=mu, eps=eps, eps_inside_sqrt=True)
    return optlib.run(opt, optlib.problems.seed_slope().grad, 2.0, STEPS)


def terminal(method: str, g: float, mu: float, eps: float, lr: float) -> float:
    """The chapter's terminal speeds on a slope of gradient g, with eps."""
    if method == "adam":
        return lr * abs(g) / (abs(g) + eps)
    return lr / (1 - mu) * abs(g) / np.sqrt(g * g + eps)


def check_drawn(state: dict, method: str, mu: float, rho: float, eps: float, lr: float):
    """The curves and reference lines drawn for ``method`` are optlib's run at that setting."""
    xs = fresh_run(method, mu, rho, eps, lr)
    f32 = np.float32
    s1 = {c: np.array(v) for c, v in state["data"][f"{method}_s1"].items()}
    s2 = {c: np.array(v) for c, v in state["data"][f"{method}_s2"].items()}
    c = int(np.argmax(xs <= 0))                                  # the step that crosses the kink
    back = c + int(np.argmax(xs[c:] > 0))
    assert c > 0 and back > c
    # before the kink: steps 1 .. c, positions and speeds
    t1 = s1["t"].astype(int)
    assert t1[0] == 1 and t1[-1] == c and np.all(np.diff(t1) >= 0), t1
    np.testing.assert_array_equal(f32(xs[t1]), f32(s1["x"]))
    np.testing.assert_array_equal(f32(xs[t1 - 1] - xs[t1]), f32(s1["v"]))
    # around the kink: steps counted from the crossing, through the return
    idx = s2["t"].astype(int) + c
    assert idx[0] < c < back <= idx[-1], (idx[0], c, back, idx[-1])
    np.testing.assert_array_equal(f32(xs[idx]), f32(s2["x"]))
    np.testing.assert_array_equal(f32(xs[idx] - xs[idx - 1]), f32(s2["v"]))
    # the terminal speeds: steep side before the kink, shallow side (pushing back) after it
    steep, shallow = terminal(method, 1.0, mu, eps, lr), terminal(method, -0.1, mu, eps, lr)
    np.testing.assert_array_equal(f32(state["data"][f"{method}_ref1"]["v"]), f32([steep] * 2))
    ref2 = np.array(state["data"][f"{method}_ref2"]["v"], dtype=float)
    np.testing.assert_array_equal(f32(ref2[[0, 1, 3, 4]]), f32([-steep, -steep, shallow, shallow]))
    # the readout names the setting, the crossing step and the last position
    text = state["text"][method]
    assert f"η = {lr:g}" in text and f"step {c}," in text and f"x = {xs[-1]:.3g}" in text, text
    return xs


def test_explorable_adam_vs_rmsprop_controls_keyboard_and_data(browser_context):  # noqa: F811
    """Labelled controls showing their value; arrows move them; the runs drawn are optlib's."""
    expect = pytest.importorskip("playwright.sync_api").expect
    page, problems = _open_explorable(browser_context, STEM)
    try:
        handles = {k: _slider(page, label) for k, label in LABELS.items()}
        before = page.evaluate(READ)
        assert before["mu"] == 0.9 and before["scenario"] == "Accumulating momentum"
        assert before["visible"] == {"s1x": True, "s1v": True, "s2x": False, "s2v": False}
        fallback = page.locator(".rolling-explorable-fallback")
        assert fallback.count() == 1 and fallback.first.is_hidden()
        titles = page.locator(".bk-slider-title").all_inner_texts()
        assert titles == ["momentum μ = β₁: 0.90", "decay ρ = β₂: 0.9", "ε (both): 1e-10",
                          "learning rate η, Adam: 0.01", "learning rate η, RMS+mom: 0.001"], titles
        # each handle announces the value its title shows
        for key, text in (("mu", "0.90"), ("rho", "0.9"), ("eps", "1e-10"), ("adam", "0.01"),
                          ("rmsprop_momentum", "0.001")):
            expect(handles[key]).to_have_attribute("aria-valuetext", text)
        # the default: the answer's learning rates, rho = beta2 = 0.9
        check_drawn(before, "adam", 0.9, 0.9, 1e-10, 0.01)
        check_drawn(before, "rmsprop_momentum", 0.9, 0.9, 1e-10, 0.001)

        # keyboard: mu one step left, rho to its end (0.999), eps two steps right, RMSProp's
        # learning rate one step right
        handles["mu"].focus()
        page.keyboard.press("ArrowLeft")
        handles["rho"].focus()
        page.keyboard.press("End")
        handles["eps"].focus()
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        handles["rmsprop_momentum"].focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "() => Bokeh.documents[0].get_model_by_name('rmsprop_momentum_current')"
            f".data.index[0] !== {before['k']['rmsprop_momentum']} && "
            "Bokeh.documents[0].get_model_by_name('lr_rmsprop_momentum').value === 1",
            timeout=TIMEOUT_MS)
        after = page.evaluate(READ)
        titles = page.locator(".bk-slider-title").all_inner_texts()
        assert titles == ["momentum μ = β₁: 0.80", "decay ρ = β₂: 0.999", "ε (both): 1e-06",
                          "learning rate η, Adam: 0.01", "learning rate η, RMS+mom: 0.002"], titles
        for key, text in (("mu", "0.80"), ("rho", "0.999"), ("eps", "1e-06"),
                          ("rmsprop_momentum", "0.002")):
            expect(handles[key]).to_have_attribute("aria-valuetext", text)
        xa = check_drawn(after, "adam", 0.8, 0.999, 1e-6, 0.01)
        xr = check_drawn(after, "rmsprop_momentum", 0.8, 0.999, 1e-6, 0.002)
        drawn = "rmsprop_momentum_s1"
        assert after["data"][drawn]["x"] != before["data"][drawn]["x"], "nothing moved"
        # ... and not the default setting's runs
        xa0 = fresh_run("adam", 0.9, 0.9, 1e-10, 0.01)
        xr0 = fresh_run("rmsprop_momentum", 0.9, 0.9, 1e-10, 0.001)
        assert not np.array_equal(np.float32(xa), np.float32(xa0))
        assert not np.array_equal(np.float32(xr), np.float32(xr0))
        # the readout on the page is the shown text
        readout = page.get_by_text("RMSProp with momentum, η = 0.002", exact=False)
        assert readout.count() >= 1 and readout.first.is_visible()

        # the scenario: "Changing direction" shows the figures around the kink
        select = page.get_by_label("scenario", exact=True)
        assert select.count() == 1
        select.select_option("Changing direction")
        page.wait_for_function(
            "() => Bokeh.documents[0].get_model_by_name('fig_s2x').visible", timeout=TIMEOUT_MS)
        shown = page.evaluate(READ)
        assert shown["visible"] == {"s1x": False, "s1v": False, "s2x": True, "s2v": True}
        _save_explorable_shot(page, f"{STEM}.png")
    finally:
        page.close()
    assert not problems, problems


def test_explorable_adam_vs_rmsprop_on_a_phone(phone_context):  # noqa: F811
    """At 390 px: within the screen, handles a finger can hit, a tap moves a slider."""
    page, problems = _open_explorable(phone_context, STEM)
    try:
        before = page.evaluate(READ)
        _tap_slider_on_a_phone(page, _slider(page, LABELS["rmsprop_momentum"]), dx=80)
        page.wait_for_function(
            "() => Bokeh.documents[0].get_model_by_name('rmsprop_momentum_current')"
            f".data.index[0] !== {before['k']['rmsprop_momentum']}", timeout=TIMEOUT_MS)
        assert page.evaluate(READ)["lr_rms"] > before["lr_rms"]
        _save_explorable_shot(page, f"{STEM}.phone.png")
    finally:
        page.close()
    assert not problems, problems
