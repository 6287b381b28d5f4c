//! The rules, one descriptor at a time: the start of a walk (SGL1 or MPTR), a pointer to a
//! segment, and a data descriptor. Every path through the walker ends up here, so each rule
//! is written once, in the order [`SglWalker`]'s documentation lists them.

use zerocopy::IntoBytes;

use super::{SglWalker, State};
use crate::extent::Extent;
use crate::memory::DmaMemory;
use crate::piece::{Flat, Kind};
use crate::sgl::caps::Capability;
use crate::sgl::descriptor::{DataDescriptor, Descriptor, SegmentPointer, DESCRIPTOR_BYTES};
use crate::sgl::error::{DescriptorAt, TypeProblem, WalkError};
use crate::spec::SglDescriptor;
use crate::Direction;

impl<M: DmaMemory + ?Sized> SglWalker<'_, M> {
    /// Check what a data walk was given, then take SGL1.
    #[inline]
    pub(super) fn start(&mut self, sgl1: SglDescriptor) -> Result<(), WalkError> {
        self.state = State::Done;
        self.check_supported()?;
        if self.transfer == 0 {
            // Nothing to transfer: nothing is read.
            return Ok(());
        }
        self.first(sgl1, DescriptorAt::Sgl1)
    }

    /// Check what a metadata walk was given, then read and take the descriptor at MPTR.
    #[cold]
    pub(super) fn start_metadata(&mut self, mptr: u64) -> Result<(), WalkError> {
        self.state = State::Done;
        self.check_supported()?;
        if !self.caps.has(Capability::MetadataSgl) {
            return Err(WalkError::NotSupported {
                capability: Capability::MetadataSgl,
            });
        }
        if mptr & 7 != 0 {
            return Err(WalkError::MetadataMisaligned { mptr, align: 8 });
        }
        if self.transfer == 0 {
            return Ok(());
        }
        let mut raw = SglDescriptor::default();
        self.read(mptr, raw.as_mut_bytes())?;
        self.first(raw, DescriptorAt::Mptr)
    }

    /// A command that asks for SGLs from a controller without them is refused first, even
    /// when it moves no data.
    #[inline(always)]
    fn check_supported(&self) -> Result<(), WalkError> {
        if self.caps.supported() {
            return Ok(());
        }
        Err(WalkError::NotSupported {
            capability: Capability::Sgl,
        })
    }

    /// SGL1 or the MPTR descriptor: the whole transfer, or the way to the first segment.
    #[inline(always)]
    fn first(&mut self, raw: SglDescriptor, at: DescriptorAt) -> Result<(), WalkError> {
        match Descriptor::parse(&raw) {
            Err(_) => Err(undefined(at, &raw)),
            Ok(Descriptor::Pointer(pointer)) => self.enter(pointer, at),
            Ok(Descriptor::Data(data)) => {
                self.charge(1, at)?;
                let piece = self.take(data, raw.identifier(), at)?;
                // A data descriptor here is the whole SGL: check its length before any of it
                // is handed out.
                self.check_complete()?;
                if let Some(piece) = piece {
                    self.run = piece;
                }
                Ok(())
            }
        }
    }

    /// Read descriptor bytes; a fault is a Data Transfer Error.
    #[inline(always)]
    pub(super) fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), WalkError> {
        self.mem.read(addr, buf).map_err(fetch_fault)
    }

    /// Error unless the SGL so far covers the whole transfer.
    pub(super) fn check_complete(&self) -> Result<(), WalkError> {
        if self.remaining == 0 {
            return Ok(());
        }
        Err(WalkError::ShorterThanTransfer {
            described: self.transfer.wrapping_sub(self.remaining),
            transfer: self.transfer,
            role: self.role,
        })
    }

    /// Charge `count` data descriptors to the budget.
    #[inline(always)]
    fn charge(&mut self, count: u32, at: DescriptorAt) -> Result<(), WalkError> {
        let limit = self.caps.limits().max_descriptors;
        match self.descriptors.checked_add(count) {
            Some(charged) if charged <= limit => {
                self.descriptors = charged;
                Ok(())
            }
            _ => Err(WalkError::TooManyDescriptors { at, limit }),
        }
    }

    /// Check a Segment or Last Segment descriptor, charge its segment (the progress rule:
    /// before any of it is read), and move there.
    pub(super) fn enter(
        &mut self,
        pointer: SegmentPointer,
        at: DescriptorAt,
    ) -> Result<(), WalkError> {
        if pointer.len == 0 || u64::from(pointer.len) % DESCRIPTOR_BYTES != 0 {
            return Err(WalkError::SegmentLength {
                at,
                len: pointer.len,
            });
        }
        if pointer.addr & 7 != 0 {
            return Err(WalkError::SegmentMisaligned {
                at,
                addr: pointer.addr,
            });
        }
        let len = u64::from(pointer.len);
        if !Extent::new(pointer.addr, len).fits_address_space() {
            return Err(WalkError::AddressOverflow {
                at,
                addr: pointer.addr,
                len,
                role: self.role,
            });
        }
        let limit = self.caps.limits().max_segments;
        match self.segments.checked_add(1) {
            Some(entered) if entered <= limit => self.segments = entered,
            _ => return Err(WalkError::TooManySegments { at, limit }),
        }
        let descriptors = pointer.descriptors();
        let last = pointer.is_last();
        // A segment that is not the last ends with the pointer onward, not a data descriptor.
        let data = if last {
            descriptors
        } else {
            descriptors.saturating_sub(1)
        };
        self.charge(data, at)?;
        self.state = State::InSegment {
            addr: pointer.addr,
            left: descriptors,
            index: 0,
            last,
        };
        Ok(())
    }

    /// Check a data descriptor and account for it; the piece of the transfer it describes,
    /// or `None` when it describes none.
    #[inline(always)]
    pub(super) fn take(
        &mut self,
        data: DataDescriptor,
        identifier: u8,
        at: DescriptorAt,
    ) -> Result<Option<Flat>, WalkError> {
        // What the descriptor needs of the controller, and the piece it describes.
        let (needs, kind, key, start) = match data {
            DataDescriptor::Block { addr, .. } => (None, Kind::Data, 0, addr),
            DataDescriptor::CapsuleBlock { offset, .. } => {
                (Some(Capability::AddressAsOffset), Kind::Capsule, 0, offset)
            }
            DataDescriptor::BitBucket { .. } => (Some(Capability::BitBucket), Kind::Skip, 0, 0),
            DataDescriptor::Keyed { addr, key, .. } => {
                (Some(Capability::Keyed), Kind::Keyed, key, addr)
            }
            DataDescriptor::Transport { .. } => {
                (Some(Capability::TransportDataBlock), Kind::Transport, 0, 0)
            }
        };
        if let Some(capability) = needs.filter(|&c| !self.caps.has(c)) {
            return Err(WalkError::DescriptorType {
                at,
                identifier,
                problem: TypeProblem::Unsupported(capability),
            });
        }
        if data.is_data_block() {
            self.data_blocks = self.data_blocks.saturating_add(1);
            if let Some(limit) = self.caps.msdbd() {
                if self.data_blocks > u32::from(limit) {
                    return Err(WalkError::TooManyDataBlocks { at, limit });
                }
            }
        }
        let len = u64::from(data.len());
        match data {
            DataDescriptor::Block { addr, len: raw_len }
            | DataDescriptor::CapsuleBlock {
                offset: addr,
                len: raw_len,
            } if self.caps.dword_granular() && (addr | u64::from(raw_len)) & 3 != 0 => {
                return Err(WalkError::Granularity {
                    at,
                    addr,
                    len: raw_len,
                });
            }
            DataDescriptor::Block { addr, .. } | DataDescriptor::Keyed { addr, .. }
                if !Extent::new(addr, len).fits_address_space() =>
            {
                return Err(WalkError::AddressOverflow {
                    at,
                    addr,
                    len,
                    role: self.role,
                });
            }
            DataDescriptor::CapsuleBlock {
                offset,
                len: raw_len,
            } if offset
                .checked_add(len)
                .map_or(true, |end| end > self.caps.capsule_data()) =>
            {
                return Err(WalkError::OutsideCapsule {
                    at,
                    offset,
                    len: raw_len,
                });
            }
            _ => {}
        }
        // In a write a bit bucket has no effect: it counts as zero bytes.
        let counted = if kind == Kind::Skip && self.direction == Direction::Write {
            0
        } else {
            len
        };
        if counted == 0 {
            return Ok(None);
        }
        let take = if counted <= self.remaining {
            counted
        } else if self.caps.has(Capability::Lldts) {
            // The SGL may be longer than the transfer: use what the transfer needs.
            self.remaining
        } else {
            return Err(WalkError::LongerThanTransfer {
                at,
                remaining: self.remaining,
                len: data.len(),
                role: self.role,
            });
        };
        if take == 0 {
            return Ok(None);
        }
        self.remaining = self.remaining.wrapping_sub(take);
        Ok(Some(Flat {
            kind,
            key,
            start,
            len: take,
        }))
    }
}

/// The error for a descriptor whose type/subtype pair does not parse.
#[cold]
pub(super) fn undefined(at: DescriptorAt, raw: &SglDescriptor) -> WalkError {
    WalkError::DescriptorType {
        at,
        identifier: raw.identifier(),
        problem: TypeProblem::Undefined,
    }
}

/// A fault reading descriptors: Data Transfer Error, with what could not be read.
#[cold]
pub(super) fn fetch_fault(fault: crate::memory::DmaFault) -> WalkError {
    WalkError::FetchFault {
        addr: fault.addr,
        len: fault.len,
    }
}
