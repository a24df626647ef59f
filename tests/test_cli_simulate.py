"""Tests of ``waferlab simulate``: every option and every error path."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from waferlab.geometry import Die, Wafer, place_dies
from waferlab.harvest import MAX_HARVEST_BLOCKS

DIE_910B = ["--die-width-mm", "21.32", "--die-height-mm", "31.22"]
BASE = [*DIE_910B, "--defect-density-per-cm2", "0.2418", "--n-wafers", "200", "--seed", "1"]


def run_json(runner: Any, cli: Any, *args: str) -> dict[str, Any]:
    result = runner.invoke(cli, ["simulate", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def assert_error(result: Any, code: int, *needles: str) -> None:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_json_summary_and_poisson_yield(runner: Any, cli: Any) -> None:
    data = run_json(
        runner,
        cli,
        *DIE_910B,
        "--defect-density-per-cm2",
        "0.2418",
        "--n-wafers",
        "4000",
        "--seed",
        "3",
    )
    gross = place_dies(Wafer(300.0, 3.0), Die(21.32, 31.22, 0.1)).gross_dies
    assert data["dies_per_wafer"] == gross
    assert data["n_wafers"] == 4000
    assert data["clustering"] == "none"
    assert data["seed"] == 3
    expected = math.exp(-0.2418 * 21.32 * 31.22 / 100)
    assert data["expected_yield"] == pytest.approx(expected, rel=1e-12)
    assert abs(data["mean_yield"] - expected) < 5 * data["yield_standard_error"]


def test_seed_reproducible(runner: Any, cli: Any) -> None:
    a = run_json(runner, cli, *BASE)
    b = run_json(runner, cli, *BASE)
    assert a == b
    c = run_json(runner, cli, *BASE[:-1], "2")
    assert c["mean_yield"] != a["mean_yield"]
    d = run_json(runner, cli, *BASE[:-2])
    assert d["seed"] is None


def test_text_output(runner: Any, cli: Any) -> None:
    result = runner.invoke(cli, ["simulate", *BASE])
    assert result.exit_code == 0, result.output
    for label in (
        "Mean die yield",
        "standard error",
        "Analytic yield",
        "Good dies per wafer",
        "seed 1",
        "none (random defects)",
    ):
        assert label in result.stdout
    result = runner.invoke(
        cli,
        [
            "simulate",
            *BASE,
            "--harvestable-fraction",
            "0.6",
            "--n-blocks",
            "25",
            "--clustering",
            "region",
            "--alpha",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    for label in ("Mean degraded", "at most 1 of 25 blocks", "per region", "4 angular sectors"):
        assert label in result.stdout
    result = runner.invoke(cli, ["simulate", *BASE[:-4], "--n-wafers", "1"])
    assert result.exit_code == 0, result.output
    assert "n/a with one wafer" in result.stdout


@pytest.mark.parametrize("scope", ["die", "wafer", "region"])
def test_clustering(runner: Any, cli: Any, scope: str) -> None:
    data = run_json(runner, cli, *BASE, "--clustering", scope, "--alpha", "1.5")
    assert data["clustering"] == scope
    assert data["alpha"] == 1.5
    lam = 0.2418 * 21.32 * 31.22 / 100
    assert data["expected_yield"] == pytest.approx((1 + lam / 1.5) ** -1.5, rel=1e-12)
    assert data["n_regions"] == (4 if scope == "region" else None)


def test_n_regions_edge_gradient_and_critical_fraction(runner: Any, cli: Any) -> None:
    data = run_json(
        runner, cli, *BASE, "--clustering", "region", "--alpha", "1", "--n-regions", "6"
    )
    assert data["n_regions"] == 6
    data = run_json(runner, cli, *BASE, "--edge-gradient", "2.5")
    assert data["edge_gradient"] == 2.5
    flat = run_json(runner, cli, *BASE)
    assert data["expected_yield"] > flat["expected_yield"]  # spread λ, same mean: e^{-λ} convex
    data = run_json(runner, cli, *BASE, "--critical-area-fraction", "0.5")
    assert data["expected_yield"] == pytest.approx(
        math.exp(-0.5 * 0.2418 * 21.32 * 31.22 / 100), rel=1e-12
    )


def test_harvest_options(runner: Any, cli: Any) -> None:
    data = run_json(runner, cli, *BASE, "--harvestable-fraction", "0.6", "--max-defects", "2")
    assert (data["harvestable_fraction"], data["max_defects"], data["n_blocks"]) == (0.6, 2, None)
    assert data["mean_degraded_fraction"] > 0
    data = run_json(
        runner,
        cli,
        *BASE,
        "--harvestable-fraction",
        "0.6",
        "--n-blocks",
        "25",
        "--max-bad-blocks",
        "3",
    )
    assert (data["n_blocks"], data["max_bad_blocks"], data["max_defects"]) == (25, 3, None)
    assert abs(data["mean_degraded_fraction"] - data["expected_degraded_fraction"]) < (
        5 * data["degraded_standard_error"]
    )


def test_wafer_and_die_options(runner: Any, cli: Any) -> None:
    # R's ~80 dies: the street-centred grid with 3 mm edge exclusion (see docs/geometry.md)
    data = run_json(runner, cli, *BASE, "--offset", "street-centered")
    assert (
        data["dies_per_wafer"]
        == place_dies(Wafer(300.0), Die(21.32, 31.22), offset="street-centered").gross_dies
    )
    data = run_json(
        runner,
        cli,
        "--die-area-mm2",
        "100",
        "--aspect-ratio",
        "2",
        "--scribe-mm",
        "0.2",
        "--scribe-y-mm",
        "0.3",
        "--wafer-diameter-mm",
        "200",
        "--edge-exclusion-mm",
        "5",
        "--notch-keepout-mm",
        "4",
        "--defect-density-per-cm2",
        "0.1",
        "--n-wafers",
        "5",
    )
    expected = place_dies(
        Wafer(200.0, 5.0, notch_keepout_mm=4.0),
        Die(math.sqrt(200.0), math.sqrt(50.0), 0.2, 0.3),
    ).gross_dies
    assert data["dies_per_wafer"] == expected
    assert data["wafer_diameter_mm"] == 200.0
    data = run_json(
        runner,
        cli,
        "--die-width-mm",
        "10",
        "--die-height-mm",
        "10",
        "--wafer-diameter-mm",
        "150",
        "--flat-length-mm",
        "57.5",
        "--defect-density-per-cm2",
        "0.1",
        "--n-wafers",
        "5",
    )
    assert (
        data["dies_per_wafer"]
        == place_dies(Wafer(150.0, flat_length_mm=57.5), Die(10.0, 10.0)).gross_dies
    )


def test_plot(runner: Any, cli: Any, tmp_path: Path) -> None:
    target = tmp_path / "wafer.png"
    result = runner.invoke(
        cli,
        [
            "simulate",
            *BASE,
            "--harvestable-fraction",
            "0.6",
            "--plot",
            str(target),
            "--plot-wafer",
            "7",
        ],
    )
    assert result.exit_code == 0, result.output
    assert target.stat().st_size > 10_000
    assert target.read_bytes()[:4] == b"\x89PNG"
    assert "wafer 8 of 200 (--plot-wafer 7)" in result.stdout
    svg = tmp_path / "wafer.svg"
    data = run_json(runner, cli, *BASE, "--plot", str(svg))
    assert data["plot"] == str(svg)
    assert data["plot_wafer"] == 0
    assert svg.read_text().lstrip().startswith("<?xml")


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (DIE_910B, ["--defect-density-per-cm2"]),
        ([*DIE_910B, "--defect-density-per-cm2", "-0.1"], ["--defect-density-per-cm2"]),
        ([*DIE_910B, "--defect-density-per-cm2", "inf"], ["--defect-density-per-cm2"]),
        (["--defect-density-per-cm2", "0.2"], ["die size"]),
        ([*DIE_910B[:2], "--defect-density-per-cm2", "0.2"], ["--die-height-mm"]),
        ([*BASE, "--die-area-mm2", "600"], ["not both"]),
        ([*BASE, "--n-wafers", "0"], ["--n-wafers"]),
        ([*BASE[:-4], "--n-wafers", "100000001"], ["--n-wafers", "[1, 100000000]"]),
        (
            [*BASE[:-4], "--n-wafers", "10000000", "--plot", "x.png"],
            ["--n-wafers", "[1, 235294]"],
        ),
        ([*BASE, "--alpha", "2"], ["--alpha only applies with --clustering"]),
        ([*BASE, "--clustering", "die"], ["--clustering die needs --alpha"]),
        ([*BASE, "--clustering", "lot", "--alpha", "1"], ["--clustering"]),
        ([*BASE, "--clustering", "wafer", "--alpha", "0"], ["--alpha"]),
        ([*BASE, "--clustering", "wafer", "--alpha", "1", "--n-regions", "3"], ["--n-regions"]),
        ([*BASE, "--clustering", "region", "--alpha", "1", "--n-regions", "0"], ["--n-regions"]),
        ([*BASE, "--edge-gradient", "-1"], ["--edge-gradient", "> -1"]),
        ([*BASE, "--critical-area-fraction", "1.1"], ["--critical-area-fraction"]),
        ([*BASE, "--harvestable-fraction", "1.1"], ["--harvestable-fraction"]),
        ([*BASE, "--max-defects", "2"], ["--max-defects only applies with --harvestable-fraction"]),
        ([*BASE, "--n-blocks", "25"], ["--n-blocks only applies with --harvestable-fraction"]),
        (
            [*BASE, "--harvestable-fraction", "0.5", "--max-bad-blocks", "1"],
            ["--max-bad-blocks must be left out unless n_blocks is given"],
        ),
        (
            [*BASE, "--clustering", "die", "--alpha", "1", "--n-regions", "3"],
            ["--n-regions only applies with --clustering region"],
        ),
        (
            [*BASE, "--harvestable-fraction", "0.5", "--n-blocks", "4", "--max-bad-blocks", "5"],
            ["--max-bad-blocks", "[0, 4]"],
        ),
        (
            [*BASE, "--harvestable-fraction", "0.5", "--n-blocks", "1000000000"],
            ["--n-blocks", f"1<=x<={MAX_HARVEST_BLOCKS}"],
        ),
        (
            [*BASE, "--harvestable-fraction", "0.5", "--n-blocks", "4", "--max-defects", "2"],
            ["--max-defects must be left out when n_blocks is given"],
        ),
        ([*BASE, "--seed", "-3"], ["--seed"]),
        ([*BASE, "--offset", "middle"], ["--offset"]),
        ([*BASE, "--edge-exclusion-mm", "150"], ["--edge-exclusion-mm"]),
        ([*BASE, "--plot-wafer", "2"], ["--plot-wafer needs --plot"]),
        ([*BASE, "--plot", "x.png", "--plot-wafer", "200"], ["--plot-wafer", "< --n-wafers"]),
        ([*BASE, "--plot", "wafer.xyz"], ["--plot"]),
        ([*BASE, "--format", "csv"], ["--format"]),
    ],
)
def test_usage_errors(runner: Any, cli: Any, args: list[str], needles: list[str]) -> None:
    assert_error(runner.invoke(cli, ["simulate", *args]), 2, *needles)


def test_domain_errors(runner: Any, cli: Any, tmp_path: Path) -> None:
    # a die larger than the usable wafer: no placement at all
    result = runner.invoke(
        cli,
        [
            "simulate",
            "--die-width-mm",
            "250",
            "--die-height-mm",
            "250",
            "--defect-density-per-cm2",
            "0.1",
        ],
    )
    assert_error(result, 1)
    # a plot into a directory that does not exist
    result = runner.invoke(
        cli, ["simulate", *BASE, "--plot", str(tmp_path / "missing" / "wafer.png")]
    )
    assert_error(result, 1, "missing")


def test_progress_bar_only_at_a_terminal_and_after_the_delay(capsys) -> None:  # type: ignore[no-untyped-def]
    from waferlab.cli.simulate import _ProgressBar

    quiet = _ProgressBar(delay_s=0.0)
    quiet.active = False  # not a terminal: nothing is drawn
    quiet(5, 10)
    assert capsys.readouterr().err == ""
    slow = _ProgressBar(delay_s=3600.0)
    slow.active = True  # a terminal, but the run is still short: nothing yet
    slow(5, 10)
    assert capsys.readouterr().err == ""
    bar = _ProgressBar(delay_s=0.0)
    bar.active = True
    bar(5, 10)
    err = capsys.readouterr().err
    assert err.startswith("\rsimulating [") and "5/10 wafers" in err and "\n" not in err
    bar(10, 10)  # done: the line is cleared, stdout untouched
    done = capsys.readouterr()
    assert done.out == "" and done.err.endswith("\r") and "10/10" in done.err
