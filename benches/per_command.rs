//! The 4 KiB command, and its larger siblings: the crate's per-command data pointer paths
//! against ports of what Linux, SPDK and QEMU do per command (`benches/peers`), on the same
//! inputs in the same criterion group.
//!
//! Groups are `per_command/<pair>/<shape>/<size>`, each with a `crate` and a peer function
//! (`linux`, `spdk` or `qemu`); the pairs are listed in `benches/peers/pairs.rs`. Shapes:
//! `aligned` (one page-aligned buffer), `offset_0x200` (the same 0x200 bytes into a page),
//! `scattered` (page-sized extents on every other page). SPDK's SGL builds refuse more than
//! 250 descriptors, so the 1 MiB scattered SGL groups have no SPDK function and are left out.
//!
//! What each side's time covers: a Linux command includes giving its pool blocks back
//! (`nvme_unmap_data`, which the driver runs at completion); address translation is free on
//! every side (SPDK's `spdk_vtophys` is a table lookup per page or element in reality), and
//! QEMU's per-command allocations (the scatter-gather list, the PRP list buffer) are
//! preallocated, so the SPDK and QEMU times are lower bounds. QEMU adds one entry per PRP
//! entry or descriptor; the crate's walkers merge adjacent pages into one piece.
//!
//! Run: `cargo bench --bench per_command` (filter with e.g. `-- prp_build/aligned`). For the
//! table of interleaved same-round ratios, run `cargo bench --bench per_command_ratios`.

mod peers;

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};

use peers::cases::Case;
use peers::pairs::{self, Pair, Runner};

/// Times both closures in one group.
struct Group<'a, 'c> {
    group: &'a mut BenchmarkGroup<'c, WallTime>,
}

impl Runner for Group<'_, '_> {
    fn run<A: FnMut() -> u64, B: FnMut() -> u64>(
        &mut self,
        peer: &str,
        mut ours: A,
        mut theirs: B,
    ) {
        self.group
            .bench_function("crate", |b| b.iter(|| black_box(ours())));
        self.group
            .bench_function(peer, |b| b.iter(|| black_box(theirs())));
    }
}

fn per_command(c: &mut Criterion) {
    for pair in Pair::ALL {
        for case in Case::all() {
            if !pair.applies(&case) {
                continue;
            }
            let mut group = c.benchmark_group(format!(
                "per_command/{}/{}/{}",
                pair.name(),
                case.shape.label(),
                case.size
            ));
            pair.run(&case, &mut Group { group: &mut group });
            group.finish();
        }
    }
    for small in pairs::SMALL_WALKS {
        let case = pairs::small_walk_case(small);
        let mut group = c.benchmark_group(format!("per_command/sgl_walk/{}", case.size));
        pairs::sgl_walk(&case, &case.extents, &mut Group { group: &mut group });
        group.finish();
    }
}

criterion_group! {
    name = benches;
    // About 320 functions: short runs keep a full pass near ten minutes.
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(30);
    targets = per_command
}
criterion_main!(benches);
