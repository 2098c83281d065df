"""``forge tiny-model OUT --text FILE``: a small random-initialised Llama model with a byte-level BPE
tokenizer trained on FILE, saved with ``save_pretrained`` -- an offline stand-in for smoke tests and CI.

The tokenizer reserves the special tokens of every shipped chat template (ChatML ``<|im_start|>``/
``<|im_end|>``, Llama-3 headers and ``<|eot_id|>``, ``<s>``/``</s>``), has a distinct ``<pad>`` token
(pad != eos) and carries a ChatML chat template whose end-of-turn token ``<|im_end|>`` differs from its EOS
``</s>`` -- the case where the stop tokens of generation must be aligned.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ForgeError

SPECIAL_TOKENS = ["<pad>", "<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>", "<|begin_of_text|>",
                  "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]

TINY_CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def build_tokenizer(texts: list[str], vocab_size: int = 1024):
    """Train a byte-level BPE tokenizer on ``texts`` (list of str) and wrap it as a
    ``PreTrainedTokenizerFast`` with bos ``<s>``, eos ``</s>``, pad ``<pad>``, unk ``<unk>`` and the ChatML
    chat template. ``vocab_size`` includes the 256 byte symbols and the special tokens."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>",
                                   unk_token="<unk>", additional_special_tokens=SPECIAL_TOKENS[4:])
    fast.chat_template = TINY_CHAT_TEMPLATE
    fast.padding_side = "right"
    fast.model_max_length = 2048
    return fast


def build_model(vocab_size: int, *, hidden_size: int = 64, layers: int = 2, heads: int = 4, kv_heads: int = 2,
                intermediate_size: int = 128, max_positions: int = 2048, seed: int = 0, tokenizer=None):
    """A random-initialised ``LlamaForCausalLM`` (untied embeddings) with the given sizes."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = LlamaConfig(vocab_size=vocab_size, hidden_size=hidden_size, intermediate_size=intermediate_size,
                      num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=kv_heads,
                      max_position_embeddings=max_positions, tie_word_embeddings=False,
                      bos_token_id=tokenizer.bos_token_id if tokenizer else None,
                      eos_token_id=tokenizer.eos_token_id if tokenizer else None,
                      pad_token_id=tokenizer.pad_token_id if tokenizer else None)
    torch.manual_seed(seed)
    model = LlamaForCausalLM(cfg)
    return model


def make_tiny_model(out: str | Path, text_files: list[str | Path] | None = None, texts: list[str] | None = None,
                    *, vocab_size: int = 1024, hidden_size: int = 64, layers: int = 2, seed: int = 0) -> Path:
    """Build and save the tiny model + tokenizer into ``out`` (created). Text comes from ``text_files``
    (UTF-8, any format: JSONL records are fine, the BPE only sees characters) and/or ``texts``.

    Raises :class:`ForgeError` when a file is missing or there is no text at all.
    """
    if hidden_size <= 0 or hidden_size % 8:
        raise ForgeError(f"--hidden-size {hidden_size}: must be a positive multiple of 8 (4 attention heads, each "
                         "of an even width for rotary positions), e.g. 64.")
    if layers <= 0:
        raise ForgeError(f"--layers {layers}: must be at least 1.")
    if vocab_size <= 0:
        raise ForgeError(f"--vocab-size {vocab_size}: must be positive (256 byte symbols and the special tokens "
                         "are always kept).")
    all_texts = list(texts or [])
    for f in text_files or []:
        p = Path(f)
        if not p.is_file():
            raise ForgeError(f"--text {p}: no such file; give a UTF-8 text file to train the tokenizer on.")
        all_texts.extend(p.read_text(encoding="utf-8", errors="replace").splitlines())
    all_texts = [t for t in all_texts if t.strip()]
    if not all_texts:
        raise ForgeError("tiny-model: no text to train the tokenizer on; pass --text FILE with some lines.")
    tok = build_tokenizer(all_texts, vocab_size=vocab_size)
    model = build_model(len(tok), hidden_size=hidden_size, layers=layers, seed=seed, tokenizer=tok)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return out
