"""Layout of the drawn figures: where labels, markers and legends land on the canvas.

Each check is geometric, on the window extents (pixels) of the artists after
a draw: a label beside its own marker and nearer to it than to any other, no
two labels or a label and a marker overlapping, legends clear of what is
drawn, tick labels apart, every mark of the timeline in a panel of its own
quantity. The expected values (totals of a year, a calendar span) are sums of
the monthly results, not numbers read off a plot.
"""

from __future__ import annotations

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
from waferlab.plotting import plot_yield_curves

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
