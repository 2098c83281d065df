"""``forge dedup``: exact, near (MinHash-LSH, verified) and semantic deduplication, and decontamination.

Modules, in the order a record meets them:

* :mod:`.views` -- which text is compared (``--on dialogue|user|first-user|assistant``);
* :mod:`.normalize` -- case-fold, full/half-width, punctuation and whitespace removal; exact keys;
* :mod:`.shingles` -- CJK character n-grams and word n-grams in one pass, with a fallback shingle;
* :mod:`.minhash` -- vectorised MinHash signatures and LSH banding (datasketch's parameters);
* :mod:`.verify` -- exact Jaccard (or rapidfuzz ratio) of every candidate pair;
* :mod:`.spill` -- held records and shingle sets on disk, read back lazily (memory bounded by signatures);
* :mod:`.clusters` -- union-find over verified pairs and the keep policies;
* :mod:`.semantic` -- sentence-embedding cosine pairs, blockwise;
* :mod:`.decontam` -- long n-gram and MinHash overlap with ``--against`` sets;
* :mod:`.step` -- :class:`DedupConfig` and :class:`DedupStep`, the global step that drives them.
"""

from .step import DedupConfig, DedupStep

__all__ = ["DedupConfig", "DedupStep"]
