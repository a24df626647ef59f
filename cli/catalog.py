"""``waferlab catalog``: list the sourced catalogue and show an entry with its sources."""

from __future__ import annotations

import textwrap
from typing import Any

import click

from waferlab.catalog import (
    CATALOG_KINDS,
    Entry,
    Fact,
    compute_equivalents,
    get_entry,
    implied_defect_densities,
    list_entries,
    sources,
    total_processing_performance,
)
from waferlab.output import format_table

from .helpers import emit_json
from .main import command as waferlab_command
from .options import format_option

_EQUIVALENT_BASES = ("dense_bf16_tflops", "dense_8bit_tops", "memory_bandwidth_tbps", "tpp")


def _fact_line(path: str, fact: Fact) -> str:
    if fact.is_unknown:
        return f"  {path} = unknown ({fact.unknown})"
    status = "" if fact.status == "published" else f", {fact.status}"
    model = f", model: {fact.model}" if fact.model else ""
    note = f" — {fact.note}" if fact.note else ""
    return f"  {path} = {fact.text()}  [{fact.source}, {fact.date}{status}{model}]{note}"


def _derived(entry: Entry) -> dict[str, Any]:
    """Figures that follow from the entry's facts (chips: TPP and H100-equivalents)."""
    if entry.kind == "chip":
        tpp = total_processing_performance(entry.name)
        return {
            "tpp": tpp.to_dict(),
            "h100_equivalents": {
                basis: compute_equivalents(entry.name, basis=basis) for basis in _EQUIVALENT_BASES
            },
        }
    if entry.kind == "process" and entry.fields.get("yield_observations"):
        return {"implied_defect_density_per_cm2": implied_defect_densities(entry.name)}
    return {}


def _d0_text(value: Any) -> str:
    if isinstance(value, list):
        return "–".join(f"{v:.4f}" for v in value)
    return f"{value:.4f}"


def _show_text(entry: Entry) -> str:
    lines = [f"{entry.name}: {entry.display_name} ({entry.kind})"]
    plain = [(k, v) for k, v in entry.fields.items() if isinstance(v, str) and k != "display_name"]
    lines += [f"  {k} = {v or '-'}" for k, v in plain]
    if entry.kind == "chip":
        dies = ", ".join(f"{d['die']} x {d['count'].text()}" for d in entry.fields["dies"])
        lines.append(f"  dies = {dies}")
    lines += [_fact_line(path, fact) for path, fact in entry.facts()]
    derived = _derived(entry)
    if entry.kind == "chip":
        tpp = derived["tpp"]
        lines += ["", "derived:"]
        lines.append(
            f"  TPP = {tpp['value']:,.0f} (dense 8-bit TOPS x 8, BIS 3A090)"
            if "value" in tpp
            else "  TPP = unknown (dense 8-bit TOPS unknown)"
        )
        for basis, ratio in derived["h100_equivalents"].items():
            shown = "unknown" if ratio is None else f"{ratio:.3f}"
            lines.append(f"  H100 SXM equivalents on {basis}: {shown}")
    if "implied_defect_density_per_cm2" in derived:
        lines += ["", "D0 implied by the yield observations [/cm², by model]:"]
        rows = [
            {
                "die": r["die"],
                "area_mm2": r["die_area_mm2"],
                "yield": r["yield"],
                "model": r["model"],
                "d0": _d0_text(r["defect_density_per_cm2"]),
                "source": r["source"],
            }
            for r in derived["implied_defect_density_per_cm2"]
        ]
        table = format_table(rows, ["die", "area_mm2", "yield", "model", "d0", "source"])
        lines += ["  " + line for line in table.splitlines()]
    if entry.model is not None:
        lines += ["", f"package description: `waferlab package {entry.name}`"]
    cited = sorted({f.source for _, f in entry.facts() if f.source})
    if cited:
        lines += ["", "sources:"]
        for source_id in cited:
            s = sources()[source_id]
            text = f"{source_id}: {s.publisher}, {s.title} ({s.date})" + (
                f" {s.url}" if s.url else ""
            )
            lines += textwrap.wrap(
                text,
                width=100,
                initial_indent="  ",
                subsequent_indent="    ",
                break_on_hyphens=False,
                break_long_words=False,
            )
    return "\n".join(lines)


@click.group(
    "catalog",
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.pass_context
def command(ctx: click.Context) -> None:
    """List or show the sourced catalogue.

    Chips, dies, processes and packages, every figure with its source and date.
    """
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


@waferlab_command("list")
@click.option(
    "--kind",
    type=click.Choice(list(CATALOG_KINDS)),
    default=None,
    help="Only entries of this kind.",
)
@format_option()
def list_command(kind: str | None, output_format: str) -> None:
    """List the catalogue entries with their kind and number of unknowns."""
    rows = [
        {
            "name": e.name,
            "kind": e.kind,
            "display_name": e.display_name,
            "facts": len(e.facts()),
            "unknown": len(e.unknowns()),
        }
        for e in list_entries(kind)
    ]
    if output_format == "json":
        emit_json({"entries": rows})
        return
    click.echo(format_table(rows, ["name", "kind", "facts", "unknown", "display_name"]))


@waferlab_command("show")
@click.argument("name", metavar="NAME")
@format_option()
def show_command(name: str, output_format: str) -> None:
    """Show a catalogue entry: every figure with its source and date, and what is unknown.

    NAME is an entry of `waferlab catalog list`. Chips also show their TPP and
    H100-equivalents on each basis; processes the D0 each yield model implies.
    """
    entry = get_entry(name)
    if output_format == "json":
        emit_json({**entry.to_dict(), "derived": _derived(entry)})
        return
    click.echo(_show_text(entry))


command.add_command(list_command)
command.add_command(show_command)
