"""`forge run recipe.yaml` builds the same steps as the CLI and checks its input."""

from __future__ import annotations

import json

import pytest

from dialog_forge.errors import ForgeError
from dialog_forge.pipeline.recipe import build_steps
from dialog_forge.steps.ingest import IngestStep


def test_recipe_builds_configured_steps():
    steps = build_steps([{"ingest": {"same-role": "reject", "map": "user=q,assistant=a", "domain": "finance"}}])
    assert isinstance(steps[0], IngestStep)
    assert steps[0].config.same_role == "reject"
    assert steps[0].config.map == {"user": "q", "assistant": "a"}
    assert steps[0].config.domain == "finance"


@pytest.mark.parametrize("spec,needle", [
    ([{"nosuchstep": {}}], "unknown step 'nosuchstep'"),
    ([{"ingest": {"bogus": 1}}], "unknown option 'bogus'"),
    ([{"ingest": {"same_role": "sometimes"}}], "--same-role"),
])
def test_recipe_errors_name_the_problem(spec, needle):
    with pytest.raises(ForgeError) as e:
        build_steps(spec)
    assert needle in str(e.value)


def test_forge_run_end_to_end(tmp_path, forge):
    raw = tmp_path / "raw.jsonl"
    raw.write_text(json.dumps({"conversations": [{"from": "human", "value": "hi"}, {"from": "gpt", "value": "hello"}]})
                   + "\n" + json.dumps({"conversations": [{"from": "human", "value": "x"}]}) + "\n")
    recipe = tmp_path / "r.yaml"
    recipe.write_text(f"inputs: [{raw}]\nout: {tmp_path / 'out'}\nsteps:\n  - ingest: {{domain: demo}}\n")
    proc = forge("run", recipe)
    assert proc.returncode == 0, proc.stderr.decode()
    manifest = json.loads((tmp_path / "out" / "_manifest.json").read_text())
    assert manifest["counts"] == {"in": 2, "out": 1, "rejected": 1}
    assert manifest["steps"][0]["config"]["domain"] == "demo"
    rej = [json.loads(x) for x in (tmp_path / "out" / "rejects.jsonl").read_text().splitlines()]
    assert [r["reason"] for r in rej] == ["no_assistant"]


def test_bad_flag_value_is_exit_2(forge, tmp_path):
    proc = forge("ingest", "-", "--same-role", "sometimes", input=b"")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr.decode()
