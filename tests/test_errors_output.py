"""Validators, error classes and output helpers."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest

from waferlab.errors import (
    InvalidParameterError,
    UnknownNameError,
    check_array,
    check_choice,
    check_integer,
    check_real,
)
from waferlab.output import format_table, to_csv, to_json, write_text_atomic


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf, "3", None, True])
def test_check_real_rejects(bad: object) -> None:
    with pytest.raises(InvalidParameterError) as info:
        check_real("die_width_mm", bad, low=0.0, low_open=True)
    assert "die_width_mm" in str(info.value)
    assert "> 0" in str(info.value)
    assert info.value.parameter == "die_width_mm"


def test_check_real_range_text() -> None:
    with pytest.raises(InvalidParameterError, match=r"in \(0, 1\] \(got 1.5\)"):
        check_real("die_yield", 1.5, low=0.0, high=1.0, low_open=True)
    assert check_real("die_yield", 1, low=0.0, high=1.0) == 1.0


def test_check_array_names_first_bad_element() -> None:
    with pytest.raises(InvalidParameterError, match=r"got -2.0"):
        check_array("die_area_mm2", [1.0, -2.0, -3.0], low=0.0, low_open=True)
    np.testing.assert_array_equal(check_array("x", [[1, 2]]), [[1.0, 2.0]])
    with pytest.raises(InvalidParameterError):
        check_array("x", ["a"])


def test_check_integer_and_choice() -> None:
    assert check_integer("n", 3.0, low=1) == 3
    with pytest.raises(InvalidParameterError):
        check_integer("n", 0, low=1)
    with pytest.raises(UnknownNameError) as info:
        check_choice("model", "gauss", ["poisson", "murphy"])
    assert str(info.value) == "model must be one of poisson, murphy (got 'gauss')"
    assert isinstance(info.value, KeyError) and isinstance(info.value, ValueError)


def test_json_has_no_nan_and_converts_numpy() -> None:
    text = to_json({"a": np.float32(0.5), "b": [np.int16(2)], "c": math.inf})
    assert json.loads(text) == {"a": 0.5, "b": [2], "c": None}


def test_table_and_csv() -> None:
    table = format_table([["a", 1234567], ["bb", 2.5]], ["name", "n"])
    lines = table.splitlines()
    assert lines[0].split() == ["name", "n"]
    assert lines[2].endswith("1,234,567")
    assert to_csv([{"x": 1, "y": np.float64(2.0)}], ["x", "y"]) == "x,y\n1,2.0\n"
    huge = format_table([[10**300, 1.9e35]], ["n", "d0"]).splitlines()[2]
    assert huge.split() == ["1e+300", "1.9e+35"]


def test_atomic_write_leaves_nothing_on_failure(tmp_path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "out.txt"
    write_text_atomic(target, "hello")
    assert target.read_text() == "hello"
    with pytest.raises(OSError):
        write_text_atomic(tmp_path / "missing-dir" / "x.txt", "data")
    assert sorted(os.listdir(tmp_path)) == ["out.txt"]


def test_atomic_write_uses_the_usual_file_mode(tmp_path) -> None:  # type: ignore[no-untyped-def]
    mask = os.umask(0o022)
    try:
        target = write_text_atomic(tmp_path / "mode.txt", "x")
    finally:
        os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o644


def test_write_files_atomic_writes_all(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from waferlab.output import write_files_atomic

    written = write_files_atomic(tmp_path / "new" / "dir", {"a.txt": b"1", "b.bin": b"\x00"})
    assert [p.name for p in written] == ["a.txt", "b.bin"]
    assert written[0].read_bytes() == b"1"
    assert sorted(os.listdir(tmp_path / "new" / "dir")) == ["a.txt", "b.bin"]


def test_write_files_atomic_writes_none_when_one_fails(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import tempfile

    from waferlab.output import write_files_atomic

    (tmp_path / "old.txt").write_text("kept")
    real_mkstemp = tempfile.mkstemp
    calls = {"n": 0}

    def failing_mkstemp(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 3:  # the third file cannot be created
            raise PermissionError(13, "Permission denied", "whatever.tmp")
        return real_mkstemp(*args, **kwargs)

    monkeypatch.setattr(tempfile, "mkstemp", failing_mkstemp)
    with pytest.raises(PermissionError) as info:
        write_files_atomic(tmp_path, {"a": b"1", "old.txt": b"new", "c": b"3"})
    assert info.value.filename == str(tmp_path / "c")  # names the target, not the temporary
    assert sorted(os.listdir(tmp_path)) == ["old.txt"]
    assert (tmp_path / "old.txt").read_text() == "kept"


def test_write_files_atomic_refuses_a_directory_target(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from waferlab.output import write_files_atomic

    (tmp_path / "b").mkdir()
    with pytest.raises(IsADirectoryError):
        write_files_atomic(tmp_path, {"a": b"1", "b": b"2"})
    assert sorted(os.listdir(tmp_path)) == ["b"]


def test_infinity_is_called_not_finite() -> None:
    with pytest.raises(InvalidParameterError, match=r"must be finite and >= 0 \(got inf\)"):
        check_array("defect_density_per_cm2", [0.1, math.inf], low=0.0)
    with pytest.raises(InvalidParameterError, match=r"must be in \[0, 1\] \(got inf\)"):
        check_real("die_yield", math.inf, low=0.0, high=1.0)


def test_non_numbers_are_called_so() -> None:
    with pytest.raises(InvalidParameterError, match=r"must be a number >= 0 \(got True\)"):
        check_array("die_area_mm2", True, low=0.0)
    with pytest.raises(InvalidParameterError, match=r"must be a number > 0 \(got '100'\)"):
        check_real("wafer_cost_usd", "100", low=0.0, low_open=True)
    with pytest.raises(InvalidParameterError, match=r"must be a number >= 0"):
        check_array("die_area_mm2", ["1", "2"], low=0.0)


def test_unanswerable_inverse_raises_no_solution_error() -> None:
    from waferlab.errors import NoSolutionError
    from waferlab.yield_models import defect_density_for_yield

    # No critical area: every die is good, so no density gives 50 %.
    with pytest.raises(NoSolutionError) as info:
        defect_density_for_yield("poisson", 100.0, 0.5, critical_area_fraction=0.0)
    assert info.value.parameter == "critical_area_fraction"
    assert isinstance(info.value, InvalidParameterError)
    # lambda = -ln(1e-300) = 690.8 defects on a 1e-306 mm2 die needs D0 = 6.9e310 /cm2,
    # beyond the largest float: no finite density gives that yield.
    with pytest.raises(NoSolutionError):
        defect_density_for_yield("poisson", 1e-306, 1e-300)
    # An argument out of range is still a plain InvalidParameterError.
    with pytest.raises(InvalidParameterError) as plain:
        defect_density_for_yield("poisson", 100.0, 1.5)
    assert not isinstance(plain.value, NoSolutionError)


# The public registries, the argument each one's names fill, and a few of its names
# (written out here, not read from the registry under test).
REGISTRIES = [
    ("waferlab.yield_models", "YIELD_MODELS", "model", ("poisson", "negative_binomial")),
    ("waferlab.harvest", "HARVEST_MODELS", "model", ("poisson", "seeds")),
    ("waferlab.observations", "DATASETS", "dataset", ("csis-2025",)),
    ("waferlab.funnel", "COMPUTE_EQUIVALENT_BASES", "compute_equivalent_basis", ("reported",)),
    ("waferlab.uncertainty", "DISTRIBUTIONS", "distribution", ("lognormal", "pert")),
    ("waferlab.output", "BINDING_TEXT", "binding_constraint", ("dies", "hbm")),
]


@pytest.mark.parametrize(("module", "name", "parameter", "some"), REGISTRIES)
def test_registry_lookup_error_lists_the_names(
    module: str, name: str, parameter: str, some: tuple[str, ...]
) -> None:
    import importlib

    registry = getattr(importlib.import_module(module), name)
    with pytest.raises(UnknownNameError) as info:
        registry["no-such-name"]
    err = info.value
    assert isinstance(err, KeyError) and isinstance(err, InvalidParameterError)
    assert err.parameter == parameter and err.value == "no-such-name"
    assert str(err).startswith(f"{parameter} must be one of ")
    for valid in some:
        assert valid in err.valid and valid in str(err)
    assert registry.get("no-such-name") is None and "no-such-name" not in registry
    assert ["unhashable"] not in registry  # a list is no name: no TypeError
    with pytest.raises(TypeError):
        registry["no-such-name"] = 1  # read-only


def test_top_level_yield_models_lookup_lists_the_models() -> None:
    import waferlab

    with pytest.raises(KeyError, match=r"model must be one of poisson, murphy, .*\(got 'x'\)"):
        waferlab.YIELD_MODELS["x"]


@pytest.mark.parametrize("bad", [None, 5, b"csis-2025-ramp", ["csis-2025-ramp"]])
def test_load_scenario_rejects_a_non_path_by_name(bad: object) -> None:
    import waferlab

    with pytest.raises(InvalidParameterError) as info:
        waferlab.load_scenario(bad)  # type: ignore[arg-type]
    assert info.value.parameter == "name_or_path"
    assert "a built-in scenario name or the path of a .toml file" in str(info.value)
