"""``waferlab report``: the CSIS fab arithmetic, recomputed end to end."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

import click

from waferlab.errors import InvalidParameterError

from .helpers import emit_json, resolve_scenario
from .main import DomainError
from .main import command as waferlab_command
from .options import FilePath, format_option, set_option


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived; raised from the handler so that cleanups run.

    A BaseException (like KeyboardInterrupt), so that no ``except Exception``
    in the computation swallows it.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def signals_interrupt() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into :class:`Interrupted` while the block runs."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        raise Interrupted(signum)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@waferlab_command("report", short_help="Recompute the CSIS report's fab arithmetic end to end.")
@click.argument("scenario_argument", metavar="[SCENARIO]", required=False)
@click.option(
    "--scenario",
    "scenario_option",
    metavar="SCENARIO",
    default=None,
    help=(
        "Scenario of the bottom line's figures and of the cost section: a preset name or a "
        ".toml file (the same as the SCENARIO argument; default csis-2025-smic-target)."
    ),
)
@set_option
@click.option(
    "--out",
    "out_dir",
    type=FilePath(),
    default="waferlab-report",
    show_default=True,
    help=(
        "Folder for report.md, report.html, report.json and the figures, written whole: built "
        "aside and renamed into place. An existing folder is replaced if it is empty or an "
        "earlier report; any other is refused unless --force."
    ),
)
@click.option(
    "--force", is_flag=True, help="Replace --out whole even if it holds files of other kinds."
)
@click.option("--no-files", is_flag=True, help="Print the summary only; write nothing.")
@format_option()
@click.pass_context
def command(
    ctx: click.Context,
    scenario_argument: str | None,
    scenario_option: str | None,
    overrides: tuple[str, ...],
    out_dir: str,
    force: bool,
    no_files: bool,
    output_format: str,
) -> None:
    """Recompute the CSIS report's chain from wafer to finished Ascend 910C.

    Dies per wafer (the report's ~80 by formula against an exact placement of the
    real die), the yield calibration (which models reproduce the report's
    published yields), the 910C funnels for the built-in scenarios, and the cost
    per finished 910C, after a bottom line with p5-p95 ranges from the presets'
    published input ranges. Prints a summary; writes report.md, report.html (one
    self-contained page), report.json and PNG figures into --out.

    SCENARIO (or --scenario) replaces the report's own inputs
    (csis-2025-smic-target) in the bottom line and the cost section: a preset
    name or your own .toml file; --set changes its values.

    Example: waferlab report my-fab.toml --set die_yield=0.3 --out my-report
    """
    from waferlab.report import build_report, check_out_dir

    if scenario_argument and scenario_option and scenario_argument != scenario_option:
        raise click.UsageError("give the scenario once: as SCENARIO or as --scenario")
    name = scenario_argument or scenario_option
    if overrides and name is None:
        name = "csis-2025-smic-target"
    scenario = None if name is None else resolve_scenario(name, overrides)  # errors: main's
    try:
        if not no_files:
            check_out_dir(out_dir, force=force)  # before the computation, not after it
        with signals_interrupt():
            report = build_report(scenario, render=not no_files)
            written = () if no_files else report.write(out_dir, force=force)
    except InvalidParameterError as exc:
        raise click.BadParameter(
            str(exc).replace("out_dir", "the folder", 1).replace("with force", "with --force"),
            param_hint="--out",
        ) from exc
    except OSError as exc:
        where = exc.filename if exc.filename is not None else out_dir
        raise DomainError(f"cannot write {where}: {exc.strerror or exc}", ctx=ctx) from exc
    except Interrupted as exc:
        name = signal.Signals(exc.signum).name
        click.echo(
            f"waferlab report: error: interrupted by {name} (no partial files left behind)",
            err=True,
        )
        ctx.exit(128 + exc.signum)
    if output_format == "json":
        data = report.to_dict()
        data["files"] = [str(path) for path in written]
        emit_json(data)
        return
    click.echo(report.summary, nl=False)
    if written:
        click.echo(f"\nWrote {len(written)} files to {out_dir}/ (start with report.md)")
