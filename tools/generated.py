"""Files generated from another and committed (`data/territories.ttl`, `server/terms.py`): the one command
shape that writes such a file, or with `--check` tells whether the committed copy is what its source gives."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from server.config import PROJECT_ROOT


def command(
    prog: str, description: str, output: Path, source: str, render: Callable[[], str], argv: list[str] | None
) -> int:
    """`prog [--output FILE] [--check]`: write `render()` to the output, or compare (exit 1 when it differs)."""
    default = output.relative_to(PROJECT_ROOT) if output.is_relative_to(PROJECT_ROOT) else output
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--output", type=Path, default=output, help=f"where to write (default {default})")
    parser.add_argument("--check", action="store_true", help=f"exit 1 if the file differs from what {source} gives")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        same = args.output.exists() and args.output.read_text(encoding="utf-8") == text
        print(f"{args.output}: {'up to date' if same else f'differs from {source}: regenerate it'}")
        return 0 if same else 1
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0
