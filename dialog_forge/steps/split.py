"""``forge split``: grouped, leakage-checked train/val/test splits (a global step).

1. **Groups.** Records that must not be separated are merged with union-find: records sharing
   ``lineage.root_id`` (augmented variants of one raw record), a record and every record whose turns it
   contains (the partner of an ``augment --op context`` chain, named in its lineage), records in one
   near-duplicate cluster:
   recomputed (same normalised user-turn hash, or user-turn Jaccard >= ``--leak-threshold`` by MinHash +
   exact verification, see :mod:`.leakage`; off with ``--no-group-near-duplicates``) and, when given,
   read from dedup's ``--clusters`` file (its clusters may come from other views or semantic matching).
2. **Assignment** of whole groups (``--by``):

   * ``random`` -- groups shuffled with ``--seed``; test is filled first, then val, up to
     ``round(n * ratio)`` records each; the rest is train.
   * ``stratified`` -- the same within each stratum (``--stratify`` keys, e.g. ``domain,task``; a group
     belongs to the stratum of most of its members). Each stratum's quota is ``n_s * ratio``, rounded by
     largest remainder so that the quotas add up to ``round(n * ratio)`` (ties go to the larger stratum).
   * ``time`` -- by ``created_at`` of a group's earliest member: with ``--test-after``/``--val-after`` a
     group goes to test (val) when its earliest record is strictly later than the date; without dates
     the latest ``test`` share of records is test and the ``val`` share before it is val. Records without
     ``created_at`` are rejected (``no_timestamp``).

   Shuffling is over groups sorted by their smallest id, so the split depends on the seed and the set of
   records, not on their input order.
3. **Leakage check** across the splits (:func:`.leakage.find_leaks`: shared id, same normalised user-turn
   hash, or user-turn Jaccard >= ``--leak-threshold``). Any leak fails the command with exit code 1 and
   the list of pairs (:class:`~dialog_forge.errors.GateFailed`); nothing is written then.

Sets ``record.split``; with ``--out DIR`` the records land in ``DIR/train/``, ``DIR/val/``, ``DIR/test/``
and the manifest carries each split's distribution (domain, task, turns, length, time range).
Stratum keys: ``domain``, ``task``, ``lang``, ``source`` (the source file name), or ``meta.KEY``.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from ..errors import ForgeError, GateFailed
from ..pipeline.lineage import add_op
from ..pipeline.registry import register_step
from ..pipeline.step import BatchResult, Step, StepConfig, cfg_field
from ..schema import Dialogue, SchemaError, normalize_timestamp
from .dedup.clusters import UnionFind
from .leakage import DEFAULT_NUM_PERM, find_leaks, near_pairs, text_key, user_turns

SPLITS = ("train", "val", "test")
MAX_LISTED_LEAKS = 20


@dataclass
class SplitConfig(StepConfig):
    """Options of ``forge split``."""

    by: Literal["random", "stratified", "time"] = cfg_field("random", help="How to assign: random, "
                                                            "stratified (by --stratify) or time (by created_at).")
    stratify: list[str] = cfg_field(["domain", "task"], help="Stratum keys for --by stratified: domain, task, "
                                    "lang, source (file name) or meta.KEY; comma-separated.")
    val: float = cfg_field(0.05, help="Share of records for val (ratio in [0, 1)).")
    test: float = cfg_field(0.05, help="Share of records for test (ratio in [0, 1)).")
    val_after: str | None = cfg_field(None, help="--by time: records created after this date (ISO-8601) go "
                                      "to val (unless after --test-after).")
    test_after: str | None = cfg_field(None, help="--by time: records created after this date (ISO-8601) "
                                       "go to test.")
    seed: int = cfg_field(42, help="Random seed: the same seed and records give the same split.")
    clusters: str | None = cfg_field(None, help="Duplicate clusters from `forge dedup --clusters` (Parquet/JSONL "
                                     "with an id column and a cluster column): members stay in one split, in "
                                     "addition to the recomputed near-duplicate groups.")
    group_near_duplicates: bool = cfg_field(True, help="Keep near-duplicates (user-turn Jaccard >= "
                                            "--leak-threshold) and exact duplicates in one split.")
    leak_threshold: float = cfg_field(0.5, help="User-turn Jaccard at or above which two records count as "
                                      "near-duplicates (grouping and leakage check).")
    check_leakage: bool = cfg_field(True, help="After splitting, fail (exit 1) when any record of one split "
                                    "matches a record of another.")
    num_perm: int = cfg_field(DEFAULT_NUM_PERM, help="MinHash permutations for the near-duplicate search.")


def _parse_date(value: str | None, flag: str) -> str | None:
    if value is None:
        return None
    try:
        return normalize_timestamp(value)
    except SchemaError:
        raise ForgeError(f"{flag} {value!r}: not an ISO-8601 date, e.g. 2024-06-01 or 2024-06-01T00:00:00Z.") from None


def _ts(s: str) -> datetime:
    return datetime.fromisoformat(s[:-1] + "+00:00" if s.endswith("Z") else s)


def stratum_value(record: Dialogue, key: str) -> str:
    """The value of stratum key ``key`` for ``record`` (``"(none)"`` when absent)."""
    if key in ("domain", "task", "lang", "split"):
        v = getattr(record, key)
    elif key == "source":
        v = (record.source or {}).get("file")
    elif key.startswith("meta."):
        v = (record.meta or {}).get(key[5:])
    else:
        v = (record.meta or {}).get(key)
    return "(none)" if v is None else str(v)


def largest_remainder(sizes: dict[str, int], ratio: float, total: int) -> dict[str, int]:
    """Integer quotas ``q_s`` close to ``sizes[s] * ratio`` adding up to ``total`` (Hamilton's method:
    floors first, then one more to the largest remainders; ties to the larger stratum, then by name)."""
    exact = {s: n * ratio for s, n in sizes.items()}
    q = {s: min(sizes[s], int(e)) for s, e in exact.items()}
    rest = total - sum(q.values())
    order = sorted(sizes, key=lambda s: (-(exact[s] - int(exact[s])), -sizes[s], s))
    while rest > 0 and any(q[s] < sizes[s] for s in order):
        for s in order:
            if rest > 0 and q[s] < sizes[s]:
                q[s] += 1
                rest -= 1
    return q


def read_clusters(path: str) -> dict[str, str]:
    """``id -> cluster`` from a dedup clusters file (Parquet or JSONL; id column ``id``/``record_id``,
    cluster column ``cluster_id``/``cluster``/``kept_id``/``duplicate_of``/``representative_id``).
    Raises :class:`ForgeError` naming ``--clusters`` when the file or its columns are missing."""
    p = Path(path)
    if not p.exists():
        raise ForgeError(f"--clusters {path}: no such file; write it with `forge dedup --clusters FILE` or leave "
                         "--clusters out to recompute clusters.")
    try:
        if p.suffix.lower() == ".parquet" or p.is_dir():
            import pyarrow.parquet as pq

            rows = pq.read_table(p).to_pylist()
        else:
            import orjson

            rows = [orjson.loads(ln) for ln in p.read_bytes().splitlines() if ln.strip()]
    except Exception as e:  # noqa: BLE001 - pyarrow and orjson raise several kinds for a bad file
        raise ForgeError(f"--clusters {path}: cannot read it ({e}).") from None
    if not rows:
        return {}
    cols = set(rows[0])
    idc = next((c for c in ("id", "record_id") if c in cols), None)
    cc = next((c for c in ("cluster_id", "cluster", "kept_id", "duplicate_of", "representative_id") if c in cols), None)
    if idc is None or cc is None:
        raise ForgeError(f"--clusters {path}: needs an id column (id or record_id) and a cluster column "
                         f"(cluster_id, cluster, kept_id, ...); found {sorted(cols)}.")
    return {str(r[idc]): str(r[cc]) for r in rows if r.get(idc) is not None and r.get(cc) is not None}


def distribution(records: list[Dialogue]) -> dict[str, Any]:
    """Per-split figures for the manifest: count, domain and task counts, turns and character length
    (mean, median, max), and the created_at range."""
    lengths = sorted(sum(len(m.content) for m in r.messages) for r in records)
    turns = [len(r.messages) for r in records]
    times = sorted(r.created_at for r in records if r.created_at)
    n = len(records)
    return {
        "records": n,
        "domain": dict(Counter(r.domain or "(none)" for r in records).most_common()),
        "task": dict(Counter(r.task or "(none)" for r in records).most_common()),
        "turns_mean": round(sum(turns) / n, 2) if n else 0,
        "chars": {"mean": round(sum(lengths) / n, 1) if n else 0, "median": lengths[n // 2] if n else 0,
                  "max": lengths[-1] if n else 0},
        "created_at": [times[0], times[-1]] if times else None,
    }


@register_step
class SplitStep(Step):
    """Assign train/val/test by groups; see the module docstring."""

    name = "split"
    reasons = {"no_timestamp": "--by time needs created_at and the record has none"}
    config_class = SplitConfig
    global_step = True
    #: tells the CLI's directory sink to write DIR/train, DIR/val, DIR/test
    partition_by = "split"

    def __init__(self, config: SplitConfig | None = None):
        super().__init__(config)
        c: SplitConfig = self.config
        c.stratify = [k.strip() for v in c.stratify for k in v.split(",") if k.strip()]
        for flag, v in (("--val", c.val), ("--test", c.test)):
            if not 0 <= v < 1:
                raise ForgeError(f"{flag} {v}: a ratio must be in [0, 1).")
        if c.val + c.test >= 1:
            raise ForgeError(f"--val {c.val} + --test {c.test} leaves nothing for train; make them add up to < 1.")
        if not 0 < c.leak_threshold <= 1:
            raise ForgeError(f"--leak-threshold {c.leak_threshold}: must be in (0, 1].")
        self.val_after = _parse_date(c.val_after, "--val-after")
        self.test_after = _parse_date(c.test_after, "--test-after")
        if self.val_after and self.test_after and self.val_after > self.test_after:
            raise ForgeError("--val-after must not be later than --test-after.")
        if (self.val_after or self.test_after) and c.by != "time":
            raise ForgeError("--val-after/--test-after need --by time.")
        if c.by == "stratified" and not c.stratify:
            raise ForgeError("--by stratified needs --stratify KEYS (e.g. domain,task).")
        self.cluster_map = read_clusters(c.clusters) if c.clusters else None
        self._held: list[Dialogue] = []
        self.leaks: list = []
        self.report: dict[str, Any] = {}

    def process(self, batch: list[Dialogue]) -> BatchResult:
        res = BatchResult()
        for r in batch:
            if self.config.by == "time" and not r.created_at:
                res.rejects.append(self.reject(r, "no_timestamp", "record has no created_at; --by time needs one"))
            else:
                self._held.append(r)
        return res

    # -- grouping --------------------------------------------------------------------------------
    def groups(self, records: list[Dialogue]) -> tuple[list[list[int]], list]:
        """Indices of ``records`` grouped (see the module docstring), each group sorted, groups sorted by
        their first record's id; plus the verified near pairs (reused by the leakage check)."""
        c: SplitConfig = self.config
        uf = UnionFind(len(records))
        first: dict[Any, int] = {}

        def join(key: Any, i: int) -> None:
            j = first.setdefault(key, i)
            if j != i and uf.union(i, j):
                self.count("group_merges")

        for i, r in enumerate(records):
            join(("root", r.lineage.root_id if r.lineage else r.id), i)
            join(("id", r.id), i)
            # records built from several records (augment context chains a partner's turns in) stay
            # with every record they contain
            for pid in contained_ids(r):
                join(("id", pid), i)
            if self.cluster_map is not None and r.id in self.cluster_map:
                join(("cluster", self.cluster_map[r.id]), i)
        near = None
        if c.group_near_duplicates:
            for i, r in enumerate(records):
                k = text_key(r)
                if k is not None:
                    join(("text", k), i)
            near = near_pairs(["\n".join(user_turns(r)) for r in records], c.leak_threshold, c.num_perm, c.seed)
            for i, j, _ in near:
                if uf.union(i, j):
                    self.count("group_merges")
        members: dict[int, list[int]] = defaultdict(list)
        for i in range(len(records)):
            members[uf.find(i)].append(i)
        groups = sorted(members.values(), key=lambda g: min(records[i].id for i in g))
        return groups, near

    # -- assignment ------------------------------------------------------------------------------
    def _fill(self, groups: list[list[int]], quotas: dict[str, int], rng: random.Random,
              assign: dict[int, str]) -> None:
        order = groups[:]
        rng.shuffle(order)
        for split in ("test", "val"):
            left = quotas.get(split, 0)
            for g in order:
                if left <= 0:
                    break
                if g[0] in assign or len(g) > left:
                    continue
                for i in g:
                    assign[i] = split
                left -= len(g)
        for g in order:
            for i in g:
                assign.setdefault(i, "train")

    def assign(self, records: list[Dialogue], groups: list[list[int]]) -> dict[int, str]:
        """``index -> split`` for every record (see the module docstring)."""
        c: SplitConfig = self.config
        n = len(records)
        rng = random.Random(c.seed)
        assign: dict[int, str] = {}
        targets = {"test": round(n * c.test), "val": round(n * c.val)}
        if c.by == "random":
            self._fill(groups, targets, rng, assign)
        elif c.by == "stratified":
            by_stratum: dict[str, list[list[int]]] = defaultdict(list)
            for g in groups:
                key = Counter("|".join(stratum_value(records[i], k) for k in c.stratify) for i in g).most_common(1)[0][0]
                by_stratum[key].append(g)
            sizes = {s: sum(len(g) for g in gs) for s, gs in by_stratum.items()}
            quotas = {sp: largest_remainder(sizes, getattr(c, sp), targets[sp]) for sp in ("test", "val")}
            self.report["strata"] = {s: {"records": sizes[s], "test_quota": quotas["test"][s],
                                         "val_quota": quotas["val"][s]} for s in sorted(sizes)}
            for s in sorted(by_stratum):
                self._fill(by_stratum[s], {sp: quotas[sp][s] for sp in quotas}, rng, assign)
        else:
            start = {id(g): min(_ts(records[i].created_at) for i in g) for g in groups}
            ordered = sorted(groups, key=lambda g: (start[id(g)], records[g[0]].id))
            if self.val_after or self.test_after:
                for g in ordered:
                    t = start[id(g)]
                    sp = ("test" if self.test_after and t > _ts(self.test_after) else
                          "val" if self.val_after and t > _ts(self.val_after) else "train")
                    for i in g:
                        assign[i] = sp
            else:
                n_test, n_val = targets["test"], targets["val"]
                seen = 0
                for g in reversed(ordered):
                    sp = "test" if seen < n_test else ("val" if seen < n_test + n_val else "train")
                    for i in g:
                        assign[i] = sp
                    seen += len(g)
        return assign

    def finish(self) -> BatchResult:
        c: SplitConfig = self.config
        records = self._held
        self._held = []
        if not records:
            return BatchResult()
        if c.by == "stratified":
            for k in c.stratify:
                if k not in ("domain", "task", "lang", "source") and all(
                        stratum_value(r, k) == "(none)" for r in records):
                    raise ForgeError(f"--stratify {k}: no record has this field; use domain, task, lang, source "
                                     "or meta.KEY for a field of meta.")
        groups, near = self.groups(records)
        assign = self.assign(records, groups)
        for i, r in enumerate(records):
            r.split = assign[i]
            add_op(r, "split", {"by": c.by, "seed": c.seed, "split": r.split})
        self.count("groups", len(groups))
        self.count("grouped_records", sum(len(g) for g in groups if len(g) > 1))
        if c.check_leakage:
            self.leaks = find_leaks(records, c.leak_threshold, c.num_perm, c.seed, near=near)
            self.count("leaks", len(self.leaks))
            if self.leaks:
                lines = [lk.line() for lk in self.leaks[:MAX_LISTED_LEAKS]]
                more = len(self.leaks) - len(lines)
                raise GateFailed(
                    f"split: {len(self.leaks)} record pair(s) leak across splits (nothing written):\n  "
                    + "\n  ".join(lines) + (f"\n  ... and {more} more" if more else "")
                    + "\nFix: leave out --no-group-near-duplicates so that matches are grouped, or deduplicate "
                      "first (forge dedup).")
        self.report["splits"] = {sp: distribution([r for r in records if r.split == sp]) for sp in SPLITS}
        order = {sp: k for k, sp in enumerate(SPLITS)}
        out = sorted(range(len(records)), key=lambda i: (order[records[i].split], i))
        return BatchResult(kept=[records[i] for i in out])

    def summary(self) -> dict[str, Any]:
        return {**self.counters, **self.report}


#: Lineage op parameters that name other records whose content a record contains.
CONTAINED_KEYS = ("partner_id", "partner_ids", "source_ids")


def contained_ids(record: Dialogue) -> list[str]:
    """Ids of other records whose turns ``record`` contains, from its lineage ops (e.g. the partner of an
    ``augment --op context`` chain)."""
    out: list[str] = []
    for op in (record.lineage.ops if record.lineage else []):
        params = op.get("params") or {}
        for key in CONTAINED_KEYS:
            v = params.get(key)
            if isinstance(v, str):
                out.append(v)
            elif isinstance(v, list):
                out.extend(x for x in v if isinstance(x, str))
    return out
