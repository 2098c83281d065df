"""Optional NER-backed ``PERSON`` / ``LOCATION`` / ``ADDRESS`` recognizer (``--ner-model``).

Loads, only when the user names one, either a spaCy pipeline (an installed package such as
``zh_core_web_sm`` or a model folder with ``config.cfg``) or a Hugging Face token-classification model (a
local folder or a name already in the local cache; hub downloads follow the usual ``HF_HUB_OFFLINE``
switch). Labels are mapped to Presidio entities: ``PER``/``PERSON`` -> ``PERSON``; ``LOC``/``GPE`` ->
``LOCATION``; ``FAC``/``ADDRESS`` -> ``ADDRESS``; other labels are ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ._presidio import import_presidio

import_presidio(keep_torch=True)
from presidio_analyzer import LocalRecognizer, RecognizerResult

from ...errors import ForgeError

LABEL_MAP = {"PER": "PERSON", "PERSON": "PERSON", "LOC": "LOCATION", "GPE": "LOCATION", "LOCATION": "LOCATION",
             "FAC": "ADDRESS", "ADDRESS": "ADDRESS"}
_CACHE: dict[str, tuple[str, Any]] = {}


def load_ner(name: str) -> tuple[str, Any]:
    """``("spacy", nlp)`` or ``("transformers", pipeline)`` for ``name``; cached per process.

    Raises :class:`ForgeError` naming ``--ner-model`` when neither library can load it.
    """
    if name in _CACHE:
        return _CACHE[name]
    path_like = name.startswith(("/", ".", "~")) or name.count("/") > 1
    if path_like and not Path(name).expanduser().exists():
        raise ForgeError(f"--ner-model {name!r}: no such folder; give an installed spaCy package name, a model "
                         "folder, or a cached Hugging Face model id (org/name)")
    errors = []
    try:
        import spacy

        if spacy.util.is_package(name) or (Path(name) / "config.cfg").is_file():
            _CACHE[name] = ("spacy", spacy.load(name))
            return _CACHE[name]
        errors.append("spaCy: no installed package or model folder by that name")
    except Exception as e:  # noqa: BLE001 - reported below
        errors.append(f"spaCy: {e}")
    try:
        from transformers import pipeline

        _CACHE[name] = ("transformers", pipeline("token-classification", model=name,
                                                 aggregation_strategy="simple", device=-1))
        return _CACHE[name]
    except Exception as e:  # noqa: BLE001
        errors.append(f"transformers: {type(e).__name__}: {str(e).splitlines()[0][:200]}")
    raise ForgeError(f"--ner-model {name!r} could not be loaded ({'; '.join(errors)}). Install the spaCy "
                     "package (e.g. `python -m spacy download zh_core_web_sm`) or give a local folder of a "
                     "token-classification model, or leave --ner-model out to use the offline cue recognizers.")


class NerRecognizer(LocalRecognizer):
    """Presidio recognizer around a spaCy or transformers NER model (see module docstring)."""

    def __init__(self, model_name: str, supported_language: str = "en"):
        self.model_name = model_name
        super().__init__(supported_entities=["PERSON", "LOCATION", "ADDRESS"],
                         supported_language=supported_language, name=f"forge_ner_{model_name}")

    def load(self) -> None:
        self.kind, self.model = load_ner(self.model_name)

    def analyze(self, text, entities, nlp_artifacts=None):
        out = []
        if self.kind == "spacy":
            spans = [(e.start_char, e.end_char, e.label_, 0.85) for e in self.model(text).ents]
        else:
            spans = [(int(e["start"]), int(e["end"]), str(e["entity_group"]), float(e["score"]))
                     for e in self.model(text)]
        for s, e, label, score in spans:
            ent = LABEL_MAP.get(label.upper().split("-")[-1])
            if ent and ent in entities:
                out.append(RecognizerResult(ent, s, e, score))
        return out
