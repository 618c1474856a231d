"""One home for each word: months, counts, gaps, families, round order and column checks are
written one way everywhere."""

from __future__ import annotations

import ast
from pathlib import Path

import pandas as pd
import pytest

from analysis import vocabulary
from analysis.data import in_round_order, require_columns

SRC = Path(__file__).parents[1] / "src" / "analysis"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2023-07\n", "spaces or line breaks"),
        (" 2023-07 ", "spaces or line breaks"),
        ("", "is empty"),
        ("2023-7", "is not a month"),
        ("2023-13", "is not a month"),
        ("٢٠٢٣-07", "is not a month"),  # digits of another script are not a year
        (202307, "must be text"),
    ],
)
def test_a_month_is_exactly_yyyy_mm(text, message):
    assert not vocabulary.is_month(text)
    with pytest.raises(ValueError, match=message):
        vocabulary.parse_month(text, what="--month")


def test_month_and_day_labels_are_english_whatever_the_input():
    assert vocabulary.month_label("2026-03") == "March 2026"
    assert vocabulary.month_label(pd.Timestamp("2026-03-31")) == "March 2026"
    assert vocabulary.month_label(pd.Period("2026-03", "M"), short=True) == "Mar 2026"
    assert vocabulary.day_label(pd.Timestamp("2023-07-05")) == "July 5, 2023"
    assert vocabulary.FIRST_MONTH == "2015-01"


def test_counts_are_pluralized_in_one_place():
    assert vocabulary.plural(1, "round") == "1 round"
    assert vocabulary.plural(0, "round") == "0 rounds"
    assert vocabulary.plural(12_000, "invitation") == "12,000 invitations"
    assert vocabulary.count_in_words(1, "round") == "one round"
    assert vocabulary.count_in_words(7, "round") == "7 rounds"


@pytest.mark.parametrize("cutoff", [470, 486, 498, 499, 500, 530])
@pytest.mark.parametrize("baseline", [498.5, 497.5, 499.0, 498.49, 498.51, 512.25])
def test_a_shown_gap_is_the_cutoff_minus_the_shown_baseline(cutoff, baseline):
    """Every page writes the same gap, and a reader can check it by subtraction."""
    gap = vocabulary.shown_gap(cutoff, baseline)
    assert gap == cutoff - vocabulary.whole_points(baseline)
    assert vocabulary.signed_points(gap) == (f"{gap:+d}".replace("-", "−") if gap else "0")
    words = vocabulary.points_phrase(gap)
    assert words == "level with" if gap == 0 else words.startswith(f"{abs(gap)} point")


def test_missing_gaps_are_never_numbers():
    assert vocabulary.shown_gap(486, None) is None
    assert vocabulary.shown_gap(pd.NA, 500) is None
    assert vocabulary.whole_points(float("nan")) is None
    assert vocabulary.signed_points(None) == "–"


def test_rounds_of_one_day_are_ordered_by_their_number_not_by_arrival():
    feed_order = pd.DataFrame(
        {
            "round": pd.array(["92", "91b", "91a", "90"], dtype="string"),
            "date": pd.to_datetime(["2018-06-25", "2018-06-13", "2018-06-13", "2018-05-30"]),
        },
        index=[10, 11, 12, 13],
    )
    ordered = in_round_order(feed_order)
    assert ordered["round"].tolist() == ["90", "91a", "91b", "92"]
    assert ordered.index.tolist() == [13, 12, 11, 10]  # the index travels with the rows
    assert in_round_order(feed_order.iloc[::-1])["round"].tolist() == ordered["round"].tolist()


def test_column_checks_name_the_caller_the_table_and_the_columns():
    with pytest.raises(ValueError, match=r"rolling: pool has no column\(s\) candidates; it has"):
        require_columns(pd.DataFrame(columns=["bin"]), ["bin", "candidates"], "rolling", "pool")
    with pytest.raises(TypeError, match="must be a pandas DataFrame"):
        require_columns([1, 2], ["round"], "trend")


def _string_constants(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
        if id(node) not in docstrings
    ]


def test_family_literals_and_month_names_have_one_home():
    """``'all_program'`` is written only in the taxonomy; month names only in
    :mod:`analysis.vocabulary` (the date parser's lower-case names are made from them)."""
    homes = {"all_program": {"taxonomy.py"}, "September": {"vocabulary.py"}, "january": set()}
    for word, allowed in homes.items():
        writers = {
            str(path.relative_to(SRC))
            for path in SRC.rglob("*.py")
            if word in _string_constants(path)
        }
        assert writers <= allowed, f"{word!r} written in {sorted(writers - allowed)}"


def test_month_names_and_plurals_are_not_written_by_hand():
    """Month names and plurals come from :mod:`analysis.vocabulary` (``strftime('%B')`` follows
    the C locale): no module spells them itself."""
    import re

    patterns = {
        "strftime month name (%B/%b)": re.compile(r"%-?[bB]\b"),
        "hand-written plural": re.compile(r"""['"](s|ies)['"] if """),
    }
    found = [
        f"{path.relative_to(SRC)}:{number}: {what}"
        for path in sorted(SRC.rglob("*.py"))
        if path.name != "vocabulary.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        for what, pattern in patterns.items()
        if pattern.search(line)
    ]
    assert found == []
