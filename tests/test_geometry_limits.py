"""Limits of the placement: grid size, lengths, flats, reticle fields and offsets.

Expected sizes come from the grid arithmetic written out here (the number of
columns of pitch ``p`` whose cells can meet a wafer of diameter ``D`` is at most
``(D + w)/p + 3``), not from the code under test.
"""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from waferlab import geometry
from waferlab.errors import GeometryError, InvalidParameterError
from waferlab.geometry import (
    MAX_FLAT_WAFER_DIAMETER_MM,
    MAX_GRID_ROWS,
    MAX_GRID_SITES,
    MAX_LENGTH_MM,
    MIN_LENGTH_MM,
    Die,
    Reticle,
    Wafer,
    expected_dies_per_wafer,
    gross_dies_per_wafer,
    gross_dies_per_wafer_many,
    place_dies,
)


def grid_bound(diameter_mm: float, die: Die) -> tuple[float, float]:
    """Upper bounds on the columns and rows of grid cells near the wafer."""
    cols = (diameter_mm + die.width_mm) / die.pitch_x_mm + 3.0
    rows = (diameter_mm + die.height_mm) / die.pitch_y_mm + 3.0
    return cols, rows


def test_limits_are_documented_values_that_allow_realistic_dies() -> None:
    assert MAX_GRID_SITES == 4_000_000
    assert MAX_GRID_ROWS == 20_000
    # a 1 x 1 mm die without scribe on a 450 mm wafer: 453 x 453 cells at most
    cols, rows = grid_bound(450.0, Die(1.0, 1.0, 0.0))
    assert cols * rows < MAX_GRID_SITES / 10


def test_one_mm_die_on_450_mm_wafer_works() -> None:
    wafer, die = Wafer(450.0, 3.0), Die(1.0, 1.0, 0.0)
    m = place_dies(wafer, die)
    # the optimum is at least the mean over grid shifts and at most the area bound
    assert expected_dies_per_wafer(wafer, die) <= m.gross_dies <= wafer.usable_area_mm2
    cols, rows = grid_bound(450.0, die)
    assert m.state.size <= cols * rows


@settings(max_examples=40)
@given(
    side=st.floats(0.5, 40.0),
    aspect=st.floats(0.25, 4.0),
    scribe=st.floats(0.0, 0.5),
    dx=st.floats(-1.0, 1.0),
    dy=st.floats(-1.0, 1.0),
)
def test_listed_sites_never_exceed_the_bound_used_by_the_check(
    side: float, aspect: float, scribe: float, dx: float, dy: float
) -> None:
    die = Die(side * aspect, side, scribe)
    m = place_dies(Wafer(200.0, 3.0), die, offset=(dx * die.pitch_x_mm, dy * die.pitch_y_mm))
    cols, rows = grid_bound(200.0, die)
    assert m.state.size <= cols * rows
    assert np.unique(m.row).size <= rows and np.unique(m.col).size <= cols


@pytest.mark.parametrize("offset", ["optimal", "die-centered", (0.1, 0.2)])
def test_too_many_sites_is_an_error_naming_die_wafer_and_limit(offset: object) -> None:
    # 0.001 mm pitch over 300 mm: about 300,000 x 300,000 sites (9e10)
    with pytest.raises(InvalidParameterError) as info:
        place_dies(Wafer(300.0), Die(0.001, 0.001, 0.0), offset=offset)
    assert info.value.parameter == "die"
    text = str(info.value)
    for needle in ("0.001 x 0.001 mm", "300 mm wafer", "4,000,000 sites", "20,000 rows"):
        assert needle in text
    assert "None" not in text


def test_huge_wafer_with_a_normal_die_is_refused_quickly() -> None:
    # 1e5 mm wafer, 21.42 x 31.32 mm pitch: 4,672 x 3,197 = 14.9 million sites
    cols, rows = grid_bound(1e5, Die(21.32, 31.22, 0.1))
    assert cols * rows > MAX_GRID_SITES
    tracemalloc.start()
    try:
        with pytest.raises(InvalidParameterError, match="100000 mm wafer"):
            place_dies(Wafer(1e5), Die(21.32, 31.22, 0.1))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000


def test_grid_near_the_site_limit_stays_well_under_a_gigabyte() -> None:
    die = Die(0.24, 0.24, 0.0)
    cols, rows = grid_bound(450.0, die)
    assert 0.8 * MAX_GRID_SITES < cols * rows <= MAX_GRID_SITES
    tracemalloc.start()
    try:
        m = place_dies(Wafer(450.0, 3.0), die, offset="die-centered")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert m.gross_dies > 0.9 * Wafer(450.0, 3.0).usable_area_mm2 / die.area_mm2
    assert peak < 400_000_000


def test_row_limit_applies_to_the_optimal_count() -> None:
    # 300 mm / 0.01 mm = 30,000 rows; a fixed offset also checks the sites
    flat_die = Die(50.0, 0.01, 0.0)
    assert grid_bound(300.0, flat_die)[1] > MAX_GRID_ROWS
    with pytest.raises(InvalidParameterError, match="at most 20,000 rows"):
        gross_dies_per_wafer(Wafer(300.0), flat_die)
    # 0.001 x 1 mm: 300,000 columns but about 300 rows; the optimal count lists no sites
    tall_die = Die(0.001, 1.0, 0.0)
    assert grid_bound(300.0, tall_die)[0] * grid_bound(300.0, tall_die)[1] > MAX_GRID_SITES
    count = gross_dies_per_wafer(Wafer(300.0), tall_die)
    wafer = Wafer(300.0)
    assert expected_dies_per_wafer(wafer, tall_die) <= count <= wafer.usable_area_mm2 / 0.001
    with pytest.raises(InvalidParameterError, match="4,000,000 sites"):
        gross_dies_per_wafer(Wafer(300.0), tall_die, offset="die-centered")


def test_many_sizes_are_checked_before_any_count(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Die] = []

    def counting(wafer: Wafer, die: Die, *, offset: object = "optimal") -> int:
        calls.append(die)
        return 0

    monkeypatch.setattr(geometry, "gross_dies_per_wafer", counting)
    with pytest.raises(InvalidParameterError, match=r"50 x 0\.005 mm"):
        gross_dies_per_wafer_many(Wafer(300.0), [10.0, 50.0], [10.0, 0.005], scribe_x_mm=0.0)
    assert calls == []
    with pytest.raises(InvalidParameterError, match="offset"):
        gross_dies_per_wafer_many(Wafer(300.0), [10.0], [10.0], offset="centre")
    with pytest.raises(InvalidParameterError, match="scribe_x_mm"):
        gross_dies_per_wafer_many(Wafer(300.0), [10.0], [10.0], scribe_x_mm=-1.0)


def test_lengths_are_bounded_to_stay_in_floating_point_range() -> None:
    assert MAX_LENGTH_MM == 1e6
    Wafer(MAX_LENGTH_MM, 3.0)
    for make, name in [
        (lambda: Wafer(2e6), "diameter_mm"),
        (lambda: Wafer(1e300), "diameter_mm"),
        (lambda: Die(2e6, 1.0), "width_mm"),
        (lambda: Die(1.0, 2e6), "height_mm"),
        (lambda: Die(1.0, 1.0, 2e6), "scribe_x_mm"),
        (lambda: Die(1.0, 1.0, 0.1, 2e6), "scribe_y_mm"),
        (lambda: Reticle(2e6, 33.0), "field_width_mm"),
        (lambda: Reticle(26.0, 2e6), "field_height_mm"),
    ]:
        with pytest.raises(InvalidParameterError) as info:
            make()
        assert info.value.parameter == name
        assert "1000000" in str(info.value)


def test_far_fixed_offset_is_an_error_not_an_overflow() -> None:
    with pytest.raises(InvalidParameterError, match="die pitches"):
        place_dies(Wafer(300.0), Die(10.0, 10.0), offset=(1e300, 0.0))
    # any offset is equivalent to one inside a cell: a shift by whole pitches counts the same
    near = place_dies(Wafer(300.0), Die(10.0, 10.0), offset=(1.0, 2.0))
    far = place_dies(Wafer(300.0), Die(10.0, 10.0), offset=(1.0 + 1000 * 10.1, 2.0))
    assert near.gross_dies == far.gross_dies


def test_reticle_field_larger_than_the_wafer_is_refused() -> None:
    with pytest.raises(InvalidParameterError) as info:
        place_dies(Wafer(300.0), Die(21.32, 31.22), reticle=Reticle(400.0, 26.0))
    assert info.value.parameter == "reticle"
    assert "at most the wafer diameter, 300 mm" in str(info.value)
    # a field exactly as large as the wafer holds floor((300 + 0.1) / 21.42) = 14 columns
    m = place_dies(Wafer(300.0), Die(21.32, 31.22), reticle=Reticle(300.0, 300.0))
    assert m.dies_per_field == (14, 9)


def test_flat_only_on_wafers_up_to_200_mm() -> None:
    assert MAX_FLAT_WAFER_DIAMETER_MM == 200.0
    # SEMI M1: 57.5 mm primary flat on 150 mm wafers; 200 mm wafers had a flat or a notch
    assert Wafer(150.0, flat_length_mm=57.5).flat_length_mm == 57.5
    assert Wafer(200.0, flat_length_mm=57.5).flat_length_mm == 57.5
    with pytest.raises(InvalidParameterError) as info:
        Wafer(300.0, flat_length_mm=57.5)
    assert info.value.parameter == "flat_length_mm"
    text = str(info.value)
    assert "larger than 200 mm" in text and "notch" in text
    assert "57.5 mm on 150 mm" in text and "None" not in text


def test_no_fit_message_names_the_flat() -> None:
    with pytest.raises(GeometryError, match=r"flat 57\.5 mm"):
        place_dies(Wafer(150.0, flat_length_mm=57.5), Die(140.0, 140.0))


def test_grid_bound_is_finite_arithmetic_for_absurd_inputs() -> None:
    # the smallest and largest accepted lengths together: 1e12 rows, no overflow error
    with pytest.raises(InvalidParameterError, match="rows"):
        gross_dies_per_wafer(Wafer(MAX_LENGTH_MM), Die(MIN_LENGTH_MM, MIN_LENGTH_MM, 0.0))
    assert math.isfinite(MAX_LENGTH_MM / MIN_LENGTH_MM)


@pytest.mark.parametrize(
    "build",
    [
        lambda: Wafer(1e-320, edge_exclusion_mm=0.0),
        lambda: Die(1.0, 1e-320),
        lambda: Die(5e-7, 1.0),
    ],
)
def test_lengths_below_a_nanometre_are_refused(build) -> None:  # type: ignore[no-untyped-def]
    # found by the fuzz suite: subnormal sizes overflowed the grid arithmetic
    with pytest.raises(InvalidParameterError, match=r">= 1e-06 mm"):
        build()
