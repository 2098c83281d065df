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
	@mkdir -p $(DEMO)
	$(BIN)/forge run sample_data/recipe.yaml --out $(DEMO)/curated --stats-json $(DEMO)/stats.json
	@echo
	@echo "demo output: $(DEMO)/curated (Parquet shards + _manifest.json), rejects: $(DEMO)/curated/rejects.jsonl"

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
