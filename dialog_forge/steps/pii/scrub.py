"""Scrub one dialogue: detect PII per turn, propagate names across turns, anonymise, count.

Per dialogue:

1. each turn is analysed in its own language (:meth:`PiiAnalyzer.language_of`, script share);
2. **propagation**: a ``PERSON``/``ADDRESS``/``LOCATION`` value found by a cue in one turn ("我叫王小明")
   is also replaced where it appears without a cue ("王小明的邮箱..."), in every turn of the dialogue;
3. hits are replaced by :class:`DialogueAnonymizer` (consistent pseudonyms/fakes within the dialogue);
4. per-entity counts are returned (the step stores them in ``meta["pii"]`` and the counters): counts only,
   never values.
"""

from __future__ import annotations

from collections import Counter

from presidio_analyzer import RecognizerResult

from .analyzer import NAME_LIKE, PiiAnalyzer
from .anonymize import DialogueAnonymizer, merge_adjacent


class PiiScrubber:
    """Analyzer + anonymizer applied to whole dialogues (see module docstring)."""

    def __init__(self, analyzer: PiiAnalyzer, anonymizer: DialogueAnonymizer):
        self.analyzer = analyzer
        self.anonymizer = anonymizer

    def scrub_texts(self, texts: list[str], dialogue_id: str = "", language: str | None = None
                    ) -> tuple[list[str], Counter]:
        """Anonymised ``texts`` (the turns of one dialogue, in order) and a Counter of entity types
        (``language``: analyse every text in this language instead of each one's detected language)."""
        out, per_turn = self.scrub_turns(texts, dialogue_id, language)
        return out, sum(per_turn, Counter())

    def scrub_turns(self, texts: list[str], dialogue_id: str = "", language: str | None = None,
                    fired: list[list] | None = None) -> tuple[list[str], list[Counter]]:
        """Anonymised ``texts`` and one Counter of entity types per turn (windows of a long dialogue sum
        the counts of their own turns). ``fired``: the triggers that fire in each text, when the caller has
        them (:meth:`PiiAnalyzer.fired_triggers_batch` over a whole batch of dialogues)."""
        if fired is None:
            # the triggers are searched once on the whole dialogue; each turn then searches only those
            # that fired
            triggers = self.analyzer.fired_triggers("\n".join(texts))
            if not triggers:
                return list(texts), [Counter() for _ in texts]
            exact = len(texts) == 1
            fired = [triggers if exact else self.analyzer.fired_triggers(t, triggers) for t in texts]
        elif not any(fired):
            return list(texts), [Counter() for _ in texts]
        analyzer = self.analyzer
        langs: list[str | None] = []
        hits: list[list[RecognizerResult]] = []
        for t, f in zip(texts, fired):
            if not f:
                langs.append(language)
                hits.append([])
                continue
            # a turn's language is detected only when a trigger fires in it
            lang = analyzer.language_of(t) if language is None else language
            langs.append(lang)
            hits.append(analyzer.analyze(t, lang, f, exact=True))
        names = {}
        for t, hs in zip(texts, hits):
            for h in hs:
                if h.entity_type in NAME_LIKE:
                    v = t[h.start:h.end]
                    if len(v.strip()) >= 2:
                        names.setdefault(v, h.entity_type)
        if names:
            for i, t in enumerate(texts):
                extra = []
                for v, ent in names.items():
                    start = t.find(v)
                    while start != -1:
                        end = start + len(v)
                        if all(end <= h.start or start >= h.end for h in hits[i] + extra):
                            extra.append(RecognizerResult(ent, start, end, 0.6))
                        start = t.find(v, end)
                if extra:
                    hits[i] = sorted(hits[i] + extra, key=lambda r: r.start)
        per_turn: list[Counter] = []
        self.anonymizer.start(dialogue_id)
        out = []
        for t, lang, hs in zip(texts, langs, hits):
            if not hs:  # (most turns)
                per_turn.append(Counter())
                out.append(t)
                continue
            if len(hs) > 1:
                hs = merge_adjacent(t, hs)  # what the anonymizer replaces: count the placeholders written
            per_turn.append(Counter([h.entity_type for h in hs]))
            out.append(self.anonymizer.anonymize(t, hs, lang or analyzer.language_of(t)))
        return out, per_turn
