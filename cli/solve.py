"""``waferlab solve``: the value of one input that makes an output reach a target."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import click
import numpy as np

from waferlab.analysis import MODEL_OUTPUT_NAMES, crossovers, scenario_model, solve
from waferlab.errors import NoSolutionError, ScenarioError
from waferlab.funnel import STOCK_NAMES
from waferlab.output import binding_text, format_table
from waferlab.scenarios import (
    NUMERIC_INPUT_PATTERNS,
    Scenario,
    distribution_range,
    numeric_inputs,
)
from waferlab.timeline import period_labels

from .helpers import emit_json, resolve_scenario
from .main import DomainError
from .main import command as waferlab_command
from .options import Number, by_option, format_option, parse_value, scenario_argument, set_option

#: Outputs a target may name (numbers, not the binding constraint).
TARGETS: tuple[str, ...] = tuple(n for n in MODEL_OUTPUT_NAMES if n != "binding_constraint")
#: Without --high, an input with no upper bound is searched up to this multiple of its value.
DEFAULT_HIGH_FACTOR = 100.0


def parse_target(text: str) -> tuple[str, float]:
    """Read ``--target KEY=VALUE``; a usage error names the valid keys."""
    key, sep, value = text.partition("=")
    key = key.strip()
    number = parse_value(value) if sep else None
    if not sep or isinstance(number, bool) or not isinstance(number, int | float):
        raise click.BadParameter(
            f"expected KEY=NUMBER, e.g. final_units=1000000, got {text!r}",
            param_hint="'--target'",
        )
    if key not in TARGETS:
        raise click.BadParameter(
            f"{key!r} is not an output; one of {', '.join(TARGETS)}", param_hint="'--target'"
        )
    if not math.isfinite(number):
        raise click.BadParameter(
            f"the target must be finite, got {number}", param_hint="'--target'"
        )
    return key, float(number)


def base_value(scenario: Scenario, key: str) -> float | None:
    """The scenario's own value of an input (a number of a timeline entry included)."""
    root, _, sub = key.partition(".")
    if sub and root in scenario.timeline:
        spec = scenario.timeline[root]
        if isinstance(spec, list):
            value: Any = spec[int(sub) - 1] if sub.isdigit() and 0 < int(sub) <= len(spec) else None
        else:
            value = spec.get(sub) if isinstance(spec, Mapping) else None
    elif root == "yield_model_parameters":
        value = scenario.parameters.get(root, {}).get(sub)
    else:
        value = scenario.parameters.get(key, scenario.costs.get(key))
        if value is None:
            value = getattr(scenario.funnel_inputs(), key, None)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def search_range(
    scenario: Scenario, key: str, low: float | None, high: float | None
) -> tuple[float, float]:
    """The range searched: --low/--high, else the input's valid range (or 100 × its value)."""
    valid = distribution_range(key)
    lo = low if low is not None else (valid.lowest if valid.low is not None else 0.0)
    if high is not None:
        hi = high
    elif valid.high is not None:
        hi = valid.highest
    else:
        values = [base_value(scenario, key) or 0.0]
        if key in scenario.distributions:
            values.append(float(scenario.input_distributions()[key].p95))
        hi = DEFAULT_HIGH_FACTOR * max(values)
        if not hi > lo:
            raise click.UsageError(f"give --high: {key} has no upper bound and no value to scale")
    if not hi > lo:
        raise click.UsageError(f"the search range must have --low < --high (got {lo:g}, {hi:g})")
    return lo, hi


@waferlab_command("solve")
@scenario_argument
@set_option
@click.option(
    "--target",
    "target_text",
    required=True,
    metavar="KEY=VALUE",
    help=f"The output and the value to reach, e.g. final_units=1000000 (outputs: "
    f"{', '.join(TARGETS)}).",
)
@click.option(
    "--vary",
    required=True,
    metavar="INPUT",
    help="The input to solve for: a funnel input (die_yield, wafer_starts_per_month, "
    "capacity_share, ...), a cost, or a number of a [timeline] entry "
    "(wafer_starts_per_month.end).",
)
@by_option(
    "The span of the target: the horizon total, or one month, quarter or year (with --period)."
)
@click.option(
    "--period",
    default=None,
    help='The period of the target with --by: "2026", "2026-Q1", "2026-03" (or Y1, Q1, M1 '
    "without a start month).",
)
@click.option("--low", type=Number(), default=None, help="Low end of the search range.")
@click.option("--high", type=Number(), default=None, help="High end of the search range.")
@format_option(("text", "json"))
def command(
    scenario: str,
    overrides: tuple[str, ...],
    target_text: str,
    vary: str,
    by: str,
    period: str | None,
    low: float | None,
    high: float | None,
    output_format: str,
) -> None:
    """Find the value of one input that makes an output of SCENARIO reach a target.

    The smallest value of --vary in its search range whose output reaches the
    target (>= for an output that rises with the input, <= for one that falls,
    such as the cost per unit), exact at the floors of whole packages. Also
    prints the values of --vary at which the binding constraint switches.

    Example: waferlab solve bis-2025-ceiling --target final_units=200000
    --vary wafer_starts_per_month
    """
    key, target = parse_target(target_text)
    resolved = resolve_scenario(scenario, overrides)
    inputs = resolved.funnel_inputs()
    if vary == "yield_model":
        raise click.BadParameter(
            "yield_model is a name, not a number to solve for; try each model with "
            "--set yield_model=NAME, or vary defect_density_per_cm2 or die_yield",
            param_hint="'--vary'",
        )
    try:
        distribution_range(vary)
    except ScenarioError as exc:
        raise click.BadParameter(
            f"{vary} is not a number solve can vary; inputs that can: "
            f"{', '.join(numeric_inputs())}, {NUMERIC_INPUT_PATTERNS}",
            param_hint="'--vary'",
        ) from exc
    labels, index = period_labels(by, inputs.months, inputs.start_month)
    if by == "total":
        if period is not None:
            raise click.UsageError("--period needs --by month, quarter or year")
        months = np.arange(inputs.months)
        period_label = "horizon"
    else:
        if period is None:
            raise click.UsageError(f"--by {by} needs --period (one of {', '.join(labels)})")
        if period not in labels:
            raise click.BadParameter(
                f"{period!r} is not a {by} of the horizon; one of {', '.join(labels)}",
                param_hint="'--period'",
            )
        months = np.flatnonzero(index == labels.index(period))
        period_label = period
    if key == "cost_per_tested_unit_usd" and resolved.cost_inputs() is None:
        raise click.BadParameter(
            f"scenario {resolved.name!r} states no [costs]; give them with --set "
            "(e.g. --set wafer_cost_usd=13552)",
            param_hint="'--target'",
        )
    outputs = [key, "binding_constraint"]
    f = scenario_model(resolved, outputs=outputs)
    # one case at the scenario's own value (or 1) first: an input the funnel cannot
    # take here (a defect density while die_yield is given) fails with the engine's words
    f({vary: np.array([base_value(resolved, vary) or 1.0])})
    lo, hi = search_range(resolved, vary, low, high)
    stock = key in STOCK_NAMES

    def reduce(y: Any) -> Any:
        a = np.asarray(y)
        if a.ndim == 1:
            return a
        return a[:, months[-1]] if stock else a[:, months].sum(axis=1)

    def last_month(y: Any) -> Any:
        return np.asarray(y)[:, months[-1]]

    try:
        result = solve(f, vary, target, low=lo, high=hi, output=key, reduce=reduce)
    except NoSolutionError as exc:
        # say what binds where the output comes closest
        best = solve(f, vary, target, low=lo, high=hi, output=key, reduce=reduce, strict=False)
        binds = np.asarray(best.outputs["binding_constraint"])[months[-1]].item()
        message = str(exc).replace("target", "--target", 1)
        raise DomainError(f"{message}; binding constraint there: {binding_text(binds)}") from exc
    # the output passes the target already at the low end of the range: every value in
    # the range reaches it, and the lowest is the answer, but it does not equal the target
    passed_at_low_end = result.value == lo and not np.isclose(
        result.achieved, target, rtol=1e-9, atol=0.0
    )
    switches = crossovers(f, vary, low=lo, high=hi, output="binding_constraint", reduce=last_month)
    binding = np.asarray(result.outputs["binding_constraint"])[months[-1]].item()
    if output_format == "json":
        emit_json(
            {
                "scenario": resolved.name,
                "input": vary,
                "output": key,
                "target": target,
                "by": by,
                "period": period_label,
                "value": result.value,
                "achieved": result.achieved,
                "reached": result.reached,
                "passed_at_low_end": passed_at_low_end,
                "binding_constraint": binding,
                "search_range": [lo, hi],
                "crossovers": [c.to_dict() for c in switches],
                "evaluations": result.evaluations,
            }
        )
        return
    span = "over the horizon" if by == "total" else f"in {period}"
    lines = [
        f"{resolved.name}: {vary} for {key} = {target:,.10g} {span}",
        "",
        f"{vary} = {result.value:,.10g}",
        f"{key} {span}: {result.achieved:,.10g}",
        f"binding constraint ({'last month' if len(months) > 1 else 'that month'}): "
        f"{binding_text(binding)}",
        f"searched {vary} in [{lo:,.10g}, {hi:,.10g}]",
    ]
    if passed_at_low_end:
        relation = ">=" if result.increasing else "<="
        lines.insert(
            2,
            f"note: the target is passed already at the low end of the range ({key} "
            f"{result.achieved:,.10g} {relation} {target:,.10g}); no value in the range gives "
            "the target itself",
        )
    if switches:
        lines += ["", f"the binding constraint switches as {vary} rises:"]
        rows = [
            {"at": c.value, "below": binding_text(c.before), "from": binding_text(c.after)}
            for c in switches
        ]
        lines.append(
            format_table(
                rows,
                ["at", "below", "from"],
                headers=[vary, "binds below", "binds from"],
                float_format=",.6g",
            )
        )
    click.echo("\n".join(lines))
