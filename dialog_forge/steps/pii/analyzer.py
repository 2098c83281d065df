"""A Presidio ``AnalyzerEngine`` configured for Chinese and English chat data, offline.

* **Explicit registration.** Every recognizer of :mod:`.recognizers` (language-neutral patterns) is
  registered once per configured language; the cue recognizers of :mod:`.context_zh` / :mod:`.context_en`
  go to their language. Presidio looks recognizers up by language, and a language with no registration
  silently yields zero findings -- :meth:`PiiAnalyzer.self_check` runs at start-up and raises
  :class:`~dialog_forge.errors.ForgeError` when a configured language lacks an expected entity, when
  ``CN`` is not among the phone regions, or when a known phone number / e-mail is not found.
* **No spaCy model.** The engine uses Presidio's ``NoOpNlpEngine`` (no tokens, no model download) and
  :class:`CharWindowContextEnhancer`, which raises a hit's score when one of its recognizer's context
  words occurs within a character window around it (works for unsegmented Chinese). ``ner_model`` adds
  an NER recognizer (:mod:`.ner`) only when the user names one.
* **No network.** tldextract is pointed at its bundled suffix list (:func:`.recognizers.offline_tldextract`).
* **Precision.** ``PERSON``/``LOCATION``/``ADDRESS`` hits with no letter or CJK character are dropped
  (digit-only spans such as order numbers are never names); ordinary words (today, 今天, ...) are never
  redacted; overlapping hits are resolved by score, then length.
* **Speed.** Each entity has cheap trigger regexes (for the Chinese cue recognizers: the necessary part
  of each cue rule, :data:`.context_zh.PERSON_TRIGGERS`); a text runs only the recognizers whose trigger
  fires (most chat turns fire none), called directly rather than through ``AnalyzerEngine.analyze`` (same
  recognizers, enhancer and threshold; see :meth:`PiiAnalyzer.analyze`), and of a pattern recognizer only
  the patterns that can match (its ``can_match``: the lengths of the turn's digit runs, a required
  letter). :meth:`PiiAnalyzer.fired_triggers_batch` evaluates the triggers for a whole batch of turns at
  once: one numpy pass over the code points finds where each trigger's matches can start (:data:`_LEADS`),
  and the trigger regexes run only there.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable
from functools import cache, lru_cache
from itertools import accumulate

import numpy as np
import regex

from ._presidio import import_presidio

import_presidio()
from presidio_analyzer import AnalyzerEngine, EntityRecognizer, PatternRecognizer, RecognizerRegistry, RecognizerResult
from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
from presidio_analyzer.nlp_engine import NoOpNlpEngine
from presidio_analyzer.pattern_recognizer import REGEX_TIMEOUT_SECONDS

from ...errors import ForgeError
from .context_en import EnAddressRecognizer, EnPersonCueRecognizer
from .context_zh import ADDRESS_TRIGGERS as ZH_ADDRESS_TRIGGERS
from .context_zh import PERSON_TRIGGERS as ZH_PERSON_TRIGGERS
from .context_zh import ZhAddressCueRecognizer, ZhPersonCueRecognizer
from .entities import ALL_ENTITIES, DEFAULT_ENTITIES, DEFAULT_PHONE_REGIONS, NAME_LIKE, STRUCTURED_ENTITIES  # noqa: F401
from .lang import detect_lang
from .recognizers import (PATTERN_RECOGNIZERS, IntlPhoneRecognizer, _ForgePatternRecognizer, context_window,
                          digit_runs, offline_tldextract, relabel_bank_cards)

#: Words never redacted as names/places even if a cue or a model says so.
ORDINARY_WORDS = frozenset({
    "today", "tomorrow", "yesterday", "quarterly", "monthly", "weekly", "daily", "annual", "hello", "thanks",
    "thank", "doctor", "patient", "sir", "madam", "user", "assistant", "customer",
    "今天", "明天", "昨天", "医生", "患者", "先生", "女士", "客户", "用户", "您好", "你好", "谢谢",
})

_DIGITS = r"\d(?:[ \-.()/\u00a0]{0,2}\d){6,}"
#: Cheap trigger regexes: a text runs only the recognizers of entities whose trigger fires. An entity may
#: have several, each searched on its own: a top-level alternation mixing CJK literals with ``\b`` or
#: case-insensitive branches loses the regex engine's first-character fast path (the English ``PERSON``
#: cue words lead with a character-set look-ahead for the same reason; 4x faster than ``\b`` first).
_TRIGGERS: dict[str, tuple[str, ...]] = {
    "EMAIL_ADDRESS": (r"@",),
    "PHONE_NUMBER": (_DIGITS,),
    "CN_RESIDENT_ID": (_DIGITS,),
    "CREDIT_CARD": (_DIGITS,),
    "BANK_CARD": (_DIGITS,),
    "IBAN_CODE": (_DIGITS,),
    "US_SSN": (_DIGITS,),
    "CN_PASSPORT": (_DIGITS,),
    # led by the literal '.' / ':' / ' ' with a look-behind for the digit before it (same texts as
    # r"\d\.\d", r"[0-9A-Fa-f]:[0-9A-Fa-f]*:", r"\d [A-Z][a-z]"; a literal lead is scanned 10-20x faster)
    "IP_ADDRESS": (r"\.(?<=\d\.)\d", r":(?<=[0-9A-Fa-f]:)[0-9A-Fa-f]*:"),
    # led by the (in Chinese text rare) capital letter, the province character checked behind it
    "CN_LICENSE_PLATE": (r"[A-Z](?<=[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z])",),
    "URL": (r"(?i:://|www\.)",),
    "DATE_TIME": (r"\d{4}",),
    # zh: the necessary part of each cue rule of .context_zh (cue + surname, surname + honorific, address
    # skeleton), not the bare cue words: 患者/医生/市 occur in most medical turns, a cue + surname in few
    # the English cue words are bounded by non-letters, not \b (which fails next to CJK: "请联系Dr. Wang")
    "PERSON": (*ZH_PERSON_TRIGGERS, r"(?=[NnDdMmPpCcSsRr])(?<![A-Za-z])(?i:name|dear|mrs?|ms|miss|dr|prof|patient|"
               r"contact|sincerely|regards|signed|call me)(?![A-Za-z])"),
    "ADDRESS": (*ZH_ADDRESS_TRIGGERS, r" (?<=\d )[A-Z][a-z]"),
    "LOCATION": (r"[^\W\d_]",),
}


#: Full-width forms folded to ASCII for analysis only (same length, so offsets stay valid): digits, Latin
#: letters and the characters that occur inside PII values (``＠ ＋ － ． （ ） ／ ＿``). Chinese input
#: methods in full-width mode type ``１３８００１３８０００``; NFKC (off by default) is not needed to find it,
#: and the text itself is left as it is. Full-width sentence punctuation (，。：) is not folded. The odd
#: spaces that whitespace normalisation keeps when single (the ideographic space U+3000 a full-width IME
#: types between digit groups, NBSP, thin and other fixed-width spaces) fold to an ASCII space, so that
#: ``１３８　００１３　８０００`` is found like ``138 0013 8000``.
_FULLWIDTH_FOLD = {c: c - 0xFEE0 for c in [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B),
                                             0xFF20, 0xFF0B, 0xFF0D, 0xFF0E, 0xFF08, 0xFF09, 0xFF0F, 0xFF3F]}
_FULLWIDTH_FOLD.update({c: 0x20 for c in [0x3000, 0x00A0, *range(0x2000, 0x200B), 0x202F, 0x205F]})

_FULLWIDTH_RX = re.compile("[" + "".join(map(chr, sorted(_FULLWIDTH_FOLD))) + "]")
_FOLD_CHAR = {chr(k): chr(v) for k, v in _FULLWIDTH_FOLD.items()}


def fold_fullwidth(text: str) -> str:
    """``text`` with full-width digits, letters and PII symbols replaced by their ASCII forms, one
    character for one (``"电话（010）６２３４５６７８"`` -> ``"电话(010)62345678"``)."""
    # str.translate with a dict looks every character up in the dict (slow on long texts); most texts hold
    # none or a few distinct full-width forms (Chinese prose: （ ）), so one regex scan finds them and a
    # str.replace per distinct form folds them.
    found = _FULLWIDTH_RX.findall(text)
    for c in set(found):
        text = text.replace(c, _FOLD_CHAR[c])
    return text


# -- trigger leads: the turns of a batch in which a trigger can fire, found for the whole batch at once ---
def _literal_lead(pattern: str) -> tuple[str, str]:
    """The ``(first, second)`` character classes of a trigger that starts with an alternation of literal CJK
    words (``(?:我叫|名叫|...)...``, the cue triggers of :mod:`.context_zh`): the first and the second
    characters of those words (every word has two or more)."""
    m = re.match(r"\(\?:([\u4e00-\u9fff|]+)\)", pattern)
    assert m is not None, f"not led by literal CJK words: {pattern[:40]!r}"
    words = m.group(1).split("|")
    assert all(len(w) >= 2 for w in words), pattern
    return ("[" + "".join(sorted({w[0] for w in words})) + "]", "[" + "".join(sorted({w[1] for w in words})) + "]")


def _fold_code(c: np.ndarray) -> np.ndarray:
    """Code points with full-width letters and digits (U+FF10-FF5A) folded to ASCII, as :func:`fold_fullwidth`
    does (the other forms of U+FF00-FFFF it folds, or leaves, land outside ASCII letters and digits)."""
    return np.where(c >= 0xFF00, c - 0xFEE0, c)


def _is_ascii_letter(c: np.ndarray) -> np.ndarray:
    """``[A-Za-z]`` per (folded) code point: ``c | 32`` is a lower-case ASCII letter only for ASCII letters."""
    low = c | 32
    return (low >= 97) & (low <= 122)


def _refine_chain(q: np.ndarray, cp: np.ndarray, bits: np.ndarray, bit: int) -> np.ndarray:
    """:data:`_DIGITS` (7+ digits, at most 2 separators between two): a match's first 6 digits are each
    followed by a digit or a separator, so they are 6 of the leads ``q`` (a digit followed by a digit or a
    separator), within 15 characters: keep the leads ``q[i]`` with ``q[i + 5] - q[i] <= 15``."""
    return q[:-5][q[5:] - q[:-5] <= 15]


def _refine_digit_after(q: np.ndarray, cp: np.ndarray, bits: np.ndarray, bit: int) -> np.ndarray:
    """``\\.(?<=\\d\\.)\\d``: the lead is the digit and the dot; a digit (the lead's first class) follows."""
    return q[(bits[q + 2] & bit) != 0]


def _refine_upper_lower(q: np.ndarray, cp: np.ndarray, bits: np.ndarray, bit: int) -> np.ndarray:
    """`` (?<=\\d )[A-Z][a-z]``: the lead is the digit and the space; ``[A-Z][a-z]`` (ASCII, after folding)
    follow."""
    c2, c3 = _fold_code(cp[q + 2]), _fold_code(cp[q + 3])
    return q[(c2 >= 65) & (c2 <= 90) & (c3 >= 97) & (c3 <= 122)]


#: The English cue words of the ``PERSON`` trigger (:data:`_TRIGGERS`): the two-letter ones, and the first
#: three letters of the longer ones.
_EN_CUES_2 = ("mr", "ms", "dr")
_EN_CUES_3 = ("nam", "dea", "mis", "pro", "pat", "con", "sin", "reg", "sig", "cal")
_EN_KEYS_2 = np.array(sorted((ord(w[0]) << 8) | ord(w[1]) for w in _EN_CUES_2))
_EN_KEYS_3 = np.array(sorted((ord(w[0]) << 16) | (ord(w[1]) << 8) | ord(w[2]) for w in _EN_CUES_3))


def _refine_en_cue(q: np.ndarray, cp: np.ndarray, bits: np.ndarray, bit: int) -> np.ndarray:
    """The English cue trigger: the lead (``[NnDdMmPpCcSsRr]`` and a letter of the cue words' second
    letters) follows no ASCII letter (``(?<![A-Za-z])``; before the first text stands the batch's final
    ``"\\x00"``) and starts one of the cue words, compared case-insensitively as ``re`` compares them (the
    ASCII letter each character matches under ``re.IGNORECASE``, :func:`_ci_table`: ``ſ`` is ``s``, ``K``
    is ``k``): a two-letter word (``mr``, ``ms``, ``dr``) or the first three letters of a longer one."""
    q = q[~_is_ascii_letter(_fold_code(cp[q - 1]))]
    ci = _ci_table()
    l0 = (_fold_code(cp[q]) | 32).astype(np.int64)
    l1 = np.take(ci, cp[q + 1], mode="clip").astype(np.int64)
    l2 = np.take(ci, cp[q + 2], mode="clip").astype(np.int64)
    return q[np.isin((l0 << 8) | l1, _EN_KEYS_2) | np.isin((l0 << 16) | (l1 << 8) | l2, _EN_KEYS_3)]


_EN_PERSON_TRIGGER = _TRIGGERS["PERSON"][-1]
_PLATE_TRIGGER = _TRIGGERS["CN_LICENSE_PLATE"][0]
#: How the matches of each trigger begin, for :meth:`PiiAnalyzer.fired_triggers_batch`:
#: ``pattern: (first, second, back, refine, scan)``. Every match of the trigger starting at ``s`` has a
#: character of ``first`` at ``s - back`` followed by one of ``second`` (one-character regexes for ``re``,
#: tested on the character with full-width forms folded, as the triggers see it): the *lead*. ``refine``
#: narrows the leads by a necessary condition on more characters. ``scan``: ``"match"`` tries the trigger at
#: each lead (``back`` characters after it), ``"search"`` searches a text from its first lead (leads dense
#: in a text: the digits of a number).
_LEADS: dict[str, tuple[str, str, int, object, str]] = {
    "@": ("@", "(?s:.)", 0, None, "match"),
    _DIGITS: (r"\d", r"[\d \-.()/\u00a0]", 0, _refine_chain, "search"),
    r"\.(?<=\d\.)\d": (r"\d", r"\.", 1, _refine_digit_after, "match"),
    r":(?<=[0-9A-Fa-f]:)[0-9A-Fa-f]*:": ("[0-9A-Fa-f]", ":", 1, None, "match"),
    # [A-Z](?<=[京津...][A-Z]): the province character before the capital
    _PLATE_TRIGGER: (re.search(r"\(\?<=(\[[^\]]+\])", _PLATE_TRIGGER).group(1), "[A-Z]", 1, None, "match"),
    r"(?i:://|www\.)": ("(?i:[:w])", "(?i:[/w])", 0, None, "match"),
    r"\d{4}": (r"\d", r"\d", 0, None, "search"),
    _EN_PERSON_TRIGGER: ("[NnDdMmPpCcSsRr]", "(?i:[aeiors])", 0, _refine_en_cue, "match"),
    r" (?<=\d )[A-Z][a-z]": (r"\d", " ", 1, _refine_upper_lower, "match"),
    r"[^\W\d_]": (r"[^\W\d_]", "(?s:.)", 0, None, "search"),
    **{p: (*_literal_lead(p), 0, None, "match") for p in (*ZH_PERSON_TRIGGERS, *ZH_ADDRESS_TRIGGERS)
       if p.startswith("(?:")},
    # 市(?<=[CJK]{2}市)[CJK]{1,8}?(?:市|县|...): 市 and a CJK character
    **{p: ("市", "[\u4e00-\u9fff]", 0, None, "match") for p in ZH_ADDRESS_TRIGGERS if p.startswith("市")},
}
assert all(p in _LEADS for v in _TRIGGERS.values() for p in v), "a trigger without a lead in _LEADS"
#: Bit 15 of a lead table entry: a full-width form that :func:`fold_fullwidth` folds.
_FW_BIT = 1 << 15
#: At most 15 triggers get a lead bit (bits 0-14, their second class in bits 16-30); others scan every text.
_MAX_LEADS = 15


@lru_cache(maxsize=1)
def _folded_bmp() -> str:
    """Every character of the Basic Multilingual Plane, full-width forms folded (index = code point)."""
    return "".join(map(chr, range(0x10000))).translate(_FULLWIDTH_FOLD)


@cache
def _bmp_members(cls: str) -> np.ndarray:
    """The code points of the BMP whose (folded) character matches the one-character regex ``cls``."""
    return np.fromiter((m.start() for m in re.finditer(cls, _folded_bmp())), dtype=np.intp)


@lru_cache(maxsize=1)
def _ci_table() -> np.ndarray:
    """Per BMP code point: the lower-case ASCII letter its (folded) character matches under ``re.IGNORECASE``
    (``A``/``a`` -> ``a``, ``ſ`` -> ``s``, ``K`` -> ``k``, ``İ``/``ı`` -> ``i``), else 0. No character
    above the BMP matches an ASCII letter so (``np.take(..., mode="clip")`` gives them the entry of U+FFFF, 0)."""
    table = np.zeros(0x10000, dtype=np.uint8)
    for x in "abcdefghijklmnopqrstuvwxyz":
        table[_bmp_members(f"(?i:{x})")] = ord(x)
    return table


def _lead_table(patterns: list[str]) -> tuple[np.ndarray, list]:
    """The lead table of the triggers ``patterns`` (in order) and, per trigger, ``(bit, back, refine,
    search)`` or ``None`` (no lead: its batch scan searches every text). Entry ``c`` has bit ``j`` when
    character ``c`` is in the ``first`` class of the ``j``-th trigger with a lead, bit ``16 + j`` when in
    its ``second`` class, and :data:`_FW_BIT` when it is a full-width form. Code points above the BMP (emoji,
    rare CJK, mathematical digits) are looked up at U+FFFF, which is given every class: they stay candidates."""
    table = np.zeros(0x10000, dtype=np.uint32)
    table[sorted(_FULLWIDTH_FOLD)] |= _FW_BIT
    leads: list = []
    for p in patterns:
        spec = _LEADS.get(p)
        j = sum(x is not None for x in leads)
        if spec is None or j >= _MAX_LEADS:
            leads.append(None)
            continue
        first, second, back, refine, scan = spec
        table[_bmp_members(first)] |= 1 << j
        table[_bmp_members(second)] |= 1 << (16 + j)
        table[0xFFFF] |= (1 << j) | (1 << (16 + j))
        leads.append((1 << j, back, refine, scan == "search"))
    return table, leads


#: The language-specific recognizers (cue rules); the pattern recognizers are registered for every language.
_CUE_RECOGNIZERS = (ZhPersonCueRecognizer, ZhAddressCueRecognizer, EnPersonCueRecognizer, EnAddressRecognizer)
_CUE_ENTITIES = frozenset({"PERSON", "ADDRESS"})
_CJK_RX = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_RX = re.compile(r"[A-Za-z]")

#: Tie-break between overlapping hits of equal score and length: the more specific (checksummed) type wins.
_PRIORITY = {e: i for i, e in enumerate(("CN_RESIDENT_ID", "US_SSN", "IBAN_CODE", "BANK_CARD", "CREDIT_CARD",
                                         "EMAIL_ADDRESS", "IP_ADDRESS", "CN_PASSPORT", "CN_LICENSE_PLATE",
                                         "PHONE_NUMBER"))}


class CharWindowContextEnhancer(ContextAwareEnhancer):
    """Context enhancement on characters instead of lemmas: when a context word of the hit's recognizer
    (or one passed to ``analyze(context=...)``) occurs, case-insensitively, in the ``before`` characters
    preceding or the ``after`` characters following the hit, the score becomes
    ``max(score + context_similarity_factor, min_score_with_context_similarity)`` (Presidio's rule for its
    lemma enhancer, defaults 0.35 / 0.4), capped at 1.0.
    """

    def __init__(self, before: int = 24, after: int = 8, context_similarity_factor: float = 0.35,
                 min_score_with_context_similarity: float = 0.4):
        super().__init__(context_similarity_factor, min_score_with_context_similarity, before, after)

    def enhance_using_context(self, text, raw_results, nlp_artifacts, recognizers, context=None):
        extra = [c.lower() for c in (context or [])]
        return self.enhance_with_words(text, raw_results, self.context_words(recognizers, extra), extra)

    @staticmethod
    def context_words(recognizers, extra: list[str] | tuple[str, ...] = ()) -> dict[str, tuple[str, ...]]:
        """Per recognizer id: its context words, lower-cased, then ``extra`` (lower-cased words)."""
        return {r.id: (*(w.lower() for w in (getattr(r, "context", None) or [])), *extra) for r in recognizers}

    def enhance_with_words(self, text, raw_results, words_by_id: dict[str, tuple[str, ...]],
                           default: list[str] | tuple[str, ...] = ()):
        """:meth:`enhance_using_context` with the context words of the recognizers already looked up and
        lower-cased (:meth:`context_words`; ``default``: the words of a hit whose recognizer is not among
        them). The analyzer computes them once per set of recognizers, not once per text."""
        for res in raw_results:
            meta = res.recognition_metadata or {}
            words = words_by_id.get(meta.get(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY), default)
            if not words:
                continue
            window = context_window(text, res.start, res.end, self.context_prefix_count, self.context_suffix_count)
            if any(w in window for w in words):
                res.score = min(self.MAX_SCORE, max(res.score + self.context_similarity_factor,
                                                    self.min_score_with_context_similarity))
                meta[RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY] = True
        return raw_results


#: Texts up to this many characters are scanned without ``regex``'s time-out (see :func:`_pattern_hits`).
NO_TIMEOUT_CHARS = 256


def _pattern_hits(rec: PatternRecognizer, patterns: list, text: str) -> list[RecognizerResult]:
    """What ``rec.analyze(text, ...)`` returns for a plain Presidio ``PatternRecognizer`` (same matches,
    ``validate_result`` / ``invalidate_result`` scoring, zero-score filter and ``remove_duplicates``), without
    its analysis explanations, timing and logging. ``patterns``: ``(Pattern, compiled regex)`` pairs, compiled
    with the recognizer's flags.

    Presidio scans with a time-out (:data:`REGEX_TIMEOUT_SECONDS`, 0.1 s of CPU: a pattern that runs longer is
    skipped), a guard against catastrophic backtracking that costs ``regex`` 1-2 us per scan (it reads the
    process clock), more than the scan of a short turn itself. The forge patterns backtrack at most
    polynomially: on texts of :data:`NO_TIMEOUT_CHARS` characters their worst case found by an adversarial
    search is about 0.1 ms, a thousandth of the time-out (``tests/steps/test_pii_prechecks.py`` keeps it under
    10 ms), so the time-out cannot fire there and these texts are scanned without it: same results."""
    results = []
    timeout = None if len(text) <= NO_TIMEOUT_CHARS else REGEX_TIMEOUT_SECONDS
    for pattern, rx in patterns:
        try:
            for m in (rx.finditer(text) if timeout is None else rx.finditer(text, timeout=timeout)):
                start, end = m.span()
                if start == end:
                    continue
                current = text[start:end]
                score = pattern.score
                valid = rec.validate_result(current)
                if valid is not None:
                    score = EntityRecognizer.MAX_SCORE if valid else EntityRecognizer.MIN_SCORE
                invalid = rec.invalidate_result(current)
                if invalid is not None and invalid:
                    score = EntityRecognizer.MIN_SCORE
                if score > EntityRecognizer.MIN_SCORE:
                    results.append(RecognizerResult(rec.supported_entities[0], start, end, score, recognition_metadata={
                        RecognizerResult.RECOGNIZER_NAME_KEY: rec.name,
                        RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: rec.id}))
        except TimeoutError:  # as Presidio: a pattern that times out is skipped
            continue
    return EntityRecognizer.remove_duplicates(results) if results else results


def build_registry(languages: Iterable[str], phone_regions: Iterable[str] = DEFAULT_PHONE_REGIONS,
                   ner_model: str | None = None) -> RecognizerRegistry:
    """A registry holding every forge recognizer explicitly registered for each of ``languages``."""
    languages = list(languages)
    reg = RecognizerRegistry(supported_languages=languages)
    for lang in languages:
        for cls in PATTERN_RECOGNIZERS:
            reg.add_recognizer(cls(supported_language=lang))
        reg.add_recognizer(IntlPhoneRecognizer(supported_language=lang, regions=phone_regions))
        if lang == "zh":
            reg.add_recognizer(ZhPersonCueRecognizer(supported_language=lang))
            reg.add_recognizer(ZhAddressCueRecognizer(supported_language=lang))
        else:
            reg.add_recognizer(EnPersonCueRecognizer(supported_language=lang))
            reg.add_recognizer(EnAddressRecognizer(supported_language=lang))
        if ner_model:
            from .ner import NerRecognizer

            reg.add_recognizer(NerRecognizer(ner_model, supported_language=lang))
    return reg


class PiiAnalyzer:
    """Find PII spans in a turn of text, per language.

    Args:
        languages: languages to configure: ``zh`` and/or ``en`` (the languages with name and address cues).
        entities: entity types to report (default :data:`DEFAULT_ENTITIES`).
        phone_regions: libphonenumber regions for international numbers; must include ``CN``.
        score_threshold: minimum score of a reported hit (0-1).
        ner_model: optional spaCy/transformers NER model name (see :mod:`.ner`).

    Raises:
        ForgeError: a language other than zh/en, unknown entity, ``LOCATION`` without ``ner_model``, or a failed
            :meth:`self_check`.
    """

    def __init__(self, languages: Iterable[str] = ("zh", "en"), entities: Iterable[str] | None = None,
                 phone_regions: Iterable[str] = DEFAULT_PHONE_REGIONS, score_threshold: float = 0.5,
                 ner_model: str | None = None):
        self.languages = [str(x) for x in languages]
        if not self.languages:
            raise ForgeError("--pii-langs is empty: give at least one language (zh, en)")
        other = [x for x in self.languages if x not in ("zh", "en")]
        if other:
            raise ForgeError(f"--pii-langs {other[0]!r}: PII recognition is configured for zh and en only (other "
                             "languages would get no name or address cues, silently); give zh and/or en")
        self.entities = list(entities) if entities is not None else list(DEFAULT_ENTITIES)
        unknown = sorted(set(self.entities) - set(ALL_ENTITIES))
        if unknown:
            raise ForgeError(f"--pii-entities: unknown entity type(s) {unknown}; choose from {list(ALL_ENTITIES)}")
        if "LOCATION" in self.entities and not ner_model:
            raise ForgeError("--pii-entities LOCATION needs --ner-model (a spaCy or transformers NER model); "
                             "without one, use ADDRESS (cue-based) instead")
        self.phone_regions = [r.upper() for r in phone_regions]
        import phonenumbers

        bad = [r for r in self.phone_regions if r not in phonenumbers.SUPPORTED_REGIONS]
        if bad:
            raise ForgeError(f"--phone-regions: unknown region code(s) {bad}; use two-letter ISO 3166 codes "
                             "that libphonenumber knows (CN, US, GB, HK, ...)")
        if not 0.0 <= score_threshold <= 1.0:
            raise ForgeError(f"--pii-score-threshold {score_threshold}: must be between 0 and 1 (recognizer "
                             "scores are 0-1; the default is 0.5)")
        self.score_threshold = score_threshold
        self.ner_model = ner_model
        offline_tldextract()
        registry = build_registry(self.languages, self.phone_regions, ner_model)
        nlp = NoOpNlpEngine(models=[{"lang_code": lang, "model_name": "none"} for lang in self.languages])
        self.engine = AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=self.languages,
                                     context_aware_enhancer=CharWindowContextEnhancer(),
                                     default_score_threshold=score_threshold)
        # BANK_CARD is a relabelled CREDIT_CARD hit: it needs the card recognizer.
        query = {e: ("CREDIT_CARD" if e == "BANK_CARD" else e) for e in self.entities}
        by_pattern: dict[str, set[str]] = {}
        for e in self.entities:
            # an NER model looks at every text with letters, not only at texts with cue words
            for trigger in _TRIGGERS["LOCATION"] if (ner_model and e in NAME_LIKE) else _TRIGGERS[e]:
                by_pattern.setdefault(trigger, set()).add(query[e])
        # one search per distinct trigger pattern (separate searches beat one alternation: each keeps the
        # regex engine's literal-prefix fast path)
        self._triggers = [(re.compile(p), ents) for p, ents in by_pattern.items()]
        self._lead_bits, self._trigger_leads = _lead_table(list(by_pattern))
        self._recognizers = {lang: self.engine.registry.get_recognizers(language=lang, all_fields=True)
                             for lang in self.languages}
        # the cue recognizers of each language (the only language-specific ones), also run on a turn of
        # another language when it holds that language's script: "Hi, 我叫王小明, call me back" is an English turn
        # with a Chinese name cue, "收件人：Mary Johnson" a Chinese one with an English name
        self._cues = {lang: [r for r in recs if isinstance(r, _CUE_RECOGNIZERS)]
                      for lang, recs in self._recognizers.items()}
        for recs in self._recognizers.values():
            for rec in recs:
                if not rec.is_loaded:
                    rec.load()
                    rec.is_loaded = True
        # A plain PatternRecognizer (analyze not overridden) is run by _pattern_hits: its patterns, compiled as
        # Presidio compiles them, without the per-call overhead of PatternRecognizer.analyze (timing, debug
        # logging, explanation objects; ~15 us per recognizer and text).
        self._plans: dict[tuple[str, frozenset[str]], list] = {}
        self._prechecks: dict[str, list] = {}
        # ... and only when its can_match (a cheap necessary condition of its patterns, see
        # recognizers._ForgePatternRecognizer.can_match) holds: (bound method, whether it reads the digit runs)
        self._can_match: dict[str, tuple] = {}
        for recs in self._recognizers.values():
            for rec in recs:
                if (isinstance(rec, PatternRecognizer) and type(rec).analyze is PatternRecognizer.analyze
                        and rec.patterns):
                    self._prechecks[rec.id] = [(p, regex.compile(p.regex, flags=rec.global_regex_flags))
                                               for p in rec.patterns]
                    if (isinstance(rec, _ForgePatternRecognizer)
                            and type(rec).can_match is not _ForgePatternRecognizer.can_match):
                        self._can_match[rec.id] = (rec.can_match, rec.NEEDS_DIGIT_RUNS)
        self.self_check()

    def self_check(self) -> None:
        """Fail loudly on a silent misconfiguration: every language must support every requested entity,
        ``CN`` must be among the phone regions, and known PII must be found in each language."""
        if "PHONE_NUMBER" in self.entities and "CN" not in self.phone_regions:
            raise ForgeError(f"--phone-regions {self.phone_regions} lacks CN: Chinese numbers with +86 would be "
                             "missed; add CN")
        for lang in self.languages:
            supported = set(self.engine.get_supported_entities(language=lang)) | {"BANK_CARD"}
            missing = sorted(set(self.entities) - supported)
            if missing:
                raise ForgeError(f"PII self-check: language {lang!r} has no recognizer for {missing}; the "
                                 "analyzer would silently find nothing for them")
            probes = {"PHONE_NUMBER": "call 13800138000 now", "EMAIL_ADDRESS": "mail test@example.com today"}
            for ent, probe in probes.items():
                if ent in self.entities and not any(r.entity_type == ent for r in self.analyze(probe, lang)):
                    raise ForgeError(f"PII self-check: {ent} probe not found for language {lang!r}")

    def language_of(self, text: str) -> str:
        """The configured language to analyse ``text`` with (script share, else the first configured)."""
        lang = detect_lang(text, default=self.languages[0])
        return lang if lang in self.languages else self.languages[0]

    def may_contain_pii(self, text: str) -> bool:
        """False when no trigger fires anywhere in ``text`` (one regex scan; use it on a whole dialogue)."""
        text = fold_fullwidth(text)
        return any(rx.search(text) for rx, _ in self._triggers)

    def fired_triggers(self, text: str, triggers: list[tuple[re.Pattern, set[str]]] | None = None
                       ) -> list[tuple[re.Pattern, set[str]]]:
        """The trigger regexes (with their entities) of ``triggers`` (default all) that fire somewhere in
        ``text`` -- run once on a whole dialogue, then pass the result to :meth:`analyze` of its turns so that
        each searches only these."""
        text = fold_fullwidth(text)
        return [t for t in (self._triggers if triggers is None else triggers) if t[0].search(text)]

    def fired_triggers_batch(self, texts: list[str]) -> list[list[tuple[re.Pattern, set[str]]]]:
        """The triggers that fire in each of ``texts`` (a batch of turns); equal to
        ``[self.fired_triggers(t) for t in texts]``, computed for the whole batch at once.

        The texts are joined by ``"\\x00"`` (no trigger matches it, so no match spans two texts, and it is a
        non-word character for look-arounds like a text's own start or end), converted to code points and
        looked up in the lead table (:func:`_lead_table`): one numpy pass finds, for every trigger, the
        positions of its *lead* -- the two characters every one of its matches starts with
        (:data:`_LEADS`: ``我叫``/``患者``/... for a cue trigger, a province and a capital for a plate, a
        digit and a digit or separator for :data:`_DIGITS`), narrowed further by some triggers' ``refine``
        condition. A trigger fires in a text iff it matches at one of these positions (``"match"`` leads) or
        from the first of them on (``"search"`` leads), so the regex runs only there, on the text with
        full-width forms folded (as :meth:`fired_triggers` folds it). Most texts hold no lead of most triggers."""
        if not texts:
            return []
        n = len(texts)
        joined = "\x00".join(texts) + "\x00\x00\x00"  # the refine conditions look up to 3 characters ahead
        cp = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        bits = np.take(self._lead_bits, cp, mode="clip")  # above the BMP: the entry of U+FFFF
        starts = np.zeros(n, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=n)[:-1] + 1, out=starts[1:])
        pieces = list(texts)  # offsets are unchanged by folding; only the texts holding a full-width form are folded
        fw = np.flatnonzero(bits & _FW_BIT)
        if fw.size:
            for k in np.unique(np.searchsorted(starts, fw, side="right") - 1).tolist():
                pieces[k] = fold_fullwidth(texts[k])
        pair = bits[:-1] & (bits[1:] >> 16)  # bit j: the lead of the j-th trigger starts here
        at = np.flatnonzero(pair)
        at_bits = pair[at]
        fired: list[list[tuple[re.Pattern, set[str]]]] = [[] for _ in texts]
        for trig, lead in zip(self._triggers, self._trigger_leads):
            if lead is None:
                self._scan_every_text(trig, pieces, fired)
                continue
            bit, back, refine, search = lead
            q = at[(at_bits & bit) != 0]
            if refine is not None and q.size:
                q = refine(q, cp, bits, bit)
            if not q.size:
                continue
            ks = np.searchsorted(starts, q, side="right") - 1
            offsets = q - starts[ks] + back
            if search:  # from the first lead of each text on
                ks, first = np.unique(ks, return_index=True)
                offsets = offsets[first]
            find = trig[0].search if search else trig[0].match
            last = -1
            for k, o in zip(ks.tolist(), offsets.tolist()):
                if k != last and find(pieces[k], o) is not None:
                    fired[k].append(trig)
                    last = k
        return fired

    @staticmethod
    def _scan_every_text(trig: tuple[re.Pattern, set[str]], pieces: list[str], fired: list[list]) -> None:
        """Add ``trig`` to ``fired[k]`` for every text ``pieces[k]`` (folded) it fires in: one scan of the texts
        joined by ``"\\x00"``, resuming at the next text after a hit (for a trigger without a lead)."""
        joined = "\x00".join(pieces)
        starts = [0, *accumulate(len(t) + 1 for t in pieces[:-1])]
        last = len(starts) - 1
        search = trig[0].search
        p = 0
        while (m := search(joined, p)) is not None:
            k = bisect_right(starts, m.start()) - 1
            fired[k].append(trig)
            if k == last:
                break
            p = starts[k + 1]

    def analyze(self, text: str, language: str | None = None,
                triggers: list[tuple[re.Pattern, set[str]]] | None = None, exact: bool = False
                ) -> list[RecognizerResult]:
        """Non-overlapping PII hits in ``text`` sorted by start (character offsets, end exclusive).

        ``language`` defaults to :meth:`language_of`. Only the registry's recognizers (for that language)
        of entities whose trigger regex fires run; then context enhancement, the score threshold and
        :meth:`postprocess` -- the steps of ``AnalyzerEngine.analyze`` without its per-call overhead
        (:meth:`analyze_with_engine` is the plain Presidio call, same recognizers). ``triggers``: a
        subset of the triggers known to hold every one that can fire on ``text`` (:meth:`fired_triggers` of
        the dialogue it belongs to); default all. ``exact``: ``triggers`` are exactly those that fire on
        ``text`` (:meth:`fired_triggers_batch`), so they are not searched again.
        """
        text = fold_fullwidth(text)  # offsets unchanged: spans index the original text too
        wanted: set[str] = set()
        for rx, ents in (self._triggers if triggers is None else triggers):
            if exact or rx.search(text):
                wanted |= ents
        if not wanted:
            return []
        lang = language or self.language_of(text)
        mixed: tuple[str, ...] = ()
        if len(self.languages) > 1 and not wanted.isdisjoint(_CUE_ENTITIES):
            # mixed-script turn: the other languages' cue recognizers too (see __init__)
            mixed = tuple(other for other in self.languages if other != lang
                          and (_CJK_RX if other == "zh" else _LATIN_RX).search(text))
        key = (lang, frozenset(wanted), mixed)
        plan = self._plans.get(key)
        if plan is None:  # the recognizers to run for this language and set of entities (a handful of sets)
            recs = [*self._recognizers[lang], *(r for other in mixed for r in self._cues[other])]
            steps = [(rec, [e for e in rec.supported_entities if e in wanted], self._prechecks.get(rec.id),
                      self._can_match.get(rec.id)) for rec in recs]
            steps = [p for p in steps if p[1]]
            used = [p[0] for p in steps]
            plan = self._plans[key] = (steps, used, CharWindowContextEnhancer.context_words(used))
        steps, used, words = plan
        results: list[RecognizerResult] = []
        runs: tuple[int, ...] | None | bool = False  # digit_runs(text), computed for the first check that needs it
        for rec, ents, pre, check in steps:
            if pre is not None:
                if check is not None:  # cheap necessary conditions of the patterns: skip those that cannot match
                    if check[1] and runs is False:
                        runs = digit_runs(text)
                    can = check[0](text, runs if check[1] else None)
                    if can is not True:
                        if can is False:
                            continue
                        pre = [p for p, ok in zip(pre, can) if ok]
                        if not pre:
                            continue
                results += _pattern_hits(rec, pre, text)  # their metadata names the recognizer already
                continue
            for r in rec.analyze(text, ents, None) or []:
                meta = r.recognition_metadata if r.recognition_metadata is not None else {}
                meta.setdefault(RecognizerResult.RECOGNIZER_NAME_KEY, rec.name)
                meta.setdefault(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY, rec.id)
                r.recognition_metadata = meta
                results.append(r)
        if results:
            enhancer = self.engine.context_aware_enhancer
            if type(enhancer) is CharWindowContextEnhancer:  # the context words of this plan, lower-cased once
                results = enhancer.enhance_with_words(text, results, words)
            else:
                results = enhancer.enhance_using_context(text, results, None, used)
        return self.postprocess(text, [r for r in results if r.score >= self.score_threshold])

    def analyze_with_engine(self, text: str, language: str | None = None) -> list[RecognizerResult]:
        """The same analysis through Presidio's ``AnalyzerEngine.analyze`` (no triggers; slower)."""
        lang = language or self.language_of(text)
        results = self.engine.analyze(text, language=lang, score_threshold=self.score_threshold)
        return self.postprocess(text, results)

    def postprocess(self, text: str, results: list[RecognizerResult]) -> list[RecognizerResult]:
        """Relabel UnionPay cards, drop name-like hits without letters/CJK or that are ordinary words,
        keep only requested entities, and resolve overlaps (higher score, then longer span, then the more
        specific type wins)."""
        relabel_bank_cards(text, results)
        keep = []
        for r in results:
            if r.entity_type not in self.entities:
                continue
            span = text[r.start:r.end]
            if r.entity_type in NAME_LIKE and (not any(c.isalpha() for c in span)
                                               or span.strip().lower() in ORDINARY_WORDS):
                continue
            keep.append(r)
        keep.sort(key=lambda r: (-r.score, -(r.end - r.start), _PRIORITY.get(r.entity_type, 99), r.start))
        chosen: list[RecognizerResult] = []
        for r in keep:
            if all(r.end <= c.start or r.start >= c.end for c in chosen):
                chosen.append(r)
        return sorted(chosen, key=lambda r: r.start)
