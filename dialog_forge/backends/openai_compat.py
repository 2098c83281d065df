"""A client for any OpenAI-compatible chat-completions endpoint (vLLM, Ollama, llama.cpp server, hosted APIs).

``POST {base_url}/chat/completions`` with ``{"model", "messages", "temperature", "max_tokens", "top_p",
"seed"}``; the completion is ``choices[0].message.content``. Features:

* API key read from the environment variable named by ``api_key_env`` (no header when it is unset, as
  local servers need none);
* at most ``concurrency`` requests in flight (a thread pool over one ``httpx.Client``);
* per-request ``timeout`` seconds;
* retries with exponential backoff on HTTP 429, 5xx, timeouts and connection errors: wait
  ``backoff * 2**attempt`` seconds (capped at ``max_backoff``), or the server's ``Retry-After`` when it is
  given and not larger than the cap; ``max_retries`` retries, then the prompt counts as a failure and
  yields ``""``;
* 401/403/404 stop the run with a :class:`ForgeError` naming the flag to fix (every later request would
  fail the same way), and so does an endpoint that still refuses connections (or whose host does not
  resolve) after all retries -- rather than an exit 0 with every variant silently missing;
* an on-disk :class:`~dialog_forge.backends.cache.CompletionCache` keyed by (endpoint, model, system
  prompt, prompt, parameters): a rerun sends no request for a prompt it has answered before.
"""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from ..errors import ForgeError
from .base import BackendStats, GenParams, translation_prompt
from .cache import CompletionCache, cache_key

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


class OpenAICompatBackend:
    """Chat-completions backend. ``base_url`` such as ``http://127.0.0.1:8000/v1``; ``model`` as the
    server names it; ``cache_dir`` ``None`` disables the cache. See the module docstring for the rest."""

    name = "openai"

    def __init__(self, base_url: str, model: str, *, api_key_env: str | None = "OPENAI_API_KEY",
                 concurrency: int = 4, timeout: float = 60.0, max_retries: int = 5, backoff: float = 1.0,
                 max_backoff: float = 30.0, cache_dir: str | None = None, system_prompt: str | None = None):
        if not base_url:
            raise ForgeError("--backend openai needs --base-url, e.g. --base-url http://127.0.0.1:8000/v1")
        if not model:
            raise ForgeError("--backend openai needs --model (the model name the server serves)")
        if concurrency < 1:
            raise ForgeError(f"--concurrency must be at least 1, got {concurrency}")
        self.endpoint = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.api_key_env = api_key_env
        self.concurrency = concurrency
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.system_prompt = system_prompt
        self.cache = CompletionCache(cache_dir) if cache_dir else None
        self.stats = BackendStats()
        self._lock = threading.Lock()
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(api_key_env) if api_key_env else None
        if key:
            headers["Authorization"] = f"Bearer {key}"
        self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout),
                                    limits=httpx.Limits(max_connections=concurrency))

    # -- public API ----------------------------------------------------------------------------------
    def generate(self, prompts: list[str], params: GenParams | None = None) -> list[str]:
        """One completion per prompt, same order (``""`` for a prompt that failed after all retries)."""
        params = params or GenParams()
        if not prompts:
            return []
        if self.concurrency == 1 or len(prompts) == 1:
            return [self._one(p, params) for p in prompts]
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            return list(pool.map(lambda p: self._one(p, params), prompts))

    def translate(self, texts: list[str], src: str, tgt: str, params: GenParams | None = None) -> list[str]:
        """Translations through :func:`~dialog_forge.backends.base.translation_prompt`, greedy by default."""
        params = params or GenParams(temperature=0.0)
        return [t.strip() for t in self.generate([translation_prompt(x, src, tgt) for x in texts], params)]

    def close(self) -> None:
        self._client.close()
        if self.cache is not None:
            self.cache.close()

    # -- one prompt ----------------------------------------------------------------------------------
    def _bump(self, attr: str) -> None:
        with self._lock:
            setattr(self.stats, attr, getattr(self.stats, attr) + 1)

    def _one(self, prompt: str, params: GenParams) -> str:
        key = None
        if self.cache is not None:
            key = cache_key(endpoint=self.endpoint, model=self.model, system=self.system_prompt, prompt=prompt,
                            params=params.to_dict())
            hit = self.cache.get(key)
            if hit is not None:
                self._bump("cache_hits")
                return hit
        messages = ([{"role": "system", "content": self.system_prompt}] if self.system_prompt else []) + [
            {"role": "user", "content": prompt}]
        body = {"model": self.model, "messages": messages, "temperature": params.temperature,
                "max_tokens": params.max_new_tokens, "top_p": params.top_p}
        if params.seed is not None:
            body["seed"] = params.seed
        unreachable: Exception | None = None
        for attempt in range(self.max_retries + 1):
            wait = None
            unreachable = None
            try:
                self._bump("requests")
                r = self._client.post(self.endpoint, json=body)
            except httpx.ConnectError as e:  # refused, unknown host: retried, and fatal when it persists
                unreachable = e
                wait = self._delay(attempt, None)
            except (httpx.TimeoutException, httpx.TransportError):
                wait = self._delay(attempt, None)
            else:
                if r.status_code == 200:
                    text = _content(r)
                    if text is None:
                        self._bump("failures")
                        return ""
                    if key is not None:
                        self.cache.put(key, text)
                    return text
                if r.status_code in (401, 403):
                    raise ForgeError(f"{self.endpoint} refused the request (HTTP {r.status_code}): set the API key "
                                     f"in the environment variable named by --api-key-env "
                                     f"(now {self.api_key_env!r}).")
                if r.status_code == 404:
                    raise ForgeError(f"{self.endpoint} answered 404 for model {self.model!r}: check --base-url "
                                     "(it usually ends in /v1) and --model.")
                if r.status_code in RETRY_STATUS:
                    wait = self._delay(attempt, r.headers.get("retry-after"))
                else:  # other 4xx: this prompt is bad (e.g. too long); retrying will not help
                    self._bump("failures")
                    return ""
            if attempt < self.max_retries:
                self._bump("retries")
                time.sleep(wait)
        self._bump("failures")
        if unreachable is not None:
            # every later prompt would wait through the same retries and yield nothing: stop the run
            raise ForgeError(f"cannot connect to {self.endpoint} ({unreachable}) after {self.max_retries + 1} "
                             "attempt(s): check --base-url and that the server is running.")
        return ""

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        """Seconds to wait before retry ``attempt + 1``: ``Retry-After`` if given and within the cap, else
        ``backoff * 2**attempt`` capped at ``max_backoff``."""
        if retry_after:
            try:
                ra = float(retry_after)
                if 0 <= ra <= self.max_backoff:
                    return ra
            except ValueError:
                pass
        return min(self.max_backoff, self.backoff * (2 ** attempt))


def _content(r: httpx.Response) -> str | None:
    """``choices[0].message.content`` of a chat-completions response, or ``None`` when it is malformed."""
    try:
        data = r.json()
        content = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        return None
    return content if isinstance(content, str) else None
