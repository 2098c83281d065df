"""`forge eval` end to end on tiny LoRA runs: base vs adapter perplexity, retention, A/B with judge."""

import json

import evalkit_judge_server as judge_server
import pytest

from dialog_forge.evaluate.retention import degradation

pytestmark = pytest.mark.slow


def _mc(path):
    path.write_text("\n".join(json.dumps(o) for o in [
        {"question": "When does the clinic open on Monday?", "choices": ["On Monday the clinic opens at 9am.",
                                                                         "Card fee dollars."], "answer": 0},
        {"question": "What is the fee for card 1?", "choices": ["The fee for card 1 is 3 dollars.",
                                                                "clinic clinic clinic"], "answer": 0},
    ]) + "\n")
    return path


def test_eval_run_against_base(forge, eval_runs, tmp_path):
    out = tmp_path / "ev"
    mc = _mc(tmp_path / "mc.jsonl")
    p = forge("eval", eval_runs["a"], "--data", eval_runs["test"], "--general", f"mc={mc}",
              "--general", f"chat={eval_runs['val']}", "--out", out, "--bootstrap", "300")
    assert p.returncode == 0, p.stderr.decode()[-3000:]
    table = p.stdout.decode()
    assert "ppl (assistant)" in table and "run_a - base [CI]" in table and "retention run_a" in table
    rep = json.loads((out / "eval.json").read_text())
    base, run = rep["models"]["base"], rep["models"]["run_a"]
    # the adapter has lower perplexity than the base on its own training domain
    med_b = base["perplexity"]["by_domain"]["medical"]["ppl_assistant"]
    med_r = run["perplexity"]["by_domain"]["medical"]["ppl_assistant"]
    assert med_r < med_b
    assert set(run["perplexity"]["by_domain"]) == {"medical", "finance"}
    assert run["perplexity"]["overall"]["tokens_assistant"] == base["perplexity"]["overall"]["tokens_assistant"] > 0
    d = rep["deltas"]["run_a"]["ppl_assistant"]
    assert d["delta"] < 0 and d["ci_low"] <= d["delta"] <= d["ci_high"]
    # generation metrics with the run's own generation config; the adapter learnt to stop, the base did not
    assert run["settings"]["temperature"] == 0.0 and run["settings"]["max_new_tokens"] == 24
    assert run["generation"]["summary"]["stop_rate"] > base["generation"]["summary"]["stop_rate"]
    assert "embedding_sim" in run["generation"]["summary"]
    assert "CJK character" in rep["tokenizers"]["rouge"]
    # retention computed by the formula from the recorded scores
    t = rep["retention"]["run_a"]
    for name, s in t["sets"].items():
        assert s["before"] == base["general"][name]["score"] and s["after"] == run["general"][name]["score"]
        if s["before"] == 0:  # a random base can score 0 accuracy: no ratio, listed as undefined
            assert s["retention"] is None and name in t["undefined"]
            continue
        assert s["retention"] == pytest.approx(s["after"] / s["before"])
        assert s["degradation"] == pytest.approx(degradation(s["retention"]))
    assert base["general"]["mc"]["metric"] == "accuracy"
    assert base["general"]["chat"]["metric"] == "1/ppl_assistant"
    assert t["sets"]["chat"]["retention"] > 1  # the chat set is the training domain: it improved
    defined = [s["retention"] for s in t["sets"].values() if s["retention"] is not None]
    assert t["mean_retention"] == pytest.approx(sum(defined) / len(defined))
    assert t["acceptable"] == (t["mean_retention"] > 0.9 and t["max_degradation"] < 0.5)
    assert rep["consistency"] == []
    assert (out / "radar.png").stat().st_size > 1000
    rows = [json.loads(x) for x in (out / "generations.jsonl").read_text().splitlines()]
    assert len(rows) == 9 and {"base", "run_a", "reference", "prompt"} <= set(rows[0])


def test_eval_compare_two_runs_with_judge(forge, eval_runs, tmp_path):
    def policy(r1, r2, ref):  # prefers the reply closer to the reference by shared words
        s1, s2 = (len(set(x.split()) & set((ref or "").split())) for x in (r1, r2))
        return "[[1]]" if s1 > s2 else "[[2]]" if s2 > s1 else "[[tie]]"

    url, server, reqs = judge_server.start(policy)
    serving = tmp_path / "serving.json"
    serving.write_text(json.dumps({"template": "llama3", "temperature": 0.0}))
    out = tmp_path / "cmp"
    try:
        p = forge("eval", "--compare", eval_runs["b"], eval_runs["a"], "--data", eval_runs["test"], "--out", out,
                  "--embedding-model", "none", "--bootstrap", "300", "--judge-base-url", url, "--judge-model", "judge",
                  "--serving-config", serving, "--max-new-tokens", "20")
    finally:
        server.shutdown()
    assert p.returncode == 0, p.stderr.decode()[-3000:]
    err = p.stderr.decode()
    assert "serving template 'llama3' differs" in err and "eval max_new_tokens 20 differs" in err
    rep = json.loads((out / "eval.json").read_text())
    cmp = rep["compare"]
    assert cmp["a"] == "run_b"
    deltas = cmp["pairs"]["run_a"]["deltas"]
    for key in ("ppl_assistant", "chrf", "bleu", "rougeL", "stop_rate"):
        assert deltas[key]["ci_low"] <= deltas[key]["delta"] <= deltas[key]["ci_high"], key
    # run_a trained longer: lower perplexity than run_b on the same test set
    assert deltas["ppl_assistant"]["delta"] < 0
    j = rep["judge"]["run_a vs run_b"]
    assert j["wins_a"] + j["wins_b"] + j["ties"] + j["invalid"] == 9
    assert len(reqs) == 18  # every example judged in both orders
    assert {c["setting"] for c in rep["consistency"]} >= {"template", "max_new_tokens"}
    rows = [json.loads(x) for x in (out / "generations.jsonl").read_text().splitlines()]
    assert {"base", "run_a", "run_b"} <= set(rows[0])
    assert "compare run_a - run_b" in p.stdout.decode()


def test_eval_errors_are_clear(forge, tmp_path, eval_runs):
    p = forge("eval", tmp_path / "missing", "--data", eval_runs["test"])
    assert p.returncode == 2 and b"forge_train.json" in p.stderr
    p = forge("eval", "--compare", eval_runs["a"], "--data", eval_runs["test"])
    assert p.returncode == 2 and b"at least two runs" in p.stderr
    p = forge("eval", eval_runs["a"], "--data", eval_runs["test"], "--general", "nofile")
    assert p.returncode == 2 and b"NAME=FILE" in p.stderr


def test_eval_base_model_alone_in_process(eval_runs, tmp_path):
    import torch

    from dialog_forge.evaluate.runner import EvalConfig, run_eval

    torch.set_num_threads(2)
    cfg = EvalConfig(model=eval_runs["base"], data=[eval_runs["test"]], out=str(tmp_path / "b"), gen_limit=2,
                     embedding_model="none", max_new_tokens=8, device="cpu")
    rep = run_eval(cfg, warn=lambda m: None)
    assert list(rep["models"]) == ["base"] and rep["deltas"] == {}
    base = rep["models"]["base"]
    assert base["perplexity"]["overall"]["dialogues"] == 9
    assert base["generation"]["examples"] == 2 and base["settings"]["max_new_tokens"] == 8
    assert base["settings"]["stop_token_ids"]  # the template's end-of-turn and EOS ids
    assert (tmp_path / "b" / "eval.json").is_file()


def test_eval_of_split_output_scores_only_test_records(eval_tiny_dir, tmp_path):
    """`forge eval RUN --data shards/` (as `make demo` runs it) on `forge split` output: the train/ and val/
    records must not be scored as test data. Without --split a mixed input is narrowed to its test records
    and the choice is said and recorded; --split picks another split explicitly."""
    import dataclasses

    import evalkit

    from dialog_forge.evaluate.runner import EvalConfig, run_eval

    shards = tmp_path / "shards"
    for split, recs in (("train", evalkit.clinic_dialogues(5)), ("val", evalkit.clinic_dialogues(2, prefix="v")),
                        ("test", evalkit.clinic_dialogues(3, prefix="t"))):
        (shards / split).mkdir(parents=True)
        evalkit.write_jsonl(shards / split / "part.jsonl", [dataclasses.replace(r, split=split) for r in recs])
    warnings = []
    cfg = EvalConfig(model=eval_tiny_dir, data=[str(shards)], out=str(tmp_path / "e"), generate=False,
                     embedding_model="none", device="cpu", bootstrap=100)
    rep = run_eval(cfg, warn=warnings.append)
    assert rep["data"]["records"] == 3 and rep["data"]["split"] == "test"
    assert rep["models"]["base"]["perplexity"]["overall"]["dialogues"] == 3
    assert any("evaluating its 3 test records only (of 10)" in w for w in warnings)
    cfg = dataclasses.replace(cfg, split="val", out=str(tmp_path / "v"))
    rep = run_eval(cfg, warn=warnings.append)
    assert rep["data"]["records"] == 2 and rep["data"]["split"] == "val"
