//! Why an SGL layout was refused: on the host side ([`BuildError`], naming the extent or
//! segment, the address, the rule or capability, and the fix) and on the device side
//! ([`WalkError`], naming the descriptor and carrying the NVMe status a controller returns).

use core::fmt;

use super::caps::Capability;
use super::SglRole;
use crate::extent::Extent;
use crate::spec::Status;
use crate::Piece;

/// Why the builder refused a list of pieces or the segment memory it was given.
///
/// `index` fields count pieces in the caller's list, empty ones included; `segment` fields
/// count the caller's segment buffers from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    /// The pieces describe no bytes.
    EmptyTransfer,
    /// The request as a whole needs a capability the controller lacks (SGLs at all, or an
    /// SGL segment behind MPTR).
    NotSupported {
        /// The missing capability.
        capability: Capability,
    },
    /// One piece needs a capability the controller lacks.
    PieceNotSupported {
        /// Which piece.
        index: usize,
        /// The piece.
        piece: Piece,
        /// The missing capability.
        capability: Capability,
    },
    /// A bit bucket in a write, where there is nothing to discard.
    SkipInWrite {
        /// Which piece.
        index: usize,
        /// Bytes it asked to skip.
        len: u64,
    },
    /// A piece runs past the top of the 64-bit address space.
    AddressOverflow {
        /// Which piece.
        index: usize,
        /// The piece.
        piece: Piece,
    },
    /// In dword-granular mode (SGLS bits 1:0 = 10b), a run of data does not start or end on a
    /// dword boundary.
    Granularity {
        /// The first piece of the run.
        index: usize,
        /// The run, after merging adjacent pieces.
        run: Extent,
    },
    /// An offset-addressed piece lies outside the command capsule's data.
    OutsideCapsule {
        /// Which piece.
        index: usize,
        /// Its offset.
        offset: u64,
        /// Its length.
        len: u64,
        /// Bytes of in-capsule data there are.
        capsule: u64,
    },
    /// The transfer is longer than the controller's maximum (MDTS), or than 2^64 - 1 bytes.
    TransferTooLong {
        /// Bytes described (at least this many when the sum itself overflowed).
        len: u64,
        /// The maximum transfer size in bytes.
        max: u64,
    },
    /// The pieces describe fewer bytes than the transfer moves.
    ShorterThanTransfer {
        /// Bytes described.
        described: u64,
        /// Bytes the command transfers.
        transfer: u64,
    },
    /// The pieces describe more bytes than the transfer moves, and the controller does not
    /// accept an SGL longer than its data (no LLDTS).
    LongerThanTransfer {
        /// Bytes described.
        described: u64,
        /// Bytes the command transfers.
        transfer: u64,
    },
    /// More data block descriptors than the controller's MSDBD allows.
    TooManyDataBlocks {
        /// Data block descriptors the layout needs.
        count: u64,
        /// MSDBD.
        msdbd: u8,
    },
    /// [`SglBuilder::build_inline`](super::SglBuilder::build_inline) was given a piece that
    /// needs more than one descriptor.
    NotInline {
        /// Descriptors the piece needs.
        descriptors: u64,
    },
    /// The segment buffers supplied cannot hold the descriptors.
    SegmentMemoryTooSmall {
        /// Descriptors the layout needs in segments.
        descriptors: u64,
        /// Segment buffers supplied.
        given: usize,
    },
    /// A segment buffer that must continue to another holds fewer than two descriptors (one
    /// data descriptor and the pointer onward).
    SegmentTooSmall {
        /// Which segment buffer.
        segment: usize,
        /// Descriptors it holds.
        capacity: u64,
    },
    /// A segment buffer's bus address is not qword aligned.
    SegmentMisaligned {
        /// Which segment buffer.
        segment: usize,
        /// Its bus address.
        addr: u64,
    },
    /// A segment buffer runs past the top of the 64-bit address space.
    SegmentOverflow {
        /// Which segment buffer.
        segment: usize,
        /// Its bus address.
        addr: u64,
    },
    /// A contiguous metadata buffer (MPTR with PSDT 00b or 01b) breaks its alignment rule.
    MetadataMisaligned {
        /// Its address.
        addr: u64,
        /// The alignment required (4, or 8 for an SGL segment behind MPTR).
        align: u64,
    },
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            BuildError::EmptyTransfer => write!(
                f,
                "the pieces describe no bytes: an SGL data pointer needs at least one byte to \
                 describe (a command that moves no data needs no data pointer)"
            ),
            BuildError::NotSupported { capability } => write!(
                f,
                "the request needs {capability}, which the controller does not report \
                 (Identify Controller SGLS). Fix: use PRPs (dptr picks them for you), or drop the \
                 feature from the request"
            ),
            BuildError::PieceNotSupported {
                index,
                piece,
                capability,
            } => write!(
                f,
                "piece {index} ({piece}) needs {capability}, which the controller does not report \
                 (Identify Controller SGLS; NVMe Base 4.3.2, SGL Descriptor Type). Fix: describe \
                 those bytes another way (a bit bucket can become a data block into a scratch \
                 buffer), or use a controller that supports it"
            ),
            BuildError::SkipInWrite { index, len } => write!(
                f,
                "piece {index} asks to skip {len} bytes in a write. A bit bucket has an effect \
                 only in a read, where the controller discards bytes it would have written to host \
                 memory; in a write the specification lets it stand but counts it as 0 bytes \
                 (NVMe Base 4.3.2, SGL Bit Bucket), so the controller would transfer {len} bytes \
                 fewer than the pieces add up to. This builder refuses it rather than let the two \
                 counts differ. Fix: remove it; a write sends exactly the bytes of its data pieces"
            ),
            BuildError::AddressOverflow { index, piece } => write!(
                f,
                "piece {index} ({piece}) runs past the end of the 64-bit address space \
                 (address + length > 2^64; a controller answers Data SGL Length Invalid). Fix: the \
                 length or the address is wrong; no device can reach those bytes"
            ),
            BuildError::Granularity { index, run } => write!(
                f,
                "the data run starting at piece {index} ({run}) does not start and end on a \
                 4-byte boundary, but this controller supports only dword-aligned, dword-granular \
                 Data Blocks (SGLS bits 1:0 = 10b; NVMe Base 4.3.2; a controller answers SGL Data \
                 Block Granularity Invalid). Fix: align the buffer to 4 bytes and pad its length \
                 to a multiple of 4, or copy it through a bounce buffer"
            ),
            BuildError::OutsideCapsule {
                index,
                offset,
                len,
                capsule,
            } => write!(
                f,
                "piece {index} names {len} bytes at capsule offset {offset:#x}, beyond the \
                 {capsule} bytes of in-capsule data (a controller answers SGL Offset Invalid). \
                 Fix: keep offset + length within the capsule's data"
            ),
            BuildError::TransferTooLong { len, max } => write!(
                f,
                "the pieces describe {len} bytes, more than the maximum transfer of {max} bytes \
                 (MDTS). Fix: split the request into commands of at most {max} bytes"
            ),
            BuildError::ShorterThanTransfer {
                described,
                transfer,
            } => write!(
                f,
                "the pieces describe {described} bytes but the command transfers {transfer}: an \
                 SGL must describe at least the whole transfer (NVMe Base 4.3.2; a controller \
                 answers Data SGL Length Invalid). Fix: add the missing {} bytes of buffer",
                transfer.saturating_sub(described)
            ),
            BuildError::LongerThanTransfer {
                described,
                transfer,
            } => write!(
                f,
                "the pieces describe {described} bytes but the command transfers only {transfer}, \
                 and the controller does not accept an SGL longer than its data ({}). Fix: trim \
                 the last pieces by {} bytes",
                Capability::Lldts,
                described.saturating_sub(transfer)
            ),
            BuildError::TooManyDataBlocks { count, msdbd } => write!(
                f,
                "the layout needs {count} data block descriptors but the controller accepts at \
                 most {msdbd} per command (Identify Controller MSDBD). Fix: split the request, or \
                 copy scattered pieces into fewer buffers"
            ),
            BuildError::NotInline { descriptors } => write!(
                f,
                "the piece needs {descriptors} descriptors (one carries at most 4 GiB - 1 bytes, \
                 16 MiB - 1 for keyed data), but the inline fast path puts exactly one in SGL1. \
                 Fix: call SglBuilder::build with segment memory"
            ),
            BuildError::SegmentMemoryTooSmall { descriptors, given } => write!(
                f,
                "the {descriptors} descriptors do not fit the {given} segment buffers supplied: \
                 every segment that continues gives its last slot to the Segment or Last Segment \
                 descriptor that points onward (NVMe Base 4.3.2, SGL Segment). Fix: size segment \
                 memory with SglPlan::segments_needed before building"
            ),
            BuildError::SegmentTooSmall { segment, capacity } => write!(
                f,
                "segment buffer {segment} holds {capacity} descriptor(s) but must continue to \
                 another segment, which takes one data descriptor and the pointer onward at \
                 least. Fix: give it at least 32 bytes (a 256-byte pool block holds 16)"
            ),
            BuildError::SegmentMisaligned { segment, addr } => write!(
                f,
                "segment buffer {segment} is at {addr:#x}, which is not qword aligned: an SGL \
                 segment address must have bits 2:0 clear (NVMe Base 4.3.2, SGL Segment; a \
                 controller answers Invalid SGL Segment Descriptor). Fix: align segment buffers \
                 to 8 bytes (16 is natural)"
            ),
            BuildError::SegmentOverflow { segment, addr } => write!(
                f,
                "segment buffer {segment} at {addr:#x} runs past the end of the 64-bit address \
                 space. Fix: its bus address is wrong"
            ),
            BuildError::MetadataMisaligned { addr, align } => write!(
                f,
                "the metadata pointer {addr:#x} is not {align}-byte aligned: MPTR must be dword \
                 aligned for a contiguous buffer unless the controller supports byte-aligned \
                 metadata with PSDT 01b (SGLS bit 17), and qword aligned when it points at an SGL \
                 segment (PSDT 10b) (NVMe Base, Metadata Pointer). Fix: align the metadata \
                 buffer"
            ),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for BuildError {}

/// Where a walker found the descriptor an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DescriptorAt {
    /// SGL1, in the command.
    Sgl1,
    /// The metadata pointer: the one descriptor in the segment MPTR points at (PSDT 10b), or
    /// the contiguous metadata buffer itself (PSDT 00b or 01b).
    Mptr,
    /// A descriptor read from a segment.
    Segment {
        /// Which segment of the chain, counting from 1 (the one SGL1 points at).
        segment: u32,
        /// Which descriptor of that segment, from 0.
        index: u32,
        /// Its bus address.
        addr: u64,
    },
}

impl fmt::Display for DescriptorAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            DescriptorAt::Sgl1 => f.write_str("SGL1"),
            DescriptorAt::Mptr => f.write_str("the metadata pointer (MPTR)"),
            DescriptorAt::Segment {
                segment,
                index,
                addr,
            } => write!(f, "descriptor {index} of segment {segment} (at {addr:#x})"),
        }
    }
}

/// Why a descriptor's type was refused (all of these are SGL Descriptor Type Invalid).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TypeProblem {
    /// The type/subtype pair is reserved, vendor specific or undefined.
    Undefined,
    /// A defined type the controller does not support.
    Unsupported(Capability),
}

/// Why a controller refused a command's SGL. [`WalkError::status`] gives the NVMe status to
/// complete the command with (DNR set: the same command would fail the same way again); the
/// variant says exactly what was wrong, for logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WalkError {
    /// PSDT asks for an SGL the controller does not support (SGLS support 00b or 11b, or
    /// PSDT 10b without MSDS): Invalid Field in Command.
    NotSupported {
        /// What is missing.
        capability: Capability,
    },
    /// MPTR breaks its alignment rule: Invalid Field in Command.
    MetadataMisaligned {
        /// The MPTR value.
        mptr: u64,
        /// The alignment required.
        align: u64,
    },
    /// A descriptor type or type/subtype pair that is undefined or unsupported: SGL
    /// Descriptor Type Invalid.
    DescriptorType {
        /// Where.
        at: DescriptorAt,
        /// The descriptor's identifier byte (type 7:4, subtype 3:0).
        identifier: u8,
        /// Undefined, or which capability it needs.
        problem: TypeProblem,
    },
    /// A Segment or Last Segment descriptor that is not the last descriptor of its segment:
    /// Invalid Number of SGL Descriptors.
    PointerNotLast {
        /// Where.
        at: DescriptorAt,
    },
    /// A Segment or Last Segment descriptor inside the last segment: Invalid SGL Segment
    /// Descriptor.
    PointerInLastSegment {
        /// Where.
        at: DescriptorAt,
    },
    /// A segment reached through a Segment descriptor (not Last Segment) ends with a data
    /// descriptor, so it was really the last segment: Invalid SGL Segment Descriptor.
    SegmentWithoutPointer {
        /// The segment's final descriptor.
        at: DescriptorAt,
    },
    /// A Segment or Last Segment descriptor whose length is zero or not a multiple of 16:
    /// Invalid SGL Segment Descriptor.
    SegmentLength {
        /// Where the pointer is.
        at: DescriptorAt,
        /// Its length.
        len: u32,
    },
    /// A Segment or Last Segment descriptor whose address is not qword aligned: Invalid SGL
    /// Segment Descriptor.
    SegmentMisaligned {
        /// Where the pointer is.
        at: DescriptorAt,
        /// Its address.
        addr: u64,
    },
    /// More data descriptors than the walk limit allows: Invalid Number of SGL Descriptors.
    TooManyDescriptors {
        /// The pointer to the segment that would exceed it (or SGL1).
        at: DescriptorAt,
        /// The limit.
        limit: u32,
    },
    /// More segments than the walk limit allows: Invalid Number of SGL Descriptors.
    TooManySegments {
        /// The pointer to the segment that would exceed it.
        at: DescriptorAt,
        /// The limit.
        limit: u32,
    },
    /// More data block descriptors than MSDBD allows: Invalid Number of SGL Descriptors.
    TooManyDataBlocks {
        /// The first descriptor over the limit.
        at: DescriptorAt,
        /// MSDBD.
        limit: u8,
    },
    /// In dword-granular mode, a Data Block whose address or length has bits 1:0 set: SGL
    /// Data Block Granularity Invalid.
    Granularity {
        /// Where.
        at: DescriptorAt,
        /// Its address.
        addr: u64,
        /// Its length.
        len: u32,
    },
    /// A descriptor whose address + length runs past 2^64: Data (or Metadata) SGL Length
    /// Invalid.
    AddressOverflow {
        /// Where.
        at: DescriptorAt,
        /// Its address.
        addr: u64,
        /// Its length.
        len: u64,
        /// Data or metadata SGL.
        role: SglRole,
    },
    /// A data descriptor beyond the end of the transfer, or longer than what remains of it,
    /// without LLDTS: Data (or Metadata) SGL Length Invalid.
    LongerThanTransfer {
        /// Where.
        at: DescriptorAt,
        /// Bytes of the transfer that remained when it was reached.
        remaining: u64,
        /// Its length.
        len: u32,
        /// Data or metadata SGL.
        role: SglRole,
    },
    /// The SGL ended before the transfer did: Data (or Metadata) SGL Length Invalid.
    ShorterThanTransfer {
        /// Bytes the SGL described.
        described: u64,
        /// Bytes the command transfers.
        transfer: u64,
        /// Data or metadata SGL.
        role: SglRole,
    },
    /// An offset-addressed Data Block outside the in-capsule data: SGL Offset Invalid.
    OutsideCapsule {
        /// Where.
        at: DescriptorAt,
        /// Its offset.
        offset: u64,
        /// Its length.
        len: u32,
    },
    /// A segment (or the MPTR descriptor) could not be read: Data Transfer Error.
    FetchFault {
        /// First address of the failed read.
        addr: u64,
        /// Its length in bytes.
        len: u64,
    },
}

impl WalkError {
    /// The completion status for this error, with DNR set.
    pub const fn status(&self) -> Status {
        let status = match self {
            WalkError::NotSupported { .. } | WalkError::MetadataMisaligned { .. } => {
                Status::INVALID_FIELD
            }
            WalkError::DescriptorType { .. } => Status::SGL_DESCRIPTOR_TYPE_INVALID,
            WalkError::PointerNotLast { .. }
            | WalkError::TooManyDescriptors { .. }
            | WalkError::TooManySegments { .. }
            | WalkError::TooManyDataBlocks { .. } => Status::INVALID_NUMBER_OF_SGL_DESCRIPTORS,
            WalkError::PointerInLastSegment { .. }
            | WalkError::SegmentWithoutPointer { .. }
            | WalkError::SegmentLength { .. }
            | WalkError::SegmentMisaligned { .. } => Status::INVALID_SGL_SEGMENT_DESCRIPTOR,
            WalkError::Granularity { .. } => Status::SGL_DATA_BLOCK_GRANULARITY_INVALID,
            WalkError::AddressOverflow { role, .. }
            | WalkError::LongerThanTransfer { role, .. }
            | WalkError::ShorterThanTransfer { role, .. } => match role {
                SglRole::Data => Status::DATA_SGL_LENGTH_INVALID,
                SglRole::Metadata => Status::METADATA_SGL_LENGTH_INVALID,
            },
            WalkError::OutsideCapsule { .. } => Status::SGL_OFFSET_INVALID,
            WalkError::FetchFault { .. } => Status::DATA_TRANSFER_ERROR,
        };
        status.with_dnr(true)
    }
}

impl fmt::Display for WalkError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            WalkError::NotSupported { capability } => {
                write!(
                    f,
                    "PSDT asks for an SGL feature the controller lacks: {capability}"
                )
            }
            WalkError::MetadataMisaligned { mptr, align } => {
                write!(f, "MPTR {mptr:#x} is not {align}-byte aligned")
            }
            WalkError::DescriptorType {
                at,
                identifier,
                problem,
            } => match problem {
                TypeProblem::Undefined => write!(
                    f,
                    "{at} has type {:X}h subtype {:X}h, which is not a defined pair",
                    identifier >> 4,
                    identifier & 0xF
                ),
                TypeProblem::Unsupported(capability) => write!(
                    f,
                    "{at} has type {:X}h subtype {:X}h, which needs {capability}",
                    identifier >> 4,
                    identifier & 0xF
                ),
            },
            WalkError::PointerNotLast { at } => write!(
                f,
                "{at} is a Segment or Last Segment descriptor but not the last of its segment"
            ),
            WalkError::PointerInLastSegment { at } => write!(
                f,
                "{at} is a Segment or Last Segment descriptor inside the last segment"
            ),
            WalkError::SegmentWithoutPointer { at } => write!(
                f,
                "{at} ends a segment that a Segment descriptor announced as not the last, but is \
                 not a Segment or Last Segment descriptor"
            ),
            WalkError::SegmentLength { at, len } => write!(
                f,
                "{at} points to a segment of {len} bytes (must be a non-zero multiple of 16)"
            ),
            WalkError::SegmentMisaligned { at, addr } => {
                write!(
                    f,
                    "{at} points to a segment at {addr:#x}, not qword aligned"
                )
            }
            WalkError::TooManyDescriptors { at, limit } => write!(
                f,
                "{at} would take the SGL past the walk limit of {limit} data descriptors"
            ),
            WalkError::TooManySegments { at, limit } => write!(
                f,
                "{at} would take the SGL past the walk limit of {limit} segments"
            ),
            WalkError::TooManyDataBlocks { at, limit } => write!(
                f,
                "{at} is data block descriptor {} but MSDBD allows {limit}",
                u16::from(limit).saturating_add(1)
            ),
            WalkError::Granularity { at, addr, len } => write!(
                f,
                "{at} describes {len} bytes at {addr:#x}, not dword aligned and granular"
            ),
            WalkError::AddressOverflow {
                at,
                addr,
                len,
                role,
            } => write!(
                f,
                "{at} in the {role} SGL describes {len} bytes at {addr:#x}, past 2^64"
            ),
            WalkError::LongerThanTransfer {
                at,
                remaining,
                len,
                role,
            } => write!(
                f,
                "{at} in the {role} SGL describes {len} bytes where {remaining} remain of the \
                 transfer, and the SGL may not be longer than the data (no LLDTS)"
            ),
            WalkError::ShorterThanTransfer {
                described,
                transfer,
                role,
            } => write!(
                f,
                "the {role} SGL describes {described} bytes of a {transfer}-byte transfer"
            ),
            WalkError::OutsideCapsule { at, offset, len } => write!(
                f,
                "{at} names {len} bytes at capsule offset {offset:#x}, outside the in-capsule data"
            ),
            WalkError::FetchFault { addr, len } => {
                write!(f, "SGL read of {len} bytes at {addr:#x} failed")
            }
        }?;
        write!(f, ": {}", self.status())
    }
}

#[cfg(feature = "std")]
impl std::error::Error for WalkError {}

impl BuildError {
    /// Whether the refusal is about the segment memory supplied rather than the pieces: the
    /// same pieces may succeed with more or better-placed segment buffers.
    pub const fn is_about_memory(&self) -> bool {
        matches!(
            self,
            BuildError::SegmentMemoryTooSmall { .. }
                | BuildError::SegmentTooSmall { .. }
                | BuildError::SegmentMisaligned { .. }
                | BuildError::SegmentOverflow { .. }
        )
    }

    /// The rule this refusal enforces: its stable id, the section of the specification and
    /// what it says. The `Display` text gives this refusal's specifics.
    pub const fn rule(&self) -> crate::rule::Rule {
        use crate::rule::Rule;
        match self {
            BuildError::EmptyTransfer => Rule::SglNonempty,
            BuildError::NotSupported { .. } => Rule::SglSupported,
            BuildError::PieceNotSupported { .. } => Rule::SglCapability,
            BuildError::SkipInWrite { .. } => Rule::SglBitBucketInReadOnly,
            BuildError::AddressOverflow { .. } => Rule::SglAddressSpace,
            BuildError::Granularity { .. } => Rule::SglDwordGranularity,
            BuildError::OutsideCapsule { .. } => Rule::SglCapsule,
            BuildError::TransferTooLong { .. } => Rule::SglMaxTransfer,
            BuildError::ShorterThanTransfer { .. } => Rule::SglCoversTransfer,
            BuildError::LongerThanTransfer { .. } => Rule::SglLongerThanTransfer,
            BuildError::TooManyDataBlocks { .. } => Rule::SglMsdbd,
            BuildError::NotInline { .. } => Rule::SglInlineOneDescriptor,
            BuildError::SegmentMemoryTooSmall { .. } => Rule::SglSegmentMemory,
            BuildError::SegmentTooSmall { .. } => Rule::SglSegmentSize,
            BuildError::SegmentMisaligned { .. } => Rule::SglSegmentAlignment,
            BuildError::SegmentOverflow { .. } => Rule::SglSegmentAddressSpace,
            BuildError::MetadataMisaligned { .. } => Rule::SglMetadataAlignment,
        }
    }
}

impl WalkError {
    /// The rule the SGL broke. Where the host-side builder enforces the same rule, it is the
    /// same [`Rule`](crate::rule::Rule): a controller finding a misaligned segment and a builder
    /// refusing one both name `sgl.segment_alignment`.
    pub const fn rule(&self) -> crate::rule::Rule {
        use crate::rule::Rule;
        match self {
            WalkError::NotSupported { .. } => Rule::SglSupported,
            WalkError::MetadataMisaligned { .. } => Rule::SglMetadataAlignment,
            WalkError::DescriptorType {
                problem: TypeProblem::Unsupported(_),
                ..
            } => Rule::SglCapability,
            WalkError::DescriptorType { .. } => Rule::SglDescriptorType,
            WalkError::PointerNotLast { .. }
            | WalkError::PointerInLastSegment { .. }
            | WalkError::SegmentWithoutPointer { .. } => Rule::SglSegmentChain,
            WalkError::SegmentLength { .. } => Rule::SglSegmentLength,
            WalkError::SegmentMisaligned { .. } => Rule::SglSegmentAlignment,
            WalkError::TooManyDescriptors { .. } | WalkError::TooManySegments { .. } => {
                Rule::SglWalkLimit
            }
            WalkError::TooManyDataBlocks { .. } => Rule::SglMsdbd,
            WalkError::Granularity { .. } => Rule::SglDwordGranularity,
            WalkError::AddressOverflow { .. } => Rule::SglAddressSpace,
            WalkError::LongerThanTransfer { .. } => Rule::SglLongerThanTransfer,
            WalkError::ShorterThanTransfer { .. } => Rule::SglCoversTransfer,
            WalkError::OutsideCapsule { .. } => Rule::SglCapsule,
            WalkError::FetchFault { .. } => Rule::MemoryReachable,
        }
    }
}
