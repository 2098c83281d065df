"""The executor hands a record-wise first step (``record_wise = True``, e.g. ingest) each batch in slices of
RECORD_WISE_SLICE, and joins the results: later steps, the sink, counts and rejects see exactly what they
would see if the step had processed the batch whole."""

from __future__ import annotations

from dialog_forge.pipeline.executor import RECORD_WISE_SLICE, run_chain
from dialog_forge.pipeline.step import BatchResult, Reject, Step
from dialog_forge.schema import Dialogue, Message


class _Recorder(Step):
    name = "recorder"
    reasons = {"odd": "an odd record number"}

    def __init__(self, reject_odd: bool = False):
        super().__init__()
        self.sizes: list[int] = []
        self.reject_odd = reject_odd

    def process(self, batch):
        self.sizes.append(len(batch))
        res = BatchResult()
        for r in batch:
            if self.reject_odd and int(r.id[1:]) % 2:
                res.rejects.append(self.reject(r, "odd"))
            else:
                res.kept.append(r)
        return res


class _RecordWise(_Recorder):
    name = "first"
    record_wise = True


class _Sink:
    def __init__(self):
        self.writes: list[list[str]] = []

    def write(self, recs):
        self.writes.append([r.id for r in recs])

    def close(self):
        pass


class _Rejects(_Sink):
    def write(self, rej, step):
        self.writes.append([rej.id or rej.reason, step])


def _recs(n: int) -> list[Dialogue]:
    return [Dialogue(f"r{i}", [Message("user", "q"), Message("assistant", "a")]) for i in range(n)]


def test_record_wise_first_step_gets_slices_and_the_rest_whole_batches():
    first, second, sink, rej = _RecordWise(reject_odd=True), _Recorder(), _Sink(), _Rejects()
    source = [*_recs(2500)]
    source.insert(1100, Reject(record="bad line", reason="malformed_json", id="x1"))
    res = run_chain([first, second], source, sink, rej, batch_size=1000, progress=False)
    assert max(first.sizes) == RECORD_WISE_SLICE and sum(first.sizes) == 2500
    # the second step and the sink see the kept records of each batch of 1000 inputs, as before
    assert second.sizes == [500, 500, 250]
    assert [len(w) for w in sink.writes] == [500, 500, 250]
    assert [i for w in sink.writes for i in w] == [f"r{i}" for i in range(0, 2500, 2)]
    st = res.stats[0]
    assert (st.n_in, st.n_out, dict(st.rejected)) == (2501, 1250, {"odd": 1250, "malformed_json": 1})
    # a read failure is rejected before the step's own rejects of its batch, as when unsliced
    assert rej.writes[500] == ["x1", "first"] and rej.writes[499] == ["r999", "first"]


def test_other_first_steps_and_small_batches_are_not_sliced():
    plain = _Recorder()
    run_chain([plain], iter(_recs(2500)), _Sink(), _Rejects(), batch_size=1000, progress=False)
    assert plain.sizes == [1000, 1000, 500]
    small = _RecordWise()
    run_chain([small], _recs(300), _Sink(), _Rejects(), batch_size=100, progress=False)
    assert small.sizes == [100, 100, 100]
