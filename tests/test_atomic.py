from pathlib import Path

import pytest

from analyzer import atomic


def test_write_text_replaces_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.csv"
    atomic.write_text(target, "a,b\n1,2\n")
    atomic.write_text(target, "a,b\n3,4\n")
    assert target.read_text() == "a,b\n3,4\n"
    assert [p.name for p in target.parent.iterdir()] == ["out.csv"]


def test_failed_write_leaves_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic.atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_temporary_keeps_extension(tmp_path: Path) -> None:
    with atomic.atomic_path(tmp_path / "overlay.mp4") as tmp:
        assert tmp.suffix == ".mp4"
        assert tmp.name.startswith(".overlay.partial-")
        tmp.write_bytes(b"x")
    assert (tmp_path / "overlay.mp4").read_bytes() == b"x"
