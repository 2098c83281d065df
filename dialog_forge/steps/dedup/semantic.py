"""Semantic duplicates: pairs of texts whose sentence embeddings have cosine similarity >= a threshold.

Embeddings come from :func:`dialog_forge.models.embedding.encode` (sentence-transformers, L2-normalised,
so cosine = dot product). The default model ``minilm`` is the offline all-MiniLM-L6-v2, which is
English-centred; for Chinese data name a multilingual model with ``--embedding-model``.

All pairs are compared exactly, block by block: memory is ``block^2`` floats for the similarity tile
(4 MiB at the default 1024) plus ``n * dim`` floats for the embeddings. Time grows as ``n^2 * dim``:
100k texts are ~4 * 10^12 multiply-adds (minutes on a CPU); a million needs an approximate
nearest-neighbour index, which this module does not provide. The step runs it on one representative per
exact/MinHash cluster, which shrinks ``n`` first.
"""

from __future__ import annotations

import numpy as np

DEFAULT_BLOCK = 1024


def cjk_share(texts: list[str]) -> float:
    """Share of the non-space characters of ``texts`` that are CJK (Han, kana, Hangul); 0.0 for no text."""
    total = cjk = 0
    for t in texts:
        for ch in t:
            if ch.isspace():
                continue
            total += 1
            o = ord(ch)
            if 0x3040 <= o <= 0x30FF or 0x3400 <= o <= 0x9FFF or 0xAC00 <= o <= 0xD7AF or 0xF900 <= o <= 0xFAFF:
                cjk += 1
    return cjk / total if total else 0.0


def english_model_warning(texts: list[str], model: str | None) -> str | None:
    """A warning when the English-centred default model (``minilm``) is asked to compare mostly CJK text:
    it maps Chinese dialogues that differ in their substance (other amounts, other terms) to cosines above
    0.95, so ``--semantic`` would remove distinct records. ``None`` otherwise."""
    from ...models.embedding import DEFAULT_EMBEDDING_MODEL

    if (model or DEFAULT_EMBEDDING_MODEL) != DEFAULT_EMBEDDING_MODEL:
        return None
    share = cjk_share(texts)
    if share < 0.3:
        return None
    return (f"dedup --semantic: {share:.0%} of the compared text is Chinese/Japanese/Korean, but the default "
            f"--embedding-model {DEFAULT_EMBEDDING_MODEL} (all-MiniLM-L6-v2) is English-centred and scores "
            "distinct CJK dialogues (same template, other numbers or terms) above 0.95; check the "
            "semantic_duplicate rejects, or name a multilingual model with --embedding-model.")


def embed(texts: list[str], model: str | None) -> np.ndarray:
    """L2-normalised embeddings ``float32`` ``(len(texts), dim)``; raises ``ForgeError`` when the model
    cannot be loaded (see :func:`dialog_forge.models.embedding.load`)."""
    from ...models.embedding import encode

    return encode(texts, model)


def cosine_pairs(emb: np.ndarray, threshold: float, block: int = DEFAULT_BLOCK) -> tuple[np.ndarray, np.ndarray]:
    """All pairs ``i < j`` with ``emb[i] . emb[j] >= threshold``.

    ``emb``: ``(n, dim)`` L2-normalised rows. Returns ``(pairs int64 (k, 2), cosine float32 (k,))``, sorted
    by ``(i, j)``.
    """
    n = emb.shape[0]
    found_p: list[np.ndarray] = []
    found_s: list[np.ndarray] = []
    for bi in range(0, n, block):
        a = emb[bi:bi + block]
        for bj in range(bi, n, block):
            s = a @ emb[bj:bj + block].T
            if bi == bj:
                s = np.triu(s, k=1) - np.tril(np.full_like(s, 2.0))  # keep i < j only
            ii, jj = np.nonzero(s >= threshold)
            if ii.size:
                found_p.append(np.stack((ii + bi, jj + bj), axis=1).astype(np.int64))
                found_s.append(s[ii, jj].astype(np.float32))
    if not found_p:
        return np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.float32)
    pairs = np.concatenate(found_p)
    sims = np.concatenate(found_s)
    order = np.lexsort((pairs[:, 1], pairs[:, 0]))
    return pairs[order], sims[order]
