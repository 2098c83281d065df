"""Training runs on the tiny model (CPU): every method learns and reloads exactly; resume, early stopping,
multi-stage, packing, L2-to-init, the NaN guard and the run-directory contract."""

from __future__ import annotations

import json

import pytest
import torch

from dialog_forge.errors import ForgeError
from dialog_forge.schema import Dialogue, Message
from dialog_forge.train.api import load_for_inference
from dialog_forge.train.config import TrainConfig
from dialog_forge.train.masking import encode_dialogue
from dialog_forge.train.run_dir import RunDir
from dialog_forge.train.trainer import Trainer

torch.set_num_threads(2)
pytestmark = pytest.mark.slow

LR = {"qlora": 5e-3, "lora": 5e-3, "dora": 5e-3, "full": 1e-3, "prefix": 3e-2}


def cfg_for(tiny_model_dir, train_file, out, **kw) -> TrainConfig:
    base = dict(base_model=str(tiny_model_dir), data=[str(train_file)], out=str(out), max_steps=10, batch_size=6,
                eval_steps=5, seed=0)
    base.update(kw)
    return TrainConfig(**base)


def quiet(_line: str) -> None:
    pass


def probe_ids(tokenizer):
    rec = Dialogue(id="probe", messages=[Message("user", "你好"), Message("assistant", "您好！")])
    return torch.tensor([encode_dialogue(rec, tokenizer, "tokenizer").input_ids])


@pytest.mark.parametrize("method", ["qlora", "lora", "dora", "full", "prefix"])
def test_method_lowers_val_loss_and_reloads_with_same_logits(tiny_model_dir, train_file, tmp_path, method):
    cfg = cfg_for(tiny_model_dir, train_file, tmp_path / "run", method=method, lr=LR[method])
    tr = Trainer(cfg, log=quiet)
    res = tr.run()
    assert res["final_val_loss"] < res["val_loss_before"]
    x = probe_ids(tr.tokenizer)
    with torch.no_grad():
        end_logits = tr.model(input_ids=x).logits
    model, tok, gen = load_for_inference(tmp_path / "run")
    with torch.no_grad():
        again = model(input_ids=x).logits
    torch.testing.assert_close(again, end_logits, atol=1e-5, rtol=1e-5)
    rd = RunDir(tmp_path / "run")
    if method == "full":
        assert (rd.model / "model.safetensors").is_file()
    else:
        assert (rd.adapter / "adapter_model.safetensors").is_file() and (rd.adapter / "adapter_config.json").is_file()
    info = rd.read_train_json()
    assert info["base_model"] == str(tiny_model_dir) and info["method"] == method and info["seed"] == 0
    assert info["data"]["files"][0]["sha256"] and info["versions"]["torch"]
    if method == "qlora":
        assert info["quantization"]["quant_type"] == "nf4" and info["quantization"]["double_quant"]
        assert any(p.__class__.__name__ == "Params4bit" for p in model.parameters())


def test_run_directory_contract(tiny_model_dir, train_file, tmp_path):
    cfg = cfg_for(tiny_model_dir, train_file, tmp_path / "run", method="lora", lr=5e-3, system_prompt="Be kind.")
    Trainer(cfg, log=quiet).run()
    rd = RunDir(tmp_path / "run")
    for p in (rd.adapter, rd.tokenizer, rd.generation_config, rd.train_json, rd.metrics, rd.loss_curve,
              rd.checkpoints / "last", rd.checkpoints / "best"):
        assert p.exists(), p
    gen = rd.read_generation_config()
    for k in ("temperature", "top_p", "max_new_tokens", "stop_token_ids", "stop_strings", "system_prompt", "template"):
        assert k in gen
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(rd.tokenizer)
    # the tiny model's template ends turns with <|im_end|> but its EOS is </s>: both stop generation
    assert set(gen["stop_token_ids"]) == {tok.convert_tokens_to_ids("<|im_end|>"), tok.eos_token_id}
    assert gen["end_of_turn_differs_from_eos"] is True and gen["system_prompt"] == "Be kind."
    assert "im_start" in tok.chat_template
    rows = rd.read_metrics()
    steps = [r for r in rows if "loss" in r]
    assert [r["step"] for r in steps] == list(range(1, 11))
    assert all(r["grad_norm"] > 0 and r["lr"] > 0 and r["supervised_tokens"] > 0 for r in steps)
    assert [r["step"] for r in rows if "val_loss" in r] == [0, 5, 10]
    # warmup (1 step) then cosine decay: lr falls monotonically after the peak
    lrs = [r["lr"] for r in steps]
    assert lrs[0] == pytest.approx(5e-3) and all(a >= b for a, b in zip(lrs, lrs[1:]))


def test_resume_reaches_the_same_weights(tiny_model_dir, train_file, tmp_path):
    """Tolerance: exact (0.0); weights, optimizer, scheduler and RNG state (LoRA dropout) are restored."""
    kw = dict(method="lora", lr=5e-3, grad_accum=2, batch_size=3, eval_steps=3, adapter_name="support_bot")
    a = Trainer(cfg_for(tiny_model_dir, train_file, tmp_path / "a", **kw), log=quiet)
    ra = a.run()
    b = Trainer(cfg_for(tiny_model_dir, train_file, tmp_path / "b", stop_after_steps=4, **kw), log=quiet)
    assert b.run()["interrupted"] is True
    with pytest.raises(ForgeError, match="--resume"):
        Trainer(cfg_for(tiny_model_dir, train_file, tmp_path / "b", **kw), log=quiet).run()
    lines = []
    c = Trainer(cfg_for(tiny_model_dir, train_file, tmp_path / "b", resume=True, **kw), log=lines.append)
    rc = c.run()
    assert any("at step 5" in s for s in lines)  # the first resumed step is the next step number
    sa, sc = a.trainable_state(), c.trainable_state()
    assert sa.keys() == sc.keys() and any("support_bot" in k for k in sa)
    assert max((sa[k] - sc[k]).abs().max().item() for k in sa) == 0.0
    assert rc["final_val_loss"] == ra["final_val_loss"]
    assert [r["step"] for r in RunDir(tmp_path / "b").read_metrics() if "loss" in r] == list(range(1, 11))
    assert (tmp_path / "b" / "adapter" / "adapter_model.safetensors").is_file()


def test_early_stopping_keeps_the_best(tiny_model_dir, train_file, tmp_path):
    cfg = cfg_for(tiny_model_dir, train_file, tmp_path / "run", method="lora", lr=0.0, warmup_ratio=0.0,
                  eval_steps=1, patience=2, max_steps=10)
    res = Trainer(cfg, log=quiet).run()
    assert res["early_stopped_at"] == 3 and res["steps"] == 3 and res["best_step"] == 1


def test_multi_stage_continues_the_same_adapter(tiny_model_dir, train_file, tmp_path):
    cfg = cfg_for(tiny_model_dir, train_file, tmp_path / "run", method="lora",
                  stage=[f"name=textbooks,data={train_file},lr=5e-3,max_steps=4",
                         f"name=dialogues,data={train_file},lr=1e-3,max_steps=3"])
    res = Trainer(cfg, log=quiet).run()
    assert [s["name"] for s in res["stages"]] == ["textbooks", "dialogues"]
    assert res["steps"] == 7
    rows = [r for r in RunDir(tmp_path / "run").read_metrics() if "loss" in r]
    assert [r["stage"] for r in rows] == ["textbooks"] * 4 + ["dialogues"] * 3
    assert rows[4]["lr"] == pytest.approx(1e-3 * 1 / 1) or rows[4]["lr"] <= 1e-3
    assert res["final_val_loss"] < res["val_loss_before"]


def test_packing_trains(tiny_model_dir, train_file, tmp_path):
    res = Trainer(cfg_for(tiny_model_dir, train_file, tmp_path / "run", method="lora", lr=5e-3, packing=True,
                          max_length=128, batch_size=2), log=quiet).run()
    assert res["final_val_loss"] < res["val_loss_before"]


def test_l2_to_init_keeps_full_weights_near_the_start(tiny_model_dir, train_file, tmp_path):
    def drift(lam, out):
        tr = Trainer(cfg_for(tiny_model_dir, train_file, out, method="full", lr=3e-3, l2_to_init=lam, max_steps=6,
                             load_best=False), log=quiet)
        tr.setup_tokenizer()
        tr.setup_model()
        start = {n: p.detach().clone() for n, p in tr.trainable}
        tr2 = Trainer(cfg_for(tiny_model_dir, train_file, out, method="full", lr=3e-3, l2_to_init=lam, max_steps=6,
                              load_best=False), log=quiet)
        tr2.run()
        return sum(((p.detach() - start[n]) ** 2).sum().item() for n, p in tr2.trainable)

    free, tied = drift(0.0, tmp_path / "free"), drift(50.0, tmp_path / "tied")
    assert tied < 0.5 * free


def test_nan_guard_names_dtype_and_padding(tiny_model_dir, train_file, tmp_path, monkeypatch):
    import dialog_forge.train.trainer as trainer_mod

    real = trainer_mod.token_loss_sum
    monkeypatch.setattr(trainer_mod, "token_loss_sum", lambda m, b: real(m, b) * float("nan"))
    with pytest.raises(ForgeError, match=r"non-finite loss at step 1.*dtype torch.float32.*pad id"):
        Trainer(cfg_for(tiny_model_dir, train_file, tmp_path / "run", method="lora"), log=quiet).run()


def test_empty_supervision_is_an_error_or_a_counted_drop(tiny_model_dir, train_file, tmp_path):
    bad = tmp_path / "bad.jsonl"
    recs = [json.loads(line) for line in train_file.read_text(encoding="utf-8").splitlines()]
    recs.append({"id": "no-reply-7", "messages": [{"role": "user", "content": "你好"}], "split": "train"})
    bad.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
    with pytest.raises(ForgeError, match="no-reply-7"):
        Trainer(cfg_for(tiny_model_dir, bad, tmp_path / "r1", method="lora", max_steps=1), log=quiet).run()
    res = Trainer(cfg_for(tiny_model_dir, bad, tmp_path / "r2", method="lora", max_steps=1, drop_empty=True),
                  log=quiet).run()
    assert res["counters"]["train_dropped_empty"] == 1


def test_merge_export_matches_adapter_logits(tiny_model_dir, train_file, tmp_path):
    from transformers import AutoModelForCausalLM

    from dialog_forge.train.export import merge_adapter

    Trainer(cfg_for(tiny_model_dir, train_file, tmp_path / "run", method="qlora", lr=5e-3, max_steps=4), log=quiet).run()
    meta = merge_adapter(tmp_path / "run", tmp_path / "merged")
    assert meta["dtype"] == "torch.float32"
    merged = AutoModelForCausalLM.from_pretrained(tmp_path / "merged").eval()
    assert getattr(merged.config, "quantization_config", None) is None  # merged into 16/32-bit, not 4-bit
    assert not any(p.__class__.__name__ == "Params4bit" for p in merged.parameters())
    # the merged fp32 model reproduces the adapter applied to the fp32 base
    from peft import PeftModel

    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    peft_model = PeftModel.from_pretrained(base, tmp_path / "run" / "adapter").eval()
    x = torch.tensor([[2, 10, 20, 30, 40, 5]])
    with torch.no_grad():
        torch.testing.assert_close(merged(input_ids=x).logits, peft_model(input_ids=x).logits, atol=1e-4, rtol=1e-4)


def test_resume_with_other_adapter_settings_names_the_flags(tiny_model_dir, train_file, tmp_path):
    """`--resume` with another --r (or --method) than the interrupted run: a ForgeError naming the flags and
    both values, not a tensor-shape RuntimeError; an old checkpoint without recorded settings gets a clear
    error from the shape mismatch itself."""
    kw = dict(method="lora", max_steps=4, eval_steps=2, batch_size=6)
    Trainer(cfg_for(tiny_model_dir, train_file, tmp_path / "r", stop_after_steps=1, **kw), log=quiet).run()
    with pytest.raises(ForgeError, match=r"--r 8 \(now 4\), --lora-alpha 16 \(now 8\)"):
        Trainer(cfg_for(tiny_model_dir, train_file, tmp_path / "r", resume=True, **{**kw, "r": 4}), log=quiet).run()
    state = tmp_path / "r" / "checkpoints" / "last" / "state.json"
    st = json.loads(state.read_text())
    assert st["config"]["r"] == 8 and st["config"]["method"] == "lora"
    del st["config"]  # a checkpoint written before settings were recorded
    state.write_text(json.dumps(st))
    with pytest.raises(ForgeError, match="does not fit this model and adapter"):
        Trainer(cfg_for(tiny_model_dir, train_file, tmp_path / "r", resume=True, **{**kw, "r": 4}), log=quiet).run()
