"""load_site: _config.yml with Jekyll's defaults, overrides, ConfigError."""

from __future__ import annotations

import pytest

from postfeed.jekyll import ConfigError, load_site
from postfeed.jekyll import errors as codes
from postfeed.models import Author, FeedSettings, Site
from tests.conftest import CORPUS


def test_defaults_without_config() -> None:
    site = load_site()
    assert site == Site(permalink="/:categories/:year/:month/:day/:title:output_ext")
    assert (site.timezone, site.excerpt_separator, site.future, site.lang) == (None, "\n\n", True, None)


def test_finews_config() -> None:
    site = load_site((CORPUS / "finews" / "_config.yml").read_bytes())
    assert site.url == "https://finews.withounder.com"
    assert site.timezone == "Asia/Shanghai"
    assert site.author == Author("ZNing")
    assert (site.title, site.lang) == ("金融消息", "zh-CN")


def test_jekyll_config_uses_collection_permalink() -> None:
    site = load_site((CORPUS / "jekyll__jekyll" / "_config.yml").read_text())
    assert site.permalink == "/news/:year/:month/:day/:title/"
    assert site.timezone == "America/Los_Angeles"


def test_all_settings_read() -> None:
    config = """
url: https://x.org/
baseurl: /blog
title: T
description: D
lang: fr
author:
  name: Ann
  email: ann@x.org
timezone: Europe/Paris
permalink: pretty
excerpt_separator: "<!--more-->"
future: false
feed:
  path: atom.xml
  posts_limit: 20
  excerpt_only: true
"""
    site = load_site(config)
    assert site.root_url == "https://x.org/blog"
    assert site.author == Author("Ann", "ann@x.org")
    assert site.permalink == "/:categories/:year/:month/:day/:title/"
    assert (site.excerpt_separator, site.future, site.timezone) == ("<!--more-->", False, "Europe/Paris")
    assert site.feed == FeedSettings(path="atom.xml", posts_limit=20, excerpt_only=True)


def test_overrides_win() -> None:
    site = load_site(b"title: A\ntimezone: UTC\n", title="B", timezone="Asia/Tokyo")
    assert (site.title, site.timezone) == ("B", "Asia/Tokyo")


@pytest.mark.parametrize(
    ("config", "code"),
    [
        ("a: [\n", codes.CONFIG_YAML),
        ("- a\n", codes.CONFIG_YAML),
        ("timezone: Mars/Olympus\n", codes.CONFIG_VALUE),
        ("future: maybe\n", codes.CONFIG_VALUE),
        ("feed: [x]\n", codes.CONFIG_VALUE),
        ("feed:\n  posts_limit: many\n", codes.CONFIG_VALUE),
    ],
)
def test_bad_config_raises_config_error(config: str, code: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_site(config)
    assert caught.value.code == code
    assert caught.value.message


def test_unknown_override_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        load_site(colour="blue")
