"""Tests for gateway.charts (no Django needed)."""

from __future__ import annotations

import random
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.charts import MAX_VERTICES, score_history_svg

NS = "{http://www.w3.org/2000/svg}"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # noqa: S314 - parsing our own output
    assert root.tag == f"{NS}svg"
    return root


def view_box(root: ET.Element) -> tuple[float, float, float, float]:
    x, y, w, h = (float(v) for v in root.attrib["viewBox"].split())
    return x, y, w, h


def polyline_vertices(root: ET.Element) -> list[tuple[float, float]]:
    line = root.find(f"{NS}polyline")
    assert line is not None
    return [tuple(float(c) for c in pair.split(",")) for pair in line.attrib["points"].split()]


def all_coordinates(root: ET.Element) -> list[tuple[float, float]]:
    coords: list[tuple[float, float]] = []
    for el in root.iter():
        a = el.attrib
        tag = el.tag.removeprefix(NS)
        if tag == "polyline":
            coords += polyline_vertices(root)
        elif tag == "line":
            coords += [(float(a["x1"]), float(a["y1"])), (float(a["x2"]), float(a["y2"]))]
        elif tag == "circle":
            r = float(a["r"])
            cx, cy = float(a["cx"]), float(a["cy"])
            coords += [(cx - r, cy - r), (cx + r, cy + r)]
        elif tag == "rect":
            x, y = float(a["x"]), float(a["y"])
            coords += [(x, y), (x + float(a["width"]), y + float(a["height"]))]
        elif tag == "text":
            coords.append((float(a["x"]), float(a["y"])))
    return coords


def assert_inside_view_box(root: ET.Element) -> None:
    x0, y0, w, h = view_box(root)
    for x, y in all_coordinates(root):
        assert x0 <= x <= x0 + w, (x, y)
        assert y0 <= y <= y0 + h, (x, y)


def texts(root: ET.Element, cls: str) -> list[str]:
    return [el.text or "" for el in root.iter(f"{NS}text") if el.attrib.get("class") == cls]


def history(scores: list[int], step: timedelta = timedelta(days=7)):
    return [(T0 + i * step, s) for i, s in enumerate(scores)]


# --------------------------------------------------------------------------- basics


def test_well_formed_accessible_and_scalable():
    svg = score_history_svg(history([100, 95, 110, 130, 80]), title="Score history")
    root = parse(svg)
    assert root.attrib["role"] == "img"
    assert root.attrib["viewBox"] == "0 0 360 180"
    assert root.attrib["width"] == "100%"
    assert "height" not in root.attrib  # follows the width through the viewBox
    first = next(iter(root))
    assert first.tag == f"{NS}title"
    assert first.text == "Score history"
    assert_inside_view_box(root)


def test_no_scripts_styles_or_external_references():
    svg = score_history_svg(history([100, 120]), title="t", threshold=150)
    lowered = svg.lower()
    for needle in ("<script", "style", "href", "https://", "url(", "<image", "<foreignobject"):
        assert needle not in lowered, needle
    assert lowered.count("http://") == 1  # only the SVG namespace declaration
    for el in parse(svg).iter():
        assert not any(name.lower().startswith("on") for name in el.attrib)


def test_baseline_present_at_100():
    root = parse(score_history_svg(history([100, 150]), title="t"))
    baseline = [el for el in root.iter(f"{NS}line") if el.attrib["class"] == "baseline"]
    assert len(baseline) == 1
    line = baseline[0]
    assert line.attrib["stroke-dasharray"]
    # 100 is half way between 0 and 200: the middle of the plot frame.
    frame = root.find(f"{NS}rect")
    mid = float(frame.attrib["y"]) + float(frame.attrib["height"]) / 2
    assert float(line.attrib["y1"]) == pytest.approx(mid, abs=0.1)
    assert line.attrib["y1"] == line.attrib["y2"]


def test_threshold_line_optional():
    plain = parse(score_history_svg(history([100, 150]), title="t"))
    assert not [el for el in plain.iter(f"{NS}line") if el.attrib["class"] == "threshold"]
    root = parse(score_history_svg(history([100, 150]), title="t", threshold=120))
    lines = {el.attrib["class"]: el for el in root.iter(f"{NS}line")}
    assert float(lines["threshold"].attrib["y1"]) < float(lines["baseline"].attrib["y1"])
    # Outside lo..hi it is left out rather than drawn at a misleading edge.
    out = parse(score_history_svg(history([100, 150]), title="t", threshold=500))
    assert not [el for el in out.iter(f"{NS}line") if el.attrib["class"] == "threshold"]


def test_axis_labels_dates_and_min_max():
    points = [
        (datetime(2026, 1, 5, tzinfo=UTC), 100),
        (datetime(2026, 3, 1, tzinfo=UTC), 40),
        (datetime(2026, 6, 30, tzinfo=UTC), 170),
        (datetime(2026, 9, 30, tzinfo=UTC), 120),
    ]
    root = parse(score_history_svg(points, title="t"))
    assert texts(root, "x-label") == ["2026-01-05", "2026-09-30"]
    labels = texts(root, "y-label")
    assert "40" in labels
    assert "170" in labels
    assert "100" in labels  # the baseline


def test_dates_are_labelled_in_shanghai_time():
    # 2025-12-31T17:00Z is already 1 Jan 2026 in Shanghai.
    points = [(datetime(2025, 12, 31, 17, tzinfo=UTC), 100), (T0 + timedelta(days=30), 110)]
    root = parse(score_history_svg(points, title="t"))
    assert texts(root, "x-label")[0] == "2026-01-01"
    local = [(datetime(2026, 2, 1, 8, tzinfo=ZoneInfo("Asia/Shanghai")), 100)]
    assert texts(parse(score_history_svg(local, title="t")), "x-label") == ["2026-02-01"]


def test_step_line_shape():
    root = parse(score_history_svg(history([100, 120, 90]), title="t"))
    v = polyline_vertices(root)
    assert len(v) == 5  # start, then a horizontal and a vertical move per change
    assert v[0][1] == v[1][1]  # horizontal
    assert v[1][0] == v[2][0]  # vertical
    assert v[2][1] == v[3][1]
    assert v[3][0] == v[4][0]
    assert v[0][0] < v[1][0] < v[3][0]


def test_unsorted_input_is_sorted():
    ordered = history([100, 120, 90])
    shuffled = [ordered[2], ordered[0], ordered[1]]
    assert score_history_svg(shuffled, title="t") == score_history_svg(ordered, title="t")


# --------------------------------------------------------------------------- edge cases


def test_zero_points_only_baseline():
    root = parse(score_history_svg([], title="Nothing yet"))
    assert root.find(f"{NS}polyline") is None
    assert root.find(f"{NS}circle") is None
    assert texts(root, "x-label") == []
    assert [el.attrib["class"] for el in root.iter(f"{NS}line")] == ["baseline"]
    assert texts(root, "y-label") == ["100"]
    assert_inside_view_box(root)


def test_one_point():
    root = parse(score_history_svg([(T0, 130)], title="t"))
    v = polyline_vertices(root)
    assert len(v) == 2
    assert v[0][1] == v[1][1]  # a level line across the chart
    assert v[0][0] < v[1][0]
    assert texts(root, "x-label") == ["2026-01-05"]
    assert "130" in texts(root, "y-label")
    assert_inside_view_box(root)


def test_equal_timestamps():
    points = [(T0, 100), (T0, 60), (T0, 150)]
    root = parse(score_history_svg(points, title="t"))
    v = polyline_vertices(root)
    assert len(v) >= 2
    assert v[-1][0] > v[0][0]
    assert_inside_view_box(root)
    # The last value given for an instant is the one that holds.
    last_y = v[-1][1]
    single = polyline_vertices(parse(score_history_svg([(T0, 150)], title="t")))
    assert last_y == single[-1][1]
    # Some equal timestamps among others.
    mixed = [(T0, 100), (T0 + timedelta(days=1), 90), (T0 + timedelta(days=1), 95)]
    assert_inside_view_box(parse(score_history_svg(mixed, title="t")))


def test_scores_at_and_beyond_the_clamps():
    root = parse(score_history_svg(history([0, 200, 0, 200]), title="t"))
    frame = root.find(f"{NS}rect")
    top = float(frame.attrib["y"])
    bottom = top + float(frame.attrib["height"])
    ys = {y for _, y in polyline_vertices(root)}
    assert ys == {top, bottom}
    assert {"0", "200"} <= set(texts(root, "y-label"))
    assert_inside_view_box(root)
    outside = parse(score_history_svg(history([-50, 999]), title="t"))
    assert {y for _, y in polyline_vertices(outside)} == {top, bottom}
    assert_inside_view_box(outside)


def test_custom_size_and_range():
    root = parse(
        score_history_svg(
            history([300, 500, 420]), title="t", width=600, height=240, lo=300, hi=600, baseline=450
        )
    )
    assert root.attrib["viewBox"] == "0 0 600 240"
    assert_inside_view_box(root)


def test_invalid_arguments():
    with pytest.raises(ValueError):
        score_history_svg([], title="t", lo=200, hi=200)
    with pytest.raises(ValueError):
        score_history_svg([], title="t", width=10)
    with pytest.raises(ValueError, match="mix"):
        score_history_svg([(T0, 1), (datetime(2026, 1, 1), 2)], title="t")
    with pytest.raises(ValueError):
        score_history_svg([(T0, float("nan"))], title="t")
    with pytest.raises(TypeError):
        score_history_svg([("2026-01-01", 100)], title="t")  # type: ignore[list-item]


def test_naive_timestamps_are_accepted_consistently():
    points = [(datetime(2026, 1, 1, 23, 0), 100), (datetime(2026, 2, 1), 90)]
    root = parse(score_history_svg(points, title="t"))
    assert texts(root, "x-label") == ["2026-01-01", "2026-02-01"]


# --------------------------------------------------------------------------- escaping


def test_title_is_escaped():
    title = '积分 <b>history</b> & "quotes"'
    svg = score_history_svg(history([100, 90]), title=title)
    assert "<b>" not in svg
    assert "&lt;b&gt;" in svg
    assert parse(svg).find(f"{NS}title").text == title


def test_script_injection_is_inert():
    title = "</title><script>alert(1)</script><title>"
    svg = score_history_svg([], title=title)
    assert "<script" not in svg
    root = parse(svg)
    assert root.find(f".//{NS}script") is None
    assert root.find(f"{NS}title").text == title


def test_characters_invalid_in_xml_are_dropped():
    svg = score_history_svg([], title="a\x00b\x1fc\ufffe")
    assert parse(svg).find(f"{NS}title").text == "abc"


# --------------------------------------------------------------------------- many points


def random_walk(n: int, seed: int = 7) -> list[tuple[datetime, int]]:
    rng = random.Random(seed)
    score, points = 100, []
    for i in range(n):
        score = max(40, min(160, score + rng.randint(-6, 6)))
        points.append((T0 + timedelta(hours=i), score))
    return points


@pytest.mark.parametrize("n", [150, 1_000, 20_000])
def test_many_points_are_downsampled_keeping_extremes(n):
    points = random_walk(n)
    # Plant extremes in the middle so they must survive down-sampling.
    points[n // 3] = (points[n // 3][0], 3)
    points[2 * n // 3] = (points[2 * n // 3][0], 197)
    svg = score_history_svg(points, title="t")
    root = parse(svg)
    v = polyline_vertices(root)
    assert len(v) <= MAX_VERTICES
    frame = root.find(f"{NS}rect")
    top = float(frame.attrib["y"])
    height = float(frame.attrib["height"])
    ys = [y for _, y in v]
    assert min(ys) == pytest.approx(top + height * (200 - 197) / 200, abs=0.1)
    assert max(ys) == pytest.approx(top + height * (200 - 3) / 200, abs=0.1)
    assert {"3", "197"} <= set(texts(root, "y-label"))
    # x never goes backwards and spans the whole plot.
    xs = [x for x, _ in v]
    assert xs == sorted(xs)
    assert xs[0] == float(frame.attrib["x"])
    assert xs[-1] == pytest.approx(float(frame.attrib["x"]) + float(frame.attrib["width"]))
    assert len(svg) < 8_000
    assert_inside_view_box(root)


def test_output_size_does_not_grow_with_input():
    small = len(score_history_svg(random_walk(2_000), title="t"))
    large = len(score_history_svg(random_walk(50_000), title="t"))
    assert large < small * 1.5


# --------------------------------------------------------------------------- properties

timestamps = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
point_lists = st.lists(st.tuples(timestamps, st.integers(-50, 250)), max_size=400)


@settings(max_examples=150, deadline=None)
@given(points=point_lists, title=st.text(max_size=40), threshold=st.none() | st.integers(0, 200))
def test_any_input_gives_valid_bounded_svg(points, title, threshold):
    svg = score_history_svg(points, title=title, threshold=threshold)
    root = parse(svg)
    assert_inside_view_box(root)
    line = root.find(f"{NS}polyline")
    if points:
        assert 2 <= len(polyline_vertices(root)) <= MAX_VERTICES
    else:
        assert line is None
    expected_title = "".join(
        ch
        for ch in title
        if ch in "\t\n\r"
        or "\x20" <= ch <= "\ud7ff"
        or "\ue000" <= ch <= "\ufffd"
        or ch >= "\U00010000"
    )
    got = root.find(f"{NS}title").text or ""
    # XML parsers normalise line ends.
    assert got == expected_title.replace("\r\n", "\n").replace("\r", "\n")


# --- bar charts -----------------------------------------------------------------------------


def test_a_bar_chart_draws_one_bar_per_row_with_its_value():
    from gateway.charts import bar_chart_svg

    svg = bar_chart_svg([("交警支队", 3), ("tax", 0), ("<b>", 1.5)], title="拒绝 & 次数")
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count("<rect") == 3
    assert "<title>拒绝 &amp; 次数</title>" in svg
    assert "&lt;b&gt;" in svg and "<b>" not in svg
    assert "style=" not in svg and "<script" not in svg
    widths = [float(w) for w in re.findall(r'<rect [^>]*width="([0-9.]+)"', svg)]
    assert widths[0] > widths[2] > widths[1] == 0


def test_a_long_label_is_cut_to_fit_and_kept_whole_in_the_bar_title():
    from gateway.charts import bar_chart_svg

    label = "机动车行经人行横道未停车让行（一般程序）再加上一些很长的说明文字"
    svg = bar_chart_svg([(label, 2)], title="t")
    assert f"<title>{label}: 2</title>" in svg
    shown = re.search(r'text-anchor="end"[^>]*>([^<]+)<', svg).group(1)
    assert shown.endswith("…") and len(shown) < len(label)


def test_a_marker_line_and_bad_values():
    from gateway.charts import bar_chart_svg

    svg = bar_chart_svg([("#1", 4)], title="t", marker=(5, "期限"))
    assert 'stroke-dasharray="4 3"' in svg and ">期限<" in svg
    with pytest.raises(ValueError):
        bar_chart_svg([("a", -1)], title="t")
    with pytest.raises(TypeError):
        bar_chart_svg([("a", float("nan"))], title="t")
