//! Properties of the mock controller: data written with one layout reads back with another
//! (PRP or SGL, scattered extents, bit buckets on reads), queues interleave without mixing
//! their data, and hostile command streams never panic, never write where a command's own
//! buffers are not, and change nothing when they fail.

use nvme_dma_testkit::rig;

use nvme_dma::controller::{ControllerConfig, DmaPurpose, DmaTarget, NamespaceConfig};
use nvme_dma::dptr::{self, SglPolicy};
use nvme_dma::sgl::{SegmentBuf, SglBuilder, SglCaps};
use nvme_dma::spec::{Opcode, Psdt, SglDescriptor, SubmissionEntry};
use nvme_dma::walk::Walk;
use nvme_dma::QueueKind;
use nvme_dma::{Direction, Piece};
use nvme_dma::{DmaMemory, Extent, PageSize};
use nvme_dma_testkit::pattern::pattern;
use proptest::prelude::*;
use rig::{Rig, DATA};

const BLOCK: u64 = 512;

/// Cut `total` bytes into pieces at the given cut fractions, each a multiple of 4 bytes, and
/// place piece i at its own 1 MiB slot, `offsets[i]` (dword aligned) into a page.
fn scatter(total: u64, cuts: &[u16], offsets: &[u16], base: u64) -> Vec<Extent> {
    let mut points: Vec<u64> = cuts
        .iter()
        .map(|&c| (u64::from(c) * total / u64::from(u16::MAX)) & !3)
        .filter(|&p| p > 0 && p < total)
        .collect();
    points.sort_unstable();
    points.dedup();
    points.push(total);
    let mut start = 0;
    points
        .iter()
        .enumerate()
        .map(|(i, &end)| {
            let off = u64::from(offsets.get(i).copied().unwrap_or(0)) & 0xffc;
            let e = Extent::new(base + (i as u64) * 0x10_0000 + off, end - start);
            start = end;
            e
        })
        .collect()
}

fn policy(i: u8) -> SglPolicy {
    match i % 4 {
        0 => SglPolicy::Never,
        1 => SglPolicy::Always,
        2 => SglPolicy::SmallestFootprint,
        _ => SglPolicy::Linux { threshold: 4096 },
    }
}

/// Whether `dptr` can carry `extents` in one command.
fn fits(rig: &Rig, extents: &[Extent], direction: Direction, policy: SglPolicy) -> bool {
    let req = dptr::Request::new(extents, direction, QueueKind::Io);
    matches!(
        dptr::plan(&req, &rig.caps(), policy),
        Ok(dptr::Plan::Prp { .. } | dptr::Plan::Sgl { .. })
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn write_with_one_layout_reads_back_with_another(
        nlb in 1u64..=64,
        slba in 0u64..1000,
        w_cuts in prop::collection::vec(any::<u16>(), 0..8),
        w_offsets in prop::collection::vec(any::<u16>(), 8),
        r_cuts in prop::collection::vec(any::<u16>(), 0..8),
        r_offsets in prop::collection::vec(any::<u16>(), 8),
        w_policy in any::<u8>(),
        r_policy in any::<u8>(),
        seed in any::<u64>(),
    ) {
        let mut rig = Rig::new(ControllerConfig::default());
        rig.create_io_pair(1, 16);
        let total = nlb * BLOCK;
        let src = scatter(total, &w_cuts, &w_offsets, DATA);
        let dst = scatter(total, &r_cuts, &r_offsets, DATA + 0x100_0000);
        prop_assume!(fits(&rig, &src, Direction::Write, policy(w_policy)));
        prop_assume!(fits(&rig, &dst, Direction::Read, policy(r_policy)));
        let data = pattern(seed, total as usize);
        let mut at = 0;
        for e in &src {
            rig.poke(e.addr, &data[at..at + e.len as usize]);
            at += e.len as usize;
        }
        let c = rig.io(1, Opcode::NVM_WRITE, (1, slba, nlb as u32), &src, policy(w_policy));
        prop_assert!(c.status().is_success(), "write: {}", c.status());
        let c = rig.io(1, Opcode::NVM_READ, (1, slba, nlb as u32), &dst, policy(r_policy));
        prop_assert!(c.status().is_success(), "read: {}", c.status());
        let back: Vec<u8> = dst.iter().flat_map(|e| rig.peek(e.addr, e.len as usize)).collect();
        prop_assert!(back == data, "data read back differs");
    }

    #[test]
    fn bit_buckets_on_reads_drop_exactly_their_bytes(
        nlb in 1u64..=32,
        cuts in prop::collection::vec(any::<u16>(), 1..8),
        skip_mask in any::<u8>(),
        seed in any::<u64>(),
    ) {
        let mut rig = Rig::new(ControllerConfig::default());
        rig.create_io_pair(1, 16);
        let total = nlb * BLOCK;
        let data = pattern(seed, total as usize);
        rig.poke(DATA, &data);
        let c = rig.io(1, Opcode::NVM_WRITE, (1, 0, nlb as u32), &[Extent::new(DATA, total)], SglPolicy::Never);
        prop_assert!(c.status().is_success());
        // Pieces of the read: every piece whose bit is set in skip_mask is a bit bucket.
        let extents = scatter(total, &cuts, &[0; 8], DATA + 0x100_0000);
        let pieces: Vec<Piece> = extents
            .iter()
            .enumerate()
            .map(|(i, e)| if skip_mask >> (i % 8) & 1 == 1 { Piece::Skip(e.len) } else { Piece::Data(*e) })
            .collect();
        prop_assume!(pieces.iter().any(|p| matches!(p, Piece::Data(_))));
        for e in &extents {
            rig.poke(e.addr, &vec![0xcc; e.len as usize]);
        }
        let caps = SglCaps::new(rig.m.controller.config().sgls);
        let builder = SglBuilder::new(caps, Direction::Read);
        let mut seg = vec![0u8; 4096];
        let seg_addr = rig::DESCRIPTORS + 0x10_0000;
        let layout = builder.build(&pieces, &mut [SegmentBuf::new(seg_addr, &mut seg)]).unwrap();
        rig.poke(seg_addr, &seg);
        let sqe = Rig::io_sqe(Opcode::NVM_READ, 1, 0, nlb as u32)
            .with_psdt(Psdt::Sgl)
            .with_sgl1(layout.sgl1.to_raw());
        let c = rig.exec(1, sqe);
        prop_assert!(c.status().is_success(), "{}", c.status());
        // Checked piece by piece by hand, not with `DataMover`: the controller moved the data
        // with the mover, and this is the oracle for it.
        let mut at = 0usize;
        for (p, e) in pieces.iter().zip(&extents) {
            let got = rig.peek(e.addr, e.len as usize);
            match p {
                Piece::Data(_) => prop_assert_eq!(&got[..], &data[at..at + e.len as usize]),
                _ => prop_assert!(got.iter().all(|&b| b == 0xcc), "a bit bucket's extent was written"),
            }
            at += e.len as usize;
        }
    }

    #[test]
    fn interleaved_queues_keep_their_data_apart(
        ops in prop::collection::vec((1u16..=3, any::<bool>(), 0u64..56, 1u64..=8, any::<u64>()), 1..40),
    ) {
        let config = ControllerConfig {
            namespaces: vec![NamespaceConfig::new(64, 512)],
            ..ControllerConfig::default()
        };
        let mut rig = Rig::new(config);
        for q in 1..=3 {
            rig.create_io_pair(q, 8);
        }
        let mut model = vec![0u8; 64 * 512];
        // Submit a batch across the queues, then ring queues 1, 2, 3 in turn: the controller
        // runs each queue's commands in order when its doorbell rings, so the model applies
        // the batch queue by queue.
        for batch in ops.chunks(6) {
            for (i, &(q, write, slba, nlb, seed)) in batch.iter().enumerate() {
                let buf = DATA + (i as u64) * 0x1_0000;
                let opcode = if write { Opcode::NVM_WRITE } else { Opcode::NVM_READ };
                let mut sqe = Rig::io_sqe(opcode, 1, slba, nlb as u32);
                let ext = [Extent::new(buf, nlb * 512)];
                let dir = if write { Direction::Write } else { Direction::Read };
                let req = dptr::Request::new(&ext, dir, QueueKind::Io);
                // Descriptor pages are shared by `fill`, so keep these to PRP1/PRP2 (≤ 8 KiB, aligned).
                rig.fill(&mut sqe, &req, SglPolicy::Never);
                if write {
                    rig.poke(buf, &pattern(seed, (nlb * 512) as usize));
                }
                sqe.set_cid(i as u16);
                rig.submit_no_doorbell(q, &sqe);
            }
            let mut expected_reads = Vec::new();
            for q in 1..=3u16 {
                for (i, &(_, write, slba, nlb, seed)) in batch.iter().enumerate().filter(|(_, op)| op.0 == q) {
                    let range = (slba * 512) as usize..((slba + nlb) * 512) as usize;
                    if write {
                        model[range].copy_from_slice(&pattern(seed, (nlb * 512) as usize));
                    } else {
                        expected_reads.push((DATA + (i as u64) * 0x1_0000, model[range].to_vec()));
                    }
                }
            }
            for q in 1..=3 {
                rig.ring_sq(q);
            }
            for q in 1..=3 {
                while let Some(c) = rig.reap(q) {
                    prop_assert!(c.status().is_success());
                }
            }
            for (buf, want) in expected_reads {
                prop_assert!(rig.peek(buf, want.len()) == want, "read at {:#x} saw other data", buf);
            }
        }
        prop_assert!(rig.m.controller.namespace_data(1, 0, 64).unwrap() == model, "namespace differs from the model");
    }

    #[test]
    fn hostile_commands_never_panic_and_failures_change_nothing(
        cmds in prop::collection::vec(
            (any::<u8>(), 0u32..3, any::<[u32; 3]>(), 0usize..6, 0usize..6, any::<u8>(), any::<[u8; 16]>()),
            1..24),
        garbage in prop::collection::vec(any::<u64>(), 64),
    ) {
        let config = ControllerConfig {
            namespaces: vec![NamespaceConfig::new(64, 512).with_metadata(8, false)],
            ..ControllerConfig::default()
        };
        let mut rig = Rig::new(config);
        rig.create_io_pair(1, 32);
        // A zone of random words that pointers may land in (lists, segments, data).
        let zone = DATA + 0x40_0000;
        let words: Vec<u8> = garbage.iter().flat_map(|w| w.to_le_bytes()).collect();
        rig.poke(zone, &words);
        let interesting = [zone, zone + 0x18, DATA, 0, rig.m.controller.config().bar0 - 0x800, u64::MAX - 0x1ff];
        rig.m.controller.set_tracing(true);
        for (op, nsid, [c10, c11, c12], a, b, psdt, sgl) in cmds {
            let opcode = match op % 8 {
                0 => Opcode::NVM_READ,
                1 => Opcode::NVM_WRITE,
                2 => Opcode::NVM_COMPARE,
                3 => Opcode::NVM_DATASET_MANAGEMENT,
                4 => Opcode::NVM_WRITE_ZEROES,
                5 => Opcode::NVM_FLUSH,
                _ => Opcode(op),
            };
            let mut sqe = SubmissionEntry::new(opcode, 0)
                .with_nsid(nsid)
                .with_cdw10(c10 % 80)
                .with_cdw11(if op % 8 == 3 { c11 } else { 0 })
                .with_cdw12(c12 & 0x0200_000f)
                .with_prp1(interesting[a])
                .with_prp2(interesting[b])
                .with_mptr(interesting[(a + b) % 6])
                .with_psdt(Psdt::from_bits(psdt));
            if psdt & 1 == 1 {
                sqe.set_sgl1(SglDescriptor::from_bytes(sgl));
            }
            // The buffers the command's pointers describe, found by an independent walk of the
            // same pointers over memory as it is before the command runs (a read may overwrite
            // its own lists).
            let caps = SglCaps::new(rig.m.controller.config().sgls);
            let nlb = sqe.block_range().blocks();
            let allowed: Vec<Extent> = match dptr::decode(&sqe, QueueKind::Io, &caps) {
                Ok(ptrs) => ptrs
                    .walk_data(Direction::Read, nlb * 512, PageSize::SIZE_4K, &caps, &rig.m.memory)
                    .pieces()
                    .chain(ptrs.walk_metadata(Direction::Read, nlb * 8, &caps, &rig.m.memory))
                    .filter_map(|p| match p.ok()? { Piece::Data(e) => Some(e), _ => None })
                    .collect(),
                Err(_) => Vec::new(),
            };
            let ns_before = rig.m.controller.namespace_data(1, 0, 64).unwrap();
            let snapshot = rig.m.memory.peek_vec(DATA, 0x80_0000).unwrap();
            let c = rig.exec(1, sqe);
            let trace = rig.m.controller.take_trace();
            let writes: Vec<_> = trace
                .accesses()
                .iter()
                .filter(|a| matches!(a.purpose, DmaPurpose::DataWrite | DmaPurpose::MetadataWrite))
                .filter(|a| a.target != DmaTarget::Refused)
                .collect();
            if !c.status().is_success() {
                prop_assert!(writes.is_empty(), "a failed command wrote host memory: {:?}", writes);
                prop_assert!(rig.m.memory.peek_vec(DATA, 0x80_0000).unwrap() == snapshot, "host memory changed");
                prop_assert!(rig.m.controller.namespace_data(1, 0, 64).unwrap() == ns_before, "namespace changed");
            } else if !writes.is_empty() {
                for w in writes {
                    let inside = allowed.iter().any(|e| w.addr >= e.addr && w.addr + w.len <= e.addr + e.len);
                    prop_assert!(inside, "write {:?} outside {:?} for {:?} (nlb {})", w, allowed, sqe, nlb);
                }
            }
        }
    }
}

#[test]
fn memory_probe_default_matches_reads() {
    // The trait's default probe (used by memories that do not override it) agrees with reads.
    struct Plain(nvme_dma::SimMemory);
    impl DmaMemory for Plain {
        fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), nvme_dma::DmaFault> {
            self.0.read(addr, buf)
        }
        fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), nvme_dma::DmaFault> {
            self.0.write(addr, data)
        }
    }
    let mut sim = nvme_dma::SimMemory::new();
    sim.map(0x1000, 0x1000).unwrap();
    let plain = Plain(sim);
    assert!(plain.probe(0x1000, 0x1000).is_ok());
    assert!(plain.probe(0x1800, 0x900).is_err());
    assert!(plain.probe(0xfff, 2).is_err());
    assert!(plain.probe(u64::MAX, 2).is_err());
    assert!(plain.probe(0x5000, 0).is_ok());
}
