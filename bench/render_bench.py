"""How long render_feed takes for a 50-entry feed with full content, in all three formats.

Run: .venv/bin/python bench/render_bench.py [--runs N]   Prints the median (and min/max) of N runs.
The posts are synthetic (about 8 KB of HTML each, with relative links and images to resolve), so the
script needs nothing but the repository.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "shared"))  # run as a plain script, without installing the package

from postfeed.feeds import render_feed  # noqa: E402
from postfeed.models import Author, FeedRef, FeedSettings, Post, Site  # noqa: E402

ENTRIES = 50
CST = timezone(timedelta(hours=8))
PARAGRAPH = (
    "<p>南昌市坚定不移推动省委省政府重大战略部署落地见效，坚决扛起省会担当，在推动大南昌都市圈高质量"
    '一体化发展方面取得一系列新成效。<a href="../related/{n}.html">相关</a> '
    '<a href="//finews.withounder.com/category/nanchangribao.html">返回</a> '
    '<img src="img/{n}.png" srcset="img/{n}.png 1x, img/{n}@2x.png 2x" alt="图"> '
    '<strong>Bold</strong> <em>em</em> <code>x &lt; y</code> and an <span style="color:red">inline</span>'
    " <script>alert(1)</script> ]]&gt; tail.</p>\n"
)


def make_posts(count: int) -> list[Post]:
    posts = []
    for n in range(count):
        date = datetime(2022, 1, 1, 8, 0, tzinfo=CST) + timedelta(hours=7 * n)
        url = f"/nanchangribao/{date:%Y/%m/%d}/2022{n:06d}.html"
        posts.append(
            Post(
                path=f"_posts/{date:%Y-%m-%d}-2022{n:06d}.md",
                title=f"携手共奋进 一起向未来 —— 第 {n} 篇",
                date=date,
                slug=f"2022{n:06d}",
                url=url,
                absolute_url="https://finews.withounder.com" + url,
                id=url.removesuffix(".html"),
                categories=("nanchangribao",),
                tags=("南昌日报新闻", f"tag{n % 5}"),
                content_html=PARAGRAPH.format(n=n) * 20,
                excerpt_html=PARAGRAPH.format(n=n),
                excerpt_text="南昌市坚定不移推动省委省政府重大战略部署落地见效。",
                author=Author("ZNing"),
            )
        )
    return posts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    site = Site(
        url="https://finews.withounder.com",
        title="金融消息",
        lang="zh-CN",
        timezone="Asia/Shanghai",
        feed=FeedSettings(posts_limit=ENTRIES),
    )
    posts = make_posts(ENTRIES)
    render_feed(FeedRef.site(), posts, site)  # warm-up: imports, regex compilation
    timings = []
    for _ in range(args.runs):
        started = time.perf_counter()
        docs = render_feed(FeedRef.site(), posts, site)
        timings.append(time.perf_counter() - started)
    sizes = ", ".join(f"{doc.format.value} {len(doc.body) / 1024:.0f} KiB" for doc in docs)
    print(
        f"render_feed, {ENTRIES} entries with full content, Atom+RSS+JSON: "
        f"median {statistics.median(timings) * 1000:.1f} ms "
        f"(min {min(timings) * 1000:.1f}, max {max(timings) * 1000:.1f}, {args.runs} runs; {sizes})"
    )


if __name__ == "__main__":
    main()
