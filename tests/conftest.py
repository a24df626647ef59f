"""Shared fixtures (fixtures only; tests live in the test_*.py modules)."""

from __future__ import annotations

import os

import matplotlib
import pytest
from hypothesis import settings

matplotlib.use("Agg")

# Property tests: no per-example deadline (timings on a shared 2-core machine are noisy).
# CI runs the "ci" profile (derandomized, so a run is reproducible); "stress" runs many
# more examples: HYPOTHESIS_PROFILE=stress pytest -k property
settings.register_profile("default", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True, print_blob=True)
settings.register_profile("stress", deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture()
def runner():  # type: ignore[no-untyped-def]
    """A click CliRunner (stdout and stderr kept apart)."""
    from click.testing import CliRunner

    return CliRunner()


@pytest.fixture()
def cli():  # type: ignore[no-untyped-def]
    """The root ``waferlab`` command group."""
    from waferlab.cli.main import cli as root

    return root


@pytest.fixture(scope="session")
def built_report():  # type: ignore[no-untyped-def]
    """The end-to-end report, built once per test session (the slowest result)."""
    from waferlab.report import build_report

    return build_report()


@pytest.fixture()
def cached_report(monkeypatch, built_report):  # type: ignore[no-untyped-def]
    """Make ``waferlab report`` reuse :func:`built_report` instead of rebuilding it.

    The command still runs end to end (options, writing, output); only the
    computation, already tested through ``built_report``, is not repeated.
    """
    import waferlab.report

    monkeypatch.setattr(waferlab.report, "build_report", lambda *a, **k: built_report)
    return built_report
