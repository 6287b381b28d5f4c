//! A transfer, piece by piece: what the builders take and the walkers yield.
//!
//! One type serves both sides and both pointer kinds, so that a round trip is a plain
//! comparison: the SGL builder takes a list of [`Piece`]s (or plain [`Extent`]s), and the
//! PRP and SGL walkers yield the same list back, physically adjacent pieces merged, exactly as
//! [`Piece::try_merge`] merges them.

use crate::extent::Extent;

/// One piece of a transfer, in transfer order.
///
/// Every variant has a length ([`Piece::len`]) that counts toward the transfer. The
/// controller moves `Data` bytes through host memory, discards `Skip` bytes (reads only), and
/// leaves the three fabrics variants to its transport.
///
/// Over PCIe only `Data` and `Skip` occur: a PRP walk yields `Data` alone, and an SGL walk
/// yields `Keyed`, `Capsule` and `Transport` only when its [`SglCaps`](crate::sgl::SglCaps)
/// say the controller takes those descriptors, which only an NVMe over Fabrics controller
/// does. A PCIe emulator can treat them as unreachable with an error arm, never a panic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Piece {
    /// Bytes in memory the controller reaches by DMA: an SGL Data Block (subtype Address).
    Data(Extent),
    /// The next `n` bytes of the transfer are discarded: an SGL Bit Bucket. Only a read (the
    /// controller writing host memory) has bytes to discard; in a write a bit bucket means
    /// nothing, so the walker never yields one there and the builder refuses one.
    Skip(u64),
    /// Remote memory named by a key: a Keyed SGL Data Block (fabrics, e.g. an RDMA rkey).
    Keyed {
        /// The remote address range.
        extent: Extent,
        /// The key that grants access to it.
        key: u32,
    },
    /// Data carried in the command capsule at `offset`: an SGL Data Block with subtype
    /// Offset (fabrics in-capsule data).
    Capsule {
        /// Byte offset into the capsule's data area.
        offset: u64,
        /// Number of bytes.
        len: u64,
    },
    /// `n` bytes the transport carries itself: a Transport SGL Data Block (fabrics).
    Transport(u64),
}

impl Piece {
    /// Bytes of the transfer this piece accounts for.
    pub const fn len(&self) -> u64 {
        match *self {
            Piece::Data(extent) | Piece::Keyed { extent, .. } => extent.len,
            Piece::Skip(n) | Piece::Transport(n) => n,
            Piece::Capsule { len, .. } => len,
        }
    }

    /// The host memory of a [`Piece::Data`]; `None` for every other kind.
    pub const fn data(&self) -> Option<Extent> {
        match *self {
            Piece::Data(extent) => Some(extent),
            _ => None,
        }
    }

    /// True when the piece accounts for no bytes.
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Append `next` to this piece when the two are one run: data (or keyed data with the same
    /// key) that is physically adjacent, capsule data at adjacent offsets, or two skips or two
    /// transport pieces. Returns false, changing nothing, when they are not, or when the merged
    /// length would not fit 64 bits.
    ///
    /// The builder merges its input this way before it writes descriptors, and the walker
    /// merges its output the same way, so a round trip gives back the merged input.
    #[inline]
    pub fn try_merge(&mut self, next: &Piece) -> bool {
        let mut run = Flat::of(self);
        let merged = run.extend(&Flat::of(next));
        if merged {
            *self = run.segment();
        }
        merged
    }
}

/// The kind of a piece, in [`Flat`] form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Data,
    Skip,
    Keyed,
    Capsule,
    Transport,
}

/// A piece as plain fields: what the builder's and walker's loops work on. An enum passed
/// through memory field by field costs store-forwarding stalls in a hot loop; these fields
/// stay in registers. `start` is the address or capsule offset (0 for skips and transport
/// pieces) and `key` the key of keyed data (0 otherwise).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Flat {
    pub(crate) kind: Kind,
    pub(crate) key: u32,
    pub(crate) start: u64,
    pub(crate) len: u64,
}

impl Flat {
    #[inline(always)]
    pub(crate) const fn of(piece: &Piece) -> Flat {
        let (kind, key, start, len) = match *piece {
            Piece::Data(e) => (Kind::Data, 0, e.addr, e.len),
            Piece::Skip(n) => (Kind::Skip, 0, 0, n),
            Piece::Keyed { extent, key } => (Kind::Keyed, key, extent.addr, extent.len),
            Piece::Capsule { offset, len } => (Kind::Capsule, 0, offset, len),
            Piece::Transport(n) => (Kind::Transport, 0, 0, n),
        };
        Flat {
            kind,
            key,
            start,
            len,
        }
    }

    #[inline(always)]
    pub(crate) const fn segment(&self) -> Piece {
        match self.kind {
            Kind::Data => Piece::Data(Extent::new(self.start, self.len)),
            Kind::Skip => Piece::Skip(self.len),
            Kind::Keyed => Piece::Keyed {
                extent: Extent::new(self.start, self.len),
                key: self.key,
            },
            Kind::Capsule => Piece::Capsule {
                offset: self.start,
                len: self.len,
            },
            Kind::Transport => Piece::Transport(self.len),
        }
    }

    /// No run yet: a placeholder with no bytes (real runs are never empty).
    pub(crate) const NONE: Flat = Flat {
        kind: Kind::Data,
        key: 0,
        start: 0,
        len: 0,
    };

    /// Feed `piece` (non-empty) to the run being merged in `self` ([`Flat::NONE`] for none
    /// yet): merge it, or start a new run with it and return the run it ends.
    #[inline(always)]
    pub(crate) fn push(&mut self, piece: Flat) -> Option<Flat> {
        if self.len != 0 && self.extend(&piece) {
            return None;
        }
        let done = core::mem::replace(self, piece);
        (done.len != 0).then_some(done)
    }

    /// The merge rule of [`Piece::try_merge`], the one place it is stated.
    #[inline(always)]
    pub(crate) fn extend(&mut self, next: &Flat) -> bool {
        if self.kind != next.kind || self.key != next.key {
            return false;
        }
        let continues = match self.kind {
            Kind::Skip | Kind::Transport => true,
            Kind::Data | Kind::Keyed | Kind::Capsule => {
                self.start.checked_add(self.len) == Some(next.start)
            }
        };
        match self.len.checked_add(next.len) {
            Some(len) if continues => {
                self.len = len;
                true
            }
            _ => false,
        }
    }
}

impl From<Extent> for Piece {
    #[inline]
    fn from(extent: Extent) -> Self {
        Piece::Data(extent)
    }
}

impl From<&Extent> for Piece {
    #[inline]
    fn from(extent: &Extent) -> Self {
        Piece::Data(*extent)
    }
}

impl From<&Piece> for Piece {
    #[inline]
    fn from(segment: &Piece) -> Self {
        *segment
    }
}

impl core::fmt::Display for Piece {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            Piece::Data(extent) => write!(f, "data {extent}"),
            Piece::Skip(n) => write!(f, "skip {n:#x}"),
            Piece::Keyed { extent, key } => write!(f, "keyed {extent} key {key:#x}"),
            Piece::Capsule { offset, len } => write!(f, "capsule @{offset:#x}+{len:#x}"),
            Piece::Transport(n) => write!(f, "transport {n:#x}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_only_runs() {
        let mut a = Piece::Data(Extent::new(0x1000, 0x100));
        assert!(a.try_merge(&Piece::Data(Extent::new(0x1100, 0x10))));
        assert_eq!(a, Piece::Data(Extent::new(0x1000, 0x110)));
        assert!(!a.try_merge(&Piece::Data(Extent::new(0x1200, 0x10))));
        assert!(!a.try_merge(&Piece::Skip(4)));
        let mut s = Piece::Skip(4);
        assert!(s.try_merge(&Piece::Skip(8)));
        assert_eq!(s.len(), 12);
        assert!(!s.try_merge(&Piece::Skip(u64::MAX)));
        let mut k = Piece::Keyed {
            extent: Extent::new(0, 8),
            key: 1,
        };
        assert!(!k.try_merge(&Piece::Keyed {
            extent: Extent::new(8, 8),
            key: 2
        }));
        assert!(k.try_merge(&Piece::Keyed {
            extent: Extent::new(8, 8),
            key: 1
        }));
        let mut c = Piece::Capsule { offset: 0, len: 4 };
        assert!(c.try_merge(&Piece::Capsule { offset: 4, len: 4 }));
        assert_eq!(c.len(), 8);
        // A run that would reach 2^64 bytes long stays two pieces.
        let mut top = Piece::Data(Extent::new(0, 1 << 63));
        assert!(!top.try_merge(&Piece::Data(Extent::new(1 << 63, 1 << 63))));
    }
}
