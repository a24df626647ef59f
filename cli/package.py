"""``waferlab package``: package yield build-up, consumption and cost with scrap by cause."""

from __future__ import annotations

from typing import Any

import click

from waferlab.catalog import load_package, package_spec
from waferlab.errors import NoSolutionError
from waferlab.output import format_fields, format_percent, format_table
from waferlab.package import SCRAP_CAUSES, PackageResult, packaging_capacity

from .helpers import emit_json
from .main import DomainError
from .main import command as waferlab_command
from .options import NON_NEGATIVE, format_option


def _money(value: Any) -> str:
    return f"${float(value):,.2f}"


def _text(result: PackageResult, origin: str, capacity: Any) -> str:
    lines = [f"{result.name} ({origin}), flow {result.flow}", ""]
    lines.append(f"package yield: {format_percent(result.package_yield, 2)}")
    factors = [{"factor": k, "yield": float(v)} for k, v in result.yield_factors.items()]
    lines += ["  " + line for line in format_table(factors, ["factor", "yield"]).splitlines()]
    rows = [
        {
            "name": r["name"],
            "kind": r["kind"],
            "count": r["count"],
            "yield": float(r["yield"]),
            "tested": float(r["tested_per_good_package"]),
            "fabricated": float(r["fabricated_per_good_package"]),
            "unit_usd": float(r["known_good_cost_usd"]),
        }
        for r in result.components
    ]
    lines += ["", "consumption per good package:"]
    table = format_table(
        rows,
        ["name", "kind", "count", "yield", "tested", "fabricated", "unit_usd"],
        headers=["part", "kind", "count", "yield", "tested", "fabricated", "tested cost $"],
    )
    lines += ["  " + line for line in table.splitlines()]
    lines += ["", f"cost per good package: {_money(result.cost_per_good_package_usd)}"]
    fields = [
        ("raw parts", _money(result.raw_parts_usd)),
        ("raw package", _money(result.raw_package_usd)),
    ]
    fields += [
        (f"scrap: {cause.replace('_', ' ')}", _money(result.scrap_usd[cause]))
        for cause in SCRAP_CAUSES
    ]
    fields.append(("scrap, total", _money(result.total_scrap_usd)))
    lines += ["  " + line for line in format_fields(fields).splitlines()]
    if result.packages_per_interposer_wafer is not None:
        lines += [
            "",
            "packages started per interposer wafer: "
            f"{float(result.packages_per_interposer_wafer):,.2f}",
        ]
    if capacity is not None:
        lines.append(
            f"with {float(capacity.interposer_wafers_per_month):,.0f} interposer wafers/month: "
            f"{float(capacity.packages_started_per_month):,.0f} packages started, "
            f"{float(capacity.good_packages_per_month):,.0f} good per month"
        )
    return "\n".join(lines)


@waferlab_command("package")
@click.argument("spec", metavar="SPEC")
@click.option(
    "--interposer-wafers-per-month",
    type=NON_NEGATIVE,
    default=None,
    help="Also show the packaging capacity of this many interposer wafers a month.",
)
@format_option()
def command(spec: str, interposer_wafers_per_month: float | None, output_format: str) -> None:
    """Package yield, consumption and scrap cost.

    Shows the package's yield build-up, the parts used per good package and
    the cost per good package.

    SPEC is a catalogue package or chip (`waferlab catalog list --kind package`)
    or the path of a package TOML file (docs/packages.md). The cost per good
    package is split into raw parts, raw package and scrap by cause (defective
    parts, good dies, stacks and other parts thrown away with failed
    assemblies, interposers, substrates, assembly), as in Chiplet Actuary.
    """
    _, origin = package_spec(spec)
    try:
        package = load_package(spec)
        result = package.evaluate()
    except NoSolutionError as exc:  # valid values that admit no package: a domain error
        raise DomainError(str(exc)) from exc
    capacity = None
    if interposer_wafers_per_month is not None:
        if package.interposer is None:
            raise click.BadParameter(
                "the package has no interposer", param_hint="--interposer-wafers-per-month"
            )
        capacity = packaging_capacity(interposer_wafers_per_month, package)
    if output_format == "json":
        data = result.to_dict()
        data["source"] = origin
        if capacity is not None:
            data["capacity"] = capacity.to_dict()
        emit_json(data)
        return
    click.echo(_text(result, origin, capacity))
