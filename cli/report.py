"""``waferlab report``: the CSIS fab arithmetic, recomputed end to end."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any

import click

from waferlab.errors import InvalidParameterError

from .helpers import emit_json
from .main import DomainError
from .main import command as waferlab_command
from .options import FilePath, format_option


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
@click.option(
    "--out",
    "out_dir",
    type=FilePath(),
    default="waferlab-report",
    show_default=True,
    help=(
        "Folder for report.md, report.json and the figures, written whole: built aside "
        "and renamed into place. An existing folder is replaced if it is empty or an "
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
    ctx: click.Context, out_dir: str, force: bool, no_files: bool, output_format: str
) -> None:
    """Recompute the CSIS report's chain from wafer to finished Ascend 910C.

    Dies per wafer (the report's ~80 by formula against an exact placement of the
    real die), the yield calibration (which models reproduce the report's
    published yields), the 910C funnels for the built-in scenarios, and the cost
    per finished 910C. Prints a summary; writes report.md, report.json and PNG
    figures into --out.
    """
    from waferlab.report import build_report, check_out_dir

    try:
        if not no_files:
            check_out_dir(out_dir, force=force)  # before the computation, not after it
        with signals_interrupt():
            report = build_report()
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
