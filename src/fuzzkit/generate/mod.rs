//! The layouts a [`DataPointerCase`](super::DataPointerCase) is made of: valid ones from the
//! crate's builders, then one rule broken, or hostile bytes.
//!
//! Every buffer a layout uses lies in a slot of its own ([`slot`]), so that no two pieces of
//! one transfer overlap and a read's result is the same whatever order a controller writes
//! its pieces in.

use alloc::vec::Vec;

use arbitrary::{Result, Unstructured};

use super::emulator::{Hostile, Label, Shape};
use super::{MemoryImage, Target, MAX_PIECES, MAX_SEGMENTS};
use crate::extent::Extent;
use crate::prp::{Prp2, PrpBuilder, PrpListPage};
use crate::rule::Rule;
use crate::sgl::{SegmentBuf, SglBuilder};
use crate::spec::{Psdt, SglDescriptor, SglDescriptorType, SglSubtype, SglSupport, Sgls};
use crate::{Direction, Piece};

/// A data pointer and the memory it needs.
#[derive(Clone, Debug)]
pub(super) struct Layout {
    pub label: Label,
    pub psdt: Psdt,
    /// DPTR: PRP1 and PRP2, or SGL1.
    pub dptr: [u8; 16],
    pub image: MemoryImage,
    /// The buffers as the host meant them.
    pub intended: Vec<Piece>,
    /// Where the layout's lists or segments are, and what was written there.
    pub descriptors: Vec<(u64, Vec<u8>)>,
    /// MPTR, and the metadata buffers as the host meant them (none without metadata).
    pub mptr: u64,
    pub metadata: Vec<Piece>,
}

impl Layout {
    pub(super) fn prp(prp1: u64, prp2: u64) -> [u8; 16] {
        let mut dptr = [0u8; 16];
        let (a, b) = dptr.split_at_mut(8);
        a.copy_from_slice(&prp1.to_le_bytes());
        b.copy_from_slice(&prp2.to_le_bytes());
        dptr
    }

    pub(super) fn prps(&self) -> (u64, u64) {
        let word = |range: core::ops::Range<usize>| {
            self.dptr
                .get(range)
                .and_then(|b| <[u8; 8]>::try_from(b).ok())
                .map_or(0, u64::from_le_bytes)
        };
        (word(0..8), word(8..16))
    }

    pub(super) fn sgl1(&self) -> SglDescriptor {
        SglDescriptor::from_bytes(self.dptr)
    }

    pub(super) fn set_sgl1(&mut self, d: SglDescriptor) {
        self.dptr = d.to_bytes();
    }

    /// Write the descriptors into the image (after the data, so a hostile case that points
    /// a data buffer at a list sees the list).
    pub(super) fn finish(mut self) -> Layout {
        for (addr, bytes) in &self.descriptors {
            self.image.put(*addr, bytes.clone());
        }
        self
    }
}

/// Data slot `i` of the target's data space: each piece of a transfer gets its own.
pub(super) fn slot(target: &Target, i: usize) -> Extent {
    let count = MAX_PIECES.saturating_add(1) as u64;
    let size = target.space.data.len.checked_div(count).unwrap_or(0);
    let size = size & !target.page_size.bytes().wrapping_sub(1);
    Extent::new(
        target
            .space
            .data
            .addr
            .saturating_add(size.saturating_mul(i as u64)),
        size,
    )
}

/// Descriptor page `i` of the target's descriptor space.
pub(super) fn descriptor_page(target: &Target, i: usize) -> u64 {
    let page = target.page_size.bytes();
    let base = target.space.descriptors.addr.next_multiple_of(page);
    base.saturating_add(page.saturating_mul(i as u64))
}

/// A cheap deterministic byte stream for buffer contents (the fuzzer's bytes choose the seed,
/// not every byte, so that a case stays small to describe).
pub(super) fn fill(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[4]
        })
        .collect()
}

/// The granularity of SGL data the target takes: bytes, or dwords.
pub(super) fn sgl_grain(target: &Target) -> u64 {
    if target.sgls.support() == SglSupport::ByteAligned {
        1
    } else {
        4
    }
}

/// Which way a command moves and how many blocks: the first draws of every case.
pub(super) fn draw_command(u: &mut Unstructured<'_>, target: &Target) -> Result<(Direction, u32)> {
    let direction = if u.arbitrary()? {
        Direction::Read
    } else {
        Direction::Write
    };
    let blocks = u.int_in_range(1..=target.max_blocks().max(1))?;
    Ok((direction, blocks))
}

/// `len` bytes cut into at most `count` lengths, each a multiple of `grain` but the last
/// (which takes what is left), none empty.
pub(super) fn cut(
    u: &mut Unstructured<'_>,
    len: u64,
    count: usize,
    grain: u64,
) -> Result<Vec<u64>> {
    let mut lengths = Vec::new();
    let mut left = len;
    for i in 0..count {
        if left == 0 {
            break;
        }
        let take = if i.saturating_add(1) == count {
            left
        } else {
            round_down(u.int_in_range(1..=left)?, grain).clamp(grain.min(left), left)
        };
        lengths.push(take);
        left = left.saturating_sub(take);
    }
    Ok(lengths)
}

/// `value` rounded down to a multiple of `grain` (1, 4 or a page).
pub(super) fn round_down(value: u64, grain: u64) -> u64 {
    value.checked_div(grain).unwrap_or(0).saturating_mul(grain)
}

/// Put the data buffers' initial bytes into the image.
pub(super) fn fill_buffers(image: &mut MemoryImage, pieces: &[Piece], seed: u64) {
    for (i, piece) in pieces.iter().enumerate() {
        if let Piece::Data(e) = piece {
            let len = usize::try_from(e.len).unwrap_or(0);
            image.put(e.addr, fill(seed.wrapping_add(i as u64), len));
        }
    }
}

/// Where a (Last) Segment descriptor pointing at segment `s` lives: SGL1, or the last
/// descriptor of segment `s - 1`.
pub(super) fn pointer_to(
    layout: &Layout,
    s: usize,
) -> Option<(Option<(usize, usize)>, SglDescriptor)> {
    if s == 0 {
        return Some((None, layout.sgl1()));
    }
    let prev = s.checked_sub(1)?;
    let (_, bytes) = layout.descriptors.get(prev)?;
    let d = (bytes.len() / 16).checked_sub(1)?;
    let at = d.saturating_mul(16);
    let raw = <[u8; 16]>::try_from(bytes.get(at..at.saturating_add(16))?).ok()?;
    Some((Some((prev, d)), SglDescriptor::from_bytes(raw)))
}

mod broken;
mod hostile;
mod valid;

pub(super) use broken::break_one_rule;
pub(super) use hostile::hostile;
pub(super) use valid::{data_in_cmb, in_cmb, valid_prp, valid_sgl, with_metadata};
