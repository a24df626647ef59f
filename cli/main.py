"""Root of the ``waferlab`` command line.

Commands live one per module in this package; :data:`COMMANDS` maps each
command name to its module, which defines a click command called ``command``.
Modules are imported only when their command runs (or when ``--help`` lists
them), so ``waferlab --version`` stays fast.

Errors never end in a traceback: usage errors (a bad option value, a missing
argument) print one line on stderr and exit with status 2; domain errors (a
question with no answer, a malformed scenario file, a file that cannot be
written) print one line and exit with status 1.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Any

import click

from waferlab import __version__
from waferlab.errors import InvalidParameterError, WaferlabError

from .options import EXIT_DOMAIN_ERROR, EXIT_USAGE_ERROR

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


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


class WaferlabGroup(click.Group):
    """Root group: lazy command loading and one-line error reporting."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

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
        except WaferlabError as exc:  # raised outside a command (e.g. a group callback)
            code = EXIT_USAGE_ERROR if isinstance(exc, InvalidParameterError) else EXIT_DOMAIN_ERROR
            click.echo(f"{prog}: error: {_one_line(str(exc))}", err=True)
            sys.exit(code)
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
