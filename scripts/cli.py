"""The `parita` command: one entry point, one subcommand per job."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable
from pathlib import Path

from server.config import Settings

EXIT_USAGE = 2


def _run(module: str) -> Callable[[list[str]], int]:
    """A subcommand whose module is imported only when it runs, so `parita --help` stays fast."""

    def run(argv: list[str]) -> int:
        return int(importlib.import_module(module).main(argv))

    return run


def _tool(module: str) -> Callable[[list[str]], int]:
    """A subcommand run by the checkout's tools/ (not installed: benchmarks, reliability, synthetic data)."""

    def run(argv: list[str]) -> int:
        checkout = Path(__file__).resolve().parent.parent
        if not (checkout / "tools" / "__init__.py").exists():
            print(f"`parita {module.rsplit('.', 1)[-1]}` runs from a source checkout: {checkout}/tools is missing",
                  file=sys.stderr)  # fmt: skip
            return EXIT_USAGE
        if str(checkout) not in sys.path:
            sys.path.insert(0, str(checkout))
        return int(importlib.import_module(module).main(argv))

    return run


def _validate(argv: list[str]) -> int:
    """`parita validate`: RDF files, or the CSV templates as a dry-run ingest (which builds on validate)."""
    from scripts.ingest import check_files
    from scripts.validate import main as validate_main

    return validate_main(argv, check_csv=check_files)


def _serve(argv: list[str], build_first: bool = False) -> int:
    parser = argparse.ArgumentParser(
        prog="parita up" if build_first else "parita serve",
        description="Build the release first, then serve it." if build_first else "Serve the current release.",
    )
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8000)")
    args = parser.parse_args(argv)
    settings = Settings.from_env(host=args.host, port=args.port)
    if build_first:
        from scripts.build import main as build_main

        status = build_main([], settings=settings)
        if status != 0:
            return status
    elif not settings.current_release.exists():
        print(f"no release at {settings.current_release}: run `parita build` first", file=sys.stderr)
        return EXIT_USAGE
    else:
        from server.catalog import harvest_warning

        if warning := harvest_warning(settings):  # `parita up` printed it with the build
            print(warning, file=sys.stderr)
    from server.serve import serve

    serve(settings)
    return 0


COMMANDS: dict[str, tuple[str, Callable[[list[str]], int]]] = {
    "validate": (
        "check RDF files against the shapes (exit 0 valid, 1 violations, 2 unreadable)",
        _validate,
    ),
    "build": ("validate ontology, shapes and data and publish a new release", _run("scripts.build")),
    "ingest": (
        "publish a publisher's CSV (data/templates) or RDF as its named graph (exit 0 published, 1 refused)",
        _run("scripts.ingest"),
    ),
    "reconcile": (
        "list bodies that may duplicate published ones; confirm them as owl:sameAs",
        _run("scripts.reconcile_command"),
    ),
    "harvest": (
        "harvest other publishers' catalogs or event streams into their own graphs (exit 0 ok, 1 a source refused)",
        _run("scripts.harvest"),
    ),
    "rollback": ("make an earlier release current again (atomic switch)", _run("scripts.releases")),
    "synth": ("write deterministic synthetic national data for load tests", _tool("tools.synth")),
    "publish": ("load the current release into a remote SPARQL store, switching atomically", _run("scripts.publish")),
    "bench": ("benchmark parita against its peers on synthetic data; writes BENCHMARKS.md", _tool("tools.bench")),
    "reliability": (
        "start a server on loopback and check it under load, faults and hostile input (writes RELIABILITY.md)",
        _tool("tools.reliability"),
    ),
    "serve": ("serve the current release: SPARQL, linked data, HTML, VoID, DCAT", _serve),
    "up": ("build, then serve (the quick-start command)", lambda argv: _serve(argv, build_first=True)),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(
        prog="parita",
        description="Linked open data publisher for Italy's equal-opportunity public sector.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="commands:\n" + "\n".join(f"  {name:<10} {help_}" for name, (help_, _) in COMMANDS.items()),
    )
    parser.add_argument("command", choices=COMMANDS, metavar="command", help="one of: " + ", ".join(COMMANDS))
    parser.add_argument("args", nargs=argparse.REMAINDER, help="arguments of the command (see `parita COMMAND --help`)")
    if not argv:
        parser.print_help()
        return EXIT_USAGE
    if argv[0] in ("-h", "--help"):
        parser.print_help()
        return 0
    args = parser.parse_args(argv[:1])
    return COMMANDS[args.command][1](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
