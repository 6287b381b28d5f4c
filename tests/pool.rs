//! `dptr::fill_sqe_pooled`: descriptor pages from a driver's pool, taken as the chosen pointer
//! needs them, written, held by the command, and all given back on any failure. Each filled
//! command is decoded and its data moved as a controller would, and the bytes compared.

use nvme_dma::dptr::{
    self, ControllerCaps, DescriptorPage, DescriptorPool, DeviceCommand, DptrError, Outcome,
    Pooled, Request, SglPolicy, Transfer,
};
use nvme_dma::memory::DataMover;
use nvme_dma::sgl::{self, SglCaps};
use nvme_dma::spec::{MaxTransfer, Opcode, Psdt, SglSupport, Sgls, SubmissionEntry};
use nvme_dma::{prp, Direction, Extent, PageSize, Piece, QueueKind, SimMemory};

const POOL_BASE: u64 = 0x8000_0000;
const PAGE: usize = 4096;

/// A pool over a region cut into pages, as a driver keeps one over its DMA memory.
struct Pool<'a> {
    free: Vec<DescriptorPage<'a>>,
}

impl<'a> Pool<'a> {
    fn new(region: &'a mut [u8]) -> Self {
        let free = region
            .chunks_mut(PAGE)
            .enumerate()
            .map(|(i, bytes)| DescriptorPage {
                bus_addr: POOL_BASE + (i * PAGE) as u64,
                bytes,
            })
            .rev()
            .collect();
        Pool { free }
    }
}

impl<'a> DescriptorPool<'a> for Pool<'a> {
    fn take(&mut self) -> Option<DescriptorPage<'a>> {
        self.free.pop()
    }

    fn give_back(&mut self, page: DescriptorPage<'a>) {
        self.free.push(page);
    }
}

fn caps(sgls: Sgls) -> ControllerCaps {
    ControllerCaps {
        page_size: PageSize::SIZE_4K,
        sgl: SglCaps::new(sgls),
        max_transfer: MaxTransfer::Bytes(8 << 20),
    }
}

fn pattern(len: u64) -> Vec<u8> {
    (0..len).map(|i| (i * 13 + 5) as u8).collect()
}

/// Host memory as the controller sees it: the pool's region, and every extent filled with
/// `pattern` in transfer order. Filled by hand, not with `DataMover`: `gathered` moves the
/// data back with the mover, and a mover bug must not cancel itself out.
fn host(region: &[u8], extents: &[Extent]) -> SimMemory {
    let mut mem = SimMemory::new();
    mem.map(POOL_BASE, region.len() as u64).unwrap();
    mem.poke(POOL_BASE, region).unwrap();
    let total = extents.iter().map(|e| e.len).sum();
    let data = pattern(total);
    let mut at = 0usize;
    for e in extents {
        mem.map(e.addr, e.len).unwrap();
        mem.poke(e.addr, &data[at..at + e.len as usize]).unwrap();
        at += e.len as usize;
    }
    mem
}

/// Decode the Write `sqe` and gather its data as the controller would: the bytes it moves.
fn gathered(sqe: &SubmissionEntry, c: &ControllerCaps, len: u64, mem: &SimMemory) -> Vec<u8> {
    let cmd = DeviceCommand::decode(sqe, QueueKind::Io, c, Transfer::write(len)).unwrap();
    let mut pieces = vec![Piece::Skip(0); c.max_data_pieces().unwrap() as usize];
    let n = cmd.data_pieces(mem, &mut pieces).unwrap();
    let mut store = vec![0u8; len as usize];
    DataMover::new(&pieces[..n], mem)
        .unwrap()
        .from_host(mem, &mut store)
        .unwrap();
    store
}

fn scattered(n: u64) -> Vec<Extent> {
    (0..n)
        .map(|i| Extent::new(0x100_0000 + i * 0x2000, 0x1000))
        .collect()
}

#[test]
fn a_prp_list_takes_one_page_and_moves_the_data() {
    let c = caps(Sgls::empty());
    let extents = [Extent::new(0x10_0000, 0x1_0000)];
    let mut region = vec![0u8; 4 * PAGE];
    let mut sqe = SubmissionEntry::new(Opcode::NVM_WRITE, 1);
    let (done, left) = {
        let mut pool = Pool::new(&mut region);
        let mut held: [Option<DescriptorPage<'_>>; 4] = Default::default();
        let request = Request::new(&extents, Direction::Write, QueueKind::Io);
        let done = dptr::fill_sqe_pooled(
            &mut sqe,
            &request,
            &c,
            SglPolicy::Never,
            &mut pool,
            &mut held,
        )
        .unwrap();
        assert_eq!(sqe.prp2(), held[0].as_ref().unwrap().bus_addr);
        assert!(held[1..].iter().all(Option::is_none));
        (done, pool.free.len())
    };
    assert!(matches!(done.outcome, Outcome::Filled(f) if f.psdt == Psdt::Prp && f.lists_used == 1));
    assert_eq!(done.pages, 1);
    assert_eq!(left, 3);
    let mem = host(&region, &extents);
    assert_eq!(gathered(&sqe, &c, 0x1_0000, &mem), pattern(0x1_0000));
}

#[test]
fn an_sgl_over_two_segments_takes_two_pages() {
    // 300 scattered pieces: 256 descriptors fit a 4 KiB segment, so the chain takes two.
    let c = caps(Sgls::from_support(SglSupport::DwordAligned));
    let extents = scattered(300);
    let len = 300 * 0x1000;
    let mut region = vec![0u8; 4 * PAGE];
    let mut sqe = SubmissionEntry::new(Opcode::NVM_WRITE, 1);
    let done = {
        let mut pool = Pool::new(&mut region);
        let mut held: [Option<DescriptorPage<'_>>; 4] = Default::default();
        let request = Request::new(&extents, Direction::Write, QueueKind::Io);
        dptr::fill_sqe_pooled(
            &mut sqe,
            &request,
            &c,
            SglPolicy::Always,
            &mut pool,
            &mut held,
        )
        .unwrap()
    };
    assert!(matches!(done.outcome, Outcome::Filled(f) if f.psdt == Psdt::Sgl && f.lists_used == 2));
    assert_eq!(done.pages, 2);
    let mem = host(&region, &extents);
    assert_eq!(gathered(&sqe, &c, len, &mem), pattern(len));
}

#[test]
fn a_metadata_sgl_takes_its_mptr_page_and_its_segment() {
    let c = caps(Sgls::from_support(SglSupport::ByteAligned) | Sgls::MPTR_SGL);
    let data = scattered(3);
    let meta = [Extent::new(0x9_0000, 8), Extent::new(0xa_0000, 16)];
    let request = Request::new(&data, Direction::Write, QueueKind::Io).with_metadata(&meta);
    let plan = dptr::plan(&request, &c, SglPolicy::Always).unwrap();
    // One data segment, MPTR's one-descriptor segment, one metadata segment.
    assert_eq!(plan.pages_needed(PageSize::SIZE_4K), 3);
    let mut region = vec![0u8; 4 * PAGE];
    let mut sqe = SubmissionEntry::new(Opcode::NVM_WRITE, 1);
    let mut pool = Pool::new(&mut region);
    let mut held: [Option<DescriptorPage<'_>>; 4] = Default::default();
    let done = dptr::fill_sqe_pooled(
        &mut sqe,
        &request,
        &c,
        SglPolicy::Always,
        &mut pool,
        &mut held,
    )
    .unwrap();
    assert_eq!(done.pages, 3);
    assert_eq!(sqe.psdt(), Psdt::SglMetadataSgl);
    assert_eq!(sqe.mptr(), held[1].as_ref().unwrap().bus_addr);
    assert!(matches!(
        done.outcome,
        Outcome::Filled(f) if f.lists_used == 1 && f.metadata_segments_used == 2
    ));
}

#[test]
fn a_pointer_that_fits_the_command_takes_no_page_and_a_split_none_either() {
    let c = ControllerCaps {
        max_transfer: MaxTransfer::Bytes(0x2000),
        ..caps(Sgls::empty())
    };
    let mut region = vec![0u8; 2 * PAGE];
    let mut pool = Pool::new(&mut region);
    let mut held: [Option<DescriptorPage<'_>>; 2] = Default::default();
    let mut sqe = SubmissionEntry::new(Opcode::NVM_WRITE, 1);
    let small = [Extent::new(0x10_0200, 0x1000)];
    let request = Request::new(&small, Direction::Write, QueueKind::Io);
    let done = dptr::fill_sqe_pooled(
        &mut sqe,
        &request,
        &c,
        SglPolicy::Never,
        &mut pool,
        &mut held,
    )
    .unwrap();
    assert_eq!(done.pages, 0);
    assert_eq!((sqe.prp1(), sqe.prp2()), (0x10_0200, 0x10_1000));
    let big = [Extent::new(0x10_0000, 0x8000)];
    let request = Request::new(&big, Direction::Write, QueueKind::Io);
    let done: Pooled<'_> = dptr::fill_sqe_pooled(
        &mut sqe,
        &request,
        &c,
        SglPolicy::Never,
        &mut pool,
        &mut held,
    )
    .unwrap();
    assert!(matches!(done.outcome, Outcome::Split(ref s) if s.commands() == 4));
    assert_eq!(done.pages, 0);
    assert_eq!(pool.free.len(), 2);
    assert!(held.iter().all(Option::is_none));
}

#[test]
fn a_dry_pool_or_a_short_hold_writes_nothing_and_gives_every_page_back() {
    let c = caps(Sgls::from_support(SglSupport::DwordAligned));
    let extents = scattered(300);
    let request = Request::new(&extents, Direction::Write, QueueKind::Io);
    let expected = DptrError::Sgl(sgl::BuildError::SegmentMemoryTooSmall {
        descriptors: 300,
        given: 1,
    });
    // The pool has one page, the SGL needs two.
    let mut region = vec![0xa5u8; PAGE];
    let mut sqe = SubmissionEntry::new(Opcode::NVM_WRITE, 1);
    let before = sqe;
    {
        let mut pool = Pool::new(&mut region);
        let mut held: [Option<DescriptorPage<'_>>; 4] = Default::default();
        let err = dptr::fill_sqe_pooled(
            &mut sqe,
            &request,
            &c,
            SglPolicy::Always,
            &mut pool,
            &mut held,
        )
        .unwrap_err();
        assert_eq!(err, expected);
        assert_eq!(pool.free.len(), 1);
        assert!(held.iter().all(Option::is_none));
    }
    assert_eq!(sqe, before);
    assert!(region.iter().all(|&b| b == 0xa5));
    // Enough pages in the pool, but room to hold one.
    let mut region = vec![0xa5u8; 4 * PAGE];
    let mut pool = Pool::new(&mut region);
    let mut held: [Option<DescriptorPage<'_>>; 1] = Default::default();
    let err = dptr::fill_sqe_pooled(
        &mut sqe,
        &request,
        &c,
        SglPolicy::Always,
        &mut pool,
        &mut held,
    )
    .unwrap_err();
    assert_eq!(err, expected);
    assert_eq!(pool.free.len(), 4);
    assert_eq!(sqe, before);
    // A PRP list the pool cannot hold is the PRP builder's refusal.
    let c = caps(Sgls::empty());
    // 2 MiB + 8 KiB: 513 list entries, one more than a page holds.
    let long = [Extent::new(0x10_0000, 0x20_2000)];
    let request = Request::new(&long, Direction::Write, QueueKind::Io);
    let err = dptr::fill_sqe_pooled(
        &mut sqe,
        &request,
        &c,
        SglPolicy::Never,
        &mut pool,
        &mut held,
    )
    .unwrap_err();
    assert_eq!(
        err,
        DptrError::Prp(prp::BuildError::ListMemoryTooSmall {
            needed: 2,
            given: 1
        })
    );
    assert_eq!(pool.free.len(), 4);
}

#[test]
fn pages_a_caller_left_held_go_back_first() {
    let c = caps(Sgls::empty());
    let extents = [Extent::new(0x10_0000, 0x1_0000)];
    let request = Request::new(&extents, Direction::Write, QueueKind::Io);
    let mut region = vec![0u8; 2 * PAGE];
    let mut pool = Pool::new(&mut region);
    let mut held: [Option<DescriptorPage<'_>>; 2] = Default::default();
    let mut sqe = SubmissionEntry::new(Opcode::NVM_WRITE, 1);
    for _ in 0..3 {
        let done = dptr::fill_sqe_pooled(
            &mut sqe,
            &request,
            &c,
            SglPolicy::Never,
            &mut pool,
            &mut held,
        )
        .unwrap();
        assert_eq!(done.pages, 1);
        assert_eq!(pool.free.len(), 1);
    }
}
