//! Device side: walk SGL1 (or the descriptor at MPTR) and its segment chain back into the
//! pieces of the transfer, as a controller does; see [`SglWalker`].
//!
//! The walker is a few fields of plain state ([`State`] says where the walk is); the rules
//! for one descriptor are in `rules`, and reading a segment in batches on the stack of the
//! call is in `batch`.

mod batch;
mod plain;
mod rules;

use super::caps::{Capability, SglCaps, WalkLimits};
use super::descriptor::DESCRIPTOR_BYTES;
use super::error::{DescriptorAt, WalkError};
use super::SglRole;
use crate::extent::Extent;
use crate::memory::DmaMemory;
use crate::piece::{Flat, Piece};
use crate::spec::SglDescriptor;
use crate::walk::{Pieces, Progress, Walk};
use crate::Direction;

/// Descriptors fetched per memory read, at most (a 1 KiB buffer on the stack of the call
/// that walks a segment, never in the walker).
///
/// A segment is read in batches of this many descriptors, counted from its first one; a
/// batch that cannot be read ends the walk with a Data Transfer Error before any of its
/// descriptors is checked, whatever room the caller's `out` has (see [`SglWalker`]).
pub const BATCH_DESCRIPTORS: usize = BATCH as usize;

/// [`BATCH_DESCRIPTORS`] as a count of a segment's descriptors.
const BATCH: u32 = 64;

/// Where a walk is. Each variant is one state a walk can be in, with exactly the fields that
/// state needs; the budget counters and the piece being merged live beside it in the walker.
#[derive(Clone, Copy, Debug)]
enum State {
    /// Nothing read or checked: SGL1 as the command gave it.
    Start { sgl1: SglDescriptor },
    /// Nothing read or checked: the metadata SGL's first descriptor is the one-descriptor
    /// segment at `mptr` (PSDT 10b).
    MetadataStart { mptr: u64 },
    /// Reading a segment, already charged to the budget: `left` descriptors from `addr` on,
    /// the next one its `index`th; `last` when it was reached through a Last Segment
    /// descriptor (so it may not point onward).
    InSegment {
        addr: u64,
        left: u32,
        index: u32,
        last: bool,
    },
    /// Every descriptor the walk needs is read and checked (or a rule broke); the piece being
    /// merged may still be to hand out.
    Done,
}

/// Walks an SGL as a controller does: it writes the transfer's pieces in order (host-memory
/// data, and on reads the bit-bucket skips between them), merging pieces that continue each
/// other, and stops at the first rule broken with the NVMe status to complete the command
/// with. [`Walk`] states the contract it shares with the PRP walker: [`Walk::fill`] is the
/// fast form; [`Walk::pieces`] (or a `for` loop over the walker) is the iterator form, and
/// [`Walk::validate`] walks to the end keeping only a count.
///
/// A walker is 112 bytes of plain state (what it was given, where it is, the budget spent and
/// the piece being merged): making one is a few stores, and moving one is cheap. It reads a segment's descriptors in batches into a buffer on the stack of the call
/// that uses them, never more than that call can consume (each descriptor ends at most one
/// piece), so that nothing read is kept between calls. A walk whose pieces fit `out` takes one
/// call; SGL1 as the whole transfer reads no memory.
///
/// # The rules it checks, in the order it meets them
///
/// * SGLs are supported at all (else Invalid Field in Command, even for a transfer of no
///   bytes); for a metadata SGL, MSDS too and a qword-aligned MPTR (Invalid Field in Command).
///   A zero-length transfer then reads nothing and yields nothing.
/// * SGL1 (or the MPTR descriptor) is a data descriptor describing the whole transfer, or a
///   Segment / Last Segment descriptor.
/// * Every descriptor has a defined type/subtype pair the controller supports: SGL Descriptor
///   Type Invalid.
/// * A Segment or Last Segment descriptor is the last descriptor of its segment (else Invalid
///   Number of SGL Descriptors, checked first: one in the middle of the last segment gets this
///   status too); it is not inside the last segment, and a segment reached
///   through a Segment descriptor does end with one (else Invalid SGL Segment Descriptor); its
///   length is a non-zero multiple of 16 and its address qword aligned (Invalid SGL Segment
///   Descriptor).
/// * In dword-granular mode a Data Block's address and length have bits 1:0 clear: SGL Data
///   Block Granularity Invalid.
/// * No address + length passes 2^64, the SGL covers the whole transfer, and without LLDTS it
///   describes no more than the transfer (a data block longer than what remains is refused, not
///   truncated): Data SGL Length Invalid, or Metadata SGL Length Invalid for a metadata SGL.
/// * Data block descriptors number at most MSDBD, and the walk stays within its
///   [`WalkLimits`]: Invalid Number of SGL Descriptors.
/// * A segment that cannot be read: Data Transfer Error.
///
/// With LLDTS the walk stops as soon as the transfer is complete: descriptors not needed for
/// the transfer need not be checked. Without it, the walk reads on to the end of the SGL,
/// because only then is it known that the SGL is not longer than the transfer. Bit buckets
/// count only in reads: in a write one describes no bytes and yields nothing.
///
/// # Work bound
///
/// Every descriptor a walk reads is charged to a budget before it is read (the progress rule):
/// a segment's data descriptors, zero-length ones included, to `max_descriptors`, and the
/// segment itself (with the pointer that ends it) to `max_segments`. A segment whose charge
/// would exceed a budget is refused before any of it is read. Each descriptor is read once.
/// So, with `D = max_descriptors`, `S = max_segments` and `B` = [`BATCH_DESCRIPTORS`]:
///
/// ```text
/// descriptors read <= D + S                  (16 bytes each; +1 for the MPTR descriptor)
/// memory reads     <= S + ceil((D + S) / B)  (+1 for the MPTR descriptor) when every read
///                                            finds room for B pieces in `out`
///                  <= D + S                  (+1) in any case
/// ```
///
/// ([`WalkLimits::max_bytes_read`], [`WalkLimits::max_reads`]), and `O(D + S)` work in all,
/// whatever the transfer length. A self-referencing chain ends after `S` segments, a run of
/// zero-length descriptors after `D`, and a segment of 2^28 descriptors before it is read.
///
/// A read takes at most `B` descriptors, never more than the call has room for pieces in
/// `out` (each descriptor ends at most one piece), and never runs past the end of its segment.
/// Where a fault in segment memory is met, and so the status, is fixed by the segment's
/// batches (its descriptors in runs of `B` from its first), not by the size of `out`: a batch
/// that cannot be read whole ends the walk when the walk reaches it, before any of its
/// descriptors is checked. So a read that begins a batch without covering it first
/// [probes](DmaMemory::probe) the whole batch, and a read runs into the next batch only if
/// that batch probes readable. A walk into an `out` with room for all its pieces and `B` more
/// reads whole batches, the fewest reads; the iterator form and [`Walk::validate`], which fill
/// 16 pieces at a time, read up to 16 descriptors at a time. A probe moves no data and is not
/// counted above; a memory whose `probe` reads (the trait's default) reads a probed batch
/// twice.
///
/// # Validate before moving data
///
/// A controller must not move data for a command whose data pointer is invalid. Walk the whole
/// SGL first ([`Walk::validate`], or collect the pieces) and only then transfer. Collecting
/// once is also what keeps a guest from changing a segment between a validating walk and a
/// transferring one.
///
/// # Example
///
/// ```
/// use nvme_dma::{Extent, SliceMemory};
/// use nvme_dma::sgl::{SglCaps, SglWalker, SegmentKind, SegmentPointer, DataDescriptor};
/// use nvme_dma::spec::{Sgls, SglSupport};
/// use nvme_dma::walk::Walk;
/// use nvme_dma::{Direction, Piece};
/// use zerocopy::IntoBytes;
///
/// // A read of 0x1800 bytes: 0x800 into one buffer, 0x800 discarded, 0x800 into another.
/// let caps = SglCaps::new(Sgls::from_support(SglSupport::ByteAligned) | Sgls::BIT_BUCKET);
/// let segment = [
///     DataDescriptor::Block { addr: 0x10_0000, len: 0x800 }.to_raw(),
///     DataDescriptor::BitBucket { len: 0x800 }.to_raw(),
///     DataDescriptor::Block { addr: 0x20_0000, len: 0x800 }.to_raw(),
/// ];
/// let mut bytes = segment.as_bytes().to_vec();
/// let mem = SliceMemory::new(0x8000, &mut bytes);
/// let sgl1 = SegmentPointer::new(0x8000, 3, SegmentKind::LastSegment).unwrap().to_raw();
///
/// let mut walker = SglWalker::new(sgl1, Direction::Read, 0x1800, &caps, &mem);
/// let mut out = [Piece::Skip(0); 8];
/// let progress = walker.fill(&mut out)?;
/// assert!(progress.done); // one call: everything fit
/// assert_eq!(out[..progress.written], [
///     Piece::Data(Extent::new(0x10_0000, 0x800)),
///     Piece::Skip(0x800),
///     Piece::Data(Extent::new(0x20_0000, 0x800)),
/// ]);
///
/// // The same walk as an iterator.
/// let pieces: Vec<Piece> = SglWalker::new(sgl1, Direction::Read, 0x1800, &caps, &mem)
///     .pieces()
///     .collect::<Result<_, _>>()?;
/// assert_eq!(pieces, out[..3]);
/// # Ok::<(), nvme_dma::sgl::WalkError>(())
/// ```
#[derive(Debug)]
pub struct SglWalker<'m, M: DmaMemory + ?Sized> {
    mem: &'m M,
    caps: SglCaps,
    state: State,
    /// Bytes the command transfers.
    transfer: u64,
    /// Bytes of the transfer not yet accounted for.
    remaining: u64,
    /// The piece being merged, not yet handed out (none when its length is 0).
    run: Flat,
    /// Data descriptors charged so far (at most `max_descriptors`).
    descriptors: u32,
    /// Segments entered so far (at most `max_segments`): the number of the current one.
    segments: u32,
    /// Data block descriptors met so far, for MSDBD.
    data_blocks: u32,
    direction: Direction,
    role: SglRole,
    /// Whether runs of plain Data Blocks and Bit Buckets take the fast path (`plain`); off only
    /// to test that it agrees with the general path.
    fast_path: bool,
}

impl<'m, M: DmaMemory + ?Sized> SglWalker<'m, M> {
    #[inline]
    fn with_state(
        state: State,
        role: SglRole,
        direction: Direction,
        len: u64,
        caps: &SglCaps,
        mem: &'m M,
    ) -> Self {
        SglWalker {
            mem,
            caps: *caps,
            state,
            transfer: len,
            remaining: len,
            run: Flat::NONE,
            descriptors: 0,
            segments: 0,
            data_blocks: 0,
            direction,
            role,
            fast_path: true,
        }
    }

    /// A walker for a data transfer of `len` bytes in `direction` described by `sgl1`, reading
    /// segments from `mem`. Nothing is checked or read until the first [`Walk::fill`]; a zero
    /// `len` then yields nothing and reads nothing. Capabilities that rule SGLs out entirely
    /// are reported by that first call.
    #[inline]
    pub fn new(
        sgl1: SglDescriptor,
        direction: Direction,
        len: u64,
        caps: &SglCaps,
        mem: &'m M,
    ) -> Self {
        let state = State::Start { sgl1 };
        Self::with_state(state, SglRole::Data, direction, len, caps, mem)
    }

    /// A walker for a metadata transfer of `len` bytes described by an SGL whose first
    /// descriptor sits in the one-descriptor segment at `mptr` (PSDT 10b). Needs MSDS (SGLS
    /// bit 19) and a qword-aligned `mptr` (else Invalid Field in Command, from the first
    /// [`Walk::fill`]); length errors are Metadata SGL Length Invalid.
    #[inline]
    pub fn metadata(mptr: u64, direction: Direction, len: u64, caps: &SglCaps, mem: &'m M) -> Self {
        let state = State::MetadataStart { mptr };
        Self::with_state(state, SglRole::Metadata, direction, len, caps, mem)
    }

    /// The same walk with every descriptor through the general path: for tests that check the
    /// fast path agrees with it. Not part of the API.
    #[doc(hidden)]
    pub fn without_fast_path(mut self) -> Self {
        self.fast_path = false;
        self
    }

    /// Every piece is out: later calls write nothing.
    #[inline(always)]
    fn is_over(&self) -> bool {
        matches!(self.state, State::Done) && self.run.len == 0
    }

    /// [`Walk::fill`] past its checks for an empty `out` and a walk that is over. Out of line,
    /// so that `fill`, and the iterator's `next` around it, stay small enough to inline into
    /// the caller's loop. SGL1 a plain Data Block that is the whole transfer, the most common
    /// SGL of all, is answered here with the fast path's test alone ([`Walk::sole_piece`]);
    /// everything else goes on to [`SglWalker::advance_general`], whose set-up it does not pay.
    #[inline(never)]
    fn advance(&mut self, out: &mut [Piece]) -> Result<Progress, WalkError> {
        if let Some(slot) = out.first_mut() {
            if let Some(whole) = self.sole_piece() {
                *slot = whole;
                return Ok(Progress {
                    written: 1,
                    done: true,
                });
            }
        }
        self.advance_general(out)
    }

    /// [`SglWalker::advance`] by the general path; a failure anywhere ends the walk here.
    #[inline(never)]
    fn advance_general(&mut self, out: &mut [Piece]) -> Result<Progress, WalkError> {
        let walked = self.walk(out);
        walked.map_err(|e| self.fail(e))
    }

    /// A walk that failed yields nothing more.
    #[cold]
    fn fail(&mut self, e: WalkError) -> WalkError {
        self.state = State::Done;
        self.run = Flat::NONE;
        e
    }

    /// The walk, from wherever it is.
    #[inline(always)]
    fn walk(&mut self, out: &mut [Piece]) -> Result<Progress, WalkError> {
        match self.state {
            State::Start { sgl1 } => self.start(sgl1)?,
            State::MetadataStart { mptr } => self.start_metadata(mptr)?,
            State::InSegment { .. } | State::Done => {}
        }
        let mut written = 0;
        if matches!(self.state, State::InSegment { .. }) {
            written = self.walk_segments(out)?;
        }
        if matches!(self.state, State::Done) && self.run.len != 0 {
            if let Some(slot) = out.get_mut(written) {
                *slot = core::mem::replace(&mut self.run, Flat::NONE).segment();
                written = written.wrapping_add(1);
            }
        }
        Ok(Progress {
            written,
            done: self.is_over(),
        })
    }
}

impl<M: DmaMemory + ?Sized> Walk for SglWalker<'_, M> {
    type Error = WalkError;

    #[inline]
    fn fill(&mut self, out: &mut [Piece]) -> Result<Progress, WalkError> {
        if out.is_empty() {
            return Ok(Progress {
                written: 0,
                done: self.is_over(),
            });
        }
        if self.is_over() {
            return Ok(Progress::FINISHED);
        }
        self.advance(out)
    }

    #[inline]
    fn sole_piece(&mut self) -> Option<Piece> {
        let State::Start { sgl1 } = self.state else {
            return None;
        };
        if !(self.fast_path && self.caps.supported() && self.transfer != 0) {
            return None;
        }
        let whole = self.take_whole(&sgl1)?;
        self.state = State::Done;
        Some(Piece::Data(whole))
    }
}

impl<'m, M: DmaMemory + ?Sized> IntoIterator for SglWalker<'m, M> {
    type Item = Result<Piece, WalkError>;
    type IntoIter = Pieces<Self>;

    fn into_iter(self) -> Pieces<Self> {
        self.pieces()
    }
}

/// Check a contiguous metadata buffer named by MPTR (PSDT 00b or 01b) and return it.
///
/// MPTR must be dword aligned, except that with SGL data (`sgl_data`, PSDT 01b) a controller
/// reporting byte-aligned contiguous metadata (SGLS bit 17) accepts any address; a misaligned
/// MPTR is Invalid Field in Command. A buffer running past 2^64 is Metadata SGL Length Invalid,
/// as a metadata SGL data block would be. `len` is the metadata the command transfers.
pub fn contiguous_metadata(
    mptr: u64,
    len: u64,
    sgl_data: bool,
    caps: &SglCaps,
) -> Result<Extent, WalkError> {
    let align: u64 = if sgl_data && caps.has(Capability::ByteAlignedMetadata) {
        1
    } else {
        4
    };
    if mptr & align.wrapping_sub(1) != 0 {
        return Err(WalkError::MetadataMisaligned { mptr, align });
    }
    let buffer = Extent::new(mptr, len);
    if !buffer.fits_address_space() {
        return Err(WalkError::AddressOverflow {
            at: DescriptorAt::Mptr,
            addr: mptr,
            len,
            role: SglRole::Metadata,
        });
    }
    Ok(buffer)
}

impl WalkLimits {
    /// The most descriptor bytes one walk under these limits reads:
    /// `16 * (max_descriptors + max_segments)`, plus 16 for a walk that starts at MPTR.
    pub const fn max_bytes_read(&self, from_mptr: bool) -> u64 {
        let descriptors = (self.max_descriptors as u64).saturating_add(self.max_segments as u64);
        descriptors
            .saturating_add(from_mptr as u64)
            .saturating_mul(DESCRIPTOR_BYTES)
    }

    /// The most memory reads one walk under these limits makes when every read finds room for
    /// [`BATCH_DESCRIPTORS`] pieces in `out` (as when the walk's pieces, and that many more,
    /// fit `out`):
    /// `max_segments + ceil((max_descriptors + max_segments) / BATCH_DESCRIPTORS)`, plus one
    /// for a walk that starts at MPTR. With less room a walk reads fewer descriptors at a
    /// time, never fewer than one: `max_bytes_read / 16` reads at most.
    pub const fn max_reads(&self, from_mptr: bool) -> u64 {
        let descriptors = (self.max_descriptors as u64).saturating_add(self.max_segments as u64);
        (self.max_segments as u64)
            .saturating_add(descriptors.div_ceil(BATCH_DESCRIPTORS as u64))
            .saturating_add(from_mptr as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::SliceMemory;

    /// A walker stays a few cache lines of plain state, cheap to make and to move.
    #[test]
    fn walker_is_small() {
        let size = size_of::<SglWalker<'_, SliceMemory<'_>>>();
        assert!(size <= 128, "{size} bytes");
        assert!(size_of::<State>() <= 24);
    }
}
