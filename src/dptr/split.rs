//! Splitting a request no single command can carry into chunks, one command each, and filling
//! a chunk's command: PRP chunks when PRPs can carry every chunk (the PRP splitter's fewest
//! commands), SGL chunks when only SGLs can (an SGL may start and end anywhere in an extent,
//! so its cuts need only fall on block boundaries). A caller iterates [`Split`] and fills each
//! [`Chunk`] with [`fill_chunk`], whichever kind it is.

use core::borrow::Borrow;

use super::{
    prp_builder, sgl_builder, ControllerCaps, DescriptorMemory, DptrError, Filled, Request,
    SglRefusal,
};
use crate::extent::{Extent, Extents};
use crate::prp::{self, ChunkExtents, PrpChunk, PrpSplit};
use crate::sgl::{self, SglBuilder};
use crate::spec::{Psdt, SubmissionEntry};

/// The kind of data pointer a chunk's command carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PointerKind {
    /// PRP1, PRP2 and PRP lists (PSDT 00b).
    Prp,
    /// SGL1 and SGL segments (PSDT 01b).
    Sgl,
}

impl PointerKind {
    /// The PSDT a command with this kind of data pointer (and no metadata SGL) carries.
    pub const fn psdt(self) -> Psdt {
        match self {
            PointerKind::Prp => Psdt::Prp,
            PointerKind::Sgl => Psdt::Sgl,
        }
    }
}

/// One command's share of a split request ([`Split`]): where its data starts in the request's
/// extents, its length, its blocks, and the kind of data pointer it is filled with
/// ([`fill_chunk`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Chunk {
    /// The data pointer the chunk's command carries.
    pub pointer: PointerKind,
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

impl Chunk {
    /// A chunk of the PRP splitter's.
    const fn from_prp(chunk: PrpChunk) -> Self {
        Chunk {
            pointer: PointerKind::Prp,
            first: chunk.first,
            first_skip: chunk.first_skip,
            len: chunk.len,
            offset: chunk.offset,
            first_block: chunk.first_block,
            blocks: chunk.blocks,
        }
    }

    /// The chunk's extents, trimmed from the request's (`all`, the request's
    /// [`Request::extents`], a slice or any other [`Extents`]).
    pub fn extents<E: Extents>(&self, all: E) -> ChunkExtents<E::IntoIter> {
        self.as_prp().extents(all)
    }

    /// The chunk's place in the request, in the PRP splitter's terms.
    const fn as_prp(&self) -> PrpChunk {
        PrpChunk {
            first: self.first,
            first_skip: self.first_skip,
            len: self.len,
            offset: self.offset,
            first_block: self.first_block,
            blocks: self.blocks,
        }
    }

    /// The chunk's extents, as the builders take them: cloneable whether or not the
    /// request's iterator is, and each walk starts afresh from a clone of the request's.
    fn of<E: Extents>(&self, all: &E) -> OfChunk<E> {
        OfChunk {
            all: all.clone(),
            chunk: self.as_prp(),
        }
    }

    /// Descriptor pages of the controller's page size that [`fill_chunk`] needs for this
    /// chunk: PRP list pages, or SGL segments of a page each; 0 when its data pointer fits the
    /// command. An error is what [`fill_chunk`] would refuse the chunk with.
    pub fn pages_needed<E: Extents>(
        &self,
        request: &Request<'_, E>,
        ctrl: &ControllerCaps,
    ) -> Result<u64, DptrError> {
        let extents = self.of(&request.extents);
        Ok(match self.pointer {
            PointerKind::Prp => {
                let plan = prp_builder(ctrl, request).plan(extents)?;
                if plan.needs_list() {
                    plan.list_pages_needed(0)
                } else {
                    0
                }
            }
            PointerKind::Sgl => {
                let per_segment = ctrl
                    .page_size
                    .bytes()
                    .checked_div(sgl::descriptor::DESCRIPTOR_BYTES)
                    .unwrap_or(0);
                sgl_builder(ctrl, request)
                    .plan(extents)?
                    .segments_needed(per_segment)
            }
        })
    }
}

/// One chunk's extents as the builders take them ([`Chunk::of`]).
#[derive(Clone)]
struct OfChunk<E> {
    all: E,
    chunk: PrpChunk,
}

impl<E: Extents> IntoIterator for OfChunk<E> {
    type Item = Extent;
    type IntoIter = ChunkExtents<E::IntoIter>;

    #[inline]
    fn into_iter(self) -> Self::IntoIter {
        self.chunk.extents(self.all)
    }
}

/// The commands a request splits into ([`Plan::Split`](super::Plan::Split)): an iterator of
/// [`Chunk`], checked whole before it is returned, every chunk of one [`PointerKind`].
///
/// It holds the request's extents (`E`, a slice by default): each chunk's step walks them
/// from the chunk's first extent, allocating nothing.
#[derive(Clone, Debug)]
pub struct Split<'e, E = &'e [Extent]> {
    inner: Inner<'e, E>,
}

#[derive(Clone, Debug)]
enum Inner<'e, E> {
    Prp(PrpSplit<'e, E>),
    Sgl {
        cursor: SglCursor<E>,
        commands: usize,
        extents: core::marker::PhantomData<&'e [Extent]>,
    },
}

impl<'e, E> Split<'e, E> {
    /// How many commands the request needs in all.
    pub fn commands(&self) -> usize {
        match &self.inner {
            Inner::Prp(split) => split.commands(),
            Inner::Sgl { commands, .. } => *commands,
        }
    }

    /// The data pointer every chunk is filled with.
    pub fn pointer(&self) -> PointerKind {
        match self.inner {
            Inner::Prp(_) => PointerKind::Prp,
            Inner::Sgl { .. } => PointerKind::Sgl,
        }
    }

    /// The PRP splitter's plan, when the chunks are PRP commands.
    pub fn as_prp(&self) -> Option<&PrpSplit<'e, E>> {
        match &self.inner {
            Inner::Prp(split) => Some(split),
            Inner::Sgl { .. } => None,
        }
    }
}

impl<E: Extents> Iterator for Split<'_, E> {
    type Item = Chunk;

    fn next(&mut self) -> Option<Chunk> {
        match &mut self.inner {
            Inner::Prp(split) => split.next().map(Chunk::from_prp),
            // The whole split was checked when it was made, so a step cannot fail here.
            Inner::Sgl { cursor, .. } => cursor.step().ok().flatten(),
        }
    }
}

/// The split for a request no single command carries: the PRP splitter's when PRPs can carry
/// every chunk; else SGL chunks when an SGL may be used (`refusal` is `None`); else why
/// neither can.
pub(super) fn split<'e, E: Extents>(
    request: &Request<'e, E>,
    ctrl: &ControllerCaps,
    refusal: Option<SglRefusal>,
    single_sgl: Option<Result<sgl::SglPlan, SglRefusal>>,
) -> Result<Split<'e, E>, DptrError> {
    let prp = match prp_builder(ctrl, request).split(request.extents.clone(), request.block_size) {
        Ok(split) => {
            return Ok(Split {
                inner: Inner::Prp(split),
            })
        }
        Err(e) => e,
    };
    let sgl = match refusal {
        Some(refusal) => refusal,
        // A block size no split can use, or a length that is not whole blocks: no SGL split
        // helps either, and the PRP error names the problem; the SGL reason stays the single
        // command's.
        None if matches!(
            prp,
            prp::BuildError::InvalidBlockSize { .. } | prp::BuildError::NotBlockMultiple { .. }
        ) =>
        {
            single_sgl
                .and_then(Result::err)
                .unwrap_or(SglRefusal::Policy)
        }
        // Not whole blocks: no split of any kind exists (the driver checks this first).
        None if !whole_blocks(request) => single_sgl
            .and_then(Result::err)
            .unwrap_or(SglRefusal::Policy),
        None => match sgl_split(request, ctrl) {
            Ok(split) => return Ok(split),
            Err(e) => SglRefusal::Build(e),
        },
    };
    Err(DptrError::Inexpressible { prp, sgl })
}

/// Whether the request's length is a non-zero whole number of its blocks.
fn whole_blocks<E: Extents>(request: &Request<'_, E>) -> bool {
    let len = request
        .extents
        .clone()
        .into_iter()
        .try_fold(0u64, |sum, e| sum.checked_add(e.borrow().len));
    len.is_some_and(|len| len > 0 && len.checked_rem(request.block_size) == Some(0))
}

/// SGL chunks for `request`: each the most whole blocks within the maximum transfer, NLB's
/// 65,536 blocks and MSDBD's data descriptors.
fn sgl_split<'e, E: Extents>(
    request: &Request<'e, E>,
    ctrl: &ControllerCaps,
) -> Result<Split<'e, E>, sgl::BuildError> {
    // Every piece and run rule, with the request's own extent indices in any error; the
    // totals that a split exists to meet (MDTS, MSDBD) are left to each chunk.
    SglBuilder::new(ctrl.sgl.with_msdbd(0), request.direction).plan(request.extents.clone())?;
    let block_size = request.block_size;
    let limit = super::max_transfer(ctrl, request).unwrap_or(u64::MAX);
    let chunk_max = limit.saturating_sub(limit.checked_rem(block_size).unwrap_or(0));
    if block_size == 0 || chunk_max == 0 {
        // Unreachable after the PRP splitter's block size check; refused all the same.
        return Err(sgl::BuildError::TransferTooLong {
            len: block_size,
            max: limit,
        });
    }
    // The longest piece one Data Block carries (a multiple of 4 in dword-granular mode).
    let descriptor_max = if ctrl.sgl.dword_granular() {
        u64::from(u32::MAX) & !3
    } else {
        u64::from(u32::MAX)
    };
    let cursor = SglCursor {
        extents: request.extents.clone(),
        block_size,
        chunk_max,
        msdbd: ctrl.sgl.msdbd(),
        descriptor_max,
        index: 0,
        skip: 0,
        offset: 0,
    };
    let mut check = cursor.clone();
    let mut commands = 0usize;
    let builder = sgl_builder(ctrl, request);
    while let Some(chunk) = check.step()? {
        builder.plan(chunk.of(&request.extents))?;
        commands = commands.saturating_add(1);
    }
    if commands == 0 {
        return Err(sgl::BuildError::EmptyTransfer);
    }
    Ok(Split {
        inner: Inner::Sgl {
            cursor,
            commands,
            extents: core::marker::PhantomData,
        },
    })
}

/// Position in the request between two SGL chunks.
#[derive(Clone, Debug)]
struct SglCursor<E> {
    extents: E,
    block_size: u64,
    /// The most bytes of whole blocks one command carries.
    chunk_max: u64,
    /// The most data descriptors one command may hold.
    msdbd: Option<u8>,
    /// The longest piece one descriptor carries.
    descriptor_max: u64,
    /// Extent the next chunk starts in.
    index: usize,
    /// Bytes of that extent already taken.
    skip: u64,
    /// Bytes of the request already taken.
    offset: u64,
}

impl<E: Extents> SglCursor<E> {
    /// The next chunk, or `None` at the end of the request. Descriptors are counted a piece
    /// at a time, before the builder merges adjacent pieces, so a chunk never needs more than
    /// counted.
    fn step(&mut self) -> Result<Option<Chunk>, sgl::BuildError> {
        let (first, first_skip) = (self.index, self.skip);
        let (mut index, mut skip) = (self.index, self.skip);
        let (mut len, mut descriptors) = (0u64, 0u64);
        // Stopped by a limit (bytes or descriptors) rather than by the end of the request.
        let mut limited = false;
        for extent in self.extents.clone().into_iter().skip(index) {
            let extent = *extent.borrow();
            let avail = extent.len.saturating_sub(skip);
            if avail > 0 {
                let mut take = avail.min(self.chunk_max.saturating_sub(len));
                if let Some(msdbd) = self.msdbd {
                    let room = u64::from(msdbd).saturating_sub(descriptors);
                    take = take.min(room.saturating_mul(self.descriptor_max));
                }
                len = len.saturating_add(take);
                descriptors = descriptors.saturating_add(take.div_ceil(self.descriptor_max));
                if take < avail {
                    limited = true;
                    break;
                }
            }
            index = index.saturating_add(1);
            skip = 0;
        }
        if len == 0 && !limited {
            return Ok(None);
        }
        let cut = if limited {
            len.saturating_sub(len.checked_rem(self.block_size).unwrap_or(0))
        } else {
            len
        };
        if cut == 0 {
            // Not one block fits: its pieces need more data descriptors than MSDBD allows.
            return Err(sgl::BuildError::TooManyDataBlocks {
                count: self.descriptors_for(first, first_skip, self.block_size),
                msdbd: self.msdbd.unwrap_or(u8::MAX),
            });
        }
        if cut.checked_rem(self.block_size) != Some(0) {
            return Err(sgl::BuildError::ShorterThanTransfer {
                described: self.offset.saturating_add(cut),
                transfer: self
                    .offset
                    .saturating_add(cut)
                    .div_ceil(self.block_size)
                    .saturating_mul(self.block_size),
            });
        }
        self.advance(cut);
        let chunk = Chunk {
            pointer: PointerKind::Sgl,
            first,
            first_skip,
            len: cut,
            offset: self.offset,
            first_block: self.offset.checked_div(self.block_size).unwrap_or(0),
            blocks: cut.checked_div(self.block_size).unwrap_or(0),
        };
        self.offset = self.offset.saturating_add(cut);
        Ok(Some(chunk))
    }

    /// Move past `bytes` bytes of the request.
    fn advance(&mut self, mut bytes: u64) {
        let mut rest = self.extents.clone().into_iter().skip(self.index);
        while bytes > 0 {
            let Some(extent) = rest.next() else {
                return;
            };
            let extent = *extent.borrow();
            let avail = extent.len.saturating_sub(self.skip);
            if avail > bytes {
                self.skip = self.skip.saturating_add(bytes);
                return;
            }
            bytes = bytes.saturating_sub(avail);
            self.index = self.index.saturating_add(1);
            self.skip = 0;
        }
    }

    /// Data descriptors the first `bytes` bytes from extent `index`, `skip` bytes in, take.
    fn descriptors_for(&self, index: usize, mut skip: u64, mut bytes: u64) -> u64 {
        let mut count = 0u64;
        let mut rest = self.extents.clone().into_iter().skip(index);
        while let (true, Some(extent)) = (bytes > 0, rest.next()) {
            let extent = *extent.borrow();
            let take = extent.len.saturating_sub(skip).min(bytes);
            count = count.saturating_add(take.div_ceil(self.descriptor_max));
            bytes = bytes.saturating_sub(take);
            skip = 0;
        }
        count
    }
}

/// Fill `sqe`'s data pointer for one chunk of a split ([`Plan::Split`](super::Plan::Split)):
/// its extents, cut from `request`'s, written as PRP1, PRP2 and PRP lists, or as SGL1 and SGL
/// segments, in `memory`, as [`Chunk::pointer`] says. The chunk's blocks go in the command
/// too: [`Chunk::first_block`] past the request's starting LBA, and [`Chunk::blocks`] of them
/// ([`SubmissionEntry::set_block_range`]). On error nothing has been written.
///
/// ```
/// use nvme_dma::dptr::{self, ControllerCaps, DescriptorMemory, Plan, Request, SglPolicy};
/// use nvme_dma::sgl::SglCaps;
/// use nvme_dma::spec::{BlockRange, MaxTransfer, Opcode, Sgls, SubmissionEntry};
/// use nvme_dma::{Direction, Extent, PageSize, QueueKind};
///
/// let caps = ControllerCaps {
///     page_size: PageSize::SIZE_4K,
///     sgl: SglCaps::new(Sgls::empty()),
///     max_transfer: MaxTransfer::Bytes(8192),
/// };
/// // 16 KiB from LBA 100 in 512-byte blocks, through an 8 KiB MDTS: two commands.
/// let extents = [Extent::new(0x10_0000, 0x4000)];
/// let request = Request::new(&extents, Direction::Write, QueueKind::Io);
/// let Plan::Split(split) = dptr::plan(&request, &caps, SglPolicy::Never)? else { panic!() };
/// for chunk in split {
///     let range = BlockRange::new(100 + chunk.first_block, chunk.blocks).unwrap();
///     let mut sqe = SubmissionEntry::new(Opcode::NVM_WRITE, 1).with_block_range(range);
///     dptr::fill_chunk(&mut sqe, &request, &chunk, &caps, &mut DescriptorMemory::none())?;
///     assert_eq!(sqe.prp1(), 0x10_0000 + chunk.offset);
/// }
/// # Ok::<(), nvme_dma::dptr::DptrError>(())
/// ```
pub fn fill_chunk<E: Extents>(
    sqe: &mut SubmissionEntry,
    request: &Request<'_, E>,
    chunk: &Chunk,
    ctrl: &ControllerCaps,
    memory: &mut DescriptorMemory<'_, '_>,
) -> Result<Filled, DptrError> {
    let extents = chunk.of(&request.extents);
    let (lists_used, psdt) = match chunk.pointer {
        PointerKind::Prp => {
            let layout = prp_builder(ctrl, request).build(extents, memory.prp_lists)?;
            sqe.set_prp1(layout.pair.prp1);
            sqe.set_prp2(layout.pair.prp2.raw());
            (layout.list_pages_used, Psdt::Prp)
        }
        PointerKind::Sgl => {
            let layout = sgl_builder(ctrl, request).build(extents, memory.sgl_segments)?;
            sqe.set_sgl1(layout.sgl1.to_raw());
            (layout.segments_used, Psdt::Sgl)
        }
    };
    sqe.set_psdt(psdt);
    sqe.set_mptr(0);
    Ok(Filled {
        psdt,
        mptr: 0,
        lists_used,
        metadata_segments_used: 0,
    })
}
