//! Behaviour profiles of the mock controller: each switch changes exactly the answer it
//! names, a lenient mapper moves the same bytes as the strict walkers on every valid layout,
//! and a looping SGL under QEMU's profile is a recorded hang, never a real one.

use nvme_dma_testkit::rig;

use nvme_dma::controller::{ControllerConfig, ControllerEvent, Deviation, Profile};
use nvme_dma::dptr::{self, SglPolicy};
use nvme_dma::spec::{
    Fuse, Opcode, Psdt, SglDescriptor, SglDescriptorType as T, SglSubtype, Sgls, Status,
    SubmissionEntry,
};
use nvme_dma::{Direction, Extent, QueueKind};
use nvme_dma_testkit::pattern::pattern;
use proptest::prelude::*;
use rig::{Rig, DATA, DESCRIPTORS};

const BLOCK: u64 = 512;

fn rig_with(profile: Profile) -> Rig {
    let mut rig = Rig::new(ControllerConfig {
        profile,
        ..ControllerConfig::default()
    });
    rig.create_io_pair(1, 16);
    rig
}

fn write_at(slba: u64, blocks: u32) -> SubmissionEntry {
    Rig::io_sqe(Opcode::NVM_WRITE, 1, slba, blocks)
}

fn sgl(sqe: SubmissionEntry, sgl1: SglDescriptor) -> SubmissionEntry {
    sqe.with_psdt(Psdt::Sgl).with_sgl1(sgl1)
}

fn data(addr: u64, len: u32) -> SglDescriptor {
    SglDescriptor::new(addr, len, T::DataBlock, SglSubtype::Address)
}

fn pointer(kind: T, segment: u64, descriptors: u32) -> SglDescriptor {
    SglDescriptor::new(segment, descriptors * 16, kind, SglSubtype::Address)
}

fn put(rig: &mut Rig, addr: u64, descriptors: &[SglDescriptor]) {
    let bytes: Vec<u8> = descriptors.iter().flat_map(|d| d.to_bytes()).collect();
    rig.poke(addr, &bytes);
}

/// Run `sqe` on I/O queue 1 of a strict controller and of one with `deviation` on, each
/// prepared by `setup`; returns both statuses.
fn both(
    deviation: Deviation,
    setup: impl Fn(&mut Rig),
    sqe: SubmissionEntry,
    qid: u16,
) -> (Status, Status) {
    let run = |profile| {
        let mut rig = rig_with(profile);
        setup(&mut rig);
        rig.exec(qid, sqe).status()
    };
    (run(Profile::STRICT), run(Profile::STRICT.with(deviation)))
}

#[test]
fn prp1_with_bits_1_0_set_is_refused_strictly_and_moved_leniently() {
    let (strict, lenient) = both(
        Deviation::Prp1NotDwordAligned,
        |rig| rig.poke(DATA + 2, &pattern(1, 512)),
        write_at(0, 1).with_prp1(DATA + 2),
        1,
    );
    assert_eq!(strict, Status::PRP_OFFSET_INVALID.with_dnr(true));
    assert!(lenient.is_success(), "{lenient}");
}

#[test]
fn the_lenient_prp_mapper_moves_the_bytes_from_the_unaligned_address() {
    let mut rig = rig_with(Profile::STRICT.with(Deviation::Prp1NotDwordAligned));
    let bytes = pattern(7, 512);
    rig.poke(DATA + 1, &bytes);
    let c = rig.exec(1, write_at(3, 1).with_prp1(DATA + 1));
    assert!(c.status().is_success());
    assert_eq!(rig.m.controller.namespace_data(1, 3, 1).unwrap(), bytes);
}

#[test]
fn a_prp_list_pointer_off_a_qword_is_read_where_it_points_only_leniently() {
    // Three pages: PRP1, then a list of two entries at a pointer 4 bytes into a qword.
    let list = DESCRIPTORS + 0x14;
    let setup = |rig: &mut Rig| {
        let entries: Vec<u8> = [DATA + 0x1000, DATA + 0x2000]
            .iter()
            .flat_map(|e| e.to_le_bytes())
            .collect();
        rig.poke(list, &entries);
    };
    let sqe = write_at(0, 24).with_prp1(DATA).with_prp2(list);
    let (strict, lenient) = both(Deviation::PrpListPointerNotQwordAligned, setup, sqe, 1);
    assert_eq!(strict, Status::PRP_OFFSET_INVALID.with_dnr(true));
    assert!(lenient.is_success(), "{lenient}");
}

#[test]
fn a_keyed_data_block_in_sgl1_is_a_type_error_strictly_and_a_segment_error_leniently() {
    let keyed = SglDescriptor::new(DATA, 512, T::KeyedDataBlock, SglSubtype::Address);
    let (strict, lenient) = both(
        Deviation::SglNonDataAsSegment,
        |_| {},
        sgl(write_at(0, 1), keyed),
        1,
    );
    assert_eq!(strict, Status::SGL_DESCRIPTOR_TYPE_INVALID.with_dnr(true));
    assert_eq!(
        lenient,
        Status::INVALID_SGL_SEGMENT_DESCRIPTOR.with_dnr(true)
    );
}

#[test]
fn an_offset_subtype_is_refused_unless_subtypes_are_ignored() {
    let offset = SglDescriptor::new(DATA, 512, T::DataBlock, SglSubtype::Offset);
    let (strict, lenient) = both(
        Deviation::SglSubtypeIgnored,
        |_| {},
        sgl(write_at(0, 1), offset),
        1,
    );
    assert_eq!(strict, Status::SGL_DESCRIPTOR_TYPE_INVALID.with_dnr(true));
    assert!(lenient.is_success(), "{lenient}");
}

#[test]
fn an_sgl_longer_than_the_transfer_is_cut_only_leniently() {
    let (strict, lenient) = both(
        Deviation::SglLongerThanTransferTruncated,
        |_| {},
        sgl(write_at(0, 1), data(DATA, 4096)),
        1,
    );
    assert_eq!(strict, Status::DATA_SGL_LENGTH_INVALID.with_dnr(true));
    assert!(lenient.is_success(), "{lenient}");
}

#[test]
fn a_misaligned_segment_is_read_only_leniently() {
    let segment = DESCRIPTORS + 4;
    let setup = |rig: &mut Rig| put(rig, segment, &[data(DATA, 256), data(DATA + 0x1000, 256)]);
    let sqe = sgl(write_at(0, 1), pointer(T::LastSegment, segment, 2));
    let (strict, lenient) = both(Deviation::SglSegmentAlignmentUnchecked, setup, sqe, 1);
    assert_eq!(
        strict,
        Status::INVALID_SGL_SEGMENT_DESCRIPTOR.with_dnr(true)
    );
    assert!(lenient.is_success(), "{lenient}");
}

/// Segment → [D, Segment] → [D, Last Segment] → [D, D]: valid, and refused by the stale
/// Last Segment check because the second segment is as long as the first.
#[test]
fn equal_segments_trip_the_stale_last_segment_check() {
    let (a, b, c) = (DESCRIPTORS, DESCRIPTORS + 0x1000, DESCRIPTORS + 0x2000);
    let setup = |rig: &mut Rig| {
        put(rig, a, &[data(DATA, 128), pointer(T::Segment, b, 2)]);
        put(
            rig,
            b,
            &[data(DATA + 0x1000, 128), pointer(T::LastSegment, c, 2)],
        );
        put(
            rig,
            c,
            &[data(DATA + 0x2000, 128), data(DATA + 0x3000, 128)],
        );
    };
    let sqe = sgl(write_at(0, 1), pointer(T::Segment, a, 2));
    let (strict, lenient) = both(Deviation::SglStaleLastSegmentCheck, setup, sqe, 1);
    assert!(strict.is_success(), "{strict}");
    assert_eq!(
        lenient,
        Status::INVALID_SGL_SEGMENT_DESCRIPTOR.with_dnr(true)
    );
}

/// A Segment descriptor whose one-descriptor segment points back at itself.
fn self_loop(rig: &mut Rig) {
    put(rig, DESCRIPTORS, &[pointer(T::Segment, DESCRIPTORS, 1)]);
}

#[test]
fn a_self_referencing_segment_hangs_qemu_s_profile_and_is_refused_otherwise() {
    let sqe = sgl(write_at(0, 1), pointer(T::Segment, DESCRIPTORS, 1));
    let mut qemu = rig_with(Profile::QEMU_7_2);
    self_loop(&mut qemu);
    qemu.submit(1, &sqe);
    assert!(
        qemu.reap(1).is_none(),
        "a hung controller completes nothing"
    );
    assert!(
        matches!(
            qemu.m.controller.events(),
            [ControllerEvent::Hung { qid: 1, .. }]
        ),
        "{:?}",
        qemu.m.controller.events()
    );
    // It stays hung: an admin command gets no completion either.
    let identify = SubmissionEntry::new(Opcode::ADMIN_IDENTIFY, 9).with_cdw10(1);
    qemu.submit(0, &identify.with_prp1(DATA));
    assert!(qemu.reap(0).is_none());

    let refused = Profile::STRICT
        .with(Deviation::SglSubtypeIgnored)
        .with(Deviation::SglEmptySegmentRefused);
    for (profile, want) in [
        (refused, Status::INVALID_SGL_SEGMENT_DESCRIPTOR),
        (
            Profile::STRICT.with(Deviation::SglSubtypeIgnored),
            Status::INVALID_NUMBER_OF_SGL_DESCRIPTORS,
        ),
    ] {
        let mut rig = rig_with(profile);
        self_loop(&mut rig);
        assert_eq!(rig.exec(1, sqe).status(), want.with_dnr(true), "{profile}");
        assert!(rig.m.controller.events().is_empty());
    }
    let mut strict = rig_with(Profile::STRICT);
    self_loop(&mut strict);
    assert!(!strict.exec(1, sqe).status().is_success());
}

#[test]
fn mdts_counts_cc_pages_only_under_its_switch() {
    // MDTS 5 with 4 KiB minimum pages is 128 KiB; with 64 KiB pages in CC, 2 MiB.
    let blocks = (128 * 1024 / BLOCK + 1) as u32;
    let run = |profile| {
        let config = ControllerConfig {
            profile,
            ..ControllerConfig::default()
        };
        let mut rig = Rig::with_mps(config, 4);
        rig.create_io_pair(1, 16);
        let whole = data(DATA, blocks * BLOCK as u32);
        rig.exec(1, sgl(write_at(0, blocks), whole)).status()
    };
    assert_eq!(run(Profile::STRICT), Status::INVALID_FIELD.with_dnr(true));
    assert!(run(Profile::STRICT.with(Deviation::MdtsInCcPageUnits)).is_success());
}

#[test]
fn psdt_10b_without_msds_is_read_as_01b_only_under_its_switch() {
    let run = |profile| {
        let config = ControllerConfig {
            profile,
            sgls: ControllerConfig::default().sgls.difference(Sgls::MPTR_SGL),
            ..ControllerConfig::default()
        };
        let mut rig = Rig::new(config);
        rig.create_io_pair(1, 16);
        let sqe = write_at(0, 1)
            .with_psdt(Psdt::SglMetadataSgl)
            .with_sgl1(data(DATA, 512));
        rig.exec(1, sqe).status()
    };
    assert_eq!(run(Profile::STRICT), Status::INVALID_FIELD.with_dnr(true));
    assert!(run(Profile::STRICT.with(Deviation::Psdt10bAs01b)).is_success());
}

#[test]
fn data_outside_host_memory_is_ignored_only_under_its_switch() {
    let outside = 0x4000_0000_0000;
    let (strict, lenient) = both(
        Deviation::DataOutsideMemoryIgnored,
        |_| {},
        write_at(5, 1).with_prp1(outside),
        1,
    );
    assert_eq!(strict, Status::DATA_TRANSFER_ERROR.with_dnr(true));
    assert!(lenient.is_success(), "{lenient}");
    // The blocks read as zeros afterwards, as on QEMU.
    let mut rig = rig_with(Profile::STRICT.with(Deviation::DataOutsideMemoryIgnored));
    rig.poke(DATA, &[0xee; 512]);
    assert!(rig
        .exec(1, write_at(5, 1).with_prp1(DATA))
        .status()
        .is_success());
    assert!(rig
        .exec(1, write_at(5, 1).with_prp1(outside))
        .status()
        .is_success());
    assert_eq!(rig.m.controller.namespace_data(1, 5, 1).unwrap(), [0; 512]);
}

#[test]
fn the_choices_each_change_one_answer() {
    // A Read with NSID FFFFFFFFh is Invalid Field in Command either way (Base 2.2, Figure
    // 92); the switch still answers so before the opcode is looked at, where strict first
    // refuses an opcode it does not know.
    let broadcast = Rig::io_sqe(Opcode::NVM_READ, u32::MAX, 0, 1).with_prp1(DATA);
    let (strict, lenient) = both(Deviation::BroadcastNsidInvalidField, |_| {}, broadcast, 1);
    assert_eq!(strict, Status::INVALID_FIELD.with_dnr(true));
    assert_eq!(lenient, Status::INVALID_FIELD.with_dnr(true));
    let unknown = SubmissionEntry::new(Opcode(0x7c), 0).with_nsid(u32::MAX);
    let (strict, lenient) = both(Deviation::BroadcastNsidInvalidField, |_| {}, unknown, 1);
    assert_eq!(strict, Status::INVALID_OPCODE.with_dnr(true));
    assert_eq!(lenient, Status::INVALID_FIELD.with_dnr(true));

    let fused = write_at(0, 1).with_prp1(DATA).with_fuse(Fuse::FirstOfFused);
    let (strict, lenient) = both(Deviation::FusedRefusedWithoutDnr, |_| {}, fused, 1);
    assert_eq!(strict, Status::INVALID_FIELD.with_dnr(true));
    assert_eq!(lenient, Status::INVALID_FIELD);

    // Past MDTS (128 KiB) and past the namespace's end at once.
    let blocks = ControllerConfig::default().namespaces[0].blocks;
    let both_faults = Rig::io_sqe(Opcode::NVM_WRITE, 1, blocks - 1, 257).with_prp1(DATA);
    let (strict, lenient) = both(Deviation::MdtsCheckedBeforeRange, |_| {}, both_faults, 1);
    assert_eq!(strict, Status::LBA_OUT_OF_RANGE.with_dnr(true));
    assert_eq!(lenient, Status::INVALID_FIELD.with_dnr(true));

    let delete_cq = |qid: u16| rig::delete_queue(Opcode::ADMIN_DELETE_IO_CQ, qid);
    let (strict, lenient) = both(
        Deviation::DeleteCqAnswersCompletionQueueInvalid,
        |_| {},
        delete_cq(9),
        0,
    );
    assert_eq!(strict, Status::INVALID_QUEUE_IDENTIFIER.with_dnr(true));
    assert_eq!(lenient, Status::COMPLETION_QUEUE_INVALID.with_dnr(true));

    // Queue pair 1 exists: its CQ cannot go while its SQ uses it.
    let (strict, lenient) = both(
        Deviation::InvalidQueueDeletionWithoutDnr,
        |_| {},
        delete_cq(1),
        0,
    );
    assert_eq!(strict, Status::INVALID_QUEUE_DELETION.with_dnr(true));
    assert_eq!(lenient, Status::INVALID_QUEUE_DELETION);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// A profile that only turns on a subtype leniency sends every PRP and SGL through the
    /// lenient mappers with the specification's checks: on valid layouts they must move
    /// exactly the bytes the strict walkers move.
    #[test]
    fn lenient_mappers_move_what_the_walkers_move(
        nlb in 1u64..=48,
        slba in 0u64..1000,
        cuts in prop::collection::vec(1u64..0x6000, 0..6),
        offsets in prop::collection::vec(0u64..0x400, 6),
        policy in 0u8..4,
        seed in any::<u64>(),
    ) {
        let policy = match policy {
            0 => SglPolicy::Never,
            1 => SglPolicy::Always,
            2 => SglPolicy::SmallestFootprint,
            _ => SglPolicy::Linux { threshold: 4096 },
        };
        let total = nlb * BLOCK;
        let mut points: Vec<u64> = cuts.iter().map(|c| c * 4 % total).filter(|&p| p > 0).collect();
        points.sort_unstable();
        points.dedup();
        points.push(total);
        let mut start = 0;
        let extents: Vec<Extent> = points
            .iter()
            .enumerate()
            .map(|(i, &end)| {
                let e = Extent::new(DATA + i as u64 * 0x10_0000 + offsets[i] * 4, end - start);
                start = end;
                e
            })
            .collect();
        let bytes = pattern(seed, total as usize);
        let lenient = Profile::STRICT
            .with(Deviation::SglSubtypeIgnored)
            .with(Deviation::Prp1NotDwordAligned);
        let mut outcomes = Vec::new();
        for profile in [Profile::STRICT, lenient] {
            let mut rig = rig_with(profile);
            let req = dptr::Request::new(&extents, Direction::Write, QueueKind::Io);
            prop_assume!(matches!(
                dptr::plan(&req, &rig.caps(), policy),
                Ok(dptr::Plan::Prp { .. } | dptr::Plan::Sgl { .. })
            ));
            let mut at = 0;
            for e in &extents {
                rig.poke(e.addr, &bytes[at..at + e.len as usize]);
                at += e.len as usize;
            }
            let w = rig.io(1, Opcode::NVM_WRITE, (1, slba, nlb as u32), &extents, policy);
            let stored = rig.m.controller.namespace_data(1, slba, nlb).unwrap();
            for e in &extents {
                rig.poke(e.addr, &vec![0; e.len as usize]);
            }
            let r = rig.io(1, Opcode::NVM_READ, (1, slba, nlb as u32), &extents, policy);
            let back: Vec<u8> = extents.iter().flat_map(|e| rig.peek(e.addr, e.len as usize)).collect();
            outcomes.push((w.status(), r.status(), stored, back));
        }
        prop_assert!(outcomes[0].0.is_success() && outcomes[0].1.is_success());
        prop_assert_eq!(&outcomes[0].2, &bytes);
        prop_assert!(outcomes[0] == outcomes[1], "the lenient mappers moved other bytes");
    }
}

/// Segment → [D, D]: a segment reached through a Segment descriptor that ends in data.
#[test]
fn a_segment_pointer_to_a_segment_that_ends_in_data_is_refused_unless_switched() {
    let setup = |rig: &mut Rig| {
        put(
            rig,
            DESCRIPTORS,
            &[data(DATA, 256), data(DATA + 0x1000, 256)],
        )
    };
    let sqe = sgl(write_at(0, 1), pointer(T::Segment, DESCRIPTORS, 2));
    let (strict, lenient) = both(Deviation::SglSegmentEndsInData, setup, sqe, 1);
    assert_eq!(
        strict,
        Status::INVALID_SGL_SEGMENT_DESCRIPTOR.with_dnr(true)
    );
    assert!(lenient.is_success(), "{lenient}");
}

/// Under a profile that sends SGLs through the QEMU-style mapper, the specification's other
/// rules hold: a Bit Bucket on a write moves nothing, a Data Block off the dword grain (the
/// default controller's SGLs are dword granular) is refused.
#[test]
fn the_lenient_sgl_mapper_keeps_bit_buckets_and_the_grain() {
    let bucket = SglDescriptor::new(0, 512, T::BitBucket, SglSubtype::Address);
    let cases = [
        ("a Bit Bucket in a write", vec![bucket, data(DATA, 512)]),
        (
            "a Data Block of odd length",
            vec![data(DATA, 511), data(DATA + 0x1000, 1)],
        ),
    ];
    for (what, descriptors) in cases {
        let n = descriptors.len() as u32;
        let setup = |rig: &mut Rig| put(rig, DESCRIPTORS, &descriptors);
        let sqe = sgl(write_at(0, 1), pointer(T::LastSegment, DESCRIPTORS, n));
        let (strict, lenient) = both(Deviation::SglSubtypeIgnored, setup, sqe, 1);
        assert_eq!(strict, lenient, "{what}");
    }
}

/// Under `data-outside-memory-ignored`, data with no memory behind it is ignored, but data in
/// the controller's own register window is still refused.
#[test]
fn data_in_the_register_window_is_refused_whatever_the_profile() {
    let bar0 = ControllerConfig::default().bar0;
    let (strict, lenient) = both(
        Deviation::DataOutsideMemoryIgnored,
        |_| {},
        write_at(0, 1).with_prp1(bar0),
        1,
    );
    assert_eq!(strict, Status::DATA_TRANSFER_ERROR.with_dnr(true));
    assert_eq!(lenient, Status::DATA_TRANSFER_ERROR.with_dnr(true));
}

/// A Bit Bucket as SGL1, where SGLS advertises them: the specification takes it for data (a
/// read that discards everything); QEMU's structure takes SGL1 for a segment pointer.
#[test]
fn a_bit_bucket_in_sgl1_is_data_unless_non_data_is_taken_for_a_segment() {
    let bucket = SglDescriptor::new(0, 512, T::BitBucket, SglSubtype::Address);
    let read = sgl(Rig::io_sqe(Opcode::NVM_READ, 1, 0, 1), bucket);
    let run = |profile| rig_with(profile).exec(1, read).status();
    assert!(run(Profile::STRICT).is_success());
    assert!(run(Profile::STRICT.with(Deviation::SglSubtypeIgnored)).is_success());
    assert_eq!(
        run(Profile::STRICT.with(Deviation::SglNonDataAsSegment)),
        Status::INVALID_SGL_SEGMENT_DESCRIPTOR.with_dnr(true)
    );
}

/// A profile that follows loops reads a looping chain of one huge segment of empty Data
/// Blocks a bounded number of times, then records the hang.
#[test]
fn a_huge_looping_segment_is_a_hang_after_bounded_work() {
    // 64 Ki descriptors (1 MiB): empty Data Blocks, the last a Segment pointing back.
    let n = 65536u32;
    let mut descriptors = vec![data(DATA, 0); n as usize - 1];
    descriptors.push(pointer(T::Segment, DESCRIPTORS, n));
    let mut rig = rig_with(Profile::QEMU_7_2);
    put(&mut rig, DESCRIPTORS, &descriptors);
    rig.submit(1, &sgl(write_at(0, 1), pointer(T::Segment, DESCRIPTORS, n)));
    assert!(rig.reap(1).is_none());
    assert!(matches!(
        rig.m.controller.events(),
        [ControllerEvent::Hung { .. }]
    ));
}

/// Under a profile that sends SGLs through the QEMU-style mapper but does not follow loops,
/// the walk limits hold as in the strict walker: too many data descriptors, or too many
/// segments, is Invalid Number of SGL Descriptors on both.
#[test]
fn the_lenient_sgl_mapper_keeps_the_walk_limits() {
    let limits = nvme_dma::sgl::WalkLimits {
        max_descriptors: 4,
        max_segments: 2,
    };
    let run = |profile, descriptors: &[(u64, Vec<SglDescriptor>)], sgl1| {
        let mut rig = Rig::new(ControllerConfig {
            profile,
            walk_limits: limits,
            ..ControllerConfig::default()
        });
        rig.create_io_pair(1, 16);
        for (addr, ds) in descriptors {
            put(&mut rig, *addr, ds);
        }
        rig.exec(1, sgl(write_at(0, 1), sgl1)).status()
    };
    let (a, b, c) = (DESCRIPTORS, DESCRIPTORS + 0x1000, DESCRIPTORS + 0x2000);
    let five: Vec<SglDescriptor> = (0..5).map(|i| data(DATA + i * 0x1000, 100)).collect();
    let chain = [
        (a, vec![data(DATA, 100), pointer(T::Segment, b, 2)]),
        (
            b,
            vec![data(DATA + 0x1000, 100), pointer(T::LastSegment, c, 2)],
        ),
        (c, vec![data(DATA + 0x2000, 100), data(DATA + 0x3000, 212)]),
    ];
    let lenient = Profile::STRICT.with(Deviation::SglSubtypeIgnored);
    let too_many = Status::INVALID_NUMBER_OF_SGL_DESCRIPTORS.with_dnr(true);
    for profile in [Profile::STRICT, lenient] {
        let one_segment = run(profile, &[(a, five.clone())], pointer(T::LastSegment, a, 5));
        assert_eq!(one_segment, too_many, "{profile}: five data descriptors");
        let three = run(profile, &chain, pointer(T::Segment, a, 2));
        assert_eq!(three, too_many, "{profile}: three segments");
    }
}
