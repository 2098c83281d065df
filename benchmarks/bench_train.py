"""Benchmark: training throughput and peak memory of `forge train --method lora` against a plain TRL
`SFTTrainer` (same tiny model, same data, same LoRA config, same batch size and steps), in the same run.

Run: `python benchmarks/bench_train.py [--steps N] [--records N]`. Each trainer runs in its own subprocess
so the peak resident memory (ru_maxrss) of one does not leak into the other. Tokens/s counts non-padding
tokens fed to the model per second of training loop (model loading and data preparation excluded for both).
Data: the first records of ../shared/datasets/medicalgpt_medical_sft_1k.jsonl (ShareGPT, Chinese medical)
when present, else built-in synthetic dialogues (said in the output). Goal: forge >= 1.0x TRL tokens/s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "datasets" / "medicalgpt_medical_sft_1k.jsonl"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def load_dialogues(n: int) -> tuple[list[list[dict]], str]:
    if DATA.is_file():
        out = []
        for line in DATA.read_text(encoding="utf-8").splitlines():
            obj = json.loads(line)
            role = {"human": "user", "gpt": "assistant"}
            msgs = [{"role": role.get(t["from"], "user"), "content": t["value"]} for t in obj["conversations"]]
            if msgs and msgs[-1]["role"] == "assistant":
                out.append(msgs)
            if len(out) >= n:
                break
        return out, f"real data: {DATA.name} (first {len(out)} dialogues)"
    base = [("帮我查一下订单状态", "好的，请提供订单号，我帮您查询物流信息。"), ("头疼怎么办？", "建议多休息、多喝水，如持续请及时就医。"),
            ("How do I reset my password?", "Click 'Forgot password' on the login page and follow the email link.")]
    out = [[{"role": "user", "content": q * (1 + i % 3)}, {"role": "assistant", "content": a * (1 + i % 4)}]
           for i, (q, a) in enumerate(base * (n // len(base) + 1))][:n]
    return out, f"../shared/datasets absent: {len(out)} synthetic dialogues"


def worker(kind: str, work: Path, steps: int, batch: int, max_length: int) -> dict:
    import torch

    torch.set_num_threads(2)
    model_dir = work / "tiny"
    data_file = work / "data.jsonl"
    if kind == "forge":
        from dialog_forge.train.config import TrainConfig
        from dialog_forge.train.trainer import Trainer

        cfg = TrainConfig(base_model=str(model_dir), data=[str(data_file)], out=str(work / "forge_run"), method="lora",
                          r=8, lr=2e-4, max_steps=steps, batch_size=batch, max_length=max_length, eval_steps=10**9,
                          save_steps=10**9, load_best=False, seed=0)
        tr = Trainer(cfg, log=lambda s: None)
        import dialog_forge.train.trainer as tm

        timing = {"t": 0.0, "tokens": 0}
        real_step = tr._step

        def timed_step(window, *a, **k):
            t0 = time.perf_counter()
            real_step(window, *a, **k)
            timing["t"] += time.perf_counter() - t0
            timing["tokens"] += sum(int(b["attention_mask"].sum()) if "attention_mask" in b else b["labels"].numel()
                                    for b in window)

        tr._step = timed_step
        tr.run()
        del tm
        secs, tokens = timing["t"], timing["tokens"]
    else:
        from datasets import Dataset
        from peft import LoraConfig
        from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
        from trl import SFTConfig, SFTTrainer

        msgs = [json.loads(line)["messages"] for line in data_file.read_text(encoding="utf-8").splitlines()]
        ds = Dataset.from_list([{"messages": m} for m in msgs])
        tok = AutoTokenizer.from_pretrained(model_dir)
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
        args = SFTConfig(output_dir=str(work / "trl_run"), max_steps=steps, per_device_train_batch_size=batch,
                         learning_rate=2e-4, max_length=max_length, report_to=[], save_strategy="no",
                         logging_steps=10**9, use_cpu=True, seed=0, lr_scheduler_type="cosine", warmup_steps=max(1, round(0.03 * steps)),
                         dataloader_num_workers=0, disable_tqdm=True)
        timing = {"t0": 0.0, "t": 0.0, "tokens": 0}

        class Clock(TrainerCallback):
            def on_step_begin(self, *a, **k):
                timing["t0"] = time.perf_counter()

            def on_step_end(self, *a, **k):
                timing["t"] += time.perf_counter() - timing["t0"]

        trainer = SFTTrainer(model=model, args=args, train_dataset=ds, processing_class=tok,
                             peft_config=LoraConfig(r=8, lora_alpha=16, lora_dropout=0.05, target_modules="all-linear",
                                                    task_type="CAUSAL_LM"), callbacks=[Clock()])
        orig = trainer.training_step

        def counting_step(model, inputs, *a, **k):
            timing["tokens"] += int(inputs["attention_mask"].sum()) if "attention_mask" in inputs else \
                int(inputs["input_ids"].numel())
            return orig(model, inputs, *a, **k)

        trainer.training_step = counting_step
        trainer.train()
        secs, tokens = timing["t"], timing["tokens"]
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"kind": kind, "seconds": secs, "tokens": tokens, "tokens_per_s": tokens / secs if secs else 0.0,
            "peak_rss_mib": peak_kib / 1024}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("--records", type=int, default=240)
    ap.add_argument("--worker", choices=["forge", "trl"])
    ap.add_argument("--work")
    a = ap.parse_args()
    if a.worker:
        print(json.dumps(worker(a.worker, Path(a.work), a.steps, a.batch, a.max_length)))
        return
    dialogues, where = load_dialogues(a.records)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        from dialog_forge.train.tiny import make_tiny_model

        texts = [m["content"] for d in dialogues for m in d]
        make_tiny_model(work / "tiny", texts=texts, vocab_size=2000, hidden_size=128, layers=2, seed=0)
        # keep dialogues that fit max_length whole, so neither trainer truncates (TRL would cut silently)
        from transformers import AutoTokenizer

        from dialog_forge.train.masking import ChatEncoder

        enc = ChatEncoder(AutoTokenizer.from_pretrained(work / "tiny"), "tokenizer")
        n0 = len(dialogues)
        dialogues = [d for d in dialogues if len(enc.encode(d, record_id="bench")) <= a.max_length]
        where += f"; {len(dialogues)} of {n0} fit --max-length {a.max_length} whole and are used"
        with open(work / "data.jsonl", "w", encoding="utf-8") as f:
            f.writelines(json.dumps({"id": f"b{i}", "messages": d}, ensure_ascii=False) + "\n" for i, d in enumerate(dialogues))
        print(f"bench_train: {where}; tiny Llama hidden 128 x 2 layers, vocab 2000; LoRA r=8 all-linear; "
              f"{a.steps} steps x batch {a.batch}, max_length {a.max_length}; CPU, 2 threads")
        res = {}
        for kind in ("trl", "forge"):
            cmd = [sys.executable, __file__, "--worker", kind, "--work", str(work), "--steps", str(a.steps),
                   "--batch", str(a.batch), "--max-length", str(a.max_length)]
            p = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "2"})
            if p.returncode != 0:
                print(f"{kind} worker failed:\n{p.stderr[-3000:]}")
                sys.exit(1)
            res[kind] = json.loads(p.stdout.strip().splitlines()[-1])
            r = res[kind]
            print(f"  {kind:5s}: {r['tokens']:7d} tokens in {r['seconds']:.2f} s = {r['tokens_per_s']:8.1f} tokens/s; "
                  f"peak RSS {r['peak_rss_mib']:.0f} MiB")
        ratio = res["forge"]["tokens_per_s"] / res["trl"]["tokens_per_s"]
        mem = res["forge"]["peak_rss_mib"] / res["trl"]["peak_rss_mib"]
        print(f"forge/TRL throughput: {ratio:.2f}x (goal >= 1.0x: {'met' if ratio >= 1.0 else 'NOT met'}); "
              f"peak memory forge/TRL: {mem:.2f}x")


if __name__ == "__main__":
    main()
