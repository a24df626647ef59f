"""Tests of ``waferlab harvest``: every option and every error path."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from waferlab.harvest import MAX_HARVEST_BLOCKS, harvest_bins

AREA = ["--die-area-mm2", "665.61"]
LAM_20 = -math.log(0.2)  # λ of a 20 % Poisson yield (R's 910B figure)


def run_json(runner: Any, cli: Any, *args: str) -> dict[str, Any]:
    result = runner.invoke(cli, ["harvest", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def assert_error(result: Any, code: int, *needles: str) -> None:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_bins_from_defect_density(runner: Any, cli: Any) -> None:
    data = run_json(
        runner, cli, *AREA, "--defect-density-per-cm2", "0.3", "--harvestable-fraction", "0.5"
    )
    lam = 0.3 * 6.6561
    # single-defect repair under Poisson: degraded = e^{-λ} · hλ (by hand)
    assert data["mode"] == "bins"
    assert data["defect_density_source"] == "given"
    assert data["fully_good"] == pytest.approx(math.exp(-lam), rel=1e-12)
    assert data["degraded"] == pytest.approx(math.exp(-lam) * 0.5 * lam, rel=1e-12)
    assert data["fully_good"] + data["degraded"] + data["dead"] == pytest.approx(1.0)
    assert data["model"] == "poisson"
    assert data["max_defects"] == 1


def test_bins_from_fully_good_yield(runner: Any, cli: Any) -> None:
    data = run_json(
        runner, cli, *AREA, "--fully-good-yield", "0.2", "--harvestable-fraction", "0.5"
    )
    assert data["defect_density_per_cm2"] == pytest.approx(LAM_20 / 6.6561, rel=1e-12)
    assert data["fully_good"] == pytest.approx(0.2, rel=1e-12)
    assert "implied" in data["defect_density_source"]


def test_inverse_mode(runner: Any, cli: Any) -> None:
    data = run_json(
        runner, cli, *AREA, "--fully-good-yield", "0.2", "--good-or-degraded-yield", "0.4"
    )
    # 0.2 + 0.2·hλ = 0.4 ⇒ h = 1/λ (Poisson, one defect repairable)
    assert data["mode"] == "harvestable_fraction"
    assert data["harvestable_fraction"] == pytest.approx(1 / LAM_20, rel=1e-9)
    assert data["bins"]["good_or_degraded"] == pytest.approx(0.4, abs=1e-12)
    assert data["max_good_or_degraded_yield"] > 0.4


def test_inverse_text_output(runner: Any, cli: Any) -> None:
    result = runner.invoke(
        cli,
        [
            "harvest",
            *AREA,
            "--fully-good-yield",
            "0.2",
            "--good-or-degraded-yield",
            "0.4",
            "--n-blocks",
            "25",
            "--max-bad-blocks",
            "2",
        ],
    )
    assert result.exit_code == 0, result.output
    for label in ("Harvestable fraction", "Reachable at most", "2 of 25", "40.00 %", "degraded"):
        assert label in result.stdout


def test_text_output(runner: Any, cli: Any) -> None:
    result = runner.invoke(
        cli, ["harvest", *AREA, "--defect-density-per-cm2", "0.3", "--harvestable-fraction", "0.5"]
    )
    assert result.exit_code == 0, result.output
    for label in (
        "Model:",
        "poisson",
        "fully good",
        "degraded",
        "dead",
        "good or degraded",
        "at most 1 defect,",
    ):
        assert label in result.stdout


@pytest.mark.parametrize(
    ("extra", "model", "params"),
    [
        (["--model", "negative_binomial", "--alpha", "1.5"], "negative_binomial", {"alpha": 1.5}),
        (["--model", "negative_binomial"], "negative_binomial", {}),
        (["--model", "seeds"], "seeds", {}),
        (["--model", "bose_einstein", "--n-layers", "3"], "bose_einstein", {"n_layers": 3}),
    ],
)
def test_models(runner: Any, cli: Any, extra: list[str], model: str, params: dict) -> None:
    data = run_json(
        runner,
        cli,
        *AREA,
        "--defect-density-per-cm2",
        "0.3",
        "--harvestable-fraction",
        "0.5",
        *extra,
    )
    bins = harvest_bins(model, 665.61, 0.3, harvestable_fraction=0.5, **params)
    assert data["model"] == model
    assert data["degraded"] == pytest.approx(bins.degraded, rel=1e-12)


def test_rules_gross_yield_and_critical_fraction(runner: Any, cli: Any) -> None:
    base = [*AREA, "--defect-density-per-cm2", "0.3", "--harvestable-fraction", "0.7"]
    data = run_json(runner, cli, *base, "--max-defects", "3")
    assert data["max_defects"] == 3
    assert data["degraded"] == pytest.approx(
        harvest_bins("poisson", 665.61, 0.3, harvestable_fraction=0.7, max_defects=3).degraded
    )
    data = run_json(runner, cli, *base, "--n-blocks", "25", "--max-bad-blocks", "4")
    assert (data["n_blocks"], data["max_bad_blocks"], data["max_defects"]) == (25, 4, None)
    data = run_json(runner, cli, *base, "--n-blocks", "25")
    assert data["max_bad_blocks"] == 1
    data = run_json(runner, cli, *base, "--gross-yield", "0.9", "--critical-area-fraction", "0.5")
    lam = 0.3 * 6.6561 * 0.5
    assert data["fully_good"] == pytest.approx(0.9 * math.exp(-lam), rel=1e-12)
    assert data["gross_yield"] == 0.9
    assert data["critical_area_fraction"] == 0.5
    # the inverse takes the rule and model parameters too
    data = run_json(
        runner,
        cli,
        *AREA,
        "--fully-good-yield",
        "0.2",
        "--good-or-degraded-yield",
        "0.4",
        "--model",
        "negative_binomial",
        "--alpha",
        "2",
        "--n-blocks",
        "25",
        "--max-bad-blocks",
        "3",
    )
    assert data["bins"]["alpha"] == 2.0
    assert data["bins"]["good_or_degraded"] == pytest.approx(0.4, abs=1e-12)


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--defect-density-per-cm2", "0.3", "--harvestable-fraction", "0.5"], ["--die-area-mm2"]),
        (
            [*AREA[:1], "0", "--defect-density-per-cm2", "0.3", "--harvestable-fraction", "0.5"],
            ["--die-area-mm2", "> 0"],
        ),
        (
            [*AREA[:1], "nan", "--defect-density-per-cm2", "0.3", "--harvestable-fraction", "0.5"],
            ["--die-area-mm2"],
        ),
        (
            [*AREA[:1], "big", "--defect-density-per-cm2", "0.3", "--harvestable-fraction", "0.5"],
            ["--die-area-mm2"],
        ),
        (
            [*AREA, "--defect-density-per-cm2", "-1", "--harvestable-fraction", "0.5"],
            ["--defect-density-per-cm2"],
        ),
        ([*AREA, "--harvestable-fraction", "0.5"], ["exactly one of"]),
        (
            [
                *AREA,
                "--defect-density-per-cm2",
                "0.3",
                "--fully-good-yield",
                "0.2",
                "--harvestable-fraction",
                "0.5",
            ],
            ["exactly one of"],
        ),
        ([*AREA, "--defect-density-per-cm2", "0.3"], ["--harvestable-fraction"]),
        (
            [*AREA, "--defect-density-per-cm2", "0.3", "--harvestable-fraction", "1.5"],
            ["--harvestable-fraction"],
        ),
        ([*AREA, "--good-or-degraded-yield", "0.4"], ["needs --fully-good-yield"]),
        (
            [
                *AREA,
                "--fully-good-yield",
                "0.2",
                "--good-or-degraded-yield",
                "0.4",
                "--defect-density-per-cm2",
                "0.3",
            ],
            ["--defect-density-per-cm2", "solved for"],
        ),
        (
            [
                *AREA,
                "--fully-good-yield",
                "0.2",
                "--good-or-degraded-yield",
                "0.4",
                "--harvestable-fraction",
                "0.3",
            ],
            ["--harvestable-fraction", "solved for"],
        ),
        (
            [*AREA, "--fully-good-yield", "0.4", "--good-or-degraded-yield", "0.2"],
            ["--good-or-degraded-yield", "in [0.4, 1]"],
        ),
        (
            [*AREA, "--fully-good-yield", "0", "--good-or-degraded-yield", "0.2"],
            ["--fully-good-yield"],
        ),
        (
            [*AREA, "--fully-good-yield", "0.2", "--good-or-degraded-yield", "1.2"],
            ["--good-or-degraded-yield"],
        ),
        (
            [
                *AREA,
                "--fully-good-yield",
                "0.5",
                "--good-or-degraded-yield",
                "0.6",
                "--gross-yield",
                "0.4",
            ],
            ["--fully-good-yield"],
        ),
        (
            [
                *AREA,
                "--defect-density-per-cm2",
                "0.3",
                "--harvestable-fraction",
                "0.5",
                "--alpha",
                "2",
            ],
            ["--alpha", "negative_binomial only"],
        ),
        (
            [
                *AREA,
                "--defect-density-per-cm2",
                "0.3",
                "--harvestable-fraction",
                "0.5",
                "--model",
                "negative_binomial",
                "--alpha",
                "0",
            ],
            ["--alpha"],
        ),
        (
            [
                *AREA,
                "--defect-density-per-cm2",
                "0.3",
                "--harvestable-fraction",
                "0.5",
                "--n-layers",
                "2",
            ],
            ["--n-layers", "bose_einstein only"],
        ),
        (
            [
                *AREA,
                "--defect-density-per-cm2",
                "0.3",
                "--harvestable-fraction",
                "0.5",
                "--model",
                "bose_einstein",
            ],
            ["--n-layers", "required"],
        ),
        (
            [
                *AREA,
                "--defect-density-per-cm2",
                "0.3",
                "--harvestable-fraction",
                "0.5",
                "--model",
                "bose_einstein",
                "--n-layers",
                "0",
            ],
            ["--n-layers"],
        ),
        (
            [
                *AREA,
                "--defect-density-per-cm2",
                "0.3",
                "--harvestable-fraction",
                "0.5",
                "--model",
                "murphy",
            ],
            ["--model", "murphy"],
        ),
        (
            [
                *AREA,
                "--defect-density-per-cm2",
                "0.3",
                "--harvestable-fraction",
                "0.5",
                "--max-defects",
                "-1",
            ],
            ["--max-defects"],
        ),
        (
            [
                *AREA,
                "--defect-density-per-cm2",
                "0.3",
                "--harvestable-fraction",
                "0.5",
                "--max-defects",
                "2",
                "--n-blocks",
                "4",
            ],
            ["--max-defects must be left out when n_blocks is given"],
        ),
        (
            [
                *AREA,
                "--defect-density-per-cm2",
                "0.3",
                "--harvestable-fraction",
                "0.5",
                "--max-bad-blocks",
                "2",
            ],
            ["--max-bad-blocks must be left out unless n_blocks is given"],
        ),
        (
            [
                *AREA,
                "--defect-density-per-cm2",
                "0.3",
                "--harvestable-fraction",
                "0.5",
                "--n-blocks",
                "4",
                "--max-bad-blocks",
                "5",
            ],
            ["--max-bad-blocks", "[0, 4]"],
        ),
        (
            [
                *AREA,
                "--defect-density-per-cm2",
                "0.3",
                "--harvestable-fraction",
                "0.5",
                "--n-blocks",
                "0",
            ],
            ["--n-blocks"],
        ),
        (
            [
                *AREA,
                "--defect-density-per-cm2",
                "0.2",
                "--harvestable-fraction",
                "0.5",
                "--n-blocks",
                "1000000000",
            ],
            ["--n-blocks", f"1<=x<={MAX_HARVEST_BLOCKS}"],
        ),
        (
            [
                *AREA,
                "--fully-good-yield",
                "0.2",
                "--good-or-degraded-yield",
                "0.4",
                "--n-blocks",
                str(MAX_HARVEST_BLOCKS + 1),
            ],
            ["--n-blocks", f"1<=x<={MAX_HARVEST_BLOCKS}"],
        ),
        (
            [
                *AREA,
                "--defect-density-per-cm2",
                "0.3",
                "--harvestable-fraction",
                "0.5",
                "--gross-yield",
                "2",
            ],
            ["--gross-yield"],
        ),
        (
            [
                *AREA,
                "--defect-density-per-cm2",
                "0.3",
                "--harvestable-fraction",
                "0.5",
                "--critical-area-fraction",
                "-0.1",
            ],
            ["--critical-area-fraction"],
        ),
        (
            [
                *AREA,
                "--defect-density-per-cm2",
                "0.3",
                "--harvestable-fraction",
                "0.5",
                "--format",
                "xml",
            ],
            ["--format"],
        ),
    ],
)
def test_usage_errors(runner: Any, cli: Any, args: list[str], needles: list[str]) -> None:
    assert_error(runner.invoke(cli, ["harvest", *args]), 2, *needles)


def test_unreachable_target_is_a_domain_error(runner: Any, cli: Any) -> None:
    result = runner.invoke(
        cli, ["harvest", *AREA, "--fully-good-yield", "0.2", "--good-or-degraded-yield", "0.9"]
    )
    assert_error(result, 1, "no harvestable fraction", "most it can reach")


def test_help(runner: Any, cli: Any) -> None:
    result = runner.invoke(cli, ["harvest", "--help"])
    assert result.exit_code == 0
    for flag in ("--good-or-degraded-yield", "--n-blocks", "--max-bad-blocks", "--format"):
        assert flag in result.stdout
