"""Packages in the funnel engine: several die types, package yield, interposer capacity."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from waferlab.errors import InvalidParameterError, ScenarioError
from waferlab.funnel import FunnelInputs, run_funnel, run_timeline
from waferlab.package import Component, Interposer, Package
from waferlab.scenarios import load_scenario
from waferlab.timeline import monthly


def mi300_like(**changes: object) -> FunnelInputs:
    """Eight compute dies and four I/O dies per package, each from its own fab."""
    pkg = Package(
        "two-die package",
        (
            Component("XCD", 8, bond_yield=0.99),
            Component("IOD", 4, bond_yield=0.99),
            Component("HBM3", 8, kind="hbm", bond_yield=0.99),
        ),
    )
    io = FunnelInputs(
        wafer_starts_per_month=monthly([200.0, 300.0, 0.0, 400.0, 100.0, 0.0]),
        months=6,
        gross_dies_per_wafer=150,
        die_yield=0.7,
        die_bank_dies=500,
        fab_cycle_time_months=1,
    )
    base: dict[str, object] = {
        "wafer_starts_per_month": monthly([100.0, 120.0, 80.0, 0.0, 200.0, 150.0]),
        "months": 6,
        "gross_dies_per_wafer": 500,
        "die_yield": 0.9,
        "package": pkg,
        "die_types": {"IOD": io},
        "hbm_stock_stacks": 40_000,
        "hbm_supply_stacks_per_month": 3_000,
    }
    base.update(changes)
    return FunnelInputs(**base)  # type: ignore[arg-type]


def plain_loop(inputs: FunnelInputs) -> dict[str, list[float]]:
    """Month loop over three inventories (compute dies, I/O dies, HBM), written independently."""
    xcd = [w * 500 * 0.9 for w in inputs.wafer_starts_per_month[0]]  # type: ignore[index]
    iod_made = [w * 150 * 0.7 for w in inputs.die_types["IOD"].wafer_starts_per_month[0]]  # type: ignore[index]
    inv_x, inv_i, inv_h = 0.0, 500.0, 40_000.0
    packages, end_i = [], []
    for t in range(6):
        inv_x += xcd[t]
        inv_i += iod_made[t - 1] if t >= 1 else 0.0
        inv_h += 3_000
        p = math.floor(min(inv_x / 8, inv_i / 4, inv_h / 8) + 1e-6)
        inv_x -= 8 * p
        inv_i -= 4 * p
        inv_h -= 8 * p
        packages.append(p)
        end_i.append(inv_i)
    return {"packages": packages, "iod_inventory": end_i}


def test_a_two_die_type_package_conserves_every_die_type() -> None:
    inputs = mi300_like()
    assert inputs.dies_per_package == 8 and inputs.die_types["IOD"].dies_per_package == 4
    assert inputs.hbm_stacks_per_package == 8
    assert inputs.packaging_yield == pytest.approx(0.99**20)
    r = run_timeline(inputs)
    oracle = plain_loop(inputs)
    assert r.packages_started[0].tolist() == oracle["packages"]
    np.testing.assert_allclose(r["die_inventory[IOD]"][0], oracle["iod_inventory"], atol=1e-6)
    # per die type: opening + arrivals = used + closing, every month
    for name, k, opening in (("", 8, 0.0), ("[IOD]", 4, 500.0)):
        arrived = r[f"dies_arrived{name}"][0]
        closing = r[f"die_inventory{name}"][0]
        before = np.concatenate([[opening], closing[:-1]])
        np.testing.assert_allclose(before + arrived, k * r.packages_started[0] + closing, atol=1e-6)
    assert "dies:IOD" in r.binding_names()


def test_run_funnel_with_die_types_agrees_with_the_timeline() -> None:
    inputs = mi300_like()
    total = run_funnel(inputs)
    r = run_timeline(inputs)
    assert total.packages == r.total("packages_started")[0]
    assert total.final_units == pytest.approx(r.total("final_units")[0])
    assert total.stage("good dies: IOD").quantity == pytest.approx(
        (200 + 300 + 400 + 100) * 150 * 0.7
    )


def test_the_package_replaces_the_shortcuts_and_refuses_conflicts() -> None:
    with pytest.raises(InvalidParameterError, match="dies_per_package is 2 but package"):
        mi300_like(dies_per_package=2)
    with pytest.raises(InvalidParameterError, match="packaging_yield is given"):
        mi300_like(packaging_yield=0.75)
    with pytest.raises(InvalidParameterError, match=r"missing: IOD"):
        mi300_like(die_types={})
    with pytest.raises(InvalidParameterError, match="same horizon"):
        mi300_like(
            die_types={
                "IOD": FunnelInputs(
                    wafer_starts_per_month=1, months=2, gross_dies_per_wafer=1, die_yield=1.0
                )
            }
        )


def test_interposer_wafers_set_the_packaging_capacity() -> None:
    # 28 interposers per wafer (TrendForce's H100 figure), one per package, all good:
    # 1,000 interposer wafers a month start 28,000 packages a month.
    pkg = Package(
        "one die",
        (Component("die", 1), Component("HBM", 5, kind="hbm")),
        interposer=Interposer(42.0, 42.0, units_per_wafer=28.0),
    )
    inputs = FunnelInputs(
        wafer_starts_per_month=1_000,
        months=3,
        gross_dies_per_wafer=60,
        die_yield=0.8,
        package=pkg,
        interposer_wafers_per_month=1_000,
    )
    r = run_timeline(inputs)
    assert r.packages_started[0].tolist() == [28_000.0] * 3
    assert r.binding_names() == ["packaging"] * 3
    # dies not packaged wait in the die inventory: 48,000 made, 28,000 used each month
    assert r["die_inventory"][0].tolist() == [20_000.0, 40_000.0, 60_000.0]
    assert run_funnel(inputs).binding_constraint == "packaging"
    with pytest.raises(InvalidParameterError, match="needs a package with an interposer"):
        FunnelInputs(
            wafer_starts_per_month=1,
            gross_dies_per_wafer=1,
            die_yield=1.0,
            interposer_wafers_per_month=10,
        )


def test_scenarios_name_a_catalogue_package_and_its_other_die_types(tmp_path: Path) -> None:
    path = tmp_path / "mi.toml"
    path.write_text(
        'name = "mi"\ndescription = "d"\n[parameters]\nwafer_starts_per_month = 3000\n'
        'months = 2\npackage = "mi300x"\ngross_dies_per_wafer = 500\ndie_yield = 0.9\n'
        "[parameters.die_types.IOD]\nwafer_starts_per_month = 2000\n"
        "gross_dies_per_wafer = 150\ndie_yield = 0.7\n"
    )
    inputs = load_scenario(path).funnel_inputs()
    assert inputs.package is not None and inputs.package.name == "MI300X"
    assert (inputs.dies_per_package, inputs.die_types["IOD"].dies_per_package) == (8, 4)
    # 2,000 x 150 x 0.7 = 210,000 IOD a month allow 52,500 packages; 3,000 x 500 x 0.9 / 8
    # = 168,750 XCD-limited: the I/O dies bind
    r = run_timeline(inputs)
    assert r.packages_started[0].tolist() == [52_500.0, 52_500.0]


@pytest.mark.parametrize(
    ("value", "needle"),
    [
        ('"/etc/passwd"', "relative to the scenario's folder"),
        ('"../outside.toml"', "in the scenario's folder or below"),
        ('"no-such-package"', "in the scenario's folder or below"),
        ("3", "must be a catalogue package or chip name"),
    ],
)
def test_package_paths_stay_in_the_scenario_folder(tmp_path: Path, value: str, needle: str) -> None:
    folder = tmp_path / "inner"
    folder.mkdir()
    (tmp_path / "outside.toml").write_text('name = "x"\n')
    path = folder / "s.toml"
    path.write_text(
        'name = "s"\ndescription = "d"\ninherits = "csis-2025-smic-target"\n'
        f"[parameters]\npackage = {value}\n"
    )
    with pytest.raises(ScenarioError, match="package") as info:
        load_scenario(path)
    assert needle in str(info.value)


def test_chip_and_process_references_fill_what_the_file_leaves_out(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        'name = "c"\ndescription = "d"\ninherits = "csis-2025-smic-target"\n'
        'chip = "ascend-910c"\nprocess = "smic-n+2"\n[parameters]\nyield_model = "murphy"\n'
    )
    s = load_scenario(path)
    p = s.parameters
    # the 910B die shot (Tom's Hardware 2024) and CSIS's two dies, eight HBM2E stacks
    assert (p["die_width_mm"], p["die_height_mm"]) == (21.32, 31.22)
    assert (p["dies_per_package"], p["hbm_stacks_per_package"]) == (2, 8)
    # D0 from the 910B's 20 % under Murphy: solve ((1 - e^-x) / x)^2 = 0.2 by bisection here
    lo, hi = 1e-9, 10.0
    for _ in range(200):
        mid = (lo + hi) / 2
        y = ((1 - math.exp(-mid)) / mid) ** 2
        lo, hi = (mid, hi) if y > 0.2 else (lo, mid)
    assert p["defect_density_per_cm2"] == pytest.approx(lo / 6.6561, rel=1e-9)
    assert "die_yield" not in p  # the process's D0 replaces the inherited yield
    assert s.sources["defect_density_per_cm2"].startswith("catalogue process smic-n+2")
    # a value the file sets wins over the reference
    path.write_text(path.read_text() + "dies_per_package = 1\n")
    assert load_scenario(path).parameters["dies_per_package"] == 1


def test_a_chip_reference_must_name_a_chip(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        'name = "c"\ndescription = "d"\ninherits = "csis-2025-smic-target"\nchip = "tsmc-n7"\n'
    )
    with pytest.raises(ScenarioError, match="is a process, not a chip"):
        load_scenario(path)
    path.write_text(
        'name = "c"\ndescription = "d"\ninherits = "csis-2025-smic-target"\nchip = "h900"\n'
    )
    with pytest.raises(ScenarioError, match="h900"):
        load_scenario(path)


@pytest.mark.parametrize(
    ("basis", "expected"),
    [
        ("reported", 0.6),  # CSIS: ~60 % of an H100's inference performance
        ("bf16-spec", 780.0 / 989.0),  # DigiTimes/SemiAnalysis 910C vs Nvidia H100 SXM
        ("memory-bandwidth", 3.2 / 3.35),
    ],
)
def test_a_chip_gives_its_compute_equivalents_on_the_stated_basis(
    tmp_path: Path, basis: str, expected: float
) -> None:
    path = tmp_path / "c.toml"
    path.write_text(
        'name = "c"\ndescription = "d"\ninherits = "csis-2025-smic-target"\n'
        f'chip = "ascend-910c"\n[parameters]\ncompute_equivalent_basis = "{basis}"\n'
    )
    s = load_scenario(path)
    assert s.parameters["compute_equivalent_factor"] == pytest.approx(expected)
    assert s.sources["compute_equivalent_factor"].startswith("catalogue chip ascend-910c")
