"""The report's content helpers and figures on the fixture feed, checked by hand."""

from __future__ import annotations

import json

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from analysis import trends
from analysis.errors import ParameterError
from analysis.publish import display as figures
from analysis.report import charts as report_figures
from analysis.report import month_report, narrative
from analysis.report import summary as summary_json
from analysis.report import tables as report_tables


def test_parameters_are_checked_before_any_analysis():
    with pytest.raises(ParameterError, match="is not a month"):
        month_report.check_parameters("2023-7")
    with pytest.raises(ParameterError, match="after the data ends"):
        month_report.check_parameters("2023-09", data_end=pd.Timestamp("2023-08-15"))
    with pytest.raises(ParameterError, match="'astronauts'; allowed: stem"):
        month_report.check_parameters("2023-07", categories="['stem', 'astronauts']")
    with pytest.raises(ParameterError, match="must be text"):
        month_report.check_parameters(202307)
    assert month_report.check_parameters("2023-07", categories="stem,french").categories == (
        "stem",
        "french",
    )


def test_month_is_cut_at_its_end(july):
    assert july.draws["date"].max() == pd.Timestamp("2023-07-12")
    assert july.month_rounds["round"].tolist() == ["254", "255", "256", "257", "258"]
    assert not july.to_date
    assert month_report.is_to_date("2023-08", "2023-08-20")


def test_comparison_table_one_row_per_category_round(july):
    table = report_tables.comparison_table(july)
    assert table["Round"].tolist() == ["258", "256", "255", "253"]
    stem = table.set_index("Round").loc["255"]
    assert (stem["Cutoff"], stem["All-program: latest before"], stem["Gap vs latest before"]) == (
        486,
        511,
        -25,
    )


def test_teaser_and_summary(july):
    assert narrative.teaser(july).startswith("Five rounds, 7,300 invitations. STEM 486 (")
    payload = summary_json.month_summary(july, narrative.headline(july))
    assert json.loads(json.dumps(payload))["categories"]["stem"]["lowest_cutoff"] == 486


def test_tie_break_summary_counts_the_rounds(july):
    summary = trends.summarize_tie_break_lag(july.draws, since="2023-07-01")
    assert summary.set_index("family").loc["stem", "rounds"] == 1


@pytest.mark.parametrize(
    "draw",
    [
        report_figures.cutoffs_over_time,
        report_figures.gaps,
    ],
)
def test_every_report_figure_is_labelled_with_alt_text_from_the_numbers(july, draw):
    fig, alt = draw(july)
    try:
        figures.require_labels(fig)
    finally:
        plt.close(fig)
    assert any(ch.isdigit() for ch in alt) and len(alt) > 40


def test_rolling_cutoffs_figure(fixture_tables):
    rolling = trends.rolling_cutoff(fixture_tables.draws, window="30D")
    fig, alt = report_figures.rolling_cutoffs(rolling, ["stem"], since="2023-06-01", window="30D")
    try:
        figures.require_labels(fig)
    finally:
        plt.close(fig)
    assert alt.startswith("Rolling 30D mean CRS cutoff by round date since June 2023: ")
    assert "STEM from 486 (Jul 2023) to 486 (Jul 2023)" in alt
