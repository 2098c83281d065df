"""The before/after table of ``forge augment --report``: does augmentation add coverage and diversity?

Figures per side (input records vs output records):

* ``records``: count;
* ``tasks``: distinct ``task`` values (the intents covered; ``meta.intent`` when ``task`` is empty);
* ``avg_turns``: mean number of messages per record (system prompts included);
* ``ttr``: type-token ratio = distinct-1 = distinct tokens / tokens;
* ``distinct_2``: distinct token bigrams / token bigrams (Li et al. 2016, "A Diversity-Promoting
  Objective Function for Neural Conversation Models", NAACL).

Tokens: each Han character, each run of Latin letters (case folded), each run of digits. Bigrams do not
cross turn boundaries. n-grams are stored as 64-bit hashes, so memory grows with distinct n-grams only.
"""

from __future__ import annotations

import itertools
import re

from ...schema import Dialogue

_TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]|[A-Za-z]+|\d+")


def tokens(text: str) -> list[str]:
    """The report's tokens of ``text`` (see the module docstring)."""
    return [t.casefold() for t in _TOKEN.findall(text)]


class DiversityTracker:
    """Accumulates the figures for one side; :meth:`add` a batch at a time, :meth:`figures` at the end."""

    def __init__(self) -> None:
        self.records = 0
        self.turns = 0
        self.tasks: set[str] = set()
        self.n_tokens = 0
        self.n_bigrams = 0
        self.types: set[int] = set()
        self.bigram_types: set[int] = set()

    def add(self, records: list[Dialogue]) -> None:
        for r in records:
            self.records += 1
            self.turns += len(r.messages)
            task = r.task or (r.meta.get("intent") if isinstance(r.meta, dict) else None)
            if task:
                self.tasks.add(str(task))
            for m in r.messages:
                toks = tokens(m.content) if isinstance(m.content, str) else []
                self.n_tokens += len(toks)
                self.types.update(hash(t) for t in toks)
                self.n_bigrams += max(0, len(toks) - 1)
                self.bigram_types.update(hash((a, b)) for a, b in itertools.pairwise(toks))

    def figures(self) -> dict[str, float]:
        """``{records, tasks, avg_turns, ttr, distinct_2}`` (rounded to 4 decimals)."""
        return {
            "records": self.records,
            "tasks": len(self.tasks),
            "avg_turns": round(self.turns / self.records, 4) if self.records else 0.0,
            "ttr": round(len(self.types) / self.n_tokens, 4) if self.n_tokens else 0.0,
            "distinct_2": round(len(self.bigram_types) / self.n_bigrams, 4) if self.n_bigrams else 0.0,
        }


def before_after(before: DiversityTracker, after: DiversityTracker) -> dict[str, dict[str, float]]:
    """``{"before": figures, "after": figures}``."""
    return {"before": before.figures(), "after": after.figures()}


def format_table(table: dict[str, dict[str, float]]) -> str:
    """The table as aligned text, one row per figure, columns before / after / change."""
    labels = {"records": "records", "tasks": "distinct tasks", "avg_turns": "avg turns",
              "ttr": "type-token ratio (distinct-1)", "distinct_2": "distinct-2"}
    b, a = table["before"], table["after"]
    rows = [f"{'':32}{'before':>10}{'after':>10}{'change':>10}"]
    for k, label in labels.items():
        change = a[k] - b[k]
        fmt = (lambda x: f"{x:>10d}") if isinstance(b[k], int) and isinstance(a[k], int) else (lambda x: f"{x:>10.3f}")
        sign = f"{change:+d}" if isinstance(change, int) else f"{change:+.3f}"
        rows.append(f"{label:32}{fmt(b[k])}{fmt(a[k])}{sign:>10}")
    return "\n".join(rows)
