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
    /// everything read is consumed here; and it stops at the end of its batch (the segment's
    /// descriptors in runs of [`BATCH_DESCRIPTORS`] from its first), so that a fault in the
    /// next batch is met only when that batch is reached.
    #[inline(never)]
    fn read_batch(
        &mut self,
        out: &mut [Piece],
        mut written: usize,
        room: usize,
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
        let batch_offset = index % BATCH;
        // The offset is below BATCH.
        let batch_left = BATCH.wrapping_sub(batch_offset).min(left);
        let n = batch_left.min(u32::try_from(room).unwrap_or(u32::MAX));
        if n < batch_left && batch_offset == 0 {
            // Less room than the batch: check the whole batch can be read, so that a fault in
            // it ends the walk here, as a full read would, and not after some of its
            // descriptors were checked.
            let bytes = u64::from(batch_left).wrapping_mul(DESCRIPTOR_BYTES);
            self.mem.probe(addr, bytes).map_err(fetch_fault)?;
        }
        let mut buffer = [SglDescriptor::default(); BATCH_DESCRIPTORS];
        let batch = buffer.get_mut(..n as usize).unwrap_or_default();
        self.read(addr, batch.as_mut_bytes())?;
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
