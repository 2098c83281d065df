"""Generating the reply to each test dialogue with a run's generation settings, and the stop check.

For a test record, the *reference* is its last assistant turn and the *prompt* is every message before it
(the run's system prompt is added when the record has none, as in training). The prompt is rendered with
the chat template and ``add_generation_prompt=True`` and tokenized without extra special tokens (the
template owns BOS, as in :mod:`dialog_forge.train.masking`).

Generation stops on any of ``stop_token_ids`` (the template's end-of-turn token and EOS, from the run's
``generation_config.json``) or ``max_new_tokens``. A reply counts as *stopped* when it ended on a stop token
(or contains a stop string) before the length limit: a model that never learnt to emit its end-of-turn
token runs to the limit every time, and its stop rate is near 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from .generation import Generation


@dataclass
class GenSettings:
    """The settings a reply is generated with (the keys of ``generation_config.json``): ``temperature``
    (0 = greedy), ``top_p``, ``max_new_tokens``, ``stop_token_ids``, ``stop_strings``, ``system_prompt``,
    ``template`` (name, informational here: the tokenizer carries the template source)."""

    temperature: float = 0.0
    top_p: float = 1.0
    max_new_tokens: int = 128
    stop_token_ids: tuple[int, ...] = ()
    stop_strings: tuple[str, ...] = ()
    system_prompt: str | None = None
    template: str | None = None

    @classmethod
    def from_dict(cls, d: dict) -> GenSettings:
        """From a ``generation_config.json`` dict (unknown keys ignored, missing keys default)."""
        return cls(
            temperature=float(d.get("temperature") if d.get("temperature") is not None else 0.0),
            top_p=float(d.get("top_p") if d.get("top_p") is not None else 1.0),
            max_new_tokens=int(d.get("max_new_tokens") or 128),
            stop_token_ids=tuple(int(x) for x in (d.get("stop_token_ids") or ())),
            stop_strings=tuple(d.get("stop_strings") or ()),
            system_prompt=d.get("system_prompt"),
            template=d.get("template"),
        )

    def to_dict(self) -> dict:
        return {"temperature": self.temperature, "top_p": self.top_p, "max_new_tokens": self.max_new_tokens,
                "stop_token_ids": list(self.stop_token_ids), "stop_strings": list(self.stop_strings),
                "system_prompt": self.system_prompt, "template": self.template}


def split_prompt(record, system_prompt: str | None = None) -> tuple[list[dict], str] | None:
    """``(prompt_messages, reference)`` of a record: messages before its last assistant turn (with
    ``system_prompt`` prepended when the record has no system turn) and that turn's text; ``None`` when
    the record has no assistant turn after a user turn."""
    msgs = [{"role": m.role, "content": m.content} for m in record.messages]
    last = max((i for i, m in enumerate(msgs) if m["role"] == "assistant"), default=None)
    if last is None or not any(m["role"] == "user" for m in msgs[:last]):
        return None
    prompt = msgs[:last]
    if system_prompt and prompt[0]["role"] != "system":
        prompt.insert(0, {"role": "system", "content": system_prompt})
    return prompt, msgs[last]["content"]


def generate(model, tokenizer, records: Sequence, settings: GenSettings, *, batch_size: int = 8,
             seed: int = 0, chat_template: str | None = None) -> list[Generation]:
    """One :class:`Generation` per usable record (records without a user->assistant exchange are
    skipped), in order. ``chat_template``: Jinja source overriding the tokenizer's. Sampling (temperature
    > 0) is seeded with ``seed`` for each batch, so reruns give the same replies."""
    import torch

    pairs = []
    for r in records:
        sp = split_prompt(r, settings.system_prompt)
        if sp is not None:
            pairs.append((r, *sp))
    stop_ids = list(settings.stop_token_ids) or [tokenizer.eos_token_id]
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else stop_ids[0]
    device = next(model.parameters()).device
    out: list[Generation] = []
    model.eval()
    for start in range(0, len(pairs), batch_size):
        chunk = pairs[start:start + batch_size]
        texts = [tokenizer.apply_chat_template(p, chat_template=chat_template, tokenize=False,
                                               add_generation_prompt=True) for _, p, _ in chunk]
        enc = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]
        if tokenizer.bos_token_id is not None:
            enc = [e[1:] if len(e) >= 2 and e[0] == e[1] == tokenizer.bos_token_id else e for e in enc]
        width = max(len(e) for e in enc)
        ids = torch.full((len(enc), width), pad_id, dtype=torch.long)
        att = torch.zeros((len(enc), width), dtype=torch.long)
        for i, e in enumerate(enc):  # left padding for decoder-only generation
            ids[i, width - len(e):] = torch.tensor(e)
            att[i, width - len(e):] = 1
        torch.manual_seed(seed + start)
        kw = {"max_new_tokens": settings.max_new_tokens, "eos_token_id": stop_ids, "pad_token_id": pad_id}
        if settings.temperature and settings.temperature > 0:
            kw.update({"do_sample": True, "temperature": settings.temperature, "top_p": settings.top_p})
        else:
            kw.update({"do_sample": False, "temperature": None, "top_p": None, "top_k": None})
        with torch.no_grad():
            gen = model.generate(input_ids=ids.to(device), attention_mask=att.to(device), **kw)
        for i, (rec, prompt, ref) in enumerate(chunk):
            new = gen[i, width:].tolist()
            end = next((k for k, t in enumerate(new) if t in stop_ids), None)
            body = new[:end] if end is not None else [t for t in new if t != pad_id]
            text = tokenizer.decode(body, skip_special_tokens=True)
            stopped = end is not None
            for s in settings.stop_strings:
                j = text.find(s)
                if j >= 0:
                    text, stopped = text[:j], True
            out.append(Generation(id=rec.id, prediction=text.strip(), reference=ref, stopped=stopped,
                                  n_tokens=len(body), domain=rec.domain, task=rec.task, prompt=prompt))
    return out
