"""``fluency`` through a real causal LM: a tiny GPT-2 built and trained here (no download), so the
loading and perplexity code runs for real and fluent text beats word salad."""

from __future__ import annotations

import pytest

from dialog_forge.errors import ForgeError
from dialog_forge.schema import Dialogue, Message
from dialog_forge.steps.score import ScoreConfig, ScoreStep
from dialog_forge.steps.score.fluency import PerplexityModel

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

CORPUS = ["the store opens at nine and closes at six on weekdays .",
          "please keep your receipt for the refund .",
          "the refund reaches your card within five days ."]
SALAD = "days receipt the six nine . refund weekdays store card at closes"


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory):
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    torch.manual_seed(0)
    torch.set_num_threads(2)
    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.train_from_iterator(CORPUS, trainers.WordLevelTrainer(special_tokens=["[UNK]", "[EOS]"]))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", eos_token="[EOS]")
    model = GPT2LMHeadModel(GPT2Config(vocab_size=fast.vocab_size, n_positions=32, n_embd=32, n_layer=1, n_head=2))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    batch = [fast(s, return_tensors="pt")["input_ids"] for s in CORPUS]
    losses = []
    for _ in range(60):
        for ids in batch:
            loss = model(input_ids=ids, labels=ids).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] / 4  # the model did learn the corpus
    path = tmp_path_factory.mktemp("tiny_lm")
    model.save_pretrained(path)
    fast.save_pretrained(path)
    return str(path)


def test_perplexity_orders_fluent_before_salad(tiny_lm):
    lm = PerplexityModel(tiny_lm, device="cpu")
    fluent, salad = lm.perplexities([CORPUS[0], SALAD])
    assert 1.0 <= fluent < 5.0 < salad


def test_fluency_component_in_score(tiny_lm, monkeypatch):
    recs = [Dialogue(id="fluent", messages=[Message("user", "when do you open ?"), Message("assistant", CORPUS[0])]),
            Dialogue(id="salad", messages=[Message("user", "when do you open ?"), Message("assistant", SALAD)])]
    step = ScoreStep(ScoreConfig(lm=tiny_lm, weights="fluency=1"))
    res = step.process(recs)
    f = {r.id: r.quality["components"]["fluency"] for r in res.kept}
    assert f["fluent"] == 1.0 and f["salad"] < f["fluent"]
    assert {r.id: r.quality["score"] for r in res.kept}["fluent"] == 1.0


def test_missing_lm_is_a_forge_error(tmp_path):
    with pytest.raises(ForgeError, match="--lm"):
        PerplexityModel(str(tmp_path / "no-such-model"))
