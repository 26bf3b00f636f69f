"""Post dates the way Jekyll reads them: Ruby's lenient `Time.parse`, in the site's zone.

Jekyll turns every date into a string and hands it to `Time.parse`, with the process zone set to the
site's `timezone`. So a string without an offset is wall-clock time in the site zone; the caller passes
`assume_utc=True` for an unquoted YAML timestamp, which Psych has already read as UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo

from .errors import INVALID_DATE, PostError

_DATE = re.compile(
    r"\s*(?P<y>\d{1,4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:(?:[Tt]|\s+)(?P<H>\d{1,2}):(?P<M>\d{1,2})(?::(?P<S>\d{1,2})(?:[.,](?P<f>\d+))?)?)?"
)
_OFFSET = re.compile(r"(?P<sign>[+-])(?P<h>\d{1,2})(?::?(?P<m>\d{2}))?")
# Zone names Ruby's Date._parse knows besides numeric offsets (the common ones).
_NAMED_ZONES: dict[str, int] = {
    "Z": 0, "UTC": 0, "GMT": 0, "UT": 0,
    "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
}  # fmt: skip


def parse_date(text: str, site_tz: tzinfo, *, assume_utc: bool = False, what: str = "date") -> datetime:
    """Read `text` as Ruby's Time.parse would and return it in `site_tz`; PostError(invalid_date) if not.

    Lenient like Ruby: unpadded parts, a stray token between time and offset is ignored, a day past the
    month's end or an hour past 23 rolls over (2024-02-30 is 2024-03-01).
    """
    match = _DATE.match(text)
    if match is None:
        return _parse_other(text, site_tz, what)
    year, month, day = (int(match[k]) for k in ("y", "m", "d"))
    if len(match["y"]) <= 2:  # Ruby completes two-digit years: 69-99 -> 19xx, 00-68 -> 20xx
        year += 1900 if year >= 69 else 2000
    hour, minute, second = (int(match[k] or 0) for k in ("H", "M", "S"))
    micro = int((match["f"] or "0")[:6].ljust(6, "0"))
    if not (1 <= month <= 12 and 1 <= day <= 31 and minute <= 59 and second <= 60 and year >= 1):
        raise _invalid(text, what, "a part is out of range")
    offset = _find_offset(text[match.end() :])
    zone: tzinfo = offset if offset is not None else (UTC if assume_utc else site_tz)
    try:
        start = datetime(year, month, 1, tzinfo=zone)
        when = start + timedelta(days=day - 1, hours=hour, minutes=minute, seconds=second, microseconds=micro)
        if offset is None and not assume_utc:
            # Wall-clock arithmetic across a DST change: re-attach the zone to the rolled wall time.
            when = when.replace(tzinfo=None).replace(tzinfo=site_tz)
        return when.astimezone(site_tz)
    except (OverflowError, ValueError) as exc:
        raise _invalid(text, what, "outside the years 1-9999") from exc


def date_from_filename(text: str, site_tz: tzinfo) -> datetime:
    """The YYYY-MM-DD of a post's file name: midnight in the site zone."""
    return parse_date(text, site_tz, what="file name date")


def _find_offset(rest: str) -> tzinfo | None:
    """The first zone-like token after the time; anything else is ignored as Ruby does."""
    for token in rest.split():
        upper = token.upper()
        if upper in _NAMED_ZONES:
            return timezone(timedelta(hours=_NAMED_ZONES[upper]))
        found = _OFFSET.fullmatch(token)
        if found:
            minutes = int(found["h"]) * 60 + int(found["m"] or 0)
            if minutes >= 24 * 60:
                return None
            return timezone(timedelta(minutes=-minutes if found["sign"] == "-" else minutes))
    return None


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WORDY = re.compile(
    r"\s*(?:[a-z]+,?\s+)??(?:(?P<d1>\d{1,2})\s+(?P<m1>[a-z]{3})[a-z]*\.?|(?P<m2>[a-z]{3})[a-z]*\.?\s+(?P<d2>\d{1,2}),?)"
    r"\s+(?P<y>\d{4})(?P<rest>.*)",
    re.IGNORECASE | re.DOTALL,
)


def _parse_other(text: str, site_tz: tzinfo, what: str) -> datetime:
    """The other spelling Time.parse meets in posts: "May 5, 2013 10:00" / "5 May 2013"."""
    match = _WORDY.match(text)
    month = (match["m1"] or match["m2"] or "").lower() if match else ""
    if match is None or month not in _MONTHS:
        raise _invalid(text, what, "not a date Ruby's Time.parse can read")
    day = match["d1"] or match["d2"]
    return parse_date(f"{match['y']}-{_MONTHS.index(month) + 1}-{day}{match['rest']}", site_tz, what=what)


def _invalid(text: str, what: str, why: str) -> PostError:
    return PostError(INVALID_DATE, f"invalid {what} {text!r}: {why}")
