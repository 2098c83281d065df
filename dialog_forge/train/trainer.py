"""The training recipe, top to bottom: ``setup`` -> ``train`` (per stage) -> ``save``.

Supports every ``--method`` of :mod:`.methods`, multi-stage runs (:mod:`.stages`), packing, resume and
early stopping. Read it as a recipe:

1. **setup** -- device and compute dtype; bitsandbytes checked *before* weights load (qlora); tokenizer,
   chat template (its missing special tokens added), base model, peft wrapper.
2. **train** -- for each stage: encode records (:class:`~.masking.ChatEncoder`), AdamW over the trainable
   parameters, linear warmup for ``warmup_ratio * total_steps`` then cosine decay to 0::

       lr(t) = lr_max * t / t_w                                    for t < t_w
       lr(t) = lr_max * 0.5 * (1 + cos(pi * (t - t_w) / (T - t_w)))  otherwise

   Each optimizer step sums token cross-entropy over its ``grad_accum`` micro-batches and divides by the
   number of supervised tokens of the whole step (so long and short examples weigh per token, independent
   of how they were split into micro-batches). Optional ``--l2-to-init``: ``+ lambda * ||theta - theta0||^2``
   over trainable weights. Gradients are clipped to ``max_grad_norm``; every step logs loss, lr and the
   pre-clip gradient norm to ``metrics.jsonl``. Validation loss (per supervised token) every
   ``eval_steps`` (default: end of each epoch), early stopping after ``patience`` evaluations without a new
   best, best weights kept in ``checkpoints/best``.
3. **save** -- the run directory described in :mod:`.run_dir`.

Multi-GPU / multi-node: the loop drives an ``accelerate.Accelerator``; start it with ``accelerate launch
-m dialog_forge train ...`` and the DDP/FSDP/DeepSpeed setup of ``accelerate config`` applies without code
changes. Micro-batches are dealt to processes round-robin; each process normalises by its own
supervised-token count and DDP averages the gradients.

Errors raised (all :class:`~dialog_forge.errors.ForgeError`, exit code 2): bad flags; missing/old
bitsandbytes for qlora; unloadable base model; a record with zero supervised tokens (unless
``--drop-empty``); a non-finite loss or gradient (message names dtype and padding); ``--resume`` without a
checkpoint.
"""

from __future__ import annotations

import json
import math
import os
import platform
import random
import shutil
import sys
import time
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from ..errors import ForgeError
from .collate import pack_examples, packed_collate, pad_collate, supervised_count
from .config import TrainConfig
from .data import resolve_data
from .masking import IGNORE_INDEX, ChatEncoder, EmptySupervision, Encoded, mark_supervised
from .methods import (
    apply_method,
    check_bitsandbytes,
    compute_dtype,
    count_parameters,
    load_base_model,
    pick_device,
)
from .run_dir import RunDir, write_json
from .stages import Stage, parse_stages
from .templates import add_template_tokens, resolve_template


#: settings that shape the trainable weights or the optimizer; ``--resume`` refuses a change of any of them
RESUME_MUST_MATCH = ("base_model", "method", "r", "lora_alpha", "target_modules", "bias", "num_virtual_tokens",
                     "adapter_name", "template")


def _resume_key(cfg: TrainConfig) -> dict[str, Any]:
    """The :data:`RESUME_MUST_MATCH` settings of ``cfg`` (``lora_alpha`` with its default resolved)."""
    d = {k: v for k, v in cfg.to_json_dict().items() if k in RESUME_MUST_MATCH}
    d["lora_alpha"] = cfg.alpha()
    return d


class Interrupted(Exception):
    """Raised internally by ``--stop-after-steps`` after the checkpoint is written."""


def lr_lambda(warmup: int, total: int) -> Callable[[int], float]:
    """Multiplier of the peak lr at optimizer step ``t`` (0-based): linear warmup over ``warmup`` steps,
    then cosine decay to 0 at ``total`` (formula in the module docstring)."""

    def f(t: int) -> float:
        if warmup > 0 and t < warmup:
            return (t + 1) / warmup
        span = max(1, total - warmup)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, (t - warmup) / span)))

    return f


def token_loss_sum(model, batch: dict[str, torch.Tensor]) -> torch.Tensor:
    """Sum over supervised tokens of next-token cross-entropy (fp32). Virtual-token logits of prompt-based
    methods are cut off so logits align with ``labels``."""
    kw = {k: v for k, v in batch.items() if k != "labels"}
    out = model(**kw, use_cache=False)
    labels = batch["labels"]
    logits = out.logits
    if logits.shape[1] > labels.shape[1]:
        logits = logits[:, -labels.shape[1]:]
    shift = logits[:, :-1].float()
    tgt = labels[:, 1:]
    return F.cross_entropy(shift.reshape(-1, shift.shape[-1]), tgt.reshape(-1), ignore_index=IGNORE_INDEX,
                           reduction="sum")


def _rng_state() -> dict[str, Any]:
    import numpy as np

    st = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        st["cuda"] = torch.cuda.get_rng_state_all()
    return st


def _set_rng_state(st: dict[str, Any]) -> None:
    import numpy as np

    random.setstate(st["python"])
    np.random.set_state(st["numpy"])
    torch.set_rng_state(st["torch"])
    if "cuda" in st and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(st["cuda"])


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and torch."""
    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class Trainer:
    """One ``forge train`` run. ``log`` receives progress lines (default: stderr).

    After :meth:`run`, ``self.model`` is the trained model (best weights restored when ``load_best``),
    ``self.tokenizer`` the tokenizer saved with the run."""

    def __init__(self, cfg: TrainConfig, log: Callable[[str], None] | None = None):
        cfg.validate()
        self.cfg = cfg
        self.log = log or (lambda s: print(s, file=sys.stderr, flush=True))
        self.run_dir = RunDir(cfg.out)
        self.model = None
        self.tokenizer = None
        self.counters: dict[str, int] = {}
        self._writer = None

    # =============================================================================== setup ===
    def setup_tokenizer(self) -> None:
        """Tokenizer, template and encoder (no weights loaded)."""
        from transformers import AutoTokenizer

        cfg = self.cfg
        try:
            tok = AutoTokenizer.from_pretrained(cfg.base_model)
        except (OSError, ValueError) as e:
            raise ForgeError(f"--base-model {cfg.base_model!r}: cannot load its tokenizer ({e}).") from None
        self.template = resolve_template(cfg.template, tok)
        self.added_tokens = add_template_tokens(self.template, tok)
        tok.padding_side = "right"
        # pad != eos in the labels: padding is masked by position (see collate.py); the pad id only fills
        # positions. Without a pad token we fill with EOS and record it.
        self.pad_id = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
        if self.pad_id is None:
            self.pad_id = 0
        self.tokenizer = tok
        self.encoder = ChatEncoder(tok, self.template, max_length=cfg.max_length, train_on=cfg.train_on,
                                   system_prompt=cfg.system_prompt, cot=cfg.cot)

    def setup_model(self) -> None:
        """Device, dtype, base model (bitsandbytes checked first for qlora) and the method's wrapper."""
        from accelerate import Accelerator

        cfg = self.cfg
        dev = pick_device(cfg.device)
        self.accelerator = Accelerator(cpu=dev.type == "cpu")
        self.device = self.accelerator.device if cfg.device == "auto" else dev
        self.dtype = compute_dtype(self.device, cfg.dtype)
        if cfg.method == "qlora":
            self.bnb_version = check_bitsandbytes(self.device)  # before any weight is loaded
        set_seed(cfg.seed)
        model = load_base_model(cfg.base_model, cfg.method, self.device, self.dtype)
        if self.added_tokens:
            model.resize_token_embeddings(len(self.tokenizer))
        model.config.use_cache = False
        self.model = apply_method(model, cfg, added_tokens=bool(self.added_tokens))
        self.trainable = [(n, p) for n, p in self.model.named_parameters() if p.requires_grad]
        if not self.trainable:
            raise ForgeError(f"--method {cfg.method}: no trainable parameter; check --target-modules.")
        self.init_params = None
        if cfg.l2_to_init > 0:
            self.init_params = [p.detach().clone() for _, p in self.trainable]

    # ================================================================================ data ===
    def encode(self, records, role: str) -> list[Encoded]:
        """Encode records; zero-supervision records raise (naming the record) or are dropped and counted."""
        out = []
        for r in records:
            try:
                e = self.encoder.encode(r)
            except EmptySupervision:
                if not self.cfg.drop_empty:
                    raise
                self._count(f"{role}_dropped_empty")
                continue
            if e.truncated:
                self._count(f"{role}_truncated")
            if e.eos_appended:
                self._count(f"{role}_eos_appended", e.eos_appended)
            out.append(e)
        return out

    def _count(self, k: str, n: int = 1) -> None:
        self.counters[k] = self.counters.get(k, 0) + n

    def batches(self, examples: list[Encoded], order_seed: int, shuffle: bool = True) -> list[dict]:
        """Collated micro-batches of ``examples`` in a seeded order."""
        idx = list(range(len(examples)))
        if shuffle:
            random.Random(order_seed).shuffle(idx)
        ex = [examples[i] for i in idx]
        bs = self.cfg.batch_size
        if self.cfg.packing:
            rows = pack_examples(ex, self.cfg.max_length)
            return [packed_collate(rows[i:i + bs], self.pad_id) for i in range(0, len(rows), bs)]
        return [pad_collate(ex[i:i + bs], self.pad_id) for i in range(0, len(ex), bs)]

    # ================================================================================ eval ===
    @torch.no_grad()
    def evaluate(self, val_batches: list[dict]) -> tuple[float, int]:
        """``(loss per supervised token, supervised tokens)`` on the validation batches."""
        was = self.model.training
        self.model.eval()
        tot, n = 0.0, 0
        for b in val_batches:
            b = {k: v.to(self.device) for k, v in b.items()}
            tot += float(token_loss_sum(self.model, b))
            n += supervised_count(b)
        if was:
            self.model.train()
        return (tot / n if n else float("nan")), n

    # ========================================================================= checkpoints ===
    def trainable_state(self) -> dict[str, torch.Tensor]:
        return {n: p.detach().to("cpu", copy=True) for n, p in self.trainable}

    def load_trainable_state(self, state: dict[str, torch.Tensor]) -> None:
        with torch.no_grad():
            for n, p in self.trainable:
                p.copy_(state[n].to(p.device, p.dtype))

    def save_checkpoint(self, name: str, state: dict[str, Any], optimizer=None, scheduler=None) -> None:
        d = self.run_dir.checkpoints / name
        tmp = d.with_name(name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        torch.save(self.trainable_state(), tmp / "trainable.pt")
        if optimizer is not None:
            torch.save(optimizer.state_dict(), tmp / "optimizer.pt")
            torch.save(scheduler.state_dict(), tmp / "scheduler.pt")
            torch.save(_rng_state(), tmp / "rng.pt")
        write_json(tmp / "state.json", state)
        shutil.rmtree(d, ignore_errors=True)
        tmp.rename(d)

    # =============================================================================== train ===
    def run(self) -> dict[str, Any]:
        """Run every stage and save the run directory; returns ``{"run_dir", "val_loss_before",
        "final_val_loss", "best_val_loss", "steps", ...}`` (see :func:`dialog_forge.train.api.train`)."""
        cfg = self.cfg
        t0 = time.time()
        if cfg.dry_run:  # needs only the model's config.json: no tokenizer, no weights, no data read
            from .dryrun import dry_run_report

            rep = dry_run_report(cfg)
            self.log(rep["text"])
            return rep
        self.setup_tokenizer()
        stages = parse_stages(cfg)
        if cfg.preview:
            return self.preview(stages[0], cfg.preview)
        root = self.run_dir.root
        ckpt_last = self.run_dir.checkpoints / "last"
        resume_state = None
        if cfg.resume:
            if not (ckpt_last / "state.json").is_file():
                raise ForgeError(f"--resume: no checkpoint in {ckpt_last}; run without --resume first.")
            resume_state = json.loads((ckpt_last / "state.json").read_text())
            saved = resume_state.get("config") or {}
            now = _resume_key(cfg)
            diff = [k for k in RESUME_MUST_MATCH if k in saved and saved[k] != now.get(k)]
            if diff:
                flags = ", ".join(f"--{k.replace('_', '-')} {saved[k]!r} (now {now.get(k)!r})" for k in diff)
                raise ForgeError(f"--resume: the checkpoint in {ckpt_last} was written with {flags}; resume with "
                                 "the flags of the interrupted run, or train the new settings into another --out.")
        elif root.exists() and (self.run_dir.is_run() or ckpt_last.exists()):
            raise ForgeError(f"--out {root} already holds a run; pass --resume to continue it or choose "
                             "another --out.")
        self.splits = [resolve_data(s.data, s.val) for s in stages]  # bad paths fail before weights load
        root.mkdir(parents=True, exist_ok=True)
        self.setup_model()
        if cfg.tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                raise ForgeError("--tensorboard needs the tensorboard package: pip install tensorboard") from None
            self._writer = SummaryWriter(str(root / "tensorboard"))
        if resume_state is None:
            self.run_dir.metrics.write_text("")
        else:  # keep only metrics up to the checkpoint
            rows = [r for r in self.run_dir.read_metrics() if r.get("step", 0) <= resume_state["global_step"]]
            self.run_dir.metrics.write_text("".join(json.dumps(r) + "\n" for r in rows))
        self.data_files: list[dict] = []
        self.result: dict[str, Any] = {"run_dir": str(root), "stages": []}
        gstep = 0
        interrupted = False
        try:
            for si, stage in enumerate(stages):
                if resume_state is not None and si < resume_state["stage"]:
                    gstep += resume_state["stage_steps"][si] if si < len(resume_state.get("stage_steps", [])) else 0
                    continue
                gstep = self.train_stage(si, stage, gstep, resume_state if resume_state and
                                         resume_state["stage"] == si else None)
                resume_state = None
        except Interrupted:
            interrupted = True
        if interrupted:
            self.log(f"stopped after step {gstep if not hasattr(self, '_last_step') else self._last_step} "
                     f"(--stop-after-steps); continue with --resume")
            return {**self.result, "interrupted": True, "steps": self._last_step}
        if cfg.load_best and (self.run_dir.checkpoints / "best" / "trainable.pt").is_file() and \
                self.result.get("best_val_loss") is not None and \
                self.result["best_val_loss"] < self.result.get("final_val_loss", float("inf")):
            self.load_trainable_state(torch.load(self.run_dir.checkpoints / "best" / "trainable.pt"))
            self.result["restored_best"] = True
        self.model.eval()
        self.save_outputs(stages, time.time() - t0)
        return self.result

    def train_stage(self, si: int, stage: Stage, gstep: int, resume: dict | None) -> int:
        """Train one stage; returns the global step count at its end."""
        cfg = self.cfg
        split = self.splits[si]
        self.data_files += [{**f, "stage": stage.name} for f in split.files]
        train_records = split.train[: cfg.max_records] if cfg.max_records else split.train
        train_ex = self.encode(train_records, "train")
        val_ex = self.encode(split.val, "val")
        if not train_ex:
            raise ForgeError(f"stage {stage.name}: every training record was dropped (--drop-empty).")
        val_batches = self.batches(val_ex, 0, shuffle=False) if val_ex else []
        world, rank = self.accelerator.num_processes, self.accelerator.process_index
        n_micro = len(self.batches(train_ex, 0, shuffle=False))
        steps_per_epoch = max(1, math.ceil(n_micro / cfg.grad_accum))
        total = stage.max_steps if stage.max_steps else max(1, math.ceil(stage.epochs * steps_per_epoch))
        warmup = round(cfg.warmup_ratio * total)
        params = [p for _, p in self.trainable]
        decay = [p for n, p in self.trainable if p.ndim >= 2]
        no_decay = [p for n, p in self.trainable if p.ndim < 2]
        optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                                       {"params": no_decay, "weight_decay": 0.0}], lr=stage.lr)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda(warmup, total))
        self.model, optimizer = self.accelerator.prepare(self.model, optimizer)
        eval_every = cfg.eval_steps or steps_per_epoch
        save_every = cfg.save_steps or eval_every
        st = {"stage": si, "stage_step": 0, "epoch": 0, "micro": 0, "best_val": None, "bad_evals": 0,
              "global_step": gstep, "stage_steps": self.result.get("stage_steps_done", [])}
        srec = {"name": stage.name, "train_examples": len(train_ex), "val_examples": len(val_ex),
                "total_steps": total, "warmup_steps": warmup, "lr": stage.lr}
        if resume:
            try:
                optimizer.load_state_dict(torch.load(self.run_dir.checkpoints / "last" / "optimizer.pt"))
                scheduler.load_state_dict(torch.load(self.run_dir.checkpoints / "last" / "scheduler.pt"))
                self.load_trainable_state(torch.load(self.run_dir.checkpoints / "last" / "trainable.pt"))
            except (RuntimeError, ValueError, KeyError) as e:  # a checkpoint of other model/adapter settings
                raise ForgeError(f"--resume: the checkpoint in {self.run_dir.checkpoints / 'last'} does not fit this "
                                 f"model and adapter ({type(e).__name__}: {e}); resume with the flags of the "
                                 "interrupted run, or choose another --out.") from None
            _set_rng_state(torch.load(self.run_dir.checkpoints / "last" / "rng.pt", weights_only=False))
            st.update({k: resume[k] for k in ("stage_step", "epoch", "micro", "best_val", "bad_evals",
                                              "global_step")})
            for k in ("val_loss_before", "best_val_loss"):
                if k in resume.get("result", {}):
                    self.result[k] = resume["result"][k]
            gstep = st["global_step"]
            self.log(f"resumed stage {stage.name} at step {gstep + 1}")
        elif val_batches:
            vl, vn = self.evaluate(val_batches)
            self.result.setdefault("val_loss_before", vl)
            srec["val_loss_before"] = vl
            self._metric({"step": gstep, "stage": stage.name, "val_loss": vl, "val_tokens": vn})
            self.log(f"[{stage.name}] val loss before training {vl:.4f} ({vn} tokens)")
        self.model.train()
        stop = False
        while st["stage_step"] < total and not stop:
            epoch_batches = self.batches(train_ex, cfg.seed * 1000 + si * 100 + st["epoch"])
            mine = [b for i, b in enumerate(epoch_batches) if i % world == rank]
            while st["micro"] < len(mine) and st["stage_step"] < total:
                window = mine[st["micro"]: st["micro"] + cfg.grad_accum]
                st["micro"] += len(window)
                self._step(window, optimizer, scheduler, params, st, stage, total, steps_per_epoch)
                gstep = st["global_step"]
                self._last_step = gstep
                at_end = st["stage_step"] >= total
                if val_batches and (st["stage_step"] % eval_every == 0 or at_end):
                    stop = self._eval_and_maybe_stop(val_batches, st, stage)
                if st["stage_step"] % save_every == 0 or at_end or stop or \
                        (cfg.stop_after_steps and gstep >= cfg.stop_after_steps):
                    st["result"] = {k: self.result[k] for k in ("val_loss_before", "best_val_loss") if k in self.result}
                    st["config"] = _resume_key(cfg)
                    self.save_checkpoint("last", st, optimizer, scheduler)
                if cfg.stop_after_steps and gstep >= cfg.stop_after_steps and not at_end:
                    raise Interrupted()
                if stop:
                    break
            if st["micro"] >= len(mine):
                st["epoch"] += 1
                st["micro"] = 0
        srec["steps"] = st["stage_step"]
        if val_batches:
            srec["final_val_loss"] = self.result.get("final_val_loss")
        self.result["stages"].append(srec)
        self.result.setdefault("stage_steps_done", []).append(st["stage_step"])
        self.result["steps"] = gstep
        return gstep

    def _step(self, window, optimizer, scheduler, params, st, stage, total, steps_per_epoch) -> None:
        cfg = self.cfg
        n_sup = sum(supervised_count(b) for b in window)
        ntok = sum(int(b["labels"].numel()) for b in window)
        loss_total = 0.0
        for b in window:
            b = {k: v.to(self.device) for k, v in b.items()}
            loss = token_loss_sum(self.model, b) / max(1, n_sup)
            if self.init_params is not None:
                reg = sum(((p - p0) ** 2).sum() for (_, p), p0 in zip(self.trainable, self.init_params))
                loss = loss + cfg.l2_to_init * reg / len(window)
            self.accelerator.backward(loss)
            loss_total += float(loss.detach())
        clip = cfg.max_grad_norm if cfg.max_grad_norm and cfg.max_grad_norm > 0 else float("inf")
        gnorm = float(torch.nn.utils.clip_grad_norm_(params, clip))
        if not (math.isfinite(loss_total) and math.isfinite(gnorm)):
            tok = self.tokenizer
            raise ForgeError(
                f"non-finite {'loss' if not math.isfinite(loss_total) else 'gradient norm'} at step "
                f"{st['global_step'] + 1} (loss={loss_total}, grad_norm={gnorm}); compute dtype {self.dtype}, "
                f"pad id {self.pad_id} (eos id {tok.eos_token_id}), padding side {tok.padding_side}, padding "
                "masked by position. Try --dtype fp32 (fp16 overflows easily) or bf16, a lower --lr, and check "
                "that no example is all padding.")
        lr = scheduler.get_last_lr()[0]
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        st["stage_step"] += 1
        st["global_step"] += 1
        row = {"step": st["global_step"], "stage": stage.name,
               "epoch": round(st["epoch"] + min(1.0, (st["stage_step"] % steps_per_epoch or steps_per_epoch)
                                                / steps_per_epoch), 4),
               "loss": loss_total, "lr": lr, "grad_norm": gnorm, "tokens": ntok, "supervised_tokens": n_sup}
        self._metric(row)

    def _eval_and_maybe_stop(self, val_batches, st, stage) -> bool:
        vl, vn = self.evaluate(val_batches)
        self.result["final_val_loss"] = vl
        self._metric({"step": st["global_step"], "stage": stage.name, "val_loss": vl, "val_tokens": vn})
        self.log(f"[{stage.name}] step {st['global_step']}: val loss {vl:.4f}")
        if st["best_val"] is None or vl < st["best_val"]:
            st["best_val"] = vl
            st["bad_evals"] = 0
            self.result["best_val_loss"] = vl
            self.result["best_step"] = st["global_step"]
            self.save_checkpoint("best", {"step": st["global_step"], "val_loss": vl})
            return False
        st["bad_evals"] += 1
        if self.cfg.patience is not None and st["bad_evals"] >= self.cfg.patience:
            self.log(f"[{stage.name}] early stop: {st['bad_evals']} evaluations without improvement")
            self.result["early_stopped_at"] = st["global_step"]
            return True
        return False

    def _metric(self, row: dict[str, Any]) -> None:
        with open(self.run_dir.metrics, "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
        if self._writer is not None:
            for k in ("loss", "lr", "grad_norm", "val_loss"):
                if k in row:
                    self._writer.add_scalar(k, row[k], row["step"])

    # ============================================================================= preview ===
    def preview(self, stage: Stage, n: int) -> dict[str, Any]:
        """Print ``n`` rendered training samples with supervised spans between ⟦ ⟧, then return."""
        split = resolve_data(stage.data, stage.val)
        shown = []
        for r in split.train[:n]:
            try:
                e = self.encoder.encode(r)
            except EmptySupervision as err:
                if not self.cfg.drop_empty:
                    raise
                print(f"--- {r.id}: dropped ({err})")
                continue
            print(f"--- {r.id} ({len(e)} tokens, {e.n_supervised} supervised{', truncated' if e.truncated else ''})")
            print(mark_supervised(e, self.tokenizer))
            shown.append(r.id)
        return {"preview": shown, "template": self.template.name, "end_of_turn": self.encoder.end_of_turn}

    # ================================================================================ save ===
    def generation_config(self) -> dict[str, Any]:
        enc, tok = self.encoder, self.tokenizer
        eot = enc.end_of_turn
        return {"temperature": self.cfg.temperature, "top_p": self.cfg.top_p,
                "max_new_tokens": self.cfg.max_new_tokens, "stop_token_ids": enc.end_of_turn_ids(),
                "stop_strings": [s for s in dict.fromkeys([eot, tok.eos_token]) if s],
                "system_prompt": self.cfg.system_prompt, "template": self.template.name,
                "end_of_turn": eot, "eos_token_id": tok.eos_token_id, "pad_token_id": self.pad_id,
                "end_of_turn_differs_from_eos": bool(eot and eot != tok.eos_token)}

    def save_outputs(self, stages: list[Stage], wall: float) -> None:
        rd, cfg = self.run_dir, self.cfg
        model = self.accelerator.unwrap_model(self.model)
        if cfg.method == "full":
            model.save_pretrained(rd.model, safe_serialization=True)
        else:
            shutil.rmtree(rd.adapter, ignore_errors=True)
            # named_parameters, not model.state_dict(): bitsandbytes 0.50 re-packs 4-bit quant states in
            # place inside state_dict(), which shifts the in-memory model's logits (~1e-3).
            sd = {n: p.detach() for n, p in model.named_parameters()}
            model.save_pretrained(rd.adapter, safe_serialization=True, state_dict=sd)
            sub = rd.adapter / cfg.adapter_name
            if cfg.adapter_name != "default" and sub.is_dir():  # peft nests non-default names
                for f in sub.iterdir():
                    shutil.move(str(f), rd.adapter / f.name)
                sub.rmdir()
        tok = self.tokenizer
        tok.chat_template = self.template.source
        tok.save_pretrained(rd.tokenizer)
        write_json(rd.generation_config, self.generation_config())
        trainable, total = count_parameters(model)
        from ..io.manifest import versions

        info = {
            "base_model": cfg.base_model, "method": cfg.method, "template": self.template.name,
            "adapter_name": cfg.adapter_name, "config": cfg.to_json_dict(),
            "stages": [s.__dict__ for s in stages],
            "data": {"files": self.data_files, "counters": self.counters},
            "added_tokens": self.added_tokens, "pad_token_id": self.pad_id,
            "parameters": {"trainable": trainable, "total": total},
            "quantization": ({"quant_type": "nf4", "double_quant": True, "compute_dtype": str(self.dtype),
                              "bitsandbytes": self.bnb_version} if cfg.method == "qlora" else None),
            "versions": versions(), "seed": cfg.seed,
            "hardware": {"device": str(self.device), "dtype": str(self.dtype), "platform": platform.platform(),
                         "cpu_count": os.cpu_count(), "processes": self.accelerator.num_processes,
                         "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None},
            "result": {k: v for k, v in self.result.items() if k != "stage_steps_done"},
            "wall_seconds": round(wall, 2),
        }
        write_json(rd.train_json, info)
        self.plot(rd)
        self.result.update({"adapter_dir": str(rd.model if cfg.method == "full" else rd.adapter),
                            "trainable_params": trainable, "total_params": total, "counters": self.counters})

    def plot(self, rd: RunDir) -> None:
        """``loss_curve.png``: training loss per step and validation loss per evaluation."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        rows = rd.read_metrics()
        tr = [(r["step"], r["loss"]) for r in rows if "loss" in r]
        va = [(r["step"], r["val_loss"]) for r in rows if "val_loss" in r]
        fig, ax = plt.subplots(figsize=(6, 3.5))
        if tr:
            ax.plot(*zip(*tr), label="train loss")
        if va:
            ax.plot(*zip(*va), "o-", label="val loss")
        ax.set_xlabel("optimizer step")
        ax.set_ylabel("loss per supervised token")
        ax.legend()
        fig.tight_layout()
        fig.savefig(rd.loss_curve, dpi=90)
        plt.close(fig)
