"""Body segment inertia parameters: de Leva (1996), adjusted Zatsiorsky-Seluyanov.

de Leva P. (1996) Adjustments to Zatsiorsky-Seluyanov's segment inertia parameters.
J Biomech 29(9):1223-1230, Table 4.

This module is *data* plus scaling: masses as fractions of body mass, centre-of-mass
positions as fractions of segment length from the proximal endpoint, radii of gyration
as fractions of segment length. Both the analyzer (``analyzer.momentum``) and the
synthetic sprinter's independent ground truth (``analyzer.synthetic.truth``) read this
table; each computes angular momentum with its own code.

How each segment maps onto MediaPipe's landmarks (``analyzer.kinematics`` builds the
endpoints) is documented in ``docs/METHOD.md``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Sex = Literal["male", "female"]

#: de Leva's reference subjects.
REFERENCE_STATURE_M: dict[str, float] = {"male": 1.741, "female": 1.735}
REFERENCE_MASS_KG: dict[str, float] = {"male": 73.0, "female": 61.9}


@dataclass(frozen=True)
class SegmentParams:
    """One segment's de Leva parameters for one sex.

    Attributes:
        name: segment name (``head``, ``trunk``, ``upper_arm``, ``forearm``, ``hand``,
            ``thigh``, ``shank``, ``foot``).
        mass_fraction: segment mass / body mass.
        com_fraction: distance of the segment CoM from the proximal endpoint / segment length.
        r_sagittal, r_transverse, r_longitudinal: radii of gyration / segment length.
        length_fraction: de Leva's mean segment length / reference stature (used where a
            segment's length cannot be measured, e.g. the head, which has no vertex landmark).
    """

    name: str
    mass_fraction: float
    com_fraction: float
    r_sagittal: float
    r_transverse: float
    r_longitudinal: float
    length_fraction: float

    @property
    def r_transverse_mean(self) -> float:
        """Radius of gyration about an axis perpendicular to the long axis (mean of the two).

        de Leva's sagittal and transverse radii differ by at most a few percent for every
        segment; the two transcriptions in circulation disagree on which is which, so the
        analyzer uses their mean for rotations of the long axis (see docs/METHOD.md).
        """
        return 0.5 * (self.r_sagittal + self.r_transverse)


# name: (mass, com, r_sag, r_trans, r_long, length_mm) for (male, female)
_TABLE: dict[str, tuple[tuple[float, ...], tuple[float, ...]]] = {
    "head":      ((0.0694, 0.5976, 0.362, 0.376, 0.312, 203.3), (0.0668, 0.5894, 0.330, 0.359, 0.318, 200.2)),
    "trunk":     ((0.4346, 0.4310, 0.384, 0.358, 0.197, 531.9), (0.4257, 0.3782, 0.379, 0.361, 0.182, 529.3)),
    "upper_arm": ((0.0271, 0.5772, 0.285, 0.269, 0.158, 281.7), (0.0255, 0.5754, 0.278, 0.260, 0.148, 275.1)),
    "forearm":   ((0.0162, 0.4574, 0.276, 0.265, 0.121, 268.9), (0.0138, 0.4559, 0.261, 0.257, 0.094, 264.3)),
    "hand":      ((0.0061, 0.7900, 0.628, 0.513, 0.401, 86.2), (0.0056, 0.7474, 0.531, 0.454, 0.335, 78.0)),
    "thigh":     ((0.1416, 0.4095, 0.329, 0.329, 0.149, 422.2), (0.1478, 0.3612, 0.369, 0.364, 0.162, 368.5)),
    "shank":     ((0.0433, 0.4395, 0.251, 0.246, 0.102, 434.0), (0.0481, 0.4352, 0.267, 0.263, 0.092, 432.3)),
    "foot":      ((0.0137, 0.4415, 0.257, 0.245, 0.124, 258.1), (0.0129, 0.4014, 0.299, 0.279, 0.139, 228.3)),
}

SEGMENT_NAMES: tuple[str, ...] = tuple(_TABLE)


def de_leva(sex: Sex) -> dict[str, SegmentParams]:
    """The de Leva (1996) parameters for *sex*, keyed by segment name."""
    column = {"male": 0, "female": 1}[sex]
    stature_mm = REFERENCE_STATURE_M[sex] * 1000.0
    out = {}
    for name, rows in _TABLE.items():
        mass, com, r_sag, r_trans, r_long, length_mm = rows[column]
        out[name] = SegmentParams(name, mass, com, r_sag, r_trans, r_long, length_mm / stature_mm)
    return out


#: Medio-lateral half-widths (joint centre to the body's midline) as fractions of stature,
#: used where depth is modelled rather than measured (docs/METHOD.md, "Depth").
#: Hip joint centres: about 0.086 m from the midline in an adult of 1.75 m
#: (Harrington et al. 2007, J Biomech 40:595, HJC ML = 0.33 pelvic width + 7.3 mm,
#: pelvic width ~0.24 m). Shoulder joint centres: about 0.175 m from the midline at 1.75 m
#: (biacromial breadth ~0.23 H, Drillis & Contini 1966, less the acromion-to-joint offset).
HALF_WIDTH_FRACTION: dict[str, float] = {
    "hip": 0.049,
    "shoulder": 0.100,
}


def whole_body_mass_check(sex: Sex) -> float:
    """Sum of all segment mass fractions, with arms and legs counted twice (should be 1)."""
    p = de_leva(sex)
    paired = ("upper_arm", "forearm", "hand", "thigh", "shank", "foot")
    return sum(s.mass_fraction * (2 if s.name in paired else 1) for s in p.values())
