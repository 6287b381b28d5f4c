//! PRP build and walk costs, per PRP entry (criterion's "elements" are PRP entries: PRP1, a
//! PRP2 data pointer, and every list entry, i.e. the pages the transfer touches).
//!
//! `baseline/per_page_loop` is the plain per-page loop most drivers write (one branch and one
//! store per page, list chaining checked per entry), measured in the same run for comparison.
//!
//! Run: `cargo bench --bench prp` (add `-- --quick` for a fast pass).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use nvme_dma::prp::{PrpBuilder, PrpLayout, PrpListPage, PrpWalker};
use nvme_dma::walk::Walk;
use nvme_dma::{Extent, PageSize, Piece, SliceMemory};

const LIST_BASE: u64 = 0x8000_0000;
const DATA_BASE: u64 = 0x1_0000_0000;

const SIZES: [(&str, u64); 6] = [
    ("4KiB", 4 << 10),
    ("8KiB", 8 << 10),
    ("128KiB", 128 << 10),
    ("1MiB", 1 << 20),
    ("2MiB+4KiB", (2 << 20) + (4 << 10)),
    ("8MiB", 8 << 20),
];

/// The transfer as one extent, or as page-sized extents scattered over every other page.
fn extents(len: u64, ps: PageSize, paged: bool) -> Vec<Extent> {
    if !paged {
        return vec![Extent::new(DATA_BASE, len)];
    }
    let p = ps.bytes();
    (0..len.div_ceil(p))
        .map(|i| Extent::new(DATA_BASE + 2 * i * p, p.min(len - i * p)))
        .collect()
}

fn list_buffer(ps: PageSize, extents: &[Extent]) -> (Vec<u8>, u64) {
    let plan = PrpBuilder::new(ps).plan(extents).unwrap();
    let pages = plan.list_pages_needed(LIST_BASE).max(1);
    (vec![0u8; (pages * ps.bytes()) as usize], plan.pages())
}

fn list_pages(buf: &mut [u8], ps: PageSize) -> Vec<PrpListPage<'_>> {
    buf.chunks_mut(ps.bytes() as usize)
        .enumerate()
        .map(|(i, c)| PrpListPage::new(LIST_BASE + i as u64 * ps.bytes(), c))
        .collect()
}

/// A built layout for the walk benchmarks, with the list memory it was written into.
fn built(ps: PageSize, extents: &[Extent]) -> (Vec<u8>, PrpLayout) {
    let (mut buf, _) = list_buffer(ps, extents);
    let layout = PrpBuilder::new(ps)
        .build(extents, &mut list_pages(&mut buf, ps))
        .unwrap();
    (buf, layout)
}

fn bench_build(c: &mut Criterion) {
    for ps in [PageSize::SIZE_4K, PageSize::SIZE_64K] {
        for paged in [false, true] {
            let shape = if paged { "page_extents" } else { "one_extent" };
            let mut group = c.benchmark_group(format!("build/{}/{shape}", ps.bytes() >> 10));
            for (name, len) in SIZES {
                let ext = extents(len, ps, paged);
                let (mut buf, entries) = list_buffer(ps, &ext);
                let mut pages = list_pages(&mut buf, ps);
                let builder = PrpBuilder::new(ps);
                group.throughput(Throughput::Elements(entries));
                group.bench_function(BenchmarkId::from_parameter(name), |b| {
                    b.iter(|| builder.build(black_box(&ext), &mut pages).unwrap())
                });
            }
            group.finish();
        }
    }
}

fn bench_short(c: &mut Criterion) {
    let builder = PrpBuilder::new(PageSize::SIZE_4K);
    let mut group = c.benchmark_group("build_inline");
    group.throughput(Throughput::Elements(2));
    group.bench_function("8KiB_offset", |b| {
        b.iter(|| {
            builder
                .build_inline(black_box(Extent::new(DATA_BASE + 0x200, 0x1e00)))
                .unwrap()
        })
    });
    group.finish();
}

fn bench_walk(c: &mut Criterion) {
    for ps in [PageSize::SIZE_4K, PageSize::SIZE_64K] {
        for paged in [false, true] {
            let shape = if paged { "page_extents" } else { "one_extent" };
            let mut group = c.benchmark_group(format!("walk/{}/{shape}", ps.bytes() >> 10));
            for (name, len) in SIZES {
                let ext = extents(len, ps, paged);
                let (mut buf, layout) = built(ps, &ext);
                let entries = layout.plan.pages();
                let mem = SliceMemory::new(LIST_BASE, &mut buf);
                group.throughput(Throughput::Elements(entries));
                group.bench_function(BenchmarkId::from_parameter(name), |b| {
                    // The batch API, as an emulator building an I/O vector would use it.
                    let mut out = [Piece::Skip(0); 64];
                    b.iter(|| {
                        let mut segments = 0usize;
                        let mut walker =
                            PrpWalker::new(layout.pair.prp1, layout.pair.prp2.raw(), len, ps, &mem);
                        loop {
                            let progress = walker.fill(&mut out).unwrap();
                            segments += progress.written;
                            if progress.done {
                                break;
                            }
                        }
                        black_box((segments, out[0]))
                    })
                });
            }
            group.finish();
        }
    }
}

/// The per-page loop most drivers write: for each page, compute its address, store it, and
/// check per entry whether the list page is full and must chain.
fn per_page_loop(ext: &[Extent], ps: u64, list: &mut [u64], list_base: u64) -> (u64, u64) {
    let prp1 = ext[0].addr;
    let mut slot = 0usize;
    let mut first = true;
    let per_page = (ps / 8) as usize;
    let total_pages: u64 = ext.iter().map(|e| (e.addr % ps + e.len).div_ceil(ps)).sum();
    let mut left = total_pages - 1;
    for e in ext {
        let mut addr = e.addr & !(ps - 1);
        let end = e.addr + e.len;
        while addr < end {
            if first {
                first = false;
            } else {
                if slot % per_page == per_page - 1 && left > 1 {
                    list[slot] = list_base + ((slot / per_page + 1) * ps as usize) as u64;
                    slot += 1;
                }
                list[slot] = addr;
                slot += 1;
                left -= 1;
            }
            addr += ps;
        }
    }
    (prp1, list_base)
}

fn bench_baseline(c: &mut Criterion) {
    let ps = PageSize::SIZE_4K;
    for paged in [false, true] {
        let shape = if paged { "page_extents" } else { "one_extent" };
        let mut group = c.benchmark_group(format!("baseline/per_page_loop/4/{shape}"));
        for (name, len) in [("128KiB", 128u64 << 10), ("8MiB", 8 << 20)] {
            let ext = extents(len, ps, paged);
            let entries = PrpBuilder::new(ps).plan(&ext).unwrap().pages();
            let mut list = vec![0u64; 8 * 512];
            group.throughput(Throughput::Elements(entries));
            group.bench_function(BenchmarkId::from_parameter(name), |b| {
                b.iter(|| per_page_loop(black_box(&ext), 4096, &mut list, LIST_BASE))
            });
        }
        group.finish();
    }
}

/// The iterator form of the walk, one segment per call, on scattered pages (its worst case).
fn bench_walk_iter(c: &mut Criterion) {
    let ps = PageSize::SIZE_4K;
    let mut group = c.benchmark_group("walk_iter/4/page_extents");
    let ext = extents(1 << 20, ps, true);
    let (mut buf, layout) = built(ps, &ext);
    let entries = layout.plan.pages();
    let mem = SliceMemory::new(LIST_BASE, &mut buf);
    group.throughput(Throughput::Elements(entries));
    group.bench_function("1MiB", |b| {
        b.iter(|| {
            let walker =
                PrpWalker::new(layout.pair.prp1, layout.pair.prp2.raw(), 1 << 20, ps, &mem);
            black_box(walker.into_iter().map(|s| s.unwrap().len()).sum::<u64>())
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    bench_build,
    bench_short,
    bench_walk,
    bench_walk_iter,
    bench_baseline
);
criterion_main!(benches);
