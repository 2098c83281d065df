"""Rendering a dialogue with its chat template and building the training labels.

How labels are made (the fault this module exists to prevent: a model that never learns to stop, or that
learns the user's words):

1. The dialogue is rendered turn by turn: ``render(messages[:i+1])`` must extend ``render(messages[:i])``
   (templates are *prefix-consistent*; others are refused with an error naming the template). The
   difference is turn ``i``'s text, so the **character offsets** of every assistant reply in the final text
   are known exactly -- no searching for token ids of a response template.
2. A supervised span runs from the first character of the reply through its end-of-turn string
   (``<|im_end|>``, ``<|eot_id|>`` or EOS, see :mod:`.templates`), so the stop token is learnt. When the
   template does not close replies with any such token, EOS is inserted after the reply (counted in
   ``Encoded.eos_appended``).
3. The text is tokenized once with ``add_special_tokens=False`` (the template owns BOS; a doubled BOS is
   collapsed) and ``return_offsets_mapping=True``; a token is supervised when its character range overlaps a
   supervised span. Labels elsewhere are ``-100``. Padding is masked later by the collator from the
   attention mask/lengths, never by token id, so pad == eos cannot hide the EOS label.

``--train-on``: ``assistant`` (every reply), ``last`` (the last reply only), ``all`` (every token).

Truncation policy for ``--max-length L``: (a) drop the earliest user/assistant exchanges (the system
prompt stays) while more than one assistant reply is left and the example is longer than ``L``; (b) if still
too long, cut tokens from the left of the prompt before the last reply (BOS stays); (c) if the last reply
with its end-of-turn token alone does not fit, the example has no usable supervision: an error naming the
record, or a drop counted under ``--drop-empty``. The last assistant turn is therefore always kept whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import ForgeError
from ..schema import Dialogue, Message
from .templates import ChatTemplate, detect_end_of_turn, render, resolve_template

IGNORE_INDEX = -100


class EmptySupervision(ForgeError):
    """An example has zero supervised tokens (after truncation); ``record_id`` names it."""

    def __init__(self, record_id: str, why: str):
        super().__init__(f"record {record_id!r}: {why}; it would be trained on with zero supervised tokens. "
                         "Fix the record, raise --max-length, or pass --drop-empty to drop such records "
                         "with a count.")
        self.record_id = record_id


class SpecialTokenInText(EmptySupervision):
    """A message's text contains a special-token string (``</s>``, ``<|im_end|>``...), which tokenization
    would turn into the real token: an EOS inside a reply teaches the model to stop mid-reply, and a user turn
    could fake a turn boundary. Dropped and counted like an empty example under ``--drop-empty``."""

    def __init__(self, record_id: str, index: int, role: str, token: str):
        ForgeError.__init__(self, f"record {record_id!r}: message {index} ({role}) contains the special token "
                            f"{token!r} as text, which would be tokenized as the real token (an EOS inside a reply "
                            "teaches the model to stop there; in a user turn it fakes a turn boundary). Remove it "
                            "from the record, or pass --drop-empty to drop such records with a count.")
        self.record_id = record_id


@dataclass
class Encoded:
    """One tokenized example: ``input_ids`` and ``labels`` (same length; ``-100`` = not supervised),
    ``record_id``, ``n_supervised`` (labels != -100), ``truncated`` (tokens cut), ``dropped_turns``
    (messages removed by truncation), ``eos_appended`` (replies closed by an inserted EOS) and the rendered
    ``text`` with the supervised character ``spans``."""

    input_ids: list[int]
    labels: list[int]
    record_id: str = ""
    truncated: bool = False
    dropped_turns: int = 0
    eos_appended: int = 0
    text: str = ""
    spans: list[tuple[int, int]] = field(default_factory=list)

    @property
    def n_supervised(self) -> int:
        return sum(1 for x in self.labels if x != IGNORE_INDEX)

    def __len__(self) -> int:
        return len(self.input_ids)


def to_messages(record: Dialogue | Iterable[Any], system_prompt: str | None = None, cot: bool = False) -> list[dict]:
    """Chat messages (list of ``{"role", "content"}``) of a record, a list of :class:`Message` or dicts.

    ``system_prompt`` is prepended when the record has no system turn. With ``cot`` and a step-by-step text in
    ``record.meta["cot"]`` (or ``"rationale"``), the last reply becomes ``"Step by step:\\n{cot}\\n\\nAnswer:
    {reply}"``. Alpaca-style ``meta["input"]`` is passed to templates as the last user turn's ``input``.
    """
    meta = record.meta if isinstance(record, Dialogue) else {}
    items = record.messages if isinstance(record, Dialogue) else list(record)
    msgs = []
    for m in items:
        if isinstance(m, Message):
            msgs.append({"role": m.role, "content": m.content})
        else:
            msgs.append({"role": m["role"], "content": m["content"]})
    extra_input = meta.get("input")
    if isinstance(extra_input, str) and extra_input.strip():
        for m in reversed(msgs):
            if m["role"] == "user":
                m["input"] = extra_input
                break
    if system_prompt and not (msgs and msgs[0]["role"] == "system"):
        msgs.insert(0, {"role": "system", "content": system_prompt})
    if cot:
        rationale = meta.get("cot") or meta.get("rationale")
        if isinstance(rationale, str) and rationale.strip():
            for m in reversed(msgs):
                if m["role"] == "assistant":
                    m["content"] = f"Step by step:\n{rationale.strip()}\n\nAnswer: {m['content']}"
                    break
    return msgs


def render_with_spans(tokenizer, template: ChatTemplate, messages: list[dict], end_of_turn: str | None
                      ) -> tuple[str, list[tuple[int, int]], int]:
    """Render ``messages`` and return ``(text, assistant_spans, eos_appended)``.

    ``assistant_spans`` are ``[start, end)`` character offsets in ``text`` of each assistant reply through
    its end-of-turn string. Raises :class:`ForgeError` when the template is not prefix-consistent or does not
    reproduce a reply verbatim.
    """
    eos = tokenizer.eos_token
    out, prev, spans, appended = "", "", [], 0
    for i, m in enumerate(messages):
        full = render(tokenizer, template, messages[: i + 1])
        if not full.startswith(prev):
            raise ForgeError(f"template {template.name!r} is not prefix-consistent (rendering one more turn "
                             "changes earlier text), so reply offsets cannot be computed; choose another "
                             "--template (chatml, llama3, qwen, chapter) or a Jinja file.")
        seg = full[len(prev):]
        if m["role"] == "assistant":
            head = 0
            gp = render(tokenizer, template, messages[:i], add_generation_prompt=True)
            if gp.startswith(prev) and seg.startswith(gp[len(prev):]):
                head = len(gp) - len(prev)
            c = seg.find(m["content"], head) if m["content"] else head
            if c < 0:
                raise ForgeError(f"template {template.name!r} does not reproduce assistant replies verbatim "
                                 "(it trims or rewrites them), so their offsets are unknown; strip the records "
                                 "first or choose another --template.")
            cend = c + len(m["content"])
            tail = seg[cend:]
            j = tail.find(end_of_turn) if end_of_turn else -1
            if j >= 0 and tail[:j].strip() == "":
                sup_end = cend + j + len(end_of_turn)
            else:  # the reply is not closed by an end-of-turn token: close it with EOS
                if not eos:
                    raise ForgeError("the tokenizer has no eos_token and the template does not close replies; "
                                     "set one (tokenizer.eos_token) or use a template with an end-of-turn token.")
                seg = seg[:cend] + eos + seg[cend:]
                sup_end = cend + len(eos)
                appended += 1
            spans.append((len(out) + c, len(out) + sup_end))
        out += seg
        prev = full
    return out, spans, appended


class ChatEncoder:
    """Turns records into :class:`Encoded` examples with one template, one truncation policy.

    ``template``: a :class:`ChatTemplate` or a ``--template`` spec string. ``max_length``: tokens or ``None``.
    ``train_on``: ``assistant`` | ``last`` | ``all``.
    """

    def __init__(self, tokenizer, template: ChatTemplate | str = "tokenizer", *, max_length: int | None = None,
                 train_on: str = "assistant", system_prompt: str | None = None, cot: bool = False):
        if not getattr(tokenizer, "is_fast", False):
            raise ForgeError("a fast (Rust) tokenizer is needed for character offsets; the base model only has "
                             "a slow one. Convert it (`AutoTokenizer.from_pretrained(..., use_fast=True)`) or "
                             "pick another base model.")
        if train_on not in ("assistant", "last", "all"):
            raise ForgeError(f"--train-on {train_on!r} is not one of assistant, last, all.")
        self.tokenizer = tokenizer
        self.template = resolve_template(template, tokenizer) if isinstance(template, str) else template
        self.end_of_turn = detect_end_of_turn(self.template, tokenizer)
        self.max_length = max_length
        self.train_on = train_on
        self.system_prompt = system_prompt
        self.cot = cot
        self.bos_id = tokenizer.bos_token_id
        # special tokens that the tokenizer matches inside plain text (longest first, for the message)
        self.special_strings = sorted({t for t in getattr(tokenizer, "all_special_tokens", []) if t},
                                      key=len, reverse=True)

    # -------------------------------------------------------------------------------------------
    def _encode_messages(self, msgs: list[dict], rid: str) -> tuple[Encoded, list[tuple[int, int]]]:
        try:
            text, spans, appended = render_with_spans(self.tokenizer, self.template, msgs, self.end_of_turn)
        except EmptySupervision:
            raise
        except ForgeError as e:  # name the record the template failed on
            raise ForgeError(f"record {rid!r}: {e}") from None
        enc = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        ids, offs = list(enc["input_ids"]), list(enc["offset_mapping"])
        if self.bos_id is not None and len(ids) >= 2 and ids[0] == ids[1] == self.bos_id:
            ids, offs = ids[1:], offs[1:]
        if self.train_on == "all":
            sup = [(0, len(text))]
        elif self.train_on == "last":
            sup = spans[-1:]
        else:
            sup = spans
        labels = []
        for tid, (s, e) in zip(ids, offs):
            hit = e > s and any(s < b and e > a for a, b in sup)
            labels.append(tid if hit else IGNORE_INDEX)
        # token index where each assistant span starts (for truncation)
        starts = []
        for a, _b in spans:
            k = next((t for t, (s, e) in enumerate(offs) if e > a), len(ids))
            starts.append(k)
        out = Encoded(ids, labels, rid, eos_appended=appended, text=text, spans=sup)
        return out, starts

    def encode(self, record: Dialogue | Iterable[Any], record_id: str | None = None) -> Encoded:
        """Encode one record. Raises :class:`EmptySupervision` (a :class:`ForgeError`) naming the record when
        no token is supervised (no assistant reply, or the last reply does not fit ``max_length``)."""
        rid = record_id or (record.id if isinstance(record, Dialogue) else "<messages>")
        msgs = to_messages(record, self.system_prompt, self.cot)
        if not any(m["role"] == "assistant" for m in msgs) and self.train_on != "all":
            raise EmptySupervision(rid, "it has no assistant turn")
        for i, m in enumerate(msgs):
            hit = next((t for t in self.special_strings if t in m["content"]), None)
            if hit:
                raise SpecialTokenInText(rid, i, m["role"], hit)
        enc, starts = self._encode_messages(msgs, rid)
        L = self.max_length
        dropped = 0
        # (a) drop earliest exchanges while more than one reply is left
        while L and len(enc.input_ids) > L:
            first = next((k for k, m in enumerate(msgs) if m["role"] != "system"), None)
            asst = [k for k, m in enumerate(msgs) if m["role"] == "assistant"]
            if first is None or len(asst) < 2:
                break
            cut = next(k for k in asst if k >= first)
            dropped += cut + 1 - first
            msgs = msgs[:first] + msgs[cut + 1:]
            enc, starts = self._encode_messages(msgs, rid)
        # (b) cut prompt tokens from the left, keeping BOS and the last reply whole
        if L and len(enc.input_ids) > L:
            keep = 1 if (self.bos_id is not None and enc.input_ids and enc.input_ids[0] == self.bos_id) else 0
            need = len(enc.input_ids) - L
            last_start = starts[-1] if starts else len(enc.input_ids)
            if need > last_start - keep:
                raise EmptySupervision(rid, f"its last assistant reply alone needs "
                                       f"{len(enc.input_ids) - last_start + keep} tokens, more than --max-length {L}")
            enc.input_ids = enc.input_ids[:keep] + enc.input_ids[keep + need:]
            enc.labels = enc.labels[:keep] + enc.labels[keep + need:]
            enc.truncated = True
        enc.dropped_turns = dropped
        enc.truncated = enc.truncated or dropped > 0
        if enc.n_supervised == 0:
            raise EmptySupervision(rid, "no token is supervised after rendering and truncation")
        return enc

    def end_of_turn_ids(self) -> list[int]:
        """Token ids of the end-of-turn string and of EOS (deduplicated): generation's stop tokens."""
        out = []
        for t in (self.end_of_turn, self.tokenizer.eos_token):
            if t:
                tid = self.tokenizer.convert_tokens_to_ids(t)
                if isinstance(tid, int) and tid != self.tokenizer.unk_token_id and tid not in out:
                    out.append(tid)
        return out


def encode_dialogue(record: Dialogue | Iterable[Any], tokenizer, template: ChatTemplate | str = "tokenizer", *,
                    max_length: int | None = None, train_on: str = "assistant", system_prompt: str | None = None,
                    cot: bool = False) -> Encoded:
    """Encode one dialogue: ``Encoded.input_ids`` and ``Encoded.labels`` (``-100`` outside supervised spans).

    The function eval uses for assistant-token perplexity; see :class:`ChatEncoder` for the arguments and
    errors (:class:`EmptySupervision` when nothing is supervised).
    """
    return ChatEncoder(tokenizer, template, max_length=max_length, train_on=train_on, system_prompt=system_prompt,
                       cot=cot).encode(record)


def mark_supervised(enc: Encoded, tokenizer, open_mark: str = "\u27e6", close_mark: str = "\u27e7") -> str:
    """The example's text with each supervised run of tokens wrapped in ``open_mark``/``close_mark``
    (used by ``forge train --preview``)."""
    parts, run, state = [], [], None
    for tid, lab in zip(enc.input_ids, enc.labels):
        sup = lab != IGNORE_INDEX
        if state is not None and sup != state:
            parts.append((state, run))
            run = []
        state = sup
        run.append(tid)
    if run:
        parts.append((state, run))
    out = []
    for sup, ids in parts:
        s = tokenizer.decode(ids, skip_special_tokens=False)
        out.append(f"{open_mark}{s}{close_mark}" if sup else s)
    return "".join(out)
