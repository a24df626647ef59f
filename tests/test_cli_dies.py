"""Tests of ``waferlab dies``: every option and every error path."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from _cli import assert_one_line_error
from _placement_oracle import PlacementOracle

from waferlab.geometry import MAX_GRID_SITES, Die, Reticle, Wafer, place_dies

DIE_910B = ["--die-width-mm", "21.32", "--die-height-mm", "31.22"]


def assert_usage_error(result: Any, *needles: str) -> None:
    assert_one_line_error(result, 2, *needles, command="dies")


def run_json(runner: Any, cli: Any, *args: str) -> dict[str, Any]:
    result = runner.invoke(cli, ["dies", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_json_keys_and_910b_count_from_independent_oracle(runner: Any, cli: Any) -> None:
    data = run_json(runner, cli, *DIE_910B)
    for key in (
        "gross_dies",
        "partial_dies",
        "formula_dies",
        "offset_x_mm",
        "offset_y_mm",
        "die_width_mm",
        "die_height_mm",
        "wafer_diameter_mm",
        "edge_exclusion_mm",
        "scribe_x_mm",
        "scribe_y_mm",
    ):
        assert key in data
    oracle = PlacementOracle(300.0, 3.0, 0.0, 21.32, 31.22, 0.1)
    assert data["gross_dies"] == oracle.optimum()[0]
    assert data["certified"] is True
    assert oracle.count_at((data["offset_x_mm"], data["offset_y_mm"])) == data["gross_dies"]


def test_text_output_is_a_readable_summary(runner: Any, cli: Any) -> None:
    result = runner.invoke(cli, ["dies", *DIE_910B])
    assert result.exit_code == 0
    out = result.stdout
    for label in ("Gross dies", "Partial dies", "Classic formula", "Offset", "Usable area"):
        assert label in out
    m = place_dies(Wafer(), Die(21.32, 31.22, 0.1))
    assert f"Gross dies (full):    {m.gross_dies}" in out
    assert f"{m.formula_dies:.1f}" in out


def test_report_assumptions_area_only(runner: Any, cli: Any) -> None:
    # SOURCES.md §2: the classic formula with d = 300 mm, S = 665.61 mm² gives 80.4.
    data = run_json(
        runner, cli, "--die-area-mm2", "665.61", "--edge-exclusion-mm", "0", "--scribe-mm", "0"
    )
    assert data["formula_dies"] == pytest.approx(80.4, abs=0.05)
    assert data["die_area_mm2"] == pytest.approx(665.61)
    assert data["die_width_mm"] == pytest.approx(data["die_height_mm"])


def test_wafer_options(runner: Any, cli: Any) -> None:
    data = run_json(
        runner,
        cli,
        "--die-area-mm2",
        "50",
        "--wafer-diameter-mm",
        "150",
        "--edge-exclusion-mm",
        "2",
        "--notch-keepout-mm",
        "5",
    )
    assert data["wafer_diameter_mm"] == 150.0
    assert data["edge_exclusion_mm"] == 2.0
    assert data["notch_keepout_mm"] == 5.0
    side = 50**0.5
    assert data["gross_dies"] == PlacementOracle(150.0, 2.0, 5.0, side, side, 0.1).optimum()[0]
    flat = run_json(runner, cli, "--die-area-mm2", "50", "--wafer-diameter-mm", "150",
                    "--flat-length-mm", "57.5")  # fmt: skip
    assert flat["flat_length_mm"] == 57.5
    expected = place_dies(Wafer(150.0, 3.0, flat_length_mm=57.5), Die(side, side, 0.1))
    assert flat["gross_dies"] == expected.gross_dies


def test_die_area_with_aspect_ratio_and_scribes(runner: Any, cli: Any) -> None:
    data = run_json(
        runner,
        cli,
        "--die-area-mm2",
        "200",
        "--aspect-ratio",
        "2",
        "--scribe-mm",
        "0.2",
        "--scribe-y-mm",
        "0.05",
    )
    assert data["die_width_mm"] == pytest.approx(20.0)
    assert data["die_height_mm"] == pytest.approx(10.0)
    assert (data["scribe_x_mm"], data["scribe_y_mm"]) == (0.2, 0.05)
    assert (
        data["gross_dies"] == PlacementOracle(300.0, 3.0, 0.0, 20.0, 10.0, 0.2, 0.05).optimum()[0]
    )


@pytest.mark.parametrize(
    ("value", "xy"),
    [
        ("die-centered", (0.0, 0.0)),
        ("street-centered", (10.71, 15.66)),
        ("1.5,-2", (1.5, -2.0)),
        ("-1.5,2", (-1.5, 2.0)),
    ],
)
def test_offset_option(runner: Any, cli: Any, value: str, xy: tuple[float, float]) -> None:
    data = run_json(runner, cli, *DIE_910B, "--offset", value)
    assert (data["offset_x_mm"], data["offset_y_mm"]) == pytest.approx(xy)
    oracle = PlacementOracle(300.0, 3.0, 0.0, 21.32, 31.22, 0.1)
    assert data["gross_dies"] == oracle.count_at(xy)
    assert (
        data["gross_dies"] <= run_json(runner, cli, *DIE_910B, "--offset", "optimal")["gross_dies"]
    )


def test_reticle_option(runner: Any, cli: Any) -> None:
    data = run_json(
        runner, cli, "--die-width-mm", "10", "--die-height-mm", "10", "--reticle", "26x33"
    )
    # 2 columns (2·10 + 0.1 <= 26) by 3 rows (3·10 + 0.2 <= 33) per field
    assert data["dies_per_field"] == 6
    m = place_dies(Wafer(), Die(10.0, 10.0, 0.1), reticle=Reticle(26.0, 33.0))
    assert (data["full_shots"], data["partial_shots"]) == (m.full_shots, m.partial_shots)
    text = runner.invoke(cli, ["dies", "--die-area-mm2", "100", "--reticle", "26X33"]).stdout
    assert "6 per field (2 x 3 dies)" in text and "Shots:" in text


def test_plot_option_writes_png(runner: Any, cli: Any, tmp_path: Path) -> None:
    target = tmp_path / "map.png"
    result = runner.invoke(cli, ["dies", *DIE_910B, "--plot", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Wafer map written to" in result.stdout
    data = run_json(runner, cli, *DIE_910B, "--plot", str(tmp_path / "map.svg"))
    assert data["plot"].endswith("map.svg")


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--die-width-mm", "0", "--die-height-mm", "5"], ["--die-width-mm", "> 0"]),
        (["--die-width-mm", "-3", "--die-height-mm", "5"], ["--die-width-mm"]),
        (["--die-width-mm", "abc", "--die-height-mm", "5"], ["--die-width-mm"]),
        (["--die-width-mm", "5", "--die-height-mm", "nan"], ["--die-height-mm"]),
        (["--die-area-mm2", "inf"], ["--die-area-mm2"]),
        (["--die-area-mm2", "100", "--edge-exclusion-mm", "150"], ["--edge-exclusion-mm", "150)"]),
        (["--die-area-mm2", "100", "--edge-exclusion-mm", "-1"], ["--edge-exclusion-mm"]),
        (["--die-area-mm2", "100", "--wafer-diameter-mm", "0"], ["--wafer-diameter-mm"]),
        (["--die-area-mm2", "100", "--notch-keepout-mm", "300"], ["--notch-keepout-mm"]),
        (["--die-area-mm2", "100", "--flat-length-mm", "300"], ["--flat-length-mm"]),
        (["--die-area-mm2", "100", "--scribe-mm", "-0.1"], ["--scribe-mm"]),
        (["--die-area-mm2", "100", "--aspect-ratio", "0"], ["--aspect-ratio"]),
        (["--die-area-mm2", "100", "--offset", "1,x"], ["--offset", "X,Y"]),
        (["--die-area-mm2", "100", "--offset", "1,2,3"], ["--offset"]),
        (["--die-area-mm2", "100", "--offset", "nan,1"], ["--offset"]),
        (["--die-area-mm2", "100", "--offset", "centre"], ["--offset"]),
        (["--die-area-mm2", "100", "--reticle", "26by33"], ["--reticle", "WxH"]),
        (["--die-area-mm2", "100", "--reticle", "0x33"], ["--reticle"]),
        (
            ["--die-width-mm", "30", "--die-height-mm", "30", "--reticle", "26x33"],
            ["--reticle", "30 x 30"],
        ),
        (["--die-area-mm2", "100", "--die-width-mm", "10"], ["--die-area-mm2", "not both"]),
        (["--die-width-mm", "10"], ["--die-height-mm"]),
        ([], ["--die-width-mm"]),
        (["--die-area-mm2", "100", "--format", "xml"], ["--format"]),
        # an option at the end without its value (click raises this without a context)
        (["--die-area-mm2", "100", "--offset"], ["--offset", "requires an argument"]),
        (["--die-area-mm2", "100", "--offset", ""], ["--offset"]),
        (["--die-area-mm2", "100", "--reticle"], ["--reticle", "requires an argument"]),
        (["--die-area-mm2"], ["--die-area-mm2", "requires an argument"]),
        (["--die-area-mm2", "100", "--no-such-option"], ["--no-such-option"]),
        # plain float syntax only: digit-group underscores are refused
        (["--die-width-mm", "1_0", "--die-height-mm", "10"], ["--die-width-mm", "1_0"]),
        (["--die-area-mm2", "100", "--offset", "1_0,0"], ["--offset"]),
        (["--die-area-mm2", "100", "--reticle", "2_6x33"], ["--reticle"]),
        # --aspect-ratio only shapes a die given by its area
        (
            [*DIE_910B, "--aspect-ratio", "2"],
            ["--aspect-ratio", "--die-area-mm2 only"],
        ),
        (
            [*DIE_910B, "--aspect-ratio", "1"],
            ["--aspect-ratio", "--die-area-mm2 only"],
        ),
        # flats are for wafers of 200 mm or less
        (
            ["--die-area-mm2", "100", "--flat-length-mm", "57.5"],
            ["--flat-length-mm", "larger than 200 mm", "notch", "57.5 mm on 150 mm"],
        ),
        # extreme geometry: an error up front instead of exhausting memory
        (
            [*DIE_910B, "--wafer-diameter-mm", "1e9"],
            ["--wafer-diameter-mm", "1000000"],
        ),
        (
            [*DIE_910B, "--wafer-diameter-mm", "1e5"],
            ["21.32 x 31.22 mm", "100000 mm wafer", "4,000,000 sites", "20,000 rows"],
        ),
        (
            ["--die-area-mm2", "1e-6", "--scribe-mm", "0"],
            ["0.001 x 0.001 mm", "300 mm wafer", "4,000,000 sites"],
        ),
        (["--die-width-mm", "2e6", "--die-height-mm", "10"], ["--die-width-mm", "1000000"]),
        (["--die-area-mm2", "1e13"], ["the die width from --die-area-mm2", "1000000"]),
        (
            ["--die-area-mm2", "1e-300", "--aspect-ratio", "1e300"],
            ["--aspect-ratio", "positive and finite"],
        ),
        (["--die-area-mm2", "100", "--scribe-mm", "1e7"], ["--scribe-mm", "1000000"]),
        (["--die-area-mm2", "100", "--offset", "1e300,0"], ["--offset", "die pitches"]),
        # a field larger than the wafer is refused rather than counted
        ([*DIE_910B, "--reticle", "1e9x1e9"], ["--reticle", "1e+06"]),
        ([*DIE_910B, "--reticle", "400x26"], ["--reticle", "wafer diameter, 300 mm"]),
    ],
)
def test_usage_errors(runner: Any, cli: Any, args: list[str], needles: list[str]) -> None:
    assert_usage_error(runner.invoke(cli, ["dies", *args]), *needles)


def test_plot_with_unknown_extension_is_a_usage_error(
    runner: Any, cli: Any, tmp_path: Path
) -> None:
    result = runner.invoke(
        cli, ["dies", "--die-area-mm2", "100", "--plot", str(tmp_path / "m.xyz")]
    )
    assert_usage_error(result, "--plot")
    assert not (tmp_path / "m.xyz").exists()


def test_die_larger_than_usable_area_is_a_domain_error(runner: Any, cli: Any) -> None:
    result = runner.invoke(cli, ["dies", "--die-width-mm", "400", "--die-height-mm", "31.22"])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "does not fit" in result.stderr
    assert "Traceback" not in result.output


def test_plot_into_missing_directory_is_a_domain_error(
    runner: Any, cli: Any, tmp_path: Path
) -> None:
    target = tmp_path / "missing" / "map.png"
    result = runner.invoke(cli, ["dies", "--die-area-mm2", "100", "--plot", str(target)])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert not target.exists()


def test_help_lists_the_options(runner: Any, cli: Any) -> None:
    result = runner.invoke(cli, ["dies", "--help"])
    assert result.exit_code == 0
    for flag in (
        "--offset",
        "--reticle",
        "--plot",
        "--format",
        "--die-area-mm2",
        "--notch-keepout-mm",
    ):
        assert flag in result.stdout


def test_no_message_shows_python_names(runner: Any, cli: Any) -> None:
    cases = [
        [*DIE_910B, "--wafer-diameter-mm", "1e5"],
        ["--die-area-mm2", "100", "--flat-length-mm", "57.5"],
        ["--die-area-mm2", "1e13"],
        [*DIE_910B, "--reticle", "400x26"],
        ["--die-width-mm", "400", "--die-height-mm", "31.22"],
    ]
    for args in cases:
        line = runner.invoke(cli, ["dies", *args]).stderr
        assert not re.search(r"\bNone\b|\b[a-z]+_[a-z_]+\b", line), line


def test_flat_on_a_200_mm_wafer_is_accepted(runner: Any, cli: Any) -> None:
    data = run_json(
        runner, cli, "--die-area-mm2", "50", "--wafer-diameter-mm", "200",
        "--flat-length-mm", "57.5",
    )  # fmt: skip
    expected = place_dies(Wafer(200.0, 3.0, flat_length_mm=57.5), Die(50**0.5, 50**0.5, 0.1))
    assert data["gross_dies"] == expected.gross_dies


def test_aspect_ratio_defaults_to_square_and_shapes_area_dies(runner: Any, cli: Any) -> None:
    square = run_json(runner, cli, "--die-area-mm2", "200")
    assert square["die_width_mm"] == pytest.approx(200**0.5)
    assert square["die_height_mm"] == pytest.approx(200**0.5)
    wide = run_json(runner, cli, "--die-area-mm2", "200", "--aspect-ratio", "2")
    assert (wide["die_width_mm"], wide["die_height_mm"]) == pytest.approx((20.0, 10.0))


def test_text_output_groups_thousands(runner: Any, cli: Any) -> None:
    # 1 x 1 mm die, 0.1 mm scribe, 300 mm wafer with 3 mm edge exclusion:
    # classic formula pi d^2/(4S) - pi d/sqrt(2S) with d = 294 mm, S = 1.21 mm^2
    d, s = 294.0, 1.1 * 1.1
    formula = math.pi * d**2 / (4 * s) - math.pi * d / math.sqrt(2 * s)
    assert formula > 50_000
    args = ["--die-width-mm", "1", "--die-height-mm", "1"]
    gross = run_json(runner, cli, *args)["gross_dies"]
    out = runner.invoke(cli, ["dies", *args]).stdout
    assert f"Classic formula:      {formula:,.1f}  (exact count {gross - formula:+,.1f}," in out
    assert f"Gross dies (full):    {gross:,}" in out
    assert re.search(r"Classic formula:\s+\d{2},\d{3}\.\d", out)


def test_text_output_of_a_tiny_die_keeps_significant_digits(runner: Any, cli: Any) -> None:
    result = runner.invoke(cli, ["dies", "--die-area-mm2", "1e-9", "--wafer-diameter-mm", "100"])
    assert result.exit_code == 0, result.output
    assert "(1e-09 mm²)" in result.stdout
    assert "0.00 mm²" not in result.stdout
    # on a 0.002 mm pitch, offsets and a small wafer's area keep significant digits
    args = ["--die-area-mm2", "1e-6", "--scribe-mm", "0.001", "--wafer-diameter-mm", "2",
            "--edge-exclusion-mm", "0.1", "--offset", "0.0005,-0.00025"]  # fmt: skip
    out = runner.invoke(cli, ["dies", *args]).stdout
    assert "x = 0.0005 mm, y = -0.00025 mm (fixed)" in out
    # usable disc of radius 0.9 mm: pi * 0.81 = 2.545 mm²
    assert f"Usable area:          {math.pi * 0.81:.4g} mm²" in out
    assert "(1e-06 mm²)" in out


def test_large_reticle_field_prints_grouped_counts(runner: Any, cli: Any) -> None:
    # a 300 x 300 mm field holds floor(300.1 / 1.1) = 272 dies of 1 mm per direction
    result = runner.invoke(
        cli, ["dies", "--die-width-mm", "1", "--die-height-mm", "1", "--reticle", "300x300"]
    )
    assert result.exit_code == 0, result.output
    assert "73,984 per field (272 x 272 dies)" in result.stdout


def test_grid_limit_matches_the_library_constant(runner: Any, cli: Any) -> None:
    result = runner.invoke(cli, ["dies", "--die-area-mm2", "1e-6", "--scribe-mm", "0"])
    assert f"{MAX_GRID_SITES:,} sites" in result.stderr
