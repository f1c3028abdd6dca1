#!/usr/bin/env bash
# Builds the page's WebAssembly module (crates/wasm) into web/rollcoach.wasm,
# which the server embeds. Deterministic: the same toolchain gives the same
# bytes from any checkout path (paths are remapped), so CI rebuilds it and
# compares it with the committed file (.ci/run).
#   web/build-wasm.sh            build and write web/rollcoach.wasm
#   web/build-wasm.sh OUT.wasm   build and write OUT.wasm instead
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd -P)"
out="${1:-$root/web/rollcoach.wasm}"
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
cargo_home="$(cd "$cargo_home" 2> /dev/null && pwd -P || echo "$cargo_home")"
rustup target list --installed | grep -q wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
cd "$root"
# Its own target directory: the flags below differ from a plain build's.
target_dir="$root/target/wasm"
RUSTFLAGS="--remap-path-prefix=$root=/rollcoach --remap-path-prefix=$cargo_home=/cargo" \
  cargo build -p rollcoach-wasm --target wasm32-unknown-unknown --profile wasm-release \
  --locked --target-dir "$target_dir"
cp "$target_dir/wasm32-unknown-unknown/wasm-release/rollcoach_wasm.wasm" "$out"
echo "wrote $out ($(wc -c < "$out") bytes, $(gzip -9n < "$out" | wc -c) gzipped)"
