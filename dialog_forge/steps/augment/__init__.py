"""``forge augment``: noise, paraphrase, back-translation and context extension, with checked variants.

Layout: :mod:`.step` (config + step), one module per operator (:mod:`.noise` / :mod:`.noise_op`,
:mod:`.paraphrase`, :mod:`.backtranslate`, :mod:`.context`), :mod:`.quality` (the variant check),
:mod:`.prompting` + ``prompts/*.jinja`` (templates, JSON-list parsing), :mod:`.report` (before/after
table), :mod:`.base` (what operators share). A new operator is a function ``(items, ctx) -> [Variant]``
in its own module, listed in :data:`.step.OPS`.
"""

from .step import AugmentConfig, AugmentStep

__all__ = ["AugmentConfig", "AugmentStep"]
