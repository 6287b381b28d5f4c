//! `prp_walk`: the PRP walker on arbitrary PRP1, PRP2, length, page size and host memory.
//!
//! Checks: the walker gives the same segments, or the same status, as the reference walker;
//! its iterator, `fill` (with any buffer size) and `validate` agree; it reads exactly the list
//! slots its documented work bound names when it succeeds and never more when it fails, in no
//! more memory reads than the bound allows; an accepted walk covers exactly the transfer with
//! segments that obey the page rules; a failed walk yields nothing more; and it writes nothing.

use arbitrary::Arbitrary;
use nvme_dma::prp::geometry::{list_slots_read, pages_touched};
use nvme_dma::prp::{PrpWalker, WalkError};
use nvme_dma::walk::{Progress, Walk};
use nvme_dma::{Extent, PageSize, Piece, SimMemory};

use crate::collect_walk;
use crate::memory::MemorySpec;
use crate::prp_reference;

/// The longest transfer walked, in pages: a controller checks the length against MDTS before
/// it walks, and the walker's work is linear in the pages the length implies.
pub const MAX_PAGES: u64 = 4096;

/// One command's PRP data pointer, and the memory it points into.
#[derive(Clone, Debug, PartialEq, Eq, Arbitrary)]
pub struct PrpWalkInput {
    /// PRP Entry 1.
    pub prp1: u64,
    /// PRP Entry 2.
    pub prp2: u64,
    /// The transfer length, taken modulo `MAX_PAGES` pages plus one byte.
    pub len: u64,
    /// CC.MPS.
    pub page_size: PageSize,
    /// The output buffer size for `fill`, less one.
    pub fill_len: u8,
    /// Host memory.
    pub memory: MemorySpec,
}

crate::encode_fields!(PrpWalkInput {
    prp1,
    prp2,
    len,
    page_size,
    fill_len,
    memory
});

impl PrpWalkInput {
    /// The transfer length walked.
    pub fn transfer_len(&self) -> u64 {
        self.len % (self.page_size.bytes() * MAX_PAGES + 1)
    }
}

/// The walker's work bound, from its documentation: for `N > 2` pages, exactly `E + P - 1`
/// list slots (`E = N - 1` entries in `P` list pages), and at most `2P - 1 + E / 64` memory
/// reads (a page's data slots in batches of 64, then its chain slot on its own); `None` when
/// no list is read. 128-bit arithmetic, no library code.
///
/// (This is the bound the walker's documentation states, since finding F1 in FUZZING.md.)
pub fn work_bound(prp1: u64, prp2: u64, len: u64, ps: PageSize) -> Option<(u64, u64)> {
    let (psb, len) = (u128::from(ps.bytes()), u128::from(len));
    let pages = (u128::from(prp1) % psb + len).div_ceil(psb);
    if pages <= 2 {
        return None;
    }
    let entries = pages - 1;
    let first_slots = (psb - u128::from(prp2) % psb) / 8;
    let list_pages = if entries <= first_slots {
        1
    } else {
        1 + (entries - first_slots).div_ceil(psb / 8 - 1)
    };
    let slots = entries + list_pages - 1;
    Some((slots as u64, (2 * list_pages - 1 + entries / 64) as u64))
}

/// Walk through `fill` with an output buffer of `n` pieces; also the number of calls.
fn walk_fill(
    w: &mut PrpWalker<'_, SimMemory>,
    n: usize,
) -> Result<(Vec<Extent>, usize), WalkError> {
    let mut out = Vec::new();
    let mut buf = vec![Piece::Skip(0); n];
    let mut calls = 0;
    loop {
        let progress = w.fill(&mut buf)?;
        calls += 1;
        assert!(
            progress.written > 0 || progress.done,
            "fill made no progress"
        );
        out.extend(
            buf[..progress.written]
                .iter()
                .map(|p| p.data().expect("data")),
        );
        if progress.done {
            assert_eq!(w.fill(&mut buf), Ok(Progress::FINISHED), "done stays done");
            return Ok((out, calls));
        }
    }
}

/// Run every PRP walker check on one input.
pub fn check(input: &PrpWalkInput) {
    let ps = input.page_size;
    let len = input.transfer_len();
    let (prp1, prp2) = (input.prp1, input.prp2);
    let (mem, snapshot) = input.memory.build();

    // Walked with room for every piece (within reason), where the tighter read bound holds.
    let room = usize::try_from(pages_touched(ps, prp1, len).saturating_add(1))
        .unwrap_or(usize::MAX)
        .min(4096);
    let mut walker = PrpWalker::new(prp1, prp2, len, ps, &mem);
    let walked_in = walk_fill(&mut walker, room);
    let walked = walked_in
        .as_ref()
        .map(|(pieces, _)| pieces.clone())
        .map_err(|e| *e);
    let (bytes_read, reads) = (mem.bytes_read(), mem.read_count());

    // The work bound.
    match work_bound(prp1, prp2, len, ps) {
        None => assert_eq!(reads, 0, "no list to read, yet {reads} reads"),
        Some((slots, max_reads)) => {
            let entries = pages_touched(ps, prp1, len) - 1;
            assert_eq!(slots, list_slots_read(ps, prp2, entries), "geometry");
            if walked.is_ok() {
                assert_eq!(bytes_read, 8 * slots, "slots read by a successful walk");
            } else {
                assert!(bytes_read <= 8 * slots, "{bytes_read} bytes > 8 * {slots}");
            }
            assert!(reads <= slots, "{reads} memory reads > {slots} slots");
            if room as u64 > entries {
                assert!(
                    reads <= max_reads,
                    "{reads} memory reads > bound {max_reads}"
                );
            }
        }
    }

    // The reference walker.
    let reference = prp_reference::walk(prp1, prp2, len, ps.bytes(), &mem);
    match (&walked, &reference) {
        (Ok(segments), Ok(r)) => {
            assert_eq!(segments, &r.segments);
            assert_eq!(bytes_read, 8 * r.slots);
        }
        (Err(e), Err(sc)) => assert_eq!(e.status().sc(), *sc, "{e}"),
        _ => panic!("walker {walked:?}, reference {reference:?}"),
    }

    // A walk whose pieces all fit `out` ends in the call that writes them.
    if let Ok((pieces, calls)) = &walked_in {
        if pieces.len() < room {
            assert_eq!(*calls, 1, "a walk that fits out takes one call");
        }
    }

    // The other ways to walk agree, and read each slot once too.
    let before = mem.bytes_read();
    let mut again = PrpWalker::new(prp1, prp2, len, ps, &mem);
    assert_eq!(
        walk_fill(&mut again, 1 + usize::from(input.fill_len % 32)).map(|(pieces, _)| pieces),
        walked,
        "fill"
    );
    if walked.is_ok() {
        assert_eq!(
            mem.bytes_read() - before,
            bytes_read,
            "slots read with a small out"
        );
    }
    let iterated = collect_walk(&mut PrpWalker::new(prp1, prp2, len, ps, &mem).extents());
    assert_eq!(iterated, walked, "iterator");
    // `next`, `fold` and `sole_piece` hand out what `fill` writes.
    let forms = nvme_dma_testkit::contract::check_iterator_form(|| {
        PrpWalker::new(prp1, prp2, len, ps, &mem)
    });
    let forms = forms.map(|pieces| pieces.iter().map(|p| p.data().expect("data")).collect());
    assert_eq!(forms, walked, "the walk's forms and a walk with room");
    let summary = PrpWalker::new(prp1, prp2, len, ps, &mem).validate();
    match (&walked, summary) {
        (Ok(segments), Ok(s)) => {
            assert_eq!((s.pieces, s.bytes), (segments.len() as u64, len));
        }
        (Err(e), Err(f)) => assert_eq!(*e, f),
        (w, s) => panic!("walk {w:?} but validate {s:?}"),
    }

    match walked {
        Ok(segments) => check_segments(&segments, prp1, len, ps),
        Err(e) => {
            assert!(e.status().dnr());
            assert!(!e.to_string().is_empty());
        }
    }
    snapshot.assert_unchanged(&mem);
}

/// An accepted walk: the transfer exactly, PRP1 first, every later segment page aligned,
/// every segment but the last ending on a page boundary, adjacent segments merged.
fn check_segments(segments: &[Extent], prp1: u64, len: u64, ps: PageSize) {
    let total: u128 = segments.iter().map(|s| u128::from(s.len)).sum();
    assert_eq!(total, u128::from(len));
    if len == 0 {
        return assert!(segments.is_empty());
    }
    assert_eq!(segments[0].addr, prp1);
    let p = u128::from(ps.bytes());
    for (i, s) in segments.iter().enumerate() {
        assert!(s.len > 0 && s.fits_address_space(), "segment {s}");
        let end = u128::from(s.addr) + u128::from(s.len);
        if i > 0 {
            assert_eq!(
                u128::from(s.addr) % p,
                0,
                "segment {s} starts inside a page"
            );
            let prev = segments[i - 1];
            assert_ne!(prev.end(), Some(s.addr), "{prev} and {s} not merged");
        }
        if i + 1 < segments.len() {
            assert_eq!(end % p, 0, "segment {s} ends inside a page");
        }
    }
}
