#!/usr/bin/env python3
"""Writes apscheduler_vectors.json: fire times computed by APScheduler 3 itself.

speedrackd's `schedule::apscheduler` module reimplements APScheduler 3's CronTrigger over naive
wall-clock times; its tests replay these vectors to prove it fires when APScheduler would.
Everything here runs in UTC so that APScheduler's wall times and instants coincide.

Run it from anywhere, with APScheduler 3 installed (pip install 'apscheduler<4'):

    python3 speedrackd/tests/data/gen_apscheduler_vectors.py

The output is deterministic (no clock is read), so regenerating with the same APScheduler
version leaves the file unchanged.
"""

import json
import pathlib
from datetime import datetime, timedelta, timezone

import apscheduler
from apscheduler.triggers.cron import CronTrigger

if not apscheduler.__version__.startswith("3."):
    raise SystemExit(f"need APScheduler 3.x, found {apscheduler.__version__}")

OUT = pathlib.Path(__file__).with_name("apscheduler_vectors.json")
FIRES_PER_START = 8

# Starting points: mid-year, just before a leap day, a fraction of a second past a year's last
# second (sub-second parts must be truncated), and just past a midnight.
STARTS = [
    "2026-03-07T12:34:56",
    "2024-02-28T23:59:59.500000",
    "2025-12-31T23:59:59",
    "2027-06-15T00:00:00",
]

# Each mapping is written as a user would in a tasks file; YAML ints stay ints here and are
# handed to the Rust side as their text.
VALID = [
    # one field, with the finer fields defaulting to their minimum
    {"second": 5},
    {"second": "*/15"},
    {"second": "*/7"},
    {"minute": "*/5"},
    {"minute": 30},
    {"minute": "5/20"},
    {"hour": "*/6"},
    {"hour": "0-23/5", "minute": 7},
    {"day": 1, "hour": 0},
    {"month": 7},
    {"year": 2027},
    # lists and ranges
    {"minute": "0-30/10", "second": "0,30"},
    {"minute": "1,2,3,58,59", "hour": "0,23"},
    {"second": "30", "minute": "*/2", "hour": "8-9"},
    {"hour": "22-23", "minute": "*/20", "day_of_week": "fri"},
    {"hour": " 7 "},
    # day of week, names and numbers
    {"day_of_week": 2, "hour": 23},
    {"day_of_week": "mon-fri", "hour": "9-17", "minute": 0},
    {"day_of_week": "sat,sun", "hour": 10, "minute": 15},
    {"day_of_week": "Mon-Wed, Fri", "hour": 6},
    {"day_of_week": "*/2", "hour": 12},
    {"day_of_week": "0-6/3", "hour": 1},
    # day of month: numbers, steps, month lengths
    {"day": 31},
    {"day": "*/10"},
    {"day": "3-31/9"},
    {"day": "28-31", "hour": 12},
    {"month": 2, "day": 29},
    {"month": "jan-mar", "day": 1},
    {"month": "*/3", "day": 15, "hour": 6},
    # last day, x-th weekday, last weekday
    {"day": "last"},
    {"day": "last", "hour": 23, "minute": 59, "second": 59},
    {"month": "feb", "day": "last"},
    {"month": 12, "day": "last", "minute": 59, "second": 59},
    {"day": "last sun", "hour": 2, "minute": 30},
    {"month": "DEC", "day": "LAST SAT", "hour": "22"},
    {"month": 2, "day": "last mon"},
    {"month": 11, "day": "last thu"},
    {"day": "1st mon"},
    {"day": "5th fri", "hour": 12},
    {"day": "5th mon", "month": "*/2"},
    {"day": "2nd fri,last fri"},
    {"day": "1st sun,3rd sun", "hour": 10},
    # day and day_of_week are ANDed
    {"day": 13, "day_of_week": "fri"},
    {"day": "1-7", "day_of_week": "sun", "hour": 3},
    {"day": "2nd wed", "day_of_week": "wed"},
    # ISO weeks
    {"week": 1},
    {"week": 1, "day_of_week": "mon"},
    {"week": 53, "day_of_week": "thu"},
    {"week": "*/2", "day_of_week": "mon", "hour": 8},
    {"week": "50-53", "day_of_week": "sun", "hour": 0},
    {"week": 10, "day": "1-10"},
    # years
    {"year": "2026-2028", "month": 6},
    {"year": "*/2", "month": 12, "day": 25},
    {"year": "2026,2028", "day": "last"},
    {"year": 9999, "month": 12, "day": 31, "hour": 23, "minute": 59, "second": 59},
    # never (or never again)
    {"month": "feb", "day": 30},
    {"month": "4,6,9,11", "day": 31},
    {"year": 2026, "month": 2, "day": 29},
    {"day": "1st fri", "day_of_week": "sat"},
    # start and end dates (inclusive)
    {"hour": 12, "start_date": "2026-06-01", "end_date": "2026-06-05 12:00:00"},
    {"minute": 0, "start_date": "2026-03-07 13:30:00"},
    {"second": 0, "end_date": "2026-03-07T12:40:00"},
    {"day_of_week": "sun", "start_date": "2027-01-01", "end_date": "2027-02-28"},
]

# Mappings APScheduler refuses, with the key whose value (or name) it refuses.
INVALID = [
    ({"minute": 60}, "minute"),
    ({"hour": 24}, "hour"),
    ({"second": "*/0"}, "second"),
    ({"minute": "*/60"}, "minute"),
    ({"minute": "5-2"}, "minute"),
    ({"minute": "abc"}, "minute"),
    ({"minute": "1,,2"}, "minute"),
    ({"hour": "-1"}, "hour"),
    ({"day": 0}, "day"),
    ({"day": 32}, "day"),
    ({"day": "last sunday"}, "day"),
    ({"day": "6th fri"}, "day"),
    ({"day": "last 6"}, "day"),
    ({"month": 13}, "month"),
    ({"month": "foo"}, "month"),
    ({"month": "nov-feb"}, "month"),
    ({"day_of_week": 7}, "day_of_week"),
    ({"day_of_week": "fri-mon"}, "day_of_week"),
    ({"day_of_week": "funday"}, "day_of_week"),
    ({"day_of_week": "1st fri"}, "day_of_week"),
    ({"week": 0}, "week"),
    ({"week": 54}, "week"),
    ({"year": 1969}, "year"),
    ({"year": 10000}, "year"),
    ({"hour": 1, "start_date": "tomorrow"}, "start_date"),
    ({"second": 15, "minutes": 30}, "minutes"),
]


def utc(text):
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def naive_text(dt):
    return dt.astimezone(timezone.utc).replace(tzinfo=None).isoformat()


def fires_after(trigger, after):
    """The fires strictly after `after` (truncated to the second), as the Rust side defines them.

    APScheduler answers "the first fire at or after now", rounding now up to a whole second, so
    a whole-second `after` is nudged by a microsecond; a fractional one already rounds up.
    """
    now = after if after.microsecond else after + timedelta(microseconds=1)
    fires = []
    previous = None
    while len(fires) < FIRES_PER_START:
        try:
            fire = trigger.get_next_fire_time(previous, now)
        except OverflowError:
            # Past 9999-12-31 23:59:59 Python has no datetime: nothing can fire there.
            return fires, True
        if fire is None:
            return fires, True
        fires.append(fire)
        previous = fire
        now = fire + timedelta(microseconds=1)
    return fires, False


def case(mapping):
    trigger = CronTrigger(timezone="UTC", **mapping)
    runs = []
    for start in STARTS:
        fires, exhausted = fires_after(trigger, utc(start))
        runs.append(
            {
                "after": start,
                "fires": [naive_text(f) for f in fires],
                "exhausted": exhausted,
            }
        )
    return {"fields": [[k, str(v)] for k, v in mapping.items()], "runs": runs}


def invalid(mapping, key):
    try:
        CronTrigger(timezone="UTC", **mapping)
    except (TypeError, ValueError) as error:
        reason = str(error)
    else:
        raise SystemExit(f"APScheduler accepted {mapping}, expected it to refuse {key}")
    return {"fields": [[k, str(v)] for k, v in mapping.items()], "key": key, "apscheduler": reason}


def main():
    document = {
        "apscheduler_version": apscheduler.__version__,
        "generator": "speedrackd/tests/data/gen_apscheduler_vectors.py",
        "time_zone": "UTC",
        "valid": [case(m) for m in VALID],
        "invalid": [invalid(m, k) for m, k in INVALID],
    }
    OUT.write_text(json.dumps(document, indent=1) + "\n")
    runs = sum(len(c["runs"]) for c in document["valid"])
    fires = sum(len(r["fires"]) for c in document["valid"] for r in c["runs"])
    print(f"{OUT.name}: {len(VALID)} mappings, {runs} runs, {fires} fires, {len(INVALID)} invalid")


if __name__ == "__main__":
    main()
