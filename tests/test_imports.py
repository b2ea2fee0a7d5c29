"""The import graph of server/, scripts/ and tools/, read with `ast` (imports inside functions count too).

The server is the installed web application: it imports neither the commands (scripts/) nor the checkout's
tooling (tools/); the commands never import the tooling; and no module reaches itself again (a cycle hides
which module owns a concept).
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("server", "scripts", "tools")


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The project modules `name` imports (`from p import m` counts as an edge to p.m when m is a module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        for target in targets:
            while target and target not in known:  # `import server.x.y` depends on the deepest known module
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: imports(name, path, known) for name, path in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_reader_sees_relative_and_function_local_imports() -> None:
    edges = graph()
    assert "server.config" in edges["server.release"]  # `from .config import Settings`
    assert "server.labels" in edges["server.release"]  # `from . import labels`
    assert "scripts.build" in edges["scripts.cli"]  # imported inside a function


@pytest.mark.parametrize(
    ("edges", "expected"),
    [
        ({"a": {"b"}, "b": {"a"}, "c": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"d"}}, [["a", "b", "c"]]),
    ],
)
def test_the_cycle_finder(edges: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert cycles(edges) == expected


def test_no_import_cycles() -> None:
    assert cycles(graph()) == []


def test_the_server_imports_neither_commands_nor_tooling() -> None:
    wrong = sorted(
        f"{a} -> {b}"
        for a, targets in graph().items()
        for b in targets
        if a.startswith("server") and b.startswith(("scripts", "tools"))
    )
    assert wrong == []


def test_the_commands_never_import_the_tooling() -> None:
    """tools/ is not installed: an installed `parita` must not need it (cli loads it by name, from a checkout)."""
    wrong = sorted(
        f"{a} -> {b}"
        for a, targets in graph().items()
        for b in targets
        if a.startswith("scripts") and b.startswith("tools")
    )
    assert wrong == []


def imported_names(name: str, path: Path) -> set[str]:
    """Every `module.name` that `from module import name` brings into `name`'s module (relative ones resolved)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            out.update(f"{base}.{alias.name}" for alias in node.names)
    return out


def test_no_route_imports_another_route() -> None:
    """Routes share helpers through the request layer (server/web.py) and the views (server/views.py), never
    through each other."""
    wrong = sorted(
        f"{a} -> {b}"
        for a, targets in graph().items()
        for b in targets
        if a.startswith("server.routes.") and b.startswith("server.routes.")
    )
    assert wrong == []


@pytest.mark.parametrize("command", ["bench", "reliability", "synth"])
def test_the_thin_commands_load_tools_from_the_checkout(command: str, tmp_path: Path) -> None:
    """`parita bench|reliability|synth` run tools/ (not installed) from the checkout, whatever the cwd."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", f"from scripts.cli import main; raise SystemExit(main(['{command}', '--help']))"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and f"parita {command}" in done.stdout, done.stderr


def test_the_request_layer_and_the_views_import_no_route_and_no_page_drawing() -> None:
    """server/web.py serves every route: it depends on none of them, nor on what one page draws (the
    explorer's shapes reach the templates from `create_app`); the views are what routes call, not the reverse."""
    edges = graph()
    wrong = sorted(
        f"{a} -> {b}"
        for a in ("server.web", "server.views")
        for b in edges[a]
        if b.startswith("server.routes") or b in ("server.app", "server.explorer")
    )
    assert wrong == []


def test_one_render_helper_and_one_error_renderer() -> None:
    """Templates are rendered only by `web.render`, errors shaped only by `web.error_response`: no other module
    imports the template engine or the error bodies."""
    known = modules()
    users = {
        name
        for name, path in known.items()
        if name.startswith("server")
        and any(
            n.startswith("starlette.templating.") or n in ("server.errors.error_body", "server.errors.error_text")
            for n in imported_names(name, path)
        )
    }
    assert users == {"server.web"}
