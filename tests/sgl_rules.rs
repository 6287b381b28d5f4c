//! One test per SGL status code (NVMe Base Specification 2.1, 4.3.2) and per SGL failure class
//! real drivers and emulators have shipped, each with the exact error or status expected; plus
//! the builder's refusals and layout rules.

use nvme_dma::dptr::{self};
use nvme_dma::memory::{AccessKind, DataMover};
use nvme_dma::sgl::{
    contiguous_metadata, contiguous_mptr, BuildError, Capability, DataDescriptor, Descriptor,
    DescriptorAt, SegmentBuf, SegmentKind, SegmentPointer, SglBuilder, SglCaps, SglWalker,
    TypeProblem, WalkError, WalkLimits,
};
use nvme_dma::spec::{
    Opcode, Psdt, SglDescriptor, SglDescriptorType, SglSubtype, SglSupport, Sgls, Status,
    SubmissionEntry,
};
use nvme_dma::walk::{Progress, Walk, WalkSummary};
use nvme_dma::QueueKind;
use nvme_dma::{Direction, Piece};
use nvme_dma::{Extent, SimMemory};
use nvme_dma_testkit::contract::fill_all;
use nvme_dma_testkit::guest::{
    self, block, bucket, byte_aligned as caps, dnr, dword_aligned as dword_caps, last_segment,
    segment,
};
use nvme_dma_testkit::oracle::*;

const SEG: u64 = 0x50_0000;

/// Memory holding each `(address, descriptors)` segment.
fn segments(list: &[(u64, &[SglDescriptor])]) -> SimMemory {
    let mut mem = SimMemory::new();
    for (addr, descriptors) in list {
        let bytes = guest::descriptors(descriptors);
        mem.map(*addr, bytes.len().max(16) as u64).unwrap();
        mem.poke(*addr, &bytes).unwrap();
    }
    mem.clear_log();
    mem
}

fn walk_err(
    sgl1: SglDescriptor,
    direction: Direction,
    len: u64,
    caps: &SglCaps,
    mem: &SimMemory,
) -> WalkError {
    SglWalker::new(sgl1, direction, len, caps, mem)
        .pieces()
        .find_map(Result::err)
        .expect("the walk must fail")
}

/// The error a walk ends with when filled into an `out` with room for every piece and a batch
/// more: the form that makes the fewest memory reads (full batches).
fn walk_err_in_full_batches(
    sgl1: SglDescriptor,
    direction: Direction,
    len: u64,
    caps: &SglCaps,
    mem: &SimMemory,
) -> WalkError {
    let mut out = vec![Piece::Skip(0); 1 << 14];
    let mut walker = SglWalker::new(sgl1, direction, len, caps, mem);
    loop {
        match walker.fill(&mut out) {
            Ok(progress) => assert!(!progress.done, "the walk must fail"),
            Err(e) => return e,
        }
    }
}

fn at(segment: u32, index: u32, addr: u64) -> DescriptorAt {
    DescriptorAt::Segment {
        segment,
        index,
        addr,
    }
}

// ---- 0Dh Invalid SGL Segment Descriptor ----

#[test]
fn pointer_inside_the_last_segment_is_invalid_segment_descriptor() {
    // The last segment's last descriptor points onward: the last segment may hold none.
    let mem = segments(&[(SEG, &[block(0x1000, 8), last_segment(SEG + 0x100, 1)])]);
    let err = walk_err(last_segment(SEG, 2), Direction::Write, 16, &caps(), &mem);
    assert_eq!(
        err,
        WalkError::PointerInLastSegment {
            at: at(1, 1, SEG + 16)
        }
    );
    assert_eq!(err.status(), dnr(Status::INVALID_SGL_SEGMENT_DESCRIPTOR));
}

#[test]
fn segment_where_last_segment_belongs_is_invalid_segment_descriptor() {
    // Failure class: a Segment descriptor for what is really the last segment (a driver that
    // fills a segment exactly and still calls it "Segment"). Emulators often accept this.
    let mem = segments(&[(SEG, &[block(0x1000, 8), block(0x3000, 8)])]);
    let err = walk_err(segment(SEG, 2), Direction::Write, 16, &caps(), &mem);
    assert_eq!(
        err,
        WalkError::SegmentWithoutPointer {
            at: at(1, 1, SEG + 16)
        }
    );
    assert_eq!(err.status(), dnr(Status::INVALID_SGL_SEGMENT_DESCRIPTOR));
    // The same bytes behind a Last Segment descriptor are fine.
    let ok = walk_sgl(last_segment(SEG, 2), Direction::Write, 16, &caps(), &mem).unwrap();
    assert_eq!(ok.len(), 2);
}

#[test]
fn segment_length_zero_or_not_a_multiple_of_16_is_invalid_segment_descriptor() {
    let mem = segments(&[(SEG, &[block(0x1000, 8)])]);
    for len in [0u32, 8, 17, 31] {
        let sgl1 = SegmentPointer {
            addr: SEG,
            len,
            kind: SegmentKind::LastSegment,
        }
        .to_raw();
        let err = walk_err(sgl1, Direction::Write, 8, &caps(), &mem);
        assert_eq!(
            err,
            WalkError::SegmentLength {
                at: DescriptorAt::Sgl1,
                len
            }
        );
        assert_eq!(err.status(), dnr(Status::INVALID_SGL_SEGMENT_DESCRIPTOR));
    }
    assert_eq!(mem.read_count(), 0, "nothing fetched through a bad pointer");
    // In a chained segment too, reported at the pointer.
    let mem = segments(&[(
        SEG,
        &[
            block(0x1000, 8),
            SegmentPointer {
                addr: SEG + 0x100,
                len: 24,
                kind: SegmentKind::LastSegment,
            }
            .to_raw(),
        ],
    )]);
    let err = walk_err(segment(SEG, 2), Direction::Write, 16, &caps(), &mem);
    assert_eq!(
        err,
        WalkError::SegmentLength {
            at: at(1, 1, SEG + 16),
            len: 24
        }
    );
}

#[test]
fn misaligned_segment_address_is_invalid_segment_descriptor() {
    let mem = segments(&[(SEG, &[block(0x1000, 8), block(0x2000, 8)])]);
    for offset in [4u64, 1, 12] {
        let err = walk_err(
            last_segment(SEG + offset, 1),
            Direction::Write,
            8,
            &caps(),
            &mem,
        );
        assert_eq!(
            err,
            WalkError::SegmentMisaligned {
                at: DescriptorAt::Sgl1,
                addr: SEG + offset
            }
        );
        assert_eq!(err.status(), dnr(Status::INVALID_SGL_SEGMENT_DESCRIPTOR));
    }
    // Qword aligned is enough: a segment need not be 16-byte aligned.
    let mut mem = SimMemory::new();
    mem.map(SEG, 64).unwrap();
    mem.poke(SEG + 8, &block(0x1000, 8).to_bytes()).unwrap();
    assert!(walk_sgl(last_segment(SEG + 8, 1), Direction::Write, 8, &caps(), &mem).is_ok());
    assert_eq!(mem.read_count(), 1);
}

// ---- 0Eh Invalid Number of SGL Descriptors ----

#[test]
fn pointer_before_the_end_of_its_segment_is_invalid_number_of_descriptors() {
    let mem = segments(&[
        (SEG, &[last_segment(SEG + 0x100, 1), block(0x1000, 8)]),
        (SEG + 0x100, &[block(0x2000, 8)]),
    ]);
    let err = walk_err(segment(SEG, 2), Direction::Write, 16, &caps(), &mem);
    assert_eq!(err, WalkError::PointerNotLast { at: at(1, 0, SEG) });
    assert_eq!(err.status(), dnr(Status::INVALID_NUMBER_OF_SGL_DESCRIPTORS));
}

#[test]
fn more_descriptors_than_the_limit_is_invalid_number_of_descriptors() {
    let limits = WalkLimits {
        max_descriptors: 8,
        max_segments: 4,
    };
    let caps = caps().with_limits(limits);
    let descriptors: Vec<SglDescriptor> = (0..9).map(|i| block(0x1000 * i, 1)).collect();
    let mem = segments(&[(SEG, &descriptors)]);
    let err = walk_err(last_segment(SEG, 9), Direction::Write, 9, &caps, &mem);
    assert_eq!(
        err,
        WalkError::TooManyDescriptors {
            at: DescriptorAt::Sgl1,
            limit: 8
        }
    );
    assert_eq!(err.status(), dnr(Status::INVALID_NUMBER_OF_SGL_DESCRIPTORS));
    assert_eq!(mem.read_count(), 0, "refused before it is read");
    assert!(walk_sgl(last_segment(SEG, 8), Direction::Write, 8, &caps, &mem).is_ok());
}

#[test]
fn more_data_blocks_than_msdbd_is_invalid_number_of_descriptors() {
    let caps = caps().with_msdbd(2);
    let mem = segments(&[(
        SEG,
        &[
            block(0x1000, 8),
            bucket(8),
            block(0x3000, 8),
            block(0x5000, 8),
        ],
    )]);
    // Bit buckets do not count: the third data block is the first too many.
    let err = walk_err(last_segment(SEG, 4), Direction::Read, 32, &caps, &mem);
    assert_eq!(
        err,
        WalkError::TooManyDataBlocks {
            at: at(1, 3, SEG + 48),
            limit: 2
        }
    );
    assert_eq!(err.status(), dnr(Status::INVALID_NUMBER_OF_SGL_DESCRIPTORS));
    assert!(walk_sgl(last_segment(SEG, 3), Direction::Read, 24, &caps, &mem).is_ok());
    // The builder refuses the same layout up front, naming MSDBD.
    let pieces = [
        Piece::Data(Extent::new(0x1000, 8)),
        Piece::Data(Extent::new(0x3000, 8)),
        Piece::Data(Extent::new(0x5000, 8)),
    ];
    let err = SglBuilder::new(caps, Direction::Read)
        .plan(pieces)
        .unwrap_err();
    assert_eq!(err, BuildError::TooManyDataBlocks { count: 3, msdbd: 2 });
    assert!(err.to_string().contains("MSDBD"), "{err}");
}

// ---- 0Fh Data SGL Length Invalid ----

#[test]
fn sgl_shorter_than_the_transfer_is_data_sgl_length_invalid() {
    let mem = segments(&[(SEG, &[block(0x1000, 8), block(0x3000, 8)])]);
    let err = walk_err(last_segment(SEG, 2), Direction::Write, 17, &caps(), &mem);
    assert_eq!(
        err,
        WalkError::ShorterThanTransfer {
            described: 16,
            transfer: 17,
            role: nvme_dma::sgl::SglRole::Data
        }
    );
    assert_eq!(err.status(), dnr(Status::DATA_SGL_LENGTH_INVALID));
    // An inline data block that is too short is refused before any of it is yielded.
    let mut walker = SglWalker::new(block(0x1000, 8), Direction::Write, 9, &caps(), &mem);
    assert!(matches!(
        walker.fill(&mut [Piece::Skip(0); 4]),
        Err(WalkError::ShorterThanTransfer { .. })
    ));
    // The null descriptor describes nothing.
    let err = walk_err(SglDescriptor::default(), Direction::Write, 1, &caps(), &mem);
    assert_eq!(err.status(), dnr(Status::DATA_SGL_LENGTH_INVALID));
}

#[test]
fn data_block_longer_than_the_remaining_transfer_is_refused_not_truncated() {
    // Failure class: an emulator silently truncates the last data block. Without LLDTS the
    // SGL may not describe more than the transfer.
    let mem = segments(&[(SEG, &[block(0x1000, 8), block(0x3000, 16)])]);
    let err = walk_err(last_segment(SEG, 2), Direction::Write, 12, &caps(), &mem);
    assert_eq!(
        err,
        WalkError::LongerThanTransfer {
            at: at(1, 1, SEG + 16),
            remaining: 4,
            len: 16,
            role: nvme_dma::sgl::SglRole::Data
        }
    );
    assert_eq!(err.status(), dnr(Status::DATA_SGL_LENGTH_INVALID));
    // A descriptor after the transfer is complete is refused too.
    let mem2 = segments(&[(SEG, &[block(0x1000, 8), block(0x3000, 4)])]);
    let err = walk_err(last_segment(SEG, 2), Direction::Write, 8, &caps(), &mem2);
    assert!(
        matches!(err, WalkError::LongerThanTransfer { remaining: 0, .. }),
        "{err:?}"
    );
    // Zero-length descriptors after the end are not "longer".
    let mem3 = segments(&[(SEG, &[block(0x1000, 8), block(0, 0)])]);
    assert!(walk_sgl(last_segment(SEG, 2), Direction::Write, 8, &caps(), &mem3).is_ok());

    // With LLDTS the block is cut where the transfer ends, and the walk stops there.
    let lldts = SglCaps::new(caps().sgls() | Sgls::LLDTS);
    let pieces = walk_sgl(last_segment(SEG, 2), Direction::Write, 12, &lldts, &mem).unwrap();
    assert_eq!(
        pieces,
        [
            Piece::Data(Extent::new(0x1000, 8)),
            Piece::Data(Extent::new(0x3000, 4))
        ]
    );
}

#[test]
fn lengths_that_wrap_past_2_64_are_data_sgl_length_invalid() {
    // Walker: a data block that ends past the top of memory.
    let mem = segments(&[(SEG, &[block(u64::MAX - 7, 16)])]);
    let err = walk_err(last_segment(SEG, 1), Direction::Write, 16, &caps(), &mem);
    assert_eq!(
        err,
        WalkError::AddressOverflow {
            at: at(1, 0, SEG),
            addr: u64::MAX - 7,
            len: 16,
            role: nvme_dma::sgl::SglRole::Data
        }
    );
    assert_eq!(err.status(), dnr(Status::DATA_SGL_LENGTH_INVALID));
    // Ending exactly at 2^64 is fine.
    let top = walk_sgl(
        block(u64::MAX - 15, 16),
        Direction::Write,
        16,
        &caps(),
        &mem,
    )
    .unwrap();
    assert_eq!(top, [Piece::Data(Extent::new(u64::MAX - 15, 16))]);
    // A segment pointer past the top.
    let err = walk_err(
        last_segment(u64::MAX - 15, 2),
        Direction::Write,
        16,
        &caps(),
        &mem,
    );
    assert!(
        matches!(
            err,
            WalkError::AddressOverflow {
                at: DescriptorAt::Sgl1,
                ..
            }
        ),
        "{err:?}"
    );
    // Builder: a piece past the top, and a total past 2^64.
    let b = SglBuilder::new(caps(), Direction::Write);
    let over = Piece::Data(Extent::new(u64::MAX - 7, 16));
    assert_eq!(
        b.plan([over]),
        Err(BuildError::AddressOverflow {
            index: 0,
            piece: over
        })
    );
    let huge = [Extent::new(0, 1 << 63), Extent::new(1 << 63, 1 << 63)];
    assert!(matches!(
        b.plan(huge),
        Err(BuildError::TransferTooLong { .. })
    ));
    // Up to the top is fine: two adjacent pieces that end exactly at 2^64 are one run, and
    // data at 0 does not continue them (the address space does not wrap).
    let top = [
        Extent::new(u64::MAX - 0x1fff, 0x1000),
        Extent::new(u64::MAX - 0xfff, 0x1000),
    ];
    assert_eq!(
        b.build(top, &mut []).unwrap().sgl1.descriptor(),
        Descriptor::Data(DataDescriptor::Block {
            addr: u64::MAX - 0x1fff,
            len: 0x2000
        })
    );
    let around = [
        Extent::new(u64::MAX - 0xfff, 0x1000),
        Extent::new(0, 0x1000),
    ];
    let plan = b.plan(around).unwrap();
    assert_eq!(
        (plan.runs(), plan.descriptors(), plan.len()),
        (2, 2, 0x2000)
    );
}

// ---- 10h Metadata SGL Length Invalid ----

#[test]
fn short_metadata_sgl_is_metadata_sgl_length_invalid() {
    let caps = SglCaps::new(caps().sgls() | Sgls::MPTR_SGL);
    let mptr = SEG + 0x1000;
    let mem = segments(&[(mptr, &[block(0x9000, 8)])]);
    let err = SglWalker::metadata(mptr, Direction::Write, 16, &caps, &mem)
        .pieces()
        .find_map(Result::err)
        .unwrap();
    assert_eq!(
        err,
        WalkError::ShorterThanTransfer {
            described: 8,
            transfer: 16,
            role: nvme_dma::sgl::SglRole::Metadata
        }
    );
    assert_eq!(err.status(), dnr(Status::METADATA_SGL_LENGTH_INVALID));
    // Where the data pointer gets Data SGL Length Invalid, the metadata pointer gets 10h:
    // too long, and past 2^64.
    let err = SglWalker::metadata(mptr, Direction::Write, 4, &caps, &mem)
        .pieces()
        .find_map(Result::err)
        .unwrap();
    assert_eq!(err.status(), dnr(Status::METADATA_SGL_LENGTH_INVALID));
    let err = contiguous_metadata(u64::MAX - 3, 8, false, &caps).unwrap_err();
    assert_eq!(err.status(), dnr(Status::METADATA_SGL_LENGTH_INVALID));
    // A well-formed one walks.
    let ok: Vec<_> = SglWalker::metadata(mptr, Direction::Write, 8, &caps, &mem)
        .pieces()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(ok, [Piece::Data(Extent::new(0x9000, 8))]);
}

#[test]
fn metadata_pointer_rules() {
    let caps = caps();
    // PSDT 10b needs MSDS; MPTR must be qword aligned: Invalid Field.
    let mem = SimMemory::new();
    let err = SglWalker::metadata(0x1000, Direction::Write, 8, &caps, &mem)
        .pieces()
        .find_map(Result::err)
        .unwrap();
    assert_eq!(
        err,
        WalkError::NotSupported {
            capability: Capability::MetadataSgl
        }
    );
    assert_eq!(err.status(), dnr(Status::INVALID_FIELD));
    let msds = SglCaps::new(caps.sgls() | Sgls::MPTR_SGL);
    let err = SglWalker::metadata(0x1004, Direction::Write, 8, &msds, &mem)
        .pieces()
        .find_map(Result::err)
        .unwrap();
    assert_eq!(
        err,
        WalkError::MetadataMisaligned {
            mptr: 0x1004,
            align: 8
        }
    );
    assert_eq!(mem.read_count(), 0);
    // The MPTR segment cannot be read: Data Transfer Error.
    let err = SglWalker::metadata(0x1000, Direction::Write, 8, &msds, &mem)
        .pieces()
        .find_map(Result::err)
        .unwrap();
    assert_eq!(err.status(), dnr(Status::DATA_TRANSFER_ERROR));
    // Contiguous (PSDT 00b/01b): dword aligned, or any address with SGL data and SGLS bit 17.
    assert_eq!(
        contiguous_metadata(0x1002, 8, true, &caps),
        Err(WalkError::MetadataMisaligned {
            mptr: 0x1002,
            align: 4
        })
    );
    let byte = SglCaps::new(caps.sgls() | Sgls::BYTE_ALIGNED_CONTIGUOUS_METADATA);
    assert_eq!(
        contiguous_metadata(0x1002, 8, true, &byte),
        Ok(Extent::new(0x1002, 8))
    );
    assert!(
        contiguous_metadata(0x1002, 8, false, &byte).is_err(),
        "PRP data: dword only"
    );
    // Host side: the same rules.
    assert_eq!(
        contiguous_mptr(Extent::new(0x1002, 8), false, &byte),
        Err(BuildError::MetadataMisaligned {
            addr: 0x1002,
            align: 4
        })
    );
    assert_eq!(
        contiguous_mptr(Extent::new(0x1002, 8), true, &byte),
        Ok(0x1002)
    );
}

#[test]
fn metadata_sgl_builds_and_walks_back() {
    let caps = SglCaps::new(caps().sgls() | Sgls::MPTR_SGL);
    let pieces = [
        Extent::new(0x9000, 8),
        Extent::new(0xa000, 8),
        Extent::new(0xc000, 16),
    ];
    let builder = SglBuilder::new(caps, Direction::Write);
    let mut mptr_bytes = [0xa5u8; 16];
    let mut chain = [0xa5u8; 256];
    let layout = builder
        .build_metadata(
            &pieces,
            &mut SegmentBuf::new(0x7000, &mut mptr_bytes),
            &mut [SegmentBuf::new(0x8000, &mut chain)],
        )
        .unwrap();
    assert_eq!((layout.mptr, layout.segments_used), (0x7000, 1));
    let mut mem = SimMemory::new();
    mem.map(0x7000, 16).unwrap();
    mem.poke(0x7000, &mptr_bytes).unwrap();
    mem.map(0x8000, 256).unwrap();
    mem.poke(0x8000, &chain).unwrap();
    let walked: Vec<_> = SglWalker::metadata(0x7000, Direction::Write, 32, &caps, &mem)
        .pieces()
        .collect::<Result<_, _>>()
        .unwrap();
    let expected: Vec<Piece> = pieces.iter().map(|&e| Piece::Data(e)).collect();
    assert_eq!(walked, expected);
    // A misaligned MPTR segment is refused before anything is written.
    let mut mptr_bytes = [0xa5u8; 16];
    let mut chain = [0xa5u8; 256];
    let err = builder
        .build_metadata(
            &pieces,
            &mut SegmentBuf::new(0x7004, &mut mptr_bytes),
            &mut [SegmentBuf::new(0x8000, &mut chain)],
        )
        .unwrap_err();
    assert_eq!(
        err,
        BuildError::MetadataMisaligned {
            addr: 0x7004,
            align: 8
        }
    );
    assert!(mptr_bytes.iter().chain(chain.iter()).all(|&b| b == 0xa5));
}

// ---- 11h SGL Descriptor Type Invalid ----

#[test]
fn reserved_vendor_and_bad_subtypes_are_descriptor_type_invalid() {
    let mem = SimMemory::new();
    for identifier in [0x60u8, 0xE0, 0xF0, 0x02, 0x11, 0x21, 0x31, 0x50, 0x0A] {
        let mut raw = block(0x1000, 8);
        raw.set_identifier(identifier);
        let err = walk_err(raw, Direction::Write, 8, &caps(), &mem);
        assert_eq!(
            err,
            WalkError::DescriptorType {
                at: DescriptorAt::Sgl1,
                identifier,
                problem: TypeProblem::Undefined
            },
            "{identifier:#x}"
        );
        assert_eq!(err.status(), dnr(Status::SGL_DESCRIPTOR_TYPE_INVALID));
    }
}

#[test]
fn unsupported_types_are_descriptor_type_invalid() {
    let none = SglCaps::new(Sgls::from_support(SglSupport::ByteAligned));
    let mem = segments(&[(SEG, &[block(0x1000, 8), bucket(8)])]);
    let cases = [
        (bucket(8), Capability::BitBucket),
        (
            DataDescriptor::Keyed {
                addr: 0x1000,
                len: 8,
                key: 1,
                subtype: SglSubtype::Address,
            }
            .to_raw(),
            Capability::Keyed,
        ),
        (
            DataDescriptor::Transport {
                len: 8,
                subtype: SglSubtype::TransportSpecific(0xA),
            }
            .to_raw(),
            Capability::TransportDataBlock,
        ),
        (
            DataDescriptor::CapsuleBlock { offset: 0, len: 8 }.to_raw(),
            Capability::AddressAsOffset,
        ),
    ];
    for (raw, capability) in cases {
        let err = walk_err(raw, Direction::Read, 8, &none, &mem);
        assert_eq!(
            err,
            WalkError::DescriptorType {
                at: DescriptorAt::Sgl1,
                identifier: raw.identifier(),
                problem: TypeProblem::Unsupported(capability)
            }
        );
        assert_eq!(err.status(), dnr(Status::SGL_DESCRIPTOR_TYPE_INVALID));
    }
    // Inside a segment, with its position.
    let err = walk_err(last_segment(SEG, 2), Direction::Read, 16, &none, &mem);
    assert!(matches!(
        err,
        WalkError::DescriptorType {
            at: DescriptorAt::Segment { index: 1, .. },
            ..
        }
    ));
    // Segment descriptors with the Offset subtype are not supported.
    let mut raw = last_segment(SEG, 2);
    raw.set_subtype(SglSubtype::Offset);
    assert_eq!(
        walk_err(raw, Direction::Read, 16, &caps(), &mem).status(),
        dnr(Status::SGL_DESCRIPTOR_TYPE_INVALID)
    );
}

#[test]
fn fabrics_descriptors_walk_when_supported() {
    let all = SglCaps::new(
        Sgls::from_support(SglSupport::ByteAligned)
            | Sgls::KEYED
            | Sgls::TRANSPORT_DATA_BLOCK
            | Sgls::ADDRESS_AS_OFFSET,
    )
    .with_capsule_data(64);
    let pieces = [
        Piece::Keyed {
            extent: Extent::new(0x1000, 0x20),
            key: 7,
        },
        Piece::Capsule {
            offset: 16,
            len: 32,
        },
        Piece::Transport(100),
    ];
    let mut mem = SimMemory::new();
    let layout = build_sgl_into(
        &SglBuilder::new(all, Direction::Write),
        &pieces,
        16,
        &mut mem,
    )
    .unwrap();
    assert_eq!(
        walk_sgl(
            layout.sgl1.to_raw(),
            Direction::Write,
            0x20 + 32 + 100,
            &all,
            &mem
        )
        .unwrap(),
        pieces
    );
    // A keyed block longer than 24 bits takes two descriptors and merges back.
    let big = [Piece::Keyed {
        extent: Extent::new(0, (1 << 24) + 5),
        key: 1,
    }];
    let layout =
        build_sgl_into(&SglBuilder::new(all, Direction::Write), &big, 16, &mut mem).unwrap();
    assert_eq!(layout.plan.descriptors(), 2);
    assert_eq!(
        walk_sgl(
            layout.sgl1.to_raw(),
            Direction::Write,
            (1 << 24) + 5,
            &all,
            &mem
        )
        .unwrap(),
        big
    );
}

// ---- 16h SGL Offset Invalid ----

#[test]
fn capsule_offset_outside_the_capsule_is_sgl_offset_invalid() {
    let caps = SglCaps::new(Sgls::from_support(SglSupport::ByteAligned) | Sgls::ADDRESS_AS_OFFSET)
        .with_capsule_data(64);
    let mem = SimMemory::new();
    let raw = DataDescriptor::CapsuleBlock {
        offset: 48,
        len: 32,
    }
    .to_raw();
    let err = walk_err(raw, Direction::Write, 32, &caps, &mem);
    assert_eq!(
        err,
        WalkError::OutsideCapsule {
            at: DescriptorAt::Sgl1,
            offset: 48,
            len: 32
        }
    );
    assert_eq!(err.status(), dnr(Status::SGL_OFFSET_INVALID));
    let b = SglBuilder::new(caps, Direction::Write);
    assert!(matches!(
        b.plan([Piece::Capsule {
            offset: 48,
            len: 32
        }]),
        Err(BuildError::OutsideCapsule {
            index: 0,
            offset: 48,
            len: 32,
            capsule: 64
        })
    ));
}

// ---- 1Eh SGL Data Block Granularity Invalid ----

#[test]
fn dword_mode_refuses_unaligned_data_blocks() {
    let mem = SimMemory::new();
    for (addr, len) in [(0x1002u64, 8u32), (0x1000, 6), (0x1001, 3)] {
        let err = walk_err(
            block(addr, len),
            Direction::Write,
            u64::from(len),
            &dword_caps(),
            &mem,
        );
        assert_eq!(
            err,
            WalkError::Granularity {
                at: DescriptorAt::Sgl1,
                addr,
                len
            }
        );
        assert_eq!(
            err.status(),
            dnr(Status::SGL_DATA_BLOCK_GRANULARITY_INVALID)
        );
        // Byte-aligned controllers take it.
        assert!(walk_sgl(
            block(addr, len),
            Direction::Write,
            u64::from(len),
            &caps(),
            &mem
        )
        .is_ok());
    }
    // Inside a segment too, in the middle of it.
    let mem = segments(&[(SEG, &[block(0x1000, 8), block(0x2002, 8), block(0x3000, 8)])]);
    let err = walk_err(
        last_segment(SEG, 3),
        Direction::Write,
        24,
        &dword_caps(),
        &mem,
    );
    assert_eq!(
        err,
        WalkError::Granularity {
            at: at(1, 1, SEG + 16),
            addr: 0x2002,
            len: 8
        }
    );
    // The builder refuses the run, naming it; a run made of unaligned halves is fine.
    let b = SglBuilder::new(dword_caps(), Direction::Write);
    let err = b
        .plan([Extent::new(0x1000, 8), Extent::new(0x3000, 6)])
        .unwrap_err();
    assert_eq!(
        err,
        BuildError::Granularity {
            index: 1,
            run: Extent::new(0x3000, 6)
        }
    );
    assert!(err.to_string().contains("SGLS bits 1:0 = 10b"), "{err}");
    assert!(b
        .plan([Extent::new(0x1000, 6), Extent::new(0x1006, 2)])
        .is_ok());
}

// ---- 04h Data Transfer Error ----

#[test]
fn unreadable_segment_is_data_transfer_error() {
    let mem = SimMemory::new();
    let err = walk_err(last_segment(SEG, 3), Direction::Write, 24, &caps(), &mem);
    assert_eq!(err, WalkError::FetchFault { addr: SEG, len: 48 });
    assert_eq!(err.status(), dnr(Status::DATA_TRANSFER_ERROR));
    assert!(err.to_string().contains("Data Transfer Error"), "{err}");
}

// ---- Invalid Field in Command: PSDT, admin queue, SGL support ----

#[test]
fn reserved_psdt_is_invalid_field() {
    let mut sqe = SubmissionEntry::new(Opcode::NVM_WRITE, 1);
    sqe.set_psdt(Psdt::Reserved);
    let err = dptr::decode(&sqe, QueueKind::Io, &caps()).unwrap_err();
    assert_eq!(err, dptr::PsdtError::Reserved);
    assert_eq!(err.status(), dnr(Status::INVALID_FIELD));
}

#[test]
fn sgl_on_the_admin_queue_is_invalid_field() {
    let mut sqe = SubmissionEntry::new(Opcode::ADMIN_IDENTIFY, 1);
    sqe.set_psdt(Psdt::Sgl);
    sqe.set_sgl1(block(0x1000, 4096));
    let err = dptr::decode(&sqe, QueueKind::Admin, &caps()).unwrap_err();
    assert_eq!(err, dptr::PsdtError::SglOnAdminQueue);
    assert_eq!(err.status(), dnr(Status::INVALID_FIELD));
    // On an I/O queue the same command decodes.
    assert!(dptr::decode(&sqe, QueueKind::Io, &caps()).is_ok());
}

#[test]
fn sgl_without_controller_support_is_invalid_field() {
    let none = SglCaps::new(Sgls::empty());
    let mem = SimMemory::new();
    let err = walk_err(block(0x1000, 8), Direction::Write, 8, &none, &mem);
    assert_eq!(
        err,
        WalkError::NotSupported {
            capability: Capability::Sgl
        }
    );
    assert_eq!(err.status(), dnr(Status::INVALID_FIELD));
    // The same answer through `fill`, from a metadata walker (before anything about MPTR),
    // and for a transfer that moves nothing; nothing is read.
    let refused = WalkError::NotSupported {
        capability: Capability::Sgl,
    };
    for len in [8, 0] {
        let mut out = [Piece::Skip(0); 4];
        let mut walker = SglWalker::new(block(0x1000, 8), Direction::Write, len, &none, &mem);
        assert_eq!(walker.fill(&mut out), Err(refused), "len {len}");
        let mut metadata = SglWalker::metadata(0x1004, Direction::Write, len, &none, &mem);
        assert_eq!(metadata.fill(&mut out), Err(refused), "len {len}");
    }
    assert_eq!(mem.read_count(), 0);
    let mut sqe = SubmissionEntry::new(Opcode::NVM_WRITE, 1);
    sqe.set_psdt(Psdt::SglMetadataSgl);
    assert_eq!(
        dptr::decode(&sqe, QueueKind::Io, &none),
        Err(dptr::PsdtError::NotSupported(Capability::Sgl))
    );
    assert_eq!(
        dptr::decode(&sqe, QueueKind::Io, &caps()),
        Err(dptr::PsdtError::NotSupported(Capability::MetadataSgl))
    );
    let err = SglBuilder::new(none, Direction::Write)
        .plan([Extent::new(0, 8)])
        .unwrap_err();
    assert_eq!(
        err,
        BuildError::NotSupported {
            capability: Capability::Sgl
        }
    );
}

// ---- Failure class: a segment chain that points back at itself ----

#[test]
fn self_referencing_chain_ends_at_the_segment_limit() {
    // One data descriptor, then a Segment descriptor pointing at its own segment.
    let mut mem = segments(&[(SEG, &[block(0x1000, 8), segment(SEG, 2)])]);
    let limits = WalkLimits::DEFAULT;
    let err = walk_err_in_full_batches(segment(SEG, 2), Direction::Write, 1 << 40, &caps(), &mem);
    assert_eq!(
        err,
        WalkError::TooManySegments {
            at: at(256, 1, SEG + 16),
            limit: 256
        }
    );
    assert_eq!(err.status(), dnr(Status::INVALID_NUMBER_OF_SGL_DESCRIPTORS));
    assert_eq!(mem.read_count(), 256);
    assert!(mem.bytes_read() <= limits.max_bytes_read(false));
    // As an iterator (16 pieces at a time): the same error and the same bytes, in reads
    // that never hold more descriptors than there is room for pieces.
    mem.clear_log();
    let again = walk_err(segment(SEG, 2), Direction::Write, 1 << 40, &caps(), &mem);
    assert_eq!(again, err);
    assert_eq!(mem.bytes_read(), 256 * 2 * 16);
    assert!(mem.read_count() <= limits.max_bytes_read(false) / 16);
    // A segment holding nothing but a pointer to itself: the same bound.
    let mem = segments(&[(SEG, &[segment(SEG, 1)])]);
    let err = walk_err(segment(SEG, 1), Direction::Write, 8, &caps(), &mem);
    assert!(matches!(err, WalkError::TooManySegments { limit: 256, .. }));
    assert_eq!(mem.bytes_read(), 256 * 16);
}

// ---- Failure class: a zero-length element looping forever ----

#[test]
fn run_of_zero_length_descriptors_ends_within_the_descriptor_limit() {
    // Zero-length data blocks are valid, but each one is charged to the budget.
    let zeros = vec![block(0, 0); 4096];
    let mut mem = segments(&[(SEG, &zeros[..255]), (SEG + 0x1_0000, &zeros)]);
    // A last segment of 4096 zero-length descriptors: legal, read in batches, ends short.
    let err = walk_err_in_full_batches(
        last_segment(SEG + 0x1_0000, 4096),
        Direction::Write,
        8,
        &caps(),
        &mem,
    );
    assert_eq!(err.status(), dnr(Status::DATA_SGL_LENGTH_INVALID));
    assert_eq!(mem.bytes_read(), 4096 * 16);
    assert_eq!(
        mem.read_count(),
        4096 / nvme_dma::sgl::BATCH_DESCRIPTORS as u64
    );
    // The iterator fills 16 pieces at a time, so it reads 16 descriptors at a time.
    mem.clear_log();
    let again = walk_err(
        last_segment(SEG + 0x1_0000, 4096),
        Direction::Write,
        8,
        &caps(),
        &mem,
    );
    assert_eq!(again, err);
    assert_eq!((mem.read_count(), mem.bytes_read()), (4096 / 16, 4096 * 16));
    // One more than the limit is refused before reading.
    let mem = segments(&[(SEG, &zeros[..1])]);
    let err = walk_err(last_segment(SEG, 4097), Direction::Write, 8, &caps(), &mem);
    assert!(matches!(
        err,
        WalkError::TooManyDescriptors { limit: 4096, .. }
    ));
    assert_eq!(mem.read_count(), 0);
    // Zero-length pieces given to the builder are dropped.
    let b = SglBuilder::new(caps(), Direction::Write);
    let plan = b
        .plan([Extent::new(3, 0), Extent::new(0x1000, 8), Extent::new(5, 0)])
        .unwrap();
    assert_eq!((plan.descriptors(), plan.is_inline()), (1, true));
    assert_eq!(b.plan([Extent::new(3, 0)]), Err(BuildError::EmptyTransfer));
}

#[test]
fn segment_of_2_pow_28_descriptors_is_refused_before_it_is_read() {
    let mem = segments(&[(SEG, &[block(0x1000, 8)])]);
    let sgl1 = SegmentPointer {
        addr: SEG,
        len: 0xFFFF_FFF0,
        kind: SegmentKind::LastSegment,
    }
    .to_raw();
    let err = walk_err(sgl1, Direction::Write, 8, &caps(), &mem);
    assert_eq!(
        err,
        WalkError::TooManyDescriptors {
            at: DescriptorAt::Sgl1,
            limit: 4096
        }
    );
    assert_eq!(mem.read_count(), 0);
}

// ---- Failure class: a bit bucket on a read shifting data into the wrong buffer ----

#[test]
fn bit_bucket_on_a_read_places_data_exactly() {
    // Read 0x30 bytes: 0x10 to A, 0x10 discarded, 0x10 to B.
    let pieces = [
        Piece::Data(Extent::new(0xA000, 0x10)),
        Piece::Skip(0x10),
        Piece::Data(Extent::new(0xB000, 0x10)),
    ];
    let caps = caps();
    let mut mem = SimMemory::new();
    mem.map(0xA000, 0x20).unwrap();
    mem.map(0xB000, 0x20).unwrap();
    let layout = build_sgl_into(
        &SglBuilder::new(caps, Direction::Read),
        &pieces,
        16,
        &mut mem,
    )
    .unwrap();
    let walked = walk_sgl(layout.sgl1.to_raw(), Direction::Read, 0x30, &caps, &mem).unwrap();
    assert_eq!(walked, pieces);
    let source: Vec<u8> = (0..0x30u8).collect();
    DataMover::new(&walked, &mem)
        .unwrap()
        .to_host(&mut mem, &source)
        .unwrap();
    assert_eq!(mem.peek_vec(0xA000, 0x10).unwrap(), source[..0x10]);
    assert_eq!(
        mem.peek_vec(0xB000, 0x10).unwrap(),
        source[0x20..0x30],
        "B gets bytes 0x20.., not 0x10.."
    );
    assert_eq!(
        mem.peek_vec(0xB010, 0x10).unwrap(),
        [0; 16],
        "nothing spills past B"
    );
    // In a write, a bit bucket counts as nothing (and the builder refuses one).
    let walked = walk_sgl(layout.sgl1.to_raw(), Direction::Write, 0x20, &caps, &mem).unwrap();
    assert_eq!(walked, [pieces[0], pieces[2]]);
    assert_eq!(
        SglBuilder::new(caps, Direction::Write).plan(pieces),
        Err(BuildError::SkipInWrite {
            index: 1,
            len: 0x10
        })
    );
}

// ---- Failure class: a list that exactly fills its memory treated as chained ----

#[test]
fn descriptors_that_exactly_fill_a_segment_do_not_chain() {
    let b = SglBuilder::new(caps(), Direction::Write);
    let pieces: Vec<Extent> = (0..16)
        .map(|i| Extent::new(0x10_0000 * (i + 1), 8))
        .collect();
    let plan = b.plan(&pieces).unwrap();
    assert_eq!(plan.segments_needed(16), 1);
    let mut buf = [0u8; 256];
    let layout = b
        .build(&pieces, &mut [SegmentBuf::new(SEG, &mut buf)])
        .unwrap();
    assert_eq!(layout.sgl1.to_raw(), last_segment(SEG, 16));
    // 17: 15 data + a Last Segment pointer to a segment of 2.
    let pieces: Vec<Extent> = (0..17)
        .map(|i| Extent::new(0x10_0000 * (i + 1), 8))
        .collect();
    let plan = b.plan(&pieces).unwrap();
    assert_eq!(plan.segments_needed(16), 2);
    let (mut one, mut two) = ([0u8; 256], [0u8; 256]);
    let layout = b
        .build(
            &pieces,
            &mut [
                SegmentBuf::new(SEG, &mut one),
                SegmentBuf::new(SEG + 0x1000, &mut two),
            ],
        )
        .unwrap();
    assert_eq!(layout.sgl1.to_raw(), segment(SEG, 16));
    assert_eq!(one[240..256], last_segment(SEG + 0x1000, 2).to_bytes());
    // Three segments: Segment, Segment, Last Segment.
    let pieces: Vec<Extent> = (0..40)
        .map(|i| Extent::new(0x10_0000 * (i + 1), 8))
        .collect();
    assert_eq!(b.plan(&pieces).unwrap().segments_needed(16), 3);
}

// ---- Failure class: descriptor memory sized from an undercount and overrun ----

#[test]
fn too_little_segment_memory_is_refused_before_writing() {
    let b = SglBuilder::new(caps(), Direction::Write);
    let pieces: Vec<Extent> = (0..20)
        .map(|i| Extent::new(0x10_0000 * (i + 1), 8))
        .collect();
    let mut buf = [0xa5u8; 256];
    let err = b
        .build(&pieces, &mut [SegmentBuf::new(SEG, &mut buf)])
        .unwrap_err();
    assert_eq!(
        err,
        BuildError::SegmentMemoryTooSmall {
            descriptors: 20,
            given: 1
        }
    );
    assert!(buf.iter().all(|&x| x == 0xa5), "nothing written on error");
    assert!(err.to_string().contains("segments_needed"));
    // A one-descriptor buffer cannot continue a chain.
    let (mut tiny, mut rest) = ([0xa5u8; 16], [0xa5u8; 512]);
    let err = b
        .build(
            &pieces,
            &mut [
                SegmentBuf::new(SEG, &mut tiny),
                SegmentBuf::new(SEG + 0x1000, &mut rest),
            ],
        )
        .unwrap_err();
    assert_eq!(
        err,
        BuildError::SegmentTooSmall {
            segment: 0,
            capacity: 1
        }
    );
    // A misaligned buffer.
    let err = b
        .build(&pieces, &mut [SegmentBuf::new(SEG + 4, &mut rest)])
        .unwrap_err();
    assert_eq!(
        err,
        BuildError::SegmentMisaligned {
            segment: 0,
            addr: SEG + 4
        }
    );
    assert!(rest.iter().chain(tiny.iter()).all(|&x| x == 0xa5));
}

#[test]
fn builder_never_writes_past_its_buffers() {
    let b = SglBuilder::new(caps(), Direction::Write);
    let pieces: Vec<Extent> = (0..20)
        .map(|i| Extent::new(0x10_0000 * (i + 1), 8))
        .collect();
    let mut arena = [0xa5u8; 3 * 256];
    let (one, rest) = arena.split_at_mut(256);
    let (two, guard) = rest.split_at_mut(256);
    let layout = b
        .build(
            &pieces,
            &mut [
                SegmentBuf::new(SEG, one),
                SegmentBuf::new(SEG + 0x1000, two),
            ],
        )
        .unwrap();
    assert_eq!(layout.segments_used, 2);
    assert!(guard.iter().all(|&x| x == 0xa5));
    // 15 data + pointer in the first, 5 data in the second, the rest of it untouched.
    assert!(arena[256 + 5 * 16..512].iter().all(|&x| x == 0xa5));
}

// ---- Validate before use: a failing command moves nothing ----

#[test]
fn a_failing_sgl_is_found_before_any_data_moves() {
    // The first segment is fine; the last one hides a reserved descriptor type.
    let mut bad = block(0x9000, 8);
    bad.set_descriptor_type(SglDescriptorType::Reserved(7));
    let mem = segments(&[
        (SEG, &[block(0x1000, 8), last_segment(SEG + 0x100, 2)]),
        (SEG + 0x100, &[block(0x3000, 8), bad]),
    ]);
    let err = SglWalker::new(segment(SEG, 2), Direction::Read, 24, &caps(), &mem)
        .validate()
        .unwrap_err();
    assert_eq!(err.status(), dnr(Status::SGL_DESCRIPTOR_TYPE_INVALID));
    assert!(
        mem.accesses().iter().all(|a| a.kind == AccessKind::Read),
        "validation only reads"
    );
    // A good one reports what it found.
    let mem = segments(&[(SEG, &[block(0x1000, 8), block(0x1008, 8)])]);
    let summary = SglWalker::new(last_segment(SEG, 2), Direction::Read, 16, &caps(), &mem)
        .validate()
        .unwrap();
    assert_eq!(counts(&summary), (1, 16));
    // Its two descriptors, in one read.
    assert_eq!((mem.read_count(), mem.bytes_read()), (1, 32));
}

/// What a walk summary counts: pieces, bytes.
fn counts(summary: &WalkSummary) -> (u64, u64) {
    (summary.pieces, summary.bytes)
}

#[test]
fn zero_length_transfer_reads_nothing() {
    let mem = SimMemory::new();
    let pieces: Vec<_> = SglWalker::new(last_segment(SEG, 3), Direction::Write, 0, &caps(), &mem)
        .pieces()
        .collect();
    assert!(pieces.is_empty());
    assert_eq!(mem.read_count(), 0);
}

#[test]
fn error_text_names_the_piece_and_the_fix() {
    let b = SglBuilder::new(
        SglCaps::new(Sgls::from_support(SglSupport::ByteAligned)),
        Direction::Read,
    );
    let err = b
        .plan([Piece::Data(Extent::new(0x1000, 8)), Piece::Skip(8)])
        .unwrap_err();
    assert_eq!(
        err,
        BuildError::PieceNotSupported {
            index: 1,
            piece: Piece::Skip(8),
            capability: Capability::BitBucket
        }
    );
    let text = err.to_string();
    for needle in ["piece 1", "SGLS bit 16", "Fix:", "4.3.2"] {
        assert!(text.contains(needle), "{needle:?} missing from: {text}");
    }
    let lldts = SglBuilder::new(caps(), Direction::Write).with_transfer_len(8);
    let err = lldts.plan([Extent::new(0x1000, 12)]).unwrap_err();
    assert_eq!(
        err,
        BuildError::LongerThanTransfer {
            described: 12,
            transfer: 8
        }
    );
    assert!(err.to_string().contains("LLDTS"));
    let short = SglBuilder::new(caps(), Direction::Write).with_transfer_len(16);
    assert_eq!(
        short.plan([Extent::new(0x1000, 12)]),
        Err(BuildError::ShorterThanTransfer {
            described: 12,
            transfer: 16
        })
    );
}

// ---- The inline fast path ----

#[test]
fn inline_fast_path_agrees_with_build() {
    let b = SglBuilder::new(caps(), Direction::Read);
    for piece in [
        Piece::Data(Extent::new(0x1000, 0x10)),
        Piece::Skip(8),
        Piece::Data(Extent::new(0x1001, 3)),
        Piece::Data(Extent::new(u64::MAX - 15, 16)),
    ] {
        assert_eq!(
            b.build_inline(piece).unwrap(),
            b.build([piece], &mut []).unwrap().sgl1
        );
    }
    assert_eq!(
        b.build_inline(Extent::new(0, 1 << 32)),
        Err(BuildError::NotInline { descriptors: 2 })
    );
    assert_eq!(
        b.build_inline(Extent::new(0x1000, 0)),
        Err(BuildError::EmptyTransfer)
    );
    assert!(matches!(
        SglBuilder::new(dword_caps(), Direction::Read).build_inline(Extent::new(0x1002, 8)),
        Err(BuildError::Granularity { index: 0, .. })
    ));
    assert_eq!(
        b.with_transfer_len(32)
            .build_inline(Extent::new(0x1000, 16)),
        Err(BuildError::ShorterThanTransfer {
            described: 16,
            transfer: 32
        })
    );
    assert!(SglBuilder::new(caps(), Direction::Write)
        .build_inline(Piece::Skip(8))
        .is_err());
}

/// `build` and `build_inline` take a lone plain Data Block without the planner, through
/// limits the builder works out once; at every edge of those limits they must agree with
/// `plan`, which checks every rule one by one.
#[test]
fn one_piece_quick_path_agrees_with_the_planner() {
    let lldts = SglCaps::new(Sgls::from_support(SglSupport::ByteAligned) | Sgls::LLDTS);
    let unsupported = SglCaps::new(Sgls::from_support(SglSupport::None));
    let mut builders = Vec::new();
    for caps in [
        caps(),
        dword_caps(),
        lldts,
        unsupported,
        caps().with_msdbd(1),
    ] {
        let b = SglBuilder::new(caps, Direction::Read);
        builders.extend([
            b,
            b.with_max_transfer(0x1000),
            b.with_max_transfer(0),
            b.with_transfer_len(0x1000),
            b.with_transfer_len(0),
            b.with_transfer_len(0x800).with_max_transfer(0x1000),
            b.with_transfer_len(0x2000).with_max_transfer(0x1000),
        ]);
    }
    let top = u64::from(u32::MAX);
    let pieces = [
        Extent::new(0x1000, 0x1000),
        Extent::new(0x1000, 0xFFF),
        Extent::new(0x1000, 0x1001),
        Extent::new(0x1002, 0x800),
        Extent::new(0x1000, 0x800),
        Extent::new(0x1000, 0),
        Extent::new(0x1000, top),
        Extent::new(0x1000, top - 3),
        Extent::new(0x1000, top + 1),
        Extent::new(u64::MAX - 0xFFF, 0x1000),
        Extent::new(u64::MAX - 0xFFF, 0x1001),
    ];
    for b in builders {
        for piece in pieces {
            let plan = b.plan([piece]);
            let built = b.build([piece], &mut []);
            match plan {
                Ok(plan) if plan.is_inline() => {
                    let layout = built.unwrap();
                    assert_eq!(
                        (layout.plan, layout.segments_used),
                        (plan, 0),
                        "{b:?} {piece}"
                    );
                    assert_eq!(b.build_inline(piece), Ok(layout.sgl1), "{b:?} {piece}");
                }
                Ok(_) => {
                    // Several descriptors: segment memory is needed, and none was given.
                    assert!(built.is_err(), "{b:?} {piece}");
                    assert!(b.build_inline(piece).is_err(), "{b:?} {piece}");
                }
                Err(e) => {
                    assert_eq!(built, Err(e), "{b:?} {piece}");
                    // `build_inline` may name another rule first (it checks that the piece
                    // fits one descriptor before the totals), but it refuses too.
                    assert!(b.build_inline(piece).is_err(), "{b:?} {piece}");
                }
            }
        }
    }
}

/// SGL1 as the whole transfer is walked without setting up the segment machinery; what the
/// walk reports, and how it ends, must not depend on that.
#[test]
fn sgl1_alone_reports_like_any_walk() {
    let mem = SimMemory::new();
    let whole = block(0x1000, 16);
    let summary = SglWalker::new(whole, Direction::Read, 16, &caps(), &mem)
        .validate()
        .unwrap();
    assert_eq!(counts(&summary), (1, 16));
    let summary = SglWalker::new(whole, Direction::Read, 0, &caps(), &mem)
        .validate()
        .unwrap();
    assert_eq!(counts(&summary), (0, 0));
    // Through `fill`: an empty slice changes nothing, then the piece and the end in one call,
    // then nothing more.
    let mut walker = SglWalker::new(whole, Direction::Read, 16, &caps(), &mem);
    let mut out = [Piece::Skip(0); 2];
    let nothing = Progress {
        written: 0,
        done: false,
    };
    assert_eq!(walker.fill(&mut []), Ok(nothing));
    let one = Progress {
        written: 1,
        done: true,
    };
    assert_eq!(walker.fill(&mut out), Ok(one));
    assert_eq!(out[0], Piece::Data(Extent::new(0x1000, 16)));
    assert_eq!(walker.fill(&mut out), Ok(Progress::FINISHED));
    assert_eq!(walker.fill(&mut []), Ok(Progress::FINISHED));
    assert_eq!(walker.pieces().next(), None);
    // The iterator, then `fill`, on the same walker.
    let mut walker = SglWalker::new(whole, Direction::Read, 16, &caps(), &mem);
    assert_eq!(
        (&mut walker).pieces().next(),
        Some(Ok(Piece::Data(Extent::new(0x1000, 16))))
    );
    assert_eq!(walker.fill(&mut out), Ok(Progress::FINISHED));
    // The general path alone gives the same.
    let mut walker = SglWalker::new(whole, Direction::Read, 16, &caps(), &mem).without_fast_path();
    assert_eq!(walker.fill(&mut out), Ok(one));
    assert_eq!(out[0], Piece::Data(Extent::new(0x1000, 16)));
    // SGL1 that is not the whole transfer takes the general path, and its status.
    let err = SglWalker::new(whole, Direction::Read, 32, &caps(), &mem)
        .validate()
        .unwrap_err();
    assert_eq!(err.status(), dnr(Status::DATA_SGL_LENGTH_INVALID));
    let mut walker = SglWalker::new(whole, Direction::Read, 32, &caps(), &mem);
    assert!(walker.fill(&mut out).is_err());
    assert_eq!(walker.fill(&mut out), Ok(Progress::FINISHED));
    assert_eq!(mem.read_count(), 0);
}

// ---- Batches: where a fault is met does not depend on the room in `out` ----

/// How a walk ends when filled `size` pieces at a time.
fn walk_in_calls_of(
    size: usize,
    sgl1: SglDescriptor,
    len: u64,
    mem: &SimMemory,
) -> Result<Vec<Piece>, WalkError> {
    fill_all(
        SglWalker::new(sgl1, Direction::Write, len, &caps(), mem),
        size,
    )
}

#[test]
fn a_fault_is_met_where_whole_batches_meet_it_whatever_room_out_has() {
    // A last segment of 100 blocks, none adjacent, of which only some can be read.
    let blocks: Vec<SglDescriptor> = (0..100u64)
        .map(|i| block(0x100_0000 + i * 0x2000, 8))
        .collect();
    let with_mapped = |readable: usize, bad: Option<usize>| {
        let mut blocks = blocks.clone();
        if let Some(i) = bad {
            blocks[i].set_descriptor_type(SglDescriptorType::Reserved(7));
        }
        segments(&[(SEG, &blocks[..readable])])
    };
    let sgl1 = last_segment(SEG, 100);
    let sizes = [1, 5, 16, 59, 63, 64, 65, 70, 200];
    // The second batch (descriptors 64 to 99) cannot be read: Data Transfer Error for that
    // batch, after every piece of the first.
    let mem = with_mapped(64, None);
    let fault = WalkError::FetchFault {
        addr: SEG + 64 * 16,
        len: 36 * 16,
    };
    for size in sizes {
        assert_eq!(
            walk_in_calls_of(size, sgl1, 800, &mem),
            Err(fault),
            "{size}"
        );
    }
    // A bad descriptor in the first batch is met before the second batch is reached.
    let mem = with_mapped(64, Some(10));
    for size in sizes {
        let err = walk_in_calls_of(size, sgl1, 800, &mem).unwrap_err();
        assert!(
            matches!(err, WalkError::DescriptorType { at, .. } if at == at_index(10)),
            "{size}: {err}"
        );
    }
    // The first batch cannot be read whole: its fault comes first, whatever it holds.
    let mem = with_mapped(40, Some(10));
    let fault = WalkError::FetchFault {
        addr: SEG,
        len: 64 * 16,
    };
    for size in sizes {
        assert_eq!(
            walk_in_calls_of(size, sgl1, 800, &mem),
            Err(fault),
            "{size}"
        );
    }
    // All of it readable: the same pieces whatever the room.
    let mem = with_mapped(100, None);
    let all = walk_in_calls_of(200, sgl1, 800, &mem).unwrap();
    assert_eq!(all.len(), 100);
    for size in sizes {
        assert_eq!(
            walk_in_calls_of(size, sgl1, 800, &mem).as_ref(),
            Ok(&all),
            "{size}"
        );
    }
}

/// Descriptor `index` of the first segment, at `SEG`.
fn at_index(index: u32) -> DescriptorAt {
    at(1, index, SEG + u64::from(index) * 16)
}

// ---- Batches: a short first segment, then a long one ----

#[test]
fn a_short_segment_then_a_long_one_reads_in_full_batches() {
    // 3 descriptors (two blocks and the pointer onward), then a last segment of 300 blocks.
    // Every piece comes back. Filled into an `out` with room for them all, the reads are
    // those of full batches: one for the first segment, ceil(300 / B) for the second. As an
    // iterator (16 pieces at a time) the walk reads at most 16 descriptors at a time, each
    // descriptor still once, and finds the same pieces.
    const NEXT: u64 = SEG + 0x1_0000;
    let long: Vec<SglDescriptor> = (0..300u64)
        .map(|i| block(0x100_0000 + i * 0x2000, 0x1000))
        .collect();
    let first = [
        block(0x10_0000, 0x200),
        block(0x20_0000, 0x200),
        last_segment(NEXT, 300),
    ];
    let mut mem = segments(&[(SEG, &first), (NEXT, &long)]);
    let len = 2 * 0x200 + 300 * 0x1000;
    let mut expected = vec![
        Piece::Data(Extent::new(0x10_0000, 0x200)),
        Piece::Data(Extent::new(0x20_0000, 0x200)),
    ];
    expected.extend((0..300u64).map(|i| Piece::Data(Extent::new(0x100_0000 + i * 0x2000, 0x1000))));

    let mut out = vec![Piece::Skip(0); 302 + nvme_dma::sgl::BATCH_DESCRIPTORS];
    let mut walker = SglWalker::new(segment(SEG, 3), Direction::Write, len, &caps(), &mem);
    let progress = walker.fill(&mut out).unwrap();
    assert!(progress.done, "one call when everything fits");
    assert_eq!(out[..progress.written], expected[..]);
    let batches = 300u64.div_ceil(nvme_dma::sgl::BATCH_DESCRIPTORS as u64);
    assert_eq!(mem.read_count(), 1 + batches);
    assert_eq!(mem.bytes_read(), (3 + 300) * 16);

    mem.clear_log();
    let pieces: Vec<Piece> = SglWalker::new(segment(SEG, 3), Direction::Write, len, &caps(), &mem)
        .pieces()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(pieces, expected);
    assert_eq!(mem.bytes_read(), (3 + 300) * 16);
    assert!(mem.accesses().iter().all(|a| a.len <= 16 * 16));
}
