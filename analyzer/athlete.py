"""Athlete and per-video settings: command-line values, the sidecar file, and defaults.

The sidecar file ``athletes.csv`` beside the videos gives per-video values so a batch
over a folder of mixed clips needs no per-file typing. It is a plain CSV (a spreadsheet
can write it) with a header and any of these columns::

    video,height_m,mass_kg,sex,fps
    anna_60m.mov,1.68,57,female,
    slowmo_*.mp4,,,,240
    *,1.80,75,male,

``video`` is a file name or a glob pattern (matched against the file name, then the
path relative to the sidecar's folder); the first matching row wins, so put ``*`` last.
Empty cells mean "not given". Command-line values override the sidecar; the sidecar
overrides the defaults. The sidecar nearest the video (its folder, then each parent up
to the batch folder) is used. The file is UTF-8 (a spreadsheet's "CSV UTF-8"); a comma or
a semicolon separates the columns. An unknown column or a bad cell is an error before any
work starts (:func:`check_sidecars`), never a silently ignored value.
"""
from __future__ import annotations

import csv
import fnmatch
import math
from dataclasses import dataclass
from pathlib import Path

from analyzer.segments import REFERENCE_MASS_KG

SIDECAR_NAME = "athletes.csv"
SIDECAR_COLUMNS = ("video", "height_m", "mass_kg", "sex", "fps")

HEIGHT_RANGE_M = (1.0, 2.5)
MASS_RANGE_KG = (20.0, 200.0)
FPS_RANGE = (1.0, 2000.0)
DEFAULT_SEX = "male"
DEFAULT_MASS_KG = 70.0


class SettingsError(ValueError):
    """A bad option or sidecar value: one line, said before any work starts."""


@dataclass(frozen=True)
class Athlete:
    """The inertia model's inputs and where each came from.

    ``height_m`` is None when not given: the scale then comes from the pose model's world
    landmarks and the stature is estimated from them.
    """

    height_m: float | None
    mass_kg: float
    sex: str
    height_given: bool
    mass_given: bool
    sex_given: bool


def check_height(value: float | None, source: str = "--height") -> float | None:
    if value is None:
        return None
    if not HEIGHT_RANGE_M[0] <= value <= HEIGHT_RANGE_M[1]:
        raise SettingsError(f"{source} {value:g} m is not a human height (expected {HEIGHT_RANGE_M[0]:g}-{HEIGHT_RANGE_M[1]:g} m)")
    return float(value)


def check_mass(value: float | None, source: str = "--mass") -> float | None:
    if value is None:
        return None
    if not MASS_RANGE_KG[0] <= value <= MASS_RANGE_KG[1]:
        raise SettingsError(f"{source} {value:g} kg is not a human body mass (expected {MASS_RANGE_KG[0]:g}-{MASS_RANGE_KG[1]:g} kg)")
    return float(value)


def check_sex(value: str | None, source: str = "--sex") -> str | None:
    if value is None or value == "":
        return None
    value = value.strip().lower()
    aliases = {"m": "male", "f": "female", "male": "male", "female": "female"}
    if value not in aliases:
        raise SettingsError(f"{source} must be 'male' or 'female' (the de Leva table has those two), got {value!r}")
    return aliases[value]


def check_fps(value: float | None, source: str = "--fps") -> float | None:
    if value is None:
        return None
    if not FPS_RANGE[0] <= value <= FPS_RANGE[1]:
        raise SettingsError(f"{source} {value:g} is not a frame rate (expected {FPS_RANGE[0]:g}-{FPS_RANGE[1]:g} frames per second)")
    return float(value)


def check_trim(start_s: float | None, end_s: float | None) -> None:
    for name, value in (("--start", start_s), ("--end", end_s)):
        if value is not None and not math.isfinite(value):
            raise SettingsError(f"{name} {value} is not a time in seconds")
    if start_s is not None and start_s < 0:
        raise SettingsError(f"--start {start_s:g} s is before the video's start")
    if end_s is not None and end_s <= 0:
        raise SettingsError(f"--end {end_s:g} s must be after the video's start")
    if start_s is not None and end_s is not None and end_s <= start_s:
        raise SettingsError(f"--start {start_s:g} s must come before --end {end_s:g} s")


@dataclass(frozen=True)
class SidecarRow:
    pattern: str
    height_m: float | None
    mass_kg: float | None
    sex: str | None
    fps: float | None


def _float_cell(row: dict[str, str], key: str, where: str) -> float | None:
    text = (row.get(key) or "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise SettingsError(f"{where}: {key} {text!r} is not a number") from None


def read_sidecar(path: Path) -> list[SidecarRow]:
    """Rows of one ``athletes.csv``, validated; raises SettingsError on a bad cell."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SettingsError(f"{path}: not UTF-8 text; save it from the spreadsheet as 'CSV UTF-8'") from None
    except OSError as exc:
        raise SettingsError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(text.splitlines(), delimiter=delimiter)
    header = [(f or "").strip() for f in reader.fieldnames or []]
    if "video" not in header:
        raise SettingsError(f"{path}: the first line must be a header with a 'video' column "
                            f"(columns: {', '.join(SIDECAR_COLUMNS)})")
    unknown = [f for f in header if f and f not in SIDECAR_COLUMNS]
    if unknown:
        raise SettingsError(f"{path}: unknown column {unknown[0]!r} (the columns are {', '.join(SIDECAR_COLUMNS)})")
    rows = []
    try:
        for line, raw in enumerate(reader, start=2):
            if None in raw:
                raise SettingsError(f"{path.name} line {line}: more cells than the header has columns")
            row = {(k or "").strip(): (v or "") for k, v in raw.items()}
            where = f"{path.name} line {line}"
            rows.append(SidecarRow(
                pattern=row["video"].strip(),
                height_m=check_height(_float_cell(row, "height_m", where), f"{where}: height_m"),
                mass_kg=check_mass(_float_cell(row, "mass_kg", where), f"{where}: mass_kg"),
                sex=check_sex(row.get("sex"), f"{where}: sex"),
                fps=check_fps(_float_cell(row, "fps", where), f"{where}: fps"),
            ))
    except csv.Error as exc:
        raise SettingsError(f"{path}: not a readable CSV file ({exc})") from None
    return rows


def check_sidecars(folder: Path, *, recursive: bool) -> None:
    """Read every sidecar a run over *folder* could use; raise SettingsError on the first bad one."""
    paths = sorted(folder.glob(f"**/{SIDECAR_NAME}" if recursive else SIDECAR_NAME))
    for path in paths:
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(folder).parts):
            read_sidecar(path)


def find_sidecar_row(video: Path, stop_at: Path | None = None) -> SidecarRow | None:
    """The first matching row of the nearest ``athletes.csv`` (video's folder, then parents)."""
    video = video.resolve()
    stop = stop_at.resolve() if stop_at is not None else video.parent
    folder = video.parent
    while True:
        sidecar = folder / SIDECAR_NAME
        if sidecar.is_file():
            relative = video.relative_to(folder).as_posix()
            for row in read_sidecar(sidecar):
                if fnmatch.fnmatch(video.name, row.pattern) or fnmatch.fnmatch(relative, row.pattern):
                    return row
        if folder == stop or folder.parent == folder or stop not in folder.parents:
            return None
        folder = folder.parent


def resolve_athlete(
    *,
    height_m: float | None,
    mass_kg: float | None,
    sex: str | None,
    sidecar: SidecarRow | None,
) -> Athlete:
    """Command line over sidecar over defaults, with where each value came from."""
    height = height_m if height_m is not None else (sidecar.height_m if sidecar else None)
    mass = mass_kg if mass_kg is not None else (sidecar.mass_kg if sidecar else None)
    chosen_sex = sex if sex is not None else (sidecar.sex if sidecar else None)
    final_sex = chosen_sex or DEFAULT_SEX
    return Athlete(
        height_m=height,
        mass_kg=mass if mass is not None else (DEFAULT_MASS_KG if final_sex == "male" else round(REFERENCE_MASS_KG["female"])),
        sex=final_sex,
        height_given=height is not None,
        mass_given=mass is not None,
        sex_given=chosen_sex is not None,
    )
