//! SGL build and walk costs, per data descriptor (criterion's "elements" are data
//! descriptors: one per scattered extent here).
//!
//! The extents are 4 KiB pieces on every other page, so none merge: N extents make N
//! descriptors (`sgl_build_merging` has pieces that merge, and an empty one). Segments are
//! 4 KiB pages (256 descriptors each), chained as needed: 1 descriptor is SGL1 alone, 16 and
//! 256 fit one Last Segment, 4096 take 17 segments.
//! Walks are measured twice: through `Walk::fill` into a 64-piece buffer, and as an
//! iterator (`Walk::pieces`, which fills 16 pieces at a time, and hands out SGL1 as the whole
//! transfer with no look-ahead).
//!
//! Run: `cargo bench --bench sgl` (add `-- --quick` for a fast pass).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use nvme_dma::sgl::{SegmentBuf, SglBuilder, SglCaps, SglWalker, WalkLimits};
use nvme_dma::spec::{SglDescriptor, SglSupport, Sgls};
use nvme_dma::walk::Walk;
use nvme_dma::{Direction, Piece};
use nvme_dma::{Extent, SliceMemory};

const SEGMENT_BASE: u64 = 0x8000_0000;
const DATA_BASE: u64 = 0x1_0000_0000;
const COUNTS: [u64; 4] = [1, 16, 256, 4096];

fn caps() -> SglCaps {
    SglCaps::new(Sgls::from_support(SglSupport::DwordAligned) | Sgls::BIT_BUCKET)
}

fn extents(n: u64) -> Vec<Extent> {
    (0..n)
        .map(|i| Extent::new(DATA_BASE + 2 * i * 4096, 4096))
        .collect()
}

fn segment_memory(n: u64) -> Vec<u8> {
    let plan = SglBuilder::new(caps(), Direction::Write)
        .plan(extents(n))
        .unwrap();
    vec![0u8; (plan.segments_needed(256).max(1) * 4096) as usize]
}

fn segments(buf: &mut [u8]) -> Vec<SegmentBuf<'_>> {
    buf.chunks_mut(4096)
        .enumerate()
        .map(|(i, c)| SegmentBuf::new(SEGMENT_BASE + i as u64 * 4096, c))
        .collect()
}

fn bench_build(c: &mut Criterion) {
    let mut group = c.benchmark_group("sgl_build");
    let builder = SglBuilder::new(caps(), Direction::Write);
    for n in COUNTS {
        let ext = extents(n);
        let mut buf = segment_memory(n);
        let mut segs = segments(&mut buf);
        group.throughput(Throughput::Elements(n));
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            // The layout stays where `build` returned it and `std::hint::black_box` gets a
            // reference to it, as a driver reads the fields it needs. Moving the whole 80-byte
            // value right after it was written (criterion's `black_box` copies a returned
            // value; so does `black_box(layout)`) copies it in 16-byte blocks across the
            // narrower stores that wrote it, which the processor cannot forward: at one piece
            // that stall cost three times the build itself.
            b.iter(|| {
                let layout = builder.build(black_box(&ext), &mut segs);
                black_box(layout.as_ref().unwrap());
            })
        });
    }
    group.finish();
}

/// The fast path for one contiguous buffer: SGL1 as one Data Block, no segment memory.
fn bench_build_inline(c: &mut Criterion) {
    let mut group = c.benchmark_group("sgl_build_inline");
    let builder = SglBuilder::new(caps(), Direction::Write);
    group.throughput(Throughput::Elements(1));
    group.bench_function(BenchmarkId::from_parameter(1), |b| {
        b.iter(|| {
            let sgl1 = builder.build_inline(black_box(Extent::new(DATA_BASE, 128 << 10)));
            black_box(sgl1.as_ref().unwrap());
        })
    });
    group.finish();
}

/// Walk an SGL to the end, through `fill` into `out` or as an iterator; the pieces found (as
/// in the PRP benches, the consumer only counts them).
fn walk(
    sgl1: SglDescriptor,
    direction: Direction,
    len: u64,
    caps: &SglCaps,
    mem: &SliceMemory<'_>,
    out: Option<&mut [Piece]>,
) -> usize {
    let mut pieces = 0;
    match out {
        Some(out) => {
            let mut walker = SglWalker::new(black_box(sgl1), direction, len, caps, mem);
            loop {
                let progress = walker.fill(out).unwrap();
                pieces += progress.written;
                if progress.done {
                    black_box(&out[0]);
                    break;
                }
            }
        }
        None => {
            for piece in SglWalker::new(black_box(sgl1), direction, len, caps, mem) {
                black_box(piece.unwrap());
                pieces += 1;
            }
        }
    }
    pieces
}

/// Walks through `fill` (64 pieces per call) and as an iterator.
const WALKS: [(&str, bool); 2] = [("fill", true), ("iter", false)];

fn bench_walk(c: &mut Criterion) {
    let caps = caps().with_limits(WalkLimits::DEFAULT);
    for (how, by_fill) in WALKS {
        let mut group = c.benchmark_group(format!("sgl_walk_{how}"));
        for n in COUNTS {
            let ext = extents(n);
            let mut buf = segment_memory(n);
            let layout = {
                let mut segs = segments(&mut buf);
                SglBuilder::new(caps, Direction::Write)
                    .build(&ext, &mut segs)
                    .unwrap()
            };
            let (sgl1, len) = (layout.sgl1.to_raw(), layout.plan.len());
            let mem = SliceMemory::new(SEGMENT_BASE, &mut buf);
            let mut out = [Piece::Skip(0); 64];
            group.throughput(Throughput::Elements(n));
            group.bench_function(BenchmarkId::from_parameter(n), |b| {
                b.iter(|| {
                    let out = by_fill.then_some(&mut out[..]);
                    black_box(walk(sgl1, Direction::Write, len, &caps, &mem, out))
                })
            });
        }
        group.finish();
    }
}

/// A read with a bit bucket between every two data pieces.
fn bench_walk_read_skips(c: &mut Criterion) {
    let mut group = c.benchmark_group("sgl_walk_read_skips");
    let caps = caps();
    let n = 256u64;
    let pieces: Vec<Piece> = (0..n)
        .map(|i| {
            if i % 2 == 1 {
                Piece::Skip(512)
            } else {
                Piece::Data(Extent::new(DATA_BASE + 2 * i * 4096, 4096))
            }
        })
        .collect();
    let mut buf = vec![0u8; 2 * 4096];
    let layout = {
        let mut segs = segments(&mut buf);
        SglBuilder::new(caps, Direction::Read)
            .build(&pieces, &mut segs)
            .unwrap()
    };
    let (sgl1, len) = (layout.sgl1.to_raw(), layout.plan.len());
    let mem = SliceMemory::new(SEGMENT_BASE, &mut buf);
    let mut out = [Piece::Skip(0); 64];
    group.throughput(Throughput::Elements(n));
    for (how, by_fill) in WALKS {
        group.bench_function(BenchmarkId::new(how, n), |b| {
            b.iter(|| {
                let out = by_fill.then_some(&mut out[..]);
                black_box(walk(sgl1, Direction::Read, len, &caps, &mem, out))
            })
        });
    }
    group.finish();
}

/// The loops most drivers and emulators write, with no checks beyond the descriptor type:
/// one 16-byte store per extent, and one 16-byte load and a type test per descriptor. They
/// calibrate the machine: the library's figures are best read as multiples of these.
fn bench_baseline(c: &mut Criterion) {
    let mut group = c.benchmark_group("baseline/plain_loop");
    for n in [256u64, 4096] {
        let ext = extents(n);
        let mut out = vec![[0u8; 16]; n as usize];
        group.throughput(Throughput::Elements(n));
        group.bench_function(BenchmarkId::new("build", n), |b| {
            b.iter(|| {
                for (slot, e) in out.iter_mut().zip(black_box(&ext)) {
                    slot[..8].copy_from_slice(&e.addr.to_le_bytes());
                    slot[8..12].copy_from_slice(&(e.len as u32).to_le_bytes());
                    slot[12..].copy_from_slice(&[0, 0, 0, 0]);
                }
            })
        });
        group.bench_function(BenchmarkId::new("walk", n), |b| {
            b.iter(|| {
                let mut total = 0u64;
                for d in black_box(&out) {
                    if d[15] >> 4 != 0 {
                        return u64::MAX;
                    }
                    let addr = u64::from_le_bytes(d[..8].try_into().unwrap());
                    let len = u32::from_le_bytes(d[8..12].try_into().unwrap());
                    total = total.wrapping_add(u64::from(len)).wrapping_add(addr & 1);
                }
                black_box(total)
            })
        });
    }
    group.finish();
}

/// Requests the quickest scan does not take: 4 KiB pieces physically adjacent in pairs (each
/// pair one descriptor), and the scattered pieces with an empty one after the first. Both go
/// through the merging scan and the merging writer.
fn bench_build_merging(c: &mut Criterion) {
    let mut group = c.benchmark_group("sgl_build_merging");
    let builder = SglBuilder::new(caps(), Direction::Write);
    for n in [2u64, 16, 256] {
        let ext: Vec<Extent> = (0..n)
            .map(|i| Extent::new(DATA_BASE + (i / 2) * 3 * 4096 + (i % 2) * 4096, 4096))
            .collect();
        let mut buf = vec![0u8; 8 * 4096];
        let mut segs = segments(&mut buf);
        group.bench_function(BenchmarkId::new("pairs", n), |b| {
            b.iter(|| {
                let layout = builder.build(black_box(&ext), &mut segs);
                black_box(layout.as_ref().unwrap());
            })
        });
        let mut ext2 = extents(n);
        ext2.insert(1, Extent::new(0, 0));
        group.bench_function(BenchmarkId::new("with_empty", n), |b| {
            b.iter(|| {
                let layout = builder.build(black_box(&ext2), &mut segs);
                black_box(layout.as_ref().unwrap());
            })
        });
    }
    group.finish();
}

criterion_group!(
    benches,
    bench_build,
    bench_build_merging,
    bench_build_inline,
    bench_walk,
    bench_walk_read_skips,
    bench_baseline
);
criterion_main!(benches);
