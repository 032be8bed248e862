"""The per-video HTML report (``OUT/<video stem>/report.html``).

Top to bottom: what was filmed and how it was analysed, every warning, the headline numbers,
the rotation and joint-angle charts on one time axis, per-step lag and ratio, "rising
together", the sortable step table, still frames of each flagged step, the overlay video,
and how to read it all with the method's limits. All text is escaped; the page makes no
network request (plotly.js comes from ``../plotly.min.js`` or is inlined).
"""
from __future__ import annotations

import base64
import math
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from analyzer.atomic import write_text
from analyzer.report import figures
from analyzer.report.assets import PLOTLY_ASSET, PlotlyMode, ensure_plotly_asset, html_document
from analyzer.report.text import (
    FLAG_KIND_SHORT,
    MISSING,
    data_value,
    esc,
    finite,
    flag_summary,
    fmt_factor,
    fmt_number,
    fmt_percent,
    fmt_ratio,
    fmt_significant,
    step_number,
    timing_uncertainty_ms,
    to_bool,
    to_float,
    to_int,
)

if TYPE_CHECKING:
    from analyzer.overlay import Still

#: How the frame rate was decided, in words.
FPS_SOURCES = {
    "container": "from the video file",
    "--fps": "set with --fps",
    "fps": "set with --fps",
    "sidecar": "from the athlete file beside the video",
}

#: Camera views in words, and whether the counterbalance analysis can serve them.
VIEW_WORDS = {
    "side": "Side view",
    "front": "Front view",
    "back": "Back view",
    "oblique": "Oblique view",
    "unknown": "Unrecognised view",
}


def url_path(relpath: str) -> str:
    """A relative file path as a URL path (spaces, ``#``, ``?`` and non-ASCII percent-encoded)."""
    parts = PureWindowsPath(relpath).parts if "\\" in relpath else PurePosixPath(relpath).parts
    return "/".join(urllib.parse.quote(part, safe="") for part in parts)


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


# ----------------------------------------------------------------------------- header


def _video_name(summary: Mapping[str, Any]) -> str:
    path = str((summary.get("video") or {}).get("path") or "")
    return PureWindowsPath(path).name if "\\" in path else PurePosixPath(path).name or "video"


def _video_folder(summary: Mapping[str, Any]) -> str:
    """The video's path, when it says more than the name in the title."""
    path = str((summary.get("video") or {}).get("path") or "")
    if not path or path == _video_name(summary):
        return ""
    return f'<br><span class="muted path">{esc(path)}</span>'


def _fps_text(video: Mapping[str, Any]) -> str:
    fps = to_float(video.get("fps"))
    if not math.isfinite(fps):
        return MISSING
    digits = 0 if abs(fps - round(fps)) < 0.005 else 2
    source = str(video.get("fps_source") or "")
    text = f"{fps:.{digits}f} fps ({FPS_SOURCES.get(source, source or 'source unknown')})"
    distinct = to_float(video.get("distinct_images_per_s"))
    if math.isfinite(distinct) and abs(distinct - fps) > 0.02 * fps:
        text += f"; {distinct:.1f} distinct images per second"
    return text


def _athlete_text(athlete: Mapping[str, Any]) -> str:
    """Height, mass and sex, each marked "(default)" when it was not given."""
    parts = []
    for key, unit, digits in (("height_m", "m", 2), ("mass_kg", "kg", 0), ("sex", "", 0)):
        value = athlete.get(key)
        if key == "sex":
            shown = esc(value) if value else MISSING
        else:
            shown = esc(fmt_number(value, digits, unit))
        if not to_bool(athlete.get(key.split("_")[0] + "_given")):
            shown += ' <span class="default">(default)</span>'
        parts.append(shown)
    return " · ".join(parts)


def _view_text(view: Mapping[str, Any]) -> str:
    name = str(view.get("view") or "unknown")
    words = VIEW_WORDS.get(name, name.capitalize())
    camera = "camera moving (panning)" if to_bool(view.get("camera_moving")) else "static camera"
    return f"{words}, {camera}"


def _pose_text(pose: Mapping[str, Any]) -> str:
    text = f"Runner found in {fmt_percent(pose.get('detected_fraction'))} of frames"
    swaps = to_int(pose.get("left_right_swaps_fixed"))
    if swaps:
        text += f"; {swaps} left/right swap{'s' if swaps != 1 else ''} fixed"
    collapsed = to_int(pose.get("legs_collapsed_frames"))
    if collapsed:
        text += (f"; {collapsed} frame{'s' if collapsed != 1 else ''} with both legs drawn as one, "
                 "filled in from the frames around")
    outliers = to_int(pose.get("outlier_landmarks"))
    if outliers:
        text += f"; {outliers} landmark position{'s' if outliers != 1 else ''} off their smooth path set aside"
    model = pose.get("model")
    flip = ""
    if pose.get("flip_test"):
        why = " (automatic: the legs move far between pictures)" if pose.get("flip_test_setting") == "auto" else ""
        flip = f", flip test{why}: the mirrored frames' pose averaged in"
    return text + (f" (model: {model}{flip})" if model else "")


def _video_text(video: Mapping[str, Any]) -> str:
    parts = [fmt_number(video.get("duration_s"), 1, "s")]
    width, height = to_int(video.get("width")), to_int(video.get("height"))
    if width and height:
        parts.append(f"{width}×{height}")
    frames = to_int(video.get("frame_count"))
    if frames is not None:
        parts.append(f"{frames} frames")
    rotation = to_int(video.get("rotation_deg"))
    if rotation:
        parts.append(f"rotated {rotation}°")
    return ", ".join(parts)


def _facts(summary: Mapping[str, Any]) -> str:
    video = summary.get("video") or {}
    uncertainty = timing_uncertainty_ms(summary)
    rows = (
        ("Video", esc(_video_text(video)) + _video_folder(summary)),
        ("Frame rate used", esc(_fps_text(video))),
        ("Athlete (height · mass · sex)", _athlete_text(summary.get("athlete") or {})),
        ("Camera", esc(_view_text(summary.get("view") or {}))),
        ("Pose detection", esc(_pose_text(summary.get("pose") or {}))),
        ("Timing uncertainty",
         esc(f"±{uncertainty:.0f} ms on every time" if math.isfinite(uncertainty) else MISSING)),
    )
    items = "".join(f"<div><dt>{esc(k)}</dt><dd>{v}</dd></div>" for k, v in rows)
    return f'<section id="clip" class="card" aria-label="About this clip"><dl class="facts">{items}</dl></section>'


def _flags_suppressed(summary: Mapping[str, Any]) -> bool:
    """Whether the analysis switched flags off for this clip (e.g. a view it cannot judge)."""
    return to_bool((summary.get("counterbalance") or {}).get("flags_suppressed"))


def _timing_doubtful(summary: Mapping[str, Any]) -> bool:
    """Whether the analysis found the timing impossible for a runner (a wrong frame rate)."""
    check = summary.get("timing_check") or {}
    return "plausible" in check and not to_bool(check.get("plausible"))


def _lede(summary: Mapping[str, Any], steps: Sequence[Mapping[str, Any]]) -> str:
    view = summary.get("view") or {}
    count = to_int(summary.get("steps"))
    count = len(steps) if count is None else count
    flagged = sum(to_bool(s.get("flagged")) for s in steps)
    fps = to_float((summary.get("video") or {}).get("fps"))
    fps_text = f" at {fps:.0f} fps" if math.isfinite(fps) else ""
    view_words = VIEW_WORDS.get(str(view.get("view") or "unknown"), str(view.get("view"))).lower()
    article = "an" if view_words[:1] in "aeiou" else "a"
    first = f"{count} step{'s' if count != 1 else ''} analysed from {article} {view_words}{fps_text}."
    if count == 0:
        return first + " No step could be measured; see the warnings below."
    if _flags_suppressed(summary):
        return first + " Steps are not flagged for this clip: the warnings below say why."
    if flagged == 0:
        return first + " No step was flagged: the swing side kept time with the push side."
    return (first + f" {flagged} step{'s were' if flagged != 1 else ' was'} flagged where the "
            "swing side's counterbalance came late or fell short of the push side.")


def _masthead(summary: Mapping[str, Any], steps: Sequence[Mapping[str, Any]]) -> str:
    return (
        '<header class="masthead"><div class="page">'
        '<p class="kicker">Sprint analysis · push side vs swing side</p>'
        f"<h1>{esc(_video_name(summary))}</h1>"
        f'<p class="lede">{esc(_lede(summary, steps))}</p>'
        '<div class="legend-chips" aria-label="Colours">'
        '<span class="chip push">Push side: push leg, arms, torso</span>'
        '<span class="chip swing">Swing side: swing leg</span>'
        '<span class="chip flag">Flagged step</span></div>'
        "</div></header>"
    )


def _nav(*, has_stills: bool, has_video: bool) -> str:
    links = [("timeline", "Rotation"), ("per-step", "Lag & ratio"), ("rising", "Rising together"),
             ("steps", "Steps")]
    if has_stills:
        links.append(("stills", "Flagged frames"))
    if has_video:
        links.append(("video", "Video"))
    links += [("how-to-read", "How to read"), ("limits", "Limits")]
    items = "".join(f'<li><a href="#{key}">{esc(text)}</a></li>' for key, text in links)
    return f'<nav class="toc" aria-label="Sections"><ul>{items}</ul></nav>'


def _warnings(summary: Mapping[str, Any]) -> str:
    warnings = [str(w) for w in summary.get("warnings") or [] if str(w).strip()]
    if not warnings:
        return '<section id="warnings"><p class="all-clear">No warnings for this clip.</p></section>'
    items = "".join(f"<li>{esc(w)}</li>" for w in warnings)
    title = "Read this first" if len(warnings) == 1 else f"Read these {len(warnings)} warnings first"
    return (f'<section id="warnings" class="warnings" aria-label="Warnings">'
            f'<h2><span class="icon-warn" aria-hidden="true">!</span>{esc(title)}</h2>'
            f"<ul>{items}</ul></section>")


# ----------------------------------------------------------------------------- headline numbers


def _stat(label: str, value: str, unit: str = "", detail: str = "", kind: str = "") -> str:
    """One headline number; *kind* is ``flagged``, ``clean`` or ``doubtful`` (styles the card)."""
    unit_html = f"<small>{esc(unit)}</small>" if unit and value != MISSING else ""
    detail_html = f'<div class="detail">{esc(detail)}</div>' if detail else ""
    return (f'<div class="stat {kind}"><div class="label">{esc(label)}</div>'
            f'<div class="value">{esc(value)}{unit_html}</div>{detail_html}</div>')


def _mean(values: Sequence[float]) -> float:
    finite_values = [v for v in values if math.isfinite(v)]
    return sum(finite_values) / len(finite_values) if finite_values else float("nan")


def _median(values: Sequence[float]) -> float:
    finite_values = [v for v in values if math.isfinite(v)]
    return float(np.median(finite_values)) if finite_values else float("nan")


def _flagged_stat(summary: Mapping[str, Any], flagged: int, count: int, breakdown: str) -> str:
    if _flags_suppressed(summary):
        return _stat("Flagged steps", MISSING, "", "not judged for this clip (see the warnings)")
    if not count:
        return _stat("Flagged steps", "0")
    return _stat("Flagged steps", f"{flagged} of {count}", "", breakdown or "none flagged",
                 "flagged" if flagged else "clean")


def _headline(summary: Mapping[str, Any], steps: Sequence[Mapping[str, Any]]) -> str:
    counterbalance = summary.get("counterbalance") or {}
    uncertainty = timing_uncertainty_ms(summary)
    plus_minus = f"±{uncertainty:.0f} ms" if math.isfinite(uncertainty) else ""
    # summary.json's mean_contact_s and mean_flight_s are the steps' medians (pipeline._step_means)
    typical = "the steps' median" + (f", {plus_minus}" if plus_minus else "")
    count = to_int(summary.get("steps"))
    count = len(steps) if count is None else count
    cadence = to_float(summary.get("cadence_steps_per_min"))
    flagged = sum(to_bool(s.get("flagged")) for s in steps)
    flags = summary.get("flags") or {}
    breakdown = " · ".join(f"{to_int(n)} {FLAG_KIND_SHORT.get(kind, kind.replace('_', ' '))}"
                           for kind, n in flags.items() if to_int(n))
    lag_threshold = to_float(counterbalance.get("lag_threshold_ms"))
    ratio_threshold = to_float(counterbalance.get("ratio_threshold"))
    mean_lag = _mean([to_float(s.get("lag_ms")) for s in steps])
    # The median, as the ratio flag's own reference: a step whose push peak all but vanishes
    # (a contact seen in one image) gives a ratio of 8-10 that a mean would carry.
    median_ratio = _median([to_float(s.get("counterbalance_ratio")) for s in steps])
    step_time = _mean([to_float(s.get("step_time_s")) for s in steps])
    doubtful = _timing_doubtful(summary)
    timing_kind = "doubtful" if doubtful else ""
    check_fps = "impossible for a runner: check the frame rate"
    rules = []
    centroid_threshold = to_float(counterbalance.get("centroid_lag_threshold_ms"))
    if counterbalance.get("lag_rule") == "evidence":
        rules.append(f"late > {fmt_factor(counterbalance.get('lateness_threshold'))} the run's scatter")
    elif math.isfinite(lag_threshold):
        rules.append(f"lag > {lag_threshold:.0f} ms"
                     + (f" with bulk > {centroid_threshold:.0f} ms" if math.isfinite(centroid_threshold) else ""))
    if math.isfinite(ratio_threshold):
        rules.append(f"ratio < {ratio_threshold:.2f}")
    cards = (
        _stat("Steps", str(count), "",
              f"mean step {step_time * 1000:.0f} ms" if math.isfinite(step_time) else ""),
        _stat("Cadence", fmt_number(cadence, 0), "steps/min",
              check_fps if doubtful else f"{cadence / 60:.2f} steps per second" if math.isfinite(cadence) else "",
              timing_kind),
        _stat("Contact", fmt_number(to_float(summary.get("mean_contact_s")) * 1000, 0), "ms", typical,
              timing_kind),
        _stat("Flight", fmt_number(to_float(summary.get("mean_flight_s")) * 1000, 0), "ms", typical,
              timing_kind),
        _flagged_stat(summary, flagged, count, breakdown),
        _stat("Mean lag", fmt_number(mean_lag, 0, signed=True), "ms",
              f"median ratio {fmt_ratio(median_ratio)}" + (f"; flags: {', '.join(rules)}" if rules else "")),
    )
    return f'<section id="headline" class="headline" aria-label="Headline numbers">{"".join(cards)}</section>'


# ----------------------------------------------------------------------------- charts


def _chart(name: str, label: str, *, time_axis: bool = False) -> str:
    attrs = ' data-time-axis="1"' if time_axis else ""
    return (f'<div class="chart" data-figure="{esc(name)}"{attrs} role="figure" aria-label="{esc(label)}"></div>'
            '<p class="chart-missing">The charts need <code>plotly.min.js</code> from the folder above this '
            "report. Copy or open the whole output folder, not just this file.</p>")


_NO_JS = '<noscript><p class="no-js-note">The charts need JavaScript.</p></noscript>'


def _timeline_section() -> str:
    return (
        '<section id="timeline" class="card">'
        '<div class="chart-head"><h2>Rotation about the vertical axis</h2>'
        '<button type="button" class="ghost" data-zoom-reset>Show the whole clip</button></div>'
        '<p class="section-note">The push side (push leg with the arms and torso) drives one way; the swing '
        "leg must counter-rotate at the same time and as much. Above zero, each side is doing its job. "
        "Grey bands are ground contacts, red bands flagged steps (number on top). Drag across a chart to zoom: "
        "both charts follow. Click the legend to show arms, torso, legs or the whole body.</p>"
        + _NO_JS
        + _chart("momentum", "Push side drive and swing side counter-rotation over time", time_axis=True)
        + '<h3 class="chart-title">Joint angles</h3><p class="section-note">Hips and knees, left solid and '
        "right dashed; ankles, shoulders, elbows, trunk lean, thigh angles and pelvis and thorax rotation "
        "are in the legend. Same time axis as above.</p>"
        + _chart("angles", "Joint angles over time", time_axis=True)
        + "</section>"
    )


def _per_step_section(summary: Mapping[str, Any]) -> str:
    counterbalance = summary.get("counterbalance") or {}
    lag_t = to_float(counterbalance.get("lag_threshold_ms"))
    bulk_t = to_float(counterbalance.get("centroid_lag_threshold_ms"))
    ratio_t = to_float(counterbalance.get("ratio_threshold"))
    rule = []
    if counterbalance.get("lag_rule") == "evidence":
        rule.append(_evidence_rule_text(counterbalance))
    elif math.isfinite(lag_t):
        rule.append(f"the swing side peaks more than {lag_t:.0f} ms after the push side"
                    + (f" and the bulk of its rotation comes more than {bulk_t:.0f} ms after the push side's"
                       if math.isfinite(bulk_t) else ""))
    if math.isfinite(ratio_t):
        rule.append(f"its peak is below {ratio_t:.2f} of the push side's")
    rule_text = f" A step is flagged when {' or '.join(rule)}." if rule else ""
    return (
        '<section id="per-step" class="card"><h2>Timing and size of the counterbalance, step by step</h2>'
        f'<p class="section-note">Lag is how long after the push side\'s peak the swing side peaks; the '
        f"ratio is the swing peak divided by the push peak (1.00 = equal).{esc(rule_text)} Whiskers show the "
        "timing uncertainty of the frame rate.</p>"
        + _chart("per_step", "Lag and counterbalance ratio per step")
        + "</section>"
    )


def _rising_section(summary: Mapping[str, Any]) -> str:
    rising = (summary.get("counterbalance") or {}).get("rising_together") or {}
    sentence = str(rising.get("sentence") or "").strip()
    stop = to_int(rising.get("stops_keeping_up_at_step"))
    details = []
    if finite(rising.get("slope")):
        details.append(f"slope {to_float(rising['slope']):.2f}")
    if finite(rising.get("correlation")):
        details.append(f"correlation {to_float(rising['correlation']):.2f}")
    sentence_html = (f'<p class="sentence{" alarm" if stop is not None else ""}">{esc(sentence)}'
                     + (f' <span class="muted">({esc(", ".join(details))})</span>' if details else "")
                     + "</p>") if sentence or details else ""
    return (
        '<section id="rising" class="card"><h2>Rising together</h2>'
        '<p class="section-note">As the push side grows more aggressive, the swing side has to rise with it; '
        "speed can keep rising only while both do. One chart follows each side's peak step by step; the other "
        "plots each step as a point, swing peak against push peak, where points below the dashed red line fall "
        "short.</p>"
        + sentence_html
        + '<div class="chart-grid">'
        + _chart("rising_steps", "Push and swing peaks per step")
        + _chart("rising_scatter", "Swing peak against push peak per step")
        + "</div></section>"
    )


# ----------------------------------------------------------------------------- step table


@dataclass(frozen=True)
class _Column:
    """One column of the step table: header, steps.csv column, how to show and sort it."""

    header: str
    key: str
    show: Callable[[Any], str]
    sort_value: Callable[[Any], float] = to_float
    numeric: bool = True
    optional: bool = False  # hidden when no row has a value (e.g. no metric scale)


def _seconds_to_ms(value: Any) -> float:
    return to_float(value) * 1000.0


STEP_COLUMNS: tuple[_Column, ...] = (
    _Column("Touchdown (s)", "touchdown_s", lambda v: fmt_number(v, 3)),
    _Column("Contact (ms)", "contact_s", lambda v: fmt_number(_seconds_to_ms(v), 0), _seconds_to_ms),
    _Column("Flight (ms)", "flight_s", lambda v: fmt_number(_seconds_to_ms(v), 0), _seconds_to_ms),
    _Column("Step time (ms)", "step_time_s", lambda v: fmt_number(_seconds_to_ms(v), 0), _seconds_to_ms),
    _Column("Push peak", "push_peak_norm", fmt_significant),
    _Column("Swing peak", "swing_peak_norm", fmt_significant),
    _Column("Ratio", "counterbalance_ratio", fmt_ratio),
    _Column("Lag (ms)", "lag_ms", lambda v: fmt_number(v, 0, signed=True)),
    _Column("Length (m)", "step_length_m", lambda v: fmt_number(v, 2), optional=True),
    _Column("Speed (m/s)", "speed_m_s", lambda v: fmt_number(v, 2), optional=True),
)


def _flag_sentence(step: Mapping[str, Any]) -> str:
    reason = str(step.get("flag_reason") or "").strip()
    return _sentence(reason or flag_summary(step))


def _step_table(steps: Sequence[Mapping[str, Any]]) -> str:
    columns = [c for c in STEP_COLUMNS if not c.optional or any(finite(s.get(c.key)) for s in steps)]
    head = ('<th class="text first-col" data-type="number" aria-sort="ascending">'
            '<button type="button" class="sort">Step</button></th>'
            '<th class="text" data-type="text"><button type="button" class="sort">Push leg</button></th>'
            '<th class="text" data-type="number"><button type="button" class="sort">Flag</button></th>'
            + "".join(f'<th data-type="number"><button type="button" class="sort">{esc(c.header)}</button></th>'
                      for c in columns))
    rows = []
    for step in steps:
        number = step_number(step)
        flagged = to_bool(step.get("flagged"))
        start, end = to_float(step.get("touchdown_s")), to_float(step.get("next_touchdown_s"))
        if not math.isfinite(end):
            end = to_float(step.get("toeoff_s"))
        label = MISSING if number is None else str(number)
        if math.isfinite(start) and math.isfinite(end):
            step_cell = (f'<button type="button" class="step-button" data-zoom-start="{start:.4f}" '
                         f'data-zoom-end="{end:.4f}" title="Zoom the charts to step {esc(label)}">'
                         f"{esc(label)}</button>")
        else:
            step_cell = esc(label)
        reason = (f'<span class="reason">{esc(_flag_sentence(step))}</span>'
                  if flagged else f'<span class="muted">{MISSING}</span>')
        cells = [f'<td class="text first-col" data-value="{number if number is not None else ""}">{step_cell}</td>',
                 f'<td class="text">{esc(step.get("push_leg") or MISSING)}</td>',
                 f'<td class="text wrap" data-value="{"1" if flagged else "0"}">{reason}</td>']
        for c in columns:
            value = step.get(c.key)
            cells.append(f'<td data-value="{data_value(c.sort_value(value))}">{esc(c.show(value))}</td>')
        row_class = ' class="is-flagged"' if flagged else ""
        rows.append(f"<tr{row_class}>{''.join(cells)}</tr>")
    body = "".join(rows) or (f'<tr><td class="text" colspan="{len(columns) + 3}">'
                             "No step could be measured in this clip.</td></tr>")
    return (
        '<section id="steps"><div class="chart-head"><h2>Steps</h2>'
        f'<span class="muted">{len(steps)} row{"s" if len(steps) != 1 else ""}, as in steps.csv</span></div>'
        '<p class="section-note">One row per step, touchdown to the next touchdown. Click a column to sort, '
        "a step number to zoom the charts (and the video) to it. Times are from the start of the video.</p>"
        '<div class="table-wrap"><table class="sortable" id="step-table">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div></section>"
    )


# ----------------------------------------------------------------------------- stills and video


_MOMENT_TITLES = {"push_peak": "Push peak", "swing_peak": "Swing peak"}


def _still_figure(still: Still, step: Mapping[str, Any]) -> str:
    title = _MOMENT_TITLES.get(still.moment, still.moment)
    caption = [f"<b>{esc(title)}</b>", esc(f"frame {still.frame} ({still.time_s:.3f} s)")]
    lag = to_float(step.get("lag_ms"))
    if still.moment == "swing_peak" and math.isfinite(lag):
        caption.append(esc(f"{abs(lag):.0f} ms {'after' if lag >= 0 else 'before'} the push peak"))
    alt = (f"Step {still.step} at the {title.lower()} ({still.time_s:.3f} s): push side orange, "
           "swing leg blue")
    data = base64.b64encode(still.jpeg).decode("ascii")
    return (f'<figure><img src="data:image/jpeg;base64,{data}" width="{still.width}" height="{still.height}" '
            f'alt="{esc(alt)}" decoding="async">'
            f"<figcaption>{' · '.join(caption)}</figcaption></figure>")


def _stills_section(steps: Sequence[Mapping[str, Any]], stills: Sequence[Still]) -> str:
    flagged = [s for s in steps if to_bool(s.get("flagged"))]
    if not flagged:
        return ""
    by_step: dict[int, list[Still]] = {}
    for still in stills:
        by_step.setdefault(still.step, []).append(still)
    order = {"push_peak": 0, "swing_peak": 1}
    cards = []
    for step in flagged:
        number = step_number(step)
        shots = sorted(by_step.get(number, []) if number is not None else [], key=lambda s: order.get(s.moment, 2))
        if not shots:
            continue
        cards.append(
            f'<article class="card still-step" id="still-step-{number}">'
            f'<h3>Step {esc(number)} <span class="badge flag">flag</span>'
            f' <span class="muted">push leg: {esc(step.get("push_leg") or MISSING)}</span></h3>'
            f'<p class="reason">{esc(_flag_sentence(step))}</p>'
            f'<div class="still-pair">{"".join(_still_figure(s, step) for s in shots)}</div></article>'
        )
    without = [str(step_number(s)) for s in flagged if step_number(s) not in by_step]
    note = ""
    if without and cards:
        note = (f'<p class="section-note">Flagged steps without still frames here (see the step table and '
                f"the video): {esc(', '.join(without))}.</p>")
    elif without:
        note = '<p class="section-note">No still frames were made for this clip; the step table lists every flag.</p>'
    return ('<section id="stills"><h2>Flagged steps, frame by frame</h2>'
            '<p class="section-note">Each flagged step at the moment the push side peaks and at the moment '
            "the swing side peaks. Orange: push side; blue: swing leg.</p>"
            f'{note}<div class="stills">{"".join(cards)}</div></section>')


def _video_section(overlay_relpath: str | None) -> str:
    if not overlay_relpath:
        return ""
    src = esc(url_path(overlay_relpath))
    return ('<section id="video" class="card"><h2>Overlay video</h2>'
            '<p class="section-note">The clip with the skeleton drawn: orange push side, blue swing leg, a red '
            "banner on flagged steps. Use the player's controls to step through; clicking a step number in the "
            "table jumps here to that step's touchdown.</p>"
            f'<video id="overlay-video" controls preload="metadata" playsinline src="{src}">'
            f'<a href="{src}">Open the overlay video</a></video></section>')


# ----------------------------------------------------------------------------- how to read, limits


def _evidence_rule_text(counterbalance: Mapping[str, Any]) -> str:
    """The swing_lag rule of a run long enough to measure its own scatter, in words."""
    return (f"the bulk of the swing side's rotation (its centroid) comes more than "
            f"{fmt_number(counterbalance.get('late_bulk_min_ms'), 0, 'ms')} after the push side's, the swing leg "
            f"more than {fmt_number(counterbalance.get('late_relative_shift_min_ms'), 0, 'ms')} later than usual "
            f"after the push leg, and these two with the swing leg's timing against this run's usual step stand "
            f"out together by more than {fmt_factor(counterbalance.get('lateness_threshold'))} this run's "
            f"step-to-step scatter")


def _how_to_read(summary: Mapping[str, Any]) -> str:
    counterbalance = summary.get("counterbalance") or {}
    lag_t = fmt_number(counterbalance.get("lag_threshold_ms"), 0, "ms")
    bulk_t = fmt_number(counterbalance.get("centroid_lag_threshold_ms"), 0, "ms")
    ratio_t = fmt_ratio(counterbalance.get("ratio_threshold"))
    items = (
        ("Push side and swing side",
         "In each step the leg on the ground is the push leg; with the arms and the torso it makes the push "
         "side (orange). The leg in the air is the swing leg (blue). Roles swap every step."),
        ("The two curves",
         "Each is the angular momentum about the vertical axis through the centre of mass, for that side, "
         "signed so that above zero means the side is doing its job. When the run is balanced they rise and "
         "fall together, and the swing curve is about as high as the push curve."),
        ("Lag", "Time from the push side's peak to the swing side's peak; positive means the swing side was "
                "later. "
                + ("A peak alone moves with the measurement noise, so a step is flagged when "
                   + _evidence_rule_text(counterbalance) + ". Each bar's hover gives its measures."
                   if counterbalance.get("lag_rule") == "evidence" else
                   f"Flagged above {lag_t}"
                   + (f" when the bulk of the swing's rotation (its centroid, in the chart's hover) is also more "
                      f"than {bulk_t} later than the push side's: a broad peak alone moves with the measurement "
                      f"noise" if math.isfinite(to_float(counterbalance.get("centroid_lag_threshold_ms"))) else "")
                   + ".")),
        ("Ratio", "Swing peak divided by push peak; 1.00 means equal. "
                  + (f"Flagged below {ratio_t}." if math.isfinite(to_float(counterbalance.get("ratio_threshold")))
                     else "Not flagged in this run: its ratios scatter too widely for one step to stand out.")),
        ("Raw momenta",
         "Arms, torso, push leg, swing leg and whole body are available from the legend, signed as in the "
         "method (positive = counter-clockwise seen from above). In reality whole-body momentum stays "
         "small; from video it carries every limb's error at once, so it is there for checking, not reading."),
        ("Rising together",
         "Across the run, each step's push peak and swing peak should grow together; the marked step is where "
         "the swing side stops keeping up."),
    )
    return _definitions_section("how-to-read", "How to read this", items)


def _definitions_section(anchor: str, title: str, items: Sequence[tuple[str, str]]) -> str:
    """A card with a heading and a definition list of (term, explanation) pairs."""
    body = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in items)
    return f'<section id="{anchor}" class="card prose"><h2>{esc(title)}</h2><dl>{body}</dl></section>'


def _limits(summary: Mapping[str, Any]) -> str:
    video = summary.get("video") or {}
    fps = to_float(video.get("fps"))
    uncertainty = timing_uncertainty_ms(summary)
    if math.isfinite(fps) and fps > 0:
        frame_ms = 1000.0 / fps
        frame_rate = (f"At {fps:.0f} fps one frame lasts {frame_ms:.0f} ms, so a sprint ground contact "
                      f"(about 0.1 s) spans about {0.1 * fps:.0f} frames (at 30 fps only about 3). ")
    else:
        frame_rate = "At 30 fps a sprint ground contact (about 0.1 s) spans only about 3 frames. "
    if math.isfinite(uncertainty):
        frame_rate += f"Every time here carries about ±{uncertainty:.0f} ms. "
    frame_rate += "Film at 60 fps or more; for slow-motion exports, give the capture rate with --fps."
    items = (
        ("Frame rate", frame_rate),
        ("Camera view",
         "The method needs a side view from a camera that stays still. Front, back and oblique views and "
         "panning cameras are warned about above; their numbers are not to be trusted."),
        ("Depth",
         "A single camera sees forward and vertical motion well. Rotation about the vertical axis also needs "
         "each limb's left-right position, which a side camera cannot see: each leg and arm is placed at an "
         "anthropometric distance from the body's midline, so twist of the trunk is not measured, and the pose "
         "model mixing up the left and right limbs is the largest source of error. Trust patterns across steps "
         "more than any single value."),
        ("Body model",
         "Segment masses and inertias come from de Leva (1996), scaled by the athlete's height and mass; values "
         "marked (default) above were not given, so sizes are approximate."),
    )
    return _definitions_section("limits", "Limits of the method", items)


def _footer(summary: Mapping[str, Any]) -> str:
    versions = summary.get("versions") or {}
    parts = [f"{k} {v}" for k, v in versions.items() if v]
    return ("<footer>Made by sprint-analyzer"
            + (f" · {esc(' · '.join(parts))}" if parts else "")
            + ". The numbers are estimates from video; see the limits above.</footer>")


# ----------------------------------------------------------------------------- public API


def build_report_html(
    summary: Mapping[str, Any],
    frames: Mapping[str, np.ndarray],
    steps: Sequence[Mapping[str, Any]],
    stills: Sequence[Still] = (),
    *,
    plotly_js: PlotlyMode = "shared",
    overlay_relpath: str | None = None,
) -> str:
    """The report page as a string (see :func:`render_report`)."""
    figs = {
        "momentum": figures.momentum_figure(frames, steps),
        "angles": figures.angles_figure(frames, steps),
        "per_step": figures.per_step_figure(steps, summary),
        "rising_steps": figures.rising_by_step_figure(steps, summary),
        "rising_scatter": figures.rising_scatter_figure(steps, summary),
    }
    has_stills = any(to_bool(s.get("flagged")) for s in steps)
    body = "".join((
        _masthead(summary, steps),
        _nav(has_stills=has_stills, has_video=bool(overlay_relpath)),
        '<main class="page">',
        _warnings(summary),
        _headline(summary, steps),
        _facts(summary),
        _timeline_section(),
        _per_step_section(summary),
        _rising_section(summary),
        _step_table(steps),
        _stills_section(steps, stills),
        _video_section(overlay_relpath),
        _how_to_read(summary),
        _limits(summary),
        _footer(summary),
        "</main>",
    ))
    version = (summary.get("versions") or {}).get("analyzer")
    return html_document(
        title=f"Sprint report: {_video_name(summary)}",
        body=body,
        figures=figs,
        plotly_mode=plotly_js,
        plotly_src=f"../{PLOTLY_ASSET}",
        description=_lede(summary, steps),
        generator=f"sprint-analyzer {version}" if version else "sprint-analyzer",
    )


def render_report(
    summary: Mapping[str, Any],
    frames: Mapping[str, np.ndarray],
    steps: Sequence[Mapping[str, Any]],
    stills: Sequence[Still] = (),
    *,
    out_html: str | Path,
    plotly_js: PlotlyMode = "shared",
    overlay_relpath: str | None = None,
) -> Path:
    """Write the report for one video to *out_html* (atomically) and return its path.

    Args:
        summary: summary.json's content.
        frames: frames.csv's columns as arrays (N rows).
        steps: steps.csv's rows.
        stills: still frames of the flagged steps, from :func:`analyzer.overlay.still_frames`.
        out_html: normally ``OUT/<video stem>/report.html``.
        plotly_js: ``"shared"`` links ``../plotly.min.js`` (and makes sure it exists in the folder
            above *out_html*); ``"inline"`` embeds plotly.js (~4.8 MB more) for a standalone file.
        overlay_relpath: the overlay video relative to the report (e.g. ``"overlay.mp4"``), or
            ``None`` for no video section.
    """
    if plotly_js not in ("shared", "inline"):
        raise ValueError(f"plotly_js must be 'shared' or 'inline', not {plotly_js!r}")
    out_html = Path(out_html)
    page = build_report_html(summary, frames, steps, stills, plotly_js=plotly_js,
                             overlay_relpath=overlay_relpath)
    if plotly_js == "shared":
        ensure_plotly_asset(out_html.parent.parent)
    write_text(out_html, page)
    return out_html


__all__ = ["build_report_html", "render_report", "url_path"]
