"""Every error code, from hostile inputs built here."""

from __future__ import annotations

import pytest

from postfeed.jekyll import errors
from postfeed.jekyll.frontmatter import MAX_FRONT_MATTER_BYTES, MAX_POST_BYTES

from .helpers import post_bytes, rejected


def test_every_code_is_documented_and_unique() -> None:
    assert len(set(errors.ALL_CODES)) == len(errors.ALL_CODES)
    assert all(code.islower() and " " not in code for code in errors.ALL_CODES)


def test_invalid_utf8_is_rejected_with_its_line() -> None:
    result = rejected(b"---\ntitle: x\n---\nok\n\xff\xfe bad\n")
    assert result.code == errors.INVALID_UTF8
    assert result.line == 5


def test_latin1_post_is_invalid_utf8() -> None:
    assert rejected("---\ntitle: café\n---\n".encode("latin-1")).code == errors.INVALID_UTF8


def test_nul_byte_is_rejected() -> None:
    result = rejected(b"---\ntitle: x\n---\nhello\x00world\n")
    assert (result.code, result.line) == (errors.NUL_BYTE, 4)


@pytest.mark.parametrize("body", [b"\x89PNG\r\n\x1a\n" + bytes(200), bytes(range(32)) * 50, b"PK\x03\x04rest-of-zip"])
def test_binary_files_are_rejected(body: bytes) -> None:
    assert rejected(body).code == errors.BINARY


def test_post_over_size_cap_is_rejected() -> None:
    assert rejected(b"a" * (MAX_POST_BYTES + 1)).code == errors.POST_TOO_LARGE


def test_front_matter_over_size_cap_is_rejected() -> None:
    big = "".join(f"k{i}: {'v' * 60}\n" for i in range(MAX_FRONT_MATTER_BYTES // 60 + 10))
    assert rejected(post_bytes(big)).code == errors.FRONT_MATTER_TOO_LARGE


def test_unescaped_quote_in_title_is_a_yaml_syntax_error_naming_the_line() -> None:
    result = rejected(post_bytes('layout: post\ntitle: "He said "hi" to me"\ndate: 2024-01-02\n'))
    assert result.code == errors.YAML_SYNTAX
    assert result.line == 3  # file line: the `---` is line 1
    assert "line 3" in result.message


def test_tab_indentation_error_is_yaml_syntax() -> None:
    assert rejected(post_bytes("title: x\n\tbad: y\n")).code == errors.YAML_SYNTAX


@pytest.mark.parametrize("front_matter", ["- a\n- b\n", "just a sentence\n", "42\n"])
def test_front_matter_that_is_not_a_mapping_is_rejected(front_matter: str) -> None:
    assert rejected(post_bytes(front_matter)).code == errors.FRONT_MATTER_NOT_MAPPING


def test_billion_laughs_is_refused() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    assert rejected(post_bytes("\n".join(lines) + "\n")).code == errors.YAML_ALIAS_BOMB


def test_self_referencing_alias_is_refused() -> None:
    assert rejected(post_bytes("a: &a [1, *a]\n")).code == errors.YAML_ALIAS_BOMB


def test_deep_nesting_is_refused() -> None:
    assert rejected(post_bytes("a: " + "[" * 5000 + "]" * 5000 + "\n")).code == errors.YAML_TOO_COMPLEX


def test_python_object_tag_is_refused() -> None:
    result = rejected(post_bytes("title: x\nboom: !!python/object/apply:os.system ['true']\n"))
    assert (result.code, result.line) == (errors.YAML_UNSUPPORTED_TAG, 3)


@pytest.mark.parametrize("date", ["+0800", "''", "", "not a date", "2024-13-01", "2024-01-32", "0000-01-01"])
def test_dates_jekyll_cannot_read_are_rejected(date: str) -> None:
    result = rejected(post_bytes(f"title: x\ndate: {date}\n"))
    assert result.code == errors.INVALID_DATE
    assert "date" in result.message


def test_unknown_permalink_placeholder_is_rejected() -> None:
    assert rejected(post_bytes("permalink: /:year/:nope/\n")).code == errors.INVALID_PERMALINK


def test_unpublished_post_with_bad_date_is_still_rejected() -> None:
    # Jekyll reads the whole document before Publisher decides: the bad date stops the build.
    assert rejected(post_bytes("published: false\ndate: +0800\n")).code == errors.INVALID_DATE


def test_control_character_in_front_matter_is_a_yaml_syntax_error() -> None:
    result = rejected(post_bytes("title: x\nbad: \x1f\n"))
    assert (result.code, result.line) == (errors.YAML_SYNTAX, 3)


@pytest.mark.parametrize(
    "front_matter",
    [
        'title: "\\ud83d\\ude80"\n',  # json.dumps("🚀"): a surrogate pair, which YAML escapes cannot write
        'permalink: "/a/\\udc80/"\n',
        'tags: ["ok", "\\ud800"]\n',
        '"\\ud800": key\n',
    ],
)
def test_a_surrogate_escape_is_a_yaml_syntax_error_naming_the_line(front_matter: str) -> None:
    result = rejected(post_bytes("layout: post\n" + front_matter))
    assert (result.code, result.line) == (errors.YAML_SYNTAX, 3)
    assert "surrogate" in result.message
