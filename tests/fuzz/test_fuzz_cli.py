"""Fuzz the command line: every command with generated, mostly bad, option values.

The contract (docs/reliability.md): exit 0 with finite numbers and no negative
counts, or exit 1 (no answer) / 2 (bad usage) with exactly one line on stderr
naming the command, never a traceback, and an answer within a time bound.
"""

from __future__ import annotations

import json
from typing import Any

import click
import pytest
from _contract import assert_contract, count, examples, time_limit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from waferlab.cli.main import cli

# Values that broke (or could break) a parser or a model: non-finite and signed
# zeros, extreme magnitudes, non-ASCII digits, huge digit strings, NUL, control
# characters, paths that are not there.
NASTY = [
    "nan",
    "NaN",
    "inf",
    "-inf",
    "+inf",
    "-0",
    "-0.0",
    "0",
    "1e308",
    "-1e308",
    "1e-320",
    "4.9e-324",
    "1e19",
    "-1",
    "9223372036854775807",
    "18446744073709551616",
    "",
    " ",
    "٢١",
    "２５",
    "2５",
    "१०",
    "1_0",
    "0x10",
    "1e",
    "--",
    "-",
    "abc",
    "☃",
    "\x00",
    "\t",
    "1" * 5000,
    "0." + "1" * 5000,
    "~nosuchuser/x.toml",
    "/dev/null",
    "/proc/self/environ",
    "../../etc/passwd",
    "a.toml",
    "x" * 300,
]
PLAIN = ["0.5", "1", "2", "10", "25", "100", "0.1", "0.2", "300", "665.61", "21.32", "31.22"]

SCENARIOS = [
    "csis-2025-smic-target",
    "csis-2025-smic-current",
    "semianalysis-2025-hbm-bound",
    "semianalysis-2025-2027-ramp",
    "ft-2025-yield-learning",
]
SET_KEYS = [
    "die_yield",
    "defect_density_per_cm2",
    "wafer_starts_per_month",
    "gross_dies_per_wafer",
    "dies_per_package",
    "packaging_yield",
    "months",
    "yield_model",
    "wafer_cost_usd",
    "harvestable_fraction",
    "packaging_capacity_per_month",
    "start_month",
    "fab_cycle_time_months",
    "package",
    "nosuchkey",
]

# Commands and what every invocation starts with (a single model for calibrate keeps
# each example fast; report and simulate are fuzzed elsewhere or are slow).
PREFIX: dict[str, list[str]] = {
    "dies": [],
    "yield": [],
    "d0": [],
    "calibrate": ["--model", "murphy"],
    "harvest": [],
    "funnel": [],
    "cost": [],
    # a small wafer run; the drawn options may change any of these
    "simulate": [
        "--die-width-mm",
        "21.32",
        "--die-height-mm",
        "31.22",
        "--defect-density-per-cm2",
        "0.2",
        "--n-wafers",
        "5",
    ],
}
SKIP_OPTIONS = {"--plot", "--out", "--help", "-h", "--model"}


def _options(name: str) -> list[click.Option]:
    ctx = click.Context(cli)
    command = cli.get_command(ctx, name)
    assert command is not None
    return [
        p
        for p in command.params
        if isinstance(p, click.Option) and not (set(p.opts) & SKIP_OPTIONS)
    ]


def _value(draw: Any, option: click.Option) -> list[str]:
    flag = option.opts[0]
    if option.is_flag:
        return [flag]
    if isinstance(option.type, click.Choice):
        choices = [*option.type.choices, "nosuchchoice", ""]
        return [flag, draw(st.sampled_from(choices))]
    if flag == "--set":
        key = draw(st.sampled_from(SET_KEYS))
        return [flag, f"{key}={draw(st.sampled_from(NASTY + PLAIN + ['none', 'murphy']))}"]
    return [
        flag,
        draw(st.one_of(st.sampled_from(NASTY), st.sampled_from(PLAIN), st.text(max_size=12))),
    ]


@st.composite
def invocations(draw: Any, name: str) -> list[str]:
    args = [name, *PREFIX[name]]
    if name in ("funnel", "cost"):
        args.append(draw(st.sampled_from([*SCENARIOS, *NASTY[:6], "nosuch", "x.toml"])))
    options = _options(name)
    chosen = draw(st.lists(st.sampled_from(options), min_size=1, max_size=5, unique_by=id))
    for option in chosen:
        args += _value(draw, option)
    if any("--format" in o.opts for o in options) and draw(st.booleans()):
        args += ["--format", "json"]
    return args


COUNT_WORDS = ("dies", "packages", "units", "wafers", "stacks", "starts")


def _no_negative_counts(data: Any, key: str = "") -> None:
    if isinstance(data, dict):
        for k, v in data.items():
            _no_negative_counts(v, k)
    elif isinstance(data, list):
        for v in data:
            _no_negative_counts(v, key)
    elif (
        isinstance(data, int | float)
        and not isinstance(data, bool)
        and any(word in key for word in COUNT_WORDS)
        and "delta" not in key
    ):
        assert data >= 0, (key, data)


@pytest.mark.parametrize("name", list(PREFIX))
def test_cli_contract(name: str, runner) -> None:  # type: ignore[no-untyped-def]
    @settings(
        max_examples=examples(150),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(invocations(name))
    def check(args: list[str]) -> None:
        count(f"cli {name}")
        with time_limit(20.0):
            result = runner.invoke(cli, args)
        assert_contract(result, name)
        if result.exit_code == 0 and "json" in args:
            _no_negative_counts(json.loads(result.stdout))

    check()


OUT_DIRS = ["", " ", "\x00", "a\x00b", "x" * 300, "~nosuchuser/r", "/proc/x", "/dev/null", "."]


def test_report_out_contract(runner, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # The report itself is replaced by a small one: --out handling is under test.
    import os
    import shutil

    import waferlab.report

    small = waferlab.report.Report("# small\n", "small\n", {"fig.png": b"png"})
    monkeypatch.setattr(waferlab.report, "build_report", lambda *a, **k: small)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "notes.txt").write_text("mine")
    names = st.one_of(
        st.sampled_from([*OUT_DIRS, "a-file", "a-file/sub", "work", "new/deeper/rep"]),
        st.text(min_size=1, max_size=20),
    )

    @settings(
        max_examples=examples(60),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(names, st.booleans(), st.booleans())
    def check(out: str, force: bool, as_json: bool) -> None:
        count("cli report --out")
        work = tmp_path / "work"
        if not (work / "notes.txt").exists():  # a forced run replaced it: someone's work again
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir()
            (work / "notes.txt").write_text("mine")
        args = ["report", "--out", out, *(["--force"] if force else [])]
        args += ["--format", "json"] if as_json else []
        with time_limit(20.0):
            result = runner.invoke(cli, args)
        assert_contract(result, "report", finite_output=False)
        leftovers = [n for n in os.listdir(tmp_path) if n.startswith(".") and n.endswith(".tmp")]
        assert leftovers == []
        assert (tmp_path / "a-file").read_text() == "x"
        if not force:
            assert (tmp_path / "work" / "notes.txt").read_text() == "mine"

    check()


def test_scenarios_show_contract(runner) -> None:  # type: ignore[no-untyped-def]
    @settings(max_examples=examples(60), suppress_health_check=[HealthCheck.too_slow])
    @given(
        st.one_of(st.sampled_from([*SCENARIOS, *NASTY]), st.text(max_size=30)),
        st.booleans(),
    )
    def check(name: str, as_json: bool) -> None:
        count("cli scenarios show")
        args = ["scenarios", "show", name, *(["--format", "json"] if as_json else [])]
        with time_limit(20.0):
            result = runner.invoke(cli, args)
        assert_contract(result, "scenarios show")

    check()
