#!/bin/sh
# Regenerates the typed gRPC code (ts-proto, grpc-js flavour) from proto/ with the npm-shipped buf CLI.
# Usage: scripts/gen-proto.sh [output-base-dir]   (default: the repository, i.e. src/protocols/proto/generated)
# src/protocols/proto/generated-code.test.ts regenerates into a temp dir and diffs, so commit the output.
set -eu
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
BASE="${1:-$ROOT}"
node_modules/.bin/buf lint proto
rm -rf "$BASE/src/protocols/proto/generated"
node_modules/.bin/buf generate proto --template proto/buf.gen.yaml -o "$BASE"
