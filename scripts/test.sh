#!/usr/bin/env bash
# The project's test command (README): every test, property test and doctest, with the core
# alone (no default features) and with every feature, plus the README's main job (the demo) as a
# smoke run.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== the main job: nvme-dma demo"
cargo run --quiet -p nvme-dma-cli -- demo >/dev/null
echo "== core unit tests without std or alloc"
cargo test --quiet --lib --no-default-features
echo "== all tests, all features (the library and the nvme-dma command)"
cargo test --workspace --all-features
