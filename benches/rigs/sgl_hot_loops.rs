//! A fixed workload for counting instructions per SGL data descriptor, independent of machine
//! load:
//!
//! ```sh
//! cargo build --release --example sgl_hot_loops
//! valgrind --tool=callgrind target/release/examples/sgl_hot_loops build 4096   # or: fill, iter
//! valgrind --tool=callgrind target/release/examples/sgl_hot_loops none 4096    # set-up only
//! ```
//!
//! The layout is the one `benches/sgl.rs` measures: N extents of 4 KiB on every other page
//! (nothing merges, so N extents make N data descriptors), in segments of 256 descriptors.
//! Mode `iter-moved` is `iter` with the walker moved after it is made: the cost of a move
//! (the bench's iterator moved its walker until it made it in the loop).
//! Mode `inline` is `build_inline` on one extent, 4,096,000 times, whatever N (compare with
//! `none 1`). Modes `skips-build`, `skips-fill` and `skips-iter` build or walk a read instead, with a
//! 512-byte bit bucket in place of every other extent (`skips-none` is their set-up).
//! Each mode repeats the whole build or walk until about 4,096,000 descriptors have passed
//! (1000 times at N = 4096, 4,096,000 times at N = 1). Instructions per descriptor:
//! ("I refs" of the mode - "I refs" of `none` or `skips-none`, same N) / 4,096,000.
//!
//! A third argument R > 1 runs that pass R times and prints the fastest in ns per build or
//! walk (`sgl_hot_loops fill 16 15`), for timing two builds against each other in turn.

use std::hint::black_box;
use std::time::Instant;

use nvme_dma::sgl::{SegmentBuf, SglBuilder, SglCaps, SglWalker};
use nvme_dma::spec::{SglSupport, Sgls};
use nvme_dma::walk::Walk;
use nvme_dma::{Direction, Piece};
use nvme_dma::{Extent, SliceMemory};

const SEGMENT_BASE: u64 = 0x8000_0000;
const DATA_BASE: u64 = 0x1_0000_0000;
const TOTAL_DESCRIPTORS: u64 = 4_096_000;

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let n: u64 = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(4096);
    let repeats: u32 = std::env::args()
        .nth(3)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let rounds = TOTAL_DESCRIPTORS / n;
    let caps = SglCaps::new(Sgls::from_support(SglSupport::DwordAligned) | Sgls::BIT_BUCKET);
    let skips = mode.starts_with("skips");
    let direction = if skips {
        Direction::Read
    } else {
        Direction::Write
    };
    let extents: Vec<Extent> = (0..n)
        .map(|i| Extent::new(DATA_BASE + 2 * i * 4096, 4096))
        .collect();
    let pieces: Vec<Piece> = (0..n)
        .map(|i| match i % 2 {
            1 => Piece::Skip(512),
            _ => Piece::Data(extents[i as usize]),
        })
        .collect();
    let builder = SglBuilder::new(caps, direction);
    let plan = if skips {
        builder.plan(&pieces)
    } else {
        builder.plan(&extents)
    };
    let pages = plan.unwrap().segments_needed(256).max(1);
    let mut buf = vec![0u8; pages as usize * 4096];
    let mut checksum = 0u64;
    let layout = {
        let mut segments: Vec<SegmentBuf<'_>> = buf
            .chunks_mut(4096)
            .enumerate()
            .map(|(i, c)| SegmentBuf::new(SEGMENT_BASE + i as u64 * 4096, c))
            .collect();
        if mode == "build" {
            // As the bench does: the layout is read where `build` returned it.
            timed(repeats, rounds, || {
                for _ in 0..rounds {
                    let layout = builder.build(black_box(&extents), &mut segments);
                    checksum += black_box(layout.as_ref().unwrap()).plan.len();
                }
            });
        }
        if mode == "inline" {
            // `build_inline` on one contiguous buffer (N is ignored: one descriptor a call).
            let only = extents[0];
            timed(repeats, TOTAL_DESCRIPTORS, || {
                for _ in 0..TOTAL_DESCRIPTORS {
                    let sgl1 = builder.build_inline(black_box(only));
                    black_box(sgl1.as_ref().unwrap());
                    checksum += 1;
                }
            });
        }
        if mode == "skips-build" {
            timed(repeats, rounds, || {
                for _ in 0..rounds {
                    let layout = builder.build(black_box(&pieces), &mut segments);
                    checksum += black_box(layout.as_ref().unwrap()).plan.len();
                }
            });
        }
        if skips {
            builder.build(&pieces, &mut segments).unwrap()
        } else {
            builder.build(&extents, &mut segments).unwrap()
        }
    };
    let (sgl1, len) = (layout.sgl1.to_raw(), layout.plan.len());
    let mem = SliceMemory::new(SEGMENT_BASE, &mut buf);
    match mode.as_str() {
        "fill" | "skips-fill" => {
            let mut out = [Piece::Skip(0); 64];
            timed(repeats, rounds, || {
                for _ in 0..rounds {
                    let mut walker = SglWalker::new(black_box(sgl1), direction, len, &caps, &mem);
                    loop {
                        let progress = walker.fill(&mut out).unwrap();
                        checksum += progress.written as u64;
                        if progress.done {
                            break;
                        }
                    }
                }
            });
        }
        "iter-moved" => {
            // The iterator with the walker made, then moved into the loop (`black_box` keeps
            // the move): the cost of moving a walker.
            timed(repeats, rounds, || {
                for _ in 0..rounds {
                    let walker = SglWalker::new(black_box(sgl1), direction, len, &caps, &mem);
                    for piece in black_box(walker) {
                        black_box(piece.unwrap());
                        checksum += 1;
                    }
                }
            });
        }
        "iter" | "skips-iter" => {
            timed(repeats, rounds, || {
                for _ in 0..rounds {
                    for piece in SglWalker::new(black_box(sgl1), direction, len, &caps, &mem) {
                        black_box(piece.unwrap());
                        checksum += 1;
                    }
                }
            });
        }
        _ => {}
    }
    println!("{mode} {n}: checksum {checksum}");
}

/// Run `pass` (the mode's loop: `calls` builds or walks) `repeats` times and, when that is
/// more than once, print the fastest pass in ns per call. The fastest of many short passes
/// is the figure least disturbed by other work on the machine, so two builds run one after
/// the other in turn compare fairly; it also shows stalls an instruction count cannot
/// (a load that waits for stores to reach the cache costs time, not instructions).
fn timed(repeats: u32, calls: u64, mut pass: impl FnMut()) {
    let mut fastest = f64::INFINITY;
    for _ in 0..repeats.max(1) {
        let start = Instant::now();
        pass();
        fastest = fastest.min(start.elapsed().as_secs_f64() * 1e9 / calls as f64);
    }
    if repeats > 1 {
        println!("fastest of {repeats} passes: {fastest:.2} ns per call");
    }
}
