//! The policies that choose between PRPs and an SGL, and the facts they weigh: what rules an
//! SGL out before any planning, Linux's rule, and what each layout costs in descriptor memory.

use core::borrow::Borrow;

use super::{ControllerCaps, Request, SglRefusal};
use crate::extent::{Extents, PageSize};
use crate::prp::geometry::{list_entries, list_slots_read, pages_touched};
use crate::prp::PrpPlan;
use crate::{Piece, QueueKind};

/// When to prefer an SGL over PRPs; see the [module docs](super) for the trade-offs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum SglPolicy {
    /// PRPs only.
    Never,
    /// Linux nvme-pci (`nvme_map_data`): a request of one physical segment goes as PRPs when
    /// it touches at most two pages and as one SGL Data Block otherwise; a longer scatter list
    /// goes as an SGL when its average physical segment (bytes / merged extents, rounded up)
    /// is at least `threshold` bytes. A threshold of 0 disables SGLs entirely (as
    /// `sgl_threshold=0` does), so what PRPs cannot carry is split, never sent as an SGL.
    Linux {
        /// The `sgl_threshold` module parameter, in bytes.
        threshold: u64,
    },
    /// SPDK: an SGL whenever the controller supports SGLs.
    Always,
    /// Whichever layout writes (and makes the controller fetch) fewer descriptor bytes; PRPs
    /// on a tie, and when the SGL would exceed the controller's SDT.
    SmallestFootprint,
}

impl SglPolicy {
    /// Linux's default: `sgl_threshold` = 32 KiB.
    pub const LINUX: SglPolicy = SglPolicy::Linux {
        threshold: 32 * 1024,
    };
}

/// Why an SGL cannot be used for `request` at all, whatever its extents: the checks that
/// cost nothing, made before any planning.
#[inline]
pub(super) fn sgl_refusal<E>(
    request: &Request<'_, E>,
    ctrl: &ControllerCaps,
    policy: SglPolicy,
) -> Option<SglRefusal> {
    if request.queue == QueueKind::Admin {
        Some(SglRefusal::AdminQueue)
    } else if !ctrl.sgl.supported() {
        Some(SglRefusal::NotSupported)
    } else if matches!(policy, SglPolicy::Never | SglPolicy::Linux { threshold: 0 }) {
        // Linux with `sgl_threshold=0` never builds an SGL, not even as a fallback.
        Some(SglRefusal::Policy)
    } else {
        None
    }
}

/// Descriptors per page-sized segment, for footprint estimates.
pub(super) fn page_segment_capacity(ps: PageSize) -> u64 {
    ps.bytes() / 16
}

/// Bytes of PRP list memory a plan writes (list pages page aligned).
pub(super) fn prp_footprint(plan: &PrpPlan) -> u64 {
    if !plan.needs_list() {
        return 0;
    }
    let entries = list_entries(plan.pages());
    list_slots_read(plan.page_size(), 0, entries).saturating_mul(8)
}

/// Whether Linux's `nvme_map_data` sends `extents` as an SGL (where it may use one): one
/// physical segment when it touches more than two pages; more segments when their average
/// (bytes over merged non-empty extents, rounded up) reaches `threshold`.
pub(super) fn linux_prefers_sgl<E: Extents>(extents: &E, ps: PageSize, threshold: u64) -> bool {
    // One pass for every shape: one extent is one physical segment, the `runs == 1` arm.
    let mut runs = 0u64;
    let mut total = 0u64;
    let mut first = None;
    let mut run: Option<Piece> = None;
    for extent in extents.clone() {
        let extent = *extent.borrow();
        if extent.is_empty() {
            continue;
        }
        total = total.saturating_add(extent.len);
        first.get_or_insert(extent.addr);
        let piece = Piece::Data(extent);
        if !run.as_mut().is_some_and(|r| r.try_merge(&piece)) {
            run = Some(piece);
            runs = runs.saturating_add(1);
        }
    }
    match (runs, first) {
        (1, Some(addr)) => pages_touched(ps, addr, total) > 2,
        // No bytes: nothing to send as an SGL.
        (0, _) => false,
        _ => {
            let average = total.checked_div(runs).map_or(0, |avg| {
                avg.saturating_add(u64::from(total.checked_rem(runs) != Some(0)))
            });
            average >= threshold
        }
    }
}
