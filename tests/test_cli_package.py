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


def test_bad_file_value_names_the_file_and_key(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # a bad file is a domain error (exit 1), as a bad scenario file is
    spec = tmp_path / "bad.toml"
    spec.write_text('[[components]]\nname = "d"\ncount = 2\nbond_yield = 1.5\n', "utf-8")
    result = runner.invoke(cli, ["package", str(spec)])
    assert_one_line_error(
        result,
        1,
        f"{spec}: components[0].bond_yield must be in (0, 1] (got 1.5)",
        command="package",
    )


#: A package file that is valid but for one line, added to its only component.
_ONE_DIE = 'name = "pk"\n[[components]]\nname = "die"\ncount = 2\npart_yield = 0.5\n'


@pytest.mark.parametrize(
    ("text", "key", "table", "nearest"),
    [
        (_ONE_DIE + "yield = 1.5\n", "yield", "in components[0]", "part_yield"),
        (_ONE_DIE + "test_coverag = 0.9\n", "test_coverag", "in components[0]", "test_coverage"),
        ("substrat_cost_usd = 40.0\n" + _ONE_DIE, "substrat_cost_usd", "at the top level",
         "substrate_cost_usd"),
        (_ONE_DIE + "die = { width_mm = 10, heigth_mm = 3, wafer_cost_usd = 1 }\n", "heigth_mm",
         "in components[0].die", "height_mm"),
        ("[interposer]\nwidht_mm = 10\n" + _ONE_DIE, "widht_mm", "in interposer", "width_mm"),
    ],
)  # fmt: skip
def test_unknown_key_in_a_file_names_file_table_and_nearest_key(  # type: ignore[no-untyped-def]
    runner, cli, tmp_path: Path, text: str, key: str, table: str, nearest: str
) -> None:
    spec = tmp_path / "pk1.toml"
    spec.write_text(text, "utf-8")
    result = runner.invoke(cli, ["package", str(spec)])
    line = assert_one_line_error(
        result, 1, f"{spec}: unknown key {key!r} {table}; valid: ", command="package"
    )
    assert f"did you mean {nearest!r}?" in line
    assert "(got" not in line  # the key is not shown as a value


def test_unknown_key_far_from_any_has_no_suggestion(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    spec = tmp_path / "pk.toml"
    spec.write_text(_ONE_DIE + "zzz = 1\n", "utf-8")
    result = runner.invoke(cli, ["package", str(spec)])
    line = assert_one_line_error(result, 1, "unknown key 'zzz' in components[0]; valid: ")
    assert "did you mean" not in line and "part_yield" in line


def test_bad_package_file_exits_as_a_bad_scenario_file(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    package = tmp_path / "pk.toml"
    package.write_text(_ONE_DIE + "yield = 1.5\n", "utf-8")
    scenario = tmp_path / "s.toml"
    scenario.write_text(
        'name = "s"\ndescription = "d"\n[parameters]\nwafer_starts_per_month = 100\n'
        'gross_dies_per_wafer = 80\ndie_yield = 0.2\npackage = "pk.toml"\n',
        "utf-8",
    )
    direct = runner.invoke(cli, ["package", str(package)])
    via_scenario = runner.invoke(cli, ["funnel", str(scenario)])
    assert direct.exit_code == via_scenario.exit_code == 1
    assert "unknown key 'yield' in components[0]" in via_scenario.stderr


def test_library_unknown_key_is_an_invalid_parameter_error() -> None:
    from waferlab.errors import InvalidParameterError, UnknownKeyError
    from waferlab.package import package_from_spec

    with pytest.raises(UnknownKeyError) as info:
        package_from_spec({"components": [{"name": "d", "count": 1, "yield": 1.5}]})
    err = info.value
    assert isinstance(err, InvalidParameterError)
    assert err.parameter == "components[0].yield" and err.value == "yield"
    assert "part_yield" in err.valid


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
