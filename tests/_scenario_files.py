"""Scenario files shared by the test modules (a test helper; collects no tests)."""

from __future__ import annotations

#: A die on SMIC N+2 whose yield model and D0 are drawn from the SMIC calibration's
#: feasible sets (CSIS 2025 yields of the 910B and the Kirin 9000S).
CALIBRATED_FILE = """
    name = "smic-400"
    description = "A 20 x 20 mm die on SMIC N+2, its yield model from the SMIC calibration"
    [parameters]
    wafer_starts_per_month = 1_000
    gross_dies_per_wafer = 100
    die_width_mm = 20.0
    die_height_mm = 20.0
    yield_model = "murphy"
    defect_density_per_cm2 = 0.3
    [distributions]
    yield_model = { from_calibration = "csis-2025", process = "SMIC N+2" }
    [sources]
    "distributions.yield_model" = "waferlab calibration to the CSIS 2025 SMIC N+2 yields"
    """
