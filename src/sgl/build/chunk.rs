//! Cutting a run into descriptors: the longest piece one descriptor of a kind carries, and the
//! descriptor for part of a run. Planning counts descriptors by the same limit that writing
//! cuts by, so it sits apart from both.

use crate::piece::{Flat, Kind};
use crate::sgl::descriptor::{DataDescriptor, MAX_KEYED_LEN};
use crate::spec::SglSubtype;

/// The transport-specific subtype the builder gives Transport SGL Data Blocks (Ah, the one
/// NVMe/TCP uses).
const TRANSPORT_SUBTYPE: SglSubtype = SglSubtype::TransportSpecific(0xA);

/// The longest piece one descriptor of `kind` can carry. In dword-granular mode the limit is
/// rounded down to a multiple of 4, so every descriptor after a cut stays aligned.
pub(super) const fn max_chunk(kind: Kind, granular: bool) -> u64 {
    let max = match kind {
        Kind::Keyed => MAX_KEYED_LEN as u64,
        _ => u32::MAX as u64,
    };
    if granular {
        max & !3
    } else {
        max
    }
}

/// The descriptor for `len` bytes of `run`, starting `skip` bytes into it. Runs fit the
/// address space (checked by `plan`), so `start + skip` does not overflow.
#[inline(always)]
pub(super) fn chunk_descriptor(run: &Flat, skip: u64, len: u32) -> DataDescriptor {
    let start = run.start.wrapping_add(skip);
    match run.kind {
        Kind::Data => DataDescriptor::Block { addr: start, len },
        Kind::Skip => DataDescriptor::BitBucket { len },
        Kind::Keyed => DataDescriptor::Keyed {
            addr: start,
            len,
            key: run.key,
            subtype: SglSubtype::Address,
        },
        Kind::Capsule => DataDescriptor::CapsuleBlock { offset: start, len },
        Kind::Transport => DataDescriptor::Transport {
            len,
            subtype: TRANSPORT_SUBTYPE,
        },
    }
}
