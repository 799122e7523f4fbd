"""tests/benchmarks/report.py: targets are judged from the figures given, and tables line up (no timing is measured here)."""

from __future__ import annotations

import pytest

from ansible_collections.mediaops.streaming.tests.benchmarks.report import Target, ratio, table, times


@pytest.mark.parametrize(
    ("value", "verdict"),
    [(0.19, "met"), (0.2, "met"), (0.21, "NOT met"), (None, "n/a")],
)
def test_target_is_judged_from_the_value(value, verdict):
    assert Target(0.2, "baseline").verdict(value) == verdict


def test_strict_target_excludes_its_limit():
    target = Target(15, "s", unit="", strict=True)
    assert (target.verdict(14.9), target.verdict(15)) == ("met", "NOT met")
    assert target.judged(20) == "< 15 s: NOT met"


def test_judged_names_limit_reference_and_verdict():
    assert Target(0.5, "baseline_mitogen").judged(0.4) == "<= 0.50x baseline_mitogen: met"


@pytest.mark.parametrize(("value", "reference"), [(None, 2.0), (1.0, None), (1.0, 0.0)])
def test_ratio_without_both_figures_is_missing(value, reference):
    assert ratio(value, reference) is None
    assert times(ratio(value, reference)) == "-"


def test_table_aligns_text_left_and_figures_right():
    lines = table(["kind", "seconds"], [["baseline", "5.8"], ["role_fast", "12.0"]], title="T").splitlines()
    assert lines == [
        "T",
        "kind      | seconds",
        "----------+--------",
        "baseline  |     5.8",
        "role_fast |    12.0",
    ]


def test_the_fast_path_row_is_judged_against_both_baselines_and_others_only_shown():
    from ansible_collections.mediaops.streaming.tests.benchmarks.restart import Measurement, render

    figures = {"baseline": 30.0, "baseline_mitogen": 14.0, "role_module": 24.0, "role_fast": 6.0, "role_mitogen": 9.0}
    rendered = render([Measurement(kind, 10, seconds, 90) for kind, seconds in figures.items()], 10)
    rows = {line.split("|")[1].strip(): line for line in rendered.splitlines() if line.startswith("      10")}
    assert "<= 0.20x baseline: met; <= 0.50x baseline_mitogen: met" in rows["role_fast"]
    assert "0.64x" in rows["role_mitogen"] and "baseline_mitogen:" not in rows["role_mitogen"]
    assert "1.71x" in rows["role_module"]
    # At 1 channel no time target applies.
    one = render([Measurement("baseline", 1, 5.0, 9), Measurement("role_fast", 1, 2.0, 9)], 10)
    role_row = next(line for line in one.splitlines() if "| role_fast" in line)
    assert role_row.split("|")[6].strip() == "-"


def test_points_table_judges_the_fleet_and_the_fast_loop_and_shows_ratios_to_the_fleet():
    from ansible_collections.mediaops.streaming.tests.benchmarks.many_points import Converge, render

    rendered = render(
        [
            Converge("fleet_fast", 1000, 4.0, 1000),
            Converge("fleet_module", 1000, 5.0, 1000),
            Converge("loop_fast", 1000, 16.0, 1000),
            Converge("loop_module", 1000, error="the loop failed"),
        ]
    )
    rows = {line.split("|")[0].strip(): [cell.strip() for cell in line.split("|")] for line in rendered.splitlines()[3:]}
    assert rows["fleet_fast"][2:] == ["4.0", "4.0", "1.00x", "1.0", "< 5 s: met"]
    assert rows["fleet_module"][4:] == ["1.25x", "1.0", "-"]
    assert rows["loop_fast"][4:] == ["4.00x", "1.0", "< 15 s: NOT met"]
    assert rows["loop_module"][2:] == ["-", "-", "-", "-", "-"]
