//! How a request's metadata travels with its data pointer: MPTR as one contiguous buffer
//! (PSDT 00b or 01b), or an SGL behind MPTR (PSDT 10b).

use super::{sgl_builder, ControllerCaps, DptrError, Request, SglMetadata};
use crate::sgl::{self, contiguous_mptr, Capability};
use crate::{Extent, Piece};

/// The metadata buffer as one extent, when its non-empty extents form one physical run.
fn single_run(extents: &[Extent]) -> Option<Extent> {
    let mut run: Option<Piece> = None;
    for extent in extents.iter().filter(|e| !e.is_empty()) {
        let piece = Piece::Data(*extent);
        match run.as_mut() {
            None => run = Some(piece),
            Some(r) => {
                if !r.try_merge(&piece) {
                    return None;
                }
            }
        }
    }
    match run {
        Some(Piece::Data(extent)) => Some(extent),
        // No non-empty extent: an empty buffer at the first extent's address.
        _ => Some(extents.first().copied().unwrap_or_default()),
    }
}

/// The metadata form for PRP data (PSDT 00b): a dword-aligned contiguous buffer.
#[inline]
pub(super) fn prp_metadata(
    ctrl: &ControllerCaps,
    metadata: Option<&[Extent]>,
) -> Result<Option<u64>, DptrError> {
    let Some(extents) = metadata else {
        return Ok(None);
    };
    let Some(buffer) = single_run(extents) else {
        // Several pieces need an SGL behind MPTR, which PRP data cannot have.
        return Err(DptrError::Metadata(sgl::BuildError::NotSupported {
            capability: Capability::MetadataSgl,
        }));
    };
    contiguous_mptr(buffer, false, &ctrl.sgl)
        .map(Some)
        .map_err(DptrError::Metadata)
}

/// The metadata form for SGL data: contiguous (PSDT 01b) when allowed, else an SGL behind
/// MPTR (PSDT 10b).
pub(super) fn sgl_metadata<E>(
    ctrl: &ControllerCaps,
    request: &Request<'_, E>,
) -> Result<SglMetadata, DptrError> {
    let Some(extents) = request.metadata else {
        return Ok(SglMetadata::None);
    };
    let contiguous = single_run(extents).map(|buffer| contiguous_mptr(buffer, true, &ctrl.sgl));
    match contiguous {
        Some(Ok(mptr)) => Ok(SglMetadata::Contiguous(mptr)),
        Some(Err(e)) if !ctrl.sgl.has(Capability::MetadataSgl) => Err(DptrError::Metadata(e)),
        _ => {
            if !ctrl.sgl.has(Capability::MetadataSgl) {
                return Err(DptrError::Metadata(sgl::BuildError::NotSupported {
                    capability: Capability::MetadataSgl,
                }));
            }
            sgl_builder(ctrl, request)
                .plan(extents)
                .map(SglMetadata::Segment)
                .map_err(DptrError::Metadata)
        }
    }
}
