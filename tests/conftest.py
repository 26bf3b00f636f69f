"""Shared test fixtures: paths to the team kit (../shared) and sample events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
KIT = REPO.parent / "shared"
CORPUS = KIT / "corpus"
SEED_DIR = KIT / "seed"
EVENTS = REPO / "events"
CORPORA = ("finews", "jekyll__jekyll", "Gaohaoyang__gaohaoyang.github.io")


def load_event(name: str) -> dict[str, Any]:
    """A sample event from events/, as `sam local invoke -e` would pass it."""
    data: dict[str, Any] = json.loads((EVENTS / name).read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="session")
def seed_bytes() -> bytes:
    """The original sample post (a .txt in the kit; stored as SEED_KEY)."""
    (seed,) = sorted(SEED_DIR.iterdir())
    return seed.read_bytes()


SEED_KEY = "_posts/2022-03-11-202203112305364917.md"
