"""plot_yield_curves: curves, observations, legend labels, axes and errors.

The curves' y data are compared with ``die_yield`` evaluated independently
at the plotted areas.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.ticker import PercentFormatter

from waferlab.calibration import Observation, fit_yield_model, load_dataset, select
from waferlab.errors import InvalidParameterError, UnknownNameError
from waferlab.plotting import plot_yield_curves
from waferlab.yield_models import die_yield

D0 = "defect_density_per_cm2"
DATA = load_dataset("csis-2025")
SMIC_ALL = select(DATA, process="SMIC N+2", counts=None, include_forecasts=True)


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


def test_curves_follow_the_models_and_legend_names_parameters() -> None:
    fit = fit_yield_model(select(DATA, process="TSMC N7")[:1], "murphy")
    ax = plot_yield_curves(
        [fit, ("negative_binomial", {D0: 0.5, "alpha": 1.5, "gross_yield": 0.9})],
        die_area_mm2=(10.0, 900.0),
    )
    assert isinstance(ax, Axes)
    murphy_line, nb_line = ax.get_lines()[:2]
    x = np.asarray(murphy_line.get_xdata(), dtype=float)
    assert x[0] == 10.0 and x[-1] == 900.0
    np.testing.assert_allclose(
        murphy_line.get_ydata(), 100 * die_yield("murphy", x, fit.defect_density_per_cm2)
    )
    np.testing.assert_allclose(
        nb_line.get_ydata(),
        100 * die_yield("negative_binomial", x, 0.5, alpha=1.5, gross_yield=0.9),
    )
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0] == f"TSMC N7: Murphy, D0 = {fit.defect_density_per_cm2:.3g} /cm²"
    assert labels[1] == "Negative binomial, D0 = 0.5 /cm², α = 1.5, Y0 = 0.9"
    assert ax.get_xlabel() == "Die area [mm²]" and ax.get_ylabel() == "Die yield"
    assert isinstance(ax.yaxis.get_major_formatter(), PercentFormatter)
    assert ax.get_ylim() == (0.0, 102.0)


def test_observations_drawn_and_labelled() -> None:
    ax = plot_yield_curves([("seeds", {D0: 0.6})], observations=SMIC_ALL)
    texts = [t.get_text() for t in ax.texts]
    assert texts == [
        "910B (20 %)",
        "Kirin 9000S (50–70 %)",
        "910B (FT) (40 %)",
        "910B (Morgan Stanley) (30 %)",
    ]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "published yield" in legend and "published range" in legend
    assert "published yield (degraded or forecast)" in legend
    # Default area range covers the largest die with a margin, from 0.
    low, high = ax.get_xlim()
    assert low == 0.0 and high == pytest.approx(1.15 * 665.61)


def test_log_area_axis_and_explicit_areas() -> None:
    ax = plot_yield_curves(
        [("poisson", {D0: 0.1})], observations=select(DATA, process="TSMC N7"), log_area=True
    )
    assert ax.get_xscale() == "log"
    assert ax.get_xlim()[0] == pytest.approx(0.5 * 83.27)
    areas = [50.0, 100.0, 200.0, 400.0]
    ax = plot_yield_curves([("poisson", {D0: 0.1})], die_area_mm2=areas)
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), areas)


def test_draws_on_given_axes_and_observations_only() -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2)
    out = plot_yield_curves([], observations=SMIC_ALL[:2], ax=axes[1])
    assert out is axes[1] and not axes[0].lines
    plt.close(fig)


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"models": ["poisson"]}, "models"),
        ({"models": [("poisson", 0.1)]}, "models"),
        ({"models": []}, "models"),
        ({"models": [("poisson", {D0: 0.1})], "die_area_mm2": (100.0, 10.0)}, "die_area_mm2"),
        ({"models": [("poisson", {D0: 0.1})], "die_area_mm2": [5.0]}, "die_area_mm2"),
        (
            {"models": [("poisson", {D0: 0.1})], "die_area_mm2": (0.0, 10.0), "log_area": True},
            "die_area_mm2",
        ),
        ({"models": [("poisson", {D0: 0.1})], "observations": ["A12"]}, "observations"),
    ],
)
def test_errors(kwargs: dict[str, object], parameter: str) -> None:
    models = kwargs.pop("models")
    with pytest.raises(InvalidParameterError) as info:
        plot_yield_curves(models, **kwargs)  # type: ignore[arg-type]
    assert info.value.parameter == parameter


def test_unknown_model_name() -> None:
    with pytest.raises(UnknownNameError):
        plot_yield_curves([("gauss", {D0: 0.1})])


def test_observation_without_models_keeps_point_style() -> None:
    obs = Observation("x", 100.0, 0.5, 0.5, source="t")
    ax = plot_yield_curves([], observations=[obs])
    (line,) = ax.get_lines()
    assert line.get_marker() == "o"


def test_observation_labels_do_not_overlap() -> None:
    # GA100 (826 mm², 41.5 %) and the FT's 910B (665.61 mm², 40 %) sit close together;
    # their labels must still not overlap on the canvas.
    observations = load_dataset("csis-2025")
    ax = plot_yield_curves([], observations=observations)
    renderer = ax.figure.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in ax.texts]
    assert len(boxes) == len(observations)
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b)


def test_calibrated_curves_name_their_process() -> None:
    observations = load_dataset("csis-2025")
    smic = select(observations, process="SMIC N+2")
    ax = plot_yield_curves([fit_yield_model(smic, "seeds")])
    assert ax.get_legend().get_texts()[0].get_text().startswith("SMIC N+2: Seeds")


def test_coincident_curves_stay_distinguishable() -> None:
    # NB with α = 1 is Seeds' formula (1 + λ/α)^−α = 1/(1 + λ); α = 0.98 is
    # within a fraction of a point of it everywhere. Poisson with Y0 = 1 fitted
    # as D0 + Y0 is the D0-only Poisson curve itself.
    models = [
        ("seeds", {"defect_density_per_cm2": 0.6}),
        ("negative_binomial", {"defect_density_per_cm2": 0.61, "alpha": 0.98}),
        ("poisson", {"defect_density_per_cm2": 0.2}),
        ("poisson", {"defect_density_per_cm2": 0.2, "gross_yield": 1.0}),
    ]
    area = np.linspace(1.0, 800.0, 400)
    gap = np.abs(
        die_yield("seeds", area, 0.6) - die_yield("negative_binomial", area, 0.61, alpha=0.98)
    )
    assert 100.0 * gap.max() < 0.5
    ax = plot_yield_curves(models, die_area_mm2=(1.0, 800.0))
    curves = [line for line in ax.get_lines() if len(line.get_xdata()) > 2]
    assert len(curves) == 3  # the duplicate Poisson curve is dropped
    seeds, nb, _ = curves
    assert seeds.get_linestyle() == "-" and nb.get_linestyle() != "-"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(text.endswith("(dashed: on Seeds)") for text in legend)
