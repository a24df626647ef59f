"""``waferlab d0``: every option and every error path.

Reference: issue 3 §7 / SOURCES.md §1 (CSIS report) — 41.5 % at 826 mm² implies
0.1065 /cm² under Poisson and 0.1156 /cm² under Murphy (four decimals).
Other expected values are the closed-form inverses written out with ``math``.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from _cli import assert_one_line_error

from waferlab.yield_models import YIELD_MODELS

GA100 = ["--die-area-mm2", "826", "--die-yield", "0.415"]


def run(runner: Any, cli: Any, args: list[str]) -> Any:
    return runner.invoke(cli, ["d0", *args])


def run_json(runner: Any, cli: Any, args: list[str]) -> dict[str, Any]:
    result = run(runner, cli, [*args, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def by_model(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["model"]: r for r in data["results"]}


def test_text_reproduces_the_report_d0(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = run(runner, cli, GA100)
    assert result.exit_code == 0, result.stderr
    lines = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    assert "0.1065" in lines["poisson"]
    assert "0.1156" in lines["murphy"]
    assert "D0 [/cm²]" in result.stdout and "λ per die" in result.stdout
    assert "bose_einstein: not shown, needs --n-layers" in result.stdout
    assert "bose_einstein_per_layer: not shown, needs --n-layers" in result.stdout
    assert "die area 826 mm², die yield 0.415" in result.stdout


def test_json_all_models(runner, cli) -> None:  # type: ignore[no-untyped-def]
    data = run_json(runner, cli, GA100)
    assert data["die_area_mm2"] == 826.0 and data["die_yield"] == 0.415
    rows = by_model(data)
    assert rows["poisson"]["defect_density_per_cm2"] == pytest.approx(0.1065, abs=5e-5)
    assert rows["murphy"]["defect_density_per_cm2"] == pytest.approx(0.1156, abs=5e-5)
    # closed forms: Seeds λ = 1/y − 1; Moore λ = ln² y; NB(α=2) λ = 2(y^-1/2 − 1)
    y, a = 0.415, 8.26
    assert rows["seeds"]["defect_density_per_cm2"] == pytest.approx((1 / y - 1) / a)
    assert rows["moore"]["defect_density_per_cm2"] == pytest.approx(math.log(y) ** 2 / a)
    assert rows["negative_binomial"]["defect_density_per_cm2"] == pytest.approx(
        2 * (y**-0.5 - 1) / a
    )
    assert rows["negative_binomial"]["parameters"] == {"alpha": 2.0}
    assert rows["poisson"]["defect_load"] == pytest.approx(-math.log(y))
    assert data["skipped"] == [
        {"model": "bose_einstein", "reason": "needs --n-layers"},
        {"model": "bose_einstein_per_layer", "reason": "needs --n-layers"},
    ]


@pytest.mark.parametrize(
    "name", [n for n in YIELD_MODELS if not YIELD_MODELS[n].required_parameters]
)
def test_single_model(runner, cli, name: str) -> None:  # type: ignore[no-untyped-def]
    data = run_json(runner, cli, [*GA100, "--model", name])
    assert [r["model"] for r in data["results"]] == [name]


def test_alpha_and_n_layers(runner, cli) -> None:  # type: ignore[no-untyped-def]
    data = run_json(runner, cli, [*GA100, "--alpha", "0.5", "--n-layers", "4"])
    rows = by_model(data)
    y, a = 0.415, 8.26
    assert rows["negative_binomial"]["defect_density_per_cm2"] == pytest.approx(
        0.5 * (y**-2 - 1) / a
    )
    assert rows["bose_einstein"]["defect_density_per_cm2"] == pytest.approx(4 * (y**-0.25 - 1) / a)
    assert rows["bose_einstein"]["parameters"] == {"n_layers": 4}
    # per layer: (1 + A·D_layer)^-4 = y  =>  D_layer = (y^(-1/4) − 1) / A
    per_layer = rows["bose_einstein_per_layer"]
    assert per_layer["defect_density_per_cm2"] == pytest.approx((y**-0.25 - 1) / a)
    assert per_layer["defect_load"] == pytest.approx(y**-0.25 - 1)
    assert per_layer["equivalent"]["model"] == "bose_einstein"
    assert per_layer["equivalent"]["defect_density_per_cm2"] == pytest.approx(
        4 * (y**-0.25 - 1) / a
    )
    assert per_layer["equivalent"]["defect_load"] == pytest.approx(4 * (y**-0.25 - 1))
    text = run(runner, cli, [*GA100, "--n-layers", "4"]).stdout
    assert "bose_einstein_per_layer: the density and λ are those of each layer" in text
    one = run(runner, cli, [*GA100, "--n-layers", "4", "--model", "bose_einstein_per_layer"])
    assert "D_layer [/cm²]" in one.stdout and "λ per die and layer" in one.stdout


def test_gross_yield_and_critical_area_fraction(runner, cli) -> None:  # type: ignore[no-untyped-def]
    data = run_json(
        runner,
        cli,
        [*GA100, "--model", "poisson", "--gross-yield", "0.83", "--critical-area-fraction", "0.5"],
    )
    assert data["gross_yield"] == 0.83 and data["critical_area_fraction"] == 0.5
    # λ = −ln(0.415/0.83) = ln 2, over 8.26 cm² × 0.5
    assert data["results"][0]["defect_density_per_cm2"] == pytest.approx(math.log(2) / 4.13)
    assert data["results"][0]["defect_load"] == pytest.approx(math.log(2))


def test_yield_equal_to_gross_yield_is_zero_density(runner, cli) -> None:  # type: ignore[no-untyped-def]
    data = run_json(runner, cli, ["--die-area-mm2", "826", "--die-yield", "1"])
    assert all(r["defect_density_per_cm2"] == 0.0 for r in data["results"])


def test_width_height_and_shape_options(runner, cli) -> None:  # type: ignore[no-untyped-def]
    size = ["--die-width-mm", "21.32", "--die-height-mm", "31.22", "--die-yield", "0.2"]
    data = run_json(runner, cli, [*size, "--model", "poisson"])
    assert data["die_area_mm2"] == pytest.approx(665.6104)
    assert data["results"][0]["defect_density_per_cm2"] == pytest.approx(-math.log(0.2) / 6.656104)
    # scribe lines and the aspect ratio do not enter the die yield
    with_scribe = run_json(runner, cli, [*size, "--model", "poisson", "--scribe-mm", "1"])
    assert with_scribe["results"] == data["results"]
    with_scribe_y = run_json(runner, cli, [*size, "--model", "poisson", "--scribe-y-mm", "1"])
    assert with_scribe_y["results"] == data["results"]
    square = run_json(runner, cli, [*GA100, "--model", "seeds"])
    flat = run_json(runner, cli, [*GA100, "--model", "seeds", "--aspect-ratio", "4"])
    assert square["results"] == flat["results"]


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--die-area-mm2", "826"], ["--die-yield"]),
        (["--die-area-mm2", "826", "--die-yield", "0"], ["--die-yield"]),
        (["--die-area-mm2", "826", "--die-yield", "1.2"], ["--die-yield"]),
        (["--die-area-mm2", "826", "--die-yield", "nan"], ["--die-yield"]),
        (["--die-yield", "0.4"], ["give the die size"]),
        ([*GA100, "--die-height-mm", "3"], ["not both"]),
        ([*GA100, "--gross-yield", "0.3"], ["--die-yield", "gross_yield is 0.3"]),
        ([*GA100, "--gross-yield", "2"], ["--gross-yield"]),
        ([*GA100, "--critical-area-fraction", "1.5"], ["--critical-area-fraction"]),
        ([*GA100, "--model", "gauss"], ["--model"]),
        ([*GA100, "--model", "seeds", "--alpha", "1"], ["--alpha", "seeds"]),
        ([*GA100, "--model", "bose_einstein"], ["--n-layers"]),
        ([*GA100, "--alpha", "-1"], ["--alpha"]),
        ([*GA100, "--n-layers", "0"], ["--n-layers"]),
        ([*GA100, "--format", "yaml"], ["--format"]),
    ],
)
def test_usage_errors(runner, cli, args: list[str], needles: list[str]) -> None:  # type: ignore[no-untyped-def]
    assert_one_line_error(run(runner, cli, args), 2, *needles)


def test_no_critical_area_is_a_domain_error(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = run(runner, cli, [*GA100, "--critical-area-fraction", "0"])
    assert_one_line_error(result, 1, "no defect density", "--critical-area-fraction")


def test_unreachable_tiny_yield_is_a_domain_error(runner, cli) -> None:  # type: ignore[no-untyped-def]
    args = ["--die-area-mm2", "826", "--die-yield", "1e-300"]
    result = run(runner, cli, [*args, "--model", "negative_binomial", "--alpha", "0.01"])
    assert_one_line_error(result, 1, "finite", "--die-yield")


@pytest.mark.parametrize(
    "args",
    [
        ["--die-area-mm2", "826", "--die-yield", "1e-300"],
        [*GA100, "--model", "negative_binomial", "--alpha", "0.01"],
    ],
)
def test_absurd_densities_print_in_scientific_notation(runner, cli, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    result = run(runner, cli, args)
    assert result.exit_code == 0, result.stderr
    words = [w for w in result.stdout.split() if w.rstrip(":") not in YIELD_MODELS]
    assert max(len(word) for word in words) < 20
    assert "e+" in result.stdout


def test_nb_alpha_001_density_to_four_significant_digits(runner, cli) -> None:  # type: ignore[no-untyped-def]
    # NB inverse: λ = α (Y^(−1/α) − 1), D0 = λ / 8.26 cm².
    lam = 0.01 * (0.415 ** (-1 / 0.01) - 1.0)
    out = run(runner, cli, [*GA100, "--model", "negative_binomial", "--alpha", "0.01"]).stdout
    assert f"{lam / 8.26:.3e}" in out and f"{lam:.3e}" in out
