"""The HTML report and the batch index: content, escaping, links, and real headless-browser loads.

The unit tests read the HTML; the browser tests open it in Debian's headless Chromium
(tests/browser.py) and are skipped, with the reason, where Chromium is not installed.
"""
from __future__ import annotations

import html as html_module
import json
import math
import re
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer import overlay
from analyzer.report import (
    PLOTLY_ASSET,
    build_index_html,
    build_report_html,
    ensure_plotly_asset,
    render_index,
    render_report,
)
from analyzer.report import figures, palette
from analyzer.report.assets import plotly_js
from analyzer.report.index import display_names
from analyzer.report.example import LAG_THRESHOLD_MS, RATIO_THRESHOLD, ExampleRun, example_run
from tests import browser as headless

NASTY_NAME = 'clips/Åsa\'s "60 m" <script>alert(1)</script> & more.mp4'


# ----------------------------------------------------------------------------- reading HTML


class Page(HTMLParser):
    """The parts of a page the tests look at: tables' body rows, URLs, visible text, scripts."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.urls: list[tuple[str, str]] = []  # (tag, url) for every src= and href=
        self.scripts: list[dict[str, str | None]] = []
        self.text = ""
        self._table: str | None = None
        self._in_body = False
        self._row: dict[str, Any] | None = None
        self._cell: dict[str, Any] | None = None
        self._hidden = 0  # inside <script> or <style>
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.urls += [(tag, a[k] or "") for k in ("src", "href") if k in a]
        if tag == "script":
            self.scripts.append(a)
        if tag in ("script", "style"):
            self._hidden += 1
        elif tag == "table":
            self._table = a.get("id") or ""
            self.rows[self._table] = []
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body and self._table is not None:
            self._row = {"class": a.get("class") or "", "cells": []}
            self.rows[self._table].append(self._row)
        elif tag == "td" and self._row is not None:
            self._cell = {"attrs": a, "text": ""}
            self._row["cells"].append(self._cell)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1
        elif tag == "tbody":
            self._in_body = False
        elif tag == "tr":
            self._row = None
        elif tag == "td":
            self._cell = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        self.text += data
        if self._cell is not None:
            self._cell["text"] += data


def figure_payload(html: str) -> dict[str, Any]:
    match = re.search(r'<script type="application/json" id="figure-data">(.*?)</script>', html, re.S)
    assert match, "the page carries its figures as JSON"
    return json.loads(match.group(1))


# ----------------------------------------------------------------------------- inputs


@pytest.fixture(scope="module")
def run() -> ExampleRun:
    """5 s at 60 fps, flagged steps of every kind, a video name full of characters to escape."""
    r = example_run(5.0, 60.0, width=480, height=270, video_path=NASTY_NAME)
    r.summary["warnings"].append('Frame rate <b>looks</b> "odd" & suspicious.')
    flagged = next(s for s in r.steps if s["flagged"])
    flagged["flag_reason"] = "Swing late <img src=x onerror=alert(1)>."
    return r


@pytest.fixture(scope="module")
def stills(run: ExampleRun) -> list[overlay.Still]:
    wanted = overlay.still_frame_indices(run.frames, run.steps)
    return overlay.still_frames({f: run.image(f) for f in wanted}, run.xy_px, run.visibility, run.frames,
                                run.steps, max_side=320)


@pytest.fixture(scope="module")
def report_html(run: ExampleRun, stills: list[overlay.Still]) -> str:
    return build_report_html(run.summary, run.frames, run.steps, stills, overlay_relpath="my clip #1.mp4")


def empty_run() -> ExampleRun:
    """A clip in which no step could be measured (e.g. a front view), values as the CSV has them."""
    r = example_run(1.0, 30.0, width=320, height=180, stop_step=None)
    r.steps.clear()
    r.summary.update(steps=0, flags={}, cadence_steps_per_min=None, mean_contact_s=None, mean_flight_s=None)
    r.summary["view"] = {"view": "front", "camera_moving": True}
    r.summary["counterbalance"]["rising_together"] = {
        "slope": None, "correlation": None, "stops_keeping_up_at_step": None,
        "sentence": "Too few steps to tell whether the two sides rise together."}
    r.summary["warnings"] = ["Filmed from the front: the counterbalance needs a side view."]
    return r


# ----------------------------------------------------------------------------- report: content


def test_everything_from_outside_is_escaped(report_html: str) -> None:
    assert "<script>alert(1)" not in report_html
    assert "<img src=x" not in report_html
    assert "<b>looks</b>" not in report_html
    page = Page(report_html)
    assert "Åsa's \"60 m\" <script>alert(1)</script> & more.mp4" in page.text  # shown, as text
    assert 'Frame rate <b>looks</b> "odd" & suspicious.' in page.text
    assert "Swing late <img src=x onerror=alert(1)>." in page.text
    # Every <script> element is one of ours: the figure data, plotly.js, and the page script.
    assert report_html.count("<script") == report_html.count("</script>") == 3
    assert len(page.scripts) == 3


def test_header_says_how_the_clip_was_analysed(run: ExampleRun, report_html: str) -> None:
    text = Page(report_html).text
    assert "60 fps (from the video file)" in text
    assert re.search(r"1\.75\s*m \(default\) · 70\s*kg \(default\) · female", text), "defaults marked"
    assert "Side view, static camera" in text
    assert "Runner found in 99" in text
    for warning in run.summary["warnings"]:
        assert warning in text


def test_step_table_has_one_row_per_step_with_flags_explained(run: ExampleRun, report_html: str) -> None:
    rows = Page(report_html).rows["step-table"]
    assert len(rows) == len(run.steps)
    for row, step in zip(rows, run.steps):
        cells = [c["text"].strip() for c in row["cells"]]
        assert cells[0] == str(step["step"]) and cells[1] == step["push_leg"]
        assert ("is-flagged" in row["class"]) == step["flagged"]
        assert cells[2] == (step["flag_reason"] if step["flagged"] else "—")
        by_header = dict(zip(("touchdown", "contact", "flight", "step_time", "push", "swing", "ratio", "lag"),
                             cells[3:11]))
        assert by_header["contact"] == str(round(step["contact_s"] * 1000)), "ms as integers"
        assert by_header["ratio"] == f"{step['counterbalance_ratio']:.2f}", "ratios to 2 decimals"
        assert by_header["lag"] == f"{round(step['lag_ms']):+d}".replace("-", "\u2212")  # a real minus
        push = by_header["push"]
        assert float(push) == pytest.approx(step["push_peak_norm"], rel=5e-3)
        assert len(push.replace(".", "").lstrip("0")) == 3, f"3 significant figures: {push}"


def test_thresholds_are_drawn_on_the_per_step_charts(run: ExampleRun) -> None:
    fig = figures.per_step_figure(run.steps, run.summary)
    lines = {(s.yref, round(s.y0, 3)) for s in fig.layout.shapes if s.type == "line"}
    assert ("y", LAG_THRESHOLD_MS) in lines
    assert ("y2", RATIO_THRESHOLD) in lines
    labels = " ".join(a.text for a in fig.layout.annotations)
    assert "flagged above 40 ms" in labels and "flagged below 0.80" in labels
    late = ["swing_lag" in s["flag_kinds"] for s in run.steps]
    short = ["under_counterbalanced" in s["flag_kinds"] for s in run.steps]
    assert any(late) and any(short)
    assert [c == palette.FLAG for c in fig.data[0].marker.color] == late
    assert [c == palette.FLAG for c in fig.data[1].marker.color] == short


def test_rising_together_marks_where_the_swing_side_stops_keeping_up(run: ExampleRun) -> None:
    stop = run.summary["counterbalance"]["rising_together"]["stops_keeping_up_at_step"]
    by_step = figures.rising_by_step_figure(run.steps, run.summary)
    assert any(s.type == "line" and s.x0 == stop for s in by_step.layout.shapes)
    scatter = figures.rising_scatter_figure(run.steps, run.summary)
    assert any(f"step {stop}" in a.text for a in scatter.layout.annotations)
    names = [t.name for t in scatter.data]
    assert any(n.startswith("Trend (slope") for n in names) and "Flagged step" in names


def test_time_charts_share_one_time_axis_and_show_the_model_first(run: ExampleRun) -> None:
    momentum = figures.momentum_figure(run.frames, run.steps)
    angles = figures.angles_figure(run.frames, run.steps)
    assert momentum.layout.xaxis.range == angles.layout.xaxis.range
    shown = [t.name for t in momentum.data if t.visible is not False and t.visible != "legendonly"]
    on_demand = [t.name for t in momentum.data if t.visible == "legendonly"]
    assert shown[:2] == ["Push side drive", "Swing side counter-rotation"]
    assert on_demand == ["Arms", "Torso", "Push leg", "Swing leg", "Whole body"]
    angle_shown = {t.name for t in angles.data if t.visible is True}
    assert angle_shown == {"Hip flexion, left", "Hip flexion, right", "Knee flexion, left", "Knee flexion, right"}
    contacts = [s for s in momentum.layout.shapes if s.fillcolor == "rgba(31,41,51,0.07)"]
    assert len(contacts) == len(run.steps)


def test_stills_and_video_are_embedded(run: ExampleRun, stills: list[overlay.Still], report_html: str) -> None:
    images = re.findall(r'<img src="data:image/jpeg;base64,', report_html)
    assert len(images) == len(stills) == 2 * sum(s["flagged"] for s in run.steps)
    assert '<video id="overlay-video" controls' in report_html
    assert 'src="my%20clip%20%231.mp4"' in report_html
    # Steps left without stills (only the most severe get them) are named, not shown as empty cards.
    first_only = build_report_html(run.summary, run.frames, run.steps, stills[:2])
    others = [str(s["step"]) for s in run.steps if s["flagged"]][1:]
    assert first_only.count('class="card still-step"') == 1
    assert f"Flagged steps without still frames here (see the step table and the video): {', '.join(others)}." \
        in Page(first_only).text


def test_links_are_relative_and_local(tmp_path: Path, run: ExampleRun) -> None:
    out = render_report(run.summary, run.frames, run.steps, (), out_html=tmp_path / "OUT" / "a clip" / "report.html",
                        overlay_relpath="overlay.mp4")
    page = Page(out.read_text("utf-8"))
    assert ("script", f"../{PLOTLY_ASSET}") in page.urls
    for tag, url in page.urls:
        assert not re.match(r"^[a-z]+://", url) and not url.startswith("//"), (tag, url)
    asset = tmp_path / "OUT" / PLOTLY_ASSET
    assert asset.read_bytes() == plotly_js()
    assert sorted(p.name for p in out.parent.iterdir()) == ["report.html"], "written atomically, nothing left over"


def test_inline_report_stands_alone(run: ExampleRun, tmp_path: Path) -> None:
    out = render_report(run.summary, run.frames, run.steps, (), out_html=tmp_path / "x" / "report.html",
                        plotly_js="inline", overlay_relpath=None)
    html = out.read_text("utf-8")
    assert [url for tag, url in Page(html).urls if tag == "script"] == [] and "<video" not in html
    assert len(html) > len(plotly_js())
    assert not (tmp_path / PLOTLY_ASSET).exists()
    with pytest.raises(ValueError):
        render_report(run.summary, run.frames, run.steps, (), out_html=tmp_path / "y.html", plotly_js="cdn")  # type: ignore[arg-type]


def test_a_clip_without_steps_still_gets_a_clear_report(tmp_path: Path) -> None:
    r = empty_run()
    html = build_report_html(r.summary, r.frames, r.steps, ())
    page = Page(html)
    assert "No step could be measured" in page.text
    assert "Front view, camera moving (panning)" in page.text
    assert "Filmed from the front" in page.text
    assert len(page.rows["step-table"]) == 1  # the explanatory row
    assert 'id="stills"' not in html


def test_report_does_not_vouch_for_numbers_the_analysis_doubts(run: ExampleRun) -> None:
    summary = json.loads(json.dumps(run.summary))
    summary["counterbalance"]["flags_suppressed"] = True
    summary["timing_check"] = {"plausible": False, "sentence": "Timing faster than any runner."}
    summary["view"]["view"] = "oblique"
    steps = [dict(s, flagged=False, flag_kinds="", flag_reason="") for s in run.steps]
    html = build_report_html(summary, run.frames, steps, ())
    text = Page(html).text
    assert "analysed from an oblique view" in text
    assert "Steps are not flagged for this clip" in text and "kept time" not in text
    assert "not judged for this clip" in text
    assert html.count('class="stat doubtful"') == 3  # cadence, contact, flight
    assert "check the frame rate" in text


def test_values_read_back_from_csv_strings_render() -> None:
    r = example_run(2.0, 30.0, width=320, height=180, stop_step=None)
    as_csv = [{k: ("" if isinstance(v, float) and math.isnan(v) else str(v).lower() if isinstance(v, bool)
                   else str(v)) for k, v in s.items()} for s in r.steps]
    as_csv[0].update(lag_ms="nan", counterbalance_ratio="", step_length_m="", speed_m_s="")
    html = build_report_html(r.summary, r.frames, as_csv, ())
    rows = Page(html).rows["step-table"]
    assert len(rows) == len(as_csv)
    assert [c["text"] for c in rows[0]["cells"]][9:11] == ["—", "—"]  # ratio, lag
    assert sum("is-flagged" in row["class"] for row in rows) == sum(s["flagged"] for s in r.steps)


def test_the_headline_ratio_is_the_median_of_the_steps() -> None:
    """One step whose push peak all but vanished (ratio 9.6 on the 30 fps pan sample) must not
    turn the headline into "ratio 4.19": the card gives the steps' median, the reference the
    ratio flag itself is taken against."""
    r = example_run(2.0, 30.0, width=320, height=180, stop_step=None)
    steps = [dict(s, counterbalance_ratio=ratio) for s, ratio in zip(r.steps, [1.05, 1.04, 1.05, 9.62, 8.15])]
    text = html_module.unescape(re.sub(r"<[^>]+>", " ", build_report_html(r.summary, r.frames, steps, ())))
    assert "median ratio 1.05" in text and "4.19" not in text


_ANY_VALUE = st.one_of(st.none(), st.just(""), st.just("nan"), st.just("true"), st.booleans(),
                      st.floats(allow_nan=True, allow_infinity=True, width=32), st.integers(-5, 400),
                      st.text(max_size=12))
_STEP_KEYS = ("push_leg", "touchdown_s", "toeoff_s", "next_touchdown_s", "contact_s", "flight_s", "step_time_s",
              "push_peak_s", "swing_peak_s", "lag_ms", "counterbalance_ratio", "flagged", "flag_reason", "flag_kinds",
              "push_peak_norm", "swing_peak_norm", "step_length_m", "speed_m_s")
_SUMMARY_KEYS = ("steps", "cadence_steps_per_min", "mean_contact_s", "mean_flight_s", "timing_uncertainty_ms")
_NESTED_KEYS = {
    "video": ("path", "fps", "fps_source", "distinct_images_per_s", "frame_count", "duration_s", "width", "height",
              "rotation_deg"),
    "athlete": ("height_m", "mass_kg", "sex", "height_given", "mass_given", "sex_given"),
    "pose": ("model", "detected_fraction", "left_right_swaps_fixed", "legs_collapsed_frames"),
    "view": ("view", "camera_moving"),
    "flags": ("swing_lag", "under_counterbalanced", "not_keeping_up"),
}


def _optional(keys: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={k: _ANY_VALUE for k in keys})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(_optional(_STEP_KEYS), max_size=6),
       summary=st.fixed_dictionaries({}, optional={
           **{k: _ANY_VALUE for k in _SUMMARY_KEYS},
           **{k: _optional(keys) for k, keys in _NESTED_KEYS.items()},
           "warnings": st.lists(st.text(max_size=20), max_size=3),
           "counterbalance": st.fixed_dictionaries({}, optional={
               "lag_threshold_ms": _ANY_VALUE, "ratio_threshold": _ANY_VALUE, "flags_suppressed": _ANY_VALUE,
               "rising_together": _optional(("slope", "correlation", "stops_keeping_up_at_step", "sentence"))}),
       }))
def test_any_missing_or_odd_value_still_renders(steps: list[dict[str, Any]], summary: dict[str, Any]) -> None:
    """Whatever the analysis leaves out or writes oddly, the user still gets a page, one row per step."""
    rows = [dict(step, step=i + 1) for i, step in enumerate(steps)]
    frames = {"frame": np.arange(30), "time_s": np.arange(30) / 30.0}
    html = build_report_html(summary, frames, rows, ())
    table = Page(html).rows["step-table"]
    assert len(table) == max(1, len(rows))
    figure_payload(html)  # the figure data is valid JSON


def test_pose_line_says_what_was_corrected() -> None:
    frames = {"frame": np.arange(30), "time_s": np.arange(30) / 30.0}
    pose = {"detected_fraction": 0.98, "left_right_swaps_fixed": 2, "legs_collapsed_frames": 3}
    html = build_report_html({"pose": pose}, frames, [], ())
    assert "2 left/right swaps fixed" in html
    assert "3 frames with both legs drawn as one, filled in from the frames around" in html
    html = build_report_html({"pose": {**pose, "legs_collapsed_frames": 0}}, frames, [], ())
    assert "both legs drawn as one" not in html


def test_report_for_ten_seconds_at_60_fps_is_small(tmp_path: Path) -> None:
    r = example_run(10.0, 60.0, width=1280, height=720)
    wanted = overlay.still_frame_indices(r.frames, r.steps)
    stills = overlay.still_frames({f: r.image(f) for f in wanted}, r.xy_px, r.visibility, r.frames, r.steps)
    started = time.perf_counter()
    out = render_report(r.summary, r.frames, r.steps, stills, out_html=tmp_path / "OUT" / "clip" / "report.html")
    took = time.perf_counter() - started
    size = out.stat().st_size
    print(f"10 s at 60 fps: report {size / 1e6:.2f} MB with {len(stills)} stills, rendered in {took:.2f} s")
    assert size < 5_000_000


def test_plotly_asset_is_written_once_and_repaired(tmp_path: Path) -> None:
    asset = ensure_plotly_asset(tmp_path)
    stamp = asset.stat().st_mtime_ns
    time.sleep(0.01)
    assert ensure_plotly_asset(tmp_path) == asset and asset.stat().st_mtime_ns == stamp
    asset.write_bytes(b"truncated")
    ensure_plotly_asset(tmp_path)
    assert asset.read_bytes() == plotly_js()


# ----------------------------------------------------------------------------- index


def index_rows(tmp_path: Path) -> list[dict[str, Any]]:
    return [
        {"video": "session 1/Åsa <fast> & 'quick'.mp4", "status": "ok", "message": "", "steps": 20,
         "flagged_steps": 5, "cadence_steps_per_min": 268.4, "mean_contact_s": 0.1049,
         "report": "session 1/Åsa fast #1/report.html", "mean_lag_ms": 18.6, "view": "side",
         "warnings": ["Height and mass were not given <defaults>."]},
        {"video": "front.mov", "status": "ok", "message": "", "steps": "12", "flagged_steps": "7",
         "cadence_steps_per_min": "251", "mean_contact_s": "0.128",
         "report": str(tmp_path / "front" / "report.html"), "mean_lag_ms": "31", "view": "front",
         "warnings": "Filmed from the front."},
        {"video": "broken.mp4", "status": "error", "message": "Could not decode <moov> atom.",
         "steps": "", "flagged_steps": "", "cadence_steps_per_min": "", "mean_contact_s": "",
         "report": "", "mean_lag_ms": None, "view": "", "warnings": []},
        {"video": "notes.txt", "status": "skipped", "message": "Not a video file.", "steps": None,
         "flagged_steps": None, "cadence_steps_per_min": None, "mean_contact_s": None, "report": "",
         "warnings": []},
    ]


def test_index_lists_every_video_with_relative_links(tmp_path: Path) -> None:
    out = render_index(index_rows(tmp_path), tmp_path)
    html = out.read_text("utf-8")
    page = Page(html)
    rows = page.rows["video-table"]
    assert len(rows) == 4
    statuses = [row["cells"][1]["text"].strip() for row in rows]
    assert statuses == ["ok", "ok", "error", "skipped"]
    links = [url for tag, url in page.urls if tag == "a"]
    assert links == ["session%201/%C3%85sa%20fast%20%231/report.html", "front/report.html"]
    assert ("script", PLOTLY_ASSET) in page.urls and (tmp_path / PLOTLY_ASSET).is_file()
    first = [c["text"].strip() for c in rows[0]["cells"]]
    assert first[3:8] == ["20", "5 (25%)", "268", "105", "+19"]
    assert "Height and mass were not given <defaults>." in first[8]
    assert "Filmed from the front." in rows[1]["cells"][8]["text"]
    assert "Could not decode <moov> atom." in rows[2]["cells"][8]["text"]
    assert "<fast>" not in html and "<moov>" not in html and "<defaults>" not in html
    comparison = figure_payload(html)["figures"]["comparison"]
    assert len(comparison["data"]) == 4 and all(len(t["x"]) == 2 for t in comparison["data"])


def test_index_names_videos_briefly_and_compares_what_it_can(tmp_path: Path) -> None:
    assert display_names([{"video": "/data/a/run 1.mp4"}, {"video": "/data/b/run 2.mov"}]) == ["run 1.mp4", "run 2.mov"]
    assert display_names([{"video": "/data/mon/run.mp4"}, {"video": "/data/tue/run.mp4"}]) == ["mon/run.mp4",
                                                                                            "tue/run.mp4"]
    rows = [{"video": "/data/x.mp4", "status": "ok", "message": "Oblique view.", "steps": 0, "flagged_steps": 0,
             "report": "x/report.html", "warnings": ["Oblique view.", "Camera moves."]}]
    html = build_index_html(rows, tmp_path)
    assert html.count("Oblique view.") == 1, "the message is not repeated as a warning"
    assert 'title="/data/x.mp4"' in html and ">x.mp4</a>" in html
    assert figures.comparison_figure(rows, ["x.mp4"]) is None, "nothing to compare: no chart"
    rows[0].update(steps=10, flagged_steps=2, cadence_steps_per_min=250)
    fig = figures.comparison_figure(rows, ["x.mp4"])
    assert [a.text for a in fig.layout.annotations] == ["Cadence (steps/min)", "Flagged steps (%)"]


def test_index_without_videos(tmp_path: Path) -> None:
    html = build_index_html([], tmp_path)
    assert "No videos were found." in html and 'data-figure="comparison"' not in html


# ----------------------------------------------------------------------------- in a real browser


@pytest.fixture(scope="module")
def browser() -> Iterator[headless.Browser]:
    reason = headless.unavailable_reason()
    if reason:
        pytest.skip(reason)
    with headless.Browser(width=1400, height=1000) as b:
        yield b


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, run: ExampleRun,
         stills: list[overlay.Still]) -> dict[str, Path]:
    """A batch output folder: two reports (one with an overlay video, one with no steps) and the index."""
    root = tmp_path_factory.mktemp("OUT")
    clip = root / "Åsa's clip #1"
    overlay.write_overlay(run.images(), run.xy_px, run.visibility, run.frames, run.steps, 60.0,
                          clip / "overlay.mp4")
    report = render_report(run.summary, run.frames, run.steps, stills, out_html=clip / "report.html",
                           overlay_relpath="overlay.mp4")
    empty = empty_run()
    no_steps = render_report(empty.summary, empty.frames, empty.steps, (), out_html=root / "front" / "report.html")
    rows = index_rows(root)
    rows[0]["report"] = "Åsa's clip #1/report.html"
    rows[1]["report"] = "front/report.html"
    index = render_index(rows, root)
    return {"report": report, "no_steps": no_steps, "index": index, "root": root}


def assert_clean(load: headless.PageLoad) -> None:
    assert load.errors == [], f"console errors on {load.url}"
    assert load.external_requests == [], f"requests leaving the machine from {load.url}"
    assert any(url.endswith(PLOTLY_ASSET) for url in load.requests), "loaded the shared plotly.js"


def charts_state(b: headless.Browser) -> list[dict[str, Any]]:
    return b.js("""
        return Array.from(document.querySelectorAll('[data-figure]')).map(el => ({
          name: el.dataset.figure,
          plotly: el.classList.contains('js-plotly-plot'),
          svg: el.querySelectorAll('svg.main-svg').length,
          traces: el.querySelectorAll('.scatterlayer .trace, .barlayer .trace').length,
          height: el.getBoundingClientRect().height,
        }));""")


@pytest.mark.parametrize("page", ["report", "no_steps", "index"])
def test_pages_load_offline_without_errors_and_draw_every_chart(browser: headless.Browser,
                                                                site: dict[str, Path], page: str) -> None:
    load = browser.open(site[page])
    assert_clean(load)
    assert browser.js("return document.documentElement.getAttribute('data-charts')") == "ready"
    charts = charts_state(browser)
    expected = ["comparison"] if page == "index" else ["momentum", "angles", "per_step", "rising_steps",
                                                       "rising_scatter"]
    assert [c["name"] for c in charts] == expected
    for chart in charts:
        assert chart["plotly"] and chart["svg"] > 0 and chart["height"] > 200, chart
        if page != "no_steps" or chart["name"] in ("momentum", "angles"):
            assert chart["traces"] > 0, chart
    for png in browser.element_pngs("[data-figure]"):
        assert headless.image_stddev(png) > 8, "a chart screenshot is not blank"
    assert browser.collect().errors == []


def test_step_table_in_the_browser_sorts_and_zooms(browser: headless.Browser, site: dict[str, Path],
                                                   run: ExampleRun) -> None:
    assert_clean(browser.open(site["report"]))
    count = browser.js("return document.querySelectorAll('#step-table tbody tr').length")
    assert count == len(run.steps)

    def lag_column() -> list[float]:
        return browser.js("""
            const heads = Array.from(document.querySelectorAll('#step-table thead th'));
            const i = heads.findIndex(th => th.textContent.trim().startsWith('Lag'));
            return Array.from(document.querySelectorAll('#step-table tbody tr'))
              .map(tr => parseFloat(tr.cells[i].dataset.value));""")

    browser.js("""Array.from(document.querySelectorAll('#step-table th .sort'))
                  .find(b => b.textContent.startsWith('Lag')).click();""")
    ascending = lag_column()
    assert ascending == sorted(ascending) and len(ascending) == len(run.steps)
    browser.js("""Array.from(document.querySelectorAll('#step-table th .sort'))
                  .find(b => b.textContent.startsWith('Lag')).click();""")
    assert lag_column() == sorted(ascending, reverse=True)

    # Zooming one time chart zooms the other; a step's button zooms both to that step.
    browser.js("return Plotly.relayout(document.querySelector('[data-figure=momentum]'), {'xaxis.range': [1, 2]});")
    time.sleep(0.3)
    ranges = browser.js("""return ['momentum', 'angles'].map(n =>
        document.querySelector(`[data-figure=${n}]`)._fullLayout.xaxis.range);""")
    assert ranges[0] == pytest.approx([1, 2]) and ranges[1] == pytest.approx([1, 2])
    step = run.steps[5]
    browser.js(f"document.querySelector('.step-button[data-zoom-start=\"{step['touchdown_s']:.4f}\"]').click();")
    time.sleep(0.5)
    ranges = browser.js("""return ['momentum', 'angles'].map(n =>
        document.querySelector(`[data-figure=${n}]`)._fullLayout.xaxis.range);""")
    for lo, hi in ranges:
        assert lo < step["touchdown_s"] < step["next_touchdown_s"] < hi and hi - lo < 1.0
    assert browser.collect().errors == []


def test_overlay_video_plays_in_the_browser(browser: headless.Browser, site: dict[str, Path]) -> None:
    assert_clean(browser.open(site["report"]))
    deadline = time.monotonic() + 15
    while browser.js("return document.getElementById('overlay-video').readyState") < 2:
        assert time.monotonic() < deadline, "the overlay video never loaded"
        time.sleep(0.1)
    size = browser.js("const v = document.getElementById('overlay-video'); return [v.videoWidth, v.videoHeight];")
    assert size == [480, 270]
    assert browser.collect().errors == []


def test_report_fits_a_phone_screen(browser: headless.Browser, site: dict[str, Path]) -> None:
    browser.emulate(390, 844, mobile=True)
    try:
        assert_clean(browser.open(site["report"]))
        assert browser.js("return document.documentElement.scrollWidth") <= 390, "no sideways scrolling"
        # Narrow screens get the charts' compact layout: taller, so legends leave room to plot.
        height = browser.js("return document.querySelector('[data-figure=momentum]')._fullLayout.height")
        assert height == 680
        assert_clean(browser.open(site["index"]))
        assert browser.js("return document.documentElement.scrollWidth") <= 390
    finally:
        browser.emulate(1400, 1000)


def test_index_links_open_the_reports(browser: headless.Browser, site: dict[str, Path]) -> None:
    assert_clean(browser.open(site["index"]))
    hrefs = browser.js("return Array.from(document.querySelectorAll('#video-table a')).map(a => a.href);")
    assert len(hrefs) == 2
    for href in hrefs:
        assert href.startswith("file://")
        browser.driver.get(href)
        assert browser.js("return document.title").startswith("Sprint report:")


def test_a_report_copied_without_plotly_says_so(browser: headless.Browser, site: dict[str, Path],
                                                 tmp_path: Path) -> None:
    lonely = tmp_path / "copied" / "report.html"
    lonely.parent.mkdir()
    lonely.write_bytes(site["no_steps"].read_bytes())
    load = browser.open(lonely)
    assert browser.js("return document.documentElement.getAttribute('data-charts')") == "missing"
    assert any(PLOTLY_ASSET in e for e in load.errors), "the missing file is the only error"
    assert len(load.errors) == 1
    notices = browser.js("""return Array.from(document.querySelectorAll('.chart-missing'))
                             .filter(p => getComputedStyle(p).display !== 'none').length;""")
    assert notices == 5


def test_evidence_lag_rule_is_stated_and_each_steps_measures_hovered(run: ExampleRun) -> None:
    """A run long enough for its own scatter is flagged by the evidence rule: the per-step chart
    says so instead of drawing a peak-lag line, each bar's hover carries the step's three
    timing measures, and the page states the rule with its limits."""
    summary = json.loads(json.dumps(run.summary))
    summary["counterbalance"].update(lag_rule="evidence", lateness_threshold=1.5, late_bulk_min_ms=8.3,
                                     late_relative_shift_min_ms=12.5)
    steps = [dict(s, swing_shift_ms=3.0 * i, relative_shift_ms=2.0 * i, lateness=0.5 * i)
             for i, s in enumerate(run.steps)]
    fig = figures.per_step_figure(steps, summary)
    lines = {(s.yref, round(s.y0, 3)) for s in fig.layout.shapes if s.type == "line"}
    assert ("y", LAG_THRESHOLD_MS) not in lines and ("y2", RATIO_THRESHOLD) in lines
    labels = " ".join(a.text for a in fig.layout.annotations)
    assert "over 1.5× this run's step-to-step scatter" in labels and "Lag (ms)" in labels
    assert "swing +6 ms against this run's usual step" in fig.data[0].customdata[2]
    assert "swing leg +4 ms after the push leg" in fig.data[0].customdata[2]
    assert "lateness +1.0× the run's scatter" in fig.data[0].customdata[2]
    page = build_report_html(summary, run.frames, steps)
    text = html_module.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))
    assert "more than 8 ms after the push side's" in text  # (\s also matches the thin space before units)
    assert "more than 12 ms later than usual after the push leg" in text  # 12.5 ms rounds half to even
    assert "stand out together by more than 1.5× this run's step-to-step scatter" in text


@pytest.mark.parametrize(("pose", "said"), [
    ({"model": "m.task", "flip_test": True, "flip_test_setting": "auto"},
     "flip test (automatic: the legs move far between pictures)"),
    ({"model": "m.task", "flip_test": True, "flip_test_setting": "on"}, "flip test: the mirrored"),
    ({"model": "m.task", "flip_test": False, "flip_test_setting": "auto"}, None),
])
def test_the_pose_line_says_whether_and_why_the_flip_test_ran(pose: dict, said: str | None) -> None:
    from analyzer.report.html import _pose_text

    text = _pose_text({"detected_fraction": 1.0, **pose})
    if said is None:
        assert "flip test" not in text
    else:
        assert said in text
