"""Generation and translation backends, generic enough for augment, synth and eval's judge.

* :mod:`.base` -- the :class:`Backend` protocol and :class:`GenParams`;
* :mod:`.openai_compat` -- any OpenAI-compatible chat-completions endpoint (httpx, retries, cache);
* :mod:`.hf` -- a local transformers model (seq2seq translation or causal chat);
* :mod:`.cache` -- the on-disk SQLite completion cache;
* :mod:`.options` -- the shared CLI/YAML flags (:class:`BackendOptions`) and :func:`make_backend`.
"""

from .base import Backend, BackendStats, GenParams
from .options import BackendOptions, make_backend

__all__ = ["Backend", "BackendOptions", "BackendStats", "GenParams", "make_backend"]
