"""The openai backend against a real chat-completions server on 127.0.0.1 (scripted answers, 429s,
5xx, timeouts): retries, backoff, cache hits, concurrency limit, auth and error messages."""

from __future__ import annotations

import importlib.util
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from dialog_forge.backends.base import GenParams
from dialog_forge.backends.openai_compat import OpenAICompatBackend
from dialog_forge.errors import ForgeError

_spec = importlib.util.spec_from_file_location("chat_server", Path(__file__).with_name("chat_server.py"))
chat_server = importlib.util.module_from_spec(_spec)
sys.modules["chat_server"] = chat_server
_spec.loader.exec_module(chat_server)
ScriptedChatServer = chat_server.ScriptedChatServer


def backend(server, tmp_path=None, **kw):
    kw.setdefault("backoff", 0.01)
    return OpenAICompatBackend(server.base_url, "tiny-chat", cache_dir=str(tmp_path / "cache") if tmp_path else None,
                               **kw)


def test_answers_in_prompt_order_with_parameters_sent():
    with ScriptedChatServer({"b": ["B!"]}) as srv:
        be = backend(srv, concurrency=3)
        out = be.generate(["a", "b", "c"], GenParams(temperature=0.3, max_new_tokens=17, seed=5))
    assert out == ["echo: a", "B!", "echo: c"]
    body = srv.requests[0]
    assert body["model"] == "tiny-chat"
    assert body["temperature"] == 0.3 and body["max_tokens"] == 17 and body["seed"] == 5
    assert be.stats.requests == 3 and be.stats.retries == 0


def test_429_and_5xx_are_retried_with_backoff_then_succeed():
    with ScriptedChatServer({"p": [429, 503, "ok after two"], "q": [500, "ok after one"]}) as srv:
        be = backend(srv, backoff=0.05, concurrency=1)
        t0 = time.monotonic()
        out = be.generate(["p", "q"])
        waited = time.monotonic() - t0
    assert out == ["ok after two", "ok after one"]
    assert srv.attempts == {"p": 3, "q": 2}
    assert be.stats.retries == 3 and be.stats.failures == 0
    # 429 carries Retry-After: 0; 503 waits backoff*2 = 0.1 s; q's 500 waits 0.05 s
    assert waited >= 0.15


def test_gives_up_after_max_retries_and_yields_empty_string():
    with ScriptedChatServer({"bad": [503], "good": ["fine"]}) as srv:
        be = backend(srv, max_retries=2)
        out = be.generate(["bad", "good"])
    assert out == ["", "fine"]
    assert srv.attempts["bad"] == 3  # first try + 2 retries
    assert be.stats.failures == 1 and be.stats.retries == 2


def test_timeout_is_retried():
    with ScriptedChatServer({"slow": [("sleep", 1.0, "late"), "quick"]}) as srv:
        be = backend(srv, timeout=0.3)
        out = be.generate(["slow"])
    assert out == ["quick"]
    assert srv.attempts["slow"] == 2 and be.stats.retries == 1


def test_cache_hits_send_no_request_and_keys_include_parameters(tmp_path):
    with ScriptedChatServer(default=lambda p: f"answer {p}") as srv:
        be = backend(srv, tmp_path)
        first = be.generate(["x", "y"])
        be2 = backend(srv, tmp_path)  # a rerun: new process, same cache dir
        second = be2.generate(["x", "y"])
        assert len(srv.requests) == 2
        assert second == first and be2.stats.cache_hits == 2 and be2.stats.requests == 0
        be2.generate(["x"], GenParams(temperature=0.0))  # other parameters: a new key
        assert len(srv.requests) == 3
    db = sqlite3.connect(tmp_path / "cache" / "completions.sqlite")
    assert db.execute("select count(*) from completions").fetchone()[0] == 3


def test_failures_are_not_cached(tmp_path):
    with ScriptedChatServer({"p": [503, 503, "now ok"]}) as srv:
        assert backend(srv, tmp_path, max_retries=0).generate(["p"]) == [""]
        assert backend(srv, tmp_path, max_retries=0).generate(["p"]) == [""]
        assert backend(srv, tmp_path, max_retries=0).generate(["p"]) == ["now ok"]


def test_concurrency_limit_is_respected_and_reached():
    with ScriptedChatServer(delay=0.15) as srv:
        be = backend(srv, concurrency=3)
        out = be.generate([f"p{i}" for i in range(9)])
    assert out == [f"echo: p{i}" for i in range(9)]
    assert srv.max_in_flight == 3


def test_api_key_from_named_env_var(monkeypatch):
    monkeypatch.setenv("MY_FORGE_KEY", "sk-test-123")
    with ScriptedChatServer() as srv:
        backend(srv, api_key_env="MY_FORGE_KEY").generate(["a"])
        backend(srv, api_key_env="UNSET_FORGE_KEY_VAR").generate(["b"])
    assert srv.auth_headers == ["Bearer sk-test-123", None]


def test_auth_and_not_found_errors_name_the_flag():
    with ScriptedChatServer({"p": [401]}) as srv:
        with pytest.raises(ForgeError, match="--api-key-env"):
            backend(srv).generate(["p"])
        bad = OpenAICompatBackend(srv.base_url.replace("/v1", "/nope"), "m")
        with pytest.raises(ForgeError, match="--base-url"):
            bad.generate(["p"])


def test_missing_base_url_or_model_is_a_forge_error():
    with pytest.raises(ForgeError, match="--base-url"):
        OpenAICompatBackend("", "m")
    with pytest.raises(ForgeError, match="--model"):
        OpenAICompatBackend("http://127.0.0.1:1/v1", "")


def test_translate_goes_through_a_prompt():
    with ScriptedChatServer(default=lambda p: " Hello " if "你好" in p else "?") as srv:
        out = backend(srv).translate(["你好"], "zh", "en")
    assert out == ["Hello"]
    assert srv.requests[0]["temperature"] == 0.0
    assert "into English" in srv.requests[0]["messages"][-1]["content"]


def test_unreachable_endpoint_stops_the_run_after_its_retries():
    """Found by testing: with nothing listening on --base-url every prompt waited through its retries and
    `forge augment` exited 0 with no variant at all."""
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    be = OpenAICompatBackend(f"http://127.0.0.1:{port}/v1", "tiny-chat", max_retries=2, backoff=0.01, concurrency=2)
    with pytest.raises(ForgeError, match=r"cannot connect to http://127.0.0.1:\d+/v1/chat/completions .*after 3 "
                                         r"attempt\(s\): check --base-url"):
        be.generate(["a", "b"])
    assert be.stats.requests >= 3 and be.stats.failures >= 1
