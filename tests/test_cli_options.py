"""Tests of the shared CLI pieces in cli/options.py: number parsing, die size, errors."""

from __future__ import annotations

from typing import Any

import click
import pytest
from _cli import assert_one_line_error

from waferlab.cli.main import COMMANDS
from waferlab.cli.options import NON_NEGATIVE, POSITIVE, Number, parse_number, resolve_die_size


@pytest.mark.parametrize(
    ("text", "expected"),
    [("10", 10.0), (" -0.5 ", -0.5), ("1e-3", 1e-3), ("2E6", 2e6), (".5", 0.5), ("+3", 3.0)],
)
def test_parse_number_accepts_plain_float_syntax(text: str, expected: float) -> None:
    assert parse_number(text) == expected


@pytest.mark.parametrize("text", ["1_0", "1_000.5", "1e1_0", "_1", "", " ", "abc", "1,5", "0x10"])
def test_parse_number_refuses_everything_else(text: str) -> None:
    # Python's float() reads "1_0" as 10; a number option must not
    assert parse_number(text) is None


@pytest.mark.parametrize("text", ["1_0", "nan", "inf", "-inf", "1e400"])
def test_number_type_rejects_underscores_and_non_finite(text: str) -> None:
    with pytest.raises(click.BadParameter, match="must be"):
        Number().convert(text, None, None)


def test_number_type_ranges() -> None:
    assert POSITIVE.convert("2.5", None, None) == 2.5
    assert NON_NEGATIVE.convert("0", None, None) == 0.0
    with pytest.raises(click.BadParameter, match="> 0"):
        POSITIVE.convert("0", None, None)
    with pytest.raises(click.BadParameter, match=r"in \[0, 1\]"):
        Number(0.0, 1.0).convert("1.5", None, None)


def test_resolve_die_size_from_area_is_square_by_default() -> None:
    # A = w h and w / h = r give h = sqrt(A / r), w = A / h
    assert resolve_die_size(None, None, 400.0, None) == pytest.approx((20.0, 20.0))
    assert resolve_die_size(None, None, 400.0) == pytest.approx((20.0, 20.0))
    assert resolve_die_size(None, None, 200.0, 2.0) == pytest.approx((20.0, 10.0))


def test_resolve_die_size_refuses_aspect_ratio_with_width_and_height() -> None:
    assert resolve_die_size(21.32, 31.22, None, None) == (21.32, 31.22)
    with pytest.raises(click.UsageError, match="--aspect-ratio applies to --die-area-mm2"):
        resolve_die_size(21.32, 31.22, None, 2.0)
    with pytest.raises(click.UsageError, match="not both"):
        resolve_die_size(10.0, None, 100.0, None)
    with pytest.raises(click.UsageError, match="--die-height-mm"):
        resolve_die_size(10.0, None, None, 2.0)


def test_extreme_aspect_ratio_is_a_usage_error_naming_the_ratio() -> None:
    # sqrt(1e-300 / 1e300) underflows the height to 0: no die, and the ratio is to blame
    with pytest.raises(click.BadParameter, match="positive and finite") as info:
        resolve_die_size(None, None, 1e-300, 1e300)
    assert info.value.param_hint == "--aspect-ratio"
    width, height = resolve_die_size(None, None, 100.0, 4.0)
    assert (width, height) == pytest.approx((20.0, 5.0))


@pytest.mark.parametrize("name", [n for n in COMMANDS if n not in ("scenarios", "catalog")])
def test_option_without_value_names_the_command(runner: Any, cli: Any, name: str) -> None:
    # click's parser raises "requires an argument" without a context; the prefix must
    # still be "waferlab <command>:" like every other usage error of the command
    result = runner.invoke(cli, [name, "--format"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [f"waferlab {name}: error: Option '--format' requires an argument."]


@pytest.mark.parametrize(
    ("name", "required"),
    [
        ("dies", []),
        ("yield", ["--defect-density-per-cm2", "0.1"]),
        ("d0", ["--die-yield", "0.5"]),
        ("simulate", ["--defect-density-per-cm2", "0.1", "--n-wafers", "2"]),
    ],
)
def test_aspect_ratio_with_width_and_height_is_a_usage_error_everywhere(
    runner: Any, cli: Any, name: str, required: list[str]
) -> None:
    die = ["--die-width-mm", "21.32", "--die-height-mm", "31.22"]
    result = runner.invoke(cli, [name, *die, *required, "--aspect-ratio", "2"])
    assert result.exit_code == 2, result.output
    line = result.stderr.strip()
    assert line.startswith(f"waferlab {name}: error: --aspect-ratio applies to --die-area-mm2")
    assert "\n" not in line


@pytest.mark.parametrize(
    ("args", "option", "said"),
    [
        (["dies", "--die-width-mm", "inf", "--die-height-mm", "10"], "--die-width-mm",
         "must be a finite number > 0 (got 'inf')"),
        (["dies", "--die-width-mm", "nan", "--die-height-mm", "10"], "--die-width-mm",
         "must be a finite number > 0 (got 'nan')"),
        (["dies", "--die-width-mm", "-inf", "--die-height-mm", "10"], "--die-width-mm",
         "must be a finite number > 0 (got '-inf')"),
        (["yield", "--die-area-mm2", "100", "--defect-density-per-cm2", "0.1",
          "--critical-area-fraction", "inf"], "--critical-area-fraction",
         "must be a finite number in [0, 1] (got 'inf')"),
        (["solve", "bis-2025-ceiling", "--target", "final_units=200000", "--vary",
          "wafer_starts_per_month", "--low", "inf"], "--low",
         "must be a finite number (got 'inf')"),
        (["uncertainty", "csis-2025-smic-target", "--draws", "inf"], "--draws",
         "must be an integer in [2, 1000000] (got 'inf')"),
        (["funnel", "csis-2025-smic-target", "--months", "1.5"], "--months",
         "must be an integer in [1, 1200] (got '1.5')"),
        (["simulate", "--die-area-mm2", "100", "--defect-density-per-cm2", "0.1", "--seed",
          "nan"], "--seed", "must be an integer >= 0 (got 'nan')"),
    ],
)  # fmt: skip
def test_non_finite_and_non_integer_options_are_called_so(
    runner: Any, cli: Any, args: list[str], option: str, said: str
) -> None:
    result = runner.invoke(cli, args)
    assert_one_line_error(result, 2, f"'{option}': {said}", command=args[0])
