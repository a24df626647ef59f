"""Layout of the drawn figures: where labels, markers and legends land on the canvas.

Each check is geometric, on the window extents (pixels) of the artists after
a draw: a label beside its own marker and nearer to it than to any other, no
two labels or a label and a marker overlapping, legends clear of what is
drawn, tick labels apart, every mark of the timeline in a panel of its own
quantity. The expected values (totals of a year, a calendar span) are sums of
the monthly results, not numbers read off a plot.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
from click.testing import CliRunner
from matplotlib.text import Text
from matplotlib.transforms import Bbox

from waferlab.calibration import Observation, fit_yield_model, load_dataset, select
from waferlab.funnel import FunnelInputs, run_funnel, run_timeline
from waferlab.plotting import plot_fan_chart, plot_funnel, plot_timeline, plot_yield_curves

D0 = "defect_density_per_cm2"
DATA = load_dataset("csis-2025")


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


def _draw(ax: Any) -> Any:
    ax.figure.canvas.draw()
    return ax.figure.canvas.get_renderer()


def _text_box(text: Text, renderer: Any) -> Bbox:
    """The box of the text itself (not of a leader line)."""
    return Text.get_window_extent(text, renderer)


def _gap(a: Bbox, b: Bbox) -> float:
    dx = max(a.x0 - b.x1, b.x0 - a.x1, 0.0)
    dy = max(a.y0 - b.y1, b.y0 - a.y1, 0.0)
    return float(np.hypot(dx, dy))


def _overlaps(a: Bbox, b: Bbox) -> bool:
    return bool(min(a.x1, b.x1) > max(a.x0, b.x0) and min(a.y1, b.y1) > max(a.y0, b.y0))


def _points(ax: Any, pixels: float) -> float:
    return pixels * 72.0 / ax.figure.dpi


def _marker_boxes(ax: Any, observations: list[Observation]) -> list[Bbox]:
    """Each observation's mark in pixels: the point (radius 3.5 pt) or the range bar (caps 6 pt)."""
    scale = ax.figure.dpi / 72.0
    boxes = []
    for o in observations:
        (x0, y0), (x1, y1) = ax.transData.transform(
            [(o.die_area_mm2, 100 * o.yield_low), (o.die_area_mm2, 100 * o.yield_high)]
        )
        dx, dy = (3.5 * scale, 3.5 * scale) if o.is_point else (6.0 * scale, 1.0 * scale)
        boxes.append(Bbox.from_extents(x0 - dx, y0 - dy, x1 + dx, y1 + dy))
    return boxes


def _check_observation_labels(ax: Any, observations: list[Observation]) -> None:
    """Every label beside its own marker, nearer to it than to any other; none overlapping."""
    renderer = _draw(ax)
    markers = _marker_boxes(ax, observations)
    frame = ax.get_window_extent(renderer)
    texts = {t.get_text(): t for t in ax.texts}
    boxes = []
    for o, own in zip(observations, markers, strict=True):
        box = _text_box(texts[f"{o.name} ({o.yield_text})"], renderer)
        boxes.append(box)
        assert _points(ax, _gap(box, own)) <= 8.0, (o.name, _points(ax, _gap(box, own)))
        for other in markers:
            if other is not own:
                assert not _overlaps(box, other), o.name
                assert _gap(box, other) > _gap(box, own), (o.name, "nearer another marker")
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1, o.name
        assert frame.y0 <= box.y0 and box.y1 <= frame.y1, o.name
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not _overlaps(a, b)


def _report_points() -> list[Observation]:
    """The report's yield-curve points: the reported yields and Morgan Stanley's ~30 %."""
    from waferlab.scenarios import load_scenario

    points = [o for o in DATA if o.status == "reported"]
    ms = load_scenario("morgan-stanley-2025").funnel_inputs().die_yield
    points.append(
        Observation("910B (Morgan Stanley)", 665.61, ms, ms, source="t", status="forecast")
    )
    return points


# --------------------------------------------------------------------------- yield curves


def test_report_yield_curve_labels_sit_by_their_own_markers() -> None:
    # The review's case: GA100 (826 mm², 41.5 %) on the TSMC curve, the FT's 40 % and
    # Morgan Stanley's 30 % at the 910B's 665.61 mm², Kirin's and A12's ranges.
    tsmc = select(DATA, process="TSMC N7")
    smic = select(DATA, process="SMIC N+2")
    curves = [
        fit_yield_model(select(tsmc, names=["GA100"]), "murphy"),
        fit_yield_model(select(smic, names=["910B"]), "murphy"),
        fit_yield_model(smic, "negative_binomial", fixed={"alpha": 1.0}),
        ("murphy", {D0: 0.231, "gross_yield": 0.77}),
    ]
    points = _report_points()
    ax = plot_yield_curves(curves, observations=points)
    _check_observation_labels(ax, points)
    # drawn again at another size (a layout after plotting), they are placed anew
    ax.figure.set_size_inches(6.5, 4.5)
    _check_observation_labels(ax, points)


def test_calibrate_panels_keep_labels_by_their_markers_after_the_layout() -> None:
    # `waferlab calibrate --plot` draws one panel per process, then lays the figure out
    # (tight_layout with the legends below): the labels are placed for the final layout.
    fig, axes = plt.subplots(1, 2, figsize=(15.0, 7.0))
    panels = [select(DATA, process="TSMC N7"), select(DATA, counts=None, include_forecasts=True)]
    panels[1] = tuple(o for o in panels[1] if o.process == "SMIC N+2")
    for ax, observations in zip(axes, panels, strict=True):
        fit = fit_yield_model(observations[:1], "poisson")
        plot_yield_curves([fit], observations=observations, ax=ax)
    fig.tight_layout()
    fig.set_size_inches(15.0, 4.5)  # and a smaller canvas still
    for ax, observations in zip(axes, panels, strict=True):
        _check_observation_labels(ax, list(observations))


def _capture_plots(monkeypatch: Any, module: str) -> list[Any]:
    """Keep the axes a CLI command would save (drawn, not written, not closed)."""
    captured: list[Any] = []
    monkeypatch.setattr(f"waferlab.cli.{module}.save_plot", lambda ax, path: captured.append(ax))
    return captured


def _data_boxes(ax: Any, renderer: Any) -> list[Bbox]:
    boxes = [t.get_window_extent(renderer) for t in ax.texts if t.get_text()]
    boxes += [p.get_window_extent(renderer) for p in ax.patches]
    return boxes


def _legend_clear(ax: Any) -> None:
    """The legend of ``ax`` covers no text, bar, marker or curve of it."""
    renderer = _draw(ax)
    legend = ax.get_legend()
    box = legend.get_window_extent(renderer)
    for other in _data_boxes(ax, renderer):
        assert not _overlaps(box, other)
    for line in ax.get_lines():
        path = line.get_transform().transform_path(line.get_path())
        assert not path.intersects_bbox(box, filled=False), line.get_label()
        assert not box.count_contains(path.vertices), line.get_label()


def test_calibrate_plot_legends_cover_no_label_or_curve(monkeypatch: Any) -> None:
    from waferlab.cli.main import cli

    figures = _capture_plots(monkeypatch, "calibrate")
    result = CliRunner().invoke(cli, ["calibrate", "--plot", "c.png"])
    assert result.exit_code == 0, result.output
    (first,) = figures
    axes = first.figure.axes
    assert [ax.get_title() for ax in axes] == ["TSMC N7", "SMIC N+2"]
    for ax in axes:
        assert any(t.get_text().startswith("A12") for t in axes[0].texts)
        _legend_clear(ax)


def test_calibrate_plot_puts_at_most_two_panels_in_a_row(monkeypatch: Any) -> None:
    from waferlab.cli.main import cli

    figures = _capture_plots(monkeypatch, "calibrate")
    args = ["calibrate", "--counts", "all", "--include-forecasts", "--plot", "c.png"]
    assert CliRunner().invoke(cli, args).exit_code == 0
    axes = figures[0].figure.axes
    assert len(axes) == 4
    columns = {round(ax.get_position().x0, 3) for ax in axes}
    assert len(columns) == 2
    for ax in axes:
        _legend_clear(ax)


# --------------------------------------------------------------------------- timeline


def _ramp(start: str = "2025-01", months: int = 36) -> Any:
    from waferlab.timeline import monthly

    return run_timeline(
        FunnelInputs(
            wafer_starts_per_month=monthly(np.linspace(20_000, 50_000, months)),
            months=months, start_month=start, gross_dies_per_wafer=80, die_yield=0.2,
            dies_per_package=2, packaging_yield=0.75,
        )
    )  # fmt: skip


def _cumulative_panel(ax: Any) -> Any:
    (other,) = [a for a in ax.get_shared_x_axes().get_siblings(ax) if a is not ax]
    return other


def _published_marks(ax: Any) -> list[Any]:
    return [line for line in ax.get_lines() if line.get_marker() == "D"]


def test_timeline_has_two_panels_one_scale_each() -> None:
    timeline = _ramp()
    ax = plot_timeline(timeline, by="month", published=[("2025", 805_000, "ascend_units_2025")])
    renderer = _draw(ax)
    cumulative = _cumulative_panel(ax)
    # no twin axes: each panel has its own area, per period above the cumulative one
    top, bottom = ax.get_window_extent(renderer), cumulative.get_window_extent(renderer)
    assert not _overlaps(top, bottom) and top.y0 > bottom.y1
    assert len(ax.figure.axes) == 2
    assert ax.get_ylabel() == "finished units per month"
    assert cumulative.get_ylabel() == "cumulative finished units"
    # the bars' heights are the monthly units; the line, their running total
    heights = [p.get_height() for p in ax.patches if p.get_width() == pytest.approx(0.8)]
    np.testing.assert_allclose(heights, timeline.final_units[0])
    (line,) = [x for x in cumulative.get_lines() if len(x.get_xdata()) == 36]
    np.testing.assert_allclose(line.get_ydata(), np.cumsum(timeline.final_units[0]))
    # the published 805,000 is a marker of the cumulative panel only
    assert _published_marks(ax) == []
    (mark,) = _published_marks(cumulative)
    assert mark.get_xdata()[0] == 11  # 2025-12, the end of the year it counts
    assert mark.get_ydata()[0] == pytest.approx(805_000)  # nothing before 2025


def test_timeline_published_label_compares_the_calendar_year_totals() -> None:
    timeline = _ramp()
    ax = plot_timeline(timeline, by="quarter", published=[("2025", 805_000, "ascend_units_2025")])
    cumulative = _cumulative_panel(ax)
    model_2025 = float(timeline.final_units[0, :12].sum())
    (label,) = [t for t in cumulative.texts if "805,000" in t.get_text()]
    text = label.get_text()
    assert "ascend_units_2025" in text and "in 2025" in text
    assert f"{model_2025:,.0f}" in text
    # the dotted gap runs from the published total to the model's, at the end of 2025
    (gap,) = [x for x in cumulative.get_lines() if x.get_linestyle() == ":"]
    assert sorted(gap.get_ydata()) == pytest.approx(sorted([805_000, model_2025]))
    names = [t.get_text() for t in ax.get_legend().get_texts()]
    assert sum("published" in n for n in names) == 1
    assert any("cumulative" in n for n in names)
    renderer = _draw(ax)
    assert _overlaps(_text_box(label, renderer), cumulative.get_window_extent(renderer))


def test_timeline_published_total_stacks_on_the_years_before() -> None:
    # from 2024-01: the 2025 total is drawn on top of the model's 2024 cumulative count
    timeline = _ramp("2024-01", 24)
    ax = plot_timeline(timeline, by="quarter", published=[("2025", 805_000, "ascend_units_2025")])
    cumulative = _cumulative_panel(ax)
    before = float(timeline.final_units[0, :12].sum())
    (mark,) = _published_marks(cumulative)
    assert mark.get_xdata()[0] == 7  # 2025-Q4
    assert mark.get_ydata()[0] == pytest.approx(before + 805_000)
    (label,) = cumulative.texts
    assert f"{before:,.0f} before 2025" in label.get_text()


def test_timeline_leaves_out_a_year_the_horizon_only_partly_covers() -> None:
    # from 2025-07 the horizon holds half of 2025: no calendar-year comparison for it
    ax = plot_timeline(_ramp("2025-07", 18), published=[("2025", 805_000, "ascend_units_2025")])
    assert _published_marks(_cumulative_panel(ax)) == []
    assert not any("published" in t.get_text() for t in ax.get_legend().get_texts())


def test_timeline_title_says_1_month() -> None:
    inputs = FunnelInputs(wafer_starts_per_month=1_000, gross_dies_per_wafer=80, die_yield=0.2)
    timeline = run_timeline(inputs)
    assert plot_timeline(timeline).get_title(loc="left") == "Finished units per month over 1 month"


def test_timeline_splits_a_given_subplot_in_its_own_cell() -> None:
    _, (left, right) = plt.subplots(1, 2, figsize=(14, 6))
    out = plot_timeline(_ramp(), by="quarter", ax=right)
    assert out is right
    cumulative = _cumulative_panel(out)
    renderer = _draw(out)
    cell = left.get_window_extent(renderer)
    boxes = [panel.get_window_extent(renderer) for panel in (out, cumulative)]
    assert not _overlaps(*boxes)
    for box in boxes:
        assert not _overlaps(box, cell)


# --------------------------------------------------------------------------- uncertainty


def test_fan_chart_published_labels_stay_inside_the_axes() -> None:
    # published totals at the last period: their labels used to run off the right edge
    draws = np.random.default_rng(0).uniform(0.9e5, 1.3e5, (400, 12)).cumsum(axis=1)
    points = [(11, 805_000.0, "ascend_units_2025 (published)"), (11, 200_000.0, "BIS ceiling")]
    ax = plot_fan_chart(draws, published=points)
    renderer = _draw(ax)
    frame = ax.get_window_extent(renderer)
    boxes = [_text_box(t, renderer) for t in ax.texts]
    assert len(boxes) == 2
    for box, (x, y, _) in zip(boxes, points, strict=True):
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1
        px, py = ax.transData.transform((x, y))
        assert _points(ax, _gap(box, Bbox.from_extents(px, py, px, py))) <= 12.0
    assert not _overlaps(*boxes)


def test_fan_chart_shows_at_most_twelve_period_labels() -> None:
    draws = np.ones((10, 23)).cumsum(axis=1)
    ax = plot_fan_chart(draws, periods=[f"p{i}" for i in range(23)])
    assert len([t for t in ax.get_xticklabels() if t.get_text()]) <= 12


def test_tornado_legend_and_ticks_clear(monkeypatch: Any) -> None:
    # the die bank alone: two wide bars whose value labels reach the lower right corner,
    # on an axis of seven-digit numbers
    from waferlab.cli.main import cli

    figures = _capture_plots(monkeypatch, "uncertainty")
    args = ["uncertainty", "csis-2025-tsmc-die-bank", "--sensitivity", "tornado", "--plot", "t.png"]
    assert CliRunner().invoke(cli, args).exit_code == 0
    (ax,) = figures
    _legend_clear(ax)
    renderer = _draw(ax)
    ticks = [t.get_window_extent(renderer) for t in ax.get_xticklabels() if t.get_text()]
    assert len(ticks) >= 2
    room = 3.0 * ax.figure.dpi / 72.0
    for a, b in itertools.pairwise(ticks):
        assert b.x0 - a.x1 >= room  # at least 3 points apart


# --------------------------------------------------------------------------- funnel and cost


def test_funnel_legend_names_no_sliver_of_rounding() -> None:
    # 50,000 x 80 x 0.20000001 = 800,000.04 good dies: 400,000 packages and 0.02 of a
    # package's dies rounded away, which no bar can show
    result = run_funnel(
        FunnelInputs(
            wafer_starts_per_month=50_000, gross_dies_per_wafer=80, die_yield=0.20000001,
            dies_per_package=2, packaging_yield=0.75,
        )
    )  # fmt: skip
    assert 0 < max(s.not_lost for s in result.stages) < 0.5
    ax = plot_funnel(result)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["output", "loss"]
    _legend_clear(ax)


def test_funnel_legend_moves_off_the_last_bars_label() -> None:
    # every stage as long as the first, the last one's label "599  (lost 40%)" in the
    # lower right corner where the legend used to sit
    result = run_funnel(
        FunnelInputs(
            wafer_starts_per_month=1_000, gross_dies_per_wafer=1, die_yield=1.0,
            dies_per_package=1, packaging_yield=0.999, test_yield=0.6,
        )
    )  # fmt: skip
    ax = plot_funnel(result)
    assert any(t.get_text().startswith("599  (lost 40%)") for t in ax.texts)
    _legend_clear(ax)


def test_cost_plot_omits_an_all_in_figure_that_reads_as_the_total() -> None:
    from waferlab.economics import cost_breakdown
    from waferlab.plotting import plot_cost_breakdown
    from waferlab.scenarios import load_scenario

    # the TSMC counterfactual leaves a fraction of a die over: all-in is a hair above
    scenario = load_scenario("tsmc-n7-counterfactual")
    breakdown = cost_breakdown(run_funnel(scenario.funnel_inputs()), scenario.cost_inputs())
    total, all_in = breakdown.cost_per_tested_unit_usd, breakdown.all_in_cost_per_tested_unit_usd
    assert all_in > total and round(all_in) == round(total)
    ax = plot_cost_breakdown(breakdown)
    assert not any("all-in" in t.get_text() for t in ax.texts)
