//! Cutting a run into descriptors: the longest piece one descriptor of a kind carries, the
//! descriptor for part of a run, and the iterator that cuts a whole run. Planning counts
//! descriptors by the same limit that writing cuts by, so it sits apart from both.

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

/// Cuts one run into descriptors of at most `max` bytes.
pub(super) struct Chunks {
    run: Flat,
    done: u64,
    max: u64,
}

impl Chunks {
    pub(super) const fn new(run: Flat, max: u64) -> Self {
        Chunks { run, done: 0, max }
    }
}

impl Iterator for Chunks {
    type Item = DataDescriptor;

    fn next(&mut self) -> Option<DataDescriptor> {
        let left = self.run.len.saturating_sub(self.done);
        if left == 0 {
            return None;
        }
        let take = left.min(self.max);
        // `take` is at most `max`, which fits 32 bits.
        let len = u32::try_from(take).unwrap_or(u32::MAX);
        let descriptor = chunk_descriptor(&self.run, self.done, len);
        self.done = self.done.saturating_add(take);
        Some(descriptor)
    }
}
