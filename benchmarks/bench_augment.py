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

5. **Context chaining precision** (rule-based ``--op context``) -- labelled pairs from real data: Chinese
   patient questions of ``toyhom_internal_medicine_gbk.csv`` whose ``title`` names exactly one complaint of
   a lexicon (高血压, 糖尿病, 癫痫, 胃炎...; up to 25 per complaint, all in one batch and one domain) and
   English Alpaca instructions naming exactly one topic (energy, AI, grammar, poems...). A chain of two
   records with the same complaint / topic is *related*; with different complaints of one department
   (乙肝 / 肝硬化 in 肝病科, 胃炎 / 便秘 in 消化科; English: story / poem...) *borderline* (left out of
   the precision); across departments *unrelated*. Printed: precision
   (related / (related + unrelated)) and the share of records chained, for the rule before the lexical
   topic check (MiniLM cosine + unweighted word overlap, re-run as the baseline) and for the default bounds, on the
   sample the bounds were chosen on (seed 0) and on two other draws (seeds 1, 2); plus a small sweep of bounds.
   "Round 1" (seed 0, English, MedicalGPT) is the rule without the specific-term and slot tests, re-run as
   the baseline of round 2. MedicalGPT (``medicalgpt_medical_sft_1k.jsonl``, all 1000 records in one batch):
   encyclopedic ("原发性UPJO的手术治疗有些什么？") and consultation questions labelled by subject: the first
   clause, compared within the pieces between frame words once generic heads and modifiers (原发性, 老年,
   障碍, 综合征...) are cut out; a shared Han character pair or Latin word = related, else unrelated (checked
   by eye on 59 chains of the final rule: the measure is lenient on pairs sharing a body location --
   颅内微出血 / 颅内纤维瘤 passes as related, 3 more are borderline -- and strict on synonyms, 早泄 / 早射 and
   阳痿 / 勃起 count as unrelated; so read its precision as +- 0.03). Goal: precision >= 0.95 on both corpora while still chaining >= 5 % of Toyhom.

Without ``../shared/datasets`` the script says so and uses the bundled ``sample_data`` texts (and skips 5).
"""

from __future__ import annotations

import contextlib
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


ZH_COMPLAINTS = {"高血压": "高血压|血压高", "糖尿病": "糖尿病|血糖", "癫痫": "癫痫", "脂肪肝": "脂肪肝",
                 "乙肝": "乙肝|大三阳|小三阳", "肝硬化": "肝硬化", "胃炎": "胃炎", "胃溃疡": "胃溃疡", "冠心病": "冠心病",
                 "失眠": "失眠", "甲亢": "甲亢", "痛风": "痛风|尿酸", "哮喘": "哮喘", "便秘": "便秘", "腹泻": "腹泻|拉肚子",
                 "贫血": "贫血", "帕金森": "帕金森", "脑梗": "脑梗|脑梗塞|脑血栓", "早搏": "早搏|心律不齐",
                 "胆结石": "胆结石", "头痛": "头痛|偏头痛", "肾炎": "肾炎", "甲减": "甲减", "面瘫": "面瘫",
                 "心肌炎": "心肌炎", "肠炎": "肠炎", "咳嗽": "咳嗽", "痔疮": "痔疮"}
EN_TOPICS = {"energy": r"\b(renewable|solar|energy|fossil fuel)", "climate": r"\b(climate|global warming|greenhouse)",
             "ai": r"\b(artificial intelligence|machine learning|neural network|\bAI\b)",
             "geometry": r"\b(triangle|circle|rectangle|area of)",
             "food": r"\b(recipe|restaurant|food|healthy (meal|breakfast|diet)|vegetable)",
             "marketing": r"\b(marketing|advertis|customer)",
             "grammar": r"\b(tense|passive voice|active voice|grammar|grammatical)", "poem": r"\b(poem|haiku|rhym)",
             "story": r"\b(story|novel|character)", "ocean": r"\b(ocean|sea|marine)",
             "internet": r"\b(internet|website|online|social media)"}
#: English topics close enough to be neither clearly related nor unrelated (Chinese: the CSV's department).
EN_GROUPS = {"story": "writing", "poem": "writing", "energy": "environment", "climate": "environment",
             "ai": "computing", "internet": "computing"}


def labelled_zh(seed: int, per: int = 25) -> list[tuple[str, str, str, str, str]]:
    """``(id, question, answer, complaint, department)`` from the Toyhom CSV: titles naming exactly one
    complaint, up to ``per`` records per complaint."""
    import pandas as pd

    df = pd.read_csv(DATASETS / "toyhom_internal_medicine_gbk.csv", encoding="gbk").fillna("")
    by: dict[str, list] = {}
    for i, r in enumerate(df.itertuples(index=False)):
        labs = [k for k, pat in ZH_COMPLAINTS.items() if re.search(pat, r.title)]
        if len(labs) == 1 and r.ask.strip() and r.answer.strip():
            by.setdefault(labs[0], []).append((f"z{i}", r.ask.strip(), r.answer.strip(), labs[0], r.department))
    rng, out = random.Random(seed), []
    for k in sorted(by):
        xs = by[k][:]
        rng.shuffle(xs)
        out += xs[:per]
    rng.shuffle(out)
    return out


def labelled_en(seed: int) -> list[tuple[str, str, str, str, str]]:
    """``(id, instruction, output, topic, topic group)`` from Alpaca: instructions naming exactly one topic."""
    out = []
    for i, r in enumerate(json.loads((DATASETS / "fastchat_alpaca_cleaned_1000.json").read_text(encoding="utf-8"))):
        u = (r["instruction"] + ("\n" + r["input"] if r["input"] else "")).strip()
        labs = [k for k, pat in EN_TOPICS.items() if re.search(pat, u, re.I)]
        if len(labs) == 1 and r["output"].strip():
            out.append((f"e{i}", u, r["output"].strip(), labs[0], EN_GROUPS.get(labs[0], labs[0])))
    random.Random(seed).shuffle(out)
    return out


#: Question words and frame words: a MedicalGPT subject never spans one of them.
_MED_FRAME = re.compile(r"的|是|有|和|与|及|得|怎么|怎样|如何|能|会|吗|呢|啊|可以|为什么|为何|什么|哪些|哪个|需要|要|该|应该|须|多少|哪")
#: Generic heads, modifiers and knowledge-graph attributes for labelling MedicalGPT subjects by hand: two
#: subjects sharing only these ("原发性UPJO" / "原发性骨质疏松", "射精障碍" / "学习障碍") are different.
_MED_GENERIC = re.compile("|".join(sorted((
    "原发性 继发性 多发性 特发性 先天性 遗传性 急性 慢性 良性 恶性 早期 晚期 中期 轻度 重度 单侧 双侧 老年人 老年 儿童 "
    "小儿 幼儿 婴儿 宝宝 孩子 小孩 男性 女性 孕妇 怀孕 患者 医生 医院 综合征 综合症 障碍 功能 疾病 肿瘤 感染 损伤 症状 "
    "治疗 手术 检查 药物 维生素 细胞 医学 服用 请问 您好 你好 到底 感觉 自己 简述 区别 这边 比较 现在 最近 常见 病因 原因 "
    "并发症 临床表现 表现 发病 部位 年龄 影像学 辅助 推荐药 预防措施 预防 措施 护理 筛查 诊断 就诊科室 科室 周期 多发群体 "
    "群体 患病比例 比例 性别倾向 化疗 方式 方法 事项 注意 效果 情况 主要 复发 处理 办法").split(), key=len, reverse=True)))


def med_subject(question: str) -> str:
    """The subject of a MedicalGPT question, for labelling: its first clause (up to the first ，,。？?！!),
    NFKC and case folded, without a leading 请问/您好. ``"原发性UPJO的手术治疗有些什么？"`` -> ``"原发性upjo的手术治疗有些什么"``."""
    q = re.sub(r"^(请问|我想问|医生|您好|你好)[，,]?", "", unicodedata.normalize("NFKC", question).strip()).casefold()
    return re.split(r"[，,。？?！!\n]", q, maxsplit=1)[0][:40]


def med_related(a: str, b: str) -> bool:
    """Two MedicalGPT subjects (:func:`med_subject`) are one subject when they share a Han character pair
    or a Latin word of 3+ letters, counted within the pieces between frame words (:data:`_MED_FRAME`) once
    generic heads, modifiers and attributes (:data:`_MED_GENERIC`) are cut out."""
    def terms(x):
        x = _MED_FRAME.sub(" ", _MED_GENERIC.sub(" ", x))
        out = {w for w in re.findall(r"[a-z0-9]{3,}", x)}
        for run in re.findall(r"[\u3400-\u4dbf\u4e00-\u9fff]+", x):
            out.update(run[i:i + 2] for i in range(len(run) - 1))
        return out
    return bool(terms(a) & terms(b))


def labelled_med() -> list[tuple[str, str, str, str, str]] | None:
    """``(id, question, answer, subject, subject)`` for the single-turn records of MedicalGPT's 1k sample
    (:func:`med_subject`), or ``None`` when the file is absent. Judged by :func:`med_related` (the
    labelling was checked by eye on 30 chained pairs)."""
    path = DATASETS / "medicalgpt_medical_sft_1k.jsonl"
    if not path.is_file():
        return None
    out = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        conv = json.loads(line).get("conversations") or []
        if len(conv) == 2 and conv[0]["value"].strip() and conv[1]["value"].strip():
            sub = med_subject(conv[0]["value"])
            out.append((f"m{i}", conv[0]["value"].strip(), conv[1]["value"].strip(), sub, sub))
    return out


def _judge(a: tuple[str, str], b: tuple[str, str]) -> str:
    """Same complaint/topic: related; else same department/group: borderline; else unrelated. MedicalGPT
    subjects (label == group): :func:`med_related`."""
    if a[0] == a[1] and b[0] == b[1] and a[0] != b[0]:
        return "related" if med_related(a[0], b[0]) else "unrelated"
    if a[0] == b[0]:
        return "related"
    return "borderline" if a[1] == b[1] else "unrelated"


def _figures(pairs, items) -> dict:
    label = {it[0]: it[3:5] for it in items}
    c = Counter(_judge(label[a], label[b]) for a, b in pairs)
    return {"precision": c["related"] / max(1, c["related"] + c["unrelated"]), "chains": len(pairs),
            "chained": len({a for a, _ in pairs}) / len(items), "n": len(items),
            **{k: c.get(k, 0) for k in ("related", "unrelated", "borderline")}}


def context_precision(items, lang: str, min_topic: dict[str, float] | None = None) -> dict:
    """Run ``--op context`` (rules, ``--n 1``) on ``items`` as one batch; precision and share chained."""
    recs = [Dialogue(id=i, messages=[Message("user", u), Message("assistant", a)], lang=lang, domain="d")
            for i, u, a, *_ in items]
    cfg = AugmentConfig(op=["context"], seed=1, **({"context_min_topic": min_topic} if min_topic is not None else {}))
    res = AugmentStep(cfg).process(recs)
    return _figures([(r.lineage.parent_id, r.lineage.ops[-1]["params"]["partner_id"])
                     for r in res.kept if r.lineage.parent_id], items)


def context_precision_before(items) -> dict:
    """The rule before the lexical topic check, re-run here as the baseline: the nearest partner by MiniLM
    cosine in [0.5, 0.95) whose user turn shares at least 10 % of its Han character pairs / words
    (unweighted overlap coefficient, the same stop lists)."""
    from dialog_forge.models import embedding
    from dialog_forge.steps.augment.topic import EN_STOP, ZH_STOP

    def terms(text):
        t = unicodedata.normalize("NFKC", text).casefold()
        out = {w for w in re.findall(r"[a-z]{3,}", t)}
        for run in re.findall(r"[\u3400-\u4dbf\u4e00-\u9fff]+", t):
            out.update(run[i:i + 2] for i in range(len(run) - 1))
        return out - ZH_STOP - EN_STOP

    users = [it[1] for it in items]
    vecs = embedding.encode(users, "minilm")
    sims = vecs @ vecs.T
    ts = [terms(u) for u in users]
    pairs = []
    for k in range(len(items)):
        for o in np.argsort(-sims[k], kind="stable"):
            if o == k or sims[k, o] >= 0.95:
                continue
            if sims[k, o] < 0.5:
                break
            a, b = ts[k], ts[o]
            if a and b and len(a & b) / min(len(a), len(b)) >= 0.1:
                pairs.append((items[k][0], items[o][0]))
                break
    return _figures(pairs, items)


def context_precision_round1(items, lang: str) -> dict:
    """:func:`context_precision` with the round-1 rule, re-run here as the baseline: the lexical topic bound,
    embedding window and edge-template test, without the specific-term test
    (:meth:`TopicIndex.shared_specific`) and the slot test (:func:`slot_pair`)."""
    from dialog_forge.steps.augment import context as ctx_mod
    from dialog_forge.steps.augment.topic import TopicIndex

    saved = ctx_mod.slot_pair, TopicIndex.shared_specific
    ctx_mod.slot_pair, TopicIndex.shared_specific = (lambda a, b: False), (lambda self, k, o: ["*"])
    try:
        return context_precision(items, lang, None)
    finally:
        ctx_mod.slot_pair, TopicIndex.shared_specific = saved


def bench_context():
    if not (DATASETS / "toyhom_internal_medicine_gbk.csv").is_file():
        print(f"[context] {DATASETS} is absent: no labelled data, precision of chaining not measured")
        return
    from dialog_forge.steps.augment.topic import DEFAULT_MIN_TOPIC

    with _memo_encode():
        _bench_context(DEFAULT_MIN_TOPIC)


@contextlib.contextmanager
def _memo_encode():
    """Every run embeds the same questions: encode each text once (same vectors, a fraction of the time)."""
    from dialog_forge.models import embedding

    encode, memo = embedding.encode, {}

    def cached(texts, name=None, **kw):
        new = [t for t in dict.fromkeys(texts) if (name, t) not in memo]
        if new:
            memo.update({(name, t): v for t, v in zip(new, encode(new, name, **kw))})
        return np.stack([memo[(name, t)] for t in texts]) if texts else encode(texts, name, **kw)

    embedding.encode = cached
    try:
        yield
    finally:
        embedding.encode = encode


def _bench_context(DEFAULT_MIN_TOPIC):
    def show(tag, f):
        print(f"[context] {tag}: precision {f['precision']:.3f} ({f['related']} related, {f['unrelated']} unrelated, "
              f"{f['borderline']} borderline chains); {f['chained']:.1%} of {f['n']} records chained")

    print(f"[context] default --context-min-topic {DEFAULT_MIN_TOPIC}")
    for lang, sets in (("zh", [("tuning sample, seed 0", labelled_zh(0)), ("check sample, seed 1", labelled_zh(1)),
                               ("check sample, seed 2", labelled_zh(2))]),
                       ("en", [("all labelled", labelled_en(0))])):
        for n, (tag, items) in enumerate(sets):
            show(f"{lang} {tag}, before (embedding + plain overlap)", context_precision_before(items))
            if n == 0:
                show(f"{lang} {tag}, round 1 (lexical topic, no specific-term/slot test)",
                     context_precision_round1(items, lang))
            show(f"{lang} {tag}, embedding + lexical topic + specific term (after)", context_precision(items, lang, None))
        items = sets[0][1]
        sweep = (0.2, 0.22, 0.27) if lang == "zh" else (0.15, 0.2)
        for t in sweep:
            f = context_precision(items, lang, {lang: t})
            print(f"[context]   sweep {lang} min-topic {t}: precision {f['precision']:.3f}, "
                  f"{f['chained']:.1%} chained")


def bench_context_medical():
    """Precision of chaining on MedicalGPT's encyclopedic and consultation questions, labelled by subject
    (:func:`med_subject`, :func:`med_related`): pairs that share only a modifier ("原发性…", "老年…") must not
    chain."""
    med = labelled_med()
    if med is None:
        print(f"[context] {DATASETS / 'medicalgpt_medical_sft_1k.jsonl'} is absent: MedicalGPT precision not measured")
        return
    with _memo_encode():
        for tag, f in (("round 1 (lexical topic, no specific-term/slot test)", context_precision_round1(med, "zh")),
                       ("embedding + lexical topic + specific term + slots (after)", context_precision(med, "zh", None))):
            print(f"[context] MedicalGPT 1k (subject labels) {tag}: precision {f['precision']:.3f} ({f['related']} related, "
                  f"{f['unrelated']} unrelated chains); {f['chained']:.1%} of {f['n']} records chained")


def main() -> None:
    pairs, note = load_pairs()
    print(f"bench_augment: {note}; {len(pairs)} question/answer pairs")
    bench_noise(pairs)
    bench_backend()
    bench_bm25(pairs)
    bench_step(pairs)
    bench_context()
    bench_context_medical()


if __name__ == "__main__":
    main()
