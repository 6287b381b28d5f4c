//! `sgl_walk`: the SGL walker on an arbitrary SGL1 (or MPTR, for a metadata SGL), direction,
//! transfer length, capabilities and host memory.
//!
//! Checks: the walker gives the same pieces, or the same status, as the reference SGL walker
//! of the integration tests, filled into room for all its pieces or as an iterator; it stays
//! within its documented work bound (descriptor bytes, and memory reads when it has room for
//! full batches, from `WalkLimits`); `validate` and the `dptr` path (decode an SQE carrying the
//! pointer, then walk it) agree with it; an accepted walk accounts for exactly the transfer in
//! merged, non-empty pieces, with no skip in a write; a failed walk yields nothing more; and it
//! writes nothing.

use arbitrary::{Arbitrary, Unstructured};
use nvme_dma::dptr::{self};
use nvme_dma::sgl::{SglCaps, SglWalker, WalkError, WalkLimits, BATCH_DESCRIPTORS};
use nvme_dma::spec::{Psdt, SglDescriptor, Status, SubmissionEntry};
use nvme_dma::walk::Walk;
use nvme_dma::QueueKind;
use nvme_dma::{Direction, Piece};
use nvme_dma::{PageSize, SimMemory};
use nvme_dma_testkit::contract::{check_iterator_form, fill_all};
use nvme_dma_testkit::oracle::{reference_walk, RefCaps};

use crate::collect_walk;
use crate::encode::Encode;
use crate::memory::MemorySpec;

/// Where the walk starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SglStart {
    /// The data SGL: SGL1 from the command.
    Sgl1(SglDescriptor),
    /// The metadata SGL (PSDT 10b): MPTR, the address of a one-descriptor segment.
    Mptr(u64),
}

/// One command's SGL, the controller's capabilities, and the memory.
#[derive(Clone, Debug, PartialEq, Eq, Arbitrary)]
pub struct SglWalkInput {
    /// SGL1 or MPTR.
    pub start: SglStart,
    /// The data direction.
    pub direction: Direction,
    /// The transfer length.
    pub len: u64,
    /// SGLS, MSDBD, in-capsule data and the walk limits.
    pub caps: SglCaps,
    /// Host memory.
    pub memory: MemorySpec,
}

impl<'a> Arbitrary<'a> for SglStart {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(if u.arbitrary::<bool>()? {
            SglStart::Mptr(u.arbitrary()?)
        } else {
            SglStart::Sgl1(u.arbitrary()?)
        })
    }
}

impl Encode for SglStart {
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            SglStart::Sgl1(d) => {
                false.encode(out);
                d.encode(out);
            }
            SglStart::Mptr(m) => {
                true.encode(out);
                m.encode(out);
            }
        }
    }
}

crate::encode_fields!(SglWalkInput {
    start,
    direction,
    len,
    caps,
    memory
});

fn walker<'m>(input: &SglWalkInput, mem: &'m SimMemory) -> SglWalker<'m, SimMemory> {
    match input.start {
        SglStart::Sgl1(d) => SglWalker::new(d, input.direction, input.len, &input.caps, mem),
        SglStart::Mptr(mptr) => {
            SglWalker::metadata(mptr, input.direction, input.len, &input.caps, mem)
        }
    }
}

/// The walker's work bound as its documentation states it, with `D` = `max_descriptors`,
/// `S` = `max_segments` and `B` = `BATCH_DESCRIPTORS`: at most `16 (D + S)` descriptor bytes,
/// in at most `S + ceil((D + S) / B)` memory reads when every read finds room for `B` pieces,
/// each one more for a walk that starts at MPTR. 128-bit arithmetic.
pub fn work_bound(limits: WalkLimits, from_mptr: bool) -> (u64, u64) {
    let (d, s) = (
        u128::from(limits.max_descriptors),
        u128::from(limits.max_segments),
    );
    let m = u128::from(from_mptr);
    let bytes = 16 * (d + s + m);
    let reads = s + (d + s).div_ceil(BATCH_DESCRIPTORS as u128) + m;
    (bytes as u64, reads as u64)
}

/// The same pointer carried by a command, decoded and walked as a controller's command path
/// does (an I/O queue; the page size plays no part in an SGL): the pieces, or the status.
fn walk_via_dptr(input: &SglWalkInput, mem: &SimMemory) -> Result<Vec<Piece>, Status> {
    let sqe = match input.start {
        SglStart::Sgl1(d) => SubmissionEntry::default().with_psdt(Psdt::Sgl).with_sgl1(d),
        SglStart::Mptr(mptr) => SubmissionEntry::default()
            .with_psdt(Psdt::SglMetadataSgl)
            .with_mptr(mptr),
    };
    let pointers = dptr::decode(&sqe, QueueKind::Io, &input.caps).map_err(|e| e.status())?;
    let pieces = match input.start {
        SglStart::Sgl1(_) => {
            let ps = PageSize::SIZE_4K;
            pointers.walk_data(input.direction, input.len, ps, &input.caps, mem)
        }
        SglStart::Mptr(_) => pointers.walk_metadata(input.direction, input.len, &input.caps, mem),
    };
    pieces
        .into_iter()
        .collect::<Result<_, _>>()
        .map_err(|e| e.status())
}

/// The walk filled into one `out` with room for every piece it could find and a batch more
/// (pieces are non-empty data descriptors, so no more than `max_descriptors` nor the
/// transfer's bytes): every read then finds room for a full batch.
fn walk_with_room(input: &SglWalkInput, mem: &SimMemory) -> Result<Vec<Piece>, WalkError> {
    let pieces = u64::from(input.caps.limits().max_descriptors).min(input.len);
    let room = usize::try_from(pieces).unwrap() + BATCH_DESCRIPTORS;
    fill_all(walker(input, mem), room)
}

/// Run every SGL walker check on one input.
pub fn check(input: &SglWalkInput) {
    let (mut mem, snapshot) = input.memory.build();
    let from_mptr = matches!(input.start, SglStart::Mptr(_));
    let limits = input.caps.limits();

    let with_room = walk_with_room(input, &mem);
    let (max_bytes, max_reads) = work_bound(input.caps.limits(), from_mptr);
    assert_eq!(
        (max_bytes, max_reads),
        (
            limits.max_bytes_read(from_mptr),
            limits.max_reads(from_mptr)
        ),
        "WalkLimits states another bound than the walker's docs"
    );
    let (bytes, reads) = (mem.bytes_read(), mem.read_count());
    assert!(bytes <= max_bytes, "read {bytes} bytes > bound {max_bytes}");
    assert!(reads <= max_reads, "{reads} reads > bound {max_reads}");

    // `next`, `fold` and `sole_piece` hand out what `fill` writes.
    let forms = check_iterator_form(|| walker(input, &mem));
    assert_eq!(forms, with_room, "the walk's forms and a walk with room");

    // As an iterator (16 pieces at a time): the same answer, no more bytes, and at least one
    // descriptor a read.
    mem.clear_log();
    let walked = collect_walk(&mut walker(input, &mem).pieces());
    assert_eq!(walked, with_room, "the iterator and a walk with room");
    let (bytes, reads) = (mem.bytes_read(), mem.read_count());
    assert!(bytes <= max_bytes, "read {bytes} bytes > bound {max_bytes}");
    assert!(reads <= max_bytes / 16, "{reads} reads for {bytes} bytes");

    // The fast path (runs of plain data blocks and bit buckets, SGL1 as the whole transfer)
    // agrees with the general path alone: the same pieces or status, from the same reads.
    let fast_reads = mem.accesses();
    mem.clear_log();
    let general = collect_walk(&mut walker(input, &mem).without_fast_path().pieces());
    assert_eq!(general, walked, "the general path alone");
    assert_eq!(
        mem.accesses(),
        fast_reads,
        "the general path read otherwise"
    );

    let first = match input.start {
        SglStart::Sgl1(d) => Ok(d.to_bytes()),
        SglStart::Mptr(m) => Err(m),
    };
    let write = input.direction == Direction::Write;
    let reference = reference_walk(first, write, input.len, RefCaps::of(&input.caps), &mem);
    match (&walked, &reference) {
        (Ok(pieces), Ok(expected)) => assert_eq!(pieces, expected),
        (Err(e), Err(sc)) => assert_eq!(e.status().sc(), *sc, "{e}"),
        _ => panic!("walker {walked:?}, reference {reference:?}"),
    }

    match (&walked, walker(input, &mem).validate()) {
        (Ok(pieces), Ok(s)) => assert_eq!((s.pieces, s.bytes), (pieces.len() as u64, input.len)),
        (Err(e), Err(f)) => assert_eq!(*e, f),
        (w, s) => panic!("walk {w:?} but validate {s:?}"),
    }
    match (&walked, walk_via_dptr(input, &mem)) {
        (Ok(pieces), Ok(via)) => assert_eq!(pieces, &via),
        (Err(e), Err(via)) => assert_eq!(e.status(), via, "{e}"),
        (w, via) => panic!("walk {w:?} but through dptr {via:?}"),
    }

    match walked {
        Ok(pieces) => {
            let total: u128 = pieces.iter().map(|p| u128::from(p.len())).sum();
            assert_eq!(total, u128::from(input.len));
            for (i, p) in pieces.iter().enumerate() {
                assert!(!p.is_empty(), "empty piece {p}");
                assert!(!(write && matches!(p, Piece::Skip(_))), "a skip in a write");
                if i > 0 {
                    let mut prev = pieces[i - 1];
                    assert!(!prev.try_merge(p), "{} and {p} not merged", pieces[i - 1]);
                }
            }
        }
        Err(e) => {
            assert!(e.status().dnr());
            assert!(!e.to_string().is_empty());
        }
    }
    snapshot.assert_unchanged(&mem);
}
