"""Browser tests of the comparison chapter's explorable, "The sweeps" (issue 12).

Run against a built site (``ROLLING_BUILD``, see tests/test_site.py). The page holds the
chapter's own sweep: the loss drawn for a problem, a method and a learning rate picked in the
page, read back from its Bokeh document, equals a fresh optlib run of that method at that
learning rate (floored and thinned as the chapter does, cast to the page's float32), and the
criterion shown is that run's criterion.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from test_site import (  # noqa: F401 (browser fixtures)
    PHONE,
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

sys.path.insert(0, str(ROOT))
from optlib.plotting import method_style  # noqa: E402

LRS = np.geomspace(1e-4, 1e1, 60)  # the chapter's sweep grid
FLOOR = 1e-12                       # the chapter's floor of f in the criterion

# What is drawn, the controls' values and the grid position, read from the page's document.
READ_SWEEP = """() => {
  const doc = Bokeh.documents[0];
  const get = (name) => doc.get_model_by_name(name);
  const arr = (name, col) => Array.from(get(name).data[col]);
  const plain = (v) => (v !== null && typeof v === 'object' && 'value' in v) ? v.value : v;
  const k = get('current').data.index[0];
  return {problem: get('problem').value, method: get('method').value,
          lr_index: get('lr').value, k, readout: get('readout').text,
          lr: get('shown_position').data.lr[0], crit: get('shown_position').data.crit[0],
          grid_lr: get('positions').data.lr[k],
          tuned_lr: get('shown_tuned').data.lr[0],
          step: arr('shown', 'step'), loss: arr('shown', 'loss'),
          tuned_loss: arr('shown', 'tuned_loss'),
          sweep_lr: arr('shown_sweep', 'lr'), sweep_y: arr('shown_sweep', 'y'),
          colour: plain(get('run_line').glyph.line_color),
          dash: plain(get('run_line').glyph.line_dash)};
}"""

WAIT_MOVED = ("() => Bokeh.documents[0].get_model_by_name('current').data.index[0] !== {k}")


def fresh_losses(method: str, problem: str, lr: float):
    """The chapter's loss curve for one method and learning rate (a fresh optlib run)."""
    sys.path.insert(0, str(ROOT))
    import optlib

    makers = {"Momentum": lambda lr: optlib.momentum(lr, momentum=0.9),
              "Adam": lambda lr: optlib.adam(lr)}
    problems = {"Rosenbrock": (optlib.problems.rosenbrock(), np.array([-1.2, 1.0]), 3000),
                "ravine": (optlib.problems.ravine(), np.array([-5.0, -2.0]), 300)}
    p, x0, steps = problems[problem]
    with np.errstate(all="ignore"):
        xs = optlib.run(makers[method](lr), p.grad, x0, steps)
        return p.f(xs)                                                   # (steps + 1,)


def criterion(f):
    """The chapter's criterion on a deterministic problem: mean of log10 f, floored."""
    with np.errstate(all="ignore"):
        c = np.mean(np.log10(np.maximum(f, FLOOR)))
    return c if np.isfinite(c) else np.inf


def as_page(f, every):
    with np.errstate(over="ignore"):
        return np.float32(np.maximum(f, FLOOR)[::every])


def test_explorable_comparison_controls_keyboard_and_data(browser_context):  # noqa: F811
    """Labelled selects and slider; picking and arrows change the run; it is optlib's."""
    page, problems = _open_explorable(browser_context, "comparison")
    try:
        lr = _slider(page, "learning rate η")
        before = page.evaluate(READ_SWEEP)
        # the default: Adam on the ravine at its tuned learning rate, drawn from the sweep
        assert (before["problem"], before["method"]) == ("ravine", "Adam")
        assert before["lr"] == before["tuned_lr"] == LRS[before["lr_index"]]
        fallback = page.locator(".rolling-explorable-fallback")
        assert fallback.count() == 1 and fallback.first.is_hidden()
        title = page.locator(".bk-slider-title").first.inner_text()
        assert "learning rate η" in title and f"{before['lr']:.3g}" in title, title
        assert lr.get_attribute("aria-valuetext") == f"{before['lr']:.3g}"
        np.testing.assert_array_equal(before["sweep_lr"], LRS)
        f0 = fresh_losses("Adam", "ravine", before["lr"])
        np.testing.assert_array_equal(np.float32(before["loss"]), as_page(f0, 12))
        np.testing.assert_array_equal(np.float32(before["step"]), np.arange(0, 301, 12))
        # the tuned value is the sweep's best: no learning rate of the grid scores lower
        assert np.nanmin(np.float32(before["sweep_y"])) == np.float32(before["crit"])

        # the selects are labelled, and picking changes what is drawn
        problem_select = page.get_by_label("problem", exact=True)
        method_select = page.get_by_label("method", exact=True)
        assert problem_select.count() == 1 and method_select.count() == 1
        problem_select.select_option("Rosenbrock")
        method_select.select_option("Momentum")
        page.wait_for_function(
            "() => { const d = Bokeh.documents[0].get_model_by_name('shown_tuned').data;"
            " return d.text[0].startsWith('Momentum on Rosenbrock'); }",
            timeout=TIMEOUT_MS)
        picked = page.evaluate(READ_SWEEP)
        assert (picked["problem"], picked["method"]) == ("Rosenbrock", "Momentum")
        assert picked["loss"] != before["loss"] and picked["sweep_y"] != before["sweep_y"]
        # drawn in the book's colour and line style of the method picked
        assert before["colour"] == method_style("Adam")["color"]
        assert before["dash"] in ("dashed", [6]), before["dash"]                  # Adam: --
        assert picked["colour"] == method_style("Momentum")["color"]
        assert picked["dash"] in ("solid", []), picked["dash"]                    # momentum: -
        np.testing.assert_array_equal(np.float32(picked["step"]), np.arange(0, 3001, 120))

        # the arrow keys move the learning rate one grid point each: go 3 below the tuned one
        tuned_index = int(np.argmin(np.abs(LRS - picked["tuned_lr"])))
        target = tuned_index - 3
        lr.focus()
        for _ in range(picked["lr_index"] - target):
            page.keyboard.press("ArrowLeft")
        page.wait_for_function(
            "() => Bokeh.documents[0].get_model_by_name('lr').value === " f"{target}",
            timeout=TIMEOUT_MS)
        page.wait_for_function(WAIT_MOVED.format(k=picked["k"]), timeout=TIMEOUT_MS)
        after = page.evaluate(READ_SWEEP)
        assert after["lr"] == after["grid_lr"] == LRS[target]
        title = page.locator(".bk-slider-title").first.inner_text()
        assert f"{LRS[target]:.3g}" in title, title
        assert lr.get_attribute("aria-valuetext") == f"{LRS[target]:.3g}"
        # the readout: the criterion of the run shown, as the page stores it
        assert after["readout"] == f"<b>{after['crit']:.4g}</b>", after["readout"]
        box = page.locator(".rolling-explorable")
        label = box.get_by_text("criterion at this η:", exact=True)
        assert label.count() == 1 and label.first.is_visible()
        assert box.get_by_text(f"{after['crit']:.4g}", exact=True).first.is_visible()
        tuned_readout = box.get_by_text("Momentum on Rosenbrock: tuned η")
        assert tuned_readout.count() == 1 and tuned_readout.first.is_visible()

        # a fresh optlib run at that setting, as the page stores it (float32): equal; its
        # criterion is the one shown, and the grey curve is the run at the tuned value
        f = fresh_losses("Momentum", "Rosenbrock", LRS[target])
        np.testing.assert_array_equal(np.float32(after["loss"]), as_page(f, 120))
        assert after["crit"] == pytest.approx(criterion(f), rel=1e-9)
        ft = fresh_losses("Momentum", "Rosenbrock", after["tuned_lr"])
        np.testing.assert_array_equal(np.float32(after["tuned_loss"]), as_page(ft, 120))
        assert criterion(ft) < after["crit"]
        assert after["loss"] != picked["loss"], "the slider did not change the run drawn"
        _save_explorable_shot(page, "comparison.png")
    finally:
        page.close()
    assert not problems, problems


def test_explorable_comparison_on_a_phone(phone_context):  # noqa: F811
    """At 390 px: within the screen, controls a finger can hit, a tap moves the slider."""
    page, problems = _open_explorable(phone_context, "comparison")
    try:
        before = page.evaluate(READ_SWEEP)
        for name in ("problem", "method"):
            select = page.get_by_label(name, exact=True).bounding_box()
            assert select["height"] >= 24 and select["x"] + select["width"] <= PHONE["width"]
        _tap_slider_on_a_phone(page, _slider(page, "learning rate η"), dx=60)
        page.wait_for_function(WAIT_MOVED.format(k=before["k"]), timeout=TIMEOUT_MS)
        assert page.evaluate(READ_SWEEP)["lr"] > before["lr"]
        _save_explorable_shot(page, "comparison.phone.png")
    finally:
        page.close()
    assert not problems, problems
