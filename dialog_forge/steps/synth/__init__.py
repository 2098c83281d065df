"""``forge synth``: dialogues generated from seeds and a knowledge base, or converted from a FAQ.

:mod:`.kb` (loading and chunking), :mod:`.retrieve` (BM25), :mod:`.pipeline` (config, generation,
checks, assembly, FAQ conversion). Prompt templates live with augment's, in
``dialog_forge/steps/augment/prompts/synth_*.jinja``.
"""

from ...kb import Passage, load_kb, read_faq
from .pipeline import SynthConfig, faq_to_dialogues, synthesize
from .retrieve import BM25Index

__all__ = ["BM25Index", "Passage", "SynthConfig", "faq_to_dialogues", "load_kb", "read_faq", "synthesize"]
