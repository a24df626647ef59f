"""``waferlab dies``: gross dies per wafer by exact placement, next to the classic formula."""

from __future__ import annotations

import re
from typing import Any

import click

from waferlab.errors import InvalidParameterError
from waferlab.geometry import MAX_LENGTH_MM, Die, DieMap, Reticle, Wafer, place_dies
from waferlab.output import format_fields

from .helpers import emit_json, save_plot
from .main import command as waferlab_command
from .options import (
    die_options,
    format_option,
    offset_option,
    parse_number,
    plot_option,
    wafer_options,
)


class ReticleType(click.ParamType):
    """An exposure field ``WxH`` in mm, e.g. ``26x33``."""

    name = "WxH"
    _pattern = re.compile(r"^\s*([^x×*]+?)\s*[x×*]\s*([^x×*]+?)\s*$", re.IGNORECASE)

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Reticle:
        if isinstance(value, Reticle):
            return value
        match = self._pattern.match(str(value))
        if match:
            w, h = parse_number(match.group(1)), parse_number(match.group(2))
            if w is not None and h is not None:
                try:
                    return Reticle(w, h)
                except InvalidParameterError:
                    pass
        self.fail(
            f"must be a field size WxH in mm with both sides in (0, {MAX_LENGTH_MM:g}], "
            f"e.g. 26x33 (got {value!r})",
            param,
            ctx,
        )


def _area(x: float) -> str:
    """An area [mm²]: two decimals from 1 mm² up, three significant digits below."""
    return f"{x:,.2f}" if x >= 1.0 else f"{x:.3g}"


def _usable(x: float) -> str:
    """A wafer area [mm²]: whole mm² from 1,000 mm² up, four significant digits below."""
    return f"{x:,.0f}" if x >= 1000.0 else f"{x:.4g}"


def _length(x: float, pitch: float) -> str:
    """An offset [mm]: four decimals, or four significant digits on a sub-0.1 mm grid."""
    return f"{x:.4f}" if pitch >= 0.1 else f"{x:.4g}"


def _text(m: DieMap) -> str:
    wafer, die = m.wafer, m.die
    mode = m.offset_mode
    if mode == "optimal":
        mode = "optimal, certified" if m.certified else f"optimal within {m.optimality_gap} dies"
    diff = m.gross_dies - m.formula_dies
    rows = [
        ("Gross dies (full)", f"{m.gross_dies:,}"),
        ("Partial dies (edge)", f"{m.partial_dies:,}"),
        (
            "Classic formula",
            f"{m.formula_dies:,.1f}  (exact count {diff:+,.1f}, "
            "pi d^2/(4S) - pi d/sqrt(2S), d = usable diameter, S = pitch area)",
        ),
        (
            "Offset",
            f"x = {_length(m.offset_x_mm, die.pitch_x_mm)} mm, "
            f"y = {_length(m.offset_y_mm, die.pitch_y_mm)} mm ({mode})",
        ),
        (
            "Wafer",
            f"{wafer.diameter_mm:g} mm, edge exclusion {wafer.edge_exclusion_mm:g} mm"
            + (f", notch band {wafer.notch_keepout_mm:g} mm" if wafer.notch_keepout_mm else "")
            + (f", flat {wafer.flat_length_mm:g} mm" if wafer.flat_length_mm is not None else ""),
        ),
        ("Usable area", f"{_usable(wafer.usable_area_mm2)} mm²"),
        (
            "Die",
            f"{die.width_mm:g} x {die.height_mm:g} mm ({_area(die.area_mm2)} mm²), "
            f"scribe {die.scribe_x_mm:g} x {die.scribe_y:g} mm, "
            f"pitch {die.pitch_x_mm:g} x {die.pitch_y_mm:g} mm",
        ),
    ]
    if m.reticle is not None and m.dies_per_field is not None:
        nx, ny = m.dies_per_field
        rows += [
            (
                "Reticle field",
                f"{m.reticle.field_width_mm:g} x {m.reticle.field_height_mm:g} mm: "
                f"{nx * ny:,} per field ({nx:,} x {ny:,} dies)",
            ),
            ("Shots", f"{m.full_shots:,} full, {m.partial_shots:,} partial"),
        ]
    return format_fields(rows)


@waferlab_command(
    "dies", short_help="Gross dies per wafer: exact placement and the classic formula."
)
@wafer_options
@die_options
@offset_option
@click.option(
    "--reticle",
    type=ReticleType(),
    default=None,
    help="Exposure field WxH in mm (e.g. 26x33), each side at most the wafer diameter: "
    "adds dies per field and shot counts.",
)
@format_option()
@plot_option("Write a wafer map to this file (.png, .svg or .pdf).")
def command(
    wafer: Wafer,
    die: Die,
    offset: str | tuple[float, float],
    reticle: Reticle | None,
    output_format: str,
    plot_path: str | None,
) -> None:
    """Count the dies that fit on a wafer.

    A die counts when the die rectangle itself (not the pitch cell) lies inside
    the usable region: the wafer minus the edge exclusion, the notch band and
    the flat. With --offset optimal (the default) the grid shift is chosen to
    maximise the count, exactly. The classic formula is printed alongside.

    Example: waferlab dies --die-width-mm 21.32 --die-height-mm 31.22
    """
    die_map = place_dies(wafer, die, offset=offset, reticle=reticle)
    if plot_path is not None:
        from waferlab.plotting import plot_wafer_map

        save_plot(plot_wafer_map(die_map), plot_path)
    if output_format == "json":
        data = die_map.to_dict()
        if plot_path is not None:
            data["plot"] = plot_path
        emit_json(data)
    else:
        click.echo(_text(die_map))
        if plot_path is not None:
            click.echo(f"Wafer map written to {plot_path}")
