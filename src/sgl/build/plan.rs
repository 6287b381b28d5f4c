//! Planning: check pieces against the SGL rules and the controller's capabilities, merge
//! physically adjacent ones into runs, and count what the layout needs ([`SglPlan`]). Nothing
//! is written here, so a refused request leaves segment memory untouched.
//!
//! [`SglBuilder::plan`] tries the cheapest pass first: `scan_distinct`, for pieces that each
//! make a descriptor of their own, then `scan`, for pieces that merge, both branch-light and
//! compiled once per granularity. Only pieces `scan` refuses reach `plan_general`, which
//! checks every rule in piece order and names the first one broken. Every pass ends in
//! `conclude`, the rules on the whole. `plan_metadata` adds what a metadata SGL needs of the
//! MPTR segment.

use super::chunk::max_chunk;
use super::{SegmentBuf, SglBuilder};
use crate::piece::{Flat, Kind, Piece};
use crate::sgl::caps::Capability;
use crate::sgl::descriptor::DESCRIPTOR_BYTES;
use crate::sgl::error::BuildError;
use crate::Direction;

/// What a list of pieces needs as an SGL: the result of [`SglBuilder::plan`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SglPlan {
    pub(super) len: u64,
    pub(super) transfer: u64,
    pub(super) runs: u64,
    pub(super) descriptors: u64,
    pub(super) data_blocks: u64,
    /// Whether SGL1 alone carries the transfer (one descriptor in all). The descriptor itself
    /// is not kept here, so that a plan, and the layout that holds one, stay small.
    pub(super) inline: bool,
    /// SDT (0 for no recommendation).
    pub(super) sdt: u8,
}

impl SglPlan {
    /// Bytes the pieces describe (bit buckets included).
    pub const fn len(&self) -> u64 {
        self.len
    }

    /// Always false: a plan describes at least one byte.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes the command transfers (equal to [`SglPlan::len`] unless the builder was given a
    /// shorter transfer length and the controller supports LLDTS).
    pub const fn transfer_len(&self) -> u64 {
        self.transfer
    }

    /// Runs after merging physically adjacent pieces.
    pub const fn runs(&self) -> u64 {
        self.runs
    }

    /// Data descriptors (data blocks of every kind and bit buckets) the layout holds.
    pub const fn descriptors(&self) -> u64 {
        self.descriptors
    }

    /// Data block descriptors (what MSDBD counts: every data descriptor but bit buckets).
    pub const fn data_blocks(&self) -> u64 {
        self.data_blocks
    }

    /// True when SGL1 alone describes the transfer (one descriptor, no segment memory).
    pub const fn is_inline(&self) -> bool {
        self.inline
    }

    /// True when the layout holds more data descriptors than the controller's SDT recommends.
    /// Legal, but the controller says it may be slow; [`dptr`](crate::dptr) policies can take
    /// it into account.
    pub const fn exceeds_sdt(&self) -> bool {
        self.sdt != 0 && self.descriptors > self.sdt as u64
    }

    /// How many segment buffers of `capacity` descriptors each the layout needs: none when
    /// inline, one when the descriptors fit, otherwise
    /// `1 + ceil((descriptors - capacity) / (capacity - 1))` (every buffer that continues
    /// spends a slot on the pointer onward). `u64::MAX` when `capacity < 2` cannot chain.
    pub const fn segments_needed(&self, capacity: u64) -> u64 {
        if self.inline {
            return 0;
        }
        if self.descriptors <= capacity {
            return 1;
        }
        if capacity < 2 {
            return u64::MAX;
        }
        let beyond = self.descriptors.saturating_sub(capacity);
        1u64.saturating_add(beyond.div_ceil(capacity.saturating_sub(1)))
    }

    /// Bytes of segment memory the layout writes (and a controller fetches), with segment
    /// buffers of `capacity` descriptors: every data descriptor and every pointer onward,
    /// 16 bytes each. Zero when inline.
    pub const fn footprint(&self, capacity: u64) -> u64 {
        let segments = self.segments_needed(capacity);
        if segments == 0 {
            return 0;
        }
        self.descriptors
            .saturating_add(segments.saturating_sub(1))
            .saturating_mul(DESCRIPTOR_BYTES)
    }
}

impl SglBuilder {
    /// Check the pieces against the SGL rules and the controller's capabilities, and count
    /// what the layout needs.
    ///
    /// Accepts `&[Extent]`, `&[Piece]`, arrays, or any cloneable iterator of either.
    /// Empty pieces are skipped (their `index` still counts in errors). Physically adjacent
    /// pieces merge into one run; a run longer than one descriptor can carry (4 GiB - 1 bytes,
    /// 16 MiB - 1 for keyed data) takes several descriptors.
    ///
    /// The rules: SGLs are supported at all; each piece's kind is supported (bit buckets,
    /// keyed, transport and offset-addressed data each need their SGLS bit) and a bit bucket
    /// is only in a read; no piece runs past 2^64 (or past the in-capsule data); in
    /// dword-granular mode every data run starts and ends on a dword boundary; the total is
    /// non-zero, within the maximum transfer, and covers the transfer length (exceeding it
    /// only with LLDTS); data blocks number at most MSDBD.
    pub fn plan<I>(&self, pieces: I) -> Result<SglPlan, BuildError>
    where
        I: IntoIterator + Clone,
        I::Item: Into<Piece>,
    {
        self.plan_shaped(pieces).map(|(plan, _)| plan)
    }

    /// [`SglBuilder::plan`], and whether every piece became a descriptor of its own (no empty
    /// pieces, no merges), so that writing need not merge again.
    // Inline: in `build` the plan then stays in registers rather than passing through memory.
    #[inline(always)]
    pub(super) fn plan_shaped<I>(&self, pieces: I) -> Result<(SglPlan, bool), BuildError>
    where
        I: IntoIterator + Clone,
        I::Item: Into<Piece>,
    {
        if !self.caps.supported() {
            return Err(BuildError::NotSupported {
                capability: Capability::Sgl,
            });
        }
        // Compiled once per granularity, so that its masks are constants. The common case
        // first: pieces that make a descriptor each; then pieces that merge.
        let distinct = if self.caps.dword_granular() {
            self.scan_distinct::<true, I>(pieces.clone())
        } else {
            self.scan_distinct::<false, I>(pieces.clone())
        };
        // Each tally is read where it was returned: merging the two into one value would copy
        // it as a block right after the scan wrote it field by field, and the processor
        // cannot forward those stores to the copy (it waits for them to reach the cache).
        if let Some(tally) = &distinct {
            return Ok((self.conclude(self.tallied(tally))?, true));
        }
        let scanned = if self.caps.dword_granular() {
            self.scan::<true, I>(pieces.clone())
        } else {
            self.scan::<false, I>(pieces.clone())
        };
        if scanned.broken {
            return Ok((self.plan_general(pieces)?, false));
        }
        Ok((self.conclude(self.tallied(&scanned))?, scanned.one_each))
    }

    /// The plan for a tally that breaks no rule: every run takes one descriptor.
    #[inline(always)]
    fn tallied(&self, tally: &Tally) -> SglPlan {
        SglPlan {
            len: tally.len,
            transfer: 0,
            runs: tally.runs,
            descriptors: tally.runs,
            data_blocks: tally.runs.wrapping_sub(tally.skip_runs),
            inline: false,
            sdt: self.caps.sgls().sdt(),
        }
    }

    /// The quickest accept path of [`SglBuilder::plan`]: the tally for pieces that each make
    /// a descriptor of their own, or `None` (then [`SglBuilder::scan`] takes them). It takes
    /// plain pieces (data, and bit buckets where they are allowed) that are non-empty, fit
    /// one descriptor, end below 2^64, continue no run (data that starts where the data
    /// before it ends, a bit bucket after a bit bucket) and, for data, keep the granularity;
    /// and it gives up at the first other piece, or when the total passes 2^64 - 1.
    // Out of line: the loop gets the registers to itself.
    #[inline(never)]
    fn scan_distinct<const GRANULAR: bool, I>(&self, pieces: I) -> Option<Tally>
    where
        I: IntoIterator,
        I::Item: Into<Piece>,
    {
        let max = max_chunk(Kind::Data, GRANULAR); // the same for bit buckets
        let skips = self.direction == Direction::Read && self.caps.has(Capability::BitBucket);
        let (mut len, mut count, mut skip_count) = (0u64, 0u64, 0u64);
        // Address bits of every data piece and its length, for the granularity check.
        let mut bits = 0u64;
        // The previous piece: its kind and end. Before the first piece, a placeholder that
        // nothing continues (no piece taken here starts at 2^64 - 1: each ends below).
        let (mut kind, mut end) = (Kind::Data, u64::MAX);
        for item in pieces {
            let piece = Flat::of(&item.into());
            let is_skip = piece.kind == Kind::Skip;
            if !(piece.kind == Kind::Data || (is_skip && skips))
                // `len - 1 >= max` is `len == 0 || len > max` in one comparison.
                || piece.len.wrapping_sub(1) >= max
                || (piece.kind == kind && (is_skip || piece.start == end))
            {
                return None;
            }
            let piece_end = piece.start.checked_add(piece.len)?;
            len = len.checked_add(piece.len)?;
            if !is_skip {
                bits |= piece.start | piece.len;
            }
            count = count.wrapping_add(1);
            skip_count = skip_count.wrapping_add(u64::from(is_skip));
            (kind, end) = (piece.kind, piece_end);
        }
        if GRANULAR && bits & 3 != 0 {
            return None;
        }
        Some(Tally {
            len,
            runs: count,
            skip_runs: skip_count,
            one_each: true,
            broken: false,
        })
    }

    /// The accept path of [`SglBuilder::plan`], in one branch-light pass: the tally for
    /// pieces that break no rule, or a broken one (then [`SglBuilder::plan_general`] finds
    /// which rule breaks). It takes plain pieces (data, and bit buckets where they are
    /// allowed) that end below 2^64 and, for data, keep the granularity on their own, merged
    /// into runs that each fit one descriptor. Every check sets a flag that is looked at once,
    /// at the end, so the loop branches only to skip empty pieces. It refuses a little more
    /// than the rules do (a granular run made of unaligned pieces, a run longer than one
    /// descriptor, a piece that ends exactly at 2^64); the general planner accepts those. The
    /// totals are checked by [`SglBuilder::conclude`] either way.
    // Out of line: the loop gets the registers to itself.
    #[inline(never)]
    fn scan<const GRANULAR: bool, I>(&self, pieces: I) -> Tally
    where
        I: IntoIterator,
        I::Item: Into<Piece>,
    {
        let granule = if GRANULAR { 3 } else { 0 };
        let max = max_chunk(Kind::Data, GRANULAR); // the same for bit buckets
        let skips = self.direction == Direction::Read && self.caps.has(Capability::BitBucket);
        // Runs started (the pending one included), and how many of them are bit buckets.
        let (mut len, mut started, mut skips_started) = (0u64, 0u64, 0u64);
        // The pending run: `kind` bytes from `start` to `end`. Before the first piece, a
        // placeholder that nothing continues: the scan takes no piece that starts at 2^64 - 1
        // (every piece it takes ends below 2^64; the general planner takes those that end
        // exactly there).
        let (mut kind, mut start, mut end) = (Kind::Data, 0u64, u64::MAX);
        let mut broken = false;
        let mut count = 0u64;
        for item in pieces {
            count = count.wrapping_add(1);
            let piece = Flat::of(&item.into());
            if piece.len == 0 {
                continue;
            }
            let is_data = piece.kind == Kind::Data;
            let is_skip = piece.kind == Kind::Skip;
            let (total, carry) = len.overflowing_add(piece.len);
            let (piece_end, wrapped) = piece.start.overflowing_add(piece.len);
            let coarse = (piece.start | piece.len) & if is_data { granule } else { 0 } != 0;
            // The merge rule of `Flat::extend` for these two kinds (their keys are 0): a skip
            // continues a skip, data continues data that ends where it starts.
            let merges = (kind == piece.kind) & (is_skip | (piece.start == end));
            start = if merges { start } else { piece.start };
            // Data that continues the run ends the run where the piece ends; skips (which sit
            // at 0) add up.
            end = if merges & is_skip {
                end.wrapping_add(piece.len)
            } else {
                piece_end
            };
            let too_long = end.wrapping_sub(start) > max;
            broken |= !(is_data | (is_skip & skips)) | carry | wrapped | coarse | too_long;
            len = total;
            started = started.wrapping_add(u64::from(!merges));
            skips_started = skips_started.wrapping_add(u64::from(!merges & is_skip));
            kind = piece.kind;
        }
        Tally {
            len,
            runs: started,
            skip_runs: skips_started,
            one_each: count == started,
            broken,
        }
    }

    /// Every rule, piece by piece in order: the plan for pieces the scan refused, or the
    /// first rule they break.
    #[cold]
    #[inline(never)]
    fn plan_general<I>(&self, pieces: I) -> Result<SglPlan, BuildError>
    where
        I: IntoIterator,
        I::Item: Into<Piece>,
    {
        let mut plan = SglPlan {
            len: 0,
            transfer: 0,
            runs: 0,
            descriptors: 0,
            data_blocks: 0,
            inline: false,
            sdt: self.caps.sgls().sdt(),
        };
        // The run being merged ([`Flat::NONE`] before the first piece), and the index of its
        // first piece.
        let (mut pending, mut first) = (Flat::NONE, 0);
        for (index, item) in pieces.into_iter().enumerate() {
            let piece = Flat::of(&item.into());
            if piece.len == 0 {
                continue;
            }
            self.check_piece(index, &piece)?;
            plan.len = plan
                .len
                .checked_add(piece.len)
                .ok_or(BuildError::TransferTooLong {
                    len: u64::MAX,
                    max: self.max_transfer.unwrap_or(u64::MAX),
                })?;
            let first_piece = pending.len == 0;
            if let Some(run) = pending.push(piece) {
                self.close_run(&mut plan, core::mem::replace(&mut first, index), &run)?;
            } else if first_piece {
                first = index;
            }
        }
        if pending.len != 0 {
            self.close_run(&mut plan, first, &pending)?;
        }
        self.conclude(plan)
    }

    /// Account for one merged run: its granularity, and the descriptors it takes.
    #[inline(always)]
    fn close_run(&self, plan: &mut SglPlan, first: usize, run: &Flat) -> Result<(), BuildError> {
        self.check_run(first, run)?;
        let max = max_chunk(run.kind, self.caps.dword_granular());
        // Almost every run fits one descriptor: skip the division then.
        let count = if run.len <= max {
            1
        } else {
            run.len.div_ceil(max)
        };
        // Every descriptor carries at least one byte of the (u64) total, so no count wraps.
        plan.runs = plan.runs.wrapping_add(1);
        plan.descriptors = plan.descriptors.wrapping_add(count);
        if run.kind != Kind::Skip {
            plan.data_blocks = plan.data_blocks.wrapping_add(count);
        }
        Ok(())
    }

    /// The end of every plan, once every run is counted: the rules on the whole, and whether
    /// one descriptor carries everything (then SGL1 alone is the layout).
    #[inline(always)]
    fn conclude(&self, mut plan: SglPlan) -> Result<SglPlan, BuildError> {
        plan.transfer = self.check_totals(plan.len, plan.data_blocks)?;
        plan.inline = plan.descriptors == 1;
        Ok(plan)
    }

    /// The checks of [`SglBuilder::build_metadata`] that do not touch `segments`.
    pub(crate) fn plan_metadata<I>(
        &self,
        pieces: I,
        mptr_segment: &SegmentBuf<'_>,
    ) -> Result<SglPlan, BuildError>
    where
        I: IntoIterator + Clone,
        I::Item: Into<Piece>,
    {
        if !self.caps.has(Capability::MetadataSgl) {
            return Err(BuildError::NotSupported {
                capability: Capability::MetadataSgl,
            });
        }
        let plan = self.plan(pieces)?;
        if mptr_segment.bus_addr & 7 != 0 {
            return Err(BuildError::MetadataMisaligned {
                addr: mptr_segment.bus_addr,
                align: 8,
            });
        }
        if mptr_segment.capacity() == 0 {
            return Err(BuildError::SegmentMemoryTooSmall {
                descriptors: 1,
                given: 0,
            });
        }
        if mptr_segment
            .bus_addr
            .checked_add(DESCRIPTOR_BYTES)
            .is_none()
        {
            return Err(BuildError::SegmentOverflow {
                segment: 0,
                addr: mptr_segment.bus_addr,
            });
        }
        Ok(plan)
    }
}

/// What [`SglBuilder::scan`] found.
#[derive(Clone, Copy)]
struct Tally {
    /// Bytes described.
    len: u64,
    /// Runs, one descriptor each.
    runs: u64,
    /// Runs that are bit buckets.
    skip_runs: u64,
    /// Whether every piece made a run of its own (no empty pieces, no merges).
    one_each: bool,
    /// Whether a piece was refused: then nothing else here holds.
    broken: bool,
}
