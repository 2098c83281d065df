"""A labelled Chinese PII benchmark, generated at run time with Faker ``zh_CN`` and a fixed seed.

:func:`generate` returns sentences in dialogue style (patient / customer-service turns) with gold spans
``(start, end, entity)``. About a third of the sentences are **negatives** that look like PII but are not:
lab values (ALT 120 U/L), blood pressure (140/90), doses, ages, temperatures, dates, amounts, order and
tracking numbers -- 16-digit ones failing the Luhn check and 18-digit ones failing the GB 11643 check.

Names appear both after a cue (我叫X, 患者X, 联系人X, X先生) and without one ("X今天来复诊"), so the PERSON
figure is honest about what cue-based recognition misses. Note: forge's surname list and this generator both
come from Faker's ``zh_CN`` provider, which favours forge on PERSON.

:func:`generate_hard` is a harder set: values without cue words, next to CJK characters and full-width
punctuation, names without cues or with surnames outside Faker's list, and harder negatives (IDs with a
valid-looking birth date but a broken check digit, version numbers, dates, amounts).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from faker import Faker


@dataclass
class Example:
    """One sentence and its gold spans ``(start, end, entity)``."""

    text: str
    spans: list[tuple[int, int, str]] = field(default_factory=list)


def _luhn_complete(prefix: str) -> str:
    for d in "0123456789":
        s = prefix + d
        total = 0
        for i, ch in enumerate(reversed(s)):
            v = int(ch) * (2 if i % 2 else 1)
            total += v - 9 if v > 9 else v
        if total % 10 == 0:
            return s
    raise AssertionError


def _luhn_broken(rng: random.Random, n: int) -> str:
    good = _luhn_complete("".join(rng.choice("0123456789") for _ in range(n - 1)))
    return good[:-1] + str((int(good[-1]) + rng.randint(1, 9)) % 10)


class _Builder:
    def __init__(self):
        self.parts: list[str] = []
        self.spans: list[tuple[int, int, str]] = []
        self.n = 0

    def t(self, s: str) -> _Builder:
        self.parts.append(s)
        self.n += len(s)
        return self

    def e(self, value: str, entity: str) -> _Builder:
        self.spans.append((self.n, self.n + len(value), entity))
        return self.t(value)

    def build(self) -> Example:
        return Example("".join(self.parts), self.spans)


def _card_sentence(b: _Builder, card: tuple[str, str], name: str) -> _Builder:
    return b.t("退款请打到这张卡：").e(card[0], card[1]).t("，户名").e(name, "PERSON").t("。")


def _phone(f: Faker, rng: random.Random) -> str:
    num = f.phone_number()
    style = rng.randrange(5)
    if style == 1:
        return f"{num[:3]} {num[3:7]} {num[7:]}"
    if style == 2:
        return f"+86 {num[:3]} {num[3:7]} {num[7:]}"
    if style == 3:
        return f"{num[:3]}-{num[3:7]}-{num[7:]}"
    if style == 4:
        area = rng.choice(["010", "021", "020", "0571", "0755", "028"])
        return f"{area}-{rng.randint(2, 8)}{rng.randint(100, 999)}{rng.randint(1000, 9999)}"
    return num


def generate(n: int = 400, seed: int = 1234) -> list[Example]:
    """``n`` labelled sentences (about 2/3 with PII, 1/3 negatives), reproducible for a given ``seed``."""
    f = Faker("zh_CN")
    f.seed_instance(seed)
    rng = random.Random(seed)
    out: list[Example] = []

    def card() -> tuple[str, str]:
        if rng.random() < 0.5:
            num = _luhn_complete("62" + "".join(rng.choice("0123456789") for _ in range(15)))
            return (" ".join(num[i:i + 4] for i in range(0, len(num), 4)) if rng.random() < 0.5 else num), "BANK_CARD"
        return f.credit_card_number(), "CREDIT_CARD"

    positives = [
        lambda b: b.t("您好，我叫").e(f.name(), "PERSON").t("，手机号是").e(_phone(f, rng), "PHONE_NUMBER").t("，麻烦回电。"),
        lambda b: b.t("患者").e(f.name(), "PERSON").t(f"，男，{rng.randint(18, 80)}岁，身份证号").e(f.ssn(), "CN_RESIDENT_ID")
        .t("，主诉头痛三天。"),
        lambda b: b.t("请把报告发到我的邮箱").e(f.email(), "EMAIL_ADDRESS").t("，谢谢医生！"),
        lambda b: b.t("收件人：").e(f.name(), "PERSON").t("，地址：").e(f.address(), "ADDRESS").t("，电话")
        .e(_phone(f, rng), "PHONE_NUMBER").t("。"),
        lambda b: _card_sentence(b, card(), f.name()),
        lambda b: b.t("我的车牌是").e(f.license_plate(), "CN_LICENSE_PLATE").t("，停在B2层。"),
        lambda b: b.t("护照号码").e("E" + f.numerify("########"), "CN_PASSPORT").t("，下周出国需要开证明。"),
        lambda b: b.t("登录异常，IP是").e(f.ipv4(), "IP_ADDRESS").t("，请帮我查一下。"),
        lambda b: b.t("对公账户IBAN：").e(f.iban(), "IBAN_CODE").t("，请核对。"),
        lambda b: b.t("联系人").e(f.name(), "PERSON").t("，座机").e(_phone(f, rng), "PHONE_NUMBER").t("。"),
        lambda b: b.e(f.last_name(), "PERSON").t("先生您好，您的快递已寄到").e(f.address(), "ADDRESS").t("。"),
        lambda b: b.e(f.name(), "PERSON").t("今天来复诊了，血压控制得不错。"),  # no cue: hard for cue-based recognition
        lambda b: b.t("我住在").e(f.address(), "ADDRESS").t("，离医院很近。"),
        lambda b: b.t("加我微信或打").e(_phone(f, rng), "PHONE_NUMBER").t("都行，邮件也可以：").e(f.email(), "EMAIL_ADDRESS")
        .t("。"),
    ]
    negatives = [
        lambda b: b.t(f"化验结果ALT {rng.randint(20, 300)} U/L，AST {rng.randint(20, 200)} U/L，需要复查吗？"),
        lambda b: b.t(f"血压{rng.randint(110, 180)}/{rng.randint(60, 110)}mmHg，心率{rng.randint(55, 120)}次/分。"),
        lambda b: b.t(f"阿莫西林{rng.choice([250, 500])}mg，每日{rng.randint(2, 4)}次，连服{rng.randint(3, 14)}天。"),
        lambda b: b.t(f"订单号{_luhn_broken(rng, 16)}还没发货，怎么回事？"),
        lambda b: b.t(f"快递单号{rng.randint(10**11, 10**12 - 1)}，显示已签收。"),
        lambda b: b.t(f"流水号{_luhn_broken(rng, 18)}请保存。"),
        lambda b: b.t(f"孩子{rng.randint(1, 12)}岁，体温{rng.randint(37, 40)}.{rng.randint(0, 9)}℃，身高{rng.randint(80, 160)}cm。"),
        lambda b: b.t(f"{rng.randint(2019, 2024)}年{rng.randint(1, 12)}月{rng.randint(1, 28)}日做的检查，花了{rng.randint(100, 9999)}.{rng.randint(10, 99)}元。"),
        lambda b: b.t(f"今天空腹血糖{rng.randint(4, 12)}.{rng.randint(0, 9)} mmol/L，糖化血红蛋白{rng.randint(5, 9)}.{rng.randint(0, 9)}%。"),
        lambda b: b.t(f"会员号{rng.randint(10**7, 10**8 - 1)}，积分{rng.randint(100, 99999)}分。"),
    ]
    for i in range(n):
        b = _Builder()
        if i % 3 == 2:
            rng.choice(negatives)(b)
        else:
            rng.choice(positives)(b)
        out.append(b.build())
    return out


#: Real Chinese surnames that Faker's ``zh_CN`` list (and so forge's cue recognizer) does not hold.
RARE_SURNAMES = "笪禚隗厍仉訾郗暴谯濮钭蓟郏"


def _id_broken(f: Faker, rng: random.Random) -> str:
    """An 18-digit number shaped like a resident ID (real region, valid birth date) whose GB 11643 check
    digit is wrong (and that fails Luhn too): an order or serial number that must not be flagged."""
    good = f.ssn()
    wrong = [c for c in "0123456789" if c != good[-1] and _luhn_complete(good[:17]) != good[:17] + c]
    return good[:17] + rng.choice(wrong)  # also fails Luhn: not a valid 18-digit card number either


def _fullwidth(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "0" <= c <= "9" else c for c in s)


def generate_hard(n: int = 300, seed: int = 4321) -> list[Example]:
    """``n`` harder labelled sentences, reproducible for a given ``seed``: structured values **without cue
    words** (a bare mobile number, ID or card mid-sentence, glued to CJK characters and full-width
    punctuation, full-width digits), names without cues and with surnames outside Faker's list
    (:data:`RARE_SURNAMES`), cue-free addresses, and harder negatives: lab values, doses, blood pressure,
    18-digit numbers with a valid-looking region and birth date but a broken GB 11643 check digit, 16-digit
    numbers failing Luhn, dates, version numbers, amounts in 元. About half are negatives."""
    f = Faker("zh_CN")
    f.seed_instance(seed)
    rng = random.Random(seed)

    def mobile() -> str:
        return f.phone_number()

    def rare_name() -> str:
        return rng.choice(RARE_SURNAMES) + f.first_name()

    def bank() -> str:
        return _luhn_complete("62" + "".join(rng.choice("0123456789") for _ in range(15)))

    positives = [
        lambda b: b.e(mobile(), "PHONE_NUMBER").t("打不通，换个号试试？"),
        lambda b: b.t("有事找我（").e(mobile(), "PHONE_NUMBER").t("），下午都在。"),
        lambda b: b.t("明天下午三点前回").e(mobile(), "PHONE_NUMBER").t("就行。"),
        lambda b: b.t("我的是").e(_fullwidth(mobile()), "PHONE_NUMBER").t("，别打错了。"),
        lambda b: b.t("有问题就打").e(f"+86{mobile()}", "PHONE_NUMBER").t("吧"),
        lambda b: b.e(f.ssn(), "CN_RESIDENT_ID").t("这个号之前办过卡吗？"),
        lambda b: b.t("帮我查下").e(f.ssn(), "CN_RESIDENT_ID").t("，是我妈的。"),
        lambda b: b.e(bank(), "BANK_CARD").t("转账一直失败，怎么办？"),
        lambda b: b.t("钱打到").e(bank(), "BANK_CARD").t("，谢谢！"),
        lambda b: b.e(f.email(), "EMAIL_ADDRESS").t("收不到验证码。"),
        lambda b: b.e(f.name(), "PERSON").t("说他明天上午过来拿药。"),
        lambda b: b.t("刚才").e(f.name(), "PERSON").t("打电话问结果出来没有。"),
        lambda b: b.t("请转告").e(f.name(), "PERSON").t("，报告已经出来了。"),
        lambda b: b.t("我叫").e(rare_name(), "PERSON").t("，想挂个专家号。"),
        lambda b: b.t("患者").e(rare_name(), "PERSON").t("，女，").t(f"{rng.randint(20, 70)}岁，咳嗽两周。"),
        lambda b: b.e(rare_name(), "PERSON").t("今天来复查了。"),
        lambda b: b.e(f.address(), "ADDRESS").t("那边今天停水了吗？"),
    ]
    negatives = [
        lambda b: b.t(f"白细胞{rng.randint(3, 15)}.{rng.randint(0, 9)}×10^9/L，中性粒细胞{rng.randint(40, 90)}%。"),
        lambda b: b.t(f"ALT {rng.randint(20, 400)} U/L，肌酐{rng.randint(40, 200)}μmol/L，尿酸{rng.randint(200, 600)}。"),
        lambda b: b.t(f"每次{rng.choice(['0.25', '0.5', '1'])}g，每日{rng.randint(2, 3)}次，饭后服用，疗程{rng.randint(7, 28)}天。"),
        lambda b: b.t(f"血压{rng.randint(130, 180)}/{rng.randint(80, 110)}，吃了药降到{rng.randint(115, 135)}/{rng.randint(70, 85)}。"),
        lambda b: b.t(f"单据{_id_broken(f, rng)}已打印。"),
        lambda b: b.t(f"{_id_broken(f, rng)}这个编号查不到。"),
        lambda b: b.t(f"{_luhn_broken(rng, 16)}是系统生成的流水。"),
        lambda b: b.t(f"编码{_luhn_broken(rng, 19)}，已入库。"),
        lambda b: b.t(f"{rng.randint(2019, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}复诊，"
                      f"{rng.randint(2019, 2025)}/{rng.randint(1, 12)}/{rng.randint(1, 28)}拍的片子。"),
        lambda b: b.t(f"App升级到v{rng.randint(1, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 99)}后闪退，"
                      f"系统版本10.0.{rng.randint(19041, 22631)}.{rng.randint(1000, 4000)}。"),
        lambda b: b.t(f"一共花了{rng.randint(1, 9)},{rng.randint(100, 999)},{rng.randint(100, 999)}.{rng.randint(10, 99)}元，"
                      f"报销了{rng.randint(1000, 99999)}元。"),
        lambda b: b.t(f"订单{rng.randint(2019, 2025)}{rng.randint(10**6, 10**7 - 1)}已经发货。"),
    ]
    out: list[Example] = []
    for i in range(n):
        b = _Builder()
        (rng.choice(negatives) if i % 2 else rng.choice(positives))(b)
        out.append(b.build())
    return out


if __name__ == "__main__":  # pragma: no cover - a quick look at the corpus
    for ex in generate(12) + generate_hard(12):
        print(ex.text, [(ex.text[s:e], t) for s, e, t in ex.spans])
