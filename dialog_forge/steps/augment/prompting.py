"""Prompt templates (Jinja files in ``prompts/``, overridable per op with ``--prompt-file OP=PATH``) and
the parser for the structured answers they ask for (a JSON list).

Templates receive the variables each op documents in its template header. A model's answer is parsed by
:func:`parse_json_list`; an unparsable answer is counted (``parse_failures``), never fatal.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jinja2

from ...errors import ForgeError

PROMPT_DIR = Path(__file__).with_name("prompts")
_ENV = jinja2.Environment(loader=jinja2.FileSystemLoader(str(PROMPT_DIR)), undefined=jinja2.StrictUndefined,
                          keep_trailing_newline=False, autoescape=False)
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


def load_template(name: str, override: str | None = None) -> jinja2.Template:
    """The template ``prompts/<name>.jinja``, or the file ``override`` when given. Raises
    :class:`ForgeError` naming ``--prompt-file`` when the file is missing or not valid Jinja."""
    try:
        if override:
            p = Path(override)
            if not p.is_file():
                raise ForgeError(f"--prompt-file {name}={override}: no such file")
            return jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False).from_string(
                p.read_text(encoding="utf-8"))
        return _ENV.get_template(f"{name}.jinja")
    except jinja2.TemplateError as e:
        raise ForgeError(f"--prompt-file {name}: the template does not parse: {e}") from None


def render(template: jinja2.Template, **variables: Any) -> str:
    """Render ``template``; a variable the template needs but is not given raises :class:`ForgeError`."""
    try:
        return template.render(**variables).strip()
    except jinja2.UndefinedError as e:
        raise ForgeError(f"prompt template uses an unknown variable: {e}. Available: {sorted(variables)}") from None


def parse_json_list(text: str) -> list | None:
    """The JSON list in a model answer: the whole answer, a fenced ```json block, or the span from the
    first ``[`` to the last ``]``. ``None`` when none parses to a list."""
    if not text:
        return None
    candidates = [text.strip()] + [m.group(1).strip() for m in _FENCE.finditer(text)]
    i, j = text.find("["), text.rfind("]")
    if 0 <= i < j:
        candidates.append(text[i:j + 1])
    for c in candidates:
        try:
            v = json.loads(c)
        except (ValueError, TypeError):
            continue
        if isinstance(v, list):
            return v
    return None


def string_items(items: list | None) -> list[str] | None:
    """The non-empty strings of a parsed list (stripped); ``None`` when ``items`` is ``None`` or holds a
    non-string (a shape error counts as a parse failure)."""
    if items is None or not all(isinstance(x, str) for x in items):
        return None
    return [x.strip() for x in items if x.strip()]
