"""PII detection (Presidio, configured for zh/en offline) and anonymisation.

Modules: :mod:`.recognizers` (patterns + checksums), :mod:`.context_zh` / :mod:`.context_en` (name and address
cues), :mod:`.lang` (zh/en per turn), :mod:`.analyzer` (the configured AnalyzerEngine + self-check),
:mod:`.anonymize` (operators), :mod:`.scrub` (one dialogue end to end), :mod:`.ner` (optional NER model).
"""


