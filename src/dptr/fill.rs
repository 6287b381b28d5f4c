//! Writing the chosen data pointer: [`fill_sqe`] (choose and write in one call, with its fast
//! paths) and [`Plan::fill`] (write what [`plan`](super::plan) chose). Choosing lives in the
//! parent module, and filling one command of a split in `split`; this file is where descriptor
//! memory and the command are written.

use core::borrow::Borrow;

use super::policy::{linux_prefers_sgl, sgl_refusal};
use super::{
    max_transfer, plan, prp_builder, sgl_builder, ControllerCaps, DescriptorMemory, DptrError,
    Filled, Outcome, Plan, Request, SglMetadata, SglPolicy,
};
use crate::extent::Extents;
use crate::sgl;
use crate::spec::{Psdt, SubmissionEntry};
use crate::Extent;

impl<'e, E: Extents> Plan<'e, E> {
    /// Write the planned layout into `memory` and the command's PSDT, DPTR and MPTR into
    /// `sqe`. Checks all memory before writing any: on error nothing (descriptor memory or
    /// command) has been written. A split plan is not one command: it is
    /// [`DptrError::NeedsSplit`], and its chunks are filled one by one
    /// ([`fill_chunk`](super::fill_chunk)).
    #[inline]
    pub fn fill(
        self,
        sqe: &mut SubmissionEntry,
        request: &Request<'e, E>,
        ctrl: &ControllerCaps,
        memory: &mut DescriptorMemory<'_, '_>,
    ) -> Result<Filled, DptrError> {
        let filled = match self {
            Plan::Split(split) => {
                return Err(DptrError::NeedsSplit {
                    commands: split.commands(),
                })
            }
            Plan::Prp { plan, mptr } => {
                let layout = prp_builder(ctrl, request).build_planned(
                    &plan,
                    request.extents.clone(),
                    memory.prp_lists,
                )?;
                sqe.set_psdt(Psdt::Prp);
                sqe.set_prp1(layout.pair.prp1);
                sqe.set_prp2(layout.pair.prp2.raw());
                Filled {
                    psdt: Psdt::Prp,
                    mptr: mptr.unwrap_or(0),
                    lists_used: layout.list_pages_used,
                    metadata_segments_used: 0,
                }
            }
            Plan::Sgl { plan, metadata } => {
                let builder = sgl_builder(ctrl, request);
                let data_segments = sgl::place(&plan, memory.sgl_segments)?;
                let metadata_layout = match metadata {
                    SglMetadata::Segment(meta_plan) => {
                        let (mptr_segment, chain) = memory
                            .metadata_segments
                            .split_first_mut()
                            .ok_or(sgl::BuildError::SegmentMemoryTooSmall {
                                descriptors: 1,
                                given: 0,
                            })
                            .map_err(DptrError::Metadata)?;
                        let extents = request.metadata.unwrap_or_default();
                        builder
                            .plan_metadata(extents, mptr_segment)
                            .map_err(DptrError::Metadata)?;
                        let used = sgl::place(&meta_plan, chain).map_err(DptrError::Metadata)?;
                        // Everything is checked: write the metadata SGL, then the data SGL.
                        let first = builder.write(extents, &meta_plan, chain);
                        sgl::write_metadata_pointer(mptr_segment, first);
                        Some((mptr_segment.bus_addr(), used.saturating_add(1)))
                    }
                    SglMetadata::None | SglMetadata::Contiguous(_) => None,
                };
                let sgl1 = builder.write(request.extents.clone(), &plan, memory.sgl_segments);
                let (psdt, mptr, metadata_segments_used) = match (metadata, metadata_layout) {
                    (_, Some((mptr, used))) => (Psdt::SglMetadataSgl, mptr, used),
                    (SglMetadata::Contiguous(mptr), None) => (Psdt::Sgl, mptr, 0),
                    _ => (Psdt::Sgl, 0, 0),
                };
                sqe.set_psdt(psdt);
                sqe.set_sgl1(sgl1.to_raw());
                Filled {
                    psdt,
                    mptr,
                    lists_used: data_segments,
                    metadata_segments_used,
                }
            }
        };
        sqe.set_mptr(filled.mptr);
        Ok(filled)
    }
}

/// Choose PRPs or an SGL for `request` under `policy`, write the layout into `memory`, and
/// fill `sqe`'s PSDT, DPTR and MPTR; or hand back the split plan when no single command can
/// carry the data. On error nothing has been written.
///
/// The same as [`plan`] then [`Plan::fill`], with fast paths for what most I/O is. One buffer
/// whose pointer fits the command is written in the caller, a few comparisons and four
/// stores, and one buffer with a PRP list in one call of the PRP builder; any other request
/// without separate metadata is built by the kind the policy prefers in one call of its
/// builder, and plans are made only when the builder refuses the extents.
// Inline, with everything past the quick case out of line: the quick case then costs what a
// hand-written driver's does, and the caller does not pay for the general path's stack frame.
#[inline]
pub fn fill_sqe<'e, E: Extents>(
    sqe: &mut SubmissionEntry,
    request: &Request<'e, E>,
    ctrl: &ControllerCaps,
    policy: SglPolicy,
    memory: &mut DescriptorMemory<'_, '_>,
) -> Result<Outcome<'e, E>, DptrError> {
    match fill_one_buffer(sqe, request, ctrl, policy, memory) {
        Some(filled) => Ok(Outcome::Filled(filled)),
        None => fill_sqe_general(sqe, request, ctrl, policy, memory),
    }
}

/// [`fill_sqe`] past its quick case, out of line.
#[inline(never)]
fn fill_sqe_general<'e, E: Extents>(
    sqe: &mut SubmissionEntry,
    request: &Request<'e, E>,
    ctrl: &ControllerCaps,
    policy: SglPolicy,
    memory: &mut DescriptorMemory<'_, '_>,
) -> Result<Outcome<'e, E>, DptrError> {
    if request.metadata.is_none() {
        if let Some(filled) = fill_preferred(sqe, request, ctrl, policy, memory)? {
            return Ok(Outcome::Filled(filled));
        }
    }
    match plan(request, ctrl, policy)? {
        Plan::Split(split) => Ok(Outcome::Split(split)),
        plan => plan.fill(sqe, request, ctrl, memory).map(Outcome::Filled),
    }
}

/// The quick case of [`fill_sqe`]: one buffer and no separate metadata, the shape of most
/// I/O. PRP1 and PRP2 for a buffer within two pages; beyond, SGL1 as one Data Block where the
/// policy takes an SGL (under [`SglPolicy::Always`], whatever the length), else PRP2 and a
/// list ([`fill_prp_list`]). `None`, having written nothing, for any other request and for
/// every refusal: the general path then decides, and reports the error.
///
/// Its invariant: whatever it fills, `plan` then `Plan::fill` would fill too (tests/dptr.rs
/// checks the two against each other on random requests). It holds because each policy's
/// choice for one buffer is made here as [`plan`] makes it (Linux's rule and the smallest
/// footprint both come down to "within two pages" for one buffer, a tie going to PRPs), and
/// the builders check every rule `plan` would.
#[inline(always)]
fn fill_one_buffer<E: Extents>(
    sqe: &mut SubmissionEntry,
    request: &Request<'_, E>,
    ctrl: &ControllerCaps,
    policy: SglPolicy,
    memory: &mut DescriptorMemory<'_, '_>,
) -> Option<Filled> {
    if request.metadata.is_some() {
        return None;
    }
    // One extent, and no second: two steps of a clone (for a slice, the length check).
    let mut peek = request.extents.clone().into_iter();
    let (Some(only), None) = (peek.next(), peek.next()) else {
        return None;
    };
    let only: &Extent = only.borrow();
    let ps = ctrl.page_size;
    let within_two_pages =
        ps.offset_of(only.addr).saturating_add(only.len) <= ps.bytes().saturating_mul(2);
    let sgl_allowed = || sgl_refusal(request, ctrl, policy).is_none();
    let use_sgl = match policy {
        SglPolicy::Never => false,
        SglPolicy::Always => sgl_allowed(),
        SglPolicy::Linux { .. } | SglPolicy::SmallestFootprint => {
            !within_two_pages && sgl_allowed()
        }
    };
    let psdt = if use_sgl {
        let sgl1 = sgl::data_block_sgl1(&ctrl.sgl, max_transfer(ctrl, request), *only)?;
        sqe.set_sgl1(sgl1.to_raw());
        Psdt::Sgl
    } else if within_two_pages {
        let pair = prp_builder(ctrl, request).build_inline(*only).ok()?;
        sqe.set_prp1(pair.prp1);
        sqe.set_prp2(pair.prp2.raw());
        Psdt::Prp
    } else {
        // Out of line: the list writer's registers and stack frame would otherwise be paid
        // by every caller, the 4 KiB command included.
        return fill_prp_list(sqe, *only, request, ctrl, memory);
    };
    sqe.set_psdt(psdt);
    sqe.set_mptr(0);
    Some(Filled {
        psdt,
        mptr: 0,
        lists_used: 0,
        metadata_segments_used: 0,
    })
}

/// [`fill_one_buffer`] for a buffer beyond two pages carried by PRPs: PRP2 and a list.
#[inline(never)]
fn fill_prp_list<E>(
    sqe: &mut SubmissionEntry,
    only: Extent,
    request: &Request<'_, E>,
    ctrl: &ControllerCaps,
    memory: &mut DescriptorMemory<'_, '_>,
) -> Option<Filled> {
    let layout = prp_builder(ctrl, request)
        .build([only], memory.prp_lists)
        .ok()?;
    sqe.set_prp1(layout.pair.prp1);
    sqe.set_prp2(layout.pair.prp2.raw());
    sqe.set_psdt(Psdt::Prp);
    sqe.set_mptr(0);
    Some(Filled {
        psdt: Psdt::Prp,
        mptr: 0,
        lists_used: layout.list_pages_used,
        metadata_segments_used: 0,
    })
}

/// The general path's first step, for a request without separate metadata: build the kind
/// the policy prefers in one call of its builder, which plans and writes in a single step.
/// `Ok(None)`, having written nothing, when the policy needs both plans to decide
/// ([`SglPolicy::SmallestFootprint`]) or when the preferred builder refuses
/// the extents by a rule: the general path then decides from scratch, falling back to the
/// other kind or to a split.
///
/// Its invariant: whatever it returns, `plan` then `Plan::fill` would return too
/// (tests/dptr.rs checks the two against each other on random requests). It holds because,
/// without metadata, `plan` chooses the preferred kind whenever that kind's rules accept the
/// extents, and `Plan::fill` then builds it as the builder does, refusing the same
/// descriptor memory with the same error.
#[inline]
fn fill_preferred<E: Extents>(
    sqe: &mut SubmissionEntry,
    request: &Request<'_, E>,
    ctrl: &ControllerCaps,
    policy: SglPolicy,
    memory: &mut DescriptorMemory<'_, '_>,
) -> Result<Option<Filled>, DptrError> {
    let prefer_sgl = match (sgl_refusal(request, ctrl, policy), policy) {
        (Some(_), _) | (None, SglPolicy::Never) => false,
        (None, SglPolicy::Always) => true,
        (None, SglPolicy::Linux { threshold }) => {
            linux_prefers_sgl(&request.extents, ctrl.page_size, threshold)
        }
        // Comparing footprints takes both plans (one buffer, where the choice is plain, is
        // the quick path's).
        (None, SglPolicy::SmallestFootprint) => return Ok(None),
    };
    if prefer_sgl {
        let layout =
            match sgl_builder(ctrl, request).build(request.extents.clone(), memory.sgl_segments) {
                Ok(layout) => layout,
                Err(e) if e.is_about_memory() => return Err(DptrError::Sgl(e)),
                Err(_) => return Ok(None),
            };
        sqe.set_psdt(Psdt::Sgl);
        sqe.set_sgl1(layout.sgl1.to_raw());
        sqe.set_mptr(0);
        Ok(Some(Filled {
            psdt: Psdt::Sgl,
            mptr: 0,
            lists_used: layout.segments_used,
            metadata_segments_used: 0,
        }))
    } else {
        let builder = prp_builder(ctrl, request);
        let (pair, lists_used) = match builder
            .build(request.extents.clone(), memory.prp_lists)
            .map(|layout| (layout.pair, layout.list_pages_used))
        {
            Ok(built) => built,
            Err(e) if e.is_about_memory() => return Err(DptrError::Prp(e)),
            Err(_) => return Ok(None),
        };
        sqe.set_psdt(Psdt::Prp);
        sqe.set_prp1(pair.prp1);
        sqe.set_prp2(pair.prp2.raw());
        sqe.set_mptr(0);
        Ok(Some(Filled {
            psdt: Psdt::Prp,
            mptr: 0,
            lists_used,
            metadata_segments_used: 0,
        }))
    }
}
