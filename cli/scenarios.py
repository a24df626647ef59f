"""``waferlab scenarios``: list the built-in scenarios and show one with its sources."""

from __future__ import annotations

import textwrap
from typing import Any

import click

from waferlab.scenarios import Scenario, list_scenarios, load_scenario, parameter_unit

from .helpers import emit_json
from .main import command as waferlab_command
from .options import format_option


def _show_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.10g}" if abs(value) >= 1000 else f"{value:.10g}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {v:g}" for k, v in value.items()) + "}"
    return str(value)


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _entries(scenario: Scenario, table: str) -> list[dict[str, Any]]:
    values = scenario.parameters if table == "parameters" else scenario.costs
    return [
        {
            "key": key,
            "value": value,
            "unit": parameter_unit(key),
            "source": scenario.sources.get(key, ""),
        }
        for key, value in values.items()
    ]


def _show_text(scenario: Scenario) -> str:
    wrap = textwrap.TextWrapper(width=100, initial_indent="      ", subsequent_indent="      ")
    lines = [f"{scenario.name}: {scenario.description}"]
    if scenario.inherits:
        lines.append(f"inherits: {scenario.inherits}")
    lines.append(f"file: {scenario.path}")
    for table in ("parameters", "costs"):
        entries = _entries(scenario, table)
        if not entries:
            if table == "costs":
                lines += [
                    "",
                    "costs: none stated (give them with --set KEY=VALUE; "
                    "`waferlab cost` names the ones this funnel needs)",
                ]
            continue
        lines += ["", f"{table}:"]
        for e in entries:
            unit = e["unit"] if e["unit"] not in ("", "1") else ""
            lines.append(f"  {e['key']} = {_show_value(e['value'])} {unit}".rstrip())
            lines += wrap.wrap(e["source"])
    if scenario.timeline:
        lines += ["", "timeline (monthly series; see docs/timeline.md):"]
        for key, spec in scenario.timeline.items():
            if isinstance(spec, list):
                shown = (
                    f"{len(spec)} monthly values: "
                    + ", ".join(_show_value(v) for v in spec[:6])
                    + (", ..." if len(spec) > 6 else "")
                )
            else:
                shown = "{ " + ", ".join(f"{k} = {_show_value(v)}" for k, v in spec.items()) + " }"
            lines.append(f"  {key} = {shown}")
            source = scenario.sources.get(key)
            if source is not None:
                lines += wrap.wrap(source)
    from waferlab.output import outside_range_text
    from waferlab.uncertainty import outside_valid_range

    distributions = scenario.input_distributions()
    outside = outside_valid_range(distributions)
    if distributions:
        lines += ["", "distributions (waferlab uncertainty):"]
        for key, d in distributions.items():
            quantiles = ", ".join(
                f"{label} {_show_value(q) if isinstance(q, str) else _number(q)}"
                for label, q in (("p5", d.p5), ("median", d.median), ("p95", d.p95))
            )
            lines.append(f"  {key} = {d!r} ({quantiles})")
            source = scenario.sources.get(f"distributions.{key}")
            if source is not None:
                lines += wrap.wrap(source)
            if key in outside:
                lines += wrap.wrap("note: " + outside_range_text(key, d, outside[key]))
        for a, b, rho in scenario.input_correlations():
            lines.append(f"  rank correlation {a} ~ {b}: {rho:+g}")
    if scenario.published:
        lines += ["", f"published figures ({scenario.published['source']}):"]
        for key, value in scenario.published.items():
            if key != "source":
                lines.append(f"  {key} = {_show_value(value)}")
    if scenario.notes:
        lines += ["", "notes:"]
        for k, paragraph in enumerate(scenario.notes.split("\n\n")):
            if k:
                lines.append("")
            lines += textwrap.wrap(
                " ".join(paragraph.split()),
                width=100,
                initial_indent="  ",
                subsequent_indent="  ",
                break_on_hyphens=False,
            )
    return "\n".join(lines)


@click.group(
    "scenarios",
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.pass_context
def command(ctx: click.Context) -> None:
    """List the built-in scenarios, or show one with every value and its source."""
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


@waferlab_command("list")
@format_option()
def list_command(output_format: str) -> None:
    """List the built-in scenarios with their descriptions."""
    rows: list[dict[str, Any]] = []
    for name in list_scenarios():
        scenario = load_scenario(name)
        rows.append(
            {
                "name": name,
                "inherits": scenario.inherits,
                "description": scenario.description,
            }
        )
    if output_format == "json":
        emit_json({"scenarios": rows})
        return
    width = max(len(r["name"]) for r in rows)
    lines = [f"{'name'.ljust(width)}  description", f"{'-' * width}  {'-' * 11}"]
    for r in rows:
        wrapped = textwrap.wrap(r["description"], width=max(100 - width - 2, 40))
        lines.append(f"{r['name'].ljust(width)}  {wrapped[0]}")
        lines += [f"{' ' * width}  {more}" for more in wrapped[1:]]
    click.echo("\n".join(lines))


@waferlab_command("show")
@click.argument("name", metavar="NAME")
@format_option()
def show_command(name: str, output_format: str) -> None:
    """Show a scenario: every value with its unit and source.

    NAME is a built-in scenario (see `waferlab scenarios list`) or the path of
    a scenario file.
    """
    scenario = load_scenario(name)
    if output_format == "json":
        data = scenario.to_dict()
        data["units"] = {
            key: parameter_unit(key) for key in (*scenario.parameters, *scenario.costs)
        }
        from waferlab.uncertainty import outside_valid_range

        data["outside_valid_range"] = outside_valid_range(scenario.input_distributions())
        emit_json(data)
        return
    click.echo(_show_text(scenario))


command.add_command(list_command)
command.add_command(show_command)
