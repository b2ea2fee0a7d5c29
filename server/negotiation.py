"""Proactive content negotiation (RFC 9110 §12.5.1) as a pure function; no web framework here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .errors import BadRequest, NotAcceptable
from .formats import Format, by_name

_RFC = "https://www.rfc-editor.org/rfc/rfc9110#section-12.5.1"


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    q: float

    def specificity(self, media_type: str) -> int:
        """3 exact, 2 type/*, 1 */*, 0 no match."""
        t, _, s = media_type.partition("/")
        if self.type == "*" and self.subtype == "*":
            return 1
        if self.type == t and self.subtype == "*":
            return 2
        if self.type == t and self.subtype == s:
            return 3
        return 0


def parse_accept(header: str) -> list[MediaRange]:
    """Parse an Accept header; a malformed media range or q-value is a BadRequest, except a bare `*`, which
    is read as `*/*` as common servers do (Java's HttpURLConnection sends `*; q=.2` by default)."""
    ranges = []
    for part in header.split(","):
        if not part.strip():
            continue
        media, *params = (p.strip() for p in part.split(";"))
        t, slash, s = ("*/*" if media == "*" else media.lower()).partition("/")
        if not slash or not t or not s or (t == "*" and s != "*"):
            raise BadRequest(f"Malformed media range {media!r} in the Accept header.", link=_RFC)
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                q = _q_value(value.strip())
        ranges.append(MediaRange(t, s, q))
    return ranges


def _q_value(value: str) -> float:
    try:
        q = float(value)
    except ValueError:
        raise BadRequest(f"Malformed q-value {value!r} in the Accept header.", link=_RFC) from None
    if not 0.0 <= q <= 1.0:
        raise BadRequest(f"q-value {value!r} out of range 0..1 in the Accept header.", link=_RFC)
    return q


def quality(ranges: Sequence[MediaRange], fmt: Format) -> tuple[float, int]:
    """The client's q for `fmt` and the specificity of the range that gave it (its most specific matching
    range wins: 3 named exactly, 2 type/*, 1 */*, 0 not acceptable)."""
    best_spec, best_q = 0, 0.0
    for media_type in (fmt.media_type, *(a for a in fmt.aliases if "/" in a)):
        for r in ranges:
            spec = r.specificity(media_type)
            if media_type != fmt.media_type and spec < 3:
                continue  # an alias (application/json …) counts only when named exactly, never via a wildcard
            if spec > best_spec or (spec == best_spec and spec and r.q > best_q):
                best_spec, best_q = spec, r.q
    return best_q, best_spec


def negotiate(accept: str | None, offered: Sequence[Format]) -> Format:
    """The best offered format for `accept`; no header (or an empty one) means the first offered.
    The client's q decides; at equal q a type the client named beats one reached through a wildcard
    (`application/rdf+xml, */*` asks for RDF/XML); then the server's qs, then the order offered."""
    if not accept or not accept.strip():
        return offered[0]
    ranges = parse_accept(accept)
    scored = [(*quality(ranges, f), f.qs, -i, f) for i, f in enumerate(offered)]
    q, *_, best = max(scored, key=lambda x: x[:4])
    if q <= 0:
        raise NotAcceptable(
            f"None of the media types in Accept: {accept!r} is offered here. Offered: {offered_list(offered)}.",
            link=_RFC,
        )
    return best


def negotiate_or_first(accept: str | None, offered: Sequence[Format]) -> Format:
    """`negotiate`, for answers that go out whatever the client accepts (errors, reports): a malformed or
    unsatisfiable Accept gets the first offered."""
    try:
        return negotiate(accept, offered)
    except (BadRequest, NotAcceptable):
        return offered[0]


def choose(accept: str | None, format_param: str | None, offered: Sequence[Format]) -> Format:
    """A `format=` parameter (name, extension or media type) wins over Accept."""
    if format_param:
        fmt = by_name(format_param, tuple(offered))
        if fmt is None:
            raise NotAcceptable(f"format={format_param!r} is not offered here. Offered: {offered_list(offered)}.")
        return fmt
    return negotiate(accept, offered)


def offered_list(offered: Sequence[Format]) -> str:
    return ", ".join(f"{f.media_type} (format={f.name})" for f in offered)
