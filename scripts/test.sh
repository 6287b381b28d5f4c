#!/usr/bin/env bash
# The project's test command (README): every test, property test and doctest, with the core
# alone (no default features) and with every feature, plus the README's main job (the demo)
# and the PRP tour as smoke runs, and a short smoke run of every fuzz target. It installs
# QEMU when missing and makes the QEMU conformance tests (tests/qemu_*.rs) mandatory: without
# QEMU they fail here instead of skipping.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== QEMU for the conformance tests"
bash scripts/install-qemu.sh
qemu-system-x86_64 --version
export NVME_DMA_REQUIRE_QEMU=1

echo "== the main job: nvme-dma demo"
cargo run --quiet -p nvme-dma-cli -- demo >/dev/null
echo "== tour example"
cargo run --quiet --example prp_tour >/dev/null
echo "== core unit tests without std or alloc"
cargo test --quiet --lib --no-default-features
echo "== all tests, all features (the library and the nvme-dma command)"
cargo test --workspace --all-features
echo "== fuzz package tests: seed corpora, corpus replay, the controller oracle (stable)"
bash scripts/fuzz.sh replay
echo "== fuzz smoke: every fuzz target for about 25 s (FUZZING.md)"
bash scripts/fuzz.sh smoke
