"""The backend flags shared by ``forge augment`` and ``forge synth`` (one dataclass, mixed into their
configs), and :func:`make_backend` which builds the backend they name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..errors import ForgeError
from ..pipeline.step import cfg_field
from .base import Backend, GenParams


@dataclass
class BackendOptions:
    """Flags selecting and tuning a generation backend."""

    backend: Literal["rules", "openai", "hf"] = cfg_field(
        "rules", help="'rules': offline rule-based operators only (noise, rule-based context, synonym table); "
                      "'openai': any OpenAI-compatible chat-completions endpoint (--base-url, --model); "
                      "'hf': a local transformers model (--model path or hub name).")
    base_url: str | None = cfg_field(
        None, help="Endpoint root for --backend openai, e.g. http://127.0.0.1:8000/v1 (vLLM, Ollama, llama.cpp).")
    model: str | None = cfg_field(
        None, help="Model name served by --base-url, or for --backend hf a local path / hub name; for hf "
                   "translation it may contain {src} and {tgt} (e.g. Helsinki-NLP/opus-mt-{src}-{tgt}).")
    api_key_env: str = cfg_field(
        "OPENAI_API_KEY", help="Name of the environment variable holding the API key (no key sent when unset).")
    concurrency: int = cfg_field(4, help="Requests in flight at once (--backend openai).")
    timeout: float = cfg_field(60.0, help="Seconds per request before it is retried (--backend openai).")
    max_retries: int = cfg_field(
        5, help="Retries on HTTP 429/5xx, timeouts and connection errors, with exponential backoff.")
    backoff: float = cfg_field(1.0, help="First retry wait in seconds; doubles each retry (capped at 30 s).")
    cache_dir: str | None = cfg_field(
        ".forge-cache/llm", help="Directory of the on-disk completion cache (SQLite); '' disables it.")
    temperature: float = cfg_field(0.7, help="Sampling temperature (0 = greedy).")
    max_new_tokens: int = cfg_field(256, help="Most tokens generated per answer.")
    device: str = cfg_field("auto", help="Device for --backend hf: auto, cpu, cuda, cuda:1...")
    gen_batch_size: int = cfg_field(8, help="Prompts per forward pass for --backend hf.")

    def gen_params(self, seed: int | None) -> GenParams:
        """The decoding parameters these options ask for."""
        return GenParams(temperature=self.temperature, max_new_tokens=self.max_new_tokens, seed=seed)


def make_backend(opts: BackendOptions) -> Backend | None:
    """The backend named by ``opts.backend`` (``None`` for ``rules``). Raises :class:`ForgeError` for a
    missing ``--base-url``/``--model``."""
    if opts.backend == "rules":
        return None
    if opts.backend == "openai":
        from .openai_compat import OpenAICompatBackend

        return OpenAICompatBackend(opts.base_url or "", opts.model or "", api_key_env=opts.api_key_env,
                                   concurrency=opts.concurrency, timeout=opts.timeout,
                                   max_retries=opts.max_retries, backoff=opts.backoff,
                                   cache_dir=opts.cache_dir or None)
    if opts.backend == "hf":
        from .hf import HFBackend

        return HFBackend(opts.model or "", device=opts.device, batch_size=opts.gen_batch_size)
    raise ForgeError(f"--backend must be one of rules, openai, hf; got {opts.backend!r}")
