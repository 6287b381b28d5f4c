#!/usr/bin/env bash
# The project's test command (README): every test, property test and doctest, with the core
# alone (no default features) and with every feature, plus the tour example as a smoke run.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== tour example"
cargo run --quiet --example prp_tour >/dev/null
echo "== core unit tests without std or alloc"
cargo test --quiet --lib --no-default-features
echo "== all tests, all features"
cargo test --all-features
echo "== fuzz smoke: every fuzz target for about 25 s (FUZZING.md)"
bash scripts/fuzz.sh smoke
