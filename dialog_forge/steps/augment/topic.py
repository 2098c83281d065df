"""Lexical topic similarity for rule-based ``context`` chaining, independent of any embedding model.

Why: the offline embedding model (MiniLM) is English-centred and rates most pairs of Chinese questions as
similar, and a plain shared-word count is fooled by question templates ("医生您好，请问……怎么办") that
unrelated questions share. Here each text becomes a TF-IDF vector over its topic terms and two texts are
compared by cosine:

* terms (:func:`topic_terms`): for Han script, every character and every pair of adjacent characters
  (Chinese has no spaces, so character 1-2-grams stand in for words); for space-delimited scripts,
  case-folded words of 3+ letters; minus a short list of function words and question-template pieces
  (:data:`ZH_STOP`, :data:`EN_STOP`) that say nothing about the topic;
* weights: sublinear term frequency ``1 + ln(tf)`` times the smoothed inverse document frequency
  ``idf(t) = ln((1 + N) / (1 + df(t))) + 1`` computed over the ``N`` texts being compared (the batch
  being augmented), so n-grams that many records share -- templates, greetings, "医生", "怎么办" -- weigh
  little and the complaint ("胃痛", "皮肤过敏") weighs most; rows are L2-normalised, so the dot product
  is the cosine. This is the standard TF-IDF of Salton & Buckley (1988) with scikit-learn's
  ``TfidfVectorizer(sublinear_tf=True, smooth_idf=True)`` formulas (Manning, Raghavan & Schütze,
  *Introduction to Information Retrieval*, ch. 6).

Before weighting, the edges of a text that many texts of the batch share -- a question frame such as
"……的影像学检查有些什么？" or "医生您好，请问……" -- are cut off (:func:`strip_templates`), and a pair whose
questions differ only inside a common frame is recognised by :func:`template_only` (the context operator
skips it): IDF alone lets a long frame outweigh the short complaint it holds.

A cosine is a sum over many terms, so two questions that share only moderately common pieces -- a
generic modifier ("原发性UPJO" / "原发性醛固酮增多症", "老年心血管病" / "老年手术"), a two-slot frame
("X忘记吃了怎么办？我在吃X"), a copied case description -- can still score high. Two more tests guard that:
:meth:`TopicIndex.shared_specific` (the pair must share a *specific* term: a Han character pair or word
that is no generic modifier (:data:`GENERIC_ZH_WORDS`, :data:`GENERIC_EN`), holds no function character,
and at most :data:`SPECIFIC_MAX_DF_SHARE` of the batch's user turns hold) and :func:`slot_pair` (one
frame, different topics in its slots, found with ``difflib``). On MedicalGPT they raise the precision of
chaining from 0.70 to 0.97 (``benchmarks/bench_augment.py`` section 5; those labels share a character pair,
much like this test, and a reading by eye puts about 89% of the MedicalGPT chains on one topic).

:func:`pair_topic_similarity` scores a pair of single-turn exchanges: the mean of the cosine of the two
user turns and the cosine of the two assistant turns (each with its own IDF; the user-turn cosine alone
when an answer is too short to carry a topic), 0 when the user turns share no weighted term at all. The default bounds (:data:`DEFAULT_MIN_TOPIC`) come from
``benchmarks/bench_augment.py``: on labelled real Chinese medical questions (Toyhom) and English Alpaca
instructions they keep the precision of chaining at or above 0.95.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np

#: Chinese function words and question-template pieces (bigrams) that say nothing about the topic.
ZH_STOP = frozenset("怎么 什么 可以 需要 请问 你好 您好 这是 一下 是否 如何 为什 么会 能不 不能 我的 我们 "
                    "吗？ 一个 有没 没有 这个 那个 是不 不是 应该 现在 已经 还是 就是 可能 问一 想问 有什 么办 怎样 "
                    "多少 谢谢".split())
#: English function words that say nothing about the topic.
EN_STOP = frozenset("the and for you your what how can with this that are was have does did from will there about "
                    "into when where which who why would could should please any some its it's they them then than "
                    "also just more most very much many not but our out get got has had being been".split())

#: Least :func:`pair_topic_similarity` for a rule-based context chain, per language (``*``: any other).
#: Chinese needs the higher bound: its character n-grams overlap more by chance than English words do,
#: and the embedding check beside it is no help there. For English the embedding check stays the main test
#: and the lexical bound is a guard against pairs that share only template words.
DEFAULT_MIN_TOPIC: dict[str, float] = {"zh": 0.24, "en": 0.1, "*": 0.24}

_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[^\W\d_]{3,}")


def topic_terms(text: str) -> list[str]:
    """Topic terms of ``text`` (with repeats, in order): Han characters and adjacent Han character pairs,
    and words of 3+ letters of other scripts, after NFKC and case folding, without :data:`ZH_STOP` /
    :data:`EN_STOP`. ``"请问胃痛怎么办"`` -> ``["请", "问", "胃", "痛", "怎", "么", "办", "问胃", "胃痛",
    "痛怎", "么办"...]`` minus stop pairs."""
    t = unicodedata.normalize("NFKC", text).casefold()
    out: list[str] = []
    for run in _HAN_RUN.findall(t):
        out.extend(run)
        out.extend(run[i:i + 2] for i in range(len(run) - 1))
    for w in _WORD.findall(_HAN_RUN.sub(" ", t)):
        out.append(w)
    return [x for x in out if x not in ZH_STOP and x not in EN_STOP]


def _tfidf(texts: list[str]):
    """The L2-normalised sparse TF-IDF matrix of ``texts`` (IDF fitted on them), ``None`` when no text has a
    topic term."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    if not texts:
        return None
    vec = TfidfVectorizer(analyzer=topic_terms, sublinear_tf=True, smooth_idf=True, norm="l2")
    try:
        return vec.fit_transform(texts).tocsr()
    except ValueError:  # empty vocabulary
        return None


def tfidf_cosines(texts: list[str]) -> np.ndarray:
    """``(N, N)`` float matrix of TF-IDF cosines between ``texts`` (see the module docstring; the IDF is
    fitted on ``texts`` themselves). Rows of texts without any topic term are all zero."""
    x = _tfidf(texts)
    if x is None:
        return np.zeros((len(texts), len(texts)))
    return (x @ x.T).toarray()


#: An answer with fewer topic terms than this ("好的。", "OK, sure.") says nothing about the topic and is
#: left out of :func:`pair_topic_similarity`.
MIN_ANSWER_TERMS = 4


#: A prefix or suffix of at least this many characters that at least :func:`template_min_count` texts of
#: the batch share is a question template ("……的影像学检查有些什么？", "医生您好，请问……") and is left out of the
#: topic terms (:func:`strip_templates`).
TEMPLATE_MIN_CHARS = 4
_EDGE = re.compile(r"^[\W_]+|[\W_]+$")


def template_min_count(n: int) -> int:
    """How many texts of a batch of ``n`` must share an edge for it to count as a template: 3, or 0.5 %."""
    return max(3, -(-n // 200))


def strip_templates(texts: list[str], min_chars: int = TEMPLATE_MIN_CHARS, min_count: int | None = None) -> list[str]:
    """``texts`` (NFKC, case folded, outer punctuation removed) without their template edges: the longest
    prefix and the longest suffix of at least ``min_chars`` characters that at least ``min_count``
    (:func:`template_min_count`) texts share. Knowledge-graph style questions ("雷特综合征的发病性别倾向是啥？"
    / "贲门失弛缓症的发病性别倾向是啥？") share nothing but such a template, and a template has more
    n-grams than the complaint it frames, so even IDF-weighted they would look alike; without it only the
    complaint is compared. Why edges only: a topic sits inside the question, its frame at the start or end."""
    norm = [_EDGE.sub("", unicodedata.normalize("NFKC", t).casefold()) for t in texts]
    need = template_min_count(len(texts)) if min_count is None else min_count
    longest = 24
    pre: dict[str, int] = {}
    suf: dict[str, int] = {}
    for t in set(norm):  # an exact duplicate is not a template
        for n in range(min_chars, min(len(t), longest) + 1):
            pre[t[:n]] = pre.get(t[:n], 0) + 1
            suf[t[-n:]] = suf.get(t[-n:], 0) + 1
    out = []
    for t in norm:
        a = max((n for n in range(min_chars, min(len(t), longest) + 1) if pre.get(t[:n], 0) >= need), default=0)
        b = max((n for n in range(min_chars, min(len(t), longest) + 1) if suf.get(t[-n:], 0) >= need), default=0)
        out.append(t[a:len(t) - b] if a + b < len(t) else "")
    return out


def _common_edges(a: str, b: str) -> tuple[int, int]:
    """Lengths of the common prefix and the common suffix of ``a`` and ``b`` (not overlapping)."""
    n = min(len(a), len(b))
    p = 0
    while p < n and a[p] == b[p]:
        p += 1
    q = 0
    while q < n - p and a[-1 - q] == b[-1 - q]:
        q += 1
    return p, q


def template_only(a: str, b: str, min_chars: int = TEMPLATE_MIN_CHARS) -> bool:
    """True when two questions share nothing but a frame: after their common prefix and suffix of at least
    ``min_chars`` characters are cut off, both rests are non-empty and share no topic term of two or more
    characters. ``"雷特综合征的发病性别倾向是啥？"`` / ``"贲门失弛缓症的发病性别倾向是啥？"`` -> True;
    ``"非小细胞癌的辅助治疗有些什么？"`` / ``"早期非小细胞癌的手术治疗有些什么？"`` -> False (both keep 非小细胞癌);
    ``"胃痛怎么办"`` / ``"我饭后胃痛怎么办"`` -> False (one is inside the other). This catches the templates
    that only two or three records of a batch share, too few for :func:`strip_templates` to notice."""
    a, b = (_EDGE.sub("", unicodedata.normalize("NFKC", t).casefold()) for t in (a, b))
    p, q = _common_edges(a, b)
    p, q = (p if p >= min_chars else 0), (q if q >= min_chars else 0)
    if not p and not q:
        return False
    ra, rb = a[p:len(a) - q], b[p:len(b) - q]
    if not _EDGE.sub("", ra) or not _EDGE.sub("", rb):
        return False
    ta = {t for t in topic_terms(ra) if len(t) >= 2}
    return not (ta & {t for t in topic_terms(rb) if len(t) >= 2})


#: Generic medical and everyday modifiers: words that many unrelated questions share ("原发性UPJO" /
#: "原发性醛固酮增多症", "老年心血管病" / "老年手术", "射精障碍" / "学习障碍"); their character pairs never count
#: as the specific term a chained pair must share (:func:`specific_terms`).
GENERIC_ZH_WORDS = ("原发性 继发性 多发性 特发性 先天性 遗传性 家族性 获得性 急性 慢性 亚急性 复发性 良性 恶性 早期 中期 晚期 "
                    "轻度 中度 重度 单侧 双侧 左侧 右侧 全身 局部 老年 老年人 中老年 青少年 儿童 小儿 幼儿 婴儿 新生儿 宝宝 "
                    "孩子 小孩 男性 女性 男人 女人 妇女 孕妇 怀孕 产后 患者 病人 医生 医院 综合征 综合症 障碍 功能 疾病 病变 "
                    "肿瘤 感染 损伤 损害 症状 表现 治疗 手术 检查 诊断 药物 用药 吃药 维生素 细胞 组织 器官 病因 原因 并发症 "
                    "预防 护理 饮食 注意 事项 发病 部位 年龄 人群 周期 科室 辅助 推荐 服用 方法 效果 情况 问题 时候 最近 "
                    "医学 身体 正常 严重 不好 厉害 左右 完全性 不完全性 术后 术前").split()
GENERIC_ZH = frozenset(GENERIC_ZH_WORDS)
_GENERIC_ZH_RE = re.compile("|".join(sorted(GENERIC_ZH_WORDS, key=len, reverse=True)))
#: English words too common in instructions and questions to name a topic by themselves.
GENERIC_EN = frozenset("write describe explain create generate give make list name provide find tell show use using "
                       "following sentence text paragraph words word example examples question answer different "
                       "between each other new best good way ways help need want know like one two three first "
                       "order item items thing things time people information account".split())


#: Chinese function characters (particles, pronouns, copula, measure word): a character pair holding one
#: ("也不", "我的", "是什") is grammar, never a topic term of :func:`specific_terms`.
ZH_FUNCTION_CHARS = frozenset("的了也是我你他她它们就都还很吗呢吧啊么什这那个着过把被让给而或但所其之又在和与及啥哪谁")


def specific_terms(text: str) -> set[str]:
    """The terms of ``text`` that can name a topic on their own: :func:`topic_terms` of two or more
    characters (Han character pairs, words of 3+ letters) once the generic modifiers (:data:`GENERIC_ZH`
    words, cut out of the text first so that no pair straddles one), :data:`GENERIC_EN` words and pairs
    holding a function character (:data:`ZH_FUNCTION_CHARS`) are gone.
    ``"原发性醛固酮增多症"`` -> ``{"醛固", "固酮", "酮增", "增多", "多症"}``; ``"性功能障碍"`` -> ``set()``."""
    t = _GENERIC_ZH_RE.sub(" ", unicodedata.normalize("NFKC", text).casefold())
    return {x for x in topic_terms(t) if len(x) >= 2 and x not in GENERIC_EN and not (set(x) & ZH_FUNCTION_CHARS)}


#: A shared term is specific when at most this share of the batch's user turns hold it (and at most
#: :data:`SPECIFIC_MIN_DF` in any case): a term half the batch uses is a frame, not a topic.
SPECIFIC_MAX_DF_SHARE = 0.1
SPECIFIC_MIN_DF = 5


#: Exact common runs of at least this many tokens make up a shared frame in :func:`differing_slots`.
SLOT_MIN_RUN = 4


def differing_slots(a: str, b: str, min_run: int = SLOT_MIN_RUN) -> tuple[str, str] | None:
    """The slots of a two-slot frame: when ``a`` and ``b`` (NFKC, case folded, as tokens: words of letters,
    single Han characters and punctuation) share common runs of at least ``min_run`` tokens
    (``difflib.SequenceMatcher`` matching blocks) covering at least a third of the shorter text and
    ``2 * min_run`` tokens, the tokens of each outside those runs, else ``None``. ``"阿莫西林忘记吃了怎么办？我在吃阿莫西林"``
    / ``"阿托伐他汀忘记吃了怎么办？我在吃阿托伐他汀"`` -> ``("阿莫西林 阿莫西林", "阿托伐他汀 阿托伐他汀")`` (slots joined
    by spaces)."""
    import difflib

    a, b = (_TOKEN.findall(unicodedata.normalize("NFKC", t).casefold()) for t in (a, b))
    if not a or not b:
        return None
    sm = difflib.SequenceMatcher(None, a, b, autojunk=False)
    blocks = [m for m in sm.get_matching_blocks() if m.size >= min_run]
    if sum(m.size for m in blocks) < max(2 * min_run, min(len(a), len(b)) / 3):
        return None
    ra, rb, pa, pb = [], [], 0, 0
    for m in blocks + [difflib.Match(len(a), len(b), 0)]:
        ra.append(_join(a[pa:m.a]))
        rb.append(_join(b[pb:m.b]))
        pa, pb = m.a + m.size, m.b + m.size
    return " ".join(x for x in ra if x), " ".join(x for x in rb if x)


#: Tokens of :func:`differing_slots`: a word of letters or digits, or any other single non-space character
#: (each Han character), so that a slot never ends inside an English word.
_TOKEN = re.compile(r"[^\W_\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|\S")


def _join(tokens: list[str]) -> str:
    return "".join(f" {t} " if len(t) > 1 or t.isascii() else t for t in tokens).strip()


def slot_pair(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` are one frame with different topics in its slots: :func:`differing_slots`
    finds a shared frame, both texts have a slot with a topic term, and the slots share no specific term
    (:func:`specific_terms`). Generalises :func:`template_only` to frames with slots in the middle or
    repeated ("X忘记吃了怎么办？我在吃X"), and to long copied case descriptions with different questions
    in front. ``"胃痛怎么办"`` / ``"我饭后胃痛怎么办"`` -> False (one slot is empty: one question holds the
    other)."""
    slots = differing_slots(a, b)
    if slots is None:
        return False
    sa, sb = (specific_terms(x) for x in slots)
    if not sa or not sb:
        return False
    return not (sa & sb)


class TopicIndex:
    """Topic similarity of ``N`` single-turn exchanges (``users[i]``, ``answers[i]``), one row at a time:
    :meth:`rows` ``(ks)`` are rows ``ks`` of :func:`pair_topic_similarity`. Holds only the sparse TF-IDF
    matrices, so memory grows with ``N`` times the rows asked for, not ``N**2`` (a ``--batch-size`` of 50,000 would otherwise need
    tens of GB). Raises ``ValueError`` when the lists differ in length."""

    def __init__(self, users: list[str], answers: list[str]):
        if len(users) != len(answers):
            raise ValueError(f"{len(users)} user turns but {len(answers)} answers")
        self.n = len(users)
        self.users = list(users)
        self.stripped = strip_templates(users)
        self._u, self._a = _tfidf(self.stripped), _tfidf(strip_templates(answers))
        self._specific = [specific_terms(u) for u in self.stripped]
        self._df: dict[str, int] = {}
        for terms in self._specific:
            for t in terms:
                self._df[t] = self._df.get(t, 0) + 1
        self.max_df = max(SPECIFIC_MIN_DF, int(np.ceil(SPECIFIC_MAX_DF_SHARE * self.n)))
        self._informative = np.array([len(topic_terms(a)) >= MIN_ANSWER_TERMS for a in answers], dtype=bool)

    def rows(self, ks) -> np.ndarray:
        """``(len(ks), N)``: rows ``ks`` of :func:`pair_topic_similarity` (1 on the diagonal when the user
        turn has a topic term). Ask for a few hundred rows at a time: one sparse product per call."""
        ks = np.asarray(ks, dtype=int)
        sq, sa = self._cos(self._u, ks, self.n), self._cos(self._a, ks, self.n)
        both = self._informative[ks][:, None] & self._informative[None, :]
        score = np.where(both, (sq + sa) / 2, sq)
        return np.where(sq > 1e-9, score, 0.0)

    def shared_specific(self, k: int, o: int) -> list[str]:
        """The specific terms (:func:`specific_terms`) that user turns ``k`` and ``o`` (template edges cut
        off) share and that at most :attr:`max_df` user turns of the batch hold, rarest first; a single
        shared term only counts when it is at least a quarter of the shorter question's specific terms.
        Empty means the two questions overlap only in generic or frequent terms ("原发性", "老年", "怎么办")
        or in one incidental pair: not one topic, however many such terms add up in the cosine."""
        both = self._specific[k] & self._specific[o]
        shared = sorted((t for t in both if self._df[t] <= self.max_df), key=lambda t: (self._df[t], t))
        if shared:
            shared = self._drop_frame_terms(k, o, shared)
        if len(shared) == 1 and 4 * len(shared) < min(len(self._specific[k]), len(self._specific[o])):
            return []  # one pair in common among many ("左结肠动脉直肠癌" / "左心室及肺动脉发育不良": 动脉)
        return shared

    def _drop_frame_terms(self, k: int, o: int, shared: list[str]) -> list[str]:
        """``shared`` without the terms that both questions hold only inside a frame they share
        (:func:`differing_slots` of the whole user turns; :attr:`stripped` has lost the frame's edges) and
        that at least :func:`template_min_count` user turns of the batch hold, when both slots hold terms
        of their own and share none: such a term is part of a mid-question template
        ("体检发现X，45岁，男，单位体检报告显示X…，其他项目基本正常" -> 单位, 体检, 报告), not the topic, which
        sits in the slots. A term rarer than a template stays even inside the frame
        ("阿托伐他汀能和红曲一起用吗？医生给我开了阿托伐他汀" / "阿托伐他汀忘记吃了怎么办？我在吃阿托伐他汀": the drug is
        the topic), and so does a frame around one question's empty slot ("饭后胃痛" / "饭后胃痛还反酸")."""
        slots = differing_slots(self.users[k], self.users[o])
        if slots is None:
            return shared
        ca, cb = ({t for t in topic_terms(x) if len(t) >= 2 and not set(t) & ZH_FUNCTION_CHARS} for x in slots)
        if not ca or not cb or ca & cb:
            return shared  # one question adds nothing of its own ("饭后胃痛" / "饭后胃痛还反酸"): the frame is the topic
        need = template_min_count(self.n)
        return [t for t in shared if self._df[t] < need or t in slots[0] or t in slots[1]]

    @staticmethod
    def _cos(x, ks: np.ndarray, n: int) -> np.ndarray:
        if x is None:
            return np.zeros((len(ks), n))
        return (x[ks] @ x.T).toarray()


def pair_topic_similarity(users: list[str], answers: list[str]) -> np.ndarray:
    """``(N, N)`` topic similarity of ``N`` single-turn exchanges (``users[i]``, ``answers[i]``): the mean of
    the user-turn and assistant-turn TF-IDF cosines (:func:`tfidf_cosines`, IDF over these ``N``); the
    user-turn cosine alone where either answer has fewer than :data:`MIN_ANSWER_TERMS` topic terms; 0
    where the user turns share no weighted term. Raises ``ValueError`` when the lists differ in length.
    Dense: for large ``N`` use :class:`TopicIndex` row by row."""
    idx = TopicIndex(users, answers)
    return idx.rows(range(idx.n))


def min_topic_for(lang: str | None, overrides: dict[str, float] | None = None) -> float:
    """The least topic similarity for ``lang``: ``overrides`` (``--context-min-topic``) over
    :data:`DEFAULT_MIN_TOPIC`, ``*`` for a language named in neither."""
    table = {**DEFAULT_MIN_TOPIC, **(overrides or {})}
    return float(table.get(lang or "*", table["*"]))
