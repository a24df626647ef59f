"""``waferlab compare``: scenarios side by side, and what makes two of them differ."""

from __future__ import annotations

import math
from typing import Any

import click
import numpy as np

from waferlab.analysis import attribute_funnels
from waferlab.economics import cost_breakdown
from waferlab.errors import InvalidParameterError
from waferlab.funnel import BINDING_CONSTRAINTS_BY_CODE, run_funnel, run_timeline
from waferlab.output import binding_text, format_table, to_csv
from waferlab.scenarios import Scenario

from .helpers import emit_json, resolve_scenario, save_plot
from .main import command as waferlab_command
from .options import format_option, plot_option

#: Columns of the comparison table (each scenario over its own horizon).
COLUMNS = [
    "scenario",
    "months",
    "start_month",
    "wafer_starts",
    "good_dies",
    "packages_started",
    "final_units",
    "final_units_per_month",
    "compute_equivalents",
    "binding_constraint",
    "cost_per_tested_unit_usd",
    "all_in_cost_per_tested_unit_usd",
]
HEADERS = [
    "scenario",
    "months",
    "from",
    "wafer starts",
    "good dies",
    "packages",
    "final units",
    "final units per month",
    "compute equivalents",
    "binding (last month)",
    "USD per unit",
    "USD per unit, all-in",
]


#: How the engine's one-off stocks (:data:`waferlab.funnel.STOCKS`) read in the table.
_STOCK_NAMES = {"die_bank": "die bank", "hbm_stock": "HBM stock"}


def scenario_row(scenario: Scenario) -> dict[str, Any]:
    """One scenario's horizon totals, its average per month, what binds and its cost."""
    inputs = scenario.funnel_inputs()
    result = run_timeline(inputs)
    row: dict[str, Any] = {
        "scenario": scenario.name,
        "months": inputs.months,
        "start_month": inputs.start_month,
    }
    for name in ("wafer_starts", "good_dies", "packages_started", "final_units"):
        row[name] = float(result.total(name)[0])
    row["final_units_per_month"] = row["final_units"] / inputs.months
    # one-off stocks the totals draw on (their per-month figure is an average, not a rate)
    row["one_off_stocks"] = [_STOCK_NAMES[code] for code in inputs.one_off_stocks]
    row["compute_equivalents"] = (
        float(result.total("compute_equivalents")[0])
        if "compute_equivalents" in result.arrays
        else None
    )
    row["binding_constraint"] = BINDING_CONSTRAINTS_BY_CODE[int(result.binding[0, -1])]
    costs = scenario.cost_inputs()
    row["cost_per_tested_unit_usd"] = row["all_in_cost_per_tested_unit_usd"] = None
    if costs is not None and row["final_units"] > 0:
        # dies packaged only (leftover dies kept as inventory), and all spend over the units
        breakdown = cost_breakdown(run_funnel(inputs), costs)
        row["cost_per_tested_unit_usd"] = breakdown.cost_per_tested_unit_usd
        row["all_in_cost_per_tested_unit_usd"] = breakdown.all_in_cost_per_tested_unit_usd
    return row


def differing_inputs(a: Scenario, b: Scenario) -> dict[str, dict[str, Any]]:
    """The inputs (funnel and cost) whose resolved values differ, with both values."""
    da = {**a.funnel_inputs().to_dict(), **_costs(a)}
    db = {**b.funnel_inputs().to_dict(), **_costs(b)}
    return {
        key: {"a": da.get(key), "b": db.get(key)}
        for key in dict.fromkeys([*da, *db])
        if da.get(key) != db.get(key)
    }


def _costs(s: Scenario) -> dict[str, Any]:
    costs = s.cost_inputs()
    return costs.to_dict() if costs is not None else {}


def _attribution_lines(attribution: Any) -> list[str]:
    """The attribution as text: of ln(U_b / U_a), or of U_b − U_a when some mix finishes no unit."""
    total = attribution.total
    log = attribution.log
    rows = []
    for i, name in enumerate(attribution.names):
        phi = float(attribution.contributions[i])
        row = {"input": name, "a": _text(attribution.inputs_a[i]),
               "b": _text(attribution.inputs_b[i])}  # fmt: skip
        if log:
            row.update(ln=f"{phi:+.4f}", factor=f"x{math.exp(phi):.4g}")
        else:
            row["contribution"] = f"{phi:+,.0f}"
        row["share"] = f"{phi / total:.0%}" if total else ""
        rows.append(row)
    summed = float(np.sum(attribution.contributions))
    last = {"input": "sum", "a": "", "b": "", "share": "100%" if total else ""}
    if log:
        last.update(ln=f"{summed:+.4f}", factor=f"x{attribution.ratio:.4g}")
        head = (
            f"finished units {attribution.value_a:,.0f} -> {attribution.value_b:,.0f} "
            f"(x{attribution.ratio:.4g}, ln ratio {total:+.4f}), split over the "
            "engine's inputs (a yield model counted as the die yield it gives):"
        )
        columns = ["input", "a", "b", "ln", "factor", "share"]
        headers = ["input", "A", "B", "ln contribution", "factor", "share"]
    else:
        last["contribution"] = f"{summed:+,.0f}"
        head = (
            f"finished units {attribution.value_a:,.0f} -> {attribution.value_b:,.0f} "
            f"({total:+,.0f}), split over the engine's inputs as a difference, not a ratio "
            "(some mix of the two cases finishes no unit, so the log-ratio is undefined):"
        )
        columns = ["input", "a", "b", "contribution", "share"]
        headers = ["input", "A", "B", "contribution [units]", "share"]
    rows.append(last)
    return [head, format_table(rows, columns, headers=headers)]


def _text(value: Any) -> str:
    if value is None:
        return "not set"
    if isinstance(value, list):
        months = len(value[0]) if value and isinstance(value[0], list) else len(value)
        return f"a monthly series ({months} months)"
    if isinstance(value, dict):
        return f"{value['learning']} learning" if "learning" in value else str(value)
    if isinstance(value, float):
        # six significant figures: enough to tell inputs apart, without float noise
        return f"{value:,.0f}" if abs(value) >= 1e5 else f"{value:,.6g}"
    return str(value)


@waferlab_command("compare")
@click.argument("scenarios", nargs=-1, required=True, metavar="A B [C ...]")
@format_option(("text", "json", "csv"))
@plot_option(
    "Write the waterfall of the attribution (two scenarios) to this file (.png, .svg or .pdf)."
)
def command(scenarios: tuple[str, ...], output_format: str, plot_path: str | None) -> None:
    """Compare scenarios side by side, and split the difference between two.

    Every scenario's stages over its own horizon, the average per month (to
    compare horizons of different length), the binding constraint and the
    cost per finished unit. For two scenarios, the inputs that differ and the
    exact attribution of ln(units B / units A) to each of them (Shapley values
    over the engine; the contributions sum to the log-ratio).

    Example: waferlab compare csis-2025-smic-target tsmc-n7-counterfactual
    """
    if len(scenarios) < 2:
        raise click.UsageError("give at least two scenarios to compare")
    if plot_path is not None and len(scenarios) != 2:
        raise click.UsageError("--plot draws the attribution of two scenarios: give exactly two")
    resolved = [resolve_scenario(name) for name in scenarios]
    rows = [scenario_row(s) for s in resolved]
    attribution: Any = None
    note: str | None = None
    differ: dict[str, dict[str, Any]] = {}
    if len(resolved) == 2:
        a, b = resolved
        differ = differing_inputs(a, b)
        try:
            attribution = attribute_funnels(a.funnel_inputs(), b.funnel_inputs())
        except InvalidParameterError as exc:
            note = f"no attribution: {exc}"
        if plot_path is not None:
            if attribution is None:
                raise click.UsageError(f"--plot: {note}")
            from waferlab.plotting import plot_waterfall

            ax = plot_waterfall(
                attribution, labels=(a.name, b.name), ylabel="finished units, horizon total"
            )
            for label in ax.get_xticklabels():  # scenario and input names are long
                label.set_rotation(20)
                label.set_horizontalalignment("right")
            figure: Any = ax.figure
            figure.tight_layout()
            save_plot(ax, plot_path)

    if output_format == "json":
        data: dict[str, Any] = {"scenarios": rows}
        if len(resolved) == 2:
            data["differing_inputs"] = differ
            data["attribution_output"] = "final_units over the horizon"
            if attribution is not None:
                details = attribution.to_dict()
                data["attribution_kind"] = "log_ratio" if attribution.log else "difference"
                for key in ("log_ratio", "difference", "attribution", "unchanged"):
                    if key in details:
                        data[key] = details[key]
            else:
                data["attribution"] = None
                data["attribution_note"] = note
        emit_json(data)
        return
    if output_format == "csv":
        click.echo(to_csv(rows, COLUMNS), nl=False)
        return
    lines = [
        "each scenario over its own horizon (totals), and the average per month:",
        format_table(
            [
                {**row, "binding_constraint": binding_text(row["binding_constraint"])}
                for row in rows
            ],
            COLUMNS,
            headers=HEADERS,
            float_format=",.0f",
        ),
    ]
    stocked = [f"{row['scenario']} ({', '.join(row['one_off_stocks'])})" for row in rows
               if row["one_off_stocks"]]  # fmt: skip
    if stocked:
        lines.append(
            "incl. one-off stocks: " + "; ".join(stocked) + " - their totals draw on a stock "
            "used once, so 'per month' is an average over the horizon, not a rate"
        )
    if len(resolved) == 2:
        a, b = resolved
        lines += ["", f"inputs that differ (A = {a.name}, B = {b.name}):"]
        lines.append(
            format_table(
                [{"input": k, "a": _text(v["a"]), "b": _text(v["b"])} for k, v in differ.items()],
                ["input", "a", "b"],
                headers=["input", "A", "B"],
            )
        )
        lines.append("")
        if attribution is None:
            lines.append(str(note))
        else:
            lines += _attribution_lines(attribution)
    click.echo("\n".join(lines))
