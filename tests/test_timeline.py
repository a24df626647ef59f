"""The month-by-month engine: checked against a plain loop, closed forms and conservation."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from waferlab.cli.main import cli
from waferlab.errors import InvalidParameterError, ScenarioError
from waferlab.funnel import FunnelInputs, run_funnel, run_timeline
from waferlab.scenarios import list_scenarios, load_scenario
from waferlab.timeline import (
    Learning,
    exponential_learning,
    from_points,
    logistic,
    monthly,
    period_labels,
)


def loop_funnel(
    *,
    starts: list[float],
    per_wafer: float,
    yields: list[float],
    k: int,
    bank: float = 0.0,
    h: int = 0,
    hbm_stock: float | None = None,
    hbm_supply: list[float] | None = None,
    capacity: list[float] | None = None,
    packaging_yield: float = 1.0,
    fab_lag: int = 0,
    packaging_lag: int = 0,
) -> dict[str, list[float]]:
    """An independent plain-Python month loop of the funnel (the oracle)."""
    months = len(starts)
    die_inventory = bank
    hbm_on = h > 0 and (hbm_stock is not None or hbm_supply is not None)
    hbm_inventory = hbm_stock or 0.0
    packages: list[float] = []
    units = [0.0] * months
    dies_end: list[float] = []
    hbm_end: list[float] = []
    made = [s * per_wafer * y for s, y in zip(starts, yields, strict=True)]
    for t in range(months):
        if t - fab_lag >= 0:
            die_inventory += made[t - fab_lag]
        if hbm_supply is not None:
            hbm_inventory += hbm_supply[t]
        limits = [die_inventory / k]
        if hbm_on:
            limits.append(hbm_inventory / h)
        if capacity is not None:
            limits.append(math.floor(capacity[t]))
        started = math.floor(min(limits) + 1e-6)
        die_inventory -= started * k
        if hbm_on:
            hbm_inventory -= started * h
        packages.append(started)
        if t + packaging_lag < months:
            units[t + packaging_lag] += started * packaging_yield
        dies_end.append(die_inventory)
        hbm_end.append(hbm_inventory)
    return {"packages": packages, "units": units, "dies_end": dies_end, "hbm_end": hbm_end}


def test_worked_case_matches_a_plain_loop_and_hand_arithmetic() -> None:
    # Six months: a ramp of 1,000 → 3,500 wafers, 10 dies per wafer at 50 %, a
    # bank of 3,000 dies, 2 dies and 4 stacks per package, 10,000 stacks in
    # stock plus 2,000 a month, a packaging line of 2,500 a month, one month
    # in the fab and one in packaging, 80 % packaging yield.
    starts = [1000.0, 1500.0, 2000.0, 2500.0, 3000.0, 3500.0]
    inputs = FunnelInputs(
        wafer_starts_per_month=monthly(starts),
        months=6,
        gross_dies_per_wafer=10,
        die_yield=0.5,
        die_bank_dies=3000,
        dies_per_package=2,
        hbm_stacks_per_package=4,
        hbm_stock_stacks=10_000,
        hbm_supply_stacks_per_month=2000,
        packaging_capacity_per_month=2500,
        packaging_yield=0.8,
        fab_cycle_time_months=1,
        packaging_cycle_time_months=1,
    )
    result = run_timeline(inputs)
    oracle = loop_funnel(
        starts=starts,
        per_wafer=10,
        yields=[0.5] * 6,
        k=2,
        bank=3000,
        h=4,
        hbm_stock=10_000,
        hbm_supply=[2000.0] * 6,
        capacity=[2500.0] * 6,
        packaging_yield=0.8,
        fab_lag=1,
        packaging_lag=1,
    )
    # By hand: month 1 has only the bank (3,000 dies → 1,500 packages; HBM
    # 12,000 → 3,000; line 2,500): 1,500, dies bind. Month 2: 5,000 new dies →
    # 2,500 (HBM 12,000 − 6,000 + 2,000 = 8,000 → 2,000): 2,000, HBM binds.
    assert result.packages_started[0, :2].tolist() == [1500.0, 2000.0]
    assert result.binding_names()[:2] == ["dies", "hbm"]
    assert result.packages_started[0].tolist() == oracle["packages"]
    np.testing.assert_allclose(result.final_units[0], oracle["units"], rtol=1e-12)
    np.testing.assert_allclose(result["die_inventory"][0], oracle["dies_end"], rtol=1e-12)
    np.testing.assert_allclose(result["hbm_inventory"][0], oracle["hbm_end"], rtol=1e-12)
    assert result.final_units[0, 0] == 0.0  # one month in packaging
    assert result.in_process["dies_in_fab_at_end"][0] == pytest.approx(3500 * 10 * 0.5)
    assert result.in_process["units_in_packaging_at_end"][0] == pytest.approx(
        oracle["packages"][-1] * 0.8
    )


def test_constant_series_give_todays_horizon_totals_for_every_preset() -> None:
    for name in list_scenarios():
        inputs = load_scenario(name).funnel_inputs()
        horizon = run_funnel(inputs)
        timeline = run_timeline(inputs)
        assert timeline.total("packages_started")[0] == horizon.packages, name
        assert timeline.total("final_units")[0] == pytest.approx(horizon.final_units, rel=1e-12)
        assert timeline.total("good_dies")[0] == pytest.approx(
            horizon.stage("good dies").quantity, rel=1e-12
        )


def test_the_reports_chain_month_by_month() -> None:
    # CSIS 2025 (Allen): 50,000 × 80 × 20 % / 2 × 75 % = 300,000 a month.
    inputs = FunnelInputs(
        wafer_starts_per_month=50_000,
        months=3,
        gross_dies_per_wafer=80,
        die_yield=0.2,
        dies_per_package=2,
        packaging_yield=0.75,
    )
    assert run_timeline(inputs).final_units[0].tolist() == [300_000.0] * 3


def test_stocks_are_conserved_every_month() -> None:
    rng = np.random.default_rng(7)
    starts = rng.uniform(0, 5000, size=(1, 24))
    supply = rng.uniform(0, 20_000, size=(1, 24))
    inputs = FunnelInputs(
        wafer_starts_per_month=starts,
        months=24,
        gross_dies_per_wafer=37,
        die_yield=0.3,
        die_bank_dies=12_345,
        die_bank_inflow_dies_per_month=500,
        dies_per_package=3,
        hbm_stacks_per_package=5,
        hbm_stock_stacks=40_000,
        hbm_supply_stacks_per_month=supply,
        packaging_capacity_per_month=9_000,
        fab_cycle_time_months=2,
    )
    r = run_timeline(inputs)
    used = 3 * r.packages_started[0]
    opening = np.concatenate([[0.0], r["die_inventory"][0, :-1]])
    inflow = r["dies_arrived"][0] + r["die_bank_dies_in"][0]
    np.testing.assert_allclose(opening + inflow, used + r["die_inventory"][0], atol=1e-6)
    hbm_open = np.concatenate([[0.0], r["hbm_inventory"][0, :-1]])
    np.testing.assert_allclose(
        hbm_open + r["hbm_stacks_in"][0],
        5 * r.packages_started[0] + r["hbm_inventory"][0],
        atol=1e-6,
    )
    # the bank's own stock: opening + inflow = drawn + closing
    bank_open = np.concatenate([[0.0], r["die_bank_inventory"][0, :-1]])
    np.testing.assert_allclose(
        bank_open + r["die_bank_dies_in"][0],
        r["die_bank_dies_used"][0] + r["die_bank_inventory"][0],
        atol=1e-6,
    )


series = st.lists(st.floats(0, 1e5), min_size=1, max_size=18)


@settings(max_examples=60)
@given(
    starts=series,
    y=st.floats(0, 1),
    k=st.integers(1, 4),
    h=st.integers(0, 8),
    stock=st.floats(0, 1e6),
    bank=st.floats(0, 1e6),
    cap=st.one_of(st.none(), st.floats(0, 1e6)),
    lag=st.integers(0, 3),
)
def test_units_are_never_created(
    starts: list[float],
    y: float,
    k: int,
    h: int,
    stock: float,
    bank: float,
    cap: float | None,
    lag: int,
) -> None:
    months = len(starts)
    inputs = FunnelInputs(
        wafer_starts_per_month=monthly(starts),
        months=months,
        gross_dies_per_wafer=50,
        die_yield=y,
        die_bank_dies=bank,
        dies_per_package=k,
        hbm_stacks_per_package=h,
        hbm_stock_stacks=stock,
        packaging_capacity_per_month=cap,
        packaging_yield=0.9,
        packaging_cycle_time_months=lag,
    )
    r = run_timeline(inputs)
    cum_packages = r.cumulative("packages_started")[0]
    cum_dies = r.cumulative("dies_arrived")[0] + bank
    assert np.all(r.packages_started >= 0)
    assert np.all(r.packages_started == np.floor(r.packages_started))
    assert np.all(cum_packages * k <= cum_dies + 1e-6 * (1 + cum_dies))
    if h:
        assert np.all(cum_packages * h <= stock + 1e-6 * (1 + stock))
    if cap is not None:
        assert np.all(r.packages_started <= math.floor(cap) + 1e-9)
    assert r.total("final_units")[0] <= cum_packages[-1] * 0.9 * (1 + 1e-12) + 1e-9
    assert np.all(r["die_inventory"] >= 0)


def test_arrays_of_draws_give_the_numbers_of_a_loop_over_scalars() -> None:
    rng = np.random.default_rng(3)
    yields = rng.uniform(0.1, 0.5, 40)
    shares = rng.uniform(0.2, 1.0, 40)
    ramp = from_points({"2025-01": 20_000, "2026-06": 50_000}, start_month="2025-01", months=18)
    common = {
        "months": 18,
        "start_month": "2025-01",
        "gross_dies_per_wafer": 80,
        "dies_per_package": 2,
        "hbm_stacks_per_package": 8,
        "hbm_stock_stacks": 3_000_000,
        "hbm_supply_stacks_per_month": 150_000,
        "packaging_yield": 0.75,
    }
    drawn = run_timeline(
        FunnelInputs(wafer_starts_per_month=ramp, die_yield=yields, capacity_share=shares, **common)
    )
    for i in range(40):
        one = run_timeline(
            FunnelInputs(
                wafer_starts_per_month=ramp,
                die_yield=float(yields[i]),
                capacity_share=float(shares[i]),
                **common,
            )
        )
        np.testing.assert_array_equal(drawn.final_units[i], one.final_units[0])
        np.testing.assert_array_equal(drawn.binding[i], one.binding[0])


def test_large_runs_are_computed_in_chunks_with_the_same_numbers() -> None:
    rng = np.random.default_rng(11)
    n = 20_000  # several chunks of 36 months
    yields = rng.uniform(0.1, 0.5, n)
    inputs = FunnelInputs(
        wafer_starts_per_month=monthly(np.linspace(20_000, 50_000, 36)),
        months=36,
        gross_dies_per_wafer=80,
        die_yield=yields,
        dies_per_package=2,
        packaging_yield=0.75,
    )
    r = run_timeline(inputs, outputs=("final_units",))
    assert set(r.arrays) == {"final_units"}
    # without HBM or a packaging line every month packages its own dies
    expected = np.floor(
        np.cumsum(np.linspace(20_000, 50_000, 36) * 80 * yields[:, None], axis=1) / 2 + 1e-6
    )
    np.testing.assert_allclose(r.cumulative("final_units"), expected * 0.75, rtol=1e-12)


def test_exponential_learning_reproduces_its_closed_form() -> None:
    months = 30
    law = Learning("exponential", start=0.5, floor=0.1, time_constant_months=9)
    d0 = law.evaluate(np.ones((1, months)))
    t = np.arange(months)
    np.testing.assert_allclose(d0[0], 0.1 + 0.4 * np.exp(-t / 9), rtol=1e-15)
    inputs = FunnelInputs(
        wafer_starts_per_month=1000,
        months=months,
        gross_dies_per_wafer=80,
        die_area_mm2=665.61,
        defect_density_per_cm2=law,
        yield_model="poisson",
    )
    r = run_timeline(inputs)
    np.testing.assert_allclose(r["die_yield"][0], np.exp(-d0[0] * 6.6561), rtol=1e-12)


def test_wright_learning_follows_cumulative_wafer_starts() -> None:
    law = Learning("wright", start=0.4, exponent=0.3, floor=0.05)
    starts = np.array([[100.0, 300.0, 600.0, 1000.0]])
    cumulative = np.cumsum(starts)
    expected = np.maximum(0.4 * (cumulative / 100.0) ** -0.3, 0.05)
    np.testing.assert_allclose(law.evaluate(starts)[0], expected, rtol=1e-15)


def test_series_forms() -> None:
    ramp = logistic(
        start=20_000,
        end=50_000,
        midpoint_month="2025-07",
        months_10_to_90=6,
        start_month="2025-01",
        months=24,
    )[0]
    # 10 % and 90 % of the rise three months either side of the midpoint
    assert ramp[3] == pytest.approx(23_000)
    assert ramp[9] == pytest.approx(47_000)
    assert exponential_learning(start=1, floor=0, time_constant_months=1, months=2)[0, 1] == (
        pytest.approx(math.exp(-1))
    )
    labels, index = period_labels("year", 15, "2025-11")
    assert labels == ["2025", "2026", "2027"] and index.tolist()[:3] == [0, 0, 1]


@pytest.mark.parametrize(
    ("timeline", "needle"),
    [
        ("wafer_starts_per_month = [1, 2, 3]", "number of monthly values) must be 12"),
        (
            'wafer_starts_per_month = { "2026-01" = 5 }',
            "a month of the horizon, 2025-01 to 2025-12",
        ),
        (
            'die_yield = { shape = "sigmoid", start = 0.2 }',
            "die_yield.shape must be one of logistic",
        ),
        (
            'wafer_starts_per_month = { "2025-05" = 1, "2025-02" = 2 }',
            "a month after 2025-05 (dates in order)",
        ),
        ('wafer_starts_per_month = { "2025-1" = 1 }', '"YYYY-MM" month'),
        ("dies_per_package = [2, 2]", "dies_per_package cannot change over time"),
        ("wafer_starts = [2, 2]", "unknown key 'wafer_starts' in [timeline]"),
        ('die_yield = { learning = "exponential", start = 0.2 }', "learning"),
    ],
)
def test_the_loader_rejects_bad_series_naming_file_and_key(
    tmp_path: Path, timeline: str, needle: str
) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        'name = "s"\ndescription = "d"\ninherits = "csis-2025-smic-target"\n'
        '[parameters]\nmonths = 12\nstart_month = "2025-01"\n[timeline]\n' + timeline + "\n"
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(path) in str(info.value)
    assert needle in str(info.value)


def test_a_number_set_on_the_command_line_replaces_a_series(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        'name = "s"\ndescription = "d"\ninherits = "csis-2025-smic-target"\n'
        "[parameters]\nmonths = 3\n[timeline]\nwafer_starts_per_month = [10000, 20000, 30000]\n"
    )
    s = load_scenario(path)
    assert run_funnel(s.funnel_inputs()).wafers == 60_000
    changed = s.set_parameter("wafer_starts_per_month", 50_000)
    assert "wafer_starts_per_month" not in changed.timeline
    assert run_funnel(changed.funnel_inputs()).wafers == 150_000


def test_inputs_refuse_mismatched_arrays() -> None:
    with pytest.raises(InvalidParameterError, match="same length"):
        FunnelInputs(
            wafer_starts_per_month=np.ones(3),
            die_yield=np.full(4, 0.2),
            gross_dies_per_wafer=80,
        )
    with pytest.raises(InvalidParameterError, match="series of 5 months"):
        FunnelInputs(
            wafer_starts_per_month=monthly([1, 2, 3, 4, 5]),
            months=4,
            gross_dies_per_wafer=80,
            die_yield=0.2,
        )
    with pytest.raises(InvalidParameterError, match="a stock enters once"):
        FunnelInputs(
            wafer_starts_per_month=1,
            months=2,
            die_bank_dies=monthly([1, 2]),
            gross_dies_per_wafer=80,
            die_yield=0.2,
        )
    with pytest.raises(InvalidParameterError, match=r"die_yield must be in \[0, 1\]"):
        FunnelInputs(
            wafer_starts_per_month=1, die_yield=np.array([0.2, 1.5]), gross_dies_per_wafer=80
        )
    with pytest.raises(InvalidParameterError, match="one draw"):
        run_funnel(
            FunnelInputs(wafer_starts_per_month=[1.0, 2.0], die_yield=0.2, gross_dies_per_wafer=80)
        )


def test_cli_by_period_json_and_csv() -> None:
    runner = CliRunner()
    done = runner.invoke(
        cli,
        ["funnel", "csis-2025-smic-target", "--months", "6", "--by", "quarter", "--format", "json"],
    )
    assert done.exit_code == 0, done.output
    import json

    data = json.loads(done.output)
    assert [p["period"] for p in data["periods"]] == ["Q1", "Q2"]
    for key in (
        "period",
        "wafer_starts",
        "good_dies",
        "packages_started",
        "final_units",
        "cumulative_final_units",
        "die_inventory",
        "hbm_inventory",
        "binding_constraint",
    ):
        assert key in data["periods"][0]
    assert data["periods"][1]["cumulative_final_units"] == 1_800_000
    assert data["stock_exhausted"] == {"die_bank": None, "hbm_stock": None}
    csv = runner.invoke(
        cli, ["funnel", "csis-2025-smic-target", "--by", "month", "--format", "csv"]
    )
    assert csv.exit_code == 0
    assert csv.output.splitlines()[1].startswith("M1,50000.0,800000.0,400000.0,300000.0")


def _years(name: str, **changes: float) -> dict[str, float]:
    scenario = load_scenario(name)
    if changes:
        scenario = scenario.with_parameters(changes)
    labels, values = run_timeline(scenario.funnel_inputs()).periods("year")
    return dict(zip(labels, values["final_units"][0].tolist(), strict=True))


def test_time_aware_presets_match_their_hand_arithmetic() -> None:
    # Morgan Stanley (Sep 2025): 7k/13k/18k wafers, 78 dies, 20 % → 30 % through 2025.
    # 2025: the linear yield path averages 25 %; 7,000 × 12 × 78 × 0.25 / 2 × 0.75.
    ms = _years("morgan-stanley-2025-2027")
    assert ms["2025"] == pytest.approx(7_000 * 12 * 78 * 0.25 / 2 * 0.75)
    assert ms["2026"] == pytest.approx(13_000 * 12 * 78 * 0.30 / 2 * 0.75)
    assert ms["2027"] == pytest.approx(18_000 * 12 * 78 * 0.30 / 2 * 0.75)
    # CSIS: 20,000 → 50,000 linearly; 6 finished 910C per wafer start.
    assert _years("csis-2025-ramp")["2025"] == pytest.approx(6 * (20_000 + 50_000) / 2 * 12)
    # SemiAnalysis: the HBM stock (13 M / 8 packages) plus CXMT's 2 M a year / 8.
    sa = _years("semianalysis-2025-2027-ramp")
    assert sa["2025"] == pytest.approx((13_000_000 + 2_000_000) / 8 * 0.75)
    assert sa["2026"] == pytest.approx(2_000_000 / 8 * 0.75)
    # the packaging line that reproduces SemiAnalysis's 805,000 Ascend units in 2025
    capped = _years("semianalysis-2025-hbm-bound", packaging_capacity_per_month=89_445)
    assert capped["2025"] == pytest.approx(89_445 * 12 * 0.75)
    assert abs(capped["2025"] - 805_000) < 10


def test_ft_yield_learning_goes_through_its_published_points() -> None:
    # FT (24 Feb 2025): ~20 % a year before, ~40 % in February 2025, target 60 %.
    inputs = load_scenario("ft-2025-yield-learning").funnel_inputs()
    result = run_timeline(inputs)
    labels, _ = period_labels("month", inputs.months, inputs.start_month)
    area_cm2 = 665.61 / 100
    start, feb_2025, floor = (-math.log(y) / area_cm2 for y in (0.2, 0.4, 0.6))
    tau = 12 / math.log((start - floor) / (feb_2025 - floor))  # closed form, by hand
    assert tau == pytest.approx(12.04, abs=0.005)
    yields = result["die_yield"][0]
    assert yields[labels.index("2024-02")] == pytest.approx(0.20, rel=1e-9)
    assert yields[labels.index("2025-02")] == pytest.approx(0.40, rel=1e-9)
    december = floor + (start - floor) * math.exp(-22 / tau)
    assert yields[labels.index("2025-12")] == pytest.approx(math.exp(-december * area_cm2))
    assert yields[labels.index("2025-12")] == pytest.approx(0.503, abs=0.001)


def test_results_display_briefly_and_convert_to_frames() -> None:
    pytest.importorskip("pandas")
    from waferlab.economics import cost_breakdown

    scenario = load_scenario("semianalysis-2025-2027-ramp")
    inputs = scenario.funnel_inputs()
    timeline = run_timeline(inputs)
    funnel = run_funnel(inputs)
    costs = cost_breakdown(funnel, scenario.cost_inputs())  # type: ignore[arg-type]
    for result in (timeline, funnel, costs):
        assert len(repr(result)) <= 300
        assert result._repr_html_().startswith("<div>")
    frame = timeline.to_frame("year")
    assert list(frame.index) == ["2025", "2026", "2027"]
    assert frame["final_units"].sum() == pytest.approx(timeline.total("final_units")[0])
    assert funnel.to_frame().loc["tested units", "quantity"] == funnel.final_units
    parts = costs.to_frame()
    assert parts.loc["total per tested unit", "usd_per_unit"] == pytest.approx(
        costs.cost_per_tested_unit_usd
    )
    drawn = run_timeline(inputs.replace(die_yield=np.array([0.1, 0.2, 0.3])))
    assert "p5" in repr(drawn) and "3 draws" in repr(drawn)


def test_wright_learning_starts_at_the_first_month_with_wafers() -> None:
    # a ramp from zero: the reference volume is the first non-zero month, not 0
    law = Learning("wright", start=0.24, exponent=0.3, floor=0.05)
    d0 = law.evaluate(np.array([[0.0, 0.0, 1000.0, 1000.0, 2000.0]]))[0]
    expected = [0.24, 0.24, 0.24, 0.24 * 2**-0.3, 0.24 * 4**-0.3]
    np.testing.assert_allclose(d0, expected, rtol=1e-12)
