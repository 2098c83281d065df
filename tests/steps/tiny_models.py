"""Tiny random-initialised transformers models for backend tests (built in a few seconds, no download).

* :func:`make_tokenizer` -- a byte-level BPE tokenizer trained on a few zh/en sentences, with a chat
  template, as a ``PreTrainedTokenizerFast`` (loads through ``AutoTokenizer``);
* :func:`make_marian` -- a 1-layer MarianMT (encoder-decoder) model + that tokenizer.

The tiny Llama-style chat model comes from the project (``tiny_model_dir`` fixture,
:mod:`dialog_forge.train.tiny`).
"""

from __future__ import annotations

from pathlib import Path

SENTENCES = [
    "请帮我重置密码", "我的订单什么时候发货？", "血压140/90正常吗", "退货需要几天才能到账？",
    "How do I reset my password?", "When will my order ship?", "Is a blood pressure of 140/90 normal?",
    "Please help me with my account.", "Thank you very much!", "[\"a\", \"b\"]",
]
CHAT_TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}</s>{% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|>{% endif %}")


def make_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=400, special_tokens=["<pad>", "</s>", "<unk>", "<s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(SENTENCES * 3, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>",
                                   bos_token="<s>", model_max_length=64)
    fast.chat_template = CHAT_TEMPLATE
    return fast


def make_marian(path: Path) -> Path:
    import torch
    from transformers import MarianConfig, MarianMTModel

    tok = make_tokenizer()
    tok.chat_template = None  # a translation model takes raw text
    torch.manual_seed(0)
    cfg = MarianConfig(vocab_size=len(tok), d_model=16, encoder_layers=1, decoder_layers=1,
                       encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
                       max_position_embeddings=64, pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
                       decoder_start_token_id=tok.pad_token_id, forced_eos_token_id=tok.eos_token_id)
    MarianMTModel(cfg).save_pretrained(path)
    tok.save_pretrained(path)
    return path
