"""Entity-type names and defaults of forge's PII stage (no Presidio import, so configs stay cheap)."""

from __future__ import annotations

#: Entities structured by format and checksum (the >=0.98 precision/recall targets apply to these).
STRUCTURED_ENTITIES = ("EMAIL_ADDRESS", "PHONE_NUMBER", "CN_RESIDENT_ID", "CREDIT_CARD", "BANK_CARD",
                       "IBAN_CODE", "IP_ADDRESS", "US_SSN", "CN_PASSPORT", "CN_LICENSE_PLATE")
#: Every entity forge can find (``LOCATION`` needs ``--ner-model``).
ALL_ENTITIES = STRUCTURED_ENTITIES + ("PERSON", "ADDRESS", "LOCATION", "URL", "DATE_TIME")
#: On by default: URL and DATE_TIME are off in chat data, LOCATION needs an NER model.
DEFAULT_ENTITIES = STRUCTURED_ENTITIES + ("PERSON", "ADDRESS")
#: Entities recognised from words rather than formats (post-filtered: must contain a letter).
NAME_LIKE = frozenset({"PERSON", "LOCATION", "ADDRESS"})
#: Default regions for international phone matching (CN first; the self-check requires it).
DEFAULT_PHONE_REGIONS: tuple[str, ...] = ("CN", "US", "GB", "HK", "TW", "SG", "DE", "FR", "JP", "AU",
                                          "CA", "IN")
