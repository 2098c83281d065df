"""``format``: structural soundness of the assistant replies.

Per reply, five defects, each measured in [0, 1]:

* ``F`` unbalanced code fences: 1 when the number of lines starting with ```` ``` ```` is odd, else 0;
* ``M`` unbalanced inline markdown: 1 when ``**`` or backticks outside fences come in odd numbers, or
  brackets ``()[]（）【】`` do not pair up, else 0;
* ``T`` incomplete final sentence: 1 when the reply's last character is not sentence-final punctuation
  (``. ! ? 。 ！ ？ … ~ :`` closing quotes/brackets, an emoji or the end of a code block / list item /
  table row), else 0 -- the mark of a truncated reply;
* ``R`` repeated lines: share of non-empty lines that repeat an earlier line of the same reply;
* ``G`` garbage ratio: share of characters that are replacement characters (U+FFFD), control characters,
  private-use code points or typical mojibake (``Ã``, ``â€``, ``锟斤拷``).

    format(reply) = (1 - 0.3 F) (1 - 0.1 M) (1 - 0.3 T) (1 - R) (1 - min(1, 2 G))

The dialogue's value is the mean over its assistant replies (0.0 with none). The weights are this
project's choice: a truncation or a broken code block costs about a third of the component, a stray
markdown marker a tenth; repetition and garbage cost in proportion.
"""

from __future__ import annotations

import re
import unicodedata

from ...schema import Dialogue

_END_OK = set(".!?。！？…~～:：;；\"'”’」』》）)]】>*`|")
_MOJIBAKE = re.compile(r"Ã.|â€|锟斤拷|ï¿½")
_PAIRS = (("(", ")"), ("[", "]"), ("（", "）"), ("【", "】"))


def _fence_lines(lines: list[str]) -> int:
    return sum(1 for ln in lines if ln.lstrip().startswith("```"))


def _strip_fenced(text: str) -> str:
    return re.sub(r"```.*?```", " ", text, flags=re.DOTALL)


def defects(text: str) -> dict[str, float]:
    """The five defect values ``{"F", "M", "T", "R", "G"}`` of one reply (definitions in the module
    docstring)."""
    lines = text.splitlines()
    stripped = text.rstrip()
    f = 1.0 if _fence_lines(lines) % 2 else 0.0
    body = _strip_fenced(text)
    m = 0.0
    if body.count("**") % 2 or (body.replace("**", "").count("`") % 2):
        m = 1.0
    for a, b in _PAIRS:
        if body.count(a) != body.count(b):
            m = 1.0
    if not stripped:
        t = 1.0
    else:
        last_line = stripped.splitlines()[-1].strip()
        ch = stripped[-1]
        is_list_item = bool(re.match(r"^([-*+•]|\d+[.)、])\s*\S", last_line)) and len(last_line) < 80
        t = 0.0 if (ch in _END_OK or unicodedata.category(ch) == "So" or is_list_item or f == 0 and
                    stripped.endswith("```")) else 1.0
    nonempty = [ln.strip() for ln in lines if ln.strip()]
    seen: set[str] = set()
    rep = 0
    for ln in nonempty:
        if ln in seen:
            rep += 1
        seen.add(ln)
    r = rep / len(nonempty) if nonempty else 0.0
    bad = sum(1 for c in text if c == "\ufffd" or (unicodedata.category(c) in ("Cc", "Co") and c not in "\n\t\r"))
    bad += sum(len(x) for x in _MOJIBAKE.findall(text))
    g = bad / len(text) if text else 0.0
    return {"F": f, "M": m, "T": t, "R": r, "G": g}


def reply_format(text: str) -> float:
    """The ``format`` value of one reply, in [0, 1] (formula in the module docstring)."""
    d = defects(text)
    return ((1 - 0.3 * d["F"]) * (1 - 0.1 * d["M"]) * (1 - 0.3 * d["T"]) * (1 - d["R"])
            * (1 - min(1.0, 2 * d["G"])))


def format_score(dialogue: Dialogue) -> float:
    """Mean :func:`reply_format` over the assistant replies of ``dialogue`` (0.0 with none)."""
    replies = dialogue.turns("assistant")
    if not replies:
        return 0.0
    return sum(reply_format(r) for r in replies) / len(replies)
