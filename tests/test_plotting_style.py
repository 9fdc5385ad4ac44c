"""The book's one figure style: a fixed look per method, a colour-blind-safe palette, and
every chapter drawing with it (no chapter sets its own rcParams)."""

import re
from pathlib import Path

import matplotlib
import pytest

import optlib
from optlib.plotting import BOOK_STYLE, METHOD_STYLES, PALETTE, method_style, use_book_style

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p for p in (ROOT / "chapters").glob("*.md")
                  if "{code-cell}" in p.read_text(encoding="utf-8"))

# Okabe & Ito (2008), "Color Universal Design": the palette's colours, except its yellow.
OKABE_ITO = {"#000000", "#E69F00", "#56B4E9", "#009E73", "#0072B2", "#D55E00", "#CC79A7"}


def test_every_method_of_optlib_has_a_style():
    import inspect

    factories = {name for name in optlib.__all__
                 if inspect.isfunction(getattr(optlib, name))
                 and getattr(optlib, name).__module__ in ("optlib.descent", "optlib.adaptive",
                                                      "optlib.adam_family", "optlib.frontier")
                 and name not in ("newton_schulz", "schedule_free_eval_params")}
    assert {"adam", "muon"} <= factories
    assert factories <= set(METHOD_STYLES), factories - set(METHOD_STYLES)


def test_each_method_looks_different():
    looks = [(s["color"], s["linestyle"]) for s in METHOD_STYLES.values()]
    assert len(set(looks)) == len(looks)
    labels = [s["label"] for s in METHOD_STYLES.values()]
    assert len(set(labels)) == len(labels)


def test_palette_is_colour_blind_safe():
    colours = {s["color"] for s in METHOD_STYLES.values()} | set(PALETTE.values())
    assert colours - OKABE_ITO <= {PALETTE["grey"]}
    assert PALETTE["grey"].lower() not in {c.lower() for c in OKABE_ITO}


@pytest.mark.parametrize("name, key", [
    ("Adam", "adam"), ("heavy ball", "momentum"), ("SGD", "gd"),
    ("RMSProp  with momentum", "rmsprop_momentum"), ("centered RMSProp", "rmsprop_centered")])
def test_method_style_understands_the_chapters_names(name, key):
    assert method_style(name) == METHOD_STYLES[key]
    method_style(name)["color"] = "red"  # a copy: the table itself is not changed
    assert METHOD_STYLES[key]["color"] != "red"


def test_unknown_method_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown method 'lbfgs'.*adam"):
        method_style("lbfgs")


def test_use_book_style_applies_the_style_and_checks_the_format():
    import matplotlib.pyplot as plt

    with matplotlib.rc_context():
        use_book_style()
        assert tuple(plt.rcParams["figure.figsize"]) == BOOK_STYLE["figure.figsize"]
        cycle = [c.upper() for c in plt.rcParams["axes.prop_cycle"].by_key()["color"]]
        assert cycle == [c.upper() for c in PALETTE.values()]
        assert plt.rcParams["legend.fontsize"] >= 9
    with pytest.raises(ValueError, match="figure_format must be 'svg' or 'retina'"):
        use_book_style("png")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_draws_with_the_book_style(path):
    text = path.read_text(encoding="utf-8")
    assert "optlib.plotting.use_book_style(" in text
    # no chapter-local look: rcParams, inline-backend formats or another style sheet
    assert not re.search(r"rcParams|InlineBackend|plt\.style\.use", text)
