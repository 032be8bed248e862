"""What users look at: the per-video HTML report and the batch index.

- :func:`render_report` writes ``OUT/<stem>/report.html``;
- :func:`render_index` writes ``OUT/index.html``;
- :func:`ensure_plotly_asset` writes the one ``OUT/plotly.min.js`` both link relatively.

The overlay video and still frames are drawn by :mod:`analyzer.overlay`.
"""
from __future__ import annotations

from analyzer.report.assets import PLOTLY_ASSET, PlotlyMode, ensure_plotly_asset
from analyzer.report.html import build_report_html, render_report
from analyzer.report.index import build_index_html, render_index

__all__ = [
    "PLOTLY_ASSET",
    "PlotlyMode",
    "build_index_html",
    "build_report_html",
    "ensure_plotly_asset",
    "render_index",
    "render_report",
]
