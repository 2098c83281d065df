"""Benchmark of `forge augment` and `forge synth`'s retrieval: speed and quality figures, each against a
baseline measured in the same run.

Run: ``python benchmarks/bench_augment.py`` (about 1-3 minutes on 2 cores). Figures:

1. **Noise** -- user turns of real dialogues (``medicalgpt_medical_sft_1k.jsonl``, zh, and
   ``fastchat_alpaca_cleaned_1000.json``, en, from ``../shared/datasets``): turns/s of ``add_noise`` against
   the tokenizer alone (the floor every rule-based pass pays); share of outputs that changed; share that kept
   every digit (NFKC) and placeholder (goal: 100 %).
2. **Augment step** -- ``--op noise --op context`` (offline, the demo's command) on 200 records: records/s,
   variants kept / generated, rejects by reason and the before/after table.
3. **openai backend** -- a local chat-completions server answering in 50 ms: 64 prompts at
   ``--concurrency`` 1 vs 8 (speed-up), a rerun from the on-disk cache (speed-up), and a run where 20 % of
   prompts first get HTTP 429 (all answered? retries counted).
4. **BM25 retrieval** (synth) -- 1000 medical answers as passages, their 200 first questions as queries:
   top-1 accuracy (the question's own answer ranks first) and queries/s, against rank-bm25's own
   ``get_scores`` loop (same scores) and a character-bigram Jaccard scan.

Without ``../shared/datasets`` the script says so and uses the bundled ``sample_data`` texts.
"""

from __future__ import annotations

import importlib.util
import json
import random
import re
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATASETS = ROOT.parent / "shared" / "datasets"

import numpy as np
import torch

torch.set_num_threads(2)

from dialog_forge.backends.base import GenParams
from dialog_forge.backends.openai_compat import OpenAICompatBackend
from dialog_forge.schema import Dialogue, Message
from dialog_forge.steps.augment import AugmentConfig, AugmentStep
from dialog_forge.steps.augment.noise import add_noise, tokenize
from dialog_forge.steps.augment.quality import char_jaccard
from dialog_forge.steps.augment.report import format_table
from dialog_forge.kb import Passage
from dialog_forge.steps.synth.retrieve import BM25Index, bm25_tokens


def load_pairs() -> tuple[list[tuple[str, str, str]], str]:
    """``(user, assistant, lang)`` pairs and a note on where they come from."""
    pairs = []
    med = DATASETS / "medicalgpt_medical_sft_1k.jsonl"
    alp = DATASETS / "fastchat_alpaca_cleaned_1000.json"
    if med.is_file() and alp.is_file():
        for line in med.read_text(encoding="utf-8").splitlines():
            conv = json.loads(line)["conversations"]
            if len(conv) >= 2 and conv[0]["value"].strip() and conv[1]["value"].strip():
                pairs.append((conv[0]["value"].strip(), conv[1]["value"].strip(), "zh"))
        for r in json.loads(alp.read_text(encoding="utf-8")):
            u = (r["instruction"] + ("\n" + r["input"] if r["input"] else "")).strip()
            if u and r["output"].strip():
                pairs.append((u, r["output"].strip(), "en"))
        return pairs, f"real data from {DATASETS}"
    raw = ROOT / "sample_data" / "raw" / "education.openai.jsonl"
    for line in raw.read_text(encoding="utf-8").splitlines():
        try:
            msgs = json.loads(line)["messages"]
        except (ValueError, KeyError):
            continue
        if len(msgs) >= 2:
            lang = "zh" if re.search(r"[\u4e00-\u9fff]", msgs[0]["content"]) else "en"
            pairs.append((msgs[0]["content"], msgs[1]["content"], lang))
    return pairs * 10, f"{DATASETS} is absent: using sample_data texts (figures say little about real data)"


def bench_noise(pairs):
    texts = [u for u, _, _ in pairs][:2000]
    t = time.perf_counter()
    for x in texts:
        tokenize(x)
    base = time.perf_counter() - t
    add_noise("预热", rng=random.Random(0))  # builds the pinyin table once (not timed)
    t = time.perf_counter()
    outs = [add_noise(x, rng=random.Random(i), rate=0.1).text for i, x in enumerate(texts)]
    took = time.perf_counter() - t
    ph = re.compile(r"<[A-Z_]+>|\[[A-Z_]+\]")
    def digits(s: str) -> str:
        return re.sub(r"\D", "", unicodedata.normalize("NFKC", s))

    kept = sum(digits(o) == digits(x)
               and ph.findall(o) == ph.findall(x) for x, o in zip(texts, outs))
    changed = sum(o != x for x, o in zip(texts, outs))
    print(f"[noise] {len(texts)} user turns: {len(texts) / took:,.0f} turns/s; tokenizer alone "
          f"{len(texts) / base:,.0f} turns/s (noise costs {took / base:.1f}x the tokenizer)")
    print(f"[noise] changed {changed / len(texts):.1%}; digits and placeholders intact {kept / len(texts):.1%} "
          f"(goal 100%)")


def bench_step(pairs):
    zh = [p for p in pairs if p[2] == "zh"][:100]
    en = [p for p in pairs if p[2] == "en"][:100]
    recs = [Dialogue(id=f"b{i}", messages=[Message("user", u), Message("assistant", a)], lang=lang,
                     domain="medical" if lang == "zh" else "general") for i, (u, a, lang) in enumerate(zh + en)]
    step = AugmentStep(AugmentConfig(op=["noise", "context"], seed=1))
    t = time.perf_counter()
    step.setup()
    from dialog_forge.models import embedding
    from dialog_forge.steps.augment.quality import _analyzer
    embedding.load("minilm")
    _analyzer()
    warm = time.perf_counter() - t
    t = time.perf_counter()
    res = step.process(recs)
    took = time.perf_counter() - t
    kept = len(res.kept) - len(recs)
    print(f"[augment] noise+context on {len(recs)} records: {len(recs) / took:.1f} records/s ({took:.1f} s; "
          f"model loading {warm:.1f} s once); {kept} of {res.generated} variants kept; rejected "
          f"{dict(Counter(r.reason for r in res.rejects))}")
    print("[augment] before/after:\n" + format_table(step.report_table()))


def bench_backend():
    spec = importlib.util.spec_from_file_location("chat_server", ROOT / "tests" / "steps" / "chat_server.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    prompts = [f"prompt {i}" for i in range(64)]
    with mod.ScriptedChatServer(delay=0.05) as srv, tempfile.TemporaryDirectory() as tmp:
        times = {}
        for c in (1, 8):
            be = OpenAICompatBackend(srv.base_url, "m", concurrency=c)
            t = time.perf_counter()
            be.generate(prompts)
            times[c] = time.perf_counter() - t
        print(f"[openai] 64 prompts, 50 ms each: concurrency 1 {times[1]:.2f} s, concurrency 8 {times[8]:.2f} s "
              f"({times[1] / times[8]:.1f}x; server saw at most {srv.max_in_flight} in flight)")
        be = OpenAICompatBackend(srv.base_url, "m", concurrency=8, cache_dir=tmp)
        t = time.perf_counter()
        be.generate(prompts, GenParams(seed=1))
        first = time.perf_counter() - t
        be2 = OpenAICompatBackend(srv.base_url, "m", concurrency=8, cache_dir=tmp)
        t = time.perf_counter()
        be2.generate(prompts, GenParams(seed=1))
        again = time.perf_counter() - t
        print(f"[openai] rerun from the cache: {again * 1000:.0f} ms vs {first * 1000:.0f} ms "
              f"({first / max(again, 1e-9):.0f}x faster, {be2.stats.requests} requests, {be2.stats.cache_hits} hits)")
    script = {f"flaky {i}": [429, f"ok {i}"] for i in range(0, 64, 5)}
    with mod.ScriptedChatServer(script, delay=0.01) as srv:
        be = OpenAICompatBackend(srv.base_url, "m", concurrency=8, backoff=0.05)
        out = be.generate([f"flaky {i}" if i % 5 == 0 else f"p {i}" for i in range(64)])
        print(f"[openai] 20% of prompts get HTTP 429 first: {sum(bool(o) for o in out)}/64 answered, "
              f"{be.stats.retries} retries, {be.stats.failures} failures")


def bench_bm25(pairs):
    zh = [p for p in pairs if p[2] == "zh"][:1000]
    passages = [Passage(f"p{i}", a, "") for i, (_, a, _) in enumerate(zh)]
    queries = [(i, u) for i, (u, _, _) in enumerate(zh[:200])]
    t = time.perf_counter()
    idx = BM25Index(passages)
    build = time.perf_counter() - t
    t = time.perf_counter()
    hits = sum(idx.search(q, 1) and idx.search(q, 1)[0][0].id == f"p{i}" for i, q in queries)
    took = (time.perf_counter() - t) / 2  # search ran twice per query above
    sub = queries[:50]
    t = time.perf_counter()
    loop_hits = sum(int(np.argmax(idx._bm25.get_scores(bm25_tokens(q)))) == i for i, q in sub)
    loop = time.perf_counter() - t
    t = time.perf_counter()
    base_hits = sum(max(range(len(passages)), key=lambda j: char_jaccard(q, passages[j].text)) == i for i, q in sub)
    base = time.perf_counter() - t
    rate = len(queries) / took
    sub_hits = sum(idx.search(q, 1)[0][0].id == f"p{i}" for i, q in sub if idx.search(q, 1))
    print(f"[bm25] {len(passages)} passages (index built in {build:.2f} s), {len(queries)} queries: top-1 accuracy "
          f"{hits / len(queries):.1%} at {rate:,.0f} queries/s")
    print(f"[bm25] on the first {len(sub)} queries: sparse index {sub_hits / len(sub):.1%}; rank-bm25's own get_scores loop {loop_hits / len(sub):.1%} at "
          f"{len(sub) / loop:,.1f} queries/s (sparse index {rate / (len(sub) / loop):.0f}x faster, same scores); "
          f"char-Jaccard scan {base_hits / len(sub):.1%} at {len(sub) / base:,.1f} queries/s")


def main() -> None:
    pairs, note = load_pairs()
    print(f"bench_augment: {note}; {len(pairs)} question/answer pairs")
    bench_noise(pairs)
    bench_backend()
    bench_bm25(pairs)
    bench_step(pairs)


if __name__ == "__main__":
    main()
