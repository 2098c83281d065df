"""The stop check catches a model that was trained without end-of-turn/EOS supervision."""

import pytest
from evalkit import clinic_dialogues, make_tiny, train_direct

from dialog_forge.evaluate import generation as gm
from dialog_forge.evaluate.inference import GenSettings, generate, split_prompt

pytestmark = pytest.mark.slow


def test_stop_check_separates_eos_trained_from_eos_masked(tmp_path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from dialog_forge.train.masking import ChatEncoder

    torch.set_num_threads(2)
    path = make_tiny(tmp_path / "tiny")
    tok = AutoTokenizer.from_pretrained(path)
    recs = clinic_dialogues(6)
    stop_ids = ChatEncoder(tok, "tokenizer").end_of_turn_ids()
    assert tok.convert_ids_to_tokens(stop_ids[0]) == "<|im_end|>"
    settings = GenSettings(temperature=0.0, max_new_tokens=24, stop_token_ids=tuple(stop_ids))
    rates = {}
    for sup in (True, False):
        model = AutoModelForCausalLM.from_pretrained(path)
        losses = train_direct(model, tok, recs, steps=120, supervise_eos=sup)
        assert losses[-1] < losses[0] / 3
        gens = generate(model, tok, recs, settings)
        assert len(gens) == 6
        rates[sup] = gm.summarise(gm.per_example(gens, embedding_model=None))
    # trained with the stop token supervised: ends every reply; masked: runs to the limit
    assert rates[True]["stop_rate"] >= 5 / 6
    assert rates[False]["stop_rate"] <= 1 / 6
    assert rates[False]["reply_tokens"] == pytest.approx(24, abs=4)
    # the EOS-trained model memorised its replies
    assert rates[True]["rougeL"] > 0.8


def test_split_prompt_uses_last_assistant_and_system_prompt():
    rec = clinic_dialogues(1)[0]
    prompt, ref = split_prompt(rec, system_prompt="Be brief.")
    assert prompt[0] == {"role": "system", "content": "Be brief."}
    assert prompt[-1]["role"] == "user" and ref == "On Monday the clinic opens at 9am."
