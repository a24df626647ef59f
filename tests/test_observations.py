"""waferlab.observations: grouping for fits (moved from the calibrate command)."""

from __future__ import annotations

import pytest

import waferlab.calibration as calibration
from waferlab.errors import UnknownNameError
from waferlab.observations import (
    NoMatchingObservationsError,
    Observation,
    fit_groups,
    load_dataset,
)

DATA = load_dataset("csis-2025")


def test_old_import_paths_keep_working() -> None:
    for name in (
        "Observation",
        "ObservationFileError",
        "load_dataset",
        "load_observations",
        "select",
    ):
        assert getattr(calibration, name) is getattr(
            __import__("waferlab.observations").observations, name
        )


def test_groups_per_process_and_count() -> None:
    groups, skipped = fit_groups(DATA, counts=None, include_forecasts=True)
    keys = [(g.process, g.counts) for g in groups]
    assert keys == [
        ("TSMC N7", "fully-good"),
        ("SMIC N+2", "fully-good"),
        ("SMIC N+2", "good-or-degraded"),
        ("SMIC N+2", "unspecified"),
    ]
    assert skipped == ()
    # every chosen observation is in exactly one group, fitted (nothing held out)
    names = [o.name for g in groups for o in g.fitted]
    assert sorted(names) == sorted(o.name for o in DATA)
    for g in groups:
        assert all(o.process == g.process and o.counts == g.counts for o in g.fitted)
        assert g.held_out == ()
        assert set(g.context) == {o for o in DATA if o.process == g.process}


def test_fit_to_holds_out_and_skips() -> None:
    groups, skipped = fit_groups(DATA, fit_to=["GA100"])
    assert [(g.process, [o.name for o in g.fitted]) for g in groups] == [("TSMC N7", ["GA100"])]
    assert [o.name for o in groups[0].held_out] == ["A12"]
    assert [(s.process, s.reason) for s in skipped] == [("SMIC N+2", "none_named_in_fit_to")]
    with pytest.raises(UnknownNameError, match="fit_to"):
        fit_groups(DATA, fit_to=["H100"])


def test_no_match_says_what_would_help() -> None:
    only_forecast = (Observation("F", 100.0, 0.5, 0.5, source="", process="P", status="forecast"),)
    with pytest.raises(NoMatchingObservationsError) as info:
        fit_groups(only_forecast)
    assert info.value.forecasts_would_match and info.value.other_counts == ()
    assert "include_forecasts=True" in str(info.value)
    degraded = (
        Observation("D", 100.0, 0.5, 0.5, source="", process="P", counts="good-or-degraded"),
    )
    with pytest.raises(NoMatchingObservationsError) as info:
        fit_groups(degraded)
    assert info.value.other_counts == ("good-or-degraded",)
