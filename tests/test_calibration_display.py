"""Notebook display of calibration results: short reprs, HTML tables, DataFrames."""

from __future__ import annotations

import math
import sys

import pytest

from waferlab.calibration import compare_models, feasible_range, fit_yield_model, select
from waferlab.observations import load_dataset

SMIC = select(load_dataset("csis-2025"), process="SMIC N+2")


@pytest.fixture(scope="module")
def results():  # type: ignore[no-untyped-def]
    fit = fit_yield_model(SMIC, "poisson")
    comparison = compare_models(SMIC)
    alpha = feasible_range(SMIC, "negative_binomial", "alpha")
    return fit, comparison, alpha


def test_reprs_are_short_and_say_what_they_are(results) -> None:  # type: ignore[no-untyped-def]
    fit, comparison, alpha = results
    assert repr(fit).startswith("CalibrationResult(Poisson, D0 = 0.2")
    assert "2 observations" in repr(fit) and "0 of 2 met" in repr(fit)
    assert repr(comparison).startswith("ModelComparison('SMIC N+2', 2 observations")
    assert repr(alpha) == f"FeasibleRange({alpha.text()})"
    for r in results:
        assert len(repr(r)) <= 300


def test_html_tables(results) -> None:  # type: ignore[no-untyped-def]
    fit, comparison, alpha = results
    html = fit._repr_html_()
    kirin = 100.0 * math.exp(-fit.defect_density_per_cm2 * 107.0 / 100.0)  # Poisson, closed form
    assert html.startswith("<table>") and "Kirin 9000S" in html and f"{kirin:.1f} %" in html
    assert comparison._repr_html_().count("<tr>") == len(comparison.results) + 1
    assert alpha._repr_html_().count("<tr>") == len(alpha.intervals) + 1


def test_frames(results) -> None:  # type: ignore[no-untyped-def]
    pd = pytest.importorskip("pandas")
    fit, comparison, alpha = results
    frame = fit.to_frame()
    assert list(frame["observation"]) == ["910B", "Kirin 9000S"]
    assert frame["prediction"].tolist() == pytest.approx(list(fit.predictions))
    assert not frame["met"].any()
    table = comparison.to_frame()
    assert len(table) == len(comparison.results)
    # one column per observation, holding the same predictions as the results
    for k, result in enumerate(comparison.results):
        assert table.loc[k, "prediction Kirin 9000S"] == pytest.approx(result.predictions[1])
    ranges = alpha.to_frame()
    assert ranges[["low", "high"]].to_numpy().tolist() == [list(alpha.intervals[0])]
    assert isinstance(ranges, pd.DataFrame)


def test_pandas_is_not_imported_by_the_library() -> None:
    import subprocess

    code = "import waferlab.calibration, sys; print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
