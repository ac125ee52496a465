#!/usr/bin/env bash
# Real GPU check: the node agent's GPU list, read through NVML, must match nvidia-smi's
# (name, UUID, total memory in MiB, and the driver version), GPU by GPU. Run it on a machine
# with an NVIDIA GPU and driver. It builds the agent with cgo when Go is there, else it uses
# bin/dora-node-agent (AGENT=path to use another build).
set -euo pipefail
cd "$(dirname "$0")/../.."

agent=${AGENT:-bin/dora-node-agent}
if command -v go >/dev/null 2>&1 && [ -z "${AGENT:-}" ]; then
  CGO_ENABLED=1 CGO_CFLAGS="-O2 -g -Wno-deprecated-declarations" go build -o bin/ ./cmd/dora-node-agent
fi
if [ ! -x "$agent" ]; then
  echo "check.sh: no agent binary at $agent (build it with: CGO_ENABLED=1 go build -o bin/ ./cmd/dora-node-agent)" >&2
  exit 2
fi
if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo "check.sh: nvidia-smi not found: this check needs a machine with an NVIDIA GPU and driver" >&2
  exit 2
fi
# The agent loads libnvidia-ml.so.1 at run time; some images keep the driver outside the
# linker's cache.
if ! ldconfig -p 2>/dev/null | grep -q libnvidia-ml.so.1; then
  for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib/x86_64-linux-gnu /usr/lib64; do
    [ -e "$d/libnvidia-ml.so.1" ] && export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  done
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$agent" --once -o yaml --node-name "$(hostname)" --pod-resources-socket= >"$work/agent.yaml"
echo "== the agent's report (dora-node-agent --once -o yaml)"
cat "$work/agent.yaml"

# One line per GPU, in index order: name, uuid, memory MiB (the keys of each list item are
# written in alphabetical order, one per line).
awk '
  function unq(v) { gsub(/^["'\'']|["'\'']$/, "", v); return v }
  function flush() { if (uuid != "") printf "%s, %s, %s\n", product, uuid, mem; product = ""; uuid = ""; mem = "" }
  /^  gpus:/ { ingpus = 1; next }
  ingpus && /^  [a-zA-Z]/ { flush(); ingpus = 0 }
  ingpus && /^  - / { flush(); sub(/^  - /, "    ") }
  ingpus && /^    product: / { v = $0; sub(/^    product: /, "", v); product = unq(v) }
  ingpus && /^    uuid: / { v = $0; sub(/^    uuid: /, "", v); uuid = unq(v) }
  ingpus && /^    memoryTotalMiB: / { v = $0; sub(/^    memoryTotalMiB: /, "", v); mem = v }
  END { flush() }
' "$work/agent.yaml" >"$work/agent.csv"
nvidia-smi --query-gpu=name,uuid,memory.total --format=csv,noheader,nounits >"$work/smi.csv"

agent_driver=$(awk '/^  driverVersion: / {print $2}' "$work/agent.yaml" | tr -d '"')
smi_driver=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -n 1)

echo "== nvidia-smi --query-gpu=name,uuid,memory.total --format=csv,noheader,nounits"
cat "$work/smi.csv"
echo "== the agent, same columns"
cat "$work/agent.csv"
echo "== driver: nvidia-smi $smi_driver, agent $agent_driver"

status=0
if ! diff -u "$work/smi.csv" "$work/agent.csv"; then
  echo "FAIL: the agent's GPU list differs from nvidia-smi's" >&2
  status=1
fi
if [ "$agent_driver" != "$smi_driver" ]; then
  echo "FAIL: driver version differs: nvidia-smi $smi_driver, agent $agent_driver" >&2
  status=1
fi
if [ ! -s "$work/smi.csv" ]; then
  echo "FAIL: nvidia-smi listed no GPU" >&2
  status=1
fi
[ $status -eq 0 ] && echo "PASS: $(wc -l <"$work/smi.csv") GPU(s) match nvidia-smi"
exit $status
