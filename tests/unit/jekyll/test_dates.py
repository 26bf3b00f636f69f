"""Dates as Jekyll reads them: front matter over file name, Psych vs quoted strings, Ruby leniency."""

from __future__ import annotations

import pytest

from postfeed.jekyll import load_site

from .helpers import published

UTC_SITE = load_site()


@pytest.mark.parametrize(
    ("front_matter", "expected"),
    [
        # unquoted, no offset: a YAML timestamp read as UTC, shown in the site zone
        ("date: 2021-12-08 10:18:31\n", "2021-12-08T18:18:31+08:00"),
        # quoted, no offset: wall-clock time in the site zone
        ('date: "2021-12-08 10:18:31"\n', "2021-12-08T10:18:31+08:00"),
        # an offset makes it an absolute instant, quoted or not (PyYAML reads +0800 as a string)
        ("date: 2022-03-11 08:14:43 +0800\n", "2022-03-11T08:14:43+08:00"),
        ('date: "2013-05-06 02:12:52 +0200"\n', "2013-05-06T08:12:52+08:00"),
        ("date: 2024-01-02T03:04:05Z\n", "2024-01-02T11:04:05+08:00"),
        ("date: 2024-01-02 03:04:05 -05:00\n", "2024-01-02T16:04:05+08:00"),
        # unpadded parts
        ("date: 2015-06-1 14:06:05\n", "2015-06-01T22:06:05+08:00"),
        ("date: 2015-6-1\n", "2015-06-01T00:00:00+08:00"),
        # a bare date (quoted or not) is midnight in the site zone
        ("date: 2015-06-01\n", "2015-06-01T00:00:00+08:00"),
        ("date: 2024-01-02 10:00\n", "2024-01-02T10:00:00+08:00"),
        # Ruby leniency: stray token ignored, day and hour roll over
        ("date: 2023-01-29 18:30:22 2023 -0800\n", "2023-01-30T10:30:22+08:00"),
        ("date: 2024-02-30\n", "2024-03-01T00:00:00+08:00"),
        ('date: "2024-01-01 25:00:00"\n', "2024-01-02T01:00:00+08:00"),
        ("date: May 5, 2013 10:00\n", "2013-05-05T10:00:00+08:00"),
    ],
)
def test_front_matter_dates(front_matter: str, expected: str) -> None:
    assert published(front_matter).date.isoformat() == expected


def test_filename_date_is_midnight_in_site_zone() -> None:
    assert published("title: x\n").date.isoformat() == "2024-01-02T00:00:00+08:00"


def test_front_matter_date_wins_over_file_name_and_moves_the_url() -> None:
    post = published("date: 2024-03-04 23:30:00 -0800\n")
    assert post.date.isoformat() == "2024-03-05T15:30:00+08:00"
    assert post.url == "/2024/03/05/hello-world.html"


def test_site_without_timezone_is_utc() -> None:
    post = published("date: 2024-01-02 03:04:05 +0800\n", site=UTC_SITE)
    assert post.date.isoformat() == "2024-01-01T19:04:05+00:00"


@pytest.mark.parametrize("date", ["0001-01-01 12:00:00 +0000", "9999-12-31 10:00:00 +0000"])
def test_extreme_years_parse(date: str) -> None:
    post = published(f"date: {date}\n", site=UTC_SITE)
    assert post.date.year in (1, 9999)
    assert post.url.startswith(f"/{post.date.year:04d}/")


def test_extreme_year_beyond_range_after_conversion_is_rejected_cleanly() -> None:
    from postfeed.jekyll import parse_post

    from .helpers import NOW, post_bytes

    result = parse_post("_posts/2024-01-02-x.md", post_bytes("date: 9999-12-31 23:00:00 -1000\n"), UTC_SITE, now=NOW)
    assert result.status == "error"
