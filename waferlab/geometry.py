"""Wafers, dies and exact die placement.

A :class:`Wafer` (diameter, edge exclusion, a keep-out band at the notch, an
optional flat, optional keep-out regions) and a :class:`Die` (size and scribe
lines) define a rectangular grid of die sites. :func:`place_dies` classifies
every site as full, partial or outside and, by default, finds the grid shift
that maximises the number of full dies with an exact branch-and-bound search.

Conventions
-----------
* Coordinates are in mm with the origin at the wafer centre; ``y`` points away
  from the notch (the notch, band and flat are at the bottom, ``y < 0``).
* Die centres sit at ``(offset_x_mm + i·pitch_x_mm, offset_y_mm + j·pitch_y_mm)``
  with ``pitch = die + scribe``. Offset ``(0, 0)`` is *die-centred* (a die is
  centred on the wafer centre); ``(pitch_x/2, pitch_y/2)`` is *street-centred*
  (scribe lines cross at the centre). The grid is periodic, so the optimal
  offset is reported in ``[-pitch/2, pitch/2)``.
* A site is **full** (:data:`SITE_FULL`) when the die rectangle itself (not the
  pitch cell) lies in the closed usable region grown by :data:`CONTAINMENT_TOLERANCE_MM`
  (1e-9 mm, far below any physical dimension, so that a die touching the
  boundary exactly counts despite rounding). It is **partial**
  (:data:`SITE_PARTIAL`) when the rectangle overlaps the physical wafer with a
  positive area but is not full, and **outside** (:data:`SITE_OUTSIDE`) otherwise.
* The usable region is the disc of radius ``D/2 − edge_exclusion_mm``,
  intersected with ``y ≥ −D/2 + notch_keepout_mm`` and, with a flat, with the
  half-plane above the flat chord moved up by the edge exclusion, minus the
  ``keepouts`` (any shapely geometries; only their interiors are forbidden).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from waferlab._data import load_json
from waferlab._display import frame, html_table, png_data_uri, short_repr
from waferlab._placement import (
    SITE_FULL,
    SITE_OUTSIDE,
    SITE_PARTIAL,
    RowGrid,
    optimal_counts,
    optimise,
    site_map,
    wrap,
)
from waferlab.errors import (
    GeometryError,
    InvalidParameterError,
    UnknownNameError,
    check_array,
    check_real,
)

__all__ = [
    "CONTAINMENT_TOLERANCE_MM",
    "MAX_FLAT_WAFER_DIAMETER_MM",
    "MAX_GRID_ROWS",
    "MAX_GRID_SITES",
    "MAX_LENGTH_MM",
    "MIN_LENGTH_MM",
    "OFFSET_MODES",
    "SITE_FULL",
    "SITE_OUTSIDE",
    "SITE_PARTIAL",
    "Die",
    "DieMap",
    "Reticle",
    "Wafer",
    "area_bound_dies_per_wafer",
    "classic_dies_per_wafer",
    "dies_per_field",
    "expected_dies_per_wafer",
    "gross_dies_per_wafer",
    "gross_dies_per_wafer_many",
    "perimeter_dies_per_wafer",
    "place_dies",
    "semi_flat_length_mm",
]


#: A die that sticks out of the usable region by less than this still counts [mm].
CONTAINMENT_TOLERANCE_MM: float = 1e-9

#: Longest wafer diameter, die side, scribe width or field side accepted [mm]
#: (1 km, far beyond any wafer; it keeps every computation in floating-point range).
MAX_LENGTH_MM: float = 1e6
#: Smallest wafer diameter, die side or reticle field [mm] (1 nm): nothing smaller
#: exists, and smaller (down to subnormal) lengths would overflow the grid arithmetic.
MIN_LENGTH_MM: float = 1e-6


def _length(name: str, value: Any) -> float:
    """A positive length in ``[MIN_LENGTH_MM, MAX_LENGTH_MM]``."""
    x = check_real(name, value, low=0.0, high=MAX_LENGTH_MM, low_open=True)
    if x < MIN_LENGTH_MM:
        raise InvalidParameterError(
            name, x, f">= {MIN_LENGTH_MM:g} mm", "a sanity bound (1 nm; see docs/geometry.md)"
        )
    return x


#: Most grid sites (columns x rows over the wafer) that :func:`place_dies` lists.
#: A placement needs about 35 bytes per site at its peak (about 0.2 GB at the
#: limit); a 1 x 1 mm die on a 450 mm wafer needs 205,000 sites.
MAX_GRID_SITES: int = 4_000_000

#: Most grid rows across the wafer that a placement or a count handles (the
#: optimal-offset search works row by row, about 6 kB per row: 0.12 GB at the limit).
MAX_GRID_ROWS: int = 20_000

#: Largest wafer that may carry a flat [mm]: SEMI M1 flats are for 100-150 mm
#: wafers, 200 mm wafers were made with a flat or a notch, larger ones have a notch.
MAX_FLAT_WAFER_DIAMETER_MM: float = 200.0

#: Offsets accepted by name.
OFFSET_MODES: tuple[str, ...] = ("optimal", "die-centered", "street-centered")

#: Circle resolution (segments per quarter) of the shapely outlines used for plots.
_QUAD_SEGS = 128


# ---------------------------------------------------------------------------
# Data classes
# ---------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _flat_table() -> dict[str, Any]:
    table: dict[str, Any] = load_json("semi_m1_flats.json")
    return table


def semi_flat_length_mm(diameter_mm: float) -> float:
    """Return the nominal SEMI M1 primary flat length of a wafer.

    Parameters
    ----------
    diameter_mm : float
        Nominal wafer diameter [mm]: 100, 125 or 150 (larger wafers use a notch).

    Returns
    -------
    float
        Primary flat length [mm].

    Raises
    ------
    UnknownNameError
        If SEMI M1 defines no primary flat for this diameter.

    References
    ----------
    SEMI M1, *Specification for Polished Single Crystal Silicon Wafers*; the
    values are stored with their source in ``waferlab/data/semi_m1_flats.json``.

    Examples
    --------
    >>> semi_flat_length_mm(150)
    57.5
    """
    table = _flat_table()["primary_flat_length_mm"]
    key = str(int(diameter_mm)) if float(diameter_mm).is_integer() else str(diameter_mm)
    if key not in table:
        raise UnknownNameError("diameter_mm", diameter_mm, [f"{k}" for k in table])
    return float(table[key]["nominal"])


@dataclass(frozen=True)
class Wafer:
    """A round wafer and the part of it where dies may be placed.

    Parameters
    ----------
    diameter_mm : float, default 300.0
        Wafer diameter [mm], in ``(0, MAX_LENGTH_MM]`` (200, 300 and 450 are
        standard; 100-150 mm wafers carry a flat, see :func:`semi_flat_length_mm`).
    edge_exclusion_mm : float, default 3.0
        Width of the unusable ring at the edge [mm]; ``< diameter_mm / 2``.
    notch_keepout_mm : float, default 0.0
        Height of a horizontal keep-out band measured from the bottom edge of
        the wafer [mm] (the convention of the SemiAnalysis die-yield
        calculator); ``< diameter_mm``.
    flat_length_mm : float or None, default None
        Length of a primary flat at the bottom [mm], ``< diameter_mm``; the flat
        cuts the wafer along a chord, and the edge exclusion applies along the
        flat too. Only wafers up to :data:`MAX_FLAT_WAFER_DIAMETER_MM` (200 mm)
        may have a flat; larger wafers have a notch (use ``notch_keepout_mm``).
    keepouts : tuple of shapely geometries, default ()
        Further keep-out regions in wafer coordinates [mm]; any shape,
        convex or not. A die may touch a keep-out but not overlap its interior.

    Raises
    ------
    InvalidParameterError
        If a dimension is out of range, the usable region is empty, or a
        wafer larger than 200 mm is given a flat.

    Examples
    --------
    >>> w = Wafer(300.0, edge_exclusion_mm=3.0)
    >>> round(w.usable_radius_mm, 1), round(w.usable_area_mm2)
    (147.0, 67887)
    """

    diameter_mm: float = 300.0
    edge_exclusion_mm: float = 3.0
    notch_keepout_mm: float = 0.0
    flat_length_mm: float | None = None
    keepouts: tuple[Any, ...] = field(default=())

    def __post_init__(self) -> None:
        d = _length("diameter_mm", self.diameter_mm)
        r = d / 2.0
        ee = check_real(
            "edge_exclusion_mm", self.edge_exclusion_mm, low=0.0, high=r, high_open=True
        )
        notch = check_real(
            "notch_keepout_mm", self.notch_keepout_mm, low=0.0, high=d, high_open=True
        )
        object.__setattr__(self, "diameter_mm", d)
        object.__setattr__(self, "edge_exclusion_mm", ee)
        object.__setattr__(self, "notch_keepout_mm", notch)
        if self.flat_length_mm is not None:
            flat = check_real(
                "flat_length_mm",
                self.flat_length_mm,
                low=0.0,
                high=d,
                low_open=True,
                high_open=True,
            )
            if d > MAX_FLAT_WAFER_DIAMETER_MM:
                semi = _flat_table()["primary_flat_length_mm"]
                raise InvalidParameterError(
                    "flat_length_mm",
                    self.flat_length_mm,
                    f"omitted for wafers larger than {MAX_FLAT_WAFER_DIAMETER_MM:g} mm",
                    detail=f"a {d:g} mm wafer has a notch, not a flat (SEMI M1 primary flats: "
                    + ", ".join(f"{v['nominal']:g} mm on {k} mm" for k, v in semi.items())
                    + " wafers)",
                )
            object.__setattr__(self, "flat_length_mm", flat)
        keepouts = self.keepouts
        if isinstance(keepouts, shapely.Geometry):
            keepouts = (keepouts,)
        try:
            keepouts = tuple(keepouts)
        except TypeError:
            raise InvalidParameterError(
                "keepouts", self.keepouts, "a tuple of shapely geometries"
            ) from None
        for geom in keepouts:
            if not isinstance(geom, shapely.Geometry) or not shapely.is_valid(geom):
                raise InvalidParameterError(
                    "keepouts", geom, "valid shapely geometries in wafer coordinates [mm]"
                )
        object.__setattr__(self, "keepouts", keepouts)
        if self.y_cut_mm >= self.usable_radius_mm:
            band_top = -r + notch if notch > 0 else -math.inf
            by_band = band_top >= self.y_cut_mm
            name = "notch_keepout_mm" if by_band else "flat_length_mm"
            value = self.notch_keepout_mm if by_band else self.flat_length_mm
            raise InvalidParameterError(
                name,
                value,
                f"small enough to leave a usable region (cut at y = {self.y_cut_mm:g} mm "
                f"must be below the usable radius {self.usable_radius_mm:g} mm)",
            )

    @property
    def radius_mm(self) -> float:
        """Wafer radius [mm]."""
        return self.diameter_mm / 2.0

    @property
    def usable_radius_mm(self) -> float:
        """Radius of the disc inside the edge exclusion [mm]."""
        return self.radius_mm - self.edge_exclusion_mm

    @property
    def flat_y_mm(self) -> float:
        """``y`` of the flat chord [mm] (``-radius`` without a flat)."""
        if self.flat_length_mm is None:
            return -self.radius_mm
        return -math.sqrt(self.radius_mm**2 - (self.flat_length_mm / 2.0) ** 2)

    @property
    def y_cut_mm(self) -> float:
        """Lowest usable ``y`` from the notch band and the flat [mm] (may be below the disc)."""
        cut = -self.radius_mm + self.notch_keepout_mm if self.notch_keepout_mm > 0 else -math.inf
        if self.flat_length_mm is not None:
            cut = max(cut, self.flat_y_mm + self.edge_exclusion_mm)
        return cut

    @property
    def usable_area_mm2(self) -> float:
        """Area of the usable region [mm²] (exact for disc and band; keep-outs via shapely)."""
        area = _disc_area_above(self.usable_radius_mm, self.y_cut_mm)
        if self.keepouts:
            base = _disc_polygon(self.usable_radius_mm, self.y_cut_mm)
            area -= float(
                shapely.area(shapely.intersection(base, shapely.union_all(self.keepouts)))
            )
        return area

    def usable_region(self) -> Any:
        """Return the usable region as a shapely geometry (a fine polygon for the disc)."""
        region = _disc_polygon(self.usable_radius_mm, self.y_cut_mm)
        if self.keepouts:
            region = shapely.difference(region, shapely.union_all(self.keepouts))
        return region

    def outline(self) -> Any:
        """Return the physical wafer (disc cut by the flat) as a shapely polygon."""
        y_flat = self.flat_y_mm if self.flat_length_mm is not None else -math.inf
        return _disc_polygon(self.radius_mm, y_flat)

    def to_dict(self) -> dict[str, Any]:
        """Return the wafer parameters as a JSON-able dict."""
        return {
            "wafer_diameter_mm": self.diameter_mm,
            "edge_exclusion_mm": self.edge_exclusion_mm,
            "notch_keepout_mm": self.notch_keepout_mm,
            "flat_length_mm": self.flat_length_mm,
            "keepouts": len(self.keepouts),
            "usable_area_mm2": self.usable_area_mm2,
        }


@dataclass(frozen=True)
class Die:
    """A rectangular die and the scribe lines (streets) around it.

    Parameters
    ----------
    width_mm, height_mm : float
        Die size [mm], in ``(0, MAX_LENGTH_MM]``.
    scribe_x_mm : float, default 0.1
        Street width between neighbouring columns [mm], in ``[0, MAX_LENGTH_MM]``.
    scribe_y_mm : float or None, default None
        Street width between rows [mm]; None means the same as ``scribe_x_mm``.

    Examples
    --------
    >>> die = Die(21.32, 31.22, scribe_x_mm=0.1)
    >>> round(die.area_mm2, 2), round(die.pitch_x_mm, 2), round(die.pitch_y_mm, 2)
    (665.61, 21.42, 31.32)
    """

    width_mm: float
    height_mm: float
    scribe_x_mm: float = 0.1
    scribe_y_mm: float | None = None

    def __post_init__(self) -> None:
        top = MAX_LENGTH_MM
        for name in ("width_mm", "height_mm"):
            object.__setattr__(self, name, _length(name, getattr(self, name)))
        object.__setattr__(
            self, "scribe_x_mm", check_real("scribe_x_mm", self.scribe_x_mm, low=0.0, high=top)
        )
        if self.scribe_y_mm is not None:
            object.__setattr__(
                self,
                "scribe_y_mm",
                check_real("scribe_y_mm", self.scribe_y_mm, low=0.0, high=top),
            )

    @classmethod
    def square(
        cls, area_mm2: float, scribe_x_mm: float = 0.1, scribe_y_mm: float | None = None
    ) -> Die:
        """Return a square die of the given area [mm²].

        Examples
        --------
        >>> Die.square(100.0).width_mm
        10.0
        """
        return cls.from_area(area_mm2, 1.0, scribe_x_mm=scribe_x_mm, scribe_y_mm=scribe_y_mm)

    @classmethod
    def from_area(
        cls,
        area_mm2: float,
        aspect_ratio: float = 1.0,
        scribe_x_mm: float = 0.1,
        scribe_y_mm: float | None = None,
    ) -> Die:
        """Return a die of the given area [mm²] and aspect ratio (width / height).

        Examples
        --------
        >>> d = Die.from_area(200.0, aspect_ratio=2.0)
        >>> d.width_mm, d.height_mm
        (20.0, 10.0)
        """
        area = check_real("area_mm2", area_mm2, low=0.0, low_open=True)
        ratio = check_real("aspect_ratio", aspect_ratio, low=0.0, low_open=True)
        height = math.sqrt(area / ratio)
        return cls(area / height, height, scribe_x_mm, scribe_y_mm)

    @property
    def scribe_y(self) -> float:
        """Street width between rows [mm] (resolved)."""
        return self.scribe_x_mm if self.scribe_y_mm is None else self.scribe_y_mm

    @property
    def area_mm2(self) -> float:
        """Die area [mm²] (without scribe)."""
        return self.width_mm * self.height_mm

    @property
    def pitch_x_mm(self) -> float:
        """Column pitch [mm] = width + scribe."""
        return self.width_mm + self.scribe_x_mm

    @property
    def pitch_y_mm(self) -> float:
        """Row pitch [mm] = height + scribe."""
        return self.height_mm + self.scribe_y

    @property
    def pitch_area_mm2(self) -> float:
        """Area of one grid cell [mm²]."""
        return self.pitch_x_mm * self.pitch_y_mm

    def rotated(self) -> Die:
        """Return the die turned by 90° (width and height, and the scribes, swapped)."""
        return Die(self.height_mm, self.width_mm, self.scribe_y, self.scribe_x_mm)

    def to_dict(self) -> dict[str, Any]:
        """Return the die parameters as a JSON-able dict."""
        return {
            "die_width_mm": self.width_mm,
            "die_height_mm": self.height_mm,
            "die_area_mm2": self.area_mm2,
            "scribe_x_mm": self.scribe_x_mm,
            "scribe_y_mm": self.scribe_y,
        }


@dataclass(frozen=True)
class Reticle:
    """A lithography exposure field (one shot of the scanner).

    Parameters
    ----------
    field_width_mm, field_height_mm : float, default 26 × 33
        Field size [mm] (26 × 33 mm is the standard full field of current scanners).

    Examples
    --------
    >>> dies_per_field(Die(21.32, 31.22), Reticle())  # one 910B die per full field
    (1, 1)
    """

    field_width_mm: float = 26.0
    field_height_mm: float = 33.0

    def __post_init__(self) -> None:
        object.__setattr__(
            self,
            "field_width_mm",
            _length("field_width_mm", self.field_width_mm),
        )
        object.__setattr__(
            self,
            "field_height_mm",
            _length("field_height_mm", self.field_height_mm),
        )


def dies_per_field(die: Die, reticle: Reticle) -> tuple[int, int]:
    """Return how many die columns and rows fit in one exposure field.

    ``n`` dies and the ``n − 1`` scribe lines between them must fit in the
    field: ``n·w + (n − 1)·s ≤ F``, i.e. ``n = ⌊(F + s)/(w + s)⌋``. The streets
    around the outside of the block are shared with the neighbouring shots.

    Raises
    ------
    InvalidParameterError
        If the die does not fit in the field at all.

    Examples
    --------
    >>> dies_per_field(Die(10.0, 10.0, 0.1), Reticle(26.0, 33.0))
    (2, 3)
    """
    tol = CONTAINMENT_TOLERANCE_MM
    nx = math.floor((reticle.field_width_mm + die.scribe_x_mm + tol) / die.pitch_x_mm)
    ny = math.floor((reticle.field_height_mm + die.scribe_y + tol) / die.pitch_y_mm)
    if nx < 1 or ny < 1:
        raise InvalidParameterError(
            "reticle",
            f"{reticle.field_width_mm:g}x{reticle.field_height_mm:g} mm",
            f"a field at least as large as the {die.width_mm:g} x {die.height_mm:g} mm die",
            detail="the die does not fit in one exposure field",
        )
    return nx, ny


@dataclass(frozen=True)
class DieMap:
    """Every grid site near the wafer, its state, and the counts.

    Attributes
    ----------
    wafer, die : Wafer, Die
        The inputs.
    offset_x_mm, offset_y_mm : float
        Grid shift [mm]: the die of row 0, column 0 is centred here.
    center_x_mm, center_y_mm : ndarray of float
        Die centre of every site [mm].
    row, col : ndarray of int
        Grid indices (centre = offset + index·pitch).
    state : ndarray of int8
        :data:`SITE_FULL`, :data:`SITE_PARTIAL` or :data:`SITE_OUTSIDE`.
    gross_dies : int
        Number of full dies.
    partial_dies : int
        Number of partial dies (on the wafer but not full).
    formula_dies : float
        :func:`classic_dies_per_wafer` for the same wafer and die, for comparison.
    offset_mode : str
        ``"optimal"``, ``"die-centered"``, ``"street-centered"`` or ``"fixed"``.
    optimality_gap : int
        0 when the optimum is certified; otherwise the optimum is at most
        ``gross_dies + optimality_gap`` (see :func:`place_dies`).
    reticle : Reticle or None
        The exposure field, if one was given.
    dies_per_field : tuple of int or None
        Die columns and rows per field.
    full_shots, partial_shots : int or None
        Shots whose dies are all full; shots with at least one die on the
        wafer that are not full.

    Examples
    --------
    >>> m = place_dies(Wafer(300.0), Die(10.0, 10.0), offset="die-centered")
    >>> m.gross_dies, int(m.full_mask.sum()) == m.gross_dies
    (597, True)
    """

    wafer: Wafer
    die: Die
    offset_x_mm: float
    offset_y_mm: float
    center_x_mm: NDArray[np.float64]
    center_y_mm: NDArray[np.float64]
    row: NDArray[np.int64]
    col: NDArray[np.int64]
    state: NDArray[np.int8]
    offset_mode: str = "fixed"
    optimality_gap: int = 0
    reticle: Reticle | None = None
    dies_per_field: tuple[int, int] | None = None
    full_shots: int | None = None
    partial_shots: int | None = None

    @property
    def gross_dies(self) -> int:
        """Number of full dies (sites in :data:`SITE_FULL`)."""
        return int(np.count_nonzero(self.state == SITE_FULL))

    @property
    def partial_dies(self) -> int:
        """Number of partial dies (on the wafer but not full)."""
        return int(np.count_nonzero(self.state == SITE_PARTIAL))

    @property
    def formula_dies(self) -> float:
        """:func:`classic_dies_per_wafer` for the same wafer and die, for comparison."""
        usable_diameter_mm = 2.0 * self.wafer.usable_radius_mm
        return float(classic_dies_per_wafer(usable_diameter_mm, self.die.pitch_area_mm2))

    @property
    def full_mask(self) -> NDArray[np.bool_]:
        """Boolean mask of the full sites."""
        return self.state == SITE_FULL

    @property
    def partial_mask(self) -> NDArray[np.bool_]:
        """Boolean mask of the partial sites."""
        return self.state == SITE_PARTIAL

    @property
    def certified(self) -> bool:
        """True when no grid shift gives more full dies than :attr:`gross_dies`."""
        return self.optimality_gap == 0

    def geometries(self, mask: ArrayLike | None = None) -> NDArray[np.object_]:
        """Return the die rectangles (shapely polygons) of all sites, or of ``mask``."""
        x = self.center_x_mm
        y = self.center_y_mm
        if mask is not None:
            sel = np.asarray(mask, dtype=bool)
            x, y = x[sel], y[sel]
        hw, hh = self.die.width_mm / 2.0, self.die.height_mm / 2.0
        boxes: NDArray[np.object_] = shapely.box(x - hw, y - hh, x + hw, y + hh)
        return boxes

    def __repr__(self) -> str:
        mode = self.offset_mode
        if mode == "optimal":
            mode += ", certified" if self.certified else f", within {self.optimality_gap} dies"
        return short_repr(
            "DieMap",
            f"{self.wafer.diameter_mm:g} mm wafer, {self.die.width_mm:g} x "
            f"{self.die.height_mm:g} mm die: {self.gross_dies:,} full, "
            f"{self.partial_dies:,} partial, formula {self.formula_dies:,.1f}; "
            f"offset ({self.offset_x_mm:.4g}, {self.offset_y_mm:.4g}) mm, {mode}",
        )

    def _repr_png_(self) -> bytes:
        """The wafer map as a PNG (Jupyter shows a DieMap as this image)."""
        import matplotlib.pyplot as plt

        from waferlab.output import figure_bytes
        from waferlab.plotting import plot_wafer_map

        figure: Any = plot_wafer_map(self).figure
        try:
            return figure_bytes(figure, "png", dpi=80)
        finally:
            plt.close(figure)

    def _repr_html_(self) -> str:
        """The counts as a table beside the wafer map (Jupyter)."""
        table = html_table("DieMap", self.to_dict().items())
        image = f'<img src="{png_data_uri(self._repr_png_())}" style="max-width:360px"/>'
        return f'<div style="display:flex;gap:1em;align-items:flex-start">{image}{table}</div>'

    def to_frame(self) -> Any:
        """Return one row per grid site (centre, indices, state) as a pandas DataFrame.

        ``state`` is ``"full"``, ``"partial"`` or ``"outside"``. Needs pandas
        (``pip install 'waferlab[pandas]'``).
        """
        names = np.array(["outside", "partial", "full"], dtype=object)
        index = np.select([self.state == SITE_FULL, self.state == SITE_PARTIAL], [2, 1], default=0)
        return frame(
            {
                "center_x_mm": self.center_x_mm,
                "center_y_mm": self.center_y_mm,
                "row": self.row,
                "col": self.col,
                "state": names[index],
            },
            index_name="site",
        )

    def to_dict(self) -> dict[str, Any]:
        """Return the counts and inputs (not the per-site arrays) as a JSON-able dict."""
        out: dict[str, Any] = {
            "gross_dies": self.gross_dies,
            "partial_dies": self.partial_dies,
            "formula_dies": self.formula_dies,
            "offset_mode": self.offset_mode,
            "offset_x_mm": self.offset_x_mm,
            "offset_y_mm": self.offset_y_mm,
        }
        if self.offset_mode == "optimal":
            out["optimality_gap"] = self.optimality_gap
            out["certified"] = self.certified
        out.update(self.die.to_dict())
        out.update(self.wafer.to_dict())
        if self.reticle is not None:
            out["field_width_mm"] = self.reticle.field_width_mm
            out["field_height_mm"] = self.reticle.field_height_mm
            assert self.dies_per_field is not None
            out["dies_per_field"] = self.dies_per_field[0] * self.dies_per_field[1]
            out["dies_per_field_x"] = self.dies_per_field[0]
            out["dies_per_field_y"] = self.dies_per_field[1]
            out["full_shots"] = self.full_shots
            out["partial_shots"] = self.partial_shots
        return out


# ---------------------------------------------------------------------------
# Analytic formulas
# ---------------------------------------------------------------------------


def classic_dies_per_wafer(usable_diameter_mm: ArrayLike, pitch_area_mm2: ArrayLike) -> Any:
    """Estimate gross dies per wafer with the classic edge-loss formula.

    Parameters
    ----------
    usable_diameter_mm : float or array_like
        Diameter of the usable disc, ``d = D − 2·edge_exclusion`` [mm], > 0.
    pitch_area_mm2 : float or array_like
        Area of one grid cell, die plus scribe, ``S`` [mm²], > 0.

    Returns
    -------
    float or ndarray
        ``N``, not rounded; clipped at 0 (see Notes).

    Notes
    -----
    .. math:: N = \\frac{\\pi d^2}{4 S} - \\frac{\\pi d}{\\sqrt{2 S}}

    The first term is the disc area over the cell area; the second removes
    about one cell per ``√(2S)`` of circumference (the cell diagonal). It
    ignores the die's aspect ratio and the grid position. For a die comparable
    to the wafer (``d < √(8S)``) the edge term exceeds the area term and the
    expression turns negative, which no count can be: the result is clipped at 0.

    References
    ----------
    J. L. Hennessy and D. A. Patterson, *Computer Architecture: A Quantitative
    Approach*, chapter 1 ("dies per wafer"), Morgan Kaufmann; used by the CSIS
    report (Allen, CSIS 2025) for its "≈ 80 dies" per 300 mm wafer.

    Examples
    --------
    300 mm wafer, 5 mm edge exclusion, 10 × 10 mm die, 0.1 mm street:

    >>> round(classic_dies_per_wafer(290.0, 10.1 * 10.1), 1)
    583.7
    >>> classic_dies_per_wafer(10.0, 665.61)  # a die larger than the wafer
    0.0
    """
    d = check_array("usable_diameter_mm", usable_diameter_mm, low=0.0, low_open=True)
    s = check_array("pitch_area_mm2", pitch_area_mm2, low=0.0, low_open=True)
    n = np.maximum(np.pi * d**2 / (4.0 * s) - np.pi * d / np.sqrt(2.0 * s), 0.0)
    return float(n) if np.ndim(n) == 0 else n


def area_bound_dies_per_wafer(usable_area_mm2: ArrayLike, die_area_mm2: ArrayLike) -> Any:
    """Return the area upper bound on full dies: usable area over die area.

    No placement can hold more full dies, since full dies do not overlap.

    Notes
    -----
    .. math:: N \\le A_\\mathrm{usable} / (w h)

    Examples
    --------
    >>> round(area_bound_dies_per_wafer(67886.7, 100.0), 1)
    678.9
    """
    a = check_array("usable_area_mm2", usable_area_mm2, low=0.0)
    s = check_array("die_area_mm2", die_area_mm2, low=0.0, low_open=True)
    n = a / s
    return float(n) if np.ndim(n) == 0 else n


def _inner_parallel_area(radius_mm: NDArray[np.float64], w: Any, h: Any) -> Any:
    """Area of the set of centres where a w × h rectangle fits in a disc."""
    # For |y| <= R - h/2 the feasible x are |x| <= sqrt(R² - (|y| + h/2)²) - w/2.
    # Integrate 4·∫_0^{Y} (sqrt(R² - (y + h/2)²) - w/2)^+ dy exactly.
    r = np.asarray(radius_mm, dtype=float)
    w = np.asarray(w, dtype=float)
    h = np.asarray(h, dtype=float)
    # upper end: where the width vanishes or the row leaves the disc
    y_top = np.sqrt(np.maximum(r**2 - (w / 2.0) ** 2, 0.0)) - h / 2.0
    y_top = np.maximum(y_top, 0.0)

    def prim(u: Any) -> Any:  # ∫ sqrt(R² - u²) du
        u = np.clip(u, -r, r)
        return 0.5 * (u * np.sqrt(np.maximum(r**2 - u**2, 0.0)) + r**2 * np.arcsin(u / r))

    integral = prim(y_top + h / 2.0) - prim(h / 2.0) - (w / 2.0) * y_top
    return 4.0 * np.maximum(integral, 0.0)


def expected_dies_per_wafer(wafer: Wafer, die: Die) -> float:
    """Return the exact mean number of full dies over uniformly random grid shifts.

    Valid for a plain disc (edge exclusion only: no band, flat or keep-outs).

    Parameters
    ----------
    wafer : Wafer
        Wafer with ``notch_keepout_mm == 0``, no flat and no keep-outs.
    die : Die
        Die and scribe.

    Returns
    -------
    float
        The mean full-die count when the grid offset is uniform over one cell.

    Raises
    ------
    InvalidParameterError
        If the wafer has a band, a flat or keep-outs.

    Notes
    -----
    For a lattice with cell area ``S = p_x p_y`` and any measurable set ``E``,
    the mean number of lattice points in ``E`` over uniform translations is
    ``|E| / S`` (the fundamental lemma of lattice-point averaging). Taking ``E``
    as the set of centres at which the ``w × h`` die fits in the disc of radius
    ``R`` (the inner parallel body) gives

    .. math:: \\bar N = \\frac{4}{S}\\int_0^{Y}\\Bigl(\\sqrt{R^2-(y+h/2)^2}-\\frac w2\\Bigr)\\,dy,
              \\qquad Y=\\sqrt{R^2-w^2/4}-h/2,

    evaluated in closed form. For large wafers ``N̄ ≈ πR²/S − 2R(w+h)/S``
    (:func:`perimeter_dies_per_wafer`). The optimal placement is never below
    this mean.

    References
    ----------
    L. A. Santaló, *Integral Geometry and Geometric Probability*,
    Addison-Wesley, 1976 (lattice-point averaging over translations).

    Examples
    --------
    >>> round(expected_dies_per_wafer(Wafer(300.0, 5.0), Die(10.0, 10.0, 0.1)), 1)
    591.6
    """
    if wafer.notch_keepout_mm > 0 or wafer.flat_length_mm is not None or wafer.keepouts:
        raise InvalidParameterError(
            "wafer", wafer, "a plain disc (no notch band, flat or keep-outs)"
        )
    area = _inner_parallel_area(np.asarray(wafer.usable_radius_mm), die.width_mm, die.height_mm)
    return float(area / die.pitch_area_mm2)


def perimeter_dies_per_wafer(
    usable_diameter_mm: ArrayLike,
    die_width_mm: ArrayLike,
    die_height_mm: ArrayLike,
    pitch_area_mm2: ArrayLike,
) -> Any:
    """Estimate gross dies with the perimeter (mean die edge) correction.

    Parameters
    ----------
    usable_diameter_mm : float or array_like
        ``d`` [mm].
    die_width_mm, die_height_mm : float or array_like
        Die size ``w``, ``h`` [mm] (without scribe).
    pitch_area_mm2 : float or array_like
        Cell area ``S`` [mm²].

    Returns
    -------
    float or ndarray

    Notes
    -----
    .. math:: N \\approx \\frac{\\pi d^2}{4S} - \\frac{d\\,(w+h)}{S}

    The leading terms of :func:`expected_dies_per_wafer` (the inner parallel
    body of a disc loses ``per(K)·R`` to first order, with ``per = 2(w+h)``).
    The edge term depends on the mean of width and height, as de Vries (2005)
    found empirically for the exact count; de Vries' fitted coefficients are
    not used here.

    References
    ----------
    D. K. de Vries, "Investigation of gross die per wafer formulas", IEEE
    Trans. Semicond. Manuf. 18(1), 136-139, 2005.

    Examples
    --------
    >>> round(perimeter_dies_per_wafer(290.0, 10.0, 10.0, 102.01), 1)
    590.6
    """
    d = check_array("usable_diameter_mm", usable_diameter_mm, low=0.0, low_open=True)
    w = check_array("die_width_mm", die_width_mm, low=0.0, low_open=True)
    h = check_array("die_height_mm", die_height_mm, low=0.0, low_open=True)
    s = check_array("pitch_area_mm2", pitch_area_mm2, low=0.0, low_open=True)
    n = np.pi * d**2 / (4.0 * s) - d * (w + h) / s
    return float(n) if np.ndim(n) == 0 else n


# ---------------------------------------------------------------------------
# Geometry helpers
# ---------------------------------------------------------------------------


def _disc_area_above(radius: float, y_cut: float) -> float:
    """Area of the disc of ``radius`` above ``y = y_cut``."""
    if not math.isfinite(y_cut) or y_cut <= -radius:
        return math.pi * radius**2
    if y_cut >= radius:
        return 0.0
    t = y_cut / radius
    return radius**2 * (math.acos(t) - t * math.sqrt(1.0 - t * t))


def _disc_polygon(radius: float, y_cut: float) -> Any:
    disc = shapely.Point(0.0, 0.0).buffer(radius, quad_segs=_QUAD_SEGS)
    if math.isfinite(y_cut) and y_cut > -radius:
        disc = shapely.intersection(disc, shapely.box(-2 * radius, y_cut, 2 * radius, 2 * radius))
    return disc


def _subtract_keepouts(
    keepout: Any,
    radius_mm: float,
    die_width_mm: float,
    bottom: NDArray[np.float64],
    top: NDArray[np.float64],
    lo: NDArray[np.float64],
    length: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    tol = CONTAINMENT_TOLERANCE_MM
    shape = bottom.shape
    flat_ok = (length >= 0).ravel()
    idx = np.flatnonzero(flat_ok)
    big = 4.0 * radius_mm + 10.0
    b = bottom.ravel()[idx] + tol
    t = np.maximum(top.ravel()[idx] - tol, b)
    slabs = shapely.box(-big, b, big, t)
    inter = shapely.intersection(keepout, slabs)
    parts, owner = shapely.get_parts(inter, return_index=True)
    bounds = shapely.bounds(parts) if len(parts) else np.empty((0, 4))
    keep = ~shapely.is_empty(parts) if len(parts) else np.empty(0, dtype=bool)
    # a component spanning [xmin, xmax] forbids left edges in (xmin - w, xmax)
    f_owner = owner[keep]
    f_lo = bounds[keep, 0] - die_width_mm + tol
    f_hi = bounds[keep, 2] - tol
    area_pos = shapely.area(parts[keep]) > 0 if len(parts) else np.empty(0, dtype=bool)
    f_owner, f_lo, f_hi = f_owner[area_pos], f_lo[area_pos], f_hi[area_pos]
    order = np.lexsort((f_lo, f_owner))
    f_owner, f_lo, f_hi = f_owner[order], f_lo[order], f_hi[order]
    starts = np.searchsorted(f_owner, np.arange(len(idx)), side="left")
    stops = np.searchsorted(f_owner, np.arange(len(idx)), side="right")
    out_lo: list[list[float]] = []
    out_len: list[list[float]] = []
    lo_flat = lo.ravel()[idx]
    len_flat = length.ravel()[idx]
    # a loop over rows (not dies); only taken when keep-outs exist
    for k in range(len(idx)):
        a = lo_flat[k]
        end = a + len_flat[k]
        segs_lo: list[float] = []
        segs_len: list[float] = []
        cur = a
        for fl, fh in zip(f_lo[starts[k] : stops[k]], f_hi[starts[k] : stops[k]], strict=True):
            if fh <= fl:
                continue
            if fl > cur:
                seg_end = min(fl, end)
                if seg_end >= cur:
                    segs_lo.append(cur)
                    segs_len.append(seg_end - cur)
            cur = max(cur, fh)
            if cur > end:
                break
        if cur <= end:
            segs_lo.append(cur)
            segs_len.append(end - cur)
        out_lo.append(segs_lo)
        out_len.append(segs_len)
    width = max([1] + [len(s) for s in out_lo])
    res_lo = np.zeros((bottom.size, width))
    res_len = np.full((bottom.size, width), -1.0)
    for k, (sl, sn) in enumerate(zip(out_lo, out_len, strict=True)):
        res_lo[idx[k], : len(sl)] = sl
        res_len[idx[k], : len(sn)] = sn
    return res_lo.reshape(*shape, width), res_len.reshape(*shape, width)


def _grid(wafer: Wafer, die: Die) -> RowGrid:
    """The row geometry of a wafer-die pair, with its keep-outs (waferlab._placement)."""
    tol = CONTAINMENT_TOLERANCE_MM
    radius = wafer.usable_radius_mm + tol
    subtract = None
    if wafer.keepouts:
        keepout = shapely.union_all(wafer.keepouts)
        shapely.prepare(keepout)
        subtract = functools.partial(_subtract_keepouts, keepout, radius, die.width_mm)
    return RowGrid(
        die.width_mm,
        die.height_mm,
        die.pitch_x_mm,
        die.pitch_y_mm,
        radius,
        wafer.y_cut_mm - tol,
        subtract,
    )


def _site_map(
    wafer: Wafer, grid: RowGrid, offset_x: float, offset_y: float
) -> tuple[
    NDArray[np.float64],
    NDArray[np.float64],
    NDArray[np.int64],
    NDArray[np.int64],
    NDArray[np.int8],
]:
    """Every site's centre, indices and state (:func:`waferlab._placement.site_map`)."""
    flat_y = wafer.flat_y_mm if wafer.flat_length_mm is not None else -math.inf
    return site_map(grid, offset_x, offset_y, wafer.radius_mm, flat_y)


def _offset_mode(offset: Any) -> tuple[str, tuple[float, float] | None]:
    """Validate ``offset``; return its mode and, for a fixed shift, the shift [mm]."""
    if isinstance(offset, str):
        if offset not in OFFSET_MODES:
            raise UnknownNameError("offset", offset, (*OFFSET_MODES, "(x_mm, y_mm)"))
        return offset, None
    try:
        x, y = offset
    except (TypeError, ValueError):
        raise InvalidParameterError(
            "offset", offset, "'optimal', 'die-centered', 'street-centered' or (x_mm, y_mm)"
        ) from None
    return "fixed", (check_real("offset_x_mm", x), check_real("offset_y_mm", y))


def _resolve_offset(offset: Any, die: Die) -> tuple[str, tuple[float, float] | None]:
    mode, fixed = _offset_mode(offset)
    if mode == "die-centered":
        return mode, (0.0, 0.0)
    if mode == "street-centered":
        return mode, (die.pitch_x_mm / 2.0, die.pitch_y_mm / 2.0)
    if fixed is not None:
        # grid indices must stay exact integers
        limit = 2.0**52
        if abs(fixed[0]) / die.pitch_x_mm > limit or abs(fixed[1]) / die.pitch_y_mm > limit:
            raise InvalidParameterError(
                "offset",
                f"{fixed[0]:g},{fixed[1]:g} mm",
                f"within {limit:.2g} die pitches of the wafer centre",
            )
    return mode, fixed


def _grid_extent(
    diameter_mm: float, w: ArrayLike, h: ArrayLike, px: ArrayLike, py: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Upper bounds on the grid columns and rows over the wafer, for any offset.

    Floats, so that absurd sizes give a large number (or inf) instead of overflowing.
    """
    with np.errstate(over="ignore"):
        cols = (diameter_mm + np.asarray(w, dtype=np.float64)) / np.asarray(px, np.float64) + 3.0
        rows = (diameter_mm + np.asarray(h, dtype=np.float64)) / np.asarray(py, np.float64) + 3.0
    return np.asarray(cols, dtype=np.float64), np.asarray(rows, dtype=np.float64)


def _count_text(x: float) -> str:
    if not math.isfinite(x):
        return "more than 1e308"
    return f"{x:,.0f}" if x < 1e9 else f"{x:.2g}"


def _check_grid_size(
    wafer: Wafer,
    die_width_mm: ArrayLike,
    die_height_mm: ArrayLike,
    pitch_x_mm: ArrayLike,
    pitch_y_mm: ArrayLike,
    *,
    sites: bool,
) -> None:
    """Raise InvalidParameterError if a grid exceeds MAX_GRID_ROWS (or MAX_GRID_SITES)."""
    cols, rows = _grid_extent(
        wafer.diameter_mm, die_width_mm, die_height_mm, pitch_x_mm, pitch_y_mm
    )
    shape = np.broadcast_shapes(np.shape(die_width_mm), np.shape(die_height_mm), cols.shape)
    cols = np.broadcast_to(cols, shape).ravel()
    rows = np.broadcast_to(rows, shape).ravel()
    with np.errstate(over="ignore"):
        n_sites = cols * rows
    too_big = (rows > MAX_GRID_ROWS) | ((n_sites > MAX_GRID_SITES) if sites else False)
    if not np.any(too_big):
        return
    k = int(np.argmax(too_big))
    w = float(np.broadcast_to(die_width_mm, shape).ravel()[k])
    h = float(np.broadcast_to(die_height_mm, shape).ravel()[k])
    if sites:
        limit = f"at most {MAX_GRID_SITES:,} sites and {MAX_GRID_ROWS:,} rows"
        need = f"about {_count_text(n_sites[k])} sites in {_count_text(rows[k])} rows"
    else:
        limit = f"at most {MAX_GRID_ROWS:,} rows"
        need = f"about {_count_text(rows[k])} rows"
    raise InvalidParameterError(
        "die",
        f"{w:g} x {h:g} mm",
        f"large enough that the grid over the {wafer.diameter_mm:g} mm wafer has {limit}",
        detail=f"this die and scribe need {need}; use a larger die or a smaller wafer",
    )


def _shots(
    row: NDArray[np.int64], col: NDArray[np.int64], state: NDArray[np.int8], nx: int, ny: int
) -> tuple[int, int]:
    """Full and partial shot counts for shots of nx × ny dies aligned with the grid."""
    sx = np.floor_divide(col, nx)
    sy = np.floor_divide(row, ny)
    if not sx.size:
        return 0, 0
    sx = sx - sx.min()
    sy = sy - sy.min()
    keys, inverse = np.unique(sx * (int(sy.max()) + 1) + sy, return_inverse=True)
    inverse = inverse.ravel()
    n_full = np.bincount(inverse, weights=(state == SITE_FULL), minlength=len(keys))
    n_on = np.bincount(inverse, weights=(state != SITE_OUTSIDE), minlength=len(keys))
    # a shot whose sites fall partly outside the listed sites has outside sites
    n_sites = np.bincount(inverse, minlength=len(keys))
    full = (n_full == nx * ny) & (n_sites == nx * ny)
    partial = (n_on > 0) & ~full
    return int(full.sum()), int(partial.sum())


# ---------------------------------------------------------------------------
# Public placement API
# ---------------------------------------------------------------------------


def place_dies(
    wafer: Wafer, die: Die, *, offset: Any = "optimal", reticle: Reticle | None = None
) -> DieMap:
    """Place a die grid on a wafer and classify every site.

    Parameters
    ----------
    wafer : Wafer
        The wafer and its usable region.
    die : Die
        Die size and scribe lines.
    offset : {"optimal", "die-centered", "street-centered"} or (x_mm, y_mm)
        Grid shift: the die of row 0, column 0 is centred at ``offset`` [mm].
        ``"optimal"`` maximises the number of full dies over all shifts.
    reticle : Reticle, optional
        Exposure field; adds dies per field and full / partial shot counts.
        Shots are blocks of ``nx × ny`` sites starting at column and row 0.

    Returns
    -------
    DieMap

    Raises
    ------
    InvalidParameterError
        For a malformed offset; a die larger than the reticle field or a field
        side longer than the wafer diameter; or a die so small for the wafer
        that its grid would exceed :data:`MAX_GRID_SITES` sites or
        :data:`MAX_GRID_ROWS` rows (the grid over the wafer has about
        ``(D + w)/p_x × (D + h)/p_y`` sites, and every site is listed).
    GeometryError
        If no die fits in the usable region at any offset.

    Notes
    -----
    **The optimum is exact.** For a fixed ``offset_y`` every row ``j`` spans
    ``[y_j, y_j + h]`` and the left edges at which the die fits form closed
    intervals ``[A, A + ℓ]``. For the disc (with the band and flat, a convex
    region, which contains a rectangle iff it contains its corners)
    ``A = −√(R² − m²)``, ``ℓ = 2√(R² − m²) − w`` with ``m = max(|y_j|, |y_j + h|)``;
    with keep-outs each connected piece of ``keep-out ∩ row slab`` forbids the
    left edges ``(x_min − w, x_max)`` (shapely). An interval holds
    ``q + [(φ − A) mod p_x ≤ r]`` grid points (``q = ⌊ℓ/p_x⌋``,
    ``r = ℓ − q p_x``), so the count is a sum of circular-arc indicators in
    the column phase ``φ`` whose maximum a sort-and-sweep finds exactly.

    Over ``offset_y ∈ [−p_y/2, p_y/2)`` a branch and bound keeps intervals
    ``[a, b]`` whose upper bound exceeds the best count found: every die that
    fits at some ``offset_y ∈ [a, b]`` contains the die of height
    ``h − (b − a)`` in the band common to all those positions, so the optimal
    count of that shorter die bounds the whole interval. Lower bounds are
    exact counts at the die- and street-centred offsets and at interval
    midpoints. The search ends when no interval can beat the best count
    (``optimality_gap == 0``: certified optimum) or when the intervals are
    narrower than 1e-7 mm; then the true optimum is at most
    ``gross_dies + optimality_gap``.

    Examples
    --------
    >>> m = place_dies(Wafer(300.0, 3.0), Die(21.32, 31.22, 0.1))
    >>> m.gross_dies >= place_dies(Wafer(300.0, 3.0), Die(21.32, 31.22, 0.1),
    ...                            offset="die-centered").gross_dies
    True
    >>> m.certified
    True
    """
    _check_inputs(wafer, die)
    if reticle is not None and not isinstance(reticle, Reticle):
        raise InvalidParameterError("reticle", reticle, "a waferlab.geometry.Reticle or None")
    mode, fixed = _resolve_offset(offset, die)
    _check_grid_size(wafer, die.width_mm, die.height_mm, die.pitch_x_mm, die.pitch_y_mm, sites=True)
    field_dims = None
    if reticle is not None:
        if max(reticle.field_width_mm, reticle.field_height_mm) > wafer.diameter_mm:
            raise InvalidParameterError(
                "reticle",
                f"{reticle.field_width_mm:g}x{reticle.field_height_mm:g} mm",
                f"a field with both sides at most the wafer diameter, {wafer.diameter_mm:g} mm",
            )
        field_dims = dies_per_field(die, reticle)
    grid = _grid(wafer, die)
    gap = 0
    sites = None
    if fixed is None:
        ox, oy, best, gap = optimise(grid)
        if best == 0:
            raise _no_fit(wafer, die)
        # report a tidy offset (rounded to 1e-9 mm) when it keeps the optimal count
        tidy_x = wrap(round(ox, 9), grid.px) + 0.0
        tidy_y = wrap(round(oy, 9), grid.py) + 0.0
        tidy = _site_map(wafer, grid, tidy_x, tidy_y)
        if int(np.count_nonzero(tidy[4] == SITE_FULL)) >= best:
            ox, oy, sites = tidy_x, tidy_y, tidy
        del tidy
    else:
        ox, oy = fixed
    cx, cy, row, col, state = sites if sites is not None else _site_map(wafer, grid, ox, oy)
    del sites
    gross = int(np.count_nonzero(state == SITE_FULL))
    if gross == 0 and fixed is not None and optimise(grid)[2] == 0:
        raise _no_fit(wafer, die)
    full_shots = partial_shots = None
    if field_dims is not None:
        full_shots, partial_shots = _shots(row, col, state, *field_dims)
    return DieMap(
        wafer=wafer,
        die=die,
        offset_x_mm=float(ox),
        offset_y_mm=float(oy),
        center_x_mm=cx,
        center_y_mm=cy,
        row=row,
        col=col,
        state=state,
        offset_mode=mode,
        optimality_gap=gap,
        reticle=reticle,
        dies_per_field=field_dims,
        full_shots=full_shots,
        partial_shots=partial_shots,
    )


def _check_inputs(wafer: Any, die: Any) -> None:
    if not isinstance(wafer, Wafer):
        raise InvalidParameterError("wafer", wafer, "a waferlab.geometry.Wafer")
    if not isinstance(die, Die):
        raise InvalidParameterError("die", die, "a waferlab.geometry.Die")


def _no_fit(wafer: Wafer, die: Die) -> GeometryError:
    return GeometryError(
        f"a {die.width_mm:g} x {die.height_mm:g} mm die does not fit in the usable region "
        f"of a {wafer.diameter_mm:g} mm wafer (usable radius {wafer.usable_radius_mm:g} mm"
        + (f", notch band {wafer.notch_keepout_mm:g} mm" if wafer.notch_keepout_mm else "")
        + (f", flat {wafer.flat_length_mm:g} mm" if wafer.flat_length_mm is not None else "")
        + (f", {len(wafer.keepouts)} keep-out regions" if wafer.keepouts else "")
        + ")"
    )


def gross_dies_per_wafer(wafer: Wafer, die: Die, *, offset: Any = "optimal") -> int:
    """Return the number of full dies for a grid offset (optimal by default).

    Unlike :func:`place_dies`, a die too large for the wafer gives 0 rather
    than an error, which suits sweeps over die sizes.

    Parameters
    ----------
    wafer : Wafer
    die : Die
    offset : {"optimal", "die-centered", "street-centered"} or (x_mm, y_mm)

    Returns
    -------
    int

    Raises
    ------
    InvalidParameterError
        For a malformed offset, or a grid over the wafer of more than
        :data:`MAX_GRID_ROWS` rows (with a fixed offset, also more than
        :data:`MAX_GRID_SITES` sites).

    Examples
    --------
    >>> gross_dies_per_wafer(Wafer(300.0, 0.0), Die(10.0, 10.0, 0.0), offset="street-centered")
    648
    """
    _check_inputs(wafer, die)
    _, fixed = _resolve_offset(offset, die)
    _check_grid_size(
        wafer,
        die.width_mm,
        die.height_mm,
        die.pitch_x_mm,
        die.pitch_y_mm,
        sites=fixed is not None,
    )
    grid = _grid(wafer, die)
    if fixed is None:
        return optimise(grid)[2]
    state = _site_map(wafer, grid, *fixed)[4]
    return int(np.count_nonzero(state == SITE_FULL))


def gross_dies_per_wafer_many(
    wafer: Wafer,
    die_width_mm: ArrayLike,
    die_height_mm: ArrayLike,
    *,
    scribe_x_mm: float = 0.1,
    scribe_y_mm: float | None = None,
    offset: Any = "optimal",
) -> NDArray[np.int64]:
    """Return full-die counts for many die sizes at once.

    Parameters
    ----------
    wafer : Wafer
    die_width_mm, die_height_mm : array_like
        Die sizes [mm], broadcast against each other.
    scribe_x_mm : float, default 0.1
    scribe_y_mm : float or None, default None
    offset : {"optimal", "die-centered", "street-centered"} or (x_mm, y_mm)

    Returns
    -------
    ndarray of int64
        Same shape as the broadcast sizes; 0 where a die does not fit.

    Raises
    ------
    InvalidParameterError
        For an invalid size, scribe or offset, or, before any counting, if a
        size needs more grid rows (or sites) than :func:`gross_dies_per_wafer`
        handles.

    Examples
    --------
    >>> gross_dies_per_wafer_many(Wafer(300.0, 3.0), [10.0, 20.0], 10.0).tolist()
    [616, 300]
    """
    if not isinstance(wafer, Wafer):
        raise InvalidParameterError("wafer", wafer, "a waferlab.geometry.Wafer")
    top = MAX_LENGTH_MM  # the bounds of Die
    w = check_array("die_width_mm", die_width_mm, low=0.0, high=top, low_open=True)
    h = check_array("die_height_mm", die_height_mm, low=0.0, high=top, low_open=True)
    sx = check_real("scribe_x_mm", scribe_x_mm, low=0.0, high=top)
    sy = sx if scribe_y_mm is None else check_real("scribe_y_mm", scribe_y_mm, low=0.0, high=top)
    mode, _ = _offset_mode(offset)
    w, h = np.broadcast_arrays(w, h)
    _check_grid_size(wafer, w, h, w + sx, h + sy, sites=mode != "optimal")
    if mode == "optimal" and not wafer.keepouts:
        # every size in one batched branch and bound (waferlab._placement)
        tol = CONTAINMENT_TOLERANCE_MM
        counts = optimal_counts(
            w.ravel(),
            h.ravel(),
            (w + sx).ravel(),
            (h + sy).ravel(),
            wafer.usable_radius_mm + tol,
            wafer.y_cut_mm - tol,
        )
        return counts.reshape(w.shape)
    out = np.empty(w.shape, dtype=np.int64)
    for k in np.ndindex(w.shape):  # one vectorised placement per die size
        die = Die(float(w[k]), float(h[k]), scribe_x_mm, scribe_y_mm)
        out[k] = gross_dies_per_wafer(wafer, die, offset=offset)
    return out
