"""Prometheus counters and a latency histogram, kept in process and rendered as text exposition format.
https://prometheus.io/docs/instrumenting/exposition_formats/
"""

from __future__ import annotations

import bisect
import gc
from collections import Counter
from dataclasses import dataclass, field

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


@dataclass
class Metrics:
    """Request counts by route group and status, request latency, conditional-request (304) hits."""

    requests: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    latency_buckets: list[int] = field(default_factory=lambda: [0] * len(BUCKETS))
    latency_sum: float = 0.0
    latency_count: int = 0
    cache_hits: int = 0

    def observe(self, method: str, group: str, status: int, seconds: float) -> None:
        self.requests[(method, group, status)] += 1
        if status == 304:
            self.cache_hits += 1
        i = bisect.bisect_left(BUCKETS, seconds)
        if i < len(BUCKETS):
            self.latency_buckets[i] += 1
        self.latency_sum += seconds
        self.latency_count += 1

    def render(self, extra: dict[str, tuple[str, str, float]]) -> str:
        """The exposition text; `extra` maps metric name → (type, help, value)."""
        lines = [
            "# HELP parita_http_requests_total HTTP requests by method, route group and status.",
            "# TYPE parita_http_requests_total counter",
        ]
        for (method, group, status), n in sorted(self.requests.items()):
            lines.append(f'parita_http_requests_total{{method="{method}",route="{group}",status="{status}"}} {n}')
        lines += [
            "# HELP parita_http_request_duration_seconds Time to answer an HTTP request.",
            "# TYPE parita_http_request_duration_seconds histogram",
        ]
        running = 0
        for bound, n in zip(BUCKETS, self.latency_buckets, strict=False):
            running += n
            lines.append(f'parita_http_request_duration_seconds_bucket{{le="{bound}"}} {running}')
        lines.append(f'parita_http_request_duration_seconds_bucket{{le="+Inf"}} {self.latency_count}')
        lines.append(f"parita_http_request_duration_seconds_sum {self.latency_sum:.6f}")
        lines.append(f"parita_http_request_duration_seconds_count {self.latency_count}")
        extra = {
            "parita_http_cache_hits_total": (
                "counter",
                "Conditional requests answered 304 Not Modified.",
                float(self.cache_hits),
            ),
            "parita_gc_frozen_objects": (
                "gauge",
                "Objects built at startup, kept out of garbage collections.",
                float(gc.get_freeze_count()),
            ),
            "parita_gc_full_collections_total": (
                "counter",
                "Full (generation 2) garbage collections.",
                float(gc.get_stats()[2]["collections"]),
            ),
            **extra,
        }
        for name, (kind, help_text, value) in extra.items():
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", f"{name} {value:g}"]
        return "\n".join(lines) + "\n"


def route_group(path: str) -> str:
    """A low-cardinality label for a path."""
    first = path.strip("/").split("/", 1)[0] or "home"
    known = {
        "sparql",
        "id",
        "doc",
        "graph",
        "ontology",
        "shapes",
        "catalog",
        ".well-known",
        "dumps",
        "static",
        "-",
        "health",
        "metrics",
        "sitemap.xml",
        "robots.txt",
    }
    base = first.split(".", 1)[0] if first.startswith(("ontology.", "shapes.", "catalog.")) else first
    return base if base in known else "other"
