"""Reference-based metrics for generated replies: chrF, BLEU, ROUGE-1/ROUGE-L, embedding similarity,
reply length and the stop check.

Every metric is computed per example (so that :mod:`dialog_forge.evaluate.compare` can bootstrap paired
deltas) and summarised by :func:`summarise`. Scores are in [0, 1] (sacrebleu's 0-100 scale is divided by
100) except ``reply_chars`` (characters) and ``reply_tokens`` (model tokens).

Tokenisation (case U26): Chinese, Japanese and Korean text has no spaces, so a whitespace tokenizer sees a
whole sentence as one token and ROUGE collapses to 0 or 1. Here

* ROUGE uses :func:`rouge_tokens`: every CJK character is one token and every run of other letters or
  digits is one lower-cased word token (character level for CJK, word level otherwise; mixed text works);
* BLEU uses sacrebleu's ``zh`` tokenizer when the reference is Chinese/CJK (:func:`is_cjk`) and ``13a``
  otherwise;
* chrF works on characters and needs no tokenizer.

The choices are returned by :func:`tokenizer_info` and written into ``eval.json``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

# CJK Unified Ideographs (+ext A, compatibility), Hiragana, Katakana, Hangul syllables.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u309f\u30a0-\u30ff\uac00-\ud7af"
_CJK_RE = re.compile(f"[{_CJK}]")
_TOKEN_RE = re.compile(f"[{_CJK}]|[^\\W_{_CJK}]+", re.UNICODE)

ROUGE_TOKENIZER = "cjk-char+word: one token per CJK character, one lower-cased token per run of other letters/digits"


def is_cjk(text: str, threshold: float = 0.3) -> bool:
    """True when at least ``threshold`` of the non-space characters of ``text`` are CJK."""
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return False
    return sum(1 for c in chars if _CJK_RE.match(c)) / len(chars) >= threshold


def rouge_tokens(text: str) -> list[str]:
    """Tokens for ROUGE: each CJK character alone, each run of other letters/digits as one lower-cased
    word; punctuation and spaces dropped. ``"今天 OK, fine"`` -> ``["今", "天", "ok", "fine"]``."""
    return [t.lower() for t in _TOKEN_RE.findall(text)]


def _lcs_len(a: Sequence[str], b: Sequence[str]) -> int:
    """Length of the longest common subsequence (O(len(a)*len(b)) dynamic programme, one row kept)."""
    if not a or not b:
        return 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b, 1):
            cur.append(prev[j - 1] + 1 if x == y else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]


def _f1(overlap: float, n_pred: int, n_ref: int) -> float:
    if overlap == 0 or n_pred == 0 or n_ref == 0:
        return 0.0
    p, r = overlap / n_pred, overlap / n_ref
    return 2 * p * r / (p + r)


def rouge_l(prediction: str, reference: str) -> float:
    """ROUGE-L F1 (Lin, 2004, "ROUGE: A Package for Automatic Evaluation of Summaries", sec. 3.1, with
    beta = 1): LCS length over the :func:`rouge_tokens` of both texts. Two empty texts score 1."""
    p, r = rouge_tokens(prediction), rouge_tokens(reference)
    if not p and not r:
        return 1.0
    return _f1(_lcs_len(p, r), len(p), len(r))


def rouge_n(prediction: str, reference: str, n: int = 1) -> float:
    """ROUGE-N F1 (Lin, 2004, sec. 2): clipped n-gram overlap over :func:`rouge_tokens`."""
    from collections import Counter

    p, r = rouge_tokens(prediction), rouge_tokens(reference)
    if not p and not r:
        return 1.0
    pg = Counter(tuple(p[i:i + n]) for i in range(len(p) - n + 1))
    rg = Counter(tuple(r[i:i + n]) for i in range(len(r) - n + 1))
    overlap = sum((pg & rg).values())
    return _f1(overlap, sum(pg.values()), sum(rg.values()))


def bleu_tokenizer(reference: str) -> str:
    """sacrebleu tokenizer name for a reference: ``zh`` for CJK text, ``13a`` otherwise."""
    return "zh" if is_cjk(reference) else "13a"


def sentence_bleu(prediction: str, reference: str) -> float:
    """Sentence BLEU in [0, 1] (Papineni et al., 2002) via sacrebleu with ``effective_order`` and the
    default ``exp`` smoothing, tokenizer from :func:`bleu_tokenizer`."""
    from sacrebleu.metrics import BLEU

    return BLEU(tokenize=bleu_tokenizer(reference), effective_order=True).sentence_score(
        prediction, [reference]).score / 100.0


def sentence_chrf(prediction: str, reference: str) -> float:
    """chrF (Popovic, 2015; character 6-grams, beta = 2) in [0, 1] via sacrebleu."""
    from sacrebleu.metrics import CHRF

    return CHRF().sentence_score(prediction, [reference]).score / 100.0


def corpus_scores(predictions: Sequence[str], references: Sequence[str]) -> dict[str, float]:
    """Corpus-level BLEU and chrF in [0, 1] (sacrebleu's standard aggregation, not a mean of sentence
    scores). BLEU uses ``zh`` when most references are CJK, else ``13a``."""
    from sacrebleu.metrics import BLEU, CHRF

    if not predictions:
        return {}
    cjk_share = sum(is_cjk(r) for r in references) / len(references)
    tok = "zh" if cjk_share >= 0.5 else "13a"
    return {
        "corpus_bleu": BLEU(tokenize=tok).corpus_score(list(predictions), [list(references)]).score / 100.0,
        "corpus_chrf": CHRF().corpus_score(list(predictions), [list(references)]).score / 100.0,
        "corpus_bleu_tokenizer": tok,
    }


def embedding_similarity(predictions: Sequence[str], references: Sequence[str], model: str | None = None) -> np.ndarray:
    """Cosine similarity of each prediction to its reference, shape ``(n,)``, with the sentence
    embedding model ``model`` (see :mod:`dialog_forge.models.embedding`; default the bundled MiniLM)."""
    from ..models.embedding import encode

    if not predictions:
        return np.zeros(0, dtype=np.float32)
    vecs = encode(list(predictions) + list(references), model)
    n = len(predictions)
    return np.sum(vecs[:n] * vecs[n:], axis=1)


@dataclass
class Generation:
    """One generated reply: ``prediction`` text, ``reference`` text, ``stopped`` (ended with an
    end-of-turn/EOS token or a stop string before ``max_new_tokens``), ``n_tokens`` generated, and the
    record's ``id``, ``domain``, ``task``."""

    id: str
    prediction: str
    reference: str
    stopped: bool
    n_tokens: int
    domain: str | None = None
    task: str | None = None
    prompt: list[dict] = field(default_factory=list)


def per_example(gens: Sequence[Generation], embedding_model: str | None = "minilm") -> dict[str, list[float]]:
    """Per-example metric columns for ``gens``: ``chrf``, ``bleu``, ``rouge1``, ``rougeL`` (all [0, 1]),
    ``embedding_sim`` (cosine, [-1, 1]; omitted when ``embedding_model`` is ``None``), ``reply_chars``,
    ``reply_tokens`` and ``stopped`` (0/1). Each column has ``len(gens)`` values."""
    preds = [g.prediction for g in gens]
    refs = [g.reference for g in gens]
    cols: dict[str, list[float]] = {
        "chrf": [sentence_chrf(p, r) for p, r in zip(preds, refs)],
        "bleu": [sentence_bleu(p, r) for p, r in zip(preds, refs)],
        "rouge1": [rouge_n(p, r, 1) for p, r in zip(preds, refs)],
        "rougeL": [rouge_l(p, r) for p, r in zip(preds, refs)],
    }
    if embedding_model is not None:
        cols["embedding_sim"] = [float(x) for x in embedding_similarity(preds, refs, embedding_model)]
    cols["reply_chars"] = [float(len(p)) for p in preds]
    cols["reply_tokens"] = [float(g.n_tokens) for g in gens]
    cols["stopped"] = [1.0 if g.stopped else 0.0 for g in gens]
    return cols


def summarise(cols: dict[str, Iterable[float]]) -> dict[str, float]:
    """Mean of each per-example column; ``stopped`` becomes ``stop_rate`` (share of replies that ended
    with the end-of-turn token before the length limit)."""
    out = {}
    for k, v in cols.items():
        arr = np.asarray(list(v), dtype=np.float64)
        out["stop_rate" if k == "stopped" else k] = float(arr.mean()) if arr.size else float("nan")
    return out


def tokenizer_info() -> dict[str, str]:
    """The tokenizer choices behind each metric, for the report (case U26)."""
    return {
        "rouge": ROUGE_TOKENIZER,
        "bleu": "sacrebleu 'zh' for CJK references, '13a' otherwise",
        "chrf": "characters (sacrebleu chrF, n=6, beta=2)",
    }
