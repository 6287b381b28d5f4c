//! Descriptor memory from the driver's own pool: a driver implements [`DescriptorPool`] over
//! its DMA pool of pages, and [`fill_sqe_pooled`] takes from it exactly the pages the chosen
//! data pointer needs, whatever they are used as (PRP list pages, SGL segments, metadata
//! segments), fills the command, and says which pages the command now holds.
//!
//! Every page is one whole memory page, page aligned: then one count ([`Plan::pages_needed`])
//! sizes every kind of descriptor memory, and no kind needs memory of another shape.

use super::{ControllerCaps, DescriptorMemory, DptrError, Outcome, Plan, Request};
use super::{SglMetadata, SglPolicy};
use crate::extent::{Extent, Extents, PageSize};
use crate::prp::PrpListPage;
use crate::sgl::{self, SegmentBuf};
use crate::spec::SubmissionEntry;

/// One page of descriptor memory a pool lends: its bus address and its bytes, which the
/// crate may overwrite. A page is one memory page long and page aligned.
#[derive(Debug)]
pub struct DescriptorPage<'a> {
    /// Bus address of the page's first byte (page aligned).
    pub bus_addr: u64,
    /// The page's bytes (one memory page).
    pub bytes: &'a mut [u8],
}

/// A driver's pool of descriptor pages, lent for the life `'a` of its memory.
///
/// A pool over a DMA region hands out disjoint pages of it (`split_at_mut` or a free list
/// of `&'a mut [u8]` makes them without `unsafe`); the crate takes what a command needs and
/// gives back what it took when filling fails. The pages of a filled command are the
/// caller's to give back once the command has completed.
pub trait DescriptorPool<'a> {
    /// Lend one page, or `None` when the pool is empty.
    fn take(&mut self) -> Option<DescriptorPage<'a>>;

    /// Take back a page [`DescriptorPool::take`] lent.
    fn give_back(&mut self, page: DescriptorPage<'a>);
}

/// What [`fill_sqe_pooled`] did.
#[derive(Clone, Debug)]
pub struct Pooled<'e, E = &'e [Extent]> {
    /// The command's data pointer is filled, or the data needs a split (then no page was
    /// taken).
    pub outcome: Outcome<'e, E>,
    /// Pages the command holds, in `held[..pages]`: the caller gives them back to the pool
    /// once the command has completed.
    pub pages: usize,
}

impl<E> Plan<'_, E> {
    /// Pages of `page_size` (whole and page aligned) the plan writes descriptors into: PRP
    /// list pages, or data SGL segments, plus, for an SGL behind MPTR (PSDT 10b), a page for
    /// MPTR's one-descriptor segment and the metadata SGL's segments. 0 for a pointer that
    /// fits in the command, and for a split (each chunk is filled on its own).
    pub const fn pages_needed(&self, page_size: PageSize) -> u64 {
        let per_segment = page_size.bytes() / sgl::descriptor::DESCRIPTOR_BYTES;
        match self {
            Plan::Prp { plan, .. } => plan.list_pages_needed(0),
            Plan::Sgl { plan, metadata } => {
                let data = plan.segments_needed(per_segment);
                match metadata {
                    SglMetadata::Segment(meta) => data
                        .saturating_add(1)
                        .saturating_add(meta.segments_needed(per_segment)),
                    SglMetadata::None | SglMetadata::Contiguous(_) => data,
                }
            }
            Plan::Split(_) => 0,
        }
    }
}

/// [`fill_sqe`](super::fill_sqe) with descriptor memory taken from `pool`: the pages the chosen pointer needs
/// go into `held`, are written, and stay there for the caller to give back once the command
/// has completed ([`Pooled::pages`] says how many). `held` bounds the pages one command may
/// take: `N` pages of 4 KiB hold PRP lists for `N` × 511 pages, or `N` × 255 SGL descriptors.
///
/// On error, nothing has been written and every page taken is back in the pool. A pool that
/// runs dry, or a `held` too short, is the builder's refusal of too little memory
/// ([`ListMemoryTooSmall`](crate::prp::BuildError::ListMemoryTooSmall),
/// [`SegmentMemoryTooSmall`](crate::sgl::BuildError::SegmentMemoryTooSmall)).
///
/// It plans, then fills: for a pointer that fits in the command, [`fill_sqe`](super::fill_sqe)
/// with no memory is the quicker call, as it need not plan.
/// Pages in `held` before the call must have been given back: the call starts by clearing
/// it (into the pool, should any be left).
///
/// ```
/// use nvme_dma::dptr::{self, ControllerCaps, DescriptorPage, DescriptorPool, Outcome, Request, SglPolicy};
/// use nvme_dma::sgl::SglCaps;
/// use nvme_dma::spec::{MaxTransfer, Opcode, Sgls, SubmissionEntry};
/// use nvme_dma::{Direction, Extent, PageSize, QueueKind};
///
/// /// A pool over a region of DMA memory, cut into pages.
/// struct Pool<'a>(Vec<DescriptorPage<'a>>);
/// impl<'a> DescriptorPool<'a> for Pool<'a> {
///     fn take(&mut self) -> Option<DescriptorPage<'a>> { self.0.pop() }
///     fn give_back(&mut self, page: DescriptorPage<'a>) { self.0.push(page) }
/// }
/// let mut region = vec![0u8; 4 * 4096]; // at bus address 0x8000_0000
/// let mut pool = Pool(region.chunks_mut(4096).enumerate()
///     .map(|(i, bytes)| DescriptorPage { bus_addr: 0x8000_0000 + 4096 * i as u64, bytes })
///     .collect());
///
/// let caps = ControllerCaps {
///     page_size: PageSize::SIZE_4K,
///     sgl: SglCaps::new(Sgls::empty()),
///     max_transfer: MaxTransfer::Unlimited,
/// };
/// let extents = [Extent::new(0x10_0000, 0x10000)]; // 64 KiB: a PRP list of 15 entries
/// let request = Request::new(&extents, Direction::Write, QueueKind::Io);
/// let mut sqe = SubmissionEntry::new(Opcode::NVM_WRITE, 1);
/// let mut held: [Option<DescriptorPage>; 2] = Default::default();
/// let done = dptr::fill_sqe_pooled(&mut sqe, &request, &caps, SglPolicy::Never, &mut pool, &mut held)?;
/// assert!(matches!(done.outcome, Outcome::Filled(_)));
/// assert_eq!(done.pages, 1);
/// assert_eq!(sqe.prp2(), held[0].as_ref().unwrap().bus_addr);
/// // ... the command completes; its pages go back.
/// for page in held.iter_mut().filter_map(Option::take) {
///     pool.give_back(page);
/// }
/// assert_eq!(pool.0.len(), 4);
/// # Ok::<(), dptr::DptrError>(())
/// ```
pub fn fill_sqe_pooled<'a, 'e, E, P, const N: usize>(
    sqe: &mut SubmissionEntry,
    request: &Request<'e, E>,
    ctrl: &ControllerCaps,
    policy: SglPolicy,
    pool: &mut P,
    held: &mut [Option<DescriptorPage<'a>>; N],
) -> Result<Pooled<'e, E>, DptrError>
where
    E: Extents,
    P: DescriptorPool<'a> + ?Sized,
{
    give_back(pool, held);
    let plan = match super::plan(request, ctrl, policy)? {
        Plan::Split(split) => {
            return Ok(Pooled {
                outcome: Outcome::Split(split),
                pages: 0,
            })
        }
        plan => plan,
    };
    let needed = usize::try_from(plan.pages_needed(ctrl.page_size)).unwrap_or(usize::MAX);
    let mut taken = 0usize;
    for slot in held.iter_mut().take(needed) {
        let Some(page) = pool.take() else { break };
        *slot = Some(page);
        taken = taken.saturating_add(1);
    }
    // Fewer pages than needed (a dry pool, a short `held`): the builder refuses with its own
    // error for too little memory, naming how many it needed and how many it was given.
    match fill_from(plan, sqe, request, ctrl, held, taken) {
        Ok(filled) => Ok(Pooled {
            outcome: Outcome::Filled(filled),
            pages: taken,
        }),
        Err(e) => {
            give_back(pool, held);
            Err(e)
        }
    }
}

/// Give every page in `held` back to `pool`.
fn give_back<'a, P: DescriptorPool<'a> + ?Sized>(
    pool: &mut P,
    held: &mut [Option<DescriptorPage<'a>>],
) {
    for page in held.iter_mut().filter_map(Option::take) {
        pool.give_back(page);
    }
}

/// [`Plan::fill`] into the first `taken` pages of `held`, as the plan needs them: PRP list
/// pages, or data segments followed by MPTR's segment and the metadata segments.
fn fill_from<'e, E: Extents, const N: usize>(
    plan: Plan<'e, E>,
    sqe: &mut SubmissionEntry,
    request: &Request<'e, E>,
    ctrl: &ControllerCaps,
    held: &mut [Option<DescriptorPage<'_>>; N],
    taken: usize,
) -> Result<super::Filled, DptrError> {
    let buffers = held.each_mut().map(|slot| match slot {
        Some(page) => (page.bus_addr, &mut *page.bytes),
        None => (0, &mut [][..]),
    });
    match &plan {
        Plan::Prp { .. } => {
            let mut lists = buffers.map(|(addr, bytes)| PrpListPage::new(addr, bytes));
            let memory = &mut DescriptorMemory {
                prp_lists: lists.get_mut(..taken).unwrap_or_default(),
                sgl_segments: &mut [],
                metadata_segments: &mut [],
            };
            plan.fill(sqe, request, ctrl, memory)
        }
        Plan::Sgl { plan: data, .. } => {
            let per_segment = ctrl.page_size.bytes() / sgl::descriptor::DESCRIPTOR_BYTES;
            let data_pages =
                usize::try_from(data.segments_needed(per_segment)).unwrap_or(usize::MAX);
            let mut segments = buffers.map(|(addr, bytes)| SegmentBuf::new(addr, bytes));
            let segments = segments.get_mut(..taken).unwrap_or_default();
            let (data_segments, metadata_segments) =
                segments.split_at_mut(data_pages.min(segments.len()));
            let memory = &mut DescriptorMemory {
                prp_lists: &mut [],
                sgl_segments: data_segments,
                metadata_segments,
            };
            plan.fill(sqe, request, ctrl, memory)
        }
        Plan::Split(split) => Err(DptrError::NeedsSplit {
            commands: split.commands(),
        }),
    }
}
