"""`postfeed import` (postfeed_tools.local.importer) against the local stack on mock_aws: config first, resumable,
failures collected."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from postfeed_tools.local.errors import RunError
from postfeed_tools.local.importer import format_import_summary, import_site, remote_etags, table_config_waiter
from postfeed_tools.local.pipeline import LocalPipeline
from tests.conftest import REPO

SITE = REPO / "examples" / "site"


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A copy of the sample site that a test may change, with a post in a sub-folder of _posts/."""
    root = tmp_path / "site"
    shutil.copytree(SITE, root)
    (root / "_posts" / "2024").mkdir()
    (root / "_posts" / "2024-03-15-NW202403150930000012.md").rename(
        root / "_posts" / "2024" / "2024-03-15-NW202403150930000012.md"
    )
    return root


def record_puts(pipeline: LocalPipeline) -> list[str]:
    """Keys of every PutObject the client makes, in order."""
    keys: list[str] = []

    def before(params: dict[str, Any], **_: Any) -> None:
        keys.append(params["Key"])

    pipeline.s3.meta.events.register("before-parameter-build.s3.PutObject", before)
    return keys


def test_import_uploads_config_first_then_every_post_and_a_second_run_uploads_nothing(
    pipeline: LocalPipeline, site: Path
) -> None:
    # GIVEN a site and the local stack; the config waiter settles the pipeline as the ingest function would
    bucket = pipeline.stack.posts_bucket
    puts = record_puts(pipeline)
    waited: list[int] = []

    def wait_for_config() -> None:
        waited.append(len(puts))
        pipeline.settle()
        table_config_waiter(pipeline.table.client, pipeline.table.name, (site / "_config.yml").read_bytes())()

    # WHEN the site is imported
    first = import_site(pipeline.s3, bucket, site, wait_for_config=wait_for_config, workers=4, progress=False)
    # THEN _config.yml went first and the posts only after it was in force
    assert first.ok
    assert puts[0] == "_config.yml"
    assert waited == [1]
    assert first.config == "uploaded"
    assert len(first.uploaded) == 13
    assert "_posts/2024/2024-03-15-NW202403150930000012.md" in first.uploaded
    assert sorted(remote_etags(pipeline.s3, bucket, "_posts/")) == first.uploaded
    # AND the posts were parsed with the site's settings (its url, not the template's)
    pipeline.settle()
    published = pipeline.table.get_post("_posts/2024-03-11-202403110931050001.md")
    assert published is not None
    assert published["entry"]["absolute_url"].startswith("https://finews.example.com/")

    # WHEN it is imported again, unchanged
    puts.clear()
    second = import_site(pipeline.s3, bucket, site, wait_for_config=wait_for_config, progress=False)
    # THEN nothing is uploaded
    assert puts == []
    assert second.config == "unchanged"
    assert second.uploaded == []
    assert len(second.skipped) == 13
    assert waited == [1]


def test_import_uploads_only_what_changed(pipeline: LocalPipeline, site: Path) -> None:
    bucket = pipeline.stack.posts_bucket
    import_site(pipeline.s3, bucket, site, progress=False)
    # GIVEN one post edited and one added
    edited = site / "_posts" / "2024-03-11-202403110931050001.md"
    edited.write_text(edited.read_text(encoding="utf-8") + "\n<p>更正。</p>", encoding="utf-8")
    (site / "_posts" / "2024-03-16-new.md").write_text("---\ntitle: 新\n---\n正文", encoding="utf-8")
    puts = record_puts(pipeline)
    # WHEN imported again
    result = import_site(pipeline.s3, bucket, site, progress=False)
    # THEN only those two are uploaded
    assert sorted(puts) == ["_posts/2024-03-11-202403110931050001.md", "_posts/2024-03-16-new.md"]
    assert len(result.skipped) == 12


def test_a_changed_config_uploads_every_post_again(pipeline: LocalPipeline, site: Path) -> None:
    # GIVEN an imported site whose _config.yml then changes
    bucket = pipeline.stack.posts_bucket
    import_site(pipeline.s3, bucket, site, progress=False)
    pipeline.settle()
    config = site / "_config.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("finews.example.com", "news.example.net"))
    notes: list[str] = []
    # WHEN imported again
    result = import_site(pipeline.s3, bucket, site, progress=False, on_note=notes.append)
    pipeline.settle()
    # THEN every post is uploaded again, so the pipeline parses each with the new settings
    assert result.config == "uploaded"
    assert len(result.uploaded) == 13
    assert any("every post" in note for note in notes)
    published = pipeline.table.get_post("_posts/2024-03-11-202403110931050001.md")
    assert published is not None
    assert published["entry"]["absolute_url"].startswith("https://news.example.net/")


def test_failed_uploads_are_collected_and_the_rest_goes_on(pipeline: LocalPipeline, site: Path) -> None:
    # GIVEN S3 refusing one key
    bad = "_posts/2024-03-12-NW202403121205330004.md"

    def refuse(params: dict[str, Any], **_: Any) -> None:
        if params["Key"] == bad:
            raise ConnectionError("connection reset")

    pipeline.s3.meta.events.register("before-parameter-build.s3.PutObject", refuse)
    # WHEN the site is imported
    result = import_site(pipeline.s3, pipeline.stack.posts_bucket, site, progress=False)
    # THEN the failure is listed and every other post is uploaded
    assert not result.ok
    assert result.failed == [(bad, "ConnectionError: connection reset")]
    assert len(result.uploaded) == 12
    summary = "\n".join(format_import_summary(result, bucket="b", site_dir=site))
    assert f"failed {bad}: ConnectionError" in summary


def test_a_folder_without_posts_is_refused(pipeline: LocalPipeline, tmp_path: Path) -> None:
    with pytest.raises(RunError, match="no _posts/"):
        import_site(pipeline.s3, pipeline.stack.posts_bucket, tmp_path, progress=False)
