"""`parita rollback`: make an earlier kept release current again, as a new release that records the rollback.

The rules (ids, the writer lock, the atomic switch, changelogs, pruning) are in `server/release.py`; this is the
command, plus what a rollback release derives from its data besides store and dumps (the LDES stream).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from scripts import ldes_build
from server.config import Settings
from server.release import release_list, rollback
from server.statements import Statement

EXIT_OK, EXIT_ERROR = 0, 2


def roll_back(settings: Settings, release_id: str | None = None) -> Path:
    """`server.release.rollback`, with the rollback release's own LDES versions (what it removed and restored)."""

    def derive(work: Path, previous: Path | None, quads: list[Statement], created: str) -> None:
        ldes_build.write_stream(work, previous, quads, created, settings.base_uri, settings.ldes_retention_days)

    return rollback(settings, release_id, derive)


def main(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="parita rollback",
        description="Make an earlier release current again: a new release with that release's data, whose "
        "changelog says what the rollback removed and restored.",
    )
    parser.add_argument("release", nargs="?", help="release id (default: the one before the current release)")
    parser.add_argument("--list", action="store_true", help="list the kept releases and exit")
    args = parser.parse_args(argv)
    settings = settings or Settings.from_env()
    if args.list:
        for r in release_list(settings):
            counts = (r["changelog"] or {}).get("triples", {})
            note = f"  rollback onto {r['rollback']['onto']}" if r.get("rollback") else ""
            print(
                f"{'*' if r['current'] else ' '} {r['id']}  {r['triples']} triples  "
                f"+{counts.get('added', '?')} -{counts.get('removed', '?')}{note}"
            )
        return EXIT_OK
    try:
        target = roll_back(settings, args.release)
    except LookupError as error:
        print(f"rollback refused: {error}", file=sys.stderr)
        return EXIT_ERROR
    log = json.loads((target / "changelog.json").read_text())
    print(
        f"current release is now {target.name}, with the data of {log['rollback']['onto']}: "
        f"{log['triples']['removed']} triples removed, {log['triples']['added']} restored"
    )
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
