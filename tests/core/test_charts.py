"""Chart geometry: probability curves on a square-root axis, and the network overview's layout."""

import re

import pytest

from core.charts import curve_chart, epoch_chart, network_flow


def test_curves_span_the_plot_with_the_first_percent_given_room():
    chart = curve_chart((0.0, 0.01, 0.25, 1.0), [{"name": "a", "values": [1.0, 0.5, 0.2, 0.0]}], width=300, height=200)

    line = chart["lines"][0]
    xs = [p["x"] for p in line["points"]]
    assert xs[0] == chart["plot"]["left"] and xs[-1] == chart["plot"]["right"]
    assert xs[1] - xs[0] == pytest.approx((xs[-1] - xs[0]) * 0.1, abs=0.2)  # sqrt(1 %) is a tenth of the way
    assert line["points"][0]["y"] == chart["plot"]["top"] and line["points"][-1]["y"] == chart["plot"]["bottom"]
    assert line["path"].startswith("M") and line["path"].count("L") == 3
    assert [t["label"] for t in chart["y_ticks"]] == ["0%", "50%", "100%"]


def test_values_outside_zero_to_one_stay_inside_the_plot():
    chart = curve_chart((0.0, 1.0), [{"name": "a", "values": [1.7, -0.2], "dashed": True, "colour": "#000"}])

    ys = [p["y"] for p in chart["lines"][0]["points"]]
    assert ys == [chart["plot"]["top"], chart["plot"]["bottom"]]
    assert chart["lines"][0]["dashed"] and chart["lines"][0]["colour"] == "#000"


STAGES = [
    {"kind": "input", "name": "input"},
    {"kind": "conv", "name": "c1", "items": 20},
    {"kind": "block", "name": "pool"},
    {"kind": "conv", "name": "c2", "items": 3},
    {"kind": "output", "name": "digits", "items": 10},
]
EDGES = [
    {"source": (0, 0), "target": (1, 19), "weight": 1.0},
    {"source": (1, 19), "target": (3, 2), "weight": 0.0},
    {"source": (3, 2), "target": (4, 7), "weight": 0.5},
]


@pytest.mark.parametrize("orientation", ["horizontal", "vertical"])
def test_every_item_sits_inside_the_picture_and_stages_follow_the_flow(orientation):
    flow = network_flow(STAGES, EDGES, orientation=orientation)

    assert [len(s["items"]) for s in flow["stages"]] == [1, 20, 1, 3, 10]
    along = "x" if orientation == "horizontal" else "y"
    starts = [s[along] for s in flow["stages"]]
    assert starts == sorted(starts)
    for stage in flow["stages"]:
        for item in stage["items"]:
            assert item["x"] >= 0 and item["x"] + item["w"] <= flow["width"] + 0.5
            assert item["y"] >= 0 and item["y"] + item["h"] <= flow["height"] + 0.5
        assert stage["label_y"] >= 0
    boxes = [(i["x"], i["y"]) for i in flow["stages"][1]["items"]]
    assert len(set(boxes)) == 20  # no two thumbnails on top of each other


def test_edges_run_from_their_source_to_their_target_with_width_by_weight():
    flow = network_flow(STAGES, EDGES)

    widths = [e["width"] for e in flow["edges"]]
    assert widths == [4.0, 1.0, 2.5]
    first = flow["edges"][0]["path"]
    x1, y1 = map(float, re.match(r"M([\d.]+),([\d.]+)", first).groups())
    source = flow["stages"][0]["items"][0]
    assert x1 == pytest.approx(source["x"] + source["w"]) and y1 == pytest.approx(source["y"] + source["h"] / 2)
    x2, _y2 = map(float, first.rsplit(" ", 1)[1].split(","))
    target = flow["stages"][1]["items"][19]
    assert x2 == pytest.approx(target["x"])


def test_a_long_layer_wraps_into_lines_and_the_orientation_is_checked():
    horizontal = network_flow([{"kind": "conv", "name": "c", "items": 40}], [])
    vertical = network_flow([{"kind": "conv", "name": "c", "items": 40}], [], orientation="vertical")

    assert len({i["x"] for i in horizontal["stages"][0]["items"]}) == 3  # 16 per column
    assert len({i["y"] for i in vertical["stages"][0]["items"]}) == 6  # 7 per row
    with pytest.raises(ValueError):
        network_flow(STAGES, EDGES, orientation="diagonal")


def test_epoch_curves_span_every_planned_epoch_and_grow_to_the_right():
    chart = epoch_chart(
        [1, 2, 3],
        [{"name": "training", "values": [0.2, 0.5, 0.9]}, {"name": "held-out", "values": [0.1, 0.4, None]}],
        total_epochs=10,
        high=1.0,
        percent=True,
    )

    training, held_out = chart["lines"]
    xs = [point["x"] for point in training["points"]]
    assert xs == sorted(xs) and xs[0] == chart["plot"]["left"]
    assert xs[-1] < chart["plot"]["right"]  # epoch 3 of 10: the rest of the axis waits for the others
    assert chart["x_ticks"][-1]["label"] == "10" and chart["x_ticks"][-1]["x"] == chart["plot"]["right"]
    ys = [point["y"] for point in training["points"]]
    assert ys == sorted(ys, reverse=True)  # higher accuracy is drawn higher
    assert len(held_out["points"]) == 2 and held_out["path"].count("L") == 1
    assert [tick["label"] for tick in chart["y_ticks"]] == ["0%", "50%", "100%"]
