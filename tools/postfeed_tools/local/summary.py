"""The short table `postfeed run` and `postfeed build` print: posts by outcome, the feeds with their entries and
formats, the problems, where the report is; CJK text measured in terminal columns."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from postfeed_tools.local.export import LOG_NAME, REPORT_NAME, feed_stem

if TYPE_CHECKING:
    from postfeed_tools.local.runner import RunResult

MAX_LISTED = 20
FORMAT_ORDER = {"atom": 0, "rss": 1, "json": 2}


def display_width(text: str) -> int:
    """Terminal columns of `text`: CJK and other wide characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def format_summary(result: RunResult, *, source: str = "", command: str = "run") -> str:
    """The short table `postfeed run` (or `postfeed build`, without functions' logs) prints."""
    report, totals = result.report, result.report["totals"]
    rate = totals["posts"] / result.seconds if result.seconds > 0 else 0.0
    lines = [
        f"postfeed {command}: {source or report['site']} -> {result.out}/ "
        f"({totals['posts']} posts in {result.seconds:.1f} s, {rate:.0f} posts/s)",
        "",
        f"  {'posts':<12}{'count':>7}",
        *(f"  {status:<12}{totals[status]:>7}" for status in ("published", "skipped", "error")),
        f"  {'total':<12}{totals['posts']:>7}",
        "",
    ]
    config = report["config"]
    if config["status"] == "error":
        lines += [f"  config: {config['key']}: {config['code']}: {config['message']}", ""]
    if config.get("notes"):
        lines += [*(f"  note: {note}" for note in config["notes"]), ""]
    feeds: dict[str, dict[str, Any]] = {}
    archives = sum(1 for doc in report["feeds"] if doc.get("archive"))
    for doc in report["feeds"]:
        if doc.get("archive"):
            continue
        feed = feeds.setdefault(feed_stem(doc["key"]), {"entries": 0, "formats": []})
        feed["entries"] = max(feed["entries"], doc["entries"])
        feed["formats"].append(doc["format"])
    width = min(48, max((display_width(stem) for stem in feeds), default=4) + 2)
    lines.append(f"  {pad('feed', width)}{'entries':>7}  formats")
    ordered = sorted(feeds.items(), key=lambda kv: (kv[0].count("/"), -kv[1]["entries"], kv[0]))
    for stem, feed in ordered[:MAX_LISTED]:
        formats = sorted(feed["formats"], key=lambda f: FORMAT_ORDER.get(f, len(FORMAT_ORDER)))
        lines.append(f"  {pad(stem, width)}{feed['entries']:>7}  {' '.join(formats)}")
    if len(ordered) > MAX_LISTED:
        lines.append(f"  … and {len(ordered) - MAX_LISTED} more feeds")
    others = f" (+ {', '.join(report['other_files'])})" if report["other_files"] else ""
    archived = f", {archives} of them archive pages" if archives else ""
    pages = f", {totals['pages']} HTML pages" if totals.get("pages") else ""
    lines.append(f"  {len(feeds)} feeds, {totals['documents']} documents{archived}{pages}{others}")
    problems = [p for p in report.get("site_files", []) if p["status"] == "error"]
    problems += [p for p in report["posts"] if p["status"] != "published"]
    if problems:
        lines.append("")
        for post in problems[:MAX_LISTED]:
            if post["status"] == "error":
                where = f" line {post['line']}" if post.get("line") else ""
                lines.append(f"  error    {post['key']}: {post['code']}{where}")
            else:
                lines.append(f"  {post['status']:<8} {post['key']}: {post.get('reason')}")
        if len(problems) > MAX_LISTED:
            lines.append(f"  … and {len(problems) - MAX_LISTED} more (see {REPORT_NAME})")
    if result.pipeline_failed:
        lines += [
            "",
            f"  THE PIPELINE FAILED: {totals['unprocessed']} posts not processed, "
            f"{totals['dead_letters']} events in the dead-letter queue, "
            f"{totals['failed_feed_batches']} failed feed batches",
            *(f"  {problem}" for problem in report["function_errors"]),
        ]
    logs = f"   functions' logs: {result.out / LOG_NAME}" if command == "run" else ""
    lines += ["", f"report: {result.out / REPORT_NAME}{logs}"]
    return "\n".join(lines)
