//! The one fast path: runs of plain data descriptors in a segment.
//!
//! Its invariant: a *plain* descriptor passes every rule, and the general path would take it
//! exactly as this loop does: count a Data Block toward MSDBD, take all its bytes from what
//! remains of the transfer, and merge its piece into the run or end the run with it. Plain is
//!
//! * a Data Block (identifier 0: subtype Address) whose length is not zero and not more than
//!   what remains, whose address and length are granular, and that ends below 2^64; or
//! * a Bit Bucket (identifier 0x10) in a read, where the controller supports them, whose
//!   length is not zero and not more than what remains (it has no address to check);
//!
//! and, either way, within MSDBD (the loop looks at no more descriptors than MSDBD has data
//! blocks left) and not the final descriptor of a segment that must end with a pointer (the
//! caller passes only descriptors that may be data). The loop starts from a run that is empty,
//! data or a skip (the only pieces it makes) and stops at the first descriptor that is not
//! plain, which the general path then takes through every rule in order.
//!
//! SGL1 that is a plain Data Block of exactly the transfer, the most common SGL of all, is the
//! whole walk by the same invariant ([`SglWalker::take_whole`]).
//!
//! Most SGLs a driver builds are such runs (a Last Segment of data blocks, or long segments of
//! them, with bit buckets between the wanted parts of a read), and this loop keeps its state
//! in registers where the general path goes through the typed descriptor and the rules one by
//! one. `tests/sgl_props.rs` walks random SGLs, valid and corrupt, with and without this path
//! and compares pieces and status.

use super::SglWalker;
use crate::extent::Extent;
use crate::memory::DmaMemory;
use crate::piece::{Flat, Kind, Piece};
use crate::sgl::caps::Capability;
use crate::spec::SglDescriptor;
use crate::Direction;

/// The identifier byte of a Data Block with subtype Address.
const DATA_BLOCK: u8 = 0x00;
/// The identifier byte of a Bit Bucket.
const BIT_BUCKET: u8 = 0x10;

/// A plain Data Block's address, length and end, or `None`: see the [module docs](self).
#[inline(always)]
fn block(raw: &SglDescriptor, remaining: u64, granule: u64) -> Option<(u64, u64, u64)> {
    let (addr, n) = (raw.address(), u64::from(raw.length()));
    let end = addr.checked_add(n)?;
    // `n - 1 < remaining` is `0 < n <= remaining` in one comparison.
    let plain = raw.identifier() == DATA_BLOCK && n.wrapping_sub(1) < remaining;
    (plain && (addr | n) & granule == 0).then_some((addr, n, end))
}

/// A plain Bit Bucket's length (`skips`: the walk is a read and the controller takes them),
/// or `None`: see the [module docs](self).
#[inline(always)]
fn bucket(raw: &SglDescriptor, remaining: u64, skips: bool) -> Option<u64> {
    let n = u64::from(raw.length());
    (skips && raw.identifier() == BIT_BUCKET && n.wrapping_sub(1) < remaining).then_some(n)
}

/// The run `start .. stop` of `kind` (data or a skip) as a piece.
#[inline(always)]
fn run_piece(kind: Kind, start: u64, stop: u64) -> Piece {
    let len = stop.wrapping_sub(start);
    match kind {
        Kind::Skip => Piece::Skip(len),
        _ => Piece::Data(Extent::new(start, len)),
    }
}

impl<M: DmaMemory + ?Sized> SglWalker<'_, M> {
    /// Take the plain descriptors at the front of `descriptors` (each of which may be a data
    /// descriptor, as far as its place in the segment goes), writing the pieces they finish to
    /// `out` from `*written` on; how many were taken. The caller makes sure `out` has room for
    /// one piece per descriptor.
    #[inline(always)]
    pub(super) fn take_plain(
        &mut self,
        descriptors: &[SglDescriptor],
        out: &mut [Piece],
        written: &mut usize,
    ) -> u32 {
        // The run being merged, as `start .. stop`: data from `start` to `stop`, or a skip of
        // `stop` bytes (`start` 0); empty when `start == stop`.
        let run = self.run;
        let (mut kind, start, stop) = match run.kind {
            _ if run.len == 0 => (Kind::Data, 0, Some(0)),
            Kind::Data => (Kind::Data, run.start, run.start.checked_add(run.len)),
            Kind::Skip => (Kind::Skip, 0, Some(run.len)),
            // A fabrics piece: the general path ends it.
            _ => return 0,
        };
        // Data that ends at 2^64 exactly: the general path ends it too.
        let (mut start, Some(mut stop)) = (start, stop) else {
            return 0;
        };
        let granule = if self.caps.dword_granular() { 3 } else { 0 };
        let skips = self.direction == Direction::Read && self.caps.has(Capability::BitBucket);
        // MSDBD may stop the run before the end of the batch (bit buckets count toward it
        // here, to keep the loop simple; the general path takes any after that).
        let blocks_left = match self.caps.msdbd() {
            Some(limit) => u32::from(limit).saturating_sub(self.data_blocks),
            None => u32::MAX,
        };
        let limit = usize::try_from(blocks_left).unwrap_or(usize::MAX);
        let descriptors = descriptors.get(..limit).unwrap_or(descriptors);
        let mut remaining = self.remaining;
        // `todo` is the descriptors not yet taken, `slots` the pieces of `out` not yet written.
        let mut todo = descriptors.iter();
        let out_len = out.len();
        let mut slots = out.get_mut(*written..).unwrap_or_default().iter_mut();
        let mut buckets = 0u32;
        // Runs of data blocks, each followed by a run of bit buckets, until a descriptor that
        // is neither.
        'runs: loop {
            if let Some((addr, n, end)) = todo
                .as_slice()
                .first()
                .and_then(|raw| block(raw, remaining, granule))
            {
                // The first block continues the run, or ends it and starts a data run.
                if kind != Kind::Data || addr != stop {
                    if start != stop {
                        let Some(slot) = slots.next() else {
                            break 'runs;
                        };
                        *slot = run_piece(kind, start, stop);
                    }
                    (kind, start) = (Kind::Data, addr);
                }
                (stop, remaining) = (end, remaining.wrapping_sub(n));
                todo.next();
                // The rest extend the data run, or end it and start the next one.
                while let Some((addr, n, end)) = todo
                    .as_slice()
                    .first()
                    .and_then(|raw| block(raw, remaining, granule))
                {
                    if addr != stop {
                        let Some(slot) = slots.next() else {
                            break 'runs;
                        };
                        *slot = Piece::Data(Extent::new(start, stop.wrapping_sub(start)));
                        start = addr;
                    }
                    // `n` is at most what remains, so `remaining` never wraps.
                    (stop, remaining) = (end, remaining.wrapping_sub(n));
                    todo.next();
                }
            }
            let before = buckets;
            while let Some(n) = todo
                .as_slice()
                .first()
                .and_then(|raw| bucket(raw, remaining, skips))
            {
                // A skip continues a skip run (a run holds bytes of the transfer, so its length
                // stays below 2^64), or ends the run and starts one.
                if kind == Kind::Skip {
                    stop = stop.wrapping_add(n);
                } else {
                    if start != stop {
                        let Some(slot) = slots.next() else {
                            break 'runs;
                        };
                        *slot = run_piece(kind, start, stop);
                    }
                    (kind, start, stop) = (Kind::Skip, 0, n);
                }
                remaining = remaining.wrapping_sub(n);
                buckets = buckets.wrapping_add(1);
                todo.next();
            }
            if buckets == before {
                // Neither a plain block nor a plain bucket is next.
                break;
            }
        }
        *written = out_len.wrapping_sub(slots.into_slice().len());
        // The descriptors before `todo`: at most a batch.
        let taken = u32::try_from(descriptors.len().wrapping_sub(todo.len())).unwrap_or(0);
        self.remaining = remaining;
        // At most `blocks_left`: within MSDBD, or the count of one batch.
        let blocks = taken.wrapping_sub(buckets);
        self.data_blocks = self.data_blocks.saturating_add(blocks);
        self.run = Flat {
            kind,
            key: 0,
            start,
            len: stop.wrapping_sub(start),
        };
        taken
    }

    /// Take SGL1 when it is a plain Data Block of exactly the transfer, within the descriptor
    /// budget (MSDBD allows at least one data block): the whole walk, as the general path
    /// would find it: its extent, or `None` for the general path.
    #[inline(always)]
    pub(super) fn take_whole(&mut self, sgl1: &SglDescriptor) -> Option<Extent> {
        let granule = if self.caps.dword_granular() { 3 } else { 0 };
        let (addr, len) = (sgl1.address(), u64::from(sgl1.length()));
        // A shorter block is the general path's: Data SGL Length Invalid.
        if sgl1.identifier() != DATA_BLOCK
            || len != self.transfer
            || (addr | len) & granule != 0
            || addr.checked_add(len).is_none()
            || self.caps.limits().max_descriptors == 0
        {
            return None;
        }
        (self.descriptors, self.data_blocks, self.remaining) = (1, 1, 0);
        // Handed back rather than kept as the run: the caller writes it out at once, and a
        // value stored and read straight back as a whole would wait on the store buffer.
        Some(Extent::new(addr, len))
    }
}
