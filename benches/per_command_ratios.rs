//! The per-command ratio table: for every pair of `benches/peers/pairs.rs` and every case, the
//! crate and the peer's port run alternately in rounds, and the median of the same-round
//! ratios crate/peer is reported (below 1: the crate is faster). Pairing each round's two
//! timings cancels most of what drifts between rounds (frequency, other load), which
//! criterion's separate runs cannot. Batches are short (0.2 ms a side) so that few are
//! preempted on a busy machine, and there are many rounds (31) for the median to discard
//! those that are.
//!
//! Run: `cargo bench --bench per_command_ratios` (a few seconds). It prints
//! markdown tables: one per shape, a row per pair and a column per size, each cell
//! `ratio (crate ns / peer ns)` with the per-command medians.

mod peers;

use std::hint::black_box;
use std::time::{Duration, Instant};

use peers::cases::{Case, Shape, SIZES};
use peers::pairs::{self, Pair, Runner};

// The system allocator, counting allocations, so that a timed round that allocates is
// caught: both sides must do their per-command work in memory set up beforehand.
#[path = "../tests/common/counting_alloc.rs"]
mod counting_alloc;

/// Rounds per case; the median of this many ratios is reported.
const ROUNDS: usize = 31;
/// How long one side's batch runs in a round.
const BATCH: Duration = Duration::from_micros(200);

/// One case's result: the median ratio and the median per-command times.
#[derive(Clone, Copy, Debug)]
struct Measured {
    ratio: f64,
    ours_ns: f64,
    theirs_ns: f64,
}

struct Ratios {
    last: Option<Measured>,
}

fn time_batch<F: FnMut() -> u64>(f: &mut F, iters: u64) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        black_box(f());
    }
    start.elapsed()
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

impl Runner for Ratios {
    fn run<A: FnMut() -> u64, B: FnMut() -> u64>(
        &mut self,
        _peer: &str,
        mut ours: A,
        mut theirs: B,
    ) {
        // Calibrate: the iteration count that makes the slower side's batch about BATCH.
        let mut iters = 1u64;
        loop {
            let t = time_batch(&mut ours, iters).max(time_batch(&mut theirs, iters));
            if t >= BATCH / 4 {
                let scale = BATCH.as_secs_f64() / t.as_secs_f64();
                iters = ((iters as f64 * scale) as u64).max(1);
                break;
            }
            iters *= 2;
        }
        let (mut ratios, mut a_ns, mut b_ns) = (
            Vec::with_capacity(ROUNDS),
            Vec::with_capacity(ROUNDS),
            Vec::with_capacity(ROUNDS),
        );
        let allocations = counting_alloc::allocations();
        for round in 0..ROUNDS {
            // Alternate which side goes first, so neither always runs on a warmer cache.
            let (ta, tb) = if round % 2 == 0 {
                let ta = time_batch(&mut ours, iters);
                (ta, time_batch(&mut theirs, iters))
            } else {
                let tb = time_batch(&mut theirs, iters);
                (time_batch(&mut ours, iters), tb)
            };
            ratios.push(ta.as_secs_f64() / tb.as_secs_f64());
            a_ns.push(ta.as_secs_f64() * 1e9 / iters as f64);
            b_ns.push(tb.as_secs_f64() * 1e9 / iters as f64);
        }
        assert_eq!(
            counting_alloc::allocations(),
            allocations,
            "a timed command allocated"
        );
        self.last = Some(Measured {
            ratio: median(&mut ratios),
            ours_ns: median(&mut a_ns),
            theirs_ns: median(&mut b_ns),
        });
    }
}

fn cell(m: Option<Measured>) -> String {
    match m {
        Some(m) => format!("{:.2} ({:.0} / {:.0} ns)", m.ratio, m.ours_ns, m.theirs_ns),
        None => "n/a".to_string(),
    }
}

fn main() {
    // `cargo bench` passes `--bench`; nothing here takes arguments.
    let started = Instant::now();
    let mut r = Ratios { last: None };
    println!("Median of {ROUNDS} same-round ratios crate/peer (below 1: the crate is faster);");
    println!("in brackets the median time per command, crate / peer.\n");
    for shape in Shape::ALL {
        println!("### {}\n", shape.label());
        let mut header = String::from("| pair |");
        let mut rule = String::from("|---|");
        for (size, _) in SIZES {
            header.push_str(&format!(" {size} |"));
            rule.push_str("---|");
        }
        println!("{header}\n{rule}");
        for pair in Pair::ALL {
            let mut row = format!("| {} |", pair.row());
            for size in SIZES {
                let case = Case::new(shape, size);
                let m = if pair.applies(&case) {
                    r.last = None;
                    pair.run(&case, &mut r);
                    r.last
                } else {
                    None
                };
                row.push_str(&format!(" {} |", cell(m)));
            }
            println!("{row}");
        }
        println!();
    }
    println!("### small SGL walks (`SglWalker` / QEMU `nvme_map_sgl`)\n");
    println!("| case | ratio |\n|---|---|");
    for small in pairs::SMALL_WALKS {
        let case = pairs::small_walk_case(small);
        r.last = None;
        pairs::sgl_walk(&case, &case.extents, &mut r);
        println!("| {} | {} |", case.size, cell(r.last));
    }
    println!("\n(n/a: SPDK's tracker holds at most 250 SGL descriptors.)");
    eprintln!("ratio run took {:.1} s", started.elapsed().as_secs_f64());
}
