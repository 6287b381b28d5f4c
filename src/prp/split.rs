//! Splitting a scatter list into PRP commands.

use core::borrow::Borrow;
use core::marker::PhantomData;

use super::build::PrpBuilder;
use super::error::BuildError;
use crate::extent::{Extent, Extents};
use crate::spec::BlockRange;

/// One command's share of a split transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PrpChunk {
    /// Index of the extent the chunk starts in.
    pub first: usize,
    /// Bytes of that extent that earlier chunks took.
    pub first_skip: u64,
    /// Bytes in the chunk (a whole number of blocks).
    pub len: u64,
    /// Byte position of the chunk in the whole transfer (a whole number of blocks).
    pub offset: u64,
    /// The chunk's first block, counted from the transfer's first (`offset / block size`):
    /// add the transfer's starting LBA for the command's.
    pub first_block: u64,
    /// Blocks in the chunk: 1 to 65,536, what one command's NLB can carry.
    pub blocks: u64,
}

impl PrpChunk {
    /// The chunk's extents, trimmed from the caller's list (the one the split was made
    /// from, as a slice or any other [`Extents`]); pass them to [`PrpBuilder::build`].
    pub fn extents<E: Extents>(&self, all: E) -> ChunkExtents<E::IntoIter> {
        ChunkExtents {
            rest: all.into_iter(),
            before: self.first,
            skip: self.first_skip,
            left: self.len,
        }
    }
}

/// The extents of one [`PrpChunk`]: an iterator over the caller's list `I` that skips the
/// extents before the chunk and trims its ends; cloneable, as [`PrpBuilder::build`] wants,
/// when `I` is (a slice's iterator is).
#[derive(Clone, Debug)]
pub struct ChunkExtents<I> {
    rest: I,
    /// Extents before the chunk's first, still to skip.
    before: usize,
    skip: u64,
    left: u64,
}

impl<I> Iterator for ChunkExtents<I>
where
    I: Iterator,
    I::Item: Borrow<Extent>,
{
    type Item = Extent;

    fn next(&mut self) -> Option<Extent> {
        if let Some(last_skipped) = core::mem::take(&mut self.before).checked_sub(1) {
            // `nth` is a step for a slice's iterator, a walk for others.
            self.rest.nth(last_skipped)?;
        }
        while self.left > 0 {
            let extent = *self.rest.next()?.borrow();
            let skip = core::mem::take(&mut self.skip);
            let len = extent.len.saturating_sub(skip).min(self.left);
            if len == 0 {
                continue;
            }
            self.left = self.left.saturating_sub(len);
            // `skip < extent.len` here, and the extent fits the address space (checked by split).
            return Some(Extent::new(extent.addr.wrapping_add(skip), len));
        }
        None
    }
}

/// The fewest commands whose PRPs can each express their part of a scatter list.
///
/// One PRP data pointer can carry extents only while each one after the first starts on a page
/// boundary and each one before the last ends on one, and only up to the maximum transfer size.
/// Where a rule breaks between two extents, a new command must start there; where a run is
/// longer than the maximum, it is cut at the largest whole number of blocks that fits. This is the
/// job a block layer's "virtual boundary" does, so a driver needs no bounce buffer for an
/// ordinary scatter list.
///
/// Every cut falls on a block boundary of the whole transfer (commands move whole logical
/// blocks). Cutting greedily is optimal: the rule breaks are cuts every solution must make, and
/// between them taking the most blocks each time leaves the fewest commands.
///
/// ```
/// use nvme_dma::{Extent, PageSize};
/// use nvme_dma::prp::PrpBuilder;
///
/// // Extent 1 ends mid-page, so extent 2 cannot follow it in one PRP command.
/// let extents = [
///     Extent::new(0x10_0000, 0x1000),
///     Extent::new(0x20_0000, 0x200),
///     Extent::new(0x30_0000, 0x2000),
/// ];
/// let builder = PrpBuilder::new(PageSize::SIZE_4K).with_max_transfer(0x2000);
/// let split = builder.split(&extents, 512)?;
/// assert_eq!(split.commands(), 2);
/// let chunks: Vec<_> = split.collect();
/// assert_eq!(chunks[0].len, 0x1200); // extents 0 and 1
/// assert_eq!(chunks[1].len, 0x2000); // extent 2
/// let parts: Vec<Extent> = chunks[1].extents(&extents).collect();
/// assert_eq!(parts, [Extent::new(0x30_0000, 0x2000)]);
/// # Ok::<(), nvme_dma::prp::BuildError>(())
/// ```
///
/// The commands a transfer splits into: an iterator of [`PrpChunk`], checked whole up front.
/// It holds the extents it was made from (`E`, a slice by default, or any other
/// [`Extents`]), and each step walks them afresh from the chunk's first extent.
#[derive(Clone, Debug)]
pub struct PrpSplit<'e, E = &'e [Extent]> {
    cursor: Cursor<E>,
    commands: usize,
    extents: PhantomData<&'e [Extent]>,
}

impl<E> PrpSplit<'_, E> {
    /// How many commands the transfer needs in all.
    pub fn commands(&self) -> usize {
        self.commands
    }
}

impl<E: Extents> Iterator for PrpSplit<'_, E> {
    type Item = PrpChunk;

    fn next(&mut self) -> Option<PrpChunk> {
        // The whole split was checked when it was made, so a step cannot fail here.
        self.cursor.step().ok().flatten()
    }
}

impl PrpBuilder {
    /// Split `extents` into the fewest PRP commands, each a whole number of `block_size`-byte
    /// blocks, within the maximum transfer and within the 65,536 blocks one command's NLB can
    /// count.
    ///
    /// The whole transfer is checked before anything is returned, so a driver either gets a
    /// complete plan or an error naming the extent that makes one impossible (a rule break that
    /// falls inside a block, a start that is not dword aligned) and issues nothing.
    ///
    /// `extents` is a slice or any other [`Extents`]; the split keeps a clone of it, and
    /// each chunk walks it from the start, so a list whose clone walks slowly costs a walk
    /// per chunk (a slice's does not).
    pub fn split<'e, E: Extents>(
        &self,
        extents: E,
        block_size: u64,
    ) -> Result<PrpSplit<'e, E>, BuildError> {
        let max = self.max_transfer();
        let limit = max.unwrap_or(u64::MAX);
        if block_size == 0 || block_size % 4 != 0 || block_size > limit {
            return Err(BuildError::InvalidBlockSize { block_size, max });
        }
        // The largest whole number of blocks within the limit and within NLB's reach.
        let limit = limit.min(block_size.saturating_mul(BlockRange::MAX_BLOCKS));
        let chunk_max = limit.saturating_sub(limit.checked_rem(block_size).unwrap_or(0));
        let cursor = Cursor {
            builder: *self,
            extents,
            block_size,
            chunk_max,
            index: 0,
            skip: 0,
            offset: 0,
        };
        let mut check = cursor.clone();
        let mut commands = 0usize;
        while check.step()?.is_some() {
            commands = commands.saturating_add(1);
        }
        if commands == 0 {
            return Err(BuildError::EmptyTransfer);
        }
        Ok(PrpSplit {
            cursor,
            commands,
            extents: PhantomData,
        })
    }
}

/// Position in the transfer between two chunks.
#[derive(Clone, Debug)]
struct Cursor<E> {
    builder: PrpBuilder,
    extents: E,
    block_size: u64,
    chunk_max: u64,
    /// Extent the next chunk starts in.
    index: usize,
    /// Bytes of that extent already taken.
    skip: u64,
    /// Bytes of the transfer already taken.
    offset: u64,
}

impl<E: Extents> Cursor<E> {
    /// True when `bytes` is a whole number of blocks (the block size is non-zero).
    fn on_block_boundary(&self, bytes: u64) -> bool {
        bytes.checked_rem(self.block_size) == Some(0)
    }

    /// The next chunk, or `None` at the end of the transfer.
    fn step(&mut self) -> Result<Option<PrpChunk>, BuildError> {
        let ps = self.builder.page_size();
        let (first, first_skip) = (self.index, self.skip);
        let mut len = 0u64;
        // `prev` is the last extent taken whole into this chunk, to check the rule at its end.
        let mut prev: Option<(usize, Extent)> = None;
        for extent in self.extents.clone().into_iter().skip(self.index) {
            let extent = *extent.borrow();
            let index = self.index;
            if extent.len == 0 {
                self.index = index.saturating_add(1);
                continue;
            }
            if !extent.fits_address_space() {
                return Err(BuildError::AddressOverflow { index, extent });
            }
            if self.skip == 0 {
                if let Some((prev_index, prev_extent)) = prev {
                    // A rule break between the previous extent and this one forces a cut here.
                    let end_ok = ps.is_aligned(prev_extent.addr.wrapping_add(prev_extent.len));
                    if !end_ok || !ps.is_aligned(extent.addr) {
                        let at = self.offset.saturating_add(len);
                        if !self.on_block_boundary(at) {
                            return Err(BuildError::BoundaryInsideBlock {
                                index: prev_index,
                                extent: prev_extent,
                                at,
                                block_size: self.block_size,
                            });
                        }
                        break;
                    }
                } else if extent.addr & 3 != 0 {
                    // This extent starts a command, so it becomes PRP1.
                    return Err(BuildError::StartNotDwordAligned { index, extent });
                }
            }
            let avail = extent.len.saturating_sub(self.skip);
            let room = self.chunk_max.saturating_sub(len);
            if avail > room {
                // Cut inside this extent at the chunk's largest whole number of blocks.
                self.skip = self.skip.saturating_add(room);
                len = self.chunk_max;
                break;
            }
            len = len.saturating_add(avail);
            prev = Some((index, extent));
            self.index = index.saturating_add(1);
            self.skip = 0;
            if len == self.chunk_max {
                break;
            }
        }
        if len == 0 {
            return Ok(None);
        }
        if !self.on_block_boundary(len) {
            // Only the final chunk can end off a block boundary: the whole is not whole blocks.
            return Err(BuildError::NotBlockMultiple {
                len: self.offset.saturating_add(len),
                block_size: self.block_size,
            });
        }
        let chunk = PrpChunk {
            first,
            first_skip,
            len,
            offset: self.offset,
            first_block: self.offset.checked_div(self.block_size).unwrap_or(0),
            blocks: len.checked_div(self.block_size).unwrap_or(0),
        };
        self.offset = self.offset.saturating_add(len);
        Ok(Some(chunk))
    }
}
