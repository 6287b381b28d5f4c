//! A request's extents given as any iterator: the same request as a slice and as adapters
//! over the caller's own scatter-list type give the same commands, descriptor memory,
//! outcomes, errors and splits, under every policy and through every host-side call.

use nvme_dma::dptr::{
    self, ControllerCaps, DescriptorMemory, DescriptorPage, DescriptorPool, DptrError, Extents,
    Outcome, Plan, Request, SglMetadata, SglPolicy,
};
use nvme_dma::prp::PrpListPage;
use nvme_dma::sgl::{SegmentBuf, SglCaps};
use nvme_dma::spec::{MaxTransfer, Opcode, SglSupport, Sgls, SubmissionEntry};
use nvme_dma::{Direction, Extent, PageSize, QueueKind};
use proptest::prelude::*;
use zerocopy::IntoBytes;

const LIST: u64 = 0x7f00_0000;
const SEGS: u64 = 0x7e00_0000;
const META: u64 = 0x7d00_0000;
const POOL: u64 = 0x7c00_0000;

/// Everything a call can leave behind, in a form two runs can be compared by.
#[derive(Debug, PartialEq, Eq)]
struct Trace {
    /// What the call returned: the filled command's report, or the split's chunks (each with
    /// its extents), or the error.
    result: Result<String, DptrError>,
    /// The command's 64 bytes.
    sqe: Vec<u8>,
    /// PRP list pages, data segments and metadata segments, as written.
    memory: Vec<u8>,
}

/// A split's chunks, each with its extents cut from the request's, and what filling each
/// chunk as a command writes.
fn split_trace<E: Extents>(
    split: dptr::Split<'_, E>,
    req: &Request<'_, E>,
    ctrl: &ControllerCaps,
) -> String {
    let (commands, pointer) = (split.commands(), split.pointer());
    let chunks: Vec<String> = split
        .map(|chunk| {
            let extents: Vec<Extent> = chunk.extents(req.extents.clone()).collect();
            let pages = chunk.pages_needed(req, ctrl);
            let mut trace = Trace {
                result: Ok(String::new()),
                sqe: vec![],
                memory: vec![],
            };
            with_memory(4, &mut trace, |sqe, memory| {
                dptr::fill_chunk(sqe, req, &chunk, ctrl, memory).map(|f| format!("{f:?}"))
            });
            format!("{chunk:?} {extents:?} {pages:?} {trace:?}")
        })
        .collect();
    format!("split {commands} {pointer:?} {chunks:?}")
}

fn outcome_trace<E: Extents>(
    outcome: Outcome<'_, E>,
    req: &Request<'_, E>,
    ctrl: &ControllerCaps,
) -> String {
    match outcome {
        Outcome::Filled(filled) => format!("filled {filled:?}"),
        Outcome::Split(split) => split_trace(split, req, ctrl),
    }
}

fn plan_trace<E: Extents>(
    plan: Plan<'_, E>,
    req: &Request<'_, E>,
    ctrl: &ControllerCaps,
) -> String {
    let pages = plan.pages_needed(ctrl.page_size);
    match plan {
        Plan::Prp { plan, mptr } => format!("prp {plan:?} {mptr:?} {pages}"),
        Plan::Sgl { plan, metadata } => {
            let metadata = match metadata {
                SglMetadata::Segment(plan) => format!("segment {plan:?}"),
                other => format!("{other:?}"),
            };
            format!("sgl {plan:?} {metadata} {pages}")
        }
        Plan::Split(split) => split_trace(split, req, ctrl),
    }
}

/// Run `f` on a fresh command and `pages` pages of each kind of descriptor memory (pattern
/// filled), and record what it returned and left behind in `trace`.
fn with_memory(
    pages: usize,
    trace: &mut Trace,
    f: impl FnOnce(&mut SubmissionEntry, &mut DescriptorMemory<'_, '_>) -> Result<String, DptrError>,
) {
    let mut bytes = vec![0xa5u8; 3 * 4 * 4096];
    let (lists, rest) = bytes.split_at_mut(4 * 4096);
    let (segs, meta) = rest.split_at_mut(4 * 4096);
    let page = |base: u64, i: usize| base + i as u64 * 4096;
    let mut lists: Vec<PrpListPage<'_>> = lists
        .chunks_mut(4096)
        .take(pages)
        .enumerate()
        .map(|(i, c)| PrpListPage::new(page(LIST, i), c))
        .collect();
    let mut segs: Vec<SegmentBuf<'_>> = segs
        .chunks_mut(4096)
        .take(pages)
        .enumerate()
        .map(|(i, c)| SegmentBuf::new(page(SEGS, i), c))
        .collect();
    let mut meta: Vec<SegmentBuf<'_>> = meta
        .chunks_mut(4096)
        .take(pages)
        .enumerate()
        .map(|(i, c)| SegmentBuf::new(page(META, i), c))
        .collect();
    let mut sqe = SubmissionEntry::new(Opcode::NVM_WRITE, 7);
    let mut memory = DescriptorMemory {
        prp_lists: &mut lists,
        sgl_segments: &mut segs,
        metadata_segments: &mut meta,
    };
    trace.result = f(&mut sqe, &mut memory);
    trace.sqe = sqe.as_bytes().to_vec();
    drop((lists, segs, meta));
    trace.memory = bytes;
}

/// A pool over a vector of pages.
struct Pool<'a>(Vec<DescriptorPage<'a>>);

impl<'a> DescriptorPool<'a> for Pool<'a> {
    fn take(&mut self) -> Option<DescriptorPage<'a>> {
        self.0.pop()
    }

    fn give_back(&mut self, page: DescriptorPage<'a>) {
        self.0.push(page)
    }
}

/// What every host-side call does with `req`: `fill_sqe`, `plan` then `Plan::fill`, and
/// `fill_sqe_pooled`, splits followed chunk by chunk.
fn everything<E: Extents>(
    req: &Request<'_, E>,
    ctrl: &ControllerCaps,
    policy: SglPolicy,
    pages: usize,
) -> Vec<Trace> {
    let blank = || Trace {
        result: Ok(String::new()),
        sqe: vec![],
        memory: vec![],
    };
    let mut by_fill = blank();
    with_memory(pages, &mut by_fill, |sqe, memory| {
        dptr::fill_sqe(sqe, req, ctrl, policy, memory).map(|o| outcome_trace(o, req, ctrl))
    });
    let mut by_plan = blank();
    with_memory(pages, &mut by_plan, |sqe, memory| {
        let plan = dptr::plan(req, ctrl, policy)?;
        let planned = plan_trace(plan.clone(), req, ctrl);
        match plan {
            Plan::Split(_) => Ok(planned),
            plan => plan
                .fill(sqe, req, ctrl, memory)
                .map(|f| format!("{planned} {f:?}")),
        }
    });
    let mut by_pool = blank();
    let mut region = vec![0xa5u8; pages * 4096];
    let mut sqe = SubmissionEntry::new(Opcode::NVM_WRITE, 7);
    {
        let mut pool = Pool(
            region
                .chunks_mut(4096)
                .enumerate()
                .map(|(i, bytes)| DescriptorPage {
                    bus_addr: POOL + 4096 * i as u64,
                    bytes,
                })
                .collect(),
        );
        let mut held: [Option<DescriptorPage<'_>>; 3] = Default::default();
        by_pool.result = dptr::fill_sqe_pooled(&mut sqe, req, ctrl, policy, &mut pool, &mut held)
            .map(|done| {
                let held: Vec<u64> = held.iter().flatten().map(|p| p.bus_addr).collect();
                format!(
                    "{} {} {held:?}",
                    outcome_trace(done.outcome, req, ctrl),
                    done.pages
                )
            });
    }
    by_pool.sqe = sqe.as_bytes().to_vec();
    by_pool.memory = region;
    vec![by_fill, by_plan, by_pool]
}

/// The driver's own scatter-list entry.
#[derive(Clone, Copy, Debug)]
struct Segment {
    dma: u64,
    len: u32,
}

fn segments() -> impl Strategy<Value = Vec<Segment>> {
    let segment = (
        prop_oneof![Just(0u64), Just(0x200), Just(0xffc), Just(3), 0u64..0x1000],
        prop_oneof![
            Just(0u32),
            Just(0x200),
            Just(0x1000),
            Just(0x2000),
            Just(0xe00),
            1u32..0x6000
        ],
        0u64..4,
    )
        .prop_map(|(offset, len, page)| Segment {
            dma: ((page + 1) << 20) + offset,
            len,
        });
    prop::collection::vec(segment, 0..6)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    /// The same request as a slice of extents and as an iterator adapter over the caller's
    /// own entries: byte-identical commands and descriptor memory, and the same outcomes,
    /// errors (extents named by the same indices) and splits, through `fill_sqe`, `plan` and
    /// `Plan::fill`, `fill_sqe_pooled` and `fill_chunk`, under every policy.
    #[test]
    fn a_slice_and_an_iterator_give_the_same_commands(
        segments in segments(),
        policy in prop_oneof![
            Just(SglPolicy::Never),
            Just(SglPolicy::LINUX),
            Just(SglPolicy::Linux { threshold: 0 }),
            Just(SglPolicy::Linux { threshold: 0x800 }),
            Just(SglPolicy::Always),
            Just(SglPolicy::SmallestFootprint),
        ],
        sgls in prop_oneof![
            Just(Sgls::empty()),
            Just(Sgls::from_support(SglSupport::DwordAligned)),
            Just(Sgls::from_support(SglSupport::ByteAligned)),
        ],
        msdbd in prop_oneof![Just(0u8), Just(2), Just(3)],
        admin in any::<bool>(),
        read in any::<bool>(),
        mdts in prop_oneof![Just(None), Just(Some(0x1000u64)), Just(Some(0x2000)), Just(Some(0x4000))],
        block_size in prop_oneof![Just(512u64), Just(4096), Just(1000)],
        metadata in prop_oneof![
            Just(None),
            Just(Some(vec![Extent::new(0x90_0000, 0x40)])),
            Just(Some(vec![Extent::new(0x90_0000, 0x20), Extent::new(0xa0_0001, 0x20)])),
        ],
        pages in 0usize..=3,
    ) {
        let ctrl = ControllerCaps {
            page_size: PageSize::SIZE_4K,
            sgl: SglCaps::new(sgls).with_msdbd(msdbd),
            max_transfer: mdts.map_or(MaxTransfer::Unlimited, MaxTransfer::Bytes),
        };
        let queue = if admin { QueueKind::Admin } else { QueueKind::Io };
        let direction = if read { Direction::Read } else { Direction::Write };
        let slice: Vec<Extent> =
            segments.iter().map(|s| Extent::new(s.dma, u64::from(s.len))).collect();
        let mapped = segments.iter().map(|s| Extent::new(s.dma, u64::from(s.len)));
        // A chained table walked entry by entry (as `sg_next` does), whose length is not
        // known ahead: its iterator's size hint is no exact count.
        let count = segments.len();
        let chained = core::iter::successors((count > 0).then_some(0usize), move |&i| {
            (i + 1 < count).then_some(i + 1)
        })
        .map(|i| Extent::new(segments[i].dma, u64::from(segments[i].len)));

        let mut by_slice = Request::new(&slice, direction, queue).with_block_size(block_size);
        let mut by_iter = Request::of(mapped, direction, queue).with_block_size(block_size);
        let mut by_chain = Request::of(chained, direction, queue).with_block_size(block_size);
        if let Some(metadata) = &metadata {
            by_slice = by_slice.with_metadata(metadata);
            by_iter = by_iter.with_metadata(metadata);
            by_chain = by_chain.with_metadata(metadata);
        }
        let expected = everything(&by_slice, &ctrl, policy, pages);
        prop_assert_eq!(&expected, &everything(&by_iter, &ctrl, policy, pages));
        prop_assert_eq!(&expected, &everything(&by_chain, &ctrl, policy, pages));
    }
}
