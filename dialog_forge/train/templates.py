"""Chat templates: which Jinja template renders a dialogue for training, and its end-of-turn token.

Choices (``--template``):

* ``tokenizer`` (default) -- the base model's own ``tokenizer.chat_template``;
* a shipped name -- ``chatml`` (``<|im_start|>role\\n...<|im_end|>``), ``qwen`` (ChatML with Qwen's default
  system prompt), ``llama3`` (``<|start_header_id|>role<|end_header_id|>\\n\\n...<|eot_id|>``) and
  ``chapter``, the three-part ``[System] / [Instruction] / [Input] / [Output]`` template whose replies end
  with the tokenizer's EOS; the files live in ``dialog_forge/train/templates/*.jinja``;
* a path to a Jinja file (same variables as Hugging Face chat templates: ``messages``, ``bos_token``,
  ``eos_token``, ``add_generation_prompt``).

A template's *end-of-turn* string is the token that closes an assistant reply (``<|im_end|>``,
``<|eot_id|>``, or EOS). Training supervises it; generation stops on it (see ``run_dir``). For templates
that do not declare it, it is detected from the rendered text (see :func:`detect_end_of_turn`); when an
assistant reply is not closed by any such token, :mod:`.masking` appends EOS after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ForgeError

TEMPLATE_DIR = Path(__file__).with_name("templates")

#: shipped template name -> (end-of-turn token, special tokens the template needs in the vocabulary)
SHIPPED: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "chatml": ("<|im_end|>", ("<|im_start|>", "<|im_end|>")),
    "qwen": ("<|im_end|>", ("<|im_start|>", "<|im_end|>")),
    "llama3": ("<|eot_id|>", ("<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>")),
    "chapter": (None, ()),  # None = the tokenizer's eos_token
}

#: end-of-turn tokens recognised in templates that do not declare theirs
KNOWN_END_OF_TURN = ("<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|EOT|>")


@dataclass
class ChatTemplate:
    """A resolved template: ``name`` (shipped name, ``tokenizer`` or the file path), Jinja ``source``,
    ``end_of_turn`` (string or ``None`` = detect / tokenizer EOS) and ``required_tokens``."""

    name: str
    source: str
    end_of_turn: str | None = None
    required_tokens: tuple[str, ...] = field(default_factory=tuple)


def shipped_names() -> list[str]:
    """Names accepted by ``--template`` besides ``tokenizer`` and a file path."""
    return sorted(SHIPPED)


def resolve_template(spec: str, tokenizer) -> ChatTemplate:
    """The template for ``--template spec`` given the base ``tokenizer``.

    Raises :class:`ForgeError` when the tokenizer has no chat template (for ``tokenizer``), the name is
    unknown and no such file exists, or the file is not valid Jinja.
    """
    spec = (spec or "tokenizer").strip()
    if spec == "tokenizer":
        src = getattr(tokenizer, "chat_template", None)
        if isinstance(src, dict):  # several named templates: use the default one
            src = src.get("default") or next(iter(src.values()))
        if not src:
            raise ForgeError("--template tokenizer: the base model's tokenizer has no chat template; pass "
                             f"--template with one of {', '.join(shipped_names())} or a Jinja file.")
        eot = None
        return ChatTemplate("tokenizer", src, eot, ())
    if spec in SHIPPED:
        eot, req = SHIPPED[spec]
        src = (TEMPLATE_DIR / f"{spec}.jinja").read_text(encoding="utf-8")
        return ChatTemplate(spec, src, eot or tokenizer.eos_token, req)
    p = Path(spec)
    if not p.is_file():
        raise ForgeError(f"--template {spec!r}: not 'tokenizer', not a shipped template "
                         f"({', '.join(shipped_names())}) and no such file.")
    src = p.read_text(encoding="utf-8")
    try:
        import jinja2

        jinja2.Environment().parse(src)
    except jinja2.TemplateSyntaxError as e:
        raise ForgeError(f"--template {spec}: Jinja syntax error at line {e.lineno}: {e.message}") from None
    return ChatTemplate(str(p), src, None, ())


def missing_tokens(template: ChatTemplate, tokenizer) -> list[str]:
    """Special tokens the template needs that the tokenizer would split into pieces."""
    vocab = tokenizer.get_vocab()
    return [t for t in template.required_tokens if t not in vocab]


def add_template_tokens(template: ChatTemplate, tokenizer) -> list[str]:
    """Add the template's missing special tokens to ``tokenizer`` (in place); returns the added ones.
    The caller must resize the model's embeddings (``model.resize_token_embeddings(len(tokenizer))``)."""
    miss = missing_tokens(template, tokenizer)
    if miss:
        tokenizer.add_special_tokens({"additional_special_tokens": miss}, replace_extra_special_tokens=False)
    return miss


def render(tokenizer, template: ChatTemplate, messages: list[dict], add_generation_prompt: bool = False) -> str:
    """Render ``messages`` (list of ``{"role", "content"}``) with the template; ``""`` for no messages.
    Raises :class:`ForgeError` when the template fails (e.g. ``raise_exception`` on a role order)."""
    if not messages and not add_generation_prompt:
        return ""
    try:
        return tokenizer.apply_chat_template(messages, chat_template=template.source, tokenize=False,
                                             add_generation_prompt=add_generation_prompt)
    except Exception as e:  # noqa: BLE001 - jinja errors and the template's own raise_exception()
        raise ForgeError(f"template {template.name!r} failed to render a dialogue: {e}. Check the record's role "
                         "order or choose another --template.") from None


def detect_end_of_turn(template: ChatTemplate, tokenizer) -> str | None:
    """The string that closes an assistant reply in ``template``: the declared one, else the first known
    end-of-turn / EOS token found right after a probe reply; ``None`` when replies are not closed."""
    if template.end_of_turn:
        return template.end_of_turn
    probe = "\u2063probe-reply\u2063"
    msgs = [{"role": "user", "content": "q"}, {"role": "assistant", "content": probe}]
    text = render(tokenizer, template, msgs)
    i = text.rfind(probe)
    if i < 0:
        return None
    tail = text[i + len(probe):]
    cands = [t for t in (*KNOWN_END_OF_TURN, tokenizer.eos_token, *getattr(tokenizer, "all_special_tokens", []))
             if t]
    best = None
    for c in cands:
        j = tail.find(c)
        if j >= 0 and tail[:j].strip() == "" and (best is None or j < best[0]):
            best = (j, c)
    return best[1] if best else None
