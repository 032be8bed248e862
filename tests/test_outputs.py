"""The CSV writers: streamed in blocks, the same bytes as the whole table formatted at once."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analyzer import outputs


def _columns(n: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    x = rng.normal(size=n) * 1e3
    x[::7] = np.nan
    return {
        "frame": np.arange(n),
        "time_s": np.arange(n) / 60.0,
        "detected": rng.random(n) > 0.2,
        "push_leg": np.array(["left", "right", ""] * n, dtype=object)[:n],
        "value": x,
        "tiny": x * 1e-9,
    }


@pytest.mark.parametrize("n", [0, 1, 10, 1000])
@pytest.mark.parametrize("block_rows", [outputs.CSV_BLOCK_ROWS, 7, 1])
def test_columns_csv_in_blocks_is_the_whole_table(tmp_path: Path, n: int, block_rows: int) -> None:
    columns = _columns(n)
    path = tmp_path / "frames.csv"
    outputs.write_columns_csv(path, columns, block_rows=block_rows)
    whole = outputs.csv_text(list(columns), zip(*(np.asarray(a).tolist() for a in columns.values())))
    assert path.read_bytes() == whole.encode("utf-8")


def test_rows_csv_keeps_the_column_order_and_ignores_extra_keys(tmp_path: Path) -> None:
    path = tmp_path / "steps.csv"
    outputs.write_rows_csv(path, ("b", "a"), [{"a": 1, "b": 0.5, "c": "x"}, {"a": None, "b": float("nan")}])
    assert path.read_text(encoding="utf-8") == "b,a\n0.5,1\n,\n"


def test_columns_of_different_lengths_write_nothing(tmp_path: Path) -> None:
    path = tmp_path / "frames.csv"
    with pytest.raises(ValueError):
        outputs.write_columns_csv(path, {"a": np.zeros(3), "b": np.zeros(4)})
    assert list(tmp_path.iterdir()) == []
