"""Unit conversion constants.

waferlab keeps industry units: die sizes in mm and mm², defect densities in
defects per cm², money in US dollars. The few conversions live here so that no
module divides by a bare 100.
"""

from __future__ import annotations

#: Square millimetres in one square centimetre.
MM2_PER_CM2: float = 100.0
