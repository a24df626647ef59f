"""``waferlab funnel``: every option and every error path.

Expected figures are the CSIS report's arithmetic (CSIS 2025, Allen), redone by hand.
"""

from __future__ import annotations

import csv
import io
import json
import math
import textwrap
from pathlib import Path

import pytest
from _cli import assert_one_line_error

from waferlab.scenarios import list_scenarios


def run(runner, cli, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(cli, ["funnel", *args])


def run_json(runner, cli, *args: str) -> dict:  # type: ignore[no-untyped-def, type-arg]
    result = run(runner, cli, *args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def stage(data: dict, name: str) -> float:  # type: ignore[type-arg]
    matches = [s for s in data["stages"] if s["name"] == name]
    assert len(matches) == 1, name
    return float(matches[0]["quantity"])


# --------------------------------------------------------------------------- output formats


def test_text_shows_stages_summary_and_published_comparison(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = run(runner, cli, "csis-2025-smic-target")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert out.startswith("csis-2025-smic-target: CSIS (Allen, Mar 2025)")
    for name in ("wafer starts", "gross dies", "good dies", "good packages", "tested units"):
        assert name in out
    assert "300,000 tested units over 1 month" in out
    assert "binding constraint: die supply (HBM unconstrained)" in out
    # the report's figures next to the funnel's
    row = next(line for line in out.splitlines() if line.startswith("good_packages"))
    assert row.split()[1:] == ["300,000", "300,000"]


def test_json_has_the_documented_keys(runner, cli) -> None:  # type: ignore[no-untyped-def]
    data = run_json(runner, cli, "csis-2025-smic-target")
    for s in data["stages"]:
        assert {"name", "unit", "quantity", "loss"} <= set(s)
    # CSIS 2025: 4 M dies, 800,000 good, 400,000 packages, 300,000 after 75 %
    assert stage(data, "gross dies") == 4_000_000
    assert stage(data, "good dies") == 800_000
    assert stage(data, "packages before packaging loss") == 400_000
    assert stage(data, "good packages") == 300_000
    assert data["final_units"] == 300_000
    assert data["binding_constraint"] == "none"
    assert data["scenario"] == "csis-2025-smic-target"
    # resolved parameters, every one with a source (defaults say so)
    assert set(data["parameters"]) == set(data["sources"])
    assert data["parameters"]["wafer_starts_per_month"] == 50_000
    assert "Allen" in data["sources"]["die_yield"]
    assert data["sources"]["test_yield"].startswith("waferlab default")
    assert data["published"]["good_packages"] == 300_000


def test_json_stage_losses_add_up(runner, cli) -> None:  # type: ignore[no-untyped-def]
    data = run_json(runner, cli, "semianalysis-2025-hbm-bound")
    for s in data["stages"]:
        parts = s["quantity"] + s["loss"] + s["allocated"] + s["carried_over"] + s["rounding"]
        assert s["quantity_in"] == pytest.approx(parts)
    assert data["binding_constraint"] == "hbm"
    # dies held back by HBM are kept in stock, not lost (5,770,000 - 1,875,000 packages' worth)
    held = next(s for s in data["stages"] if s["name"] == "packages before packaging loss")
    assert (held["loss"], held["carried_over"]) == (0.0, 5_770_000 - 1_875_000)
    shares = next(s for s in data["stages"] if s["name"] == "wafer starts")
    assert shares["loss"] == 0.0
    assert stage(data, "packages before packaging loss") == (13_000_000 + 2_000_000) / 8


def test_csv_has_one_row_per_stage(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = run(runner, cli, "csis-2025-smic-target", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["stage"] for r in rows][:3] == ["wafer starts", "gross dies", "good dies"]
    by_stage = {r["stage"]: r for r in rows}
    assert float(by_stage["good packages"]["quantity"]) == 300_000
    assert float(by_stage["good packages"]["loss"]) == 100_000
    assert set(rows[0]) >= {"stage", "unit", "quantity_in", "quantity", "loss"}


@pytest.mark.parametrize("name", list_scenarios())
def test_every_preset_runs(runner, cli, name: str) -> None:  # type: ignore[no-untyped-def]
    data = run_json(runner, cli, name)
    assert data["final_units"] > 0


# --------------------------------------------------------------------------- --set and --months


def test_set_number(runner, cli) -> None:  # type: ignore[no-untyped-def]
    data = run_json(runner, cli, "csis-2025-smic-target", "--set", "wafer_starts_per_month=20_000")
    # by hand: 20,000 x 80 x 0.2 / 2 x 0.75
    assert data["final_units"] == 120_000
    assert data["sources"]["wafer_starts_per_month"] == "set on the command line (--set)"


def test_set_repeated_and_order_independent(runner, cli) -> None:  # type: ignore[no-untyped-def]
    args = ["--set", "die_yield=none", "--set", "defect_density_per_cm2=0.09"]
    args += ["--set", "yield_model=murphy"]
    a = run_json(runner, cli, "csis-2025-smic-target", *args)
    b = run_json(runner, cli, "csis-2025-smic-target", *reversed_pairs(args))
    assert a["final_units"] == b["final_units"]
    assert a["parameters"]["yield_model"] == "murphy"
    assert a["parameters"]["die_yield"] is None
    import math

    lam = 0.09 * 21.32 * 31.22 / 100  # Murphy 1964 by hand
    assert a["die_yield"] == pytest.approx(((1 - math.exp(-lam)) / lam) ** 2, rel=1e-12)


def reversed_pairs(args: list[str]) -> list[str]:
    pairs = [args[i : i + 2] for i in range(0, len(args), 2)]
    return [item for pair in reversed(pairs) for item in pair]


def test_set_quoted_string_and_table(runner, cli) -> None:  # type: ignore[no-untyped-def]
    data = run_json(
        runner,
        cli,
        "csis-2025-smic-target",
        "--set",
        "die_yield=none",
        "--set",
        "defect_density_per_cm2=0.2",
        "--set",
        'yield_model="negative_binomial"',
        "--set",
        "yield_model_parameters={ alpha = 1.0 }",
    )
    # NB with alpha = 1 is Seeds: 1 / (1 + λ)
    lam = 0.2 * 21.32 * 31.22 / 100
    assert data["die_yield"] == pytest.approx(1 / (1 + lam), rel=1e-12)


def test_set_none_computes_dies_per_wafer_from_geometry(runner, cli) -> None:  # type: ignore[no-untyped-def]
    data = run_json(runner, cli, "csis-2025-smic-target", "--set", "gross_dies_per_wafer=none")
    assert data["gross_dies_source"] == "exact placement"
    assert data["sources"]["gross_dies_per_wafer"].startswith("waferlab default")


def test_set_boolean(runner, cli) -> None:  # type: ignore[no-untyped-def]
    args = ["--set", "harvestable_fraction=0.5", "--set", "package_degraded_dies=true"]
    data = run_json(runner, cli, "csis-2025-smic-target", *args)
    assert data["parameters"]["package_degraded_dies"] is True
    # Poisson with Y = 0.2: λ = ln 5; one defect in the harvestable half leaves a
    # degraded die with probability λ h e^-λ = 0.2 · 0.5 · ln 5.
    usable = 0.2 + 0.2 * 0.5 * math.log(5.0)
    assert stage(data, "die supply") == pytest.approx(50_000 * 80 * usable, rel=1e-9)


def test_months(runner, cli) -> None:  # type: ignore[no-untyped-def]
    data = run_json(runner, cli, "csis-2025-smic-target", "--months", "12")
    assert data["months"] == 12
    assert data["final_units"] == 12 * 300_000
    assert data["final_units_per_month"] == 300_000
    assert data["sources"]["months"] == "set on the command line (--months)"


def test_months_wins_over_set(runner, cli) -> None:  # type: ignore[no-untyped-def]
    data = run_json(runner, cli, "csis-2025-smic-target", "--set", "months=3", "--months", "2")
    assert data["months"] == 2


def test_user_file_by_path(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "mine.toml"
    path.write_text(
        textwrap.dedent(
            """
            name = "mine"
            description = "Mine."
            inherits = "csis-2025-smic-target"
            [parameters]
            die_yield = 0.4
            """
        )
    )
    data = run_json(runner, cli, str(path))
    assert data["scenario"] == "mine"
    assert data["final_units"] == 50_000 * 80 * 0.4 / 2 * 0.75
    assert data["sources"]["die_yield"] == "no source given"


def test_plot_is_written(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "funnel.png"
    result = run(runner, cli, "semianalysis-2025-hbm-bound", "--plot", str(target))
    assert result.exit_code == 0, result.stderr
    assert target.read_bytes().startswith(b"\x89PNG")


# --------------------------------------------------------------------------- errors


def test_unknown_scenario_lists_the_names(runner, cli) -> None:  # type: ignore[no-untyped-def]
    err = assert_one_line_error(run(runner, cli, "csis-2025"), 2)
    assert "scenario must be one of" in err
    for name in list_scenarios():
        assert name in err


def test_missing_scenario_file(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    err = assert_one_line_error(run(runner, cli, str(tmp_path / "nope.toml")), 2)
    assert "nope.toml" in err


def test_missing_argument(runner, cli) -> None:  # type: ignore[no-untyped-def]
    err = assert_one_line_error(run(runner, cli), 2)
    assert "SCENARIO" in err


@pytest.mark.parametrize("item", ["die_yield", "=0.3", "die_yield=", " =1"])
def test_malformed_set(runner, cli, item: str) -> None:  # type: ignore[no-untyped-def]
    err = assert_one_line_error(run(runner, cli, "csis-2025-smic-target", "--set", item), 2)
    assert "--set" in err
    assert "expected KEY=VALUE" in err


def test_set_unknown_key(runner, cli) -> None:  # type: ignore[no-untyped-def]
    err = assert_one_line_error(
        run(runner, cli, "csis-2025-smic-target", "--set", "die_yeild=0.3"), 2
    )
    assert "--set" in err
    assert "did you mean 'die_yield'" in err


def test_set_fraction_out_of_range(runner, cli) -> None:  # type: ignore[no-untyped-def]
    err = assert_one_line_error(
        run(runner, cli, "csis-2025-smic-target", "--set", "die_yield=1.5"), 2
    )
    assert "die_yield must be in [0, 1] (got 1.5)" in err


def test_set_dated_point_out_of_range_names_the_point(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # the series from 0.2 (Jan) to 1.5 (Dec) first exceeds 1 in August (1.027...); the
    # error names the point set on the command line instead
    path = tmp_path / "t.toml"
    path.write_text(
        'name = "t"\ndescription = "d"\n[parameters]\nwafer_starts_per_month = 1000\n'
        'months = 12\nstart_month = "2025-01"\ngross_dies_per_wafer = 80\n'
        '[timeline]\ndie_yield = { "2025-01" = 0.2, "2025-12" = 0.9 }\n',
        "utf-8",
    )
    result = run(runner, cli, str(path), "--set", "die_yield.2025-12=1.5")
    err = assert_one_line_error(result, 2, command="funnel")
    assert '[timeline] die_yield: "2025-12" = 1.5 must be in [0, 1]' in err
    assert "1.027" not in err


def test_set_wrong_type(runner, cli) -> None:  # type: ignore[no-untyped-def]
    err = assert_one_line_error(
        run(runner, cli, "csis-2025-smic-target", "--set", "wafer_starts_per_month=lots"), 2
    )
    assert "wafer_starts_per_month must be a number, got string 'lots'" in err


def test_set_negative_count(runner, cli) -> None:  # type: ignore[no-untyped-def]
    err = assert_one_line_error(run(runner, cli, "csis-2025-smic-target", "--set", "months=-1"), 2)
    assert "months must be an integer in [1, 1200] (got -1)" in err


def test_set_conflicting_values(runner, cli) -> None:  # type: ignore[no-untyped-def]
    err = assert_one_line_error(
        run(runner, cli, "csis-2025-smic-target", "--set", "defect_density_per_cm2=0.1"), 2
    )
    assert "not both" in err


def test_set_unknown_yield_model(runner, cli) -> None:  # type: ignore[no-untyped-def]
    args = ["--set", "die_yield=none", "--set", "defect_density_per_cm2=0.1"]
    result = run(runner, cli, "csis-2025-smic-target", *args, "--set", "yield_model=murphi")
    err = assert_one_line_error(result, 2)
    assert "murphi" in err


@pytest.mark.parametrize("months", ["0", "-3", "1.5", "x", "1201", "1000000"])
def test_bad_months(runner, cli, months: str) -> None:  # type: ignore[no-untyped-def]
    err = assert_one_line_error(run(runner, cli, "csis-2025-smic-target", "--months", months), 2)
    assert "--months" in err


def test_months_help_shows_the_range(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = run(runner, cli, "--help")
    assert result.exit_code == 0
    assert "[1<=x<=1200]" in result.stdout  # MAX_MONTHS: 100 years


def test_months_above_the_bound_is_a_usage_error_naming_the_option(runner, cli) -> None:  # type: ignore[no-untyped-def]
    err = assert_one_line_error(
        run(runner, cli, "csis-2025-smic-target", "--months", "1000000"), 2, command="funnel"
    )
    assert "Invalid value for '--months'" in err
    assert "[parameters]" not in err


def test_huge_block_count_is_refused_at_once(runner, cli) -> None:  # type: ignore[no-untyped-def]
    args = ["--set", "harvestable_fraction=0.5", "--set", "harvest_n_blocks=1000000000"]
    result = run(runner, cli, "csis-2025-smic-target", *args, "--set", "package_degraded_dies=true")
    assert_one_line_error(result, 2, "harvest_n_blocks must be an integer in [1, 4096]")


def test_more_bad_blocks_than_blocks(runner, cli) -> None:  # type: ignore[no-untyped-def]
    args = ["--set", "harvestable_fraction=0.5", "--set", "harvest_n_blocks=25"]
    result = run(runner, cli, "csis-2025-smic-target", *args, "--set", "harvest_max_bad_blocks=26")
    assert_one_line_error(result, 2, "harvest_max_bad_blocks must be an integer in [0, 25]")


def test_package_degraded_dies_without_harvestable_fraction(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = run(runner, cli, "csis-2025-smic-target", "--set", "package_degraded_dies=true")
    assert_one_line_error(result, 2, "package_degraded_dies needs harvestable_fraction")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("2024-01-01", "got the date 2024-01-01"),
        ("2024-01-01T09:30:00", "got the date-time 2024-01-01T09:30:00"),
        ("09:30:00", "got the time 09:30:00"),
        ("[0.2, 0.3]", "got an array"),
        ("{ a = 1 }", "got a table"),
    ],
)
def test_set_toml_value_kinds_are_named_in_words(runner, cli, value: str, shown: str) -> None:  # type: ignore[no-untyped-def]
    result = run(runner, cli, "csis-2025-smic-target", "--set", f"die_yield={value}")
    err = assert_one_line_error(result, 2, "die_yield must be a number", shown)
    assert "datetime" not in err and "(" not in err.split("got", 1)[1]


def test_bad_format(runner, cli) -> None:  # type: ignore[no-untyped-def]
    err = assert_one_line_error(run(runner, cli, "csis-2025-smic-target", "--format", "xml"), 2)
    assert "--format" in err


def test_bad_file_names_file_and_key(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.toml"
    path.write_text('name = "bad"\ndescription = "d"\n[parameters]\nwafer_starts_per_mnth = 1\n')
    err = assert_one_line_error(run(runner, cli, str(path)), 1)
    assert str(path) in err
    assert "'wafer_starts_per_mnth'" in err
    assert "did you mean 'wafer_starts_per_month'" in err


def test_toml_syntax_error_is_a_domain_error(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.toml"
    path.write_text('name = "bad"\ndescription = \n')
    err = assert_one_line_error(run(runner, cli, str(path)), 1)
    assert str(path) in err
    assert "line 2" in err


def test_bad_plot_suffix_leaves_no_output(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "funnel.txt"
    err = assert_one_line_error(run(runner, cli, "csis-2025-smic-target", "--plot", str(target)), 2)
    assert "--plot" in err
    assert not target.exists()


def test_plot_into_missing_directory(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "missing" / "funnel.png"
    assert_one_line_error(run(runner, cli, "csis-2025-smic-target", "--plot", str(target)), 1)
    assert not target.exists()


# --- problems found by a new-user review ---------------------------------------------


def test_die_that_does_not_fit_is_a_domain_error(runner, cli) -> None:  # type: ignore[no-untyped-def]
    # Before: exit 0 with "0 tested units"; `waferlab dies` already said "does not fit".
    result = run(
        runner,
        cli,
        "csis-2025-smic-target",
        "--set",
        "gross_dies_per_wafer=none",
        "--set",
        "die_width_mm=400",
        "--set",
        "die_height_mm=400",
    )
    err = assert_one_line_error(result, 1)
    assert "400 x 400 mm die does not fit" in err


def test_absurd_wafer_starts_on_the_command_line_are_a_usage_error(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = run(runner, cli, "csis-2025-smic-target", "--set", "wafer_starts_per_month=1e300")
    err = assert_one_line_error(result, 2)
    assert "wafer_starts_per_month must be at most 1e9" in err


def test_absurd_wafer_starts_in_a_file_name_the_file_and_key(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "huge.toml"
    path.write_text(
        'name = "huge"\ndescription = "Too many wafers."\n'
        'inherits = "csis-2025-smic-target"\n'
        "[parameters]\nwafer_starts_per_month = 1e308\n",
        encoding="utf-8",
    )
    err = assert_one_line_error(run(runner, cli, str(path)), 1)
    assert str(path) in err
    assert "wafer_starts_per_month must be at most 1e9" in err


def test_default_alpha_is_shown(runner, cli) -> None:  # type: ignore[no-untyped-def]
    args = ["tsmc-n7-counterfactual", "--set", "yield_model=negative_binomial"]
    result = run(runner, cli, *args)
    assert result.exit_code == 0, result.stderr
    assert "alpha = 2 (default)" in result.stdout
    data = run_json(runner, cli, *args)
    assert data["yield_parameters"]["alpha"] == 2.0


def test_missing_model_parameter_is_a_usage_error_saying_what_to_set(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = run(runner, cli, "tsmc-n7-counterfactual", "--set", "yield_model=bose_einstein")
    err = assert_one_line_error(result, 2)
    assert "--set 'yield_model_parameters={n_layers=10}'" in err
    assert "None" not in err
    # ... and the suggested inline table works through --set:
    data = run_json(
        runner,
        cli,
        "tsmc-n7-counterfactual",
        "--set",
        "yield_model=bose_einstein",
        "--set",
        "yield_model_parameters={n_layers=10}",
    )
    assert data["yield_parameters"]["n_layers"] == 10.0
    good = next(s for s in data["stages"] if s["name"] == "good dies")
    assert "n_layers = 10:" in good["note"]


def test_scenario_yield_model_takes_the_per_layer_convention_by_name(runner, cli) -> None:  # type: ignore[no-untyped-def]
    args = ["tsmc-n7-counterfactual", "--set", "yield_model=bose_einstein_per_layer"]
    args += ["--set", "yield_model_parameters={n_layers=10}"]
    data = run_json(runner, cli, *args)
    inputs = data["inputs"]
    area = inputs["die_area_mm2"] or inputs["die_width_mm"] * inputs["die_height_mm"]
    # the scenario's D0 read per layer: (1 + A·D)^-10, written out
    expected = (1 + area / 100 * inputs["defect_density_per_cm2"]) ** -10
    assert data["die_yield"] == pytest.approx(expected, rel=1e-12)
    good = next(s for s in data["stages"] if s["name"] == "good dies")
    assert "bose_einstein_per_layer yield at D_layer = " in good["note"]


def test_model_parameters_with_a_given_die_yield_are_a_usage_error(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = run(runner, cli, "csis-2025-smic-target", "--set", "yield_model_parameters={alpha=2}")
    err = assert_one_line_error(result, 2)
    assert "die_yield is given, so the yield model is not used" in err


def test_density_with_a_given_die_yield_says_how_to_use_the_model(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = run(runner, cli, "csis-2025-smic-target", "--set", "defect_density_per_cm2=0.2")
    err = assert_one_line_error(result, 2)
    assert "give die_yield or defect_density_per_cm2, not both" in err
    assert "--set die_yield=none" in err
    assert "None" not in err


def test_huge_published_figure_prints_in_scientific_notation(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "pub.toml"
    path.write_text(
        'name = "pub"\ndescription = "A huge published figure."\n'
        'inherits = "csis-2025-smic-target"\n'
        '[published]\nsource = "test"\ngood_dies = 1e300\n',
        encoding="utf-8",
    )
    result = run(runner, cli, str(path))
    assert result.exit_code == 0, result.stderr
    assert "1e+300" in result.stdout
    assert "000,000,000,000,000,000,000" not in result.stdout


def test_published_stage_figures_are_not_compared_across_changed_spans(runner, cli) -> None:  # type: ignore[no-untyped-def]
    # CSIS's 4,000,000 dies are per month; twelve months must not be set beside them
    result = run(runner, cli, "csis-2025-smic-target", "--months", "12")
    assert result.exit_code == 0, result.stderr
    assert "48,000,000" not in result.stdout.split("published figures")[1]
    assert "compared only for the scenario as published" in result.stdout
    assert "changed on the command line: months = 12" in result.stdout
    plain = run(runner, cli, "csis-2025-smic-target")
    assert "4,000,000    4,000,000" in plain.stdout  # unchanged: compared


def test_overrides_and_assumed_prices_are_shown(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = run(runner, cli, "csis-2025-smic-target", "--set", "die_yield=0.3")
    assert "changed on the command line: die_yield = 0.3" in result.stdout
    cost = runner.invoke(cli, ["cost", "csis-2025-smic-target"])
    assert cost.exit_code == 0
    assert "costs assumed: wafer_cost_usd = 13,552, hbm_cost_usd_per_stack = 300" in cost.stdout
