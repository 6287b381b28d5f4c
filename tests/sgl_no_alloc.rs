//! The SGL core allocates nothing: build, walk (as an iterator, through `fill`, and
//! `validate`) and choose data pointers under a counting global allocator.
//!
//! This file holds a single test so that no other test thread allocates while it counts.

use nvme_dma::dptr::{self, ControllerCaps, DescriptorMemory, Outcome, Request, SglPolicy};
use nvme_dma::sgl::{SegmentBuf, SglBuilder, SglCaps, SglWalker};
use nvme_dma::spec::{MaxTransfer, Opcode, SglSupport, Sgls, SubmissionEntry};
use nvme_dma::walk::Walk;
use nvme_dma::QueueKind;
use nvme_dma::{Direction, Piece};
use nvme_dma::{Extent, PageSize, SliceMemory};

#[path = "common/counting_alloc.rs"]
mod counting_alloc;
use counting_alloc::allocations;

const SEGMENTS: u64 = 0x8000_0000;

#[test]
fn build_walk_and_fill_allocate_nothing() {
    // Everything the hot path needs is set up before counting starts.
    let caps = SglCaps::new(
        Sgls::from_support(SglSupport::ByteAligned) | Sgls::BIT_BUCKET | Sgls::MPTR_SGL,
    );
    let contiguous = [Piece::Data(Extent::new(0x10_0200, 8 << 20))];
    let scattered: Vec<Piece> = (0..1000u64)
        .map(|i| match i % 10 {
            9 => Piece::Skip(512),
            _ => Piece::Data(Extent::new((i * 2 + 1) << 12, 4096 - i % 7)),
        })
        .collect();
    let mut segment_bytes = vec![0u8; 5 * 4096];
    let builder = SglBuilder::new(caps, Direction::Read);
    let ctrl = ControllerCaps {
        page_size: PageSize::SIZE_4K,
        sgl: caps,
        max_transfer: MaxTransfer::Unlimited,
    };
    let extents: Vec<Extent> = (0..64u64).map(|i| Extent::new(i << 20, 0x1_0000)).collect();
    let metadata = [Extent::new(0x9000, 8), Extent::new(0xa000, 8)];
    let mut sqe = SubmissionEntry::new(Opcode::NVM_READ, 1);
    let mut mptr_bytes = [0u8; 16];
    let mut out = [Piece::Skip(0); 32];

    let before = allocations();
    let mut checksum = 0u64;
    for pieces in [&contiguous[..], &scattered[..]] {
        let (sgl1, len) = {
            let (a, rest) = segment_bytes.split_at_mut(4096);
            let (b, rest) = rest.split_at_mut(4096);
            let (c, rest) = rest.split_at_mut(4096);
            let (d, e) = rest.split_at_mut(4096);
            let mut segments = [
                SegmentBuf::new(SEGMENTS, a),
                SegmentBuf::new(SEGMENTS + 0x1000, b),
                SegmentBuf::new(SEGMENTS + 0x2000, c),
                SegmentBuf::new(SEGMENTS + 0x3000, d),
                SegmentBuf::new(SEGMENTS + 0x4000, e),
            ];
            let layout = builder.build(pieces, &mut segments).unwrap();
            (layout.sgl1, layout.plan.len())
        };
        let mem = SliceMemory::new(SEGMENTS, &mut segment_bytes);
        let walker = SglWalker::new(sgl1.to_raw(), Direction::Read, len, &caps, &mem);
        for piece in walker {
            checksum = checksum.wrapping_add(piece.unwrap().len());
        }
        let mut walker = SglWalker::new(sgl1.to_raw(), Direction::Read, len, &caps, &mem);
        loop {
            let progress = walker.fill(&mut out).unwrap();
            let written = &out[..progress.written];
            checksum = checksum.wrapping_add(written.iter().map(Piece::len).sum::<u64>());
            if progress.done {
                break;
            }
        }
        let summary = SglWalker::new(sgl1.to_raw(), Direction::Read, len, &caps, &mem)
            .validate()
            .unwrap();
        checksum = checksum.wrapping_add(summary.bytes);
    }
    // dptr: an SGL with a metadata SGL behind MPTR, all in caller-owned memory.
    {
        let (a, b) = segment_bytes.split_at_mut(4096);
        let mut data_segments = [SegmentBuf::new(SEGMENTS, a)];
        let mut meta_segments = [
            SegmentBuf::new(0x7000, &mut mptr_bytes),
            SegmentBuf::new(SEGMENTS + 0x1000, &mut b[..4096]),
        ];
        let mut memory = DescriptorMemory {
            prp_lists: &mut [],
            sgl_segments: &mut data_segments,
            metadata_segments: &mut meta_segments,
        };
        let req = Request::new(&extents, Direction::Read, QueueKind::Io).with_metadata(&metadata);
        match dptr::fill_sqe(&mut sqe, &req, &ctrl, SglPolicy::Always, &mut memory).unwrap() {
            Outcome::Filled(filled) => checksum = checksum.wrapping_add(filled.mptr),
            Outcome::Split(_) => panic!("one command carries it"),
        }
    }
    let after = allocations();
    assert_eq!(after - before, 0, "the SGL hot path allocated");
    // The work really happened: each transfer walked three times (iterator, fill, validate),
    // plus MPTR.
    let scattered_len: u64 = scattered.iter().map(Piece::len).sum();
    assert_eq!(checksum, 3 * ((8 << 20) + scattered_len) + 0x7000);
}
