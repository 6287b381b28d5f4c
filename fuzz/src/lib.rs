//! The checks behind nvme-dma's fuzz targets, their structured inputs, and the seed corpora.
//!
//! Each fuzz target in `fuzz_targets/` (but the two kit examples below) is one line: decode
//! an input with `arbitrary` and hand it to a `check` function here. Keeping the checks in a library lets an ordinary test
//! (`tests/replay.rs`) run every committed corpus file through them on a stable toolchain, and
//! lets `tests/seeds.rs` write the seed corpora from typed values.
//!
//! Every check asserts invariants, not only "no panic": the walker's documented work bound
//! (memory reads counted by [`SimMemory`](nvme_dma::SimMemory)), no DMA write at all from a
//! walker and no byte written outside the list or segment memory a builder was given, no
//! change of any kind when a command or a build fails, and agreement with an independent
//! oracle or reference walker.
//!
//! | target | module | what it feeds |
//! |---|---|---|
//! | `wire_roundtrip` | [`wire`] | 64 + 16 + 16 raw bytes as SQE, CQE, SGL descriptor; PSDT decode |
//! | `prp_walk` | [`prp_walk`] | PRP1, PRP2, length, page size and host memory to the PRP walker |
//! | `sgl_walk` | [`sgl_walk`] | SGL1 or MPTR, direction, capabilities and memory to the SGL walker |
//! | `prp_build_walk` | [`prp_build`] | extents to the PRP builder, then its layout to the walker |
//! | `sgl_build_walk` | [`sgl_build`] | pieces to the SGL builder, then its layout to the walker |
//! | `controller` | [`controller`] (oracle: [`monitor`]) | register writes, doorbells, commands through real queues, host stores, restarts |
//!
//! Two more targets, `kit_emulator` and `kit_driver`, are examples of the fuzzing kit
//! ([`nvme_dma::fuzzkit`]) run against code with a bug planted on purpose ([`planted`]). They
//! are not in [`TARGETS`]: with the bug in they are meant to fail. `scripts/fuzz.sh planted`
//! fuzzes them with the bug in, then out; `tests/planted.rs` runs their harness over fixed
//! inputs.

pub mod controller;
mod controller_seeds;
pub mod descriptor_memory;
pub mod encode;
pub mod memory;
pub mod monitor;
pub mod planted;
pub mod prp_build;
pub mod prp_reference;
pub mod prp_walk;
pub mod seeds;
pub mod sgl_build;
pub mod sgl_walk;
pub mod wire;

/// The names of the fuzz targets, as `cargo fuzz` and the corpus directories know them.
pub const TARGETS: [&str; 6] = [
    "wire_roundtrip",
    "prp_walk",
    "sgl_walk",
    "prp_build_walk",
    "sgl_build_walk",
    "controller",
];

/// Decode `data` as a target's input, exactly as the fuzz target does, and run its check.
/// Inputs that do not decode are skipped, as libFuzzer's harness skips them. Unknown target
/// names panic.
pub fn run_target(target: &str, data: &[u8]) {
    fn run<T: for<'a> arbitrary::Arbitrary<'a>>(data: &[u8], check: fn(&T)) {
        if let Ok(input) = T::arbitrary_take_rest(arbitrary::Unstructured::new(data)) {
            check(&input);
        }
    }
    match target {
        "wire_roundtrip" => run(data, wire::check),
        "prp_walk" => run(data, prp_walk::check),
        "sgl_walk" => run(data, sgl_walk::check),
        "prp_build_walk" => run(data, prp_build::check),
        "sgl_build_walk" => run(data, sgl_build::check),
        "controller" => run(data, controller::check),
        other => panic!("no fuzz target named {other}"),
    }
}

/// Collect a walk (any walker's iterator); a walk that failed must yield nothing after its
/// error.
pub fn collect_walk<T, E: std::fmt::Display>(
    walk: &mut impl Iterator<Item = Result<T, E>>,
) -> Result<Vec<T>, E> {
    let mut out = Vec::new();
    while let Some(item) = walk.next() {
        match item {
            Ok(piece) => out.push(piece),
            Err(e) => {
                assert!(walk.next().is_none(), "the walk went on after {e}");
                return Err(e);
            }
        }
    }
    Ok(out)
}
