"""Browser tests of the stochastic-gradients chapter's explorable, "The noise floor" (issue 12).

Run against a built site (``ROLLING_BUILD``, see tests/test_site.py). The page must hold
optlib's own runs: the losses drawn at a non-default (η, B), read back from the page's Bokeh
document, equal fresh optlib runs of SGD from the chapter's minimum x* at that setting, one per
seed, cast to the page's float32; the prediction drawn and the readout's numbers equal the ones
recomputed from the chapter's quadratic model (its Hessian and noise at x*, recomputed here).
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

STEM = "stochastic-gradients"
# the chapter's grid, runs and records (X_ETAS, X_BS, X_SEEDS, X_STEPS, x_window, x_t)
ETAS = 0.025 * 2.0 ** np.arange(8)
BATCHES = 8 * 2 ** np.arange(5)
SEEDS, STEPS, LAM = 4, 1000, 1e-3
WINDOW = np.arange(STEPS // 2, STEPS + 1, 25)
STEPS_SHOWN = np.unique(np.r_[np.round(np.geomspace(1, STEPS, 30)), STEPS // 2]).astype(int)
ETA_LABEL, B_LABEL = "learning rate η", "batch size B"

READ = """() => {
  const doc = Bokeh.documents[0];
  const get = (n) => doc.get_model_by_name(n);
  const out = {eta: get('eta').value, batch: get('batch').value,
               k: get('current').data.index[0], text: get('info').data.text[0],
               grid_eta: get('info').data.eta[0], grid_b: get('info').data.B[0], data: {}};
  for (const [c, v] of Object.entries(get('floor').data)) out.data[c] = Array.from(v);
  return out;
}"""


@pytest.fixture(scope="module")
def floor_model():
    """The chapter's model, data, minimum x*, L*, Hessian eigenvalues h_k and noise s_k,
    recomputed as the chapter computes them (same solver, same differences)."""
    sys.path.insert(0, str(ROOT))
    from scipy.optimize import minimize

    from optlib import learning

    train, _ = learning.split(learning.digits(), seed=0)
    X, y, N = train.features, train.labels, len(train.labels)
    model = learning.l2_penalised(learning.logistic_regression(), LAM)

    def flat(tree):
        lead = tree["W"].shape[:-2]
        return np.concatenate([tree["W"].reshape(*lead, -1), tree["b"].reshape(*lead, -1)], -1)

    def unflat(v):
        return {"W": v[..., :640].reshape(*v.shape[:-1], 64, 10),
                "b": v[..., 640:].reshape(*v.shape[:-1], 1, 10)}

    def loss_and_flat_grad(v):
        value, grads = model.loss_and_grad(unflat(v), X, y)
        return float(value), flat(grads)

    def hess_times(v, d, eps=1e-6):
        return (loss_and_flat_grad(v + eps * d)[1] - loss_and_flat_grad(v - eps * d)[1]) / (2 * eps)

    solved = minimize(loss_and_flat_grad, flat(model.init(seed=0)), jac=True, hessp=hess_times,
                      method="Newton-CG", options=dict(xtol=1e-12))
    eps = 1e-4
    shift = eps * np.eye(650)
    hess = (flat(model.loss_and_grad(unflat(solved.x + shift), X, y)[1])
            - flat(model.loss_and_grad(unflat(solved.x - shift), X, y)[1])) / (2 * eps)
    h_k, Q = np.linalg.eigh((hess + hess.T) / 2)
    G = flat(model.per_example_grads(unflat(solved.x), X, y))
    sigma = (G - G.mean(0)).T @ (G - G.mean(0)) / N
    s_k = np.einsum("ik,ij,jk->k", Q, sigma, Q)
    return dict(model=model, X=X, y=y, N=N, x_star=unflat(solved.x), loss_star=solved.fun,
                h_k=h_k, s_k=s_k, trace=np.trace(sigma))


def predicted(fm, eta, batch, t):
    """Eq. (eq-sg-floor-digits): expected L(x_t) - L* from x*, at the steps t."""
    h_k, s_k = fm["h_k"], fm["s_k"]
    grow = 1 - (1 - eta * h_k) ** (2 * np.asarray(t)[..., None])
    return np.sum(eta * s_k / (2 * batch * (2 - eta * h_k)) * grow, axis=-1)


def fresh_excess(fm, eta: float, batch: int):
    """L(x_t) - L* of fresh SGD runs from x* (optlib.gd(eta), one per seed, minibatches of
    `batch` drawn with replacement from seed (2, s)), at every step: shape (steps + 1, seeds),
    NaN where the chapter keeps no loss."""
    import optlib
    from optlib import learning

    model, X, y = fm["model"], fm["X"], fm["y"]
    keep = np.zeros(STEPS + 1, dtype=bool)
    keep[np.union1d(STEPS_SHOWN, WINDOW)] = True
    out = np.full((STEPS + 1, SEEDS), np.nan)
    for s in range(SEEDS):
        stream = iter(learning.batch_indices(fm["N"], batch, STEPS, seed=(2, s), replace=True))

        def grad(p, stream=stream):
            idx = next(stream)
            return model.loss_and_grad(p, X[idx], y[idx])[1]

        losses = optlib.run(optlib.gd(eta), grad, fm["x_star"], STEPS,
                            record=lambda p, state, t: model.loss(p, X, y) if keep[t] else np.nan)
        out[:, s] = losses - fm["loss_star"]
    return out


def check_drawn(state: dict, fm, eta: float, batch: int):
    """The curves drawn and the readout at (eta, batch) are those of fresh runs."""
    f32 = np.float32
    data = {c: np.array(v, dtype=float) for c, v in state["data"].items()}
    np.testing.assert_array_equal(data["t"], STEPS_SHOWN)
    excess = fresh_excess(fm, eta, batch)
    for s in range(SEEDS):
        np.testing.assert_array_equal(f32(excess[STEPS_SHOWN, s]), f32(data[f"seed{s}"]),
                                      err_msg=f"seed {s}")
    np.testing.assert_array_equal(f32(excess[STEPS_SHOWN].mean(axis=1)), f32(data["mean"]))
    np.testing.assert_array_equal(f32(predicted(fm, eta, batch, STEPS_SHOWN)), f32(data["pred"]))
    limit = predicted(fm, eta, batch, 10**9)
    np.testing.assert_array_equal(f32(np.full(STEPS_SHOWN.size, limit)), f32(data["limit"]))
    per_seed = excess[WINDOW].mean(axis=0)
    meas, se = per_seed.mean(), per_seed.std(ddof=1) / np.sqrt(SEEDS)
    in_window = STEPS_SHOWN >= STEPS // 2
    np.testing.assert_array_equal(f32(data["plateau"][in_window]), f32(meas))
    assert np.all(np.isnan(data["plateau"][~in_window]))
    # the readout: the same numbers, recomputed
    pred = predicted(fm, eta, batch, WINDOW).mean()
    first = eta * fm["trace"] / (4 * batch)
    text = state["text"]
    assert text.startswith(f"<b>η = {eta:g}, B = {batch}</b>"), text
    for part in (f"plateau measured {meas:.3g} (mean over steps {STEPS // 2} to {STEPS} and "
                 f"{SEEDS} seeds), predicted {pred:.3g}: ratio {meas / pred:.3g} ± "
                 f"{se / pred:.2g} (standard error across seeds)",
                 f"Limit t → ∞: {limit:.3g}, {limit / first:.3g} times the first-order "
                 f"η tr Σ*/(4B) = {first:.3g} (η h_max = {eta * fm['h_k'][-1]:.3g})."):
        assert part in text, (part, text)
    return excess


def test_explorable_stochastic_gradients_controls_keyboard_and_data(browser_context,  # noqa: F811
                                                                    floor_model):
    """Labelled sliders showing their value; arrows move them; the runs drawn are optlib's."""
    expect = pytest.importorskip("playwright.sync_api").expect
    page, problems = _open_explorable(browser_context, STEM)
    try:
        eta, batch = _slider(page, ETA_LABEL), _slider(page, B_LABEL)
        before = page.evaluate(READ)
        assert (before["grid_eta"], before["grid_b"]) == (0.1, 16)
        assert ETAS[int(before["eta"])] == 0.1 and BATCHES[int(before["batch"])] == 16
        fallback = page.locator(".rolling-explorable-fallback")
        assert fallback.count() == 1 and fallback.first.is_hidden()
        assert page.locator(".bk-slider-title").all_inner_texts() == [
            "learning rate η: 0.1", "batch size B: 16"]
        expect(eta).to_have_attribute("aria-valuetext", "0.1")
        expect(batch).to_have_attribute("aria-valuetext", "16")
        check_drawn(before, floor_model, 0.1, 16)

        # eta one step right (0.2), B two steps right (64), with the keyboard
        eta.focus()
        page.keyboard.press("ArrowRight")
        batch.focus()
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "() => Bokeh.documents[0].get_model_by_name('batch').value === 3 && "
            f"Bokeh.documents[0].get_model_by_name('current').data.index[0] !== {before['k']}",
            timeout=TIMEOUT_MS)
        after = page.evaluate(READ)
        assert (after["grid_eta"], after["grid_b"]) == (0.2, 64)
        assert page.locator(".bk-slider-title").all_inner_texts() == [
            "learning rate η: 0.2", "batch size B: 64"]
        expect(eta).to_have_attribute("aria-valuetext", "0.2")
        expect(batch).to_have_attribute("aria-valuetext", "64")
        excess = check_drawn(after, floor_model, 0.2, 64)
        assert after["data"]["seed0"] != before["data"]["seed0"], \
            "moving the sliders did not change the runs drawn"
        default = fresh_excess(floor_model, 0.1, 16)
        assert not np.array_equal(np.float32(default[STEPS_SHOWN, 0]),
                                  np.float32(excess[STEPS_SHOWN, 0]))
        # the readout, drawn in the page (a Bokeh Div; the text locator pierces shadow roots)
        readout = page.get_by_text("η = 0.2, B = 64")
        assert readout.count() == 1 and readout.first.is_visible()
        line = readout.first.evaluate("el => el.parentElement.textContent")
        assert "plateau measured" in line and "ratio" in line, line
        _save_explorable_shot(page, f"{STEM}.png")

        # the end of the learning-rate slider: eta = 3.2, where 2 - eta h_max matters
        eta.focus()
        page.keyboard.press("End")
        page.wait_for_function(
            "() => Bokeh.documents[0].get_model_by_name('info').data.text[0]"
            ".includes('η = 3.2, B = 64')", timeout=TIMEOUT_MS)
        end = page.evaluate(READ)
        expect(eta).to_have_attribute("aria-valuetext", "3.2")
        check_drawn(end, floor_model, 3.2, 64)
    finally:
        page.close()
    assert not problems, problems


def test_explorable_stochastic_gradients_on_a_phone(phone_context):  # noqa: F811
    """At 390 px: within the screen, handles a finger can hit, a tap moves the slider."""
    page, problems = _open_explorable(phone_context, STEM)
    try:
        before = page.evaluate(READ)
        _tap_slider_on_a_phone(page, _slider(page, ETA_LABEL), dx=60)
        page.wait_for_function(
            "() => Bokeh.documents[0].get_model_by_name('current').data.index[0] !== "
            f"{before['k']}", timeout=TIMEOUT_MS)
        assert page.evaluate(READ)["eta"] > before["eta"]
        _save_explorable_shot(page, f"{STEM}.phone.png")
    finally:
        page.close()
    assert not problems, problems
