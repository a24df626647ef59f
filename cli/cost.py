"""``waferlab cost``: the cost of a finished unit, built up through a scenario's funnel."""

from __future__ import annotations

from typing import Any

import click

from waferlab.economics import CostBreakdown, cost_breakdown
from waferlab.errors import InvalidParameterError
from waferlab.funnel import run_funnel
from waferlab.output import to_csv
from waferlab.scenarios import scenario_keys

from .options import DomainError, emit_json, format_option, plot_option, save_plot
from .options import command as waferlab_command
from .scenarios import resolve_scenario, scenario_argument, set_option

CSV_COLUMNS = ["section", "item", "unit", "usd", "share_percent", "note"]


def csv_rows(breakdown: CostBreakdown) -> list[dict[str, Any]]:
    """The cost ladder, the per-unit components, both cost views and the notes as one table."""
    rows: list[dict[str, Any]] = [
        {
            "section": "cost per",
            "item": r["per"],
            "unit": r["unit"],
            "usd": r["usd"],
            "share_percent": None,
            "note": "",
        }
        for r in breakdown.ladder_rows()
    ]
    rows += [
        {
            "section": "per tested unit",
            "item": r["component"],
            "unit": "tested units",
            "usd": r["usd_per_unit"],
            "share_percent": r["share_percent"],
            "note": r["note"],
        }
        for r in breakdown.component_rows()
    ]
    rows += [
        {
            "section": f"cost view: {r['view']}",
            "item": r["per"],
            "unit": "USD",
            "usd": r["usd"],
            "share_percent": None,
            "note": r["note"],
        }
        for r in breakdown.view_rows()
    ]
    rows += [
        {
            "section": "note",
            "item": "",
            "unit": "",
            "usd": None,
            "share_percent": None,
            "note": note,
        }
        for note in breakdown.notes
    ]
    return rows


@waferlab_command("cost")
@scenario_argument
@set_option
@format_option(("text", "json", "csv"))
@plot_option("Write a cost-breakdown chart to this file (.png, .svg or .pdf).")
def command(
    scenario: str,
    overrides: tuple[str, ...],
    output_format: str,
    plot_path: str | None,
) -> None:
    """Build up the cost of a finished unit of SCENARIO.

    Cost per wafer, per gross die, per good die, per package, per good package,
    per tested unit and per compute equivalent, and where the money of one
    finished unit goes (silicon, HBM, packaging, test, scrap). Two views of the
    cost per unit: charging only the dies packaged (leftover dies kept as
    inventory) and all-in (all spend over the finished units). Die-bank dies
    without die_bank_cost_usd_per_die are valued at $0 and flagged. The
    scenario needs a [costs] table, or give the costs with --set.

    Example: waferlab cost csis-2025-smic-target --set wafer_cost_usd=14019
    """
    resolved = resolve_scenario(scenario, overrides)
    costs = resolved.cost_inputs()
    inputs = resolved.funnel_inputs()
    if costs is None:
        keys = scenario_keys("costs")
        bank = "die_bank_cost_usd_per_die"
        needed = [keys[0]] + ([bank] if inputs.die_bank_dies > 0 else [])
        optional = [k for k in keys if k not in needed]
        raise DomainError(
            f"scenario {resolved.name!r} states no costs: give them with "
            + " ".join(f"--set {k}=..." for k in needed)
            + (" (needed: the scenario has a die bank)" if len(needed) > 1 else " (required)")
            + " and optionally "
            + ", ".join(f"--set {k}=..." for k in optional)
        )
    result = run_funnel(inputs)
    try:
        breakdown = cost_breakdown(result, costs)
    except InvalidParameterError as exc:
        raise DomainError(f"scenario {resolved.name!r}: {exc}") from exc

    # the plot first: a plot that cannot be written leaves no half output behind
    if plot_path is not None:
        from waferlab.plotting import plot_cost_breakdown

        save_plot(plot_cost_breakdown(breakdown), plot_path)

    if output_format == "json":
        data = breakdown.to_dict()
        data.update(
            {
                "scenario": resolved.name,
                "description": resolved.description,
                "sources": {key: resolved.sources[key] for key in resolved.costs},
            }
        )
        emit_json(data)
    elif output_format == "csv":
        click.echo(to_csv(csv_rows(breakdown), CSV_COLUMNS), nl=False)
    else:
        click.echo(f"{resolved.name}: {resolved.description}\n\n{breakdown.table()}")
