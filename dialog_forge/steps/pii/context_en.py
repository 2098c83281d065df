"""English ``PERSON`` and ``ADDRESS`` from context cues, for the offline default (no NER model).

Presidio finds English names only through an NER model. Without one we keep its context idea: a
capitalised name after a cue ("my name is", "Dear", "Mr."/"Mrs."/"Ms."/"Dr.", "patient", "contact",
"Sincerely,") is a ``PERSON``; a house number + capitalised street name + street suffix (Street, Ave, Rd,
...) is an ``ADDRESS``. Recall on free text is limited; ``--ner-model`` is the way to more.
"""

from __future__ import annotations

import re

import regex

from .recognizers import CASE_SENSITIVE, _ForgePatternRecognizer

_W = r"\p{Lu}\p{Ll}+(?:-\p{Lu}?\p{Ll}+|'\p{Lu}\p{Ll}+)?"  # a capitalised word, any Latin letters (José, Tomić)
_NAME = _W + r"(?: [A-Z]\.)?(?: " + _W + r"){0,2}"

#: Capitalised words that follow a cue but are no name ("contact Customer Service", "Dear Team", "Dear Dr.
#: Lee" -- the title is a cue itself, "the patient Monday ..."): a hit with any of them is dropped. Words
#: that are also common first names (Will, May, June, April, August) are not listed.
NOT_NAME_WORDS = frozenset(re.findall(r"\S+", """
customer customers service services support team teams care department dept center centre desk office
help helpdesk hotline staff management manager admin administrator user users client clients member members
valued dear sir madam sirs madams all everyone everybody friend friends colleague colleagues partner partners
the a an our your my his her their this that me us you him them it we they i
mr mrs ms miss dr prof doctor professor nurse patient sales billing account accounts hr it tech technical
monday tuesday wednesday thursday friday saturday sunday today tomorrow yesterday morning afternoon evening
january february march september october november december
apple google amazon microsoft company inc ltd llc corp group bank store shop
should would could might must please thanks thank hello hi hey
"""))
#: Words that make a following bare ``name:`` / ``name is`` a person's ("Patient Name: Mary Jones", "Full name:
#: Ann Lee", "Account holder name: ..."). After any other word it names a thing ("Table Name: Orders", "Common
#: Name: Human", "Scientific Name: Felis catus") and is no cue; at the start of a line or after punctuation it is.
_PERSON_OWNERS = (r"(?:my|your|his|her|their|our|the|full|first|last|given|family|middle|maiden|legal|real|"
                  r"preferred|nick|patient|customer|client|user|contact|caller|sender|recipient|receiver|holder|"
                  r"cardholder|owner|employee|staff|student|applicant|member|guest|parent|father|mother|child|"
                  r"spouse|husband|wife|doctor|physician|nurse|agent|author|emergency|account|beneficiary|"
                  r"passenger|traveller|traveler|buyer|seller|tenant|landlord|witness|signer|signatory)(?:'s)?")
_CUES = (r"(?i:my name is|my name's|(?:(?<![A-Za-z'][ _-])|(?<=(?<![A-Za-z])" + _PERSON_OWNERS + r"[ _-]))"
         r"(?:name is|name:)|i am called|call me|dear|sincerely,?|regards,?|signed,?|patient|contact|mr\.?|"
         r"mrs\.?|ms\.?|miss|dr\.?|prof\.?)")
_STREET = (r"(?:Street|St\.?|Avenue|Ave\.?|Road|Rd\.?|Boulevard|Blvd\.?|Lane|Ln\.?|Drive|Dr\.?|Court|Ct\.?|"
           r"Way|Place|Pl\.?|Terrace|Square|Parkway|Pkwy\.?|Circle|Highway|Hwy\.?|Trail|Crescent|Close)")


class EnPersonCueRecognizer(_ForgePatternRecognizer):
    """``PERSON``: a capitalised name of 1-3 words after an English cue (needs the ``regex`` module's
    variable-width look-behind, which Presidio uses)."""

    ENTITY = "PERSON"
    FLAGS = CASE_SENSITIVE
    # after the cue a space, or nothing after a title's dot ("Mr.Wang")
    PATTERNS = (("en_name_cue", r"(?<=(?<![A-Za-z])" + _CUES + r"(?:\s+|(?<=\.)))" + _NAME + r"(?![\p{L}])", 0.7),)

    def validate_result(self, pattern_text: str) -> bool | None:
        """Drop hits holding a word of :data:`NOT_NAME_WORDS` (roles, teams, titles, days, pronouns)."""
        words = pattern_text.replace("-", " ").replace(".", " ").lower().split()
        if any(w in NOT_NAME_WORDS for w in words):
            return False
        return None


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
    _LEAD = regex.compile(r"\d [A-Z][a-z]", flags=CASE_SENSITIVE)

    def can_match(self, text: str, runs: tuple[int, ...] | None) -> bool:
        """Every match holds a house number's last digit, a space and a capitalised word (searched with the
        pattern's module and flags, so that ``\\d`` is the same set of digits)."""
        return self._LEAD.search(text) is not None
