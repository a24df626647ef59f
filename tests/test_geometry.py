"""Tests of waferlab.geometry: formulas, exact placement, keep-outs, reticles, validation.

Expected values come from publications (cited next to each test) or from an
independent second computation: the arrangement-vertex oracle in
``tests/_placement_oracle.py`` (imports nothing from waferlab), literal corner
checks, shapely containment of every die rectangle, and Monte Carlo averages.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import shapely
from _placement_oracle import PlacementOracle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from waferlab.errors import GeometryError, InvalidParameterError, UnknownNameError
from waferlab.geometry import (
    CONTAINMENT_TOLERANCE_MM,
    SITE_FULL,
    SITE_OUTSIDE,
    SITE_PARTIAL,
    Die,
    Reticle,
    Wafer,
    area_bound_dies_per_wafer,
    classic_dies_per_wafer,
    dies_per_field,
    expected_dies_per_wafer,
    gross_dies_per_wafer,
    gross_dies_per_wafer_many,
    perimeter_dies_per_wafer,
    place_dies,
    semi_flat_length_mm,
)
from waferlab.output import to_json

FAST = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

wafer_diameters = st.sampled_from([100.0, 150.0, 200.0])
die_sides = st.floats(3.0, 30.0)
scribes = st.floats(0.0, 0.3)


def oracle_for(wafer: Wafer, die: Die) -> PlacementOracle:
    return PlacementOracle(
        wafer.diameter_mm,
        wafer.edge_exclusion_mm,
        wafer.notch_keepout_mm,
        die.width_mm,
        die.height_mm,
        die.scribe_x_mm,
        die.scribe_y_mm,
    )


# ---------------------------------------------------------------------------
# Published reference values
# ---------------------------------------------------------------------------


def test_classic_formula_worked_example() -> None:
    # Issue 2 §5 / the classic formula's worked example: 300 mm wafer, 5 mm edge
    # exclusion (d = 290 mm), 10 x 10 mm die with 0.1 mm street (S = 10.1² mm²): 583.7.
    assert classic_dies_per_wafer(290.0, 10.1**2) == pytest.approx(583.7, abs=0.05)
    die = Die(10.0, 10.0, 0.1)
    m = place_dies(Wafer(300.0, 5.0), die, offset="die-centered")
    assert m.formula_dies == pytest.approx(583.7, abs=0.05)


def test_report_80_dies_from_classic_formula() -> None:
    # SOURCES.md §2 (CSIS report): d = 300 mm, S = 665.61 mm², no edge exclusion and
    # no scribe give 80.4 with the classic formula.
    assert classic_dies_per_wafer(300.0, 665.61) == pytest.approx(80.4, abs=0.05)


@pytest.mark.parametrize("edge_exclusion_mm", [0.0, 3.0])
@pytest.mark.parametrize("rotate", [False, True])
def test_910b_exact_count_matches_independent_oracle(
    edge_exclusion_mm: float, rotate: bool
) -> None:
    # The real 21.32 x 31.22 mm Ascend 910B die (SOURCES.md §2), 0.1 mm scribe.
    die = Die(21.32, 31.22, 0.1)
    if rotate:
        die = die.rotated()
    wafer = Wafer(300.0, edge_exclusion_mm)
    m = place_dies(wafer, die)
    best, _ = oracle_for(wafer, die).optimum()
    assert m.gross_dies == best
    assert m.certified


def test_semi_flat_lengths_from_data_file() -> None:
    # SEMI M1 primary flats: 32.5 / 42.5 / 57.5 mm for 100 / 125 / 150 mm wafers.
    assert semi_flat_length_mm(100) == 32.5
    assert semi_flat_length_mm(125.0) == 42.5
    assert semi_flat_length_mm(150) == 57.5
    with pytest.raises(UnknownNameError, match="100, 125, 150"):
        semi_flat_length_mm(300)


# ---------------------------------------------------------------------------
# Formulas against independent computations
# ---------------------------------------------------------------------------


def test_expected_dies_is_the_mean_over_random_offsets() -> None:
    # Monte Carlo over uniformly random grid offsets, counted by the oracle's literal
    # corner test, against the closed-form inner-parallel-body area.
    wafer, die = Wafer(150.0, 2.0), Die(9.0, 13.0, 0.2)
    rng = np.random.default_rng(7)
    ox = rng.uniform(-die.pitch_x_mm / 2, die.pitch_x_mm / 2, 4000)
    oy = rng.uniform(-die.pitch_y_mm / 2, die.pitch_y_mm / 2, 4000)
    counts = oracle_for(wafer, die).count_many(ox, oy)
    se = counts.std() / math.sqrt(counts.size)
    assert expected_dies_per_wafer(wafer, die) == pytest.approx(counts.mean(), abs=4 * se + 0.01)


def test_expected_dies_requires_plain_disc() -> None:
    with pytest.raises(InvalidParameterError, match="wafer"):
        expected_dies_per_wafer(Wafer(300.0, 3.0, notch_keepout_mm=5.0), Die(10.0, 10.0))


def test_perimeter_formula_is_first_order_of_expected() -> None:
    # For a large wafer the exact mean and its first-order expansion agree to O(1) dies.
    die = Die(5.0, 8.0, 0.1)
    exact = expected_dies_per_wafer(Wafer(450.0, 0.0), die)
    approx = perimeter_dies_per_wafer(450.0, 5.0, 8.0, die.pitch_area_mm2)
    assert abs(exact - approx) < 3.0
    assert np.shape(perimeter_dies_per_wafer([300.0, 450.0], 5.0, 8.0, 41.31)) == (2,)


def test_formulas_vectorise_and_validate() -> None:
    out = classic_dies_per_wafer(np.array([200.0, 300.0]), 100.0)
    assert isinstance(out, np.ndarray) and out.shape == (2,)
    assert isinstance(classic_dies_per_wafer(300.0, 100.0), float)
    with pytest.raises(InvalidParameterError, match="pitch_area_mm2"):
        classic_dies_per_wafer(300.0, 0.0)
    with pytest.raises(InvalidParameterError, match="usable_diameter_mm"):
        classic_dies_per_wafer(float("nan"), 10.0)
    assert area_bound_dies_per_wafer(1000.0, 10.0) == 100.0


def test_usable_area_matches_shapely() -> None:
    wafer = Wafer(200.0, 3.0, notch_keepout_mm=12.0)
    poly = shapely.intersection(
        shapely.Point(0, 0).buffer(97.0, quad_segs=1024), shapely.box(-200, -88.0, 200, 200)
    )
    assert wafer.usable_area_mm2 == pytest.approx(poly.area, rel=1e-5)
    keep = shapely.box(-10, -10, 10, 10)
    wk = Wafer(200.0, 3.0, notch_keepout_mm=12.0, keepouts=(keep,))
    assert wk.usable_area_mm2 == pytest.approx(poly.area - 400.0, rel=1e-5)


# ---------------------------------------------------------------------------
# Exact placement: properties
# ---------------------------------------------------------------------------


@FAST
@given(
    d=wafer_diameters,
    ee=st.floats(0.0, 6.0),
    notch=st.one_of(st.just(0.0), st.floats(0.5, 15.0)),
    w=die_sides,
    h=die_sides,
    sx=scribes,
    sy=scribes,
)
def test_optimal_equals_oracle_and_reproduces(
    d: float, ee: float, notch: float, w: float, h: float, sx: float, sy: float
) -> None:
    wafer, die = Wafer(d, ee, notch), Die(w, h, sx, sy)
    oracle = oracle_for(wafer, die)
    best, _ = oracle.optimum()
    if best == 0:
        with pytest.raises(GeometryError):
            place_dies(wafer, die)
        return
    m = place_dies(wafer, die)
    assert m.gross_dies == best
    assert m.optimality_gap == 0
    # the reported offset reproduces the count, both here and in the oracle
    fixed = place_dies(wafer, die, offset=(m.offset_x_mm, m.offset_y_mm))
    assert fixed.gross_dies == best
    assert oracle.count_at((m.offset_x_mm, m.offset_y_mm)) == best
    assert -die.pitch_x_mm / 2 <= m.offset_x_mm < die.pitch_x_mm / 2
    assert -die.pitch_y_mm / 2 <= m.offset_y_mm < die.pitch_y_mm / 2


@FAST
@given(
    d=wafer_diameters,
    ee=st.floats(0.0, 6.0),
    w=die_sides,
    h=die_sides,
    sx=scribes,
    shift=st.tuples(st.floats(-100.0, 100.0), st.floats(-100.0, 100.0)),
)
def test_optimal_never_below_fixed_offsets(
    d: float, ee: float, w: float, h: float, sx: float, shift: tuple[float, float]
) -> None:
    wafer, die = Wafer(d, ee), Die(w, h, sx)
    best = gross_dies_per_wafer(wafer, die)
    for offset in ("die-centered", "street-centered", shift):
        n = gross_dies_per_wafer(wafer, die, offset=offset)
        assert n <= best
        # the fixed-offset count itself agrees with the literal corner test
        xy = {
            "die-centered": (0.0, 0.0),
            "street-centered": (die.pitch_x_mm / 2, die.pitch_y_mm / 2),
        }
        assert n == oracle_for(wafer, die).count_at(xy.get(offset, shift))  # type: ignore[arg-type]


@FAST
@given(d=wafer_diameters, ee=st.floats(0.0, 6.0), w=die_sides, h=die_sides, sx=scribes, sy=scribes)
def test_rotation_by_90_degrees_keeps_optimal_count(
    d: float, ee: float, w: float, h: float, sx: float, sy: float
) -> None:
    wafer, die = Wafer(d, ee), Die(w, h, sx, sy)
    assert gross_dies_per_wafer(wafer, die) == gross_dies_per_wafer(wafer, die.rotated())


@FAST
@given(
    d=wafer_diameters,
    ee=st.floats(0.0, 6.0),
    extra=st.floats(0.0, 5.0),
    w=die_sides,
    h=die_sides,
    sx=scribes,
)
def test_more_edge_exclusion_never_more_dies(
    d: float, ee: float, extra: float, w: float, h: float, sx: float
) -> None:
    die = Die(w, h, sx)
    assert gross_dies_per_wafer(Wafer(d, ee + extra), die) <= gross_dies_per_wafer(
        Wafer(d, ee), die
    )


@FAST
@given(d=wafer_diameters, ee=st.floats(0.0, 6.0), w=st.floats(1.0, 30.0), h=st.floats(1.0, 30.0))
def test_count_never_exceeds_area_bound(d: float, ee: float, w: float, h: float) -> None:
    wafer, die = Wafer(d, ee), Die(w, h, 0.0)
    n = gross_dies_per_wafer(wafer, die)
    assert n <= area_bound_dies_per_wafer(wafer.usable_area_mm2, die.area_mm2)
    # and the optimum is never below the mean over offsets
    assert n >= math.floor(expected_dies_per_wafer(wafer, die))


def overlaps_interior(m: object, keep: shapely.Geometry) -> np.ndarray:
    """Literal keep-out test: the die, shrunk by 1.5 × the tolerance, meets the keep-out.

    This is "overlaps the keep-out's interior by more than the containment tolerance",
    checked with shapely on every die rectangle (independent of the row projection used
    by waferlab).
    """
    s = 1.5 * CONTAINMENT_TOLERANCE_MM
    hw, hh = m.die.width_mm / 2 - s, m.die.height_mm / 2 - s  # type: ignore[attr-defined]
    x, y = m.center_x_mm, m.center_y_mm  # type: ignore[attr-defined]
    return np.asarray(shapely.intersects(shapely.box(x - hw, y - hh, x + hw, y + hh), keep))


def _far_keepout() -> tuple[shapely.Geometry, ...]:
    # a keep-out far off the wafer: forces the general (shapely) path, changes nothing
    return (shapely.box(1000.0, 1000.0, 1001.0, 1001.0),)


@FAST
@given(
    d=wafer_diameters,
    ee=st.floats(0.0, 6.0),
    notch=st.one_of(st.just(0.0), st.floats(0.5, 15.0)),
    w=die_sides,
    h=die_sides,
    sx=scribes,
    shift=st.tuples(st.floats(-20.0, 20.0), st.floats(-20.0, 20.0)),
)
def test_fast_path_equals_shapely_path(
    d: float, ee: float, notch: float, w: float, h: float, sx: float, shift: tuple[float, float]
) -> None:
    die = Die(w, h, sx)
    fast = Wafer(d, ee, notch)
    general = Wafer(d, ee, notch, keepouts=_far_keepout())
    assert gross_dies_per_wafer(fast, die, offset=shift) == gross_dies_per_wafer(
        general, die, offset=shift
    )
    assert gross_dies_per_wafer(fast, die) == gross_dies_per_wafer(general, die)


@pytest.mark.parametrize("offset", ["die-centered", "street-centered", (1.3, -2.7)])
def test_states_against_shapely_containment(offset: object) -> None:
    # Brute force: every die rectangle against shapely polygons that enclose and are
    # enclosed by the exact usable disc (the polygon vertices lie on the circle, so
    # the inscribed polygon is inside, and growing it by the sagitta contains the disc).
    wafer, die = Wafer(200.0, 3.0, notch_keepout_mm=8.0), Die(7.0, 11.0, 0.15)
    m = place_dies(wafer, die, offset=offset)
    boxes = m.geometries()
    r, segs = wafer.usable_radius_mm, 256
    inner = shapely.Point(0, 0).buffer(r, quad_segs=segs)
    sagitta = r * (1 - math.cos(math.pi / (4 * segs))) / math.cos(math.pi / (4 * segs))
    band = shapely.box(-300, -100.0 + 8.0, 300, 300)
    inside = shapely.intersection(inner, band)
    outside = shapely.intersection(inner.buffer(sagitta + 1e-9, quad_segs=segs), band)
    surely_full = shapely.covers(inside, boxes)
    maybe_full = shapely.covers(outside, boxes)
    full = m.state == SITE_FULL
    assert np.all(full[surely_full])
    assert not np.any(full[~maybe_full])
    # partial: positive-area overlap with the physical wafer, not full
    disc_in = shapely.Point(0, 0).buffer(100.0, quad_segs=segs)
    disc_out = disc_in.buffer(100.0 * sagitta / r + 1e-9, quad_segs=segs)
    surely_on = shapely.area(shapely.intersection(disc_in, boxes)) > 1e-9
    maybe_on = shapely.area(shapely.intersection(disc_out, boxes)) > 0.0
    partial = m.state == SITE_PARTIAL
    assert np.all(m.state[surely_on] != SITE_OUTSIDE)
    assert np.all(m.state[~maybe_on] == SITE_OUTSIDE)
    assert np.all(partial == ((m.state != SITE_OUTSIDE) & ~full))
    assert m.partial_dies == int(partial.sum())
    assert m.gross_dies == int(full.sum())


def test_nonconvex_keepout_against_brute_shapely() -> None:
    # A V-shaped (non-convex) keep-out and a slot: each die is checked literally (corners
    # in the disc) and against shapely (no overlap with the keep-out interiors beyond the
    # containment tolerance).
    vee = shapely.Polygon([(-40, -40), (40, -40), (40, 40), (0, 0), (-40, 40)])
    slot = shapely.box(55.0, 60.0, 95.0, 66.0)
    wafer = Wafer(300.0, 3.0, keepouts=(vee, slot))
    die = Die(10.0, 10.0, 0.1)
    oracle = oracle_for(Wafer(300.0, 3.0), die)
    keep = shapely.union_all([vee, slot])
    for offset in ("optimal", "die-centered", (2.5, -1.25)):
        m = place_dies(wafer, die, offset=offset)
        in_disc = oracle.fits(m.center_x_mm, m.center_y_mm)
        blocked = overlaps_interior(m, keep)
        assert np.array_equal(m.state == SITE_FULL, in_disc & ~blocked)
    # the optimum is at least as good as a 12 x 12 grid of shifts checked the same way
    best = place_dies(wafer, die).gross_dies
    grid = np.linspace(-die.pitch_x_mm / 2, die.pitch_x_mm / 2, 12, endpoint=False)
    for ox in grid:
        for oy in grid:
            assert gross_dies_per_wafer(wafer, die, offset=(ox, oy)) <= best


def test_keepout_touching_die_edge_is_allowed() -> None:
    # die-centred 10 x 10 die occupies [-5, 5]²; a keep-out touching its right edge
    # removes no die from the centre column.
    die = Die(10.0, 10.0, 0.0)
    base = place_dies(Wafer(100.0, 0.0), die, offset="die-centered")
    touching = Wafer(100.0, 0.0, keepouts=(shapely.box(5.0, -5.0, 6.0, 5.0),))
    m = place_dies(touching, die, offset="die-centered")
    assert base.gross_dies - m.gross_dies == 1  # only the die at x in [5, 15] is lost


def test_flat_equals_equivalent_band_for_full_dies() -> None:
    # A flat with edge exclusion cuts at y = -sqrt(R² - (L/2)²) + ee; a notch band of
    # the same top gives the same full dies (oracle), while the flat also removes
    # material (fewer partial dies).
    d, ee = 150.0, 3.0
    flat = semi_flat_length_mm(d)
    y_cut = -math.sqrt((d / 2) ** 2 - (flat / 2) ** 2) + ee
    die = Die(8.0, 6.0, 0.1)
    with_flat = place_dies(Wafer(d, ee, flat_length_mm=flat), die)
    band = Wafer(d, ee, notch_keepout_mm=y_cut + d / 2)
    assert with_flat.gross_dies == oracle_for(band, die).optimum()[0]


def test_large_wafers_work() -> None:
    for d in (200.0, 300.0, 450.0):
        m = place_dies(Wafer(d, 3.0), Die(20.0, 20.0, 0.1))
        assert m.gross_dies == oracle_for(Wafer(d, 3.0), Die(20.0, 20.0, 0.1)).optimum()[0]


# ---------------------------------------------------------------------------
# Reticle shots
# ---------------------------------------------------------------------------


def test_dies_per_field_by_hand() -> None:
    # n dies and n - 1 scribes must fit: 2·10 + 0.1 <= 26 < 3·10 + 0.2; 3·10 + 0.2 <= 33.
    assert dies_per_field(Die(10.0, 10.0, 0.1), Reticle(26.0, 33.0)) == (2, 3)
    # exactly filling the field counts: 2·12.95 + 0.1 = 26.0
    assert dies_per_field(Die(12.95, 33.0, 0.1), Reticle(26.0, 33.0)) == (2, 1)


def test_shot_counts_against_direct_grouping() -> None:
    wafer, die, ret = Wafer(300.0, 3.0), Die(10.0, 10.0, 0.1), Reticle(26.0, 33.0)
    m = place_dies(wafer, die, reticle=ret)
    nx, ny = m.dies_per_field or (0, 0)
    assert m.to_dict()["dies_per_field"] == nx * ny == 6
    shots: dict[tuple[int, int], list[int]] = {}
    for i, j, s in zip(m.col.tolist(), m.row.tolist(), m.state.tolist(), strict=True):
        shots.setdefault((i // nx, j // ny), []).append(s)
    full = sum(len(v) == nx * ny and all(s == SITE_FULL for s in v) for v in shots.values())
    partial = sum(
        any(s != SITE_OUTSIDE for s in v)
        and not (len(v) == nx * ny and all(s == SITE_FULL for s in v))
        for v in shots.values()
    )
    assert (m.full_shots, m.partial_shots) == (full, partial)
    assert full * nx * ny <= m.gross_dies


def test_die_larger_than_field_is_an_error() -> None:
    with pytest.raises(InvalidParameterError, match=r"reticle.*30 x 30 mm"):
        place_dies(Wafer(), Die(30.0, 30.0), reticle=Reticle(26.0, 33.0))


# ---------------------------------------------------------------------------
# API details and validation
# ---------------------------------------------------------------------------


def test_die_constructors() -> None:
    assert Die.square(100.0).width_mm == pytest.approx(10.0)
    d = Die.from_area(665.61, aspect_ratio=21.32 / 31.22, scribe_x_mm=0.1)
    assert d.width_mm == pytest.approx(21.32) and d.height_mm == pytest.approx(31.22)
    assert Die(5.0, 6.0, 0.1).scribe_y == 0.1
    assert Die(5.0, 6.0, 0.1, 0.2).pitch_y_mm == pytest.approx(6.2)
    with pytest.raises(InvalidParameterError, match="aspect_ratio"):
        Die.from_area(100.0, aspect_ratio=0.0)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"diameter_mm": 0.0}, "diameter_mm"),
        ({"diameter_mm": float("nan")}, "diameter_mm"),
        ({"edge_exclusion_mm": 150.0}, "edge_exclusion_mm"),
        ({"edge_exclusion_mm": -1.0}, "edge_exclusion_mm"),
        ({"notch_keepout_mm": 300.0}, "notch_keepout_mm"),
        ({"notch_keepout_mm": 298.0}, "notch_keepout_mm"),  # band above the usable disc
        ({"flat_length_mm": 300.0}, "flat_length_mm"),
        ({"keepouts": ("not a geometry",)}, "keepouts"),
    ],
)
def test_wafer_validation(kwargs: dict[str, object], name: str) -> None:
    with pytest.raises(InvalidParameterError, match=name):
        Wafer(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "name"),
    [
        ((0.0, 1.0), "width_mm"),
        ((1.0, -1.0), "height_mm"),
        ((1.0, 1.0, float("inf")), "scribe_x_mm"),
    ],
)
def test_die_validation(args: tuple[float, ...], name: str) -> None:
    with pytest.raises(InvalidParameterError, match=name):
        Die(*args)


def test_offset_validation() -> None:
    wafer, die = Wafer(), Die(10.0, 10.0)
    with pytest.raises(UnknownNameError, match="die-centered"):
        place_dies(wafer, die, offset="centre")
    with pytest.raises(InvalidParameterError, match="offset"):
        place_dies(wafer, die, offset=(1.0, 2.0, 3.0))
    with pytest.raises(InvalidParameterError, match="offset_y_mm"):
        place_dies(wafer, die, offset=(1.0, float("nan")))
    with pytest.raises(InvalidParameterError, match="reticle"):
        place_dies(wafer, die, reticle="26x33")  # type: ignore[arg-type]


def test_die_that_never_fits_is_a_geometry_error() -> None:
    with pytest.raises(GeometryError, match="does not fit"):
        place_dies(Wafer(100.0, 3.0), Die(80.0, 80.0))
    with pytest.raises(GeometryError):
        place_dies(Wafer(100.0, 3.0), Die(80.0, 80.0), offset="die-centered")
    assert gross_dies_per_wafer(Wafer(100.0, 3.0), Die(80.0, 80.0)) == 0


def test_fixed_offset_with_zero_dies_is_not_an_error_if_another_offset_fits() -> None:
    # a 60 mm square just fits a 94 mm disc when centred, not when shifted by 20 mm
    wafer, die = Wafer(100.0, 3.0), Die(60.0, 60.0, 0.0)
    assert place_dies(wafer, die, offset=(20.0, 20.0)).gross_dies == 0
    assert place_dies(wafer, die).gross_dies == 1


def test_many_sizes_matches_single_calls_and_broadcasts() -> None:
    wafer = Wafer(200.0, 3.0)
    widths = np.array([[3.0, 7.5], [12.0, 90.0]])
    out = gross_dies_per_wafer_many(wafer, widths, 6.0, scribe_x_mm=0.05)
    assert out.shape == (2, 2) and out.dtype == np.int64
    for k in np.ndindex(widths.shape):
        assert out[k] == oracle_for(wafer, Die(widths[k], 6.0, 0.05)).optimum()[0]


def test_diemap_outputs() -> None:
    m = place_dies(Wafer(200.0, 3.0), Die(15.0, 12.0, 0.1), reticle=Reticle())
    data = json.loads(to_json(m))
    for key in (
        "gross_dies",
        "partial_dies",
        "formula_dies",
        "offset_x_mm",
        "offset_y_mm",
        "die_width_mm",
        "die_height_mm",
        "wafer_diameter_mm",
        "edge_exclusion_mm",
        "scribe_x_mm",
        "scribe_y_mm",
        "dies_per_field",
        "full_shots",
        "partial_shots",
    ):
        assert key in data
    assert len(m.geometries()) == m.state.size
    assert len(m.geometries(m.full_mask)) == m.gross_dies
    assert m.center_x_mm.shape == m.row.shape == m.col.shape == m.state.shape
    assert m.state.dtype == np.int8
    assert CONTAINMENT_TOLERANCE_MM < 1e-6
    outline = Wafer(150.0, 3.0, flat_length_mm=57.5).outline()
    assert outline.bounds[1] == pytest.approx(-math.sqrt(75.0**2 - 28.75**2))


# ---------------------------------------------------------------------------
# Keep-outs at random, and the honesty of the optimality gap
# ---------------------------------------------------------------------------


@st.composite
def star_keepouts(draw: st.DrawFn) -> shapely.Geometry:
    """A random star-shaped (generally non-convex) polygon inside a 150 mm wafer."""
    cx, cy = draw(st.floats(-40.0, 40.0)), draw(st.floats(-40.0, 40.0))
    n = draw(st.integers(5, 9))
    radii = draw(st.lists(st.floats(3.0, 25.0), min_size=n, max_size=n))
    angles = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    return shapely.Polygon(np.stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)], 1))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(keep=star_keepouts(), w=st.floats(4.0, 15.0), h=st.floats(4.0, 15.0), sx=scribes)
def test_random_nonconvex_keepouts(keep: shapely.Geometry, w: float, h: float, sx: float) -> None:
    wafer = Wafer(150.0, 3.0, keepouts=(keep,))
    die = Die(w, h, sx)
    m = place_dies(wafer, die)
    # literal check at the reported offset: corners in the disc, no overlap with the keep-out
    in_disc = oracle_for(Wafer(150.0, 3.0), die).fits(m.center_x_mm, m.center_y_mm)
    blocked = overlaps_interior(m, keep)
    assert m.gross_dies == int(np.count_nonzero(in_disc & ~blocked))
    # never below a 6 x 6 grid of shifts checked the same way, nor the plain-disc optimum bound
    for ox in np.linspace(-die.pitch_x_mm / 2, die.pitch_x_mm / 2, 6, endpoint=False):
        for oy in np.linspace(-die.pitch_y_mm / 2, die.pitch_y_mm / 2, 6, endpoint=False):
            fixed = place_dies(wafer, die, offset=(ox, oy))
            ok = oracle_for(Wafer(150.0, 3.0), die).fits(fixed.center_x_mm, fixed.center_y_mm)
            hit = overlaps_interior(fixed, keep)
            assert fixed.gross_dies == int(np.count_nonzero(ok & ~hit)) <= m.gross_dies
    assert m.gross_dies <= gross_dies_per_wafer(Wafer(150.0, 3.0), die)


def test_early_stop_reports_an_honest_gap(monkeypatch: pytest.MonkeyPatch) -> None:
    # Stop the branch and bound at once (tolerance = a whole pitch): the reported count is
    # then a lower bound and count + gap an upper bound on the true optimum (oracle).
    import waferlab._placement as placement

    monkeypatch.setattr(placement, "OFFSET_TOLERANCE_MM", 1e3)
    cases = [(Wafer(200.0, 3.0), Die(7.3, 12.1, 0.08)), (Wafer(150.0, 2.0), Die(9.0, 5.0, 0.1))]
    for wafer, die in cases:
        m = place_dies(wafer, die)
        best = oracle_for(wafer, die).optimum()[0]
        assert m.gross_dies <= best <= m.gross_dies + m.optimality_gap
        assert m.certified == (m.optimality_gap == 0)
        if not m.certified:
            assert m.to_dict()["certified"] is False


def test_inputs_must_be_geometry_objects() -> None:
    with pytest.raises(InvalidParameterError, match="wafer"):
        gross_dies_per_wafer("300 mm", Die(10.0, 10.0))  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="die"):
        place_dies(Wafer(), (10.0, 10.0))  # type: ignore[arg-type]


def test_classic_formula_is_never_negative() -> None:
    # d < sqrt(8 S): the edge term pi d / sqrt(2 S) exceeds the area term pi d^2 / (4 S).
    d, s = 40.0, 400.0  # a 20 x 20 mm die on a 40 mm disc: the raw formula gives -1.5
    raw = math.pi * d**2 / (4 * s) - math.pi * d / math.sqrt(2 * s)
    assert raw < 0
    assert classic_dies_per_wafer(d, s) == 0.0
    np.testing.assert_array_equal(classic_dies_per_wafer([d, 290.0], [s, 102.01]) >= 0, True)


def test_many_sizes_batched_equals_one_size_at_a_time() -> None:
    # The batched branch and bound (many sizes, padded rows) against a plain loop of
    # single-size searches, on wafers with a flat, a notch band and none; sizes from
    # tiny (hundreds of rows) to too large to fit.
    rng = np.random.default_rng(7)
    widths = np.concatenate([[0.7, 1.3, 150.0, 210.0], rng.uniform(2.0, 40.0, 40)])
    heights = np.concatenate([[0.9, 2.1, 90.0, 5.0], rng.uniform(2.0, 40.0, 40)])
    for wafer in (
        Wafer(300.0, 3.0),
        Wafer(300.0, 2.5, notch_keepout_mm=6.0),
        Wafer(150.0, 3.0, flat_length_mm=57.5),
    ):
        many = gross_dies_per_wafer_many(wafer, widths, heights, scribe_x_mm=0.08, scribe_y_mm=0.1)
        loop = [
            gross_dies_per_wafer(wafer, Die(w, h, 0.08, 0.1))
            for w, h in zip(widths, heights, strict=True)
        ]
        assert many.tolist() == loop
