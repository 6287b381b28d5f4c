//! A fixed workload for counting instructions per PRP entry, independent of machine load:
//!
//! ```sh
//! cargo build --release --example prp_hot_loops
//! valgrind --tool=callgrind target/release/examples/prp_hot_loops build   # or: walk, iter, for
//! ```
//!
//! Each mode runs 1000 iterations over an 8 MiB transfer made of 2048 page-sized extents on
//! every other 4 KiB page (nothing merges, the list chains over five pages): divide the
//! instruction total by 2,048,000 for instructions per PRP entry. `walk` walks through `fill`
//! into 64 pieces, `iter` through the iterator form's `sum` (its `fold`), `for` through a `for`
//! loop (its `next`). Mode `build64` is the build of `build/64/page_extents/1MiB` instead (16
//! extents of 64 KiB, a 15-entry list), 1000 times by default. A second argument sets the iterations, to
//! time a mode outside the benchmark harness (`time prp_hot_loops iter 100000`).

use std::hint::black_box;

use nvme_dma::prp::{PrpBuilder, PrpListPage, PrpWalker};
use nvme_dma::walk::Walk;
use nvme_dma::{Extent, PageSize, Piece, SliceMemory};

fn main() {
    let ps = PageSize::SIZE_4K;
    let extents: Vec<Extent> = (0..2048u64)
        .map(|i| Extent::new(0x1_0000_0000 + 2 * i * 4096, 4096))
        .collect();
    let mut buf = vec![0u8; 5 * 4096];
    let builder = PrpBuilder::new(ps);
    let mode = std::env::args().nth(1).unwrap_or_default();
    let iterations: u64 = std::env::args()
        .nth(2)
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000);
    let mut checksum = 0u64;
    let layout = {
        let mut pages: Vec<PrpListPage<'_>> = buf
            .chunks_mut(4096)
            .enumerate()
            .map(|(i, c)| PrpListPage::new(0x8000_0000 + i as u64 * 4096, c))
            .collect();
        if mode == "build" {
            for _ in 0..iterations {
                checksum += builder
                    .build(black_box(&extents), &mut pages)
                    .unwrap()
                    .plan
                    .len();
            }
        }
        builder.build(&extents, &mut pages).unwrap()
    };
    let mem = SliceMemory::new(0x8000_0000, &mut buf);
    let walker = || {
        let (prp1, prp2) = (layout.pair.prp1, layout.pair.prp2.raw());
        PrpWalker::new(prp1, prp2, 8 << 20, ps, black_box(&mem))
    };
    if mode == "iter" {
        for _ in 0..iterations {
            checksum += black_box(walker().into_iter().map(|p| p.unwrap().len()).sum::<u64>());
        }
    }
    if mode == "for" {
        for _ in 0..iterations {
            let mut sum = 0;
            for piece in walker() {
                sum += piece.unwrap().len();
            }
            checksum += black_box(sum);
        }
    }
    if mode == "walk" {
        let mut out = [Piece::Skip(0); 64];
        for _ in 0..iterations {
            let mut walker = walker();
            loop {
                let progress = walker.fill(&mut out).unwrap();
                checksum += progress.written as u64;
                if progress.done {
                    break;
                }
            }
        }
    }
    if mode == "build64" {
        checksum += build_64k_scattered(iterations);
    }
    println!("{mode}: checksum {checksum}");
}

/// The build of `build/64/page_extents/1MiB`: 16 extents of 64 KiB on every other 64 KiB page,
/// a list of 15 entries, `iterations` times.
fn build_64k_scattered(iterations: u64) -> u64 {
    let ps = PageSize::SIZE_64K;
    let page = ps.bytes();
    let extents: Vec<Extent> = (0..16u64)
        .map(|i| Extent::new(0x1_0000_0000 + 2 * i * page, page))
        .collect();
    let mut buf = vec![0u8; page as usize];
    let mut pages = [PrpListPage::new(0x8000_0000, &mut buf)];
    let builder = PrpBuilder::new(ps);
    (0..iterations)
        .map(|_| {
            let layout = builder.build(black_box(&extents), &mut pages).unwrap();
            black_box(layout).plan.len()
        })
        .sum()
}
