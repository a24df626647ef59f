"""``waferlab yield``: every option and every error path.

Expected yields are written out from the formulas with ``math``; gross dies
come from :func:`waferlab.geometry.gross_dies_per_wafer` (another module).
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from _cli import assert_one_line_error

from waferlab.yield_models import YIELD_MODELS

GA100 = ["--die-area-mm2", "826", "--defect-density-per-cm2", "0.1"]
ASCEND = ["--die-width-mm", "21.32", "--die-height-mm", "31.22", "--defect-density-per-cm2", "0.1"]


def run(runner: Any, cli: Any, args: list[str]) -> Any:
    return runner.invoke(cli, ["yield", *args])


def run_json(runner: Any, cli: Any, args: list[str]) -> dict[str, Any]:
    result = run(runner, cli, [*args, "--format", "json"])
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def by_model(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["model"]: r for r in data["results"]}


# --------------------------------------------------------------------------- #
# Output
# --------------------------------------------------------------------------- #


def test_text_table_all_models(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = run(runner, cli, GA100)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "die area 826 mm²" in out and "D0 0.1 /cm²" in out
    assert "mean fatal defects per die (λ) 0.826" in out
    for name in YIELD_MODELS:
        assert name in out
    # Poisson: e^-0.826 = 0.4378; Seeds: 1/1.826 = 0.5476
    assert f"{math.exp(-0.826):.4f}" in out
    assert f"{1 / 1.826:.4f}" in out
    assert "alpha=2" in out
    assert "bose_einstein: not shown, needs --n-layers" in out
    assert "bose_einstein_per_layer: not shown, needs --n-layers" in out
    assert "good dies per wafer" not in out  # no placement for an area alone


def test_json_all_models(runner, cli) -> None:  # type: ignore[no-untyped-def]
    data = run_json(runner, cli, GA100)
    assert data["die_area_mm2"] == 826.0
    assert data["defect_density_per_cm2"] == 0.1
    assert data["defect_load"] == pytest.approx(0.826)
    assert data["gross_dies_per_wafer"] is None and data["wafer"] is None
    assert data["die_width_mm"] is None
    rows = by_model(data)
    assert list(rows) == [n for n in YIELD_MODELS if not n.startswith("bose_einstein")]
    lam = 0.826
    expected = {
        "poisson": math.exp(-lam),
        "murphy": ((1 - math.exp(-lam)) / lam) ** 2,
        "murphy_rectangular": (1 - math.exp(-2 * lam)) / (2 * lam),
        "seeds": 1 / (1 + lam),
        "moore": math.exp(-math.sqrt(lam)),
        "negative_binomial": (1 + lam / 2) ** -2,
    }
    for name, value in expected.items():
        assert rows[name]["die_yield"] == pytest.approx(value, rel=1e-12)
    assert rows["negative_binomial"]["parameters"] == {"alpha": 2.0}
    assert rows["poisson"]["parameters"] == {}
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
    assert data["skipped"] == []


def test_alpha_and_n_layers(runner, cli) -> None:  # type: ignore[no-untyped-def]
    data = run_json(runner, cli, [*GA100, "--alpha", "0.5", "--n-layers", "10"])
    rows = by_model(data)
    assert rows["negative_binomial"]["parameters"] == {"alpha": 0.5}
    assert rows["negative_binomial"]["die_yield"] == pytest.approx((1 + 0.826 / 0.5) ** -0.5)
    assert rows["bose_einstein"]["parameters"] == {"n_layers": 10}
    # per-layer density D0/n: (1 + 0.0826)^-10
    assert rows["bose_einstein"]["die_yield"] == pytest.approx(1.0826**-10)
    assert data["skipped"] == []
    one = run_json(runner, cli, [*GA100, "--model", "bose_einstein", "--n-layers", "3"])
    assert one["results"][0]["die_yield"] == pytest.approx((1 + 0.826 / 3) ** -3)
    text = run(runner, cli, [*GA100, "--n-layers", "10"]).stdout
    assert "n_layers=10" in text
    # the same density read per layer: (1 + 0.826)^-10
    assert rows["bose_einstein_per_layer"]["die_yield"] == pytest.approx(1.826**-10)


def test_both_bose_einstein_conventions_side_by_side(runner, cli) -> None:  # type: ignore[no-untyped-def]
    # The SemiAnalysis calculator's inputs: 0.1 /cm² per layer, 10 layers, 100 mm²
    # -> (1 + 0.1)^-10 = 38.55 %; read as the total over the layers (waferlab's
    # bose_einstein): (1 + 0.01)^-10 = 90.53 %.
    args = ["--die-area-mm2", "100", "--defect-density-per-cm2", "0.1", "--n-layers", "10"]
    rows = by_model(run_json(runner, cli, args))
    assert rows["bose_einstein_per_layer"]["die_yield"] == pytest.approx(1.1**-10, rel=1e-12)
    assert rows["bose_einstein"]["die_yield"] == pytest.approx(1.01**-10, rel=1e-12)
    assert rows["bose_einstein_per_layer"]["parameters"] == {"n_layers": 10}
    # the same die under bose_einstein: D0 = n · D_layer = 1 /cm², λ = 1 per die
    same = rows["bose_einstein_per_layer"]["equivalent"]
    assert same["model"] == "bose_einstein"
    assert same["defect_density_per_cm2"] == pytest.approx(1.0)
    assert same["defect_load"] == pytest.approx(1.0)
    assert "equivalent" not in rows["bose_einstein"]
    lines = run(runner, cli, args).stdout.splitlines()
    table = {line.split()[0]: line for line in lines if "n_layers=10" in line}
    assert table["bose_einstein"].split()[-1] == f"{1.01**-10:.4f}" == "0.9053"
    assert table["bose_einstein_per_layer"].split()[-1] == f"{1.1**-10:.4f}" == "0.3855"
    notes = {line.split(":")[0]: line for line in lines if line.startswith("bose_einstein")}
    assert "total over the n layers" in notes["bose_einstein"]
    assert "each layer" in notes["bose_einstein_per_layer"]
    assert "bose_einstein at D0 1 /cm² (λ 1 per die)" in notes["bose_einstein_per_layer"]
    # one per-layer model: the header names the density per layer
    one = run(runner, cli, [*args, "--model", "bose_einstein_per_layer"])
    assert one.exit_code == 0, one.stderr
    assert "D_layer 0.1 /cm²" in one.stdout and "D0 0.1" not in one.stdout
    assert "mean fatal defects per die and layer (λ) 0.1" in one.stdout


def test_gross_yield_and_critical_area_fraction(runner, cli) -> None:  # type: ignore[no-untyped-def]
    args = [*GA100, "--model", "poisson", "--gross-yield", "0.9"]
    data = run_json(runner, cli, [*args, "--critical-area-fraction", "0.5"])
    assert data["gross_yield"] == 0.9 and data["critical_area_fraction"] == 0.5
    assert data["defect_load"] == pytest.approx(0.413)
    assert data["results"][0]["die_yield"] == pytest.approx(0.9 * math.exp(-0.413))
    text = run(runner, cli, args).stdout
    assert "gross yield 0.9" in text


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        (["--scribe-mm", "5", "--wafer-diameter-mm", "50"],
         "--scribe-mm and --wafer-diameter-mm act only"),
        (["--aspect-ratio", "3"], "--aspect-ratio acts only"),
        (["--wafer-diameter-mm", "150", "--flat-length-mm", "57.5", "--edge-exclusion-mm", "3"],
         "--wafer-diameter-mm, --edge-exclusion-mm and --flat-length-mm act only"),
        (["--scribe-y-mm", "0.1", "--notch-keepout-mm", "1"],
         "--scribe-y-mm and --notch-keepout-mm act only"),
    ],
)  # fmt: skip
def test_placement_options_with_an_area_are_a_usage_error(  # type: ignore[no-untyped-def]
    runner, cli, extra: list[str], named: str
) -> None:
    # with --die-area-mm2 the die is not placed: these options would be ignored silently
    area = ["--die-area-mm2", "100", "--defect-density-per-cm2", "0.1"]
    result = runner.invoke(cli, ["yield", *area, *extra])
    assert_one_line_error(
        result, 2, named, "needs --die-width-mm and --die-height-mm", command="yield"
    )


def test_placement_options_with_the_sides_place_the_die(runner, cli) -> None:  # type: ignore[no-untyped-def]
    from waferlab.geometry import Die, Wafer, gross_dies_per_wafer

    sides = ["--die-width-mm", "10", "--die-height-mm", "10", "--defect-density-per-cm2", "0.1"]
    data = run_json(runner, cli, [*sides, "--scribe-mm", "5", "--wafer-diameter-mm", "50"])
    assert data["gross_dies_per_wafer"] == gross_dies_per_wafer(Wafer(50.0, 3.0), Die(10, 10, 5))


def test_width_and_height_add_good_dies_per_wafer(runner, cli) -> None:  # type: ignore[no-untyped-def]
    from waferlab.geometry import Die, Wafer, gross_dies_per_wafer

    data = run_json(runner, cli, [*ASCEND, "--model", "poisson"])
    gross = gross_dies_per_wafer(Wafer(300.0, 3.0), Die(21.32, 31.22, 0.1))
    assert data["gross_dies_per_wafer"] == gross
    assert data["die_area_mm2"] == pytest.approx(21.32 * 31.22)
    assert data["die_width_mm"] == 21.32 and data["die_height_mm"] == 31.22
    row = data["results"][0]
    assert row["die_yield"] == pytest.approx(math.exp(-0.1 * 21.32 * 31.22 / 100))
    assert row["good_dies_per_wafer"] == pytest.approx(gross * row["die_yield"])
    assert data["wafer"]["wafer_diameter_mm"] == 300.0
    text = run(runner, cli, ASCEND).stdout
    assert f"{gross:,} gross dies per wafer" in text
    assert "good dies per wafer" in text
    assert f"{gross * math.exp(-0.1 * 21.32 * 31.22 / 100):.1f}" in text


@pytest.mark.parametrize(
    ("options", "wafer", "die"),
    [
        (["--wafer-diameter-mm", "200"], {"diameter_mm": 200.0}, {}),
        (["--edge-exclusion-mm", "10"], {"edge_exclusion_mm": 10.0}, {}),
        (["--notch-keepout-mm", "20"], {"notch_keepout_mm": 20.0}, {}),
        (
            ["--wafer-diameter-mm", "150", "--flat-length-mm", "57.5"],
            {"diameter_mm": 150.0, "flat_length_mm": 57.5},
            {},
        ),
        (["--scribe-mm", "1.5"], {}, {"scribe_x_mm": 1.5}),
        (["--scribe-y-mm", "2.5"], {}, {"scribe_y_mm": 2.5}),
    ],
)
def test_wafer_and_scribe_options(  # type: ignore[no-untyped-def]
    runner, cli, options: list[str], wafer: dict[str, float], die: dict[str, float]
) -> None:
    from waferlab.geometry import Die, Wafer, gross_dies_per_wafer

    data = run_json(runner, cli, [*ASCEND, "--model", "murphy", *options])
    wafer_kwargs = {"diameter_mm": 300.0, "edge_exclusion_mm": 3.0, **wafer}
    expected = gross_dies_per_wafer(Wafer(**wafer_kwargs), Die(21.32, 31.22, **die))
    assert data["gross_dies_per_wafer"] == expected
    baseline = run_json(runner, cli, [*ASCEND, "--model", "murphy"])
    assert expected != baseline["gross_dies_per_wafer"]
    row = data["results"][0]
    assert row["good_dies_per_wafer"] == pytest.approx(expected * row["die_yield"])


def test_zero_defect_density(runner, cli) -> None:  # type: ignore[no-untyped-def]
    data = run_json(runner, cli, ["--die-area-mm2", "826", "--defect-density-per-cm2", "0"])
    assert all(r["die_yield"] == 1.0 for r in data["results"])


def test_tiny_yields_in_scientific_notation(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = run(runner, cli, ["--die-area-mm2", "826", "--defect-density-per-cm2", "20"])
    assert result.exit_code == 0
    assert "e-72" in result.stdout  # Poisson at λ = 165: e^-165.2 ≈ 1.8e-72


# --------------------------------------------------------------------------- #
# Errors
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--die-area-mm2", "826"], ["--defect-density-per-cm2"]),
        ([*GA100[:2], "--defect-density-per-cm2", "-1"], ["--defect-density-per-cm2"]),
        ([*GA100[:2], "--defect-density-per-cm2", "nan"], ["--defect-density-per-cm2"]),
        ([*GA100[:2], "--defect-density-per-cm2", "many"], ["--defect-density-per-cm2"]),
        (["--defect-density-per-cm2", "0.1"], ["give the die size"]),
        ([*GA100, "--die-width-mm", "10"], ["not both"]),
        (["--die-width-mm", "10", "--defect-density-per-cm2", "0.1"], ["--die-height-mm"]),
        (["--die-area-mm2", "0", "--defect-density-per-cm2", "0.1"], ["--die-area-mm2"]),
        ([*GA100, "--model", "gauss"], ["--model", "poisson", "all"]),
        ([*GA100, "--model", "poisson", "--alpha", "2"], ["--alpha", "poisson"]),
        ([*GA100, "--model", "seeds", "--n-layers", "3"], ["--n-layers", "seeds"]),
        ([*GA100, "--model", "bose_einstein"], ["--n-layers", "bose_einstein"]),
        ([*GA100, "--alpha", "0"], ["--alpha"]),
        ([*GA100, "--alpha", "inf"], ["--alpha"]),
        ([*GA100, "--n-layers", "0"], ["--n-layers"]),
        ([*GA100, "--n-layers", "2.5"], ["--n-layers"]),
        ([*GA100, "--gross-yield", "1.5"], ["--gross-yield"]),
        ([*GA100, "--critical-area-fraction", "-0.1"], ["--critical-area-fraction"]),
        ([*GA100, "--format", "xml"], ["--format"]),
        ([*ASCEND, "--wafer-diameter-mm", "0"], ["--wafer-diameter-mm"]),
        ([*ASCEND, "--edge-exclusion-mm", "200"], ["--edge-exclusion-mm"]),
    ],
)
def test_usage_errors(runner, cli, args: list[str], needles: list[str]) -> None:  # type: ignore[no-untyped-def]
    assert_one_line_error(run(runner, cli, args), 2, *needles)


def test_die_larger_than_the_wafer_gives_zero_dies(runner, cli) -> None:  # type: ignore[no-untyped-def]
    args = ["--die-width-mm", "250", "--die-height-mm", "250", "--defect-density-per-cm2", "0.1"]
    data = run_json(runner, cli, [*args, "--model", "poisson"])
    assert data["gross_dies_per_wafer"] == 0
    assert data["results"][0]["good_dies_per_wafer"] == 0.0


def test_single_model_missing_its_parameter_names_the_option(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = run(runner, cli, [*GA100, "--model", "bose_einstein"])
    assert_one_line_error(result, 2, "bose_einstein needs --n-layers")
    assert "None" not in result.stderr


def test_overflowing_defect_load_is_a_usage_error(runner, cli) -> None:  # type: ignore[no-untyped-def]
    # λ = 1e308 /cm² × 8.26 cm² overflows a float: no yield to report.
    result = run(runner, cli, ["--die-area-mm2", "826", "--defect-density-per-cm2", "1e308"])
    assert_one_line_error(result, 2, "--defect-density-per-cm2", "stays finite")


def test_huge_defect_load_is_printed_in_scientific_notation(runner, cli) -> None:  # type: ignore[no-untyped-def]
    # λ = 1e300 × 826 / 100 = 8.26e300, finite.
    out = run(runner, cli, ["--die-area-mm2", "826", "--defect-density-per-cm2", "1e300"]).stdout
    assert "(λ) 8.260e+300" in out
    # every number stays short (model names are not numbers)
    assert max(len(word) for word in out.split() if word.rstrip(":") not in YIELD_MODELS) < 20


@pytest.mark.parametrize(
    ("value", "digits", "text"),
    [
        (0.0, 4, "0"),
        (0.106520, 4, "0.1065"),
        (41.5, 4, "41.5"),
        (123456.7, 4, "123457"),
        (1.898e35, 4, "1.898e+35"),
        (2.5e-7, 4, "2.500e-07"),
        (-3.0e9, 3, "-3.00e+09"),
        (math.inf, 4, "inf"),
    ],
)
def test_significant_digits(value: float, digits: int, text: str) -> None:
    from waferlab.output import format_significant as significant

    assert significant(value, digits) == text


def test_significant_digits_keep_trailing_zeros_for_tables() -> None:
    from waferlab.output import format_significant as significant

    assert significant(1.0603, 4, trailing_zeros=True) == "1.060"
    assert significant(1234.4, 4, trailing_zeros=True) == "1234"
    assert significant(41.5, 4, trailing_zeros=True) == "41.50"
