"""Regression tests for the hardening issue: each reproducer of the fuzzing campaign,
and the trust model of scenario files (docs/scenarios.md, "Trust model for shared
scenario files")."""

from __future__ import annotations

import json
import math
import os
import textwrap
from pathlib import Path

import numpy as np
import pytest
from _cli import assert_one_line_error

from waferlab.calibration import _margin, feasible_range, select
from waferlab.errors import InvalidParameterError, ScenarioError, check_array, check_real
from waferlab.harvest import harvest_bins
from waferlab.observations import (
    MAX_OBSERVATIONS,
    MAX_OBSERVATIONS_FILE_BYTES,
    ObservationFileError,
    load_dataset,
    load_observations,
)
from waferlab.scenarios import load_scenario
from waferlab.scenarios.loader import MAX_SCENARIO_BYTES, MAX_SCENARIO_DEPTH

HEAD = 'name = "t"\ndescription = "A test scenario."\n'
PARAMETERS = "[parameters]\nwafer_starts_per_month = 1000\ngross_dies_per_wafer = 80\n"
VALID = HEAD + PARAMETERS + "die_yield = 0.2\n"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- negative zero


@pytest.mark.parametrize("field", ["harvestable_fraction", "defect_density_per_cm2"])
def test_harvest_bins_negative_zero_gives_no_nan(field: str) -> None:
    # Reproducer: harvest ... --harvestable-fraction -0 --n-blocks 25 --model negative_binomial
    # printed "nan %". With h = 0 nothing is harvestable, so degraded is exactly 0 and the
    # bins are those of the plain model; with D0 = 0 every die is fully good.
    values = {"harvestable_fraction": 0.5, "defect_density_per_cm2": 0.2, field: -0.0}
    bins = harvest_bins(
        "negative_binomial",
        665.61,
        values["defect_density_per_cm2"],
        harvestable_fraction=values["harvestable_fraction"],
        n_blocks=25,
        alpha=2.0,
    )
    assert bins.degraded == 0.0 and math.copysign(1.0, bins.degraded) == 1.0
    lam = 665.61 / 100 * values["defect_density_per_cm2"]
    assert bins.fully_good == pytest.approx((1 + lam / 2.0) ** -2.0, rel=1e-12)
    assert bins.dead == pytest.approx(1.0 - bins.fully_good, abs=1e-15)


def test_validators_turn_negative_zero_into_zero() -> None:
    assert math.copysign(1.0, check_real("x", -0.0, low=0.0)) == 1.0
    assert np.all(np.signbit(check_array("x", [-0.0, 0.0, 1.0], low=0.0)) == [False] * 3)


def test_cli_harvest_negative_zero(runner, cli) -> None:  # type: ignore[no-untyped-def]
    args = ["harvest", "--die-area-mm2", "665.61", "--defect-density-per-cm2", "0.2"]
    args += ["--harvestable-fraction", "-0", "--n-blocks", "25", "--model", "negative_binomial"]
    result = runner.invoke(cli, [*args, "--alpha", "2", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assert "nan" not in result.stdout.lower() and "-0.0" not in result.stdout
    data = json.loads(result.stdout)
    assert data["degraded"] == 0.0


# --------------------------------------------------------------------------- number text


@pytest.mark.parametrize("command", ["funnel", "cost"])
def test_set_with_5000_digits_is_a_usage_error(runner, cli, command: str) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        cli, [command, "csis-2025-smic-target", "--set", "die_yield=" + "1" * 5000]
    )
    line = assert_one_line_error(result, 2, "--set", "die_yield", command=command)
    assert len(line) < 400  # the value is not echoed


def test_set_with_a_4000_digit_integer_is_refused(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        cli, ["cost", "csis-2025-smic-target", "--set", "die_yield=" + "7" * 4000]
    )
    line = assert_one_line_error(result, 2, "die_yield", "4000 digits", command="cost")
    assert "7777777777" not in line


# Arabic-Indic, extended Arabic-Indic, Devanagari and full-width digits.
NON_ASCII_NUMBERS = ["٢١", "۲۱", "२१", "２１", "2１", "１e3", "٠٫٥"]


@pytest.mark.parametrize("text", NON_ASCII_NUMBERS)
def test_non_ascii_digits_are_refused_for_real_options(runner, cli, text: str) -> None:  # type: ignore[no-untyped-def]
    # Decision (docs/cli.md): numbers are written with ASCII digits, as in TOML and JSON.
    result = runner.invoke(cli, ["dies", "--die-width-mm", text, "--die-height-mm", "31"])
    assert_one_line_error(result, 2, "--die-width-mm", "ASCII digits", command="dies")


@pytest.mark.parametrize("text", ["２", "٢٥", "2５"])
def test_non_ascii_digits_are_refused_for_integer_options(runner, cli, text: str) -> None:  # type: ignore[no-untyped-def]
    args = ["harvest", "--die-area-mm2", "600", "--defect-density-per-cm2", "0.1"]
    result = runner.invoke(cli, [*args, "--harvestable-fraction", "0.5", "--n-blocks", text])
    assert_one_line_error(result, 2, "--n-blocks", "ASCII digits", command="harvest")


def test_over_long_number_text_is_refused(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(
        cli, ["dies", "--die-width-mm", "0." + "1" * 5000, "--die-height-mm", "9"]
    )
    line = assert_one_line_error(result, 2, "--die-width-mm", command="dies")
    assert len(line) < 300


def test_csv_observation_with_non_ascii_digits_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "obs.csv"
    path.write_text("name,die_area_mm2,yield\nGA100,٨٢٦,0.415\n", encoding="utf-8")
    with pytest.raises(ObservationFileError, match="ASCII digits"):
        load_observations(path)


# --------------------------------------------------------------------------- calibrate


def test_calibrate_huge_tolerance_answers(runner, cli) -> None:  # type: ignore[no-untyped-def]
    # Reproducer: an OverflowError from exp(1e308). Every alpha is then feasible.
    args = ["calibrate", "--tolerance", "1e308", "--model", "negative_binomial"]
    args += ["--feasible-range", "alpha", "--process", "SMIC N+2", "--format", "json"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.stderr
    (fit,) = json.loads(result.stdout)["fits"]
    assert fit["feasible_range"]["intervals"] == [[0.01, 1000.0]]


def _margin_by_pairs(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """The O(n²) definition, by a plain loop: min(min_j hi_j, min_{i≠j} hi_j - lo_i)."""
    n, g = lo.shape
    out = np.empty(g)
    for k in range(g):
        best = min(hi[:, k])
        for i in range(n):
            for j in range(n):
                if i != j:
                    with np.errstate(invalid="ignore"):
                        gap = hi[j, k] - lo[i, k]
                    best = min(best, -math.inf if math.isnan(gap) else gap)
        out[k] = best
    return out


@pytest.mark.parametrize("seed", range(5))
def test_linear_margin_equals_the_pairwise_definition(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, g = int(rng.integers(2, 9)), 7
    lo = rng.uniform(0, 1, (n, g))
    hi = lo + rng.uniform(-0.5, 1, (n, g))
    lo[rng.uniform(size=(n, g)) < 0.15] = np.inf  # ends beyond any finite D0
    hi[rng.uniform(size=(n, g)) < 0.15] = np.inf
    lo[:, 0] = lo[0, 0]  # ties for the largest lo
    np.testing.assert_array_equal(_margin(lo, hi), _margin_by_pairs(lo, hi))


def test_feasible_range_keeps_its_answer_with_many_observations() -> None:
    # The same two SMIC observations repeated 1,500 times (names made unique) must give
    # the feasible range of the two: repetition adds no constraint.
    from dataclasses import replace

    smic = select(load_dataset("csis-2025"), process="SMIC N+2")
    many = [replace(o, name=f"{o.name} #{k}") for k in range(1500) for o in smic]
    few = feasible_range(smic, "poisson", "gross_yield")
    lots = feasible_range(many, "poisson", "gross_yield")
    assert len(lots.intervals) == len(few.intervals) == 1
    assert lots.intervals[0] == pytest.approx(few.intervals[0], rel=1e-9)


def test_observation_row_limit(tmp_path: Path) -> None:
    path = tmp_path / "obs.csv"
    rows = "".join(f"o{k},100,0.5\n" for k in range(MAX_OBSERVATIONS + 1))
    path.write_text("name,die_area_mm2,yield\n" + rows, encoding="utf-8")
    with pytest.raises(ObservationFileError, match="more than 10,000 observations"):
        load_observations(path)


def test_observation_file_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "obs.json"
    path.write_bytes(b"[" + b" " * MAX_OBSERVATIONS_FILE_BYTES + b"]")
    with pytest.raises(ObservationFileError, match="larger than"):
        load_observations(path)


def test_observation_text_field_limit(tmp_path: Path) -> None:
    path = tmp_path / "obs.csv"
    path.write_text("name,die_area_mm2,yield,note\nA,100,0.5," + "n" * 20_000 + "\n")
    with pytest.raises(ObservationFileError, match="at most 10000 characters") as info:
        load_observations(path)
    assert len(str(info.value)) < 300


# --------------------------------------------------------------------------- scenario files


def test_scenario_path_with_unknown_user(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, ["funnel", "~nosuchuser/x.toml"])
    assert_one_line_error(result, 2, "~nosuchuser", command="funnel")


def test_scenario_path_with_nul() -> None:
    with pytest.raises(InvalidParameterError, match="NUL"):
        load_scenario("~\x00x")


def test_deeply_nested_toml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.toml"
    path.write_text(HEAD + "notes = " + "[" * 1000 + "]" * 1000 + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="nested deeper than"):
        load_scenario(path)


def test_nesting_limit_is_exact(tmp_path: Path) -> None:
    # x is at depth 1, so n nested arrays reach depth n: the limit allows n = MAX_SCENARIO_DEPTH.
    path = tmp_path / "deep.toml"
    n = MAX_SCENARIO_DEPTH
    path.write_text(HEAD + "x = " + "[" * n + "]" * n + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="unknown top-level key 'x'"):
        load_scenario(path)
    path.write_text(HEAD + "x = " + "[" * (n + 1) + "]" * (n + 1) + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="nested deeper than"):
        load_scenario(path)


def test_scenario_file_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    path.write_text(VALID + "#" * MAX_SCENARIO_BYTES + "\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="larger than 1,048,576 bytes"):
        load_scenario(path)


def test_scenario_string_limit(tmp_path: Path) -> None:
    path = write(
        tmp_path / "long.toml",
        VALID.replace("[parameters]", f'notes = "{"x" * 20_000}"\n[parameters]'),
    )
    with pytest.raises(ScenarioError, match="notes is a string of 20,000 characters") as info:
        load_scenario(path)
    assert "xxxxxxxxxx" not in str(info.value)


def test_scenario_huge_integer_in_a_file(tmp_path: Path) -> None:
    path = write(tmp_path / "t.toml", HEAD + PARAMETERS + "die_yield = " + "9" * 5000 + "\n")
    with pytest.raises(ScenarioError, match="out of range"):
        load_scenario(path)


# --------------------------------------------------------------------------- inherits box


def _child(folder: Path, target: str) -> Path:
    return write(folder / "child.toml", HEAD + f"inherits = {json.dumps(target)}\n" + PARAMETERS)


def _secret(path: Path) -> Path:
    # scenario-shaped, with a first key that would leak in an "unknown key" message
    return write(path, 'api_token = "s3cret"\n' + VALID.replace("0.2", "0.123456"))


@pytest.mark.parametrize(
    "target",
    [
        "../secret.toml",
        "sub/../../secret.toml",
        "~/secret.toml",
        "/proc/self/environ",
        "/etc/passwd",
        "sub/secret.txt",
        "sub/secret",
    ],
)
def test_inherits_outside_the_box_is_refused(tmp_path: Path, target: str) -> None:
    _secret(tmp_path / "secret.toml")
    _secret(tmp_path / "box" / "sub" / "secret.txt")
    (tmp_path / "box" / "sub" / "secret").write_text(VALID)
    child = _child(tmp_path / "box", target)
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    message = str(info.value)
    assert "inherits" in message and "its own folder or below it" in message
    for leak in ("api_token", "s3cret", "0.123456", str(Path.home()), "no such file"):
        assert leak not in message


def test_inherits_absolute_path_inside_the_box_is_refused_too(tmp_path: Path) -> None:
    base = _secret(tmp_path / "base.toml")
    with pytest.raises(ScenarioError, match="relative path"):
        load_scenario(_child(tmp_path, str(base)))


def test_inherits_symlink_out_of_the_box_is_refused(tmp_path: Path) -> None:
    _secret(tmp_path / "outside" / "secret.toml")
    (tmp_path / "box").mkdir()
    os.symlink(tmp_path / "outside" / "secret.toml", tmp_path / "box" / "link.toml")
    os.symlink(tmp_path / "outside", tmp_path / "box" / "dir")
    for target in ("link.toml", "dir/secret.toml"):
        with pytest.raises(ScenarioError, match="symbolic links resolved") as info:
            load_scenario(_child(tmp_path / "box", target))
        assert "0.123456" not in str(info.value)


def test_inherits_inside_the_box_works_through_a_symlink(tmp_path: Path) -> None:
    write(tmp_path / "box" / "real" / "base.toml", VALID)
    os.symlink(tmp_path / "box" / "real", tmp_path / "box" / "alias")
    scenario = load_scenario(_child(tmp_path / "box", "alias/base.toml"))
    assert scenario.parameters["die_yield"] == 0.2


def test_inherits_a_builtin_by_name_still_works(tmp_path: Path) -> None:
    scenario = load_scenario(_child(tmp_path, "csis-2025-smic-target"))
    assert scenario.parameters["gross_dies_per_wafer"] == 80


def test_missing_file_inside_the_box_is_named(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenario(_child(tmp_path, "sub/none.toml"))


def test_cli_inherits_escape_is_one_line(runner, cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _secret(tmp_path / "secret.toml")
    child = _child(tmp_path / "box", "../secret.toml")
    result = runner.invoke(cli, ["funnel", str(child)])
    line = assert_one_line_error(result, 1, "inherits", command="funnel")
    assert "api_token" not in line and "0.123456" not in line


# --------------------------------------------------------------------------- harvest extremes


@pytest.mark.parametrize("alpha", [1e-9, 1e-3, 1e12, 1e13, 2.709350531158305e154, 1e308])
def test_harvest_bins_extreme_alpha_sum_to_one(alpha: float) -> None:
    # Found by the fuzz suite: alpha = 1.8e-76 gave good = dead = 1, alpha = 2.7e154 NaN.
    bins = harvest_bins("negative_binomial", 1.0, 1.0, harvestable_fraction=1.0, alpha=alpha)
    parts = [bins.fully_good, bins.degraded, bins.dead]
    assert all(0.0 <= p <= 1.0 for p in parts)
    assert sum(parts) == pytest.approx(1.0, abs=1e-12)
    # independent closed form of the fully-good bin: (1 + λ/α)^-α, λ = 0.01
    assert bins.fully_good == pytest.approx(math.exp(-alpha * math.log1p(0.01 / alpha)), rel=1e-9)
    if alpha >= 1e12:  # the Poisson limit: one defect on the die, P = λ e^-λ
        assert bins.degraded == pytest.approx(0.01 * math.exp(-0.01), rel=1e-9)
    assert bins.parameters["alpha"] == alpha


def test_harvest_bins_refuses_alpha_below_its_bound() -> None:
    with pytest.raises(InvalidParameterError, match="alpha must be >= 1e-09"):
        harvest_bins("negative_binomial", 1.0, 1.0, harvestable_fraction=1.0, alpha=1.8e-76)


def test_over_long_names_are_refused_cleanly(tmp_path: Path) -> None:
    # Found by the fuzz suite: a 300-character inherits name raised OSError (ENAMETOOLONG).
    with pytest.raises(ScenarioError, match="no such file"):
        load_scenario(_child(tmp_path, "." * 300 + ".toml"))
    with pytest.raises(InvalidParameterError, match="scenario"):
        load_scenario("x" * 300 + ".toml")


@pytest.mark.parametrize("h", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("model", ["poisson", "negative_binomial"])
def test_harvest_bins_with_an_overflowing_defect_load(model: str, h: float) -> None:
    # Found by the fuzz suite: area = D0 = 1.34e155 (λ overflows to inf) gave NaN bins.
    extra = {"alpha": 2.0} if model == "negative_binomial" else {}
    bins = harvest_bins(model, 1.34e155, 1.34e155, harvestable_fraction=h, **extra)
    assert (bins.fully_good, bins.degraded, bins.dead) == (0.0, 0.0, 1.0)


@pytest.mark.parametrize("field", ["test_yield", "packaging_yield"])
def test_cost_with_a_subnormal_yield_is_a_clean_error(field: str) -> None:
    # Found by the fuzz suite: test_yield = 1e-320 gave a cost per tested unit of inf.
    from waferlab import CostInputs, FunnelInputs, cost_breakdown, run_funnel
    from waferlab.errors import WaferlabError

    base = {"wafer_starts_per_month": 1.0, "gross_dies_per_wafer": 1.0, "die_yield": 1.0}
    funnel = run_funnel(FunnelInputs(**base, **{field: 1e-320}))
    with pytest.raises(WaferlabError, match="beyond any finite number"):
        cost_breakdown(funnel, CostInputs(wafer_cost_usd=1.0))


def test_set_with_a_huge_string_is_refused_before_parsing(runner, cli) -> None:  # type: ignore[no-untyped-def]
    import time

    start = time.perf_counter()
    value = "m" * 20_000_000
    result = runner.invoke(
        cli, ["funnel", "csis-2025-smic-target", "--set", f"yield_model={value}"]
    )
    line = assert_one_line_error(result, 2, "--set", "20,000,000 characters", command="funnel")
    assert len(line) < 300 and time.perf_counter() - start < 5.0


def test_long_string_of_the_wrong_type_is_described_not_echoed(runner, cli) -> None:  # type: ignore[no-untyped-def]
    value = "word " * 1000
    result = runner.invoke(
        cli, ["funnel", "csis-2025-smic-target", "--set", f'die_yield="{value}"']
    )
    line = assert_one_line_error(result, 2, "die_yield", "a string of 5,000 characters")
    assert len(line) < 400


@pytest.mark.parametrize(
    "args",
    [
        ["calibrate", "--model", "bose_einstein", "--n-layers", "٣"],
        [
            "harvest",
            "--die-area-mm2",
            "600",
            "--defect-density-per-cm2",
            "0.1",
            "--model",
            "bose_einstein",
            "--n-layers",
            "３",
            "--harvestable-fraction",
            "0.5",
        ],
        ["dies", "--die-width-mm", "21", "--die-height-mm", "31", "--offset", "١,٢"],
    ],
)
def test_non_ascii_digits_in_other_options(runner, cli, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, args)
    assert_one_line_error(result, 2, command=args[0])


def test_fuzz_finds_from_the_new_engine_stay_clean() -> None:
    # found by the fuzz suite after the timeline and package keys were added
    from click.testing import CliRunner

    from waferlab.cli.main import cli

    runner = CliRunner()
    for args in (
        ["cost", "semianalysis-2025-2027-ramp", "--set", "months=1e19"],
        ["cost", "csis-2025-smic-target", "--set", "package=\x00"],
    ):
        result = runner.invoke(cli, args)
        assert result.exit_code == 2, args
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    one = runner.invoke(
        cli,
        [
            "simulate",
            "--die-width-mm",
            "21.32",
            "--die-height-mm",
            "31.22",
            "--defect-density-per-cm2",
            "0.2",
            "--n-wafers",
            "1",
            "--harvestable-fraction",
            "0.5",
        ],
    )
    assert one.exit_code == 0 and "nan" not in one.stdout
