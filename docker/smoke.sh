#!/usr/bin/env bash
# Run a built image through the CLI's three kinds of work (`make docker` and tests/python/test_docker.py):
#
#   docker/smoke.sh [IMAGE]            # default modelmint:cpu
#
# 1. `modelmint --help`;
# 2. deploy + `dataset mint` against a devnet that runs on the host. `modelmint devnet start` binds
#    anvil to 127.0.0.1 only, so the container shares the host's network (--network host);
# 3. `fingerprint compare` of a tiny random LlamaForCausalLM (made on the host with the project venv,
#    SmolLM2's tokenizer) against itself: ICS must be 1.
# Everything goes into a temporary folder mounted at /data; the devnet is stopped at the end.
set -euo pipefail

image=${1:-modelmint:cpu}
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
py=$repo/.venv/bin/python
[[ -x $py ]] || { echo "docker/smoke.sh: no project venv: run \`make deps\` first" >&2; exit 1; }
docker image inspect "$image" >/dev/null 2>&1 || { echo "docker/smoke.sh: no image $image: run docker/build.sh first" >&2; exit 1; }

work=$(mktemp -d /tmp/modelmint-smoke.XXXXXX)
export MODELMINT_HOME=$work/host-home  # the host's devnet record, apart from the user's own
cleanup() {
    "$repo/.venv/bin/modelmint" devnet stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
chmod 0777 "$work"  # the image runs as uid 1000
in_image() { docker run --rm --network host -v "$work:/data" "$image" "$@"; }
step() { printf '\n== docker/smoke.sh: %s\n' "$*"; }

step "modelmint --help"
in_image --help > "$work/help.txt"
grep -q 'dataset' "$work/help.txt"

step "dataset mint against the host's devnet"
export PATH=$repo/node_modules/.bin:$PATH  # anvil
url=$("$repo/.venv/bin/modelmint" devnet start --json | "$py" -c 'import json, sys; print(json.load(sys.stdin)["url"])')
printf '{"text": "hello"}\n{"text": "world"}\n{"text": "docker"}\n' > "$work/data.jsonl"
in_image deploy --rpc-url "$url" >/dev/null
in_image dataset mint /data/data.jsonl --name docker-smoke --rpc-url "$url" --json > "$work/mint.json"
"$py" -c 'import json, sys; r = json.load(open(sys.argv[1])); print(r); assert r' "$work/mint.json"

step "fingerprint compare on a tiny random Llama"
"$py" - "$work/tiny" <<'EOF'
import sys

import torch
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

from modelmint.models.bundled import smollm2_gguf

torch.manual_seed(0)
config = LlamaConfig(
    vocab_size=49152, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
    num_key_value_heads=2, tie_word_embeddings=True, bos_token_id=1, eos_token_id=2, pad_token_id=2,
)
LlamaForCausalLM(config).save_pretrained(sys.argv[1])
gguf = smollm2_gguf()
AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name).save_pretrained(sys.argv[1])
EOF
chmod -R a+rX "$work/tiny"
in_image fingerprint compare /data/tiny /data/tiny --tokens 256 --json > "$work/compare.json"
"$py" -c 'import json, sys; r = json.load(open(sys.argv[1])); print(r); assert abs(r["ics"] - 1) < 1e-3, r' "$work/compare.json"
step "passed: $image"
