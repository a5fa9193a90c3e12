"""The data side of forecasting: rnnkit.data.timeseries (read, timing, resample, fill, split,
scale, windows), on small hand-made files whose expected numbers are worked out by hand."""

from __future__ import annotations

import gzip
import json
import math

import numpy as np
import pandas as pd
import pytest

from rnnkit.config import ConfigError
from rnnkit.data import (
    DataError,
    FillReport,
    SeriesScaler,
    SplitBounds,
    check_timing,
    fill_missing,
    make_windows,
    read_series,
    resample,
    split_rows,
    window_starts,
)

NAN = float("nan")

# The raw UCI "Individual household electric power consumption" format: ';'-separated,
# day-first dates, '?' for missing (and the last field empty on such rows).
UCI_HEADER = (
    "Date;Time;Global_active_power;Global_reactive_power;Voltage;Global_intensity;"
    "Sub_metering_1;Sub_metering_2;Sub_metering_3\n"
)
UCI_ROWS = (
    "16/12/2006;17:24:00;4.216;0.418;234.840;18.400;0.000;1.000;17.000\n"
    "16/12/2006;17:25:00;5.360;0.436;233.630;23.000;0.000;1.000;16.000\n"
    "16/12/2006;17:26:00;?;?;?;?;?;?;\n"
    "1/1/2007;00:00:00;2.580;0.136;241.970;10.600;0.000;0.000;0.000\n"
)


def uci_file(tmp_path):
    path = tmp_path / "household_power_consumption.txt"
    path.write_text(UCI_HEADER + UCI_ROWS, encoding="utf-8")
    return path


def read_uci(path, **kwargs):
    return read_series(
        path, time_col="Date,Time", sep=";", na_values=("", "?"), dayfirst=True, **kwargs
    )


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------


def test_uci_household_power_loads_with_flags_alone(tmp_path):
    frame = read_uci(uci_file(tmp_path))
    assert list(frame.columns) == UCI_HEADER.strip().split(";")[2:]
    assert (frame.dtypes == "float64").all()
    assert frame.index.name == "Date Time"
    assert list(frame.index) == [
        pd.Timestamp("2006-12-16 17:24"),
        pd.Timestamp("2006-12-16 17:25"),
        pd.Timestamp("2006-12-16 17:26"),
        pd.Timestamp("2007-01-01 00:00"),  # day first: 1 January, not 1 January either way
    ]
    assert frame["Global_active_power"].tolist()[:2] == [4.216, 5.36]
    assert frame["Sub_metering_3"].tolist()[0] == 17.0
    assert frame.iloc[2].isna().all()  # the '?' row, its empty last field too
    assert frame.iloc[3]["Voltage"] == 241.97


def test_uci_columns_subset_in_the_order_asked(tmp_path):
    frame = read_uci(uci_file(tmp_path), columns=["Voltage", "Global_active_power"])
    assert list(frame.columns) == ["Voltage", "Global_active_power"]
    assert frame["Voltage"].tolist()[:2] == [234.84, 233.63]


def test_tab_and_pipe_separated_files(tmp_path):
    tsv = tmp_path / "load.tsv"
    tsv.write_text("when\tload\ttemp\n2020-01-01 00:00\t1.5\t-2\n2020-01-01 01:00\t\t3\n")
    frame = read_series(tsv, time_col="when", sep="\t")
    assert frame["load"].tolist()[0] == 1.5 and math.isnan(frame["load"].tolist()[1])
    assert frame["temp"].tolist() == [-2.0, 3.0]
    assert frame.index[1] == pd.Timestamp("2020-01-01 01:00")

    piped = tmp_path / "load.txt.gz"
    with gzip.open(piped, "wt", encoding="utf-8") as handle:
        handle.write("when|load\n2020-01-01|7\n2020-01-02|NA\n")
    frame = read_series(piped, time_col="when", sep="|", na_values=("NA",))
    assert frame["load"].tolist()[0] == 7.0 and math.isnan(frame["load"].tolist()[1])
    assert frame.index.name == "when"


def test_without_time_col_rows_are_numbered(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n3,4\n")
    frame = read_series(path)
    assert isinstance(frame.index, pd.RangeIndex)
    assert frame.to_numpy().tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_parquet_with_date_and_time_text_columns_matches_the_csv(tmp_path):
    csv_frame = read_uci(uci_file(tmp_path))
    rows = [line.split(";") for line in UCI_ROWS.strip().split("\n")]
    names = UCI_HEADER.strip().split(";")
    raw = pd.DataFrame(rows, columns=names)  # every column text, '?' and '' included
    path = tmp_path / "power.parquet"
    raw.to_parquet(path)
    frame = read_series(path, time_col="Date,Time", na_values=("", "?"), dayfirst=True)
    pd.testing.assert_frame_equal(frame, csv_frame, check_index_type=False)
    assert frame.index.name == "Date Time"


def test_parquet_with_a_datetime_column_and_numeric_values(tmp_path):
    times = pd.date_range("2021-03-01", periods=4, freq="15min")
    stored = pd.DataFrame(
        {"ts": times, "kw": [1.0, None, 3.0, 4.0], "count": [1, 2, 3, 4], "on": [True] * 4}
    )
    path = tmp_path / "meter.pq"
    stored.to_parquet(path)
    frame = read_series(path, time_col="ts", columns=["count", "kw"])
    assert list(frame.columns) == ["count", "kw"]
    assert (frame.dtypes == "float64").all()
    assert frame["count"].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert math.isnan(frame["kw"].iloc[1]) and frame["kw"].iloc[3] == 4.0
    assert list(frame.index) == list(times) and frame.index.name == "ts"
    assert read_series(path, time_col="ts", columns=["on"])["on"].tolist() == [1.0] * 4


def test_parquet_stored_index_is_a_column(tmp_path):
    stored = pd.DataFrame(
        {"v": [1.0, 2.0]}, index=pd.DatetimeIndex(["2020-01-01", "2020-01-02"], name="date")
    )
    path = tmp_path / "indexed.parquet"
    stored.to_parquet(path)
    frame = read_series(path, time_col="date")
    assert frame["v"].tolist() == [1.0, 2.0]
    assert frame.index[1] == pd.Timestamp("2020-01-02")


def test_missing_column_names_it_and_lists_the_others(tmp_path):
    with pytest.raises(DataError) as info:
        read_uci(uci_file(tmp_path), columns=["Global_active_power", "Kitchen"])
    assert info.value.field == "Kitchen"
    assert "Sub_metering_3" in str(info.value) and "household_power_consumption.txt" in str(
        info.value
    )

    path = tmp_path / "p.parquet"
    pd.DataFrame({"date": ["2020-01-01"], "load": [1.0], "temp": [2.0]}).to_parquet(path)
    with pytest.raises(DataError) as info:
        read_series(path, time_col="date", columns=["OT"])
    assert info.value.field == "OT"
    assert "the file has: date, load, temp" in str(info.value)
    assert str(path) in str(info.value)
    with pytest.raises(DataError, match="field 'when'"):
        read_series(path, time_col="when")


def test_parquet_decreasing_timestamp_names_the_row_and_column(tmp_path):
    path = tmp_path / "back.parquet"
    times = pd.to_datetime(["2020-01-01 00:00", "2020-01-01 01:00", "2020-01-01 00:30"])
    pd.DataFrame({"time": times, "v": [1.0, 2.0, 3.0]}).to_parquet(path)
    with pytest.raises(DataError) as info:
        read_series(path, time_col="time")
    message = str(info.value)
    assert info.value.field == "time"
    assert "row 3 (2020-01-01 00:30:00) comes after row 2 (2020-01-01 01:00:00)" in message


def test_parquet_bad_values_and_times_name_the_row(tmp_path):
    path = tmp_path / "bad.parquet"
    pd.DataFrame({"t": ["2020-01-01", "2020-01-02"], "v": ["1.5", "abc"]}).to_parquet(path)
    with pytest.raises(DataError) as info:
        read_series(path, time_col="t", na_values=("?",))
    assert info.value.field == "v"
    assert "row 2: expected a number or a missing-value marker ('?'), got 'abc'" in str(info.value)

    path = tmp_path / "badtime.parquet"
    pd.DataFrame({"t": ["2020-01-01", "soon"], "v": [1.0, 2.0]}).to_parquet(path)
    with pytest.raises(DataError, match="row 2: expected a date/time, got 'soon'"):
        read_series(path, time_col="t")

    path = tmp_path / "dates.parquet"
    pd.DataFrame({"t": ["2020-01-01"], "v": pd.to_datetime(["2020-01-01"])}).to_parquet(path)
    with pytest.raises(DataError, match="field 'v': expected numbers"):
        read_series(path, time_col="t")


def test_unreadable_parquet_unknown_suffix_and_sep(tmp_path):
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match="broken.parquet: not a readable Parquet file"):
        read_series(path)
    odd = tmp_path / "series.xlsx"
    odd.write_bytes(b"")
    with pytest.raises(DataError, match=r"suffix '\.xlsx'"):
        read_series(odd)
    with pytest.raises(DataError, match="no such file"):
        read_series(tmp_path / "absent.csv")
    good = tmp_path / "good.parquet"
    pd.DataFrame({"v": [1.0]}).to_parquet(good)
    with pytest.raises(ConfigError) as info:
        read_series(good, sep=";")
    assert info.value.key == "sep"


# ---------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------


def test_irregular_hours_a_missing_hour_and_a_duplicate():
    index = pd.to_datetime(
        [
            "2016-07-01 00:00",
            "2016-07-01 01:00",
            "2016-07-01 02:00",
            "2016-07-01 04:00",  # 03:00 missing
            "2016-07-01 05:00",
            "2016-07-01 05:00",  # duplicate
            "2016-07-01 06:00",
        ]
    )
    report = check_timing(index)
    assert report.freq == "h"
    assert report.steps == 7
    assert report.irregular == 2
    assert report.duplicates == 1
    assert report.examples == [
        "2016-07-01 02:00 -> 2016-07-01 04:00 (2h, expected 1h)",
        "2016-07-01 05:00 -> 2016-07-01 05:00 (duplicate, expected 1h)",
    ]


def test_regular_steps_and_examples_capped_at_three():
    quarter_hours = pd.date_range("2016-07-01", periods=50, freq="15min")
    assert check_timing(quarter_hours) == ("15min", 50, 0, 0, [])
    assert check_timing(pd.date_range("2020-01-01", periods=9, freq="D")).freq == "D"
    assert check_timing(pd.date_range("2020-01-01", periods=9, freq="7D")).freq == "7D"
    gappy = quarter_hours.delete([3, 10, 20, 30])
    report = check_timing(gappy)
    assert (report.freq, report.irregular, len(report.examples)) == ("15min", 4, 3)
    assert report.examples[0] == "2016-07-01 00:30 -> 2016-07-01 01:00 (30min, expected 15min)"
    assert check_timing(pd.DatetimeIndex(["2020-01-01"])) == (None, 1, 0, 0, [])


def test_monthly_airline_data_is_regular_ms(tmp_path):
    path = tmp_path / "airline-passengers.csv"
    months = pd.date_range("1949-01", periods=30, freq="MS").strftime("%Y-%m")
    body = "".join(f'"{m}",{100 + i}\n' for i, m in enumerate(months))
    path.write_text('"Month","Passengers"\n' + body)
    frame = read_series(path, time_col="Month")
    assert frame.index[0] == pd.Timestamp("1949-01-01")
    report = check_timing(frame.index)
    assert report == ("MS", 30, 0, 0, [])
    # One month missing: 31-, 30- and 28-day gaps are all "one month", the hole is two.
    report = check_timing(frame.index.delete(5))
    assert report.freq == "MS" and report.irregular == 1
    assert report.examples == ["1949-05-01 -> 1949-07-01 (2 months, expected 1 month)"]


@pytest.mark.parametrize(
    ("start", "freq", "alias"),
    [
        ("1990-01-01", "QS-JAN", "QS-JAN"),
        ("1990-02-01", "QS-FEB", "QS-FEB"),
        ("1990-01-01", "YS-JAN", "YS-JAN"),
        ("1990-01-31", "ME", "ME"),
        ("1990-03-31", "QE-DEC", "QE-DEC"),
        ("1990-01-01", "2MS", "2MS"),
    ],
)
def test_calendar_steps_give_aliases_pandas_reproduces(start, freq, alias):
    index = pd.date_range(start, periods=8, freq=freq)
    report = check_timing(index)
    assert report.freq == alias and report.irregular == 0
    assert pd.date_range(start, periods=8, freq=report.freq).equals(index)


def test_check_timing_needs_a_datetime_index():
    with pytest.raises(ConfigError, match="expected a DatetimeIndex, got RangeIndex"):
        check_timing(pd.RangeIndex(3))


# ---------------------------------------------------------------------------------------------
# Resampling
# ---------------------------------------------------------------------------------------------


def minute_frame():
    """Nine minutes; bins of 3 minutes: [1, 2, nan], [nan, nan, nan], [4, 6, 8]."""
    index = pd.date_range("2006-12-16 17:24", periods=9, freq="min", name="Date Time")
    return pd.DataFrame(
        {
            "kw": [1.0, 2.0, NAN, NAN, NAN, NAN, 4.0, 6.0, 8.0],
            "v": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0],
        },
        index=index,
    )


def test_resample_sum_mean_min_max_last_by_hand():
    frame = minute_frame()
    expected = {
        "sum": ([3.0, NAN, 18.0], [60.0, 150.0, 240.0]),
        "mean": ([1.5, NAN, 6.0], [20.0, 50.0, 80.0]),
        "min": ([1.0, NAN, 4.0], [10.0, 40.0, 70.0]),
        "max": ([2.0, NAN, 8.0], [30.0, 60.0, 90.0]),
        "last": ([2.0, NAN, 8.0], [30.0, 60.0, 90.0]),
    }
    for agg, (kw, v) in expected.items():
        out = resample(frame, "3min", agg)
        assert list(out.index) == list(pd.date_range("2006-12-16 17:24", periods=3, freq="3min"))
        np.testing.assert_array_equal(out["kw"].to_numpy(), kw, err_msg=agg)
        np.testing.assert_array_equal(out["v"].to_numpy(), v, err_msg=agg)
    assert resample(frame, "3min", "sum").index.name == "Date Time"


def test_resample_a_bin_without_rows_is_nan_for_sum():
    frame = minute_frame().drop(minute_frame().index[3:6])  # minutes 27-29 absent
    out = resample(frame, "3min", "sum")
    assert out["v"].tolist()[0] == 60.0 and math.isnan(out["v"].tolist()[1])


def test_resample_errors():
    frame = minute_frame()
    with pytest.raises(ConfigError) as info:
        resample(frame.reset_index(drop=True), "1h", "mean")
    assert info.value.key == "freq" and "--time-col" in str(info.value)
    with pytest.raises(ConfigError) as info:
        resample(frame, "xyz", "mean")
    assert info.value.key == "freq"
    assert "Invalid frequency: xyz" in str(info.value) and "Failed to parse" not in str(info.value)
    with pytest.raises(ConfigError, match="positive"):
        resample(frame, "0h", "mean")
    with pytest.raises(ConfigError) as info:
        resample(frame, "1h", "median")
    assert info.value.key == "agg"


# ---------------------------------------------------------------------------------------------
# Filling
# ---------------------------------------------------------------------------------------------


def gappy_frame():
    return pd.DataFrame(
        {
            "y": [NAN, 1.0, NAN, NAN, 4.0, NAN],
            "full": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
            "empty": [NAN] * 6,
        },
        index=pd.date_range("2020-01-01", periods=6, freq="h"),
    )


@pytest.mark.parametrize(
    ("method", "expected", "filled"),
    [
        ("interpolate", [1.0, 1.0, 2.0, 3.0, 4.0, 4.0], 4),
        ("ffill", [1.0, 1.0, 1.0, 1.0, 4.0, 4.0], 4),
        ("none", [NAN, 1.0, NAN, NAN, 4.0, NAN], 0),
    ],
)
def test_fill_methods_by_hand(method, expected, filled):
    frame = gappy_frame()
    before = frame.copy()
    out, report = fill_missing(frame, method)
    np.testing.assert_array_equal(out["y"].to_numpy(), expected)
    assert out["full"].tolist() == before["full"].tolist()
    assert report == FillReport(
        method,
        {"y": filled, "full": 0, "empty": 0},
        {"y": 4 - filled, "full": 0, "empty": 6},
    )
    assert report.total_filled == filled
    pd.testing.assert_frame_equal(frame, before)  # the input is untouched


def test_seasonal_fill_takes_the_value_one_season_earlier():
    frame = pd.DataFrame({"y": [1.0, 2.0, 3.0, NAN, 5.0, NAN, NAN, NAN, 9.0]})
    before = frame.copy()
    out, report = fill_missing(frame, "seasonal", season=3)
    # row 3 <- row 0; row 5 <- row 2; row 6 <- row 3 (itself filled); row 7 <- row 4
    assert out["y"].tolist() == [1.0, 2.0, 3.0, 1.0, 5.0, 3.0, 1.0, 5.0, 9.0]
    assert report.filled == {"y": 4} and report.remaining == {"y": 0}
    pd.testing.assert_frame_equal(frame, before)


def test_seasonal_fill_over_several_seasons_and_in_the_first_season():
    frame = pd.DataFrame({"y": [1.0, 2.0, NAN, NAN, NAN, NAN, 7.0, 8.0]})
    out, _ = fill_missing(frame, "seasonal", season=2)
    assert out["y"].tolist() == [1.0, 2.0, 1.0, 2.0, 1.0, 2.0, 7.0, 8.0]
    # Nothing one season before row 1: interpolated between rows 0 and 2. Row 4's seasonal
    # source is row 1, missing too, so it is interpolated as well (between 7 and 9).
    frame = pd.DataFrame({"y": [2.0, NAN, 6.0, 7.0, NAN, 9.0]})
    out, report = fill_missing(frame, "seasonal", season=3)
    assert out["y"].tolist() == [2.0, 4.0, 6.0, 7.0, 8.0, 9.0]
    assert report.total_filled == 2


def test_fill_errors():
    frame = gappy_frame()
    with pytest.raises(ConfigError) as info:
        fill_missing(frame, "seasonal")
    assert info.value.key == "season"
    with pytest.raises(ConfigError) as info:
        fill_missing(frame, "seasonal", season=0)
    assert info.value.key == "season"
    with pytest.raises(ConfigError) as info:
        fill_missing(frame, "mean")
    assert info.value.key == "fill"
    # A season given with another method is checked, then unused.
    out, _ = fill_missing(frame, "ffill", season=24)
    assert out["y"].tolist() == [1.0, 1.0, 1.0, 1.0, 4.0, 4.0]


# ---------------------------------------------------------------------------------------------
# Splitting
# ---------------------------------------------------------------------------------------------


def test_split_by_ratios_rounds_like_ltsf():
    assert split_rows(pd.RangeIndex(10), "0.7,0.1,0.2") == SplitBounds((0, 7), (7, 8), (8, 10))
    # 101 rows: int(70.7) = 70 train, int(20.2) = 20 test, the 11 between are validation.
    assert split_rows(pd.RangeIndex(101), "0.7, 0.1, 0.2") == ((0, 70), (70, 81), (81, 101))
    assert split_rows(pd.RangeIndex(10), "0.8,0,0.2") == ((0, 8), (8, 8), (8, 10))


def test_split_by_dates():
    days = pd.date_range("2024-01-01", periods=10, freq="D")
    assert split_rows(days, "2024-01-08") == ((0, 7), (7, 7), (7, 10))
    assert split_rows(days, "2024-01-04,2024-01-08") == ((0, 3), (3, 7), (7, 10))
    hours = pd.date_range("2024-01-01", periods=10, freq="h")
    assert split_rows(hours, "2024-01-01 05:30") == ((0, 6), (6, 6), (6, 10))  # next row
    months = pd.date_range("1949-01", periods=144, freq="MS")  # airline: 1949-01 .. 1960-12
    assert split_rows(months, "1958-01,1959-01") == ((0, 108), (108, 120), (120, 144))


def test_split_ett_protocol_on_etth1_length():
    hours = pd.date_range("2016-07-01", periods=17420, freq="h")
    bounds = split_rows(hours, "ett")
    assert bounds == ((0, 8640), (8640, 11520), (11520, 14400))
    assert [b - a for a, b in bounds] == [8640, 2880, 2880]
    quarter_hours = pd.date_range("2016-07-01", periods=69680, freq="15min")  # ETTm1
    assert split_rows(quarter_hours, "ETT") == ((0, 34560), (34560, 46080), (46080, 57600))
    with pytest.raises(ConfigError, match="14400 rows at 24 rows per day, got 14399"):
        split_rows(hours[:14399], "ett")
    with pytest.raises(ConfigError, match="time index"):
        split_rows(pd.RangeIndex(17420), "ett")
    with pytest.raises(ConfigError, match="divides a day"):
        split_rows(pd.date_range("2000-01", periods=400, freq="MS"), "ett")


@pytest.mark.parametrize(
    ("index", "spec", "message"),
    [
        (pd.RangeIndex(10), "0.7,0.2,0.2", "summing to 1"),
        (pd.RangeIndex(10), "1.2,-0.1,-0.1", "in \\[0, 1\\]"),
        (pd.RangeIndex(10), "0.95,0,0.05", "test part of 10 rows empty"),
        (pd.RangeIndex(10), "0.8,0.2", "three parts"),
        (pd.RangeIndex(10), "2024-01-01", "needs a time index"),
        (pd.RangeIndex(10), "a,b,c,d", "dates 'TEST_START'"),
        (pd.RangeIndex(10), "random", "not a date"),
        (
            pd.date_range("2024-01-01", periods=10, freq="D"),
            "2025-01-01",
            "outside the data, which runs from 2024-01-01 00:00:00 to 2024-01-10 00:00:00",
        ),
        (pd.date_range("2024-01-01", periods=10, freq="D"), "2024-01-01", "train part empty"),
        (
            pd.date_range("2024-01-01", periods=10, freq="D"),
            "2024-01-08,2024-01-04",
            "must come before",
        ),
    ],
)
def test_split_errors(index, spec, message):
    with pytest.raises(ConfigError, match=message) as info:
        split_rows(index, spec)
    assert info.value.key == "split"


def test_split_error_names_the_accepted_forms():
    with pytest.raises(ConfigError) as info:
        split_rows(pd.RangeIndex(10), "a,b,c,d")
    assert "ratios 'TRAIN,VALID,TEST'" in str(info.value) and "'ett'" in str(info.value)


# ---------------------------------------------------------------------------------------------
# Scaling
# ---------------------------------------------------------------------------------------------


def test_scaler_uses_train_statistics_only():
    values = np.array([[0.0], [1.0], [2.0], [3.0], [50.0], [60.0], [100.0], [200.0]])
    bounds = split_rows(pd.RangeIndex(8), "0.5,0.25,0.25")
    assert bounds == ((0, 4), (4, 6), (6, 8))
    scaler = SeriesScaler.fit(values[: bounds.train[1]], ["y"], "standard")
    whole = SeriesScaler.fit(values, ["y"], "standard")
    assert scaler.center.tolist() == [1.5]  # mean of 0, 1, 2, 3
    assert scaler.scale[0] == pytest.approx(math.sqrt(1.25))  # population std
    assert whole.center[0] == pytest.approx(416 / 8) and whole.scale[0] > 60
    out = scaler.transform(values)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[:4, 0].mean(), 0.0, atol=1e-7)
    np.testing.assert_allclose(out[:4, 0].std(), 1.0, rtol=1e-6)
    assert out[6, 0] == pytest.approx((100 - 1.5) / math.sqrt(1.25), rel=1e-6)


def test_minmax_none_constant_and_nan_columns():
    values = np.array([[1.0, 5.0, 2.0], [3.0, 5.0, NAN], [2.0, 5.0, 4.0]])
    scaler = SeriesScaler.fit(values, ["a", "flat", "gappy"], "minmax")
    assert scaler.center.tolist() == [1.0, 5.0, 2.0]
    assert scaler.scale.tolist() == [2.0, 1.0, 2.0]  # the constant column: 1, not 0
    out = scaler.transform(values)
    np.testing.assert_array_equal(out[:, 0], [0.0, 1.0, 0.5])
    np.testing.assert_array_equal(out[:, 1], [0.0, 0.0, 0.0])
    assert math.isnan(out[1, 2]) and out[2, 2] == 1.0
    standard = SeriesScaler.fit(values, ["a", "flat", "gappy"], "standard")
    assert standard.center.tolist() == [2.0, 5.0, 3.0]  # NaN ignored
    assert standard.scale[1] == 1.0
    identity = SeriesScaler.fit(values, ["a", "flat", "gappy"], "none")
    np.testing.assert_array_equal(identity.transform(values), values.astype(np.float32))
    with pytest.raises(DataError, match="field 'x'"):
        SeriesScaler.fit(np.array([[1.0, NAN]]), ["ok", "x"], "standard")
    with pytest.raises(ConfigError) as info:
        SeriesScaler.fit(values, ["a"], "standard")
    assert info.value.key == "values"
    with pytest.raises(ConfigError) as info:
        SeriesScaler.fit(values, ["a", "b", "c"], "robust")
    assert info.value.key == "scale"


def test_scaler_round_trip_and_inverse_on_a_column_subset():
    values = np.array([[1.0, 10.0, 100.0], [3.0, 30.0, 300.0], [5.0, 20.0, 200.0]])
    scaler = SeriesScaler.fit(values, ["a", "b", "c"], "standard")
    saved = json.loads(json.dumps(scaler.to_dict()))
    assert saved["kind"] == "standard" and saved["columns"] == ["a", "b", "c"]
    assert all(isinstance(v, float) for v in saved["center"] + saved["scale"])
    loaded = SeriesScaler.from_dict(saved)
    np.testing.assert_array_equal(loaded.center, scaler.center)
    np.testing.assert_array_equal(loaded.scale, scaler.scale)
    np.testing.assert_allclose(loaded.inverse(loaded.transform(values)), values, rtol=1e-6)
    # A forecast of "c" then "a" only, (W, H, 2): unscaled with those columns' statistics.
    scaled = scaler.transform(values)[:, [2, 0]].reshape(1, 3, 2)
    back = scaler.inverse(scaled, columns=["c", "a"])
    np.testing.assert_allclose(back[0], values[:, [2, 0]], rtol=1e-6)
    assert back.dtype == np.float64
    with pytest.raises(ConfigError, match="OT not scaled by this scaler; it has a, b, c"):
        scaler.inverse(scaled, columns=["c", "OT"])
    with pytest.raises(ConfigError, match="last dimension of 1"):
        scaler.inverse(scaled, columns=["c"])
    with pytest.raises(ConfigError, match="last dimension of 3"):
        scaler.transform(values[:, :2])


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"center": [0.0, 1.0]}, "center"),
        ({"scale": [1.0, 0.0, 1.0]}, "scale"),
        ({"scale": ["1", 1.0, 1.0]}, "scale"),
        ({"kind": "robust"}, "scale"),
        ({"extra": 1}, "scaler"),
    ],
)
def test_scaler_from_dict_validates(change, key):
    data = {"kind": "standard", "columns": ["a", "b", "c"], "center": [0.0] * 3, "scale": [1.0] * 3}
    with pytest.raises(ConfigError) as info:
        SeriesScaler.from_dict({**data, **change})
    assert info.value.key == key


# ---------------------------------------------------------------------------------------------
# Windows
# ---------------------------------------------------------------------------------------------


def test_window_starts_by_hand_per_part():
    bounds = split_rows(pd.RangeIndex(12), "0.5,0.25,0.25")
    assert bounds == ((0, 6), (6, 9), (9, 12))
    lookback, horizon = 3, 2
    # train: targets [s+3, s+5) inside [0, 6): s = 0, 1
    assert window_starts(bounds.train, lookback, horizon).tolist() == [0, 1]
    # valid: s+3 >= 6 -> s >= 3, s+5 <= 9 -> s <= 4; s=3 reads rows 3-5 (train)
    assert window_starts(bounds.valid, lookback, horizon).tolist() == [3, 4]
    # test: s >= 6, s <= 7; s=6 reads rows 6-8, all of them in valid
    starts = window_starts(bounds.test, lookback, horizon)
    assert starts.tolist() == [6, 7] and starts.dtype == np.int64
    assert window_starts((0, 10), 2, 1, stride=2).tolist() == [0, 2, 4, 6]
    assert window_starts((5, 10), 2, 1, stride=2).tolist() == [3, 5, 7]
    assert window_starts((1, 4), 3, 1).tolist() == [0]  # s >= 0 limits the look-back
    assert window_starts((0, 4), 3, 2).tolist() == []


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"lookback": 0}, "lookback"),
        ({"horizon": -1}, "horizon"),
        ({"stride": 1.5}, "stride"),
        ({"lookback": True}, "lookback"),
        ({"bounds": (5, 2)}, "bounds"),
    ],
)
def test_window_starts_validates(kwargs, key):
    args = {"bounds": (0, 10), "lookback": 2, "horizon": 1, "stride": 1, **kwargs}
    with pytest.raises(ConfigError) as info:
        window_starts(**args)
    assert info.value.key == key


def test_make_windows_contents():
    values = np.arange(24, dtype=np.float32).reshape(12, 2)
    starts = window_starts((6, 9), 3, 2)  # [3, 4]
    x, y = make_windows(values, starts, 3, 2)
    assert x.shape == (2, 3, 2) and y.shape == (2, 2, 2)
    assert x.dtype == np.float32 and x.flags["C_CONTIGUOUS"] and y.flags["C_CONTIGUOUS"]
    np.testing.assert_array_equal(x[0], values[3:6])
    np.testing.assert_array_equal(y[0], values[6:8])
    np.testing.assert_array_equal(x[1], [[8, 9], [10, 11], [12, 13]])
    np.testing.assert_array_equal(y[1], [[14, 15], [16, 17]])
    assert not np.shares_memory(x, values) and not np.shares_memory(y, values)
    x, y = make_windows(values, np.array([8]), 3, 1)  # the last window that fits
    np.testing.assert_array_equal(y[0], [[22, 23]])
    x, y = make_windows(values, window_starts((0, 3), 3, 2), 3, 2)
    assert x.shape == (0, 3, 2) and y.shape == (0, 2, 2)
    with pytest.raises(ConfigError) as info:
        make_windows(values, np.array([9]), 3, 1)
    assert info.value.key == "starts"
    with pytest.raises(ConfigError) as info:
        make_windows(values, np.array([0]), 3, 0)
    assert info.value.key == "horizon"
