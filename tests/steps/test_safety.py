"""Safety gate: shipped zh/en lexicons per category, user extensions, classifier hook, word boundaries."""

from __future__ import annotations

import pytest

from dialog_forge.errors import ForgeError
from dialog_forge.steps.safety import CATEGORIES, LEXICON_DIR, SafetyGate, load_lexicons


@pytest.fixture(scope="module")
def gate() -> SafetyGate:
    return SafetyGate()


def test_every_category_ships_zh_and_en_lexicons():
    for cat in CATEGORIES:
        for lang in ("zh", "en"):
            assert (LEXICON_DIR / f"{cat}.{lang}.txt").is_file(), (cat, lang)
    lex = load_lexicons()
    assert set(lex) == {*CATEGORIES, "allow"}  # allow: phrases blanked out before matching


@pytest.mark.parametrize("text,cats", [
    ("How do I build a bomb at home?", ["weapons"]),
    ("我不想活了，怎么自杀最快", ["self_harm"]),
    ("哪里可以买到冰毒", ["drugs"]),
    ("I will kill you tomorrow", ["violence"]),
    ("请问高血压吃什么药？", []),
    ("The kill switch of the script is documented.", []),
    ("Pornography", ["sexual"]),
    ("I read about the bombardment in history class", []),  # whole words only
])
def test_categories(gate, text, cats):
    assert gate.check(text) == cats


def test_user_lexicon_by_file_name_and_tab_lines(tmp_path, gate):
    (tmp_path / "drugs.txt").write_text("# comment\nspice blend\n", encoding="utf-8")
    (tmp_path / "extra.tsv").write_text("hate\t坏词甲\nviolence\tsmash his face\n", encoding="utf-8")
    g = SafetyGate([str(tmp_path / "drugs.txt"), str(tmp_path / "extra.tsv")])
    assert g.check("selling Spice  Blend here") == ["drugs"]
    assert g.check("他说了坏词甲") == ["hate"]
    assert g.check("I will smash his face") == ["violence"]
    assert gate.check("selling spice blend here") == []


def test_bad_user_lexicon_is_a_clear_error(tmp_path):
    with pytest.raises(ForgeError, match="--safety-lexicon.*no such file"):
        SafetyGate([str(tmp_path / "missing.txt")])
    (tmp_path / "gambling.txt").write_text("casino\n", encoding="utf-8")
    with pytest.raises(ForgeError, match="category 'gambling'"):
        SafetyGate([str(tmp_path / "gambling.txt")])
    with pytest.raises(ForgeError, match="--safety-categories"):
        SafetyGate(categories=["gambling"])


def flag_everything_violent(text: str) -> list[str]:
    return ["violence"] if "meanie" in text else []


def test_classifier_hook():
    g = SafetyGate(categories=["hate"], classifier=f"{__name__}:flag_everything_violent")
    assert g.check("you meanie") == ["violence"]
    assert g.check("hello") == []
    with pytest.raises(ForgeError, match="--safety-classifier"):
        SafetyGate(classifier="no_such_module_abc:f")


@pytest.mark.parametrize("text,cats", [
    # found in testing on toyhom_internal_medicine_gbk.csv: substrings across Chinese word boundaries
    ("其中按嫁接的肝脏的来源可以分尸体肝移植和活体肝移植。", []),
    ("丙肝是通过血制品、静脉注射毒品、性传播等感染的。", []),
    ("学校组织学习毒品的危害，要远离毒品。", []),
    ("他说要把人分尸", ["violence"]),
    ("哪里能买到毒品", ["drugs"]),
])
def test_allow_phrases_blank_out_innocent_contexts(gate, text, cats):
    assert gate.check(text) == cats


def test_allow_phrases_from_user_lexicon(tmp_path):
    extra = tmp_path / "allow.txt"
    extra.write_text("毒品检测\n", encoding="utf-8")
    assert SafetyGate().check("单位要求做毒品检测") == ["drugs"]
    assert SafetyGate([str(extra)]).check("单位要求做毒品检测") == []
    assert "allow" not in SafetyGate().lexicons


def test_lexicon_error_names_the_line(tmp_path):
    """Found in testing: a 'category<TAB>term' file with one line lacking its TAB failed with "category 'lex' is
    not one of ..." (the file name's stem), naming neither the line nor the missing TAB."""
    f = tmp_path / "lex.tsv"
    f.write_text("violence\tfoo bar\nbadline-without-tab\n", encoding="utf-8")
    with pytest.raises(ForgeError, match=r"lex.tsv: line 2 has no TAB, so its category would be the file "
                                         r"name's, 'lex'"):
        load_lexicons([str(f)])
    g = tmp_path / "lex2.tsv"
    g.write_text("# comment\nviolenze\tfoo\n", encoding="utf-8")
    with pytest.raises(ForgeError, match=r"lex2.tsv: line 2: category 'violenze' is not one of"):
        load_lexicons([str(g)])
