"""Count bounds inside waferlab/funnel.py (issue 12), for the engine's owner to add.

Recommended bounds (docs/funnels.md, "Sanity bounds on counts"):

- ``dies_per_package`` in [1, 64]: the largest packages hold a few to a dozen
  logic dies (MI300X: 8 compute + 4 I/O dies); 64 leaves a factor of 5.
- ``hbm_stacks_per_package`` in [0, 64]: 8 stacks today (B200, MI300X), 12-16
  announced; 64 leaves a factor of 4.

With these and the existing bounds (1e9 wafer starts, 1e7 dies per wafer,
1,200 months) every product stays far inside float precision and no cost per
unit can reach 1e21 dollars.
"""

from __future__ import annotations

import pytest
from _cli import assert_one_line_error

from waferlab.errors import InvalidParameterError
from waferlab.funnel import FunnelInputs

BASE = {"wafer_starts_per_month": 50_000, "gross_dies_per_wafer": 80, "die_yield": 0.2}


@pytest.mark.parametrize(
    ("field", "bad", "good"),
    [
        ("dies_per_package", 65, 64),
        ("dies_per_package", 9223372036854775807, 1),
        ("hbm_stacks_per_package", 65, 64),
        ("hbm_stacks_per_package", 9223372036854775807, 0),
    ],
)
def test_package_counts_are_bounded(field: str, bad: int, good: int) -> None:
    FunnelInputs(**BASE, **{field: good})
    with pytest.raises(InvalidParameterError, match=field) as info:
        FunnelInputs(**BASE, **{field: bad})
    assert "64" in str(info.value)


@pytest.mark.parametrize("key", ["hbm_stacks_per_package", "dies_per_package"])
@pytest.mark.parametrize("command", ["cost", "funnel"])
def test_issue_reproducer(runner, cli, command: str, key: str) -> None:  # type: ignore[no-untyped-def]
    # Reproducer: cost csis-2025-smic-target --set hbm_stacks_per_package=9223372036854775807
    # printed $3.7e21 per unit with exit 0.
    args = [command, "csis-2025-smic-target", "--set", f"{key}=9223372036854775807"]
    assert_one_line_error(runner.invoke(cli, args), 2, "--set", key, command=command)
