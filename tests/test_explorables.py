"""optlib.explorables: the pieces of the book's explorable figures (Bokeh, imported lazily)."""

from __future__ import annotations

import subprocess
import sys
import warnings

import numpy as np
import pytest

import optlib
from optlib import explorables

bokeh = pytest.importorskip("bokeh")


def test_import_optlib_does_not_import_bokeh():
    code = "import optlib, optlib.explorables, sys; print('bokeh' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_library_version_is_the_installed_bokeh():
    assert explorables.library_version() == f"bokeh=={bokeh.__version__}"


@pytest.mark.parametrize(
    "values, message",
    [([0.1], "at least 2"), ([[0.1, 0.2]], "1-D"), ([0.3, 0.2, 0.1], "increasing"),
     ([0.0, 0.1, 0.3], "evenly spaced"), ([0.0, np.nan], "finite")],
)
def test_slider_values_rejects_what_is_not_a_grid(values, message):
    with pytest.raises(ValueError, match=message):
        explorables.slider_values(values)


def test_slider_values_of_a_rounded_grid():
    etas = np.round(np.arange(1, 36) * 0.02, 12)
    assert explorables.slider_values(etas) == (0.02, 0.7, 0.02)


def test_grid_slider_is_labelled_shows_its_value_and_checks_it():
    s = explorables.grid_slider([0.0, 0.5, 1.0], title="momentum μ", value=0.5, name="mu")
    assert (s.start, s.end, s.step, s.value, s.title) == (0.0, 1.0, 0.5, 0.5, "momentum μ")
    assert s.show_value and "rolling-slider-mu" in s.css_classes
    assert s.tags == [{"label": "momentum μ"}]
    with pytest.raises(ValueError, match="value must be one of the slider's values"):
        explorables.grid_slider([0.0, 0.5, 1.0], title="μ", value=0.3, name="mu")
    with pytest.raises(ValueError, match="name must be an identifier"):
        explorables.grid_slider([0.0, 0.5, 1.0], title="μ", name="m u")


def test_book_figure_uses_the_book_font_and_no_toolbar():
    fig = explorables.book_figure(x_label="η", y_label="f(x)", title="t")
    assert fig.toolbar_location is None and fig.sizing_mode == "stretch_width"
    assert fig.xaxis[0].axis_label == "η"
    assert fig.xaxis[0].axis_label_text_font == explorables.FONT
    assert fig.title.text_font == explorables.FONT


def test_flat_rows_blocks_follow_the_grid_in_row_major_order():
    # a real sweep: 3 learning rates x 2 momenta, 4 steps, two coordinates
    lrs, mus = np.array([0.1, 0.2, 0.3]), np.array([0.0, 0.5])
    lr, mu = optlib.grid(lrs, mus)
    ravine = optlib.problems.ravine()
    xs = optlib.run(optlib.momentum(lr, mu), ravine.grad, np.array([-5.0, -2.0]), 4)
    cols = explorables.flat_rows({"x1": np.moveaxis(xs[..., 0], 0, -1)}, grid_ndim=2)
    assert cols["length"] == 5 and cols["x1"].dtype == np.float32
    i, j = 2, 1
    k = i * len(mus) + j
    one = optlib.run(optlib.momentum(lrs[i], mus[j]), ravine.grad, np.array([-5.0, -2.0]), 4)
    np.testing.assert_array_equal(cols["x1"][k * 5:(k + 1) * 5], np.float32(one[:, 0]))
    with pytest.raises(ValueError, match="same shape"):
        explorables.flat_rows({"a": np.zeros((2, 3)), "b": np.zeros((3, 2))}, 1)
    with pytest.raises(ValueError, match="grid_ndim"):
        explorables.flat_rows({"a": np.zeros(3)}, 2)
    with pytest.raises(ValueError, match="at least one column"):
        explorables.flat_rows({}, 1)
    # a diverged run's values beyond float32 become inf, without a warning (the chapters
    # execute with warnings as errors)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big = explorables.flat_rows({"f": np.array([[1.0, 1e300, -1e300, np.nan]])}, 1)["f"]
    assert big[0] == 1 and big[1] == np.inf and big[2] == -np.inf and np.isnan(big[3])


def test_select_rows_passes_the_grid_and_sources_to_its_code():
    from bokeh.models import ColumnDataSource, Div

    s1 = explorables.grid_slider([0.1, 0.2], title="η", name="eta")
    s2 = explorables.grid_slider([0.0, 0.45, 0.9], title="μ", name="mu")
    full = ColumnDataSource({"x": np.arange(12.0)})
    shown = ColumnDataSource({"x": np.arange(2.0)})
    div = Div()
    cb = explorables.select_rows([s1, s2], [[0.1, 0.2], [0.0, 0.45, 0.9]],
                                 [(full, shown, 2)], div=div)
    assert cb.args["specs"] == [[0.1, 0.2, 0.1], [0.0, 0.9, 0.45]]
    assert cb.args["pairs"] == [[full, shown, 2]] and cb.args["div"] is div
    assert "k = k * n + i" in cb.code
    with pytest.raises(ValueError, match="one grid per slider"):
        explorables.select_rows([s1, s2], [[0.1, 0.2]], [(full, shown, 2)])


def test_index_slider_steps_through_positions_and_shows_labels():
    s = explorables.index_slider(["1e-4", "3e-4", "1e-3"], title="learning rate η", name="lr",
                                 index=2)
    assert (s.start, s.end, s.step, s.value) == (0.0, 2.0, 1.0, 2.0)
    assert s.format.args["labels"] == ["1e-4", "3e-4", "1e-3"] and "labels[" in s.format.code
    assert s.tags == [{"label": "learning rate η", "value_labels": ["1e-4", "3e-4", "1e-3"]}]
    assert "rolling-slider-lr" in s.css_classes
    # the page announces the label of the position, not the position
    from bokeh.layouts import column
    html = explorables.to_html(column(s), label="a figure", sliders=[s]).data
    assert '{"rolling-slider-lr": ["1e-4", "3e-4", "1e-3"]}' in html and "aria-valuetext" in html
    with pytest.raises(ValueError, match="index must be an integer from 0 to 2"):
        explorables.index_slider(["a", "b", "c"], title="t", name="n", index=3)
    with pytest.raises(ValueError, match="at least 2"):
        explorables.index_slider(["a"], title="t", name="n")


def test_select_rows_takes_a_select_as_an_axis():
    from bokeh.models import ColumnDataSource, Select

    pick = Select(options=["ravine", "Rosenbrock"], value="ravine", title="problem")
    s = explorables.index_slider(["a", "b", "c"], title="t", name="n")
    full, shown = ColumnDataSource({"x": np.arange(6.0)}), ColumnDataSource({"x": [0.0]})
    cb = explorables.select_rows([pick, s], [["ravine", "Rosenbrock"], range(3)],
                                 [(full, shown, 1)])
    assert cb.args["specs"] == [["ravine", "Rosenbrock"], [0.0, 2.0, 1.0]]
    assert "indexOf(sliders[a].value)" in cb.code
    with pytest.raises(ValueError, match="values of a Select must be its options"):
        explorables.select_rows([pick], [["Rosenbrock", "ravine"]], [(full, shown, 1)])


def test_select_rows_copies_the_shared_columns_and_keeps_the_others():
    from bokeh.models import ColumnDataSource

    s = explorables.grid_slider([0.1, 0.2], title="η", name="eta")
    shown = ColumnDataSource({"step": [0.0, 1.0], "loss": [1.0, 0.5]})
    losses = ColumnDataSource({"loss": np.arange(4.0)})
    cb = explorables.select_rows([s], [[0.1, 0.2]], [(losses, shown, 2)])
    assert "if (col in full.data)" in cb.code and "{...shown.data}" in cb.code
    with pytest.raises(ValueError, match="must share a column"):
        explorables.select_rows([s], [[0.1, 0.2]],
                                [(ColumnDataSource({"x": [1.0]}), shown, 1)])


def test_to_html_holds_the_marker_labels_and_no_cdn():
    from bokeh.layouts import column

    s = explorables.grid_slider([0.1, 0.2], title="learning rate η", name="eta")
    fig = explorables.book_figure()
    fig.line([0, 1], [0, 1])
    out = explorables.to_html(column(s, fig), label="a test figure", sliders=[s])
    html = out.data
    assert f'class="{explorables.MARKER}"' in html
    assert 'aria-label="a test figure"' in html
    assert '"rolling-slider-eta": "learning rate \\u03b7"' in html
    assert "html[data-theme=dark]" in html
    # without BokehJS (a notebook in Jupyter) the script does nothing and a note stays visible
    assert "if (window.Bokeh) {" in html and "Bokeh.safely" in html
    assert html.index("if (window.Bokeh) {") < html.index("Bokeh.safely")
    assert explorables.FALLBACK in html
    assert "cdn.bokeh.org" not in html and "http://" not in html and "https://" not in html
    with pytest.raises(ValueError, match="label"):
        explorables.to_html(column(fig), label="")
