"""Anonymisation operators, applied through Presidio's ``AnonymizerEngine``.

Operators (``--pii-action``):

* ``replace`` (default): a typed placeholder, ``<PHONE_NUMBER>``;
* ``mask``: every character but separators and the last four replaced by ``*`` (values of 4 or fewer
  characters are masked completely);
* ``hash``: ``<PHONE_NUMBER:0123456789ab>``, the first 12 hex digits of SHA-256(``salt`` + entity + value);
  needs a non-empty ``--salt`` so that values cannot be recovered by hashing guesses;
* ``pseudonym``: ``<PERSON_1>``, ``<PERSON_2>``, ... numbered per entity type in order of appearance,
  consistent within a dialogue (the same value is the same pseudonym in every turn);
* ``fake``: a Faker surrogate in the turn's language (``zh_CN`` / ``en_US``), consistent within a
  dialogue and reproducible (seeded from the salt and the dialogue id).

The action spec is ``OP`` or ``OP,ENTITY=OP,...`` or ``ENTITY=OP,...`` (entities without an override use
``OP``, else ``replace``). Values are compared after folding full-width forms and removing spaces,
hyphens and brackets, and phone numbers also without a ``+86``/``0086`` prefix, so ``138 0013 8000``,
``+86 138 0013 8000``, ``１３８００１３８０００`` and ``13800138000`` get the same pseudonym (and hash).

``mask`` keeps the last four characters only of number-like values (phone, card, ID, ...); names,
addresses and places are masked completely (the end of a name is a large part of it), and so are IP
addresses (their last octets name the host) and licence plates (four of their five or six characters).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import OperatorConfig

from ...errors import ForgeError

OPERATORS = ("replace", "mask", "hash", "pseudonym", "fake")


def parse_actions(spec: str, known_entities: tuple[str, ...] | list[str]) -> tuple[str, dict[str, str]]:
    """``(default_op, {entity: op})`` from an action spec (see module docstring).

    Raises :class:`ForgeError` for an unknown operator or entity, or an entity given two operators, naming
    ``--pii-action``.
    """
    default = "replace"
    overrides: dict[str, str] = {}
    for part in [p.strip() for p in (spec or "").split(",") if p.strip()]:
        if "=" in part:
            ent, op = (x.strip() for x in part.split("=", 1))
            ent = ent.upper()
            if ent not in known_entities:
                raise ForgeError(f"--pii-action {spec!r}: unknown entity {ent!r}; known: {', '.join(known_entities)}")
            if ent in overrides and overrides[ent] != op:
                raise ForgeError(f"--pii-action {spec!r}: {ent} is given two operators ({overrides[ent]}, {op}); "
                                 "give one")
            overrides[ent] = op
        else:
            op = part
            default = op
        if op not in OPERATORS:
            raise ForgeError(f"--pii-action {spec!r}: unknown operator {op!r}; choose from {', '.join(OPERATORS)}")
    return default, overrides


_FOLD = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_CN_PREFIX = re.compile(r"^(?:\+|00)86(?=1[3-9]\d{9}$|0?(?:10|2\d|[3-9]\d{2})\d{7,8}$)")
#: Entities masked completely by ``mask`` (no trailing characters kept).
_MASK_ALL = frozenset({"PERSON", "ADDRESS", "LOCATION", "IP_ADDRESS", "CN_LICENSE_PLATE"})


def _norm(value: str, entity: str = "") -> str:
    """The comparison key of a value: full-width folded, spaces and hyphens removed, lower case; phone
    numbers also without dots/brackets and the China country code (``+86 138 0013 8000`` == ``13800138000``,
    ``+86 10 6234 5678`` == ``010-62345678``)."""
    v = re.sub(r"[\s\-]", "", value.translate(_FOLD)).lower()
    if entity == "PHONE_NUMBER":
        v = re.sub(r"[.()]", "", v)
        local = _CN_PREFIX.sub("", v)
        if local != v:
            v = local if (local[0] == "0" or (len(local) == 11 and local[0] == "1")) else "0" + local
    return v


def mask_value(value: str, keep_last: int = 4, char: str = "*") -> str:
    """``value`` with every character except spaces/hyphens and the last ``keep_last`` replaced by ``char``;
    values of ``keep_last`` or fewer significant characters are masked completely."""
    sig = [i for i, c in enumerate(value) if c not in " -"]
    keep = set(sig[-keep_last:]) if 0 < keep_last < len(sig) else set()
    return "".join(c if (i in keep or c in " -") else char for i, c in enumerate(value))


class _Faker:
    """Faker surrogates per entity type and language; one generator per language."""

    def __init__(self):
        from faker import Faker

        self._f = {"zh": Faker("zh_CN"), "en": Faker("en_US")}

    def seed(self, seed: int) -> None:
        for f in self._f.values():
            f.seed_instance(seed)

    def make(self, entity: str, lang: str) -> str:
        f = self._f.get(lang, self._f["en"])
        gen: dict[str, Callable[[], str]] = {
            "PERSON": f.name, "PHONE_NUMBER": f.phone_number, "EMAIL_ADDRESS": f.email, "ADDRESS": f.address,
            "LOCATION": f.city, "CREDIT_CARD": f.credit_card_number, "BANK_CARD": f.credit_card_number,
            "IBAN_CODE": f.iban, "IP_ADDRESS": f.ipv4, "URL": f.url, "DATE_TIME": f.date,
            "US_SSN": self._f["en"].ssn, "CN_RESIDENT_ID": self._f["zh"].ssn,
            "CN_PASSPORT": lambda: "E" + f.numerify("########"),
            "CN_LICENSE_PLATE": self._f["zh"].license_plate,
        }
        return gen.get(entity, lambda: f"<{entity}>")().replace("\n", " ")


class DialogueAnonymizer:
    """Replace analyzer hits with the configured operator, consistently within one dialogue.

    Call :meth:`start` at the beginning of each dialogue (resets pseudonym numbering and fake mappings,
    reseeds Faker), then :meth:`anonymize` per turn.

    Raises:
        ForgeError: bad ``--pii-action`` spec, or ``hash`` without ``--salt``.
    """

    def __init__(self, action_spec: str = "replace", salt: str = "", known_entities=()):
        self.default, self.overrides = parse_actions(action_spec, tuple(known_entities))
        ops = {self.default, *self.overrides.values()}
        if "hash" in ops and not salt:
            raise ForgeError("--pii-action hash needs --salt SECRET (an unsalted hash of a phone number can be "
                             "reversed by hashing every possible number)")
        self.salt = salt
        self.engine = AnonymizerEngine()
        self._faker = _Faker() if "fake" in ops else None
        self.start("")

    def op_for(self, entity: str) -> str:
        """The operator name used for ``entity``."""
        return self.overrides.get(entity, self.default)

    def start(self, dialogue_id: str) -> None:
        """Begin a new dialogue: fresh pseudonym counters and fake mapping (seeded by salt + id)."""
        self._pseudo: dict[tuple[str, str], str] = {}
        self._counts: dict[str, int] = {}
        self._fake: dict[tuple[str, str], str] = {}
        if self._faker is not None:
            self._faker.seed(int.from_bytes(hashlib.sha256((self.salt + "\0" + dialogue_id).encode()).digest()[:8],
                                            "big"))

    def _value(self, entity: str, value: str, lang: str) -> str:
        op = self.op_for(entity)
        if op == "replace":
            return f"<{entity}>"
        if op == "mask":
            return mask_value(value, keep_last=0 if entity in _MASK_ALL else 4)
        key = (entity, _norm(value, entity))  # (only the operators below need it)
        if op == "hash":
            h = hashlib.sha256((self.salt + "\0" + entity + "\0" + key[1]).encode()).hexdigest()[:12]
            return f"<{entity}:{h}>"
        if op == "pseudonym":
            if key not in self._pseudo:
                self._counts[entity] = self._counts.get(entity, 0) + 1
                self._pseudo[key] = f"<{entity}_{self._counts[entity]}>"
            return self._pseudo[key]
        if key not in self._fake:  # fake
            self._fake[key] = self._faker.make(entity, lang)
        return self._fake[key]

    def anonymize(self, text: str, results: list, lang: str = "en") -> str:
        """``text`` with every hit in ``results`` (non-overlapping Presidio ``RecognizerResult``) replaced."""
        if not results:
            return text
        ordered = merge_adjacent(text, results)
        for r in ordered:  # number pseudonyms in order of appearance (replace, mask, hash: stateless)
            if self.op_for(r.entity_type) not in ("replace", "mask", "hash"):
                self._value(r.entity_type, text[r.start:r.end], lang)
        if _simple(text, ordered):
            # what Presidio's AnonymizerEngine does with non-overlapping hits: each span replaced by its
            # operator's value (the values are those just computed), without its copies, conflict resolution
            # and operator look-ups (about a third of the PII stage on PII-dense text). Unlike the engine, two
            # structured values of one type separated by spaces ("13800138000 13900139000") stay two values:
            # merged, they got a pseudonym/hash of their own, inconsistent with each value's elsewhere.
            out, pos = [], 0
            for r in ordered:
                out += (text[pos:r.start], self._value(r.entity_type, text[r.start:r.end], lang))
                pos = r.end
            out.append(text[pos:])
            return "".join(out)
        operators = {}
        for ent in {r.entity_type for r in results}:
            operators[ent] = OperatorConfig("custom", {"lambda": (lambda v, _e=ent: self._value(_e, v, lang))})
        return self.engine.anonymize(text=text, analyzer_results=ordered, operators=operators,
                                   merge_entities_with_spaces=False).text


#: Entity types whose neighbouring hits separated by spaces only are one value (a name split in two by a model,
#: "John" + "Smith"), merged as Presidio's anonymizer merges them; other types are distinct values.
_MERGE_ADJACENT = frozenset({"PERSON", "ADDRESS", "LOCATION"})


def merge_adjacent(text: str, results: list) -> list:
    """``results`` sorted by ``(start, end)``, with neighbouring hits of one name-like type separated by one or
    more spaces only merged into one (new result objects; the inputs are not modified). The step counts
    what this returns, so ``meta.pii`` counts the placeholders written."""
    ordered = sorted(results, key=lambda r: (r.start, r.end))
    out: list = []
    for r in ordered:
        prev = out[-1] if out else None
        if (prev is not None and prev.entity_type == r.entity_type and r.entity_type in _MERGE_ADJACENT
                and r.start > prev.end and not text[prev.end:r.start].strip(" ")):
            out[-1] = type(prev)(prev.entity_type, prev.start, r.end, max(prev.score, r.score))
        else:
            out.append(r)
    return out


def _simple(text: str, ordered: list) -> bool:
    """True when the hits (sorted by start, merged by :func:`merge_adjacent`) do not overlap -- else Presidio's
    anonymizer resolves the conflicts."""
    for a, b in zip(ordered, ordered[1:]):
        if b.start < a.end:
            return False
    return all(r.start < r.end for r in ordered)
