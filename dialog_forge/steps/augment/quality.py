"""The variant check: every generated text passes it before it is kept.

For a (source, variant) pair of texts, in this order (the first failure is the reason):

============== ===================================================================================
reason         failing when
============== ===================================================================================
empty          the variant is empty or whitespace only
identical      equal to the source after :func:`normalize` (NFKC, case folded, no spaces/punctuation);
               for noise and synonym variants, whose punctuation and spacing edits are the point,
               equal after stripping outer whitespace
protected_lost a placeholder (``<PHONE_NUMBER>``...) of the source is missing, or the digit sequence
               changed (noise and rule-based ops only; a paraphrase may legitimately reorder numbers,
               so for model ops only placeholders are checked)
lang_changed   :func:`detect_lang` of source and variant differ (both must be decidable; for context
               variants two turns that both hold Han characters count as the same language)
new_pii        the variant holds a PII value (e-mail, phone, id/card number, URL) the source does not
near_copy      character-bigram Jaccard (:func:`char_jaccard`) > ``max_jaccard`` (default 0.9)
drift          embedding cosine to the source < ``min_cosine`` (default 0.7)
============== ===================================================================================

``near_copy`` and ``drift`` apply to model-made variants (paraphrase, backtranslate); for context variants
the added user turn is compared with the record's user turn, without the placeholder and drift checks
(the context operator checks topic closeness itself).
Noise variants are near copies by design and surface typos move sentence embeddings a lot while keeping
the meaning (which the protected-span rules guard), so noise is checked for the other reasons only.

PII: the clean step's Presidio analyzer (:class:`dialog_forge.steps.pii.analyzer.PiiAnalyzer`, zh + en,
built once, about 5 s) when it can be built; otherwise a light regex detector (:data:`PII_PATTERNS`:
e-mail, URL, CN resident id, phone, card number). :func:`pii_detector` says which one ran. Embeddings come from
:mod:`dialog_forge.models.embedding` (default ``minilm``: English-centred; name a multilingual model with
``--embedding-model`` for Chinese data).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from ...models import embedding

CHECK_REASONS: dict[str, str] = {
    "empty": "the variant is empty",
    "identical": "the variant equals its source after normalisation",
    "protected_lost": "a placeholder or the numbers of the source were lost or changed",
    "lang_changed": "the variant is not in the source's language",
    "new_pii": "the variant introduces PII absent from the source",
    "near_copy": "the variant is a near copy of the source (character Jaccard above --max-jaccard)",
    "drift": "the variant drifts in meaning (embedding cosine below --min-cosine)",
}

PLACEHOLDER = re.compile(r"<[A-Z][A-Z0-9_]*(?::[0-9A-Za-z]+)?>|\[[A-Z][A-Z0-9_]*\]|\{\{\s*\w+\s*\}\}")
PII_PATTERNS: dict[str, re.Pattern] = {
    "EMAIL_ADDRESS": re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    "URL": re.compile(r"https?://\S+|www\.\S+"),
    "CN_ID_CARD": re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)"),
    "PHONE_NUMBER": re.compile(r"(?<!\d)(?:\+?\d{1,3}[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)"
                               r"|(?<!\d)\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}(?!\d)"),
    "CREDIT_CARD": re.compile(r"(?<!\d)(?:\d{4}[\s-]?){3}\d{4}(?!\d)"),
}
_STRIP = re.compile(r"[\W_]+", re.UNICODE)
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")
_KANA = re.compile(r"[\u3041-\u3096\u30a1-\u30fa]")  # hiragana, katakana (not the shared marks ・ー)
_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3131-\u318e]")


def normalize(text: str) -> str:
    """NFKC, case folded, with whitespace, punctuation and symbols removed (for the identical check)."""
    return _STRIP.sub("", unicodedata.normalize("NFKC", text).casefold())


def char_jaccard(a: str, b: str, n: int = 2) -> float:
    """Jaccard similarity |A∩B| / |A∪B| of the character ``n``-gram (shingle) sets of the normalised texts
    (unigrams when a text is shorter than ``n``). 1.0 for two empty texts."""
    a, b = normalize(a), normalize(b)
    k = n if min(len(a), len(b)) >= n else 1
    sa = {a[i:i + k] for i in range(len(a) - k + 1)}
    sb = {b[i:i + k] for i in range(len(b) - k + 1)}
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb)


def detect_lang(text: str) -> str | None:
    """``ja`` when kana are at least 2 and at least a fifth as many as the Han characters (kanji), ``ko``
    for mostly Hangul text, ``zh`` when Han characters are at least a quarter of the letters (Han +
    Latin), ``en`` when there are Latin letters and no Han character, ``None`` when undecidable (digits,
    emoji, punctuation). Japanese must not pass for Chinese: its kanji would otherwise make it ``zh``
    (rule-based ``context`` would chain it with Chinese records, ``backtranslate`` send it to a zh model)."""
    han = len(_HAN.findall(text))
    latin = len(_LATIN.findall(text))
    kana = len(_KANA.findall(text))
    hangul = len(_HANGUL.findall(text))
    if hangul >= 2 and hangul >= han + kana and hangul * 4 >= latin:
        return "ko"
    if kana >= 2 and kana * 5 >= han and (han + kana) * 4 >= latin:
        return "ja"
    if han and han * 4 >= latin:
        return "zh"
    if latin >= 2 and not han:
        return "en"
    if han or latin:
        return "zh" if han * 4 >= latin else "en"
    return None


def _same_script_family(a: str, b: str) -> bool:
    """True when both texts hold Han characters: for context variants, whose two turns are separate
    questions of records already matched by language, a Chinese question that is mostly Latin letters
    ("HBsAg阳性HBsAb阴性……") is still Chinese, not a language change."""
    return bool(_HAN.search(a)) and bool(_HAN.search(b))


def lang_matches(text: str, lang: str | None) -> bool:
    """True when ``text`` may be in ``lang`` (a primary subtag: ``zh``, ``en``, ``ja``...): no ``lang``, an
    undecidable text, :func:`detect_lang` agreeing, or ``lang == "zh"`` and the text holds Han characters
    without being Japanese or Korean (a Chinese question that is mostly Latin letters, "HBsAg+ HBeAb+
    是什么意思", is still Chinese)."""
    if not lang:
        return True
    got = detect_lang(text)
    if got in (None, lang):
        return True
    return lang == "zh" and got == "en" and bool(_HAN.search(text))


def digits(text: str) -> str:
    """The digit sequence of ``text`` after NFKC (full-width digits count as digits)."""
    return re.sub(r"\D", "", unicodedata.normalize("NFKC", text))


@functools.lru_cache(maxsize=1)
def _analyzer():
    """The clean step's Presidio analyzer (zh + en), or ``None`` when it cannot be built here."""
    try:
        from ..pii.analyzer import PiiAnalyzer

        return PiiAnalyzer(languages=("zh", "en"))
    except Exception:  # noqa: BLE001 -- not installed, or its self-check failed: the regexes stand in
        return None


def pii_detector() -> str:
    """``presidio`` when the clean step's analyzer is used, else ``regex``."""
    return "presidio" if _analyzer() is not None else "regex"


def pii_values(text: str, lang: str | None = None) -> set[tuple[str, str]]:
    """``{(entity_type, normalised value)}`` found in ``text`` after NFKC (see the module docstring for
    the detector). Placeholders are not PII."""
    text = unicodedata.normalize("NFKC", text)
    analyzer = _analyzer()
    if analyzer is not None:
        lang = lang if lang in ("zh", "en") else None
        return {(r.entity_type, re.sub(r"[\s()-]", "", text[r.start:r.end]).lower())
                for r in analyzer.analyze(text, lang)}
    out = set()
    for etype, pat in PII_PATTERNS.items():
        for m in pat.finditer(text):
            out.add((etype, re.sub(r"[\s()-]", "", m.group()).lower()))
    return out


@dataclass
class QualityConfig:
    """Bounds of the check: ``min_cosine`` (drift), ``max_jaccard`` (near copy), ``embedding_model``."""

    min_cosine: float = 0.7
    max_jaccard: float = 0.9
    embedding_model: str | None = "minilm"


#: Ops whose variants are near copies by design: no near_copy / drift check, strict protected check.
RULE_OPS = frozenset({"noise", "synonym"})
#: Context ops compare an added user turn with the record's own: a new question need not share its
#: placeholders, and topic closeness is checked by the context operator itself (reason ``incoherent``).
CONTEXT_OPS = frozenset({"context_rules", "context_generate"})


class VariantChecker:
    """Checks batches of variants (see the module docstring). ``check`` returns one reason code (a key of
    :data:`CHECK_REASONS`) or ``None`` (kept) per pair; ``last_cosines`` holds the cosines of the last call
    (``nan`` where not computed)."""

    def __init__(self, config: QualityConfig | None = None):
        self.config = config or QualityConfig()
        self.last_cosines: list[float] = []

    def check(self, pairs: list[tuple[str, str, str]]) -> list[str | None]:
        """``pairs``: ``(source, variant, op)`` texts. Embeds every text still needing the drift check in one
        batch."""
        reasons: list[str | None] = []
        need_cos: list[int] = []
        for i, (src, var, op) in enumerate(pairs):
            r = self._cheap(src, var, op)
            reasons.append(r)
            if r is None and op not in RULE_OPS and op not in CONTEXT_OPS and self.config.min_cosine > -1:
                need_cos.append(i)
        self.last_cosines = [float("nan")] * len(pairs)
        if need_cos:
            texts = [pairs[i][0] for i in need_cos] + [pairs[i][1] for i in need_cos]
            vecs = embedding.encode(texts, self.config.embedding_model)
            k = len(need_cos)
            cos = np.sum(vecs[:k] * vecs[k:], axis=1)
            for j, i in enumerate(need_cos):
                self.last_cosines[i] = float(cos[j])
                if cos[j] < self.config.min_cosine:
                    reasons[i] = "drift"
        return reasons

    def _cheap(self, src: str, var: str, op: str) -> str | None:
        if not var or not var.strip():
            return "empty"
        if (src.strip() == var.strip()) if op in RULE_OPS else (normalize(src) == normalize(var)):
            return "identical"
        if op not in CONTEXT_OPS and sorted(PLACEHOLDER.findall(src)) != sorted(PLACEHOLDER.findall(var)):
            return "protected_lost"
        if op in RULE_OPS and digits(src) != digits(var):
            return "protected_lost"
        ls, lv = detect_lang(src), detect_lang(var)
        if ls and lv and ls != lv and not (op in CONTEXT_OPS and _same_script_family(src, var)):
            return "lang_changed"
        if pii_values(var, lv) - pii_values(src, ls):
            return "new_pii"
        if op not in RULE_OPS and char_jaccard(src, var) > self.config.max_jaccard:
            return "near_copy"
        return None
