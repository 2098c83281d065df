"""Helpers for evaluate tests: a tiny one-domain dialogue set, a tiny Llama model and a direct training
loop whose labels can leave the end-of-turn token unsupervised (a model that never learns to stop)."""

from __future__ import annotations

from dialog_forge.schema import Dialogue, Message

DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
HOURS = ["9am", "10am", "8am", "11am", "7am", "noon"]


def clinic_dialogues(n: int = 6, domain: str = "medical", prefix: str = "c") -> list[Dialogue]:
    """``n`` short clinic-hours dialogues (one domain, one task)."""
    out = []
    for i in range(n):
        d, h = DAYS[i % len(DAYS)], HOURS[i % len(HOURS)]
        out.append(Dialogue(id=f"{prefix}{i}", domain=domain, task="qa", lang="en", messages=[
            Message("user", f"When does the clinic open on {d}?"),
            Message("assistant", f"On {d} the clinic opens at {h}."),
        ]))
    return out


def other_dialogues(n: int = 4) -> list[Dialogue]:
    """Dialogues of another domain (finance), for per-domain breakdowns."""
    return [Dialogue(id=f"f{i}", domain="finance", task="qa", lang="en", messages=[
        Message("user", f"What is the fee for card {i}?"),
        Message("assistant", f"The fee for card {i} is {i + 2} dollars."),
    ]) for i in range(n)]


def corpus_texts() -> list[str]:
    recs = clinic_dialogues(6) + other_dialogues(4)
    return [m.content for r in recs for m in r.messages] * 3


def make_tiny(out_dir) -> str:
    """Save the project's tiny Llama + BPE tokenizer (``dialog_forge.train.tiny``) into ``out_dir``."""
    from dialog_forge.train.tiny import make_tiny_model

    return str(make_tiny_model(out_dir, texts=corpus_texts(), vocab_size=400, hidden_size=64, layers=2))


def train_direct(model, tokenizer, records, *, steps: int = 120, lr: float = 3e-3, supervise_eos: bool = True,
                 seed: int = 0):
    """Full fine-tune ``model`` in place on ``records`` (one batch of all of them) for ``steps`` AdamW
    steps. With ``supervise_eos=False`` the labels of every stop token (end-of-turn and EOS) are set to
    -100, so the model never learns to end its reply. Returns the list of losses."""
    import torch

    from dialog_forge.train.masking import IGNORE_INDEX, ChatEncoder

    torch.manual_seed(seed)
    enc = ChatEncoder(tokenizer, "tokenizer")
    stop = set(enc.end_of_turn_ids())
    items = [enc.encode(r) for r in records]
    width = max(len(e.input_ids) for e in items)
    ids = torch.full((len(items), width), tokenizer.pad_token_id, dtype=torch.long)
    lab = torch.full((len(items), width), IGNORE_INDEX, dtype=torch.long)
    att = torch.zeros((len(items), width), dtype=torch.long)
    for i, e in enumerate(items):
        labels = [(IGNORE_INDEX if (not supervise_eos and t in stop) else t) for t in e.labels]
        ids[i, :len(e.input_ids)] = torch.tensor(e.input_ids)
        lab[i, :len(labels)] = torch.tensor(labels)
        att[i, :len(e.input_ids)] = 1
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    losses = []
    for _ in range(steps):
        loss = model(input_ids=ids, attention_mask=att, labels=lab).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    model.eval()
    return losses


def write_jsonl(path, records) -> str:
    """Write canonical records as JSONL; returns the path as a string."""
    from pathlib import Path

    Path(path).write_bytes(b"\n".join(r.to_json() for r in records) + b"\n")
    return str(path)


def train_run(base: str, out, train_file: str, val_file: str, *, r: int = 8, steps: int = 30,
              lr: float = 5e-3, **kw) -> str:
    """Train a tiny LoRA run through the train package's Python API; returns the run directory."""
    from dialog_forge.train.api import train
    from dialog_forge.train.config import TrainConfig

    cfg = TrainConfig(base_model=base, data=[train_file], val=[val_file], out=str(out), method="lora", r=r,
                      lr=lr, max_steps=steps, batch_size=6, eval_steps=max(1, steps // 2), temperature=0.0,
                      max_new_tokens=24, **kw)
    train(cfg)
    return str(out)
