"""Token-weighted perplexity of a causal LM over dialogues: over the supervised assistant tokens and over
all tokens, overall and per group (domain, task).

Perplexity = exp(sum of token negative log-likelihoods / number of tokens) over the whole set (token
weighted, not a mean of per-dialogue perplexities). A token ``t_i`` is scored by the model's distribution
after ``t_<i``; "assistant tokens" are those whose label is not -100 in the training encoding
(``dialog_forge.train.masking.encode_dialogue``), i.e. exactly the tokens the adapter was trained on;
"all tokens" are every token but the first.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

IGNORE_INDEX = -100


@dataclass
class Encoded:
    """One tokenised dialogue: ``input_ids`` and ``labels`` (same length; -100 outside assistant spans)
    plus the grouping keys ``id``, ``domain``, ``task``."""

    id: str
    input_ids: list[int]
    labels: list[int]
    domain: str | None = None
    task: str | None = None


@dataclass
class TokenNLL:
    """Summed negative log-likelihood (nats) and token counts of one dialogue: ``nll_assistant`` over
    ``n_assistant`` supervised tokens, ``nll_all`` over ``n_all`` tokens."""

    id: str
    domain: str | None
    task: str | None
    nll_assistant: float
    n_assistant: int
    nll_all: float
    n_all: int


def score(model, items: Sequence[Encoded], *, batch_size: int = 8, pad_id: int = 0,
          max_length: int | None = None) -> list[TokenNLL]:
    """Summed token NLLs of each item under ``model`` (a ``transformers`` causal LM, or a peft model
    around one), right-padded batches of ``batch_size``, truncated to ``max_length`` tokens when given.

    Returns one :class:`TokenNLL` per item, in order. Runs under ``torch.no_grad`` in the model's dtype on
    the model's device.
    """
    import torch
    import torch.nn.functional as F

    device = next(model.parameters()).device
    out: list[TokenNLL] = []
    model.eval()
    with torch.no_grad():
        for start in range(0, len(items), batch_size):
            chunk = items[start:start + batch_size]
            seqs = [(it.input_ids[:max_length], it.labels[:max_length]) if max_length else (it.input_ids, it.labels)
                    for it in chunk]
            width = max(len(s[0]) for s in seqs)
            ids = torch.full((len(seqs), width), pad_id, dtype=torch.long)
            lab = torch.full((len(seqs), width), IGNORE_INDEX, dtype=torch.long)
            att = torch.zeros((len(seqs), width), dtype=torch.long)
            for i, (x, y) in enumerate(seqs):
                ids[i, :len(x)] = torch.tensor(x)
                lab[i, :len(y)] = torch.tensor(y)
                att[i, :len(x)] = 1
            ids, lab, att = ids.to(device), lab.to(device), att.to(device)
            logits = model(input_ids=ids, attention_mask=att).logits[:, :-1].float()
            nll = F.cross_entropy(logits.transpose(1, 2), ids[:, 1:], reduction="none")  # (B, T-1)
            mask_all = att[:, 1:].bool()
            mask_asst = (lab[:, 1:] != IGNORE_INDEX) & mask_all
            for i, it in enumerate(chunk):
                out.append(TokenNLL(
                    id=it.id, domain=it.domain, task=it.task,
                    nll_assistant=float(nll[i][mask_asst[i]].sum()), n_assistant=int(mask_asst[i].sum()),
                    nll_all=float(nll[i][mask_all[i]].sum()), n_all=int(mask_all[i].sum()),
                ))
    return out


def _ppl(nll: float, n: int) -> float | None:
    return math.exp(nll / n) if n else None


def aggregate(rows: Iterable[TokenNLL]) -> dict:
    """Token-weighted figures of ``rows``: ``{"ppl_assistant", "ppl_all", "nll_assistant" (mean nats per
    token), "tokens_assistant", "tokens_all", "dialogues"}``. A perplexity is ``None`` when no token counts."""
    rows = list(rows)
    na = sum(r.n_assistant for r in rows)
    nl = sum(r.n_all for r in rows)
    sa = sum(r.nll_assistant for r in rows)
    sl = sum(r.nll_all for r in rows)
    return {
        "ppl_assistant": _ppl(sa, na),
        "ppl_all": _ppl(sl, nl),
        "nll_assistant": sa / na if na else None,
        "tokens_assistant": na,
        "tokens_all": nl,
        "dialogues": len(rows),
    }


def breakdown(rows: Sequence[TokenNLL], keys: Sequence[str] = ("domain", "task")) -> dict:
    """``{"overall": aggregate(rows), "by_domain": {value: aggregate}, "by_task": {...}}``; records with no
    value for a key are grouped under ``"(none)"``."""
    out: dict = {"overall": aggregate(rows)}
    for key in keys:
        groups: dict[str, list[TokenNLL]] = defaultdict(list)
        for r in rows:
            groups[getattr(r, key) or "(none)"].append(r)
        out[f"by_{key}"] = {k: aggregate(v) for k, v in sorted(groups.items())}
    return out


def encode_records(records, tokenizer, template="tokenizer", *, max_length: int | None = None,
                   system_prompt: str | None = None) -> tuple[list[Encoded], dict[str, int]]:
    """Tokenise ``records`` as training does (``dialog_forge.train.masking.ChatEncoder``: same template,
    same supervised spans, same truncation). Returns ``(encoded, skipped)`` where ``skipped`` counts
    records left out by reason (``no_supervision``: no assistant reply, or it does not fit
    ``max_length``). Raises :class:`ForgeError` when the template cannot be resolved."""
    from ..train.masking import ChatEncoder, EmptySupervision

    enc = ChatEncoder(tokenizer, template, max_length=max_length, system_prompt=system_prompt)
    out, skipped = [], {}
    for r in records:
        try:
            e = enc.encode(r)
        except EmptySupervision:
            skipped["no_supervision"] = skipped.get("no_supervision", 0) + 1
            continue
        out.append(Encoded(r.id, e.input_ids, e.labels, r.domain, r.task))
    return out, skipped


def encode_all(dialogues, encode: Callable[[object], tuple[list[int], list[int]]]) -> list[Encoded]:
    """Apply ``encode(dialogue) -> (input_ids, labels)`` to each dialogue, keeping id/domain/task."""
    out = []
    for d in dialogues:
        ids, labels = encode(d)
        out.append(Encoded(d.id, list(ids), list(labels), d.domain, d.task))
    return out
