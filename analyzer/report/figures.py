"""The report's interactive charts, as plotly figures.

Two charts share the clip's time axis (the rotation chart and the joint-angle chart; the
page links their zoom), two are per step (lag and ratio bars; the "rising together" pair),
and one compares videos on the batch index. Every figure uses the same house template
and the palette's push (orange) / swing (blue) pair.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analyzer.report import palette
from analyzer.report.text import (
    esc,
    flag_kinds,
    flag_summary,
    fmt_factor,
    step_number,
    timing_uncertainty_ms,
    to_bool,
    to_float,
    to_int,
)

FONT_FAMILY = ('system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, '
               '"Noto Sans", sans-serif')

HOUSE_TEMPLATE = go.layout.Template(
    layout=dict(
        font=dict(family=FONT_FAMILY, size=13, color=palette.INK),
        paper_bgcolor="white",
        plot_bgcolor="white",
        colorway=["#332288", "#117733", "#882255", "#44AA99", "#999933", "#AA4499"],
        margin=dict(l=64, r=16, t=24, b=52),
        hoverlabel=dict(font=dict(family=FONT_FAMILY, size=12)),
        legend=dict(orientation="h", x=0, xanchor="left", y=1.02, yanchor="bottom",
                    font=dict(size=12), itemclick="toggle", itemdoubleclick="toggleothers"),
        xaxis=dict(gridcolor=palette.GRID, zerolinecolor="#C5CBD3", linecolor="#C5CBD3",
                   ticks="outside", tickcolor="#C5CBD3", automargin=True,
                   title=dict(standoff=8)),
        yaxis=dict(gridcolor=palette.GRID, zerolinecolor="#9AA5B1", zerolinewidth=1,
                   linecolor="#C5CBD3", automargin=True, title=dict(standoff=8)),
        bargap=0.25,
    )
)

#: Time-series traces are stored as float32: half the bytes, far finer than a video frame.
_SERIES_DTYPE = np.float32
#: Behind labels drawn over data.
_LABEL_BG = "rgba(255,255,255,0.85)"


def _figure() -> go.Figure:
    """An empty figure in the house style."""
    return go.Figure(layout=dict(template=HOUSE_TEMPLATE))


def _subplots(**kwargs: Any) -> go.Figure:
    """``make_subplots`` in the house style, subplot titles left-aligned as panel headings."""
    fig = make_subplots(**kwargs)
    fig.update_layout(template=HOUSE_TEMPLATE)
    fig.update_annotations(x=0, xanchor="left", font=dict(size=13, color=palette.INK))
    return fig


def _compact(fig: go.Figure, **overrides: Any) -> None:
    """Layout changes the page applies on narrow (phone) screens, as plotly attribute paths.

    Keys use ``__`` for ``.`` (``yaxis__title__text`` -> ``"yaxis.title.text"``).
    """
    fig.update_layout(meta=dict(compact={k.replace("__", "."): v for k, v in overrides.items()}))


def _note_if_empty(fig: go.Figure, values: Iterable[Any] | None, text: str, *, row: int = 1) -> None:
    """Say so in the panel when it has nothing to draw, rather than show empty axes."""
    if any(math.isfinite(to_float(v)) for v in (values if values is not None else ())):
        return
    ref = "" if row == 1 else str(row)
    fig.add_annotation(text=text, xref=f"x{ref} domain", yref=f"y{ref} domain", x=0.5, y=0.5,
                       showarrow=False, font=dict(color="#7B8794", size=13))


def _step_axis(steps: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """An x axis of step numbers: whole steps, with half a step of room at each end."""
    numbers = [n for n in (step_number(s) for s in steps) if n is not None]
    axis: dict[str, Any] = dict(title=dict(text="Step"), tickformat="d")
    if numbers:
        axis["range"] = [min(numbers) - 0.6, max(numbers) + 0.6]
    if len(numbers) <= 24:
        axis["dtick"] = 1
    return axis


def _series(frames: Mapping[str, np.ndarray], column: str) -> np.ndarray | None:
    values = frames.get(column)
    if values is None:
        return None
    return np.asarray(values, dtype=np.float64).astype(_SERIES_DTYPE)


def _step_values(steps: Sequence[Mapping[str, Any]], column: str) -> list[float | None]:
    """One column of the step rows as JSON-friendly floats (``None`` where missing)."""
    out: list[float | None] = []
    for step in steps:
        value = to_float(step.get(column))
        out.append(value if math.isfinite(value) else None)
    return out


# ----------------------------------------------------------------------------- step context


@dataclass(frozen=True)
class TimeAxisStyle:
    """Backdrop shared by the two time charts: contact phases and flagged steps."""

    shapes: list[dict[str, Any]]
    annotations: list[dict[str, Any]]

    @classmethod
    def from_steps(cls, steps: Sequence[Mapping[str, Any]], *, label_flags: bool) -> TimeAxisStyle:
        shapes: list[dict[str, Any]] = []
        annotations: list[dict[str, Any]] = []
        for step in steps:
            touchdown = to_float(step.get("touchdown_s"))
            toeoff = to_float(step.get("toeoff_s"))
            end = to_float(step.get("next_touchdown_s"))
            if to_bool(step.get("flagged")) and math.isfinite(touchdown):
                stop = end if math.isfinite(end) else toeoff
                if math.isfinite(stop):
                    shapes.append(dict(type="rect", xref="x", yref="y domain", x0=touchdown, x1=stop,
                                       y0=0, y1=1, fillcolor=palette.rgba(palette.FLAG, 0.10),
                                       line=dict(width=0), layer="below"))
                    if label_flags:
                        annotations.append(dict(
                            x=(touchdown + stop) / 2, xref="x", y=1.0, yref="y domain",
                            yanchor="bottom", showarrow=False, text=f"<b>{step_number(step)}</b>",
                            font=dict(color=palette.FLAG, size=11),
                            hovertext=esc(f"Step {step_number(step)}: {flag_summary(step)}"),
                        ))
            if math.isfinite(touchdown) and math.isfinite(toeoff) and toeoff > touchdown:
                shapes.append(dict(type="rect", xref="x", yref="y domain", x0=touchdown, x1=toeoff,
                                   y0=0, y1=1, fillcolor="rgba(31,41,51,0.07)", line=dict(width=0),
                                   layer="below"))
        return cls(shapes, annotations)


def _time_axis_layout(fig: go.Figure, frames: Mapping[str, np.ndarray], backdrop: TimeAxisStyle,
                      y_title: str, height: int) -> None:
    time_s = np.asarray(frames.get("time_s", []), dtype=np.float64)
    finite_t = time_s[np.isfinite(time_s)]
    x_range = [float(finite_t.min()), float(finite_t.max())] if finite_t.size else None
    fig.update_layout(
        height=height,
        hovermode="x unified",
        dragmode="zoom",
        shapes=backdrop.shapes,
        annotations=backdrop.annotations,
        xaxis=dict(title=dict(text="Time in the video (s)"), range=x_range,
                   showspikes=True, spikemode="across", spikethickness=1, spikecolor="#9AA5B1"),
        yaxis=dict(title=dict(text=y_title), fixedrange=True),
    )


# ----------------------------------------------------------------------------- rotation chart

#: Raw group momenta offered on demand: (column, legend name, colour, dash).
RAW_MOMENTA: tuple[tuple[str, str, str, str], ...] = (
    ("H_arms_norm", "Arms", "#CC79A7", "solid"),
    ("H_torso_norm", "Torso", "#009E73", "solid"),
    ("H_push_leg_norm", "Push leg", palette.PUSH, "dot"),
    ("H_swing_leg_norm", "Swing leg", palette.SWING, "dot"),
    ("H_whole_body_norm", "Whole body", "#1F2933", "dash"),
)


def momentum_figure(frames: Mapping[str, np.ndarray], steps: Sequence[Mapping[str, Any]]) -> go.Figure:
    """Push side's drive and swing side's counter-rotation over time, raw groups on demand."""
    fig = _figure()
    time_s = _series(frames, "time_s")
    main = (
        ("push_drive_norm", "Push side drive", palette.PUSH),
        ("swing_counter_norm", "Swing side counter-rotation", palette.SWING),
    )
    for column, name, colour in main:
        values = _series(frames, column)
        if values is not None:
            fig.add_scatter(x=time_s, y=values, name=name, mode="lines",
                            line=dict(color=colour, width=2.4),
                            legendgroup="model", legendgrouptitle_text="Model (+ = doing its job)",
                            hovertemplate="%{y:.3g}")
    _note_if_empty(fig, [v for trace in fig.data for v in trace.y], "No rotation could be measured in this clip")
    for peak_col, value_col, name, colour, symbol in (
        ("push_peak_s", "push_peak_norm", "Push peak", palette.PUSH, "triangle-up"),
        ("swing_peak_s", "swing_peak_norm", "Swing peak", palette.SWING, "triangle-down"),
    ):
        xs = _step_values(steps, peak_col)
        ys = _step_values(steps, value_col)
        numbers = [step_number(s) for s in steps]
        if any(x is not None and y is not None for x, y in zip(xs, ys)):
            fig.add_scatter(x=xs, y=ys, name=name, mode="markers",
                            marker=dict(color=colour, symbol=symbol, size=9,
                                        line=dict(color="white", width=1)),
                            customdata=numbers, legendgroup="model",
                            hovertemplate=f"{name} of step %{{customdata}}: %{{y:.3g}}<extra></extra>")
    for column, name, colour, dash in RAW_MOMENTA:
        values = _series(frames, column)
        if values is not None:
            fig.add_scatter(x=time_s, y=values, name=name, mode="lines", visible="legendonly",
                            line=dict(color=colour, width=1.6, dash=dash),
                            legendgroup="raw",
                            legendgrouptitle_text="Raw, signed (+ = counter-clockwise from above)",
                            hovertemplate="%{y:.3g}")
    _time_axis_layout(fig, frames, TimeAxisStyle.from_steps(steps, label_flags=True),
                      "Angular momentum, vertical axis<br>(normalised)", 440)
    fig.update_layout(legend=dict(groupclick="toggleitem"))
    _compact(fig, height=680, yaxis__title__text="Rotation (normalised)", legend__font__size=11)
    return fig


# ----------------------------------------------------------------------------- joint angles

#: (column prefix, name, colour, shown by default).
JOINT_ANGLES: tuple[tuple[str, str, str, bool], ...] = (
    ("hip_flexion", "Hip flexion", "#332288", True),
    ("knee_flexion", "Knee flexion", "#117733", True),
    ("ankle_dorsiflexion", "Ankle dorsiflexion", "#882255", False),
    ("shoulder_flexion", "Shoulder flexion", "#44AA99", False),
    ("elbow_flexion", "Elbow flexion", "#999933", False),
    ("thigh_angle", "Thigh angle", "#AA4499", False),
)
#: Whole-body angles (no side): (column, name, colour).
BODY_ANGLES: tuple[tuple[str, str, str], ...] = (
    ("trunk_lean_deg", "Trunk lean", "#555555"),
    ("inter_thigh_angle_deg", "Angle between thighs", "#DDAA33"),
    ("pelvis_rotation_deg", "Pelvis rotation", "#6699CC"),
    ("thorax_rotation_deg", "Thorax rotation", "#661100"),
)


def angles_figure(frames: Mapping[str, np.ndarray], steps: Sequence[Mapping[str, Any]]) -> go.Figure:
    """Joint angles over time: hips and knees shown, the others one legend click away."""
    fig = _figure()
    time_s = _series(frames, "time_s")
    for prefix, name, colour, shown in JOINT_ANGLES:
        for side, dash in (("left", "solid"), ("right", "dash")):
            values = _series(frames, f"{prefix}_{side}_deg")
            if values is not None:
                fig.add_scatter(x=time_s, y=values, name=f"{name}, {side}", mode="lines",
                                visible=True if shown else "legendonly",
                                line=dict(color=colour, width=1.8, dash=dash),
                                hovertemplate="%{y:.0f}°")
    for column, name, colour in BODY_ANGLES:
        values = _series(frames, column)
        if values is not None:
            fig.add_scatter(x=time_s, y=values, name=name, mode="lines", visible="legendonly",
                            line=dict(color=colour, width=1.6), hovertemplate="%{y:.0f}°")
    _note_if_empty(fig, [v for trace in fig.data if trace.visible is True for v in trace.y],
                   "No joint angle could be measured in this clip")
    _time_axis_layout(fig, frames, TimeAxisStyle.from_steps(steps, label_flags=False),
                      "Angle (degrees)", 400)
    _compact(fig, height=640, legend__font__size=11)
    return fig


# ----------------------------------------------------------------------------- per-step bars


def _bar_colours(steps: Sequence[Mapping[str, Any]], kind: str) -> list[str]:
    return [palette.FLAG if kind in flag_kinds(s) else "#7B8794" for s in steps]


def _step_hover(steps: Sequence[Mapping[str, Any]]) -> list[str]:
    return [f"Step {step_number(s)} (push: {esc(s.get('push_leg') or '?')})"
            + (f"<br><b>{esc(flag_summary(s))}</b>" if to_bool(s.get("flagged")) else "")
            for s in steps]


def _lag_details(step: Mapping[str, Any]) -> str:
    """Hover lines of a step's timing measures beyond the peak lag (those that are known)."""
    bulk, shift, relative, lateness = (to_float(step.get(k)) for k in ("lag_centroid_ms", "swing_shift_ms",
                                                                        "relative_shift_ms", "lateness"))
    return ((f"<br>bulk of the swing {bulk:+.0f} ms after the push side's" if math.isfinite(bulk) else "")
            + (f"<br>swing {shift:+.0f} ms against this run's usual step" if math.isfinite(shift) else "")
            + (f"<br>swing leg {relative:+.0f} ms after the push leg, against the usual step"
               if math.isfinite(relative) else "")
            + (f"<br>lateness {lateness:+.1f}× the run's scatter" if math.isfinite(lateness) else ""))


def per_step_figure(steps: Sequence[Mapping[str, Any]], summary: Mapping[str, Any]) -> go.Figure:
    """Lag and counterbalance ratio per step, each with its flag threshold drawn."""
    counterbalance = summary.get("counterbalance") or {}
    lag_threshold = to_float(counterbalance.get("lag_threshold_ms"))
    centroid_threshold = to_float(counterbalance.get("centroid_lag_threshold_ms"))
    ratio_threshold = to_float(counterbalance.get("ratio_threshold"))
    uncertainty = timing_uncertainty_ms(summary)
    numbers = [step_number(s) for s in steps]
    hover = _step_hover(steps)

    fig = _subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.14,
                        subplot_titles=("Lag (ms): swing peak after push peak",
                                        "Ratio: swing peak ÷ push peak"))
    evidence_rule = counterbalance.get("lag_rule") == "evidence"
    lag_hover = [h + _lag_details(s) for h, s in zip(hover, steps)]
    fig.add_bar(x=numbers, y=_step_values(steps, "lag_ms"), name="Lag", width=0.7,
                marker_color=_bar_colours(steps, "swing_lag"), customdata=lag_hover,
                error_y=dict(type="constant", value=uncertainty, color="#52606D", thickness=1, width=3)
                if math.isfinite(uncertainty) else None,
                hovertemplate="%{customdata}<br>lag %{y:.0f} ms<extra></extra>", row=1, col=1)
    fig.add_bar(x=numbers, y=_step_values(steps, "counterbalance_ratio"), name="Ratio", width=0.7,
                marker_color=_bar_colours(steps, "under_counterbalanced"), customdata=hover,
                hovertemplate="%{customdata}<br>ratio %{y:.2f}<extra></extra>", row=2, col=1)
    _note_if_empty(fig, fig.data[0].y, "No lag measured: a peak is missing in every step", row=1)
    _note_if_empty(fig, fig.data[1].y, "No ratio measured: a peak is missing in every step", row=2)
    if evidence_rule:
        fig.add_annotation(text=f"flagged: late by three timing measures together, "
                                f"over {fmt_factor(counterbalance.get('lateness_threshold'))} this run's "
                                f"step-to-step scatter (hover a bar)",
                           xref="x domain", yref="y domain", x=1.0, y=1.0, xanchor="right", yanchor="bottom",
                           showarrow=False, font=dict(color=palette.FLAG, size=11), bgcolor=_LABEL_BG, row=1, col=1)
    elif math.isfinite(lag_threshold):
        fig.add_hline(y=lag_threshold, row=1, col=1, line=dict(color=palette.FLAG, dash="dash", width=1.5),
                      annotation_text=f"flagged above {lag_threshold:.0f} ms"
                      + (f" when the bulk is over {centroid_threshold:.0f} ms late too"
                         if math.isfinite(centroid_threshold) else ""),
                      annotation_position="top left", annotation_font_color=palette.FLAG,
                      annotation_bgcolor=_LABEL_BG)
    fig.add_hline(y=1.0, row=2, col=1, line=dict(color="#52606D", dash="dot", width=1),
                  annotation_text="equal (1.00)", annotation_position="top right",
                  annotation_font_color="#52606D", annotation_bgcolor=_LABEL_BG)
    if math.isfinite(ratio_threshold):
        fig.add_hline(y=ratio_threshold, row=2, col=1,
                      line=dict(color=palette.FLAG, dash="dash", width=1.5),
                      annotation_text=f"flagged below {ratio_threshold:.2f}",
                      annotation_position="bottom left", annotation_font_color=palette.FLAG,
                      annotation_bgcolor=_LABEL_BG)
    fig.update_layout(height=480, showlegend=False, hovermode="closest", bargap=0.3,
                      margin=dict(t=40))
    _compact(fig, height=520, margin__l=48, margin__t=56)
    fig.update_yaxes(fixedrange=True)
    fig.update_yaxes(title_text="ms", row=1, col=1)
    fig.update_yaxes(title_text="ratio", row=2, col=1, rangemode="tozero")
    fig.update_xaxes(**_step_axis(steps))
    fig.update_xaxes(title_text="", row=1, col=1)
    return fig


# ----------------------------------------------------------------------------- rising together


def rising_by_step_figure(steps: Sequence[Mapping[str, Any]], summary: Mapping[str, Any]) -> go.Figure:
    """Push and swing peaks step by step: do they rise together? The stop step is marked."""
    numbers = [step_number(s) for s in steps]
    fig = _figure()
    for column, name, colour in (("push_peak_norm", "Push side peak", palette.PUSH),
                                 ("swing_peak_norm", "Swing side peak", palette.SWING)):
        fig.add_scatter(x=numbers, y=_step_values(steps, column), name=name, mode="lines+markers",
                        line=dict(color=colour, width=2), marker=dict(size=7),
                        hovertemplate=f"Step %{{x}}: {name.lower()} %{{y:.3g}}<extra></extra>")
    _note_if_empty(fig, [v for trace in fig.data for v in trace.y], "No peak measured in any step")
    stop = _stop_step(summary)
    if stop is not None:
        fig.add_vline(x=stop, line=dict(color=palette.FLAG, dash="dash", width=1.5),
                      annotation_text=f"stops keeping up (step {stop})",
                      annotation_position="top right", annotation_font_color=palette.FLAG,
                      annotation_bgcolor=_LABEL_BG)
    fig.update_layout(height=380, hovermode="x unified",
                      xaxis=_step_axis(steps),
                      yaxis=dict(title=dict(text="Peak (normalised)"), rangemode="tozero",
                                 fixedrange=True))
    return fig


def _stop_step(summary: Mapping[str, Any]) -> int | None:
    rising = (summary.get("counterbalance") or {}).get("rising_together") or {}
    return to_int(rising.get("stops_keeping_up_at_step"))


def rising_scatter_figure(steps: Sequence[Mapping[str, Any]], summary: Mapping[str, Any]) -> go.Figure:
    """Swing peak against push peak per step, with the trend, equality and the flag line."""
    counterbalance = summary.get("counterbalance") or {}
    rising = counterbalance.get("rising_together") or {}
    ratio_threshold = to_float(counterbalance.get("ratio_threshold"))
    slope = to_float(rising.get("slope"))
    stop = _stop_step(summary)

    push = np.array([to_float(s.get("push_peak_norm")) for s in steps], dtype=np.float64)
    swing = np.array([to_float(s.get("swing_peak_norm")) for s in steps], dtype=np.float64)
    ok = np.isfinite(push) & np.isfinite(swing)
    numbers = [step_number(s) for s in steps]
    top = float(max(np.max(push[ok]), np.max(swing[ok]))) * 1.12 if ok.any() else 1.0
    fig = _figure()
    fig.add_scatter(x=[0, top], y=[0, top], mode="lines", name="Swing = push",
                    line=dict(color="#9AA5B1", dash="dot", width=1), hoverinfo="skip")
    if math.isfinite(ratio_threshold):
        fig.add_scatter(x=[0, top], y=[0, top * ratio_threshold], mode="lines",
                        name=f"Flag line (ratio {ratio_threshold:.2f})",
                        line=dict(color=palette.FLAG, dash="dash", width=1.2), hoverinfo="skip")
    if math.isfinite(slope) and ok.sum() >= 2:
        # A least-squares line passes through the centroid; draw it over the data's span.
        cx, cy = float(push[ok].mean()), float(swing[ok].mean())
        xs = np.array([push[ok].min(), push[ok].max()])
        fig.add_scatter(x=xs, y=cy + slope * (xs - cx), mode="lines",
                        name=f"Trend (slope {slope:.2f})",
                        line=dict(color=palette.INK, width=1.6), hoverinfo="skip")
    flagged = np.array([to_bool(s.get("flagged")) for s in steps], dtype=bool)
    hover = _step_hover(steps)
    # Number only the steps worth finding (flagged, the stop, first and last): 40 labels are noise.
    labelled = {numbers[0], numbers[-1], stop} if numbers else set()
    for name, members, colour, symbol in (("Step", ~flagged, palette.SWING, "circle"),
                                          ("Flagged step", flagged, palette.FLAG, "diamond")):
        idx = np.flatnonzero(members & ok)
        if idx.size == 0:
            continue
        fig.add_scatter(
            x=push[idx], y=swing[idx], mode="markers+text", name=name,
            text=[str(numbers[i]) if flagged[i] or numbers[i] in labelled else "" for i in idx],
            textposition="top center", textfont=dict(size=10, color="#52606D"),
            marker=dict(size=10 if symbol == "diamond" else 9, color=colour, symbol=symbol,
                        line=dict(color="white", width=1)),
            customdata=[hover[i] for i in idx],
            hovertemplate="%{customdata}<br>push %{x:.3g}, swing %{y:.3g}<extra></extra>",
        )
    if not ok.any():
        _note_if_empty(fig, [], "No step has both peaks measured")
    if stop is not None and stop in numbers:
        i = numbers.index(stop)
        if ok[i]:
            # Up and to the left: above the equality line, where steps rarely are.
            fig.add_annotation(x=push[i], y=swing[i], text=f"stops keeping up (step {stop})",
                               showarrow=True, arrowhead=2, arrowcolor=palette.FLAG, ax=-60, ay=-45,
                               font=dict(color=palette.FLAG), bgcolor=_LABEL_BG)
    fig.update_layout(height=380, hovermode="closest",
                      xaxis=dict(title=dict(text="Push side peak (normalised)"), range=[0, top],
                                 constrain="domain"),
                      yaxis=dict(title=dict(text="Swing side peak"), range=[0, top],
                                 fixedrange=True))
    return fig


# ----------------------------------------------------------------------------- batch comparison


def comparison_figure(rows: Sequence[Mapping[str, Any]], labels: Sequence[str]) -> go.Figure | None:
    """Cadence, contact time, flagged share and mean lag per analysed video.

    *labels* name the rows (one each, unique). Panels with no value at all are left out;
    ``None`` when no video has anything to compare.
    """
    ok = [(label, r) for label, r in zip(labels, rows) if str(r.get("status", "")).lower() == "ok"]
    names = [esc(label) for label, _ in ok]

    def share(row: Mapping[str, Any]) -> float | None:
        steps, flagged = to_float(row.get("steps")), to_float(row.get("flagged_steps"))
        return 100.0 * flagged / steps if steps > 0 and math.isfinite(flagged) else None

    def column(key: str, scale: float = 1.0) -> list[float | None]:
        values = [to_float(r.get(key)) * scale for _, r in ok]
        return [v if math.isfinite(v) else None for v in values]

    panels = [panel for panel in (
        ("Cadence (steps/min)", column("cadence_steps_per_min"), "#332288", "%{y:.0f} steps/min"),
        ("Mean contact time (ms)", column("mean_contact_s", 1000.0), "#117733", "%{y:.0f} ms"),
        ("Flagged steps (%)", [share(r) for _, r in ok], palette.FLAG, "%{y:.0f}%"),
        ("Mean lag (ms)", column("mean_lag_ms"), palette.SWING, "%{y:.0f} ms"),
    ) if any(v is not None for v in panel[1])]
    if not panels:
        return None
    fig = _subplots(rows=len(panels), cols=1, shared_xaxes=True, vertical_spacing=0.28 / len(panels),
                    subplot_titles=[title for title, *_ in panels])
    for i, (title, values, colour, fmt) in enumerate(panels, start=1):
        fig.add_bar(x=names, y=values, name=title, marker_color=colour,
                    hovertemplate=f"%{{x}}<br>{fmt}<extra></extra>", row=i, col=1)
    fig.update_layout(height=180 * len(panels) + 100, showlegend=False, hovermode="closest",
                      margin=dict(b=40), bargap=0.3 if len(ok) > 3 else 0.6)
    fig.update_yaxes(fixedrange=True, rangemode="tozero")
    fig.update_xaxes(type="category", tickangle=-30 if len(ok) > 3 else 0)
    return fig
