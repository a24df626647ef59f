"""Unit conversion constants.

waferlab keeps industry units: die sizes in mm and mm², defect densities in
defects per cm², money in US dollars. The few conversions live here so that no
module divides by a bare 100.
"""

from __future__ import annotations

#: Square millimetres in one square centimetre.
MM2_PER_CM2: float = 100.0

#: Millimetres in one centimetre.
MM_PER_CM: float = 10.0

#: Months in a year (for converting annual figures to monthly flows).
MONTHS_PER_YEAR: int = 12
