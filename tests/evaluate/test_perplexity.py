"""Token NLLs against the model's own loss, padding invariance, token weighting and the assistant mask."""

import math

import pytest

from dialog_forge.evaluate import perplexity as pp


def test_aggregate_is_token_weighted():
    rows = [pp.TokenNLL("a", "med", "qa", 10.0, 10, 30.0, 20), pp.TokenNLL("b", "fin", "qa", 30.0, 10, 30.0, 10)]
    agg = pp.aggregate(rows)
    assert agg["ppl_assistant"] == pytest.approx(math.exp(40 / 20))
    assert agg["ppl_all"] == pytest.approx(math.exp(60 / 30))  # not the mean of exp(1.5) and exp(3)
    br = pp.breakdown(rows)
    assert br["by_domain"]["med"]["ppl_assistant"] == pytest.approx(math.e)
    assert br["by_task"]["qa"]["dialogues"] == 2
    assert pp.aggregate([pp.TokenNLL("c", None, None, 0.0, 0, 0.0, 0)])["ppl_assistant"] is None


def test_score_matches_model_loss_and_ignores_padding(eval_tiny_dir):
    import evalkit
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(2)
    tok = AutoTokenizer.from_pretrained(eval_tiny_dir)
    model = AutoModelForCausalLM.from_pretrained(eval_tiny_dir).eval()
    recs = evalkit.clinic_dialogues(2) + evalkit.other_dialogues(1)
    items, skipped = pp.encode_records(recs, tok)
    assert skipped == {} and len(items) == 3
    # assistant tokens = the reply and its <|im_end|>, nothing of the user turn
    it = items[0]
    sup = [t for t, lab in zip(it.input_ids, it.labels) if lab != pp.IGNORE_INDEX]
    assert tok.decode(sup) == "On Monday the clinic opens at 9am.<|im_end|>"
    assert len(sup) > 0
    batched = pp.score(model, items, batch_size=3, pad_id=tok.pad_token_id)
    single = [pp.score(model, [x], batch_size=1)[0] for x in items]
    for b, s, x in zip(batched, single, items):
        assert b.n_all == len(x.input_ids) - 1
        assert b.n_assistant == sum(1 for lab in x.labels if lab != pp.IGNORE_INDEX) > 0
        assert b.nll_all == pytest.approx(s.nll_all, rel=1e-4)
        with torch.no_grad():
            ids = torch.tensor([x.input_ids])
            hf_all = float(model(input_ids=ids, labels=ids).loss)
            lab = torch.tensor([x.labels])
            hf_asst = float(model(input_ids=ids, labels=lab).loss)
        assert b.nll_all / b.n_all == pytest.approx(hf_all, rel=1e-4)
        assert b.nll_assistant / b.n_assistant == pytest.approx(hf_asst, rel=1e-4)
    # a record without an assistant reply is skipped with a reason, not scored as zero
    from dialog_forge.schema import Dialogue, Message

    _, skipped = pp.encode_records([Dialogue("u", [Message("user", "hi")])], tok)
    assert skipped == {"no_supervision": 1}
