//! Choosing the data pointer: each policy's decisions, the rules no policy can change (admin
//! queues, metadata, fallbacks, splitting), the SQE fields written, and the device side
//! reading them back.

use nvme_dma::dptr::{
    self, ControllerCaps, DescriptorMemory, DptrError, Outcome, Plan, Request, SglMetadata,
    SglPolicy, SglRefusal,
};
use nvme_dma::prp::{self, PrpListPage};
use nvme_dma::sgl::{self, Capability, SegmentBuf, SglCaps};
use nvme_dma::spec::{BlockRange, MaxTransfer, Opcode, Psdt, SglSupport, Sgls, SubmissionEntry};
use nvme_dma::QueueKind;
use nvme_dma::{Direction, Piece};
use nvme_dma::{Extent, PageSize, SimMemory};
use nvme_dma_testkit::contract::check_iterator_form;
use proptest::prelude::*;
use zerocopy::IntoBytes;

const KIB: u64 = 1024;
const LIST: u64 = 0x7f00_0000;
const SEGS: u64 = 0x7e00_0000;

fn ctrl(sgls: Sgls) -> ControllerCaps {
    ControllerCaps {
        page_size: PageSize::SIZE_4K,
        sgl: SglCaps::new(sgls),
        max_transfer: MaxTransfer::Bytes(8 << 20),
    }
}

fn sgl_ctrl() -> ControllerCaps {
    ctrl(Sgls::from_support(SglSupport::ByteAligned))
}

/// Descriptor memory backing: 4 list pages, 4 page-sized data segments, 4 metadata segments.
struct Backing {
    lists: Vec<u8>,
    segs: Vec<u8>,
    meta: Vec<u8>,
    /// How many pages of each kind are offered (at most 4).
    pages: usize,
}

impl Backing {
    fn new() -> Self {
        Backing {
            lists: vec![0; 4 * 4096],
            segs: vec![0; 4 * 4096],
            meta: vec![0; 4 * 4096],
            pages: 4,
        }
    }

    /// Offer only the first `pages` pages of each kind of descriptor memory.
    fn with_pages(mut self, pages: usize) -> Self {
        self.pages = pages;
        self
    }

    /// Fill `sqe` for `req` under `policy`, with every kind of descriptor memory available.
    fn fill<'e>(
        &mut self,
        sqe: &mut SubmissionEntry,
        req: &Request<'e>,
        ctrl: &ControllerCaps,
        policy: SglPolicy,
    ) -> Result<Outcome<'e>, DptrError> {
        self.with_memory(|memory| dptr::fill_sqe(sqe, req, ctrl, policy, memory))
    }

    /// [`Backing::fill`] through the general path alone: `plan`, then `Plan::fill`.
    fn fill_general<'e>(
        &mut self,
        sqe: &mut SubmissionEntry,
        req: &Request<'e>,
        ctrl: &ControllerCaps,
        policy: SglPolicy,
    ) -> Result<Outcome<'e>, DptrError> {
        self.with_memory(|memory| match dptr::plan(req, ctrl, policy)? {
            Plan::Split(split) => Ok(Outcome::Split(split)),
            plan => plan.fill(sqe, req, ctrl, memory).map(Outcome::Filled),
        })
    }

    fn with_memory<R>(&mut self, f: impl FnOnce(&mut DescriptorMemory<'_, '_>) -> R) -> R {
        let mut lists: Vec<PrpListPage<'_>> = self
            .lists
            .chunks_mut(4096)
            .take(self.pages)
            .enumerate()
            .map(|(i, c)| PrpListPage::new(LIST + i as u64 * 4096, c))
            .collect();
        let mut segs: Vec<SegmentBuf<'_>> = self
            .segs
            .chunks_mut(4096)
            .take(self.pages)
            .enumerate()
            .map(|(i, c)| SegmentBuf::new(SEGS + i as u64 * 4096, c))
            .collect();
        let mut meta: Vec<SegmentBuf<'_>> = self
            .meta
            .chunks_mut(4096)
            .take(self.pages)
            .enumerate()
            .map(|(i, c)| SegmentBuf::new(SEGS + 0x10_0000 + i as u64 * 4096, c))
            .collect();
        let mut memory = DescriptorMemory {
            prp_lists: &mut lists,
            sgl_segments: &mut segs,
            metadata_segments: &mut meta,
        };
        f(&mut memory)
    }

    /// The descriptor memory as the controller sees it.
    fn memory(&self) -> SimMemory {
        let mut mem = SimMemory::new();
        for (base, bytes) in [
            (LIST, &self.lists),
            (SEGS, &self.segs),
            (SEGS + 0x10_0000, &self.meta),
        ] {
            mem.map(base, bytes.len() as u64).unwrap();
            mem.poke(base, bytes).unwrap();
        }
        mem
    }
}

/// Fill, then check the device side walks the command back to the request's extents.
fn fill_and_walk(
    req: &Request<'_>,
    ctrl: &ControllerCaps,
    policy: SglPolicy,
) -> (SubmissionEntry, dptr::Filled) {
    let mut backing = Backing::new();
    let mut sqe = SubmissionEntry::new(Opcode::NVM_WRITE, 0x42);
    let Outcome::Filled(filled) = backing.fill(&mut sqe, req, ctrl, policy).unwrap() else {
        panic!("expected a filled command");
    };
    let mem = backing.memory();
    let pointers = dptr::decode(&sqe, req.queue, &ctrl.sgl).unwrap();
    let len: u64 = req.extents.iter().map(|e| e.len).sum();
    let walked = check_iterator_form(|| {
        pointers.walk_data(req.direction, len, ctrl.page_size, &ctrl.sgl, &mem)
    })
    .unwrap();
    let walked_len: u64 = walked.iter().map(Piece::len).sum();
    assert_eq!(walked_len, len);
    let data: Vec<Extent> = walked
        .iter()
        .map(|p| match p {
            Piece::Data(e) => *e,
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(data, merged(req.extents));
    if let Some(meta) = req.metadata {
        let meta_len: u64 = meta.iter().map(|e| e.len).sum();
        let walked = check_iterator_form(|| {
            pointers.walk_metadata(req.direction, meta_len, &ctrl.sgl, &mem)
        })
        .unwrap();
        let meta_data: Vec<Extent> = walked
            .iter()
            .map(|p| match p {
                Piece::Data(e) => *e,
                other => panic!("unexpected {other:?}"),
            })
            .collect();
        assert_eq!(meta_data, merged(meta));
    }
    (sqe, filled)
}

fn merged(extents: &[Extent]) -> Vec<Extent> {
    let mut out: Vec<Extent> = Vec::new();
    for e in extents.iter().filter(|e| e.len > 0) {
        match out.last_mut() {
            Some(last) if last.addr + last.len == e.addr => last.len += e.len,
            _ => out.push(*e),
        }
    }
    out
}

fn scattered(count: u64, len: u64) -> Vec<Extent> {
    (0..count)
        .map(|i| Extent::new(0x1_0000_0000 + i * 0x10_0000, len))
        .collect()
}

// ---- Linux ----

#[test]
fn linux_uses_sgl_from_a_32k_average_segment() {
    let c = sgl_ctrl();
    // 64 KiB contiguous: average 64 KiB, so an SGL: one inline Data Block.
    let big = [Extent::new(0x10_0000, 64 * KIB)];
    let (sqe, filled) = fill_and_walk(
        &Request::new(&big, Direction::Write, QueueKind::Io),
        &c,
        SglPolicy::LINUX,
    );
    assert_eq!(filled.psdt, Psdt::Sgl);
    assert_eq!(
        sqe.sgl1(),
        sgl::DataDescriptor::Block {
            addr: 0x10_0000,
            len: 0x1_0000
        }
        .to_raw()
    );
    // One 16 KiB buffer: one physical segment past two pages is one Data Block, whatever
    // the threshold (nvme_map_data's single-segment path, nvme_setup_sgl_simple).
    let one = [Extent::new(0x10_0000, 16 * KIB)];
    let (sqe, filled) = fill_and_walk(
        &Request::new(&one, Direction::Write, QueueKind::Io),
        &c,
        SglPolicy::LINUX,
    );
    assert_eq!(filled.psdt, Psdt::Sgl);
    assert_eq!(
        sqe.sgl1(),
        sgl::DataDescriptor::Block {
            addr: 0x10_0000,
            len: 0x4000
        }
        .to_raw()
    );
    // One buffer within two pages: PRP1 and PRP2 (nvme_setup_prp_simple).
    let two_pages = [Extent::new(0x10_0200, 4 * KIB)];
    let (sqe, filled) = fill_and_walk(
        &Request::new(&two_pages, Direction::Write, QueueKind::Io),
        &c,
        SglPolicy::LINUX,
    );
    assert_eq!(
        (filled.psdt, sqe.prp1(), sqe.prp2()),
        (Psdt::Prp, 0x10_0200, 0x10_1000)
    );
    // 16 KiB in four scattered pages: a 4 KiB average, below the threshold, so PRPs (with a
    // list of 3 entries).
    let small = scattered(4, 4 * KIB);
    let (sqe, filled) = fill_and_walk(
        &Request::new(&small, Direction::Write, QueueKind::Io),
        &c,
        SglPolicy::LINUX,
    );
    assert_eq!(
        (filled.psdt, sqe.prp1(), sqe.prp2()),
        (Psdt::Prp, small[0].addr, LIST)
    );
    // Exactly 32 KiB on average (two adjacent 16 KiB extents merge): SGL.
    let pair = [
        Extent::new(0x10_0000, 16 * KIB),
        Extent::new(0x10_4000, 16 * KIB),
    ];
    let (_, filled) = fill_and_walk(
        &Request::new(&pair, Direction::Write, QueueKind::Io),
        &c,
        SglPolicy::LINUX,
    );
    assert_eq!(filled.psdt, Psdt::Sgl);
    // Four scattered 64 KiB extents: an SGL with a Last Segment of 4 descriptors.
    let four = scattered(4, 64 * KIB);
    let (sqe, filled) = fill_and_walk(
        &Request::new(&four, Direction::Write, QueueKind::Io),
        &c,
        SglPolicy::LINUX,
    );
    assert_eq!(
        sqe.sgl1(),
        sgl::SegmentPointer::new(SEGS, 4, sgl::SegmentKind::LastSegment)
            .unwrap()
            .to_raw()
    );
    assert_eq!((filled.psdt, filled.lists_used), (Psdt::Sgl, 1));
    // A threshold of 0 disables SGLs.
    let (_, filled) = fill_and_walk(
        &Request::new(&big, Direction::Write, QueueKind::Io),
        &c,
        SglPolicy::Linux { threshold: 0 },
    );
    assert_eq!(filled.psdt, Psdt::Prp);
    // Even where PRPs cannot carry the data in one command: split, never an SGL.
    let ragged = [Extent::new(0x1_0000, 0x800), Extent::new(0x8_0000, 0x1000)];
    let req = Request::new(&ragged, Direction::Write, QueueKind::Io);
    assert!(matches!(
        dptr::plan(&req, &c, SglPolicy::Linux { threshold: 0 }),
        Ok(Plan::Split(_))
    ));
    assert!(matches!(
        dptr::plan(&req, &c, SglPolicy::LINUX),
        Ok(Plan::Sgl { .. })
    ));
}

// ---- SPDK ----

#[test]
fn spdk_uses_sgl_whenever_supported() {
    let c = sgl_ctrl();
    let one_page = [Extent::new(0x10_0000, 4 * KIB)];
    let (sqe, filled) = fill_and_walk(
        &Request::new(&one_page, Direction::Read, QueueKind::Io),
        &c,
        SglPolicy::Always,
    );
    assert_eq!(filled.psdt, Psdt::Sgl);
    assert_eq!(sqe.mptr(), 0);
    // Without SGL support: PRPs.
    let none = ctrl(Sgls::empty());
    let (_, filled) = fill_and_walk(
        &Request::new(&one_page, Direction::Read, QueueKind::Io),
        &none,
        SglPolicy::Always,
    );
    assert_eq!(filled.psdt, Psdt::Prp);
    // Never means never.
    let (_, filled) = fill_and_walk(
        &Request::new(&one_page, Direction::Read, QueueKind::Io),
        &c,
        SglPolicy::Never,
    );
    assert_eq!(filled.psdt, Psdt::Prp);
}

// ---- Smallest footprint ----

#[test]
fn smallest_footprint_compares_descriptor_bytes() {
    let c = sgl_ctrl();
    let io = |e: &'static [Extent]| Request::new(e, Direction::Write, QueueKind::Io);
    let psdt = |r: &Request<'_>, c: &ControllerCaps| {
        fill_and_walk(r, c, SglPolicy::SmallestFootprint).1.psdt
    };
    // 1 MiB contiguous: a 255-entry PRP list (2040 bytes) against one inline descriptor.
    static MIB: [Extent; 1] = [Extent::new(0x10_0000, 1 << 20)];
    assert_eq!(psdt(&io(&MIB), &c), Psdt::Sgl);
    // 8 KiB, page aligned: both fit the command; a tie goes to PRPs.
    static EIGHT: [Extent; 1] = [Extent::new(0x10_0000, 8 * KIB)];
    assert_eq!(psdt(&io(&EIGHT), &c), Psdt::Prp);
    // 32 scattered pages: 31 PRP entries (248 bytes) against 32 descriptors (512 bytes).
    let pages = scattered(32, 4 * KIB);
    let pages: &'static [Extent] = Box::leak(pages.into_boxed_slice());
    assert_eq!(psdt(&io(pages), &c), Psdt::Prp);
    // Four scattered 256 KiB runs: 255 PRP entries against 4 descriptors... unless that
    // exceeds the controller's SDT.
    let runs: &'static [Extent] = Box::leak(scattered(4, 256 * KIB).into_boxed_slice());
    assert_eq!(psdt(&io(runs), &c), Psdt::Sgl);
    let sdt2 = ctrl(Sgls::from_support(SglSupport::ByteAligned).with_sdt(2));
    assert_eq!(psdt(&io(runs), &sdt2), Psdt::Prp);
}

// ---- Rules no policy changes ----

#[test]
fn admin_queue_gets_prps_under_every_policy() {
    let c = sgl_ctrl();
    let big = [Extent::new(0x10_0000, 64 * KIB)];
    for policy in [
        SglPolicy::Always,
        SglPolicy::LINUX,
        SglPolicy::SmallestFootprint,
    ] {
        let req = Request::new(&big, Direction::Read, QueueKind::Admin);
        let (sqe, filled) = fill_and_walk(&req, &c, policy);
        assert_eq!((filled.psdt, sqe.psdt()), (Psdt::Prp, Psdt::Prp));
    }
    // And an admin command whose data only an SGL could carry is refused, naming why.
    let scattered = [Extent::new(0x1_0000, 0x100), Extent::new(0x2_0000, 0x100)];
    let req = Request::new(&scattered, Direction::Read, QueueKind::Admin);
    let err = dptr::plan(&req, &c, SglPolicy::Always).unwrap_err();
    assert!(
        matches!(
            err,
            DptrError::Inexpressible {
                sgl: SglRefusal::AdminQueue,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("admin commands use PRPs only"),
        "{err}"
    );
}

#[test]
fn the_other_kind_is_used_when_the_preferred_one_cannot_express_the_extents() {
    let c = sgl_ctrl();
    // Sub-page pieces scattered: PRP cannot express them; Linux prefers PRP (small average)
    // but falls back to the SGL.
    let pieces = [Extent::new(0x1_0010, 0x100), Extent::new(0x2_0020, 0x100)];
    let (_, filled) = fill_and_walk(
        &Request::new(&pieces, Direction::Write, QueueKind::Io),
        &c,
        SglPolicy::LINUX,
    );
    assert_eq!(filled.psdt, Psdt::Sgl);
    // A dword-granular controller cannot take odd lengths in an SGL, but PRPs can carry this
    // one (a single extent): Always falls back to PRPs.
    let dword = ctrl(Sgls::from_support(SglSupport::DwordAligned));
    let odd = [Extent::new(0x1_0000, 0x1001)];
    let (_, filled) = fill_and_walk(
        &Request::new(&odd, Direction::Write, QueueKind::Io),
        &dword,
        SglPolicy::Always,
    );
    assert_eq!(filled.psdt, Psdt::Prp);
}

#[test]
fn neither_kind_gives_the_prp_split() {
    let none = ctrl(Sgls::empty());
    // Extent 0 ends mid-page: one PRP command cannot continue past it.
    let extents = [Extent::new(0x1_0000, 0x1200), Extent::new(0x5_0000, 0x1000)];
    let req = Request::new(&extents, Direction::Write, QueueKind::Io).with_block_size(512);
    let mut sqe = SubmissionEntry::new(Opcode::NVM_WRITE, 1);
    let before = sqe.to_bytes();
    let outcome = Backing::new()
        .fill(&mut sqe, &req, &none, SglPolicy::LINUX)
        .unwrap();
    let Outcome::Split(split) = outcome else {
        panic!("expected a split");
    };
    assert_eq!(split.commands(), 2);
    let chunks: Vec<_> = split.collect();
    assert_eq!((chunks[0].len, chunks[1].len), (0x1200, 0x1000));
    assert_eq!(sqe.to_bytes(), before, "a split writes nothing");
    assert!(matches!(
        dptr::plan(&req, &none, SglPolicy::LINUX),
        Ok(Plan::Split(_))
    ));
    // When even the split is impossible, the error names both reasons.
    let req = req.with_block_size(4096);
    let err = dptr::plan(&req, &none, SglPolicy::LINUX).unwrap_err();
    assert!(matches!(
        err,
        DptrError::Inexpressible {
            prp: prp::BuildError::BoundaryInsideBlock { .. },
            sgl: SglRefusal::NotSupported
        }
    ));
    let text = err.to_string();
    assert!(
        text.contains("bounce buffer") && text.contains("does not support SGLs"),
        "{text}"
    );
}

// ---- Metadata ----

#[test]
fn contiguous_metadata_goes_in_mptr() {
    let c =
        ctrl(Sgls::from_support(SglSupport::ByteAligned) | Sgls::BYTE_ALIGNED_CONTIGUOUS_METADATA);
    let data = [Extent::new(0x10_0000, 8 * KIB)];
    let meta = [Extent::new(0x9_0000, 16)];
    // PRP data: PSDT 00b, MPTR the buffer.
    let req = Request::new(&data, Direction::Write, QueueKind::Io).with_metadata(&meta);
    let (sqe, filled) = fill_and_walk(&req, &c, SglPolicy::Never);
    assert_eq!(
        (sqe.psdt(), sqe.mptr(), filled.mptr),
        (Psdt::Prp, 0x9_0000, 0x9_0000)
    );
    // SGL data: PSDT 01b.
    let (sqe, _) = fill_and_walk(&req, &c, SglPolicy::Always);
    assert_eq!((sqe.psdt(), sqe.mptr()), (Psdt::Sgl, 0x9_0000));
    // Byte-aligned metadata needs SGL data with SGLS bit 17: Linux prefers PRPs here but
    // the metadata forces PSDT 01b.
    let odd = [Extent::new(0x9_0001, 16)];
    let req = Request::new(&data, Direction::Write, QueueKind::Io).with_metadata(&odd);
    let (sqe, _) = fill_and_walk(&req, &c, SglPolicy::LINUX);
    assert_eq!((sqe.psdt(), sqe.mptr()), (Psdt::Sgl, 0x9_0001));
    // On the admin queue it cannot go at all.
    let req = Request::new(&data, Direction::Write, QueueKind::Admin).with_metadata(&odd);
    assert_eq!(
        dptr::plan(&req, &c, SglPolicy::LINUX).unwrap_err(),
        DptrError::Metadata(sgl::BuildError::MetadataMisaligned {
            addr: 0x9_0001,
            align: 4
        })
    );
}

#[test]
fn scattered_metadata_goes_in_an_sgl_behind_mptr() {
    let c = ctrl(Sgls::from_support(SglSupport::ByteAligned) | Sgls::MPTR_SGL);
    let data = [Extent::new(0x10_0000, 8 * KIB)];
    let meta = [Extent::new(0x9_0000, 8), Extent::new(0xa_0000, 8)];
    let req = Request::new(&data, Direction::Read, QueueKind::Io).with_metadata(&meta);
    let (sqe, filled) = fill_and_walk(&req, &c, SglPolicy::LINUX);
    assert_eq!(sqe.psdt(), Psdt::SglMetadataSgl);
    assert_eq!(
        sqe.mptr(),
        SEGS + 0x10_0000,
        "MPTR is the first metadata segment"
    );
    // MPTR's one-descriptor segment, then one segment of two descriptors.
    assert_eq!(filled.metadata_segments_used, 2);
    assert!(matches!(
        dptr::plan(&req, &c, SglPolicy::LINUX),
        Ok(Plan::Sgl {
            metadata: SglMetadata::Segment(meta),
            ..
        }) if meta.descriptors() == 2
    ));
    // Without MSDS it cannot be described.
    let no_msds = sgl_ctrl();
    assert_eq!(
        dptr::plan(&req, &no_msds, SglPolicy::Always).unwrap_err(),
        DptrError::Metadata(sgl::BuildError::NotSupported {
            capability: Capability::MetadataSgl
        })
    );
}

// ---- The SQE, field by field ----

#[test]
fn sqe_fields_are_exactly_psdt_dptr_and_mptr() {
    let c = ctrl(Sgls::from_support(SglSupport::ByteAligned) | Sgls::MPTR_SGL);
    let data = scattered(3, 64 * KIB);
    let meta = [Extent::new(0x9_0000, 8), Extent::new(0xa_0000, 8)];
    let req = Request::new(&data, Direction::Write, QueueKind::Io).with_metadata(&meta);
    let mut sqe = SubmissionEntry::new(Opcode::NVM_WRITE, 0xBEEF)
        .with_nsid(1)
        .with_block_range(BlockRange::new(0, 8).unwrap());
    let before = sqe.to_bytes();
    let mut backing = Backing::new();
    backing.fill(&mut sqe, &req, &c, SglPolicy::Always).unwrap();
    let after = sqe.to_bytes();
    // CDW0: opcode and CID kept, PSDT (bits 15:14) = 10b.
    assert_eq!(after[0], 0x01);
    assert_eq!(after[1] >> 6, 0b10);
    assert_eq!(after[1] & 0x3f, before[1] & 0x3f);
    assert_eq!(after[2..4], [0xEF, 0xBE]);
    // MPTR, bytes 23:16.
    assert_eq!(after[16..24], (SEGS + 0x10_0000).to_le_bytes());
    // DPTR, bytes 39:24: SGL1, a Last Segment descriptor for 3 descriptors.
    let sgl1 = sgl::SegmentPointer::new(SEGS, 3, sgl::SegmentKind::LastSegment).unwrap();
    assert_eq!(after[24..40], sgl1.to_raw().to_bytes());
    // Everything else untouched.
    assert_eq!(after[4..16], before[4..16]);
    assert_eq!(after[40..], before[40..]);
    // The metadata segment holds exactly one descriptor: a Last Segment to the chain.
    let mptr_descriptor = &backing.meta[..16];
    let expected =
        sgl::SegmentPointer::new(SEGS + 0x10_1000, 2, sgl::SegmentKind::LastSegment).unwrap();
    assert_eq!(mptr_descriptor, expected.to_raw().to_bytes());
}

#[test]
fn a_refused_fill_writes_nothing() {
    let c = ctrl(Sgls::from_support(SglSupport::ByteAligned) | Sgls::MPTR_SGL);
    let data = scattered(3, 64 * KIB);
    // 20 metadata pieces need a chain, but only the MPTR segment and one 16-byte block exist.
    let meta: Vec<Extent> = (0..20)
        .map(|i| Extent::new(0x9_0000 + i * 0x100, 8))
        .collect();
    let req = Request::new(&data, Direction::Write, QueueKind::Io).with_metadata(&meta);
    let mut sqe = SubmissionEntry::new(Opcode::NVM_WRITE, 3);
    let before = sqe.to_bytes();
    let mut segs = [0xa5u8; 4096];
    let mut mptr = [0xa5u8; 16];
    let mut small = [0xa5u8; 16];
    let mut data_segments = [SegmentBuf::new(SEGS, &mut segs)];
    let mut meta_segments = [
        SegmentBuf::new(0x8000, &mut mptr),
        SegmentBuf::new(0x9000, &mut small),
    ];
    let mut memory = DescriptorMemory {
        prp_lists: &mut [],
        sgl_segments: &mut data_segments,
        metadata_segments: &mut meta_segments,
    };
    let err = dptr::fill_sqe(&mut sqe, &req, &c, SglPolicy::Always, &mut memory).unwrap_err();
    // The chain's one-descriptor block cannot continue to another segment.
    assert_eq!(
        err,
        DptrError::Metadata(sgl::BuildError::SegmentTooSmall {
            segment: 0,
            capacity: 1
        })
    );
    assert_eq!(sqe.to_bytes(), before);
    assert!(segs.iter().chain(&mptr).chain(&small).all(|&b| b == 0xa5));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    /// `fill_sqe`'s fast path writes exactly what the general path writes (the command, the
    /// descriptor memory, and what it returns, refusals of too little memory included),
    /// whatever the policy, queue, controller, extents and memory offered; and where it does
    /// not apply, the general path is what runs.
    #[test]
    fn fill_sqe_agrees_with_plan_then_fill(
        base in prop_oneof![Just(0u64), Just(0x10_0000), Just(u64::MAX - 0x3_0000), any::<u64>()],
        offset in prop_oneof![Just(0u64), Just(0x200), Just(0xffc), Just(3), 0u64..0x1000],
        len in prop_oneof![Just(0u64), Just(0x1000), Just(0x2000), Just(0x1e00), 1u64..0x2_2000],
        policy in prop_oneof![
            Just(SglPolicy::Never),
            Just(SglPolicy::LINUX),
            Just(SglPolicy::Linux { threshold: 0 }),
            Just(SglPolicy::Always),
            Just(SglPolicy::SmallestFootprint),
        ],
        sgls in prop_oneof![
            Just(Sgls::empty()),
            Just(Sgls::from_support(SglSupport::DwordAligned)),
            Just(Sgls::from_support(SglSupport::ByteAligned)),
        ],
        admin in any::<bool>(),
        read in any::<bool>(),
        mdts in prop_oneof![Just(8u64 << 20), Just(0x1000), Just(0x2000)],
        // Whole pages after the first buffer: none, adjacent ones (which merge), scattered.
        extra in prop::collection::vec(
            prop_oneof![Just(0x40_0000u64), Just(0x40_1000), Just(0x80_0000), Just(0x80_2000)],
            0..4,
        ),
        pages in 0usize..=4,
    ) {
        let mut c = ctrl(sgls);
        c.max_transfer = MaxTransfer::Bytes(mdts);
        let first = Extent::new(base & !0xfff | offset, len);
        let extents: Vec<Extent> = core::iter::once(first)
            .chain(extra.into_iter().map(|addr| Extent::new(addr, 0x1000)))
            .collect();
        let queue = if admin { QueueKind::Admin } else { QueueKind::Io };
        let direction = if read { Direction::Read } else { Direction::Write };
        let req = Request::new(&extents, direction, queue);
        let (mut fast, mut general) =
            (Backing::new().with_pages(pages), Backing::new().with_pages(pages));
        let (mut sqe_fast, mut sqe_general) =
            (SubmissionEntry::new(Opcode::NVM_WRITE, 9), SubmissionEntry::new(Opcode::NVM_WRITE, 9));
        let by_fill = fast.fill(&mut sqe_fast, &req, &c, policy);
        let by_plan = general.fill_general(&mut sqe_general, &req, &c, policy);
        prop_assert_eq!(format!("{by_fill:?}"), format!("{by_plan:?}"));
        prop_assert_eq!(sqe_fast.as_bytes(), sqe_general.as_bytes());
        prop_assert!(fast.lists == general.lists && fast.segs == general.segs);
    }
}
