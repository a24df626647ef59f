"""``waferlab funnel``: run a scenario's die-to-chip funnel, stage by stage."""

from __future__ import annotations

from typing import Any

import click

from waferlab.funnel import MAX_MONTHS, FunnelInputs, FunnelResult, run_funnel, run_timeline
from waferlab.output import SCIENTIFIC_FROM, binding_text, format_quantity, format_table, to_csv
from waferlab.scenarios import Scenario

from .helpers import (
    changed_line,
    changed_on_command_line,
    emit_json,
    resolve_scenario,
    save_plot,
)
from .main import command as waferlab_command
from .options import Integer, by_option, format_option, plot_option, scenario_argument, set_option

#: Source text of a value the scenario leaves at its FunnelInputs default.
DEFAULT_SOURCE = "waferlab default (not set by the scenario)"

CSV_COLUMNS = [
    "stage",
    "unit",
    "quantity_in",
    "quantity",
    "loss",
    "allocated",
    "carried_over",
    "rounding",
    "quantity_per_month",
    "note",
]


def resolved_parameters(
    scenario: Scenario, inputs: FunnelInputs
) -> tuple[dict[str, Any], dict[str, str]]:
    """Every funnel input actually used, and the source of each."""
    parameters = inputs.to_dict()
    sources = {key: scenario.sources.get(key, DEFAULT_SOURCE) for key in parameters}
    return parameters, sources


def published_rows(scenario: Scenario, result: FunnelResult) -> list[dict[str, Any]]:
    """The publication's own figures next to this funnel's, where a stage matches.

    A calendar-year count (``<what>_units_<YYYY>``) is set beside the funnel's
    finished units in that year when the scenario states its ``start_month``.
    """
    # a stage figure is the publication's own arithmetic for the scenario as published:
    # compare it only when nothing was changed, else it would set different spans or
    # different inputs side by side
    stages = (
        {} if changed_on_command_line(scenario) else {s.name: s.quantity for s in result.stages}
    )
    dated = {}
    if _dated_published(scenario) and result.inputs.start_month is not None:
        timeline = run_timeline(result.inputs)
        dated = {
            row["figure"]: row["this_funnel"] for row in published_period_rows(scenario, timeline)
        }
    rows = []
    for key, value in scenario.published.items():
        if key == "source":
            continue
        if key in dated:
            rows.append({"figure": key, "published": value, "this_funnel": dated[key]})
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
    type=Integer(1, MAX_MONTHS),
    default=None,
    help="Length of the horizon in months (overrides the scenario's months).",
)
@by_option(
    "Totals over the horizon (the stage table), or a table per month, quarter or year "
    "(the engine runs month by month; stocks carry over)."
)
@format_option(("text", "json", "csv"))
@plot_option(
    "Write a chart to this file (.png, .svg or .pdf): the funnel stages, or with --by "
    "month|quarter|year the output over time."
)
def command(
    scenario: str,
    overrides: tuple[str, ...],
    months: int | None,
    by: str,
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
    if by != "total":
        _by_period(resolved, inputs, by, output_format, plot_path)
        return
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
        lines = [f"{resolved.name}: {resolved.description}"]
        changed = changed_line(resolved)
        if changed:
            lines.append(changed)
        lines += ["", result.stage_table(), ""]
        lines.append(result.summary())
        rows = published_rows(resolved, result)
        if rows:
            lines += ["", f"published figures ({resolved.published['source']}):"]
            if changed_on_command_line(resolved):
                lines.append(
                    "(stage figures are compared only for the scenario as published; this run "
                    "changes it)"
                )
            lines.append(
                format_table(
                    rows,
                    ["figure", "published", "this_funnel"],
                    headers=["figure", "published", "this funnel"],
                    float_format=",.0f",
                )
            )
        click.echo("\n".join(lines))


PERIOD_COLUMNS = [
    "period",
    "wafer_starts",
    "good_dies",
    "packages_started",
    "final_units",
    "cumulative_final_units",
    "final_units_from_die_bank",
    "die_inventory",
    "hbm_inventory",
    "binding_constraint",
    "months",
]
PERIOD_HEADERS = [
    "period",
    "wafer starts",
    "good dies",
    "packages started",
    "final units",
    "cumulative",
    "of which from die bank",
    "die inventory (end)",
    "HBM inventory (end)",
    "binding",
    "months",
]


def _by_period(
    resolved: Scenario,
    inputs: FunnelInputs,
    by: str,
    output_format: str,
    plot_path: str | None,
) -> None:
    """Print the month-by-month engine's table summed over months, quarters or years."""
    timeline = run_timeline(inputs)
    rows = timeline.rows(by)
    if plot_path is not None:
        from waferlab.plotting import plot_timeline

        save_plot(plot_timeline(timeline, by=by, published=published_points(resolved)), plot_path)
    exhausted = timeline.stock_exhausted()
    if output_format == "json":
        data = timeline.to_dict(by)
        data.update(
            {
                "scenario": resolved.name,
                "description": resolved.description,
                "final_units_total": float(timeline.total("final_units")[0]),
                "parameters": inputs.to_dict(),
                "sources": {
                    key: resolved.sources.get(key, DEFAULT_SOURCE) for key in inputs.to_dict()
                },
                "published": resolved.published,
            }
        )
        emit_json(data)
        return
    if output_format == "csv":
        click.echo(to_csv(rows, PERIOD_COLUMNS), nl=False)
        return
    hbm = inputs.hbm_constrained
    bank = any(r["final_units_from_die_bank"] for r in rows)
    full = {"month": 1, "quarter": 3, "year": 12, "total": inputs.months}[by]
    partial = any(r["months"] != full for r in rows)
    columns = [
        (c, h)
        for c, h in zip(PERIOD_COLUMNS, PERIOD_HEADERS, strict=True)
        if (hbm or c != "hbm_inventory")
        and (bank or c != "final_units_from_die_bank")
        and (partial or c != "months")
    ]
    lines = [f"{resolved.name}: {resolved.description}"]
    changed = changed_line(resolved)
    if changed:
        lines.append(changed)
    lines.append("")
    lines.append(
        format_table(
            [{**r, "binding_constraint": binding_text(r["binding_constraint"])} for r in rows],
            [c for c, _ in columns],
            headers=[h for _, h in columns],
            float_format=",.0f",
        )
    )
    total = float(timeline.total("final_units")[0])
    span = f"{inputs.months} month{'s' if inputs.months > 1 else ''}"
    if inputs.start_month:
        span += f" from {inputs.start_month}"
    lines += ["", f"{total:,.0f} final units over {span}"]
    for stock, month in exhausted.items():
        if stock == "die_bank" and not bank and month is None:
            continue
        if stock == "hbm_stock" and not hbm:
            continue
        name = stock.replace("_", " ")
        lines.append(f"{name}: {'lasts the horizon' if month is None else 'runs out in ' + month}")
    for key, what in (
        ("dies_in_fab_at_end", "dies still in the fab"),
        ("units_in_packaging_at_end", "units still in packaging"),
    ):
        value = float(timeline.in_process[key][0])
        if value > 0:
            lines.append(f"{what} at the horizon's end: {value:,.0f}")
    rows_published = published_period_rows(resolved, timeline)
    if rows_published:
        lines += ["", f"published figures ({resolved.published['source']}):"]
        lines.append(
            format_table(
                rows_published,
                ["figure", "period", "published", "this_funnel"],
                headers=["figure", "period", "published", "this funnel"],
                float_format=",.0f",
            )
        )
    click.echo("\n".join(lines))


def published_points(resolved: Scenario) -> list[tuple[str, float, str]]:
    """Published cumulative figures that name a calendar span, for plots."""
    return [
        (row["period"], float(row["published"]), row["figure"])
        for row in _dated_published(resolved)
    ]


def _dated_published(resolved: Scenario) -> list[dict[str, Any]]:
    """``[published]`` entries of the form ``<stage>_<YYYY>`` (a calendar-year total)."""
    out = []
    for key, value in resolved.published.items():
        stem, _, year = key.rpartition("_")
        # a calendar-year count of finished units, e.g. ascend_units_2025
        if key == "source" or not (year.isdigit() and len(year) == 4):
            continue
        if not stem.endswith("units"):
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        out.append({"figure": key, "stage": stem, "period": year, "published": value})
    return out


def published_period_rows(resolved: Scenario, timeline: Any) -> list[dict[str, Any]]:
    """Published calendar-year figures next to this funnel's total for the same year."""
    rows = []
    labels: list[str] = []
    values: dict[str, Any] = {}
    if timeline.start_month is not None:
        labels, values = timeline.periods("year")
    for item in _dated_published(resolved):
        computed = None
        if item["period"] in labels:
            j = labels.index(item["period"])
            computed = float(values["final_units"][0, j])
        rows.append(
            {
                "figure": item["figure"],
                "period": item["period"],
                "published": item["published"],
                "this_funnel": computed,
            }
        )
    return rows
