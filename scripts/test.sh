#!/usr/bin/env bash
# The project's test command (README): every test, property test and doctest, with the core
# without std and with every feature, plus the README's main job (the demo)
# and the examples (the PRP and SGL tours, the emulator, the driver round trip) as smoke runs,
# a short smoke run of every fuzz target, and the fuzzing kit's planted-bug examples (each
# must find its bug, and nothing once it is out). It installs QEMU when missing and makes the QEMU
# conformance tests (tests/qemu_*.rs) mandatory: without QEMU they fail here instead of
# skipping.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== QEMU for the conformance tests"
bash scripts/install-qemu.sh
qemu-system-x86_64 --version
export NVME_DMA_REQUIRE_QEMU=1

echo "== the main job: nvme-dma demo"
cargo run --quiet -p nvme-dma-cli -- demo >/dev/null
echo "== examples"
cargo run --quiet --example prp_tour >/dev/null
cargo run --quiet --example sgl_tour >/dev/null
cargo run --quiet --example emulator --features vm-memory >/dev/null
cargo run --quiet --example driver_round_trip >/dev/null
# The test kit, a dev-dependency, needs `alloc`, and cargo unifies features within a test
# build: so these run without std but with alloc. CI builds the core with no feature at all.
echo "== core unit tests without std"
cargo test --quiet --lib --no-default-features
echo "== all tests, all features (the library and the nvme-dma command)"
cargo test --workspace --all-features
echo "== fuzz package tests: seed corpora, corpus replay, the controller oracle (stable)"
bash scripts/fuzz.sh replay
echo "== fuzz smoke: every fuzz target for about 25 s (FUZZING.md)"
bash scripts/fuzz.sh smoke
echo "== fuzz planted: the kit's examples find their planted bugs, and nothing with them out"
bash scripts/fuzz.sh planted
