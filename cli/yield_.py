"""``waferlab yield``: die yield for one or every yield model.

The model options are shared with ``waferlab d0`` through ``cli/options.py``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import click

from waferlab.errors import InvalidParameterError
from waferlab.output import format_decimals, format_significant, format_table
from waferlab.yield_models import YIELD_MODELS, defect_load, die_yield

if TYPE_CHECKING:
    from waferlab.geometry import Wafer

from .helpers import (
    density_notes,
    emit_json,
    equivalent,
    full_parameters,
    parameter_text,
    right_aligned,
    selected_models,
)
from .main import command as waferlab_command
from .options import (
    NON_NEGATIVE,
    die_size_options,
    format_option,
    model_options,
    resolve_die_size,
    wafer_options,
)


def _gross_dies(
    width_mm: float,
    height_mm: float,
    scribe_mm: float,
    scribe_y_mm: float | None,
    wafer: Wafer,
) -> tuple[int, dict[str, Any]]:
    """Gross dies per wafer for the die, and the wafer and scribe as given (for JSON)."""
    from waferlab.geometry import Die, gross_dies_per_wafer

    die = Die(width_mm, height_mm, scribe_x_mm=scribe_mm, scribe_y_mm=scribe_y_mm)
    description = {
        "wafer_diameter_mm": wafer.diameter_mm,
        "edge_exclusion_mm": wafer.edge_exclusion_mm,
        "notch_keepout_mm": wafer.notch_keepout_mm,
        "flat_length_mm": wafer.flat_length_mm,
        "scribe_mm": scribe_mm,
        "scribe_y_mm": scribe_mm if scribe_y_mm is None else scribe_y_mm,
    }
    return gross_dies_per_wafer(wafer, die), description


#: Options that only act when the die is placed on the wafer (given by its sides).
PLACEMENT_OPTIONS = (
    "aspect_ratio",
    "scribe_mm",
    "scribe_y_mm",
    "wafer_diameter_mm",
    "edge_exclusion_mm",
    "notch_keepout_mm",
    "flat_length_mm",
)


def _refuse_placement_options(ctx: click.Context) -> None:
    """Refuse, naming them, the placement options given with --die-area-mm2 (they do nothing)."""
    from click.core import ParameterSource

    given = [
        "--" + name.replace("_", "-")
        for name in PLACEMENT_OPTIONS
        if ctx.get_parameter_source(name) not in (None, ParameterSource.DEFAULT)
    ]
    if given:
        names = given[0] if len(given) == 1 else ", ".join(given[:-1]) + " and " + given[-1]
        acts = "acts" if len(given) == 1 else "act"
        raise click.UsageError(
            f"{names} {acts} only when the die is placed on the wafer, which needs "
            "--die-width-mm and --die-height-mm; --die-area-mm2 gives the yield alone "
            f"(drop {'it' if len(given) == 1 else 'them'}, or give the die's sides)"
        )


@waferlab_command("yield")
@die_size_options
@click.option(
    "--defect-density-per-cm2",
    type=NON_NEGATIVE,
    required=True,
    help=(
        "Fatal defect density D0 [defects/cm²]: for bose_einstein the total over the "
        "layers, for bose_einstein_per_layer the density of each layer."
    ),
)
@model_options
@wafer_options
@format_option()
def command(
    die_width_mm: float | None,
    die_height_mm: float | None,
    die_area_mm2: float | None,
    aspect_ratio: float | None,
    scribe_mm: float,
    scribe_y_mm: float | None,
    defect_density_per_cm2: float,
    model: str,
    alpha: float | None,
    n_layers: int | None,
    gross_yield: float,
    critical_area_fraction: float,
    wafer: Wafer,
    output_format: str,
) -> None:
    """Die yield at a defect density, for one model or all of them.

    \b
    Give the die as
      --die-width-mm and --die-height-mm   (also places it on the wafer and
                                            adds good dies per wafer), or
      --die-area-mm2                       (yield only: the wafer, scribe and
                                            aspect-ratio options are refused).
    With --model all, bose_einstein (the density is the total over the
    layers) and bose_einstein_per_layer (the density is that of each layer)
    are shown when --n-layers is given.

    \b
    Example:
      waferlab yield --die-width-mm 21.32 --die-height-mm 31.22 \\
        --defect-density-per-cm2 0.1 --alpha 0.5 --n-layers 10
    """
    if die_area_mm2 is not None:
        _refuse_placement_options(click.get_current_context())
    width, height = resolve_die_size(die_width_mm, die_height_mm, die_area_mm2, aspect_ratio)
    placed = die_area_mm2 is None
    area = die_area_mm2 if die_area_mm2 is not None else width * height
    chosen, skipped = selected_models(model, {"alpha": alpha, "n_layers": n_layers})

    gross_dies: int | None = None
    placement: dict[str, Any] | None = None
    if placed:
        gross_dies, placement = _gross_dies(width, height, scribe_mm, scribe_y_mm, wafer)

    lam = defect_load(area, defect_density_per_cm2, critical_area_fraction=critical_area_fraction)
    if not math.isfinite(lam):
        raise InvalidParameterError(
            "defect_density_per_cm2",
            defect_density_per_cm2,
            "small enough that D0 × die area stays finite",
            "the mean number of defects per die overflows",
        )
    results = []
    for name, parameters in chosen:
        y = die_yield(
            name,
            area,
            defect_density_per_cm2,
            gross_yield=gross_yield,
            critical_area_fraction=critical_area_fraction,
            **parameters,
        )
        row: dict[str, Any] = {
            "model": name,
            "parameters": full_parameters(name, parameters),
            "die_yield": y,
        }
        if gross_dies is not None:
            row["good_dies_per_wafer"] = gross_dies * y
        same = equivalent(
            name, row["parameters"], defect_density_per_cm2, area, critical_area_fraction
        )
        if same is not None:
            row["equivalent"] = same
        results.append(row)

    if output_format == "json":
        emit_json(
            {
                "die_area_mm2": area,
                "die_width_mm": width if placed else None,
                "die_height_mm": height if placed else None,
                "defect_density_per_cm2": defect_density_per_cm2,
                "gross_yield": gross_yield,
                "critical_area_fraction": critical_area_fraction,
                "defect_load": lam,
                "wafer": placement,
                "gross_dies_per_wafer": gross_dies,
                "results": results,
                "skipped": skipped,
            }
        )
        return

    size = f" ({width:g} x {height:g} mm)" if placed else ""
    # one model whose density is per layer: say so in the header
    symbol = YIELD_MODELS[chosen[0][0]].density_symbol if len(chosen) == 1 else "D0"
    per_layer = " and layer" if symbol == "D_layer" else ""
    lines = [
        f"die area {area:,.6g} mm²{size}, {symbol} {defect_density_per_cm2:g} /cm², "
        f"gross yield {gross_yield:g}, critical area fraction {critical_area_fraction:g}",
        f"mean fatal defects per die{per_layer} (λ) {format_significant(float(lam))}",
    ]
    if placement is not None:
        lines.append(
            f"{wafer.diameter_mm:g} mm wafer, {wafer.edge_exclusion_mm:g} mm edge exclusion, "
            f"{scribe_mm:g} mm scribe: {gross_dies:,} gross dies per wafer"
        )
    columns = ["model", "parameters", "die_yield"]
    headers = ["model", "parameters", "die yield"]
    if gross_dies is not None:
        columns.append("good_dies_per_wafer")
        headers.append("good dies per wafer")
    table_rows = []
    for r in results:
        cells = {"model": r["model"], "parameters": parameter_text(r["parameters"])}
        cells["die_yield"] = format_decimals(r["die_yield"])
        if gross_dies is not None:
            cells["good_dies_per_wafer"] = format_decimals(r["good_dies_per_wafer"], 1)
        table_rows.append(cells)
    for key, header in zip(columns[2:], headers[2:], strict=True):
        right_aligned(table_rows, key, header)
    lines += ["", format_table(table_rows, columns, headers=headers)]
    lines += density_notes(results)
    for item in skipped:
        lines.append(f"{item['model']}: not shown, {item['reason']}")
    click.echo("\n".join(lines))
