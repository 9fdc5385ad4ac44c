"""Browser tests of the adam chapter's explorable, "Bias correction" (issue 12).

Run against a built site (``ROLLING_BUILD``, see tests/test_site.py). The page must hold
optlib's own steps: the steps drawn at a non-default (β₁, β₂), read back from the page's
Bokeh document, equal a fresh optlib run at that setting, cast to the page's float32.
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

# The steps shown, the sliders' values and the grid position, read from the page's document.
READ_ADAM = """() => {
  const doc = Bokeh.documents[0];
  const shown = doc.get_model_by_name('shown').data;
  const settings = doc.get_model_by_name('settings').data;
  const k = doc.get_model_by_name('current').data.index[0];
  const out = {b1: doc.get_model_by_name('beta1').value,
               b2_index: doc.get_model_by_name('beta2').value, k,
               grid_b1: settings.beta1[k], grid_b2: settings.beta2[k], columns: {}};
  for (const c of Object.keys(shown)) out.columns[c] = Array.from(shown[c]);
  return out;
}"""

B1_LABEL, B2_LABEL = "beta1, the decay of m", "beta2, the decay of v"


def fresh_steps(beta1: float, beta2: float, n: int) -> dict[str, np.ndarray]:
    """The chapter's four steps -Δx/η on its two gradients, from a fresh optlib.adam run.

    The gradients are the chapter's (constant 1; noisy: 1 + 2 N(0, 1), seed 1, 3000 drawn);
    the uncorrected steps are formed from optlib's state as the chapter forms them.
    """
    sys.path.insert(0, str(ROOT))
    import optlib

    rng = np.random.default_rng(1)
    grads = np.stack([np.ones(3000), 1.0 + 2.0 * rng.standard_normal(3000)], axis=1)
    b1, b2 = optlib.grid([beta1], [beta2])
    opt = optlib.adam(lr=1.0, beta1=b1, beta2=b2, eps=0.0)
    state = opt.init(np.zeros(2))
    out = {k: np.empty((n, 2)) for k in ("adam", "no_v", "no_m", "none")}
    for t in range(n):
        step, state = opt.update(grads[t], state)
        c1, c2 = 1 - b1**state.count, 1 - b2**state.count
        m, v = state.first_moment, state.second_moment
        out["adam"][t] = -step[0, 0]
        out["no_v"][t] = ((m / c1) / np.sqrt(v))[0, 0]
        out["no_m"][t] = (m / np.sqrt(v / c2))[0, 0]
        out["none"][t] = (m / np.sqrt(v))[0, 0]
    return out


def test_explorable_adam_controls_keyboard_and_data(browser_context):  # noqa: F811
    """Labelled sliders showing their value; arrows move them; the steps drawn are optlib's."""
    page, problems = _open_explorable(browser_context, "adam")
    try:
        b1, b2 = _slider(page, B1_LABEL), _slider(page, B2_LABEL)
        before = page.evaluate(READ_ADAM)
        assert (before["grid_b1"], before["grid_b2"]) == (0.9, 0.999)
        fallback = page.locator(".rolling-explorable-fallback")
        assert fallback.count() == 1 and fallback.first.is_hidden()
        titles = page.locator(".bk-slider-title")
        assert "β₁" in titles.nth(0).inner_text() and "0.90" in titles.nth(0).inner_text()
        assert "β₂" in titles.nth(1).inner_text() and "0.999" in titles.nth(1).inner_text()

        b1.focus()
        page.keyboard.press("ArrowRight")
        b2.focus()
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "() => Bokeh.documents[0].get_model_by_name('current').data.index[0] !== "
            f"{before['k']}", timeout=TIMEOUT_MS)
        after = page.evaluate(READ_ADAM)
        assert (after["grid_b1"], after["grid_b2"]) == (0.95, 0.9998)
        assert b1.get_attribute("aria-valuetext") == "0.95"
        assert b2.get_attribute("aria-valuetext") == "0.9998"    # the value, not the position
        assert "0.95" in titles.nth(0).inner_text() and "0.9998" in titles.nth(1).inner_text()
        assert after["columns"]["no_v_c"] != before["columns"]["no_v_c"], \
            "moving the sliders did not change the steps drawn"
        readout = page.get_by_text("β₁ = 0.95, β₂ = 0.9998")
        assert readout.count() == 1 and readout.first.is_visible()
        line = readout.first.evaluate("el => el.parentElement.textContent")
        assert "first step" in line and "no correction of v" in line, line

        # a fresh optlib run at the setting shown, cast to the page's float32: equal
        n = len(after["columns"]["step"])
        fresh = fresh_steps(after["grid_b1"], after["grid_b2"], n)
        np.testing.assert_array_equal(np.float32(after["columns"]["step"]), np.arange(1, n + 1))
        for name, steps in fresh.items():
            for j, g in enumerate("cn"):
                np.testing.assert_array_equal(np.float32(after["columns"][f"{name}_{g}"]),
                                              np.float32(steps[:, j]), err_msg=f"{name}_{g}")
        # the first uncorrected-v step on the constant gradient is 1/sqrt(1 - beta2)
        assert after["columns"]["no_v_c"][0] == pytest.approx(1 / np.sqrt(1 - 0.9998), rel=1e-6)
        # and not the default setting's steps
        default = fresh_steps(0.9, 0.999, n)
        assert not np.array_equal(np.float32(default["no_v"][:, 0]),
                                  np.float32(after["columns"]["no_v_c"]))
        _save_explorable_shot(page, "adam.png")
    finally:
        page.close()
    assert not problems, problems


def test_explorable_adam_on_a_phone(phone_context):  # noqa: F811
    """At 390 px: within the screen, handles a finger can hit, a tap moves the slider."""
    page, problems = _open_explorable(phone_context, "adam")
    try:
        before = page.evaluate(READ_ADAM)
        _tap_slider_on_a_phone(page, _slider(page, B1_LABEL), dx=-60)
        page.wait_for_function(
            "() => Bokeh.documents[0].get_model_by_name('current').data.index[0] !== "
            f"{before['k']}", timeout=TIMEOUT_MS)
        assert page.evaluate(READ_ADAM)["b1"] < before["b1"]
        _save_explorable_shot(page, "adam.phone.png")
    finally:
        page.close()
    assert not problems, problems
