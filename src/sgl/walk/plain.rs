//! The one fast path: runs of plain Data Blocks in a segment.
//!
//! Its invariant: a *plain* Data Block — identifier byte 0 (Data Block, subtype Address), a
//! length that is not zero and not more than what remains of the transfer, address and length
//! granular, ending below 2^64, within MSDBD, and not the final descriptor of a segment that
//! must end with a pointer — passes every rule, and the general path would do exactly this
//! with it: count it toward MSDBD, take all its bytes from what remains, and merge it into the
//! run or end the run with it. Anything else is left to the general path, which applies every
//! rule in order.
//!
//! SGL1 that is a plain Data Block of exactly the transfer, the most common SGL of all, is the
//! whole walk by the same invariant ([`SglWalker::take_whole`]).
//!
//! Most SGLs a driver builds are such runs (a Last Segment of data blocks, or long segments of
//! them), and this loop keeps its state in registers where the general path goes through the
//! typed descriptor and the rules one by one. `tests/sgl_props.rs` walks random SGLs, valid
//! and corrupt, with and without this path and compares pieces and status.

use super::SglWalker;
use crate::extent::Extent;
use crate::memory::DmaMemory;
use crate::piece::{Flat, Kind, Piece};
use crate::spec::SglDescriptor;

impl<M: DmaMemory + ?Sized> SglWalker<'_, M> {
    /// Take the plain Data Blocks at the front of `descriptors` (each of which may be a data
    /// descriptor, as far as its place in the segment goes), writing the pieces they finish to
    /// `out` from `*written` on; how many were taken. The caller makes sure `out` has room for
    /// one piece per descriptor. Out of line, so that its loop has the registers to itself.
    #[inline(never)]
    pub(super) fn take_plain(
        &mut self,
        descriptors: &[SglDescriptor],
        out: &mut [Piece],
        written: &mut usize,
    ) -> u32 {
        let granule = if self.caps.dword_granular() { 3 } else { 0 };
        // MSDBD may stop the run before the end of the batch.
        let blocks_left = match self.caps.msdbd() {
            Some(limit) => u32::from(limit).saturating_sub(self.data_blocks),
            None => u32::MAX,
        };
        let limit = usize::try_from(blocks_left).unwrap_or(usize::MAX);
        let descriptors = descriptors.get(..limit).unwrap_or(descriptors);
        let Some((first, rest)) = descriptors.split_first() else {
            return 0;
        };
        let Some((addr, len, end)) = plain(first, self.remaining, granule) else {
            return 0;
        };
        let mut w = *written;
        // The first block continues the run, or ends it: then the run is written out, in
        // the general form unless it is data that this path may extend.
        let run = self.run;
        let run_end = run.start.checked_add(run.len);
        let mut start = run.start;
        if run.len == 0 {
            start = addr;
        } else if run.kind != Kind::Data || run_end != Some(addr) {
            let Some(slot) = out.get_mut(w) else {
                return 0;
            };
            *slot = run.segment();
            w = w.wrapping_add(1);
            start = addr;
        }
        // `len` is at most what remains of the transfer, so `remaining` never wraps, and every
        // block (so the run) ends below 2^64.
        let mut remaining = self.remaining.wrapping_sub(len);
        let mut stop = end;
        // `todo` is the descriptors not yet taken, `slots` the pieces of `out` not yet written.
        let mut todo = rest.iter();
        let out_len = out.len();
        let mut slots = out.get_mut(w..).unwrap_or_default().iter_mut();
        loop {
            let here = todo.clone();
            let Some((addr, len, end)) = todo.next().and_then(|raw| plain(raw, remaining, granule))
            else {
                todo = here;
                break;
            };
            if addr != stop {
                let Some(slot) = slots.next() else {
                    todo = here;
                    break;
                };
                *slot = Piece::Data(Extent::new(start, stop.wrapping_sub(start)));
                start = addr;
            }
            remaining = remaining.wrapping_sub(len);
            stop = end;
        }
        *written = out_len.wrapping_sub(slots.into_slice().len());
        // The first block, and those of `rest` before `todo`: at most a batch.
        let taken = u32::try_from(descriptors.len().wrapping_sub(todo.len())).unwrap_or(0);
        self.remaining = remaining;
        // At most `blocks_left`: within MSDBD, or the count of one batch.
        self.data_blocks = self.data_blocks.saturating_add(taken);
        self.run = Flat {
            kind: Kind::Data,
            key: 0,
            start,
            len: stop.wrapping_sub(start),
        };
        taken
    }
}

impl<M: DmaMemory + ?Sized> SglWalker<'_, M> {
    /// Take SGL1 when it is a plain Data Block of exactly the transfer, within the descriptor
    /// budget (MSDBD allows at least one data block): the whole walk, as the general path
    /// would find it. Whether it was.
    #[inline(always)]
    pub(super) fn take_whole(&mut self, sgl1: &SglDescriptor) -> bool {
        let granule = if self.caps.dword_granular() { 3 } else { 0 };
        let Some((addr, len, _)) = plain(sgl1, self.transfer, granule) else {
            return false;
        };
        // A shorter block is the general path's: Data SGL Length Invalid.
        if len != self.transfer || self.caps.limits().max_descriptors == 0 {
            return false;
        }
        (self.descriptors, self.data_blocks, self.remaining) = (1, 1, 0);
        self.run = Flat {
            kind: Kind::Data,
            key: 0,
            start: addr,
            len,
        };
        true
    }
}

/// A plain Data Block's address, length and end, or `None` for any other descriptor: one
/// whose identifier is not 0 (Data Block, subtype Address), whose length is 0 or more than
/// `remaining`, that has a bit of `granule` set in its address or length, or that ends at or
/// past 2^64 (the general path takes one that ends exactly there).
#[inline(always)]
fn plain(raw: &SglDescriptor, remaining: u64, granule: u64) -> Option<(u64, u64, u64)> {
    let (addr, len) = (raw.address(), u64::from(raw.length()));
    let end = addr.checked_add(len)?;
    // `len - 1 >= remaining` is `len == 0 || len > remaining` in one comparison.
    if raw.identifier() != 0 || len.wrapping_sub(1) >= remaining || (addr | len) & granule != 0 {
        return None;
    }
    Some((addr, len, end))
}
