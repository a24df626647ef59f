"""Multi-component package yield and cost (waferlab.package).

Reference values: hand arithmetic written out in each test, Monte Carlo for the
Williams–Brown escapes, the independent placement oracle for the interposer
count, and Chiplet Actuary's own outputs for its default parameters
(tests/data/chiplet_actuary_reference.json: what was run and where from).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from _placement_oracle import PlacementOracle
from hypothesis import given, settings
from hypothesis import strategies as st

from waferlab.errors import InvalidParameterError, NoSolutionError, UnknownNameError
from waferlab.geometry import classic_dies_per_wafer
from waferlab.package import (
    Component,
    Interposer,
    Package,
    backsolve_yield,
    escape_rate,
    hbm_stack_yield,
    interposer_area_for_count,
    packaging_capacity,
    passing_fraction,
)
from waferlab.yield_models import die_yield

REFERENCE = json.loads(
    (Path(__file__).parent / "data" / "chiplet_actuary_reference.json").read_text("utf-8")
)


# --------------------------------------------------------------------------- compound yields


def test_hbm_stack_yields_are_the_published_powers_of_099() -> None:
    # SOURCES.md §7: 8-high 0.9227, 12-high 0.8864, 16-high 0.8515 at 99 % per layer.
    for layers, published in ((8, 0.9227), (12, 0.8864), (16, 0.8515)):
        assert hbm_stack_yield(layers, 0.99) == pytest.approx(published, abs=5e-5)
    # Bonds and the base die multiply in: 0.98 base × (0.99 × 0.995)^8.
    assert hbm_stack_yield(8, 0.99, layer_bond_yield=0.995, base_die_yield=0.98) == pytest.approx(
        0.98 * (0.99 * 0.995) ** 8, rel=1e-12
    )


def test_williams_brown_escapes_against_monte_carlo() -> None:
    # Faults per part Poisson(λ) with Y = e^-λ; the test sees each fault with probability T.
    rng = np.random.default_rng(7)
    lam, coverage, n = 0.7, 0.9, 2_000_000
    faults = rng.poisson(lam, n)
    seen = rng.binomial(faults, coverage)
    passed = seen == 0
    bad_among_passed = np.count_nonzero(faults[passed] > 0) / np.count_nonzero(passed)
    y = math.exp(-lam)
    assert passing_fraction(y, coverage) == pytest.approx(passed.mean(), abs=1e-3)
    assert escape_rate(y, coverage) == pytest.approx(bad_among_passed, abs=1e-3)
    # The closed form itself: DL = 1 − Y^(1−T).
    assert escape_rate(0.5, 0.99) == pytest.approx(1 - 0.5**0.01, rel=1e-12)
    assert escape_rate(0.5, 1.0) == 0.0
    assert passing_fraction(0.5, 0.0) == 1.0


def test_escapes_lower_the_package_yield() -> None:
    die = Component("die", 2, part_yield=0.5, test_coverage=0.99, raw_cost_usd=100.0)
    pkg = Package("p", (die,))
    assert pkg.package_yield == pytest.approx((0.5**0.01) ** 2, rel=1e-12)
    # The tested die costs raw / Y^T.
    assert die.known_good_cost_usd == pytest.approx(100.0 / 0.5**0.99, rel=1e-12)


# --------------------------------------------------------------------------- flows, by hand


def _two_part_package(flow: str) -> Package:
    interposer = Interposer(
        20.0,
        20.0,
        defect_density_per_cm2=0.1,
        model="poisson",
        units_per_wafer=100.0,
        wafer_cost_usd=2000.0,
        substrate_attach_yield=0.99,
    )
    return Package(
        "hand",
        (
            Component("logic", 1, part_yield=0.8, raw_cost_usd=80.0, bond_yield=0.98),
            Component("hbm", 4, kind="hbm", known_good_cost_usd=300.0, bond_yield=0.99),
        ),
        interposer=interposer,
        substrate_cost_usd=50.0,
        flow=flow,
    )


def test_chip_last_consumption_and_scrap_by_hand() -> None:
    r = _two_part_package("chip-last").evaluate()
    y_int = math.exp(-0.1 * 4.0)  # Poisson, 400 mm² = 4 cm²
    y_pkg = 0.98 * 0.99**4 * 0.99  # bonds × substrate attach; tested interposer, no escapes
    assert r.package_yield == pytest.approx(y_pkg, rel=1e-12)
    kgd = 80.0 / 0.8
    c_int = 2000.0 / 100.0
    expected_scrap = {
        "defective_parts": kgd - 80.0,
        "wasted_good_dies": kgd * (1 / y_pkg - 1),
        "wasted_stacks": 4 * 300.0 * (1 / y_pkg - 1),
        "wasted_other_parts": 0.0,
        "interposers": c_int * (1 / (y_int * y_pkg) - 1),
        "substrates": 50.0 * (1 / 0.99 - 1),
        "assembly": 0.0,
    }
    for cause, value in expected_scrap.items():
        assert r.scrap_usd[cause] == pytest.approx(value, rel=1e-12, abs=1e-12), cause
    total = 80.0 + 4 * 300.0 + c_int + 50.0 + sum(expected_scrap.values())
    assert r.cost_per_good_package_usd == pytest.approx(total, rel=1e-12)
    rows = {row["name"]: row for row in r.components}
    assert rows["hbm"]["tested_per_good_package"] == pytest.approx(4 / y_pkg, rel=1e-12)
    assert rows["logic"]["fabricated_per_good_package"] == pytest.approx(1 / (0.8 * y_pkg))
    assert rows["interposer"]["fabricated_per_good_package"] == pytest.approx(1 / (y_int * y_pkg))


def test_chip_first_scraps_parts_with_bad_interposers_by_hand() -> None:
    r = _two_part_package("chip-first").evaluate()
    y_int = math.exp(-0.4)
    y_pkg = y_int * 0.99  # no separate bonds; the RDL yield takes the parts with it
    assert r.package_yield == pytest.approx(y_pkg, rel=1e-12)
    assert r.scrap_usd["wasted_stacks"] == pytest.approx(1200.0 * (1 / y_pkg - 1), rel=1e-12)
    assert r.scrap_usd["interposers"] == pytest.approx(20.0 * (1 / y_pkg - 1), rel=1e-12)
    # Chip-first wastes more good stacks than chip-last here (the interposer yields 0.67).
    last = _two_part_package("chip-last").evaluate()
    assert r.scrap_usd["wasted_stacks"] > 3 * last.scrap_usd["wasted_stacks"]


def test_organic_substrate_is_the_carrier_when_there_is_no_interposer() -> None:
    pkg = Package(
        "os",
        (Component("die", 4, part_yield=0.85, raw_cost_usd=45.0, bond_yield=0.99),),
        substrate_cost_usd=24.0,
    )
    r = pkg.evaluate()
    y = 0.99**4
    assert r.scrap_usd["substrates"] == pytest.approx(24.0 * (1 / y - 1), rel=1e-12)
    assert r.cost_per_good_package_usd == pytest.approx((4 * 45.0 / 0.85 + 24.0) / y, rel=1e-12)


# --------------------------------------------------------------------------- Chiplet Actuary


def _ca_component(chip: dict, bond: float, bump_usd_per_mm2: float, params: dict) -> Component:
    area = chip["area_mm2"]
    node = str(chip["node"])
    pitch_area = (math.sqrt(area) + params["scribe_lane_mm"]) ** 2
    usable = params["wafer_diameter_mm"] - 2 * params["edge_loss_mm"]
    return Component(
        chip["name"],
        chip["count"],
        part_yield=die_yield(
            "negative_binomial",
            area,
            params["defect_density_per_cm2"][node],
            alpha=params["die_critical_level"],
        ),
        raw_cost_usd=params["wafer_cost_usd"][node] / classic_dies_per_wafer(usable, pitch_area),
        bond_yield=bond,
        attach_cost_usd=area * bump_usd_per_mm2,
    )


@pytest.mark.parametrize("case", sorted(REFERENCE["cases"]))
def test_reproduces_chiplet_actuary_default_outputs(case: str) -> None:
    ref = REFERENCE["cases"][case]
    params = REFERENCE["parameters_used"]
    kind = ref["kind"]
    usable = params["wafer_diameter_mm"] - 2 * params["edge_loss_mm"]
    for chip in ref["chips"]:  # the inputs agree with waferlab's own models first
        node = str(chip["node"])
        assert die_yield(
            "negative_binomial",
            chip["area_mm2"],
            params["defect_density_per_cm2"][node],
            alpha=params["die_critical_level"],
        ) == pytest.approx(chip["die_yield"], rel=1e-12)
        pitch = (math.sqrt(chip["area_mm2"]) + params["scribe_lane_mm"]) ** 2
        assert classic_dies_per_wafer(usable, pitch) == pytest.approx(
            chip["dies_per_wafer"], rel=1e-12
        )
    os_ = params["os"]
    if kind == "OS":
        parts = tuple(
            _ca_component(c, os_["bonding_yield"], os_["c4_bump_cost_usd_per_mm2"], params)
            for c in ref["chips"]
        )
        pkg = Package(case, parts, substrate_cost_usd=ref["raw_package_cost_usd"])
    else:
        tech = params["si"] if kind == "SI" else params["fo"]
        wafer_cost = params["wafer_cost_usd"]["55"] if kind == "SI" else tech["wafer_cost_usd"]
        parts = tuple(
            _ca_component(c, tech["bonding_yield"], params["si"]["u_bump_cost_usd_per_mm2"], params)
            for c in ref["chips"]
        )
        module_area = sum(c["area_mm2"] * c["count"] for c in ref["chips"])
        area_i = module_area * tech["area_scale_factor"]
        assert area_i == pytest.approx(ref["interposer_area_mm2"], rel=1e-12)
        side = math.sqrt(area_i)
        interposer = Interposer(
            side,
            side,
            defect_density_per_cm2=tech["defect_density_per_cm2"],
            model="negative_binomial",
            model_parameters={"alpha": tech["critical_level"]},
            units_per_wafer=classic_dies_per_wafer(usable, (side + params["scribe_lane_mm"]) ** 2),
            wafer_cost_usd=wafer_cost,
            attach_cost_usd=area_i * os_["c4_bump_cost_usd_per_mm2"],
            substrate_attach_yield=os_["bonding_yield"],
        )
        assert interposer.interposer_yield == pytest.approx(ref["interposer_yield"], rel=1e-12)
        assert interposer.unit_cost_usd == pytest.approx(ref["interposer_cost_usd"], rel=1e-12)
        substrate = area_i * os_["area_scale_factor"] * os_["re_cost_factor_usd_per_mm2"]
        assert substrate == pytest.approx(ref["substrate_cost_usd"], rel=1e-12)
        flow = "chip-last" if ref["chip_last"] == 1 else "chip-first"
        pkg = Package(case, parts, interposer=interposer, substrate_cost_usd=substrate, flow=flow)
    r = pkg.evaluate()
    s = r.scrap_usd
    ours = (
        r.raw_parts_usd,
        s["defective_parts"],
        r.raw_package_usd,
        s["interposers"] + s["substrates"],
        s["wasted_good_dies"] + s["wasted_stacks"] + s["wasted_other_parts"],
    )
    for got, want in zip(ours, ref["cost_RE"], strict=True):
        assert got == pytest.approx(want, rel=1e-9)
    assert r.cost_per_good_package_usd == pytest.approx(ref["cost_total_usd"], rel=1e-9)


# --------------------------------------------------------------------------- 910C back-solve


def test_910c_back_solve_for_csis_75_percent() -> None:
    # CSIS: ≈ 75 % of packages survive; two dies + eight stacks bonded at 0.99 each.
    bonds = 0.99**10
    together = backsolve_yield(0.75, known_yield=bonds)
    assert together == pytest.approx(0.75 / 0.99**10, rel=1e-12)
    assert together == pytest.approx(0.83, abs=0.005)
    # Split equally between the interposer pair and the substrate.
    each = backsolve_yield(0.75, known_yield=bonds, unknown_factors=2)
    assert each**2 == pytest.approx(together, rel=1e-12)
    # A Package gives the same answer from its own description.
    pkg = Package(
        "910C",
        (
            Component("910B", 2, bond_yield=0.99),
            Component("HBM2E", 8, kind="hbm", bond_yield=0.99),
        ),
    )
    assert pkg.residual_yield_for(0.75) == pytest.approx(together, rel=1e-12)
    # With that residual as the final step, the package yields CSIS' 75 %.
    done = Package("910C", pkg.components, final_yield=together)
    assert done.package_yield == pytest.approx(0.75, rel=1e-12)
    assert done.dies_per_package == {"910B": 2} and done.hbm_stacks_per_package == 8


def test_back_solve_without_a_solution_says_so() -> None:
    with pytest.raises(NoSolutionError, match="target_yield"):
        backsolve_yield(0.95, known_yield=0.9)


# --------------------------------------------------------------------------- arrays


def test_arrays_of_draws_match_a_loop_over_scalars() -> None:
    rng = np.random.default_rng(3)
    bond = rng.uniform(0.95, 1.0, 50)
    d0 = rng.uniform(0.02, 0.2, 50)
    hbm_cost = rng.uniform(200.0, 400.0, 50)

    def build(b: object, d: object, c: object) -> Package:
        return Package(
            "draws",
            (
                Component("die", 2, part_yield=0.3, raw_cost_usd=150.0, bond_yield=b),
                Component("hbm", 8, kind="hbm", known_good_cost_usd=c, bond_yield=b),
            ),
            interposer=Interposer(
                30.0,
                30.0,
                defect_density_per_cm2=d,
                units_per_wafer=60.0,
                wafer_cost_usd=3000.0,
                substrate_attach_yield=0.99,
            ),
            substrate_cost_usd=40.0,
        )

    together = build(bond, d0, hbm_cost).evaluate()
    assert np.shape(together.package_yield) == (50,)
    for k in (0, 17, 49):
        one = build(float(bond[k]), float(d0[k]), float(hbm_cost[k])).evaluate()
        assert together.package_yield[k] == pytest.approx(one.package_yield, rel=1e-12)
        assert together.cost_per_good_package_usd[k] == pytest.approx(
            one.cost_per_good_package_usd, rel=1e-12
        )
        for cause, value in one.scrap_usd.items():
            assert np.asarray(together.scrap_usd[cause])[..., k] == pytest.approx(value, abs=1e-9)


# --------------------------------------------------------------------------- capacity


def test_packaging_capacity_from_interposers_per_wafer() -> None:
    i = Interposer(
        40.0, 40.0, defect_density_per_cm2=0.05, model="poisson", count=2, units_per_wafer=30.0
    )
    pkg = Package("p", (Component("d", 1, bond_yield=0.99),), interposer=i)
    y_int = math.exp(-0.05 * 16.0)
    cap = packaging_capacity([1000.0, 2000.0], pkg)
    assert cap.packages_per_interposer_wafer == pytest.approx(30.0 * y_int / 2)
    assert np.allclose(cap.packages_started_per_month, [15000 * y_int, 30000 * y_int])
    assert np.allclose(cap.good_packages_per_month, np.asarray([15000, 30000]) * y_int * 0.99)


def test_interposer_size_for_28_per_wafer_agrees_with_the_placement_oracle() -> None:
    # TrendForce (SOURCES.md §7): ≈ 28 H100 packages per CoWoS interposer wafer.
    lo, hi = interposer_area_for_count(28)
    side_lo, side_hi = math.sqrt(lo), math.sqrt(hi)
    assert PlacementOracle(300.0, 3.0, 0.0, side_lo + 0.01, side_lo + 0.01, 0.1).optimum()[0] == 28
    assert PlacementOracle(300.0, 3.0, 0.0, side_hi - 0.01, side_hi - 0.01, 0.1).optimum()[0] == 28
    assert PlacementOracle(300.0, 3.0, 0.0, side_hi + 0.05, side_hi + 0.05, 0.1).optimum()[0] < 28
    assert PlacementOracle(300.0, 3.0, 0.0, side_lo - 0.05, side_lo - 0.05, 0.1).optimum()[0] > 28


# --------------------------------------------------------------------------- errors


def test_bad_descriptions_raise_naming_the_argument() -> None:
    with pytest.raises(InvalidParameterError, match="flow"):
        Package("p", (Component("d", 1),), flow="chip-first")
    with pytest.raises(UnknownNameError, match="flow"):
        Package("p", (Component("d", 1),), flow="sideways")
    with pytest.raises(InvalidParameterError, match="components"):
        Package("p", (Component("d", 1), Component("d", 2)))
    with pytest.raises(InvalidParameterError, match="components"):
        Package("p", ())
    with pytest.raises(InvalidParameterError, match="known_good_cost_usd"):
        Component("d", 1, raw_cost_usd=1.0, known_good_cost_usd=2.0)
    with pytest.raises(InvalidParameterError, match="count"):
        Component("d", 0)
    with pytest.raises(InvalidParameterError, match="bond_yield"):
        Component("d", 1, bond_yield=1.5)
    with pytest.raises(UnknownNameError, match="kind"):
        Component("d", 1, kind="gpu")
    with pytest.raises(InvalidParameterError, match="part_yield"):
        Component("d", 1, part_yield=[0.5, 0.0])
    with pytest.raises(InvalidParameterError, match="interposer"):
        Package("p", (Component("d", 1),)).packages_per_interposer_wafer()


# --------------------------------------------------------------------------- properties


_unit = st.floats(0.05, 1.0)
_cost = st.floats(0.0, 1000.0)


@settings(max_examples=60, deadline=None)
@given(
    n_die=st.integers(1, 12),
    n_hbm=st.integers(0, 12),
    y_die=_unit,
    t_die=st.floats(0.0, 1.0),
    bond=_unit,
    d0=st.floats(0.0, 0.5),
    t_int=st.floats(0.0, 1.0),
    attach=_unit,
    final=_unit,
    costs=st.tuples(_cost, _cost, _cost, _cost),
    flow=st.sampled_from(["chip-last", "chip-first"]),
)
def test_accounting_identities_hold_for_any_package(
    n_die: int,
    n_hbm: int,
    y_die: float,
    t_die: float,
    bond: float,
    d0: float,
    t_int: float,
    attach: float,
    final: float,
    costs: tuple[float, float, float, float],
    flow: str,
) -> None:
    parts = [
        Component(
            "die",
            n_die,
            part_yield=y_die,
            test_coverage=t_die,
            raw_cost_usd=costs[0],
            bond_yield=bond,
        )
    ]
    if n_hbm:
        parts.append(
            Component("hbm", n_hbm, kind="hbm", known_good_cost_usd=costs[1], bond_yield=bond)
        )
    pkg = Package(
        "p",
        parts,
        flow=flow,
        final_yield=final,
        substrate_cost_usd=costs[2],
        assembly_cost_usd=costs[3],
        interposer=Interposer(
            20.0,
            20.0,
            defect_density_per_cm2=d0,
            model="poisson",
            units_per_wafer=100.0,
            wafer_cost_usd=500.0,
            test_coverage=t_int,
            substrate_attach_yield=attach,
        ),
    )
    r = pkg.evaluate()
    assert 0.0 < r.package_yield <= 1.0
    assert all(v >= -1e-9 for v in r.scrap_usd.values())
    total = r.raw_parts_usd + r.raw_package_usd + sum(r.scrap_usd.values())
    assert r.cost_per_good_package_usd == pytest.approx(total, rel=1e-9, abs=1e-9)
    for row in r.components:
        # a good package never uses fewer parts than it holds
        assert row["tested_per_good_package"] >= row["count"] * (1 - 1e-12)
        assert row["fabricated_per_good_package"] >= row["tested_per_good_package"] * (1 - 1e-12)
    assert len(repr(pkg)) <= 300 and len(repr(r)) <= 300
