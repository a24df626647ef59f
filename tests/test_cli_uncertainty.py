"""``waferlab uncertainty``, ``solve`` and ``compare``: outputs, figures worked by hand, errors.

Hand-worked chains: CSIS 2025 (Allen), BIS 2025 (Kessler), SemiAnalysis (Sep 2025).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import shlex
import textwrap
from pathlib import Path

import pytest
from _cli import assert_one_line_error

from waferlab.uncertainty import Triangular

DOCS = Path(__file__).resolve().parents[1] / "docs"


def invoke(runner, cli, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(cli, list(args))


def run_json(runner, cli, *args: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    result = invoke(runner, cli, *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


# --------------------------------------------------------------------------- uncertainty


def test_uncertainty_quantiles_match_the_chain_at_the_input_quantiles(runner, cli) -> None:  # type: ignore[no-untyped-def]
    # Only die_yield uncertain (the others fixed with --set): units = floor(50,000 x 80 x
    # y / 2) x 0.75 rises with y, so each quantile of the units is the chain at that
    # quantile of y (Triangular 0.2/0.3/0.4: CSIS, Morgan Stanley, FT).
    fixed = ["--set", "wafer_starts_per_month=50000", "--set", "packaging_yield=0.75"]
    data = run_json(
        runner, cli, "uncertainty", "csis-2025-smic-target", *fixed, "--draws", "4000",
        "--method", "lhs", "--seed", "7",
    )  # fmt: skip
    y = Triangular(0.2, 0.3, 0.4)
    for key, q in (("p5", 0.05), ("p50", 0.5), ("p95", 0.95)):
        expected = math.floor(2_000_000 * y.quantile(q)) * 0.75
        assert data["quantiles"]["final_units"][key][0] == pytest.approx(expected, rel=2e-3)
    assert data["periods"] == ["total"]
    assert set(data["distributions"]) >= {"die_yield", "wafer_cost_usd"}
    assert "wafer_starts_per_month" not in data["distributions"]  # fixed by --set
    assert data["distributions"]["die_yield"]["source"].startswith("published 910B yields")
    assert data["shares"]["binding_constraint"] == {"none": [1.0]}
    cost = data["quantiles"]["cost_per_tested_unit_usd"]
    assert cost["p5"] < cost["p50"] < cost["p95"]


#: A minimal scenario whose [distributions] entry the tests below fill in.
_ONE_DIE_FILE = """
name = "t"
description = "d"
[parameters]
wafer_starts_per_month = 1000
gross_dies_per_wafer = 80
die_yield = 0.2
dies_per_package = 2
packaging_yield = 0.75
[distributions]
"""


def _phi(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


def test_truncated_distribution_is_said_with_the_mass_cut(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # Normal(0.3, 0.5) on [0, 1]: Phi(-0.6) = 27.4 % below 0, 1 - Phi(1.4) = 8.08 % above 1
    path = tmp_path / "t.toml"
    path.write_text(_ONE_DIE_FILE + "die_yield = { normal = { mean = 0.3, sd = 0.5 } }\n")
    below, above = _phi(-0.6), 1.0 - _phi(1.4)
    text = invoke(runner, cli, "uncertainty", str(path), "--draws", "200").stdout
    assert (
        "note: die_yield: truncated to its valid range in [0, 1]: "
        f"{100 * (below + above):.3g} % of Normal(mean=0.3, sd=0.5) is cut "
        f"({100 * below:.3g} % below 0, {100 * above:.3g} % above 1)"
    ) in text
    info = run_json(runner, cli, "uncertainty", str(path), "--draws", "200")["distributions"]
    cut = info["die_yield"]["outside_valid_range"]
    assert cut["policy"] == "truncate" and cut["valid_range"] == "in [0, 1]"
    assert (cut["below"], cut["above"]) == pytest.approx((below, above), rel=1e-9)
    assert cut["mass_outside"] == pytest.approx(below + above, rel=1e-9)
    shown = invoke(runner, cli, "scenarios", "show", str(path)).stdout
    assert "note: die_yield: truncated to its valid range in [0, 1]" in shown


def test_clipped_distribution_is_said_with_the_draws_on_the_bounds(
    runner, cli, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # Normal(0.9, 0.1) clipped at 1: 1 - Phi(1) = 15.9 % of the draws at 1
    path = tmp_path / "t.toml"
    path.write_text(
        _ONE_DIE_FILE
        + 'packaging_yield = { normal = { mean = 0.9, sd = 0.1 }, out_of_range = "clip" }\n'
    )
    text = invoke(runner, cli, "uncertainty", str(path), "--draws", "200").stdout
    share = f"{100 * (1.0 - _phi(1.0)):.3g} %"
    assert (
        f"note: packaging_yield: clipped to its valid range in [0, 1]: {share} of the draws of "
        f"Normal(mean=0.9, sd=0.1) fall on its bounds (< 0.01 % below 0, {share} above 1)"
    ) in text


def test_distribution_inside_its_range_gets_no_note(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "t.toml"
    path.write_text(_ONE_DIE_FILE + "die_yield = { uniform = { low = 0.1, high = 0.3 } }\n")
    assert (
        "valid range" not in invoke(runner, cli, "uncertainty", str(path), "--draws", "200").stdout
    )
    info = run_json(runner, cli, "uncertainty", str(path), "--draws", "200")["distributions"]
    assert info["die_yield"]["outside_valid_range"] is None


@pytest.mark.parametrize(
    ("entry", "said"),
    [
        # 100 of its 101 units below the valid range x >= 0
        ("wafer_starts_per_month = { uniform = { low = -100, high = 1 } }",
         "[distributions] wafer_starts_per_month: Uniform(low=-100, high=1) lies 99 % outside "
         "the valid range >= 0 (99 % below 0)"),
        ("die_yield = { uniform = { low = 2, high = 3 } }",
         "[distributions] die_yield: Uniform(low=2, high=3) lies entirely outside the valid "
         "range in [0, 1] (100 % above 1)"),
        # a yield written as a percentage: Phi((1 - 30) / 5) ~ 0 inside
        ('die_yield = { normal = { mean = 30, sd = 5 }, out_of_range = "clip" }',
         "[distributions] die_yield: Normal(mean=30, sd=5), 90 % of it in [21.78, 38.22], lies "
         "entirely outside the valid range in [0, 1]"),
    ],
)  # fmt: skip
def test_distribution_mostly_outside_its_range_is_refused(  # type: ignore[no-untyped-def]
    runner, cli, tmp_path: Path, entry: str, said: str
) -> None:
    path = tmp_path / "t.toml"
    path.write_text(_ONE_DIE_FILE + entry + "\n")
    result = invoke(runner, cli, "uncertainty", str(path))
    assert_one_line_error(result, 1, f"{path}: {said}", command="uncertainty")


def test_uncertainty_with_a_yield_model_from_the_calibration(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from _scenario_files import CALIBRATED_FILE

    path = tmp_path / "calibrated.toml"
    path.write_text(textwrap.dedent(CALIBRATED_FILE), encoding="utf-8")
    data = run_json(runner, cli, "uncertainty", str(path), "--draws", "300", "--sensitivity",
                    "tornado")  # fmt: skip
    sources = {k: v["source"] for k, v in data["distributions"].items()}
    assert set(sources) == {"yield_model", "yield_model.parameter", "yield_model.defect_density"}
    assert len(set(sources.values())) == 1  # the positions carry the model's source
    good = data["quantiles"]["good_dies"]
    # every model meeting both SMIC points gives a 400 mm² die between the 20 % of the
    # 665.61 mm² 910B and the 50-70 % of the 107 mm² Kirin 9000S
    assert 0.2 * 100_000 < good["p5"][0] < good["p95"][0] < 0.7 * 100_000


def test_uncertainty_tornado_json_keyed_by_input(runner, cli) -> None:  # type: ignore[no-untyped-def]
    data = run_json(
        runner, cli, "uncertainty", "csis-2025-smic-target", "--draws", "200",
        "--sensitivity", "tornado",
    )  # fmt: skip
    sens = data["sensitivity"]
    # wafer starts at p5 (21,500) and p95 (48,500), yield 0.3 and packaging 0.75 at medians:
    # floor(W x 80 x 0.3 / 2) x 0.75
    assert sens["wafer_starts_per_month"]["low"] == pytest.approx(
        math.floor(21_500 * 12) * 0.75, rel=1e-12
    )
    assert sens["wafer_starts_per_month"]["high"] == pytest.approx(
        math.floor(48_500 * 12) * 0.75, rel=1e-12
    )
    assert sens["wafer_cost_usd"]["low"] == sens["wafer_cost_usd"]["high"]  # no effect on units


def test_uncertainty_sobol_json_and_periods(runner, cli) -> None:  # type: ignore[no-untyped-def]
    data = run_json(
        runner, cli, "uncertainty", "semianalysis-2025-2027-ramp", "--draws", "256",
        "--by", "year", "--sensitivity", "sobol", "--method", "sobol",
    )  # fmt: skip
    assert data["periods"] == ["2025", "2026", "2027"]
    units = data["quantiles"]["final_units"]
    assert len(units["p50"]) == 3
    assert units["cumulative"]["p50"][-1] > units["p50"][0]
    for value in data["sensitivity"].values():
        assert set(value) >= {"first_order", "total"}
    # HBM binds: the wafer starts, the yield and the share barely matter to the total
    assert data["sensitivity"]["die_yield"]["total"] < 0.05
    assert data["shares"]["binding_constraint"]["hbm"][-1] == 1.0


def test_uncertainty_text_and_csv(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = invoke(
        runner, cli, "uncertainty", "csis-2025-ramp", "--draws", "100", "--by", "quarter"
    )
    assert result.exit_code == 0, result.stderr
    assert "final_units to date" in result.stdout
    assert "wafer_starts_per_month.2025-12" in result.stdout
    assert result.stderr == ""  # no progress bar when stderr is not a terminal
    csv_result = invoke(
        runner, cli, "uncertainty", "csis-2025-ramp", "--draws", "100", "--format", "csv"
    )
    rows = list(csv.DictReader(io.StringIO(csv_result.stdout)))
    assert {r["output"] for r in rows} >= {"final_units", "cost_per_tested_unit_usd"}


def test_uncertainty_plots(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    fan = tmp_path / "fan.png"
    result = invoke(
        runner, cli, "uncertainty", "morgan-stanley-2025-2027", "--draws", "100", "--by",
        "quarter", "--plot", str(fan),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert fan.stat().st_size > 0
    bars = tmp_path / "tornado.png"
    result = invoke(
        runner, cli, "uncertainty", "csis-2025-smic-target", "--draws", "50", "--sensitivity",
        "tornado", "--plot", str(bars),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert bars.stat().st_size > 0


def test_fan_chart_shows_a_published_year_at_its_end(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from waferlab.cli.uncertainty import _published_on
    from waferlab.scenarios import load_scenario

    scenario = load_scenario("semianalysis-2025-hbm-bound")
    labels = [f"2025-{m:02d}" for m in range(1, 13)]
    # SemiAnalysis' 805,000 Ascend units in 2025: the running total at December
    points = _published_on(scenario, scenario.funnel_inputs(), labels)
    assert points == [(11, 805_000.0, "ascend_units_2025: 805,000 in 2025 (published)")]
    shifted = scenario.set_parameter("start_month", "2024-12")
    assert _published_on(shifted, shifted.funnel_inputs(), labels) == []


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["csis-2025"], 2, "scenario must be one of"),
        (["csis-2025-smic-target", "--draws", "1"], 2, "--draws"),
        (["csis-2025-smic-target", "--method", "grid"], 2, "--method"),
        (["csis-2025-smic-target", "--by", "week"], 2, "--by"),
        (["csis-2025-smic-target", "--set", "die_yield=2"], 2, "--set"),
        (["csis-2025-smic-target", "--plot", "x.png"], 2, "--sensitivity tornado"),
        (["csis-2025-ramp", "--draws", "10", "--plot", "x.txt"], 2, "--plot"),
    ],
)
def test_uncertainty_errors(runner, cli, args: list[str], code: int, needle: str) -> None:  # type: ignore[no-untyped-def]
    result = invoke(runner, cli, "uncertainty", *args)
    assert_one_line_error(result, code, needle, command="uncertainty")


def test_uncertainty_file_errors(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plain = tmp_path / "plain.toml"
    plain.write_text(
        'name = "p"\ndescription = "d"\n[parameters]\nwafer_starts_per_month = 1\n'
        "gross_dies_per_wafer = 80\ndie_yield = 0.2\n",
        encoding="utf-8",
    )
    assert_one_line_error(
        invoke(runner, cli, "uncertainty", str(plain)), 1, "no [distributions]",
        command="uncertainty",
    )  # fmt: skip
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'name = "b"\ndescription = "d"\ninherits = "csis-2025-smic-target"\n'
        "[distributions]\ndie_yield = { lognormal = { p5 = 0.3 } }\n",
        encoding="utf-8",
    )
    assert_one_line_error(
        invoke(runner, cli, "uncertainty", str(bad)), 1, "die_yield.lognormal",
        command="uncertainty",
    )  # fmt: skip


def test_progress_bar_only_for_long_runs_at_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from waferlab.cli.uncertainty import PROGRESS_FROM, progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    with progress(PROGRESS_FROM - 1, "drawing") as advance:
        advance(10)
    assert terminal.getvalue() == ""  # a short run: no bar
    with progress(PROGRESS_FROM, "drawing") as advance:
        advance(PROGRESS_FROM)
    assert "drawing" in terminal.getvalue()
    pipe = io.StringIO()  # not a terminal: no bar, whatever the size
    monkeypatch.setattr(sys, "stderr", pipe)
    with progress(10 * PROGRESS_FROM, "drawing") as advance:
        advance(10 * PROGRESS_FROM)
    assert pipe.getvalue() == ""


# --------------------------------------------------------------------------- solve


def test_solve_bis_ceiling_by_hand(runner, cli) -> None:  # type: ignore[no-untyped-def]
    # BIS 2025's 200,000 units a year through the CSIS chain: floor(96 W) x 0.75 >= 200,000
    # <=> W >= 266,667 / 96 = 2,777.78125 wafer starts a month.
    data = run_json(
        runner, cli, "solve", "bis-2025-ceiling", "--target", "final_units=200000", "--vary",
        "wafer_starts_per_month",
    )  # fmt: skip
    assert data["value"] == pytest.approx(266_667 / 96, rel=1e-9)
    assert round(data["value"], 1) == 2_777.8
    assert data["achieved"] == pytest.approx(200_000.25)
    assert data["binding_constraint"] == "none"
    assert data["crossovers"] == []


def test_solve_csis_chain_die_yield_by_hand(runner, cli) -> None:  # type: ignore[no-untyped-def]
    # 1,000,000 910C a year at 50,000 WPM: floor(24,000,000 y) x 0.75 >= 1,000,000
    # <=> y >= 1,333,334 / 24,000,000 = 5.5556 %.
    data = run_json(
        runner, cli, "solve", "csis-2025-smic-target", "--set", "months=12", "--target",
        "final_units=1000000", "--vary", "die_yield",
    )  # fmt: skip
    assert data["value"] == pytest.approx(1_333_334 / 24_000_000, rel=1e-9)


def test_solve_hbm_crossover_and_a_period(runner, cli) -> None:  # type: ignore[no-untyped-def]
    # SemiAnalysis 2025: dies bind below a share of (1,875,000 - 1,450,000) x 2 / 8,640,000
    data = run_json(
        runner, cli, "solve", "semianalysis-2025-hbm-bound", "--target", "final_units=1000000",
        "--vary", "capacity_share",
    )  # fmt: skip
    (switch,) = data["crossovers"]
    assert switch["value"] == pytest.approx(850_000 / 8_640_000, rel=1e-9)
    assert (switch["before"], switch["after"]) == ("dies", "hbm")
    # Morgan Stanley 2026: 13,000 x 12 x 78 x y / 2 x 0.75 units, whole packages each month
    data = run_json(
        runner, cli, "solve", "morgan-stanley-2025-2027", "--by", "year", "--period", "2026",
        "--target", "final_units=1000000", "--vary", "die_yield.2025-12",
    )  # fmt: skip
    assert data["period"] == "2026"
    assert data["value"] == pytest.approx(1_000_000 / (13_000 * 12 * 78 / 2 * 0.75), rel=1e-4)


def test_solve_a_falling_output_the_wafer_price_for_a_unit_cost(runner, cli) -> None:  # type: ignore[no-untyped-def]
    # CSIS costs: ((2 C_w / 16 + 8 x 300 + 1,150) / 0.75 + 80) = 7,000 <=> C_w / 8 = 5,190
    # - 3,550 <=> C_w = $13,120 (the cost falls as the price falls: the largest price
    # whose unit cost is at most $7,000)
    data = run_json(
        runner, cli, "solve", "csis-2025-smic-target", "--target",
        "cost_per_tested_unit_usd=7000", "--vary", "wafer_cost_usd",
    )  # fmt: skip
    assert data["value"] == pytest.approx(13_120, rel=1e-9)
    assert data["achieved"] == pytest.approx(7_000, rel=1e-9)


def test_uncertainty_with_costs_alone_uncertain(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "costs.toml"
    path.write_text(
        'name = "c"\ndescription = "d"\ninherits = "csis-2025-smic-target"\n'
        "[parameters]\nwafer_starts_per_month = 50000\ndie_yield = 0.2\npackaging_yield = 0.75\n",
        encoding="utf-8",
    )
    data = run_json(runner, cli, "uncertainty", str(path), "--draws", "4000")
    assert set(data["distributions"]) == {
        "wafer_cost_usd", "hbm_cost_usd_per_stack", "packaging_cost_usd_per_package"
    }  # fmt: skip
    units = data["quantiles"]["final_units"]
    assert units["p5"] == units["p95"] == [300_000.0]  # the chain is certain
    # the unit cost is linear in the three prices, each uniform (symmetric): its median is
    # the cost at the medians, (2 x 13,551.5 / 16 + 2,400 + 1,150) / 0.75 + 80 = 7,071.92,
    # to Monte Carlo error (sd about 900 / sqrt(4,000) x 1.25)
    assert data["quantiles"]["cost_per_tested_unit_usd"]["p50"] == pytest.approx(7_071.92, rel=1e-2)


def test_solve_out_of_reach_says_what_binds(runner, cli) -> None:  # type: ignore[no-untyped-def]
    # SemiAnalysis 2025: 15 M HBM stacks / 8 = 1,875,000 packages x 0.75 = 1,406,250 units
    # at most, whatever the die yield
    result = invoke(
        runner, cli, "solve", "semianalysis-2025-hbm-bound", "--target", "final_units=2000000",
        "--vary", "die_yield",
    )  # fmt: skip
    assert_one_line_error(
        result, 1, "reaches at most 1406250", "binding constraint there: HBM", command="solve"
    )


def test_solve_text_names_the_switch(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = invoke(
        runner, cli, "solve", "semianalysis-2025-hbm-bound", "--target", "final_units=1000000",
        "--vary", "capacity_share",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "0.0983796" in result.stdout


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["--target", "final_units", "--vary", "die_yield"], 2, "KEY=NUMBER"),
        (["--target", "units=5", "--vary", "die_yield"], 2, "not an output"),
        (["--target", "final_units=nan", "--vary", "die_yield"], 2, "finite"),
        (["--target", "final_units=5", "--vary", "dies_per_package"], 2,
         "not a number solve can vary"),
        (["--target", "final_units=5", "--vary", "yield_model"], 2, "a name, not a number"),
        (["--target", "final_units=5", "--vary", "die_yield", "--by", "year"], 2, "--period"),
        (["--target", "final_units=5", "--vary", "die_yield", "--period", "2025"], 2, "--by"),
        (["--target", "final_units=5", "--vary", "die_yield", "--low", "1", "--high", "0.5"], 2,
         "--low < --high"),
        (["--target", "final_units=1e9", "--vary", "die_yield"], 1, "reaches at most"),
        (["--vary", "die_yield"], 2, "--target"),
        (["--target", "final_units=5", "--vary", "defect_density_per_cm2"], 2, "not both"),
    ],
)  # fmt: skip
def test_solve_errors(runner, cli, args: list[str], code: int, needle: str) -> None:  # type: ignore[no-untyped-def]
    result = invoke(runner, cli, "solve", "csis-2025-smic-target", *args)
    assert_one_line_error(result, code, needle, command="solve")


def test_solve_a_cost_without_costs(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = invoke(
        runner, cli, "solve", "csis-2025-tsmc-die-bank", "--target",
        "cost_per_tested_unit_usd=100", "--vary", "die_bank_dies",
    )  # fmt: skip
    assert_one_line_error(result, 2, "states no [costs]", command="solve")


def test_solve_period_must_be_in_the_horizon(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = invoke(
        runner, cli, "solve", "morgan-stanley-2025-2027", "--by", "year", "--period", "2030",
        "--target", "final_units=5", "--vary", "die_yield.2025-12",
    )  # fmt: skip
    assert_one_line_error(result, 2, "2025, 2026, 2027", command="solve")


# --------------------------------------------------------------------------- compare


def test_compare_csis_and_tsmc_attribution_sums_to_the_log_ratio(runner, cli) -> None:  # type: ignore[no-untyped-def]
    data = run_json(runner, cli, "compare", "csis-2025-smic-target", "tsmc-n7-counterfactual")
    units = [row["final_units"] for row in data["scenarios"]]
    # Murphy at D0 = 0.1156 on 665.61 mm²: floor(4,000,000 x Y / 2) x 0.75
    lam = 0.1156 * 6.6561
    expected_b = math.floor(2_000_000 * ((1 - math.exp(-lam)) / lam) ** 2) * 0.75
    assert units == pytest.approx([300_000, expected_b], rel=1e-12)
    total = sum(v["log_contribution"] for v in data["attribution"].values())
    assert total == pytest.approx(data["log_ratio"], abs=1e-12)
    assert data["log_ratio"] == pytest.approx(math.log(expected_b / 300_000), rel=1e-12)
    # which inputs differ: the fab's yield (three keys state it) and the wafer price
    assert set(data["differing_inputs"]) == {
        "die_yield",
        "yield_model",
        "defect_density_per_cm2",
        "wafer_cost_usd",
    }
    assert set(data["attribution"]) == {"die_yield"}


def test_compare_three_and_csv_and_unattributable(runner, cli) -> None:  # type: ignore[no-untyped-def]
    names = ["csis-2025-smic-target", "csis-2025-smic-current", "morgan-stanley-2025"]
    data = run_json(runner, cli, "compare", *names)
    assert [row["scenario"] for row in data["scenarios"]] == names
    assert "attribution" not in data
    assert data["scenarios"][2]["final_units_per_month"] == pytest.approx(61_425)
    rows = list(csv.DictReader(io.StringIO(invoke(runner, cli, "compare", *names, "--format",
                                                  "csv").stdout)))  # fmt: skip
    assert [r["scenario"] for r in rows] == names
    data = run_json(runner, cli, "compare", "morgan-stanley-2025", "morgan-stanley-2025-2027")
    assert data["attribution"] is None
    assert "different horizons" in data["attribution_note"]


def test_compare_waterfall(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "w.png"
    result = invoke(
        runner, cli, "compare", "morgan-stanley-2025", "csis-2025-ramp", "--plot", str(path)
    )
    assert result.exit_code == 0, result.stderr
    assert path.stat().st_size > 0


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["csis-2025-smic-target"], 2, "at least two"),
        (["a", "b", "c", "--plot", "x.png"], 2, "exactly two"),
        (["csis-2025-smic-target", "csis-2025"], 2, "scenario must be one of"),
        (["morgan-stanley-2025", "morgan-stanley-2025-2027", "--plot", "x.png"], 2,
         "different horizons"),
    ],
)  # fmt: skip
def test_compare_errors(runner, cli, args: list[str], code: int, needle: str) -> None:  # type: ignore[no-untyped-def]
    result = invoke(runner, cli, "compare", *args)
    assert_one_line_error(result, code, needle, command="compare")


# --------------------------------------------------------------------------- docs


def _pasted(name: str) -> list[tuple[str, str]]:
    text = (DOCS / name).read_text(encoding="utf-8")
    blocks = re.findall(r"```console\n\$ waferlab (.+?)\n(.*?)\n```", text, re.S)
    return [
        (args, out)
        for args, out in blocks
        if args.split()[0] in ("uncertainty", "solve", "compare") and "--help" not in args
    ]


@pytest.mark.parametrize(
    ("args", "expected"), [*_pasted("cli.md"), *_pasted("uncertainty.md")], ids=lambda a: a[:40]
)
def test_pasted_output_is_real(runner, cli, args: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, shlex.split(args))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.rstrip() == expected


def test_scenarios_show_lists_the_distributions(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = invoke(runner, cli, "scenarios", "show", "csis-2025-ramp")
    assert result.exit_code == 0, result.stderr
    text = result.stdout
    assert "distributions (waferlab uncertainty):" in text
    # December 2025 starts between SemiAnalysis' 45,000 and CSIS' 50,000 (uniform)
    assert "wafer_starts_per_month.2025-12 = Uniform(low=45000, high=50000)" in text
    assert "(p5 45,250, median 47,500, p95 49,750)" in text


def test_new_user_findings_stay_fixed() -> None:
    # each of these once gave a traceback, a stray warning or a silent miss
    from click.testing import CliRunner

    from waferlab.cli.main import cli

    runner = CliRunner()
    for vary in ("packaging_yield", "test_yield", "hbm_stock_stacks"):
        result = runner.invoke(
            cli,
            [
                "solve",
                "semianalysis-2025-hbm-bound",
                "--target",
                "final_units=400000",
                "--vary",
                vary,
            ],
        )
        assert result.exit_code in (0, 1), (vary, result.output)
        assert "Traceback" not in result.output
    seed = runner.invoke(cli, ["uncertainty", "csis-2025-smic-target", "--seed", "-1"])
    assert seed.exit_code == 2
    cost = runner.invoke(
        cli,
        [
            "solve",
            "csis-2025-smic-target",
            "--target",
            "cost_per_tested_unit_usd=0",
            "--vary",
            "wafer_cost_usd",
        ],
    )
    assert cost.exit_code == 0 and "passed already at the low end" in cost.stdout


def test_compare_falls_back_to_the_difference_when_a_mix_finishes_nothing(runner, cli) -> None:  # type: ignore[no-untyped-def]
    # A: 50,000 wafers, no bank; B: no wafers, a 2 M-die bank. The mix "no wafers, no bank"
    # finishes nothing, so the log-ratio cannot be split; the difference is. By hand, with
    # units = floor((W x 80 x 0.2 + bank) / 2) x 0.75 in the four mixes:
    mix = {(w, bank): math.floor((w * 80 * 0.2 + bank) / 2) * 0.75
           for w in (50_000, 0) for bank in (0, 2_000_000)}  # fmt: skip
    wafers = 0.5 * ((mix[0, 0] - mix[50_000, 0]) + (mix[0, 2_000_000] - mix[50_000, 2_000_000]))
    bank = 0.5 * ((mix[50_000, 2_000_000] - mix[50_000, 0]) + (mix[0, 2_000_000] - mix[0, 0]))
    data = run_json(runner, cli, "compare", "csis-2025-smic-target", "csis-2025-tsmc-die-bank")
    assert data["attribution_kind"] == "difference"
    assert data["difference"] == pytest.approx(mix[0, 2_000_000] - mix[50_000, 0])
    got = {k: v["contribution"] for k, v in data["attribution"].items()}
    assert got == pytest.approx({"wafer_starts_per_month": wafers, "die_bank_dies": bank})
    text = invoke(runner, cli, "compare", "csis-2025-smic-target", "csis-2025-tsmc-die-bank").stdout
    assert "as a difference, not a ratio" in text and "None" not in text
    assert re.search(r"wafer_cost_usd\s+13,552\s+not set", text)


def test_compare_shows_both_cost_views_and_flags_one_off_stocks(runner, cli) -> None:  # type: ignore[no-untyped-def]
    names = ["csis-2025-smic-target", "semianalysis-2025-2027-ramp", "csis-2025-tsmc-die-bank"]
    data = run_json(runner, cli, "compare", *names)
    rows = {row["scenario"]: row for row in data["scenarios"]}
    # the two cost views are those of `waferlab cost` for the same scenario
    cost = run_json(runner, cli, "cost", "semianalysis-2025-2027-ramp")
    ramp = rows["semianalysis-2025-2027-ramp"]
    assert ramp["cost_per_tested_unit_usd"] == pytest.approx(cost["cost_per_tested_unit_usd"])
    assert ramp["all_in_cost_per_tested_unit_usd"] == pytest.approx(
        cost["all_in_cost_per_tested_unit_usd"]
    )
    # without leftover dies the two views agree (CSIS chain: 400,000 packages of 2 dies)
    target = rows["csis-2025-smic-target"]
    assert target["all_in_cost_per_tested_unit_usd"] == pytest.approx(
        target["cost_per_tested_unit_usd"]
    )
    assert rows["csis-2025-tsmc-die-bank"]["cost_per_tested_unit_usd"] is None  # no [costs]
    assert ramp["one_off_stocks"] == ["die bank", "HBM stock"]
    assert rows["csis-2025-tsmc-die-bank"]["one_off_stocks"] == ["die bank"]
    assert target["one_off_stocks"] == []
    text = invoke(runner, cli, "compare", *names).stdout
    assert "incl. one-off stocks: semianalysis-2025-2027-ramp (die bank, HBM stock)" in text
    assert "not a rate" in text and "None" not in text
