# LLMTrace task runner. `just --list` shows everything.
set shell := ["bash", "-euo", "pipefail", "-c"]

venv := ".venv/bin"

# Create .venv and install the project with its dev tools
setup:
    ./scripts/setup.sh

# Run the proxy on the embedded SQLite store (extra flags are passed through)
run *ARGS:
    {{venv}}/llmtrace-proxy {{ARGS}}

# Lint, type-check, check the layering, then run every test
test *ARGS: lint
    {{venv}}/pytest -q {{ARGS}}

# Only the fast tests: domain, use cases, actors, the forwarder in process, and the contract suites on their
# in-process implementations. No services and no processes (a test that tries fails: see tests/conftest.py)
test-unit *ARGS:
    LLMTRACE_TEST_TIER=unit {{venv}}/pytest -q tests/unit tests/contract -m "not services and not process" {{ARGS}}

# ruff, mypy and the import-linter layering contracts
lint:
    {{venv}}/ruff check .
    {{venv}}/mypy
    {{venv}}/lint-imports

# Format the code
fmt:
    {{venv}}/ruff format .
    {{venv}}/ruff check --fix .

# Benchmarks: `just bench overhead [--profile]`, `compare`, `storage`, `ingest`, `hardening`, `traffic`, `protection`, `usage`,
# `anomalies`, `dashboard`, `hop` (the hop against a minimal upstream, rounds with spread), `eval_datasets [--analyzer ensemble --operating-point all]`,
# `family_holdout` (leave-one-family-out through the whole analyzer),
# `ml_cost` (model load, latency, proxy memory; NanoGuard second opinion too), `ml_probes` (NER and toxicity on the labelled probes),
# `stack_ceiling` (bare hypercorn+trio answering a fixed reply at concurrency 32: the most any proxy on this stack could serve)
bench WHAT *ARGS:
    {{venv}}/python -m bench.{{WHAT}} {{ARGS}}

# Retrain the ML heads (injection/jailbreak, harmful request) from ../shared/datasets, packaged and own data, and
# re-export the toxicity model (writes adapters/ml/weights)
train-detectors:
    {{venv}}/python -m ml.train_detectors
    {{venv}}/python -m ml.export_toxicity

# Offline demo: the mock upstream, the proxy in front of it, a few SDK calls, then the captured traces
demo:
    {{venv}}/python -m bench.demo

# Regenerate the gRPC code of adapters/grpc/proto/llmtrace.proto (committed)
grpc-codegen:
    {{venv}}/python -m grpc_tools.protoc -I adapters/grpc/proto --python_out=adapters/grpc --pyi_out=adapters/grpc --grpc_python_out=adapters/grpc adapters/grpc/proto/llmtrace.proto
    sed -i 's/^import llmtrace_pb2 as llmtrace__pb2/from adapters.grpc import llmtrace_pb2 as llmtrace__pb2/' adapters/grpc/llmtrace_pb2_grpc.py
