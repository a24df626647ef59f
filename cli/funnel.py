"""``waferlab funnel``: run a scenario's die-to-chip funnel, stage by stage."""

from __future__ import annotations

from typing import Any

import click

from waferlab.funnel import MAX_MONTHS, FunnelInputs, FunnelResult, run_funnel
from waferlab.output import SCIENTIFIC_FROM, format_quantity, format_table, to_csv
from waferlab.scenarios import Scenario

from .helpers import emit_json, resolve_scenario, save_plot
from .main import command as waferlab_command
from .options import format_option, plot_option, scenario_argument, set_option

#: Source text of a value the scenario leaves at its FunnelInputs default.
DEFAULT_SOURCE = "waferlab default (not set by the scenario)"

CSV_COLUMNS = ["stage", "unit", "quantity_in", "quantity", "loss", "quantity_per_month", "note"]


def resolved_parameters(
    scenario: Scenario, inputs: FunnelInputs
) -> tuple[dict[str, Any], dict[str, str]]:
    """Every funnel input actually used, and the source of each."""
    parameters = inputs.to_dict()
    sources = {key: scenario.sources.get(key, DEFAULT_SOURCE) for key in parameters}
    return parameters, sources


def published_rows(scenario: Scenario, result: FunnelResult) -> list[dict[str, Any]]:
    """The publication's own figures next to this funnel's, where a stage matches."""
    stages = {s.name: s.quantity for s in result.stages}
    rows = []
    for key, value in scenario.published.items():
        if key == "source":
            continue
        if isinstance(value, int | float) and abs(value) >= SCIENTIFIC_FROM:
            value = format_quantity(value)  # never a number with hundreds of digits
        rows.append(
            {
                "figure": key,
                "published": value,
                "this_funnel": stages.get(key.replace("_", " ")),
            }
        )
    return rows


@waferlab_command("funnel")
@scenario_argument
@set_option
@click.option(
    "--months",
    type=click.IntRange(1, MAX_MONTHS),
    default=None,
    help="Length of the horizon in months (overrides the scenario's months).",
)
@format_option(("text", "json", "csv"))
@plot_option("Write a funnel chart to this file (.png, .svg or .pdf).")
def command(
    scenario: str,
    overrides: tuple[str, ...],
    months: int | None,
    output_format: str,
    plot_path: str | None,
) -> None:
    """Run the die-to-chip funnel of SCENARIO.

    SCENARIO is a built-in scenario (see `waferlab scenarios list`) or the path
    of a scenario file. Every stage prints what came in, what came out and the
    loss; stocks (a die bank, an HBM inventory) enter once over the horizon.

    Example: waferlab funnel csis-2025-smic-target --set die_yield=0.4
    """
    resolved = resolve_scenario(scenario, overrides, months)
    inputs = resolved.funnel_inputs()
    result = run_funnel(inputs)

    # the plot first: a plot that cannot be written leaves no half output behind
    if plot_path is not None:
        from waferlab.plotting import plot_funnel

        save_plot(plot_funnel(result), plot_path)

    if output_format == "json":
        parameters, sources = resolved_parameters(resolved, inputs)
        data = result.to_dict()
        data.update(
            {
                "scenario": resolved.name,
                "description": resolved.description,
                "parameters": parameters,
                "sources": sources,
                "published": resolved.published,
            }
        )
        emit_json(data)
    elif output_format == "csv":
        click.echo(to_csv(result.stage_rows(), CSV_COLUMNS), nl=False)
    else:
        lines = [f"{resolved.name}: {resolved.description}", "", result.stage_table(), ""]
        lines.append(result.summary())
        rows = published_rows(resolved, result)
        if rows:
            lines += ["", f"published figures ({resolved.published['source']}):"]
            lines.append(
                format_table(
                    rows,
                    ["figure", "published", "this_funnel"],
                    headers=["figure", "published", "this funnel"],
                    float_format=",.0f",
                )
            )
        click.echo("\n".join(lines))
