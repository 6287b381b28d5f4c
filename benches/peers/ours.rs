//! The crate's side of every pair: every call into `nvme_dma` the benches and the equivalence
//! tests make goes through here, so that an API change is made once.

use nvme_dma::dptr::{self, ControllerCaps, DescriptorMemory, Outcome, Request, SglPolicy};
use nvme_dma::memory::DmaMemory;
use nvme_dma::prp::{PrpBuilder, PrpLayout, PrpListPage, PrpWalker};
use nvme_dma::sgl::{SegmentBuf, SglBuilder, SglCaps, SglLayout, SglWalker};
use nvme_dma::spec::{MaxTransfer, Opcode, SglDescriptor, SglSupport, Sgls, SubmissionEntry};
use nvme_dma::walk::Walk;
use nvme_dma::{Direction, Extent, PageSize, Piece, QueueKind};

/// The page size of every case.
pub const PS: PageSize = PageSize::SIZE_4K;

/// SGL support as the peers' controllers have it: dword-aligned SGLs.
pub fn sgl_caps() -> SglCaps {
    SglCaps::new(Sgls::from_support(SglSupport::DwordAligned))
}

/// The controller: 4 KiB pages, SGLs, and an MDTS above every case.
pub fn ctrl() -> ControllerCaps {
    ControllerCaps {
        page_size: PS,
        sgl: sgl_caps(),
        max_transfer: MaxTransfer::Bytes(2 << 20),
    }
}

/// A write on an I/O queue.
pub fn request(extents: &[Extent]) -> Request<'_> {
    Request::new(extents, Direction::Write, QueueKind::Io)
}

/// A fresh command to fill.
pub fn sqe() -> SubmissionEntry {
    SubmissionEntry::new(Opcode::NVM_WRITE, 1)
}

/// PRP list pages over `buf`, `page_bytes` each, the first at `base`.
pub fn list_pages(buf: &mut [u8], base: u64, page_bytes: usize) -> Vec<PrpListPage<'_>> {
    buf.chunks_mut(page_bytes)
        .enumerate()
        .map(|(i, c)| PrpListPage::new(base + (i * page_bytes) as u64, c))
        .collect()
}

/// SGL segment buffers over `buf`, `seg_bytes` each, the first at `base`.
pub fn segments(buf: &mut [u8], base: u64, seg_bytes: usize) -> Vec<SegmentBuf<'_>> {
    buf.chunks_mut(seg_bytes)
        .enumerate()
        .map(|(i, c)| SegmentBuf::new(base + (i * seg_bytes) as u64, c))
        .collect()
}

/// Descriptor memory with PRP list pages and SGL segments.
pub fn descriptor_memory<'m, 'a>(
    prp_lists: &'m mut [PrpListPage<'a>],
    sgl_segments: &'m mut [SegmentBuf<'a>],
) -> DescriptorMemory<'m, 'a> {
    DescriptorMemory {
        prp_lists,
        sgl_segments,
        metadata_segments: &mut [],
    }
}

/// `fill_sqe` under `policy`; true when the command was filled (not split). The pairs use
/// `SglPolicy::Never` (PRPs, as Linux without SGLs), `SglPolicy::Always` (SPDK's choice) and
/// `SglPolicy::LINUX`.
#[inline(always)]
pub fn fill_sqe(
    sqe: &mut SubmissionEntry,
    req: &Request<'_>,
    ctrl: &ControllerCaps,
    policy: SglPolicy,
    mem: &mut DescriptorMemory<'_, '_>,
) -> bool {
    matches!(
        dptr::fill_sqe(sqe, req, ctrl, policy, mem),
        Ok(Outcome::Filled(_))
    )
}

/// The PRP builder.
pub fn prp_builder() -> PrpBuilder {
    PrpBuilder::new(PS)
}

/// `PrpBuilder::build`.
#[inline(always)]
pub fn prp_build(
    builder: &PrpBuilder,
    extents: &[Extent],
    lists: &mut [PrpListPage<'_>],
) -> Option<PrpLayout> {
    builder.build(extents, lists).ok()
}

/// The SGL builder for writes.
pub fn sgl_builder() -> SglBuilder {
    SglBuilder::new(sgl_caps(), Direction::Write)
}

/// `SglBuilder::build`.
#[inline(always)]
pub fn sgl_build(
    builder: &SglBuilder,
    extents: &[Extent],
    segments: &mut [SegmentBuf<'_>],
) -> Option<SglLayout> {
    builder.build(extents, segments).ok()
}

/// SGL1 of a built layout as one word (its address and length), for a bench to return.
#[inline(always)]
pub fn sgl1_word(layout: &SglLayout) -> u64 {
    let sgl1 = layout.sgl1.to_raw();
    sgl1.address() ^ u64::from(sgl1.length())
}

/// SGL1 of a built layout, in its raw form.
pub fn sgl1_raw(layout: &SglLayout) -> SglDescriptor {
    layout.sgl1.to_raw()
}

/// One batch of a PRP walk: (pieces written, walk over).
#[inline(always)]
pub fn prp_fill<M: DmaMemory + ?Sized>(
    walker: &mut PrpWalker<'_, M>,
    out: &mut [Piece],
) -> Option<(usize, bool)> {
    let progress = walker.fill(out).ok()?;
    Some((progress.written, progress.done))
}

/// One batch of an SGL walk: (pieces written, walk over).
#[inline(always)]
pub fn sgl_fill<M: DmaMemory + ?Sized>(
    walker: &mut SglWalker<'_, M>,
    out: &mut [Piece],
) -> Option<(usize, bool)> {
    let progress = Walk::fill(walker, out).ok()?;
    Some((progress.written, progress.done))
}

/// Walk PRPs to the end through `fill` into `out`, handing each batch to `each`; the number
/// of pieces, or `None` on a walk error.
#[inline(always)]
pub fn walk_prp<M: DmaMemory + ?Sized>(
    prp1: u64,
    prp2: u64,
    len: u64,
    mem: &M,
    out: &mut [Piece],
    mut each: impl FnMut(&[Piece]),
) -> Option<usize> {
    let mut walker = PrpWalker::new(prp1, prp2, len, PS, mem);
    let mut total = 0;
    loop {
        let (n, done) = prp_fill(&mut walker, out)?;
        each(&out[..n]);
        total += n;
        if done {
            return Some(total);
        }
    }
}

/// Walk an SGL to the end through `fill` into `out`, handing each batch to `each`; the number
/// of pieces, or `None` on a walk error.
#[inline(always)]
pub fn walk_sgl<M: DmaMemory + ?Sized>(
    sgl1: SglDescriptor,
    len: u64,
    caps: &SglCaps,
    mem: &M,
    out: &mut [Piece],
    mut each: impl FnMut(&[Piece]),
) -> Option<usize> {
    let mut walker = SglWalker::new(sgl1, Direction::Write, len, caps, mem);
    let mut total = 0;
    loop {
        let (n, done) = sgl_fill(&mut walker, out)?;
        each(&out[..n]);
        total += n;
        if done {
            return Some(total);
        }
    }
}

/// Merge physically adjacent pieces, as the crate's walkers do, so that walks that split
/// differently compare equal.
pub fn merged(pieces: impl IntoIterator<Item = Piece>) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::new();
    for p in pieces {
        if let Some(last) = out.last_mut() {
            if last.try_merge(&p) {
                continue;
            }
        }
        out.push(p);
    }
    out
}

/// What a PRP build wrote: PRP1, PRP2, and the whole list buffer it was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrpOut {
    /// PRP1.
    pub prp1: u64,
    /// PRP2.
    pub prp2: u64,
    /// The list buffer, as the build left it.
    pub list: Vec<u8>,
}

/// What an SGL build wrote: SGL1 and the whole segment buffer it was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SglOut {
    /// SGL1's 16 bytes.
    pub sgl1: [u8; 16],
    /// The segment buffer, as the build left it.
    pub segment: Vec<u8>,
}

/// `PrpBuilder::build` into one zeroed list buffer of `list_len` bytes at `list_addr`.
pub fn prp_build_out(extents: &[Extent], list_addr: u64, list_len: usize) -> Option<PrpOut> {
    let mut list = vec![0u8; list_len];
    let layout = {
        let mut pages = [PrpListPage::new(list_addr, &mut list)];
        prp_build(&prp_builder(), extents, &mut pages)?
    };
    Some(PrpOut {
        prp1: layout.pair.prp1,
        prp2: layout.pair.prp2.raw(),
        list,
    })
}

/// `fill_sqe` with PRPs only, into one zeroed list buffer of `list_len` bytes at `list_addr`.
pub fn fill_sqe_prp_out(extents: &[Extent], list_addr: u64, list_len: usize) -> Option<PrpOut> {
    let mut list = vec![0u8; list_len];
    let mut sqe = sqe();
    let filled = {
        let mut pages = [PrpListPage::new(list_addr, &mut list)];
        let mut mem = descriptor_memory(&mut pages, &mut []);
        fill_sqe(
            &mut sqe,
            &request(extents),
            &ctrl(),
            SglPolicy::Never,
            &mut mem,
        )
    };
    filled.then(|| PrpOut {
        prp1: sqe.prp1(),
        prp2: sqe.prp2(),
        list,
    })
}

/// `SglBuilder::build` into one zeroed segment buffer of `seg_len` bytes at `seg_addr`.
pub fn sgl_build_out(extents: &[Extent], seg_addr: u64, seg_len: usize) -> Option<SglOut> {
    let mut segment = vec![0u8; seg_len];
    let layout = {
        let mut segs = [SegmentBuf::new(seg_addr, &mut segment)];
        sgl_build(&sgl_builder(), extents, &mut segs)?
    };
    Some(SglOut {
        sgl1: sgl1_raw(&layout).to_bytes(),
        segment,
    })
}

/// `fill_sqe` preferring SGLs, into one zeroed segment buffer of `seg_len` bytes at
/// `seg_addr`.
pub fn fill_sqe_sgl_out(extents: &[Extent], seg_addr: u64, seg_len: usize) -> Option<SglOut> {
    let mut segment = vec![0u8; seg_len];
    let mut sqe = sqe();
    let filled = {
        let mut segs = [SegmentBuf::new(seg_addr, &mut segment)];
        let mut mem = descriptor_memory(&mut [], &mut segs);
        fill_sqe(
            &mut sqe,
            &request(extents),
            &ctrl(),
            SglPolicy::Always,
            &mut mem,
        )
    };
    (filled && sqe.psdt().is_sgl()).then(|| SglOut {
        sgl1: sqe.sgl1().to_bytes(),
        segment,
    })
}

/// Every piece of a PRP walk over `mem` (64 at a time), or `None` on a walk error.
pub fn prp_pieces<M: DmaMemory + ?Sized>(
    prp1: u64,
    prp2: u64,
    len: u64,
    mem: &M,
) -> Option<Vec<Piece>> {
    let mut out = [Piece::Skip(0); 64];
    let mut all = Vec::new();
    walk_prp(prp1, prp2, len, mem, &mut out, |b| all.extend_from_slice(b))?;
    Some(all)
}

/// Every piece of an SGL walk over `mem` (64 at a time), or `None` on a walk error.
pub fn sgl_pieces<M: DmaMemory + ?Sized>(sgl1: [u8; 16], len: u64, mem: &M) -> Option<Vec<Piece>> {
    let mut out = [Piece::Skip(0); 64];
    let mut all = Vec::new();
    let caps = sgl_caps();
    walk_sgl(
        SglDescriptor::from_bytes(sgl1),
        len,
        &caps,
        mem,
        &mut out,
        |b| all.extend_from_slice(b),
    )?;
    Some(all)
}

/// What `fill_sqe` wrote: PSDT is an SGL, DPTR's 16 bytes, and the list or segment buffer
/// (`len` bytes at `addr`, given to both kinds).
pub fn fill_sqe_linux_out(
    extents: &[Extent],
    addr: u64,
    len: usize,
) -> Option<(bool, [u8; 16], Vec<u8>)> {
    let mut list = vec![0u8; len];
    let mut segment = vec![0u8; len];
    let mut sqe = sqe();
    let filled = {
        let mut pages = [PrpListPage::new(addr, &mut list)];
        let mut segs = [SegmentBuf::new(addr, &mut segment)];
        let mut mem = descriptor_memory(&mut pages, &mut segs);
        fill_sqe(
            &mut sqe,
            &request(extents),
            &ctrl(),
            SglPolicy::LINUX,
            &mut mem,
        )
    };
    let sgl = sqe.psdt().is_sgl();
    filled.then(|| (sgl, sqe.sgl1().to_bytes(), if sgl { segment } else { list }))
}
