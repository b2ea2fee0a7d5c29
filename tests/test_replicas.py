"""tools/replicas.py: two `parita serve` replicas behind Debian's nginx; repeated dereferences are cache HITs."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from server.config import Settings
from tests.locks import machine_lock
from tools import replicas


@pytest.fixture(scope="module")
def nginx() -> str:
    try:
        with machine_lock("apt-get"):  # one apt-get at a time on the machine (xdist workers)
            return replicas.ensure_nginx()
    except (replicas.ReplicaError, OSError) as error:
        pytest.skip(f"NGINX NOT AVAILABLE, replica tests skipped: {error}")


def test_two_replicas_behind_the_cache_answer_repeats_from_it(nginx: str, build_dir: Path) -> None:
    settings = Settings(build_dir=build_dir, sparql_workers=1)
    with replicas.cluster(settings, replicas=2) as c:
        rows = replicas.demo(
            c.url, ("/doc/network/rete-antiviolenza-asti", "/id/network/rete-antiviolenza-asti"), repeats=3
        )
        first = httpx.get(c.url + "/doc/network/rete-antiviolenza-asti", headers={"Accept": "text/turtle"})
        assert first.headers["ETag"] and "public" in first.headers["Cache-Control"]
        # an If-None-Match with the ETag gets 304 through the cache
        again = httpx.get(
            c.url + "/doc/network/rete-antiviolenza-asti",
            headers={"Accept": "text/turtle", "If-None-Match": first.headers["ETag"]},
        )
        assert again.status_code == 304
        procs = list(c.processes)
    for path, _accept, status, _cache, _ in rows:
        assert status == (200 if path.startswith("/doc/") else 303)
    by_key: dict[tuple[str, str], list[str]] = {}
    for path, accept, _, cache, _ in rows:
        by_key.setdefault((path, accept), []).append(cache)
    for key, statuses in by_key.items():
        assert statuses[0] == "MISS" and statuses[1:] == ["HIT", "HIT"], (key, statuses)
    assert len({r[4] for r in rows if r[3] == "MISS"}) == 2  # both replicas answered misses
    assert all(p.poll() is not None for p in procs)  # everything it started is stopped


def test_main_prints_the_table_and_exits_0(nginx: str, build_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = replicas.main(
        ["--path", "/doc/organization/provincia-di-asti", "--repeats", "2"],
        settings=Settings(build_dir=build_dir, sparql_workers=1),
    )
    out = capsys.readouterr().out
    assert code == 0 and "| HIT |" in out and "came from the nginx cache" in out


def test_two_visitors_never_get_each_others_language_through_the_cache(nginx: str, build_dir: Path) -> None:
    """The README's nginx set-up: a visitor who chose English with the switch (cookie) and one who did not,
    asking for the same pages in turn, each always gets their own language."""
    settings = Settings(build_dir=build_dir, sparql_workers=1)
    headers = {"Accept": "text/html", "Accept-Language": "it"}
    with (
        replicas.cluster(settings, replicas=2) as c,
        httpx.Client(base_url=c.url, headers=headers) as english,
        httpx.Client(base_url=c.url, headers=headers) as italian,
    ):
        switched = english.get("/?lang=en")  # the language switch: sets the cookie
        assert switched.status_code == 200 and 'lang="en"' in switched.text
        assert english.cookies.get("lang") == "en"
        for path in ("/", "/doc/network/rete-antiviolenza-asti", "/-/search?q=asti", "/", "/sparql"):
            for _ in range(2):  # the second round could come from the cache
                for client, lang in ((italian, "it"), (english, "en")):
                    page = client.get(path, follow_redirects=True)
                    assert page.status_code == 200, (path, page.status_code)
                    assert f'<html lang="{lang}"' in page.text, (path, lang, page.headers.get("x-cache-status"))
