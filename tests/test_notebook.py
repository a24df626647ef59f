"""Results in notebooks and pipelines: short reprs, HTML tables, PNG maps, DataFrames."""

from __future__ import annotations

import numpy as np
import pytest

from waferlab.geometry import SITE_FULL, SITE_PARTIAL, Die, Wafer, place_dies
from waferlab.harvest import harvest_bins
from waferlab.simulate import simulate_wafers
from waferlab.yield_models import YIELD_MODELS


@pytest.fixture(scope="module")
def die_map():  # type: ignore[no-untyped-def]
    return place_dies(Wafer(300.0, 3.0), Die(21.32, 31.22))


@pytest.fixture(scope="module")
def simulation(die_map):  # type: ignore[no-untyped-def]
    return simulate_wafers(
        die_map, 0.24, n_wafers=50, harvestable_fraction=0.4, n_blocks=25, max_bad_blocks=2, seed=1
    )


def _results(die_map, simulation):  # type: ignore[no-untyped-def]
    return [
        die_map,
        simulation,
        harvest_bins("poisson", 665.61, 0.2, harvestable_fraction=0.5),
        harvest_bins("poisson", np.linspace(1.0, 800.0, 1000), 0.2, harvestable_fraction=0.5),
        *YIELD_MODELS.values(),
    ]


def test_reprs_are_short_and_say_what_they_are(die_map, simulation) -> None:  # type: ignore[no-untyped-def]
    for result in _results(die_map, simulation):
        text = repr(result)
        assert len(text) <= 300, text
        assert text.startswith(type(result).__name__ + "(")
        assert "\n" not in text
    assert "85 full" in repr(die_map)
    assert "50 wafers x 85 dies" in repr(simulation)
    assert f"{simulation.mean_yield:.4f}" in repr(simulation)


def test_html_tables(die_map, simulation) -> None:  # type: ignore[no-untyped-def]
    for result in _results(die_map, simulation):
        page = result._repr_html_()
        assert page.startswith("<div") and "<table>" in page
    assert "gross_dies" in die_map._repr_html_()
    assert "mean_yield" in simulation._repr_html_()


def test_die_map_displays_as_a_png(die_map) -> None:  # type: ignore[no-untyped-def]
    png = die_map._repr_png_()
    assert png.startswith(b"\x89PNG")
    assert "data:image/png;base64," in die_map._repr_html_()


def test_die_map_frame_matches_arrays(die_map) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("pandas")
    df = die_map.to_frame()
    assert len(df) == die_map.state.size
    assert list(df.columns) == ["center_x_mm", "center_y_mm", "row", "col", "state"]
    assert int((df["state"] == "full").sum()) == die_map.gross_dies
    assert int((df["state"] == "partial").sum()) == die_map.partial_dies
    full = die_map.state == SITE_FULL
    np.testing.assert_array_equal(df["center_x_mm"].to_numpy()[full], die_map.center_x_mm[full])
    assert not np.any((df["state"] == "full").to_numpy() & (die_map.state == SITE_PARTIAL))


def test_simulation_frame_matches_arrays(simulation) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("pandas")
    df = simulation.to_frame()
    assert len(df) == simulation.n_wafers
    np.testing.assert_array_equal(df["good_dies"], simulation.good.sum(axis=1))
    np.testing.assert_array_equal(df["degraded_dies"], simulation.degraded.sum(axis=1))
    np.testing.assert_array_equal(df["defects"], simulation.defect_counts.sum(axis=1))
    assert df["wafer_yield"].mean() == pytest.approx(simulation.mean_yield)


def test_harvest_frame_is_one_row_per_case() -> None:
    pytest.importorskip("pandas")
    areas = np.linspace(1.0, 800.0, 7)
    bins = harvest_bins("poisson", areas, 0.2, harvestable_fraction=0.5)
    df = bins.to_frame()
    assert len(df) == 7
    np.testing.assert_allclose(df["die_area_mm2"], areas)
    np.testing.assert_allclose(df["fully_good"] + df["degraded"] + df["dead"], 1.0)
    # a plain loop of scalar calls gives the same rows
    for area, row in zip(areas, df.itertuples(), strict=True):
        one = harvest_bins("poisson", float(area), 0.2, harvestable_fraction=0.5)
        assert row.fully_good == pytest.approx(one.fully_good, rel=1e-12)
        assert row.degraded == pytest.approx(one.degraded, rel=1e-12)
