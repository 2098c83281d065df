"""A labelled Chinese PII benchmark, generated at run time with Faker ``zh_CN`` and a fixed seed.

:func:`generate` returns sentences in dialogue style (patient / customer-service turns) with gold spans
``(start, end, entity)``. About a third of the sentences are **negatives** that look like PII but are not:
lab values (ALT 120 U/L), blood pressure (140/90), doses, ages, temperatures, dates, amounts, order and
tracking numbers -- 16-digit ones failing the Luhn check and 18-digit ones failing the GB 11643 check.

Names appear both after a cue (我叫X, 患者X, 联系人X, X先生) and without one ("X今天来复诊"), so the PERSON
figure is honest about what cue-based recognition misses. Note: forge's surname list and this generator both
come from Faker's ``zh_CN`` provider, which favours forge on PERSON.
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


if __name__ == "__main__":  # pragma: no cover - a quick look at the corpus
    for ex in generate(12):
        print(ex.text, [(ex.text[s:e], t) for s, e, t in ex.spans])
