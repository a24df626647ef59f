"""Scenario loading, inheritance, overrides, and the built-in presets as reference tests.

Expected figures come from the publications (CSIS 2025, Allen; SemiAnalysis,
Sep 2025; Morgan Stanley, Sep 2025) or from the publications' own arithmetic
redone by hand in the test, never from running the code under test.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from waferlab.economics import CostInputs
from waferlab.errors import ScenarioError
from waferlab.funnel import FunnelInputs, run_funnel
from waferlab.scenarios import (
    Scenario,
    list_scenarios,
    load_scenario,
    parameter_unit,
    scenario_keys,
)
from waferlab.scenarios.loader import NO_SOURCE

PRESETS = (
    "bis-2025-ceiling",
    "csis-2025-ramp",
    "csis-2025-smic-current",
    "csis-2025-smic-target",
    "csis-2025-tsmc-die-bank",
    "ft-2025-yield-learning",
    "morgan-stanley-2025",
    "morgan-stanley-2025-2027",
    "semianalysis-2025-2027-ramp",
    "semianalysis-2025-hbm-bound",
    "tsmc-n7-counterfactual",
)


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def quantities(name: str) -> dict[str, float]:
    result = run_funnel(load_scenario(name).funnel_inputs())
    return {s.name: s.quantity for s in result.stages}


# --------------------------------------------------------------------------- registry


def test_list_scenarios_names_every_preset() -> None:
    assert list_scenarios() == PRESETS


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_loads_and_runs(name: str) -> None:
    scenario = load_scenario(name)
    assert scenario.name == name
    assert scenario.builtin
    assert scenario.description
    assert isinstance(scenario.funnel_inputs(), FunnelInputs)
    result = run_funnel(scenario.funnel_inputs())
    assert result.final_units > 0


@pytest.mark.parametrize("name", PRESETS)
def test_every_preset_value_has_a_source(name: str) -> None:
    scenario = load_scenario(name)
    for key in (*scenario.parameters, *scenario.costs, *scenario.timeline):
        text = scenario.sources[key]
        assert text and text != NO_SOURCE, key
    for key in scenario.distributions:
        text = scenario.sources[f"distributions.{key}"]
        assert text and text != NO_SOURCE, key
    # no source describes a value the scenario does not set
    assert set(scenario.sources) == (
        set(scenario.parameters)
        | set(scenario.costs)
        | set(scenario.timeline)
        | {f"distributions.{key}" for key in scenario.distributions}
    )


@pytest.mark.parametrize("name", PRESETS)
def test_preset_published_figures_name_their_source(name: str) -> None:
    published = load_scenario(name).published
    if published:
        assert published["source"]


def test_scenario_keys_come_from_the_dataclasses() -> None:
    import dataclasses

    assert scenario_keys("parameters") == tuple(f.name for f in dataclasses.fields(FunnelInputs))
    assert scenario_keys("costs") == tuple(f.name for f in dataclasses.fields(CostInputs))
    assert scenario_keys() == scenario_keys("parameters") + scenario_keys("costs")


# --------------------------------------------------------------------------- reference values


def test_csis_target_reproduces_the_report_exactly() -> None:
    # CSIS 2025 (Allen): 50,000 WPM x 80 = 4 M dies; x 20 % = 800,000 good dies;
    # / 2 = 400,000 910C before packaging loss; x 75 % = 300,000. Exact (tolerance 0).
    q = quantities("csis-2025-smic-target")
    assert q["wafer starts"] == 50_000
    assert q["gross dies"] == 4_000_000
    assert q["good dies"] == 800_000
    assert q["packages before packaging loss"] == 400_000
    assert q["good packages"] == 300_000


def test_csis_target_published_block_matches_the_report() -> None:
    published = load_scenario("csis-2025-smic-target").published
    assert published["gross_dies"] == 4_000_000
    assert published["good_dies"] == 800_000
    assert published["packages_before_packaging_loss"] == 400_000
    assert published["good_packages"] == 300_000
    q = quantities("csis-2025-smic-target")
    for key, value in published.items():
        if key != "source":
            assert q[key.replace("_", " ")] == value


def test_csis_current_is_the_same_chain_at_20000_wpm() -> None:
    # CSIS 2025: about 20,000 WPM in early 2025; the report's per-wafer chain by hand.
    wafers = 20_000
    dies = wafers * 80
    good = dies * 20 // 100
    packages = good // 2
    q = quantities("csis-2025-smic-current")
    assert q["gross dies"] == dies == 1_600_000
    assert q["good dies"] == good == 320_000
    assert q["packages before packaging loss"] == packages == 160_000
    assert q["good packages"] == packages * 3 // 4 == 120_000


def test_csis_current_inherits_everything_else() -> None:
    target = load_scenario("csis-2025-smic-target")
    current = load_scenario("csis-2025-smic-current")
    assert current.inherits == "csis-2025-smic-target"
    for key, value in target.parameters.items():
        if key != "wafer_starts_per_month":
            assert current.parameters[key] == value
            assert current.sources[key] == target.sources[key]
    assert current.costs == target.costs
    assert "20,000" in current.sources["wafer_starts_per_month"]


def test_die_bank_is_enough_for_one_million_910c() -> None:
    # CSIS 2025: > 2,000,000 TSMC dies, "enough for 1 million 910C"; then 75 % survival.
    q = quantities("csis-2025-tsmc-die-bank")
    assert q["wafer starts"] == 0
    assert q["gross dies"] == 0
    assert q["die supply"] == 2_000_000
    assert q["packages before packaging loss"] == 1_000_000
    assert q["good packages"] == 750_000


def test_semianalysis_hbm_binds() -> None:
    # SemiAnalysis (Sep 2025): 13 M stacks are "enough for 1.6 M 910C" at 8 stacks each
    # (13e6 / 8 = 1.625 M, which rounds to 1.6 M within 2 %); with CXMT's 2 M stacks
    # in 2025 the HBM allows (13 M + 2 M) / 8 = 1,875,000 packages.
    scenario = load_scenario("semianalysis-2025-hbm-bound")
    p = scenario.parameters
    assert p["hbm_stock_stacks"] / p["hbm_stacks_per_package"] == pytest.approx(1.6e6, rel=0.02)
    result = run_funnel(scenario.funnel_inputs())
    assert result.binding_constraint == "hbm"
    assert result.packages == 1_875_000
    # dies by hand: bank 2.9 M + 45,000 x 12 x 80 x 0.2 good dies, two per package
    die_limit = (2_900_000 + 45_000 * 12 * 80 * 0.2) / 2
    assert die_limit == 5_770_000
    assert result.packages < die_limit
    assert result.good_packages == pytest.approx(1_875_000 * 0.75, rel=1e-12)


def test_semianalysis_hbm_still_binds_at_a_tenth_of_the_capacity() -> None:
    # The claim in the preset's notes: at share 0.1 the dies allow 1,882,000 packages.
    scenario = load_scenario("semianalysis-2025-hbm-bound").set_parameter("capacity_share", 0.1)
    result = run_funnel(scenario.funnel_inputs())
    die_limit = (2_900_000 + 4_500 * 12 * 80 * 0.2) / 2
    assert die_limit == pytest.approx(1_882_000)
    assert result.binding_constraint == "hbm"


def test_morgan_stanley_chain() -> None:
    # Morgan Stanley (Sep 2025): 7,000 AI WPM, 78 dies, 30 %; CSIS 2 dies and 75 %; 12 months.
    per_month_packages = 7_000 * 78 * 0.30 / 2
    assert per_month_packages == pytest.approx(81_900)
    q = quantities("morgan-stanley-2025")
    assert q["packages before packaging loss"] == pytest.approx(12 * 81_900, abs=1)
    assert q["good packages"] == pytest.approx(12 * 81_900 * 0.75, abs=1)


def test_bis_ceiling_gives_200000_a_year() -> None:
    # US Commerce (BIS, Jun 2025): "at or below 200,000" Ascend chips in 2025. The preset
    # backs out the WPM through the CSIS chain (6 finished 910C per wafer start); whole
    # packages cost at most one package, i.e. 0.75 units.
    scenario = load_scenario("bis-2025-ceiling")
    assert scenario.parameters["wafer_starts_per_month"] == pytest.approx(200_000 / 72, rel=1e-15)
    units_per_wafer = 80 * 0.20 / 2 * 0.75
    assert units_per_wafer == pytest.approx(6.0)
    result = run_funnel(scenario.funnel_inputs())
    assert result.months == 12
    assert 200_000 - 0.75 <= result.good_packages <= 200_000


def test_tsmc_counterfactual_differs_from_the_csis_chain_only_in_the_fab_yield() -> None:
    # D0 from waferlab's own TSMC N7 calibration: Murphy through the GA100's 41.5 %
    # fully-good dies on 826 mm² (CSIS 2025; Nvidia), 910B die 21.32 x 31.22 mm.
    from scipy.optimize import brentq

    from waferlab.calibration import fit_yield_model, load_dataset, select

    def murphy(lam: float) -> float:
        return ((1 - math.exp(-lam)) / lam) ** 2

    # independent: Murphy's closed form solved for the GA100 by a root finder
    lam_ga100 = brentq(lambda lam: murphy(lam) - 0.415, 1e-6, 10.0, xtol=1e-14)
    d0_by_hand = lam_ga100 / 8.26
    assert d0_by_hand == pytest.approx(0.1156, abs=5e-5)
    observations = select(load_dataset("csis-2025"), names=["GA100"])
    fit = fit_yield_model(observations, "murphy")
    assert fit.parameters["defect_density_per_cm2"] == pytest.approx(d0_by_hand, rel=1e-6)

    scenario = load_scenario("tsmc-n7-counterfactual")
    assert scenario.parameters["defect_density_per_cm2"] == pytest.approx(d0_by_hand, abs=5e-5)
    result = run_funnel(scenario.funnel_inputs())
    assert result.gross_dies_per_wafer == 80  # the CSIS chain's count, not exact placement
    lam = 0.1156 * 21.32 * 31.22 / 100.0
    assert result.die_yield == pytest.approx(murphy(lam), rel=1e-12)
    assert result.die_yield == pytest.approx(0.487, abs=0.0005)  # the preset's notes
    # 50,000 x 80 x 0.48658 = 1,946,329 good dies -> 973,164 whole packages x 0.75
    assert result.final_units == math.floor(50_000 * 80 * murphy(lam) / 2) * 0.75
    # TSMC's reported mature 0.09 /cm² stays available as the note and the range's low end
    low = scenario.input_distributions()["defect_density_per_cm2"].ppf([0.0])[0]
    assert low == pytest.approx(0.09)
    csis = load_scenario("csis-2025-smic-target").funnel_inputs().to_dict()
    tsmc = scenario.funnel_inputs().to_dict()
    differ = {k for k in csis if csis[k] != tsmc[k]}
    assert differ == {"die_yield", "yield_model", "defect_density_per_cm2"}


# --------------------------------------------------------------------------- overrides


def test_set_parameter_returns_a_new_validated_scenario() -> None:
    base = load_scenario("csis-2025-smic-target")
    changed = base.set_parameter("wafer_starts_per_month", 20_000, source="my note")
    assert changed is not base
    assert changed.parameters["wafer_starts_per_month"] == 20_000
    assert changed.sources["wafer_starts_per_month"] == "my note"
    assert base.parameters["wafer_starts_per_month"] == 50_000
    assert "Allen" in base.sources["wafer_starts_per_month"]
    assert run_funnel(changed.funnel_inputs()).good_packages == 120_000


def test_set_parameter_default_source_says_override() -> None:
    changed = load_scenario("csis-2025-smic-target").set_parameter("die_yield", 0.4)
    assert changed.sources["die_yield"] == "override: set by the user"


def test_set_parameter_none_restores_the_default() -> None:
    base = load_scenario("csis-2025-smic-target")
    computed = base.set_parameter("gross_dies_per_wafer", None)
    assert "gross_dies_per_wafer" not in computed.parameters
    assert "gross_dies_per_wafer" not in computed.sources
    assert computed.funnel_inputs().gross_dies_per_wafer is None
    result = run_funnel(computed.funnel_inputs())
    assert result.gross_dies_source == "exact placement"


def test_set_parameter_cost_key_goes_to_costs() -> None:
    changed = load_scenario("csis-2025-smic-target").set_parameter("wafer_cost_usd", 14_019)
    assert changed.costs["wafer_cost_usd"] == 14_019
    cost = changed.cost_inputs()
    assert cost is not None and cost.wafer_cost_usd == 14_019.0
    assert "wafer_cost_usd" not in changed.parameters


def test_set_parameter_integral_float_for_integer_field() -> None:
    changed = load_scenario("csis-2025-smic-target").set_parameter("dies_per_package", 1.0)
    assert changed.parameters["dies_per_package"] == 1
    assert isinstance(changed.parameters["dies_per_package"], int)


def test_with_parameters_is_order_independent() -> None:
    base = load_scenario("csis-2025-smic-target")
    change = {"die_yield": None, "defect_density_per_cm2": 0.09, "yield_model": "murphy"}
    a = base.with_parameters(change)
    b = base.with_parameters(dict(reversed(list(change.items()))))
    assert a.parameters == b.parameters
    # one at a time, in this order, the intermediate state is invalid (yield and D0)
    with pytest.raises(ScenarioError, match="defect_density_per_cm2"):
        base.set_parameter("defect_density_per_cm2", 0.09)


def test_with_parameters_sets_one_number_of_a_timeline_entry() -> None:
    # Morgan Stanley's yield path: 20 % in Jan 2025 to 30 % in Dec 2025, then held.
    base = load_scenario("morgan-stanley-2025-2027")
    s = base.with_parameters({"die_yield.2025-12": 0.4})
    assert s.timeline["die_yield"] == {**base.timeline["die_yield"], "2025-12": 0.4}
    series = s.funnel_inputs().die_yield
    # linear between the two points, then held: month 12 (Dec 2025) and later are 0.4
    assert series[0, 0] == pytest.approx(0.2) and series[0, 11] == pytest.approx(0.4)
    assert series[0, 5] == pytest.approx(0.2 + 0.2 * 5 / 11) and series[0, -1] == 0.4
    assert s.sources["die_yield.2025-12"] == "override: set by the user"
    # a new date adds a point; the entry's distributions on that number are dropped
    added = base.with_parameters({"die_yield.2026-06": 0.35})
    assert added.timeline["die_yield"]["2026-06"] == 0.35
    # a value set on the input itself replaces the whole series
    flat = base.with_parameters({"die_yield": 0.25})
    assert "die_yield" not in flat.timeline
    for bad, needle in [
        ({"die_yield.end": 0.3}, "a dated point is a month YYYY-MM"),
        ({"die_yield.2025-12": "high"}, "must be a number"),
        ({"die_yield.2025-12": True}, "must be a number"),
        ({"die_yield.2025-12": 1.5}, r'die_yield: "2025-12" = 1.5 must be in \[0, 1\]'),
    ]:
        with pytest.raises(ScenarioError, match=needle):
            base.with_parameters(bad)


def test_with_parameters_sets_one_yield_model_parameter() -> None:
    base = load_scenario("csis-2025-smic-target").with_parameters(
        {"die_yield": None, "defect_density_per_cm2": 0.3, "yield_model": "negative_binomial"}
    )
    s = base.with_parameters({"yield_model_parameters.alpha": 1.0})
    assert s.parameters["yield_model_parameters"] == {"alpha": 1.0}
    # Seeds' formula at alpha = 1: 1 / (1 + A D0), A = 665.61 mm²
    lam = 6.6561 * 0.3
    from waferlab.funnel import run_timeline

    got = run_timeline(s.funnel_inputs())["die_yield"][0, 0]
    assert got == pytest.approx(1.0 / (1.0 + lam))
    cleared = s.with_parameters({"yield_model_parameters.alpha": None})
    assert "yield_model_parameters" not in cleared.parameters


def test_set_parameter_unknown_key_suggests() -> None:
    with pytest.raises(ScenarioError) as info:
        load_scenario("csis-2025-smic-target").set_parameter("die_yeild", 0.3)
    message = str(info.value)
    assert "csis-2025-smic-target" in message
    assert "'die_yeild'" in message
    assert "did you mean 'die_yield'" in message


def test_set_parameter_cannot_remove_a_required_key() -> None:
    with pytest.raises(ScenarioError, match="wafer_starts_per_month is required"):
        load_scenario("csis-2025-smic-target").set_parameter("wafer_starts_per_month", None)


def test_set_cost_on_scenario_without_costs() -> None:
    bank = load_scenario("csis-2025-tsmc-die-bank")
    assert bank.cost_inputs() is None
    # No cost is required by the file format: a bank-only scenario starts no
    # wafers and needs no wafer price (cost_breakdown asks for what a funnel needs).
    partial = bank.set_parameter("hbm_cost_usd_per_stack", 300).cost_inputs()
    assert partial is not None and partial.wafer_cost_usd is None
    assert partial.hbm_cost_usd_per_stack == 300.0
    priced = bank.set_parameter("wafer_cost_usd", 9_346)
    cost = priced.cost_inputs()
    assert cost is not None and cost.wafer_cost_usd == 9_346.0


@settings(max_examples=60, deadline=None)
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_yield_override_accepted_exactly_inside_unit_interval(value: float) -> None:
    base = load_scenario("csis-2025-smic-target")
    if math.isfinite(value) and 0.0 <= value <= 1.0:
        assert base.set_parameter("die_yield", value).parameters["die_yield"] == value
    else:
        with pytest.raises(ScenarioError, match="die_yield"):
            base.set_parameter("die_yield", value)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=-10_000_000, max_value=10_000_000))
def test_count_override_accepted_exactly_when_not_negative(value: int) -> None:
    base = load_scenario("csis-2025-smic-target")
    if value >= 0:
        changed = base.set_parameter("die_bank_dies", value)
        result = run_funnel(changed.funnel_inputs())
        # the die bank adds to the die supply, never removes (by hand: 800,000 + bank)
        assert result.die_supply == pytest.approx(800_000 + value)
    else:
        with pytest.raises(ScenarioError, match=r"die_bank_dies must be >= 0"):
            base.set_parameter("die_bank_dies", value)


# --------------------------------------------------------------------------- user files


def test_user_file_inherits_a_builtin(tmp_path: Path) -> None:
    path = write(
        tmp_path / "mine.toml",
        """
        name = "mine"
        description = "Higher yield."
        inherits = "csis-2025-smic-target"

        [parameters]
        die_yield = 0.4
        months = 3

        [sources]
        die_yield = "Financial Times, Feb 2025: about 40 %"
        """,
    )
    scenario = load_scenario(path)
    assert scenario.name == "mine" and not scenario.builtin
    assert scenario.path == path
    assert scenario.sources["die_yield"].startswith("Financial Times")
    # a value set without a source loses the parent's source
    assert scenario.sources["months"] == NO_SOURCE
    assert "Allen" in scenario.sources["packaging_yield"]
    assert scenario.published == {}  # the parent's published figures are not the child's
    result = run_funnel(scenario.funnel_inputs())
    # by hand: 3 months x 50,000 x 80 x 0.4 / 2 x 0.75
    assert result.good_packages == pytest.approx(3 * 50_000 * 80 * 0.4 / 2 * 0.75)


def test_user_file_by_string_path_and_relative_inherits(tmp_path: Path) -> None:
    # A file may inherit a file below its own folder (the trust model allows no "..").
    (tmp_path / "shared").mkdir()
    write(
        tmp_path / "shared" / "base.toml",
        """
        name = "base"
        description = "A base."
        [parameters]
        wafer_starts_per_month = 1000
        gross_dies_per_wafer = 100
        die_yield = 0.5
        """,
    )
    child = write(
        tmp_path / "child.toml",
        """
        name = "child"
        description = "A child."
        inherits = "shared/base.toml"
        [parameters]
        dies_per_package = 2
        """,
    )
    scenario = load_scenario(str(child))
    assert scenario.parameters == {
        "wafer_starts_per_month": 1000,
        "gross_dies_per_wafer": 100,
        "die_yield": 0.5,
        "dies_per_package": 2,
    }
    assert run_funnel(scenario.funnel_inputs()).packages == 1000 * 100 * 0.5 / 2


def test_to_dict_is_json_able(tmp_path: Path) -> None:
    from waferlab.output import to_json

    d = load_scenario("semianalysis-2025-hbm-bound").to_dict()
    assert d["name"] == "semianalysis-2025-hbm-bound"
    assert d["builtin"] is True
    assert d["parameters"]["hbm_stock_stacks"] == 13_000_000
    assert d["published"]["ascend_units_2025"] == 805_000
    assert '"hbm_stacks_per_package": 8' in to_json(d)


def test_scenario_is_frozen() -> None:
    import dataclasses

    scenario = load_scenario("csis-2025-smic-target")
    assert isinstance(scenario, Scenario)
    with pytest.raises(dataclasses.FrozenInstanceError):
        scenario.name = "other"  # type: ignore[misc]


# --------------------------------------------------------------------------- units


@pytest.mark.parametrize(
    ("key", "unit"),
    [
        ("wafer_starts_per_month", "wafer starts/month"),
        ("gross_dies_per_wafer", "gross dies/wafer"),
        ("die_width_mm", "mm"),
        ("die_area_mm2", "mm²"),
        ("defect_density_per_cm2", "1/cm²"),
        ("die_yield", "1"),
        ("capacity_share", "1"),
        ("months", "months"),
        ("die_bank_dies", "dies"),
        ("hbm_stock_stacks", "stacks"),
        ("hbm_supply_stacks_per_month", "HBM supply stacks/month"),
        ("dies_per_package", "dies/package"),
        ("wafer_cost_usd", "USD"),
        ("hbm_cost_usd_per_stack", "USD/stack"),
        ("test_cost_usd_per_unit", "USD/unit"),
        ("yield_model", ""),
        ("package_degraded_dies", ""),
        ("yield_model_parameters", "model-specific"),
    ],
)
def test_parameter_unit(key: str, unit: str) -> None:
    assert parameter_unit(key) == unit


# --------------------------------------------------------------------------- the example file


def test_example_custom_scenario_is_fully_sourced() -> None:
    path = Path(__file__).resolve().parents[1] / "examples" / "custom_scenario.toml"
    scenario = load_scenario(path)
    assert scenario.inherits == "csis-2025-smic-target"
    for key in (*scenario.parameters, *scenario.costs):
        assert scenario.sources[key] != NO_SOURCE, key
    result = run_funnel(scenario.funnel_inputs())
    # the file's own arithmetic: 60,000 x 0.5 x 80 x 0.4 / 2 x 0.75 per month, 12 months
    assert result.good_packages == pytest.approx(12 * 60_000 * 0.5 * 80 * 0.4 / 2 * 0.75)
    assert result.good_packages == pytest.approx(4_320_000)


def test_preset_tables_in_the_docs_are_up_to_date() -> None:
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "docs" / "make_preset_tables.py"
    spec = importlib.util.spec_from_file_location("make_preset_tables", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.document() == module.DOC.read_text(encoding="utf-8"), (
        "run python docs/make_preset_tables.py"
    )


def test_docs_describe_every_key_and_preset() -> None:
    docs = (Path(__file__).resolve().parents[1] / "docs" / "scenarios.md").read_text()
    for key in scenario_keys():
        assert f"`{key}`" in docs, key
    for name in list_scenarios():
        assert f"### `{name}`" in docs, name


def test_set_parameter_accepts_numpy_scalars() -> None:
    import numpy as np

    base = load_scenario("csis-2025-smic-target")
    changed = base.with_parameters(
        {"wafer_starts_per_month": np.int64(20_000), "die_yield": np.float64(0.3)}
    )
    assert type(changed.parameters["wafer_starts_per_month"]) is int
    assert type(changed.parameters["die_yield"]) is float
    with pytest.raises(ScenarioError, match="die_yield must be a number, got boolean true"):
        base.set_parameter("die_yield", np.bool_(True))


def test_every_input_field_has_a_type_the_loader_checks() -> None:
    from waferlab.scenarios.loader import _schema

    for table, fields in _schema().items():
        for name, spec in fields.items():
            assert spec.kind in {"float", "int", "str", "bool", "mapping"}, (table, name)
