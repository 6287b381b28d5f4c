//! The core allocates nothing: build, split and walk PRPs, fill from a pool, fill and split a
//! request given as an iterator, and the device side's three calls, under a counting global allocator.
//!
//! This file holds a single test so that no other test thread allocates while it counts.

use nvme_dma::dptr::{
    self, ControllerCaps, DescriptorPage, DescriptorPool, DeviceCommand, Request, SglPolicy,
    Transfer,
};
use nvme_dma::memory::DataMover;
use nvme_dma::prp::{PrpBuilder, PrpListPage, PrpWalker};
use nvme_dma::sgl::SglCaps;
use nvme_dma::spec::{MaxTransfer, Opcode, Sgls, SubmissionEntry};
use nvme_dma::{Direction, Extent, PageSize, Piece, QueueKind, SliceMemory};

#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocations;

/// A pool over a fixed array of pages, as a driver without an allocator keeps one.
struct ArrayPool<'p, 'a>(&'p mut [Option<DescriptorPage<'a>>]);

impl<'a> DescriptorPool<'a> for ArrayPool<'_, 'a> {
    fn take(&mut self) -> Option<DescriptorPage<'a>> {
        self.0.iter_mut().find_map(Option::take)
    }

    fn give_back(&mut self, page: DescriptorPage<'a>) {
        if let Some(slot) = self.0.iter_mut().find(|slot| slot.is_none()) {
            *slot = Some(page);
        }
    }
}

#[test]
fn build_split_and_walk_allocate_nothing() {
    // Everything the hot path needs is set up before counting starts.
    let ps = PageSize::SIZE_4K;
    let contiguous = [Extent::new(0x10_0200, 8 << 20)];
    let paged: Vec<Extent> = (0..2049u64)
        .map(|i| Extent::new((i * 2 + 1) << 12, 4096))
        .collect();
    let mut lists = vec![0u8; 5 * 4096];
    let builder = PrpBuilder::new(ps).with_max_transfer(1 << 20);
    let unlimited = PrpBuilder::new(ps);

    let mut host = vec![0u8; 0x3000];
    let mut region = vec![0u8; 2 * 4096];
    let before = allocations();
    let mut checksum = 0u64;
    for extents in [&contiguous[..], &paged[..]] {
        let (a, rest) = lists.split_at_mut(4096);
        let (b, rest) = rest.split_at_mut(4096);
        let (c, rest) = rest.split_at_mut(4096);
        let (d, e) = rest.split_at_mut(4096);
        let mut pages = [
            PrpListPage::new(0x8000_0000, a),
            PrpListPage::new(0x8000_1000, b),
            PrpListPage::new(0x8000_2000, c),
            PrpListPage::new(0x8000_3000, d),
            PrpListPage::new(0x8000_4000, e),
        ];
        let layout = unlimited.build(extents, &mut pages).unwrap();
        let mem = SliceMemory::new(0x8000_0000, &mut lists);
        let walker = PrpWalker::new(
            layout.pair.prp1,
            layout.pair.prp2.raw(),
            layout.plan.len(),
            ps,
            &mem,
        );
        for segment in walker {
            checksum = checksum.wrapping_add(segment.unwrap().len());
        }
        for chunk in builder.split(extents, 512).unwrap() {
            checksum = checksum.wrapping_add(builder.plan(chunk.extents(extents)).unwrap().len());
        }
        checksum = checksum.wrapping_add(
            builder
                .build_inline(Extent::new(0x1000, 0x2000))
                .unwrap()
                .prp2
                .raw(),
        );
    }
    // The device side's three calls: decode, walk into a buffer, move the data.
    let data = [0x5au8; 0x1000];
    let caps = ControllerCaps {
        page_size: ps,
        sgl: SglCaps::new(Sgls::empty()),
        max_transfer: MaxTransfer::Bytes(1 << 20),
    };
    let sqe = SubmissionEntry::new(Opcode::NVM_READ, 1)
        .with_prp1(0x1800)
        .with_prp2(0x2000);
    let mut pieces = [Piece::Skip(0); 4];
    let before_device = allocations();
    let mut mem = SliceMemory::new(0x1000, &mut host);
    let cmd = DeviceCommand::decode(&sqe, QueueKind::Io, &caps, Transfer::read(0x1000)).unwrap();
    let n = cmd.data_pieces(&mem, &mut pieces).unwrap();
    DataMover::new(&pieces[..n], &mem)
        .unwrap()
        .to_host(&mut mem, &data)
        .unwrap();
    assert_eq!(
        allocations() - before_device,
        0,
        "the device path allocated"
    );
    assert!(host[0x800..0x1800].iter().all(|&b| b == 0x5a));
    // The host side from a pool: pages taken, written, held, and given back.
    let mut pool = {
        let (a, b) = region.split_at_mut(4096);
        [
            Some(DescriptorPage {
                bus_addr: 0x8000_0000,
                bytes: a,
            }),
            Some(DescriptorPage {
                bus_addr: 0x8000_1000,
                bytes: b,
            }),
        ]
    };
    let mut held: [Option<DescriptorPage<'_>>; 2] = Default::default();
    let long = [Extent::new(0x10_0000, 0x1_0000)];
    let request = Request::new(&long, Direction::Write, QueueKind::Io);
    let mut sqe = SubmissionEntry::new(Opcode::NVM_WRITE, 1);
    let before_pool = allocations();
    let done = dptr::fill_sqe_pooled(
        &mut sqe,
        &request,
        &caps,
        SglPolicy::Never,
        &mut ArrayPool(&mut pool),
        &mut held,
    )
    .unwrap();
    assert_eq!(allocations() - before_pool, 0, "the pooled fill allocated");
    assert_eq!(done.pages, 1);
    // A request given as an iterator over the driver's own scatter list: filled, and split
    // and filled chunk by chunk, with no array of extents made for it.
    let pairs: [(u64, u32); 300] = core::array::from_fn(|i| (((i as u64) * 2 + 1) << 12, 4096));
    let mapped = pairs
        .iter()
        .map(|&(addr, len)| Extent::new(addr, u64::from(len)));
    let short = Request::of(mapped.clone().take(8), Direction::Write, QueueKind::Io);
    let long = Request::of(mapped, Direction::Write, QueueKind::Io);
    let before_iter = allocations();
    let (a, b) = lists.split_at_mut(4096);
    let mut pages = [PrpListPage::new(0x8000_0000, a)];
    let mut memory = dptr::DescriptorMemory {
        prp_lists: &mut pages,
        ..dptr::DescriptorMemory::none()
    };
    let filled = dptr::fill_sqe(&mut sqe, &short, &caps, SglPolicy::LINUX, &mut memory).unwrap();
    assert!(matches!(filled, dptr::Outcome::Filled(f) if f.lists_used == 1));
    let dptr::Plan::Split(split) = dptr::plan(&long, &caps, SglPolicy::LINUX).unwrap() else {
        panic!("300 pages over a 1 MiB MDTS are two commands");
    };
    let mut chunk_pages = [PrpListPage::new(0x8000_1000, &mut b[..4096])];
    let mut chunk_memory = dptr::DescriptorMemory {
        prp_lists: &mut chunk_pages,
        ..dptr::DescriptorMemory::none()
    };
    let mut chunk_bytes = 0;
    for chunk in split {
        dptr::fill_chunk(&mut sqe, &long, &chunk, &caps, &mut chunk_memory).unwrap();
        chunk_bytes += chunk.len;
    }
    assert_eq!(
        allocations() - before_iter,
        0,
        "the iterator request allocated"
    );
    assert_eq!(chunk_bytes, 300 * 4096);
    let after = allocations();
    assert_eq!(after - before, 0, "the PRP hot path allocated");
    // The work really happened: both transfers walked and split back to their full lengths.
    // Each transfer counted twice (walk and split) plus one fast-path PRP2 of 0x2000 each.
    let totals = (8u64 << 20) + 2049 * 4096;
    assert_eq!(checksum, 2 * totals + 2 * 0x2000);
}
