//! Write + read round trips through the mock controller, against a plain memcpy of the same
//! bytes in the same run.
//!
//! Each iteration submits a Write of `size` bytes and a Read of them back (two commands,
//! `2 × size` bytes moved), each through the full path: the host writes the SQE and rings the
//! doorbell, the controller fetches the SQE by DMA, walks the data pointer (PRP1 for 4 KiB;
//! PRP1 + a 31-entry PRP list for 128 KiB), probes the buffer, moves the data between
//! simulated host memory and the namespace, and posts the CQE; the host reaps it and rings
//! the CQ head doorbell. Tracing is off. Criterion's throughput is bytes moved, so its
//! figure compares directly with `memcpy`, which copies the same `2 × size` bytes.
//!
//! Run: `cargo bench --bench controller` (add `-- --quick` for a fast pass).

use nvme_dma_testkit::rig;

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use nvme_dma::controller::ControllerConfig;
use nvme_dma::dptr::{Request, SglPolicy};
use nvme_dma::spec::Opcode;
use nvme_dma::Direction;
use nvme_dma::Extent;
use nvme_dma::QueueKind;
use nvme_dma_testkit::pattern::pattern;
use rig::{io_sqe, Rig, DATA};

const SIZES: [u64; 2] = [4 * 1024, 128 * 1024];

fn round_trip(c: &mut Criterion) {
    let mut group = c.benchmark_group("controller_round_trip");
    for size in SIZES {
        let mut rig = Rig::new(ControllerConfig::default());
        rig.create_io_pair(1, 256);
        let blocks = (size / 512) as u32;
        let src = [Extent::new(DATA, size)];
        let dst = [Extent::new(DATA + 0x100_0000, size)];
        rig.poke(DATA, &pattern(1, size as usize));
        // Fill both commands once (PRP lists written into host memory), then resubmit them.
        let mut write = io_sqe(Opcode::NVM_WRITE, 1, 0, blocks);
        rig.fill(
            &mut write,
            &Request::new(&src, Direction::Write, QueueKind::Io),
            SglPolicy::Never,
        );
        let mut read = io_sqe(Opcode::NVM_READ, 1, 0, blocks);
        read.set_prp1(dst[0].addr);
        // The read gets its own list region: a second fill would overwrite the write's list.
        let read_list = DATA + 0x200_0000;
        if size > 8192 {
            let entries: Vec<u8> = (1..size / 4096)
                .flat_map(|i| (dst[0].addr + i * 4096).to_le_bytes())
                .collect();
            rig.poke(read_list, &entries);
            read.set_prp2(read_list);
        } else if size > 4096 {
            read.set_prp2(dst[0].addr + 4096);
        }
        // One round trip before timing, so the check after the loop holds even when a
        // name filter skips this size.
        let (w, r) = (rig.exec(1, write), rig.exec(1, read));
        assert!(w.status().is_success() && r.status().is_success());
        group.throughput(Throughput::Bytes(2 * size));
        group.bench_function(BenchmarkId::new("write+read", size), |b| {
            b.iter(|| {
                let w = rig.exec(1, black_box(write));
                let r = rig.exec(1, black_box(read));
                assert!(w.status().is_success() && r.status().is_success());
            })
        });
        assert_eq!(
            rig.peek(dst[0].addr, size as usize),
            pattern(1, size as usize)
        );
    }
    group.finish();
}

fn memcpy(c: &mut Criterion) {
    let mut group = c.benchmark_group("controller_round_trip");
    for size in SIZES {
        let src = pattern(1, size as usize);
        let mut stored = vec![0u8; size as usize];
        let mut back = vec![0u8; size as usize];
        group.throughput(Throughput::Bytes(2 * size));
        group.bench_function(BenchmarkId::new("memcpy", size), |b| {
            b.iter(|| {
                stored.copy_from_slice(black_box(&src));
                back.copy_from_slice(black_box(&stored));
            })
        });
    }
    group.finish();
}

criterion_group!(benches, round_trip, memcpy);
criterion_main!(benches);
