//! Splitting a request no single command can carry: SGL commands where only SGLs can carry
//! the chunks, PRP commands where PRPs can, chunks that cover the request in whole blocks
//! within MDTS and NLB's 65,536 blocks, each filled and walked back to its own extents, and
//! the data of an SGL split moved through the mock controller and compared.

use nvme_dma::controller::{ControllerConfig, Machine, MockController};
use nvme_dma::dptr::{
    self, Chunk, ControllerCaps, DescriptorMemory, DptrError, Plan, PointerKind, Request,
    SglPolicy, SglRefusal,
};
use nvme_dma::host::{Driver, DriverConfig, DriverError, IoReport};
use nvme_dma::prp::{self, PrpBuilder, PrpListPage};
use nvme_dma::sgl::{self, SegmentBuf, SglCaps};
use nvme_dma::spec::{BlockRange, MaxTransfer, Opcode, Psdt, SglSupport, Sgls, SubmissionEntry};
use nvme_dma::walk::Walk;
use nvme_dma::{Direction, Extent, PageSize, Piece, QueueKind, SimMemory};
use nvme_dma_testkit::pattern::pattern;
use proptest::prelude::*;

/// Where descriptor pages go in the walked memory, one page apart.
const DESCRIPTORS: u64 = 0x7f00_0000;

#[allow(dead_code)]
#[path = "qemu/layouts.rs"]
mod layouts;
use layouts::{gather, scatter};

/// Extents PRPs cannot carry even split: the first ends in the middle of a 512-byte block
/// and of a page, so every PRP cut would fall inside a block. 52 KiB, 104 blocks.
fn ragged(base: u64) -> [Extent; 3] {
    [
        Extent::new(base, 0x1100),
        Extent::new(base + 0x10_0204, 0x2f00),
        Extent::new(base + 0x20_0104, 0x9000),
    ]
}

fn caps(sgls: Sgls, mdts: u64) -> ControllerCaps {
    ControllerCaps {
        page_size: PageSize::SIZE_4K,
        sgl: SglCaps::new(sgls),
        max_transfer: MaxTransfer::Bytes(mdts),
    }
}

/// The byte ranges `extents` name, adjacent ones merged: two lists of extents move the same
/// bytes in the same order exactly when these are equal.
fn coalesce(extents: impl IntoIterator<Item = Extent>) -> Vec<Extent> {
    let mut out: Vec<Extent> = Vec::new();
    for e in extents.into_iter().filter(|e| e.len > 0) {
        match out.last_mut() {
            Some(last) if last.addr.checked_add(last.len) == Some(e.addr) => last.len += e.len,
            _ => out.push(e),
        }
    }
    out
}

/// Fill `chunk` as a command with as many descriptor pages as it says it needs, then decode
/// and walk the command as a controller does; returns the data extents walked and the PSDT.
fn fill_and_walk(req: &Request<'_>, chunk: &Chunk, ctrl: &ControllerCaps) -> (Vec<Extent>, Psdt) {
    let pages = chunk.pages_needed(req, ctrl).expect("a chunk plans") as usize;
    let mut buffers = vec![vec![0u8; 4096]; pages];
    let addr = |i: usize| DESCRIPTORS + i as u64 * 4096;
    let range = BlockRange::new(chunk.first_block, chunk.blocks).expect("1 to 65,536 blocks");
    let mut sqe = SubmissionEntry::new(Opcode::NVM_WRITE, 1).with_block_range(range);
    let filled = {
        let (mut lists, mut segments): (Vec<PrpListPage<'_>>, Vec<SegmentBuf<'_>>) =
            (Vec::new(), Vec::new());
        for (i, bytes) in buffers.iter_mut().enumerate() {
            match chunk.pointer {
                PointerKind::Prp => lists.push(PrpListPage::new(addr(i), bytes)),
                PointerKind::Sgl => segments.push(SegmentBuf::new(addr(i), bytes)),
            }
        }
        let mut memory = DescriptorMemory {
            prp_lists: &mut lists,
            sgl_segments: &mut segments,
            metadata_segments: &mut [],
        };
        dptr::fill_chunk(&mut sqe, req, chunk, ctrl, &mut memory).expect("a chunk fills")
    };
    assert_eq!(filled.psdt, chunk.pointer.psdt());
    assert!(
        filled.lists_used <= pages,
        "{filled:?} within {pages} pages"
    );
    let mut mem = SimMemory::new();
    for (i, bytes) in buffers.iter().enumerate() {
        mem.map(addr(i), 4096).unwrap();
        mem.poke(addr(i), bytes).unwrap();
    }
    let pointers = dptr::decode(&sqe, QueueKind::Io, &ctrl.sgl).expect("a valid PSDT");
    let pieces: Vec<Piece> = pointers
        .walk_data(req.direction, chunk.len, ctrl.page_size, &ctrl.sgl, &mem)
        .pieces()
        .collect::<Result<_, _>>()
        .expect("the controller walks the chunk's command");
    let data = pieces
        .iter()
        .map(|p| p.data().expect("data, no bit bucket"));
    (coalesce(data), sqe.psdt())
}

/// Check a split against its request: chunks in order, covering it exactly in whole blocks,
/// each within `max` bytes and 65,536 blocks, of the split's kind, and each filled command
/// walks back to exactly the chunk's share of the request.
fn check_split(req: &Request<'_>, ctrl: &ControllerCaps, split: dptr::Split<'_>, max: u64) {
    let bs = req.block_size;
    let (commands, pointer) = (split.commands(), split.pointer());
    let chunks: Vec<Chunk> = split.collect();
    assert_eq!(chunks.len(), commands, "commands() counts the chunks");
    let mut offset = 0;
    let mut walked = Vec::new();
    for chunk in &chunks {
        assert_eq!(chunk.pointer, pointer, "{chunk:?}: one kind for the split");
        assert_eq!(chunk.offset, offset, "{chunk:?}: follows the one before");
        assert_eq!(
            chunk.first_block * bs,
            chunk.offset,
            "{chunk:?}: first block"
        );
        assert_eq!(chunk.blocks * bs, chunk.len, "{chunk:?}: whole blocks");
        assert!((1..=65_536).contains(&chunk.blocks), "{chunk:?}: NLB");
        assert!(chunk.len <= max, "{chunk:?}: within {max} bytes");
        let own = coalesce(chunk.extents(req.extents));
        let (pieces, _) = fill_and_walk(req, chunk, ctrl);
        assert_eq!(
            pieces, own,
            "{chunk:?}: the command walks to the chunk's extents"
        );
        walked.extend(own);
        offset += chunk.len;
    }
    let total: u64 = req.extents.iter().map(|e| e.len).sum();
    assert_eq!(offset, total, "the chunks cover the request");
    assert_eq!(
        coalesce(walked),
        coalesce(req.extents.iter().copied()),
        "the chunks' extents, in order, are the request's"
    );
}

#[test]
fn what_only_sgls_can_carry_over_mdts_is_split_into_sgl_commands() {
    let ctrl = caps(Sgls::from_support(SglSupport::DwordAligned), 16 * 1024);
    let extents = ragged(0x100_0000);
    let req = Request::new(&extents, Direction::Write, QueueKind::Io).with_block_size(512);
    // PRPs cannot carry it, split or not; one SGL cannot either (52 KiB over a 16 KiB MDTS).
    assert!(matches!(
        PrpBuilder::new(PageSize::SIZE_4K)
            .with_max_transfer(16 * 1024)
            .split(&extents, 512),
        Err(prp::BuildError::BoundaryInsideBlock { index: 0, .. })
    ));
    for policy in [
        SglPolicy::Always,
        SglPolicy::LINUX,
        SglPolicy::SmallestFootprint,
    ] {
        let Ok(Plan::Split(split)) = dptr::plan(&req, &ctrl, policy) else {
            panic!("{policy:?}: expected a split");
        };
        assert_eq!(split.pointer(), PointerKind::Sgl, "{policy:?}");
        assert!(split.as_prp().is_none());
        let chunks: Vec<Chunk> = split.clone().collect();
        // 104 blocks, 32 a command: extents 0 and 1 make the first; the others cut extent 2
        // in the middle, which no PRP command could start at (0x20_4104 is not page aligned).
        let blocks: Vec<(u64, u64)> = chunks.iter().map(|c| (c.first_block, c.blocks)).collect();
        assert_eq!(blocks, [(0, 32), (32, 32), (64, 32), (96, 8)], "{policy:?}");
        let starts: Vec<(usize, u64)> = chunks.iter().map(|c| (c.first, c.first_skip)).collect();
        assert_eq!(starts, [(0, 0), (2, 0), (2, 0x4000), (2, 0x8000)]);
        check_split(&req, &ctrl, split, 16 * 1024);
    }
}

#[test]
fn prp_splits_stay_prp_when_prps_carry_the_chunks() {
    // Page-aligned pieces over MDTS: the PRP splitter's plan, whatever the policy.
    let ctrl = caps(Sgls::from_support(SglSupport::DwordAligned), 8 * 1024);
    let extents = [
        Extent::new(0x10_0000, 0x3000),
        Extent::new(0x30_0000, 0x3000),
    ];
    let req = Request::new(&extents, Direction::Read, QueueKind::Io);
    let prp: Vec<_> = PrpBuilder::new(PageSize::SIZE_4K)
        .with_max_transfer(8 * 1024)
        .split(&extents, 512)
        .unwrap()
        .collect();
    for policy in [SglPolicy::Always, SglPolicy::Never, SglPolicy::LINUX] {
        let Ok(Plan::Split(split)) = dptr::plan(&req, &ctrl, policy) else {
            panic!("{policy:?}: expected a split");
        };
        assert_eq!(split.pointer(), PointerKind::Prp, "{policy:?}");
        assert_eq!(split.as_prp().map(|s| s.commands()), Some(prp.len()));
        let chunks: Vec<(u64, u64, u64)> = split
            .clone()
            .map(|c| (c.offset, c.len, c.first_block))
            .collect();
        let expected: Vec<_> = prp
            .iter()
            .map(|c| (c.offset, c.len, c.first_block))
            .collect();
        assert_eq!(chunks, expected, "{policy:?}");
        check_split(&req, &ctrl, split, 8 * 1024);
    }
}

#[test]
fn without_sgls_the_refusal_names_the_extent_the_rule_and_the_fix() {
    let extents = ragged(0x100_0000);
    let req = Request::new(&extents, Direction::Write, QueueKind::Io);
    let sgl = caps(Sgls::from_support(SglSupport::DwordAligned), 16 * 1024);
    let none = caps(Sgls::empty(), 16 * 1024);
    for (ctrl, policy, why) in [
        (&sgl, SglPolicy::Never, SglRefusal::Policy),
        (&sgl, SglPolicy::Linux { threshold: 0 }, SglRefusal::Policy),
        (&none, SglPolicy::Always, SglRefusal::NotSupported),
    ] {
        let err = dptr::plan(&req, ctrl, policy).unwrap_err();
        let DptrError::Inexpressible { prp, sgl } = err else {
            panic!("{policy:?}: {err:?}");
        };
        assert!(matches!(
            prp,
            prp::BuildError::BoundaryInsideBlock { index: 0, .. }
        ));
        assert_eq!(sgl, why, "{policy:?}");
        let text = err.to_string();
        assert!(text.contains("0x1000000"), "the extent's address: {text}");
        assert!(text.contains("bounce buffer"), "a fix: {text}");
        assert_eq!(err.rule().id(), "prp.split_on_block_boundary");
    }
    // On the admin queue no SGL is possible.
    let admin = Request::new(&extents, Direction::Write, QueueKind::Admin);
    assert!(matches!(
        dptr::plan(&admin, &sgl, SglPolicy::Always),
        Err(DptrError::Inexpressible {
            sgl: SglRefusal::AdminQueue,
            ..
        })
    ));
    // A dword-granular controller and a piece that is not dword aligned: no SGL split, and
    // the refusal names that extent of the request (index 1), not of a chunk.
    let odd = [
        Extent::new(0x100_0000, 0x1100),
        Extent::new(0x110_0202, 0x2f00),
        Extent::new(0x120_0104, 0x9000),
    ];
    let req = Request::new(&odd, Direction::Write, QueueKind::Io);
    let err = dptr::plan(&req, &sgl, SglPolicy::Always).unwrap_err();
    assert!(
        matches!(
            err,
            DptrError::Inexpressible {
                sgl: SglRefusal::Build(sgl::BuildError::Granularity { index: 1, .. }),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("0x1100202"), "{err}");
}

#[test]
fn without_mdts_nlb_bounds_each_sgl_chunk() {
    // No MDTS, 512-byte blocks: 32 MiB and 16 KiB, which one command's NLB cannot count.
    let ctrl = ControllerCaps {
        max_transfer: MaxTransfer::Unlimited,
        ..caps(Sgls::from_support(SglSupport::DwordAligned), 0)
    };
    let extents = [
        Extent::new(0x100_0000, 0x1100),
        Extent::new(0x1_0000_0004, (32 << 20) + 0x2f00),
    ];
    let req = Request::new(&extents, Direction::Read, QueueKind::Io);
    let Ok(Plan::Split(split)) = dptr::plan(&req, &ctrl, SglPolicy::Always) else {
        panic!("expected a split");
    };
    assert_eq!(split.pointer(), PointerKind::Sgl);
    let blocks: Vec<(u64, u64)> = split.clone().map(|c| (c.first_block, c.blocks)).collect();
    assert_eq!(blocks, [(0, 65_536), (65_536, 32)]);
    check_split(&req, &ctrl, split, 512 * 65_536);
}

#[test]
fn msdbd_bounds_each_sgl_chunk() {
    // Two data descriptors a command: each chunk holds at most two pieces of extents.
    let ctrl = ControllerCaps {
        sgl: SglCaps::new(Sgls::from_support(SglSupport::DwordAligned)).with_msdbd(2),
        ..caps(Sgls::empty(), 1 << 20)
    };
    let extents = ragged(0x100_0000);
    let req = Request::new(&extents, Direction::Write, QueueKind::Io);
    let Ok(Plan::Split(split)) = dptr::plan(&req, &ctrl, SglPolicy::Always) else {
        panic!("expected a split");
    };
    assert_eq!(split.pointer(), PointerKind::Sgl);
    let lens: Vec<u64> = split.clone().map(|c| c.len).collect();
    // Extents 0 and 1 (two descriptors, 0x4000 bytes), then extent 2.
    assert_eq!(lens, [0x4000, 0x9000]);
    check_split(&req, &ctrl, split, 1 << 20);
    // One descriptor a command, and a block that spans two extents: no split exists.
    let one = ControllerCaps {
        sgl: ctrl.sgl.with_msdbd(1),
        ..ctrl
    };
    let err = dptr::plan(&req, &one, SglPolicy::Always).unwrap_err();
    assert!(
        matches!(
            err,
            DptrError::Inexpressible {
                sgl: SglRefusal::Build(sgl::BuildError::TooManyDataBlocks { count: 2, msdbd: 1 }),
                ..
            }
        ),
        "{err:?}"
    );
}

// ---- Through the mock controller ----

const RAM: u64 = 64 << 20;
const ARENA: Extent = Extent::new(1 << 20, 8 << 20);

fn driver(mdts: u8) -> Driver<Machine<SimMemory>> {
    let mut memory = SimMemory::new();
    memory.set_logging(false);
    memory.map(0, RAM).unwrap();
    let config = ControllerConfig {
        mdts,
        ..ControllerConfig::default()
    };
    let machine = Machine::new(MockController::new(config).unwrap(), memory);
    Driver::start(machine, DriverConfig::new(ARENA)).unwrap()
}

/// Each command's blocks, in order.
fn blocks_of(report: &IoReport) -> Vec<(u64, u64)> {
    report
        .commands
        .iter()
        .map(|c| (c.blocks.slba(), c.blocks.blocks()))
        .collect()
}

#[test]
fn an_sgl_split_moves_the_requests_bytes_through_the_controller() {
    // MDTS 2: 16 KiB a command.
    let mut driver = driver(2);
    let lba = 1000;
    let out = ragged(16 << 20);
    let data = pattern(41, 0xd000);
    scatter(driver.bus_mut(), &out, &data);
    let written = driver.write(lba, &out, SglPolicy::Always).unwrap();
    let expected = [(lba, 32), (lba + 32, 32), (lba + 64, 32), (lba + 96, 8)];
    assert_eq!(
        blocks_of(&written),
        expected,
        "contiguous, covering the request"
    );
    assert!(written.commands.iter().all(|c| c.filled.psdt == Psdt::Sgl));
    let media = driver.bus().controller.namespace_data(1, lba, 104).unwrap();
    assert!(
        media == data,
        "the blocks hold the request's bytes, in order"
    );

    // Read back into another shape only SGLs carry, cut elsewhere.
    let back = [
        Extent::new(32 << 20, 0x2c),
        Extent::new((32 << 20) + 0x10_0000, 0x5fd4),
        Extent::new((32 << 20) + 0x20_0008, 0x7000),
    ];
    let read = driver.read(lba, &back, SglPolicy::LINUX).unwrap();
    assert_eq!(blocks_of(&read), expected);
    assert!(read.commands.iter().all(|c| c.filled.psdt == Psdt::Sgl));
    assert!(gather(driver.bus(), &back) == data, "read back as written");

    // PRPs only: refused before anything moves, naming why.
    let err = driver.write(lba, &out, SglPolicy::Never).unwrap_err();
    assert!(
        matches!(
            err,
            DriverError::Dptr(DptrError::Inexpressible {
                sgl: SglRefusal::Policy,
                ..
            })
        ),
        "{err:?}"
    );
    // Every descriptor page went back to the arena: the driver runs on.
    driver.write(lba, &out, SglPolicy::Always).unwrap();
}

// ---- Any request ----

/// A request of random extents, dword aligned, in whole blocks; a controller with SGLs and a
/// random MDTS and MSDBD; a block size.
fn any_case() -> impl Strategy<Value = (Vec<Extent>, u64, Option<u64>, u8)> {
    let extent = (0u64..0x400, 1u64..0x4000, 0u64..3).prop_map(|(dwords, len, kind)| {
        // Page-aligned whole pages, page-aligned any length, or anywhere (dword aligned).
        let (offset, len) = match kind {
            0 => (0, len.div_ceil(0x1000) * 0x1000),
            1 => (0, len * 4),
            _ => (dwords * 4, len * 4),
        };
        (offset, len)
    });
    (
        prop::collection::vec(extent, 1..10),
        prop::sample::select(vec![512u64, 1024, 4096]),
        prop::sample::select(vec![
            Some(4096u64),
            Some(8192),
            Some(16384),
            Some(65536),
            None,
        ]),
        prop::sample::select(vec![0u8, 0, 2, 3, 8]),
    )
        .prop_map(|(pieces, bs, mdts, msdbd)| {
            let mut extents: Vec<Extent> = pieces
                .iter()
                .enumerate()
                .map(|(i, &(offset, len))| Extent::new(((i as u64 + 1) << 24) + offset, len))
                .collect();
            // Whole blocks: the last extent grows to the next block boundary.
            let total: u64 = extents.iter().map(|e| e.len).sum();
            let last = extents.last_mut().unwrap();
            last.len += total.next_multiple_of(bs) - total;
            (extents, bs, mdts, msdbd)
        })
}

/// The most extents one block of the request touches (the generator's extents are never
/// adjacent, so each is a descriptor of its own): worked out apart from the splitter.
fn most_extents_in_a_block(extents: &[Extent], bs: u64) -> u64 {
    let mut spans = Vec::new();
    let mut at = 0;
    for e in extents {
        spans.push((at, at + e.len));
        at += e.len;
    }
    (0..at / bs)
        .map(|k| {
            let (start, end) = (k * bs, (k + 1) * bs);
            spans.iter().filter(|&&(s, e)| s < end && e > start).count() as u64
        })
        .max()
        .unwrap_or(0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn chunks_cover_the_request_in_whole_blocks_within_the_limits(
        (extents, bs, mdts, msdbd) in any_case()
    ) {
        let ctrl = ControllerCaps {
            page_size: PageSize::SIZE_4K,
            sgl: SglCaps::new(Sgls::from_support(SglSupport::DwordAligned)).with_msdbd(msdbd),
            max_transfer: mdts.map_or(MaxTransfer::Unlimited, MaxTransfer::Bytes),
        };
        let req = Request::new(&extents, Direction::Write, QueueKind::Io).with_block_size(bs);
        let max = mdts.unwrap_or(u64::MAX).min(bs * 65_536);
        let prp_split = {
            let builder = PrpBuilder::new(PageSize::SIZE_4K);
            let builder = match mdts {
                Some(m) => builder.with_max_transfer(m),
                None => builder,
            };
            builder.split(&extents, bs).map(|s| s.collect::<Vec<_>>())
        };
        match dptr::plan(&req, &ctrl, SglPolicy::Always) {
            Ok(Plan::Split(split)) => {
                match (&prp_split, split.pointer()) {
                    // PRPs carry the chunks: the PRP splitter's plan, unchanged.
                    (Ok(prp), PointerKind::Prp) => {
                        let ours: Vec<_> = split.clone().map(|c| (c.offset, c.len)).collect();
                        let theirs: Vec<_> = prp.iter().map(|c| (c.offset, c.len)).collect();
                        prop_assert_eq!(ours, theirs);
                    }
                    (Err(_), PointerKind::Sgl) => {}
                    (prp, kind) => prop_assert!(false, "{kind:?} split with PRP split {prp:?}"),
                }
                check_split(&req, &ctrl, split, max);
            }
            Ok(_) => {}
            // Only MSDBD can leave no split: a block whose pieces need more descriptors.
            Err(DptrError::Inexpressible {
                sgl: SglRefusal::Build(sgl::BuildError::TooManyDataBlocks { count, msdbd: m }),
                ..
            }) => {
                prop_assert!(msdbd > 0 && m == msdbd && count > u64::from(m));
                let most = most_extents_in_a_block(&extents, bs);
                prop_assert!(most > u64::from(msdbd), "a block touches only {most} extents");
            }
            Err(e) => prop_assert!(false, "refused: {e}"),
        }
    }
}
