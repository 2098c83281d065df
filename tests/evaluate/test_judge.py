"""Position-swapped pairwise judge against a real chat-completions server on 127.0.0.1."""

import evalkit_judge_server as judge_server
import pytest

from dialog_forge.errors import ForgeError
from dialog_forge.evaluate import judge

PROMPTS = ["When does the clinic open?", "How do I reset my card PIN?", "Is aspirin safe with ibuprofen?"]
REFS = ["It opens at 9am.", "Use the app: Cards > Reset PIN.", "Ask your doctor before combining them."]


def test_judge_prefers_reference_matching_run():
    url, server, reqs = judge_server.start(judge_server.reference_policy)
    try:
        client = judge.make_client(url, "judge-model", api_key_env=None)
        a = ["I don't know.", "Call us.", REFS[2]]
        b = [REFS[0], REFS[1], REFS[2]]
        res = judge.pairwise(client, PROMPTS, a, b, REFS)
    finally:
        server.shutdown()
    assert res["wins_b"] == 2 and res["ties"] == 1 and res["wins_a"] == 0
    assert res["win_rate_b"] == pytest.approx((2 + 0.5) / 3)
    assert res["position_consistency"] == 1.0
    assert len(reqs) == 6 and reqs[0]["model"] == "judge-model"
    # both orders were asked: the same pair appears once as reply 1 and once as reply 2
    texts = [r["messages"][-1]["content"] for r in reqs]
    assert sum("[Reply 1]\nI don't know." in t for t in texts) == 1
    assert sum("[Reply 2]\nI don't know." in t for t in texts) == 1
    assert all(r["_auth"] is None for r in reqs)  # no key variable named: no header


def test_position_bias_cancels_to_ties():
    url, server, _ = judge_server.start(judge_server.first_position_policy)
    try:
        res = judge.pairwise(judge.make_client(url, "m"), PROMPTS, REFS, ["x", "y", "z"], REFS)
    finally:
        server.shutdown()
    assert res["ties"] == 3 and res["win_rate_b"] == 0.5
    assert res["first_position_rate"] == 1.0 and res["position_consistency"] == 0.0


def test_unreachable_judge_is_a_forge_error():
    url, server, _ = judge_server.start(judge_server.first_position_policy)
    server.shutdown()
    server.server_close()
    client = judge.make_client(url, "m", max_retries=0, timeout=2)
    with pytest.raises(ForgeError, match="--judge-base-url"):
        judge.pairwise(client, PROMPTS[:1], ["a"], ["b"])


def test_judge_sends_system_prompt_and_key(monkeypatch):
    monkeypatch.setenv("FORGE_TEST_JUDGE_KEY", "k123")
    url, server, reqs = judge_server.start(judge_server.first_position_policy)
    try:
        judge.pairwise(judge.make_client(url, "m", api_key_env="FORGE_TEST_JUDGE_KEY"), PROMPTS[:1], ["a"], ["b"])
    finally:
        server.shutdown()
    assert reqs[0]["messages"][0] == {"role": "system", "content": judge.JUDGE_SYSTEM}
    assert reqs[0]["temperature"] == 0.0 and reqs[0]["_auth"] == "Bearer k123"


def test_parse_verdict():
    assert judge.parse_verdict("Reasoning... [[2]]") == "2"
    assert judge.parse_verdict("[[ TIE ]]") == "tie"
    assert judge.parse_verdict("no idea") is None
