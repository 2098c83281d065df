"""``forge gate``: pass and fail on each threshold, exit codes 0/1/2, JUnit and JSON output."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import orjson
import pytest

from dialog_forge.errors import ForgeError
from dialog_forge.gate import checks
from dialog_forge.gate.report import junit_xml
from dialog_forge.io.writers import write_records
from dialog_forge.schema import Dialogue, Message


TOPICS = ["How long does a refund take to reach my card?", "Can I change the delivery address after ordering?",
          "Why was my account locked after three attempts?", "Which documents do I need for a mortgage?",
          "Is a fever of 39 degrees dangerous for an adult?", "How do I reset my router password?",
          "What does the annual fee on my credit card cover?", "Can I return shoes that I have already worn?",
          "How do I solve a quadratic equation by completing the square?", "What is the best way to revise history?",
          "Where can I download last year's tax invoice?", "How often should I replace a toothbrush?"]


def rec(i: int, score: float, decision: str, domain: str = "medical", user: str | None = None,
        reply: str = "Please rest and drink water.", split: str | None = None) -> Dialogue:
    return Dialogue(id=f"g{i:02d}", messages=[Message("user", user or TOPICS[i % len(TOPICS)] + f" (case {i})"),
                                              Message("assistant", reply)],
                    domain=domain, quality={"score": score, "components": {}, "decision": decision}, split=split)


def dataset() -> list[Dialogue]:
    # 10 records: mean score 0.75, keep 6/10, drop 2/10, domains medical 7 / finance 3, one exact duplicate
    scores = [0.9, 0.9, 0.85, 0.85, 0.9, 0.9, 0.7, 0.7, 0.4, 0.4]
    decisions = ["keep"] * 6 + ["review"] * 2 + ["drop"] * 2
    recs = [rec(i, s, d, "finance" if i >= 7 else "medical") for i, (s, d) in enumerate(zip(scores, decisions))]
    recs[9].messages = [Message(m.role, m.content) for m in recs[8].messages]  # duplicate of g08
    return recs


@pytest.mark.parametrize("fn,passing,failing,value", [
    (checks.mean_score, 0.75, 0.76, 0.75),
    (checks.keep_ratio, 0.6, 0.61, 0.6),
    (checks.drop_ratio, 0.2, 0.19, 0.2),
    (checks.dup_ratio, 0.1, 0.0, 0.1),
    (checks.per_domain, 3, 4, 3),
])
def test_each_threshold_passes_and_fails(fn, passing, failing, value):
    ok, bad = fn(dataset(), passing), fn(dataset(), failing)
    assert ok.value == pytest.approx(value) and ok.status == "pass"
    assert bad.status == "fail" and bad.failed


def test_pii_rescan_finds_leftover_pii():
    clean = checks.pii(dataset(), 0)
    if clean.status == "skipped":
        pytest.skip(clean.detail)
    assert clean.status == "pass" and clean.value == 0
    dirty = dataset() + [rec(50, 0.9, "keep", user="我的手机号是13800138000，邮箱test@example.com")]
    res = checks.pii(dirty, 0)
    assert res.status == "fail" and res.value == 2 and "PHONE_NUMBER" in res.detail


def test_leakage_check_on_split_records():
    recs = [rec(i, 0.9, "keep", split="train" if i < 8 else "test") for i in range(10)]
    assert checks.leakage(recs, 0).status == "pass"
    recs[9].messages = [Message("user", recs[1].messages[0].content + "!"), Message("assistant", "ok")]
    res = checks.leakage(recs, 0)
    assert res.status == "fail" and res.value == 1 and "g01 (train) ~ g09 (test)" in res.detail
    with pytest.raises(ForgeError, match="forge split"):
        checks.leakage(dataset(), 0)


def test_unscored_input_is_bad_input():
    plain = [Dialogue(id="x", messages=[Message("user", "hi"), Message("assistant", "hello")])]
    with pytest.raises(ForgeError, match="forge score"):
        checks.mean_score(plain, 0.5)


def test_junit_xml_structure():
    results = [checks.mean_score(dataset(), 0.7), checks.keep_ratio(dataset(), 0.9)]
    root = ET.fromstring(junit_xml(results))
    suite = root.find("testsuite")
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert cases["mean_score"].find("failure") is None
    assert "keep_ratio = 0.6, required >= 0.9" in cases["keep_ratio"].find("failure").get("message")


def test_cli_exit_codes_table_junit_json(tmp_path, forge):
    data = tmp_path / "scored.jsonl"
    write_records(dataset(), data)
    ok = forge("gate", data, "--min-mean", "0.7", "--max-drop-ratio", "0.3", "--min-per-domain", "3")
    assert ok.returncode == 0, ok.stderr.decode()
    out = ok.stdout.decode()
    assert "mean_score" in out and "0.75" in out and "gate passed" in out
    junit, js = tmp_path / "gate.xml", tmp_path / "gate.json"
    bad = forge("gate", data, "--min-mean-score", "0.8", "--max-dup-ratio", "0", "--junit", junit, "--json", js)
    assert bad.returncode == 1
    assert "gate failed: mean_score, dup_ratio" in bad.stdout.decode()
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite.get("failures") == "2"
    doc = orjson.loads(js.read_bytes())
    assert doc["passed"] is False and [c["status"] for c in doc["checks"]] == ["fail", "fail"]
    # bad input: missing file, unscored file, no threshold -> exit 2 with a message, no traceback
    assert forge("gate", tmp_path / "missing.jsonl", "--min-mean", "0.7").returncode == 2
    plain = tmp_path / "plain.jsonl"
    plain.write_text('{"id": "a", "messages": [{"role": "user", "content": "hi"}]}\n')
    r = forge("gate", plain, "--min-mean", "0.7")
    assert r.returncode == 2 and b"forge score" in r.stderr and b"Traceback" not in r.stderr
    assert forge("gate", data).returncode == 2


def test_cli_reads_split_directory_for_leakage(tmp_path, forge):
    recs = [rec(i, 0.9, "keep", split="train" if i < 8 else "test") for i in range(10)]
    write_records(recs, tmp_path / "splits", partition_by="split")
    ok = forge("gate", tmp_path / "splits", "--max-leakage", "0", "--min-keep-ratio", "1")
    assert ok.returncode == 0, ok.stderr.decode()
    recs[9].messages = [Message("user", recs[2].messages[0].content), Message("assistant", "ok")]
    write_records(recs, tmp_path / "leaky", partition_by="split")
    bad = forge("gate", tmp_path / "leaky", "--max-leakage", "0", "--json", tmp_path / "g.json")
    assert bad.returncode == 1
    doc = orjson.loads((tmp_path / "g.json").read_bytes())
    assert doc["checks"][0]["name"] == "leakage" and doc["checks"][0]["value"] == 1


def test_cli_reads_score_stats_and_split_manifest(tmp_path, forge):
    """forge gate on the summary files: the score step's stats (mean, decisions, domains) and the split
    manifest (per-split domains, leaks); checks that need the records are exit 2."""
    from dialog_forge.gate.summary import load_summary, summary_results

    data = tmp_path / "scored.jsonl"
    write_records(dataset(), data)
    stats, shards = tmp_path / "score.json", tmp_path / "shards"
    p = forge("score", data, "-o", tmp_path / "rescored.jsonl", "--stats-json", stats)
    assert p.returncode == 0, p.stderr.decode()
    c = orjson.loads(stats.read_bytes())["steps"][0]["counters"]
    keep, review, drop = (c.get(f"decision_{d}", 0) for d in ("keep", "review", "drop"))
    n = keep + review + drop
    assert c["scored"] == n == 10 and sum(c["domains"].values()) == 10 and c["domains"]["finance"] == 3
    scores = [r["quality"]["score"] for r in map(orjson.loads, (tmp_path / "rescored.jsonl").read_bytes().splitlines())]
    assert c["mean_score"] == pytest.approx(sum(scores) / 10, abs=1e-4)
    ok = forge("gate", stats, "--min-mean", "0", "--min-keep-ratio", "0", "--max-drop-ratio", "1",
               "--min-per-domain", "3", "--json", tmp_path / "g.json")
    assert ok.returncode == 0, ok.stderr.decode()
    doc = orjson.loads((tmp_path / "g.json").read_bytes())
    assert [(x["name"], x["value"]) for x in doc["checks"]] == [
        ("mean_score", c["mean_score"]), ("keep_ratio", round(keep / 10, 4)),
        ("drop_ratio", round(drop / 10, 4)), ("per_domain", 3)]
    assert forge("gate", stats, "--min-per-domain", "4").returncode == 1
    # exact figures on a hand-made summary
    summ = {"steps": [{"step": "score", "counters": {"decision_keep": 6, "decision_review": 2, "decision_drop": 2,
                                                     "mean_score": 0.75, "scored": 10}},
                      {"name": "split", "counters": {"leaks": 1, "splits": {"train": {"domain": {"a": 5, "b": 1}},
                                                                             "test": {"domain": {"b": 2}}}}}]}
    res = summary_results(summ, "m.json", {"mean_score": 0.76, "keep_ratio": 0.6, "drop_ratio": 0.2,
                                           "per_domain": 3, "leakage": 0})
    assert [(r.name, r.value, r.status) for r in res] == [
        ("mean_score", 0.75, "fail"), ("keep_ratio", 0.6, "pass"), ("drop_ratio", 0.2, "pass"),
        ("per_domain", 3, "pass"), ("leakage", 1, "fail")]
    # a split manifest: leaks and per-split domains; score figures and re-scans are bad input (exit 2)
    p = forge("split", data, "--out", shards, "--test", "0.2", "--val", "0")
    assert p.returncode == 0, p.stderr.decode()
    man = shards / "_manifest.json"
    assert load_summary(str(man)) is not None and load_summary(str(data)) is None
    ok = forge("gate", man, "--max-leakage", "0", "--min-per-domain", "3")
    assert ok.returncode == 0 and "leakage" in ok.stdout.decode()
    for flags, msg in ((["--min-mean", "0.5"], b"no `forge score` step"), (["--max-pii", "0"], b"re-scans"),
                       (["--max-dup-ratio", "0"], b"re-scans")):
        bad = forge("gate", man, *flags)
        assert bad.returncode == 2 and msg in bad.stderr and b"Traceback" not in bad.stderr
    assert forge("gate", man, data, "--min-mean", "0.5").returncode == 2
