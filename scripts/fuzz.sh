#!/usr/bin/env bash
# Coverage-guided fuzzing of nvme-dma with cargo-fuzz (libFuzzer); see FUZZING.md.
#
#   bash scripts/fuzz.sh smoke               every target for FUZZ_SECONDS each (default 25)
#   bash scripts/fuzz.sh campaign [TARGET..]  every target (or those named) for FUZZ_SECONDS
#                                             each (default 3600), then a summary to record
#   bash scripts/fuzz.sh replay              the committed corpora and reproducers through
#                                             every check, as ordinary tests (no fuzzing)
#
# Installs what it needs: cargo-fuzz from crates.io, and the nightly toolchain through rustup
# when it is missing. The targets build without sanitizers (`-s none`): the crate forbids
# unsafe code, so AddressSanitizer would only slow the search; without it cargo-fuzz also
# works on a stable toolchain, which is used when nightly cannot be installed.
#
# New inputs the fuzzer finds go to fuzz/target/work/<target>/ (not committed); crashes to
# fuzz/artifacts/<target>/. The committed seeds (fuzz/corpus/) and reproducers
# (fuzz/regressions/) are read, never written.
set -euo pipefail
cd "$(dirname "$0")/.."

# Inputs up to 16 KiB: room for two full 4 KiB list pages or segments written out.
FUZZ_FLAGS=(-max_len=16384 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1)

mode="${1:-smoke}"
[ $# -gt 0 ] && shift

if [ "$mode" = replay ]; then
    cargo test --manifest-path fuzz/Cargo.toml
    exit 0
fi

case "$mode" in
    smoke) seconds="${FUZZ_SECONDS:-25}" ;;
    campaign)
        seconds="${FUZZ_SECONDS:-3600}"
        # Comparisons guide the search further (slower per run, better for long runs).
        FUZZ_FLAGS+=(-use_value_profile=1)
        ;;
    *) echo "usage: $0 [smoke|campaign [TARGET..]|replay]" >&2; exit 2 ;;
esac
# The toolchain: nightly (installed when missing), else the default one.
toolchain=()
if command -v rustup >/dev/null; then
    if rustup run nightly rustc --version >/dev/null 2>&1 ||
        timeout 300 rustup toolchain install nightly --profile minimal; then
        toolchain=(+nightly)
    else
        echo "fuzz: no nightly toolchain here; fuzzing with $(rustc --version)" >&2
    fi
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

# Every target fuzz/Cargo.toml lists, unless some were named.
if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi
if ! cargo "${toolchain[@]}" fuzz build -s none; then
    # A new nightly can break a build that the default toolchain still does.
    [ ${#toolchain[@]} -gt 0 ] || exit 1
    echo "fuzz: the nightly build failed; fuzzing with $(rustc --version)" >&2
    toolchain=()
    cargo fuzz build -s none
fi

summary=()
for target in "${targets[@]}"; do
    work="fuzz/target/work/$target"
    mkdir -p "$work"
    corpora=("$work" "fuzz/corpus/$target")
    [ -d "fuzz/regressions/$target" ] && corpora+=("fuzz/regressions/$target")
    log="fuzz/target/work/$target.log"
    echo "== fuzz $target for ${seconds}s"
    if ! cargo "${toolchain[@]}" fuzz run -s none "$target" "${corpora[@]}" -- \
        "${FUZZ_FLAGS[@]}" -max_total_time="$seconds" >"$log" 2>&1; then
        tail -n 60 "$log"
        echo "fuzz: $target failed; the input is in fuzz/artifacts/$target/ (FUZZING.md says what next)" >&2
        exit 1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
    corpus=$(find "$work" -type f | wc -l)
    summary+=("$(printf '%-16s %12s runs  %-10s  %6s files in the work corpus' "$target" "${runs:-?}" "$cov" "$corpus")")
done

echo "== fuzz summary ($mode, ${seconds}s per target, $(cargo "${toolchain[@]}" --version))"
printf '%s\n' "${summary[@]}"
