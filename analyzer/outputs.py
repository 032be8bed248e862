"""The output contract (``../shared/docs/outputs.md``): frames.csv, steps.csv, summary.json.

Column names here are a promise to users' scripts and spreadsheets: add columns freely,
never rename or remove one. Writing is atomic (``analyzer.atomic``). Missing numbers are
empty CSV cells and ``null`` in JSON; booleans are ``true``/``false``.
"""
from __future__ import annotations

import csv
import io
import itertools
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from analyzer import atomic

MOMENTUM_GROUPS: tuple[str, ...] = (
    "arms", "torso", "push_leg", "swing_leg", "whole_body", "left_arm", "right_arm", "left_leg", "right_leg",
)

STEP_COLUMNS: tuple[str, ...] = (
    "step", "push_leg", "touchdown_frame", "touchdown_s", "toeoff_frame", "toeoff_s", "next_touchdown_s",
    "contact_s", "flight_s", "step_time_s", "step_frequency_hz", "push_peak_s", "swing_peak_s", "lag_ms",
    "counterbalance_ratio", "flagged", "flag_reason",
    # Beyond the contract's minimum:
    "flag_kinds", "lag_centroid_ms", "swing_shift_ms", "lateness", "push_peak_kg_m2_s", "swing_peak_kg_m2_s", "push_peak_norm", "swing_peak_norm",
    "ground_impulse_norm", "timing_uncertainty_ms", "step_length_m", "speed_m_s", "push_leg_shift_ms",
    "relative_shift_ms",
)

BATCH_COLUMNS: tuple[str, ...] = (
    "video", "status", "message", "steps", "flagged_steps", "cadence_steps_per_min", "mean_contact_s", "report",
    "mean_flight_s", "mean_lag_ms", "view", "fps", "warnings",
)

#: Hidden folder in a video's output folder: the stills' undrawn frames (``analyzer.stillcache``),
#: a cache like ``landmarks.npz``, not part of the contract.
STILLS_CACHE_DIR = ".stills-cache"


def format_cell(value: Any) -> str:
    """One CSV cell: empty for missing numbers, true/false for booleans, 6 significant digits."""
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        f = float(value)
        if not math.isfinite(f):
            return ""
        return f"{f:.6g}"
    return str(value)


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([format_cell(v) for v in row])
    return buffer.getvalue()


def write_csv(path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Write a CSV (the same text as :func:`csv_text`) row by row, atomically.

    Rows are formatted and written as they come, so a long table is never held as text.
    """
    with atomic.atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(header)
            for row in rows:
                writer.writerow([format_cell(v) for v in row])
            fh.flush()
            os.fsync(fh.fileno())


#: Rows of :func:`write_columns_csv` converted to Python values at once (a 10-minute clip's
#: frames.csv as Python floats would take about 70 MB).
CSV_BLOCK_ROWS = 4096


def write_columns_csv(path, columns: Mapping[str, np.ndarray], *, block_rows: int = CSV_BLOCK_ROWS) -> None:
    """Write equal-length columns as a CSV, atomically, *block_rows* rows at a time."""
    names = list(columns)
    arrays = [np.asarray(columns[n]) for n in names]
    lengths = {a.shape[0] for a in arrays}
    if len(lengths) > 1:
        raise ValueError(f"columns differ in length: {lengths}")
    count = lengths.pop() if arrays else 0
    blocks = (zip(*(a[start : start + block_rows].tolist() for a in arrays))
              for start in range(0, count, block_rows))
    write_csv(path, names, itertools.chain.from_iterable(blocks))


def write_rows_csv(path, columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    """Write dict rows as a CSV with the given column order (extra keys ignored), atomically."""
    write_csv(path, columns, ([row.get(c) for c in columns] for row in rows))


def read_rows_csv(path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def to_jsonable(value: Any) -> Any:
    """numpy scalars and arrays to plain Python; NaN and infinities to None."""
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return f if math.isfinite(f) else None
    return value


def write_json(path, data: Mapping[str, Any]) -> None:
    atomic.write_text(path, json.dumps(to_jsonable(data), indent=2, ensure_ascii=False) + "\n")
