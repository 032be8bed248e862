"""The colours every view shares, so that orange means the push side everywhere.

Push and swing are an orange/blue pair from the Okabe-Ito palette, which stays distinct
for the common colour-vision deficiencies; flags are never shown by colour alone (they
also carry a label or an icon).
"""
from __future__ import annotations

#: The push side: the push (stance) leg, with the arms and torso that drive with it.
PUSH = "#E69F00"
#: The swing side: the swing leg.
SWING = "#0072B2"
#: The swing side on video, lighter so it stays visible on dark backgrounds.
SWING_ON_VIDEO = "#56B4E9"
#: Arms and torso on video: the push side's companions, a lighter orange.
PUSH_COMPANION_ON_VIDEO = "#F3CD7A"
#: Flagged steps.
FLAG = "#CC3311"
#: Outside steps, and everything neither side owns.
NEUTRAL = "#9AA0A6"
#: Body text.
INK = "#1F2933"
#: Gridlines and thin rules.
GRID = "#E4E7EB"


def hex_to_rgb(colour: str) -> tuple[int, int, int]:
    """``"#E69F00"`` -> ``(230, 159, 0)``."""
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def rgba(colour: str, alpha: float) -> str:
    """A CSS ``rgba()`` string for *colour* at opacity *alpha*."""
    r, g, b = hex_to_rgb(colour)
    return f"rgba({r},{g},{b},{alpha:g})"
