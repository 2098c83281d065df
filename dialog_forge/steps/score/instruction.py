"""``instruction``: rule checks of a reply against the task template of its record.

A template is a list of required sections, each a name and the cue words that show the section is there
(any one cue, case-insensitive, in the concatenated assistant replies)::

    instruction(dialogue) = (sections found) / (sections required)

``None`` (component omitted, weights renormalise) when the record's ``task`` has no template. Built-in
templates: :data:`BUILTIN_TEMPLATES` (a medical consultation must cover causes, the information still
needed, suggested tests and advice); more come from a YAML file (``--templates FILE``) of the form::

    medical_consultation:
      causes: [原因, 可能是, cause, caused by]
      advice: [建议, advice, recommend]
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ...errors import ForgeError
from ...schema import Dialogue

Template = Mapping[str, list[str]]

_MEDICAL = {
    "causes": ["原因", "可能是", "可能由", "引起", "导致", "诱因", "cause", "caused by", "due to", "may be"],
    "needed_information": ["请问", "需要了解", "请提供", "多久", "有没有", "是否", "how long", "do you have",
                           "could you tell", "please describe", "any other symptoms"],
    "suggested_tests": ["检查", "化验", "拍片", "血常规", "CT", "B超", "test", "examination", "x-ray", "scan",
                        "blood work"],
    "advice": ["建议", "注意", "应该", "可以服用", "及时就医", "advice", "recommend", "should", "suggest"],
}

#: Templates keyed by ``task``; aliases share one template.
BUILTIN_TEMPLATES: dict[str, Template] = {
    "medical_consultation": _MEDICAL,
    "consultation": _MEDICAL,
    "medical_qa": _MEDICAL,
}


def load_templates(path: str | None) -> dict[str, Template]:
    """:data:`BUILTIN_TEMPLATES` updated with the YAML file at ``path`` (``None``: built-ins only).

    Raises :class:`ForgeError` naming the file when it is missing or not a mapping of task -> section ->
    list of cue strings.
    """
    out: dict[str, Template] = dict(BUILTIN_TEMPLATES)
    if not path:
        return out
    import yaml

    p = Path(path)
    if not p.is_file():
        raise ForgeError(f"--templates {path}: no such file; give a YAML file of task -> section -> [cue words].")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise ForgeError(f"--templates {path}: not valid YAML: {e}") from None
    ok = isinstance(data, dict) and all(
        isinstance(t, dict) and all(isinstance(c, list) and all(isinstance(x, str) for x in c) for c in t.values())
        for t in data.values())
    if not ok:
        raise ForgeError(f"--templates {path}: expected a mapping task -> section -> list of cue strings.")
    out.update(data)
    return out


def sections_found(text: str, template: Template) -> dict[str, bool]:
    """For each section of ``template``: whether one of its cues occurs in ``text`` (case-insensitive)."""
    low = text.lower()
    return {name: any(c.lower() in low for c in cues) for name, cues in template.items()}


def instruction(dialogue: Dialogue, templates: Mapping[str, Template]) -> float | None:
    """Share of the template's sections found in the replies; ``None`` when ``dialogue.task`` has no
    template or the template is empty."""
    tpl = templates.get(dialogue.task or "")
    if not tpl:
        return None
    found = sections_found("\n".join(dialogue.turns("assistant")), tpl)
    return sum(found.values()) / len(found)
