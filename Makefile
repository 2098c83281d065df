# dialog-forge developer tasks. `make demo` and `make test` each work alone on a fresh clone.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO := build/demo
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install demo test bench lint schema clean

install: $(STAMP)

# torch first and pinned, so that no dependency pulls a CUDA build of torch onto a CPU machine
$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: install
	@rm -rf $(DEMO) && mkdir -p $(DEMO)  # a fresh demo each time (forge train refuses to overwrite a run)
	@echo "== 1/5 ingest -> clean -> dedup -> augment -> score -> mix -> split (sample_data/recipe.yaml)"
	$(BIN)/forge run sample_data/recipe.yaml --out $(DEMO)/shards --stats-json $(DEMO)/stats.json
	@echo "== 2/5 gate: the checks a CI job would run"
	$(BIN)/forge gate $(DEMO)/shards --min-mean 0.6 --max-pii 0 --max-leakage 0 --min-per-domain 10 \
		--junit $(DEMO)/gate.xml --json $(DEMO)/gate.json
	@echo "== 3/5 a tiny random Llama model and tokenizer (offline stand-in for a real base model)"
	$(BIN)/forge tiny-model $(DEMO)/tiny-model --text sample_data/raw/customer_service.sharegpt.jsonl
	@echo "== 4/5 QLoRA (NF4) fine-tuning of the tiny model on the demo shards"
	$(BIN)/forge train --method qlora --r 8 --base-model $(DEMO)/tiny-model --data $(DEMO)/shards \
		--out $(DEMO)/run --max-steps 30 --eval-steps 10 --max-length 512 --lr 1e-3 --seed 1
	@echo "== 5/5 eval: the adapter against its base on the test split"
	$(BIN)/forge eval $(DEMO)/run --data $(DEMO)/shards/test --general general=sample_data/general_eval.jsonl \
		--out $(DEMO)/eval --gen-limit 8
	@echo
	@echo "demo output in $(DEMO)/: shards/ (train/ val/ test/ Parquet + _manifest.json, rejects.jsonl),"
	@echo "  gate.xml, run/ (adapter, tokenizer, loss_curve.png), eval/ (eval.json, radar.png)"

test: install
	$(BIN)/python -m pytest -q

bench: install
	@for f in benchmarks/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

lint: install
	$(BIN)/ruff check dialog_forge tests benchmarks

schema: install
	$(BIN)/forge schema > schemas/dialogue.schema.json

clean:
	rm -rf build forge-rejects.jsonl
