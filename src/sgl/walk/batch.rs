//! Reading segments: descriptors in batches into a buffer on the stack of the call that
//! consumes them, each through every rule ([`SglWalker::take`] and [`SglWalker::enter`]).

use zerocopy::IntoBytes;

use super::rules::{fetch_fault, undefined};
use super::{SglWalker, State, BATCH, BATCH_DESCRIPTORS};
use crate::memory::DmaMemory;
use crate::piece::Piece;
use crate::sgl::caps::Capability;
use crate::sgl::descriptor::{Descriptor, DESCRIPTOR_BYTES};
use crate::sgl::error::{DescriptorAt, WalkError};
use crate::spec::SglDescriptor;

/// The buffer a read of this many descriptors or fewer uses (256 bytes): the iterator form
/// and `validate` read up to 16 descriptors at a time.
const SHORT_BATCH: usize = 16;

impl<M: DmaMemory + ?Sized> SglWalker<'_, M> {
    /// Walk the current segment and those it chains to, writing finished pieces to `out`
    /// from the front, until `out` is full or the walk leaves its segments (it is over, or a
    /// rule broke); the count written.
    pub(super) fn walk_segments(&mut self, out: &mut [Piece]) -> Result<usize, WalkError> {
        let mut written = 0usize;
        while let State::InSegment { left, .. } = self.state {
            if self.remaining == 0 && self.caps.has(Capability::Lldts) {
                // The transfer is complete; descriptors not needed for it need not be checked.
                self.state = State::Done;
                break;
            }
            if left == 0 {
                // Only a last segment runs out without a pointer onward.
                self.state = State::Done;
                self.check_complete()?;
                break;
            }
            let room = out.len().saturating_sub(written);
            if room == 0 {
                break;
            }
            written = self.read_batch(out, written, room)?;
        }
        Ok(written)
    }

    /// Read the next descriptors of the current segment (which has some left) in one memory
    /// read and take each through the rules, writing the pieces they finish to `out` from
    /// `written` on; the new count written.
    ///
    /// The read takes at most `room` descriptors, since each ends at most one piece, so
    /// everything read is consumed here, and at most [`BATCH_DESCRIPTORS`]. Where a fault is
    /// met is fixed by the batches, the segment's descriptors in runs of
    /// [`BATCH_DESCRIPTORS`] from its first: a batch that cannot be read whole ends the walk
    /// when the walk reaches it, before any of its descriptors is checked, however the reads
    /// fall. So a read that begins a batch but is shorter than it probes the whole batch
    /// first, and a read that runs into the next batch does so only when that batch can be
    /// read whole (else it stops at the batch's start, and the walk meets the fault there).
    #[inline]
    fn read_batch(
        &mut self,
        out: &mut [Piece],
        written: usize,
        room: usize,
    ) -> Result<usize, WalkError> {
        let State::InSegment {
            addr, left, index, ..
        } = self.state
        else {
            return Ok(written);
        };
        let mut n = BATCH.min(left).min(u32::try_from(room).unwrap_or(u32::MAX));
        // Descriptors from here to the start of the next batch (the offset is below BATCH).
        let to_boundary = BATCH.wrapping_sub(index % BATCH);
        if to_boundary == BATCH {
            let whole = BATCH.min(left);
            if n < whole {
                // The read begins a batch it does not cover: check the whole batch can be read,
                // as a full read would have.
                self.probe(addr, whole)?;
            }
        } else if n > to_boundary {
            // The read runs into the next batch (`n <= BATCH`, so into one at most): only if
            // that batch can be read whole.
            let next = addr.wrapping_add(u64::from(to_boundary).wrapping_mul(DESCRIPTOR_BYTES));
            // `left >= n > to_boundary`.
            let whole = BATCH.min(left.wrapping_sub(to_boundary));
            if self.probe(next, whole).is_err() {
                n = to_boundary;
            }
        }
        // The smallest buffer that holds the read: zeroing a larger one would cost a short
        // read more than the read itself.
        let n = n as usize;
        let (mut short, mut full);
        let buffer: &mut [SglDescriptor] = if n <= SHORT_BATCH {
            short = [SglDescriptor::default(); SHORT_BATCH];
            &mut short
        } else {
            full = [SglDescriptor::default(); BATCH_DESCRIPTORS];
            &mut full
        };
        self.take_batch(buffer.get_mut(..n).unwrap_or_default(), out, written)
    }

    /// Whether `count` descriptors at `addr` can be read; a fault is a Data Transfer Error for
    /// the whole range, as a read of it would report.
    fn probe(&self, addr: u64, count: u32) -> Result<(), WalkError> {
        let bytes = u64::from(count).wrapping_mul(DESCRIPTOR_BYTES);
        self.mem.probe(addr, bytes).map_err(fetch_fault)
    }

    /// Read `batch.len()` descriptors of the current segment into `batch` and take each
    /// through the rules; [`SglWalker::read_batch`] says how many.
    #[inline(always)]
    fn take_batch(
        &mut self,
        batch: &mut [SglDescriptor],
        out: &mut [Piece],
        mut written: usize,
    ) -> Result<usize, WalkError> {
        let State::InSegment {
            addr,
            left,
            index,
            last,
        } = self.state
        else {
            return Ok(written);
        };
        self.read(addr, batch.as_mut_bytes())?;
        // At most BATCH_DESCRIPTORS.
        let n = u32::try_from(batch.len()).unwrap_or(0);
        let lldts = self.caps.has(Capability::Lldts);
        let segment = self.segments;
        // Where descriptor `k` of the batch is (the segment ends below 2^64).
        let at = |k: u32| DescriptorAt::Segment {
            segment,
            index: index.wrapping_add(k),
            addr: addr.wrapping_add(u64::from(k).wrapping_mul(DESCRIPTOR_BYTES)),
        };
        // The descriptors of this batch that may be data as far as their place goes: all but
        // the final one of a segment that must end with a pointer (`n <= left`).
        let may_be_data = if last { n } else { n.min(left.wrapping_sub(1)) };
        let mut k = 0u32;
        loop {
            if self.fast_path && k < may_be_data {
                let plain = batch.get(k as usize..may_be_data as usize);
                let taken = self.take_plain(plain.unwrap_or_default(), out, &mut written);
                k = k.wrapping_add(taken);
            }
            // The general path, for the descriptor the fast path stopped at.
            let Some(raw) = batch.get(k as usize) else {
                break;
            };
            if self.remaining == 0 && lldts {
                // The transfer is complete: the rest is not needed, nor checked.
                self.state = State::Done;
                return Ok(written);
            }
            let final_in_segment = left.wrapping_sub(k) == 1;
            match Descriptor::parse(raw) {
                Err(_) => return Err(undefined(at(k), raw)),
                Ok(Descriptor::Pointer(pointer)) => {
                    if !final_in_segment {
                        return Err(WalkError::PointerNotLast { at: at(k) });
                    }
                    if last {
                        return Err(WalkError::PointerInLastSegment { at: at(k) });
                    }
                    // The segment's final descriptor is its batch's last: on to the next.
                    self.enter(pointer, at(k))?;
                    return Ok(written);
                }
                Ok(Descriptor::Data(data)) => {
                    if final_in_segment && !last {
                        return Err(WalkError::SegmentWithoutPointer { at: at(k) });
                    }
                    if let Some(piece) = self.take(data, raw.identifier(), at(k))? {
                        if let Some(done) = self.run.push(piece) {
                            if let Some(slot) = out.get_mut(written) {
                                *slot = done.segment();
                            }
                            written = written.wrapping_add(1);
                        }
                    }
                }
            }
            k = k.wrapping_add(1);
        }
        // A segment holds fewer than 2^28 descriptors and ends below 2^64.
        self.state = State::InSegment {
            addr: addr.wrapping_add(u64::from(n).wrapping_mul(DESCRIPTOR_BYTES)),
            left: left.wrapping_sub(n),
            index: index.wrapping_add(n),
            last,
        };
        Ok(written)
    }
}
