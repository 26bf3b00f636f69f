"""`postfeed serve` keeps what it acknowledged: uploads keep coming while it is stopped (Ctrl-C with a backlog,
or killed outright), and after a restart on the same state folder every upload that got a 200 is in the feeds,
the site's `_config.yml` is still in force, and later uploads and deletes go through as before."""

from __future__ import annotations

import json
import signal
import threading
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import botocore.exceptions
import feedparser
import pytest

from postfeed_tools.local.aws import free_port
from tests.e2e.test_serve import Served, feeds_bucket, s3_client, start_serve, stop_serve, wait_for
from tests.support import http_get as get

CONFIG = "title: Kept Across Restarts\nurl: https://kept.example\n"


def post(number: int) -> bytes:
    day = (date(2024, 1, 1) + timedelta(days=number)).isoformat()
    return f"---\ntitle: Upload {number}\ndate: {day}\ncategories: [news]\n---\nBody of upload {number}.\n".encode()


def post_key(number: int) -> str:
    return f"_posts/2024-01-01-upload-{number}.md"


@dataclass(eq=False)  # a thread is hashed by identity
class Uploader(threading.Thread):
    """Uploads posts one after another, without retries, until the endpoint stops answering; records what
    each upload got: 200, 503 (with its Retry-After) or no answer."""

    served: Served
    accepted: list[int] = field(default_factory=list)
    refused: list[tuple[int, str]] = field(default_factory=list)  # (number, "503 retry-after N" | "no answer")

    def __post_init__(self) -> None:
        super().__init__(name="uploader", daemon=True)
        self.s3 = s3_client(
            self.served.endpoint, retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=2
        )
        self.done = threading.Event()

    def run(self) -> None:
        number = 0
        try:
            while number < 5000:
                try:
                    self.s3.put_object(Bucket=self.served.bucket, Key=post_key(number), Body=post(number))
                    self.accepted.append(number)
                except botocore.exceptions.ClientError as error:
                    response: Any = error.response
                    status = response["ResponseMetadata"]["HTTPStatusCode"]
                    retry_after = response["ResponseMetadata"]["HTTPHeaders"].get("retry-after")
                    self.refused.append((number, f"{status} retry-after {retry_after}"))
                except (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectionClosedError):
                    self.refused.append((number, "no answer"))
                    return
                number += 1
        finally:
            self.done.set()


def served_titles(served: Served) -> set[str]:
    """Every entry title of every Atom document the feeds server serves (archive pages included)."""
    s3 = s3_client(served.endpoint)
    titles: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=feeds_bucket(s3)):
        for obj in page.get("Contents", []):
            if obj["Key"].endswith(".xml"):
                status, _, body = get(f"{served.feeds}/{obj['Key']}")
                if status == 200:
                    titles |= {entry.title for entry in feedparser.parse(body).entries}
    return titles


def site_feed(served: Served) -> dict[str, Any]:
    status, _, body = get(f"{served.feeds}/feed.json")
    return json.loads(body) if status == 200 else {}


def wait_until_served(served: Served, numbers: list[int]) -> None:
    wanted = {f"Upload {n}" for n in numbers}
    missing: set[str] = set(wanted)

    def all_there() -> bool:
        nonlocal missing
        missing = wanted - served_titles(served)
        return not missing

    try:
        wait_for(all_there, 60, "every acknowledged upload in the feeds")
    except AssertionError:
        raise AssertionError(f"{len(missing)} acknowledged uploads missing: {sorted(missing)[:10]}…") from None


def check_refusals(uploads: Uploader) -> None:
    """Once one upload is refused, every later one is too: 503 with Retry-After, then no answer at all."""
    assert uploads.refused, "no upload was refused"
    first_refused = uploads.refused[0][0]
    assert all(number < first_refused for number in uploads.accepted)
    for _, how in uploads.refused:
        assert how == "no answer" or how.startswith("503 retry-after "), how


@pytest.fixture
def site(tmp_path: Path) -> Path:
    folder = tmp_path / "site"
    (folder / "_posts").mkdir(parents=True)
    (folder / "_config.yml").write_text(CONFIG, encoding="utf-8")
    (folder / "_posts" / "2023-12-31-first.md").write_bytes(post(-1))
    return folder


def test_ctrl_c_with_a_backlog_refuses_new_uploads_drains_and_keeps_everything(tmp_path: Path, site: Path) -> None:
    ports = ["--port", str(free_port()), "--s3-port", str(free_port())]
    state = ["--state", str(tmp_path / "state"), "--quiet"]
    # GIVEN serve with a state folder, a site (config and a post) preloaded, and a slow poller, so uploads queue
    served = start_serve(tmp_path, *ports, *state, "--posts", str(site), "--poll", "30")
    try:
        # WHEN posts are uploaded one after another, and Ctrl-C comes while many are queued, not yet delivered
        uploads = Uploader(served)
        uploads.start()
        wait_for(lambda: len(uploads.accepted) >= 40 or uploads.done.is_set(), 60, "40 uploads")
        served.process.send_signal(signal.SIGINT)
        # THEN it delivers the backlog and exits cleanly, while every upload from then on is refused
        assert served.process.wait(60) == 0, served.text()
        uploads.join(30)
        text = served.text()
        assert "stopping: uploads refused (503)" in text
        assert "backlog not delivered" not in text
        assert "Traceback" not in text
        check_refusals(uploads)
        assert any(how.startswith("503 retry-after 5") for _, how in uploads.refused), uploads.refused[:3]
    finally:
        stop_serve(served.process)

    # WHEN it starts again on the same folder
    again = start_serve(tmp_path, *ports, *state, name="again.out")
    try:
        # THEN it restored the last snapshot, and every acknowledged upload is in the feeds, under the site's config
        assert "(snapshot of " in again.text()
        wait_until_served(again, [*uploads.accepted, -1])
        assert site_feed(again)["title"] == "Kept Across Restarts"
        # AND a new upload and a delete go through (read with the config kept: its url makes the links)
        s3 = s3_client(again.endpoint)
        s3.put_object(Bucket=again.bucket, Key="_posts/2025-01-01-after.md", Body=post(9000))
        s3.delete_object(Bucket=again.bucket, Key=post_key(uploads.accepted[0]))
        wait_for(lambda: "Upload 9000" in served_titles(again), 30, "the new upload")
        wait_for(lambda: f"Upload {uploads.accepted[0]}" not in served_titles(again), 30, "the delete")
        wait_for(lambda: site_feed(again)["items"][0]["title"] == "Upload 9000", 30, "the site feed")
        assert site_feed(again)["items"][0]["url"].startswith("https://kept.example/")
        # WHEN it is then killed (the upload and the delete are likely newer than its last snapshot)
        again.process.send_signal(signal.SIGKILL)
        again.process.wait(10)
    finally:
        stop_serve(again.process)

    # THEN a third start has the upload and not the deleted post, whichever snapshot it finds
    third = start_serve(tmp_path, *ports, *state, name="third.out")
    try:
        wait_until_served(third, [*uploads.accepted[1:], -1, 9000])
        wait_for(lambda: f"Upload {uploads.accepted[0]}" not in served_titles(third), 30, "the delete")
        wait_for(lambda: site_feed(third)["items"][0]["title"] == "Upload 9000", 30, "the site feed")
    finally:
        stop_serve(third.process)


@pytest.mark.parametrize("stop", ["kill -9", "Ctrl-C twice"])
def test_serve_stopped_before_its_backlog_is_delivered_loses_no_acknowledged_upload(
    tmp_path: Path, site: Path, stop: str
) -> None:
    state = ["--state", str(tmp_path / "state"), "--quiet"]
    if stop == "kill -9":
        # GIVEN serve with a state folder, and the site's config uploaded like any post
        served = start_serve(tmp_path, "--port", "0", "--s3-port", "0", *state)
    else:
        # GIVEN serve with a state folder, the site preloaded, and a slow poller, so uploads queue
        served = start_serve(tmp_path, "--port", "0", "--s3-port", "0", *state, "--posts", str(site), "--poll", "30")
    try:
        s3 = s3_client(served.endpoint)
        if stop == "kill -9":
            s3.put_object(Bucket=served.bucket, Key="_config.yml", Body=CONFIG.encode())
            s3.put_object(Bucket=served.bucket, Key="_posts/2023-12-31-first.md", Body=post(-1))
        wait_for(lambda: site_feed(served).get("title") == "Kept Across Restarts", 30, "the config in force")
        # WHEN it is stopped without delivering what is queued (killed outright; or Ctrl-C, and again during the
        # drain), while uploads keep coming
        uploads = Uploader(served)
        uploads.start()
        wait_for(lambda: len(uploads.accepted) >= 30 or uploads.done.is_set(), 60, "30 uploads")
        if stop == "kill -9":
            served.process.send_signal(signal.SIGKILL)
        else:
            served.process.send_signal(signal.SIGINT)
            time.sleep(0.5)  # two signals at once would be one
            served.process.send_signal(signal.SIGINT)
        served.process.wait(30)
        uploads.join(30)
        check_refusals(uploads)
        assert uploads.refused[-1][1] == "no answer"
    finally:
        stop_serve(served.process)

    # WHEN it starts again on the same folder (its ports are new: the feeds are made again for the new address)
    again = start_serve(tmp_path, "--port", "0", "--s3-port", "0", *state, name="again.out")
    try:
        # THEN every acknowledged upload is in the feeds, under the site's config, linking to the new address
        wait_until_served(again, [*uploads.accepted, -1])
        # the newest acknowledged upload leads, unless the upload that got no answer (killed mid-request) was
        # kept too: it is newer, and keeping it loses nothing acknowledged
        unanswered = [number for number, why in uploads.refused if why == "no answer"]
        newest = {f"Upload {number}" for number in [uploads.accepted[-1], *unanswered]}
        wait_for(lambda: site_feed(again).get("items", [{}])[0].get("title") in newest, 60, "the site feed")
        feed = site_feed(again)
        assert feed["title"] == "Kept Across Restarts"
        assert feed["feed_url"].startswith(again.feeds)
        assert feed["items"][0]["url"].startswith("https://kept.example/")
    finally:
        stop_serve(again.process)


def test_a_state_folder_serves_one_serve_and_fresh_empties_only_its_own(tmp_path: Path) -> None:
    from postfeed_tools.local.errors import RunError
    from postfeed_tools.local.state import MARK, StateFolder

    # GIVEN a state folder in use, holding a post
    folder = tmp_path / "state"
    first = StateFolder(folder)
    first.files.write("_posts/a.md", b"---\ntitle: A\n---\n")
    try:
        # THEN a second serve on it stops with a message, --fresh or not, and the post is still there
        for fresh in (False, True):
            with pytest.raises(RunError, match="in use by another postfeed serve"):
                StateFolder(folder, fresh=fresh)
        assert dict(first.files.objects()) == {"_posts/a.md": b"---\ntitle: A\n---\n"}
    finally:
        first.close()
    # WHEN it is free again, --fresh empties it
    emptied = StateFolder(folder, fresh=True)
    assert list(emptied.files.objects()) == []
    emptied.close()
    # AND a folder that is not a state folder is neither used nor emptied, and gets no file of ours
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me", encoding="utf-8")
    for fresh in (False, True):
        with pytest.raises(RunError, match=f"not a postfeed state folder \\(no {MARK}\\)"):
            StateFolder(mine, fresh=fresh)
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
