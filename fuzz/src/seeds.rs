//! The seed corpora: a few dozen typed inputs per target, chosen to start the fuzzer at every
//! layout shape and every failure class real drivers and emulators have shipped, encoded into the bytes the
//! target decodes. `tests/seeds.rs` writes them to `corpus/<target>/`.

use std::fmt::Debug;

use arbitrary::{Arbitrary, Unstructured};
use nvme_dma::prp::PrpBuilder;
use nvme_dma::sgl::{DataDescriptor, SegmentKind, SegmentPointer, SglBuilder, SglCaps, WalkLimits};
use nvme_dma::spec::{
    CommandId, CompletionEntry, Opcode, Psdt, SglDescriptor, SglDescriptorType, SglSubtype,
    SglSupport, Sgls, Status, SubmissionEntry,
};
use nvme_dma::QueueKind;
use nvme_dma::{Direction, Piece};
use nvme_dma::{Extent, PageSize};
use nvme_dma_testkit::guest::{self, block, bucket, byte_aligned, pointer, slots, PS};
use nvme_dma_testkit::oracle::{LIST_REGION, SEGMENT_REGION};

use crate::descriptor_memory::{pages_of, regions_of, segments_of, Buffers};
use crate::encode::Encode;
use crate::memory::{MemorySpec, Region, Run};
use crate::prp_build::{ExtentSpec, PrpBuildInput};
use crate::prp_walk::PrpWalkInput;
use crate::sgl_build::{PieceSpec, SglBuildInput};
use crate::sgl_walk::{SglStart, SglWalkInput};
use crate::wire::WireInput;

/// One corpus file.
pub struct Seed {
    /// The fuzz target it belongs to.
    pub target: &'static str,
    /// Its file name (says what it exercises).
    pub name: String,
    /// Its contents.
    pub bytes: Vec<u8>,
}

/// Encode `value` for `target`, and insist that the target decodes exactly `value` back.
pub(crate) fn seed<T>(target: &'static str, name: &str, value: &T) -> Seed
where
    T: Encode + for<'a> Arbitrary<'a> + PartialEq + Debug,
{
    let mut bytes = Vec::new();
    value.encode(&mut bytes);
    let back = T::arbitrary_take_rest(Unstructured::new(&bytes))
        .unwrap_or_else(|e| panic!("{target}/{name} does not decode: {e}"));
    assert_eq!(&back, value, "{target}/{name} decodes to something else");
    Seed {
        target,
        name: name.to_string(),
        bytes,
    }
}

/// Every seed of every target.
pub fn all() -> Vec<Seed> {
    let mut out = wire();
    out.extend(prp_walk());
    out.extend(sgl_walk());
    out.extend(prp_build());
    out.extend(sgl_build());
    out.extend(crate::controller_seeds::seeds());
    out
}

fn caps(support: SglSupport, extra: Sgls) -> SglCaps {
    SglCaps::new(Sgls::from_support(support) | extra)
}

// ---- wire_roundtrip ----

fn wire() -> Vec<Seed> {
    let sqe = |psdt: Psdt, opcode: Opcode| {
        SubmissionEntry::new(opcode, 0x1234)
            .with_psdt(psdt)
            .with_nsid(1)
            .with_mptr(0x9000)
            .with_prp1(0x1_0200)
            .with_prp2(0x8_0000)
            .with_cdw10(0x10)
            .with_cdw15(0xffff_ffff)
    };
    let entries = [
        ("prp-read", sqe(Psdt::Prp, Opcode::NVM_READ)),
        ("sgl-write", sqe(Psdt::Sgl, Opcode::NVM_WRITE)),
        ("sgl-mptr", sqe(Psdt::SglMetadataSgl, Opcode::NVM_READ)),
        ("psdt-reserved", sqe(Psdt::Reserved, Opcode::NVM_READ)),
        ("identify", sqe(Psdt::Prp, Opcode::ADMIN_IDENTIFY)),
        ("all-ones", SubmissionEntry::from_bytes([0xff; 64])),
    ];
    let cqes = [
        CompletionEntry::new(CommandId { sqid: 0, cid: 0 }, 0, Status::SUCCESS, true),
        CompletionEntry::new(
            CommandId {
                sqid: 1,
                cid: 0x1234,
            },
            7,
            Status::INVALID_FIELD.with_dnr(true),
            false,
        ),
        CompletionEntry::new(
            CommandId {
                sqid: 0xffff,
                cid: 0xffff,
            },
            0xffff,
            Status::PRP_OFFSET_INVALID.with_more(true).with_crd(2),
            true,
        ),
        CompletionEntry::new(
            CommandId { sqid: 2, cid: 3 },
            1,
            Status::INVALID_QUEUE_DELETION,
            true,
        )
        .with_dw0(0xdead_beef),
    ];
    // Every descriptor type with subtype 0h, and the other pairs the table names.
    let mut identifiers: Vec<u8> = (0..16).map(|t| t << 4).collect();
    identifiers.extend([0x01, 0x21, 0x4a, 0x4f, 0x5a, 0x50, 0x1a]);
    let capabilities = [
        SglCaps::new(Sgls::empty()),
        byte_aligned(),
        caps(SglSupport::DwordAligned, Sgls::MPTR_SGL),
        caps(SglSupport::Reserved, Sgls::all()).with_msdbd(3),
    ];
    identifiers
        .iter()
        .enumerate()
        .map(|(i, &id)| {
            let (name, sqe) = entries[i % entries.len()];
            let mut descriptor = SglDescriptor::new(
                0x1000_2000,
                0x1000,
                SglDescriptorType::DataBlock,
                SglSubtype::Address,
            )
            .with_type_specific([0x11, 0x22, 0x33]);
            descriptor.set_identifier(id);
            let queue = if i % 3 == 0 {
                QueueKind::Admin
            } else {
                QueueKind::Io
            };
            let input = WireInput {
                sqe,
                cqe: cqes[i % cqes.len()],
                descriptor,
                queue,
                caps: capabilities[i % capabilities.len()],
            };
            seed("wire_roundtrip", &format!("{name}-id{id:02x}"), &input)
        })
        .collect()
}

// ---- prp_walk ----

/// The list pages the builder writes for `extents`, as memory regions, and PRP1/PRP2.
fn prp_layout(ps: PageSize, extents: &[Extent], list_offset: u64) -> (u64, u64, Vec<Region>) {
    let builder = PrpBuilder::new(ps);
    let plan = builder.plan(extents).expect("a valid layout");
    let psb = ps.bytes();
    let pages = plan.list_pages_needed(LIST_REGION + list_offset) as usize;
    let mut buffers: Buffers = (0..pages)
        .map(|i| {
            let (addr, room) = if i == 0 {
                (LIST_REGION + list_offset, psb - list_offset)
            } else {
                (LIST_REGION + psb * (i as u64 + 1), psb)
            };
            (addr, vec![0u8; room.min(PS) as usize])
        })
        .collect();
    let layout = builder
        .build(extents, &mut pages_of(&mut buffers))
        .expect("list memory suffices");
    (
        layout.pair.prp1,
        layout.pair.prp2.raw(),
        regions_of(&buffers),
    )
}

fn prp_input(prp1: u64, prp2: u64, len: u64, ps: PageSize, regions: Vec<Region>) -> PrpWalkInput {
    PrpWalkInput {
        prp1,
        prp2,
        len,
        page_size: ps,
        fill_len: 3,
        memory: MemorySpec { regions },
    }
}

fn prp_walk() -> Vec<Seed> {
    let ps4 = PageSize::SIZE_4K;
    let mut cases: Vec<(&str, PrpWalkInput)> = Vec::new();
    let mut valid = |name, ps: PageSize, extents: &[Extent], list_offset| {
        let (prp1, prp2, regions) = prp_layout(ps, extents, list_offset);
        let len = extents.iter().map(|e| e.len).sum();
        cases.push((name, prp_input(prp1, prp2, len, ps, regions)));
    };
    valid("one-page", ps4, &[Extent::new(0x1_0200, 0x200)], 0);
    valid("two-pages", ps4, &[Extent::new(0x1_0800, 0x1000)], 0);
    valid(
        "readme-list",
        ps4,
        &[
            Extent::new(0x1_0200, 0xe00),
            Extent::new(0x5_0000, 0x2000),
            Extent::new(0x9_0000, 0x200),
        ],
        0,
    );
    valid(
        "512-entries-exact-fill",
        ps4,
        &[Extent::new(0x100_0000, 513 * PS)],
        0,
    );
    valid(
        "513-entries-chain",
        ps4,
        &[Extent::new(0x100_0000, 514 * PS)],
        0,
    );
    valid(
        "list-offset-one-slot",
        ps4,
        &[Extent::new(0x100_0000, 3 * PS)],
        PS - 8,
    );
    valid(
        "list-offset-32-slots",
        ps4,
        &[Extent::new(0x100_0000, 40 * PS)],
        0xf00,
    );
    valid("prp1-zero", ps4, &[Extent::new(0, 3 * PS)], 0);
    valid(
        "scattered",
        ps4,
        &[
            Extent::new(0x1_0000, PS),
            Extent::new(0x9_0000, PS),
            Extent::new(0x3_0000, PS),
            Extent::new(0x7_0000, 0x10),
        ],
        0,
    );
    valid(
        "64k-pages",
        PageSize::SIZE_64K,
        &[Extent::new(0x10_0400, 5 << 16)],
        0x100,
    );
    let big = PageSize::from_mps(15).unwrap();
    valid("128m-pages", big, &[Extent::new(0, 2 * big.bytes() + 1)], 0);

    let list3 = slots(&[0x5000, 0x9000]);
    let at = |bytes: &[u8]| vec![Region::with_bytes(LIST_REGION, bytes.to_vec())];
    cases.extend([
        ("len-zero", prp_input(0x1003, 0, 0, ps4, vec![])),
        (
            "prp1-not-dword",
            prp_input(0x1002, LIST_REGION, 3 * PS, ps4, at(&list3)),
        ),
        ("prp2-offset", prp_input(0x1800, 0x2010, PS, ps4, vec![])),
        (
            "list-pointer-not-qword",
            prp_input(0x1000, LIST_REGION + 4, 3 * PS, ps4, at(&list3)),
        ),
        (
            "list-entry-offset",
            prp_input(
                0x1000,
                LIST_REGION,
                3 * PS,
                ps4,
                at(&slots(&[0x5000, 0x9200])),
            ),
        ),
        (
            "list-unmapped",
            prp_input(0x1000, LIST_REGION, 3 * PS, ps4, vec![]),
        ),
        (
            "list-half-mapped",
            prp_input(0x1000, LIST_REGION, 3 * PS, ps4, at(&slots(&[0x5000]))),
        ),
        (
            "top-of-memory",
            prp_input(
                u64::MAX - 0xfff + 0x800,
                u64::MAX - 0xfff,
                0x1000,
                ps4,
                vec![],
            ),
        ),
    ]);

    // A list page whose chain pointer has an offset, and one that chains to itself.
    let mut entries: Vec<u64> = (0..511).map(|i| 0x100_0000 + i * PS).collect();
    entries.push(LIST_REGION + 8);
    cases.push((
        "chain-pointer-offset",
        prp_input(0, LIST_REGION, 600 * PS, ps4, at(&slots(&entries))),
    ));
    entries[511] = LIST_REGION;
    cases.push((
        "self-chained-list",
        prp_input(0, LIST_REGION, 4096 * PS, ps4, at(&slots(&entries))),
    ));
    // A long list generated by a run: entries 2i and 2i + 1 of one contiguous buffer.
    let run = Run {
        first: [0x200_0000, 0x200_0000 + PS],
        step: [2 * PS, 2 * PS],
        count: 1000,
    };
    let generated = vec![Region {
        addr: LIST_REGION,
        bytes: Vec::new(),
        run,
    }];
    cases.push((
        "generated-list",
        prp_input(0x1ff_f000, LIST_REGION, 2001 * PS, ps4, generated),
    ));
    // An entry with an offset after the first batch of 64.
    let mut late: Vec<u64> = (0..100).map(|i| 0x100_0000 + i * PS).collect();
    late[80] |= 0x40;
    cases.push((
        "late-entry-offset",
        prp_input(0, LIST_REGION, 101 * PS, ps4, at(&slots(&late))),
    ));

    cases
        .iter()
        .map(|(name, input)| seed("prp_walk", name, input))
        .collect()
}

// ---- sgl_walk ----

/// The segments the builder writes for `pieces` (buffers of `capacity` descriptors), as
/// memory regions, and SGL1.
fn sgl_layout(
    builder: &SglBuilder,
    pieces: &[Piece],
    capacity: u64,
) -> (SglDescriptor, Vec<Region>) {
    let plan = builder.plan(pieces).expect("a valid layout");
    let count = plan.segments_needed(capacity) as usize;
    let mut buffers: Buffers = (0..count)
        .map(|i| {
            (
                SEGMENT_REGION + 0x1_0000 * i as u64,
                vec![0u8; capacity as usize * 16],
            )
        })
        .collect();
    let layout = builder
        .build(pieces, &mut segments_of(&mut buffers))
        .expect("segment memory suffices");
    (layout.sgl1.to_raw(), regions_of(&buffers))
}

fn sgl_input(
    start: SglStart,
    direction: Direction,
    len: u64,
    caps: SglCaps,
    regions: Vec<Region>,
) -> SglWalkInput {
    SglWalkInput {
        start,
        direction,
        len,
        caps,
        memory: MemorySpec { regions },
    }
}

fn segment(descriptors: &[SglDescriptor]) -> Vec<Region> {
    vec![Region::with_bytes(
        SEGMENT_REGION,
        guest::descriptors(descriptors),
    )]
}

fn sgl_walk() -> Vec<Seed> {
    use Direction::{Read, Write};
    use SegmentKind::{LastSegment, Segment};
    let byte = byte_aligned();
    let dword = caps(SglSupport::DwordAligned, Sgls::BIT_BUCKET);
    let lldts = caps(SglSupport::ByteAligned, Sgls::LLDTS);
    let mut cases: Vec<(&str, SglWalkInput)> = Vec::new();
    let mut valid = |name, direction, caps: SglCaps, pieces: &[Piece], capacity| {
        let (sgl1, regions) = sgl_layout(&SglBuilder::new(caps, direction), pieces, capacity);
        let len = pieces.iter().map(|p| p.len()).sum();
        cases.push((
            name,
            sgl_input(SglStart::Sgl1(sgl1), direction, len, caps, regions),
        ));
    };
    let data = |addr, len| Piece::Data(Extent::new(addr, len));
    valid(
        "inline-block",
        Write,
        byte,
        &[data(0x10_0000, 0x2_0000)],
        16,
    );
    valid(
        "last-segment-bit-bucket",
        Read,
        byte,
        &[
            data(0x10_0000, 0x800),
            Piece::Skip(0x800),
            data(0x20_0000, 0x800),
        ],
        16,
    );
    let scattered: Vec<Piece> = (0..10)
        .map(|i| data(0x100_0000 * (i + 1), 0x1000 + i))
        .collect();
    valid("chain-capacity-4", Write, byte, &scattered, 4);
    valid("chain-capacity-2", Read, byte, &scattered, 2);
    valid("exact-fill-capacity-10", Write, byte, &scattered, 10);
    let aligned: Vec<Piece> = (0..6)
        .map(|i| data(0x100_0000 * (i + 1), 0x200 * (i + 1)))
        .collect();
    valid("dword-chain", Read, dword, &aligned, 3);
    let keyed = caps(SglSupport::ByteAligned, Sgls::KEYED);
    valid(
        "keyed",
        Write,
        keyed,
        &[
            Piece::Keyed {
                extent: Extent::new(0x5000, 0x100),
                key: 7,
            },
            data(0x9000, 0x10),
        ],
        16,
    );
    valid(
        "over-4g-piece",
        Write,
        byte,
        &[data(0x1_0000_0000, (1 << 32) + 5)],
        16,
    );

    let last = |ds: &[SglDescriptor]| pointer(SEGMENT_REGION, ds.len() as u32, LastSegment);
    let hostile = |name, ds: Vec<SglDescriptor>, direction, len, caps| {
        (
            name,
            sgl_input(
                SglStart::Sgl1(last(&ds)),
                direction,
                len,
                caps,
                segment(&ds),
            ),
        )
    };
    let bucket = bucket(0x10);
    let reserved =
        SglDescriptor::from_bytes([0, 0, 0, 0, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x60]);
    let to_self = pointer(SEGMENT_REGION, 2, Segment);
    let mptr = SglCaps::new(byte.sgls() | Sgls::MPTR_SGL);
    let mut metadata = segment(&[block(0x30_0000, 0x40)]);
    metadata[0].addr = 0x6000;
    cases.extend([
        hostile(
            "bit-bucket-in-write",
            vec![block(0x1000, 0x10), bucket],
            Write,
            0x10,
            byte,
        ),
        hostile(
            "zero-length-run",
            vec![block(0, 0); 300]
                .into_iter()
                .chain([block(0x1000, 4)])
                .collect(),
            Write,
            4,
            byte,
        ),
        hostile(
            "pointer-not-last",
            vec![pointer(SEGMENT_REGION, 1, LastSegment), block(0x1000, 0x10)],
            Write,
            0x10,
            byte,
        ),
        hostile(
            "pointer-in-last-segment",
            vec![block(0x1000, 0x10), pointer(SEGMENT_REGION, 1, LastSegment)],
            Write,
            0x10,
            byte,
        ),
        hostile(
            "segment-length-not-16",
            vec![
                block(0x1000, 0x10),
                SegmentPointer {
                    addr: SEGMENT_REGION,
                    len: 24,
                    kind: LastSegment,
                }
                .to_raw(),
            ],
            Write,
            0x10,
            byte,
        ),
        hostile(
            "reserved-type",
            vec![block(0x1000, 0x10), reserved],
            Write,
            0x20,
            byte,
        ),
        hostile("granularity", vec![block(0x1001, 0x10)], Write, 0x10, dword),
        hostile(
            "wraps-2-64",
            vec![block(u64::MAX - 0xf, 0x20)],
            Write,
            0x20,
            byte,
        ),
        hostile(
            "longer-than-transfer",
            vec![block(0x1000, 0x20)],
            Write,
            0x10,
            byte,
        ),
        hostile(
            "longer-with-lldts",
            vec![block(0x1000, 0x20), block(0x9000, 0x20)],
            Write,
            0x10,
            lldts,
        ),
        hostile(
            "shorter-than-transfer",
            vec![block(0x1000, 0x10)],
            Write,
            0x20,
            byte,
        ),
        hostile(
            "msdbd-exceeded",
            vec![
                block(0x1000, 0x10),
                block(0x2000, 0x10),
                block(0x3000, 0x10),
            ],
            Write,
            0x30,
            byte.with_msdbd(2),
        ),
        hostile(
            "walk-limits",
            vec![block(0x1000, 0x10); 8],
            Write,
            0x80,
            byte.with_limits(WalkLimits {
                max_descriptors: 4,
                max_segments: 1,
            }),
        ),
        (
            "segment-to-itself",
            sgl_input(
                SglStart::Sgl1(to_self),
                Read,
                1 << 30,
                byte,
                segment(&[block(0x1000, 0x10), to_self]),
            ),
        ),
        (
            "segment-misaligned",
            sgl_input(
                SglStart::Sgl1(
                    SegmentPointer {
                        addr: SEGMENT_REGION + 4,
                        len: 16,
                        kind: LastSegment,
                    }
                    .to_raw(),
                ),
                Write,
                0x10,
                byte,
                segment(&[block(0x1000, 0x10)]),
            ),
        ),
        (
            "segment-of-2-28-descriptors",
            sgl_input(
                SglStart::Sgl1(pointer(SEGMENT_REGION, (1 << 28) - 1, LastSegment)),
                Write,
                0x10,
                byte,
                segment(&[block(0x1000, 0x10)]),
            ),
        ),
        (
            "segment-unmapped",
            sgl_input(SglStart::Sgl1(last(&[block(0, 1)])), Write, 1, byte, vec![]),
        ),
        (
            "sgl-unsupported",
            sgl_input(
                SglStart::Sgl1(block(0x1000, 0x10)),
                Write,
                0x10,
                SglCaps::new(Sgls::empty()),
                vec![],
            ),
        ),
        (
            "vendor-sgl1",
            sgl_input(
                SglStart::Sgl1(SglDescriptor::from_bytes([0xf0; 16])),
                Read,
                0x10,
                byte,
                vec![],
            ),
        ),
        (
            "metadata-sgl",
            sgl_input(SglStart::Mptr(0x6000), Read, 0x40, mptr, metadata),
        ),
        (
            "metadata-misaligned",
            sgl_input(SglStart::Mptr(0x6004), Read, 0x40, mptr, vec![]),
        ),
        (
            "metadata-without-msds",
            sgl_input(SglStart::Mptr(0x6000), Read, 0x40, byte, vec![]),
        ),
        (
            "fabrics-types",
            sgl_input(
                SglStart::Sgl1(last(&[block(0, 0); 3])),
                Write,
                0x30,
                SglCaps::new(
                    Sgls::from_support(SglSupport::ByteAligned)
                        | Sgls::KEYED
                        | Sgls::TRANSPORT_DATA_BLOCK
                        | Sgls::ADDRESS_AS_OFFSET,
                )
                .with_capsule_data(0x100),
                segment(&[
                    DataDescriptor::CapsuleBlock {
                        offset: 0x10,
                        len: 0x10,
                    }
                    .to_raw(),
                    DataDescriptor::Keyed {
                        addr: 0x4000,
                        len: 0x10,
                        key: 9,
                        subtype: SglSubtype::Address,
                    }
                    .to_raw(),
                    DataDescriptor::Transport {
                        len: 0x10,
                        subtype: SglSubtype::TransportSpecific(0xa),
                    }
                    .to_raw(),
                ]),
            ),
        ),
    ]);

    cases
        .iter()
        .map(|(name, input)| seed("sgl_walk", name, input))
        .collect()
}

// ---- prp_build_walk ----

fn prp_build() -> Vec<Seed> {
    let ps4 = PageSize::SIZE_4K;
    let paged = |page, head, pages, tail| ExtentSpec::Paged {
        page,
        head,
        pages,
        tail,
    };
    let raw = |addr, len| ExtentSpec::Raw(Extent::new(addr, len));
    let input = |ps, max_transfer, list_offset, extents: Vec<ExtentSpec>| PrpBuildInput {
        page_size: ps,
        max_transfer,
        list_offset,
        spare_lists: 1,
        extents,
    };
    let cases = [
        (
            "readme",
            input(
                ps4,
                Some(128 * 1024),
                0,
                vec![
                    raw(0x1_0200, 0xe00),
                    raw(0x5_0000, 0x2000),
                    raw(0x9_0000, 0x200),
                ],
            ),
        ),
        (
            "one-page",
            input(ps4, None, 0, vec![paged(16, 0x200, 0, 0x400)]),
        ),
        (
            "two-pages",
            input(ps4, None, 0, vec![paged(16, 0x800, 1, 0x800)]),
        ),
        (
            "scatter-whole-pages",
            input(
                ps4,
                None,
                3,
                vec![
                    paged(16, 0x40, 1, 0),
                    paged(99, 0, 3, 0),
                    paged(7, 0, 1, 0),
                    paged(40, 0, 0, 0x10),
                ],
            ),
        ),
        (
            "513-pages",
            input(ps4, None, 0, vec![paged(0x100, 0, 513, 0)]),
        ),
        (
            "514-pages",
            input(ps4, None, 0, vec![paged(0x100, 0, 514, 0)]),
        ),
        (
            "list-offset-one-slot",
            input(ps4, None, 511, vec![paged(0x100, 0, 3, 0)]),
        ),
        (
            "middle-ends-inside-page",
            input(
                ps4,
                None,
                0,
                vec![paged(1, 0, 1, 0), paged(8, 0, 0, 0x200), paged(10, 0, 1, 0)],
            ),
        ),
        (
            "later-starts-inside-page",
            input(ps4, None, 0, vec![paged(1, 0, 1, 0), paged(8, 0x200, 1, 0)]),
        ),
        (
            "first-not-dword",
            input(ps4, None, 0, vec![raw(0x1001, 0x20)]),
        ),
        (
            "zero-length-anywhere",
            input(
                ps4,
                None,
                0,
                vec![
                    raw(3, 0),
                    paged(1, 0, 1, 0),
                    raw(0x5555, 0),
                    paged(9, 0, 0, 0x10),
                ],
            ),
        ),
        ("empty", input(ps4, None, 0, vec![raw(0x1000, 0)])),
        (
            "wraps-2-64",
            input(ps4, None, 0, vec![raw(u64::MAX - 0xfff, 0x2000)]),
        ),
        (
            "ends-at-2-64",
            input(ps4, None, 0, vec![raw(u64::MAX - 0x2fff, 0x3000)]),
        ),
        (
            "mdts-exact",
            input(ps4, Some(32 * PS), 0, vec![paged(64, 0, 32, 0)]),
        ),
        (
            "mdts-plus-one-page",
            input(ps4, Some(32 * PS), 0, vec![paged(64, 0, 33, 0)]),
        ),
        (
            "64k-pages",
            input(
                PageSize::SIZE_64K,
                None,
                40,
                vec![paged(3, 0x400, 2, 0), paged(9, 0, 4, 0x100)],
            ),
        ),
        (
            "128m-pages",
            input(
                PageSize::from_mps(15).unwrap(),
                None,
                0,
                vec![paged(1, 0, 3, 1)],
            ),
        ),
        (
            "total-overflows",
            input(
                ps4,
                None,
                0,
                vec![raw(0, u64::MAX - 0xfff), raw(0x1000, 0x2000)],
            ),
        ),
    ];
    cases
        .iter()
        .map(|(name, input)| seed("prp_build_walk", name, input))
        .collect()
}

// ---- sgl_build_walk ----

fn sgl_build() -> Vec<Seed> {
    use Direction::{Read, Write};
    let byte = Sgls::from_support(SglSupport::ByteAligned).bits();
    let dword = Sgls::from_support(SglSupport::DwordAligned).bits();
    let bucket = Sgls::BIT_BUCKET.bits();
    let near = |region, offset, len| PieceSpec::Near {
        region,
        offset,
        len,
    };
    let after = |len| PieceSpec::After { len };
    let raw = PieceSpec::Raw;
    let input = |sgls, direction, capacity, pieces: Vec<PieceSpec>| SglBuildInput {
        sgls,
        msdbd: 0,
        direction,
        transfer_delta: None,
        max_transfer: None,
        capacity,
        spare_segments: 1,
        pieces,
    };
    let scattered: Vec<PieceSpec> = (0..16)
        .map(|i| near(i, 0x100 * u32::from(i), 0x1000 + u32::from(i)))
        .collect();
    let mut cases = vec![
        (
            "bit-bucket-read",
            input(
                byte | bucket,
                Read,
                14,
                vec![
                    near(0, 0, 0x1000),
                    raw(Piece::Skip(0x200)),
                    near(2, 0, 0x123),
                    after(0x100),
                ],
            ),
        ),
        (
            "scatter-capacity-2",
            input(byte, Write, 0, scattered.clone()),
        ),
        (
            "scatter-capacity-3",
            input(byte, Read, 1, scattered.clone()),
        ),
        ("scatter-capacity-16", input(byte, Write, 14, scattered)),
        (
            "merging",
            input(
                byte,
                Write,
                2,
                vec![near(1, 0, 8), after(8), after(8), near(3, 0, 8), after(0)],
            ),
        ),
        (
            "dword-ok",
            input(dword, Read, 2, vec![near(1, 4, 8), near(2, 8, 0x1000)]),
        ),
        (
            "dword-misaligned",
            input(dword, Read, 2, vec![near(1, 4, 8), near(2, 9, 0x1000)]),
        ),
        (
            "dword-merged-run",
            input(dword, Read, 2, vec![near(1, 4, 7), after(5)]),
        ),
        (
            "keyed",
            input(
                byte | Sgls::KEYED.bits(),
                Write,
                4,
                vec![
                    raw(Piece::Keyed {
                        extent: Extent::new(0x5000, 0x100),
                        key: 7,
                    }),
                    raw(Piece::Keyed {
                        extent: Extent::new(0x5100, 0x100),
                        key: 7,
                    }),
                ],
            ),
        ),
        (
            "keyed-unsupported",
            input(
                byte,
                Write,
                4,
                vec![raw(Piece::Keyed {
                    extent: Extent::new(0x5000, 0x100),
                    key: 7,
                })],
            ),
        ),
        (
            "skip-in-write",
            input(
                byte | bucket,
                Write,
                4,
                vec![near(1, 0, 8), raw(Piece::Skip(8))],
            ),
        ),
        (
            "over-4g-piece",
            input(
                byte,
                Write,
                4,
                vec![raw(Piece::Data(Extent::new(1 << 40, (3 << 32) + 1)))],
            ),
        ),
        (
            "wraps-2-64",
            input(
                byte,
                Write,
                4,
                vec![raw(Piece::Data(Extent::new(u64::MAX - 7, 9)))],
            ),
        ),
        ("unsupported", input(0, Write, 4, vec![near(1, 0, 8)])),
        ("empty", input(byte, Write, 4, vec![near(1, 0, 0)])),
    ];
    let mut lldts = input(
        byte | Sgls::LLDTS.bits(),
        Read,
        2,
        vec![near(1, 0, 0x100), near(2, 0, 0x100), near(3, 0, 0x100)],
    );
    lldts.transfer_delta = Some(-0x180);
    let mut strict = lldts.clone();
    strict.sgls = byte;
    let mut shorter = strict.clone();
    shorter.transfer_delta = Some(1);
    let mut msdbd = strict.clone();
    msdbd.transfer_delta = None;
    msdbd.msdbd = 2;
    let mut mdts = msdbd.clone();
    mdts.msdbd = 0;
    mdts.max_transfer = Some(0x2ff);
    cases.extend([
        ("lldts-longer", lldts),
        ("longer-without-lldts", strict),
        ("shorter-than-transfer", shorter),
        ("msdbd-exceeded", msdbd),
        ("mdts-exceeded", mdts),
    ]);
    cases
        .iter()
        .map(|(name, input)| seed("sgl_build_walk", name, input))
        .collect()
}
