"""``waferlab cost``: the cost of a finished unit, built up through a scenario's funnel."""

from __future__ import annotations

from typing import Any

import click

from waferlab.economics import CostBreakdown, CostInputs, MissingCostError, cost_breakdown
from waferlab.errors import InvalidParameterError
from waferlab.funnel import run_funnel
from waferlab.output import to_csv
from waferlab.scenarios import scenario_keys

from .helpers import changed_line, emit_json, resolve_scenario, save_plot
from .main import DomainError
from .main import command as waferlab_command
from .options import format_option, plot_option, scenario_argument, set_option

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
    without die_bank_cost_usd_per_die are valued at $0 and flagged (when every
    die is a die-bank die, the price is asked for). Costs come from the
    scenario's [costs] table or --set; wafer_cost_usd is needed only when the
    funnel starts wafers.

    Example: waferlab cost csis-2025-smic-target --set wafer_cost_usd=14019
    """
    resolved = resolve_scenario(scenario, overrides)
    inputs = resolved.funnel_inputs()
    stated = resolved.cost_inputs()
    # No [costs] at all: every cost is unset, and cost_breakdown names the ones
    # this funnel needs, exactly as when a [costs] table lacks them.
    costs = stated if stated is not None else CostInputs()
    result = run_funnel(inputs)
    try:
        breakdown = cost_breakdown(result, costs)
    except MissingCostError as exc:
        # The other costs that would act on this funnel and are not set yet.
        acting = {
            "wafer_cost_usd": result.wafers > 0,
            "hbm_cost_usd_per_stack": inputs.hbm_stacks_per_package > 0,
            "die_bank_cost_usd_per_die": inputs.die_bank_dies > 0,
        }
        optional = [
            f"--set {k}=..."
            for k in scenario_keys("costs")
            if k not in exc.keys and k not in resolved.costs and acting.get(k, True)
        ]
        hint = f" (optional: {', '.join(optional)})" if optional else ""
        raise DomainError(f"scenario {resolved.name!r}: {exc}{hint}") from exc
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
        lines = [f"{resolved.name}: {resolved.description}"]
        changed = changed_line(resolved)
        if changed:
            lines.append(changed)
        assumed_costs = resolved.cost_inputs()
        if assumed_costs is not None:
            assumed = ", ".join(
                f"{key} = {value:,g}"
                for key, value in assumed_costs.to_dict().items()
                if isinstance(value, int | float) and not isinstance(value, bool)
            )
            lines.append(f"costs assumed: {assumed}")
        click.echo("\n".join(lines) + f"\n\n{breakdown.table()}")
