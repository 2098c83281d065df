"""Pairwise LLM-as-a-judge through an OpenAI-compatible chat-completions endpoint, position-swapped.

Each example is judged twice, once with A's reply shown first and once with B's first (Zheng et al.,
2023, "Judging LLM-as-a-Judge with MT-Bench and Chatbot Arena", sec. 3.4: swap positions and count a win
only when both orders agree, otherwise a tie). This cancels a judge's preference for a position.
Win rate of B over A = (B wins + 0.5 * ties) / judged examples.

Requests go through the project's OpenAI-compatible backend (retries, concurrency, API key from an
environment variable). The judge answers ``[[1]]``, ``[[2]]`` or ``[[tie]]``; an answer that contains
none of them counts as ``invalid`` and the example is left out of the win rate.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..errors import ForgeError

JUDGE_SYSTEM = (
    "You are an impartial judge of assistant replies. Compare the two replies to the user's last message "
    "for helpfulness, correctness and faithfulness to the reference reply when one is given. Ignore the order "
    "in which they are shown and their length. Answer with exactly one of [[1]], [[2]] or [[tie]]."
)

_VERDICT = re.compile(r"\[\[\s*(1|2|tie)\s*\]\]", re.IGNORECASE)


def judge_prompt(prompt: str, first: str, second: str, reference: str | None = None) -> str:
    """The user message asking the judge to compare ``first`` (shown as reply 1) and ``second`` (reply 2);
    the instructions are the system prompt :data:`JUDGE_SYSTEM`."""
    parts = [f"[User message]\n{prompt}"]
    if reference:
        parts.append(f"[Reference reply]\n{reference}")
    parts += [f"[Reply 1]\n{first}", f"[Reply 2]\n{second}", "Which reply is better? Answer [[1]], [[2]] or [[tie]]."]
    return "\n\n".join(parts)


def _judge_flags(message: str) -> str:
    """``message`` with the backend's flag names (``--base-url``, ``--model``, ``--api-key-env``) replaced by
    the ``forge eval`` judge flags that set them."""
    return re.sub(r"(?<![\w-])--(base-url|model|api-key-env)\b", r"--judge-\1", message)


def parse_verdict(text: str) -> str | None:
    """``"1"``, ``"2"``, ``"tie"`` from a judge reply (the last bracketed verdict), or ``None``."""
    found = _VERDICT.findall(text or "")
    return found[-1].lower() if found else None


def make_client(base_url: str, model: str, *, api_key_env: str | None = "OPENAI_API_KEY", max_retries: int = 3,
                timeout: float = 60.0, concurrency: int = 4):
    """The judge client: the project's OpenAI-compatible backend
    (:class:`dialog_forge.backends.openai_compat.OpenAICompatBackend`, with retries and a key read from
    ``api_key_env``) whose system prompt is :data:`JUDGE_SYSTEM`."""
    from ..backends.openai_compat import OpenAICompatBackend

    return OpenAICompatBackend(base_url, model, api_key_env=api_key_env, concurrency=concurrency, timeout=timeout,
                               max_retries=max_retries, system_prompt=JUDGE_SYSTEM)


def pairwise(client, prompts: Sequence[str], replies_a: Sequence[str], replies_b: Sequence[str],
             references: Sequence[str] | None = None) -> dict:
    """Position-swapped pairwise judgement of B against A over aligned examples.

    Returns ``{"win_rate_b", "wins_a", "wins_b", "ties", "invalid", "position_consistency" (share of
    validly judged examples whose two orders agreed), "first_position_rate" (share of decisive single
    verdicts that picked reply 1: a position-bias gauge), "n", "verdicts": [{"ab", "ba", "winner"}]}``.
    """
    from ..backends.base import GenParams

    n = len(prompts)
    asks = []
    for i, prompt in enumerate(prompts):
        ref = references[i] if references else None
        asks.append(judge_prompt(prompt, replies_a[i], replies_b[i], ref))  # A shown first
        asks.append(judge_prompt(prompt, replies_b[i], replies_a[i], ref))  # B shown first
    try:
        answers = client.generate(asks, GenParams(temperature=0.0, max_new_tokens=16, seed=0)) if asks else []
    except ForgeError as e:  # the backend names the generic flags; for the judge they carry a judge- prefix
        raise ForgeError("judge: " + _judge_flags(str(e))) from None
    if asks and not any(answers):
        raise ForgeError(f"judge endpoint {client.endpoint} gave no answer to any of {len(asks)} requests; check "
                         "--judge-base-url (it usually ends in /v1), --judge-model and that the server is up.")
    wins_a = wins_b = ties = invalid = consistent = 0
    decisive = first = 0
    verdicts = []
    for i in range(n):
        ab, ba = parse_verdict(answers[2 * i]), parse_verdict(answers[2 * i + 1])
        for v in (ab, ba):
            if v in ("1", "2"):
                decisive += 1
                first += v == "1"
        if ab is None or ba is None:
            invalid += 1
            verdicts.append({"ab": ab, "ba": ba, "winner": None})
            continue
        # map to the run that won in each order
        w1 = {"1": "a", "2": "b", "tie": "tie"}[ab]
        w2 = {"1": "b", "2": "a", "tie": "tie"}[ba]
        if w1 == w2:
            consistent += 1
            winner = w1
        else:
            winner = "tie"
        wins_a += winner == "a"
        wins_b += winner == "b"
        ties += winner == "tie"
        verdicts.append({"ab": ab, "ba": ba, "winner": winner})
    judged = wins_a + wins_b + ties
    return {
        "win_rate_b": (wins_b + 0.5 * ties) / judged if judged else None,
        "wins_a": wins_a, "wins_b": wins_b, "ties": ties, "invalid": invalid,
        "position_consistency": consistent / judged if judged else None,
        "first_position_rate": first / decisive if decisive else None,
        "n": n, "verdicts": verdicts,
    }
