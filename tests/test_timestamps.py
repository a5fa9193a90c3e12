"""Timestamps with UTC offsets (issue #26, item 13): one offset keeps local times, several
(summer time) are read in UTC; neither ends in pandas' traceback."""

from __future__ import annotations

import pandas as pd

from rnnkit.data.readers import read_timeseries_csv
from rnnkit.data.timestamps import parse_timestamps


def _write(path, stamps):
    rows = [f"{stamp},{i}" for i, stamp in enumerate(stamps)]
    path.write_text("time,value\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_change_to_summer_time_is_read_in_utc_one_hour_a_step(tmp_path):
    # Europe/Paris on 2026-03-29: 01:00+01:00, then 03:00+02:00 (02:00 never happens).
    stamps = ["2026-03-29T00:00:00+01:00", "2026-03-29T01:00:00+01:00"]
    stamps += ["2026-03-29T03:00:00+02:00", "2026-03-29T04:00:00+02:00"]
    frame = read_timeseries_csv(_write(tmp_path / "dst.csv", stamps), time_col="time")
    assert frame.index.tz is None
    assert [str(t) for t in frame.index] == [
        "2026-03-28 23:00:00",
        "2026-03-29 00:00:00",
        "2026-03-29 01:00:00",
        "2026-03-29 02:00:00",
    ]


def test_one_offset_throughout_keeps_the_local_times(tmp_path):
    stamps = [f"2026-01-01T{h:02d}:00:00+05:30" for h in range(4)]
    frame = read_timeseries_csv(_write(tmp_path / "ist.csv", stamps), time_col="time")
    assert frame.index.tz is None
    assert str(frame.index[0]) == "2026-01-01 00:00:00"


def test_unparseable_values_stay_missing_with_mixed_offsets():
    got = parse_timestamps(pd.Series(["2026-01-01 00:00+01:00", "2026-06-01 00:00+02:00", "x"]))
    assert got.isna().tolist() == [False, False, True]
