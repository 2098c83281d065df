"""Text normalisation for duplicate detection.

Two forms:

* :func:`shingle_form` -- every punctuation (Unicode ``P*``), separator/whitespace (``Z*``, ``\\s``) and
  control or format character (``Cc``, ``Cf``: zero-width spaces, BOMs) becomes one space; then Unicode
  NFKC, which unifies full-width and half-width forms (``ＡＢＣ１２３`` -> ``ABC123``) and
  compatibility ideographs; then ``str.casefold``. Punctuation is replaced *before* NFKC because
  Chinese text is full of full-width punctuation, which would push nearly every text off NFKC's fast
  path (3x slower); punctuation that NFKC itself produces (``⑴`` -> ``(1)``) is replaced afterwards.
* :func:`hash_form` -- the shingle form with the spaces removed: ``"好的！"``, ``"好的"`` and
  ``"好 的。"`` share one exact-duplicate key. Symbols (``S*``: emoji, ``+``, ``%``) and letters/digits of
  every script are kept.

:func:`exact_key` hashes the hash forms of a view's turns with xxHash3-128, turn boundaries kept
(``["ab", "c"]`` and ``["a", "bc"]`` differ).
"""

from __future__ import annotations

import unicodedata

import regex
import xxhash

_PUNCT_SPACE = regex.compile(r"[\p{P}\p{Z}\p{Cc}\p{Cf}\s]+")
_TURN_SEP = "\x1e"  # a control character: it never survives normalisation, so text cannot forge it


def shingle_form(text: str) -> str:
    """Punctuation/whitespace/control -> one space, NFKC, case-fold (the input of tokenisation).

    ``shingle_form("Ｈｅｌｌｏ，World！") == "hello world "``.
    """
    s = _PUNCT_SPACE.sub(" ", text)
    n = unicodedata.normalize("NFKC", s)
    if n != s:
        n = _PUNCT_SPACE.sub(" ", n)
    return n.casefold()


def hash_form(text: str) -> str:
    """:func:`shingle_form` without spaces: ``hash_form("Ｈｅｌｌｏ, World！") == "helloworld"``; an
    all-punctuation or blank text gives ``""``."""
    return shingle_form(text).replace(" ", "")


def exact_key(turns: list[str], *, normalized: bool = False) -> bytes | None:
    """The exact-duplicate key of a view: xxHash3-128 (16 bytes) of the turns' :func:`hash_form`, joined
    by a record separator after dropping turns that normalise to ``""``. ``None`` when nothing is left
    (an empty view is never a duplicate of anything). ``normalized=True`` says the turns are already
    :func:`shingle_form` (saves a second normalisation pass)."""
    if normalized:
        forms = [f for f in (t.replace(" ", "") for t in turns) if f]
    else:
        forms = [f for f in (hash_form(t) for t in turns) if f]
    if not forms:
        return None
    return xxhash.xxh3_128_digest(_TURN_SEP.join(forms).encode("utf-8", "surrogatepass"))
