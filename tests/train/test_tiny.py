"""`forge tiny-model` flag checks (no model is built for a bad flag) and `forge export --format` checks."""

import pytest

from dialog_forge.errors import ForgeError
from dialog_forge.train.tiny import make_tiny_model


@pytest.mark.parametrize("kw, flag", [({"hidden_size": 30}, "--hidden-size 30"), ({"hidden_size": 36}, "--hidden-size 36"),
                                      ({"layers": 0}, "--layers 0"), ({"vocab_size": 0}, "--vocab-size 0")])
def test_bad_tiny_model_sizes_name_the_flag(tmp_path, kw, flag):
    """--hidden-size 30 used to end in transformers' 'unexpected StrictDataclassClassValidationError'."""
    with pytest.raises(ForgeError, match=flag):
        make_tiny_model(tmp_path / "m", texts=["hello world"], **kw)
    assert not (tmp_path / "m").exists()


def test_export_unknown_format_leaves_no_file(tmp_path):
    """`forge export DATA --format bogus --out x.jsonl` used to create an empty x.jsonl before refusing."""
    from dialog_forge.train.export import export_records

    src = tmp_path / "d.jsonl"
    src.write_text('{"id": "a", "messages": [{"role": "user", "content": "hi"}, '
                   '{"role": "assistant", "content": "hello"}]}\n', encoding="utf-8")
    with pytest.raises(ForgeError, match="--format 'bogus': use sharegpt, openai or alpaca"):
        export_records([str(src)], "bogus", tmp_path / "x.jsonl")
    assert not (tmp_path / "x.jsonl").exists()
    res = export_records([str(src)], "alpaca", tmp_path / "y.jsonl")
    assert res["written"] == 1 and (tmp_path / "y.jsonl").read_text(encoding="utf-8").startswith('{"instruction": "hi"')
