"""Retention and degradation against the chapter's formula, on hand-made scores."""

import json

import pytest

from dialog_forge.errors import ForgeError
from dialog_forge.evaluate import retention as rt


@pytest.mark.parametrize("r,expected", [
    (1.2, 0.0), (0.95, 0.0), (0.94, 0.2), (0.92, 0.6), (0.9, 1.0), (0.85, 1.5), (0.5, 5.0),
])
def test_degradation_piecewise(r, expected):
    assert rt.degradation(r) == pytest.approx(expected)


def test_retention_table_acceptable_and_not():
    before = {"chat": 0.50, "mmlu_like": 0.60, "code": 0.40}
    after_ok = {"chat": 0.49, "mmlu_like": 0.57, "code": 0.40}  # 0.98, 0.95, 1.0
    t = rt.retention_table(before, after_ok)
    assert t["sets"]["chat"]["retention"] == pytest.approx(0.98)
    assert t["sets"]["mmlu_like"]["degradation"] == pytest.approx(0.0)
    assert t["mean_retention"] == pytest.approx((0.98 + 0.95 + 1.0) / 3)
    assert t["max_degradation"] == pytest.approx(0.0)
    assert t["acceptable"] is True

    after_bad = {"chat": 0.47, "mmlu_like": 0.60, "code": 0.40}  # chat 0.94 -> d = 0.2; still ok
    t = rt.retention_table(before, after_bad)
    assert t["max_degradation"] == pytest.approx(0.2)
    assert t["acceptable"] is True
    after_bad = {"chat": 0.46, "mmlu_like": 0.60, "code": 0.40}  # chat 0.92 -> d = 0.6 -> not acceptable
    t = rt.retention_table(before, after_bad)
    assert t["max_degradation"] == pytest.approx(0.6)
    assert t["mean_retention"] > 0.9
    assert t["acceptable"] is False
    # mean retention at or below 0.9 fails even with a small max degradation on a lone set
    t = rt.retention_table({"x": 1.0}, {"x": 0.9})
    assert t["sets"]["x"]["degradation"] == pytest.approx(1.0) and t["acceptable"] is False


def test_zero_baseline_is_undefined_not_a_crash():
    t = rt.retention_table({"a": 0.0, "b": 0.5}, {"a": 0.1, "b": 0.5})
    assert t["sets"]["a"]["retention"] is None and t["undefined"] == ["a"]
    assert t["mean_retention"] == pytest.approx(1.0)
    with pytest.raises(ForgeError):
        rt.retention_table({"a": 1.0}, {"b": 1.0})


def test_general_set_loading(tmp_path):
    mc = tmp_path / "mc.jsonl"
    mc.write_text("\n".join(json.dumps(o) for o in [
        {"question": "2+2=", "choices": ["3", "4"], "answer": 1},
        {"question": "Capital of France?", "options": ["Paris", "Rome"], "label": "A"},
        {"question": "Colour of snow?", "choices": ["black", "white"], "answer": "white"},
    ]))
    gs = rt.load_general_set("mc", str(mc))
    assert gs.kind == "choice" and [i.answer for i in gs.items] == [1, 0, 1]
    dlg = tmp_path / "d.jsonl"
    dlg.write_text(json.dumps({"id": "x", "messages": [{"role": "user", "content": "hi"},
                                                        {"role": "assistant", "content": "hello"}]}) + "\n")
    assert rt.load_general_set("d", str(dlg)).kind == "dialogue"
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"question": "q", "choices": ["a", "b"], "answer": 5}) + "\n")
    with pytest.raises(ForgeError, match="line 1"):
        rt.load_general_set("bad", str(bad))
    with pytest.raises(ForgeError, match="NAME=FILE"):
        rt.parse_general_flags(["nofile"])
    assert rt.parse_general_flags(["a=x.jsonl"]) == {"a": "x.jsonl"}


def test_lm_eval_guard():
    try:
        import lm_eval  # noqa: F401
        pytest.skip("lm_eval is installed")
    except ImportError:
        pass
    with pytest.raises(ForgeError, match="pip install lm-eval"):
        rt.run_lm_eval(["hellaswag"], "base")
