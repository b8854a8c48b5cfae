"""Phone numbers through ``phonenumbers`` (the Python port of Google's libphonenumber).

Chosen over a hand-written regex because it knows every country's numbering plan and validity rules: it finds
"+44 20 7946 0958" and "(415) 555-2671" and rejects digit runs that are not dialable numbers, which a regex cannot.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import phonenumbers

_CANDIDATE = re.compile(r"\d(?:[\s().-]{0,3}\d){6,}")
# Numbers that libphonenumber would accept but that are labelled as something else, or shaped like an address.
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_LABEL = re.compile(
    r"(?:#|\b(?:order|invoice|ticket|tracking|ref|reference|no\.?|id|sku|case)\s*(?:number|no\.?|#)?\s*:?)\s*$", re.I
)


def find_phone_numbers(text: str, region: str = "US") -> Iterator[tuple[int, int]]:
    # The matcher is thorough but slow; skip texts without a run of 7+ digits that could be dialled.
    if not _CANDIDATE.search(text):
        return
    for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
        if _IPV4.match(match.raw_string) or _LABEL.search(text[max(0, match.start - 24) : match.start]):
            continue
        yield match.start, match.end
