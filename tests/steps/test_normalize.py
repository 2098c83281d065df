"""Text normalisation: mojibake, invisible characters, whitespace, NFC vs NFKC, OpenCC, HTML."""

from __future__ import annotations

from dialog_forge.steps.normalize import (
    NormalizeOptions,
    collapse_ws,
    normalize_text,
    strip_html,
    strip_invisible,
)


def test_mojibake_is_repaired():
    broken = "手机号码".encode().decode("latin-1")
    assert broken != "手机号码"
    assert normalize_text(broken) == "手机号码"
    assert normalize_text("cafÃ©") == "café"


def test_fullwidth_punctuation_and_curly_quotes_survive_by_default():
    text = "你好，“医生”！ＡＢＣ（测试）"
    assert normalize_text(text) == text


def test_nfkc_only_when_asked():
    assert normalize_text("你好，ＡＢＣ", NormalizeOptions(nfkc=True)) == "你好,ABC"
    # NFC composes a combining accent without touching width
    assert normalize_text("cafe\u0301，") == "café，"


def test_zero_width_and_control_characters_removed():
    assert strip_invisible("13800\u200b138000\ufeff") == "13800138000"
    assert strip_invisible("a\x07b\x1bc\td\ne") == "abc\td\ne"
    # a zero-width joiner inside an emoji sequence is kept, elsewhere removed
    family = "\U0001F468\u200d\U0001F469"
    assert strip_invisible(family) == family
    assert strip_invisible("ab\u200dcd") == "abcd"


def test_whitespace_collapsed_and_stripped():
    assert collapse_ws("  a \t\t b  \n\n\n\n c  ") == "a b\n\nc"
    assert normalize_text("\u3000\u3000你好  世界\r\n") == "你好 世界"


def test_opencc_conversion():
    assert normalize_text("醫生說這個藥", NormalizeOptions(to_simplified=True)) == "医生说这个药"
    assert normalize_text("医生说这个药", NormalizeOptions(to_traditional=True)) == "醫生說這個藥"
    assert normalize_text("醫生說") == "醫生說"  # off by default


def test_html_stripping_keeps_placeholders_and_comparisons():
    assert strip_html("<p>a &amp; b<br>c</p>") == "a & b\nc\n"
    assert normalize_text("<b>x</b> <PHONE_NUMBER> a < b", NormalizeOptions(strip_html=True)) == \
        "x <PHONE_NUMBER> a < b"
    assert normalize_text("<b>x</b>") == "<b>x</b>"  # off by default


def test_switches_turn_parts_off():
    raw = " a\u200b  b "
    assert normalize_text(raw, NormalizeOptions(strip_control=False, collapse_whitespace=False)) == raw


def test_indentation_and_fenced_code_survive_whitespace_collapsing():
    """Found in testing: ``collapse_ws`` stripped every line's leading whitespace, so Python code in an
    answer lost its indentation (``    return 1`` -> ``return 1``) and nested lists went flat."""
    assert collapse_ws("def f():\n    return  1\n\n\n\nprint(f())") == "def f():\n    return 1\n\nprint(f())"
    assert collapse_ws("清单：\n  - 项目1\n    - 子项  目\n") == "清单：\n  - 项目1\n    - 子项 目"
    assert collapse_ws("```\nx  =  1   \n\tif x:  \n```\n a   b") == "```\nx  =  1\n\tif x:\n```\na b"
    assert collapse_ws("　　段落缩进  文字") == "段落缩进 文字"


def test_ftfy_gate_lets_line_breaks_and_removable_controls_through():
    """Found in testing: the gate that skips ftfy on plain text did not know ftfy's line-break fix and the
    control characters it removes, so U+FFFC stayed by default and "\\r\\n" with --no-collapse-whitespace
    (ftfy itself turns both into what normalize_text now returns; the batch path agrees)."""
    import ftfy

    from dialog_forge.steps.normalize import _FTFY, NormalizeOptions, normalize_many, normalize_text

    texts = ["ab\ufffccd 中文", "a\r\nb\rc", "x\x0by", "plain 中文，。"]
    keep_ws = NormalizeOptions(collapse_whitespace=False, strip_control=False)
    assert [normalize_text(t, keep_ws) for t in texts] == [ftfy.fix_text(t, _FTFY) for t in texts] == [
        "abcd 中文", "a\nb\nc", "xy", "plain 中文，。"]
    assert normalize_many(texts, keep_ws) == [normalize_text(t, keep_ws) for t in texts]
    assert normalize_text("ab\ufffccd") == "abcd"


def test_zwnj_is_kept_where_it_spells_a_word_and_dropped_elsewhere():
    """Found in testing: ZWNJ was stripped from Persian (می‌خواهم -> میخواهم), which changes the spelling. It is
    kept between letters of the scripts that use it, and dropped elsewhere (zero-width noise in chat data)."""
    from dialog_forge.steps.normalize import NormalizeOptions, normalize_many, normalize_text

    texts = ["می\u200cخواهم", "नम\u200cस्ते", "ab\u200ccd", "\u200cمی", "中\u200c文"]
    want = ["می\u200cخواهم", "नम\u200cस्ते", "abcd", "می", "中文"]
    assert [normalize_text(t, NormalizeOptions()) for t in texts] == want
    assert normalize_many(texts, NormalizeOptions()) == want
