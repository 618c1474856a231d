"""The category taxonomy: every naming style IRCC has used, case-insensitive, versions parsed."""

import pytest

from analysis.taxonomy import UNCLASSIFIED, classify, split_version, taxonomy_table


@pytest.mark.parametrize(
    ("name", "family", "version"),
    [
        ("No Program Specified", "all_program", None),
        ("General", "all_program", None),
        ("GENERAL", "all_program", None),
        ("STEM occupations (2023-1)", "stem", 1),
        ("STEM occupations (Version 1)", "stem", 1),
        ("stem occupations, 2026-Version 2", "stem", 2),
        ("Healthcare occupations (2023-1)", "healthcare", 1),
        ("Healthcare and social services occupations (Version 2)", "healthcare", 2),
        ("Healthcare and Social Services Occupations, 2026-Version 3", "healthcare", 3),
        ("Health care occupations (Version 4)", "healthcare", 4),
        ("French language proficiency (2024-1)", "french", 1),
        ("French-Language proficiency 2026-Version 2", "french", 2),
        ("Trade occupations (Version 2)", "trades", 2),
        ("Transport occupations (2024-1)", "transport", 1),
        ("Agriculture and agri-food occupations (Version 1)", "agriculture", 1),
        ("Education occupations (Version 1)", "education", 1),
        ("Physicians with Canadian Work Experience, 2026-Version 1", "physicians", 1),
        ("Senior managers with Canadian Work Experience, 2026-Version 1", "senior_managers", 1),
        ("Canadian Experience Class", "cec", None),
        ("Provincial Nominee Program", "pnp", None),
        ("Federal Skilled Worker", "fsw", None),
        ("Federal Skilled Trades", "fst", None),
        ("Federal Skilled Trades Program", "fst", None),
    ],
)
def test_every_known_style(name, family, version):
    category = classify(name)
    assert (category.family, category.version) == (family, version)


def test_trades_category_is_not_the_trades_program():
    assert classify("Trade occupations (Version 1)").selection == "category"
    assert classify("Federal Skilled Trades").selection == "program"


def test_unknown_name_is_kept_as_unclassified_with_its_version():
    category = classify("Researchers in artificial intelligence, 2027-Version 1")
    assert category.family == UNCLASSIFIED
    assert category.version == 1


def test_markup_in_a_name_does_not_crash():
    assert classify("<script>alert(1)</script>").family == UNCLASSIFIED


def test_version_year_is_kept():
    assert split_version("STEM occupations (2023-1)") == ("STEM occupations", 1, 2023)


def test_table_is_readable_data():
    table = taxonomy_table()
    assert {"pattern", "family", "label", "selection"} <= set(table.columns)
    assert table["family"].str.fullmatch(r"[a-z_]+").all()
