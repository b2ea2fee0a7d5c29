"""Vendored npm assets: which files of which exact package versions are committed, and their SHA-256.

The site serves Bootstrap Italia (CSS, SVG icon sprite, Titillium Web fonts) from
`server/static/vendor/`, and the browser tests inject axe-core from `tests/vendor/`. They are committed
so a fresh clone needs only Python and git; this script documents where they came from and checks them:

    python -m tools.vendor_assets --check     # every vendored file is present and matches its SHA-256 (offline)
    python -m tools.vendor_assets --fetch     # re-fetch them with `npm pack PACKAGE@VERSION` and verify

`--fetch` uses the npm client (the registry tarball's sha512 integrity is checked by npm itself, and
against `INTEGRITY` below), extracts only the listed files, and refuses any file whose SHA-256 differs
from the pinned one: a new version means editing this table on purpose.
Bootstrap Italia's JS bundle is deliberately not vendored: it embeds video.js, which injects inline
`<style>` elements that the site's Content-Security-Policy (`style-src 'self'`) refuses, and the site needs
only the phone menu toggle, done by `server/static/site.js` (30 lines).
Exit codes: 0 all good, 1 a file is missing or differs, 2 npm unavailable or the fetch failed.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STATIC_VENDOR = ROOT / "server" / "static" / "vendor"
TEST_VENDOR = ROOT / "tests" / "vendor"
_FONT = "dist/fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-"


@dataclass(frozen=True)
class Package:
    """One npm package: exact version, registry integrity, and the files taken (tarball path → (dest, sha256))."""

    name: str
    version: str
    integrity: str
    dest: Path
    files: dict[str, tuple[str, str]]


PACKAGES = (
    Package(
        "bootstrap-italia",
        "2.18.3",
        "sha512-dz4kNtcAYJF4OsWABT9m3CAT3NH5y6OzGG+v/VUGH1LjumIUmlP3GaQ+aHgtv5Vw3B5dS0jbHZiHGSfdu+DffA==",
        STATIC_VENDOR / "bootstrap-italia",
        {
            "dist/css/bootstrap-italia.min.css": (
                "css/bootstrap-italia.min.css",
                "0f5fc9a092cd008eeee34c1e09b8af72ebdee9b8bd26f2eebaa109cc76115ad8",
            ),
            "dist/svg/sprites.svg": (
                "svg/sprites.svg",
                "751f62fc42c824ff15312e2e9267f71256bd3142d9431385ab3759f208d5c55d",
            ),
            "dist/fonts/Titillium_Web/OFL.txt": (
                "fonts/Titillium_Web/OFL.txt",
                "c0562e066174197902a4a10606673d189f067970ef89c6013943b9cf182aadbc",
            ),
            _FONT + "regular.woff2": (
                "fonts/Titillium_Web/titillium-web-regular.woff2",
                "5daca596c9f07f1735ce65a4ae52fd750a32acfa6e241a3fadaea95de354f4d1",
            ),
            _FONT + "italic.woff2": (
                "fonts/Titillium_Web/titillium-web-italic.woff2",
                "fa906b78150737b0228591c83eb8e636cb9b66ba8e744c67762fe1ab8e25c21d",
            ),
            _FONT + "300.woff2": (
                "fonts/Titillium_Web/titillium-web-300.woff2",
                "ce55498632b4ba8d4be7b6b86162d8f28ceef51d63d672d87acaddc23ce50d98",
            ),
            _FONT + "600.woff2": (
                "fonts/Titillium_Web/titillium-web-600.woff2",
                "f00b110dfb2875dcc202f7b685d39705414ab3500b4b13666bc749e17bb670f6",
            ),
            _FONT + "700.woff2": (
                "fonts/Titillium_Web/titillium-web-700.woff2",
                "4d86abb016cadc41c627eba35643998b97dab66ddb1f8435ce7c4b3aeb96cb9c",
            ),
            "LICENSE": ("LICENSE", "4facc589de131a7f717775a4253c98a80b5caed429bc1c199eb7a968511f00ae"),
        },
    ),
    Package(
        "axe-core",
        "4.14.1",
        "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==",
        TEST_VENDOR / "axe-core",
        {
            "axe.min.js": ("axe.min.js", "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"),
            "LICENSE": ("LICENSE", "af175b9d96ee93c21a036152e1b905b0b95304d4ae8c2c921c7609100ba8df7e"),
        },
    ),
)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check(packages: tuple[Package, ...] = PACKAGES) -> list[str]:
    """Problems with the vendored files on disk (missing or a different SHA-256); empty when all match."""
    problems = []
    for pkg in packages:
        for dest, digest in pkg.files.values():
            path = pkg.dest / dest
            if not path.is_file():
                problems.append(f"{pkg.name}@{pkg.version}: {path.relative_to(ROOT)} is missing")
            elif sha256(path.read_bytes()) != digest:
                problems.append(f"{pkg.name}@{pkg.version}: {path.relative_to(ROOT)} differs from the pinned SHA-256")
    return problems


def npm_pack(pkg: Package, workdir: Path) -> bytes:
    """The package tarball, fetched by the npm client (`npm pack name@version`)."""
    out = subprocess.run(
        ["npm", "pack", f"{pkg.name}@{pkg.version}", "--json", "--pack-destination", str(workdir)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    if pkg.integrity not in out.stdout:
        raise RuntimeError(f"{pkg.name}@{pkg.version}: the registry's integrity is not the pinned {pkg.integrity}")
    tgz = next(workdir.glob(f"{pkg.name}-{pkg.version}.tgz"))
    return tgz.read_bytes()


def extract(pkg: Package, tarball: bytes) -> None:
    """Write the listed files of `tarball` to `pkg.dest`, refusing any whose SHA-256 is not the pinned one."""
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
        for src, (dest, digest) in pkg.files.items():
            member = tar.extractfile("package/" + src)
            data = member.read() if member else b""
            if sha256(data) != digest:
                raise RuntimeError(f"{pkg.name}@{pkg.version}: {src} has SHA-256 {sha256(data)}, pinned {digest}")
            target = pkg.dest / dest
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)


def fetch(packages: tuple[Package, ...] = PACKAGES) -> None:
    if shutil.which("npm") is None:
        raise RuntimeError("npm is not installed (apt-get install npm); --check needs no network")
    with tempfile.TemporaryDirectory() as tmp:
        for pkg in packages:
            extract(pkg, npm_pack(pkg, Path(tmp)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vendor_assets", description=__doc__.split("\n\n")[0])
    parser.add_argument("--fetch", action="store_true", help="re-fetch the files with npm pack and verify them")
    parser.add_argument("--check", action="store_true", help="verify the committed files (default)")
    args = parser.parse_args(argv)
    if args.fetch:
        try:
            fetch()
        except (RuntimeError, subprocess.SubprocessError, OSError, StopIteration) as exc:
            print(f"fetch failed: {exc}", file=sys.stderr)
            return 2
    problems = check()
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        total = sum((p.dest / d).stat().st_size for p in PACKAGES for d, _ in p.files.values())
        print(f"{sum(len(p.files) for p in PACKAGES)} vendored files match their pinned SHA-256 ({total} bytes)")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
