#!/usr/bin/env bash
# Coverage-guided fuzzing of nvme-dma with cargo-fuzz (libFuzzer); see FUZZING.md.
#
#   bash scripts/fuzz.sh smoke               every target for FUZZ_SECONDS each (default 25)
#   bash scripts/fuzz.sh campaign [TARGET..]  every target (or those named) for FUZZ_SECONDS
#                                             each (default 3600), then a summary to record
#   bash scripts/fuzz.sh replay              the committed corpora and reproducers through
#                                             every check, as ordinary tests (no fuzzing)
#   bash scripts/fuzz.sh planted             the fuzzing kit's examples (kit_*): each must find
#                                             the bug planted in it from an empty corpus within
#                                             PLANTED_SECONDS (default 30), the input it saves
#                                             must pass with the bug out, and with the bug out
#                                             it must find nothing in CLEAN_SECONDS (default 10)
#
# The kit_* targets fail on purpose while their bug is in, so smoke and campaign leave them
# out unless they are named (NVME_DMA_PLANTED_FAULT=off takes the bugs out).
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
    planted)
        seconds="${PLANTED_SECONDS:-30}"
        clean_seconds="${CLEAN_SECONDS:-10}"
        ;;
    campaign)
        seconds="${FUZZ_SECONDS:-3600}"
        # Comparisons guide the search further (slower per run, better for long runs).
        FUZZ_FLAGS+=(-use_value_profile=1)
        ;;
    *) echo "usage: $0 [smoke|campaign [TARGET..]|replay|planted [TARGET..]]" >&2; exit 2 ;;
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

# Every target fuzz/Cargo.toml lists (the planted examples, kit_*, for the planted mode, the
# others otherwise), unless some were named.
if [ $# -gt 0 ]; then
    targets=("$@")
elif [ "$mode" = planted ]; then
    mapfile -t targets < <(cargo fuzz list | grep '^kit_')
else
    mapfile -t targets < <(cargo fuzz list | grep -v '^kit_')
fi
build() {
    if [ "$mode" = planted ]; then
        for target in "${targets[@]}"; do
            cargo "${toolchain[@]}" fuzz build -s none "$target" || return 1
        done
    else
        cargo "${toolchain[@]}" fuzz build -s none
    fi
}
if ! build; then
    # A new nightly can break a build that the default toolchain still does.
    [ ${#toolchain[@]} -gt 0 ] || exit 1
    echo "fuzz: the nightly build failed; fuzzing with $(rustc --version)" >&2
    toolchain=()
    build
fi

if [ "$mode" = planted ]; then
    # Each run starts from nothing (no seeds, no work corpus), so that finding the bug is
    # the kit's doing; its crashes go beside it, not to fuzz/artifacts/, which holds real
    # failures.
    summary=()
    for target in "${targets[@]}"; do
        dir="fuzz/target/planted/$target"
        rm -rf "$dir"
        mkdir -p "$dir/corpus" "$dir/found" "$dir/clean"
        echo "== planted $target: bug in, up to ${seconds}s from an empty corpus"
        start=$(date +%s%N)
        if NVME_DMA_PLANTED_FAULT=on cargo "${toolchain[@]}" fuzz run -s none "$target" \
            "$dir/corpus" -- "${FUZZ_FLAGS[@]}" -max_total_time="$seconds" \
            -artifact_prefix="$dir/found/" >"$dir/bug-in.log" 2>&1; then
            tail -n 20 "$dir/bug-in.log"
            echo "fuzz: $target did not find its planted bug in ${seconds}s" >&2
            exit 1
        fi
        took=$(( ($(date +%s%N) - start) / 1000000 ))
        crash=$(find "$dir/found" -type f -name 'crash-*' | head -n 1)
        if [ -z "$crash" ] || ! grep -q "panicked at fuzz_targets/$target.rs" "$dir/bug-in.log"; then
            tail -n 60 "$dir/bug-in.log"
            echo "fuzz: $target failed, but not on a finding of its checker" >&2
            exit 1
        fi
        runs=$(grep -o '^#[0-9]*' "$dir/bug-in.log" | tail -n 1)
        echo "   $(grep -A1 'panicked at' "$dir/bug-in.log" | sed -n 2p)"
        # The input that found it passes once the bug is out: the finding is the bug, not a
        # disagreement between the example and the kit.
        echo "== planted $target: that input with the bug out"
        if ! NVME_DMA_PLANTED_FAULT=off cargo "${toolchain[@]}" fuzz run -s none "$target" \
            "$crash" >"$dir/replay.log" 2>&1; then
            tail -n 40 "$dir/replay.log"
            echo "fuzz: $target fails on $crash even with the bug out" >&2
            exit 1
        fi
        echo "== planted $target: bug out, ${clean_seconds}s"
        if ! NVME_DMA_PLANTED_FAULT=off cargo "${toolchain[@]}" fuzz run -s none "$target" \
            "$dir/corpus" -- "${FUZZ_FLAGS[@]}" -max_total_time="$clean_seconds" \
            -artifact_prefix="$dir/clean/" >"$dir/bug-out.log" 2>&1; then
            tail -n 60 "$dir/bug-out.log"
            echo "fuzz: $target found something with the bug out; the input is in $dir/clean/" >&2
            exit 1
        fi
        # cargo-fuzz makes its own artifact directory even when the prefix points elsewhere.
        rmdir "fuzz/artifacts/$target" 2>/dev/null || true
        clean_runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/bug-out.log" | tail -n 1)
        summary+=("$(printf '%-14s bug found after %6d ms (%s runs); bug out: %s runs, nothing found' \
            "$target" "$took" "${runs#\#}" "${clean_runs:-?}")")
    done
    echo "== planted summary ($(cargo "${toolchain[@]}" --version))"
    printf '%s\n' "${summary[@]}"
    exit 0
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
