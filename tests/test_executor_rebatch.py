"""The executor passes a global step's finish() output on in batches, and JsonlSink writes in blocks."""

from __future__ import annotations

import io

from dialog_forge.io import writers
from dialog_forge.io.rejects import RejectsSink
from dialog_forge.io.writers import JsonlSink
from dialog_forge.pipeline.executor import run_chain
from dialog_forge.pipeline.step import BatchResult, Step, StepConfig
from dialog_forge.schema import Dialogue, Message


def _rec(i: int) -> Dialogue:
    return Dialogue(id=f"r{i}", messages=[Message("user", f"question {i}"), Message("assistant", f"answer {i}")])


class _Hold(Step):
    """A global step that holds everything and emits it (as a tuple, not a list) at the end."""

    name = "hold"
    global_step = True
    config_class = StepConfig
    reasons = {}

    def __init__(self):
        super().__init__(StepConfig())
        self.held: list[Dialogue] = []

    def process(self, batch):
        self.held += batch
        return BatchResult()

    def finish(self):
        return BatchResult(kept=tuple(self.held))


class _Sizes(Step):
    name = "sizes"
    config_class = StepConfig
    reasons = {}

    def __init__(self):
        super().__init__(StepConfig())
        self.sizes: list[int] = []

    def process(self, batch):
        self.sizes.append(len(batch))
        return BatchResult(kept=list(batch))


class _Buf(io.RawIOBase):
    def __init__(self):
        self.writes: list[bytes] = []

    def writable(self):
        return True

    def write(self, b):
        self.writes.append(bytes(b))
        return len(b)


def test_finish_output_is_rebatched_and_nothing_is_lost(tmp_path):
    hold, sizes = _Hold(), _Sizes()
    sink = JsonlSink(None)
    buf = _Buf()
    sink._fh = buf
    rej = RejectsSink(tmp_path / "rejects.jsonl")
    result = run_chain([hold, sizes], iter([_rec(i) for i in range(25)]), sink, rej, batch_size=10, progress=False)
    assert sizes.sizes == [10, 10, 5]
    out = b"".join(buf.writes).splitlines()
    assert [Dialogue.from_json(x).id for x in out] == [f"r{i}" for i in range(25)]
    assert result.stats[1].n_in == 25 and result.stats[1].n_out == 25


def test_jsonl_sink_writes_in_blocks(monkeypatch):
    monkeypatch.setattr(writers, "WRITE_BLOCK", 200)
    sink = JsonlSink(None)
    buf = _Buf()
    sink._fh = buf
    recs = [_rec(i) for i in range(20)]
    sink.write(recs)
    assert len(buf.writes) > 1  # split into several blocks of about 200 bytes
    assert b"".join(buf.writes) == b"".join(r.to_json() + b"\n" for r in recs)
    assert sink.count == 20
