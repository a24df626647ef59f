"""``waferlab report``: the CSIS fab arithmetic, recomputed end to end."""

from __future__ import annotations

import click

from .helpers import emit_json
from .main import command as waferlab_command
from .options import format_option


@waferlab_command("report", short_help="Recompute the CSIS report's fab arithmetic end to end.")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(),
    default="waferlab-report",
    show_default=True,
    help="Directory for report.md, report.json and the figures (created if needed).",
)
@click.option("--no-files", is_flag=True, help="Print the summary only; write nothing.")
@format_option()
def command(out_dir: str, no_files: bool, output_format: str) -> None:
    """Recompute the CSIS report's chain from wafer to finished Ascend 910C.

    Dies per wafer (the report's ~80 by formula against an exact placement of the
    real die), the yield calibration (which models reproduce the report's
    published yields), the 910C funnels for the built-in scenarios, and the cost
    per finished 910C. Prints a summary; writes report.md, report.json and PNG
    figures into --out.
    """
    from waferlab.report import build_report

    if not no_files and not out_dir.strip():
        raise click.BadParameter("must name a directory (got an empty path)", param_hint="--out")
    report = build_report()
    written = () if no_files else report.write(out_dir)
    if output_format == "json":
        data = report.to_dict()
        data["files"] = [str(path) for path in written]
        emit_json(data)
        return
    click.echo(report.summary, nl=False)
    if written:
        click.echo(f"\nWrote {len(written)} files to {out_dir}/ (start with report.md)")
