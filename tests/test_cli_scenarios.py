"""``waferlab scenarios list`` and ``waferlab scenarios show``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _cli import assert_one_line_error

from waferlab.scenarios import list_scenarios, load_scenario


def test_group_help_lists_subcommands(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, ["scenarios", "--help"])
    assert result.exit_code == 0
    assert "list" in result.stdout and "show" in result.stdout


def test_group_without_subcommand_prints_help(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, ["scenarios"])
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage:")
    assert "show" in result.stdout


def test_list_text(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, ["scenarios", "list"])
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["name", "description"]
    starts = [line.split()[0] for line in lines[2:] if not line.startswith(" ")]
    assert tuple(starts) == list_scenarios()
    assert max(len(line) for line in lines) <= 100


def test_list_json(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, ["scenarios", "list", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert [s["name"] for s in data["scenarios"]] == list(list_scenarios())
    by_name = {s["name"]: s for s in data["scenarios"]}
    assert by_name["csis-2025-smic-current"]["inherits"] == "csis-2025-smic-target"
    assert all(s["description"] for s in data["scenarios"])


def test_show_text_lists_values_units_and_sources(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, ["scenarios", "show", "csis-2025-smic-target"])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "wafer_starts_per_month = 50,000 wafer starts/month" in out
    assert "die_width_mm = 21.32 mm" in out
    assert "die_yield = 0.2" in out
    assert "wafer_cost_usd = 13,552 USD" in out
    assert "hbm_cost_usd_per_stack = 300 USD/stack" in out
    assert "Tom's Hardware (2024)" in out
    assert "published figures" in out and "good_packages = 300,000" in out
    assert "notes:" in out


def test_show_text_for_a_scenario_without_costs(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, ["scenarios", "show", "csis-2025-tsmc-die-bank"])
    assert result.exit_code == 0, result.stderr
    assert "costs: none stated" in result.stdout


def test_show_json(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        cli, ["scenarios", "show", "semianalysis-2025-hbm-bound", "--format", "json"]
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["name"] == "semianalysis-2025-hbm-bound"
    assert data["parameters"]["hbm_stock_stacks"] == 13_000_000
    assert data["units"]["hbm_stock_stacks"] == "stacks"
    assert data["units"]["wafer_cost_usd"] == "USD"
    assert "SemiAnalysis" in data["sources"]["hbm_stock_stacks"]
    assert data == {
        **load_scenario("semianalysis-2025-hbm-bound").to_dict(),
        "units": data["units"],
        "outside_valid_range": {},  # its distributions lie inside their valid ranges
    }


def test_show_a_file(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "mine.toml"
    path.write_text(
        'name = "mine"\ndescription = "Mine."\ninherits = "csis-2025-smic-target"\n'
        '[parameters]\ndie_yield = 0.4\n[sources]\ndie_yield = "FT, Feb 2025"\n'
    )
    result = runner.invoke(cli, ["scenarios", "show", str(path)])
    assert result.exit_code == 0, result.stderr
    assert "inherits: csis-2025-smic-target" in result.stdout
    assert "die_yield = 0.4" in result.stdout
    assert "FT, Feb 2025" in result.stdout


def test_show_unknown_name_lists_the_names(runner, cli) -> None:  # type: ignore[no-untyped-def]
    err = assert_one_line_error(runner.invoke(cli, ["scenarios", "show", "csis"]), 2)
    for name in list_scenarios():
        assert name in err


def test_show_bad_file(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.toml"
    path.write_text(
        'name = "bad"\ndescription = "d"\n[parameters]\nwafer_starts_per_month = 1\n'
        "gross_dies_per_wafer = 80\ndie_yield = 3\n"
    )
    err = assert_one_line_error(runner.invoke(cli, ["scenarios", "show", str(path)]), 1)
    assert str(path) in err and "[parameters] die_yield must be in [0, 1] (got 3)" in err


def test_show_missing_argument(runner, cli) -> None:  # type: ignore[no-untyped-def]
    err = assert_one_line_error(runner.invoke(cli, ["scenarios", "show"]), 2)
    assert "NAME" in err


@pytest.mark.parametrize("sub", ["list", "show csis-2025-smic-target"])
def test_bad_format(runner, cli, sub: str) -> None:  # type: ignore[no-untyped-def]
    err = assert_one_line_error(
        runner.invoke(cli, ["scenarios", *sub.split(), "--format", "csv"]), 2
    )
    assert "--format" in err


def test_unknown_subcommand(runner, cli) -> None:  # type: ignore[no-untyped-def]
    err = assert_one_line_error(runner.invoke(cli, ["scenarios", "delete"]), 2)
    assert "delete" in err
