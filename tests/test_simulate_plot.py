"""plot_simulated_wafer: one simulated wafer, dies coloured good / degraded / bad."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

from waferlab.errors import InvalidParameterError
from waferlab.geometry import Die, Wafer, place_dies
from waferlab.plotting import plot_simulated_wafer
from waferlab.simulate import simulate_wafers


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    die_map = place_dies(Wafer(300.0), Die(21.32, 31.22))
    return simulate_wafers(
        die_map, 0.3, n_wafers=4, harvestable_fraction=0.6, n_blocks=25, max_bad_blocks=2, seed=8
    )


def test_legend_counts_match_the_wafer(result) -> None:  # type: ignore[no-untyped-def]
    for index in range(result.n_wafers):
        ax = plot_simulated_wafer(result, wafer_index=index)
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        good = int(result.good[index].sum())
        degraded = int(result.degraded[index].sum())
        bad = result.n_dies - good - degraded
        assert labels == [f"good: {good}", f"degraded: {degraded}", f"bad: {bad}"]
        # one text label per die with defects
        assert len(ax.texts) == int((result.defect_counts[index] > 0).sum())
        assert ax.get_aspect() == 1.0
        assert f"wafer {index + 1} of 4" in ax.get_title()
        plt.close(ax.figure)


def test_draws_on_given_axes_and_hides_counts(result) -> None:  # type: ignore[no-untyped-def]
    fig, ax = plt.subplots()
    out = plot_simulated_wafer(result, ax=ax, show_counts=False)
    assert out is ax
    assert len(ax.texts) == 0
    # all dies drawn: the collections hold one polygon per die
    assert sum(len(c.get_paths()) for c in ax.collections) == result.n_dies
    plt.close(fig)


def test_die_rectangles_sit_on_the_die_centres(result) -> None:  # type: ignore[no-untyped-def]
    ax = plot_simulated_wafer(result)
    centres = np.concatenate(
        [np.array([p.vertices[:4].mean(axis=0) for p in c.get_paths()]) for c in ax.collections]
    )
    expected = np.stack([result.die_x_mm, result.die_y_mm], axis=1)
    key = np.lexsort(centres.T)
    key_expected = np.lexsort(expected.T)
    np.testing.assert_allclose(centres[key], expected[key_expected], atol=1e-9)
    plt.close(ax.figure)


@pytest.mark.parametrize("bad", [-1, 4, 1.5])
def test_wafer_index_is_validated(result, bad) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidParameterError) as info:
        plot_simulated_wafer(result, wafer_index=bad)
    assert info.value.parameter == "wafer_index"


def test_title_gives_d0_to_four_significant_digits() -> None:
    # CSIS's 20 % on the 910B under Poisson: D0 = -ln(0.2) / 6.6561 cm² = 0.24179... /cm²,
    # written 0.2418 as in the docs and the example's text, not 0.241799.
    import math

    d0 = -math.log(0.2) / 6.6561
    die_map = place_dies(Wafer(300.0), Die(21.32, 31.22))
    ax = plot_simulated_wafer(simulate_wafers(die_map, d0, n_wafers=1, seed=0))
    assert "D0 = 0.2418 /cm², random defects" in ax.get_title()
    plt.close(ax.figure)
