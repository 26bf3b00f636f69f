"""A feed as a plain HTML page for people: the view that needs no XSLT.

Browsers are dropping XSLT (Chromium already shows a removal banner over ``feed.xsl``), so each feed also
gets an HTML5 page beside its Atom document (``paths.feed_page_key``): title, subtitle, the URLs to subscribe
to, every entry of the subscription document with its content, and a link back to the website. No script,
no external resource (the CSS is inline), labels in the site's language where we have them.

Pure: no I/O. Same channel, same bytes.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from postfeed.feeds.channel import GENERATOR, Channel, Entry
from postfeed.feeds.paths import FeedFormat

__all__ = ("render_feed_page",)

_FORMAT_LABELS = ((FeedFormat.ATOM, "Atom"), (FeedFormat.RSS, "RSS"), (FeedFormat.JSON, "JSON Feed"))
_TAG = re.compile(r"<[^>]*>")
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*")
# system-ui first; the CJK families keep Chinese text in a CJK face where the system font has none.
_CSS = (
    ':root{font:16px/1.6 system-ui,-apple-system,"Segoe UI","PingFang SC","Hiragino Sans GB",'
    '"Microsoft YaHei","Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;color:#1f2328;background:#f6f8fa}',
    "body{margin:0}main{max-width:46rem;margin:0 auto;padding:1.5rem 1rem 3rem}",
    "header,article{background:#fff;border:1px solid #d0d7de;border-radius:10px;padding:1rem 1.4rem;margin:0 0 1rem}",
    "h1{font-size:1.6rem;margin:.2rem 0 .4rem}.about,.meta{color:#57606a}.meta{font-size:.9rem;margin:0}",
    ".subscribe{background:#eef6ff;border:1px solid #b6d4fe;border-radius:8px;padding:.6rem 1rem;margin:1rem 0}",
    ".subscribe h2{font-size:1rem;margin:0}.subscribe ul{list-style:none;margin:.3rem 0 0;padding:0}",
    ".subscribe code{word-break:break-all;user-select:all}",
    "article h2{font-size:1.2rem;margin:0 0 .2rem}.terms{list-style:none;margin:.3rem 0;padding:0}",
    ".terms li{display:inline-block;background:#eaeef2;border-radius:1rem;padding:0 .6rem;margin:0 .3rem .3rem 0;"
    "font-size:.85rem}",
    ".content{overflow-wrap:anywhere}.content img,.content video{max-width:100%;height:auto}",
    ".content pre{overflow:auto;background:#f6f8fa;padding:.6rem}a{color:#0969da}",
)


@dataclass(frozen=True, slots=True)
class _Labels:
    subscribe: str
    how: str
    website: str
    older: str
    empty: str


_ENGLISH = _Labels(
    subscribe="Subscribe",
    how="Copy one of these addresses into your feed reader:",
    website="Visit the website →",
    older="← Older entries",
    empty="No entries yet.",
)
_SIMPLIFIED = _Labels(
    subscribe="订阅",
    how="把下面任一地址复制到你的阅读器即可订阅：",
    website="访问网站 →",
    older="← 更早的文章",
    empty="还没有文章。",
)
_TRADITIONAL = _Labels(
    subscribe="訂閱",
    how="將下面任一網址複製到你的閱讀器即可訂閱：",
    website="造訪網站 →",
    older="← 更早的文章",
    empty="還沒有文章。",
)


def _html_lang(language: str | None) -> str | None:
    """The channel's language as an HTML ``lang`` (BCP 47: ``zh_CN`` -> ``zh-CN``); None if it is not a tag."""
    tag = (language or "").strip().replace("_", "-")
    return tag if _LANGUAGE_TAG.fullmatch(tag) else None


def _labels(language: str | None) -> _Labels:
    subtags = (language or "").lower().split("-")
    if subtags[0] != "zh":
        return _ENGLISH
    return _TRADITIONAL if {"hant", "tw", "hk", "mo"} & set(subtags[1:]) else _SIMPLIFIED


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _squeezed(text: str) -> str:
    return "".join(text.split())


def _summary_shown(entry: Entry) -> bool:
    """The summary, unless the content starts with it (the usual excerpt: the content's first paragraph),
    so a reader does not read the same paragraph twice."""
    if not entry.summary:
        return False
    if entry.content_html is None:
        return True
    text = html.unescape(_TAG.sub(" ", entry.content_html))
    return not _squeezed(text).startswith(_squeezed(entry.summary))


def _entry(entry: Entry) -> list[str]:
    author = _esc(entry.author.name)
    if entry.author.uri:
        author = f'<a href="{_esc(entry.author.uri)}">{author}</a>'
    lines = [
        '<article class="entry">',
        f'<h2><a href="{_esc(entry.link)}">{_esc(entry.title)}</a></h2>',
        f'<p class="meta"><time datetime="{entry.published.isoformat()}">'
        f'{entry.published:%Y-%m-%d %H:%M}</time> · <span class="author">{author}</span></p>',
    ]
    if entry.terms:
        lines.append('<ul class="terms">' + "".join(f"<li>{_esc(term)}</li>" for term in entry.terms) + "</ul>")
    if _summary_shown(entry):
        lines.append(f'<p class="summary">{_esc(entry.summary)}</p>')
    if entry.content_html is not None:
        # Sanitised on the way into the channel (content.sanitize_html): the one text not escaped here.
        lines.append(f'<div class="content">{entry.content_html}</div>')
    lines.append("</article>")
    return lines


def render_feed_page(channel: Channel) -> bytes:
    """The feed's HTML page: an HTML5 document in UTF-8 showing the channel's title, subtitle, subscribe URLs
    (with ``<link rel="alternate">`` autodiscovery in the head), its entries and a link to the website."""
    language = _html_lang(channel.language)
    labels = _labels(language)
    title = _esc(channel.title)
    lang = f' lang="{language}"' if language else ""
    lines = [
        "<!DOCTYPE html>",
        f"<html{lang}>",
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="{GENERATOR}">',
        f"<title>{title}</title>",
    ]
    if channel.page_url:
        lines.append(f'<link rel="canonical" href="{_esc(channel.page_url)}">')
    for fmt, label in _FORMAT_LABELS:
        media = fmt.media_type.partition(";")[0]
        lines.append(
            f'<link rel="alternate" type="{media}" title="{title} ({label})" href="{_esc(channel.urls[fmt])}">'
        )
    lines += ["<style>", *_CSS, "</style>", "</head>", "<body>", "<main>", '<header class="feed">']
    lines.append(f'<h1 id="feed-title">{title}</h1>')
    if channel.subtitle:
        lines.append(f'<p class="about">{_esc(channel.subtitle)}</p>')
    lines += [
        '<section class="subscribe" id="subscribe">',
        f"<h2>{labels.subscribe}</h2>",
        f"<p>{labels.how}</p>",
        "<ul>",
    ]
    for fmt, label in _FORMAT_LABELS:
        url = _esc(channel.urls[fmt])
        media = fmt.media_type.partition(";")[0]
        lines.append(
            f'<li>{label}: <a id="subscribe-{fmt.value}" href="{url}" type="{media}"><code>{url}</code></a></li>'
        )
    lines += ["</ul>", "</section>", f'<p><a id="home" href="{_esc(channel.home_url)}">{labels.website}</a></p>']
    lines.append("</header>")
    for entry in channel.entries:
        lines += _entry(entry)
    if not channel.entries:
        lines.append(f'<p class="empty">{labels.empty}</p>')
    history = channel.history.get(FeedFormat.ATOM)
    if history is not None and history.prev_archive:
        lines.append(f'<nav class="pages"><a id="older" href="{_esc(history.prev_archive)}">{labels.older}</a></nav>')
    lines += ["</main>", "</body>", "</html>", ""]
    return "\n".join(lines).encode("utf-8")
