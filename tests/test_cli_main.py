"""The root command: version, help, unknown commands, one-line errors."""

from __future__ import annotations

import subprocess
import sys

from waferlab import __version__
from waferlab.cli.main import COMMANDS


def test_version(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"waferlab, version {__version__}"


def test_help_lists_every_command(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0, result.stderr
    for name in COMMANDS:
        assert f"  {name}" in result.stdout


def test_every_command_has_help(runner, cli) -> None:  # type: ignore[no-untyped-def]
    for name in COMMANDS:
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, (name, result.stderr)
        assert "Usage:" in result.stdout


def test_unknown_command_is_one_line_usage_error(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, ["frobnicate"])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "frobnicate" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_option_is_one_line_usage_error(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, ["--no-such-option"])
    assert result.exit_code == 2
    assert result.stderr.startswith("waferlab: error:")
    assert result.stderr.count("\n") == 1


def test_console_script_runs_as_module() -> None:
    """The installed entry point works in a fresh interpreter (no CliRunner)."""
    code = "from waferlab.cli.main import cli; cli()"
    done = subprocess.run(
        [sys.executable, "-c", code, "--version"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert __version__ in done.stdout


def test_bare_command_prints_help(runner, cli) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, [])
    assert result.exit_code == 0
    assert result.stdout.startswith("Usage: waferlab")
    assert "Commands:" in result.stdout
    assert result.stderr == ""


# A question without an answer (NoSolutionError: every option valid, no defect density
# gives the yield) exits 1 from every command that can meet it, never 2.
_NO_SOLUTION_FUNNEL = [
    "csis-2025-smic-target",
    "--set",
    "die_yield=1e-300",
    "--set",
    "harvestable_fraction=0.5",
    "--set",
    "yield_model=negative_binomial",
    "--set",
    "yield_model_parameters={alpha=0.01}",
]


def test_no_solution_exits_1_from_d0(runner, cli) -> None:  # type: ignore[no-untyped-def]
    from _cli import assert_one_line_error

    args = ["d0", "--die-area-mm2", "100", "--die-yield", "0.5", "--critical-area-fraction", "0"]
    assert_one_line_error(runner.invoke(cli, args), 1, "--critical-area-fraction", command="d0")


def test_no_solution_exits_1_from_harvest(runner, cli) -> None:  # type: ignore[no-untyped-def]
    from _cli import assert_one_line_error

    args = ["harvest", "--die-area-mm2", "100", "--fully-good-yield", "1e-300"]
    args += ["--harvestable-fraction", "0.3", "--model", "negative_binomial", "--alpha", "0.01"]
    assert_one_line_error(runner.invoke(cli, args), 1, "finite", command="harvest")


def test_no_solution_exits_1_from_funnel(runner, cli) -> None:  # type: ignore[no-untyped-def]
    from _cli import assert_one_line_error

    result = runner.invoke(cli, ["funnel", *_NO_SOLUTION_FUNNEL])
    assert_one_line_error(result, 1, "die_yield", command="funnel")


def test_no_solution_exits_1_from_cost(runner, cli) -> None:  # type: ignore[no-untyped-def]
    from _cli import assert_one_line_error

    result = runner.invoke(cli, ["cost", *_NO_SOLUTION_FUNNEL])
    assert_one_line_error(result, 1, "die_yield", command="cost")


def test_help_lists_the_commands_as_they_describe_themselves_without_importing_them() -> None:
    # click's own listing (which imports every command) against the lazy one, at two widths
    import click
    from click.testing import CliRunner

    from waferlab.cli.main import WaferlabGroup

    for width in (60, 100):
        lazy = CliRunner().invoke(cli_module().cli, ["--help"], terminal_width=width).output
        formatter = click.HelpFormatter(width=width)
        ctx = click.Context(cli_module().cli, terminal_width=width)
        click.Group.format_commands(cli_module().cli, ctx, formatter)
        assert formatter.getvalue().strip() in lazy
        assert isinstance(cli_module().cli, WaferlabGroup)
    # and listing them imports no command module (nor numpy or scipy)
    code = (
        "import sys; from waferlab.cli.main import cli\n"
        "try:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith(('scipy', 'waferlab.cli.'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "['waferlab.cli.main']"


def cli_module():  # type: ignore[no-untyped-def]
    import waferlab.cli.main as main

    return main
