"""The table `postfeed bench` prints (the JSON carries every figure; this is the human summary)."""

from __future__ import annotations

from typing import Any


def _ops(calls: dict[str, float]) -> str:
    return ", ".join(f"{op.split('.', 1)[1]} {n:g}" for op, n in calls.items())


def _yes(value: bool | None) -> str:
    return "-" if value is None else ("met" if value else "MISSED")


def format_report(result: dict[str, Any]) -> str:
    m = result["machine"]
    lines = [
        f"postfeed bench ({result['mode']}): {m['cores']} cores, Python {m['python']}, {m['platform']}, "
        f"moto {m['moto']} in-process, boto3 {m['boto3']}, commit {m.get('commit', '-')}",
        "",
    ]
    if "incremental" in result:
        inc = result["incremental"]
        lines += [
            f"1. Incremental: {inc['uploads']} new posts uploaded one at a time onto N published posts",
            f"   {'N':>7}  {'median ms':>9}  {'p90 ms':>8}  {'in moto':>8}  {'ours':>7}  {'ours p90':>8}"
            f"  AWS calls per upload (handlers)",
        ]
        for row in inc["by_size"]:
            lines.append(
                f"   {row['n']:>7,}  {row['median_ms']:>9.1f}  {row['p90_ms']:>8.1f}  {row['moto_median_ms']:>8.1f}"
                f"  {row['ours_median_ms']:>7.1f}  {row['ours_p90_ms']:>8.1f}  {_ops(dict(row['calls_per_upload']))}"
            )
        equal = "yes" if inc["calls_equal"] else f"NO (identical from N={inc['calls_equal_from_n']}"
        if not inc["calls_equal"]:
            diff = ", ".join(f"{op} {n:+g}" for op, n in inc["calls_difference_per_upload"].items())
            equal += f"; largest minus smallest N, per upload: {diff})"
        totals = [sum(row["calls_per_upload"].values()) for row in inc["by_size"]]
        lines += [
            f"   calls identical for every N: {equal}; all calls per upload {totals[-1]:g} vs {totals[0]:g} "
            f"(ratio {totals[-1] / totals[0] if totals[0] else 0:.3f})",
            f"   {inc['ratio_of']}: wall median {inc['time_ratio']:.2f} (p90 {inc['p90_ratio']:.2f}); "
            f"ours (wall minus time in moto) median {inc['ours_time_ratio']:.2f} (p90 {inc['ours_p90_ratio']:.2f})",
        ]
        for label, profile in (inc.get("profile") or {}).items():
            owners = ", ".join(f"{k} {v:.2f}s" for k, v in profile["seconds_by_owner"].items())
            top = profile["top_moto"][0]["function"] if profile["top_moto"] else "-"
            lines.append(f"   profile {label}: {owners}; moto's top own time: {top}")
        lines.append("")
    if "burst" in result:
        b = result["burst"]
        lines += [
            f"2. Burst: {b['uploads']:,} uploads across {b['categories']} categories, all put, then one settle",
            f"   SQS BatchSize {b['sqs_batch_size']} (window {b['sqs_window_s']} s): {b['ingest_invocations']} ingest "
            f"invocations; stream BatchSize {b['stream_batch_size']} (window {b['stream_window_s']} s): "
            f"{b['feed_invocations']} feed invocations of {_batches(b['stream_batches'])}",
            f"   PutObject to the feeds bucket {b['calls'].get('s3.PutObject', 0)}: {b['documents_written']} "
            f"subscription documents, {b.get('archive_documents_written', 0)} archive pages, "
            f"{b.get('page_documents_written', 0)} HTML pages, {b.get('index_documents_written', 0)} index documents",
            f"   feeds touched {b['feeds_touched']}, subscription documents written {b['documents_written']}: "
            f"{b['writes_per_touched_feed_format']:.2f} writes per touched feed and format "
            f"(median {b['median_writes_per_feed_format']:g}, max {b['max_writes_per_feed_format']}; "
            f"site feed {b['site_feed_writes_per_format']}); settle {b['settle_seconds']:.1f} s"
            + (f", longest feed invocation {b['max_feed_invocation_s']:.1f} s" if "max_feed_invocation_s" in b else ""),
        ]
        for w in b.get("what_if", []):
            lines.append(
                f"   what if the stream's BatchSize were {w['stream_batch_size']}: {w['feed_invocations']} feed "
                f"invocations (largest event {w['max_stream_payload_bytes'] / 1e6:.1f} MB of 6 MB"
                + (f", longest {w['max_feed_invocation_s']:.1f} s here" if "max_feed_invocation_s" in w else "")
                + "), "
                f"{w['writes_per_touched_feed_format']:.2f} writes per touched feed and format "
                f"(max {w['max_writes_per_feed_format']})"
            )
        lines.append("")
    if "cold_start" in result:
        c = result["cold_start"]
        lines.append(
            f"3. Cold start (median of {c['runs']} fresh interpreters): import boto3 {c['boto3_import_ms']:.0f} ms"
        )
        for name, h in c["handlers"].items():
            slow = ", ".join(f"{s['module']} {s['ms']:.0f}" for s in h["slowest_imports"][:3])
            lines.append(
                f"   {name:<12} import app {h['import_ms']:>5.0f} ms  ratio {h['ratio_to_boto3']:.2f}"
                f"  (+ boto3: {h['import_with_boto3_ms']:.0f} ms)  slowest: {slow}"
            )
        lines.append("")
    if "memory" in result:
        mem = result["memory"]
        lines.append("4. Memory (peak RSS of a fresh interpreter running one invocation)")
        for name, h in mem["handlers"].items():
            what = (
                f"{h['post']} ({h['post_bytes']:,} B)"
                if "post" in h
                else f"{h['records']} records, site feed of {h['site_feed_entries']} entries with full content"
            )
            size = f" of {h['memory_size_mb']} MB (its MemorySize)" if "memory_size_mb" in h else ""
            peak = f"peak {h['peak_mb']:>5.1f} MB{size}"
            lines.append(f"   {name:<12} after import {h['after_import_mb']:>5.1f} MB, {peak}  ({what})")
        lines += [f"   max {mem['max_peak_mb']:.1f} MB: {mem['headroom_mb_at_128']:.1f} MB left of 128 MB", ""]
    if "core" in result:
        core = result["core"]
        lines += [
            f"5. Core: {core['posts_per_s']:.0f} posts/s parsed and rendered on one core "
            f"({core['posts']} corpus posts; parse {core['parse_ms_per_post']:.2f} ms, "
            f"render {core['render_ms_per_post']:.2f} ms per post)",
            "",
        ]
    for name, command in (("bulk", "run"), ("build", "build")):
        if name in result:
            bulk = result[name]
            lines += [
                f"6. Bulk: postfeed {command} over a generated {bulk['posts']:,}-post site: {bulk['wall_s']:.1f} s "
                f"({bulk['posts_per_s']:.0f} posts/s, peak {bulk['peak_mb']:.0f} MB), {bulk['feeds']} feeds, "
                f"{bulk['documents']} documents "
                f"({bulk['published']} published, {bulk['skipped']} skipped, {bulk['errors']} errors)",
                "",
            ]
    if "cost" in result:
        cost = result["cost"]
        lines.append(
            f"7. Cost per 1,000 posts ingested, {cost['region']} list prices as of {cost['prices_as_of']}; "
            + ", ".join(f"{name} {mb} MB" for name, mb in _memory(cost["memory_mb"]).items())
            + " (arm64)"
        )
        for name, s in cost["scenarios"].items():
            usd, bound = s["usd_per_1000_posts"], s["usd_per_1000_posts_cpu_bound"]
            parts = ", ".join(f"{k} ${v:.4f}" for k, v in bound.items() if k != "total")
            lines.append(
                f"   {name:<14} ${bound['total']:.4f} (durations as measured: ${usd['total']:.4f}); CPU-bound: {parts}"
            )
        lines += [f"   headline: ${cost['usd_per_1000_posts']:.4f} per 1,000 posts ({cost['basis']})", ""]
    if "feeds_scaling" in result:
        lines += _feeds_scaling(result["feeds_scaling"])
    lines.append("Targets")
    for row in result.get("targets", []):
        value = row["value"]
        shown = "-" if value is None else (f"{value:g}" if isinstance(value, float) else str(value))
        lines.append(f"   {row['figure']:<38} {shown:>8}  target {row['target']:<28} {_yes(row['met'])}")
    lines.append(f"\n({result['seconds']:.0f} s)")
    return "\n".join(lines)


def _batches(sizes: list[int]) -> str:
    if not sizes:
        return "-"
    counts: dict[int, int] = {}
    for size in sizes:
        counts[size] = counts.get(size, 0) + 1
    return " + ".join(f"{n}x{size}" for size, n in counts.items()) + " records"


def _memory(memory_mb: int | dict[str, int]) -> dict[str, int]:
    """MemorySize by function (runs saved before functions had their own: one figure for all)."""
    return memory_mb if isinstance(memory_mb, dict) else {"every function": memory_mb}


def _feeds_scaling(scaling: dict[str, Any]) -> list[str]:
    lines = [
        f"8. Feeds: the same {scaling['uploads']} uploads, one at a time, into a {scaling['preload_posts']:,}-post "
        "site with few and with many feeds (the generator's long tail)",
        f"   {'feeds':>7}  {'pass':<9} {'median ms':>9}  {'bytes/upload':>12}  {'discovery':>9}  AWS calls per upload",
    ]
    for site in scaling["sites"]:
        for name in ("existing", "new_feed"):
            row = site[name]
            lines.append(
                f"   {site['feeds']:>7,}  {name:<9} {row['median_ms']:>9.1f}  {row['bytes_per_upload']:>12,}"
                f"  {row['discovery_bytes_per_upload']:>9,}  {_ops(dict(row['calls_per_upload']))}"
            )
    lines += [
        f"   existing feeds: calls identical {'yes' if scaling['calls_equal'] else 'NO'}; bytes per upload "
        f"{scaling['ratio_of']}: {scaling['bytes_ratio']:.3f}",
        f"   a new feed per upload: calls identical {'yes' if scaling['new_feed_calls_equal'] else 'no'}; bytes "
        f"{scaling['new_feed_bytes_ratio']:.3f}; discovery bytes per upload "
        + " vs ".join(f"{n:,}" for n in scaling["new_feed_discovery_bytes_per_upload"]),
        "",
    ]
    return lines
