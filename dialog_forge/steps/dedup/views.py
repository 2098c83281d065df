"""Which text of a dialogue deduplication compares: the *view* chosen with ``--on``.

Views (each a list of turn texts, in order):

* ``dialogue`` -- every user and assistant turn (tool turns too). System prompts are left out on purpose:
  datasets share one system prompt across thousands of records, which would make unrelated dialogues
  look alike.
* ``user`` -- the user turns only.
* ``first-user`` -- the first user turn only (the question that opened the dialogue).
* ``assistant`` -- the assistant turns only (catches template answers).

A view with no turns, or whose turns are all blank after normalisation, is *empty*: it is never hashed
or sketched (see :mod:`.step` for what happens to such records).
"""

from __future__ import annotations

from typing import Literal

from ...schema import Dialogue

View = Literal["dialogue", "user", "first-user", "assistant"]
VIEWS: tuple[str, ...] = ("dialogue", "user", "first-user", "assistant")


def view_turns(record: Dialogue, on: str) -> list[str]:
    """The turn texts of ``record`` selected by view ``on`` (one of :data:`VIEWS`).

    Raises ``ValueError`` for an unknown view (the config checks the flag before this is reached).
    """
    if on == "dialogue":
        return [m.content for m in record.messages if m.role != "system"]
    if on == "user":
        return [m.content for m in record.messages if m.role == "user"]
    if on == "first-user":
        for m in record.messages:
            if m.role == "user":
                return [m.content]
        return []
    if on == "assistant":
        return [m.content for m in record.messages if m.role == "assistant"]
    raise ValueError(f"unknown view {on!r}; expected one of {VIEWS}")


def view_text(record: Dialogue, on: str) -> str:
    """The view's turns joined by a newline (the text that is shingled and embedded)."""
    return "\n".join(view_turns(record, on))
