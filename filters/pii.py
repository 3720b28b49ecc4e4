"""PII redaction: e-mail and IP addresses replaced by fixed placeholders (datatrove's PIIFormatter rules).

The matching is datatrove's (``datatrove.pipeline.formatters.pii``, as FineWeb ran it): its e-mail and
IPv4 regular expressions, its :class:`PIIReplacer` and its ``public_ip_validator`` (by default only
globally routable addresses are personal data; ``192.168.1.100``, ``10.0.0.1`` or ``127.0.0.1`` are
kept). Four changes, each for a false positive or a gap found on real pages:

* IPv4 matches must stand alone: datatrove's pattern has no boundaries, so ``1.2.3.4.5`` (a version)
  or ``v2.4.6.8`` gave a public "address"; here a match may not touch a letter, digit or ``.digit``,
  nor follow "version ", "build: ", "section ", "§" and the like.
* E-mail matches whose top-level domain is all digits (``react@18.2.0``, a comment's
  ``Anonymous@12.15``) or an image suffix (``logo@2x.png``) are kept: no such domain exists.
* IPv6, which datatrove does not handle: colon-separated hex candidates, then ``ipaddress`` decides,
  so times (``17:47:00``), ``::`` separators and MAC addresses stay; public means global unicast
  (2000::/3, where every routed address is), so ``dead::beef`` stays too.
* Fixed placeholders instead of datatrove's rotating lists, whose position depends on how many
  documents a worker saw before (so the output would change with the number of workers):
  ``email@example.com`` (datatrove's first), ``192.0.2.1`` (RFC 5737) and ``2001:db8::1`` (RFC 3849).
  The IP placeholders are documentation addresses, never global, so a second pass leaves them alone.
"""

from __future__ import annotations

import ipaddress
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from datatrove.pipeline.formatters.pii import PIIFormatter, PIIReplacer, public_ip_validator

from pipeline.document import Document
from pipeline.registry import register
from pipeline.stage import Mapper

__all__ = ["PiiRedactor"]

# Domains that are really file names ("logo@2x.png", retina image names).
_FILE_SUFFIXES = frozenset({"png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico", "tif", "tiff", "avif"})

# Colon-separated hex groups, optionally ending in dotted IPv4 (::ffff:8.8.8.8); ipaddress validates.
_IPV6 = r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{0,4})(?![\w:]|\.\d)"


# "version 2.4.6.8", "Build: 10.0.1.2", "section 3.1.4.1": four-part numbers that would be public
# addresses. Python's lookbehinds are fixed-width, hence one per keyword and separator.
_NOT_A_VERSION = (
    "".join(
        rf"(?<!\b(?i:{word}){sep})"
        for word in ("version", "ver.", "v", "release", "build", "firmware", "update", "section", "chapter")
        for sep in (" ", ": ")
    )
    + r"(?<!§)(?<!§ )"
)

# Cheap searches that rule a kind out before its full pattern runs (most documents hold no PII).
_GATES = {
    "email": re.compile("@"),
    "ipv4": re.compile(r"\d\.\d{1,3}\.\d{1,3}\.\d"),
    "ipv6": re.compile(r"[0-9A-Fa-f:]:[0-9A-Fa-f:]"),
}

# IANA allocates global unicast IPv6 from 2000::/3 only; "dead::beef" parses and counts as global.
_GLOBAL_UNICAST_V6 = ipaddress.ip_network("2000::/3")


class _Counting:
    """A datatrove validator that also counts the matches it accepts (PIIReplacer cannot count)."""

    def __init__(self, accept: Callable[[str], bool]) -> None:
        self.accept = accept
        self.count = 0

    def __call__(self, match: str) -> bool:
        ok = self.accept(match)
        self.count += ok
        return ok


def _plausible_email(match: str, placeholder: str) -> bool:
    if match == placeholder:  # already redacted: a second pass changes and counts nothing
        return False
    tld = match.rsplit(".", 1)[-1].rstrip("]").lower()
    return not tld.isdigit() and tld not in _FILE_SUFFIXES


def _ip_validator(version: int, public_only: bool) -> Callable[[str], bool]:
    def accept(match: str) -> bool:
        try:
            address = ipaddress.ip_address(match)
        except ValueError:
            return False
        if address.version != version:
            return False
        if public_only and version == 6 and address not in _GLOBAL_UNICAST_V6:
            return False
        return public_ip_validator(match, public_only=public_only)

    return accept


@register
class PiiRedactor(Mapper):
    """Replaces e-mail addresses and IP addresses (IPv4, IPv6) with fixed placeholders.

    ``only_remove_public_ips`` (datatrove's default, FineWeb's setting) keeps private, loopback,
    link-local and documentation addresses, which identify nobody. ``scores["<label>_redactions"]``
    (``pii_redactions`` by default) counts the replacements in the document, 0.0 when there are none.
    """

    name = "pii"

    def __init__(
        self,
        remove_emails: bool = True,
        remove_ips: bool = True,
        only_remove_public_ips: bool = True,
        email_replacement: str = "email@example.com",
        ipv4_replacement: str = "192.0.2.1",
        ipv6_replacement: str = "2001:db8::1",
    ) -> None:
        super().__init__()
        self.remove_emails = remove_emails
        self.remove_ips = remove_ips
        self.only_remove_public_ips = only_remove_public_ips
        self.email_replacement = email_replacement
        self.ipv4_replacement = ipv4_replacement
        self.ipv6_replacement = ipv6_replacement
        self._replacers: list[tuple[str, PIIReplacer, _Counting]] | None = None

    def setup(self) -> None:
        # datatrove's own patterns, taken from its formatter so they follow its releases.
        reference = PIIFormatter(remove_emails=True, remove_ips=True)
        email_pattern = reference.emails_replacer.regex.pattern
        ipv4_pattern = rf"(?<![\w.]){_NOT_A_VERSION}(?:{reference.ip_replacer.regex.pattern})(?![\w]|\.\d)"
        public = self.only_remove_public_ips
        kinds: list[tuple[str, str, str, Callable[[str], bool]]] = []
        if self.remove_emails:
            email_ok = lambda m: _plausible_email(m, self.email_replacement)  # noqa: E731
            kinds.append(("email", email_pattern, self.email_replacement, email_ok))
        if self.remove_ips:
            kinds.append(("ipv4", ipv4_pattern, self.ipv4_replacement, _ip_validator(4, public)))
            kinds.append(("ipv6", _IPV6, self.ipv6_replacement, _ip_validator(6, public)))
        self._replacers = []
        for kind, pattern, replacement, accept in kinds:
            counter = _Counting(accept)
            self._replacers.append((kind, PIIReplacer(pattern, replacement, counter), counter))

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_replacers"] = None
        state["_ready"] = False
        return state

    def redact(self, text: str) -> tuple[str, Counter[str]]:
        """The text with PII replaced, and the number of replacements per kind (email, ipv4, ipv6)."""
        if self._replacers is None:
            self.setup()
            self._ready = True
        assert self._replacers is not None
        counts: Counter[str] = Counter()
        for kind, replacer, counter in self._replacers:
            if not _GATES[kind].search(text):
                continue
            counter.count = 0
            text = replacer.replace(text)
            if counter.count:
                counts[kind] = counter.count
        return text, counts

    def map(self, doc: Document) -> Document:
        doc.text, counts = self.redact(doc.text)
        doc.scores[f"{self.label}_redactions"] = float(sum(counts.values()))
        return doc
