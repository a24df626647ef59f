"""Tests of waferlab.funnel: the report's arithmetic, stocks vs flows, constraints, validation.

Expected values come from the report (CSIS 2025, Allen) or from an independent
closed form written out in the test; none is pasted from a run of the code.
"""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from waferlab.errors import GeometryError, InvalidParameterError, UnknownNameError, WaferlabError
from waferlab.funnel import (
    BINDING_CONSTRAINTS,
    COMPUTE_EQUIVALENT_BASES,
    FunnelInputs,
    FunnelResult,
    run_funnel,
)
from waferlab.harvest import MAX_HARVEST_BLOCKS
from waferlab.output import to_csv, to_json

# The report's rounded inputs (CSIS 2025, Allen): 50,000 WPM, ~80 dies per wafer,
# ~20 % die yield, 2 dies per 910C, 75 % of packages surviving packaging.
CSIS_TARGET = {
    "wafer_starts_per_month": 50_000,
    "gross_dies_per_wafer": 80,
    "die_yield": 0.20,
    "dies_per_package": 2,
    "packaging_yield": 0.75,
}


def csis(**changes: object) -> FunnelInputs:
    return FunnelInputs.from_dict({**CSIS_TARGET, **changes})


# --- the report's numbers --------------------------------------------------


def test_csis_target_chain_reproduces_the_report_exactly() -> None:
    # CSIS 2025 (Allen): 50,000 × 80 = 4 M dies; × 20 % = 800,000 good; ÷ 2 = 400,000
    # packages before packaging loss; × 75 % = 300,000. Exact (whole numbers).
    result = run_funnel(csis())
    assert result.stage("wafer starts").quantity == 50_000
    assert result.stage("gross dies").quantity == 4_000_000
    assert result.stage("good dies").quantity == 800_000
    assert result.stage("packages before packaging loss").quantity == 400_000
    assert result.stage("good packages").quantity == 300_000
    assert result.final_units == 300_000
    assert result.binding_constraint == "none"
    assert result.leftover_dies == 0


def test_csis_current_capacity_scales_linearly() -> None:
    # CSIS 2025 (Allen): ~20,000 WPM now: 20,000 × 80 × 0.2 / 2 × 0.75 = 120,000.
    result = run_funnel(csis(wafer_starts_per_month=20_000))
    assert result.final_units == 20_000 * 80 * 0.2 / 2 * 0.75


def test_compute_equivalents_at_the_reports_60_percent() -> None:
    # CSIS 2025 (Allen): 910C ≈ 60 % of an H100 (a measured factor).
    result = run_funnel(csis(compute_equivalent_factor=0.6, compute_equivalent_basis="measured"))
    assert result.compute_equivalents == pytest.approx(300_000 * 0.6, rel=1e-12)
    last = result.stages[-1]
    assert last.unit == "H100-equivalents"
    assert "measured" in last.note
    assert result.final_units == 300_000  # finished chips, not equivalents


# --- stocks vs flows -----------------------------------------------------------


def test_months_multiply_flows_but_not_stocks() -> None:
    months = 12
    bank = 2_000_000  # CSIS 2025 (Allen): > 2 M TSMC-made 910B dies (a stock)
    result = run_funnel(csis(months=months, die_bank_dies=bank))
    good = 50_000 * 80 * 0.2 * months
    expected_packages = math.floor((good + bank) / 2)
    assert result.stage("good dies").quantity == pytest.approx(good, rel=1e-12)
    assert result.stage("die supply").quantity == pytest.approx(good + bank, rel=1e-12)
    assert result.packages == expected_packages
    assert result.final_units == pytest.approx(expected_packages * 0.75, rel=1e-12)
    assert result.includes_stock
    assert result.fab_only_final_units == pytest.approx(good / 2 * 0.75, rel=1e-12)
    assert result.final_units_per_month == pytest.approx(result.final_units / months)


def test_die_bank_alone_gives_the_reports_one_million_910c() -> None:
    # CSIS 2025 (Allen): > 2,000,000 dies, "enough for 1 million 910C" (2 dies each,
    # before packaging loss).
    result = run_funnel(csis(wafer_starts_per_month=0, die_bank_dies=2_000_000))
    assert result.packages == 1_000_000


def test_hbm_stock_and_flow_bind() -> None:
    # SemiAnalysis (Sep 2025): ~13 M stacks, 8 per package → ~1.6 M packages.
    stock, flow, months = 13_000_000, 100_000, 6
    result = run_funnel(
        csis(
            months=months,
            die_bank_dies=2_900_000,
            hbm_stacks_per_package=8,
            hbm_stock_stacks=stock,
            hbm_supply_stacks_per_month=flow,
        )
    )
    hbm_packages = (stock + flow * months) // 8
    die_packages = (50_000 * 80 * 0.2 * months + 2_900_000) // 2
    assert hbm_packages < die_packages
    assert result.binding_constraint == "hbm"
    assert result.packages == hbm_packages
    assert result.leftover_hbm_stacks == (stock + flow * months) - 8 * hbm_packages
    assert result.leftover_dies == pytest.approx(
        50_000 * 80 * 0.2 * months + 2_900_000 - 2 * hbm_packages, rel=1e-12
    )


def test_dies_bind_when_hbm_is_plentiful() -> None:
    result = run_funnel(csis(hbm_stacks_per_package=8, hbm_stock_stacks=1e9))
    assert result.binding_constraint == "dies"
    assert result.packages == 400_000
    assert result.leftover_hbm_stacks == 1e9 - 8 * 400_000


def test_hbm_unconstrained_when_no_supply_is_given() -> None:
    result = run_funnel(csis(hbm_stacks_per_package=8))
    assert result.binding_constraint == "none"
    assert result.leftover_hbm_stacks is None
    assert result.hbm_available_stacks is None


def test_packages_are_whole_units() -> None:
    # 3 wafers × 1 die × yield 1 = 3 dies; 2 per package → 1 package, 1 die left.
    result = run_funnel(
        FunnelInputs(
            wafer_starts_per_month=3, gross_dies_per_wafer=1, die_yield=1.0, dies_per_package=2
        )
    )
    assert result.packages == 1
    assert result.leftover_dies == 1
    # half a package's worth of dies is rounding kept in stock, not a loss
    stage = result.stage("packages before packaging loss")
    assert (stage.loss, stage.rounding, stage.carried_over) == (0.0, 0.5, 0.0)


# --- computed dies per wafer and yields ------------------------------------------


def test_yield_from_model_matches_closed_form_poisson() -> None:
    area, d0 = 665.61, 0.24
    inputs = csis(die_yield=None, defect_density_per_cm2=d0, die_area_mm2=area)
    result = run_funnel(inputs)
    expected = math.exp(-d0 * area / 100.0)  # Poisson, area in cm²
    assert result.die_yield == pytest.approx(expected, rel=1e-12)
    assert result.stage("good dies").quantity == pytest.approx(4_000_000 * expected, rel=1e-12)


def test_yield_from_negative_binomial_parameters() -> None:
    area, d0, alpha = 665.61, 0.3, 1.5
    inputs = csis(
        die_yield=None,
        defect_density_per_cm2=d0,
        die_area_mm2=area,
        yield_model="negative_binomial",
        yield_model_parameters={"alpha": alpha},
    )
    expected = (1 + d0 * area / 100.0 / alpha) ** -alpha
    assert run_funnel(inputs).die_yield == pytest.approx(expected, rel=1e-12)


def test_yield_from_the_per_layer_bose_einstein_model() -> None:
    # A scenario's yield_model takes the per-layer convention by name: 0.1 /cm² per
    # layer over 10 layers at 100 mm² is (1 + 0.1)^-10 (the SemiAnalysis calculator's
    # inputs), not bose_einstein's (1 + 0.01)^-10.
    inputs = csis(
        die_yield=None,
        defect_density_per_cm2=0.1,
        die_area_mm2=100.0,
        yield_model="bose_einstein_per_layer",
        yield_model_parameters={"n_layers": 10},
    )
    result = run_funnel(inputs)
    assert result.die_yield == pytest.approx(1.1**-10, rel=1e-12)
    assert "bose_einstein_per_layer yield at D_layer = 0.1/cm²" in result.stage("good dies").note
    with pytest.raises(InvalidParameterError, match="bose_einstein_per_layer needs n_layers"):
        csis(
            die_yield=None,
            defect_density_per_cm2=0.1,
            die_area_mm2=100.0,
            yield_model="bose_einstein_per_layer",
        )


def test_with_calibration_uses_the_fitted_parameters() -> None:
    # The shape of waferlab.calibration.CalibrationResult.
    fitted = SimpleNamespace(
        model="poisson", parameters={"defect_density_per_cm2": 0.2, "gross_yield": 0.9}
    )
    inputs = csis(die_area_mm2=500.0).with_calibration(fitted)
    assert inputs.die_yield is None
    expected = 0.9 * math.exp(-0.2 * 500.0 / 100.0)
    assert run_funnel(inputs).die_yield == pytest.approx(expected, rel=1e-12)


def test_harvest_bins_poisson_single_defect_closed_form() -> None:
    # Poisson, one defect allowed in the harvestable fraction h: the degraded
    # fraction is P(no defect outside) · P(exactly one inside) = λh·e^{−λ}.
    area, d0, h = 665.61, 0.24, 0.4
    lam = d0 * area / 100.0
    inputs = csis(
        die_yield=None, defect_density_per_cm2=d0, die_area_mm2=area, harvestable_fraction=h
    )
    result = run_funnel(inputs)
    assert result.degraded_fraction == pytest.approx(lam * h * math.exp(-lam), rel=1e-9)
    degraded = result.stage("degraded dies")
    assert degraded.quantity_in == pytest.approx(4_000_000 * (1 - math.exp(-lam)), rel=1e-12)
    # Not packaged by default: packages use the fully good dies only.
    assert result.packages == math.floor(4_000_000 * math.exp(-lam) / 2)


def test_degraded_dies_packaged_on_request() -> None:
    area, d0, h = 665.61, 0.24, 0.4
    lam = d0 * area / 100.0
    result = run_funnel(
        csis(
            die_yield=None,
            defect_density_per_cm2=d0,
            die_area_mm2=area,
            harvestable_fraction=h,
            package_degraded_dies=True,
        )
    )
    usable = 4_000_000 * (math.exp(-lam) + lam * h * math.exp(-lam))
    assert result.die_supply == pytest.approx(usable, rel=1e-9)


def test_harvest_with_given_yield_inverts_the_density() -> None:
    # Poisson: a 20 % yield at 665.61 mm² means λ = −ln 0.2; degraded = λh·0.2.
    h = 0.5
    result = run_funnel(csis(die_area_mm2=665.61, harvestable_fraction=h))
    assert result.die_yield == 0.2
    assert result.degraded_fraction == pytest.approx(-math.log(0.2) * h * 0.2, rel=1e-9)


def test_gross_dies_from_geometry() -> None:
    geometry = pytest.importorskip("waferlab.geometry")
    inputs = FunnelInputs(
        wafer_starts_per_month=1000,
        die_width_mm=21.32,
        die_height_mm=31.22,  # Ascend 910B, Tom's Hardware (2024) die shot
        scribe_mm=0.1,
        edge_exclusion_mm=3.0,
        die_yield=0.2,
    )
    result = run_funnel(inputs)
    expected = geometry.gross_dies_per_wafer(
        geometry.Wafer(diameter_mm=300.0, edge_exclusion_mm=3.0),
        geometry.Die(21.32, 31.22, scribe_x_mm=0.1),
    )
    assert result.gross_dies_per_wafer == expected
    assert result.gross_dies_source == "exact placement"
    # A 665.61 mm² die fits at most usable area / die area times.
    assert expected <= math.pi * 147.0**2 / (21.32 * 31.22)


# --- conservation ----------------------------------------------------------------

fractions = st.floats(0.0, 1.0)
counts = st.floats(0.0, 1e6)


@st.composite
def funnel_inputs(draw: st.DrawFn) -> FunnelInputs:
    harvest = draw(st.none() | st.floats(0.0, 1.0))
    use_model = harvest is not None or draw(st.booleans())
    return _inputs(draw, harvest, use_model)


def _inputs(draw: st.DrawFn, harvest: float | None, use_model: bool) -> FunnelInputs:
    factor = draw(st.none() | st.floats(0.0, 5.0))
    return FunnelInputs(
        wafer_starts_per_month=draw(counts),
        capacity_share=draw(fractions),
        months=draw(st.integers(1, 36)),
        gross_dies_per_wafer=draw(st.floats(0.0, 3000.0)),
        die_area_mm2=draw(st.floats(1.0, 900.0)),
        die_yield=None if use_model else draw(fractions),
        defect_density_per_cm2=draw(st.floats(0.0, 2.0)) if use_model else None,
        harvestable_fraction=harvest,
        package_degraded_dies=harvest is not None and draw(st.booleans()),
        dies_per_package=draw(st.integers(1, 8)),
        hbm_stacks_per_package=draw(st.integers(0, 12)),
        hbm_stock_stacks=draw(st.none() | counts),
        hbm_supply_stacks_per_month=draw(st.none() | counts),
        die_bank_dies=draw(counts),
        packaging_yield=draw(fractions),
        test_yield=draw(fractions),
        compute_equivalent_factor=factor,
        compute_equivalent_basis=None
        if factor is None
        else draw(st.sampled_from(sorted(COMPUTE_EQUIVALENT_BASES))),
    )


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


@settings(max_examples=150, deadline=None)
@given(funnel_inputs())
def test_no_stage_creates_units(inputs: FunnelInputs) -> None:
    result = run_funnel(inputs)
    for stage in result.stages:
        assert stage.quantity >= 0 and stage.loss >= -1e-6, stage
        assert min(stage.allocated, stage.carried_over, stage.rounding) >= -1e-6, stage
        assert stage.quantity <= stage.quantity_in + 1e-6, stage
        assert _close(stage.quantity_in, stage.quantity + stage.loss + stage.not_lost), stage
    # Each stage's input is what the previous stage delivered (in the stage's unit).
    by_name = {s.name: s for s in result.stages}
    assert _close(by_name["gross dies"].quantity_in, result.wafers * result.gross_dies_per_wafer)
    assert _close(by_name["good dies"].quantity_in, by_name["gross dies"].quantity)
    pkg = by_name["packages before packaging loss"]
    assert _close(pkg.quantity_in, result.die_supply / inputs.dies_per_package)
    assert result.packages * inputs.dies_per_package <= result.die_supply + 1e-6
    if result.hbm_available_stacks is not None:
        assert result.packages * inputs.hbm_stacks_per_package <= result.hbm_available_stacks + 1e-6
    assert _close(by_name["good packages"].quantity_in, pkg.quantity)
    assert _close(by_name["tested units"].quantity_in, by_name["good packages"].quantity)
    assert result.final_units <= result.packages + 1e-6
    assert result.fab_only_final_units <= result.final_units + 1e-6
    assert result.binding_constraint in BINDING_CONSTRAINTS
    # Whole packages.
    assert result.packages == math.floor(result.packages)
    # Dies are conserved: packaged + left over = supply.
    assert _close(
        result.packages * inputs.dies_per_package + result.leftover_dies, result.die_supply
    )


@settings(max_examples=60, deadline=None)
@given(funnel_inputs(), st.floats(0.0, 1e6))
def test_more_wafers_never_give_fewer_units(inputs: FunnelInputs, extra: float) -> None:
    more = inputs.replace(wafer_starts_per_month=inputs.wafer_starts_per_month + extra)
    assert run_funnel(more).final_units >= run_funnel(inputs).final_units - 1e-6


# --- outputs ---------------------------------------------------------------------


def test_to_dict_is_json_with_the_contract_keys() -> None:
    result = run_funnel(csis(compute_equivalent_factor=0.6, compute_equivalent_basis="measured"))
    data = json.loads(to_json(result))
    assert data["final_units"] == 300_000
    assert data["binding_constraint"] == "none"
    assert data["inputs"]["wafer_starts_per_month"] == 50_000
    names = [s["name"] for s in data["stages"]]
    assert names == [
        "wafer starts",
        "gross dies",
        "good dies",
        "packages before packaging loss",
        "good packages",
        "tested units",
        "compute equivalents",
    ]
    for stage in data["stages"]:
        assert stage["key"] == stage["name"].replace(" ", "_")
        assert set(stage) == {
            "key",
            "name",
            "unit",
            "quantity_in",
            "quantity",
            "loss",
            "allocated",
            "carried_over",
            "rounding",
            "detail",
            "note",
        }
        assert stage["detail"]["code"]  # the note's numbers, structured


def test_stage_rows_and_table() -> None:
    result = run_funnel(csis(months=2))
    rows = result.stage_rows()
    assert rows[2]["quantity_per_month"] == 800_000
    text = to_csv(rows, list(rows[0]))
    assert text.splitlines()[0].startswith("stage,unit,quantity_in,quantity,loss")
    table = result.stage_table()
    assert "out per month" in table
    assert "1,600,000" in table  # good dies over 2 months
    assert "2 months" in result.summary()


def test_stage_lookup_error_lists_names() -> None:
    with pytest.raises(UnknownNameError, match="good_dies"):
        run_funnel(csis()).stage("no such stage")


def test_result_is_frozen() -> None:
    result = run_funnel(csis())
    assert isinstance(result, FunnelResult)
    with pytest.raises(AttributeError):
        result.final_units = 1.0  # type: ignore[misc]


# --- validation ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("wafer_starts_per_month", -1),
        ("wafer_starts_per_month", float("nan")),
        ("wafer_starts_per_month", "many"),
        ("capacity_share", 1.5),
        ("months", 0),
        ("months", 1.5),
        ("gross_dies_per_wafer", -80),
        ("die_yield", 1.01),
        ("die_yield", -0.1),
        ("dies_per_package", 0),
        ("dies_per_package", 2.5),
        ("hbm_stacks_per_package", -1),
        ("hbm_stock_stacks", -5),
        ("hbm_supply_stacks_per_month", float("inf")),
        ("die_bank_dies", -1),
        ("packaging_yield", 2),
        ("test_yield", -0.5),
        ("scribe_mm", -0.1),
        ("wafer_diameter_mm", 0),
        ("edge_exclusion_mm", -3),
        ("package_degraded_dies", "yes"),
        ("compute_equivalent_unit", ""),
    ],
)
def test_invalid_field_is_named(field: str, value: object) -> None:
    with pytest.raises(InvalidParameterError) as info:
        csis(**{field: value})
    assert info.value.parameter == field


def test_fraction_message_states_the_range() -> None:
    with pytest.raises(InvalidParameterError, match=r"packaging_yield must be in \[0, 1\]"):
        csis(packaging_yield=1.2)


def test_dies_per_wafer_or_geometry_required() -> None:
    with pytest.raises(InvalidParameterError, match="gross_dies_per_wafer"):
        csis(gross_dies_per_wafer=None)
    with pytest.raises(InvalidParameterError, match="die_height_mm"):
        csis(gross_dies_per_wafer=None, die_width_mm=20.0)


def test_yield_or_density_required_and_not_both() -> None:
    with pytest.raises(InvalidParameterError, match="die_yield"):
        csis(die_yield=None)
    with pytest.raises(InvalidParameterError, match="not both"):
        csis(defect_density_per_cm2=0.1, die_area_mm2=600.0)


def test_model_needs_an_area() -> None:
    with pytest.raises(InvalidParameterError, match="die_area_mm2"):
        csis(die_yield=None, defect_density_per_cm2=0.1)
    with pytest.raises(InvalidParameterError, match="die_area_mm2"):
        csis(harvestable_fraction=0.3)
    with pytest.raises(InvalidParameterError, match="not both"):
        csis(die_area_mm2=600.0, die_width_mm=20.0, die_height_mm=30.0)


def test_unknown_yield_model_lists_the_models() -> None:
    with pytest.raises(UnknownNameError, match="poisson") as info:
        csis(die_yield=None, defect_density_per_cm2=0.1, die_area_mm2=600.0, yield_model="gauss")
    assert info.value.parameter == "yield_model"


def test_yield_model_parameter_the_model_does_not_take() -> None:
    with pytest.raises(InvalidParameterError, match="alpha"):
        csis(
            die_yield=None,
            defect_density_per_cm2=0.1,
            die_area_mm2=600.0,
            yield_model_parameters={"alpha": 2.0},
        )
    with pytest.raises(InvalidParameterError, match="yield_model_parameters"):
        csis(yield_model_parameters=[1, 2])
    with pytest.raises(InvalidParameterError, match=r"yield_model_parameters\.alpha"):
        csis(yield_model_parameters={"alpha": "two"})


def test_compute_equivalent_basis_rules() -> None:
    with pytest.raises(InvalidParameterError, match="compute_equivalent_basis"):
        csis(compute_equivalent_factor=0.6)
    with pytest.raises(InvalidParameterError, match="compute_equivalent_basis"):
        csis(compute_equivalent_basis="measured")
    with pytest.raises(UnknownNameError, match="bf16-spec"):
        csis(compute_equivalent_factor=0.6, compute_equivalent_basis="vibes")


def test_harvest_block_rule_validation() -> None:
    with pytest.raises(InvalidParameterError, match="harvest_n_blocks"):
        csis(harvest_n_blocks=0)
    with pytest.raises(InvalidParameterError, match="harvest_n_blocks"):
        csis(harvest_max_bad_blocks=1)


def test_harvest_blocks_are_bounded_by_the_harvest_module() -> None:
    # A billion blocks used to make the funnel hang; the bound is the harvest
    # module's MAX_HARVEST_BLOCKS, and the message names the key and the range.
    with pytest.raises(InvalidParameterError) as info:
        csis(harvestable_fraction=0.5, harvest_n_blocks=1_000_000_000)
    assert str(info.value) == (
        f"harvest_n_blocks must be an integer in [1, {MAX_HARVEST_BLOCKS}] (got 1000000000)"
    )
    at_bound = csis(
        die_area_mm2=665.61, harvestable_fraction=0.5, harvest_n_blocks=MAX_HARVEST_BLOCKS
    )
    assert at_bound.harvest_n_blocks == MAX_HARVEST_BLOCKS


def test_bad_blocks_at_most_the_blocks() -> None:
    harvest = {"die_area_mm2": 665.61, "harvestable_fraction": 0.5, "harvest_n_blocks": 25}
    with pytest.raises(InvalidParameterError) as info:
        csis(**harvest, harvest_max_bad_blocks=26)
    assert str(info.value) == "harvest_max_bad_blocks must be an integer in [0, 25] (got 26)"
    assert csis(**harvest, harvest_max_bad_blocks=25).harvest_max_bad_blocks == 25


def test_harvest_bins_that_are_not_finite_are_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import waferlab.harvest

    def nan_bins(*args: object, **kwargs: object) -> SimpleNamespace:
        return SimpleNamespace(fully_good=0.2, degraded=math.nan, dead=math.nan)

    monkeypatch.setattr(waferlab.harvest, "harvest_bins", nan_bins)
    inputs = csis(die_area_mm2=665.61, harvestable_fraction=0.5, harvest_n_blocks=25)
    with pytest.raises(WaferlabError, match="could not be computed"):
        run_funnel(inputs)


def test_from_dict_rejects_unknown_keys_listing_valid_ones() -> None:
    with pytest.raises(UnknownNameError) as info:
        FunnelInputs.from_dict({**CSIS_TARGET, "wafers_per_month": 1})
    message = str(info.value)
    assert "wafers_per_month" in message
    assert "wafer_starts_per_month" in message and "packaging_yield" in message


def test_from_dict_requires_wafer_starts_and_a_mapping() -> None:
    with pytest.raises(InvalidParameterError, match="wafer_starts_per_month"):
        FunnelInputs.from_dict({"gross_dies_per_wafer": 80, "die_yield": 0.2})
    with pytest.raises(InvalidParameterError, match="mapping"):
        FunnelInputs.from_dict([("wafer_starts_per_month", 1)])  # type: ignore[arg-type]


def test_round_trip_through_to_dict() -> None:
    inputs = csis(yield_model_parameters={}, months=3)
    assert FunnelInputs.from_dict(inputs.to_dict()) == inputs
    assert set(FunnelInputs.field_names()) == set(inputs.to_dict())


def test_run_funnel_rejects_other_types() -> None:
    with pytest.raises(InvalidParameterError, match="inputs"):
        run_funnel(CSIS_TARGET)  # type: ignore[arg-type]


def test_inputs_are_hashable_copyable_and_picklable() -> None:
    import copy
    import pickle

    inputs = csis(
        die_yield=None,
        defect_density_per_cm2=0.1,
        die_area_mm2=600.0,
        yield_model="negative_binomial",
        yield_model_parameters={"alpha": 2.0},
    )
    assert pickle.loads(pickle.dumps(inputs)) == inputs
    assert copy.deepcopy(inputs) == inputs
    assert hash(inputs) == hash(inputs.replace())
    assert json.loads(to_json(inputs))["yield_model_parameters"] == {"alpha": 2.0}
    with pytest.raises(TypeError):
        inputs.yield_model_parameters["alpha"] = 3.0  # type: ignore[index]


@pytest.mark.parametrize(
    ("field", "value", "bound"),
    [
        ("wafer_starts_per_month", 1e300, "1e9"),
        ("wafer_starts_per_month", 1.000001e9, "1e9"),
        ("die_bank_dies", 2e12, "1e12"),
        ("hbm_stock_stacks", 1e13, "1e12"),
        ("hbm_supply_stacks_per_month", 1e13, "1e12"),
        ("gross_dies_per_wafer", 1e8, "1e7"),
        ("compute_equivalent_factor", 1e7, "1e6"),
    ],
)
def test_absurd_magnitudes_are_rejected_at_construction(
    field: str, value: float, bound: str
) -> None:
    changes: dict[str, object] = {field: value}
    if field == "compute_equivalent_factor":
        changes["compute_equivalent_basis"] = "measured"
    with pytest.raises(InvalidParameterError, match=f"{field} must be at most {bound}") as info:
        csis(**changes)
    assert info.value.parameter == field


def test_months_are_bounded_to_a_century() -> None:
    assert csis(months=1200).months == 1200
    with pytest.raises(InvalidParameterError, match="months"):
        csis(months=1201)


def test_the_largest_allowed_funnel_prints_as_a_readable_number() -> None:
    # 1e9 wafers a month x 1,200 months x 1e7 dies = 1.2e19 gross dies: finite,
    # and at most 26 characters with thousands separators.
    inputs = csis(wafer_starts_per_month=1e9, months=1200, gross_dies_per_wafer=1e7)
    result = run_funnel(inputs)
    assert result.stage("gross dies").quantity == pytest.approx(1e9 * 1200 * 1e7, rel=1e-12)
    assert max(len(word) for word in result.stage_table().split() if word[0].isdigit()) <= 26


def test_die_that_does_not_fit_is_a_geometry_error() -> None:
    # A 400 mm square cannot fit on a 300 mm wafer: an error, not 0 units.
    inputs = csis(gross_dies_per_wafer=None, die_width_mm=400.0, die_height_mm=400.0)
    with pytest.raises(GeometryError, match="400 x 400 mm die does not fit"):
        run_funnel(inputs)


def test_microscopic_die_is_rejected_before_placement() -> None:
    # 0.01 mm dies with 0.01 mm scribe: about 70,000 mm² / 0.0004 mm² = 1.7e8 > 1e7.
    inputs = csis(gross_dies_per_wafer=None, die_width_mm=0.01, die_height_mm=0.01, scribe_mm=0.01)
    with pytest.raises(InvalidParameterError, match="at most 1e7 dies"):
        run_funnel(inputs)


def test_default_model_parameters_are_shown_in_the_note_and_json() -> None:
    # Negative binomial without alpha uses alpha = 2 (the model's default); the
    # yield (1 + λ/2)^-2 with λ = 0.1 x 600 / 100 = 0.6 is 1 / 1.3² = 0.5917.
    inputs = csis(
        die_yield=None,
        defect_density_per_cm2=0.1,
        die_area_mm2=600.0,
        yield_model="negative_binomial",
    )
    result = run_funnel(inputs)
    assert result.die_yield == pytest.approx(1 / 1.3**2, rel=1e-12)
    assert "alpha = 2 (default)" in result.stage("good dies").note
    data = json.loads(to_json(result))
    assert data["yield_parameters"] == {
        "alpha": 2.0,
        "gross_yield": 1.0,
        "critical_area_fraction": 1.0,
    }
    given = run_funnel(inputs.replace(yield_model_parameters={"alpha": 4.0, "gross_yield": 0.9}))
    note = given.stage("good dies").note
    assert "alpha = 4," in note and "(default)" not in note and "gross_yield = 0.9" in note


def test_a_given_die_yield_reports_no_model_parameters() -> None:
    result = run_funnel(csis(yield_model="murphy"))
    assert result.yield_parameters == {}
    assert "yield model murphy is not used" in result.stage("good dies").note


def test_model_parameters_without_the_model_are_an_error() -> None:
    with pytest.raises(InvalidParameterError, match="die_yield is given, so the yield model"):
        csis(yield_model_parameters={"alpha": 2.0})


def test_missing_required_model_parameter_says_what_to_set() -> None:
    with pytest.raises(InvalidParameterError) as info:
        csis(
            die_yield=None,
            defect_density_per_cm2=0.1,
            die_area_mm2=600.0,
            yield_model="bose_einstein",
        )
    message = str(info.value)
    assert "yield model bose_einstein needs n_layers" in message
    assert "--set 'yield_model_parameters={n_layers=10}'" in message
    assert "None" not in message


@pytest.mark.parametrize(
    "changes",
    [
        {"defect_density_per_cm2": 0.2},
        {"die_yield": None},
        {"gross_dies_per_wafer": None},
        {"gross_dies_per_wafer": None, "die_width_mm": 20.0},
        {"die_yield": None, "defect_density_per_cm2": 0.1},
        {"compute_equivalent_factor": 0.6},
        {"compute_equivalent_basis": "measured"},
        {"die_area_mm2": 600.0, "die_width_mm": 20.0, "die_height_mm": 30.0},
    ],
)
def test_combination_messages_read_as_sentences(changes: dict[str, object]) -> None:
    with pytest.raises(InvalidParameterError) as info:
        csis(**changes)
    message = str(info.value)
    assert "None" not in message and "got " not in message, message


def test_both_yield_and_density_message_says_how_to_use_the_model() -> None:
    with pytest.raises(InvalidParameterError) as info:
        csis(defect_density_per_cm2=0.2)
    assert str(info.value) == (
        "give die_yield or defect_density_per_cm2, not both; to use the yield model, "
        "also remove die_yield (on the command line: --set die_yield=none)"
    )


def test_harvest_bins_need_a_model_with_a_harvest_formula() -> None:
    # Murphy and Moore have no partial-good formula (waferlab.harvest.HARVEST_MODELS):
    # the combination is rejected when the inputs are built, not when the funnel runs.
    with pytest.raises(InvalidParameterError, match="harvest bins"):
        FunnelInputs(
            wafer_starts_per_month=1000,
            gross_dies_per_wafer=80,
            yield_model="murphy",
            defect_density_per_cm2=0.2,
            harvestable_fraction=0.5,
            die_area_mm2=665.61,
        )


def test_invalid_model_parameter_names_the_table_and_value() -> None:
    with pytest.raises(InvalidParameterError) as info:
        csis(
            die_yield=None,
            defect_density_per_cm2=0.1,
            die_area_mm2=600.0,
            yield_model="bose_einstein",
            yield_model_parameters={"n_layers": 0},
        )
    assert str(info.value) == (
        "yield_model_parameters of yield model bose_einstein: "
        "n_layers must be an integer >= 1 (got 0.0)"
    )


def test_unknown_yield_model_is_rejected_even_when_die_yield_is_given() -> None:
    with pytest.raises(UnknownNameError, match="poisson"):
        csis(yield_model="murphey")


def test_block_limit_without_blocks_reads_as_a_sentence() -> None:
    with pytest.raises(InvalidParameterError) as info:
        csis(harvest_max_bad_blocks=1)
    assert str(info.value) == (
        "harvest_max_bad_blocks is given without harvest_n_blocks: give the number of blocks too"
    )


def test_summary_says_when_the_die_bank_adds_nothing() -> None:
    # HBM for 100,000 packages; the fab alone makes 400,000 packages' worth of dies.
    bound = run_funnel(
        csis(die_bank_dies=2_000_000, hbm_stacks_per_package=8, hbm_stock_stacks=800_000)
    )
    assert bound.final_units == bound.fab_only_final_units == 100_000 * 0.75
    assert "adds no units while HBM is the limit" in bound.summary()
    free = run_funnel(csis(die_bank_dies=2_000_000))
    assert "the fab flow alone gives 300,000" in free.summary()


@pytest.mark.parametrize(
    ("name", "value"), [("package_degraded_dies", True), ("harvest_n_blocks", 25)]
)
def test_harvest_settings_without_harvestable_fraction_are_refused(
    name: str, value: object
) -> None:
    # Without harvestable_fraction there is no degraded bin: the setting would do nothing.
    with pytest.raises(InvalidParameterError) as info:
        csis(**{name: value})
    assert str(info.value).startswith(f"{name} needs harvestable_fraction")
    # Explicitly off is not a conflict.
    assert csis(package_degraded_dies=False).package_degraded_dies is False


def test_one_off_stocks_are_the_stocks_the_funnel_draws_on() -> None:
    base = {"wafer_starts_per_month": 1_000, "gross_dies_per_wafer": 80, "die_yield": 0.2,
            "dies_per_package": 2}  # fmt: skip
    assert FunnelInputs(**base).one_off_stocks == ()
    # an HBM stock counts only when HBM is modelled (stacks per package > 0)
    assert FunnelInputs(**base, hbm_stock_stacks=1e6).one_off_stocks == ()
    both = FunnelInputs(**base, hbm_stacks_per_package=8, hbm_stock_stacks=1e6, die_bank_dies=5)
    assert both.one_off_stocks == ("die_bank", "hbm_stock")
    # draws: a stock present in any draw counts
    drawn = FunnelInputs(**base, die_bank_dies=np.array([0.0, 10.0]))
    assert drawn.one_off_stocks == ("die_bank",)
