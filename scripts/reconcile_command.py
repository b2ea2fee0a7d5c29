"""`parita reconcile`: list a publisher's uncertain matches with published bodies; confirm or reject them.

The matching rules are `scripts/reconcile.py`, which ingest applies; a confirmation republishes the
publisher's contribution through ingest, so this command sits above both.
"""

from __future__ import annotations

import argparse
import sys

from scripts.ingest import republish
from scripts.reconcile import EXIT_ERROR, EXIT_INVALID, EXIT_OK, load_decisions, pending, save_decisions
from server.config import Settings


def main(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    parser = argparse.ArgumentParser(prog="parita reconcile", description=__doc__.splitlines()[0].split(": ", 1)[1])
    parser.add_argument("--publisher", required=True, help="publisher ID")
    parser.add_argument(
        "--confirm",
        type=int,
        metavar="N",
        action="append",
        default=[],
        help="confirm candidate N (owl:sameAs, new release)",
    )
    parser.add_argument("--reject", type=int, metavar="N", action="append", default=[], help="reject candidate N")
    args = parser.parse_args(argv)
    settings = settings or Settings.from_env()
    decisions = load_decisions(settings, args.publisher)
    todo = pending(decisions)
    if not args.confirm and not args.reject:
        for n, c in enumerate(todo, start=1):
            print(
                f"{n}. <{c['submitted']}> ({c['label']})\n   = <{c['existing']}> ({c['existing_label']})?\n   {c['reason']}"
            )
        print(f"{len(todo)} candidato/i da confermare / candidate(s) to confirm")
        return EXIT_OK
    try:
        chosen = [todo[n - 1] for n in args.confirm]
        rejected = [todo[n - 1] for n in args.reject]
    except IndexError:
        print(f"no such candidate: there are {len(todo)}", file=sys.stderr)
        return EXIT_ERROR
    decisions["confirmed"] += [[c["submitted"], c["existing"]] for c in chosen]
    decisions["rejected"] += [[c["submitted"], c["existing"]] for c in rejected]
    if chosen:
        report = republish(settings, args.publisher, decisions)
        if not report.ok:
            print(report.text())
            return EXIT_INVALID
        print(f"published {report.release}")
    save_decisions(settings, args.publisher, decisions)
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
