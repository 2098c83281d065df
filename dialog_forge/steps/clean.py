"""``forge clean``: normalisation, structure filters, safety gate and PII scrubbing in one data step.

Per record, in this order (the cheap checks run first, so rejected records cost no PII analysis):

1. **normalise** every turn (:mod:`.normalize`): ftfy, zero-width/control characters, NFC (NFKC only with
   ``--nfkc``), optional OpenCC and HTML stripping, whitespace;
2. **structure filters** (:mod:`.filters`) on user/assistant turns: empty turns, min/max characters per
   turn and per dialogue, symbol ratio, repeated characters/lines, AI-identity boilerplate, canned
   sign-offs (stripped with ``--strip-signoffs``, else rejected);
3. **safety gate** (:mod:`.safety`): lexicon categories (+ optional classifier); rejected with reason
   ``safety_<category>`` or kept with ``meta["safety"]`` under ``--safety-action flag``;
4. **PII** (:mod:`.pii`): Presidio analyzer configured for zh/en offline, consistent anonymisation within the
   dialogue; per-record counts in ``meta["pii"]`` (counts only), totals in the counters ``pii.<ENTITY>``;
5. **long dialogues**: more than ``--max-turns`` messages are split into windows (system prompt kept, each
   ending on an assistant turn, lineage op ``clean.window``), counted as generated; ``--long reject``
   rejects them instead.

Rejected records are written to the rejects file normalised and PII-scrubbed too (with PII on), so raw
PII never leaves the step. ``--workers N`` processes batches in N worker processes (each builds its own
analyzer once).
"""

from __future__ import annotations

import copy
import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

from ..errors import ForgeError
from ..pipeline.lineage import add_op, derive
from ..pipeline.step import BatchResult, Reject, Step, StepConfig, cfg_field
from ..schema import Dialogue, Lineage, Message
from . import filters
from .normalize import NormalizeOptions, normalize_text
from .pii.entities import ALL_ENTITIES, DEFAULT_ENTITIES, DEFAULT_PHONE_REGIONS
from .safety import CATEGORIES


@dataclass
class CleanConfig(StepConfig):
    """Options of ``forge clean`` (each field is a ``--flag`` and a recipe key)."""

    # normalisation
    fix_unicode: bool = cfg_field(True, help="repair mojibake and broken unicode with ftfy")
    strip_control: bool = cfg_field(True, help="remove zero-width and control characters")
    collapse_whitespace: bool = cfg_field(True, help="collapse runs of whitespace inside a turn and strip it")
    nfkc: bool = cfg_field(False, help="Unicode NFKC instead of NFC (rewrites full-width punctuation ，→, ; "
                                       "changes the style the model learns)")
    to_simplified: bool = cfg_field(False, help="convert Traditional to Simplified Chinese (OpenCC t2s)")
    to_traditional: bool = cfg_field(False, help="convert Simplified to Traditional Chinese (OpenCC s2t)")
    strip_html: bool = cfg_field(False, help="remove HTML tags and unescape entities")
    # PII
    pii: bool = cfg_field(True, help="detect and anonymise PII")
    pii_langs: list[str] = cfg_field(["zh", "en"], help="languages to configure the PII analyzer for; each "
                                     "turn is analysed in its detected language (repeatable)")
    pii_entities: list[str] = cfg_field(list(DEFAULT_ENTITIES), help="entity types to detect (repeatable); also: "
                                        + ", ".join(e for e in ALL_ENTITIES if e not in DEFAULT_ENTITIES))
    pii_action: str = cfg_field("replace", help="operator: replace|mask|hash|pseudonym|fake, or per entity "
                                "overrides 'PERSON=pseudonym,PHONE_NUMBER=replace' (a bare operator sets the default)")
    salt: str = cfg_field("", help="secret salt for --pii-action hash (and the seed of fake values); default: "
                          "the FORGE_PII_SALT environment variable, which keeps it out of the manifest's command "
                          "line; never written to manifests or lineage")
    phone_regions: list[str] = cfg_field(list(DEFAULT_PHONE_REGIONS), help="libphonenumber regions for "
                                         "international phone numbers (must include CN)")
    pii_score_threshold: float = cfg_field(0.5, help="minimum recognizer score (0-1) of a PII hit")
    ner_model: str | None = cfg_field(None, help="spaCy or transformers NER model for PERSON/LOCATION/ADDRESS "
                                      "(default: offline context cues)")
    # safety
    safety: bool = cfg_field(True, help="run the safety gate (lexicons per category)")
    safety_action: Literal["reject", "flag"] = cfg_field("reject", help="reject flagged dialogues, or keep "
                                                         "them with meta.safety for human review")
    safety_categories: list[str] = cfg_field(list(CATEGORIES), help="categories to check (repeatable)")
    safety_lexicon: list[str] = cfg_field([], help="extra lexicon file: 'category<TAB>term' lines, or terms in "
                                          "<category>.txt; category 'allow' (allow.txt) lists phrases blanked out "
                                          "before matching (repeatable)")
    safety_classifier: str | None = cfg_field(None, help="module:function returning flagged categories for a "
                                              "text")
    # structure
    min_turn_chars: int = cfg_field(1, help="minimum characters of a user/assistant turn")
    max_turn_chars: int = cfg_field(20000, help="maximum characters of a turn")
    min_dialogue_chars: int = cfg_field(2, help="minimum characters of a dialogue (all turns)")
    max_dialogue_chars: int = cfg_field(200000, help="maximum characters of a dialogue")
    max_turns: int = cfg_field(64, help="maximum messages per dialogue (system prompt included)")
    long: Literal["window", "reject"] = cfg_field("window", help="over-long dialogues: split into windows of "
                                                  "--max-turns (lineage kept) or reject")
    max_symbol_ratio: float = cfg_field(0.5, help="maximum share of non-text symbols in a turn (turns of 10+ "
                                        "characters)")
    max_char_run: int = cfg_field(50, help="maximum run of one repeated character")
    max_line_repeats: int = cfg_field(5, help="maximum occurrences of one line (4+ characters) in a turn")
    identity_filter: bool = cfg_field(True, help="reject assistant turns with AI-identity boilerplate "
                                      "('As an AI language model', '我是由OpenAI训练的')")
    strip_signoffs: bool = cfg_field(False, help="strip canned sign-offs ('感谢您的咨询…', 'I hope this "
                                     "helps!') from the end of assistant turns instead of rejecting")
    workers: int = cfg_field(1, help="worker processes for PII analysis (1 = in process)")

    def to_params(self) -> dict:
        """The config for manifests, with the secret salt redacted."""
        params = super().to_params()
        if params.get("salt"):
            params["salt"] = "<redacted>"
        return params


REASONS = {
    "empty_turn": "a user/assistant turn is empty after normalisation",
    "turn_too_short": "a user/assistant turn is shorter than --min-turn-chars",
    "turn_too_long": "a turn is longer than --max-turn-chars",
    "dialogue_too_short": "the dialogue is shorter than --min-dialogue-chars",
    "dialogue_too_long": "the dialogue is longer than --max-dialogue-chars",
    "too_many_turns": "more than --max-turns messages (with --long reject, or no window ends on an assistant turn)",
    "symbol_ratio": "a turn's share of non-text symbols exceeds --max-symbol-ratio",
    "repeated_chars": "a run of one character longer than --max-char-run",
    "repeated_lines": "one line repeated more than --max-line-repeats times in a turn",
    "ai_identity": "assistant turn with AI-identity boilerplate ('As an AI language model', '我是由OpenAI训练的')",
    "signoff": "assistant turn ends with a canned sign-off ('感谢您的咨询…'); use --strip-signoffs to keep it",
    **{f"safety_{c}": f"safety lexicon/classifier category '{c}'" for c in CATEGORIES},
}


class _Rejected(Exception):
    def __init__(self, reason: str, detail: str):
        self.reason, self.detail = reason, detail


class Cleaner:
    """The per-record logic of :class:`CleanStep`, picklable by config (built once per worker process).

    :meth:`clean` returns ``(records, reason, detail, counts)``: ``reason`` is ``None`` when kept (``records``
    are the output records), else ``records`` holds the PII-scrubbed copy to write to the rejects file.
    """

    def __init__(self, cfg: CleanConfig):
        self.cfg = cfg
        if cfg.to_simplified and cfg.to_traditional:
            raise ForgeError("--to-simplified and --to-traditional exclude each other; give one")
        if cfg.max_turns < 2:
            raise ForgeError(f"--max-turns {cfg.max_turns}: must be at least 2 (one user and one assistant turn)")
        self.norm = NormalizeOptions(cfg.fix_unicode, cfg.strip_control, cfg.collapse_whitespace, cfg.nfkc,
                                     cfg.to_simplified, cfg.to_traditional, cfg.strip_html)
        self.scrubber = None
        if cfg.pii:
            from .pii._presidio import import_presidio

            import_presidio(keep_torch=bool(cfg.ner_model))
            from .pii.analyzer import PiiAnalyzer
            from .pii.anonymize import DialogueAnonymizer
            from .pii.scrub import PiiScrubber

            analyzer = PiiAnalyzer(cfg.pii_langs, cfg.pii_entities, cfg.phone_regions, cfg.pii_score_threshold,
                                   cfg.ner_model)
            salt = cfg.salt or os.environ.get("FORGE_PII_SALT", "")
            self.scrubber = PiiScrubber(analyzer, DialogueAnonymizer(cfg.pii_action, salt, ALL_ENTITIES))
        self.gate = None
        if cfg.safety:
            from .safety import SafetyGate

            self.gate = SafetyGate(cfg.safety_lexicon, cfg.safety_categories, cfg.safety_classifier)
        self.params = cfg.changed_params()  # for lineage: what changed the data (no secret, no execution knobs)
        for k in ("salt", "workers"):
            self.params.pop(k, None)

    # -- the stages ----------------------------------------------------------------------------------------
    def _structure(self, msgs: list[Message], counts: Counter) -> list[Message]:
        c = self.cfg
        out = []
        for i, m in enumerate(msgs):
            t = m.content
            dialog_turn = m.role in ("user", "assistant")
            if dialog_turn and not t:
                raise _Rejected("empty_turn", f"turn {i} ({m.role}) is empty after normalisation")
            if m.role == "assistant":
                if c.identity_filter and (phrase := filters.find_identity(t)):
                    raise _Rejected("ai_identity", f"turn {i}: '{phrase}'")
                stripped, n = filters.strip_signoffs(t)
                if n:
                    if not c.strip_signoffs:
                        raise _Rejected("signoff", f"turn {i} ends with {n} canned sign-off sentence(s)")
                    counts["signoffs_stripped"] += n
                    t = stripped
                    if not t:
                        raise _Rejected("empty_turn", f"turn {i} is empty after stripping sign-offs")
            if dialog_turn and len(t) < c.min_turn_chars:
                raise _Rejected("turn_too_short", f"turn {i} has {len(t)} < {c.min_turn_chars} characters")
            if len(t) > c.max_turn_chars:
                raise _Rejected("turn_too_long", f"turn {i} has {len(t)} > {c.max_turn_chars} characters")
            if len(t) >= 10 and (r := filters.symbol_ratio(t)) > c.max_symbol_ratio:
                raise _Rejected("symbol_ratio", f"turn {i}: symbol ratio {r:.2f} > {c.max_symbol_ratio}")
            if filters.has_char_run(t, c.max_char_run):
                r = filters.longest_char_run(t)
                raise _Rejected("repeated_chars", f"turn {i}: run of {r} identical characters > {c.max_char_run}")
            if (r := filters.max_line_repeats(t)) > c.max_line_repeats:
                raise _Rejected("repeated_lines", f"turn {i}: a line repeated {r} times > {c.max_line_repeats}")
            out.append(Message(m.role, t, m.name))
        total = sum(len(m.content) for m in out)
        if total < c.min_dialogue_chars:
            raise _Rejected("dialogue_too_short", f"{total} < {c.min_dialogue_chars} characters")
        if total > c.max_dialogue_chars:
            raise _Rejected("dialogue_too_long", f"{total} > {c.max_dialogue_chars} characters")
        return out

    def _scrub(self, msgs: list[Message], meta: dict, did: str
               ) -> tuple[list[Message], dict, Counter, list[Counter]]:
        """PII-scrub one dialogue in one pass (consistent pseudonyms): its turns, the ``name`` of each turn
        and every string in ``meta`` (titles and unmapped source fields such as ``customer_email``; forge's
        own ``pii``/``safety`` keys aside). Returns the messages, the meta, the record's counts and the
        counts per turn (turn contents only, for windows)."""
        named = [i for i, m in enumerate(msgs) if m.name]
        slots: list[tuple[Any, Any]] = []
        _string_slots(meta, slots, top=True)
        if slots:  # strings to scrub: work on a copy (most records have none, and skip the deep copy)
            slots = []
            meta = copy.deepcopy(meta)
            _string_slots(meta, slots, top=True)
        texts = [m.content for m in msgs] + [msgs[i].name for i in named] + [c[k] for c, k in slots]
        out, per_turn = self.scrubber.scrub_turns(texts, did)
        n, k = len(msgs), len(named)
        names = dict(zip(named, out[n:n + k]))
        for (c, key), v in zip(slots, out[n + k:]):
            c[key] = v
        new = [Message(m.role, t, names.get(i, m.name)) for i, (m, t) in enumerate(zip(msgs, out[:n]))]
        total: Counter = Counter()
        for c in per_turn:
            if c:
                total.update(c)
        return new, meta, total, per_turn[:n]

    def _scrubbed_reject(self, d: Dialogue, counts: Counter) -> list[Dialogue]:
        """The record as written to the rejects file: normalised and PII-scrubbed (if PII is on), so that the
        rejects file never holds raw PII either. ``[]`` when PII is off (the original record is written)."""
        if self.scrubber is None:
            return []
        rec = copy.copy(d)
        msgs = [Message(m.role, normalize_text(m.content, self.norm), m.name) for m in d.messages]
        rec.messages, meta, pii, _ = self._scrub(msgs, d.meta, d.id)
        rec.meta = {**meta, "pii": dict(sorted(pii.items()))}
        counts["pii.scrubbed_rejects"] += 1
        return [rec]

    def clean(self, d: Dialogue) -> tuple[list[Dialogue], str | None, str, Counter]:
        """Clean one record: ``(kept, reason, detail, counts)`` (see the module docstring for the order)."""
        counts: Counter = Counter()
        try:
            msgs = [Message(m.role, normalize_text(m.content, self.norm), m.name) for m in d.messages]
            counts["normalize.changed_turns"] += sum(a.content != b.content for a, b in zip(d.messages, msgs))
            msgs = self._structure(msgs, counts)
            if self.cfg.long == "reject" and len(msgs) > self.cfg.max_turns:
                raise _Rejected("too_many_turns", f"{len(msgs)} > {self.cfg.max_turns} messages (--long reject)")
            flags: list[str] = []
            if self.gate is not None:
                flags = self.gate.check("\n".join(m.content for m in msgs))
                if flags and self.cfg.safety_action == "reject":
                    raise _Rejected(f"safety_{flags[0]}", "safety categories: " + ", ".join(flags))
        except _Rejected as r:
            return self._scrubbed_reject(d, counts), r.reason, r.detail, counts
        rec = copy.copy(d)
        rec.meta = dict(d.meta)
        rec.lineage = Lineage(d.lineage.root_id, d.lineage.parent_id, list(d.lineage.ops))
        if flags:
            rec.meta["safety"] = flags
            counts.update(f"safety_flagged.{f}" for f in flags)
        turn_pii: list[Counter] = []
        if self.scrubber is not None:
            msgs, rec.meta, pii, turn_pii = self._scrub(msgs, rec.meta, d.id)
            rec.meta["pii"] = dict(sorted(pii.items()))
            counts.update({f"pii.{k}": v for k, v in pii.items()})
            counts["pii.records_with_pii"] += bool(pii)
        rec.messages = msgs
        add_op(rec, "clean", self.params)
        if len(msgs) <= self.cfg.max_turns:
            return [rec], None, "", counts
        windows = filters.window_messages(msgs, self.cfg.max_turns)
        if not windows:
            return [rec], "too_many_turns", (f"{len(msgs)} > {self.cfg.max_turns} messages and no window ends on "
                                             "an assistant turn"), counts  # rec: already scrubbed
        out = [derive(rec, w, "clean.window", {"index": k, "of": len(windows), "max_turns": self.cfg.max_turns},
                      suffix=f"#w{k}") for k, w in enumerate(windows)]
        if turn_pii:  # each window counts the PII of its own turns, not of the whole dialogue
            index = {id(m): i for i, m in enumerate(msgs)}
            for w, rec_w in zip(windows, out):
                rec_w.meta["pii"] = dict(sorted(sum((turn_pii[index[id(m)]] for m in w), Counter()).items()))
        counts["windows"] += len(out)
        counts["windowed_records"] += 1
        return out, None, "", counts


def _string_slots(obj: Any, slots: list, top: bool = False) -> None:
    """Collect ``(container, key)`` of every non-empty string in a JSON-like ``obj`` (forge's ``pii`` and
    ``safety`` keys of the top level skipped)."""
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    for key, v in items:
        if top and key in ("pii", "safety"):
            continue
        if isinstance(v, str):
            if v:
                slots.append((obj, key))
        elif isinstance(v, (dict, list)):
            _string_slots(v, slots)


_WORKER: Cleaner | None = None


def _init_worker(cfg: CleanConfig) -> None:
    global _WORKER
    _WORKER = Cleaner(cfg)


def _ping(_: int) -> int:
    """A no-op task: answers once its worker's initializer (the analyzer build) has run."""
    import time

    time.sleep(0.01)  # lets an idle sibling take the next ping
    return os.getpid()


def _work(batch: list[Dialogue]) -> list[tuple[list[Dialogue], str | None, str, Counter]]:
    assert _WORKER is not None
    return [_WORKER.clean(d) for d in batch]


class CleanStep(Step):
    """Normalise, filter, safety-check and PII-scrub dialogues (see the module docstring)."""

    name = "clean"
    reasons = REASONS
    config_class = CleanConfig

    def __init__(self, config: CleanConfig | None = None):
        super().__init__(config)
        self._cleaner: Cleaner | None = None
        self._pool: ProcessPoolExecutor | None = None

    def setup(self) -> None:
        """Build the analyzer/anonymizer/lexicons once (raises ForgeError on a bad configuration)."""
        if self._cleaner is None:
            self._cleaner = Cleaner(self.config)
        if self.config.workers > 1 and self._pool is None:
            self._pool = ProcessPoolExecutor(self.config.workers, initializer=_init_worker, initargs=(self.config,))
            # start the workers now and wait until each has built its analyzer (Presidio import, registry,
            # self-check: about a second), so that setup holds the one-off cost and the first batch does not
            import time

            seen: set[int] = set()
            deadline = time.monotonic() + 300
            while len(seen) < self.config.workers and time.monotonic() < deadline:
                seen.update(self._pool.map(_ping, range(self.config.workers)))

    def source(self, inputs: list[str] | None):
        """The canonical-record stream (see :meth:`Step.source`), with the raw text of unreadable input
        lines (malformed JSON, unknown roles, non-text content: rejected before they become records)
        PII-scrubbed too, so that the rejects file never holds raw PII (with PII on)."""
        stream, files = super().source(inputs)
        if not self.config.pii:
            return stream, files
        return self._scrub_input_rejects(stream), files

    def _scrub_input_rejects(self, stream):
        import orjson

        for item in stream:
            if isinstance(item, Reject) and item.record is not None:
                self.setup()
                raw = item.record
                if not isinstance(raw, str):
                    try:
                        raw = orjson.dumps(raw).decode()
                    except TypeError:
                        raw = str(raw)
                # raw JSON is full of Latin keys: run every configured language over it, not the detected one
                pii = Counter()
                for lang in self._cleaner.scrubber.analyzer.languages:
                    texts, found = self._cleaner.scrubber.scrub_texts([raw], item.id or "", language=lang)
                    raw, pii = texts[0], pii + found
                if pii:
                    self.count("pii.scrubbed_input_rejects", 1)
                    item = Reject(raw, item.reason, item.detail, item.id, item.source)
            yield item

    def _outcomes(self, batch: list[Dialogue]):
        if self._pool is None or len(batch) < 2 * self.config.workers:
            return [self._cleaner.clean(d) for d in batch]
        n = self.config.workers * 4
        size = max(1, -(-len(batch) // n))
        chunks = [batch[i:i + size] for i in range(0, len(batch), size)]
        return [o for part in self._pool.map(_work, chunks) for o in part]

    def process(self, batch: list[Dialogue]) -> BatchResult:
        self.setup()
        res = BatchResult()
        for d, (kept, reason, detail, counts) in zip(batch, self._outcomes(batch)):
            for k, v in counts.items():
                if v:
                    self.count(k, v)
            if reason is not None:
                res.rejects.append(self.reject(kept[0] if kept else d, reason, detail))
                continue
            res.kept.extend(kept)
            res.generated += len(kept) - 1
        return res

    def finish(self) -> BatchResult:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        return BatchResult()


def _register() -> None:
    try:
        from ..pipeline.registry import register_step
    except ImportError:  # pragma: no cover - registry not present in a partial checkout
        return
    register_step(CleanStep)


_register()

__all__ = ["REASONS", "CleanConfig", "CleanStep", "Cleaner"]
