"""``waferlab d0``: the defect density an observed die yield implies, per model."""

from __future__ import annotations

from typing import Any

import click

from waferlab.errors import NoSolutionError
from waferlab.output import format_significant, format_table
from waferlab.yield_models import YIELD_MODELS, defect_density_for_yield, defect_load

from .helpers import (
    density_notes,
    emit_json,
    equivalent,
    full_parameters,
    parameter_text,
    right_aligned,
    selected_models,
)
from .main import DomainError
from .main import command as waferlab_command
from .options import (
    POSITIVE_FRACTION,
    die_size_options,
    format_option,
    model_options,
    resolve_die_size,
)


@waferlab_command("d0")
@die_size_options
@click.option(
    "--die-yield",
    type=POSITIVE_FRACTION,
    required=True,
    help="Observed die yield, in (0, gross yield].",
)
@model_options
@format_option()
def command(
    die_width_mm: float | None,
    die_height_mm: float | None,
    die_area_mm2: float | None,
    aspect_ratio: float | None,
    scribe_mm: float,
    scribe_y_mm: float | None,
    die_yield: float,
    model: str,
    alpha: float | None,
    n_layers: int | None,
    gross_yield: float,
    critical_area_fraction: float,
    output_format: str,
) -> None:
    """Defect density D0 implied by an observed die yield, per model.

    A D0 means nothing without its model: the same 41.5 % at 826 mm² is
    0.1065 /cm² under Poisson and 0.1156 /cm² under Murphy.

    \b
    Give the die as --die-area-mm2, or as --die-width-mm and --die-height-mm
    (scribe options are accepted like elsewhere; they do not enter the yield).
    With --model all, bose_einstein (D0 is the total over the layers) and
    bose_einstein_per_layer (the density of each layer) are shown when
    --n-layers is given.

    \b
    Example:
      waferlab d0 --die-area-mm2 826 --die-yield 0.415
    """
    width, height = resolve_die_size(die_width_mm, die_height_mm, die_area_mm2, aspect_ratio)
    area = die_area_mm2 if die_area_mm2 is not None else width * height
    chosen, skipped = selected_models(model, {"alpha": alpha, "n_layers": n_layers})

    results: list[dict[str, Any]] = []
    for name, parameters in chosen:
        try:
            d0 = defect_density_for_yield(
                name,
                area,
                die_yield,
                gross_yield=gross_yield,
                critical_area_fraction=critical_area_fraction,
                **parameters,
            )
        except NoSolutionError as exc:
            flag = "--" + exc.parameter.replace("_", "-")
            message = str(exc).replace(exc.parameter, flag, 1)
            raise DomainError(f"{name}: {message}") from exc
        row: dict[str, Any] = {
            "model": name,
            "parameters": full_parameters(name, parameters),
            "defect_density_per_cm2": d0,
            "defect_load": defect_load(area, d0, critical_area_fraction=critical_area_fraction),
        }
        same = equivalent(name, row["parameters"], float(d0), area, critical_area_fraction)
        if same is not None:
            row["equivalent"] = same
        results.append(row)

    if output_format == "json":
        emit_json(
            {
                "die_area_mm2": area,
                "die_yield": die_yield,
                "gross_yield": gross_yield,
                "critical_area_fraction": critical_area_fraction,
                "results": results,
                "skipped": skipped,
            }
        )
        return

    lines = [
        f"die area {area:,.6g} mm², die yield {die_yield:g}, gross yield {gross_yield:g}, "
        f"critical area fraction {critical_area_fraction:g}",
        "",
    ]
    columns = ["model", "parameters", "defect_density_per_cm2", "defect_load"]
    headers = ["model", "parameters", "D0 [/cm²]", "λ per die"]
    if len(chosen) == 1 and YIELD_MODELS[chosen[0][0]].density_symbol == "D_layer":
        headers[2:] = ["D_layer [/cm²]", "λ per die and layer"]
    rows = [
        {
            "model": r["model"],
            "parameters": parameter_text(r["parameters"]),
            "defect_density_per_cm2": format_significant(
                r["defect_density_per_cm2"], trailing_zeros=True
            ),
            "defect_load": format_significant(r["defect_load"], trailing_zeros=True),
        }
        for r in results
    ]
    for key, header in zip(columns[2:], headers[2:], strict=True):
        right_aligned(rows, key, header)
    lines.append(format_table(rows, columns, headers=headers))
    lines += density_notes(results)
    for item in skipped:
        lines.append(f"{item['model']}: not shown, {item['reason']}")
    click.echo("\n".join(lines))
