"""The uncertainty and analysis library on the month-by-month engine and scenario files.

Expected figures are worked by hand from the published chains (CSIS 2025, Allen;
BIS 2025; SemiAnalysis Sep 2025) or come from a second computation (cost_breakdown
on single draws, a plain loop over draws, closed forms).
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import numpy as np
import pytest
from _scenario_files import CALIBRATED_FILE

from waferlab.analysis import (
    attribute_funnels,
    by_period,
    crossovers,
    effective_inputs,
    funnel_model,
    scenario_model,
    solve,
)
from waferlab.economics import CostInputs, cost_breakdown, cost_per_tested_unit_usd
from waferlab.errors import InvalidParameterError, ScenarioError
from waferlab.funnel import FunnelInputs, run_funnel, run_timeline
from waferlab.scenarios import list_scenarios, load_scenario
from waferlab.timeline import Learning, from_spec_draws, learning_series, logistic
from waferlab.uncertainty import Discrete, Uniform, run_uncertainty, tornado
from waferlab.yield_models import die_yield

CSIS = {
    "wafer_starts_per_month": 50_000,
    "gross_dies_per_wafer": 80,
    "die_yield": 0.2,
    "dies_per_package": 2,
    "hbm_stacks_per_package": 8,
    "packaging_yield": 0.75,
}


def _total(y: np.ndarray) -> np.ndarray:
    return y.sum(axis=1)


# --------------------------------------------------------------------------- vectorised cost


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"months": 12, "die_bank_dies": 2_900_000, "hbm_stock_stacks": 1e6},
        {"months": 6, "packaging_capacity_per_month": 150_000.0, "test_yield": 0.9},
        {"months": 4, "fab_cycle_time_months": 1, "packaging_cycle_time_months": 1},
        {"months": 3, "packaging_yield": np.array([[0.5, 0.75, 0.9]])},
    ],
)
def test_vectorised_cost_matches_cost_breakdown_draw_by_draw(changes: dict) -> None:  # type: ignore[type-arg]
    die_yields = np.array([0.1, 0.2, 0.4])
    wafer_costs = np.array([13_084.0, 13_552.0, 14_019.0])
    inputs = FunnelInputs(**{**CSIS, **changes, "die_yield": die_yields})
    costs = {
        "wafer_cost_usd": wafer_costs,
        "hbm_cost_usd_per_stack": 300.0,
        "packaging_cost_usd_per_package": 1_150.0,
        "test_cost_usd_per_unit": 80.0,
        "die_bank_cost_usd_per_die": 500.0,
    }
    vectorised = cost_per_tested_unit_usd(run_timeline(inputs), costs)
    for i in range(3):  # the second method: the scalar cost ladder, one draw at a time
        one = FunnelInputs(**{**CSIS, **changes, "die_yield": float(die_yields[i])})
        single = {**costs, "wafer_cost_usd": float(wafer_costs[i])}
        expected = cost_breakdown(run_funnel(one), CostInputs(**single)).cost_per_tested_unit_usd
        assert vectorised[i] == pytest.approx(expected, rel=1e-12)


def test_vectorised_cost_by_hand_and_without_units() -> None:
    # CSIS chain: $13,552 / (80 x 0.2) = $847 a good die; 2 dies + 8 x $300 + $1,150 = $5,244
    # a package; / 0.75 = $6,992; + $80 test = $7,072 (CSIS 2025 preset, docs/economics.md)
    inputs = FunnelInputs(**{**CSIS, "die_yield": np.array([0.2, 0.0])})
    costs = CostInputs(13_552, 300, 1_150, 80)
    cost = cost_per_tested_unit_usd(run_timeline(inputs), costs)
    assert cost[0] == pytest.approx(7_072.0, rel=1e-12)
    assert math.isinf(cost[1])  # no unit finished: no cost per unit
    with pytest.raises(InvalidParameterError, match="wafer_cost_usd"):
        cost_per_tested_unit_usd(run_timeline(inputs), {"hbm_cost_usd_per_stack": 300})


# --------------------------------------------------------------------------- the adapter


def test_funnel_model_runs_all_draws_in_one_engine_call_like_a_loop() -> None:
    base = FunnelInputs(**{**CSIS, "months": 6, "start_month": "2025-01"})
    f = funnel_model(base, CostInputs(13_552, 300, 1_150, 80))
    x = {
        "die_yield": np.array([0.15, 0.2, 0.4]),
        "wafer_starts_per_month": np.array([20_000.0, 35_000.0, 50_000.0]),
        "packaging_cost_usd_per_package": np.array([300.0, 1_150.0, 2_000.0]),
    }
    y = f(x)
    assert y["final_units"].shape == (3, 6)
    assert y["cost_per_tested_unit_usd"].shape == (3,)
    assert y["binding_constraint"].tolist() == [["none"] * 6] * 3
    for i in range(3):  # a plain loop over draws, one engine run each
        one = base.replace(
            die_yield=float(x["die_yield"][i]),
            wafer_starts_per_month=float(x["wafer_starts_per_month"][i]),
        )
        np.testing.assert_allclose(y["final_units"][i], run_timeline(one).final_units[0])
        costs = CostInputs(13_552, 300, float(x["packaging_cost_usd_per_package"][i]), 80)
        expected = cost_breakdown(run_funnel(one), costs).cost_per_tested_unit_usd
        assert y["cost_per_tested_unit_usd"][i] == pytest.approx(expected, rel=1e-12)


def test_funnel_model_groups_draws_by_yield_model() -> None:
    base = FunnelInputs(
        wafer_starts_per_month=1_000,
        gross_dies_per_wafer=80,
        die_area_mm2=665.61,
        defect_density_per_cm2=0.2,
        yield_model="negative_binomial",
        yield_model_parameters={"alpha": 2.0},
    )
    f = funnel_model(base, outputs=["good_dies"])
    d0 = np.array([0.1, 0.2, 0.3, 0.4])
    models = np.array(["poisson", "murphy", "negative_binomial", "poisson"])
    good = f({"yield_model": models, "defect_density_per_cm2": d0})["good_dies"][:, 0]
    for i in range(4):  # each by its own model (alpha only where the model takes it)
        params = {"alpha": 2.0} if models[i] == "negative_binomial" else {}
        expected = 80_000 * die_yield(str(models[i]), 665.61, float(d0[i]), **params)
        assert good[i] == pytest.approx(expected, rel=1e-12)


def test_funnel_model_draws_numbers_of_timeline_entries() -> None:
    spec = {"shape": "logistic", "start": 20_000, "end": 50_000,
            "midpoint_month": "2025-07", "months_10_to_90": 6}  # fmt: skip
    base = FunnelInputs(
        wafer_starts_per_month=logistic(**{k: v for k, v in spec.items() if k != "shape"},
                                        start_month="2025-01", months=12),
        months=12, start_month="2025-01", gross_dies_per_wafer=80, die_yield=0.2,
    )  # fmt: skip
    f = funnel_model(base, timeline={"wafer_starts_per_month": spec}, outputs=["wafer_starts"])
    ends = np.array([40_000.0, 80_000.0])
    starts = f({"wafer_starts_per_month.end": ends})["wafer_starts"]
    for i, end in enumerate(ends):  # the scalar logistic with that end
        expected = logistic(start=20_000, end=end, midpoint_month="2025-07", months_10_to_90=6,
                            start_month="2025-01", months=12)  # fmt: skip
        np.testing.assert_allclose(starts[i], expected[0], rtol=1e-12)
    with pytest.raises(InvalidParameterError, match="midpoint_month"):
        f({"wafer_starts_per_month.midpoint_month": np.array([1.0, 2.0])})


def test_learning_law_numbers_as_draws_equal_the_scalar_law() -> None:
    starts = np.full((1, 24), 50_000.0)
    taus = np.array([6.0, 12.0, 48.0])
    exponents = np.array([0.2, 0.5, 0.8])
    exp_draws = learning_series("exponential", starts, start=0.24, floor=0.08,
                                time_constant_months=taus)  # fmt: skip
    wright_draws = learning_series("wright", starts, start=0.24, exponent=exponents)
    for i in range(3):
        law = Learning("exponential", start=0.24, floor=0.08, time_constant_months=taus[i])
        np.testing.assert_allclose(exp_draws[i], law.evaluate(starts)[0], rtol=1e-14)
        # by hand: D0(t) = 0.08 + 0.16 exp(-t / tau)
        assert exp_draws[i, 12] == pytest.approx(0.08 + 0.16 * math.exp(-12 / taus[i]))
        law = Learning("wright", start=0.24, exponent=exponents[i])
        np.testing.assert_allclose(wright_draws[i], law.evaluate(starts)[0], rtol=1e-14)
    # dated points: the series is linear in each point's value
    points = {"2025-01": 20_000, "2025-12": 50_000}
    drawn = from_spec_draws("w", points, {"2025-12": np.array([40_000.0])},
                            start_month="2025-01", months=12)  # fmt: skip
    assert drawn[0].tolist() == pytest.approx(np.linspace(20_000, 40_000, 12).tolist())


# --------------------------------------------------------------------------- scenario files


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_every_preset_runs_under_uncertainty() -> None:
    for name in list_scenarios():
        scenario = load_scenario(name)
        distributions = scenario.input_distributions()
        assert distributions, name  # every preset states its ranges
        f = scenario_model(scenario)
        result = run_uncertainty(f, distributions, 64, seed=1, method="lhs")
        q = result.quantiles("final_units", cumulative=True)
        assert np.all(q["p5"] <= q["p50"]) and np.all(q["p50"] <= q["p95"])


def test_distribution_forms_sources_inheritance_and_set(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        name = "mine"
        description = "d"
        inherits = "csis-2025-smic-target"
        [parameters]
        packaging_yield = 0.8
        [distributions]
        die_yield = { uniform = { low = 0.2, high = 0.4 } }
        test_yield = { uniform = { low = 0.9, high = 1.0 } }
        [[correlations]]
        inputs = ["die_yield", "test_yield"]
        spearman = 0.5
        [sources]
        "distributions.die_yield" = "my range"
        """,
    )
    s = load_scenario(path)
    # the child's die_yield replaces the parent's; packaging_yield is set here, so the
    # parent's range around its 75 % is dropped; the wafer-starts range is inherited
    assert s.input_distributions()["die_yield"].median == pytest.approx(0.3)
    assert "packaging_yield" not in s.distributions
    assert "wafer_starts_per_month" in s.distributions
    assert s.sources["distributions.die_yield"] == "my range"
    assert s.sources["distributions.test_yield"] == "no source given"
    assert s.input_correlations() == [("die_yield", "test_yield", 0.5)]
    # --set fixes a value: its distribution and the correlations naming it go
    fixed = s.set_parameter("die_yield", 0.25)
    assert "die_yield" not in fixed.distributions
    assert fixed.correlations == []
    assert "distributions.die_yield" not in fixed.sources


@pytest.mark.parametrize(
    ("table", "needle"),
    [
        (
            'die_yield = { uniform = { low = 0.2, high = 1.4 }, out_of_range = "reject" }',
            "die_yield",
        ),
        ("dies_per_package = { uniform = { low = 1, high = 3 } }", "cannot carry a distribution"),
        ("wafer_starts = { uniform = { low = 1, high = 3 } }", "unknown input 'wafer_starts'"),
        ("die_yield = { beta = { a = 1 } }", "unknown distribution 'beta'; one of lognormal"),
        ('"die_yield.end" = { uniform = { low = 0.2, high = 0.3 } }', "no [timeline] entry"),
        ("die_yield = 3", "must be a table"),
        ('yield_model = { discrete = { values = ["poisson", "murphy"] } }', "not used"),
    ],
)
def test_bad_distributions_name_the_file_and_key(tmp_path: Path, table: str, needle: str) -> None:
    path = _write(
        tmp_path,
        f"""
        name = "bad"
        description = "d"
        inherits = "csis-2025-smic-target"
        [distributions]
        {table}
        """,
    )
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    assert str(path) in str(err.value)
    assert needle in str(err.value)


def test_bad_correlations_and_orphan_sources_are_errors(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        name = "bad"
        description = "d"
        inherits = "csis-2025-smic-target"
        [[correlations]]
        inputs = ["die_yield", "months"]
        spearman = 0.5
        """,
    )
    with pytest.raises(ScenarioError, match=r"correlations\[0\].inputs"):
        load_scenario(path)
    path = _write(
        tmp_path,
        """
        name = "bad"
        description = "d"
        inherits = "csis-2025-smic-target"
        [sources]
        "distributions.test_yield" = "x"
        """,
    )
    with pytest.raises(ScenarioError, match="no 'test_yield'"):
        load_scenario(path)


def test_a_yield_distribution_must_act_on_the_yield_used(tmp_path: Path) -> None:
    path = _write(tmp_path, """
        name = "bad"
        description = "d"
        inherits = "tsmc-n7-counterfactual"
        [distributions]
        die_yield = { uniform = { low = 0.4, high = 0.5 } }
        """)  # fmt: skip
    with pytest.raises(ScenarioError, match="put the distribution on defect_density_per_cm2"):
        load_scenario(path)


def test_yield_model_names_are_checked(tmp_path: Path) -> None:
    path = _write(tmp_path, """
        name = "bad"
        description = "d"
        inherits = "tsmc-n7-counterfactual"
        [distributions]
        yield_model = { discrete = { values = ["murphy", "nope"] } }
        yield_model_parameters.gross_yield = { uniform = { low = 0.9, high = 1.0 } }
        """)  # fmt: skip
    with pytest.raises(ScenarioError, match="'nope' is not a yield model"):
        load_scenario(path)
    path.write_text(path.read_text().replace('"nope"', '"poisson"'), encoding="utf-8")
    scenario = load_scenario(path)
    f = scenario_model(scenario, outputs=["good_dies"])
    r = run_uncertainty(f, scenario.input_distributions(), 64, seed=0)
    murphy = r.inputs["yield_model"] == "murphy"
    assert 0 < murphy.sum() < 64  # both models drawn, each run by its own formula
    lam = r.inputs["defect_density_per_cm2"] * 21.32 * 31.22 / 100  # its D0 range is drawn too
    g = r.inputs["yield_model_parameters.gross_yield"]
    expected = np.where(murphy, ((1 - np.exp(-lam)) / lam) ** 2, np.exp(-lam)) * g * 4_000_000
    np.testing.assert_allclose(r.outputs["good_dies"][:, 0], expected, rtol=1e-12)


def test_the_scenario_file_example_in_the_docs_loads(tmp_path: Path) -> None:
    import re

    text = (Path(__file__).resolve().parents[1] / "docs" / "scenarios.md").read_text("utf-8")
    example = re.search(r"## Writing a scenario file\n\n```toml\n(.*?)```", text, re.S)
    assert example is not None
    path = tmp_path / "example.toml"
    path.write_text(example.group(1), encoding="utf-8")
    scenario = load_scenario(path)
    assert scenario.input_correlations() == [("die_yield", "packaging_yield", 0.3)]
    # the file sets wafer_starts_per_month and wafer_cost_usd: the parent's ranges go
    assert "wafer_starts_per_month" not in scenario.distributions
    assert "wafer_cost_usd" not in scenario.distributions


def test_a_drawn_wright_exponent_equals_the_scalar_law_draw_by_draw(tmp_path: Path) -> None:
    path = _write(tmp_path, """
        name = "w"
        description = "d"
        inherits = "ft-2025-yield-learning"
        [timeline]
        defect_density_per_cm2 = { learning = "wright", start = 0.24, exponent = 0.3 }
        [distributions]
        "defect_density_per_cm2.exponent" = { uniform = { low = 0.1, high = 0.5 } }
        """)  # fmt: skip
    scenario = load_scenario(path)
    f = scenario_model(scenario, outputs=["final_units"])
    exponents = np.array([0.1, 0.3, 0.5])
    units = f({"defect_density_per_cm2.exponent": exponents})["final_units"]
    for i, b in enumerate(exponents):  # the scalar learning law through the engine
        law = Learning("wright", start=0.24, exponent=float(b))
        one = scenario.funnel_inputs().replace(defect_density_per_cm2=law)
        np.testing.assert_allclose(units[i], run_timeline(one).final_units[0], rtol=1e-12)


def test_yield_models_drawn_from_the_calibration_meet_both_smic_points(tmp_path: Path) -> None:
    scenario = load_scenario(_write(tmp_path, CALIBRATED_FILE))
    feasible = scenario.feasible_yield_models()
    assert set(feasible.models) >= {"poisson", "murphy", "negative_binomial"}
    assert "yield_model.parameter" in scenario.input_distributions()
    u = np.linspace(0.0, 1.0, 11)
    for model in feasible.models:
        p = feasible.parameters(model, u, np.full(11, 0.5))
        d0 = p.pop("defect_density_per_cm2")
        # the forward model, independent of the feasible-set search: the 910B's 20 % on
        # 665.61 mm² exactly, the Kirin 9000S's 50-70 % on 107 mm² (CSIS 2025)
        y_910b = die_yield(model, 665.61, d0, **p)
        y_kirin = die_yield(model, 107.0, d0, **p)
        np.testing.assert_allclose(y_910b, 0.2, rtol=1e-7)
        assert np.all((y_kirin >= 0.5 * (1 - 1e-7)) & (y_kirin <= 0.7 * (1 + 1e-7)))
    f = scenario_model(scenario, outputs=["good_dies"])
    x = {"yield_model": np.array(["poisson", "negative_binomial"]),
         "yield_model.parameter": np.array([0.0, 1.0]),
         "yield_model.defect_density": np.array([0.5, 0.5])}  # fmt: skip
    good = f(x)["good_dies"][:, 0]
    for i, model in enumerate(x["yield_model"]):
        p = feasible.parameters(str(model), x["yield_model.parameter"][i : i + 1], [0.5])
        d0 = float(p.pop("defect_density_per_cm2")[0])
        expected = 100_000 * die_yield(
            str(model), 400.0, d0, **{k: float(v[0]) for k, v in p.items()}
        )
        assert good[i] == pytest.approx(expected, rel=1e-12)


def test_from_calibration_errors(tmp_path: Path) -> None:
    bad = CALIBRATED_FILE.replace('"SMIC N+2"', '"SMIC N+9"')
    with pytest.raises(ScenarioError, match="SMIC N\\+9"):
        load_scenario(_write(tmp_path, bad))
    both = CALIBRATED_FILE.replace(
        "[sources]", "defect_density_per_cm2 = { uniform = { low = 0.1, high = 0.2 } }\n[sources]"
    )
    with pytest.raises(ScenarioError, match="from_calibration draws the defect density"):
        load_scenario(_write(tmp_path, both))


def test_timeline_series_needs_a_number_to_draw(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
        name = "bad"
        description = "d"
        inherits = "csis-2025-ramp"
        [distributions]
        wafer_starts_per_month = { uniform = { low = 1, high = 3 } }
        """,
    )
    with pytest.raises(ScenarioError, match=r"wafer_starts_per_month.end"):
        load_scenario(path)


# --------------------------------------------------------------------------- goal seeking


def test_bis_ceiling_wafer_starts_by_hand() -> None:
    # BIS 2025: 200,000 units a year. Per wafer start 80 x 0.2 / 2 = 8 packages,
    # x 0.75 = 6 units; over 12 months whole packages: floor(96 W) x 0.75 >= 200,000
    # <=> 96 W >= 266,667 <=> W >= 2,777.78125 wafer starts a month.
    scenario = load_scenario("bis-2025-ceiling")
    f = scenario_model(scenario, outputs=["final_units", "binding_constraint"])
    r = solve(f, "wafer_starts_per_month", 200_000, low=0.0, high=50_000.0, reduce=_total,
              output="final_units")  # fmt: skip
    assert r.value == pytest.approx(266_667 / 96, rel=1e-9)
    assert r.value == pytest.approx(2_777.8, abs=0.05)
    assert r.achieved == pytest.approx(200_000.25)


def test_csis_chain_die_yield_for_a_million_a_year_by_hand() -> None:
    # CSIS chain at 50,000 WPM over 12 months: floor(12 x 50,000 x 80 x y / 2) x 0.75
    # >= 1,000,000 <=> 24,000,000 y >= 1,333,334 <=> y >= 5.5556 %.
    scenario = load_scenario("csis-2025-smic-target").set_parameter("months", 12)
    f = scenario_model(scenario, outputs=["final_units"])
    r = solve(f, "die_yield", 1_000_000, low=0.0, high=1.0, reduce=_total, output="final_units")
    assert r.value == pytest.approx(1_333_334 / 24_000_000, rel=1e-9)


def test_semianalysis_hbm_crossover_by_hand() -> None:
    # SemiAnalysis 2025: dies = 2.9 M bank + 45,000 x 12 x 80 x 0.2 x share = 2.9 M +
    # 8.64 M share, 2 a package; HBM = 13 M + 12 x 166,666.67 = 15 M stacks, 8 a
    # package = 1,875,000 packages. Dies bind while (2.9 M + 8.64 M s) / 2 < 1,875,000,
    # i.e. below s = 850,000 / 8,640,000 = 0.098380.
    scenario = load_scenario("semianalysis-2025-hbm-bound")
    f = scenario_model(scenario, outputs=["binding_constraint"])
    found = crossovers(f, "capacity_share", low=0.0, high=1.0, output="binding_constraint",
                       reduce=lambda y: y[:, -1])  # fmt: skip
    assert [(c.before, c.after) for c in found] == [("dies", "hbm")]
    assert found[0].value == pytest.approx(850_000 / 8_640_000, rel=1e-9)


# --------------------------------------------------------------------------- comparison


def test_csis_against_tsmc_counterfactual_sums_to_the_log_ratio() -> None:
    a = load_scenario("csis-2025-smic-target").funnel_inputs()
    b = load_scenario("tsmc-n7-counterfactual").funnel_inputs()
    r = attribute_funnels(a, b)
    # by hand: 300,000 units against floor(4,000,000 x Y / 2) x 0.75 with Murphy's
    # Y = ((1 - e^-L) / L)^2, L = 0.1156 x 6.6561
    lam = 0.1156 * 6.6561
    units_b = math.floor(4_000_000 * ((1 - math.exp(-lam)) / lam) ** 2 / 2) * 0.75
    assert r.names == ("die_yield",)  # the only input of the engine that differs
    assert float(np.sum(r.contributions)) == pytest.approx(math.log(units_b / 300_000), rel=1e-12)
    assert r.value_b == pytest.approx(units_b, rel=1e-12)


def test_attribution_over_several_inputs_sums_exactly() -> None:
    a = load_scenario("morgan-stanley-2025").funnel_inputs()
    b = load_scenario("csis-2025-ramp").funnel_inputs()
    r = attribute_funnels(a, b)
    assert set(r.names) == {"wafer_starts_per_month", "gross_dies_per_wafer", "die_yield"}
    # 737,100 (7,000 x 12 x 78 x 0.3 / 2 x 0.75) against 2,520,000 (CSIS ramp notes)
    assert r.value_a == pytest.approx(737_100, rel=1e-12)
    assert r.value_b == pytest.approx(2_520_000, rel=1e-12)
    assert float(np.sum(r.contributions)) == pytest.approx(math.log(2_520_000 / 737_100), abs=1e-12)
    # with only dies per wafer and yield differing the chain is a product: ln(f_b / f_a)
    c = attribute_funnels(a, a.replace(gross_dies_per_wafer=80, die_yield=0.2))
    assert dict(zip(c.names, c.contributions, strict=True)) == pytest.approx(
        {"gross_dies_per_wafer": math.log(80 / 78), "die_yield": math.log(0.2 / 0.3)}, abs=1e-12
    )


def test_attribution_refuses_what_cannot_be_mixed() -> None:
    a = load_scenario("csis-2025-smic-target").funnel_inputs()
    with pytest.raises(InvalidParameterError, match="dies_per_package"):
        attribute_funnels(a, a.replace(dies_per_package=1))
    with pytest.raises(InvalidParameterError, match="different horizons"):
        attribute_funnels(a, a.replace(months=2))
    # what cannot change the finished units is no obstacle: the compute-equivalent
    # figures, and the die size once dies per wafer and the yield are given
    b = a.replace(compute_equivalent_factor=None, compute_equivalent_basis=None,
                  die_width_mm=None, die_height_mm=None, die_yield=0.4)  # fmt: skip
    r = attribute_funnels(a, b)
    assert r.names == ("die_yield",)
    assert r.contributions[0] == pytest.approx(math.log(2.0), abs=1e-12)


def test_effective_inputs_carry_the_model_yield() -> None:
    inputs = load_scenario("ft-2025-yield-learning").funnel_inputs()
    effective = effective_inputs(inputs)
    np.testing.assert_allclose(
        run_timeline(effective).final_units, run_timeline(inputs).final_units, rtol=1e-12
    )


# --------------------------------------------------------------------------- uncertainty on presets


def test_tornado_and_periods_on_a_preset() -> None:
    scenario = load_scenario("csis-2025-ramp")
    f = scenario_model(scenario, outputs=["final_units"])
    labels, g = by_period(f, "quarter", 12, "2025-01")
    assert labels == ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]
    y = f({})["final_units"]
    assert g({})["final_units"][0].tolist() == pytest.approx(
        [y[0, 3 * q : 3 * q + 3].sum() for q in range(4)]
    )
    t = tornado(f, scenario.input_distributions(), output="final_units", reduce=_total)
    # the baseline has every input at its median: December starts 47,500
    assert t.names[0] in ("die_yield", "wafer_starts_per_month.2025-12", "packaging_yield")
    assert t.baseline > 0


def test_yield_model_as_a_discrete_input_of_run_uncertainty() -> None:
    base = FunnelInputs(wafer_starts_per_month=1_000, gross_dies_per_wafer=80,
                        die_area_mm2=665.61, defect_density_per_cm2=0.12)  # fmt: skip
    f = funnel_model(base, outputs=["good_dies"])
    ds = {
        "yield_model": Discrete(("poisson", "murphy")),
        "defect_density_per_cm2": Uniform(0.1, 0.2),
    }
    r = run_uncertainty(f, ds, 200, seed=3)
    good = r.outputs["good_dies"][:, 0]
    expected = [
        80_000 * die_yield(str(m), 665.61, float(d))
        for m, d in zip(r.inputs["yield_model"], r.inputs["defect_density_per_cm2"], strict=True)
    ]
    np.testing.assert_allclose(good, expected, rtol=1e-12)
