"""Generate a large synthetic site in the sample site's style, to run `postfeed run` at scale.

    .venv/bin/python examples/scale/generate.py 16000 /tmp/scale-site
    .venv/bin/python examples/scale/generate.py 16000 /tmp/scale-site --long-tail     # the real shape
    .venv/bin/postfeed run --posts /tmp/scale-site --out /tmp/scale-out

Deterministic (seeded): the same N gives the same files. About 1% of the posts are broken (an unescaped
quote in the title), 1% unpublished and 0.5% have a blank line before their front matter, as in the
first user's archive. Text is assembled from the phrases below; it is not real news.

The long tail (`--long-tail`, or `--tail-tags` / `--tail-categories`): the first user's site has ~16,000 posts,
hundreds of categories and thousands of tags, most tags on one or two posts. With it, a share of the posts
(`--tail-share`, 30 %) also carry tail tags (`--tail-per-post`, one each), handed out in order of date, each to
one or two posts, so new tags keep appearing as the site grows (until all `--tail-tags` are out: then old ones
are reused); and as many posts carry a second category, one of `--tail-categories` small sources. `--long-tail`
takes N/4 tags and N/50 categories (16,000 posts: 4,000 and 320). Every tail decision comes from a generator of
its own per post, so the posts are the same with or without a tail, but for their tags and categories; names
are fixed-width (`话题0042`, `s042`), so two tails of different sizes give posts of the same length.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

CONFIG = """lang: zh-CN
title: 财经速递（压力测试）
description: 合成的财经新闻归档
url: https://finews.example.com
timezone: Asia/Shanghai
author: 速递编辑部
plugins:
  - jekyll-feed
"""

# category slug -> (tag, share of posts)
SOURCES = {
    "emnews": ("东财滚动新闻", 70),
    "cailianshe": ("财联社电报", 10),
    "nanchangribao": ("南昌日报新闻", 5),
    "zhongguojijinbao": ("中国基金报新闻", 5),
    "quanshangzhongguo": ("券商中国新闻", 4),
    "zhongguozhengquanbao": ("中国证券报新闻", 3),
    "yangxingwangzhan": ("央行网站新闻", 3),
}
TOPICS = ["新能源", "半导体", "光伏", "储能", "银行", "券商", "保险", "地产", "消费", "医药", "汽车", "基建"]
SUBJECTS = ["沪指", "深成指", "创业板指", "北向资金", "两市成交额", "人民币汇率", "国债收益率", "大宗商品"]
MOVES = ["小幅高开", "震荡走高", "午后回落", "尾盘拉升", "持续走强", "窄幅整理", "探底回升"]
REASONS = ["政策面暖风频吹", "资金面保持宽松", "外围市场表现平稳", "业绩预期改善", "估值处于低位"]


@dataclass
class LongTail:
    """Tail tags and categories, handed out post by post (see the module's docstring)."""

    tags: int = 0
    categories: int = 0
    share: float = 0.3  # of the posts, with tail tags (and, as many, with a tail category)
    per_post: int = 1  # tail tags of such a post
    seed: int = 0
    _current: int = -1  # the tag being handed out
    _left: int = 0  # posts it still goes to

    def extra(self, number: int) -> tuple[list[str], list[str]]:
        """(tail tags, tail categories) of post `number`."""
        rng = random.Random(f"{self.seed}-tail-{number}")
        tags: list[str] = []
        if self.tags and rng.random() < self.share:
            for _ in range(self.per_post):
                tag = self._next_tag(rng, tags)
                if tag not in tags:
                    tags.append(tag)
        categories = []
        if self.categories and rng.random() < self.share:
            categories.append(f"s{int(rng.random() * self.categories):03d}")
        return tags, categories

    def _next_tag(self, rng: random.Random, taken: list[str]) -> str:
        if self._left == 0 or _tag(self._current) in taken:
            self._current += 1
            self._left = 1 + (rng.random() < 0.5)  # one or two posts each
        self._left -= 1
        if self._current >= self.tags:  # all handed out: an old one again
            return _tag(int(rng.random() * self.tags))
        return _tag(self._current)


def _tag(number: int) -> str:
    return f"话题{number:04d}"


def post(rng: random.Random, number: int, when: datetime, tail: LongTail | None = None) -> tuple[str, str]:
    categories = list(SOURCES)
    category = rng.choices(categories, weights=[SOURCES[c][1] for c in categories])[0]
    tag = SOURCES[category][0]
    topic = rng.choice(TOPICS)
    subject, move, reason = rng.choice(SUBJECTS), rng.choice(MOVES), rng.choice(REASONS)
    title = f"{subject}{move}，{topic}板块“{rng.choice(['领涨', '活跃', '分化'])}”（第{number}期）"
    info_code = f"{when:%Y%m%d%H%M%S}{number:04d}"[-18:]
    name = f"{when:%Y-%m-%d}-{info_code}.md"
    tag_list = [tag, topic] if rng.random() < 0.3 else [tag]
    extra_tags, extra_categories = tail.extra(number) if tail else ([], [])
    tag_list += extra_tags
    tags = f"[{', '.join(tag_list)}]" if len(tag_list) > 1 else tag
    category_line = " ".join([category, *extra_categories])
    offset = " +0800" if rng.random() < 0.5 else ""
    roll = rng.random()
    if roll < 0.01:
        title = f'{subject}"{move}"{topic}'  # unescaped quotes inside the double-quoted title: yaml_syntax
    extra = "published: false\n" if 0.01 <= roll < 0.02 else ""
    lead = "\n" if 0.02 <= roll < 0.025 else ""
    paragraphs = "".join(
        f"<p>{rng.choice(SUBJECTS)}{rng.choice(MOVES)}，分析人士认为{rng.choice(REASONS)}，{topic}板块值得关注。</p>"
        for _ in range(rng.randint(2, 8))
    )
    body = (
        f'{lead}---\nlayout: post\ntitle: "{title}"\ndate: {when:%Y-%m-%d %H:%M:%S}{offset}\n'
        f"categories: {category_line}\ntags: {tags}\n{extra}---\n"
        f"> {subject}{move}，{reason}。\n\n"
        f'{paragraphs}<p class="em_media">（文章来源：财经速递）</p>\n\n'
        f"<https://finews.example.com/html_News/NewsShare.html?infoCode={info_code}>\n\n"
        f"[返回{tag}](//finews.example.com/category/{category}.html)｜[返回首页](//finews.example.com/)"
    )
    return name, body


def generate(count: int, root: Path, seed: int = 20240311, *, tail: LongTail | None = None) -> None:
    rng = random.Random(seed)
    posts = root / "_posts"
    posts.mkdir(parents=True, exist_ok=True)
    (root / "_config.yml").write_text(CONFIG, encoding="utf-8")
    start = datetime(2021, 12, 1, 8, 0, 0)
    for number in range(1, count + 1):
        when = start + timedelta(minutes=17 * number + rng.randint(0, 16))
        name, body = post(rng, number, when, tail)
        (posts / name).write_text(body, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--long-tail", action="store_true", help="the real shape: N/4 tail tags, N/50 categories")
    parser.add_argument("--tail-tags", type=int, help="tags of one or two posts each, handed out in order")
    parser.add_argument("--tail-categories", type=int, help="small categories, a second category of some posts")
    parser.add_argument("--tail-share", type=float, default=0.3, help="share of posts with tail tags (0.3)")
    parser.add_argument("--tail-per-post", type=int, default=1, help="tail tags of such a post (1)")
    args = parser.parse_args()
    tags = args.tail_tags if args.tail_tags is not None else (args.count // 4 if args.long_tail else 0)
    categories = (
        args.tail_categories if args.tail_categories is not None else (args.count // 50 if args.long_tail else 0)
    )
    tail = LongTail(tags, categories, args.tail_share, args.tail_per_post) if tags or categories else None
    generate(args.count, args.folder, tail=tail)
    print(f"{args.count} posts in {args.folder / '_posts'}")


if __name__ == "__main__":
    main()
