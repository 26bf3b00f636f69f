from __future__ import annotations

from postfeed.jekyll import load_site, parse_post
from postfeed.models import Post
from tests.conftest import CORPUS, SEED_KEY

from .helpers import NOW


def test_seed_post_comes_out_as_finews_published_it(seed_bytes: bytes) -> None:
    site = load_site((CORPUS / "finews" / "_config.yml").read_bytes())
    post = parse_post(SEED_KEY, seed_bytes, site, now=NOW)
    assert isinstance(post, Post)
    assert post.url == "/nanchangribao/2022/03/11/202203112305364917.html"
    assert post.absolute_url == "https://finews.withounder.com" + post.url
    assert post.title == "携手共奋进 一起向未来 ——大南昌都市圈擘画高质量发展“同心圆”"
    assert post.date.isoformat() == "2022-03-11T08:14:43+08:00"
    assert post.categories == ("nanchangribao",)
    assert post.tags == ("南昌日报新闻",)
    assert post.id == "/nanchangribao/2022/03/11/202203112305364917"
    assert post.slug == "202203112305364917"
    assert post.excerpt_text.startswith("3月9日、10日，南昌市党政代表团")
    assert post.warnings == ()
