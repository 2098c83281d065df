"""Config consistency warnings between training, eval and serving settings."""

import json

import pytest

from dialog_forge.errors import ForgeError
from dialog_forge.evaluate import consistency


def test_check_reports_each_difference():
    trained = {"template": "chatml", "system_prompt": "Be kind.", "temperature": 0.7, "top_p": 0.9,
               "max_new_tokens": 256}
    same = dict(trained)
    assert consistency.check(trained, same, "eval") == []
    used = {"template": "llama3", "system_prompt": None, "temperature": 0.7000000000001, "top_p": 1.0}
    issues = consistency.check(trained, used, "serving")
    assert [i["setting"] for i in issues] == ["template", "system_prompt", "top_p"]
    assert issues[0]["message"] == "serving template 'llama3' differs from the run's trained template 'chatml'"


def test_serving_config_yaml_and_aliases(tmp_path):
    p = tmp_path / "serve.yaml"
    p.write_text("max_tokens: 64\ntemperature: 0.2\nport: 8000\n")
    assert consistency.load_serving_config(str(p)) == {"max_new_tokens": 64, "temperature": 0.2}
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    with pytest.raises(ForgeError, match="--serving-config"):
        consistency.load_serving_config(str(bad))
    assert json.loads(json.dumps(consistency.CHECKED))
