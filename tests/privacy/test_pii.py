"""The PII scrubber on every type, on look-alikes that must stay, and on Arrow tables."""

from __future__ import annotations

import pyarrow as pa
import pytest
from stdnum import luhn

from shelfwise.privacy.pii import PII_TYPES, PiiScrubber, scrub, scrub_table


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [
        ("write to {} today", "maria.rossi+shop@mail.example-shop.de", "EMAIL"),
        ("write to {}.", "j_chen42@yahoo.co.uk", "EMAIL"),
        ("call {} now", "(415) 555-2671", "PHONE"),
        ("call {} now", "+44 20 7946 0958", "PHONE"),
        ("call {} now", "+49 30 90182033", "PHONE"),
        ("call {} now", "+33 1 42 68 53 00", "PHONE"),
        ("call {} now", "+81 3-3224-5000", "PHONE"),
        ("paid with {} ok", "4111 1111 1111 1111", "CARD"),
        ("paid with {} ok", "5555-5555-5555-4444", "CARD"),
        ("paid with {} ok", "3782 822463 10005", "CARD"),
        ("paid with {} ok", "6011111111111117", "CARD"),
        ("paid with {} ok", "3530111333300000", "CARD"),
        ("refund to {} please", "GB82 WEST 1234 5698 7654 32", "IBAN"),
        ("refund to {} please", "DE89370400440532013000", "IBAN"),
        ("my ssn {} leaked", "536-22-1234", "NATIONAL_ID"),
        ("my nino {} leaked", "AB 12 34 56 C", "NATIONAL_ID"),
        ("steuer-id {} leaked", "36574261809", "NATIONAL_ID"),
        ("nir {} leaked", "2 95 10 99 126 111 93", "NATIONAL_ID"),
        ("ship to {} asap", "1600 Pennsylvania Avenue NW, Washington, DC 20500", "ADDRESS"),
        ("ship to {} asap", "221B Baker Street, London NW1 6XE", "ADDRESS"),
        ("ship to {} asap", "42 Maple Dr, Apt 7", "ADDRESS"),
        ("ship to {} asap", "Hauptstrasse 5, 10115 Berlin", "ADDRESS"),
    ],
)
def test_each_type_is_replaced_by_its_placeholder(text: str, value: str, kind: str) -> None:
    source = text.format(value)
    out = scrub(source)
    assert out.text == text.format(f"[{kind}]")
    assert out.counts == {kind: 1}
    (span,) = out.spans
    assert source[span.start : span.end] == value


@pytest.mark.parametrize(
    "text",
    [
        "Order #112-3456789-1234567 arrived late",  # Amazon order number
        "It cost $12.99, or £1,299.00 for the big one",  # prices
        "Same as ASIN B00XYZ1234 but cheaper",  # ASIN
        "Delivered 12/05/2019, bought 2019-03-14",  # dates
        "The HD-2000 and the XPS 9310 and Model 1875A",  # model numbers
        "SKU 44-120-88 on the box, UPC 036000291452",  # product codes
        "gift card 4111 1111 1111 1112 did not work",  # Luhn fails
        "serial 4111111111111112",  # Luhn fails, contiguous
        "lot 000-12-3456 and 666-12-3456",  # SSN area never issued
        "tracking 1Z999AA10123456784",  # parcel tracking number
        "I bought 2 Large Bottles Way too much",  # number + capitals + 'Way' without a locality
        "Got the 12 Pack, 16 oz size",
        "rated 5 stars, size 10.5, 3 times a day",
        "version 1.2.3.4 and ip-like 10.0.0.1",
    ],
)
def test_look_alikes_are_left_alone(text: str) -> None:
    out = scrub(text)
    assert out.text == text, out.spans
    assert out.counts == {}


def test_luhn_decides_between_card_and_no_card() -> None:
    body = "453201511283036"
    good = body + luhn.calc_check_digit(body)
    bad = body + str((int(luhn.calc_check_digit(body)) + 1) % 10)
    assert scrub(f"card {good}").counts == {"CARD": 1}
    assert scrub(f"card {bad}").counts == {}


def test_overlaps_keep_the_stronger_type_and_counts_add_up() -> None:
    text = "a@b.co, +1 202-555-0143, 202-555-0143 and 4111111111111111; also x@y.org"
    out = scrub(text)
    assert out.counts == {"EMAIL": 2, "CARD": 1, "PHONE": 2}
    assert out.text == "[EMAIL], [PHONE], [PHONE] and [CARD]; also [EMAIL]"


def test_types_and_regions_are_checked_and_selectable() -> None:
    with pytest.raises(ValueError, match="unknown PII type"):
        PiiScrubber(types=["SHOE_SIZE"])
    with pytest.raises(ValueError, match="unknown phone region"):
        PiiScrubber(regions=["XX"])
    only_mail = PiiScrubber(types=["EMAIL"])
    assert only_mail.scrub("a@b.co 4111111111111111").text == "[EMAIL] 4111111111111111"
    uk = PiiScrubber(regions=["US", "GB"])
    assert scrub("ring 020 7946 0958").counts == {}  # UK national format needs the GB region
    assert uk.scrub("ring 020 7946 0958").counts == {"PHONE": 1}
    assert PiiScrubber(placeholder="<{type}>").scrub("a@b.co").text == "<EMAIL>"
    assert set(PII_TYPES) == {"EMAIL", "IBAN", "CARD", "NATIONAL_ID", "PHONE", "ADDRESS"}


def test_empty_and_plain_text() -> None:
    assert scrub("").text == ""
    assert scrub("Lovely scent, 5 stars!").counts == {}


def test_scrub_table_replaces_only_named_string_columns() -> None:
    table = pa.table(
        {
            "review": ["mail me: a.b@example.com", None, "fine product"],
            "query": ["call +44 20 7946 0958", "red lipstick", "4111 1111 1111 1111"],
            "item_id": ["jo@example.com", "2", "3"],  # not named: must stay
            "rating": [5, 4, 3],
        }
    )
    out, counts = scrub_table(table, ["review", "query", "attributes"])
    assert out.column_names == table.column_names
    assert out.column("review").to_pylist() == ["mail me: [EMAIL]", None, "fine product"]
    assert out.column("query").to_pylist() == ["call [PHONE]", "red lipstick", "[CARD]"]
    assert out.column("item_id").to_pylist() == ["jo@example.com", "2", "3"]
    assert counts["total"] == {"EMAIL": 1, "PHONE": 1, "CARD": 1}
    assert counts["columns"]["query"] == {"PHONE": 1, "CARD": 1}
    assert counts["values_changed"] == 3
    with pytest.raises(TypeError, match="rating"):
        scrub_table(table, ["rating"])
