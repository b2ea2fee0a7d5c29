"""The README stays true: its two commands, CI calling the test command, every setting documented."""

from __future__ import annotations

import re

from scripts.cli import COMMANDS
from server.config import PROJECT_ROOT, settings_help

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


def quick_start_commands() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_quick_start_has_exactly_two_commands() -> None:
    run, test = quick_start_commands()
    assert run.endswith("parita up") and "python3 -m venv .venv" in run
    assert test.endswith(".venv/bin/pytest") and "'.[test,dev]'" in test


def test_ci_runs_the_checks_then_the_readme_test_command() -> None:
    ci = (PROJECT_ROOT / ".ci" / "run").read_text()
    test = ci.index(quick_start_commands()[1] + "\n")
    for check in ("ruff check .", "ruff format --check .", "mypy --strict server scripts"):
        assert -1 < ci.index(check) < test, check


def test_every_setting_is_documented_with_its_default() -> None:
    for variable, default, _ in settings_help():
        assert re.search(rf"\| `{variable}` \| `{re.escape(default)}` \|", README), variable


def test_every_command_is_documented() -> None:
    for name in COMMANDS:
        assert f"`parita {name}" in README, name


def test_the_layout_maps_every_module_and_no_other() -> None:
    """README "Layout" is the module map: each module of server/, scripts/ and tools/ has its row, and every
    module a row names exists (a moved or merged module cannot leave its old name behind)."""
    import fnmatch

    section = README.split("## Layout", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`([\w/*.-]+\.py)`", section))
    modules = {
        path.name
        for package in ("server", "scripts", "tools")
        for path in (PROJECT_ROOT / package).glob("*.py")
        if path.name != "__init__.py"
    }
    unmapped = sorted(m for m in modules if not any(fnmatch.fnmatch(m, n) for n in named if "/" not in n))
    folders = (PROJECT_ROOT, *(PROJECT_ROOT / p for p in ("server", "scripts", "tools")))
    stale = sorted(
        n
        for n in named
        if not (any((f / n).exists() for f in folders) if "/" in n else any(fnmatch.fnmatch(m, n) for m in modules))
    )
    assert (unmapped, stale) == ([], [])
