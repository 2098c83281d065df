"""A local transformers model as a backend: by path or hub name, batched, on CPU or GPU.

* Encoder-decoder models (``config.is_encoder_decoder``: MarianMT, T5, mBART...) translate directly:
  the text goes in, the translation comes out. Since a Marian model serves one language pair, ``model``
  may contain ``{src}`` and ``{tgt}`` (e.g. ``Helsinki-NLP/opus-mt-{src}-{tgt}``); one model is loaded per
  pair, on first use.
* Decoder-only (causal) chat models generate from the prompt wrapped in the tokenizer's chat template
  (the raw prompt when the tokenizer has none) and translate through
  :func:`~dialog_forge.backends.base.translation_prompt`.

Prompts are sorted by length and run ``batch_size`` at a time with left padding (causal) so a prompt's
completion does not depend on its batch neighbours under greedy decoding. Only the new tokens are decoded.
Nothing is downloaded when ``HF_HUB_OFFLINE=1``; a missing model raises :class:`ForgeError`.
"""

from __future__ import annotations

import os

from ..errors import ForgeError
from .base import BackendStats, GenParams, translation_prompt


def _device(device: str | None) -> str:
    if device and device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class HFBackend:
    """Backend over a transformers model (see the module docstring). ``device`` ``auto`` picks CUDA when
    available. Raises :class:`ForgeError` naming ``--model`` when the model or tokenizer cannot be loaded."""

    name = "hf"

    def __init__(self, model: str, *, device: str | None = "auto", batch_size: int = 8):
        if not model:
            raise ForgeError("--backend hf needs --model PATH_OR_HUB_NAME (a seq2seq translation model such as "
                             "Helsinki-NLP/opus-mt-{src}-{tgt}, or a causal chat model)")
        if batch_size < 1:
            raise ForgeError(f"--gen-batch-size must be at least 1, got {batch_size}")
        self.model_name = model
        self.device = _device(device)
        self.batch_size = batch_size
        self.stats = BackendStats()
        self._loaded: dict[str, tuple] = {}

    # -- loading -------------------------------------------------------------------------------------
    def _load(self, name: str):
        if name in self._loaded:
            return self._loaded[name]
        from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

        try:
            cfg = AutoConfig.from_pretrained(name)
            tok = AutoTokenizer.from_pretrained(name)
            cls = AutoModelForSeq2SeqLM if cfg.is_encoder_decoder else AutoModelForCausalLM
            model = cls.from_pretrained(name).to(self.device).eval()
        except (OSError, ValueError) as e:
            offline = " (offline: HF_HUB_OFFLINE is set)" if os.environ.get("HF_HUB_OFFLINE") else ""
            raise ForgeError(f"cannot load the model {name!r} for --backend hf{offline}: {e}. Name a local "
                             "folder or a cached hub model with --model.") from None
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token or tok.unk_token
        self._loaded[name] = (tok, model, bool(cfg.is_encoder_decoder))
        return self._loaded[name]

    # -- public API ----------------------------------------------------------------------------------
    def generate(self, prompts: list[str], params: GenParams | None = None) -> list[str]:
        """One completion per prompt, same order. Sampling when ``temperature > 0`` (seeded by
        ``params.seed``), greedy otherwise."""
        params = params or GenParams()
        name = self.model_name
        if "{src}" in name or "{tgt}" in name:
            raise ForgeError(f"--model {name!r} names a translation pair template; generation (paraphrase, context, "
                             "synth) needs one chat model.")
        tok, model, enc_dec = self._load(name)
        texts = prompts if enc_dec else [self._chat(tok, p) for p in prompts]
        return self._run(tok, model, enc_dec, texts, params)

    def translate(self, texts: list[str], src: str, tgt: str, params: GenParams | None = None) -> list[str]:
        """Translations ``src`` -> ``tgt``; greedy by default."""
        params = params or GenParams(temperature=0.0)
        name = self.model_name.format(src=src, tgt=tgt) if ("{src}" in self.model_name or "{tgt}" in self.model_name) \
            else self.model_name
        tok, model, enc_dec = self._load(name)
        if enc_dec:
            return [t.strip() for t in self._run(tok, model, True, texts, params)]
        prompts = [self._chat(tok, translation_prompt(t, src, tgt)) for t in texts]
        return [t.strip() for t in self._run(tok, model, False, prompts, params)]

    # -- internals -----------------------------------------------------------------------------------
    @staticmethod
    def _chat(tok, prompt: str) -> str:
        if getattr(tok, "chat_template", None):
            return tok.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                           add_generation_prompt=True)
        return prompt

    def _run(self, tok, model, enc_dec: bool, texts: list[str], params: GenParams) -> list[str]:
        import torch

        if not texts:
            return []
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out: list[str] = [""] * len(texts)
        tok.padding_side = "right" if enc_dec else "left"
        max_len = tok.model_max_length if tok.model_max_length and tok.model_max_length < 100_000 else None
        sample = params.temperature > 0
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            batch = tok([texts[i] for i in idx], return_tensors="pt", padding=True, truncation=max_len is not None,
                        max_length=max_len, add_special_tokens=enc_dec or not getattr(tok, "chat_template", None))
            batch = {k: v.to(self.device) for k, v in batch.items() if k in ("input_ids", "attention_mask")}
            new_tokens = params.max_new_tokens
            limit = getattr(model.config, "max_position_embeddings", None)
            if limit:  # never generate past the model's positions
                used = 1 if enc_dec else batch["input_ids"].shape[1]
                new_tokens = max(1, min(new_tokens, limit - used))
            kw = {"max_new_tokens": new_tokens, "do_sample": sample, "pad_token_id": tok.pad_token_id}
            if sample:
                kw.update(temperature=params.temperature, top_p=params.top_p)
                if params.seed is not None:
                    torch.manual_seed(params.seed + start)
            with torch.inference_mode():
                gen = model.generate(**batch, **kw)
            self.stats.requests += len(idx)
            new = gen if enc_dec else gen[:, batch["input_ids"].shape[1]:]
            for j, i in enumerate(idx):
                out[i] = tok.decode(new[j], skip_special_tokens=True)
        return out
