"""Chat rendering and label masking (cases U19, U20, U22 and their whole kind, for every shipped template)."""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer

from dialog_forge.errors import ForgeError
from dialog_forge.schema import Dialogue, Message
from dialog_forge.train.collate import pad_collate
from dialog_forge.train.masking import (
    IGNORE_INDEX,
    ChatEncoder,
    EmptySupervision,
    encode_dialogue,
    mark_supervised,
)

# Llama-2 style template of case U22: every user turn opens with BOS, every reply closes with EOS.
LLAMA2_TEMPLATE = ("{% for m in messages %}{% if m['role'] == 'user' %}{{ bos_token }}[INST]{{ m['content'] }}[/INST]"
                   "{% else %}{{ m['content'] }}{{ eos_token }}{% endif %}{% endfor %}")
# Case U19: a plain-text template that never closes the reply with EOS (tokenizer_adds_eos: false).
HUMAN_TEMPLATE = ("{% for m in messages %}{% if m['role'] == 'user' %}{{ '### Human: ' + m['content'] + '\n' }}"
                  "{% else %}{{ '### Assistant: ' + m['content'] }}{% if not loop.last %}{{ '\n' }}{% endif %}"
                  "{% endif %}{% endfor %}")

SINGLE = [("中国的首都是哪里？", "北京")]
MULTI = [("你好", "您好！"), ("今天星期几？", "抱歉，我无法获取实时日期。")]


@pytest.fixture(scope="module")
def tok(tiny_model_dir):
    return AutoTokenizer.from_pretrained(tiny_model_dir)


@pytest.fixture(scope="module")
def template_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("templates")
    (d / "llama2.jinja").write_text(LLAMA2_TEMPLATE, encoding="utf-8")
    (d / "human.jinja").write_text(HUMAN_TEMPLATE, encoding="utf-8")
    return {"llama2": str(d / "llama2.jinja"), "human": str(d / "human.jinja")}


def dialogue(pairs, rid="rec-1"):
    msgs = []
    for q, a in pairs:
        msgs += [Message("user", q), Message("assistant", a)]
    return Dialogue(id=rid, messages=msgs)


def supervised_runs(enc, tokenizer):
    """Decoded runs of consecutive supervised tokens."""
    runs, cur = [], []
    for t, lab in zip(enc.input_ids, enc.labels):
        if lab != IGNORE_INDEX:
            cur.append(t)
        elif cur:
            runs.append(cur)
            cur = []
    if cur:
        runs.append(cur)
    return [tokenizer.decode(r) for r in runs], runs


TEMPLATES = ["tokenizer", "chatml", "qwen", "llama3", "chapter", "llama2", "human"]


def spec(name, template_files):
    return template_files.get(name, name)


@pytest.mark.parametrize("name", TEMPLATES)
@pytest.mark.parametrize("pairs", [SINGLE, MULTI], ids=["single", "multi"])
def test_every_template_supervises_each_reply_and_its_end_of_turn(tok, template_files, name, pairs):
    enc_ = ChatEncoder(tok, spec(name, template_files))
    eot = enc_.end_of_turn or tok.eos_token
    eot_id = tok.convert_tokens_to_ids(eot)
    e = enc_.encode(dialogue(pairs))
    texts, runs = supervised_runs(e, tok)
    # one supervised run per assistant turn: the reply (maybe with the space before it) and its end-of-turn
    assert len(runs) == len(pairs)
    for (q, a), text, run in zip(pairs, texts, runs):
        assert text.strip() == a + eot
        assert run[-1] == eot_id
        assert q not in text  # user turns are masked
    # every end-of-turn token in the example is supervised, and the last supervised token is end-of-turn
    eot_positions = [i for i, t in enumerate(e.input_ids) if t == eot_id]
    assert len(eot_positions) >= len(pairs)
    sup_eot = [i for i in eot_positions if e.labels[i] != IGNORE_INDEX]
    assert len(sup_eot) == len(pairs)
    last_sup = max(i for i, lab in enumerate(e.labels) if lab != IGNORE_INDEX)
    assert e.input_ids[last_sup] == eot_id
    # no double BOS
    if tok.bos_token_id is not None and len(e.input_ids) > 1:
        assert not (e.input_ids[0] == e.input_ids[1] == tok.bos_token_id)


def test_u19_text_template_without_eos_gets_one_supervised_eos(tok, template_files):
    """U19: "### Human: ... ### Assistant: ..." with a tokenizer that adds no EOS: after tokenisation and
    collation each example ends with exactly one EOS, and that position has a real label."""
    recs = [dialogue([("帮我查一下订单状态", "好的，请提供订单号。")], "u19-a"),
            dialogue([("你好", "您好！"), ("帮我查一下订单状态", "好的，请提供订单号。")], "u19-b")]
    enc = ChatEncoder(tok, template_files["human"])
    items = [enc.encode(r) for r in recs]
    assert items[0].text == "### Human: 帮我查一下订单状态\n### Assistant: 好的，请提供订单号。" + tok.eos_token
    assert all(e.eos_appended == len([m for m in r.messages if m.role == "assistant"]) for e, r in zip(items, recs))
    batch = pad_collate(items, tok.pad_token_id)
    for i, e in enumerate(items):
        n = len(e)
        row_ids, row_lab = batch["input_ids"][i, :n].tolist(), batch["labels"][i, :n].tolist()
        assert row_ids[-1] == tok.eos_token_id and row_lab[-1] == tok.eos_token_id
        last_sup = max(k for k, lab in enumerate(batch["labels"][i].tolist()) if lab != IGNORE_INDEX)
        assert tok.convert_ids_to_tokens(batch["input_ids"][i, last_sup].item()) == tok.eos_token
    # exactly one EOS per single-turn example
    assert items[0].input_ids.count(tok.eos_token_id) == 1


def test_u20_pad_equal_to_eos_keeps_the_real_eos_label(tiny_model_dir, template_files):
    """U20: pad token == EOS, right padding, max_length 16: the EOS after '您好！' keeps its label; only the
    padding after it is -100 (masking by position, not by token id)."""
    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    tok.pad_token = tok.eos_token
    tmpl = template_files["llama2"]
    short = ChatEncoder(tok, tmpl, max_length=64).encode(dialogue([("你好", "您好！")], "u20-short"))
    long_ = ChatEncoder(tok, tmpl, max_length=64).encode(dialogue([("帮我查一下订单状态", "好的，请提供订单号。")], "u20-long"))
    assert short.text == "<s>[INST]你好[/INST]您好！</s>"
    batch = pad_collate([short, long_], tok.pad_token_id)
    ids, labels, att = batch["input_ids"][0].tolist(), batch["labels"][0].tolist(), batch["attention_mask"][0].tolist()
    n = len(short)
    assert len(ids) > n  # the short example is padded
    eos_pos = n - 1
    assert ids[eos_pos] == tok.eos_token_id and labels[eos_pos] == tok.eos_token_id
    assert all(x == tok.eos_token_id for x in ids[n:])  # padding uses the same id ...
    assert all(lab == IGNORE_INDEX for lab in labels[n:]) and sum(att) == n  # ... but is masked by position
    for row in range(2):
        sup_eos = [k for k, (t, lab) in enumerate(zip(batch["input_ids"][row].tolist(), batch["labels"][row].tolist()))
                   if t == tok.eos_token_id and lab != IGNORE_INDEX]
        assert len(sup_eos) == 1
    # with max_length 16 the example still fits whole or fails loudly -- never a silent unsupervised EOS
    try:
        e16 = ChatEncoder(tok, tmpl, max_length=16).encode(dialogue([("你好", "您好！")], "u20-16"))
        assert e16.labels[-1] == tok.eos_token_id
    except EmptySupervision as err:
        assert "u20-16" in str(err)


def test_u22_single_and_multi_turn_spans_from_character_offsets(tok, template_files):
    """U22: single turn: only '北京</s>' is supervised; multi-turn: both replies with their </s> are
    supervised and both user segments masked; zero supervised tokens is a hard error naming the record."""
    tmpl = template_files["llama2"]
    single = encode_dialogue(dialogue(SINGLE, "u22-single"), tok, tmpl)
    assert single.text == "<s>[INST]中国的首都是哪里？[/INST]北京</s>"
    assert supervised_runs(single, tok)[0] == ["北京</s>"]
    multi = encode_dialogue(dialogue(MULTI, "u22-multi"), tok, tmpl)
    assert multi.text == "<s>[INST]你好[/INST]您好！</s><s>[INST]今天星期几？[/INST]抱歉，我无法获取实时日期。</s>"
    assert supervised_runs(multi, tok)[0] == ["您好！</s>", "抱歉，我无法获取实时日期。</s>"]
    assert mark_supervised(multi, tok) == ("<s>[INST]你好[/INST]⟦您好！</s>⟧<s>[INST]今天星期几？[/INST]"
                                           "⟦抱歉，我无法获取实时日期。</s>⟧")
    # no assistant turn at all -> hard error naming the record
    with pytest.raises(EmptySupervision, match="u22-empty"):
        encode_dialogue(Dialogue(id="u22-empty", messages=[Message("user", "你好")]), tok, tmpl)
    # a reply that cannot fit max_length -> hard error naming the record
    with pytest.raises(EmptySupervision, match="u22-long"):
        encode_dialogue(dialogue([("你好", "抱歉，我无法获取实时日期。" * 5)], "u22-long"), tok, tmpl, max_length=12)


def test_truncation_keeps_the_last_reply_whole(tok):
    pairs = [("你好", "您好！"), ("头疼怎么办？", "建议多休息，多喝水。"), ("帮我查一下订单状态", "好的，请提供订单号。")]
    full = encode_dialogue(dialogue(pairs), tok, "chatml")
    last_only = encode_dialogue(dialogue(pairs[-1:]), tok, "chatml")
    e = encode_dialogue(dialogue(pairs), tok, "chatml", max_length=len(last_only) + 3)
    assert len(e) <= len(last_only) + 3 and e.truncated and e.dropped_turns == 4
    texts, _ = supervised_runs(e, tok)
    assert texts == ["好的，请提供订单号。<|im_end|>"]
    # (b) prompt cut from the left: BOS-free chatml keeps the reply whole, drops prompt tokens
    e2 = encode_dialogue(dialogue(pairs[-1:]), tok, "chatml", max_length=len(last_only) - 3)
    assert len(e2) == len(last_only) - 3
    assert supervised_runs(e2, tok)[0] == ["好的，请提供订单号。<|im_end|>"]
    assert len(full) > len(e)


def test_train_on_last_and_all(tok):
    d = dialogue(MULTI)
    last = encode_dialogue(d, tok, "chatml", train_on="last")
    assert supervised_runs(last, tok)[0] == ["抱歉，我无法获取实时日期。<|im_end|>"]
    all_ = encode_dialogue(d, tok, "chatml", train_on="all")
    assert all(lab != IGNORE_INDEX for lab in all_.labels)


def test_system_prompt_and_cot(tok):
    d = Dialogue(id="c", messages=[Message("user", "1+1?"), Message("assistant", "2")], meta={"cot": "1 plus 1 is 2."})
    e = encode_dialogue(d, tok, "chatml", system_prompt="You are terse.", cot=True)
    assert e.text.startswith("<|im_start|>system\nYou are terse.<|im_end|>")
    assert supervised_runs(e, tok)[0] == ["Step by step:\n1 plus 1 is 2.\n\nAnswer: 2<|im_end|>"]


def test_bad_templates_are_refused(tok, tmp_path):
    with pytest.raises(ForgeError, match="no such file"):
        ChatEncoder(tok, "nope-template")
    bad = tmp_path / "bad.jinja"
    bad.write_text("{% for m in messages %}", encoding="utf-8")
    with pytest.raises(ForgeError, match="Jinja syntax error"):
        ChatEncoder(tok, str(bad))
    # a template that rewrites earlier text when a turn is added (count of messages at the top)
    odd = tmp_path / "odd.jinja"
    odd.write_text("{{ messages|length }} turns\n{% for m in messages %}{{ m['content'] }}{{ eos_token }}{% endfor %}",
                   encoding="utf-8")
    with pytest.raises(ForgeError, match="prefix-consistent"):
        encode_dialogue(dialogue(SINGLE), tok, str(odd))
    # a template that trims replies cannot give exact offsets
    trim = tmp_path / "trim.jinja"
    trim.write_text("{% for m in messages %}{{ m['content'] | trim }}{{ eos_token }}{% endfor %}", encoding="utf-8")
    with pytest.raises(ForgeError, match="verbatim"):
        encode_dialogue(dialogue([("q", "  padded reply  ")]), tok, str(trim))
    # the error names the record, so a user can find it among thousands
    d = Dialogue(id="rec-42", messages=[Message("user", "q"), Message("assistant", "  padded reply  ")])
    with pytest.raises(ForgeError, match=r"^record 'rec-42': template .* verbatim"):
        encode_dialogue(d, tok, str(trim))


def test_chapter_template_three_parts(tok):
    d = Dialogue(id="ch", messages=[Message("system", "你是医生。"), Message("user", "总结病历"),
                                    Message("assistant", "患者头痛三天。")], meta={"input": "头痛三天，无发热。"})
    e = encode_dialogue(d, tok, "chapter")
    assert e.text == ("<s>[System]\n你是医生。\n[Instruction]\n总结病历\n[Input]\n头痛三天，无发热。\n[Output]\n"
                      "患者头痛三天。</s>\n")
    assert supervised_runs(e, tok)[0] == ["患者头痛三天。</s>"]


def test_special_token_text_in_a_message_is_refused_naming_the_record(tok):
    """A reply containing the literal text '</s>' used to be tokenized as a real, supervised EOS in the
    middle of the reply (two EOS ids in one example), and '<|im_end|>' typed in a user turn as a turn
    boundary. Now: an error naming the record, message and token; --drop-empty drops it with a count."""
    from dialog_forge.train.masking import EmptySupervision, SpecialTokenInText

    d = Dialogue(id="inj-1", messages=[Message("user", "hi"), Message("assistant", "ok </s> done")])
    with pytest.raises(SpecialTokenInText, match=r"record 'inj-1': message 1 \(assistant\) contains the special "
                                                 r"token '</s>'") as e:
        encode_dialogue(d, tok, "chatml")
    assert isinstance(e.value, EmptySupervision)  # so --drop-empty and eval's skip count apply
    d = Dialogue(id="inj-2", messages=[Message("user", "say <|im_end|> now"), Message("assistant", "ok")])
    with pytest.raises(ForgeError, match=r"message 0 \(user\) contains the special token '<\|im_end\|>'"):
        encode_dialogue(d, tok, "chatml")
    # look-alikes are plain text
    ok = encode_dialogue(Dialogue(id="ok", messages=[Message("user", "<s >"), Message("assistant", "< /s>")]),
                         tok, "chatml")
    assert ok.input_ids.count(tok.eos_token_id) == 0 and ok.n_supervised > 0
