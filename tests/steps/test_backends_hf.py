"""The hf backend on tiny random-initialised models built by the test (no download): loading, batching
(a completion does not depend on its batch neighbours), the {src}/{tgt} pair template, chat templates."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from dialog_forge.backends.base import GenParams
from dialog_forge.backends.hf import HFBackend
from dialog_forge.errors import ForgeError

_spec = importlib.util.spec_from_file_location("tiny_models", Path(__file__).with_name("tiny_models.py"))
tiny_models = importlib.util.module_from_spec(_spec)
sys.modules["tiny_models"] = tiny_models
_spec.loader.exec_module(tiny_models)

GREEDY = GenParams(temperature=0.0, max_new_tokens=6)
TEXTS = ["请帮我重置密码", "How do I reset my password?", "好", "我的订单什么时候发货？血压140/90正常吗"]


@pytest.fixture(scope="module")
def models(tmp_path_factory, tiny_model_dir):
    """Two tiny Marian-style translation models (zh->en, en->zh) built here, and the project's tiny
    Llama-style chat model (``tiny_model_dir``, from ``dialog_forge.train.tiny``) linked in as ``llama``."""
    import torch

    torch.set_num_threads(2)
    root = tmp_path_factory.mktemp("tiny")
    tiny_models.make_marian(root / "opus-mt-zh-en")
    tiny_models.make_marian(root / "opus-mt-en-zh")
    (root / "llama").symlink_to(tiny_model_dir, target_is_directory=True)
    return root


def test_seq2seq_translate_is_batch_invariant_and_ordered(models):
    be = HFBackend(str(models / "opus-mt-zh-en"), device="cpu", batch_size=3)
    batched = be.translate(TEXTS, "zh", "en", GREEDY)
    alone = [HFBackend(str(models / "opus-mt-zh-en"), device="cpu", batch_size=1).translate([t], "zh", "en", GREEDY)[0]
             for t in TEXTS]
    assert len(batched) == len(TEXTS) and all(isinstance(t, str) for t in batched)
    assert batched == alone
    assert be.stats.requests == len(TEXTS)


def test_pair_template_loads_one_model_per_direction(models):
    be = HFBackend(str(models / "opus-mt-{src}-{tgt}"), device="cpu")
    be.translate(["你好"], "zh", "en", GREEDY)
    be.translate(["hello"], "en", "zh", GREEDY)
    assert sorted(Path(k).name for k in be._loaded) == ["opus-mt-en-zh", "opus-mt-zh-en"]
    with pytest.raises(ForgeError, match="chat model"):
        be.generate(["paraphrase this"])


def test_causal_generate_batched_equals_one_by_one_and_decodes_only_new_tokens(models):
    be = HFBackend(str(models / "llama"), device="cpu", batch_size=4)
    batched = be.generate(TEXTS, GREEDY)
    alone = [be.generate([t], GREEDY)[0] for t in TEXTS]
    assert batched == alone
    for prompt, out in zip(TEXTS, batched):
        assert prompt not in out  # only the new tokens are decoded, not the prompt


def test_sampling_is_seeded(models):
    be = HFBackend(str(models / "llama"), device="cpu")
    p = GenParams(temperature=1.0, max_new_tokens=8, seed=3)
    assert be.generate(TEXTS[:2], p) == be.generate(TEXTS[:2], p)


def test_missing_model_is_a_forge_error(tmp_path):
    with pytest.raises(ForgeError, match="--model"):
        HFBackend(str(tmp_path / "nope")).generate(["x"])
    with pytest.raises(ForgeError, match="--model"):
        HFBackend("")


def test_augment_runs_on_hf_models_counting_unparsable_answers(models):
    from dialog_forge.schema import Dialogue, Message
    from dialog_forge.steps.augment import AugmentConfig, AugmentStep

    batch = [Dialogue(id=f"h{i}", messages=[Message("user", t), Message("assistant", "好的")], lang="zh")
             for i, t in enumerate(["请帮我重置密码", "我的订单什么时候发货？", "退货需要几天才能到账？"])]
    para = AugmentStep(AugmentConfig(op=["paraphrase"], backend="hf", model=str(models / "llama"), device="cpu",
                                     max_new_tokens=8, temperature=0.0, gen_batch_size=2))
    para.setup()
    res = para.process(batch)
    # a random model cannot write a JSON list: every answer is counted, nothing crashes, nothing is made up
    assert para.counters["parse_failures"] == 3 and res.generated == 0
    assert [r.id for r in res.kept] == ["h0", "h1", "h2"]
    assert para.summary()["backend"]["requests"] == 3

    bt = AugmentStep(AugmentConfig(op=["backtranslate"], backend="hf", model=str(models / "opus-mt-{src}-{tgt}"),
                                   device="cpu", max_new_tokens=6, pivot={"zh": "en"}))
    bt.setup()
    res = bt.process(batch)
    assert res.generated == 3  # one back-translation per record, each checked
    assert len(batch) + res.generated == len(res.kept) + len(res.rejects)
    for r in res.rejects:
        assert r.reason in ("empty", "identical", "lang_changed", "drift", "protected_lost", "near_copy", "new_pii")
        assert r.record.lineage.ops[-1] == {"op": "backtranslate", "params": {"backend": "hf", "pivot": "en"}}
    assert bt.summary()["backend"]["requests"] == 6  # zh->en and en->zh for each record


def test_on_cuda_when_available(models):
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no CUDA device on this machine")
    gpu = HFBackend(str(models / "llama"), device="cuda", batch_size=4)
    cpu = HFBackend(str(models / "llama"), device="cpu", batch_size=4)
    assert gpu.generate(TEXTS, GREEDY) == [gpu.generate([t], GREEDY)[0] for t in TEXTS]
    assert len(gpu.translate(TEXTS, "zh", "en", GREEDY)) == len(TEXTS) == len(cpu.generate(TEXTS, GREEDY))
