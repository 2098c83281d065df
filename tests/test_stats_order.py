"""The reject summary lists reasons most frequent first, ties by name: the same line and stats whatever order
the rejects came in (found in testing: ``--workers 3`` swapped two reasons of equal count)."""

from __future__ import annotations

from collections import Counter

from dialog_forge.pipeline.stats import StepStats


def test_reject_reasons_are_ordered_by_count_then_name_whatever_their_arrival():
    lines = set()
    for order in (["b", "a", "c", "c"], ["c", "a", "c", "b"], ["a", "c", "b", "c"]):
        s = StepStats("clean", n_in=4)
        s.rejected = Counter(order)
        lines.add((s.line().rsplit(" in ", 1)[0], tuple(s.to_dict()["rejected_by_reason"].items())))
    assert lines == {("clean: 4 in, 0 out, 4 rejected (c 2, a 1, b 1)", (("c", 2), ("a", 1), ("b", 1)))}
