"""``waferlab package``: yield build-up, consumption and cost with scrap by cause."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from _cli import assert_one_line_error

from waferlab.package import SCRAP_CAUSES


def test_json_keys_and_the_910c_back_solve(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, ["package", "ascend-910c", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["package_yield"] == pytest.approx(0.75, rel=1e-12)  # CSIS
    assert data["yield_factors"]["final"] == pytest.approx(0.75 / 0.99**10, rel=1e-12)
    parts = {c["name"]: c for c in data["components"]}
    assert parts["910B die"]["count"] == 2 and parts["910B die"]["yield"] == 0.2
    assert parts["HBM2E"]["count"] == 8
    assert set(data["scrap_usd"]) == set(SCRAP_CAUSES)
    assert data["dies_per_package"] == {"910B die": 2} and data["hbm_stacks_per_package"] == 8
    # Cost by hand: two dies at wafer cost / dies per wafer / 0.2, 8 stacks at $300, and the
    # $1,150 assembly (the csis-2025 scenarios' packaging cost), all over the 75 % package yield.
    die_cost = parts["910B die"]["known_good_cost_usd"]
    assert die_cost == pytest.approx(13552.0 / 85 / 0.2, rel=1e-12)  # 85 dies per wafer
    expected = (2 * die_cost + 8 * 300.0 + 1150.0) / 0.75
    assert data["cost_per_good_package_usd"] == pytest.approx(expected, rel=1e-12)
    total = data["raw_parts_usd"] + data["raw_package_usd"] + sum(data["scrap_usd"].values())
    assert total == pytest.approx(data["cost_per_good_package_usd"], rel=1e-12)


def test_text_shows_build_up_consumption_and_scrap(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, ["package", "h100-package"])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for needle in (
        "package yield:",
        "bond: GH100",
        "consumption per good package:",
        "cost per good package: $",
        "scrap: wasted stacks:",
        "packages started per interposer wafer:",
    ):
        assert needle in out


def test_capacity_option(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        cli,
        ["package", "h100-package", "--format", "json", "--interposer-wafers-per-month", "1000"],
    )
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    cap = data["capacity"]
    assert cap["packages_started_per_month"] == pytest.approx(
        1000 * data["packages_per_interposer_wafer"]
    )
    assert cap["good_packages_per_month"] == pytest.approx(
        cap["packages_started_per_month"] * data["package_yield"]
    )


def test_a_package_file(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "two.toml"
    spec.write_text(
        'name = "two"\n[[components]]\nname = "d"\ncount = 2\npart_yield = 0.5\n'
        "raw_cost_usd = 10.0\nbond_yield = 0.9\n",
        "utf-8",
    )
    result = runner.invoke(cli, ["package", str(spec), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["package_yield"] == pytest.approx(0.81)
    assert data["cost_per_good_package_usd"] == pytest.approx(2 * 20.0 / 0.81)
    assert math.isclose(data["scrap_usd"]["defective_parts"], 20.0)


def test_unknown_spec_is_a_usage_error(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, ["package", "ascend-999"])
    assert_one_line_error(result, 2, "spec must be one of", "h100-package", command="package")


def test_entry_without_a_description_is_a_domain_error(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, ["package", "cowos-s"])
    assert_one_line_error(result, 1, "no package description", command="package")


def test_bad_file_value_names_the_key(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "bad.toml"
    spec.write_text('[[components]]\nname = "d"\ncount = 2\nbond_yield = 1.5\n', "utf-8")
    result = runner.invoke(cli, ["package", str(spec)])
    assert_one_line_error(result, 2, "components[0].bond_yield", command="package")


def test_unreadable_toml_is_a_domain_error(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "bad.toml"
    spec.write_text("name = ", "utf-8")
    result = runner.invoke(cli, ["package", str(spec)])
    assert_one_line_error(result, 1, "not valid TOML", command="package")


def test_target_out_of_reach_is_a_domain_error(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "t.toml"
    spec.write_text(
        'target_package_yield = 0.9\n[[components]]\nname = "d"\ncount = 2\nbond_yield = 0.9\n',
        "utf-8",
    )
    result = runner.invoke(cli, ["package", str(spec)])
    assert_one_line_error(result, 1, "target_yield", command="package")


def test_capacity_without_interposer_is_a_usage_error(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, ["package", "ascend-910c", "--interposer-wafers-per-month", "5"])
    assert_one_line_error(result, 2, "--interposer-wafers-per-month", command="package")


def test_negative_capacity_is_a_usage_error(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, ["package", "h100-package", "--interposer-wafers-per-month", "-5"])
    assert_one_line_error(result, 2, "--interposer-wafers-per-month", command="package")


def test_missing_spec_is_a_usage_error(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, ["package"])
    assert_one_line_error(result, 2, "SPEC", command="package")


def test_910c_package_cost_is_the_csis_cost_ladder_at_its_die_count(runner, cli) -> None:  # type: ignore[no-untyped-def]
    # Two routes to the same good 910C package: the package model (components, bonds, scrap)
    # and the funnel's cost ladder of csis-2025-smic-target. With the same prices, they agree
    # once the scenario uses the package model's dies per wafer (85, from the die's geometry,
    # where CSIS rounds to 80).
    package = json.loads(runner.invoke(cli, ["package", "ascend-910c", "--format", "json"]).stdout)
    cost = json.loads(
        runner.invoke(
            cli, ["cost", "csis-2025-smic-target", "--set", "gross_dies_per_wafer=85",
                  "--format", "json"],
        ).stdout
    )  # fmt: skip
    assert cost["cost_per_good_package_usd"] == pytest.approx(
        package["cost_per_good_package_usd"], rel=1e-12
    )
