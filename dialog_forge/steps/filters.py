"""Structure filters for dialogues: pure functions, each tied to a reject reason of ``forge clean``.

* :func:`symbol_ratio` -- share of non-text symbols in a turn (reason ``symbol_ratio``);
* :func:`longest_char_run` / :func:`max_line_repeats` -- runs of one repeated character or line
  (``repeated_chars`` / ``repeated_lines``);
* :func:`find_identity` -- AI-identity and boilerplate phrases common in scraped chat data ("As an AI
  language model", "我是由OpenAI训练的"; ``ai_identity``);
* :func:`strip_signoffs` -- canned closing sentences at the end of an assistant turn ("感谢您的咨询", "祝您
  早日康复", "I hope this helps!"; ``signoff`` unless stripped);
* :func:`window_messages` -- split an over-long dialogue into windows of at most ``max_turns`` messages,
  each keeping the system prompt and ending on an assistant turn.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from ..schema import Message

#: Punctuation that is ordinary text (not "symbols") in Chinese and English.
_TEXT_PUNCT = set(".,!?;:'\"()[]-–—…/%&@#+*=~_<>" "。，、；：？！“”‘’（）《》〈〉【】「」『』·～％")


_NON_TEXT = re.compile(r"[^\w\s" + re.escape("".join(sorted(_TEXT_PUNCT))) + r"]|_")
_WS = re.compile(r"\s")
_RUN = re.compile(r"(\S)\1+")


def symbol_ratio(text: str) -> float:
    """Share of non-whitespace characters that are neither letters (any script, incl. CJK), digits,
    combining marks nor common punctuation (:data:`_TEXT_PUNCT`): symbols, emoji, box drawing, private-use
    and replacement characters. 0.0 for text without non-whitespace characters."""
    n = len(text) - len(_WS.findall(text))
    if not n:
        return 0.0
    sym = [c for c in _NON_TEXT.findall(text) if c not in _TEXT_PUNCT and unicodedata.category(c)[0] not in "LNM"]
    return len(sym) / n


def longest_char_run(text: str) -> int:
    """Length of the longest run of one repeated non-space character (``"啊啊啊"`` -> 3)."""
    best = 0
    for m in _RUN.finditer(text):
        best = max(best, m.end() - m.start())
    return best if best else int(any(not c.isspace() for c in text))


@lru_cache(maxsize=8)
def _run_regex(limit: int) -> re.Pattern:
    return re.compile(r"(\S)\1{" + str(limit) + ",}")


def has_char_run(text: str, limit: int) -> bool:
    """True when some non-space character repeats more than ``limit`` times in a row (fast check)."""
    return _run_regex(limit).search(text) is not None


def max_line_repeats(text: str, min_len: int = 4) -> int:
    """How often the most frequent non-blank line of at least ``min_len`` characters occurs in ``text``."""
    counts: dict[str, int] = {}
    for ln in text.split("\n"):
        ln = ln.strip()
        if len(ln) >= min_len:
            counts[ln] = counts.get(ln, 0) + 1
    return max(counts.values(), default=0)


IDENTITY_PATTERNS = re.compile(
    r"as an ai(?: language)? model|as a (?:large )?language model|i(?:'m| am) an ai (?:language model|assistant|"
    r"developed|created|trained)|i(?:'m| am) chatgpt|(?:developed|trained|created) by openai|"
    r"我是(?:由)?openai(?:公司)?(?:训练|开发|创建)的|我是chatgpt|由openai(?:训练|开发)的|"
    r"作为一个?(?:ai|人工智能)(?:语言)?模型|我是一个?(?:ai|人工智能)语言模型",
    re.IGNORECASE,
)


#: The same, led by a look-ahead on the first characters of its branches: a case-insensitive alternation
#: has no first-character fast path of its own, so the engine tried every branch at every position
#: (about 4x slower on chat turns).
_IDENTITY_FAST = re.compile(r"(?=[aidtc我由作])(?:" + IDENTITY_PATTERNS.pattern + ")", re.IGNORECASE)


def find_identity(text: str) -> str | None:
    """The first AI-identity/boilerplate phrase in ``text`` (lower-cased), or ``None``."""
    m = _IDENTITY_FAST.search(text)
    return m.group(0).lower() if m else None


SIGNOFF_PATTERNS = re.compile(
    r"^(?:感谢(?:您的)?(?:咨询|提问|信任|来信)|谢谢(?:您的)?(?:咨询|提问|信任)|祝(?:您|你)(?:早日康复|身体健康|健康|"
    r"生活愉快|好运)|希望(?:我的|以上)?(?:回答|解答|建议)?(?:能)?对(?:您|你)有所?帮助|如(?:有|还有)(?:其他|任何)?"
    r"(?:疑问|问题)(?:[，,]?(?:请|可以|欢迎)?(?:随时)?(?:咨询|提问|联系|追问))?|请随时(?:咨询|联系|提问|追问)|以上是对.{0,60}的建议|期待(?:能)?对您有所?帮助|"
    r"(?:i )?hope (?:this|that) helps|let me know if you have any (?:other|more|further) questions|"
    r"feel free to (?:ask|reach out)|thank you for (?:your question|reaching out|contacting us)|"
    r"i wish you a (?:speedy|quick) recovery)",
    re.IGNORECASE,
)


_SIGNOFF_ANY = re.compile(r"(?=[感谢祝希如请以期ihlft])(?:" + SIGNOFF_PATTERNS.pattern[1:] + ")",
                          re.IGNORECASE)  # first-character look-ahead: see _IDENTITY_FAST
_CLAUSE = re.compile(r"[^。！？!?.，,；;\n]+[。！？!?.…，,；;]*[\n ]*|[。！？!?.…，,；;\n ]+")


def _sentences(text: str) -> list[str]:
    parts = _CLAUSE.findall(text)
    return parts or [text]


def strip_signoffs(text: str) -> tuple[str, int]:
    """``text`` without trailing canned sign-off clauses (split at 。！？.!? and ，,；;), and how many were removed.

    Only sentences at the END of the turn are removed (an opening "感谢您的咨询，" greeting followed by
    content is kept); the result is right-stripped.
    """
    if not _SIGNOFF_ANY.search(text[-160:]):
        return text, 0
    parts = _sentences(text)
    removed = 0
    while parts:
        tail = parts[-1].strip(" \n，,：:")
        if not tail:
            parts.pop()
            continue
        if SIGNOFF_PATTERNS.search(tail):
            parts.pop()
            removed += 1
            continue
        break
    out = "".join(parts).rstrip(" \n，,")
    return (out, removed) if removed else (text, 0)


def window_messages(messages: list[Message], max_turns: int) -> list[list[Message]]:
    """Split ``messages`` into windows of at most ``max_turns`` messages (the leading system prompt, if
    any, is repeated in every window and counted). Each window ends on an assistant turn; turns that
    cannot end a window on an assistant turn are dropped. Returns ``[messages]`` when short enough and
    ``[]`` when no window can be formed (e.g. no assistant turn at all)."""
    if len(messages) <= max_turns:
        return [messages]
    system = [m for m in messages[:1] if m.role == "system"]
    body = messages[len(system):]
    cap = max_turns - len(system)
    if cap < 2:
        return []
    windows: list[list[Message]] = []
    i = 0
    while i < len(body):
        chunk = body[i:i + cap]
        last = max((k for k, m in enumerate(chunk) if m.role == "assistant"), default=-1)
        if last <= 0 and not (last == 0 and len(chunk) == 1):
            # no assistant turn (or only an opening one) in reach: skip to the next user turn
            nxt = next((k for k in range(1, len(chunk)) if chunk[k].role == "user"), len(chunk))
            i += max(nxt, 1)
            continue
        windows.append(system + chunk[:last + 1])
        i += last + 1
    return windows
