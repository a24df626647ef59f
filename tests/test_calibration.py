"""Calibration: observations, loaders, the csis-2025 dataset and yield-model fits.

Expected values come from the publications (SOURCES.md §1, CSIS report "R")
or from an independent second computation: the closed-form inverse
``defect_density_for_yield`` for one-point fits, a dense grid of the cost for
the global optimum, and parameters chosen before generating synthetic data for
the round trips.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from waferlab.calibration import (
    COUNTS,
    DATASETS,
    CalibrationResult,
    Observation,
    ObservationFileError,
    compare_models,
    fit_yield_model,
    load_dataset,
    load_observations,
    observations_from_csv,
    observations_from_json,
    processes,
    select,
)
from waferlab.errors import CalibrationError, InvalidParameterError, UnknownNameError
from waferlab.output import to_json
from waferlab.yield_models import YIELD_MODELS, defect_density_for_yield, die_yield

D0 = "defect_density_per_cm2"

# Parameters each model needs besides D0 in the tests below.
MODEL_PARAMETERS: dict[str, dict[str, float]] = {
    "negative_binomial": {"alpha": 0.7},
    "bose_einstein": {"n_layers": 4},
    "bose_einstein_per_layer": {"n_layers": 4},
}


def point(name: str, area: float, y: float, process: str = "P") -> Observation:
    return Observation(name, area, y, y, source="test", process=process)


# --------------------------------------------------------------------------- #
# Observation
# --------------------------------------------------------------------------- #


def test_observation_point_interval_and_text() -> None:
    ga100 = point("GA100", 826.0, 0.415)
    assert ga100.is_point and ga100.yield_text == "41.5 %"
    a12 = Observation("A12", 83.27, 0.9, 1.0, source="R")
    assert not a12.is_point and a12.yield_text == "≥ 90 %"
    kirin = Observation("Kirin", 107.0, 0.5, 0.7, source="R", process="P")
    assert kirin.yield_text == "50–70 %"
    assert kirin.counts == "fully-good" and kirin.status == "reported"
    assert Observation(**kirin.to_dict()) == kirin
    assert isinstance(kirin.die_area_mm2, float)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"die_area_mm2": 0.0}, "die_area_mm2"),
        ({"die_area_mm2": math.nan}, "die_area_mm2"),
        ({"die_area_mm2": "100"}, "die_area_mm2"),
        ({"yield_low": -0.1}, "yield_low"),
        ({"yield_low": 0.8, "yield_high": 0.7}, "yield_high"),
        ({"yield_high": 1.2}, "yield_high"),
        ({"counts": "good"}, "counts"),
        ({"status": "rumour"}, "status"),
        ({"name": " "}, "name"),
        ({"process": 7}, "process"),
    ],
)
def test_observation_validation_names_field(changes: dict[str, object], field: str) -> None:
    values: dict[str, object] = {
        "name": "x",
        "die_area_mm2": 100.0,
        "yield_low": 0.5,
        "yield_high": 0.6,
        "source": "s",
    }
    values.update(changes)
    with pytest.raises(InvalidParameterError) as info:
        Observation(**values)  # type: ignore[arg-type]
    assert info.value.parameter == field


def test_observation_is_frozen() -> None:
    obs = point("x", 100.0, 0.5)
    with pytest.raises(AttributeError):
        obs.yield_low = 0.4  # type: ignore[misc]


# --------------------------------------------------------------------------- #
# The built-in dataset (SOURCES.md §1 and §2)
# --------------------------------------------------------------------------- #


def test_dataset_holds_the_published_figures() -> None:
    data = {o.name: o for o in load_dataset("csis-2025")}
    # (area mm², low, high, process, counts, status) as published (SOURCES.md §1, §2).
    expected = {
        "GA100": (826.0, 0.415, 0.415, "TSMC N7", "fully-good", "reported"),
        "A12": (83.27, 0.90, 1.0, "TSMC N7", "fully-good", "reported"),
        "910B": (665.61, 0.20, 0.20, "SMIC N+2", "fully-good", "reported"),
        "Kirin 9000S": (107.0, 0.50, 0.70, "SMIC N+2", "fully-good", "reported"),
        "910B (FT)": (665.61, 0.40, 0.40, "SMIC N+2", "good-or-degraded", "reported"),
        "910B (Morgan Stanley)": (665.61, 0.30, 0.30, "SMIC N+2", "unspecified", "forecast"),
    }
    assert set(data) == set(expected)
    for name, (area, low, high, process, counts, status) in expected.items():
        obs = data[name]
        assert (obs.die_area_mm2, obs.yield_low, obs.yield_high) == (area, low, high), name
        assert (obs.process, obs.counts, obs.status) == (process, counts, status), name
        assert obs.source and obs.note, name
    assert processes(data.values()) == ("TSMC N7", "SMIC N+2")


def test_dataset_file_lists_its_sources() -> None:
    path = Path(__file__).parents[1] / "waferlab" / "data" / DATASETS["csis-2025"]
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert "csis.org" in raw["sources"]["R"]
    for record in raw["observations"]:
        keys = [k.strip() for part in record["source"].split(";") for k in [part.split("(")[0]]]
        assert all(k in raw["sources"] for k in keys), record["name"]


def test_unknown_dataset_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownNameError, match="csis-2025") as info:
        load_dataset("csis-2024")
    assert info.value.parameter == "dataset"


def test_select_defaults_leave_out_degraded_and_forecasts() -> None:
    data = load_dataset("csis-2025")
    assert [o.name for o in select(data)] == ["GA100", "A12", "910B", "Kirin 9000S"]
    assert [o.name for o in select(data, process="TSMC N7")] == ["GA100", "A12"]
    degraded = select(data, process="SMIC N+2", counts="good-or-degraded")
    assert [o.name for o in degraded] == ["910B (FT)"]
    everything = select(data, counts=None, include_forecasts=True)
    assert len(everything) == len(data)
    assert [o.name for o in select(data, names=["A12"])] == ["A12"]


def test_select_errors_list_valid_values() -> None:
    data = load_dataset("csis-2025")
    with pytest.raises(UnknownNameError, match="TSMC N7, SMIC N\\+2") as info:
        select(data, process="TSMC N5")
    assert info.value.parameter == "process"
    with pytest.raises(UnknownNameError, match=", ".join(COUNTS)):
        select(data, counts="good")
    with pytest.raises(UnknownNameError, match="GA100"):
        select(data, names=["H100"])


# --------------------------------------------------------------------------- #
# Loaders
# --------------------------------------------------------------------------- #


def test_csv_loader_points_intervals_and_optional_fields(tmp_path: Path) -> None:
    path = tmp_path / "obs.csv"
    path.write_text(
        "name,die_area_mm2,yield,yield_low,yield_high,process,source,counts\n"
        "GA100,826,0.415,,,TSMC N7,R,\n"
        "A12, 83.27 ,,0.9,1.0,TSMC N7,R,fully-good\n",
        encoding="utf-8",
    )
    ga100, a12 = observations_from_csv(path)
    assert (ga100.yield_low, ga100.yield_high, ga100.process) == (0.415, 0.415, "TSMC N7")
    assert (a12.die_area_mm2, a12.yield_low, a12.yield_high) == (83.27, 0.9, 1.0)
    assert load_observations(path) == (ga100, a12)


def test_json_loader_list_and_object_forms(tmp_path: Path) -> None:
    records = [o.to_dict() for o in load_dataset("csis-2025")]
    as_list = tmp_path / "list.json"
    as_list.write_text(json.dumps(records), encoding="utf-8")
    as_object = tmp_path / "object.json"
    as_object.write_text(json.dumps({"observations": records}), encoding="utf-8")
    assert observations_from_json(as_list) == load_dataset("csis-2025")
    assert load_observations(as_object) == load_dataset("csis-2025")


@pytest.mark.parametrize(
    ("text", "where", "field", "message"),
    [
        ("name,die_area_mm2,yeild\nx,1,0.5\n", "line 2", "yeild", "unknown field"),
        ("name,die_area_mm2,yield\nx,abc,0.5\n", "line 2", "die_area_mm2", "not a number"),
        # The problem is reported against the column the user wrote.
        ("name,die_area_mm2,yield\nx,100,41.5\n", "line 2", "yield", "not percent"),
        (
            "name,die_area_mm2,yield_low,yield_high\nGA100,826,0.4\n",
            "line 2",
            "yield_high",
            "3 values",
        ),
        ("name,die_area_mm2,yield\nx,100,0.5\ny,-3,0.5\n", "line 3", "die_area_mm2", "> 0"),
        ("name,die_area_mm2,yield_low\nx,100,0.5\n", "line 2", "yield_high", "missing"),
        ("name,yield\nx,0.5\n", "line 2", "die_area_mm2", "missing"),
        ("name,die_area_mm2,yield,yield_low\nx,1,0.5,0.4\n", "line 2", "yield", "not both"),
        ("name,die_area_mm2,yield\nx,1,0.5,9\n", "line 2", "", "more values"),
        ("name,die_area_mm2,yield\nx,1,0.5\nx,2,0.5\n", "observation 2", "name", "duplicate"),
        ("name,die_area_mm2,yield\n", "", "", "no observations"),
        ("", "", "", "empty file"),
        ("name,name,yield\nx,1,0.5\n", "line 1", "", "duplicate column"),
        ("name,die_area_mm2,yield,counts\nx,1,0.5,some\n", "line 2", "counts", "fully-good"),
        # no fit can use a yield of 0: said when the file is read, in the user's column
        ("name,die_area_mm2,yield\nx,1,0.5\nA,100,0\n", "line 3", "yield", "yield 0"),
        ("name,die_area_mm2,yield_low,yield_high\nA,100,0,0.1\n", "line 2", "yield_low", "above 0"),
        # an empty yield cell with no interval beside it
        ("name,die_area_mm2,yield,yield_low\nA,100,,\n", "line 2", "yield", "no value"),
        ("name,die_area_mm2,yield,note\nA,100,0.5," + "x" * 200_000 + "\n", "line 2", "", "CSV"),
    ],
)
def test_csv_errors_name_file_row_and_field(
    tmp_path: Path, text: str, where: str, field: str, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ObservationFileError) as info:
        observations_from_csv(path)
    error = info.value
    assert str(path) in str(error) and message in str(error)
    assert (error.row, error.field) == (where, field)
    assert isinstance(error, CalibrationError) and isinstance(error, ValueError)


@pytest.mark.parametrize(
    ("text", "where", "field", "message"),
    [
        ('[{"name": "x", "die_area_mm2": 1,\n "yield": 0.5,}]', "line 2", "", "not valid JSON"),
        ('{"data": []}', "", "observations", "missing"),
        ('{"observations": 3}', "", "observations", "expected a list"),
        ("[]", "", "observations", "no observations"),
        ("[3]", "observation 1", "", "expected an object"),
        (
            '[{"name": "x", "die_area_mm2": true, "yield": 0.5}]',
            "observation 1",
            "die_area_mm2",
            "not a number",
        ),
        (
            '[{"name": "GA100", "die_area_mm2": "826", "yield": 0.415}]',
            "observation 1",
            "die_area_mm2",
            "a string",
        ),
        (
            '[{"name": "GA100", "die_area_mm2": 826, "yield": "0.415"}]',
            "observation 1",
            "yield",
            "expected a number",
        ),
        (
            '[{"name": "x", "die_area_mm2": 1, "yield": 0.5, "colour": 1}]',
            "observation 1",
            "colour",
            "unknown field",
        ),
        (
            '[{"name": "x", "die_area_mm2": 1, "yield_low": 0.6, "yield_high": 0.5}]',
            "observation 1",
            "yield_high",
            "in [0.6, 1]",
        ),
        (
            '[{"name": "A", "die_area_mm2": 100, "yield": null}]',
            "observation 1",
            "yield",
            "no value",
        ),
        ('[{"name": "A", "die_area_mm2": 100, "yield": 0}]', "observation 1", "yield", "above 0"),
        ("[" * 100_000 + "]" * 100_000, "", "", "nested too deeply"),
        ('[{"name": "A", "die_area_mm2": 1' + "0" * 5000 + ', "yield": 0.5}]', "", "", "JSON"),
    ],
)
def test_json_errors_name_file_row_and_field(
    tmp_path: Path, text: str, where: str, field: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ObservationFileError) as info:
        observations_from_json(path)
    assert str(path) in str(info.value) and message in str(info.value)
    assert (info.value.row, info.value.field) == (where, field)


def test_unknown_field_message_lists_every_file_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("name,die_area_mm2,yield,colour\nA,100,0.5,red\n", encoding="utf-8")
    with pytest.raises(ObservationFileError) as info:
        observations_from_csv(path)
    listed = str(info.value).split("valid fields: ")[1].split(", ")
    assert listed[:5] == ["name", "die_area_mm2", "yield", "yield_low", "yield_high"]
    assert {"source", "note", "process", "counts", "status", "date"} <= set(listed)


def test_spreadsheet_csv_utf8_with_byte_order_mark_and_crlf(tmp_path: Path) -> None:
    # What spreadsheets write as "CSV UTF-8": a UTF-8 byte-order mark and CRLF line ends.
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbfname,die_area_mm2,yield,note\r\nA,100,0.5,caf\xc3\xa9\r\n")
    (obs,) = observations_from_csv(path)
    assert (obs.name, obs.die_area_mm2, obs.yield_low, obs.note) == ("A", 100.0, 0.5, "café")
    as_json = tmp_path / "bom.json"
    as_json.write_bytes(b'\xef\xbb\xbf[{"name": "A", "die_area_mm2": 100, "yield": 0.5}]')
    assert observations_from_json(as_json)[0].yield_high == 0.5


@pytest.mark.parametrize(
    ("data", "where", "message"),
    [
        (b"name,die_area_mm2,yield,note\nA,100,0.5,caf\xe9\n", "line 2", "byte 0xe9"),
        ("name,die_area_mm2,yield\nA,100,0.5\n".encode("utf-16"), "", "UTF-16"),
        ("name,die_area_mm2,yield\nA,100,0.5\n".encode("utf-32"), "", "UTF-32"),
    ],
)
@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_text_that_is_not_utf8_is_a_file_error(
    tmp_path: Path, data: bytes, where: str, message: str, suffix: str
) -> None:
    path = (tmp_path / "latin").with_suffix(suffix)
    path.write_bytes(data)
    with pytest.raises(ObservationFileError) as info:
        load_observations(path)
    assert str(path) in str(info.value) and "not UTF-8 text" in str(info.value)
    assert message in str(info.value) and info.value.row == where


def test_load_observations_rejects_other_extensions(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameterError, match=r"\.csv or \.json"):
        load_observations(tmp_path / "obs.txt")
    with pytest.raises(FileNotFoundError):
        load_observations(tmp_path / "missing.csv")


# --------------------------------------------------------------------------- #
# Fits: independent checks
# --------------------------------------------------------------------------- #


def test_implied_d0_of_the_ga100_point() -> None:
    # Issue 3 §7 reference values: 41.5 % at 826 mm² implies D0 = 0.1065 /cm²
    # (Poisson) and 0.1156 /cm² (Murphy); tolerance: the 4 quoted digits.
    ga100 = [point("GA100", 826.0, 0.415)]
    assert fit_yield_model(ga100, "poisson").defect_density_per_cm2 == pytest.approx(
        0.1065, abs=5e-5
    )
    assert fit_yield_model(ga100, "murphy").defect_density_per_cm2 == pytest.approx(
        0.1156, abs=5e-5
    )


@pytest.mark.parametrize("model", sorted(YIELD_MODELS))
@pytest.mark.parametrize("gross_yield", [1.0, 0.85])
def test_one_point_fit_equals_closed_form_inverse(model: str, gross_yield: float) -> None:
    params = {**MODEL_PARAMETERS.get(model, {}), "gross_yield": gross_yield}
    obs = [point("x", 665.61, 0.2)]
    fit = fit_yield_model(obs, model, fixed=params)
    expected = defect_density_for_yield(model, 665.61, 0.2, **params)
    assert fit.defect_density_per_cm2 == pytest.approx(expected, rel=1e-8)
    assert fit.cost == 0.0 and fit.all_met
    assert fit.constraint == "exactly determined" and fit.unique and not fit.testable


@settings(max_examples=25, deadline=None)
@given(
    model=st.sampled_from(sorted(YIELD_MODELS)),
    area=st.floats(1.0, 2000.0),
    y=st.floats(0.005, 0.995),
)
def test_one_point_fit_equals_closed_form_property(model: str, area: float, y: float) -> None:
    params = MODEL_PARAMETERS.get(model, {})
    fit = fit_yield_model([point("x", area, y)], model, fixed=params)
    expected = defect_density_for_yield(model, area, y, **params)
    assert fit.defect_density_per_cm2 == pytest.approx(expected, rel=1e-7)


def test_gross_yield_alone_with_fixed_d0_matches_closed_form() -> None:
    # With D0 fixed, Y0 = y / Y_model(λ): the Poisson case is y · e^λ.
    fit = fit_yield_model([point("x", 200.0, 0.5)], "poisson", free="gross_yield", fixed={D0: 0.2})
    assert fit.parameters["gross_yield"] == pytest.approx(0.5 * math.exp(0.2 * 2.0), rel=1e-8)


def test_fit_finds_the_global_optimum_of_an_inconsistent_set() -> None:
    # Three points no Poisson curve with a gross yield can meet: the fitted cost
    # must not exceed the minimum of the same cost over a dense grid.
    obs = [point("a", 100.0, 0.9), point("b", 400.0, 0.45), point("c", 800.0, 0.4)]
    fit = fit_yield_model(obs, "poisson", free=(D0, "gross_yield"))
    d0 = np.geomspace(1e-3, 1.0, 600)[:, None]
    y0 = np.linspace(0.3, 1.0, 600)[None, :]
    areas = np.array([o.die_area_mm2 for o in obs])
    targets = np.array([o.yield_low for o in obs])
    pred = die_yield("poisson", areas[:, None, None], d0[None], gross_yield=y0[None])
    grid_cost = np.sum(np.log(pred / targets[:, None, None]) ** 2, axis=0)
    assert fit.cost > 1e-3
    assert fit.cost <= grid_cost.min() + 1e-9
    assert fit.constraint == "over-determined" and not fit.all_met


def test_round_trip_murphy_d0_and_gross_yield() -> None:
    # Synthetic data from D0 = 0.15 /cm², Y0 = 0.9 with 0.5 % multiplicative
    # noise: the fit recovers both within a few noise widths.
    rng = np.random.default_rng(7)
    areas = np.linspace(50.0, 800.0, 9)
    truth = die_yield("murphy", areas, 0.15, gross_yield=0.9)
    noisy = truth * np.exp(rng.normal(0.0, 0.005, areas.size))
    obs = [point(f"d{k}", a, float(y)) for k, (a, y) in enumerate(zip(areas, noisy, strict=True))]
    fit = fit_yield_model(obs, "murphy", free=(D0, "gross_yield"))
    assert fit.parameters[D0] == pytest.approx(0.15, rel=0.03)
    assert fit.parameters["gross_yield"] == pytest.approx(0.9, rel=0.01)
    assert fit.constraint == "over-determined" and fit.testable


def test_round_trip_negative_binomial_d0_and_alpha() -> None:
    rng = np.random.default_rng(11)
    areas = np.geomspace(20.0, 1500.0, 10)
    truth = die_yield("negative_binomial", areas, 0.4, alpha=1.5)
    noisy = truth * np.exp(rng.normal(0.0, 0.002, areas.size))
    obs = [point(f"d{k}", a, float(y)) for k, (a, y) in enumerate(zip(areas, noisy, strict=True))]
    fit = fit_yield_model(obs, "negative_binomial", free=(D0, "alpha"))
    assert fit.parameters[D0] == pytest.approx(0.4, rel=0.03)
    assert fit.parameters["alpha"] == pytest.approx(1.5, rel=0.1)


def test_round_trip_intervals_contain_the_truth() -> None:
    # Intervals ±3 % around a Seeds curve: the fit meets all of them at zero cost.
    areas = np.array([80.0, 300.0, 700.0])
    truth = die_yield("seeds", areas, 0.3)
    obs = [
        Observation(f"d{k}", a, 0.97 * y, 1.03 * y, source="t")
        for k, (a, y) in enumerate(zip(areas, truth, strict=True))
    ]
    fit = fit_yield_model(obs, "seeds")
    assert fit.cost == 0.0 and fit.all_met
    low = max(
        defect_density_for_yield("seeds", a, 1.03 * y) for a, y in zip(areas, truth, strict=True)
    )
    high = min(
        defect_density_for_yield("seeds", a, 0.97 * y) for a, y in zip(areas, truth, strict=True)
    )
    assert low <= fit.defect_density_per_cm2 <= high


def test_result_parameters_feed_die_yield_and_serialise() -> None:
    kirin = Observation("Kirin", 107.0, 0.5, 0.7, source="R", process="P")
    fit = fit_yield_model(
        [point("910B", 665.61, 0.2), kirin], "negative_binomial", free=(D0, "alpha")
    )
    assert isinstance(fit, CalibrationResult)
    for obs, pred in zip(fit.observations, fit.predictions, strict=True):
        assert die_yield(fit.model, obs.die_area_mm2, **fit.parameters) == pytest.approx(pred)
    assert fit.predict(665.61) == pytest.approx(fit.predictions[0])
    data = json.loads(to_json(fit))
    assert data["model"] == "negative_binomial" and data["free"] == [D0, "alpha"]
    assert set(data["parameters"]) == {D0, "alpha", "gross_yield"}
    assert data["observations"][1]["prediction"] == pytest.approx(fit.predictions[1])
    assert "Negative binomial, D0 = " in fit.label() and "α = " in fit.label()
    assert "Kirin" in fit.table()


def test_met_uses_the_stated_tolerance() -> None:
    # Poisson with D0 fixed, Y0 free: a point at 0.8·e^-λ and an interval starting
    # at 0.8·e^-λ·e^0.024. log Y is linear in log Y0, so the least-squares
    # compromise misses each by exactly 0.012 in log-yield.
    y = 0.8 * math.exp(-0.1)
    a = Observation("a", 100.0, y, y, source="t")
    b = Observation("b", 100.0, y * math.exp(0.024), 1.0, source="t")
    loose = fit_yield_model(
        [a, b], "poisson", free="gross_yield", fixed={D0: 0.1}, tolerance=0.0125
    )
    assert loose.residuals == pytest.approx((0.012, -0.012), abs=1e-9)
    assert loose.met == (True, True)
    strict = fit_yield_model(
        [a, b], "poisson", free="gross_yield", fixed={D0: 0.1}, tolerance=0.0115
    )
    assert strict.met == (False, False)


def test_constraint_flags() -> None:
    smic = select(load_dataset("csis-2025"), process="SMIC N+2")
    over = fit_yield_model(smic, "poisson")
    assert over.constraint == "over-determined" and over.n_constraining == 2
    under = fit_yield_model(smic, "poisson", free=(D0, "gross_yield"))
    assert under.all_met and under.constraint == "under-determined"
    assert not under.unique and not under.testable
    assert "under-determined" in under.constraint_note
    # Of the family of exact fits, the one returned keeps the interval
    # observation (50–70 %) away from its bounds.
    kirin = under.predictions[1]
    assert 0.5 * 1.05 < kirin < 0.7 / 1.05


# --------------------------------------------------------------------------- #
# Fits: errors
# --------------------------------------------------------------------------- #


def test_fit_rejects_bad_arguments() -> None:
    obs = [point("a", 100.0, 0.8), point("b", 400.0, 0.5)]
    with pytest.raises(UnknownNameError, match="poisson"):
        fit_yield_model(obs, "gauss")
    with pytest.raises(InvalidParameterError, match="free") as info:
        fit_yield_model(obs, "poisson", free=("alpha",))
    assert info.value.parameter == "free"
    with pytest.raises(InvalidParameterError, match="not also fixed"):
        fit_yield_model(obs, "poisson", free=("gross_yield",), fixed={"gross_yield": 0.9, D0: 1})
    with pytest.raises(InvalidParameterError, match="distinct"):
        fit_yield_model(obs, "poisson", free=(D0, D0))
    with pytest.raises(InvalidParameterError, match="at least one"):
        fit_yield_model(obs, "poisson", free=())
    with pytest.raises(UnknownNameError, match="critical_area_fraction"):
        fit_yield_model(obs, "poisson", fixed={"n_layers": 3})
    with pytest.raises(InvalidParameterError, match="n_layers"):
        fit_yield_model(obs, "bose_einstein")
    with pytest.raises(InvalidParameterError, match="alpha"):
        fit_yield_model(obs, "negative_binomial", fixed={"alpha": -1.0})
    with pytest.raises(InvalidParameterError, match="defect_density_per_cm2"):
        fit_yield_model(obs, "poisson", free="gross_yield")
    with pytest.raises(InvalidParameterError, match="tolerance"):
        fit_yield_model(obs, "poisson", tolerance=-0.1)
    with pytest.raises(InvalidParameterError, match="non-empty"):
        fit_yield_model([], "poisson")
    with pytest.raises(InvalidParameterError, match="yield_low"):
        fit_yield_model([Observation("z", 1.0, 0.0, 0.5, source="t")], "poisson")


def test_fit_refuses_underdetermined_and_mixed_sets() -> None:
    with pytest.raises(CalibrationError, match=r"3 free parameters .* only 2 observations"):
        fit_yield_model(
            [point("a", 100.0, 0.8), point("b", 400.0, 0.5)],
            "negative_binomial",
            free=(D0, "gross_yield", "alpha"),
        )
    data = load_dataset("csis-2025")
    with pytest.raises(CalibrationError, match="more than one process"):
        fit_yield_model(select(data), "poisson")
    smic_all = select(data, process="SMIC N+2", counts=None)
    with pytest.raises(CalibrationError, match="different ways"):
        fit_yield_model(smic_all, "poisson")


def test_constraint_counts_a_parameter_held_at_its_bound_as_fixed() -> None:
    # TSMC under Seeds: no gross yield helps (Y0 would have to exceed 1), so the
    # D0 + Y0 fit ends on Y0 = 1 and misses like the D0-only fit: it is a test
    # of the model that the model fails, not an exactly determined fit.
    tsmc = select(load_dataset("csis-2025"), process="TSMC N7")
    d0_only = fit_yield_model(tsmc, "seeds")
    both = fit_yield_model(tsmc, "seeds", free=(D0, "gross_yield"))
    assert both.parameters["gross_yield"] == pytest.approx(1.0, abs=1e-9)
    assert both.cost == pytest.approx(d0_only.cost, rel=1e-6) and both.cost > 0.0
    assert d0_only.constraint == both.constraint == "over-determined"
    assert "gross_yield held at its search bound" in both.constraint_note


def test_comparison_splits_fitted_and_held_out_met() -> None:
    data = load_dataset("csis-2025")
    ga100, a12 = select(data, names=["GA100"]), select(data, names=["A12"])
    comparison = compare_models(ga100, models=["poisson", "seeds"], held_out=a12)
    lines = comparison.table().splitlines()
    header = re.split(r"\s{2,}", lines[2])
    assert header[-4:] == ["fit met", "held-out met", "constraint", "cost"]
    cells = {line.split()[0] + line.split()[1]: re.split(r"\s{2,}", line) for line in lines[5:]}
    # Seeds from the GA100 alone: 1/(1 + λ) with λ = 1/0.415 − 1 at 826 mm²,
    # scaled to 83.27 mm², gives 87.6 % < 90 % for the A12: fitted point met,
    # held-out A12 not. Poisson: exp(ln(0.415) · 83.27/826) = 91.5 % meets it.
    lam_a12 = (1 / 0.415 - 1) * 83.27 / 826.0
    assert 1 / (1 + lam_a12) < 0.9 < 0.415 ** (83.27 / 826.0)
    assert cells["seedsD0"][-4:-1] == ["yes", "no", "exactly determined"]
    assert cells["poissonD0"][-4:-1] == ["yes", "yes", "exactly determined"]
    rows = {r["model"]: r for r in comparison.rows() if r["free"] == [D0]}
    assert rows["seeds"]["all_met"] and rows["seeds"]["held_out_met"] is False
    assert rows["poisson"]["held_out_met"] is True
    assert rows["seeds"]["constraint"] == "exactly determined"
    alone = compare_models(ga100, models=["poisson"])
    assert alone.rows()[0]["held_out_met"] is None
    assert "held-out met" not in alone.table()


def test_fit_recovers_a_known_per_layer_density() -> None:
    # Synthetic yields written out from (1 + A·D_layer)^-n with D_layer = 0.08 /cm²,
    # n = 8 and Y0 = 0.9, chosen before fitting: 0.9 · (1 + A/100 · 0.08)^-8.
    d_layer, n, y0 = 0.08, 8, 0.9
    obs = [point(f"a{a:g}", a, y0 * (1 + a / 100 * d_layer) ** -n) for a in (50.0, 300.0, 800.0)]
    fit = fit_yield_model(
        obs, "bose_einstein_per_layer", free=(D0, "gross_yield"), fixed={"n_layers": n}
    )
    assert fit.parameters[D0] == pytest.approx(d_layer, rel=1e-7)
    assert fit.parameters["gross_yield"] == pytest.approx(y0, rel=1e-7)
    assert fit.all_met and fit.constraint == "over-determined"
    assert fit.label() == "Bose–Einstein (per layer), D_layer = 0.08 /cm², n = 8, Y0 = 0.9"
    # the same yields under bose_einstein (total density) need D0 = n·D_layer
    total = fit_yield_model(obs, "bose_einstein", free=(D0, "gross_yield"), fixed={"n_layers": n})
    assert total.parameters[D0] == pytest.approx(n * d_layer, rel=1e-7)
    assert total.label().startswith("Bose–Einstein, D0 = 0.64 /cm²")


def test_compare_models_skips_the_restated_model_unless_named() -> None:
    from waferlab.calibration import default_comparison_models

    names = default_comparison_models()
    assert "bose_einstein_per_layer" not in names
    assert names == tuple(n for n in YIELD_MODELS if n != "bose_einstein_per_layer")
    obs = [point("a", 100.0, 1.1**-10), point("b", 400.0, 1.4**-10)]  # D_layer = 0.1, n = 10
    default = compare_models(obs, free_sets=[(D0,)])
    assert "bose_einstein_per_layer" not in {r.model for r in default.results}
    assert "bose_einstein" in {r.model for r in default.results}
    named = compare_models(obs, models=["bose_einstein", "bose_einstein_per_layer"])
    per_layer = named.find("bose_einstein_per_layer", n_layers=10)
    total = named.find("bose_einstein", n_layers=10)
    assert per_layer.parameters[D0] == pytest.approx(0.1, rel=1e-8) and per_layer.all_met
    assert total.parameters[D0] == pytest.approx(1.0, rel=1e-8)
    assert "D_layer" in named.table()


def test_comparison_title_names_a_way_of_counting_other_than_fully_good() -> None:
    data = load_dataset("csis-2025")
    ft = select(data, process="SMIC N+2", counts="good-or-degraded")
    comparison = compare_models(ft, models=["seeds"])
    assert comparison.counts == "good-or-degraded"
    assert comparison.table().startswith("SMIC N+2 (good-or-degraded yields): fitted to 910B (FT)")
    assert comparison.to_dict()["counts"] == "good-or-degraded"
