"""Pattern recognizers for structured PII, safe next to CJK text and full-width punctuation.

Every pattern bounds itself with explicit look-arounds on ASCII letters/digits (``(?<![0-9A-Za-z])``)
instead of ``\\b``: in Unicode regex mode ``\\w`` includes CJK characters, so ``\\b`` finds no boundary in
``号是13800138000，`` and a number glued to Chinese text is missed or swallowed. Checksums reject look-alikes:

* bank/credit cards: Luhn (ISO/IEC 7812-1, annex B);
* Chinese resident ID: GB 11643-1999 check digit (ISO 7064 MOD 11-2) plus a plausible birth date;
* IBAN: ISO 13616 MOD 97-10 and the per-country length;
* IP addresses: :mod:`ipaddress`; international phone numbers: ``phonenumbers`` (libphonenumber) metadata.

Each recognizer is a Presidio ``PatternRecognizer`` / ``LocalRecognizer`` bound to one language; the
analyzer (:mod:`.analyzer`) instantiates the set once per configured language, because Presidio looks
recognizers up by language and silently finds nothing for a language without registrations.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from datetime import date
from functools import lru_cache

import phonenumbers
import regex

from ._presidio import import_presidio

import_presidio()
from presidio_analyzer import LocalRecognizer, Pattern, PatternRecognizer, RecognizerResult

from .entities import DEFAULT_PHONE_REGIONS

#: Flags for case-sensitive patterns (Presidio's default adds IGNORECASE).
CASE_SENSITIVE = re.DOTALL | re.MULTILINE
#: Presidio's default flags.
CASE_INSENSITIVE = re.DOTALL | re.MULTILINE | re.IGNORECASE

L = r"(?<![0-9A-Za-z])"  # left boundary: no ASCII letter/digit before (CJK and punctuation are fine)
R = r"(?![0-9A-Za-z])"  # right boundary
SEP = r"[ \-\u00a0]"  # a separator inside a number: space, hyphen, no-break space

#: Up to 5 Latin words (with their trailing spaces/punctuation) right before a position.
_LATIN_WORDS_BEFORE = re.compile(r"(?:[A-Za-z][A-Za-z'\-]*[^0-9A-Za-z\u3400-\u9fff]{1,3}){1,5}$")


def context_window(text: str, start: int, end: int, before: int = 24, after: int = 8) -> str:
    """The lower-cased context of the hit ``text[start:end]``: the ``before`` characters preceding it (or,
    when longer, the up-to-5 Latin words preceding it: Presidio's English window is 5 words, and "message
    on my registered 024 971 50 30" puts its cue 25 characters away) and the ``after`` characters
    following it. Chinese text keeps the character window (no spaces to count words by)."""
    left = text[max(0, start - before):start]
    if start > before:
        m = _LATIN_WORDS_BEFORE.search(text, max(0, start - 3 * before), start)
        if m and m.end() == start and m.start() < start - before:
            left = text[m.start():start]
    return (left + " " + text[end:end + after]).lower()



# -- checksums -------------------------------------------------------------------------------------------
def luhn_ok(digits: str) -> bool:
    """Luhn check (ISO/IEC 7812-1 annex B) of a digit string; ``False`` for non-digits or empty input."""
    if not digits or not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


_GB11643_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_GB11643_CHECK = "10X98765432"


def gb11643_check_digit(first17: str) -> str:
    """The GB 11643-1999 check character (``0-9`` or ``X``) for the first 17 digits of a resident ID.

    Formula (ISO 7064 MOD 11-2): ``S = sum(d_i * W_i)``, ``W_i = 2^(17-i) mod 11``; check = ``"10X98765432"[S % 11]``.
    """
    s = sum((ord(c) - 48) * w for c, w in zip(first17, _GB11643_WEIGHTS))
    return _GB11643_CHECK[s % 11]


def _plausible_date(y: int, m: int, d: int) -> bool:
    try:
        born = date(y, m, d)
    except ValueError:
        return False
    return date(1880, 1, 1) <= born <= date.today()


def cn_resident_id_ok(value: str) -> bool:
    """True for an 18-character ID with a valid birth date and GB 11643 check digit, or a 15-digit legacy
    ID (before 1999) with a valid ``YYMMDD`` birth date."""
    v = value.upper()
    if len(v) == 18 and v[:17].isdigit():
        return _plausible_date(int(v[6:10]), int(v[10:12]), int(v[12:14])) and gb11643_check_digit(v[:17]) == v[17]
    if len(v) == 15 and v.isdigit():
        return _plausible_date(1900 + int(v[6:8]), int(v[8:10]), int(v[10:12]))
    return False


def iban_ok(value: str) -> bool:
    """ISO 13616 check: a known IBAN country, 15-34 characters and ``int(rearranged) % 97 == 1`` (MOD 97-10,
    ISO 7064). The per-country length is not enforced: generated and legacy IBANs often deviate from it,
    and MOD 97 already rejects 99% of look-alikes."""
    # \d also matches other scripts' digits (٨, ८, 𝟖): read as the digits they are; a case-insensitive [A-Za-z]
    # also matches İ and the Kelvin sign, which are no IBAN letters
    v = "".join(str(int(c)) if c.isdecimal() else c for c in re.sub(r"[ \-]", "", value)).upper()
    if not (v.isascii() and v.isalnum()):
        return False
    if v[:2] not in _IBAN_LENGTHS or not 15 <= len(v) <= 34 or not v[2:4].isdigit():
        return False
    rearranged = v[4:] + v[:4]
    num = "".join(str(int(c, 36)) for c in rearranged)
    return int(num) % 97 == 1


_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29,
    "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28,
    "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29,
    "RO": 24, "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28,
    "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}


# -- prechecks -------------------------------------------------------------------------------------------
#: A maximal run of digits, with the ``regex`` module's ``\d`` (the module, and so the digits, that the patterns
#: are run with).
_DIGIT_RUN = regex.compile(r"\d+")


def digit_runs(text: str) -> tuple[int, ...] | None:
    """The lengths of the maximal runs of digits in ``text``, in order (``"电话010-62345678"`` -> ``(3, 8)``), or
    ``None`` when a digit of ``text`` is not an ASCII digit (``٣``, ``𝟙``: then ``\\d`` and the ASCII bounds
    ``L``/``R`` disagree and the run lengths prove nothing; :meth:`_ForgePatternRecognizer.can_match` then
    answers ``True``). One scan per text serves the prechecks of every recognizer (see :mod:`.analyzer`).

    Why run lengths are exact: when every digit is ASCII, ``\\d``, ``[0-9]`` and the digits of ``L``/``R`` are
    the same characters, so a digit block of a pattern that is bounded on both sides by a non-digit (``L``,
    ``R``, a separator, a bracket, a letter) is a whole run of the text: ``L\\d{9}R`` matches only where a run
    of exactly 9 digits is."""
    runs = _DIGIT_RUN.findall(text)
    if not runs:
        return ()
    if len(runs) == 1:
        return (len(runs[0]),) if runs[0].isascii() else None
    return tuple(map(len, runs)) if "".join(runs).isascii() else None


# -- recognizers -----------------------------------------------------------------------------------------
class _ForgePatternRecognizer(PatternRecognizer):
    """Base: class-level ``ENTITY``, ``PATTERNS`` (name, regex, score), ``CONTEXT``, ``FLAGS``; optional
    ``validate_result`` (True keeps, False drops) and ``invalidate_result``; optional :meth:`can_match`."""

    ENTITY = ""
    PATTERNS: tuple | list = ()
    CONTEXT: tuple | list = ()
    FLAGS = CASE_INSENSITIVE

    def __init__(self, supported_language: str = "en"):
        super().__init__(
            supported_entity=self.ENTITY,
            name=f"forge_{type(self).__name__}",
            supported_language=supported_language,
            patterns=[Pattern(n, rx, s) for n, rx, s in self.PATTERNS],
            context=list(self.CONTEXT),
            global_regex_flags=self.FLAGS,
        )

    #: Whether :meth:`can_match` reads the ``runs`` argument (the analyzer computes it only then).
    NEEDS_DIGIT_RUNS = False

    def can_match(self, text: str, runs: tuple[int, ...] | None) -> bool | tuple[bool, ...]:
        """A cheap necessary condition for a match in ``text``, so that the analyzer skips the regex scans
        that cannot match (about 1.5-3 us per pattern and text, most of it the ``timeout`` set-up of
        ``regex``): ``False`` when no pattern can match, ``True`` when any may (the default), or one bool per
        pattern of :attr:`PATTERNS` (``False``: that pattern cannot match). ``runs``: the :func:`digit_runs`
        of ``text`` when :attr:`NEEDS_DIGIT_RUNS`, else ``None``. ``tests/steps/test_pii_prechecks.py``
        checks every override against its patterns on generated texts."""
        return True


class ForgeEmailRecognizer(_ForgePatternRecognizer):
    """``EMAIL_ADDRESS``: ASCII local part and domain; the top-level domain is checked against the public
    suffix list bundled with ``tldextract`` (no download, see :func:`offline_tldextract`)."""

    ENTITY = "EMAIL_ADDRESS"
    PATTERNS = ((
        "email",
        (r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9](?:[A-Za-z0-9._%+\-]*[A-Za-z0-9_])?@"
         r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![A-Za-z0-9\-])"),
        0.9,
    ),)
    CONTEXT = ("email", "e-mail", "mail", "邮箱", "邮件", "电邮")

    def validate_result(self, pattern_text: str) -> bool:
        return offline_tldextract()(pattern_text.split("@", 1)[1]).suffix != ""


class CnMobileRecognizer(_ForgePatternRecognizer):
    """``PHONE_NUMBER``: mainland-China mobile numbers ``1[3-9]x xxxx xxxx``, with optional ``+86`` /
    ``0086`` / ``(+86)`` prefix and space or hyphen grouping (3-4-4); not glued to letters or digits, except
    a phone word right before it (``tel13800138000``, ``Phone13800138000``)."""

    ENTITY = "PHONE_NUMBER"
    PATTERNS = ((
        "cn_mobile",
        # left: no letter, digit or + before -- or a phone word glued to the number ("tel13800138000")
        r"(?:(?<![0-9A-Za-z+])|(?<=(?<![A-Za-z])(?i:tel|phone|mobile|cell|call|fax|wechat|whatsapp)))"
        r"(?:(?:\((?:\+|00)86\)|(?:\+|00)86)" + SEP + r"?)?1[3-9]\d(?:" + SEP + r"?\d{4}){2}" + R,
        0.85,
    ),)
    CONTEXT = ("phone", "mobile", "call", "tel", "电话", "手机", "致电", "联系", "号码", "微信")
    NEEDS_DIGIT_RUNS = True

    def can_match(self, text: str, runs: tuple[int, ...] | None) -> bool:
        """The pattern ends with ``\\d{4}R``: the run holding that last group is the group alone (4 digits,
        after a separator), the last two groups (8), or the whole number (11), with a ``86`` / ``0086``
        prefix written without a separator or bracket (13, 15; see :func:`digit_runs`)."""
        return runs is None or 4 in runs or 8 in runs or 11 in runs or 13 in runs or 15 in runs


class CnLandlineRecognizer(_ForgePatternRecognizer):
    """``PHONE_NUMBER``: mainland-China landlines with area code: ``010-12345678``, ``(0571) 8888 6666``,
    ``+86 21 5555 6666`` (area codes ``10``, ``2x``, ``[3-9]xx``; 7-8 digit subscriber number)."""

    ENTITY = "PHONE_NUMBER"
    _SUB = r"[2-9]\d{2,3}" + SEP + r"?\d{4}"
    PATTERNS = (
        ("cn_landline", L + r"(?:\(0(?:10|2\d|[3-9]\d{2})\)|0(?:10|2\d|[3-9]\d{2}))" + SEP + r"?" + _SUB + R, 0.7),
        ("cn_landline_intl", r"(?<![0-9A-Za-z+])(?:\+|00)86" + SEP + r"?\(?(?:10|2\d|[3-9]\d{2})\)?" + SEP + r"?"
         + _SUB + R, 0.8),
    )
    CONTEXT = (*CnMobileRecognizer.CONTEXT, "座机", "固话", "landline", "office")
    NEEDS_DIGIT_RUNS = True

    def can_match(self, text: str, runs: tuple[int, ...] | None) -> tuple[bool, bool]:
        """Both patterns end with ``\\d{4}R``: the run holding it is those 4 digits (after a separator), the
        subscriber number (7-8), or it with the area code (10-12; ``cn_landline_intl``: 9-11) and there the
        ``86``/``0086`` prefix (11-15) when no separator or bracket stands between them (see
        :func:`digit_runs`); ``cn_landline_intl`` holds ``86``."""
        if runs is None:
            return True, "86" in text
        return (any(r == 4 or 6 < r < 13 for r in runs),
                "86" in text and any(r == 4 or 6 < r < 16 for r in runs))


class IntlPhoneRecognizer(LocalRecognizer):
    """``PHONE_NUMBER``: numbers that libphonenumber (``phonenumbers``) validates for one of ``regions``.

    Candidates are runs of digits with single separators (space, ``-``, ``.``, ``/``, brackets), an optional
    ``+``/``00`` prefix and extension; each candidate (and, when it is not valid as a whole, its contiguous
    sub-runs of space-separated groups, longest first) is parsed with ``+`` as international, else for each
    region in order, and kept when ``is_valid_number``. This replaces Presidio's ``PhoneRecognizer``, which
    runs a ``PhoneNumberMatcher`` over the whole text once per region (about 10x slower here).
    Candidates shaped like dates or US SSNs (``AAA-GG-SSSS``), followed by ``:`` (times) or a unit, or
    preceded by a negative cue (order, tracking, licence, 订单, 单号, ...) are skipped. ``+`` numbers need only
    be *possible* (right length for the country code). A bare digit run, or one split only by spaces (no
    ``+``, brackets, ``-``, ``.`` or ``/``), scores 0.3 and needs a context word (电话, phone, call, ...):
    8-digit member or order numbers are valid Hong Kong/Singapore numbers."""

    SCORE = 0.6
    BARE_SCORE = 0.3
    CONTEXT = ("phone", "number", "telephone", "cell", "cellphone", "mobile", "call", "tel", "fax", "desk",
               "office", "answering", "message", "sms", "text me", "reach", "dial", "contact", "whatsapp",
               "电话", "手机", "致电", "联系", "号码", "座机", "拨打", "短信", "微信")
    _TOKEN = r"(?:\(\d{1,4}\)|\d)"
    _CAND = re.compile(r"(?<![0-9A-Za-z+])(?:\+|00)?" + _TOKEN + r"(?:[ \-.\u00a0/]?" + _TOKEN + r"){6,19}"
                       r"(?:\s?(?:x|ext\.?)\s?\d{1,5})?(?![0-9A-Za-z])")
    _DATE = re.compile(r"^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{3}-\d{2}-\d{4})$")

    _HAS_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}")
    _SHAPED = re.compile(r"[\-.()/]")
    _DECIMAL = re.compile(r"^\d+\.\d+$")
    _PAIRS = re.compile(r"\d{2}(?:\.\d{2}){3,5}")  # digits in pairs between dots: the French way of writing a phone
    _DIGIT_RUN = re.compile(r"\d+")
    _GROUP = re.compile(r"\S+")
    #: Words right before a number that say it is something else (negative context).
    #: A street word right after a number makes it a house number ("6556 106 Rue ...", "12 Main St.").
    _STREET_AFTER = re.compile(r"\s*(?:[A-Z][a-z]+\s+){0,2}(?i:street|st\.|rue|avenue|ave\.?|road|rd\.|boulevard|blvd|"
                               r"lane|drive|apt\.?|suite)(?![A-Za-z])|\s*(?:号楼|号院|弄|路|街|巷)")
    _NEGATIVE = re.compile(r"(?i:licen[cs]e|order|tracking|invoice|account|serial|zip|postal|passport|ssn|"
                           r"订单|单号|运单|流水号|会员号|编号|卡号|账号|邮编|批号|发票)[^0-9]{0,12}$")

    def __init__(self, supported_language: str = "en", regions: Iterable[str] = DEFAULT_PHONE_REGIONS):
        self.supported_regions = tuple(regions)
        # one scan for "any context word in the window" (the same truth value as testing each word)
        self._context_rx = re.compile("|".join(map(re.escape, self.CONTEXT)))
        super().__init__(supported_entities=["PHONE_NUMBER"], supported_language=supported_language,
                         name="forge_IntlPhoneRecognizer", context=list(self.CONTEXT))

    def load(self) -> None:
        pass

    def _valid(self, cand: str) -> bool:
        return _phone_valid(self, cand, self.supported_regions)

    def _valid_uncached(self, cand: str) -> bool:
        n_digits = sum(map(str.isdigit, cand))
        if n_digits < 7 or n_digits > 17 or self._DATE.match(cand) or self._HAS_DATE.search(cand):
            return False
        if self._DECIMAL.match(cand) or ("/" in cand and max(map(len, self._DIGIT_RUN.findall(cand))) <= 3):
            return False  # 38695.00, 2011.1122; 90-140/60-90 (a blood-pressure range)
        if cand.count(".") > 2 and not cand.startswith("+") and not self._PAIRS.fullmatch(cand):
            return False  # 192.168.1.1.5: version numbers and addresses (French 01.84.17.61.18 is a phone)
        if cand.startswith("+"):
            try:
                num = phonenumbers.parse(cand, None)
            except phonenumbers.NumberParseException:
                return False
            return phonenumbers.is_valid_number(num) or phonenumbers.is_possible_number(num)
        for region in self.supported_regions:
            try:
                if phonenumbers.is_valid_number(phonenumbers.parse(cand, region)):
                    return True
            except phonenumbers.NumberParseException:
                continue
        return False

    def _is_bare(self, span: str) -> bool:
        return not span.startswith("+") and self._SHAPED.search(span) is None

    def _has_context(self, text: str, start: int, end: int) -> bool:
        return self._context_rx.search(context_window(text, start, end)) is not None

    def _needs_context(self, span: str) -> bool:
        """Bare numbers (see the class docstring) and local numbers of fewer than 8 digits without ``+``
        (``668-5702``, but also postcodes such as ``3610-114`` and ranges, which Germany's open numbering
        plan validates) are reported only with a context word."""
        return self._is_bare(span) or (not span.startswith("+") and sum(map(str.isdigit, span)) < 8)

    def _find(self, text: str, m: re.Match) -> tuple[int, int] | None:
        """The span of a valid number in candidate ``m``: the whole, else the longest valid sub-run of
        its space-separated groups (at most 6 groups are searched)."""
        if self._valid(m.group(0)):
            return m.start(), m.end()
        groups = [(g.start() + m.start(), g.end() + m.start()) for g in self._GROUP.finditer(m.group(0))]
        n = len(groups)
        if n < 2 or n > 6:
            return None
        for size in range(n - 1, 0, -1):
            for i in range(n - size + 1):
                s, e = groups[i][0], groups[i + size - 1][1]
                if self._valid(text[s:e]):
                    return s, e
        return None

    def analyze(self, text, entities, nlp_artifacts=None):
        out = []
        for m in self._CAND.finditer(text):
            start = m.start()
            if self._NEGATIVE.search(text[max(0, start - 24):start]):
                continue
            # a bare candidate can only be reported with a context word: skip the costly parsing without one
            if self._needs_context(m.group(0)) and not self._has_context(text, start, m.end()):
                continue
            found = self._find(text, m)
            if not found:
                continue
            nxt = text[found[1]:found[1] + 1]
            if nxt and nxt in ":%℃°":
                continue  # a time (11:34) or a measurement, not a phone number
            if self._STREET_AFTER.match(text, found[1]):
                continue  # a house number
            span = text[found[0]:found[1]]
            if self._needs_context(span) and not self._has_context(text, found[0], found[1]):
                continue
            score = self.BARE_SCORE if self._needs_context(span) else self.SCORE
            out.append(RecognizerResult("PHONE_NUMBER", found[0], found[1], score,
                                        recognition_metadata={
                                            RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                                            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id}))
        return out


@lru_cache(maxsize=8192)
def _phone_valid(rec: IntlPhoneRecognizer, cand: str, regions: tuple[str, ...]) -> bool:
    """:meth:`IntlPhoneRecognizer._valid`, memoised: the same numbers (hotlines, a customer's number quoted
    again in later turns) recur, and libphonenumber's per-region parse + validation is the costly part."""
    return rec._valid_uncached(cand)


class CnResidentIdRecognizer(_ForgePatternRecognizer):
    """``CN_RESIDENT_ID``: 18-character ID (6-digit region, ``YYYYMMDD``, 3-digit sequence, GB 11643
    check digit ``0-9X``), and legacy 15-digit IDs (``YYMMDD``; weaker, needs a context word)."""

    ENTITY = "CN_RESIDENT_ID"
    PATTERNS = (
        ("cn_id18", L + r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx]" + R, 1.0),
        ("cn_id15", L + r"[1-9]\d{7}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}" + R, 0.3),
        # written in groups: 6-8-4 (region, birth date, sequence + check), as on forms
        ("cn_id18_grouped", L + r"[1-9]\d{5}" + SEP + r"(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
         + SEP + r"\d{3}[0-9Xx]" + R, 1.0),
    )
    CONTEXT = ("身份证", "证件", "身份证号", "公民身份", "id card", "resident id", "identity")
    NEEDS_DIGIT_RUNS = True

    def can_match(self, text: str, runs: tuple[int, ...] | None) -> bool | tuple[bool, bool, bool]:
        """``cn_id18`` is a run of 18 digits, or of 17 before ``X``; ``cn_id15`` a run of 15; ``cn_id18_grouped``
        holds runs of exactly 6 and 8 (region and birth date between ``L``/separators; see :func:`digit_runs`)."""
        if runs is None:
            return True
        return 18 in runs or 17 in runs, 15 in runs, 6 in runs and 8 in runs

    def validate_result(self, pattern_text: str) -> bool | None:
        """18 characters: ``True`` (score 1.0) when valid. 15 digits: ``None`` keeps the weak pattern score,
        so that a legacy ID is reported only with a context word; ``False`` drops invalid ones. Group
        separators (``110105 19491231 002X``) are ignored."""
        v = re.sub(r"[ \-\u00a0]", "", pattern_text)
        if not cn_resident_id_ok(v):
            return False
        return True if len(v) == 18 else None


def card_brand_ok(digits: str) -> bool:
    """True when the number's length fits its issuer prefix (ISO/IEC 7812 IIN ranges of the major brands):
    any 16 or 19 digits; UnionPay ``62`` 16-19; Visa ``4`` 13; Amex ``34/37`` 15; Diners ``30/36/38/39`` 14;
    JCB ``2131/1800`` 15; Maestro ``50/56-69`` 12-19."""
    n = len(digits)
    if n in (16, 19) or (digits.startswith("62") and 16 <= n <= 19):
        return True
    if n == 13 and digits[0] == "4":
        return True
    if n == 15 and (digits[:2] in ("34", "37") or digits[:4] in ("2131", "1800")):
        return True
    if n == 14 and digits[:2] in ("30", "36", "38", "39"):
        return True
    return 12 <= n <= 19 and (digits[:2] == "50" or "56" <= digits[:2] <= "69")


class CardRecognizer(_ForgePatternRecognizer):
    """``CREDIT_CARD`` / ``BANK_CARD``: 12-19 digits, unbroken or in groups of four (Amex 4-6-5), Luhn-valid.
    A length that does not fit the issuer prefix (:func:`card_brand_ok`, e.g. a 12-digit tracking number
    starting with 4) keeps a weak score and needs a context word (卡号, card, ...). UnionPay numbers
    (prefix ``62``) are ``BANK_CARD``; the analyzer relabels them."""

    ENTITY = "CREDIT_CARD"
    PATTERNS = (
        ("card_plain", L + r"\d{12,19}" + R, 0.35),
        ("card_grouped", L + r"\d{4}(?:" + SEP + r"\d{4}){2,3}(?:" + SEP + r"\d{1,3})?" + R, 0.45),
        ("card_amex", L + r"3[47]\d{2}" + SEP + r"\d{6}" + SEP + r"\d{5}" + R, 0.45),
    )
    CONTEXT = ("card", "credit", "visa", "mastercard", "银行卡", "信用卡", "卡号", "储蓄卡", "账号", "户名", "这张卡")
    NEEDS_DIGIT_RUNS = True

    def can_match(self, text: str, runs: tuple[int, ...] | None) -> bool | tuple[bool, bool, bool]:
        """``card_plain`` is a run of 12-19 digits, ``card_grouped`` holds at least three runs of exactly 4
        (the groups between ``L``/separators/``R``), ``card_amex`` runs of 4, 6 and 5 (see :func:`digit_runs`)."""
        if runs is None:
            return True
        return any(11 < r < 20 for r in runs), runs.count(4) > 2, 6 in runs and 5 in runs and 4 in runs

    def validate_result(self, pattern_text: str) -> bool | None:
        digits = re.sub(r"\D", "", pattern_text)
        if len(set(digits)) == 1 or not 12 <= len(digits) <= 19 or not luhn_ok(digits):
            return False
        return True if card_brand_ok(digits) else None


class ForgeIbanRecognizer(_ForgePatternRecognizer):
    """``IBAN_CODE``: country code, 2 check digits, BBAN (optionally in groups of four), validated by
    ISO 13616 MOD 97-10 (:func:`iban_ok`)."""

    ENTITY = "IBAN_CODE"
    PATTERNS = (("iban", L + r"[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,3})?" + R, 0.9),)
    CONTEXT = ("iban", "bank", "account", "账户", "银行")
    _LEAD = regex.compile(r"[A-Za-z]{2}\d{2}", flags=CASE_INSENSITIVE)

    def can_match(self, text: str, runs: tuple[int, ...] | None) -> bool:
        """Every match holds the country code and check digits, ``[A-Za-z]{2}\\d{2}`` (searched with the
        pattern's flags, so that case-insensitive look-alikes of ASCII letters count too)."""
        return self._LEAD.search(text) is not None

    def validate_result(self, pattern_text: str) -> bool:
        return iban_ok(pattern_text)


class ForgeIpRecognizer(_ForgePatternRecognizer):
    """``IP_ADDRESS``: dotted IPv4 and colon IPv6, validated by :mod:`ipaddress`."""

    ENTITY = "IP_ADDRESS"
    PATTERNS = (
        # not after a version word ("版本 3.10.12.1", "version 1.2.10.4": a four-part version number)
        ("ipv4", r"(?<![0-9A-Za-z.])(?<!(?<![A-Za-z])(?i:version|ver\.?|release|build)[\s:：]{0,2})(?<!版本?号?[\s:：]{0,2})"
                 r"(?:\d{1,3}\.){3}\d{1,3}(?![0-9A-Za-z]|\.\d)", 0.8),
        ("ipv6", r"(?<![0-9A-Za-z:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{1,4}(?![0-9A-Za-z:])", 0.8),
    )
    CONTEXT = ("ip", "address", "server", "地址", "服务器")

    def can_match(self, text: str, runs: tuple[int, ...] | None) -> tuple[bool, bool]:
        """``ipv4`` holds three dots, ``ipv6`` two colons."""
        return text.count(".") > 2, text.count(":") > 1

    def validate_result(self, pattern_text: str) -> bool:
        """Valid per :mod:`ipaddress`; a dotted quad of four single digits (a list, "2.3.4.5") is not."""
        if re.fullmatch(r"\d\.\d\.\d\.\d", pattern_text):
            return False
        try:
            ipaddress.ip_address(pattern_text)
        except ValueError:
            return False
        return True


class ForgeUsSsnRecognizer(_ForgePatternRecognizer):
    """``US_SSN``: ``AAA-GG-SSSS`` (or with spaces/dots, same separator twice); area ``000``, ``666`` and
    ``9xx``, group ``00`` and serial ``0000`` are invalid (SSA rules). Unseparated 9 digits need context."""

    ENTITY = "US_SSN"
    PATTERNS = (
        ("ssn_sep", r"(?<![0-9A-Za-z\-])\d{3}([\- .])\d{2}\1\d{4}(?![0-9A-Za-z\-])", 0.6),
        ("ssn_plain", L + r"\d{9}" + R, 0.2),
    )
    CONTEXT = ("ssn", "social security", "social", "security number")
    NEEDS_DIGIT_RUNS = True

    def can_match(self, text: str, runs: tuple[int, ...] | None) -> bool | tuple[bool, bool]:
        """``ssn_sep`` holds runs of exactly 3, 2 and 4, ``ssn_plain`` is a run of 9 digits (see
        :func:`digit_runs`)."""
        if runs is None:
            return True
        return 2 in runs and 3 in runs and 4 in runs, 9 in runs

    def validate_result(self, pattern_text: str) -> bool | None:
        d = re.sub(r"\D", "", pattern_text)
        area, group, serial = d[:3], d[3:5], d[5:]
        if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000" or len(set(d)) == 1:
            return False
        return None  # keep the pattern score: unseparated 9 digits need a context word


class CnPassportRecognizer(_ForgePatternRecognizer):
    """``CN_PASSPORT``: ``E`` + 8 digits or ``E`` + letter + 7 digits (2012+ e-passports), ``G``/``D``/``S``/
    ``P`` + 8 digits (older passports) and ``H``/``M`` + 8-10 digits (HK/Macau travel permits)."""

    ENTITY = "CN_PASSPORT"
    FLAGS = CASE_SENSITIVE
    PATTERNS = (
        ("cn_passport_e", L + r"E(?:\d{8}|[A-HJ-NP-Z]\d{7})" + R, 0.6),
        ("cn_passport_old", L + r"(?:[GDSP]\d{8}|[HM]\d{8,10})" + R, 0.35),
    )
    CONTEXT = ("护照", "passport", "通行证", "证件")
    NEEDS_DIGIT_RUNS = True
    _OLD = re.compile("[GDSPHM]")

    def can_match(self, text: str, runs: tuple[int, ...] | None) -> tuple[bool, bool]:
        """``cn_passport_e`` is an ``E`` (case-sensitive), then a run of 8 digits or a letter and a run of 7;
        ``cn_passport_old`` one of ``G D S P H M`` and a run of 8-10 (runs bounded by the letter and ``R``; see
        :func:`digit_runs`)."""
        if runs is None:
            return "E" in text, self._OLD.search(text) is not None
        return ("E" in text and (8 in runs or 7 in runs),
                any(7 < r < 11 for r in runs) and self._OLD.search(text) is not None)


class CnLicensePlateRecognizer(_ForgePatternRecognizer):
    """``CN_LICENSE_PLATE``: province abbreviation + issuing-office letter + 5 characters (GA 36-2018),
    or 6 for new-energy plates (``D``/``F`` first or last), optional ``·``; at least one digit."""

    ENTITY = "CN_LICENSE_PLATE"
    FLAGS = CASE_SENSITIVE
    PATTERNS = ((
        "cn_plate",
        r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z][·・ \-]?"
        r"(?:[DF][A-HJ-NP-Z0-9]\d{4}|\d{5}[DF]|[A-HJ-NP-Z0-9]{4}[A-HJ-NP-Z0-9挂学警])" + R,
        0.75,
    ),)
    CONTEXT = ("车牌", "plate", "车")

    def validate_result(self, pattern_text: str) -> bool:
        return sum(c.isdigit() for c in pattern_text) >= 2


class ForgeUrlRecognizer(_ForgePatternRecognizer):
    """``URL`` (off by default in chat data): ``http(s)://`` or ``www.`` up to whitespace, CJK or
    full-width punctuation; trailing ASCII punctuation is not part of the URL."""

    ENTITY = "URL"
    PATTERNS = ((
        "url",
        r"(?<![A-Za-z0-9])(?:https?://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*[A-Za-z0-9/#=_\-~]",
        0.6,
    ),)
    CONTEXT = ("url", "link", "网址", "链接")


class ZhDateRecognizer(_ForgePatternRecognizer):
    """``DATE_TIME`` (off by default): ``2023年10月5日``, ``2023-10-05``, ``2023/10/05``."""

    ENTITY = "DATE_TIME"
    PATTERNS = (
        ("zh_date", r"(?<!\d)\d{4}年\d{1,2}月(?:\d{1,2}[日号])?", 0.6),
        ("iso_date", L + r"(?:19|20)\d{2}[-/.](?:0?[1-9]|1[0-2])[-/.](?:0?[1-9]|[12]\d|3[01])" + R, 0.6),
    )
    CONTEXT = ("date", "日期", "出生", "born")


#: Structured-entity recognizer classes, registered for every configured language.
class JsonNameFieldRecognizer(_ForgePatternRecognizer):
    """``PERSON``: the value of a name field in JSON or key-value text (tool turns, pasted records):
    ``"name": "王小明"``, ``"customer_name":"Mary Johnson"``, ``name=张伟`` -- found in testing, a tool turn
    ``{"name":"王小明","phone":...}`` lost its phone but kept the name (no Chinese or English cue phrase).
    The value must look like a name (2-4 CJK characters, or 1-3 capitalised Latin words), so that function
    calls (``{"name": "get_weather"}``) and identifiers stay."""

    ENTITY = "PERSON"
    FLAGS = CASE_SENSITIVE
    # every key holds "name" after a non-letter, as the analyzer's English PERSON trigger requires
    _KEY = r"(?<![A-Za-z0-9_])(?:(?:full|real|customer|patient|contact|user|first|last)_)?(?:[Nn]ame|NAME)"
    PATTERNS = ((
        "json_name_field",
        r"(?<=" + _KEY + r"""["']?\s*[:=]\s*["'])"""
        r"(?:[\u4e00-\u9fff]{2,4}|\p{Lu}\p{Ll}+(?: \p{Lu}\p{Ll}+){0,2})" r"""(?=["'])""",
        0.6,
    ),)

    def can_match(self, text: str, runs: tuple[int, ...] | None) -> bool:
        """Every match is preceded by a key ending in ``name``/``Name``/``NAME`` (case-sensitive)."""
        return "ame" in text or "NAME" in text

    def validate_result(self, pattern_text: str) -> bool | None:
        """Drop place and organisation names (``"name": "北京市"``, ``"name": "协和医院"``) and English words
        that are no names (``"name": "Table"``, see :data:`.context_en.NOT_NAME_WORDS`)."""
        from .context_en import NOT_NAME_WORDS

        if pattern_text[-1] in "省市区县镇村路街院司局科店部厅馆校":
            return False
        if any(w in NOT_NAME_WORDS or w in _NOT_NAME_VALUES for w in pattern_text.lower().split()):
            return False
        return None


#: Capitalised words that are common values of a generic "name" field but no person's name.
_NOT_NAME_VALUES = frozenset({"table", "default", "unknown", "none", "null", "test", "admin", "root", "guest",
                              "anonymous", "untitled", "new", "main", "home", "index", "name"})


PATTERN_RECOGNIZERS: tuple[type[_ForgePatternRecognizer], ...] = (
    ForgeEmailRecognizer, CnMobileRecognizer, CnLandlineRecognizer, CnResidentIdRecognizer, CardRecognizer,
    ForgeIbanRecognizer, ForgeIpRecognizer, ForgeUsSsnRecognizer, CnPassportRecognizer, CnLicensePlateRecognizer,
    ForgeUrlRecognizer, ZhDateRecognizer, JsonNameFieldRecognizer,
)


def relabel_bank_cards(text: str, results: list[RecognizerResult]) -> None:
    """Relabel ``CREDIT_CARD`` hits whose number starts with ``62`` (China UnionPay) as ``BANK_CARD``."""
    for r in results:
        if r.entity_type == "CREDIT_CARD" and re.sub(r"\D", "", text[r.start:r.end]).startswith("62"):
            r.entity_type = "BANK_CARD"


_TLD = None


def offline_tldextract():
    """A ``tldextract.TLDExtract`` that only uses the public suffix list bundled with the package: no
    download (``suffix_list_urls=()``) and no cache directory. It also replaces the module-level extractor
    ``tldextract.extract`` uses, so Presidio's own e-mail recognizer never reaches the network."""
    global _TLD
    if _TLD is None:
        import tldextract
        import tldextract.tldextract as tx

        _TLD = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)
        tx.TLD_EXTRACTOR = _TLD
    return _TLD


__all__ = [
    "CASE_SENSITIVE",
    "DEFAULT_PHONE_REGIONS",
    "PATTERN_RECOGNIZERS",
    "IntlPhoneRecognizer",
    "card_brand_ok",
    "cn_resident_id_ok",
    "gb11643_check_digit",
    "iban_ok",
    "luhn_ok",
    "offline_tldextract",
    "relabel_bank_cards",
]
