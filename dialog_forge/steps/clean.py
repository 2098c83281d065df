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
   dialogue; per-record counts in ``meta["pii"]`` (counts only, added to those an earlier ``forge clean``
   recorded there, so that cleaning twice keeps the audit), totals in the counters ``pii.<ENTITY>``;
5. **long dialogues**: more than ``--max-turns`` messages are split into windows (system prompt kept, each
   ending on an assistant turn, lineage op ``clean.window``), counted as generated; ``--long reject``
   rejects them instead.

Each stage runs over the whole batch handed to :meth:`CleanStep.process` (:meth:`Cleaner.clean_batch`): the
character-level tests (which turns need normalising, hold symbols, long character runs, lexicon terms, PII
triggers) are one scan over the batch rather than one call per turn; the results are those of cleaning the
records one by one.

Rejected records are written to the rejects file normalised and PII-scrubbed too (with PII on), so raw
PII never leaves the step. ``--workers N`` shares each batch between N-1 worker processes (each builds its
own analyzer once) and the main process (:meth:`CleanStep._process_pooled`): records travel as plain tuples of the
fields the cleaner reads and come back as the changes it made, rebuilt in the main process into the same
records as ``--workers 1`` gives (``tests/steps/test_clean_workers.py``).
"""

from __future__ import annotations

import copy
import gc
import os
from collections import Counter
from dataclasses import dataclass
from functools import partial
from operator import attrgetter, ne
from typing import Any, Literal

from ..errors import ForgeError
from ..pipeline.lineage import add_op, derive
from ..pipeline.step import BatchResult, Reject, Step, StepConfig, cfg_field
from ..schema import Dialogue, Lineage, Message
from . import filters
from .clean_pool import ChunkPool
from .normalize import NormalizeOptions, normalize_many
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
    pii_entities: list[str] = cfg_field(list(DEFAULT_ENTITIES), help="entity types to detect (repeatable); giving "
                                        "any REPLACES the default list, so to add one name the defaults too; "
                                        "off by default: " + ", ".join(e for e in ALL_ENTITIES
                                                                      if e not in DEFAULT_ENTITIES))
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
    workers: int = cfg_field(1, help="processes that clean: N-1 worker processes plus the main one (1 = in "
                              "process only)")

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
        if cfg.workers < 1:
            raise ForgeError(f"--workers {cfg.workers}: must be at least 1 (1 = clean in this process only)")
        if cfg.max_turns < 2:
            raise ForgeError(f"--max-turns {cfg.max_turns}: must be at least 2 (one user and one assistant turn)")
        for flag, value, low in (("--min-turn-chars", cfg.min_turn_chars, 0), ("--max-turn-chars", cfg.max_turn_chars, 1),
                                 ("--min-dialogue-chars", cfg.min_dialogue_chars, 0),
                                 ("--max-dialogue-chars", cfg.max_dialogue_chars, 1),
                                 ("--max-char-run", cfg.max_char_run, 1), ("--max-line-repeats", cfg.max_line_repeats, 1)):
            if value < low:
                raise ForgeError(f"{flag} {value}: must be at least {low}")
        if not 0.0 <= cfg.max_symbol_ratio <= 1.0:
            raise ForgeError(f"--max-symbol-ratio {cfg.max_symbol_ratio}: a share, between 0 and 1 (default 0.5)")
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
    def _structure(self, msgs: list[Message], counts: Counter, hints: tuple | None = None) -> list[Message]:
        """The structure filters of one dialogue (raises ``_Rejected``). ``hints``: four lists of flags per
        turn, False where the turn surely has no over-long character run (:func:`filters.char_run_candidates`),
        no non-text symbol, no AI-identity phrase and no sign-off near its end (:func:`filters.texts_matching`),
        computed for the batch; the exact checks run only where a flag is True. With ``hints``, ``msgs`` are the
        batch's own fresh copies and a turn left unchanged is kept as the same object."""
        c = self.cfg
        may_run, may_sym, may_id, may_signoff = hints if hints is not None else (None, None, None, None)
        out = []
        total = 0
        for i, m in enumerate(msgs):
            t = m.content
            dialog_turn = m.role in ("user", "assistant")
            if dialog_turn and not t:
                raise _Rejected("empty_turn", f"turn {i} ({m.role}) is empty after normalisation")
            if m.role == "assistant":
                if c.identity_filter and (may_id is None or may_id[i]) and (phrase := filters.find_identity(t)):
                    raise _Rejected("ai_identity", f"turn {i}: '{phrase}'")
                stripped, n = filters.strip_signoffs(t) if may_signoff is None or may_signoff[i] else (t, 0)
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
            if len(t) >= 10 and (may_sym is None or may_sym[i]) and (r := filters.symbol_ratio(t)) > c.max_symbol_ratio:
                raise _Rejected("symbol_ratio", f"turn {i}: symbol ratio {r:.2f} > {c.max_symbol_ratio}")
            if (may_run is None or may_run[i]) and filters.has_char_run(t, c.max_char_run):
                r = filters.longest_char_run(t)
                raise _Rejected("repeated_chars", f"turn {i}: run of {r} identical characters > {c.max_char_run}")
            if t.count("\n") >= c.max_line_repeats and (r := filters.max_line_repeats(t)) > c.max_line_repeats:
                raise _Rejected("repeated_lines", f"turn {i}: a line repeated {r} times > {c.max_line_repeats}")
            out.append(m if hints is not None and t is m.content else Message(m.role, t, m.name))
            total += len(t)
        if total < c.min_dialogue_chars:
            raise _Rejected("dialogue_too_short", f"{total} < {c.min_dialogue_chars} characters")
        if total > c.max_dialogue_chars:
            raise _Rejected("dialogue_too_long", f"{total} > {c.max_dialogue_chars} characters")
        return out

    def _scrub_inputs(self, msgs: list[Message], meta: dict) -> tuple[list[str], list[int], list, dict]:
        """What :meth:`_scrub_apply` analyses for one dialogue, in one list: its turns, the ``name`` of each turn
        and every string in ``meta`` (titles and unmapped source fields such as ``customer_email``; forge's own
        ``pii``/``safety`` keys aside). Returns ``(texts, named turns, meta string slots, meta)``; ``meta`` is
        a deep copy when it holds strings to scrub."""
        named = [i for i, m in enumerate(msgs) if m.name]
        slots: list[tuple[Any, Any]] = []
        _string_slots(meta, slots, top=True)
        if slots:  # strings to scrub: work on a copy (most records have none, and skip the deep copy)
            slots = []
            meta = copy.deepcopy(meta)
            _string_slots(meta, slots, top=True)
        texts = [m.content for m in msgs] + [msgs[i].name for i in named] + [c[k] for c, k in slots]
        return texts, named, slots, meta

    def _scrub_apply(self, msgs, meta, did, texts, named, slots, fired):
        out, per_turn = self.scrubber.scrub_turns(texts, did, fired=fired)
        n, k = len(msgs), len(named)
        if out is texts or out == texts:
            new = msgs
        else:
            names = dict(zip(named, out[n:n + k]))
            for (c, key), v in zip(slots, out[n + k:]):
                c[key] = v
            new = [Message(m.role, t, names.get(i, m.name)) for i, (m, t) in enumerate(zip(msgs, out[:n]))]
        total: Counter = Counter()
        for c in per_turn:
            if c:
                total.update(c)
        return new, meta, total, per_turn[:n]

    def _scrubbed_rejects(self, jobs: list[tuple[Dialogue, list[Message], Counter]]) -> list[list[Dialogue]]:
        """The records as written to the rejects file, for ``jobs`` of ``(record, its normalised turns, its
        counts)``: normalised and PII-scrubbed (if PII is on), so that the rejects file never holds raw PII
        either; the PII triggers of all of them found in one batch scan. ``[]`` for each when PII is off (the
        original record is written)."""
        if self.scrubber is None or not jobs:
            return [[] for _ in jobs]
        inputs = [self._scrub_inputs(msgs, d.meta) for d, msgs, _ in jobs]
        per_text = self.scrubber.analyzer.fired_triggers_batch([t for x in inputs for t in x[0]])
        out = []
        k = 0
        for (d, msgs, counts), (texts, named, slots, meta) in zip(jobs, inputs):
            fired = per_text[k:k + len(texts)]
            k += len(texts)
            rec = _shallow_copy(d)
            rec.messages, meta, pii, _ = self._scrub_apply(msgs, meta, d.id, texts, named, slots, fired)
            rec.meta = {**meta, "pii": _merged_pii(d.meta.get("pii"), pii)}
            counts["pii.scrubbed_rejects"] += 1
            out.append([rec])
        return out

    def clean(self, d: Dialogue) -> tuple[list[Dialogue], str | None, str, Counter]:
        """Clean one record: ``(kept, reason, detail, counts)`` (see the module docstring for the order)."""
        return self.clean_batch([d])[0]

    def clean_batch(self, batch: list[Dialogue]) -> list[tuple[list[Dialogue], str | None, str, Counter]]:
        """:meth:`clean` of each record of ``batch``, stage by stage over the whole batch: the scans that do
        not depend on one record -- which turns need normalising (:func:`.normalize.normalize_many`), hold
        non-text symbols or PII-trigger characters (:class:`filters.CharClasses`), over-long character runs
        (:func:`filters.char_run_candidates`), identity phrases and sign-offs (:func:`filters.texts_matching`),
        the safety lexicon (:meth:`SafetyGate.check_many`) and the PII triggers
        (:meth:`PiiAnalyzer.fired_triggers_batch`) -- run once over the batch joined by a separator instead
        of once per turn; the exact per-turn checks run only where these say they can fire. Same results,
        record by record, as cleaning them one at a time (``tests/steps/test_clean_batch.py``). The cyclic
        garbage collector is suspended while a batch runs."""
        # Reference counting frees what a batch allocates; the cyclic collector would only re-traverse the
        # ~140k long-lived objects of Presidio, Faker and phonenumbers again and again (20-40% of the time
        # of a batch when a full collection falls into it)
        gc_on = gc.isenabled()
        gc.disable()
        try:
            return self._clean_batch(batch)
        finally:
            if gc_on:
                gc.enable()

    def _clean_batch(self, batch: list[Dialogue]) -> list[tuple[list[Dialogue], str | None, str, Counter]]:
        cfg = self.cfg
        out: list[Any] = [None] * len(batch)
        counts = [Counter() for _ in batch]
        raw = [m.content for d in batch for m in d.messages]
        flat = normalize_many(raw, self.norm)
        normed = []
        k = 0
        for d, cnt in zip(batch, counts):
            n = len(d.messages)
            new = flat[k:k + n]
            msgs = [Message(m.role, t, m.name) for m, t in zip(d.messages, new)]
            if new != raw[k:k + n]:
                cnt["normalize.changed_turns"] += sum(map(ne, raw[k:k + n], new))
            k += n
            normed.append(msgs)
        may_run = filters.char_run_candidates(flat, cfg.max_char_run)
        has = filters.batch_classes().texts_with(flat)
        may_sym = has["nontext"]
        may_id = [False] * len(flat)
        may_signoff = [False] * len(flat)
        # only assistant turns are checked for identity phrases and sign-offs (these in their last 160 chars)
        where = [i for i, m in enumerate(m for msgs in normed for m in msgs) if m.role == "assistant"]
        if cfg.identity_filter:
            # every identity phrase holds a Latin letter ("ai", "model", "chatgpt") or 模 (模型)
            where_id = [i for i in where if has["latin"][i] or has["mo"][i]]
            found = filters.texts_matching(filters._IDENTITY_FAST, [flat[i] for i in where_id])
            for i, hit in zip(where_id, found):
                may_id[i] = hit
        for i, hit in zip(where, filters.texts_matching(filters._SIGNOFF_ANY, [flat[i][-160:] for i in where])):
            may_signoff[i] = hit
        alive: list[int] = []
        rejected: list[tuple[int, str, str]] = []  # (record, reason, detail), scrubbed for the rejects file at the end
        pre = list(normed)  # the normalised turns, before the structure filters' changes (sign-offs stripped)
        k = 0
        for j, (msgs, cnt) in enumerate(zip(normed, counts)):
            hints = (may_run[k:k + len(msgs)], may_sym[k:k + len(msgs)], may_id[k:k + len(msgs)],
                     may_signoff[k:k + len(msgs)])
            k += len(msgs)
            try:
                normed[j] = self._structure(msgs, cnt, hints)
                if cfg.long == "reject" and len(normed[j]) > cfg.max_turns:
                    raise _Rejected("too_many_turns", f"{len(normed[j])} > {cfg.max_turns} messages (--long reject)")
            except _Rejected as r:
                rejected.append((j, r.reason, r.detail))
                continue
            alive.append(j)
        flags: dict[int, list[str]] = {}
        if self.gate is not None and alive:
            found = self.gate.check_many(["\n".join(m.content for m in normed[j]) for j in alive])
            still = []
            for j, f in zip(alive, found):
                if f and cfg.safety_action == "reject":
                    rejected.append((j, f"safety_{f[0]}", "safety categories: " + ", ".join(f)))
                    continue
                if f:
                    flags[j] = f
                still.append(j)
            alive = still
        inputs: dict[int, tuple] = {}
        fired: dict[int, list] = {}
        if self.scrubber is not None and alive:
            flat: list[str] = []
            for j in alive:
                inputs[j] = self._scrub_inputs(normed[j], batch[j].meta)
                flat += inputs[j][0]
            per_text = self.scrubber.analyzer.fired_triggers_batch(flat)
            k = 0
            for j in alive:
                n = len(inputs[j][0])
                fired[j] = per_text[k:k + n]
                k += n
        for j in alive:
            out[j] = self._finish(batch[j], normed[j], flags.get(j, []), counts[j], inputs.get(j), fired.get(j))
        if rejected:
            rejected.sort()  # record order (the safety gate's rejects come after the structure filters')
            scrubbed = self._scrubbed_rejects([(batch[j], pre[j], counts[j]) for j, _, _ in rejected])
            for (j, reason, detail), recs in zip(rejected, scrubbed):
                out[j] = (recs, reason, detail, counts[j])
        return out

    def _finish(self, d: Dialogue, msgs: list[Message], flags: list[str], counts: Counter,
                inputs: tuple | None, fired: list | None) -> tuple[list[Dialogue], str | None, str, Counter]:
        """The kept record(s) of a dialogue that passed the filters and the gate: PII-scrubbed, flagged,
        lineage op added, windowed when over-long."""
        rec = _shallow_copy(d)
        rec.meta = dict(d.meta)
        rec.lineage = Lineage(d.lineage.root_id, d.lineage.parent_id, list(d.lineage.ops))
        if flags:
            rec.meta["safety"] = flags
            counts.update(f"safety_flagged.{f}" for f in flags)
        turn_pii: list[Counter] = []
        if self.scrubber is not None:
            texts, named, slots, meta = inputs if inputs is not None else self._scrub_inputs(msgs, d.meta)
            if meta is d.meta:
                meta = rec.meta
            else:
                meta.update((k, v) for k, v in rec.meta.items() if k == "safety")
            if fired is not None and not any(fired):  # no trigger fired: nothing to scrub, nothing to count
                rec.meta = meta
                rec.meta["pii"] = _merged_pii(d.meta.get("pii"), {})
                rec.messages = msgs
                return self._emit(rec, msgs, [], counts, d.meta.get("pii"))
            msgs, rec.meta, pii, turn_pii = self._scrub_apply(msgs, meta, d.id, texts, named, slots, fired)
            rec.meta["pii"] = _merged_pii(d.meta.get("pii"), pii)
            if pii:
                counts.update({f"pii.{k}": v for k, v in pii.items()})
                counts["pii.records_with_pii"] += 1
        rec.messages = msgs
        return self._emit(rec, msgs, turn_pii, counts, d.meta.get("pii"))

    def _emit(self, rec: Dialogue, msgs: list[Message], turn_pii: list[Counter], counts: Counter,
              pii_before: Any = None) -> tuple[list[Dialogue], str | None, str, Counter]:
        """Add the lineage op and split an over-long dialogue into windows (see the module docstring);
        ``pii_before``: the input record's ``meta["pii"]`` (each window's counts are added to it)."""
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
                rec_w.meta["pii"] = _merged_pii(pii_before, sum((turn_pii[index[id(m)]] for m in w), Counter()))
        counts["windows"] += len(out)
        counts["windowed_records"] += 1
        # turns no window holds (no assistant reply in reach: see filters.window_messages), counted, not silent
        n_sys = 1 if msgs[0].role == "system" else 0
        dropped = len(msgs) - n_sys - sum(len(w) - n_sys for w in windows)
        if dropped:
            counts["window_dropped_turns"] += dropped
        return out, None, "", counts


def _merged_pii(before: Any, found: Any) -> dict[str, int]:
    """``meta["pii"]`` of a cleaned record: the entity counts ``found`` now (a mapping) plus those an earlier
    ``forge clean`` recorded in the input's ``meta["pii"]`` (``before``: its ``entity: count`` entries with a
    whole count >= 0; anything else there is dropped), sorted by entity."""
    if not before or not isinstance(before, dict):
        return dict(sorted(found.items())) if found else {}
    total = {k: v for k, v in before.items() if isinstance(k, str) and type(v) is int and v >= 0}
    for k, v in found.items():
        total[k] = total.get(k, 0) + v
    return dict(sorted(total.items()))


_FIELDS = Dialogue.__slots__ if hasattr(Dialogue, "__slots__") else ()
_KNOWN_FIELDS = ("id", "messages", "domain", "task", "lang", "source", "created_at", "meta", "lineage", "quality",
                 "split", "schema_version")


def _shallow_copy(d: Dialogue) -> Dialogue:
    """``copy.copy(d)`` without the generic ``__reduce_ex__`` machinery (a fifth of the per-record cost):
    the fields assigned one by one (0.4 us), or in a loop over ``__slots__`` (1.6 us) should the schema gain
    a field."""
    if _FIELDS != _KNOWN_FIELDS:
        if not _FIELDS:
            return copy.copy(d)
        rec = Dialogue.__new__(Dialogue)
        for f in _FIELDS:
            setattr(rec, f, getattr(d, f))
        return rec
    rec = Dialogue.__new__(Dialogue)
    rec.id = d.id
    rec.messages = d.messages
    rec.domain = d.domain
    rec.task = d.task
    rec.lang = d.lang
    rec.source = d.source
    rec.created_at = d.created_at
    rec.meta = d.meta
    rec.lineage = d.lineage
    rec.quality = d.quality
    rec.split = d.split
    rec.schema_version = d.schema_version
    return rec


_CONTENT = attrgetter("content")


def _atom_bounds(n: int, processes: int) -> list[tuple[int, int]]:
    """``[(start, end), ...]``: ``n`` records cut into runs of consecutive records of equal size (give or
    take one), :data:`ATOMS_PER_PROCESS` per process but at least one record each -- the atoms of
    :class:`.clean_pool.ChunkPool`, which balances the processes by how long the atoms take, not by their
    size."""
    k = max(1, min(n, ATOMS_PER_PROCESS * processes))
    q, r = divmod(n, k)
    bounds, a = [], 0
    for i in range(k):
        b = a + q + (1 if i < r else 0)
        bounds.append((a, b))
        a = b
    return bounds


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

#: A record as sent to a worker: ``(id, [(role, content, name), ...], meta)``, all the cleaner reads of it.
Packed = tuple
#: One outcome as sent back: ``(outputs, reason, detail)``; each output is ``(id, messages, meta, new lineage
#: ops)`` with ``messages`` as ``(role, content, name)`` tuples, ``content`` ``None`` where the turn is that of
#: the input record; ``meta`` ``None`` for the input's meta with its ``"pii"`` as cleaning found none (its own
#: counts, or ``{}``) and ``ops`` ``None`` for the
#: plain ``clean`` op (the common case of a record without PII); the whole outcome is ``None`` when the record
#: is kept with all of these unchanged (most records). The counts come back summed per run of atoms.
PackedOutcome = tuple

#: Atoms per cleaning process of a batch under ``--workers N`` (:class:`.clean_pool.ChunkPool` hands out runs
#: of atoms, long ones first and single atoms last): more let the processes finish closer together, at no
#: cost per atom (a run of atoms is cleaned in one call).
ATOMS_PER_PROCESS = 32


def _make_worker(cfg: CleanConfig):
    """Run once in each worker process (:class:`.clean_pool.ChunkPool`): build the cleaner; returns
    :func:`_work`."""
    global _WORKER
    _WORKER = Cleaner(cfg)
    return _work


def _pack(batch: list[Dialogue]) -> list[Packed]:
    """The compact form of ``batch`` for a worker (plain tuples pickle ~15x faster than the dataclasses)."""
    return [(d.id, [(m.role, m.content, m.name) for m in d.messages], d.meta) for d in batch]


def _unpacked(item: Packed) -> Dialogue:
    """A stand-in record for the cleaner in a worker: the packed fields, a fresh lineage (``ops == []``, so
    the ops found on an output are the ones the cleaner added)."""
    did, msgs, meta = item
    return Dialogue(did, [Message(r, c, n) for r, c, n in msgs], meta=meta)


def _pack_outcome(d: Dialogue, outcome: tuple, params: dict) -> PackedOutcome | None:
    """The :data:`PackedOutcome` of cleaning the stand-in ``d`` (``params``: the cleaner's lineage params)."""
    kept, reason, detail, _ = outcome
    outs = []
    for r in kept:
        same = r.id == d.id and len(r.messages) == len(d.messages)
        msgs = [(m.role, None if same and m.content == o.content and m.role == o.role else m.content, m.name)
                for m, o in zip(r.messages, d.messages if same else r.messages)]
        meta, ops = r.meta, r.lineage.ops
        if r.id == d.id:
            if list(meta.items()) == list({**d.meta, "pii": _merged_pii(d.meta.get("pii"), {})}.items()):
                meta = None
            if ops == [{"op": "clean", "params": params}]:
                ops = None
        outs.append((r.id, msgs, meta, ops))
    if (reason is None and len(outs) == 1 and outs[0][2] is None and outs[0][3] is None and outs[0][0] == d.id
            and len(outs[0][1]) == len(d.messages)
            and all(c is None and n == o.name for (_, c, n), o in zip(outs[0][1], d.messages))):
        return None  # kept unchanged: no PII, nothing normalised (most records)
    return outs, reason, detail


def _unpack_outcome(d: Dialogue, packed: PackedOutcome | None, params: dict) -> tuple[list[Dialogue], str | None, str, dict]:
    """The outcome of :meth:`Cleaner.clean` for ``d`` rebuilt from a worker's :data:`PackedOutcome`: the
    same records as cleaning ``d`` in this process would give (same fields, lineage ops appended to
    ``d``'s; a window built as :func:`~dialog_forge.pipeline.lineage.derive` builds it), with empty counts
    (they come back summed per run of atoms). ``params``: the cleaner's lineage params."""
    if packed is None:  # kept unchanged
        rec = _shallow_copy(d)
        rec.lineage = Lineage(d.lineage.root_id, d.lineage.parent_id,
                              d.lineage.ops + [{"op": "clean", "params": dict(params)}])
        rec.messages = list(d.messages)  # the same turns (the input record is not used after the step)
        rec.meta = meta = dict(d.meta)
        meta["pii"] = _merged_pii(d.meta.get("pii"), {})
        return [rec], None, "", {}
    outs, reason, detail = packed
    kept = []
    for rid, msgs, meta, ops in outs:
        rec = _shallow_copy(d)
        if ops is None:
            ops = [{"op": "clean", "params": dict(params)}]
        if rid == d.id:
            rec.lineage = Lineage(d.lineage.root_id, d.lineage.parent_id, d.lineage.ops + ops)
            orig = d.messages
            rec.messages = [Message(r, orig[i].content if c is None else c, n) for i, (r, c, n) in enumerate(msgs)]
            if meta is None:
                meta = dict(d.meta)
                meta["pii"] = _merged_pii(d.meta.get("pii"), {})
        else:  # a window: derive(rec, ...) of the cleaned record
            rec.id = rid
            rec.source = dict(d.source)
            rec.quality = rec.split = None
            rec.lineage = Lineage(d.lineage.root_id, d.id, copy.deepcopy(d.lineage.ops) + ops)
            rec.messages = [Message(r, c, n) for r, c, n in msgs]
        rec.meta = meta
        kept.append(rec)
    return kept, reason, detail, {}


def _work(items: list[Packed]) -> tuple[list[PackedOutcome], dict]:
    """Clean packed records in a worker: ``(packed outcomes, counts summed over the records in record
    order)``."""
    assert _WORKER is not None
    gc_on = gc.isenabled()
    gc.disable()
    try:
        batch = [_unpacked(x) for x in items]
        totals: dict[str, int] = {}
        out = []
        for d, o in zip(batch, _WORKER.clean_batch(batch)):
            out.append(_pack_outcome(d, o, _WORKER.params))
            for k, v in o[3].items():
                if v:
                    totals[k] = totals.get(k, 0) + v
    finally:
        if gc_on:
            gc.enable()
    return out, totals


class CleanStep(Step):
    """Normalise, filter, safety-check and PII-scrub dialogues (see the module docstring)."""

    name = "clean"
    reasons = REASONS
    config_class = CleanConfig

    def __init__(self, config: CleanConfig | None = None):
        super().__init__(config)
        self._cleaner: Cleaner | None = None
        self._pool: ChunkPool | None = None
        self.worker_cpu_s = 0.0  # CPU seconds the worker processes spent cleaning (for benchmarks)

    def setup(self) -> None:
        """Build the analyzer/anonymizer/lexicons once (raises ForgeError on a bad configuration)."""
        if self._cleaner is None:
            self._cleaner = Cleaner(self.config)
        if self.config.workers > 1 and self._pool is None:
            # N-1 worker processes, each building its analyzer once (about a second, here in setup rather
            # than in the first batch); this process cleans its share of each batch too (see _process_pooled)
            self._pool = ChunkPool(self.config.workers - 1, partial(_make_worker, self.config))

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
                # raw JSON is full of Latin keys: run every configured language over it, not the detected one;
                # the detail too, which may quote a raw value ("not an ISO-8601 time: '<raw field>'")
                pii = Counter()
                detail = item.detail or ""
                for lang in self._cleaner.scrubber.analyzer.languages:
                    texts, found = self._cleaner.scrubber.scrub_texts([raw, detail], item.id or "", language=lang)
                    (raw, detail), pii = texts, pii + found
                if pii:
                    self.count("pii.scrubbed_input_rejects", 1)
                    item = Reject(raw, item.reason, detail if item.detail is not None else None, item.id,
                                  item.source)
            yield item

    def process(self, batch: list[Dialogue]) -> BatchResult:
        self.setup()
        gc_on = gc.isenabled()
        gc.disable()  # see Cleaner.clean_batch: the rebuild allocates many objects and no cycles
        try:
            if self._pool is None or len(batch) < 2 * self.config.workers:
                part = self._collect(batch, self._cleaner.clean_batch(batch), None)
                for k, v in part[3].items():
                    self.count(k, v)
                return BatchResult(part[0], part[1], part[2])
            return self._process_pooled(batch)
        finally:
            if gc_on:
                gc.enable()

    def _collect(self, records: list[Dialogue], outcomes: list, counts: dict | None
                 ) -> tuple[list[Dialogue], list[Reject], int, dict[str, int]]:
        """``(kept, rejects, generated, counts)`` of the :meth:`Cleaner.clean` ``outcomes`` of ``records``;
        ``counts``: the run's counts summed by a worker, else they are summed here from the outcomes' own
        (in record order, so that the counters' keys come in the order cleaning in one process gives)."""
        kept: list[Dialogue] = []
        rejects: list[Reject] = []
        generated = 0
        total: dict[str, int] = {} if counts is None else counts
        for d, (out, reason, detail, cnt) in zip(records, outcomes):
            if counts is None:
                for k, v in cnt.items():
                    if v:
                        total[k] = total.get(k, 0) + v
            if reason is not None:
                rejects.append(self.reject(out[0] if out else d, reason, detail))
                continue
            kept.extend(out)
            generated += len(out) - 1
        return kept, rejects, generated, total

    def _process_pooled(self, batch: list[Dialogue]) -> BatchResult:
        """:meth:`process` with ``--workers N``: the batch shared between N-1 worker processes and this one
        (:class:`.clean_pool.ChunkPool`). The batch is cut into atoms of a few records, sent to the workers in
        compact form (:func:`_pack`); the workers clean runs of atoms from the front, this process from the
        back, and each worker run is rebuilt here (:func:`_unpack_outcome`) as soon as it arrives, in between
        this process's own runs; the parts are put together in record order. Worker CPU seconds add up in
        ``self.worker_cpu_s``."""
        atoms = _atom_bounds(len(batch), self.config.workers)
        params = self._cleaner.params
        parts: dict[int, tuple] = {}

        def own(a: int, b: int) -> list:
            return self._cleaner.clean_batch(batch[atoms[a][0]:atoms[b - 1][1]])

        def take(a: int, b: int, res: list, counts: dict | None) -> None:
            records = batch[atoms[a][0]:atoms[b - 1][1]]
            if counts is not None:  # a worker's run: rebuild its records
                res = [_unpack_outcome(d, p, params) for d, p in zip(records, res)]
            parts[a] = self._collect(records, res, counts)

        cpu0 = self._pool.worker_cpu_s
        self._pool.run(len(atoms), lambda k: _pack(batch[atoms[k][0]:atoms[k][1]]), own, take)
        self.worker_cpu_s += self._pool.worker_cpu_s - cpu0
        res = BatchResult()
        for a in sorted(parts):
            kept, rejects, generated, counts = parts[a]
            res.kept.extend(kept)
            res.rejects.extend(rejects)
            res.generated += generated
            for k, v in counts.items():
                self.count(k, v)
        return res

    def finish(self) -> BatchResult:
        if self._pool is not None:
            self._pool.close()
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
