"""English ``PERSON`` and ``ADDRESS`` from context cues, for the offline default (no NER model).

Presidio finds English names only through an NER model. Without one we keep its context idea: a
capitalised name after a cue ("my name is", "Dear", "Mr."/"Mrs."/"Ms."/"Dr.", "patient", "contact",
"Sincerely,") is a ``PERSON``; a house number + capitalised street name + street suffix (Street, Ave, Rd,
...) is an ``ADDRESS``. Recall on free text is limited; ``--ner-model`` is the way to more.
"""

from __future__ import annotations

from .recognizers import CASE_SENSITIVE, _ForgePatternRecognizer

_NAME = r"[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?(?: [A-Z]\.)?(?: [A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?){0,2}"
_CUES = (r"(?i:my name is|my name's|name is|i am called|call me|dear|sincerely,?|regards,?|signed,?|patient|"
         r"contact|mr\.?|mrs\.?|ms\.?|miss|dr\.?|prof\.?|name:)")
_STREET = (r"(?:Street|St\.?|Avenue|Ave\.?|Road|Rd\.?|Boulevard|Blvd\.?|Lane|Ln\.?|Drive|Dr\.?|Court|Ct\.?|"
           r"Way|Place|Pl\.?|Terrace|Square|Parkway|Pkwy\.?|Circle|Highway|Hwy\.?|Trail|Crescent|Close)")


class EnPersonCueRecognizer(_ForgePatternRecognizer):
    """``PERSON``: a capitalised name of 1-3 words after an English cue (needs the ``regex`` module's
    variable-width look-behind, which Presidio uses)."""

    ENTITY = "PERSON"
    FLAGS = CASE_SENSITIVE
    PATTERNS = (("en_name_cue", r"(?<=(?<![A-Za-z])" + _CUES + r"\s+)" + _NAME + r"(?![A-Za-z])", 0.7),)


class EnAddressRecognizer(_ForgePatternRecognizer):
    """``ADDRESS``: ``<number> <Capitalised words> <street suffix>`` with optional ``Apt./Suite/Unit n``."""

    ENTITY = "ADDRESS"
    FLAGS = CASE_SENSITIVE
    PATTERNS = ((
        "en_street",
        r"(?<![0-9A-Za-z])\d{1,6}(?: [A-Z][a-z]+){1,4} " + _STREET
        + r"(?![A-Za-z])(?:,? (?:Apt\.?|Suite|Unit|#) ?\d+[A-Za-z]?)?",
        0.65,
    ),)
