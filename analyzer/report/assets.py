"""The page shell shared by the report and the batch index, and the one shared plotly.js.

Pages are self-contained apart from plotly.js, which is written once per output folder
(``OUT/plotly.min.js``, ~4.8 MB) and linked relatively, so that a batch of reports stays
small; ``plotly_js="inline"`` embeds it instead for a report that must travel alone.
Nothing is ever fetched from a network.
"""
from __future__ import annotations

import functools
import importlib.resources
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import plotly.graph_objects as go
import plotly.io as pio
import plotly.offline

from analyzer.atomic import write_bytes
from analyzer.report.text import esc

PlotlyMode = Literal["shared", "inline"]

#: The shared plotly.js file's name in the output root.
PLOTLY_ASSET = "plotly.min.js"

#: Plotly configuration for every chart: no logo, no link to plotly's cloud, responsive.
PLOTLY_CONFIG = {
    "responsive": True,
    "displaylogo": False,
    "showLink": False,
    "showSendToCloud": False,
    "toImageButtonOptions": {"format": "png", "scale": 2},
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"],
}


@functools.cache
def plotly_js() -> bytes:
    """The bundled plotly.js (from the installed plotly package; no network)."""
    return plotly.offline.get_plotlyjs().encode("utf-8")


def ensure_plotly_asset(out_root: str | Path) -> Path:
    """Write ``OUT/plotly.min.js`` unless an identical copy is already there; return its path.

    Safe to call from several worker processes at once: the write is atomic and every
    writer writes the same bytes.
    """
    target = Path(out_root) / PLOTLY_ASSET
    data = plotly_js()
    if target.is_file() and target.stat().st_size == len(data) and target.read_bytes() == data:
        return target
    write_bytes(target, data)
    return target


@functools.cache
def _package_text(name: str) -> str:
    return importlib.resources.files("analyzer.report").joinpath(name).read_text("utf-8")


def _script_safe(text: str) -> str:
    """JavaScript source safe inside an inline ``<script>`` element."""
    return text.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT")


def html_document(
    *,
    title: str,
    body: str,
    figures: Mapping[str, go.Figure],
    plotly_mode: PlotlyMode,
    plotly_src: str,
    description: str = "",
    generator: str = "sprint-analyzer",
) -> str:
    """A complete HTML page: *body* (already escaped HTML) plus the charts in *figures*.

    Each figure is drawn into the element with ``data-figure="<its key>"``. With
    ``plotly_mode="shared"`` the page loads plotly.js from *plotly_src* (a relative URL);
    with ``"inline"`` it embeds it.
    """
    figure_json = pio.json.to_json_plotly(
        {"config": PLOTLY_CONFIG, "figures": {k: f.to_plotly_json() for k, f in figures.items()}}
    )
    if figures and plotly_mode == "inline":
        plotly_tag = f"<script>{_script_safe(plotly_js().decode('utf-8'))}</script>"
    elif figures:
        plotly_tag = f'<script src="{esc(plotly_src)}"></script>'
    else:
        plotly_tag = ""
    return "\n".join((
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="color-scheme" content="light">',
        f'<meta name="generator" content="{esc(generator)}">',
        f'<meta name="description" content="{esc(description)}">' if description else "",
        '<link rel="icon" href="data:,">',
        f"<title>{esc(title)}</title>",
        f"<style>{_package_text('report.css')}</style>",
        "</head>",
        "<body>",
        body,
        f'<script type="application/json" id="figure-data">{figure_json}</script>',
        plotly_tag,
        f"<script>{_script_safe(_package_text('report.js'))}</script>",
        "</body>",
        "</html>",
        "",
    ))
