"""PII scrubbing of free text: e-mails, phones, payment cards, IBANs, national ids and street addresses.

:func:`scrub` finds personal data in one text and replaces each span by a typed placeholder; :func:`scrub_table`
does it for string columns of an Arrow table (what ingest calls on search queries, review text and free-form
attributes) and returns the counts per type for the ingest report. Detection, by type:

============ ================================================================================================
type         how a span is found and checked
============ ================================================================================================
EMAIL        a strict pattern: ``local@label(.label)*.tld`` (letters-only TLD of 2-24 characters)
IBAN         country code + check digits + BBAN, validated by ``stdnum.iban`` (ISO 13616 mod-97 and the
             country's length / format)
CARD         13-19 digits, contiguous or in the printed groups (4-4-4-4[-3], Amex 4-6-5, Diners 4-6-4),
             with a card network's issuer prefix (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay,
             Maestro) and a valid Luhn check digit (``stdnum.luhn``)
NATIONAL_ID  US SSN ``ddd-dd-dddd`` (``stdnum.us.ssn``: area / group / serial rules), UK National Insurance
             number (HMRC prefix / suffix rules), German tax id (``stdnum.de.idnr``, 11 digits, ISO 7064
             check), French NIR (``stdnum.fr.nir``, 15 digits with its mod-97 key)
PHONE        ``phonenumbers.PhoneNumberMatcher`` (Google's libphonenumber) at leniency ``VALID``: numbers in
             international format for every country, national format for the ``regions`` given
ADDRESS      house number + one to four capitalised words + a street-type word (Street, Ave, Rd, Strasse
             ...) with an optional unit, city, state and ZIP code (US / UK / CA style); a pattern, because
             no maintained library finds addresses inside running text
============ ================================================================================================

Overlaps are resolved by the order of that table (an e-mail beats a phone number inside it, a valid IBAN beats a
card-like run of its digits, a valid card beats the phone matcher's reading of its digits). Text that only looks like PII stays: order numbers, prices, ASINs,
dates, model numbers and digit runs that fail their check digit are not replaced (``tests/privacy`` checks each).
Precision / recall on a labelled sample: ``benchmarks/bench_pii.py``.

Example:
    >>> r = scrub("Mail jo.doe@example.com or call +44 20 7946 0958; order #112-3456789-1234567")
    >>> r.text
    'Mail [EMAIL] or call [PHONE]; order #112-3456789-1234567'
    >>> r.counts
    {'EMAIL': 1, 'PHONE': 1}
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from shelfwise._optional import require

phonenumbers = require("phonenumbers", "privacy")
std_iban = require("stdnum.iban", "privacy")
luhn = require("stdnum.luhn", "privacy")
de_idnr = require("stdnum.de.idnr", "privacy")
fr_nir = require("stdnum.fr.nir", "privacy")
us_ssn = require("stdnum.us.ssn", "privacy")

__all__ = ["PII_TYPES", "PiiScrubber", "ScrubResult", "Span", "find_pii", "scrub", "scrub_table"]

#: Types in priority order (an earlier type wins an overlap).
PII_TYPES: tuple[str, ...] = ("EMAIL", "IBAN", "CARD", "NATIONAL_ID", "PHONE", "ADDRESS")

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,62}[A-Za-z0-9])?"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])"
)
# digit runs a card is printed as: contiguous, or groups split by one space / dash
_CARD = re.compile(
    r"(?<![\d\w-])(?:\d{13,19}|\d{4}([ -])\d{4}\1\d{4}\1\d{4}(?:\1\d{1,3})?|\d{4}([ -])\d{6}\2\d{4,5})(?![\d\w]|-\d)"
)
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Za-z0-9])")
_SSN = re.compile(r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])")
_NINO = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![A-Za-z0-9])")
_DE_IDNR = re.compile(r"(?<![\d-])\d{2} ?\d{3} ?\d{3} ?\d{3}(?![\d-])")
_FR_NIR = re.compile(r"(?<![\d-])[12] ?\d{2} ?\d{2} ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}(?![\d-])")
_NINO_BAD_PREFIX = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})

# street types that are not also everyday words; the others ("Way", "Place", "Court" ...) count only when a
# city, state + ZIP or postcode follows ("2 Large Bottles Way too much" is not an address)
_STRONG_TYPES = (
    "Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Pl|Ter|Cir|Parkway|Pkwy|Highway|Hwy|"
    "Sq|Trl|Strasse"
)
_WEAK_TYPES = "Way|Place|Terrace|Circle|Square|Trail|Crescent|Close|Grove|Gardens|Row|Mews"
_ADDRESS = re.compile(
    r"(?<![\w#$.,-])\d{1,5}[A-Za-z]?"  # house number (not a price, an id or a model number)
    r"(?: (?:[NSEW]\.?|North|South|East|West))?"
    r"(?: (?:[A-Z][a-z]+|\d{1,3}(?:st|nd|rd|th))){1,4}"  # street name: capitalised words or "5th"
    rf" (?:(?P<strong>{_STRONG_TYPES})|(?P<weak>{_WEAK_TYPES}))\.?(?![A-Za-z])"
    r"(?: (?:NW|NE|SW|SE|N|S|E|W)\.?(?![A-Za-z]))?"
    r"(?:,? (?:Apt|Apartment|Suite|Ste|Unit|Flat|#) ?\.? ?[0-9A-Za-z-]{1,6})?"
    r"(?P<city>, [A-Z][a-z]+(?: [A-Z][a-z]+){0,2})?"
    r"(?P<code>,? (?:[A-Z]{2} \d{5}(?:-\d{4})?|[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}|[A-Z]\d[A-Z] \d[A-Z]\d)(?![\w-]))?"
)
_FOREIGN_STREET = re.compile(  # continental style: "Hauptstrasse 5", "Rue de Rivoli 12" is rare; German first
    r"(?<![\w-])[A-Z][a-zäöü]+(?:strasse|straße|str\.|weg|allee|platz|gasse) \d{1,4}[a-z]?"
    r"(?:, \d{5} [A-Z][a-zäöü]+)?(?![\w-])"
)
_CARD_PREFIXES = re.compile(
    r"^(?:4\d{12}(?:\d{3}){0,2}"  # Visa 13 / 16 / 19
    r"|(?:5[1-5]\d{2}|222[1-9]|22[3-9]\d|2[3-6]\d{2}|27[01]\d|2720)\d{12}"  # Mastercard
    r"|3[47]\d{13}"  # American Express
    r"|3(?:0[0-5]|[68]\d)\d{11,16}"  # Diners Club
    r"|6(?:011|5\d{2}|4[4-9]\d)\d{12,15}"  # Discover
    r"|35(?:2[89]|[3-8]\d)\d{12,15}"  # JCB
    r"|62\d{14,17}"  # UnionPay
    r"|(?:5018|5020|5038|5893|6304|6759|676[1-3])\d{8,15})$"  # Maestro
)
_DIGITS = re.compile(r"\d")
_BARE_LONG_RUN = re.compile(r"\d{11,}")
_ABBREVIATIONS = frozenset(
    ["St", "Ave", "Rd", "Blvd", "Ln", "Dr", "Ct", "Pl", "Ter", "Cir", "Pkwy", "Hwy", "Sq", "Trl"]
)


@dataclass(frozen=True)
class Span:
    """One detected piece of personal data: ``text[start:end]`` is of ``type``."""

    start: int
    end: int
    type: str


@dataclass(frozen=True)
class ScrubResult:
    """A scrubbed text and how many spans of each type were replaced."""

    text: str
    counts: dict[str, int] = field(default_factory=dict)
    spans: tuple[Span, ...] = ()


def _digits(s: str) -> str:
    return "".join(ch for ch in s if ch.isdigit())


def _is_card(raw: str) -> bool:
    d = _digits(raw)
    return bool(_CARD_PREFIXES.match(d)) and luhn.is_valid(d)


def _is_nino(raw: str) -> bool:
    s = raw.replace(" ", "")
    a, b = s[0], s[1]
    return a not in "DFIQUV" and b not in "DFIOQUV" and s[:2] not in _NINO_BAD_PREFIX and s[-1] in "ABCD"


def _address_end(m: re.Match[str]) -> int:
    """End of an address match, leaving out a sentence's full stop after a full street word ("Oak Drive.")."""
    end = m.end()
    if m.group().endswith(".") and m.group().rstrip(".").rsplit(" ", 1)[-1] not in _ABBREVIATIONS:
        end -= 1
    return end


def _is_iban(raw: str) -> bool:
    return bool(std_iban.is_valid(raw))


class PiiScrubber:
    """Finds and replaces PII; holds the detector settings (no state between texts).

    Args:
        types: the types to look for (default all of :data:`PII_TYPES`).
        regions: ISO regions whose *national* phone format is recognised (international ``+cc`` numbers are
            found for every country). Each extra region costs one more pass of the phone matcher.
        placeholder: format of the replacement, given the type (default ``"[{type}]"``).
    """

    def __init__(
        self,
        types: Sequence[str] | None = None,
        regions: Sequence[str] = ("US",),
        placeholder: str = "[{type}]",
    ) -> None:
        chosen = tuple(types) if types is not None else PII_TYPES
        unknown = [t for t in chosen if t not in PII_TYPES]
        if unknown:
            raise ValueError(f"unknown PII type(s) {unknown}; known: {', '.join(PII_TYPES)}")
        for region in regions:
            if region not in phonenumbers.SUPPORTED_REGIONS:
                raise ValueError(f"unknown phone region {region!r} (an ISO 3166 code such as 'US' or 'GB')")
        self.types = chosen
        self.regions = tuple(regions)
        self.placeholder = placeholder

    # ------------------------------------------------------------------ detection

    def find(self, text: str) -> list[Span]:
        """Non-overlapping PII spans of ``text`` in text order."""
        found: list[Span] = []
        has_digit = _DIGITS.search(text) is not None
        if "EMAIL" in self.types and "@" in text:
            found += [Span(m.start(), m.end(), "EMAIL") for m in _EMAIL.finditer(text)]
        if has_digit:
            if "CARD" in self.types:
                found += [
                    Span(m.start(), m.end(), "CARD") for m in _CARD.finditer(text) if _is_card(m.group())
                ]
            if "IBAN" in self.types:
                found += [
                    Span(m.start(), m.end(), "IBAN") for m in _IBAN.finditer(text) if _is_iban(m.group())
                ]
            if "NATIONAL_ID" in self.types:
                found += self._national_ids(text)
            if "PHONE" in self.types and sum(1 for _ in _DIGITS.finditer(text)) >= 6:
                found += self._phones(text)
            if "ADDRESS" in self.types:
                found += [
                    Span(m.start(), _address_end(m), "ADDRESS")
                    for m in _ADDRESS.finditer(text)
                    if m.group("strong") or m.group("city") or m.group("code")
                ]
                found += [Span(m.start(), m.end(), "ADDRESS") for m in _FOREIGN_STREET.finditer(text)]
        return _resolve(found)

    def _national_ids(self, text: str) -> list[Span]:
        out = [
            Span(m.start(), m.end(), "NATIONAL_ID") for m in _SSN.finditer(text) if us_ssn.is_valid(m.group())
        ]
        out += [Span(m.start(), m.end(), "NATIONAL_ID") for m in _NINO.finditer(text) if _is_nino(m.group())]
        out += [
            Span(m.start(), m.end(), "NATIONAL_ID")
            for m in _DE_IDNR.finditer(text)
            if de_idnr.is_valid(m.group())
        ]
        out += [
            Span(m.start(), m.end(), "NATIONAL_ID")
            for m in _FR_NIR.finditer(text)
            if fr_nir.is_valid(m.group())
        ]
        return out

    def _phones(self, text: str) -> list[Span]:
        out: list[Span] = []
        for region in self.regions:
            for m in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
                if not _BARE_LONG_RUN.fullmatch(m.raw_string):  # a bare 11+ digit run is a code, not a phone
                    out.append(Span(m.start, m.end, "PHONE"))
        return out

    # ------------------------------------------------------------------ replacement

    def scrub(self, text: str) -> ScrubResult:
        """``text`` with every PII span replaced by its placeholder, and the counts per type."""
        if not text:
            return ScrubResult(text or "", {})
        spans = self.find(text)
        if not spans:
            return ScrubResult(text, {})
        parts: list[str] = []
        last = 0
        for s in spans:
            parts += [text[last : s.start], self.placeholder.format(type=s.type)]
            last = s.end
        parts.append(text[last:])
        counts = Counter(s.type for s in spans)
        return ScrubResult("".join(parts), {t: counts[t] for t in PII_TYPES if counts[t]}, tuple(spans))

    def scrub_many(self, texts: Iterable[str | None]) -> tuple[list[str | None], dict[str, int]]:
        """Scrub each text (``None`` stays ``None``); the scrubbed texts and the summed counts."""
        out: list[str | None] = []
        total: Counter[str] = Counter()
        for t in texts:
            if t is None:
                out.append(None)
                continue
            r = self.scrub(t)
            out.append(r.text)
            total.update(r.counts)
        return out, dict(total)


def _resolve(spans: list[Span]) -> list[Span]:
    """Keep the highest-priority span of each overlapping group (longer first within a type)."""
    rank = {t: n for n, t in enumerate(PII_TYPES)}
    kept: list[Span] = []
    for s in sorted(spans, key=lambda s: (rank[s.type], -(s.end - s.start), s.start)):
        if all(s.end <= k.start or s.start >= k.end for k in kept):
            kept.append(s)
    return sorted(kept, key=lambda s: s.start)


def find_pii(text: str, scrubber: PiiScrubber | None = None) -> list[Span]:
    """The PII spans of ``text`` (default detectors)."""
    return (scrubber or PiiScrubber()).find(text)


def scrub(text: str, scrubber: PiiScrubber | None = None) -> ScrubResult:
    """``text`` with PII replaced by typed placeholders (``[EMAIL]``, ``[PHONE]``, ``[CARD]``, ``[IBAN]``,
    ``[NATIONAL_ID]``, ``[ADDRESS]``) and the counts per type."""
    return (scrubber or PiiScrubber()).scrub(text)


def scrub_table(
    table: Any, columns: Sequence[str], scrubber: PiiScrubber | None = None
) -> tuple[Any, dict[str, Any]]:
    """Scrub string ``columns`` of an Arrow table: the one call ingest needs.

    Args:
        table: a ``pyarrow.Table``.
        columns: names of string columns to scrub; a name the table lacks is skipped (free-form attribute
            columns come and go), a non-string column is an error.
        scrubber: detector settings (default :class:`PiiScrubber()`).

    Returns:
        The table with those columns replaced (other columns, the schema's order and nulls unchanged), and
        the counts ``{"total": {type: n}, "columns": {column: {type: n}}, "values_changed": n}``.

    Raises:
        TypeError: when a named column is not a string column.
    """
    import pyarrow as pa

    sc = scrubber or PiiScrubber()
    total: Counter[str] = Counter()
    per_column: dict[str, dict[str, int]] = {}
    changed = 0  # values (cells) changed
    for name in columns:
        if name not in table.column_names:
            continue
        col = table.column(name)
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            raise TypeError(f"column {name!r} is {col.type}, not a string column: cannot scrub it")
        before = col.to_pylist()
        # every detector needs a digit or an "@": only those values go through the (slow) matchers
        import pyarrow.compute as pc

        candidates = pc.fill_null(pc.match_substring_regex(col, "[0-9@]"), False).to_pylist()
        picked = [i for i, c in enumerate(candidates) if c]
        scrubbed, counts = sc.scrub_many([before[i] for i in picked])
        after = list(before)
        for i, value in zip(picked, scrubbed, strict=True):
            after[i] = value
        changed += sum(1 for i in picked if after[i] != before[i])
        per_column[name] = counts
        total.update(counts)
        table = table.set_column(table.column_names.index(name), name, pa.array(after, type=col.type))
    return table, {"total": dict(total), "columns": per_column, "values_changed": changed}
