"""Tests of waferlab.economics: the cost ladder, scrap, the breakdown, CSET's wafer price.

Expected values are closed forms written out in each test (an independent
second computation) or published constants (CSET 2020: Khan & Mann, "AI Chips:
What They Are and Why They Matter", Appendix D).
"""

from __future__ import annotations

import dataclasses
import json
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from waferlab.economics import (
    NO_WAFER_PRICE_NOTE,
    CostInputs,
    MissingCostError,
    cost_breakdown,
    cset_wafer_cost_data,
    wafer_cost_from_capex,
)
from waferlab.errors import InvalidParameterError, UnknownNameError
from waferlab.funnel import FunnelInputs, run_funnel
from waferlab.output import to_json


def funnel(**changes: object):  # type: ignore[no-untyped-def]
    base: dict[str, object] = {
        "wafer_starts_per_month": 1000,
        "gross_dies_per_wafer": 10,
        "die_yield": 0.5,
        "dies_per_package": 2,
        "hbm_stacks_per_package": 4,
        "packaging_yield": 0.5,
        "test_yield": 0.8,
    }
    base.update(changes)
    return run_funnel(FunnelInputs.from_dict(base))


COSTS = CostInputs(
    wafer_cost_usd=1000.0,
    hbm_cost_usd_per_stack=100.0,
    packaging_cost_usd_per_package=200.0,
    test_cost_usd_per_unit=100.0,
)


def test_ladder_by_hand() -> None:
    # A wafer of $1,000 gives 10 gross dies ($100 each) and 5 good ones ($200).
    # A package: 2 dies ($400) + 4 stacks ($400) + packaging ($200) = $1,000.
    # Half survive packaging: $2,000 per good package. Test $100, 80 % pass:
    # (2,000 + 100) / 0.8 = $2,625 per tested unit.
    b = cost_breakdown(funnel(), COSTS)
    assert b.cost_per_wafer_usd == 1000.0
    assert b.cost_per_gross_die_usd == pytest.approx(100.0, rel=1e-12)
    assert b.cost_per_good_die_usd == pytest.approx(200.0, rel=1e-12)
    assert b.cost_per_package_usd == pytest.approx(1000.0, rel=1e-12)
    assert b.cost_per_good_package_usd == pytest.approx(2000.0, rel=1e-12)
    assert b.cost_per_tested_unit_usd == pytest.approx(2625.0, rel=1e-12)
    assert b.cost_per_compute_equivalent_usd is None


def test_breakdown_components_by_hand() -> None:
    b = cost_breakdown(funnel(), COSTS)
    parts = {c.name: c.usd_per_unit for c in b.components}
    assert parts["silicon"] == pytest.approx(400.0)
    assert parts["HBM"] == pytest.approx(400.0)
    assert parts["packaging"] == pytest.approx(200.0)
    assert parts["test"] == pytest.approx(100.0)
    # A lost package takes its $1,000 with it: one lost per good one at p = 0.5.
    assert parts["packaging scrap"] == pytest.approx(1000.0)
    # 20 % of tested packages fail: (2,000 + 100)(1/0.8 − 1) = 525.
    assert parts["test scrap"] == pytest.approx(525.0)
    assert math.fsum(parts.values()) == pytest.approx(2625.0, rel=1e-12)
    assert math.fsum(c.share for c in b.components) == pytest.approx(1.0, rel=1e-12)


def test_cost_per_good_die_closed_form_csis() -> None:
    # Independent: wafer price / (dies per wafer × yield), CSIS 2025 (Allen) and CSET 2020 figures
    # (80 dies, 20 %; TSMC 7 nm price $9,346 ×1.45, the middle of "40–50 % higher").
    wafer = 9346.0 * 1.45
    f = run_funnel(
        FunnelInputs(
            wafer_starts_per_month=50_000,
            gross_dies_per_wafer=80,
            die_yield=0.2,
            dies_per_package=2,
            packaging_yield=0.75,
        )
    )
    b = cost_breakdown(f, CostInputs(wafer_cost_usd=wafer))
    assert b.cost_per_good_die_usd == pytest.approx(wafer / (80 * 0.2), rel=1e-12)
    # Silicon only: 2 good dies per package, 75 % survive.
    assert b.cost_per_tested_unit_usd == pytest.approx(2 * wafer / 16 / 0.75, rel=1e-12)


def test_compute_equivalent_cost() -> None:
    f = funnel(compute_equivalent_factor=0.6, compute_equivalent_basis="measured")
    b = cost_breakdown(f, COSTS)
    assert b.cost_per_compute_equivalent_usd == pytest.approx(2625.0 / 0.6, rel=1e-12)


def test_die_bank_dies_at_their_own_cost() -> None:
    # 1,000 wafers × 5 good dies = 5,000 fab dies for $1,000,000; 5,000 bank dies
    # at $50: average (1,000,000 + 250,000) / 10,000 = $125 per die.
    f = funnel(die_bank_dies=5000)
    b = cost_breakdown(f, CostInputs(wafer_cost_usd=1000.0, die_bank_cost_usd_per_die=50.0))
    assert b.cost_per_die_supplied_usd == pytest.approx(125.0, rel=1e-12)
    assert b.cost_per_good_die_usd == pytest.approx(200.0, rel=1e-12)  # fab dies
    assert b.die_bank_spend_usd == 250_000.0
    assert "die-bank" in b.components[0].note


def test_leftover_dies_are_not_charged_to_units() -> None:
    # HBM for 100 packages only: 200 dies used, 4,800 left at $200 each.
    f = funnel(hbm_stock_stacks=400)
    b = cost_breakdown(f, COSTS)
    assert f.binding_constraint == "hbm"
    assert b.unused_die_value_usd == pytest.approx(4800 * 200.0, rel=1e-12)
    assert b.cost_per_tested_unit_usd == pytest.approx(2625.0, rel=1e-12)


def test_degraded_dies_packaged_share_the_wafer_cost() -> None:
    f = funnel(
        die_yield=0.4, die_area_mm2=600.0, harvestable_fraction=0.5, package_degraded_dies=True
    )
    b = cost_breakdown(f, COSTS)
    usable = 10 * (0.4 + f.degraded_fraction)
    assert b.cost_per_good_die_usd == pytest.approx(1000.0 / usable, rel=1e-12)


@st.composite
def cases(draw: st.DrawFn):  # type: ignore[no-untyped-def]
    factor = draw(st.none() | st.floats(0.1, 3.0))
    inputs = FunnelInputs(
        wafer_starts_per_month=draw(st.floats(1.0, 1e5)),
        months=draw(st.integers(1, 24)),
        gross_dies_per_wafer=draw(st.floats(1.0, 2000.0)),
        die_yield=draw(st.floats(0.01, 1.0)),
        dies_per_package=draw(st.integers(1, 4)),
        hbm_stacks_per_package=draw(st.integers(0, 12)),
        hbm_stock_stacks=draw(st.none() | st.floats(1e5, 1e8)),
        die_bank_dies=draw(st.floats(0.0, 1e6)),
        packaging_yield=draw(st.floats(0.05, 1.0)),
        test_yield=draw(st.floats(0.05, 1.0)),
        compute_equivalent_factor=factor,
        compute_equivalent_basis=None if factor is None else "bf16-spec",
    )
    costs = CostInputs(
        wafer_cost_usd=draw(st.floats(100.0, 50_000.0)),
        hbm_cost_usd_per_stack=draw(st.floats(0.0, 1000.0)),
        packaging_cost_usd_per_package=draw(st.floats(0.0, 5000.0)),
        test_cost_usd_per_unit=draw(st.floats(0.0, 500.0)),
        die_bank_cost_usd_per_die=draw(st.floats(0.0, 2000.0)),
    )
    return inputs, costs


@settings(max_examples=150, deadline=None)
@given(cases())
def test_components_sum_to_the_unit_cost(case) -> None:  # type: ignore[no-untyped-def]
    inputs, costs = case
    f = run_funnel(inputs)
    if f.final_units <= 0:
        return
    b = cost_breakdown(f, costs)
    total = math.fsum(c.usd_per_unit for c in b.components)
    assert total == pytest.approx(b.cost_per_tested_unit_usd, rel=1e-12)
    assert all(c.usd_per_unit >= 0 for c in b.components)


@settings(max_examples=150, deadline=None)
@given(cases())
def test_money_is_conserved(case) -> None:  # type: ignore[no-untyped-def]
    # Independent second computation: what was spent over the horizon, minus the
    # dies left in stock, equals unit cost × finished units.
    inputs, costs = case
    f = run_funnel(inputs)
    if f.final_units <= 0:
        return
    b = cost_breakdown(f, costs)
    spent = (
        f.wafers * costs.wafer_cost_usd
        + inputs.die_bank_dies * costs.die_bank_cost_usd_per_die
        + f.packages * inputs.hbm_stacks_per_package * costs.hbm_cost_usd_per_stack
        + f.packages * costs.packaging_cost_usd_per_package
        + f.good_packages * costs.test_cost_usd_per_unit
    )
    average_die = (
        f.wafers * costs.wafer_cost_usd + inputs.die_bank_dies * costs.die_bank_cost_usd_per_die
    ) / f.die_supply
    in_stock = (f.die_supply - f.packages * inputs.dies_per_package) * average_die
    assert b.cost_per_tested_unit_usd * f.final_units == pytest.approx(spent - in_stock, rel=1e-9)


def test_table_and_json() -> None:
    b = cost_breakdown(funnel(), COSTS)
    text = b.table()
    assert "2,625.00" in text and "packaging scrap" in text and "total per tested unit" in text
    data = json.loads(to_json(b))
    assert data["cost_per_tested_unit_usd"] == pytest.approx(2625.0)
    assert [c["name"] for c in data["components"]][:4] == ["silicon", "HBM", "packaging", "test"]
    rows = b.ladder_rows()
    assert rows[0]["per"] == "wafer" and rows[-1]["per"] == "tested unit"


def test_infinite_cost_per_good_die_becomes_null_in_json() -> None:
    f = funnel(die_yield=0.0, die_bank_dies=1000)
    b = cost_breakdown(f, dataclasses.replace(COSTS, die_bank_cost_usd_per_die=50.0))
    assert b.cost_per_good_die_usd == math.inf
    assert json.loads(to_json(b))["cost_per_good_die_usd"] is None
    assert math.isfinite(b.cost_per_tested_unit_usd)


def test_no_unit_no_cost() -> None:
    with pytest.raises(InvalidParameterError, match="finishes no tested unit"):
        cost_breakdown(funnel(packaging_yield=0.0), COSTS)


def test_wrong_argument_types() -> None:
    with pytest.raises(InvalidParameterError, match="funnel"):
        cost_breakdown({"final_units": 1}, COSTS)  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="costs"):
        cost_breakdown(funnel(), {"wafer_cost_usd": 1})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("wafer_cost_usd", 0.0),
        ("wafer_cost_usd", float("nan")),
        ("hbm_cost_usd_per_stack", -1.0),
        ("packaging_cost_usd_per_package", "cheap"),
        ("test_cost_usd_per_unit", float("inf")),
        ("die_bank_cost_usd_per_die", -0.01),
    ],
)
def test_cost_inputs_validation_names_the_field(field: str, value: object) -> None:
    data: dict[str, object] = {"wafer_cost_usd": 1000.0, field: value}
    with pytest.raises(InvalidParameterError) as info:
        CostInputs.from_dict(data)
    assert info.value.parameter == field


def test_cost_inputs_from_dict_unknown_key() -> None:
    with pytest.raises(UnknownNameError, match="hbm_cost_usd_per_stack"):
        CostInputs.from_dict({"wafer_cost_usd": 1.0, "hbm_usd": 2.0})
    # Every cost is optional in CostInputs; cost_breakdown asks for what a funnel needs.
    assert CostInputs.from_dict({}) == CostInputs()
    assert CostInputs().wafer_cost_usd is None
    assert CostInputs.from_dict(COSTS.to_dict()) == COSTS


# --- CSET's wafer price -----------------------------------------------------


def test_cset_published_constants() -> None:
    data = cset_wafer_cost_data()
    # CSET 2020 (Khan & Mann), Appendix D: TSMC 7 nm $9,346 and 5 nm $16,988.
    assert data["published_wafer_prices_usd"] == {
        "TSMC 7 nm (2020)": 9346,
        "TSMC 5 nm (2020)": 16988,
    }
    # Other costs and markup ≈ 3.01 × depreciation (CSET 2020, Khan & Mann): the
    # depreciation share s = 24.93 % of revenue gives (1 − s)/s.
    s = data["depreciation_share_of_revenue"]
    assert (1 - s) / s == pytest.approx(data["other_costs_and_markup_ratio_published"], abs=0.005)
    assert data["depreciation_rate_per_year"] == pytest.approx(0.25, abs=0.01)  # "≈ 25 %/yr"
    assert "Khan" in data["source"]
    assert data["capital_inputs_verified"] is False


def test_cset_price_closed_form() -> None:
    # P = K r (1 − r)^a / s with r = 0.2529, s = 0.2493 (first year: a = 0).
    k = 20_000.0
    assert wafer_cost_from_capex(k) == pytest.approx(k * 0.2529 / 0.2493, rel=1e-12)
    assert wafer_cost_from_capex(k, 2) == pytest.approx(
        k * 0.2529 * (1 - 0.2529) ** 2 / 0.2493, rel=1e-12
    )


def test_cset_published_prices_imply_capital_consumed() -> None:
    # Inverting the published prices: capital consumed per wafer in 2020 is
    # P × s. Feeding the implied first-year capital back reproduces each price.
    # (CSET's own per-node capital inputs could not be verified; see the data file.)
    data = cset_wafer_cost_data()
    s, r = data["depreciation_share_of_revenue"], data["depreciation_rate_per_year"]
    for price in data["published_wafer_prices_usd"].values():
        capital = price * s / r
        assert wafer_cost_from_capex(capital) == pytest.approx(price, rel=1e-12)


def test_declining_balance_consumes_the_whole_investment() -> None:
    # Σ_a r (1 − r)^a = 1: over its life the node's capital is consumed exactly
    # once, so lifetime price = K (1 + m). Checked by summing 400 years.
    ages = np.arange(400)
    prices = wafer_cost_from_capex(np.full(400, 1000.0), ages, other_costs_and_markup_ratio=0.0)
    assert math.fsum(prices) == pytest.approx(1000.0, rel=1e-9)


def test_cset_vectorised_and_overrides() -> None:
    out = wafer_cost_from_capex(
        [1000.0, 2000.0], 0, depreciation_rate=0.2, other_costs_and_markup_ratio=3.0
    )
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, [800.0, 1600.0], rtol=1e-12)
    assert isinstance(wafer_cost_from_capex(1000.0), float)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"capital_usd_per_wafer_year": -1.0}, "capital_usd_per_wafer_year"),
        ({"capital_usd_per_wafer_year": 1.0, "node_age_years": -1}, "node_age_years"),
        ({"capital_usd_per_wafer_year": 1.0, "depreciation_rate": 0.0}, "depreciation_rate"),
        ({"capital_usd_per_wafer_year": 1.0, "depreciation_rate": 1.5}, "depreciation_rate"),
        (
            {"capital_usd_per_wafer_year": 1.0, "other_costs_and_markup_ratio": -1},
            "other_costs_and_markup_ratio",
        ),
    ],
)
def test_cset_validation(kwargs: dict[str, float], name: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        wafer_cost_from_capex(**kwargs)
    assert info.value.parameter == name


# --- die-bank dies without a price ---------------------------------------------------


def test_bank_only_funnel_without_a_bank_price_asks_for_it() -> None:
    # No wafer flow: every packaged die is a bank die; pricing them at $0
    # silently would make silicon free, so the price is asked for.
    f = funnel(wafer_starts_per_month=0, die_bank_dies=1000)
    with pytest.raises(InvalidParameterError, match="set die_bank_cost_usd_per_die") as info:
        cost_breakdown(f, COSTS)
    assert "None" not in str(info.value)


def test_funnel_with_wafers_needs_the_wafer_price() -> None:
    with pytest.raises(MissingCostError) as info:
        cost_breakdown(funnel(), CostInputs(hbm_cost_usd_per_stack=300.0))
    assert info.value.keys == ("wafer_cost_usd",)
    assert str(info.value).startswith(
        "costs missing: wafer_cost_usd (the funnel starts 1,000 wafers)"
    )
    assert isinstance(info.value, InvalidParameterError)  # a domain error of the inputs


def test_missing_costs_are_named_together() -> None:
    # Wafers started, but every die lost: the packaged dies all come from the bank.
    f = funnel(die_yield=0.0, die_bank_dies=1000)
    with pytest.raises(MissingCostError) as info:
        cost_breakdown(f, CostInputs())
    assert info.value.keys == ("wafer_cost_usd", "die_bank_cost_usd_per_die")
    assert "--set wafer_cost_usd=... --set die_bank_cost_usd_per_die=..." in str(info.value)


def test_bank_only_funnel_needs_no_wafer_price() -> None:
    # No wafer starts: the bank's dies are the silicon; the wafer price is not needed.
    f = funnel(wafer_starts_per_month=0, die_bank_dies=1000)
    b = cost_breakdown(f, CostInputs(die_bank_cost_usd_per_die=500.0, hbm_cost_usd_per_stack=300.0))
    # 500 packages of 2 dies at $500 and 4 stacks at $300; 50 % survive packaging,
    # 80 % pass test: (1000 + 1200) / 0.5 / 0.8 per unit.
    assert b.cost_per_tested_unit_usd == pytest.approx(2200 / 0.5 / 0.8, rel=1e-12)
    assert b.cost_per_wafer_usd is None and b.cost_per_good_die_usd is None
    assert b.wafer_spend_usd == 0.0
    assert b.notes == (NO_WAFER_PRICE_NOTE,)
    ladder = {r["per"]: r["usd"] for r in b.ladder_rows()}
    assert ladder["wafer"] is None and ladder["die supplied to packaging"] == 500.0
    assert b.components[0].note == "2 die-bank dies"  # no die yield paid for
    wafer_line = next(line for line in b.table().splitlines() if line.startswith("wafer "))
    assert wafer_line.split()[-1] == "-"
    assert json.loads(to_json(b))["cost_per_wafer_usd"] is None


def test_bank_only_funnel_at_an_explicit_zero_price_is_flagged() -> None:
    f = funnel(wafer_starts_per_month=0, die_bank_dies=1000)
    free = CostInputs(wafer_cost_usd=1000.0, die_bank_cost_usd_per_die=0.0)
    b = cost_breakdown(f, free)
    # 500 packages, nothing costs anything: shares cannot claim 100 %.
    assert b.cost_per_tested_unit_usd == 0.0
    assert all(c.share is None for c in b.components)
    total = b.component_rows()[-1]
    assert total["share_percent"] is None and "nothing was costed" in total["note"]
    assert any("valued at $0" in n for n in b.notes)
    assert any("nothing was costed" in n for n in b.notes)
    table = b.table()
    total_line = next(line for line in table.splitlines() if line.startswith("total per"))
    assert "100.00" not in total_line and " - " in total_line
    assert table.startswith("NOTE: die-bank dies valued at $0")
    data = json.loads(to_json(b))
    assert data["components"][0]["share"] is None
    assert any("valued at $0" in n for n in data["notes"])


def test_mixed_supply_with_free_bank_dies_says_so() -> None:
    f = funnel(die_bank_dies=1000)
    b = cost_breakdown(f, COSTS)
    assert b.notes == (
        "die-bank dies valued at $0 (sunk cost); set die_bank_cost_usd_per_die to price them",
    )
    assert "die-bank dies at $0" in b.components[0].note
    priced = cost_breakdown(f, dataclasses.replace(COSTS, die_bank_cost_usd_per_die=10.0))
    assert priced.notes == ()


# --- the all-in view ----------------------------------------------------------------


def test_all_in_cost_writes_off_leftover_dies() -> None:
    # HBM binds: 1,000 wafers x 10 dies x 0.5 = 5,000 good dies (2,500 packages of
    # dies) but 400 stacks / 4 = 100 packages. Spend, worked by hand:
    # wafers 1,000 x $1,000 = $1,000,000; HBM 100 x 4 x $100 = $40,000;
    # packaging 100 x $200 = $20,000; test 50 good packages x $100 = $5,000.
    # Units: 100 x 0.5 x 0.8 = 40, so all-in = 1,065,000 / 40 = $26,625.
    f = funnel(hbm_stock_stacks=400)
    assert f.binding_constraint == "hbm"
    b = cost_breakdown(f, COSTS)
    assert b.all_in_cost_per_tested_unit_usd == pytest.approx(1_065_000 / 40, rel=1e-12)
    assert b.all_in_spend_usd == pytest.approx(1_065_000, rel=1e-12)
    # The dies-used view charges 200 of the 5,000 dies: (2 x 200 + 400 + 200) = $1,000
    # per package, $2,000 per good package, (2,000 + 100) / 0.8 = $2,625 per unit.
    assert b.cost_per_tested_unit_usd == pytest.approx(2625.0, rel=1e-12)
    # The difference is the leftover dies' value, spread over the units.
    assert b.all_in_cost_per_tested_unit_usd - b.cost_per_tested_unit_usd == pytest.approx(
        4800 * 200.0 / 40, rel=1e-12
    )
    data = json.loads(to_json(b))
    assert data["all_in_cost_per_tested_unit_usd"] == pytest.approx(26_625.0, rel=1e-12)
    assert data["leftover_dies"] == pytest.approx(4800.0, rel=1e-12)
    views = {(r["view"], r["per"]): r for r in b.view_rows()}
    assert views[("all-in", "tested unit")]["usd"] == pytest.approx(26_625.0, rel=1e-12)
    assert "4,800 leftover dies" in views[("dies packaged only", "tested unit")]["note"]
    assert "all-in" in b.table() and "26,625.00" in b.table()


def test_all_in_equals_dies_used_view_without_leftovers() -> None:
    b = cost_breakdown(funnel(), COSTS)
    assert b.funnel.leftover_dies == 0
    assert b.all_in_cost_per_tested_unit_usd == pytest.approx(b.cost_per_tested_unit_usd, rel=1e-12)


def test_all_in_cost_of_the_hbm_bound_preset() -> None:
    # SemiAnalysis preset: 45,000 WPM x 12 = 540,000 wafers at $13,552; HBM binds
    # at 15,000,000 / 8 = 1,875,000 packages, 75 % survive: 1,406,250 units.
    from waferlab.scenarios import load_scenario

    s = load_scenario("semianalysis-2025-hbm-bound")
    b = cost_breakdown(run_funnel(s.funnel_inputs()), s.cost_inputs())
    wafers = 540_000 * 13_552
    hbm = 1_875_000 * 8 * 300
    packaging = 1_875_000 * 1_150
    test = 1_406_250 * 80
    expected = (wafers + hbm + packaging + test) / 1_406_250
    assert b.all_in_cost_per_tested_unit_usd == pytest.approx(expected, rel=1e-9)
    assert wafers / 1_406_250 == pytest.approx(5204.0, abs=0.5)  # silicon, all-in
    assert b.cost_per_tested_unit_usd < b.all_in_cost_per_tested_unit_usd
    assert any("valued at $0" in n for n in b.notes)


def test_huge_costs_print_in_scientific_notation() -> None:
    # A die yield of 1e-14 makes a good die cost 1e14 times a gross die ($1e16).
    b = cost_breakdown(funnel(die_yield=1e-14, die_bank_dies=1000), COSTS)
    assert b.cost_per_good_die_usd == pytest.approx(1000.0 / (10 * 1e-14), rel=1e-12)
    assert re.findall(r"\d[\d,]{24,}", b.table()) == []
    assert "1e+16" in b.table()


@pytest.mark.parametrize(
    "name",
    [
        "wafer_cost_usd",
        "hbm_cost_usd_per_stack",
        "packaging_cost_usd_per_package",
        "test_cost_usd_per_unit",
        "die_bank_cost_usd_per_die",
    ],
)
def test_costs_have_a_sanity_bound(name: str) -> None:
    base = {"wafer_cost_usd": 1000.0, name: 1e300}
    with pytest.raises(InvalidParameterError, match=f"{name} must be at most 1e9"):
        CostInputs(**base)
    assert getattr(CostInputs(**{**base, name: 1e9}), name) == 1e9
