//! A fixed workload for counting instructions per PRP entry, independent of machine load:
//!
//! ```sh
//! cargo build --release --example prp_hot_loops
//! valgrind --tool=callgrind target/release/examples/prp_hot_loops build   # or: walk
//! ```
//!
//! Each mode runs 1000 iterations over an 8 MiB transfer made of 2048 page-sized extents on
//! every other 4 KiB page (nothing merges, the list chains over five pages): divide the
//! instruction total by 2,048,000 for instructions per PRP entry.

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
    let mut checksum = 0u64;
    let layout = {
        let mut pages: Vec<PrpListPage<'_>> = buf
            .chunks_mut(4096)
            .enumerate()
            .map(|(i, c)| PrpListPage::new(0x8000_0000 + i as u64 * 4096, c))
            .collect();
        if mode == "build" {
            for _ in 0..1000 {
                checksum += builder
                    .build(black_box(&extents), &mut pages)
                    .unwrap()
                    .plan
                    .len();
            }
        }
        builder.build(&extents, &mut pages).unwrap()
    };
    if mode == "walk" {
        let mem = SliceMemory::new(0x8000_0000, &mut buf);
        let mut out = [Piece::Skip(0); 64];
        for _ in 0..1000 {
            let mut walker = PrpWalker::new(
                layout.pair.prp1,
                layout.pair.prp2.raw(),
                8 << 20,
                ps,
                black_box(&mem),
            );
            loop {
                let progress = walker.fill(&mut out).unwrap();
                checksum += progress.written as u64;
                if progress.done {
                    break;
                }
            }
        }
    }
    println!("{mode}: checksum {checksum}");
}
