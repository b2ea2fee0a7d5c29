"""Every third-party module the runtime imports is a declared runtime dependency.

The quick start installs `pip install -e .` without the test extra; a module imported by the
server or the everyday commands but declared only for tests breaks `parita up` on a fresh machine
(it happened once: httpx, imported by the remote-store backend).
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from server.config import PROJECT_ROOT

# Commands documented as needing the test extra (README): they may import test-only packages.
NEEDS_TEST_EXTRA = re.compile(r"scripts/(reliability.*|bench|sparql_variants)\.py$")
LOCAL = {"server", "scripts", "tests"}


def runtime_dependencies() -> set[str]:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    return {re.split(r"[<>=!~\[ ;]", spec, maxsplit=1)[0].lower().replace("_", "-") for spec in project["dependencies"]}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_runtime_imports_are_runtime_dependencies() -> None:
    declared = runtime_dependencies()
    distributions = packages_distributions()
    missing = []
    for path in sorted([*PROJECT_ROOT.glob("server/**/*.py"), *PROJECT_ROOT.glob("scripts/*.py")]):
        if NEEDS_TEST_EXTRA.search(path.as_posix()):
            continue
        for module in imported_modules(path) - LOCAL - set(sys.stdlib_module_names):
            dists = {d.lower().replace("_", "-") for d in distributions.get(module, [module])}
            # a module provided by a declared package's own dependency (starlette via fastapi) is fine too
            if not dists & declared and not dists & {"starlette", "pydantic", "anyio", "typing-extensions"}:
                missing.append(f"{path.relative_to(PROJECT_ROOT)} imports {module} ({', '.join(sorted(dists))})")
    assert not missing, "\n".join(missing)


def loaded_after(statement: str) -> set[str]:
    """Top-level modules a fresh interpreter holds after running `statement`."""
    import subprocess

    code = f"{statement}\nimport sys\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120, check=True
    )
    return set(done.stdout.split())


def test_serving_does_not_load_the_validation_stack() -> None:
    # Memory is a target (issue 4): rdflib + pySHACL + csvw cost every server process ~30 MB and serve nothing;
    # they are loaded only by the commands that validate (build, ingest, a submission).
    assert not loaded_after("import server.app") & {"rdflib", "pyshacl", "csvw"}


def test_sparql_workers_load_only_the_query_engine() -> None:
    # Each SPARQL worker is a process of its own: the web stack would cost ~10 MB per worker.
    assert not loaded_after("import server.worker_process") & {
        "fastapi",
        "starlette",
        "httpx",
        "jinja2",
        "rdflib",
        "asyncio",
    }
