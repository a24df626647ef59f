"""Tests of plot_funnel and plot_cost_breakdown (structure of the drawn axes)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest

from waferlab.economics import CostInputs, cost_breakdown
from waferlab.errors import InvalidParameterError
from waferlab.funnel import FunnelInputs, run_funnel
from waferlab.output import save_figure_atomic
from waferlab.plotting import plot_cost_breakdown, plot_funnel


def csis(**changes: object):  # type: ignore[no-untyped-def]
    data: dict[str, object] = {
        "wafer_starts_per_month": 50_000,
        "gross_dies_per_wafer": 80,
        "die_yield": 0.2,
        "dies_per_package": 2,
        "packaging_yield": 0.75,
    }
    data.update(changes)
    return run_funnel(FunnelInputs.from_dict(data))


@pytest.fixture(autouse=True)
def _close_figures():  # type: ignore[no-untyped-def]
    yield
    plt.close("all")


def _texts(ax) -> str:  # type: ignore[no-untyped-def]
    parts = [t.get_text() for t in ax.texts]
    parts += [t.get_text() for t in ax.get_yticklabels()]
    parts += [ax.get_title(loc="left"), ax.get_xlabel()]
    return "\n".join(parts)


def test_funnel_plot_is_log_when_the_span_is_large() -> None:
    ax = plot_funnel(csis())
    assert ax.get_xscale() == "log"  # 4,000,000 dies vs 50,000 wafers
    text = _texts(ax)
    assert "[wafers]" in text and "[dies]" in text
    assert "300,000" in text and "binding constraint" in text
    assert "(lost 80%)" in text  # die-yield loss labelled


def test_funnel_plot_linear_on_request_and_small_span() -> None:
    assert plot_funnel(csis(), log=False).get_xscale() == "linear"
    small = csis(
        wafer_starts_per_month=10,
        gross_dies_per_wafer=2,
        die_yield=1.0,
        packaging_yield=1.0,
        dies_per_package=1,
    )
    assert plot_funnel(small).get_xscale() == "linear"


def test_funnel_plot_names_hbm_binding_and_the_stock() -> None:
    result = csis(
        months=12, die_bank_dies=2_900_000, hbm_stacks_per_package=8, hbm_stock_stacks=13e6
    )
    text = _texts(plot_funnel(result))
    assert "HBM-limited" in text and "binding constraint: HBM" in text
    assert "die bank" in text


def test_funnel_plot_draws_on_given_axes_and_saves(tmp_path) -> None:  # type: ignore[no-untyped-def]
    fig, ax = plt.subplots()
    assert plot_funnel(csis(), ax=ax) is ax
    path = save_figure_atomic(fig, tmp_path / "funnel.png")
    assert path.stat().st_size > 1000


def test_cost_plot_components_and_total() -> None:
    result = csis(hbm_stacks_per_package=8, test_yield=0.9)
    breakdown = cost_breakdown(
        result,
        CostInputs(
            wafer_cost_usd=13_000,
            hbm_cost_usd_per_stack=300,
            packaging_cost_usd_per_package=1000,
            test_cost_usd_per_unit=80,
        ),
    )
    ax = plot_cost_breakdown(breakdown)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == [
        "total",
        "silicon",
        "HBM",
        "packaging",
        "test",
        "packaging scrap",
        "test scrap",
    ]
    assert f"${breakdown.cost_per_tested_unit_usd:,.0f}" in _texts(ax)
    assert ax.get_xlabel() == "US dollars per tested unit"


def test_plots_reject_other_objects() -> None:
    with pytest.raises(InvalidParameterError, match="result"):
        plot_funnel({"stages": []})
    with pytest.raises(InvalidParameterError, match="breakdown"):
        plot_cost_breakdown(csis())


def test_example_script_runs_and_writes_figures(tmp_path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    import runpy
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "examples" / "funnel_910c.py"
    monkeypatch.chdir(tmp_path)
    runpy.run_path(str(script), run_name="__main__")
    out = capsys.readouterr().out
    assert "300,000" in out and "400,000" in out and "800,000" in out
    assert (tmp_path / "funnel_910c.png").stat().st_size > 1000
    assert (tmp_path / "cost_910c.png").stat().st_size > 1000


def _overlap(a, b) -> bool:  # type: ignore[no-untyped-def]
    return bool(a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1)


def test_cost_plot_title_and_notes_do_not_overlap_in_narrow_axes() -> None:
    # The review's case: a 1 x 2 grid at 10 x 4 inches, SMIC costs with an
    # H100-equivalent factor, and a die bank valued at $0.
    result = csis(
        hbm_stacks_per_package=8,
        compute_equivalent_factor=0.6,
        compute_equivalent_basis="measured",
        die_bank_dies=100_000,
        hbm_stock_stacks=1e6,
    )
    breakdown = cost_breakdown(
        result,
        CostInputs(
            wafer_cost_usd=13_552,
            hbm_cost_usd_per_stack=300,
            packaging_cost_usd_per_package=1150,
            test_cost_usd_per_unit=80,
        ),
    )
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    ax = plot_cost_breakdown(breakdown, ax=left)
    plot_funnel(result, ax=right)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    title = ax.title if ax.title.get_text() else ax._left_title  # type: ignore[attr-defined]
    title_box = title.get_window_extent(renderer)
    notes = [t for t in ax.texts if "per H100-equivalent" in t.get_text()]
    assert len(notes) == 1
    note_box = notes[0].get_window_extent(renderer)
    assert not _overlap(title_box, note_box)
    assert note_box.x1 <= ax.get_window_extent(renderer).x1 + 1  # wrapped inside the axes
    text = notes[0].get_text()
    assert "all-in" in text and "valued at $0" in text


def test_funnel_plot_says_the_bank_adds_nothing_when_hbm_binds() -> None:
    # SemiAnalysis's case in small: HBM allows fewer packages than the fab
    # alone, so the die bank adds no unit.
    result = csis(die_bank_dies=2_900_000, hbm_stacks_per_package=8, hbm_stock_stacks=1e6)
    assert result.fab_only_final_units == result.final_units
    text = _texts(plot_funnel(result))
    assert "adds no units while HBM is the limit" in text
    assert "fab alone" not in text


def test_cost_plot_never_prints_hundreds_of_digits() -> None:
    # die yield 1e-300: a good die costs 1e300 times a wafer's share; the die bank
    # (priced) keeps the funnel finishing units, so the silicon average is huge.
    import re

    result = csis(die_yield=1e-300, die_bank_dies=1000, wafer_starts_per_month=1e9)
    breakdown = cost_breakdown(
        result, CostInputs(wafer_cost_usd=1e9, die_bank_cost_usd_per_die=1.0)
    )
    ax = plot_cost_breakdown(breakdown)
    assert re.findall(r"\d[\d,]{24,}", _texts(ax)) == []
    assert "e+" in ax.get_title(loc="left")


def _legend_texts(ax) -> list[str]:  # type: ignore[no-untyped-def]
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_funnel_legend_names_only_what_is_drawn() -> None:
    # The CSIS chain loses dies and packages but keeps nothing in stock: no pale entry.
    assert _legend_texts(plot_funnel(csis())) == ["output", "loss"]
    # Half of the wafer starts go to other uses (capacity share 0.5): the pale part is drawn.
    shared = csis(capacity_share=0.5)
    assert shared.stages[0].not_lost == pytest.approx(25_000)
    assert _legend_texts(plot_funnel(shared))[-1] == "not lost: kept in stock or to other uses"
    # Nothing lost at all: only the output.
    perfect = csis(die_yield=1.0, packaging_yield=1.0)
    assert _legend_texts(plot_funnel(perfect)) == ["output"]


def test_timeline_published_point_is_in_the_legend_and_its_label_readable() -> None:
    # SemiAnalysis's 805,000 for 2025 (the semianalysis-2025-hbm-bound preset's
    # [published] ascend_units_2025), over a 12-month chain at CSIS's figures.
    from waferlab.funnel import run_timeline
    from waferlab.plotting import plot_timeline

    timeline = run_timeline(
        FunnelInputs(
            wafer_starts_per_month=50_000, months=12, start_month="2025-01",
            gross_dies_per_wafer=80, die_yield=0.2, dies_per_package=2, packaging_yield=0.75,
        )
    )  # fmt: skip
    ax = plot_timeline(timeline, by="quarter", published=[("2025", 805_000, "ascend_units_2025")])
    names = _legend_texts(ax)
    assert "published calendar-year total (lower panel)" in names
    assert "cumulative (lower panel)" in names
    (label,) = [t for t in ax.figure.axes[1].texts if "805,000" in t.get_text()]
    box = label.get_bbox_patch()
    assert box is not None and box.get_facecolor()[:3] == (1.0, 1.0, 1.0)
    # without published figures there is no such entry
    names = _legend_texts(plot_timeline(timeline, by="quarter"))
    assert not any("published" in name for name in names)
