"""Real rounds and distributions of June-July 2023, small enough for the pool model's doctests.

>>> example_draws()["round"].tolist()
['252', '253', '254', '255', '256']
>>> sorted(example_pool()["distribution_date"].dt.strftime("%m-%d").unique())
['06-27', '07-04']
"""

from __future__ import annotations

import pandas as pd


def example_draws() -> pd.DataFrame:
    """Five rounds of June-July 2023 (real numbers) for the doctests."""
    return pd.DataFrame(
        {
            "round": pd.array(["252", "253", "254", "255", "256"], dtype="string"),
            "date": pd.to_datetime(
                ["2023-06-28", "2023-07-04", "2023-07-05", "2023-07-06", "2023-07-07"]
            ),
            "invitations": pd.array([500, 700, 500, 1500, 2300], dtype="Int64"),
            "cutoff": pd.array([476, 511, 486, 463, 439], dtype="Int64"),
            "is_all_program": [False, True, False, False, False],
            "distribution_date": pd.to_datetime(
                ["2023-06-27", "2023-07-04", "2023-07-04", "2023-07-04", "2023-07-04"]
            ),
        }
    )


def example_pool() -> pd.DataFrame:
    """The distributions of 2023-06-27 and 2023-07-04 (real numbers) for the doctests."""
    lows = [601, 501, 491, 481, 471, 461, 451, 441, 431, 421, 411, 401, 351, 301, 0]
    highs = [1200, 600, 500, 490, 480, 470, 460, 450, 440, 430, 420, 410, 400, 350, 300]
    # fmt: off
    counts = {
        "2023-06-27": [1254, 1258, 1040, 4856, 20980, 16226, 12889, 11893, 12404, 10077,
                       10978, 11917, 64936, 33866, 5429],
        "2023-07-04": [353, 726, 831, 4719, 20475, 16023, 12684, 11740, 12309, 10008, 10873,
                       11743, 63679, 33051, 5315],
    }
    # fmt: on
    return pd.concat(
        pd.DataFrame(
            {
                "distribution_date": pd.Timestamp(day),
                "score_low": lows,
                "score_high": highs,
                "candidates": values,
            }
        )
        for day, values in counts.items()
    ).astype({"score_low": "int64", "score_high": "int64", "candidates": "int64"})
