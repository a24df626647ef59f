"""``waferlab cost``: every option and every error path.

Expected dollar figures are worked by hand from the preset's published inputs:
SMIC wafer $13,552 (CSET's $9,346 × 1.45), 80 dies, 20 % yield, 2 dies and 8 HBM
stacks at $300 per 910C, $1,150 packaging, 75 % packaging survival, $80 test.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from _cli import assert_one_line_error


def run(runner, cli, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(cli, ["cost", *args])


def run_json(runner, cli, *args: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    result = run(runner, cli, *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


GOOD_DIE = 13_552 / (80 * 0.20)  # 847.0
PACKAGE = 2 * GOOD_DIE + 8 * 300 + 1_150  # 5,244
TESTED_UNIT = PACKAGE / 0.75 + 80  # 7,072


def test_text_shows_ladder_and_breakdown(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = run(runner, cli, "csis-2025-smic-target")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith("csis-2025-smic-target:")
    assert "good die" in out and "847.00" in out
    assert "tested unit" in out and "7,072.00" in out
    assert "packaging scrap" in out


def test_json_matches_the_hand_computation(runner, cli) -> None:  # type: ignore[no-untyped-def]
    data = run_json(runner, cli, "csis-2025-smic-target")
    assert data["cost_per_good_die_usd"] == pytest.approx(GOOD_DIE, rel=1e-12)
    assert data["cost_per_package_usd"] == pytest.approx(PACKAGE, rel=1e-12)
    assert data["cost_per_tested_unit_usd"] == pytest.approx(TESTED_UNIT, rel=1e-12)
    assert data["cost_per_compute_equivalent_usd"] == pytest.approx(TESTED_UNIT / 0.6, rel=1e-12)
    assert data["scenario"] == "csis-2025-smic-target"
    assert "CSET" in data["sources"]["wafer_cost_usd"]
    assert set(data["sources"]) == {
        "wafer_cost_usd",
        "hbm_cost_usd_per_stack",
        "packaging_cost_usd_per_package",
        "test_cost_usd_per_unit",
    }
    total = sum(c["usd_per_unit"] for c in data["components"])
    assert total == pytest.approx(TESTED_UNIT, rel=1e-12)


def test_csv_has_ladder_and_components(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = run(runner, cli, "csis-2025-smic-target", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {r["section"] for r in rows} == {
        "cost per",
        "per tested unit",
        "cost view: dies packaged only",
        "cost view: all-in",
    }
    # no die is left over, so both views give the same figure
    views = [r for r in rows if r["section"].startswith("cost view") and r["item"] == "tested unit"]
    assert [float(r["usd"]) for r in views] == pytest.approx([TESTED_UNIT] * 2, rel=1e-12)
    unit = next(r for r in rows if r["section"] == "cost per" and r["item"] == "tested unit")
    assert float(unit["usd"]) == pytest.approx(TESTED_UNIT, rel=1e-12)
    hbm = next(r for r in rows if r["item"] == "HBM")
    assert float(hbm["usd"]) == 8 * 300


def test_set_changes_a_cost(runner, cli) -> None:  # type: ignore[no-untyped-def]
    # the top of the published SMIC range: $9,346 x 1.5 = $14,019
    data = run_json(runner, cli, "csis-2025-smic-target", "--set", "wafer_cost_usd=14019")
    assert data["cost_per_good_die_usd"] == pytest.approx(14_019 / 16, rel=1e-12)
    assert data["sources"]["wafer_cost_usd"] == "set on the command line (--set)"


def test_set_changes_the_funnel(runner, cli) -> None:  # type: ignore[no-untyped-def]
    data = run_json(runner, cli, "csis-2025-smic-target", "--set", "die_yield=0.4")
    assert data["cost_per_good_die_usd"] == pytest.approx(13_552 / 32, rel=1e-12)


def test_scenario_without_costs_priced_with_set(runner, cli) -> None:  # type: ignore[no-untyped-def]
    data = run_json(
        runner,
        cli,
        "csis-2025-tsmc-die-bank",
        "--set",
        "wafer_cost_usd=9346",
        "--set",
        "die_bank_cost_usd_per_die=500",
    )
    assert data["final_units"] == 750_000
    # 2 bank dies at $500 per package, 75 % survive: 1,000 / 0.75 per unit.
    assert data["cost_per_tested_unit_usd"] == pytest.approx(1000 / 0.75, rel=1e-12)
    assert data["notes"] == []


def test_bank_at_an_explicit_zero_price_shows_no_shares(runner, cli) -> None:  # type: ignore[no-untyped-def]
    args = ["csis-2025-tsmc-die-bank", "--set", "wafer_cost_usd=10000"]
    args += ["--set", "die_bank_cost_usd_per_die=0"]
    result = run(runner, cli, *args)
    assert result.exit_code == 0, result.stderr
    assert "NOTE: die-bank dies valued at $0 (sunk cost)" in result.stdout
    total = next(x for x in result.stdout.splitlines() if x.startswith("total per tested unit"))
    assert "100.00" not in total and "nothing was costed" in total
    data = run_json(runner, cli, *args)
    assert all(c["share"] is None for c in data["components"])
    assert any("nothing was costed" in n for n in data["notes"])


def test_hbm_bound_preset_flags_free_bank_dies_and_gives_the_all_in_cost(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = run(runner, cli, "semianalysis-2025-hbm-bound")
    assert result.exit_code == 0, result.stderr
    assert "NOTE: die-bank dies valued at $0 (sunk cost)" in result.stdout
    assert "all-in" in result.stdout
    data = run_json(runner, cli, "semianalysis-2025-hbm-bound")
    # All spend over the 1,406,250 units: 540,000 wafers x $13,552, HBM for
    # 1,875,000 packages x 8 x $300, packaging 1,875,000 x $1,150, test $80 a unit.
    spend = 540_000 * 13_552 + 1_875_000 * (8 * 300 + 1_150) + 1_406_250 * 80
    assert data["all_in_cost_per_tested_unit_usd"] == pytest.approx(spend / 1_406_250, rel=1e-9)
    assert data["all_in_cost_per_compute_equivalent_usd"] == pytest.approx(
        spend / 1_406_250 / 0.6, rel=1e-9
    )
    assert any("valued at $0" in n for n in data["notes"])


def test_plot_is_written(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "cost.svg"
    result = run(runner, cli, "csis-2025-smic-target", "--plot", str(target))
    assert result.exit_code == 0, result.stderr
    assert "<svg" in target.read_text()


BANK_PRICE_MISSING = (
    "waferlab cost: error: scenario 'csis-2025-tsmc-die-bank': costs missing: "
    "die_bank_cost_usd_per_die (every packaged die comes from the die bank, so without it "
    "the units would carry no silicon cost; 0 values the bank as a sunk cost); on the "
    "command line: --set die_bank_cost_usd_per_die=..."
)


@pytest.mark.parametrize(
    "extra",
    [
        [],  # no costs at all
        ["--set", "hbm_cost_usd_per_stack=300"],  # some costs, not the one needed
        ["--set", "wafer_cost_usd=10000"],  # a wafer price the funnel does not use
    ],
)
def test_bank_only_scenario_asks_for_the_bank_price_the_same_way(runner, cli, extra) -> None:  # type: ignore[no-untyped-def]
    # The die-bank scenario starts no wafers: only the bank price is needed,
    # whatever else is or is not given; always exit 1 with the same message.
    err = assert_one_line_error(run(runner, cli, "csis-2025-tsmc-die-bank", *extra), 1)
    assert err.startswith(BANK_PRICE_MISSING)
    optional = err.split("(optional: ", 1)[1]
    assert "wafer_cost_usd" not in optional  # not needed without wafer starts


def test_bank_only_scenario_needs_no_wafer_price(runner, cli) -> None:  # type: ignore[no-untyped-def]
    args = ["csis-2025-tsmc-die-bank", "--set", "die_bank_cost_usd_per_die=500"]
    data = run_json(runner, cli, *args)
    # 2 bank dies at $500 per package, 75 % survive packaging.
    assert data["cost_per_tested_unit_usd"] == pytest.approx(1000 / 0.75, rel=1e-12)
    assert data["cost_per_wafer_usd"] is None
    assert data["notes"] == [
        "no wafer price: the funnel starts no wafers, so the wafer, gross-die and "
        "good-die rows are left empty"
    ]
    text = run(runner, cli, *args)
    assert text.exit_code == 0, text.stderr
    assert "NOTE: no wafer price" in text.stdout


@pytest.mark.parametrize(
    "extra",
    [
        ["--set", "wafer_starts_per_month=1000"],
        ["--set", "wafer_starts_per_month=1000", "--set", "die_bank_cost_usd_per_die=1"],
    ],
)
def test_wafer_starts_need_the_wafer_price(runner, cli, extra) -> None:  # type: ignore[no-untyped-def]
    err = assert_one_line_error(run(runner, cli, "csis-2025-tsmc-die-bank", *extra), 1)
    assert (
        "scenario 'csis-2025-tsmc-die-bank': costs missing: wafer_cost_usd "
        "(the funnel starts 1,000 wafers); on the command line: --set wafer_cost_usd=..."
    ) in err


def test_removing_the_wafer_price_is_the_same_domain_error(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = run(runner, cli, "csis-2025-smic-target", "--set", "wafer_cost_usd=none")
    err = assert_one_line_error(result, 1, command="cost")
    assert "costs missing: wafer_cost_usd (the funnel starts 50,000 wafers)" in err


def test_no_finished_unit_is_a_domain_error(runner, cli) -> None:  # type: ignore[no-untyped-def]
    err = assert_one_line_error(
        run(runner, cli, "csis-2025-smic-target", "--set", "die_yield=0"), 1
    )
    assert "finishes no tested unit" in err


def test_unknown_scenario(runner, cli) -> None:  # type: ignore[no-untyped-def]
    err = assert_one_line_error(run(runner, cli, "nope"), 2)
    assert "csis-2025-smic-target" in err


def test_malformed_set(runner, cli) -> None:  # type: ignore[no-untyped-def]
    err = assert_one_line_error(
        run(runner, cli, "csis-2025-smic-target", "--set", "wafer_cost_usd"), 2
    )
    assert "expected KEY=VALUE" in err


def test_negative_cost(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = run(runner, cli, "csis-2025-smic-target", "--set", "test_cost_usd_per_unit=-1")
    err = assert_one_line_error(result, 2)
    assert "test_cost_usd_per_unit must be >= 0 (got -1)" in err


def test_zero_wafer_cost(runner, cli) -> None:  # type: ignore[no-untyped-def]
    err = assert_one_line_error(
        run(runner, cli, "csis-2025-smic-target", "--set", "wafer_cost_usd=0"), 2
    )
    assert "wafer_cost_usd must be > 0" in err


def test_bad_file(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.toml"
    path.write_text(
        'name = "bad"\ndescription = "d"\ninherits = "csis-2025-smic-target"\n'
        "[costs]\nwafer_cost_usd = 1\nhbm_usd = 2\n"
    )
    err = assert_one_line_error(run(runner, cli, str(path)), 1)
    assert str(path) in err
    assert "unknown key 'hbm_usd' in [costs]" in err


def test_bad_format(runner, cli) -> None:  # type: ignore[no-untyped-def]
    assert_one_line_error(run(runner, cli, "csis-2025-smic-target", "--format", "yaml"), 2)


def test_bad_plot_path(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    err = assert_one_line_error(
        run(runner, cli, "csis-2025-smic-target", "--plot", str(tmp_path / "c.doc")), 2
    )
    assert "--plot" in err


def test_csv_carries_the_notes(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = run(runner, cli, "semianalysis-2025-hbm-bound", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    notes = [r["note"] for r in rows if r["section"] == "note"]
    assert notes == [
        "die-bank dies valued at $0 (sunk cost); set die_bank_cost_usd_per_die to price them"
    ]
