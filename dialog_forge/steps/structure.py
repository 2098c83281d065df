"""Turn-structure policies applied at ingest: empty turns, same-role runs, trailing user turns.

Order of the rules (each counted):

1. Empty or whitespace-only turns are dropped.
2. Consecutive turns of one role (user, assistant or system) are merged with a newline (policy ``merge``,
   the default) or the record is rejected (policy ``reject``, reason ``consecutive_same_role``). Runs of
   ``tool`` turns are left alone (several tool results in a row are normal).
3. Trailing turns after the last assistant turn are trimmed (a dialogue ends on a reply).
4. The record must keep at least one user and one assistant turn with text; otherwise it is rejected:
   ``empty_assistant`` when it had assistant turns that were all empty, else ``no_assistant`` / ``no_user``.
5. An assistant turn that opens the dialogue (after the system prompt) is kept and flagged in
   ``meta["opening_assistant"]``.

No turn ever changes role: a merge joins turns of the same role only.
"""

from __future__ import annotations

from typing import Literal

from ..schema import Message, SchemaError, has_text

SameRolePolicy = Literal["merge", "reject"]
MERGEABLE = ("user", "assistant", "system")


def apply_structure(messages: list[Message], same_role: SameRolePolicy = "merge",
                    counters: dict[str, int] | None = None) -> tuple[list[Message], dict[str, object]]:
    """Apply the rules above to one dialogue's turns.

    Returns ``(messages, flags)`` where ``flags`` holds meta flags to set (``opening_assistant``).
    ``counters`` (if given) is incremented with ``merged_turns``, ``empty_turns_dropped``,
    ``trailing_turns_trimmed``. Raises :class:`SchemaError` with reasons ``consecutive_same_role``,
    ``empty_assistant``, ``no_assistant``, ``no_user``.
    """
    c = counters if counters is not None else {}
    if _already_clean(messages):
        flags: dict[str, object] = {}
        if next(m for m in messages if m.role != "system").role == "assistant":
            flags["opening_assistant"] = True
            c["opening_assistant"] = c.get("opening_assistant", 0) + 1
        return messages, flags
    had_assistant = any(m.role == "assistant" for m in messages)
    # 1. empty turns
    kept: list[tuple[int, Message]] = []
    for i, m in enumerate(messages):
        if has_text(m.content):
            kept.append((i, m))
        else:
            c["empty_turns_dropped"] = c.get("empty_turns_dropped", 0) + 1
    # 2. same-role runs
    out: list[Message] = []
    first_pos: list[int] = []
    for i, m in kept:
        if out and out[-1].role == m.role and m.role in MERGEABLE:
            if same_role == "reject":
                raise SchemaError(
                    "consecutive_same_role", f"consecutive {m.role} turns at positions {first_pos[-1]}-{i}"
                )
            prev = out[-1]
            out[-1] = Message(prev.role, prev.content + "\n" + m.content, prev.name)
            c["merged_turns"] = c.get("merged_turns", 0) + 1
            continue
        out.append(Message(m.role, m.content, m.name))
        first_pos.append(i)
    # 3. trailing turns after the last reply
    last_a = max((k for k, m in enumerate(out) if m.role == "assistant"), default=-1)
    if last_a >= 0 and last_a < len(out) - 1:
        c["trailing_turns_trimmed"] = c.get("trailing_turns_trimmed", 0) + len(out) - 1 - last_a
        out = out[: last_a + 1]
    # 4. validity
    roles = {m.role for m in out}
    if "assistant" not in roles:
        if had_assistant:
            raise SchemaError("empty_assistant", "empty assistant content (whitespace and zero-width characters count as empty)")
        raise SchemaError("no_assistant", "the dialogue has no assistant turn")
    if "user" not in roles:
        raise SchemaError("no_user", "the dialogue has no user turn with text")
    # 5. opening assistant
    flags = {}
    first_non_system = next(m for m in out if m.role != "system")
    if first_non_system.role == "assistant":
        flags["opening_assistant"] = True
        c["opening_assistant"] = c.get("opening_assistant", 0) + 1
    return out, flags


def _already_clean(messages: list[Message]) -> bool:
    """Fast check that no rule would change anything (the common case for curated input)."""
    prev = None
    has_user = has_assistant = False
    for m in messages:
        if not has_text(m.content):
            return False
        r = m.role
        if r == prev and r in MERGEABLE:
            return False
        prev = r
        if r == "user":
            has_user = True
        elif r == "assistant":
            has_assistant = True
    return has_user and has_assistant and prev == "assistant"
