"""The batch index (``OUT/index.html``): every video, its status, headline numbers and report.

One sortable table (status, view, steps, flagged steps, cadence, contact time, mean lag,
message and warnings, a relative link to each report) and one chart comparing the analysed
videos, so that a coach can follow an athlete across sessions.
"""
from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from analyzer.atomic import write_text
from analyzer.report import figures
from analyzer.report.assets import PLOTLY_ASSET, PlotlyMode, ensure_plotly_asset, html_document
from analyzer.report.html import VIEW_WORDS, url_path
from analyzer.report.text import MISSING, data_value, esc, fmt_number, to_float, to_int

STATUSES = ("ok", "error", "skipped")


def _warnings_of(row: Mapping[str, Any]) -> list[str]:
    warnings = row.get("warnings") or []
    if isinstance(warnings, str):
        warnings = [warnings]
    return [str(w).strip() for w in warnings if str(w).strip()]


def _report_href(row: Mapping[str, Any], out_root: Path) -> str | None:
    """The report's URL relative to ``OUT/index.html`` (``None`` when there is no report)."""
    report = str(row.get("report") or "").strip()
    if not report:
        return None
    path = Path(report)
    if path.is_absolute():
        report = os.path.relpath(path, out_root)
    return url_path(report)


#: The video table's columns: (header, sort type, CSS class).
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("Video", "text", "text first-col"),
    ("Status", "text", "text"),
    ("View", "text", "text"),
    ("Steps", "number", ""),
    ("Flagged", "number", ""),
    ("Cadence (steps/min)", "number", ""),
    ("Contact (ms)", "number", ""),
    ("Mean lag (ms)", "number", ""),
    ("Message and warnings", "text", "text wrap notes"),
)


def display_names(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """Short, unique names for the videos: file names, or paths below their common folder."""
    paths = [str(r.get("video") or "") for r in rows]
    parsed = [PureWindowsPath(p) if "\\" in p else PurePosixPath(p) for p in paths]
    names = [p.name or str(p) for p in parsed]
    if len(set(names)) == len(names):
        return names
    try:
        common = os.path.commonpath([str(p.parent) for p in parsed])
    except ValueError:  # absolute and relative paths mixed, or different drives
        return paths
    return [os.path.relpath(str(p), common) if common else str(p) for p in parsed]


def _cells(row: Mapping[str, Any], label: str, out_root: Path) -> list[tuple[str, str]]:
    """``(data-value, inner HTML)`` for each of :data:`COLUMNS` (data-value ``""`` = none)."""
    status = str(row.get("status") or "").lower()
    status_class = status if status in STATUSES else "skipped"
    video = str(row.get("video") or "")
    href = _report_href(row, out_root)
    title = f' title="{esc(video)}"' if video and video != label else ""
    name = (f'<a class="video-name" href="{esc(href)}"{title}>{esc(label or MISSING)}</a>'
            if href and status == "ok" else f'<span class="video-name"{title}>{esc(label or MISSING)}</span>')
    steps = to_float(row.get("steps"))
    flagged = to_float(row.get("flagged_steps"))
    share = flagged / steps if steps > 0 else float("nan")
    flagged_text = f"{to_int(flagged)} ({share * 100:.0f}%)" if math.isfinite(share) else fmt_number(flagged, 0)
    view = str(row.get("view") or "")
    message = str(row.get("message") or "").strip()
    warnings = [w for w in _warnings_of(row) if w != message]  # the message is often the first warning
    notes = (f"<div>{esc(message)}</div>" if message else "") + (
        '<ul class="cell-warnings">' + "".join(f"<li>{esc(w)}</li>" for w in warnings) + "</ul>"
        if warnings else "")
    contact_ms = to_float(row.get("mean_contact_s")) * 1000.0
    lag = to_float(row.get("mean_lag_ms"))
    cadence = to_float(row.get("cadence_steps_per_min"))
    return [
        (label.lower(), name),
        (status, f'<span class="badge {esc(status_class)}">{esc(status or MISSING)}</span>'),
        (view, esc(VIEW_WORDS.get(view, view) if view else MISSING)),
        (data_value(steps), esc(fmt_number(steps, 0))),
        (data_value(share), esc(flagged_text)),
        (data_value(cadence), esc(fmt_number(cadence, 0))),
        (data_value(contact_ms), esc(fmt_number(contact_ms, 0))),
        (data_value(lag), esc(fmt_number(lag, 0, signed=True))),
        ("", notes or f'<span class="muted">{MISSING}</span>'),
    ]


def _row_html(row: Mapping[str, Any], label: str, out_root: Path) -> str:
    """One video's table row; each cell carries its header as ``data-label`` for phone cards."""
    cells = "".join(
        f'<td class="{esc(cls)}" data-label="{esc(header)}" data-value="{esc(value)}">{inner}</td>'
        for (header, _, cls), (value, inner) in zip(COLUMNS, _cells(row, label, out_root))
    )
    return f"<tr>{cells}</tr>"


def _counts(rows: Sequence[Mapping[str, Any]]) -> str:
    counts = {s: sum(str(r.get("status") or "").lower() == s for r in rows) for s in STATUSES}
    words = {"ok": "analysed", "error": "failed", "skipped": "skipped"}
    parts = [f"{counts[s]} {words[s]}" for s in STATUSES if counts[s]]
    total = len(rows)
    return f"{total} video{'s' if total != 1 else ''}: " + (", ".join(parts) if parts else "none analysed") + "."


def build_index_html(rows: Sequence[Mapping[str, Any]], out_root: str | Path, *,
                     plotly_js: PlotlyMode = "shared") -> str:
    """The index page as a string (see :func:`render_index`)."""
    out_root = Path(out_root)
    labels = display_names(rows)
    comparison = figures.comparison_figure(rows, labels)
    head = "".join(f'<th class="{cls}" data-type="{kind}"><button type="button" class="sort">{esc(h)}</button></th>'
                   for h, kind, cls in COLUMNS)
    body = "".join(_row_html(r, label, out_root) for r, label in zip(rows, labels)) or (
        f'<tr><td class="text" colspan="{len(COLUMNS)}">No videos were found.</td></tr>')
    chart = ('<section id="compare" class="card"><h2>Videos compared</h2>'
             '<p class="section-note">Cadence, mean ground contact, share of flagged steps and mean lag of each '
             "analysed video, in the order they were listed. Hover a bar for its value.</p>"
             '<div class="chart" data-figure="comparison" role="figure" aria-label="Videos compared"></div>'
             '<p class="chart-missing">The chart needs <code>plotly.min.js</code> beside this page.</p>'
             "</section>") if comparison is not None else ""
    page_body = "".join((
        '<header class="masthead"><div class="page">',
        '<p class="kicker">Sprint analysis · batch</p>',
        "<h1>Sprint analysis: all videos</h1>",
        f'<p class="lede">{esc(_counts(rows))} Open a video\'s report from its name.</p>',
        "</div></header>",
        '<main class="page">',
        '<section id="videos"><h2>Videos</h2>',
        '<div class="table-wrap"><table class="sortable cards-on-phone" id="video-table">',
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div></section>",
        chart,
        "<footer>Made by sprint-analyzer. Each report explains its numbers and their limits.</footer>",
        "</main>",
    ))
    return html_document(
        title="Sprint analysis: all videos",
        body=page_body,
        figures={"comparison": comparison} if comparison is not None else {},
        plotly_mode=plotly_js,
        plotly_src=PLOTLY_ASSET,
        description=_counts(rows),
    )


def render_index(rows: Sequence[Mapping[str, Any]], out_root: str | Path, *,
                 plotly_js: PlotlyMode = "shared") -> Path:
    """Write ``OUT/index.html`` (atomically) for the batch and return its path.

    Args:
        rows: one per video, with batch_summary.csv's columns (``video, status, message, steps,
            flagged_steps, cadence_steps_per_min, mean_contact_s, report``) plus ``mean_lag_ms``,
            ``warnings`` (list of sentences) and ``view``. ``report`` is relative to *out_root*.
        out_root: the batch output folder; the shared plotly.js is made sure of there.
        plotly_js: as for :func:`analyzer.report.render_report`.
    """
    out_root = Path(out_root)
    page = build_index_html(rows, out_root, plotly_js=plotly_js)
    if plotly_js == "shared":
        ensure_plotly_asset(out_root)
    target = out_root / "index.html"
    write_text(target, page)
    return target
