"""PII redaction on real text: the e-mail addresses of real pages, the server addresses of real WARCs.

Pages come from the bench WARC (../shared/testdata/bench-warc); the IPv4 addresses are the
WARC-IP-Address headers of the real Common Crawl and wget WARCs in the shared test data; the IPv6
addresses are public DNS resolvers as their operators publish them (no page in the test data has one).
"""

from __future__ import annotations

import gzip
import pickle
import re

import pytest
from datatrove.pipeline.formatters.pii import PIIFormatter

from extractors.html import HtmlExtractor
from extractors.warc import WarcReader
from filters.pii import PiiRedactor
from pipeline.document import Document
from pipeline.registry import build_stage
from tests.conftest import DOLMA, TESTDATA, WARCFILE, make_doc

BENCH_WARC = TESTDATA / "bench-warc" / "bench.warc.gz"

# Pages with e-mail addresses, and pages full of times, dates, phone numbers and "::" separators.
EMAIL_PAGES = {
    "https://www.axios.com/newsletters/axios-future-7120a6cf-cf67-4e01-9f15-f73f114e8d27.html": [
        "steve@axios.com",
        "kaveh@axios.com",
        "erica@axios.com",
    ],
    "https://extraction-cleanportaleval.example/washingtonpost.com_blog1_7": [
        "postnow@washpost.com",
        "metro@washpost.com",
        "national@washpost.com",
        "business@washpost.com",
        "sports@washpost.com",
        "foreign@washpost.com",
        "style@washpost.com",
        "newsobits@washpost.com",
        "bookworld@washpost.com",
        "food@washpost.com",
        "health-science@washpost.com",
        "travel@washpost.com",
    ],
    # A blog's comments: one real address, and "Anonymous@12.15." (a reply to a comment time).
    "https://extraction-cleaneval-dev.example/57": ["landis@ou.edu"],
    # "admin:1234@192.168.1.100": credentials on a LAN address, no e-mail and no public IP.
    "https://www.antary.de/2017/06/29/wireshark-besuchte-urls-anzeigen-http-und-https/": [],
}
NO_PII_PAGES = [
    "https://extraction-cleaneval-dev.example/42",  # "Nov 23, 2004 2:33:34 PM"
    "https://extraction-mozilla-readability.example/toc-missing",  # "2020-08-01 17:47:00+00", decimals
    "https://www.doschu.com/2020/02/solopreneur-social-media-linkedin/",  # ":: Hallo" separators
    "https://world.kbs.co.kr/service/news_view.htm?lang=e&Seq_Code=181595",  # "2023-11-07 15:03:30"
]
IPV6_RESOLVERS = ["2001:4860:4860::8888", "2606:4700:4700::1111", "2620:fe::fe"]


@pytest.fixture(scope="module")
def pages() -> dict[str, str]:
    wanted = set(EMAIL_PAGES) | set(NO_PII_PAGES)
    docs = [d for d in WarcReader().read(str(BENCH_WARC)) if isinstance(d, Document) and d.url in wanted]
    extractor = HtmlExtractor(engine="resiliparse", isolate=False, math=False, code=False, structure=False)
    found = {d.url: d.text for d in extractor.run(docs).kept}
    assert set(found) == wanted
    return found


@pytest.fixture(scope="module")
def warc_ips() -> list[str]:
    """Public server addresses from the WARC-IP-Address headers of real crawls."""
    ips: set[str] = set()
    for path in [WARCFILE, *DOLMA]:
        with gzip.open(path, "rb") as fh:
            ips.update(m.decode() for m in re.findall(rb"WARC-IP-Address: ([0-9.]+)", fh.read()))
    assert len(ips) >= 20
    return sorted(ips)


def _run(stage: PiiRedactor, text: str) -> Document:
    doc = make_doc(text)
    outcome = stage.run([doc])
    assert outcome.kept == [doc]
    return doc


def test_real_email_addresses_are_redacted(pages: dict[str, str]) -> None:
    stage = PiiRedactor()
    for url, addresses in EMAIL_PAGES.items():
        original = pages[url]
        doc = _run(stage, original)
        for address in addresses:
            assert address in original and address not in doc.text
        expected = sum(original.count(a) for a in addresses)
        assert doc.scores["pii_redactions"] == expected
        assert doc.text.count("email@example.com") == expected
    assert "Anonymous@12.15" in _run(stage, pages["https://extraction-cleaneval-dev.example/57"]).text
    lan = _run(
        stage, pages["https://www.antary.de/2017/06/29/wireshark-besuchte-urls-anzeigen-http-und-https/"]
    )
    assert "admin:1234@192.168.1.100" in lan.text


def test_pages_without_pii_are_unchanged(pages: dict[str, str]) -> None:
    stage = PiiRedactor()
    for url in NO_PII_PAGES:
        doc = _run(stage, pages[url])
        assert doc.text == pages[url], url
        assert doc.scores["pii_redactions"] == 0.0


def test_real_server_addresses_are_redacted(pages: dict[str, str], warc_ips: list[str]) -> None:
    page = pages[NO_PII_PAGES[0]]
    sentences = [f"The server answered from {ip}." for ip in warc_ips]
    sentences += [f"Resolver [{ip}]:53 is reachable." for ip in IPV6_RESOLVERS]
    text = page[: len(page) // 2] + "\n" + "\n".join(sentences) + "\n" + page[len(page) // 2 :]
    doc = _run(PiiRedactor(), text)
    assert not any(ip in doc.text for ip in warc_ips + IPV6_RESOLVERS)
    assert doc.text.count("answered from 192.0.2.1.") == len(warc_ips)
    assert doc.text.count("[2001:db8::1]:53") == len(IPV6_RESOLVERS)
    assert doc.scores["pii_redactions"] == len(warc_ips) + len(IPV6_RESOLVERS)
    # Page text around the addresses is untouched.
    assert doc.text.startswith(page[: len(page) // 2]) and doc.text.endswith(page[len(page) // 2 :])


@pytest.mark.parametrize(
    "text",
    [
        "Update to version 2.4.6.8 today; build: 10.0.19041.1 and release 1.2.3.4.5 follow.",
        "See section 3.1.4.1 and § 4.2.2.1 of the standard.",
        "Meeting on 12.03.2021 at 17:47:00, posted 2020-08-01 17:47:00+00.",
        "Price: $1,234.56, € 1.234.567,89, or 1.299,00 EUR; call 202.334.7300.",
        "Install react@18.2.0; the retina logo is logo@2x.png.",
        "Private hosts 192.168.1.100, 10.0.0.1, 127.0.0.1, ::1 and fe80::1 identify nobody.",
        "MAC 00:1A:2B:3C:4D:5E, std::vector<int>, a ratio of 3:2:1 and a dead::beef label.",
        "Already redacted: email@example.com, 192.0.2.1 and 2001:db8::1.",
    ],
)
def test_no_false_positives(text: str) -> None:
    doc = _run(PiiRedactor(), text)
    assert doc.text == text
    assert doc.scores["pii_redactions"] == 0.0


def test_datatrove_rules_where_they_agree() -> None:
    # On a plain address and a plain public IP the result is datatrove's, with the fixed placeholder.
    text = "Write to steve@axios.com or connect to 8.8.8.8 now."
    ours = _run(PiiRedactor(), text).text
    theirs = PIIFormatter(email_replacement="email@example.com", ip_replacement="192.0.2.1").format(text)
    assert ours == theirs == "Write to email@example.com or connect to 192.0.2.1 now."
    # datatrove has no boundaries on IPv4: a five-part version number loses four of its parts there.
    assert PIIFormatter().format("release 1.2.3.4.5") != "release 1.2.3.4.5"


def test_options_labels_and_pickling() -> None:
    text = "Mail steve@axios.com from 8.8.8.8 or 192.168.1.1."
    keep_ips = build_stage({"stage": "pii", "remove_ips": False, "label": "pii_mail"})
    doc = _run(keep_ips, text)
    assert doc.text == "Mail email@example.com from 8.8.8.8 or 192.168.1.1."
    assert doc.scores == {"pii_mail_redactions": 1.0}
    all_ips = PiiRedactor(only_remove_public_ips=False, ipv4_replacement="0.0.0.0")
    assert _run(all_ips, text).text == "Mail email@example.com from 0.0.0.0 or 0.0.0.0."
    stage = PiiRedactor()
    _run(stage, text)
    clone = pickle.loads(pickle.dumps(stage))
    assert clone._replacers is None
    assert _run(clone, text).text == "Mail email@example.com from 192.0.2.1 or 192.168.1.1."


def test_second_pass_changes_nothing(pages: dict[str, str]) -> None:
    stage = PiiRedactor()
    once = _run(stage, pages[next(iter(EMAIL_PAGES))])
    twice = _run(stage, once.text)
    assert twice.text == once.text and twice.scores["pii_redactions"] == 0.0
