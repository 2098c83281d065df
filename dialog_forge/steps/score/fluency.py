"""``fluency``: perplexity of the assistant replies under a small causal language model, mapped to [0, 1].

Only computed when ``--lm NAME_OR_PATH`` is given (component omitted otherwise). The mapping is linear in
log-perplexity between two anchors::

    fluency(ppl) = clip((ln P_MAX - ln ppl) / (ln P_MAX - ln P_MIN), 0, 1)     P_MIN = 10, P_MAX = 1000

so a perplexity of 10 or less scores 1, 100 scores 0.5, 1000 or more scores 0. Perplexity is
``exp(mean token negative log-likelihood)`` of the reply text (Jelinek et al. 1977; the usual causal-LM
definition as in the Hugging Face perplexity guide), computed by :class:`PerplexityModel`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from ...errors import ForgeError

P_MIN = 10.0
P_MAX = 1000.0


def fluency_from_perplexity(ppl: float, p_min: float = P_MIN, p_max: float = P_MAX) -> float:
    """The [0, 1] fluency of a perplexity ``ppl`` > 0 (formula in the module docstring)."""
    if not ppl > 0 or math.isnan(ppl):
        raise ValueError(f"perplexity must be > 0, got {ppl}")
    v = (math.log(p_max) - math.log(ppl)) / (math.log(p_max) - math.log(p_min))
    return min(1.0, max(0.0, v))


class PerplexityModel:
    """A causal LM (``transformers.AutoModelForCausalLM``) that gives per-text perplexities.

    Raises :class:`ForgeError` naming ``--lm`` when the model cannot be loaded (offline and not cached,
    or not a causal LM).
    """

    def __init__(self, name: str, device: str | None = None, max_length: int = 512):
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            self.tok = AutoTokenizer.from_pretrained(name)
            self.model = AutoModelForCausalLM.from_pretrained(name)
        except Exception as e:  # noqa: BLE001 - OSError offline, ValueError for a non-causal model, ...
            raise ForgeError(f"--lm {name}: cannot load a causal language model: {e}. Name a local folder or "
                             "a cached hub model, or leave --lm out to omit the fluency component.") from None
        self.torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model.to(self.device).eval()
        self.max_length = max_length

    def perplexities(self, texts: Sequence[str]) -> list[float]:
        """``exp(mean NLL per predicted token)`` for each text (texts of one token get ``inf``)."""
        out = []
        torch = self.torch
        with torch.no_grad():
            for t in texts:
                ids = self.tok(t, return_tensors="pt", truncation=True, max_length=self.max_length)["input_ids"]
                if ids.shape[1] < 2:
                    out.append(float("inf"))
                    continue
                ids = ids.to(self.device)
                loss = self.model(input_ids=ids, labels=ids).loss
                out.append(float(torch.exp(loss)))
        return out
