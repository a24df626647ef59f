"""Tests of plot_fan_chart, plot_tornado and plot_waterfall (structure of the drawn axes)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from waferlab.analysis import attribute, log_decomposition
from waferlab.errors import InvalidParameterError
from waferlab.plotting import plot_fan_chart, plot_tornado, plot_waterfall
from waferlab.uncertainty import Discrete, Uniform, run_uncertainty, tornado


def _texts(ax: plt.Axes) -> str:
    return " ".join(t.get_text() for t in ax.texts) + " " + ax.get_title(loc="left")


def test_fan_chart_bands_follow_the_quantiles(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # units(t) = w * (t + 1), w ~ U(0, 10): the p5 band edge at month t is 0.5 (t + 1).
    r = run_uncertainty(
        lambda x: x["w"][:, None] * np.arange(1, 7), {"w": Uniform(0.0, 10.0)}, 4096,
        seed=0, method="sobol",
    )  # fmt: skip
    fig, ax = plt.subplots()
    assert plot_fan_chart(r, ax=ax, published=[(5, 30.0, "paper")]) is ax
    outer = ax.collections[0].get_paths()[0].vertices
    assert outer[:, 1].min() == pytest.approx(0.5, abs=0.05)
    assert outer[:, 1].max() == pytest.approx(57.0, abs=0.3)  # p95 of 6 w
    median = ax.lines[0].get_ydata()
    np.testing.assert_allclose(median, 5.0 * np.arange(1, 7), rtol=0.01)
    assert "paper" in _texts(ax)
    fig.savefig(tmp_path / "fan.png")
    cum = plot_fan_chart(r, cumulative=True, periods=[f"2025-{m:02d}" for m in range(1, 7)])
    assert cum.lines[0].get_ydata()[-1] == pytest.approx(5.0 * 21, rel=0.01)
    assert cum.get_xticklabels()[0].get_text() == "2025-01"
    plt.close("all")


def test_fan_chart_needs_periods() -> None:
    with pytest.raises(InvalidParameterError):
        plot_fan_chart(np.ones(10))


def test_tornado_plot_order_and_no_change_label() -> None:
    ds = {"a": Uniform(1.0, 2.0), "b": Uniform(1.0, 5.0), "m": Discrete(("x", "y"))}
    t = tornado(lambda x: x["a"] * x["b"], ds)
    ax = plot_tornado(t, xlabel="units")
    labels = [label.get_text().split("\n")[0] for label in ax.get_yticklabels()][::-1]
    assert labels == ["b", "a", "m"]
    assert "(no change)" in _texts(ax)
    assert "x … y" in ax.get_yticklabels()[0].get_text()
    assert len(plot_tornado(t, max_inputs=1).get_yticklabels()) == 1
    with pytest.raises(InvalidParameterError):
        plot_tornado({"names": []})
    plt.close("all")


def test_waterfall_steps_end_at_b() -> None:
    r = log_decomposition({"wafers": 1e4, "die_yield": 0.2}, {"wafers": 2e4, "die_yield": 0.3})
    ax = plot_waterfall(r, labels=("SMIC", "TSMC"))
    assert ax.get_yscale() == "log"
    bars = ax.patches
    # Step bars: A -> A x 2 (wafers), then x 1.5 (die yield) to B = 3 A.
    assert bars[1].get_y() == pytest.approx(2000.0)
    assert bars[1].get_y() + bars[1].get_height() == pytest.approx(4000.0)
    assert bars[2].get_y() + bars[2].get_height() == pytest.approx(6000.0)
    assert "×2" in _texts(ax) and "×1.5" in _texts(ax)
    linear = attribute(
        lambda x: np.minimum(x["dies"], x["hbm"] / 8),
        {"dies": 10_000, "hbm": 96_000},
        {"dies": 20_000, "hbm": 160_000},
        log=False,
    )
    ax = plot_waterfall(linear)
    assert ax.get_yscale() == "linear"
    assert "+6,000" in _texts(ax) and "+4,000" in _texts(ax)
    # large changes read as whole numbers, never in e-notation
    big = attribute(lambda x: x["w"] * 6.0, {"w": 50_000.0}, {"w": 125_000.0}, log=False)
    texts = _texts(plot_waterfall(big))
    assert "+450,000" in texts and "e+" not in texts
    with pytest.raises(InvalidParameterError):
        plot_waterfall(r.to_dict())
    plt.close("all")


def test_fan_chart_from_a_streamed_result() -> None:
    ds = {"w": Uniform(0.0, 10.0)}
    kept = run_uncertainty(lambda x: x["w"][:, None] * np.arange(1, 7), ds, 5000, seed=1)
    streamed = run_uncertainty(
        lambda x: x["w"][:, None] * np.arange(1, 7), ds, 5000, seed=1, keep_draws=False
    )
    a, b = plot_fan_chart(kept), plot_fan_chart(streamed)
    np.testing.assert_allclose(a.lines[0].get_ydata(), b.lines[0].get_ydata(), rtol=1e-3)
    with pytest.raises(InvalidParameterError):
        plot_fan_chart(run_uncertainty(lambda x: x["w"], ds, 10, seed=1))
    plt.close("all")


def _legend_bottom(ax: plt.Axes) -> tuple[float, float, float]:
    """The legend's x span and bottom edge, in data coordinates."""
    fig = ax.figure
    fig.canvas.draw()
    box = ax.get_legend().get_window_extent(fig.canvas.get_renderer())  # type: ignore[attr-defined]
    (x0, y0), (x1, _) = ax.transData.inverted().transform([(box.x0, box.y0), (box.x1, box.y1)])
    return float(x0), float(x1), float(y0)


def test_fan_chart_legend_covers_no_band() -> None:
    # The same draw in every period: a flat band from p5 = 0.5 to p95 = 9.5 of
    # w ~ U(0, 10), as high on the left (under the legend) as anywhere.
    draws = np.repeat(np.linspace(0.0, 10.0, 2001)[:, None], 12, axis=1)
    ax = plot_fan_chart(draws, published=[(0, 9.0, "paper")])
    x0, x1, bottom = _legend_bottom(ax)
    assert x0 < 0.0 < x1  # the legend sits over the first period
    assert bottom > 9.5  # above the p95 band and the published point
    plt.close("all")


def test_fan_chart_keeps_its_limits_when_the_legend_is_clear() -> None:
    # A path rising from near 0 (as Morgan Stanley's units to date): nothing under the legend.
    draws = np.linspace(0.0, 10.0, 2001)[:, None] * np.arange(1, 13)
    ax = plot_fan_chart(draws)
    assert ax.get_ylim()[1] < 1.1 * 9.5 * 12  # matplotlib's own 5 % margin over the p95
    _, x1, bottom = _legend_bottom(ax)
    assert bottom > 9.5 * (x1 + 1.0)  # still clear of the band under it (p95 of 10 w at x1)
    plt.close("all")
