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
* **Speed.** Each entity has a cheap trigger regex; a text runs only the recognizers whose trigger fires
  (most chat turns fire none and cost one regex scan), called directly rather than through
  ``AnalyzerEngine.analyze`` (same recognizers, enhancer and threshold; see :meth:`PiiAnalyzer.analyze`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ._presidio import import_presidio

import_presidio()
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry, RecognizerResult
from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
from presidio_analyzer.nlp_engine import NoOpNlpEngine

from ...errors import ForgeError
from .context_en import EnAddressRecognizer, EnPersonCueRecognizer
from .context_zh import ZhAddressCueRecognizer, ZhPersonCueRecognizer
from .entities import ALL_ENTITIES, DEFAULT_ENTITIES, DEFAULT_PHONE_REGIONS, NAME_LIKE, STRUCTURED_ENTITIES  # noqa: F401
from .lang import detect_lang
from .recognizers import (PATTERN_RECOGNIZERS, IntlPhoneRecognizer, context_window, offline_tldextract,
                          relabel_bank_cards)

#: Words never redacted as names/places even if a cue or a model says so.
ORDINARY_WORDS = frozenset({
    "today", "tomorrow", "yesterday", "quarterly", "monthly", "weekly", "daily", "annual", "hello", "thanks",
    "thank", "doctor", "patient", "sir", "madam", "user", "assistant", "customer",
    "今天", "明天", "昨天", "医生", "患者", "先生", "女士", "客户", "用户", "您好", "你好", "谢谢",
})

_CUE_WORDS_ZH = ("我叫|名叫|叫做|姓名|名字|患者|病人|联系人|收件人|收货人|户名|持卡人|经办人|家属|签名|署名|本人|我是|"
                 "先生|女士|小姐|老师|医生|大夫|主任|教授|经理|阿姨|叔叔|同学|护士")
_ADDR_WORDS_ZH = "省|市|区|县|路|街|住|地址|寄|送|自治区|特别行政区"
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
    "IP_ADDRESS": (r"\d\.\d", r"[0-9A-Fa-f]:[0-9A-Fa-f]*:"),
    "CN_LICENSE_PLATE": (r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-Z]",),
    "URL": (r"(?i:://|www\.)",),
    "DATE_TIME": (r"\d{4}",),
    "PERSON": (_CUE_WORDS_ZH, r"(?=[NnDdMmPpCcSsRr])\b(?i:name|dear|mrs?|ms|miss|dr|prof|patient|contact|sincerely|"
               r"regards|signed|call me)\b"),
    "ADDRESS": (_ADDR_WORDS_ZH, r"\d [A-Z][a-z]"),
    "LOCATION": (r"[^\W\d_]",),
}


#: Full-width forms folded to ASCII for analysis only (same length, so offsets stay valid): digits, Latin
#: letters and the characters that occur inside PII values (``＠ ＋ － ． （ ） ／ ＿``). Chinese input
#: methods in full-width mode type ``１３８００１３８０００``; NFKC (off by default) is not needed to find it,
#: and the text itself is left as it is. Full-width sentence punctuation (，。：) is not folded.
_FULLWIDTH_FOLD = {c: c - 0xFEE0 for c in [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B),
                                             0xFF20, 0xFF0B, 0xFF0D, 0xFF0E, 0xFF08, 0xFF09, 0xFF0F, 0xFF3F]}

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
        by_id = {r.id: r for r in recognizers}
        extra = [c.lower() for c in (context or [])]
        for res in raw_results:
            meta = res.recognition_metadata or {}
            rec = by_id.get(meta.get(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY))
            words = list(getattr(rec, "context", None) or []) + extra
            if not words:
                continue
            window = context_window(text, res.start, res.end, self.context_prefix_count, self.context_suffix_count)
            if any(w.lower() in window for w in words):
                res.score = min(self.MAX_SCORE, max(res.score + self.context_similarity_factor,
                                                    self.min_score_with_context_similarity))
                meta[RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY] = True
        return raw_results


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
        languages: languages to configure (``zh``, ``en``; others get the language-neutral patterns).
        entities: entity types to report (default :data:`DEFAULT_ENTITIES`).
        phone_regions: libphonenumber regions for international numbers; must include ``CN``.
        score_threshold: minimum score of a reported hit (0-1).
        ner_model: optional spaCy/transformers NER model name (see :mod:`.ner`).

    Raises:
        ForgeError: unknown entity, ``LOCATION`` without ``ner_model``, or a failed :meth:`self_check`.
    """

    def __init__(self, languages: Iterable[str] = ("zh", "en"), entities: Iterable[str] | None = None,
                 phone_regions: Iterable[str] = DEFAULT_PHONE_REGIONS, score_threshold: float = 0.5,
                 ner_model: str | None = None):
        self.languages = [str(x) for x in languages]
        if not self.languages:
            raise ForgeError("--pii-langs is empty: give at least one language (zh, en)")
        self.entities = list(entities) if entities is not None else list(DEFAULT_ENTITIES)
        unknown = sorted(set(self.entities) - set(ALL_ENTITIES))
        if unknown:
            raise ForgeError(f"--pii-entities: unknown entity type(s) {unknown}; choose from {list(ALL_ENTITIES)}")
        if "LOCATION" in self.entities and not ner_model:
            raise ForgeError("--pii-entities LOCATION needs --ner-model (a spaCy or transformers NER model); "
                             "without one, use ADDRESS (cue-based) instead")
        self.phone_regions = [r.upper() for r in phone_regions]
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
        self._recognizers = {lang: self.engine.registry.get_recognizers(language=lang, all_fields=True)
                             for lang in self.languages}
        for recs in self._recognizers.values():
            for rec in recs:
                if not rec.is_loaded:
                    rec.load()
                    rec.is_loaded = True
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

    def analyze(self, text: str, language: str | None = None,
                triggers: list[tuple[re.Pattern, set[str]]] | None = None) -> list[RecognizerResult]:
        """Non-overlapping PII hits in ``text`` sorted by start (character offsets, end exclusive).

        ``language`` defaults to :meth:`language_of`. Only the registry's recognizers (for that language)
        of entities whose trigger regex fires run; then context enhancement, the score threshold and
        :meth:`postprocess` -- the steps of ``AnalyzerEngine.analyze`` without its per-call overhead
        (:meth:`analyze_with_engine` is the plain Presidio call, same recognizers). ``triggers``: a
        subset of the triggers known to hold every one that can fire on ``text`` (:meth:`fired_triggers` of
        the dialogue it belongs to); default all.
        """
        text = fold_fullwidth(text)  # offsets unchanged: spans index the original text too
        wanted: set[str] = set()
        for rx, ents in (self._triggers if triggers is None else triggers):
            if rx.search(text):
                wanted |= ents
        if not wanted:
            return []
        lang = language or self.language_of(text)
        used, results = [], []
        for rec in self._recognizers[lang]:
            ents = [e for e in rec.supported_entities if e in wanted]
            if not ents:
                continue
            used.append(rec)
            for r in rec.analyze(text, ents, None) or []:
                meta = r.recognition_metadata if r.recognition_metadata is not None else {}
                meta.setdefault(RecognizerResult.RECOGNIZER_NAME_KEY, rec.name)
                meta.setdefault(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY, rec.id)
                r.recognition_metadata = meta
                results.append(r)
        if results:
            results = self.engine.context_aware_enhancer.enhance_using_context(text, results, None, used)
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
