"""Shared fixtures (fixtures only; tests live in the test_*.py modules)."""

from __future__ import annotations

import matplotlib
import pytest

matplotlib.use("Agg")


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
