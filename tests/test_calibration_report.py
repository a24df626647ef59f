"""The report's yields under every model: compare_models and feasible_range.

The claims checked here are qualitative statements about the published yields
(SOURCES.md §1, CSIS report "R"): GA100 41.5 % at 826 mm², A12 ≥ 90 % at
83.27 mm² (TSMC N7); 910B 20 % at 665.61 mm², phone SoC 50–70 % at ≈ 107 mm²
(SMIC N+2). Feasible ranges are checked against two other computations: the
closed form for Poisson with a gross yield, and a dense grid of one-parameter
fits.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from waferlab.calibration import (
    FeasibleRange,
    ModelComparison,
    Observation,
    compare_models,
    feasible_range,
    fit_yield_model,
    load_dataset,
    select,
)
from waferlab.errors import CalibrationError, InvalidParameterError, UnknownNameError
from waferlab.output import to_json
from waferlab.yield_models import YIELD_MODELS, die_yield

D0 = "defect_density_per_cm2"
DATA = load_dataset("csis-2025")
TSMC = select(DATA, process="TSMC N7")
SMIC = select(DATA, process="SMIC N+2")
GA100, A12 = TSMC
B910, KIRIN = SMIC


@pytest.fixture(scope="module")
def smic_comparison() -> ModelComparison:
    return compare_models(SMIC)


@pytest.fixture(scope="module")
def tsmc_comparison() -> ModelComparison:
    return compare_models([GA100], held_out=[A12])


# --------------------------------------------------------------------------- #
# (a) TSMC: D0 from the GA100 predicts the A12
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("model", ["poisson", "murphy"])
def test_ga100_d0_predicts_a12_at_least_90_percent(model: str) -> None:
    # R: the defect rate behind 41.5 % for the GA100 gives >= 90 % for the A12.
    fit = fit_yield_model([GA100], model)
    assert fit.predict(A12.die_area_mm2) >= 0.90


def test_tsmc_comparison_held_out_a12(tsmc_comparison: ModelComparison) -> None:
    rows = {(r["variant"], tuple(r["free"])): r for r in tsmc_comparison.rows()}
    for model in ("poisson", "murphy"):
        row = rows[(model, (D0,))]
        assert row["all_met"] and row["held_out_met"]
        assert row["predictions"]["A12"] >= 0.90
    # Strong clustering (NB α = 0.5) flattens the curve: the A12 falls below 90 %.
    assert not rows[("negative_binomial α=0.5", (D0,))]["held_out_met"]
    assert "A12*" in tsmc_comparison.table()


def test_tsmc_both_points_fit_by_poisson_and_murphy() -> None:
    comparison = compare_models(TSMC, models=["poisson", "murphy"])
    for model in ("poisson", "murphy"):
        assert comparison.find(model).all_met


# --------------------------------------------------------------------------- #
# (b) SMIC: one D0 from the 910B over-predicts the phone SoC
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("model", ["poisson", "murphy"])
def test_910b_d0_predicts_phone_soc_above_70_percent(model: str) -> None:
    fit = fit_yield_model([B910], model)
    assert fit.predict(KIRIN.die_area_mm2) > 0.70


def test_smic_needs_clustering_or_gross_yield(smic_comparison: ModelComparison) -> None:
    # D0 alone: Poisson and Murphy miss; Seeds (NB α = 1) meets both.
    assert not smic_comparison.find("poisson").all_met
    assert not smic_comparison.find("murphy").all_met
    assert smic_comparison.find("seeds").all_met
    assert smic_comparison.find("negative_binomial", alpha=1.0).all_met
    # Poisson with an area-independent gross yield below 1 meets both.
    poisson_y0 = smic_comparison.find("poisson", (D0, "gross_yield"))
    assert poisson_y0.all_met and poisson_y0.parameters["gross_yield"] < 1.0
    assert poisson_y0.constraint == "under-determined" and not poisson_y0.unique
    # NB with α free meets both, at a small α (strong clustering).
    nb = smic_comparison.find("negative_binomial", (D0, "alpha"))
    assert nb.all_met and nb.parameters["alpha"] < 3.0


def test_comparison_covers_every_model_and_both_free_sets(
    smic_comparison: ModelComparison,
) -> None:
    seen = {(r.model, r.free) for r in smic_comparison.results}
    # every model except one that restates another (bose_einstein_per_layer is
    # bose_einstein at D0 = n·D_layer: its rows would repeat those)
    restated = {name for name, m in YIELD_MODELS.items() if m.equivalent_to}
    assert restated == {"bose_einstein_per_layer"}
    for model in YIELD_MODELS:
        if model in restated:
            assert not any(r.model == model for r in smic_comparison.results)
            continue
        assert (model, (D0,)) in seen
        assert (model, (D0, "gross_yield")) in seen
    assert ("negative_binomial", (D0, "alpha")) in seen
    alphas = {
        r.fixed.get("alpha") for r in smic_comparison.results if r.model == "negative_binomial"
    }
    assert {0.5, 1.0, 2.0, 5.0} <= alphas
    assert {r.model for r in smic_comparison.reconciling()} >= {"seeds", "poisson"}


def test_comparison_table_and_json(smic_comparison: ModelComparison) -> None:
    text = smic_comparison.table()
    lines = text.splitlines()
    assert lines[0].startswith("SMIC N+2: fitted to 910B 20 %")
    assert "Kirin 9000S" in lines[1] and "fit met" in lines[1] and "constraint" in lines[1]
    assert "50–70" in text and "✗" in text
    data = json.loads(to_json(smic_comparison))
    assert data["process"] == "SMIC N+2"
    assert len(data["rows"]) == len(smic_comparison.results)
    first = data["rows"][0]
    assert set(first) >= {"model", "free", "parameters", "predictions", "all_met", "cost"}
    assert set(first["predictions"]) == {"910B", "Kirin 9000S"}


def test_comparison_options_and_errors() -> None:
    only = compare_models(SMIC, models=["moore"], free_sets=[(D0,)])
    assert [(r.model, r.free) for r in only.results] == [("moore", (D0,))]
    layers = compare_models(SMIC, models=["bose_einstein"], n_layers=(2, 6), free_sets=[(D0,)])
    assert [r.parameters["n_layers"] for r in layers.results] == [2, 6]
    # One observation: two-parameter sets are skipped, not failed.
    single = compare_models([B910], models=["poisson"])
    assert [r.free for r in single.results] == [(D0,)]
    with pytest.raises(CalibrationError, match="no model could be fitted"):
        compare_models([B910], models=["poisson"], free_sets=[(D0, "gross_yield")])
    with pytest.raises(UnknownNameError):
        compare_models(SMIC, models=["gauss"])
    with pytest.raises(InvalidParameterError, match="alphas"):
        compare_models(SMIC, alphas=(0.0,))
    with pytest.raises(InvalidParameterError, match="held_out"):
        compare_models(SMIC, held_out=["A12"])  # type: ignore[list-item]
    with pytest.raises(KeyError):
        only.find("poisson")


# --------------------------------------------------------------------------- #
# Feasible ranges
# --------------------------------------------------------------------------- #


def test_poisson_gross_yield_range_matches_closed_form() -> None:
    # Poisson, tolerance 0: Y0·e^(−D0·A) = 0.20 at A = 6.6561 cm² and in
    # [0.5, 0.7] at 1.07 cm². Dividing, e^(D0·ΔA) ∈ [2.5, 3.5] with
    # ΔA = 5.5861 cm², and Y0 = 0.2·(ratio)^(6.6561/5.5861).
    result = feasible_range(SMIC, "poisson", "gross_yield", tolerance=0.0)
    exponent = 6.6561 / (6.6561 - 1.07)
    assert result.low == pytest.approx(0.2 * 2.5**exponent, rel=1e-9)
    assert result.high == pytest.approx(0.2 * 3.5**exponent, rel=1e-9)
    d0_low = math.log(2.5) / 5.5861
    assert result.defect_density_per_cm2[0] == pytest.approx((d0_low, d0_low), rel=1e-8)
    assert not result.open_low and not result.open_high


def _grid_scan(model: str, parameter: str, values: np.ndarray) -> np.ndarray:
    """Second method: a one-parameter D0 fit at every grid value; met or not."""
    return np.array(
        [fit_yield_model(SMIC, model, fixed={parameter: float(v)}).all_met for v in values]
    )


@pytest.mark.parametrize(
    ("model", "parameter", "grid"),
    [
        ("poisson", "gross_yield", np.linspace(0.3, 1.0, 71)),
        ("negative_binomial", "alpha", np.geomspace(0.1, 20.0, 61)),
        ("murphy", "gross_yield", np.linspace(0.3, 1.0, 71)),
    ],
)
def test_feasible_range_agrees_with_grid_of_fits(
    model: str, parameter: str, grid: np.ndarray
) -> None:
    result = feasible_range(SMIC, model, parameter)
    met = _grid_scan(model, parameter, grid)
    assert met.any() and not met.all()
    inside = np.array([result.contains(float(v)) for v in grid])
    # Away from the ends (one grid step), both methods agree point by point.
    step = np.diff(grid).max()
    far = np.array([min(abs(v - e) for iv in result.intervals for e in iv) > step for v in grid])
    np.testing.assert_array_equal(met[far], inside[far])
    # And the grid's feasible points lie within one step of the computed range.
    assert grid[met].min() >= result.low - step
    assert grid[met].max() <= result.high + step


def test_smic_parameter_ranges_for_the_report() -> None:
    alpha = feasible_range(SMIC, "negative_binomial", "alpha")
    assert len(alpha.intervals) == 1
    assert alpha.contains(1.0) and not alpha.contains(5.0) and not alpha.contains(0.3)
    gross = feasible_range(SMIC, "poisson", "gross_yield")
    assert 0.5 < gross.low < gross.high < 0.95
    seeds = feasible_range(SMIC, "seeds", "gross_yield")
    assert seeds.open_high and seeds.high == 1.0
    assert "alpha in [" in alpha.text()
    data = json.loads(to_json(alpha))
    assert data["parameter"] == "alpha" and len(data["defect_density_per_cm2"]) == 2


def test_defect_density_range_with_everything_fixed() -> None:
    # Seeds, Y0 = 1: 910B at 20 % ± 1 % (log) and Kirin in 50–70 % ± 1 %;
    # D0 bounds from the closed form λ = (1 − y)/y per observation.
    result = feasible_range(SMIC, "seeds", D0)
    lam = [(1 - y) / y for y in (0.2 * math.exp(0.01), 0.2 * math.exp(-0.01))]
    expected = (lam[0] / 6.6561, lam[1] / 6.6561)
    assert result.intervals[0] == pytest.approx(expected, rel=1e-9)
    empty = feasible_range(SMIC, "poisson", D0)
    assert empty.is_empty and math.isnan(empty.low) and "no defect_density" in empty.text()


def test_empty_and_open_ranges() -> None:
    impossible = [
        Observation("big", 600.0, 0.5, 0.5, source="t"),
        Observation("small", 100.0, 0.4, 0.4, source="t"),
    ]
    assert feasible_range(impossible, "negative_binomial", "alpha").is_empty
    # Two points on a Poisson curve: α large enough behaves like Poisson.
    d0 = 0.2
    poisson_like = [
        Observation("a", 100.0, math.exp(-d0), math.exp(-d0), source="t"),
        Observation("b", 500.0, math.exp(-5 * d0), math.exp(-5 * d0), source="t"),
    ]
    wide = feasible_range(poisson_like, "negative_binomial", "alpha")
    assert isinstance(wide, FeasibleRange) and wide.open_high and not wide.open_low


@settings(max_examples=30, deadline=None)
@given(
    d0=st.floats(0.05, 1.0),
    gross=st.floats(0.3, 1.0),
    small=st.floats(20.0, 200.0),
    ratio=st.floats(2.0, 10.0),
    width=st.floats(0.02, 0.2),
)
def test_true_gross_yield_lies_in_the_feasible_range(
    d0: float, gross: float, small: float, ratio: float, width: float
) -> None:
    # Observations made from a known Poisson curve with gross yield: a point at
    # the large die and an interval around the truth at the small one. The
    # true Y0 must be feasible, and the fit at it must meet both.
    large = small * ratio
    y_large = die_yield("poisson", large, d0, gross_yield=gross)
    y_small = die_yield("poisson", small, d0, gross_yield=gross)
    obs = [
        Observation("large", large, y_large, y_large, source="t"),
        Observation(
            "small", small, y_small * (1 - width), min(1.0, y_small * (1 + width)), source="t"
        ),
    ]
    result = feasible_range(obs, "poisson", "gross_yield")
    assert result.contains(gross)
    assert fit_yield_model(obs, "poisson", fixed={"gross_yield": gross}).all_met


def test_tiny_alpha_overflow_is_infeasible_not_an_error() -> None:
    # At α = 1e-4 the D0 for 20 % is (1 + λ/α) = 0.2^(−1/α): beyond any float.
    wide = feasible_range(SMIC, "negative_binomial", "alpha", bounds=(1e-4, 10.0))
    default = feasible_range(SMIC, "negative_binomial", "alpha")
    assert len(wide.intervals) == len(default.intervals) == 1
    assert wide.intervals[0] == pytest.approx(default.intervals[0], rel=1e-9)


def test_feasible_range_errors() -> None:
    with pytest.raises(UnknownNameError, match="gross_yield"):
        feasible_range(SMIC, "poisson", "alpha")
    with pytest.raises(InvalidParameterError, match="not also fixed"):
        feasible_range(SMIC, "poisson", "gross_yield", fixed={"gross_yield": 0.9})
    with pytest.raises(InvalidParameterError, match="solved for"):
        feasible_range(SMIC, "poisson", "gross_yield", fixed={D0: 0.2})
    with pytest.raises(InvalidParameterError, match="bounds"):
        feasible_range(SMIC, "poisson", "gross_yield", bounds=(0.5, 1.5))
    with pytest.raises(InvalidParameterError, match="bounds"):
        feasible_range(SMIC, "negative_binomial", "alpha", bounds=(2.0, 1.0))
    with pytest.raises(InvalidParameterError, match="n_grid"):
        feasible_range(SMIC, "poisson", "gross_yield", n_grid=3)
