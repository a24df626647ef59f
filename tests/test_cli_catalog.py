"""``waferlab catalog list`` and ``waferlab catalog show``."""

from __future__ import annotations

import json

import pytest
from _cli import assert_one_line_error

from waferlab.catalog import list_entries


def test_group_without_subcommand_prints_help(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, ["catalog"])
    assert result.exit_code == 0
    assert "list" in result.stdout and "show" in result.stdout


def test_list_json_has_every_entry(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, ["catalog", "list", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    names = [row["name"] for row in json.loads(result.stdout)["entries"]]
    assert names == [e.name for e in list_entries()]


@pytest.mark.parametrize("kind", ["chip", "die", "process", "package"])
def test_list_by_kind(runner, cli, kind: str) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, ["catalog", "list", "--kind", kind])
    assert result.exit_code == 0, result.stderr
    rows = result.stdout.splitlines()[2:]
    assert rows and all(row.split()[1] == kind for row in rows)


def test_show_chip_text_names_sources_and_unknowns(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, ["catalog", "show", "ascend-910c"])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "h100_ratio_inference = 0.6  [csis-2025, 2025-03-07, reported]" in out
    assert "enabled_units = unknown (not in the sources)" in out
    assert "TPP = 12,480" in out  # 1,560 x 8
    assert "csis-2025: CSIS (G. C. Allen)" in out


def test_show_json_chip_and_process(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, ["catalog", "show", "h100-sxm", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["fields"]["dense_8bit_tops"]["value"] == 1979.0
    assert data["derived"]["tpp"]["value"] == 1979.0 * 8
    assert data["derived"]["h100_equivalents"]["dense_8bit_tops"] == 1.0
    assert {s["id"] for s in data["sources"]} >= {"nvidia-h100-whitepaper"}
    result = runner.invoke(cli, ["catalog", "show", "smic-n+2", "--format", "json"])
    rows = json.loads(result.stdout)["derived"]["implied_defect_density_per_cm2"]
    assert any(
        r["model"] == "poisson" and abs(r["defect_density_per_cm2"] - 0.2418) < 1e-4 for r in rows
    )


def test_show_package_points_to_the_package_command(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, ["catalog", "show", "h100-package"])
    assert result.exit_code == 0, result.stderr
    assert "`waferlab package h100-package`" in result.stdout


def test_unknown_name_is_a_usage_error(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, ["catalog", "show", "h100"])
    assert_one_line_error(result, 2, "name must be one of", "h100-sxm", command="catalog show")


def test_unknown_kind_is_a_usage_error(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, ["catalog", "list", "--kind", "fab"])
    assert_one_line_error(result, 2, "--kind", command="catalog list")


def test_missing_name_is_a_usage_error(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, ["catalog", "show"])
    assert_one_line_error(result, 2, "NAME", command="catalog show")


def test_bad_format_is_a_usage_error(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, ["catalog", "list", "--format", "xml"])
    assert_one_line_error(result, 2, "--format", command="catalog list")
