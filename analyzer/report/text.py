"""Reading the plain step/summary values and turning them into words and numbers for people.

The pipeline hands the report plain structures; values may arrive as Python numbers,
numpy scalars, or strings read back from ``steps.csv`` (``"true"``, ``""``, ``"nan"``).
Everything shown to a user goes through the helpers here, so that a missing value reads
as an em dash everywhere, milliseconds are integers and ratios have two decimals.
"""
from __future__ import annotations

import html
import math
from collections.abc import Mapping
from typing import Any

#: What a missing value looks like on the page.
MISSING = "\u2014"

#: Short words for each flag kind (``flag_kinds`` in steps.csv, ``flags`` in summary.json).
FLAG_KIND_TITLES: dict[str, str] = {
    "swing_lag": "swing side late",
    "under_counterbalanced": "swing side short of the push",
    "not_keeping_up": "swing side not keeping up",
}

#: The same in one or two words, for tight spaces ("2 late · 1 short").
FLAG_KIND_SHORT: dict[str, str] = {
    "swing_lag": "late",
    "under_counterbalanced": "short",
    "not_keeping_up": "not keeping up",
}


def esc(value: object) -> str:
    """HTML-escape any value for element content and quoted attributes."""
    return html.escape(str(value), quote=True)


def to_float(value: Any) -> float:
    """A float, or NaN for ``None``, empty strings and anything unparseable."""
    if value is None:
        return float("nan")
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def timing_uncertainty_ms(summary: Mapping[str, Any]) -> float:
    """The summary's timing uncertainty in ms, or NaN when it is missing or not a positive number."""
    value = to_float(summary.get("timing_uncertainty_ms"))
    return value if math.isfinite(value) and value > 0 else float("nan")


def to_int(value: Any) -> int | None:
    """An int, or ``None`` when *value* is missing or not a finite number."""
    number = to_float(value)
    return int(round(number)) if math.isfinite(number) else None


def to_bool(value: Any) -> bool:
    """``True`` for true values, including the CSV spellings ``"true"``, ``"1"``, ``"yes"``."""
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes", "y", "t"}
    if value is None:
        return False
    number = to_float(value)
    return bool(value) if math.isnan(number) else number != 0


def finite(value: Any) -> bool:
    return math.isfinite(to_float(value))


def fmt_number(value: Any, digits: int = 0, unit: str = "", *, signed: bool = False) -> str:
    """``value`` with *digits* decimals and an optional unit, or the missing-value dash."""
    number = to_float(value)
    if not math.isfinite(number):
        return MISSING
    if digits == 0:
        number = round(number) + 0.0  # + 0.0 turns -0.0 into 0.0
    text = f"{number:+.{digits}f}" if signed else f"{number:.{digits}f}"
    text = text.replace("-", "\u2212")  # a real minus sign
    return f"{text}\u2009{unit}" if unit else text


def data_value(number: float) -> str:
    """A number for a ``data-value`` attribute (what tables sort by); ``""`` when not finite."""
    return f"{number:.6g}" if math.isfinite(number) else ""


def fmt_ratio(value: Any) -> str:
    """A ratio (or any value near 1) with two decimals."""
    return fmt_number(value, 2)


def fmt_significant(value: Any, figures: int = 3) -> str:
    """*value* to a few significant figures, for quantities whose scale varies (normalised momenta)."""
    number = to_float(value)
    if not math.isfinite(number):
        return MISSING
    if number == 0:
        return "0"
    digits = max(0, figures - 1 - int(math.floor(math.log10(abs(number)))))
    return fmt_number(number, digits)


def fmt_factor(value: Any) -> str:
    """A multiplier as written by hand (``2×``, ``1.5×``), or the missing-value dash."""
    number = to_float(value)
    return f"{number:g}\u00d7" if math.isfinite(number) else MISSING


def fmt_percent(fraction: Any) -> str:
    return fmt_number(to_float(fraction) * 100.0, 0, "%")


def flag_kinds(step: Mapping[str, Any]) -> list[str]:
    """The flag kinds of one step row (``flag_kinds`` is ``;``-separated)."""
    raw = step.get("flag_kinds") or ""
    if isinstance(raw, (list, tuple, set)):
        raw = ";".join(str(k) for k in raw)
    elif not isinstance(raw, str):
        raw = str(raw)
    return [kind.strip() for kind in raw.split(";") if kind.strip()]


def flag_phrase(kind: str, step: Mapping[str, Any]) -> str:
    """A few words saying what one flag means for this step, with its number."""
    if kind == "swing_lag":
        lag = to_float(step.get("lag_ms"))
        if math.isfinite(lag):
            direction = "late" if lag >= 0 else "early"
            return f"swing side {direction} by {abs(round(lag)):d} ms"
    if kind == "under_counterbalanced":
        ratio = to_float(step.get("counterbalance_ratio"))
        if math.isfinite(ratio):
            return f"swing side at {ratio:.2f} of the push"
    return FLAG_KIND_TITLES.get(kind, kind.replace("_", " "))


def flag_summary(step: Mapping[str, Any]) -> str:
    """Why a step is flagged, in a few words ("swing side late by 50 ms"); ``""`` if it is not."""
    if not to_bool(step.get("flagged")):
        return ""
    phrases = [flag_phrase(kind, step) for kind in flag_kinds(step)]
    if phrases:
        return "; ".join(phrases)
    reason = str(step.get("flag_reason") or "").strip()
    return reason.rstrip(".") or "flagged"


def step_number(step: Mapping[str, Any]) -> int | None:
    return to_int(step.get("step"))
