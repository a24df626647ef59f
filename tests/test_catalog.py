"""The sourced catalogue (waferlab.catalog): every entry loads, every figure has a source."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from waferlab import catalog
from waferlab.catalog import (
    CatalogError,
    Fact,
    compute_equivalents,
    get_entry,
    implied_defect_densities,
    list_entries,
    load_package,
    package_spec,
    sources,
    total_processing_performance,
)
from waferlab.errors import InvalidParameterError, UnknownNameError
from waferlab.package import package_from_spec

CHIPS = (
    "a100",
    "h100-sxm",
    "h20",
    "b200",
    "mi300x",
    "ascend-910",
    "ascend-910b",
    "ascend-910c",
    "kirin-9000s",
    "apple-a12",
)
PROCESSES = ("tsmc-n7", "tsmc-n5", "tsmc-n4", "smic-n+2")
PACKAGES = ("cowos-s", "cowos-l", "ascend-910c-package")


def test_the_required_entries_exist() -> None:
    names = {e.name: e.kind for e in list_entries()}
    for name in CHIPS:
        assert names[name] == "chip"
    for name in PROCESSES:
        assert names[name] == "process"
    for name in PACKAGES:
        assert names[name] == "package"
    assert [e.kind for e in list_entries("die")] == ["die"] * len(list_entries("die"))


def test_every_fact_has_a_source_and_a_date_or_is_marked_unknown() -> None:
    known = sources()
    count = 0
    for entry in list_entries():
        for path, fact in entry.facts():
            count += 1
            if fact.is_unknown:
                assert fact.unknown, (entry.name, path)
                continue
            assert fact.source in known, (entry.name, path)
            assert fact.date, (entry.name, path)
            assert fact.value is not None or fact.low is not None or fact.high is not None
    assert count > 100


def test_every_number_in_a_package_description_cites_a_source() -> None:
    described = [e for e in list_entries("package") if e.model is not None]
    assert {e.name for e in described} >= {
        "ascend-910c-package",
        "h100-package",
        "b200-package",
        "mi300x-package",
    }
    for entry in described:
        assert entry.model is not None
        cited = entry.model["sources"]
        for path in catalog._numbers("", entry.model):
            assert cited[path].split(":")[0] in sources(), (entry.name, path)
        load_package(entry.name)  # and it builds


def test_csis_60_percent_is_reported_not_measured() -> None:
    fact = get_entry("ascend-910c").fact("h100_ratio_inference")
    assert fact.value == 0.6 and fact.status == "reported" and fact.source == "csis-2025"


def test_derived_figures_by_hand() -> None:
    # TPP = dense 8-bit TOPS x 8 (BIS 3A090): H100 SXM 1,979 x 8.
    assert total_processing_performance("h100-sxm").value == 1979.0 * 8
    assert total_processing_performance("h100-sxm").status == "derived"
    # Epoch AI: H20 ≈ 0.15 H100e on dense 8-bit TOPS.
    assert compute_equivalents("h20") == pytest.approx(296 / 1979)
    assert compute_equivalents("h20") == pytest.approx(0.15, abs=0.005)
    assert compute_equivalents("ascend-910b", basis="dense_bf16_tflops") == pytest.approx(340 / 989)
    assert compute_equivalents("ascend-910", basis="dense_bf16_tflops") is None
    with pytest.raises(UnknownNameError, match="basis"):
        compute_equivalents("h20", basis="vibes")


def test_implied_smic_d0_from_csis_yield_by_hand() -> None:
    rows = implied_defect_densities("smic-n+2", ("poisson", "seeds"))
    first = [r for r in rows if r["die"] == "ascend-910b-die" and r["yield"] == "0.2"]
    poisson = next(r for r in first if r["model"] == "poisson")
    seeds = next(r for r in first if r["model"] == "seeds")
    assert poisson["defect_density_per_cm2"] == pytest.approx(-math.log(0.2) / 6.6561, rel=1e-9)
    assert seeds["defect_density_per_cm2"] == pytest.approx((1 / 0.2 - 1) / 6.6561, rel=1e-9)
    kirin = next(r for r in rows if r["die"] == "kirin-9000s-die" and r["model"] == "poisson")
    low, high = kirin["defect_density_per_cm2"]
    assert low == pytest.approx(-math.log(0.7) / 1.07) and high == pytest.approx(
        -math.log(0.5) / 1.07
    )


def test_a_chip_name_reaches_its_package() -> None:
    pkg = load_package("ascend-910c")
    assert pkg.dies_per_package == {"910B die": 2} and pkg.hbm_stacks_per_package == 8
    assert pkg.package_yield == pytest.approx(0.75, rel=1e-12)


def test_unknown_names_list_the_valid_ones() -> None:
    with pytest.raises(UnknownNameError, match="h100-sxm"):
        get_entry("h100")
    with pytest.raises(UnknownNameError, match="chip, die, process, package"):
        list_entries("fab")
    with pytest.raises(UnknownNameError, match="dense_8bit_tops"):
        get_entry("h100-sxm").fact("speed")
    with pytest.raises(CatalogError, match="no package description"):
        package_spec("cowos-s")


# --------------------------------------------------------------------------- malformed data


def _with(monkeypatch: pytest.MonkeyPatch, files: dict[str, dict[str, Any]]) -> None:
    real = catalog._read

    def fake(name: str) -> dict[str, Any]:  # the real file plus the broken entry
        return {**real(name), **files.get(name, {})}

    monkeypatch.setattr(catalog, "_read", fake)
    catalog._catalog.cache_clear()
    catalog.sources.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_cache() -> Any:
    yield
    catalog._catalog.cache_clear()
    catalog.sources.cache_clear()


_DIE = {
    "display_name": "d",
    "process": "tsmc-n7",
    "width_mm": {"unknown": "x"},
    "height_mm": {"unknown": "x"},
    "physical_units": {"unknown": "x"},
}


@pytest.mark.parametrize(
    ("area", "message"),
    [
        (100.0, "a number must be a fact with its source"),
        ({"value": 100.0}, "source must be an id"),
        ({"value": 100.0, "source": "csis-2025", "status": "gossip"}, "status must be one of"),
        ({"value": 1.0, "unknown": "x"}, "an unknown fact has no value"),
        ({"low": 3.0, "high": 1.0, "source": "csis-2025"}, "low must not exceed high"),
        ({"value": 1.0, "source": "csis-2025", "date": "soon"}, "date must be"),
        ({"value": 1.0, "source": "waferlab-derived"}, "derived fact states the date"),
        ({"value": 1.0, "source": "csis-2025", "color": "red"}, "unknown key 'color'"),
    ],
)
def test_malformed_facts_are_named_by_file_entry_and_key(
    monkeypatch: pytest.MonkeyPatch, area: Any, message: str
) -> None:
    _with(monkeypatch, {"dies.toml": {"bad-die": {**_DIE, "area_mm2": area}}})
    with pytest.raises(CatalogError, match=message) as err:
        list_entries()
    assert "catalog/dies.toml: [bad-die].area_mm2" in str(err.value)


def test_broken_references_and_missing_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    area = {"value": 1.0, "source": "csis-2025"}
    _with(monkeypatch, {"dies.toml": {"bad-die": {**_DIE, "area_mm2": area, "process": "n1"}}})
    with pytest.raises(CatalogError, match="no process called 'n1'"):
        list_entries()
    _with(monkeypatch, {"dies.toml": {"bad-die": {"display_name": "d"}}})
    with pytest.raises(CatalogError, match=r"\[bad-die\]: missing process"):
        list_entries()
    _with(monkeypatch, {"sources.toml": {"s": {"title": "t", "publisher": "p", "date": "May"}}})
    with pytest.raises(CatalogError, match=r"sources.toml: \[s\]: date must be"):
        sources()


def test_a_package_description_number_without_a_source_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    model = {
        "name": "p",
        "final_yield": 0.9,
        "components": [{"name": "d", "count": 1}],
        "sources": {"components.d.count": "csis-2025: one"},
    }
    _with(
        monkeypatch,
        {"packages.toml": {"p": {"display_name": "p", "technology": "t", "model": model}}},
    )
    with pytest.raises(CatalogError, match=r"final_yield has no entry in model\.sources"):
        list_entries()


# --------------------------------------------------------------------------- package files


def test_package_file_round_trip_and_errors(tmp_path: Path) -> None:
    spec = tmp_path / "p.toml"
    spec.write_text(
        'name = "two dies"\nsubstrate_cost_usd = 10.0\n'
        '[[components]]\nname = "die"\ncount = 2\npart_yield = 0.5\nraw_cost_usd = 50.0\n'
        "bond_yield = 0.99\n"
        '[[components]]\nname = "HBM"\nkind = "hbm"\ncount = 4\nlayers = 8\nlayer_yield = 0.99\n'
        "known_good_cost_usd = 300.0\ntest_coverage = 0.9\n",
        "utf-8",
    )
    pkg = load_package(spec)
    hbm_escape_free = (0.99**8) ** 0.1
    assert pkg.package_yield == pytest.approx(0.99**2 * hbm_escape_free**4, rel=1e-12)
    big = tmp_path / "big.toml"
    big.write_text("#" * (catalog.MAX_SPEC_BYTES + 1), "utf-8")
    with pytest.raises(CatalogError, match="larger than"):
        package_spec(big)
    bad = tmp_path / "bad.toml"
    bad.write_text("name = ", "utf-8")
    with pytest.raises(CatalogError, match="not valid TOML"):
        package_spec(bad)
    with pytest.raises(UnknownNameError, match="or a path to a package TOML file"):
        package_spec(tmp_path / "missing.toml")


@pytest.mark.parametrize(
    ("spec", "key"),
    [
        ({"components": []}, "components"),
        ({"components": [{"name": "d", "count": 1, "colour": 1}]}, "components[0].colour"),
        ({"components": [{"name": "d", "count": 0}]}, "components[0].count"),
        (
            {
                "components": [
                    {
                        "name": "d",
                        "count": 1,
                        "die": {
                            "width_mm": -1.0,
                            "height_mm": 1.0,
                            "wafer_cost_usd": 1.0,
                            "part_yield": 0.5,
                        },
                    }
                ]
            },
            "components[0].die.part_yield",
        ),
        (
            {
                "components": [
                    {
                        "name": "d",
                        "count": 1,
                        "part_yield": 0.5,
                        "die": {"width_mm": -1.0, "height_mm": 1.0, "wafer_cost_usd": 1.0},
                    }
                ]
            },
            "components[0].die.width_mm",
        ),
        (
            {"components": [{"name": "d", "count": 1}], "interposer": {"area_mm2": -5.0}},
            "interposer.area_mm2",
        ),
        (
            {
                "components": [{"name": "d", "count": 1}],
                "interposer": {"width_mm": 10.0, "height_mm": 10.0, "count": 0},
            },
            "interposer.count",
        ),
        (
            {
                "components": [{"name": "d", "count": 1}],
                "final_yield": 0.9,
                "target_package_yield": 0.5,
            },
            "final_yield",
        ),
        (
            {
                "components": [{"name": "d", "count": 1, "bond_yield": 0.5}],
                "target_package_yield": 0.9,
            },
            "target_yield",
        ),
    ],
)
def test_package_description_errors_name_the_key(spec: dict[str, Any], key: str) -> None:
    with pytest.raises(InvalidParameterError) as err:
        package_from_spec(spec)
    assert err.value.parameter == key, str(err.value)


def test_fact_text() -> None:
    assert Fact(value=826.0, source="s").text() == "826"
    assert Fact(low=280.0, high=400.0, source="s").text() == "280–400"
    assert Fact(high=0.1, source="s").text() == "≤ 0.1"
    assert Fact(unknown="why").text() == "unknown"


def test_catalog_files_are_package_data() -> None:
    from importlib import resources

    folder = resources.files("waferlab") / "data" / "catalog"
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(".toml"))
    assert names == ["chips.toml", "dies.toml", "packages.toml", "processes.toml", "sources.toml"]
