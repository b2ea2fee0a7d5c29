"""The harvest state `parita harvest` keeps (`build/harvest/state.json`) and what `/-/sources` shows of it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .config import Settings

#: The columns of `/-/sources`, in order: what the state records per source.
COLUMNS = ("url", "last_attempt", "last_success", "status", "triples", "members_applied", "error")


def state_path(settings: Settings) -> Path:
    return settings.build_dir / "harvest" / "state.json"


def read_state(settings: Settings) -> dict[str, Any]:
    """The state, or {} before the first harvest (or when the file is unreadable: it is rewritten whole)."""
    try:
        return dict(json.loads(state_path(settings).read_text()))
    except (FileNotFoundError, ValueError):
        return {}


def rows(settings: Settings) -> list[dict[str, Any]]:
    """One row per source, sorted by id, with only the columns people read (not the pages or entities)."""
    return [
        {"id": k, **{c: v.get(c) for c in COLUMNS}, "fix": v.get("fix")}
        for k, v in sorted(read_state(settings).items())
    ]
