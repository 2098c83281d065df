"""Chinese ``PERSON`` and ``ADDRESS`` recognition from context cues, for the offline default (no NER model).

Names: a cue before the name (我叫X, 患者X, 联系人X, 收件人X, 户名X, ...) or an honorific after it (X先生,
X女士, X医生, ...). A name is a surname from Faker's ``zh_CN`` person provider (399, with weights) or a
compound surname -- after weak cues (患者, 我是) and before honorifics only the 200 most frequent (~96% of
the population; rarer ones such as 应/和/时 are mostly ordinary words there) -- followed by one or two
given-name characters; extraction stops at punctuation and at characters that begin common non-name words
(的, 了, 今, 昨, 男, 女, ...). After the weak cue 我是 the name must end at a boundary; before an honorific a
full name must start at a boundary ("相配合医生" is no name), a bare surname need not ("找张医生").

Addresses: a cue (住在, 住址, 地址, 寄到, 送到, 家住, ...) followed by text that ends in an address marker
(省 市 区 县 镇 乡 村 路 街 巷 弄 号 楼 室 栋 座 单元) and holds a digit, two markers or five characters
("送到正规医院" is no address), or a cue-free structured address that starts with a
province-level name (北京, 广东省, 内蒙古自治区, ...) or a two-character city + 市 and continues down to a
district/street/number. A trailing six-digit postcode is included.
"""

from __future__ import annotations

import regex as re

from ._presidio import import_presidio

import_presidio()
from presidio_analyzer import LocalRecognizer, RecognizerResult

from .context_en import NOT_NAME_WORDS

_CJK = r"\u4e00-\u9fff"


def _surnames() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    from faker.providers.person.zh_CN import Provider

    weights = Provider.last_names
    singles = sorted((s for s in weights if len(s) == 1), key=lambda s: -weights[s])
    compounds = {s for s in weights if len(s) == 2}
    compounds |= {"欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "夏侯", "令狐",
                  "司徒", "宇文", "端木", "澹台", "南宫", "西门"}
    # the 200 most frequent single surnames: about 96% of the population by Faker's weights
    return frozenset(singles), frozenset(singles[:200]), frozenset(compounds)


#: All single-character surnames (after strong cues: 我叫, 联系人, 收件人, ...), the 200 most frequent
#: (after weak cues and before honorifics, where rarer ones -- 应, 由, 时, 相 -- are mostly ordinary words),
#: and compound surnames.
ALL_SURNAMES, SURNAMES, COMPOUND_SURNAMES = _surnames()

#: Characters of medical vocabulary that given names (practically) never use.
MEDICAL_CHARS = frozenset("血压气痛病症炎肿腹胃肝肾肺糖尿药疗医院检查治疼癌瘤热烧咳嗽吐泻便脏骨头眼耳鼻牙舌皮肤疹阴性"
                          "贫虚禁止重度部侧上下左右边嗳灸患")
STOP_CHARS = frozenset(
    "的了在是说今昨明后前和与跟也都就要想去来现已因但我你他她它您请从到把被给让对为年月日岁男女"
    "先生士姐师医院科室号码电话手机身份证卡住地址这那有没不很还再又吗呢吧啊呀哦嗯，。、；：！？…"
    "（）《》“”‘’【】 \t\n,.;:!?()[]\"'0123456789") - frozenset("明") | MEDICAL_CHARS
#: Two-character words that follow a cue but are not names (患者家属, 患者本人, 联系人电话, ...).
NOT_NAMES = frozenset({"家属", "本人", "自己", "朋友", "年龄", "目前", "今天", "最近", "一般", "情况", "病史",
                       "主诉", "平时", "同事", "孩子", "父亲", "母亲", "妈妈", "爸爸", "老人", "姓名", "信息",
                       "电话", "方式", "地址", "手机", "女性", "男性", "这边", "那边", "服务",
                       # common words that start with a surname character (medical text after 患者/病人)
                       "高血", "高烧", "高热", "高龄", "包括", "康复", "黄疸", "白细", "白天", "方面", "方法",
                       "程度", "石膏", "马上", "金属", "许多", "何时", "任何", "曾经", "健康", "您好", "严格", "严令", "严禁",
                       "严重", "严密", "严肃", "安全", "安静", "金钱", "毛病", "温度", "孙子", "方便"})

def _place_names() -> frozenset[str]:
    """Province and city names without their suffix (江苏, 苏州, 温州, ...): after the weak cue 我是 they
    say where someone is from (我是江苏人, 我是苏州的), not who they are."""
    from faker.providers.address.zh_CN import Provider

    names = set(_PROVINCES.split("|"))
    for p in (*Provider.provinces, *Provider.cities, *getattr(Provider, "districts", ())):
        names.add(p)
        for suf in ("壮族自治区", "回族自治区", "维吾尔自治区", "自治区", "特别行政区", "省", "市", "县", "区"):
            if p.endswith(suf) and len(p) - len(suf) >= 2:
                names.add(p[: -len(suf)])
    names |= {"苏州", "温州", "杭州", "广州", "福州", "郑州", "兰州", "徐州", "常州", "扬州", "台州", "湖州", "泉州",
              "吴江", "昆山", "江阴", "义乌", "东莞", "佛山", "中山", "珠海", "汕头", "厦门", "宁波", "无锡", "南通",
              "江南", "江北", "华东", "华南", "华北", "东北", "西北", "西南", "山东", "山西", "广东", "广西"}
    return frozenset(n for n in names if len(n) >= 2)


#: Words that follow the weak cue 我是 but say what someone is, not who (我是高中生, 我是白领, 我是金牛座).
NOT_NAMES_AFTER_WEAK_CUE = frozenset({
    "高中", "初中", "小学", "大学", "中学", "研究", "白领", "蓝领", "包工", "程序", "陈述", "路人", "余额", "单身",
    "周一", "周二", "周三", "周四", "周五", "周六", "周日", "周末", "金牛", "双子", "巨蟹", "狮子", "处女", "天秤",
    "天蝎", "射手", "摩羯", "水瓶", "双鱼", "白羊", "黄种", "汉族", "林业", "农民", "工人", "司机", "宝妈", "新手",
    "孕妇", "晚期", "早期", "上班", "毛毛", "朱砂", "江湖", "高三", "高二", "高一", "初三", "初二", "初一", "史上",
    "华为", "万达", "万科", "苏宁", "高级", "方便", "项目", "应届", "全职", "兼职", "独生", "外地", "本地", "成年",
})
#: Last characters of a word after 我是 that name a role, origin or group, not a given name (我是江苏人,
#: 我是程序员, 我是上班族, 我是林业局的).
_ROLE_ENDINGS = frozenset("人员族局座虫痣工领者家党迷粉控友")


#: Surnames that are far more often function words or word starts (向, 和, 常, 时, 谢 in 感谢, ...): as a bare
#: surname before an honorific, or a name after a cue not followed by punctuation, they are not names.
AMBIGUOUS_SURNAMES = frozenset("向谢和于从与对给把被让叫常时尤白应全都由相经能可多平成万很还也就才又将祝易曾")

#: Cues after which a name almost always follows.
_PREFIX_CUES = r"我叫|名叫|叫做|姓名|名字是|名字叫|联系人|收件人|收货人|户名|开户名|持卡人|经办人|签名|署名"
#: Cues usually followed by a predicate in medical text ("患者严重贫血"): the name must end at punctuation,
#: a space, the end of the text or before a function/medical character.
_WEAK_CUES = r"我是|患者|病人|本人|家属"
_HONORIFICS = r"先生|女士|小姐|老师|医生|大夫|主任|教授|经理|阿姨|叔叔|同学|护士"

#: Characters that typically stand right before "<surname><honorific>" (找张医生, 是李老师, 的王阿姨).
_BEFORE_BARE_SURNAME = frozenset("找问请叫是和跟给让位名的被向对见谢喊称告知系")

_RX_PREFIX = re.compile(rf"(?:{_PREFIX_CUES})[：:\s]*")
_RX_WEAK = re.compile(rf"(?:{_WEAK_CUES})")
_RX_HONOR = re.compile(rf"(?:{_HONORIFICS})")
_BOUNDARY = frozenset("，。、；：！？…,.;:!?）) \t\n") | {""}


def _is_cjk(c: str) -> bool:
    return "\u4e00" <= c <= "\u9fff"


def _name_at(text: str, i: int, surnames: frozenset[str] = SURNAMES) -> list[int]:
    """Possible name ends for a name starting at ``text[i]`` (longest first); empty when no surname."""
    if text[i:i + 2] in COMPOUND_SURNAMES:
        j = i + 2
    elif i < len(text) and text[i] in surnames:
        j = i + 1
    else:
        return []
    ends = []
    k = j
    while k < len(text) and k - j < 2 and "\u4e00" <= text[k] <= "\u9fff" and text[k] not in STOP_CHARS:
        k += 1
        ends.append(k)
    return sorted(ends, reverse=True)


def _unlisted_name_at(text: str, i: int) -> int | None:
    """End of a 2-3 character name at ``text[i]`` whose surname is not in Faker's list (厍婷婷, 禚红): CJK
    characters that begin no common word (not in :data:`STOP_CHARS`), then a boundary (punctuation, space,
    end); ``None`` otherwise. Only used after the strongest cues (我叫, 联系人, 收件人, ...) and after
    患者/病人 when sex or age follows (患者厍旭，女，31岁)."""
    k = i
    while k < len(text) and k - i < 3 and _is_cjk(text[k]) and text[k] not in STOP_CHARS:
        k += 1
    if (k - i < 2 or text[k:k + 1] not in _BOUNDARY or text[i:i + 2] in NOT_NAMES
            or text[i] in _NOT_NAME_STARTS):
        return None
    return k


#: A capitalised Latin name of one to three words (José García, Mary-Jane Watson), ending before a non-letter.
_RX_LATIN_NAME = re.compile(r"\p{Lu}\p{Ll}+(?:[ \-]\p{Lu}\p{Ll}+){0,2}(?!\p{L})")


#: Question and indefinite words that follow 名叫/我叫 but start no name (学名叫什么, 名叫啥).
_NOT_NAME_STARTS = frozenset("什啥哪谁多怎几某这那其各每")


#: After 患者/病人, a name with an unlisted surname counts when sex or age follows (the header of a case).
_RX_DEMOGRAPHIC = re.compile(r"[，,、\s]?(?:男|女|\d{1,3}岁)")


def find_zh_names(text: str) -> list[tuple[int, int, float]]:
    """``(start, end, score)`` of Chinese names found by cues in ``text`` (end exclusive)."""
    out: list[tuple[int, int, float]] = []
    for m in _RX_PREFIX.finditer(text):
        i = m.end()
        if i < len(text) and "A" <= text[i] <= "Z":
            # a Latin-script name after a strong cue (收件人：Mary Johnson, 我叫Alice): the cue is Chinese, so
            # the English cue rules never see it
            lm = _RX_LATIN_NAME.match(text, i)
            if lm and not m.group(0).startswith("叫做") and not any(
                    w in NOT_NAME_WORDS for w in lm.group(0).replace("-", " ").lower().split()):
                out.append((i, lm.end(), 0.7))
            continue
        ends = _name_at(text, i, ALL_SURNAMES)
        if not ends and not m.group(0).startswith("叫做") and i < len(text) and text[i] not in ALL_SURNAMES:
            # a surname outside the list: only a short name closed by punctuation ("叫做" introduces terms)
            end = _unlisted_name_at(text, i)
            if end is not None:
                out.append((i, end, 0.7))
            continue
        if not ends or text[i:i + 2] in NOT_NAMES:
            continue
        if text[i] in AMBIGUOUS_SURNAMES and text[ends[0]:ends[0] + 1] not in _BOUNDARY:
            continue  # "患者常伴有..." is a predicate, "患者常明，男" a name
        out.append((i, ends[0], 0.85))
    for m in _RX_WEAK.finditer(text):
        i = m.end() + (text[m.end():m.end() + 1] in "：: ")
        if text[i:i + 2] in NOT_NAMES:
            continue
        if m.group(0) == "我是" and (text[i:i + 2] in NOT_NAMES_AFTER_WEAK_CUE
                                    or any(text.startswith(p, i) for p in _PLACE_PREFIXES.get(text[i:i + 2], ()))):
            continue  # 我是高中生, 我是江苏人, 我是苏州的: what or where, not who
        for e in _name_at(text, i):
            nxt = text[e:e + 1]
            # the name must end at punctuation/space/end, or (unless its surname is ambiguous) before a
            # function or medical character ("患者张伟上周..."), not inside a word ("患者时常表现")
            if m.group(0) == "我是" and text[e - 1] in _ROLE_ENDINGS:
                continue  # 我是程序员, 我是上班族
            if nxt in _BOUNDARY or (nxt in STOP_CHARS and text[i] not in AMBIGUOUS_SURNAMES):
                out.append((i, e, 0.7))
                break
        else:
            if (m.group(0) in ("患者", "病人") and i < len(text) and text[i] not in ALL_SURNAMES
                    and text[i:i + 2] not in COMPOUND_SURNAMES):
                end = _unlisted_name_at(text, i)
                if end is not None and _RX_DEMOGRAPHIC.match(text, end):
                    out.append((i, end, 0.7))
    for m in _RX_HONOR.finditer(text):
        end = m.start()
        best = None
        for start in range(max(0, end - 4), end):
            if text[start:start + 2] in COMPOUND_SURNAMES:
                n_sur = 2
            elif text[start] in SURNAMES:
                n_sur = 1
            else:
                continue
            given = text[start + n_sur:end]
            # a full name (surname + given name) must start at a boundary (not glued to more CJK text,
            # "相配合医生"); a bare surname right before the honorific ("张医生") needs no boundary
            at_boundary = start == 0 or not _is_cjk(text[start - 1])
            if given and (not at_boundary or given in NOT_NAMES or text[start] in AMBIGUOUS_SURNAMES):
                continue
            if not given and (text[start] in AMBIGUOUS_SURNAMES
                              or not (at_boundary or text[start - 1] in _BEFORE_BARE_SURNAME)):
                continue  # "向医生询问", "祝你健康医生", "上周医生"; but "找张医生", "很好的樊阿姨"
            if len(given) <= 2 and all(_is_cjk(c) and c not in STOP_CHARS for c in given):
                best = start
                break
        if best is not None:
            out.append((best, end, 0.8))
    return out


_PROVINCES = ("北京|天津|上海|重庆|河北|山西|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南|湖北|湖南|广东|海南|"
              "四川|贵州|云南|陕西|甘肃|青海|台湾|内蒙古|广西|西藏|宁夏|新疆|香港|澳门")
_PROV_SUFFIX = r"(?:省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)?"
_MARK = r"省市区县镇乡村路街巷弄号楼室栋座"
_ADDR_TAIL = (rf"(?:[{_CJK}]{{1,8}}?(?:市|县|区|州|旗|盟))?(?:[{_CJK}0-9]{{0,12}}?(?:大道|胡同|路|街|巷|弄|道|镇|乡|村))?"
              rf"(?:[0-9A-Za-z\-]{{1,6}}(?:号院|号楼|号|座|室|栋|幢|楼|单元))*(?:\s?\d{{6}})?")
_RX_ADDR_STRUCT = re.compile(
    rf"(?:(?:{_PROVINCES}){_PROV_SUFFIX}|[{_CJK}]{{2}}市)[{_CJK}]{{1,8}}?(?:市|县|区|州|旗|盟)" + _ADDR_TAIL
)
#: Every match of :data:`_RX_ADDR_STRUCT` holds a province name or ``市``: one literal scan rules most texts out
#: before the costly scan (its ``[CJK]{2}市`` branch is tried at every CJK character).
_RX_ADDR_STRUCT_GATE = re.compile(rf"市|{_PROVINCES}")
_ADDR_CUES = r"住在|住址|地址|寄到|送到|家住|居住在|现住|住于|寄往|送往|发到"
_RX_ADDR_CUE = re.compile(rf"(?:{_ADDR_CUES})[是为：:\s]*")
_RX_ADDR_BODY = re.compile(rf"[{_CJK}0-9A-Za-z\-#·]+(?:\s\d{{6}}(?!\d))?")
_RX_ADDR_CUT = re.compile(r"的|附近|旁边|对面|一带|那边|这边|里面|已经|现在|目前|吗|呢|吧")
_RX_ADDR_END = re.compile(rf"^.*[{_MARK}](?:[0-9A-Za-z\-]{{0,6}}(?:号|座|室|栋|楼|单元))?(?:\s\d{{6}})?", re.S)


def _struct_matches(text: str) -> list:
    """The matches of ``_RX_ADDR_STRUCT.finditer(text)``, found by trying the pattern only where one can start:
    at a province name or two characters before a ``市`` (its two branches), the positions of all (overlapping)
    matches of :data:`_RX_ADDR_STRUCT_GATE`. Like ``finditer``, each match is the one at the leftmost such
    position from the end of the previous match on (the pattern's scan tries every CJK character for its
    ``[CJK]{2}市`` branch, the gate's literals are found by a fast scan)."""
    starts = {m.start() - (2 if m.group() == "市" else 0)
              for m in _RX_ADDR_STRUCT_GATE.finditer(text, overlapped=True)}
    out = []
    end = 0
    for i in sorted(starts):
        if i >= end:
            m = _RX_ADDR_STRUCT.match(text, i)
            if m is not None:
                out.append(m)
                end = m.end()
    return out


def find_zh_addresses(text: str) -> list[tuple[int, int, float]]:
    """``(start, end, score)`` of Chinese addresses (cue-led or structured) in ``text``."""
    out: list[tuple[int, int, float]] = []
    for m in _struct_matches(text):
        span = m.group(0)
        n_marks = sum(c in _MARK for c in span)
        if n_marks >= 2 and len(span) >= 6:
            out.append((m.start(), m.end(), 0.75))
    for m in _RX_ADDR_CUE.finditer(text):
        b = _RX_ADDR_BODY.match(text, m.end())
        if not b:
            continue
        body = b.group(0)
        cut = _RX_ADDR_CUT.search(body)
        if cut:
            body = body[:cut.start()]
        e = _RX_ADDR_END.match(body)
        if not e or body.startswith(("了", "过", "着")):
            continue
        addr = e.group(0)
        if len(addr) >= 3 and (any(c.isdigit() for c in addr) or sum(c in _MARK for c in addr) >= 2
                               or len(addr) >= 5):
            out.append((b.start(), b.start() + len(addr), 0.8))
    return out


PLACE_NAMES = _place_names()
#: Place names by their first two characters (for a quick startswith test).
_PLACE_PREFIXES: dict[str, tuple[str, ...]] = {}
for _p in sorted(PLACE_NAMES, key=len, reverse=True):
    _PLACE_PREFIXES[_p[:2]] = (*_PLACE_PREFIXES.get(_p[:2], ()), _p)


class ZhPersonCueRecognizer(LocalRecognizer):
    """``PERSON`` in Chinese text from cues (see the module docstring); no NLP model needed."""

    def __init__(self, supported_language: str = "zh"):
        super().__init__(supported_entities=["PERSON"], supported_language=supported_language,
                         name="forge_ZhPersonCueRecognizer")

    def load(self) -> None:
        pass

    def analyze(self, text, entities, nlp_artifacts=None):
        return [RecognizerResult("PERSON", s, e, sc) for s, e, sc in find_zh_names(text)]


class ZhAddressCueRecognizer(LocalRecognizer):
    """``ADDRESS`` in Chinese text from cues and the province/city/district/street structure."""

    def __init__(self, supported_language: str = "zh"):
        super().__init__(supported_entities=["ADDRESS"], supported_language=supported_language,
                         name="forge_ZhAddressCueRecognizer")

    def load(self) -> None:
        pass

    def analyze(self, text, entities, nlp_artifacts=None):
        return [RecognizerResult("ADDRESS", s, e, sc) for s, e, sc in find_zh_addresses(text)]


def _char_class(chars) -> str:
    return "[" + "".join(sorted(set(chars))) + "]"


def _triggers() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Cheap regexes (for the standard ``re`` module) of which at least one matches every text in which
    :func:`find_zh_names` (first tuple) or :func:`find_zh_addresses` (second) finds anything: each is the
    necessary part of a cue rule -- the cue itself plus the surname class that must follow (or, for an
    honorific, precede it within four characters), the structured-address skeleton -- led by literals so
    that the regex engine keeps its fast first-character scan. ``PiiAnalyzer`` runs the recognizers only on
    texts where one fires (``tests/steps/test_pii_triggers.py`` checks them against the recognizers)."""
    first = {s[0] for s in COMPOUND_SURNAMES}
    weak = _char_class(set(SURNAMES) | first)
    honors = _HONORIFICS.split("|")
    assert all(len(h) == 2 for h in honors), "the honorific trigger's look-behinds assume 2-character honorifics"
    behind = "|".join(f"(?<={weak}[{_CJK}]{{{k}}}..)" for k in range(4))
    person = (rf"(?:{_PREFIX_CUES})[：:\s]*[{_CJK}A-Z]",  # any CJK: unlisted surnames too (_unlisted_name_at);
              # A-Z: a Latin-script name (收件人：Mary Johnson)
              # a listed surname after a weak cue, or (for 患者/病人) an unlisted one followed by sex or age
              rf"(?:{_WEAK_CUES})[：: ]?(?:{weak}|[{_CJK}]{{2,3}}[，,、\s](?:男|女|\d{{1,3}}岁))",
              rf"(?:{_HONORIFICS})(?:{behind})")
    address = (rf"(?:{_ADDR_CUES})",
               rf"(?:{_PROVINCES}){_PROV_SUFFIX}[{_CJK}]{{1,8}}?(?:市|县|区|州|旗|盟)",
               rf"市(?<=[{_CJK}]{{2}}市)[{_CJK}]{{1,8}}?(?:市|县|区|州|旗|盟)")
    return person, address


#: See :func:`_triggers`.
PERSON_TRIGGERS, ADDRESS_TRIGGERS = _triggers()
