"""Root of the ``waferlab`` command line.

Commands live one per module in this package; :data:`COMMANDS` maps each
command name to its module, which defines a click command called ``command``.
Modules are imported only when their command runs (or when ``--help`` lists
them), so ``waferlab --version`` stays fast.

Errors never end in a traceback, and this module is the one place where they
become exit codes: usage errors (a bad option value, a missing argument, an
:class:`~waferlab.errors.InvalidParameterError`) print one line on stderr and
exit with status 2; domain errors (a question with no answer, a malformed
scenario or package file, a file that cannot be written) print one line and exit with
status 1. The module imports only click, so ``waferlab --version`` is quick.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click

from waferlab import __version__

F = TypeVar("F", bound=Callable[..., Any])

EXIT_DOMAIN_ERROR = 1
EXIT_USAGE_ERROR = 2


class DomainError(click.ClickException):
    """A valid question without an answer; exit status 1."""

    exit_code = EXIT_DOMAIN_ERROR

    def __init__(self, message: str, ctx: click.Context | None = None) -> None:
        super().__init__(message)
        self.ctx = ctx


#: Library argument names spelled differently on the command line: argument -> option.
_PARAMETER_OPTIONS = {
    "diameter_mm": "wafer_diameter_mm",
    "width_mm": "die_width_mm",
    "height_mm": "die_height_mm",
    "scribe_x_mm": "scribe_mm",
    "field_width_mm": "reticle",
    "field_height_mm": "reticle",
}


def _option_flag(ctx: click.Context, parameter: str) -> str | None:
    flag = "--" + parameter.replace("_", "-")
    for param in ctx.command.params:
        if flag in getattr(param, "opts", []):
            return flag
    return None


def _option_text(ctx: click.Context, parameter: str) -> str | None:
    """How the command line spells the library argument ``parameter``, if it has one."""
    flag = _option_flag(ctx, parameter)
    if flag is not None:
        return flag
    option = _PARAMETER_OPTIONS.get(parameter)
    if option is None:
        return None
    if (
        parameter in ("width_mm", "height_mm")
        and ctx.params.get(option) is None
        and ctx.params.get("die_area_mm2") is not None
    ):
        return f"the die {parameter[:-3]} from --die-area-mm2"
    return _option_flag(ctx, option)


def cli_error(ctx: click.Context, exc: Exception) -> click.ClickException | None:
    """The CLI error for a library error raised while ``ctx``'s command ran, or None.

    The one place where errors become exit codes: an
    :class:`~waferlab.errors.InvalidParameterError` is a usage error (exit 2)
    naming the option the user typed; :class:`~waferlab.errors.NoSolutionError`
    and every other :class:`~waferlab.errors.WaferlabError` are domain errors
    (exit 1), as is an :class:`OSError` (a file that cannot be read or written).
    Anything else is not ours to translate (None).
    """
    from waferlab.errors import InvalidParameterError, NoSolutionError, WaferlabError

    if isinstance(exc, InvalidParameterError):
        flag = _option_text(ctx, exc.parameter)
        message = str(exc)
        if flag is not None:
            message = message.replace(exc.parameter, flag, 1)
        if isinstance(exc, NoSolutionError):  # valid options, no answer: exit 1
            return DomainError(message, ctx=ctx)
        return click.UsageError(message, ctx=ctx)
    if isinstance(exc, WaferlabError):
        return DomainError(str(exc), ctx=ctx)
    if isinstance(exc, OSError):
        target = f" {exc.filename}" if getattr(exc, "filename", None) else ""
        return DomainError(f"cannot access{target}: {exc.strerror or exc}", ctx=ctx)
    return None


class WaferlabCommand(click.Command):
    """A click command whose errors end as one line on stderr (see :func:`cli_error`)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            # click's parser raises some errors (an option missing its value) without
            # a context; attach it so the message starts with "waferlab <command>:".
            if exc.ctx is None:
                exc.ctx = ctx
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            # Let the root print "waferlab <command>: error: ..." for errors raised
            # without a context (DomainError raised directly by a command).
            if getattr(exc, "ctx", None) is None:
                exc.ctx = ctx  # type: ignore[attr-defined]
            raise
        except Exception as exc:
            error = cli_error(ctx, exc)
            if error is None:
                raise
            raise error from exc


def command(name: str | None = None, **kwargs: Any) -> Callable[[F], WaferlabCommand]:
    """Declare a waferlab command (a :class:`WaferlabCommand`)."""
    kwargs.setdefault("cls", WaferlabCommand)
    kwargs.setdefault("context_settings", {"help_option_names": ["-h", "--help"]})
    return click.command(name, **kwargs)


#: Command name -> module of :mod:`waferlab.cli` defining ``command``, in help order.
COMMANDS: dict[str, str] = {
    "report": "report",
    "dies": "dies",
    "yield": "yield_",
    "d0": "d0",
    "calibrate": "calibrate",
    "harvest": "harvest",
    "simulate": "simulate",
    "funnel": "funnel",
    "cost": "cost",
    "uncertainty": "uncertainty",
    "solve": "solve",
    "compare": "compare",
    "scenarios": "scenarios",
    "package": "package",
    "catalog": "catalog",
}


#: Each command's summary in ``waferlab --help``: its short help (shown whole), or the
#: first paragraph of its help (cut to the width, as click does), so that listing the
#: commands imports none of their modules (tests/test_cli_main.py checks that the
#: listing is the one the commands themselves give).
SUMMARIES: dict[str, tuple[str, bool]] = {
    "report": ("Recompute the CSIS report's fab arithmetic end to end.", False),
    "dies": ("Gross dies per wafer: exact placement and the classic formula.", False),
    "yield": ("Die yield at a defect density, for one model or all of them.", True),
    "d0": ("Defect density D0 implied by an observed die yield, per model.", True),
    "calibrate": ("Fit yield models to published yields.", True),
    "harvest": ("Fully good, degraded and dead dies; or the harvestable fraction.", False),
    "simulate": ("Monte Carlo of killer defects on a die map.", False),
    "funnel": ("Run the die-to-chip funnel of SCENARIO.", True),
    "cost": ("Build up the cost of a finished unit of SCENARIO.", True),
    "uncertainty": ("Carry the published ranges of SCENARIO's inputs to its outputs.", True),
    "solve": ("Find the value of one input that makes an output of SCENARIO reach a target.", True),
    "compare": ("Compare scenarios side by side, and split the difference between two.", True),
    "scenarios": (
        "List the built-in scenarios, or show one with every value and its source.",
        True,
    ),
    "package": ("Package yield, consumption and scrap cost.", True),
    "catalog": ("List or show the sourced catalogue.", True),
}


#: Runs of text without spaces longer than this in an error message (a pasted
#: 5,000-digit number) are shortened to their start and their length; paths, which
#: messages must name whole, are far shorter in practice.
_LONGEST_RUN = 300
_LONG_RUN = re.compile(rf"\S{{{_LONGEST_RUN + 1},}}")


def _shorten(match: re.Match[str]) -> str:
    run = match.group(0)
    return f"{run[:40]}…[{len(run):,} characters]"


def _one_line(text: str) -> str:
    line = " ".join(part.strip() for part in str(text).splitlines() if part.strip())
    return _LONG_RUN.sub(_shorten, line)


class WaferlabGroup(click.Group):
    """Root group: lazy command loading and one-line error reporting."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands from :data:`SUMMARIES`, without importing their modules."""
        limit = formatter.width - 6 - max(len(name) for name in COMMANDS)
        rows = []
        for name in COMMANDS:
            text, cut = SUMMARIES[name]
            # a stand-in command with the same help: click cuts it as it would the real one
            stand_in = (
                click.Command(name, help=text) if cut else click.Command(name, short_help=text)
            )
            rows.append((name, stand_in.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module_name = COMMANDS.get(cmd_name)
        if module_name is None:
            return None
        module = importlib.import_module(f"{__package__}.{module_name}")
        command: click.Command = module.command
        return command

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        prog = prog_name or "waferlab"
        try:
            rv = super().main(args, prog, complete_var, False, **extra)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.exceptions.NoArgsIsHelpError as exc:  # bare `waferlab`: show the help
            click.echo(exc.ctx.get_help() if exc.ctx is not None else exc.format_message())
            sys.exit(0)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else prog
            click.echo(f"{where}: error: {_one_line(exc.format_message())}", err=True)
            sys.exit(EXIT_USAGE_ERROR)
        except click.ClickException as exc:
            ctx = getattr(exc, "ctx", None)
            where = ctx.command_path if ctx is not None else prog
            click.echo(f"{where}: error: {_one_line(exc.format_message())}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo(f"{prog}: aborted", err=True)
            sys.exit(EXIT_DOMAIN_ERROR)
        except Exception as exc:  # a library error raised outside a command
            errors = sys.modules.get("waferlab.errors")
            if errors is None or not isinstance(exc, errors.WaferlabError):
                raise
            usage = isinstance(exc, errors.InvalidParameterError)
            click.echo(f"{prog}: error: {_one_line(str(exc))}", err=True)
            sys.exit(EXIT_USAGE_ERROR if usage else EXIT_DOMAIN_ERROR)
        sys.exit(rv if isinstance(rv, int) else 0)


@click.group(
    "waferlab", cls=WaferlabGroup, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(__version__, "-V", "--version", prog_name="waferlab")
def cli() -> None:
    """Chip-fab yield and wafer economics.

    Dies per wafer, yield models calibrated to published yields, die-to-chip
    funnels and cost per finished chip. Start with `waferlab report`.
    """
