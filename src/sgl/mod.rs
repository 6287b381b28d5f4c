//! SGLs: Scatter Gather Lists (NVMe Base Specification 4.3.2).
//!
//! An SGL data pointer describes a transfer as a list of descriptors, each naming a run of
//! bytes of any length at any address (subject to the controller's alignment mode). Where a
//! PRP needs one entry per memory page and forbids gaps inside pages, an SGL needs one
//! descriptor per physically contiguous run, and on reads it can discard bytes outright.
//!
//! # The descriptors
//!
//! Every descriptor is 16 bytes: an address (bytes 7:0), a length (11:8) and an identifier
//! byte (15) holding the type and subtype. [`descriptor`] has the typed forms:
//!
//! * **data descriptors** ([`DataDescriptor`]): a Data Block (bytes at an address, or at an
//!   offset in a fabrics capsule), a Bit Bucket (bytes a read discards), a Keyed Data Block and
//!   a Transport Data Block (fabrics);
//! * **segment pointers** ([`SegmentPointer`]): a Segment descriptor names the next segment
//!   of descriptors, a Last Segment descriptor names the final one;
//! * **SGL1** ([`Sgl1`]): the one descriptor inside the command, either a data descriptor
//!   that describes the whole transfer or a pointer to the first segment.
//!
//! # The rules
//!
//! * A **segment** is a qword-aligned array of descriptors; its pointer's length is a non-zero
//!   multiple of 16. Only its **last** descriptor may point to another segment.
//! * A segment reached through a **Segment** descriptor is not the last one: it ends with a
//!   Segment or Last Segment descriptor. The segment reached through a **Last Segment**
//!   descriptor holds data descriptors only.
//! * The **SGL length** is the sum of the data lengths: data blocks always, bit buckets only in
//!   a read (in a write the specification counts a bit bucket as 0 bytes, and the builder
//!   refuses one: a policy, not a rule a controller enforces). It must cover the transfer; it
//!   may exceed it only where the controller reports LLDTS.
//! * In **dword-granular** mode (SGLS bits 1:0 = 10b), Data Block addresses and lengths are
//!   multiples of 4.
//! * The specification bounds neither descriptors nor segments, so the walker bounds its own
//!   work ([`WalkLimits`]).
//!
//! ```text
//!  SQE DPTR: SGL1                       segment 1 (page 0x8000)          last segment (0x9000)
//!  ┌─────────────────────────┐          ┌─────────────────────────┐      ┌────────────────────────┐
//!  │ Segment  0x8000, 4 desc │────────▶ │ [0] Data  0x10000 +4096 │  ┌─▶ │ [0] Data 0x50000 +4096 │
//!  └─────────────────────────┘          │ [1] Data  0x30000 +512  │  │   │ [1] Data 0x70000 +100  │
//!                                       │ [2] BitBucket   +512    │  │   └────────────────────────┘
//!                                       │ [3] Last Seg 0x9000, 2 ─┼──┘
//!                                       └─────────────────────────┘
//!
//!  A read of 4096 + 512 + 512 + 4096 + 100 bytes: the 512 bytes at [2] are discarded.
//!  With one descriptor in all, SGL1 would be that Data Block and no segment would exist;
//!  with descriptors that fit one segment, SGL1 would be a Last Segment descriptor.
//! ```
//!
//! # Host side and device side
//!
//! * [`SglBuilder`] turns extents (and, for reads, bit-bucket skips) into [`Sgl1`] and
//!   descriptors written into [`SegmentBuf`]s the caller owns, merging physically adjacent
//!   extents; [`SglBuilder::plan`] says first how many segments that takes.
//!   [`SglBuilder::build_metadata`] and [`contiguous_mptr`] do the same for MPTR.
//! * [`SglWalker`] reads the same descriptors back through [`DmaMemory`](crate::DmaMemory), as
//!   a controller does, yielding [`Piece`](crate::Piece)s (a slice at a time with
//!   [`Walk::fill`](crate::walk::Walk::fill), or one at a time as an iterator) or the NVMe
//!   status for the rule that broke; [`SglWalker::metadata`] and [`contiguous_metadata`] check
//!   MPTR.
//!
//! [`crate::dptr`] chooses between PRPs and SGLs for a request and fills the command.
//!
//! # A worked example: build, then walk back
//!
//! ```
//! use nvme_dma::{Extent, SliceMemory};
//! use nvme_dma::sgl::{SegmentBuf, SglBuilder, SglCaps, SglWalker};
//! use nvme_dma::{Direction, Piece};
//! use nvme_dma::spec::{SglSupport, Sgls};
//!
//! let caps = SglCaps::new(Sgls::from_support(SglSupport::ByteAligned) | Sgls::BIT_BUCKET);
//! // A read: 0x1000 bytes, then 0x200 bytes to throw away, then two adjacent extents.
//! let pieces = [
//!     Piece::Data(Extent::new(0x1_0000, 0x1000)),
//!     Piece::Skip(0x200),
//!     Piece::Data(Extent::new(0x3_0000, 0x123)),
//!     Piece::Data(Extent::new(0x3_0123, 0x100)),
//! ];
//! let builder = SglBuilder::new(caps, Direction::Read);
//! let plan = builder.plan(&pieces)?;
//! assert_eq!((plan.len(), plan.descriptors()), (0x1423, 3)); // the adjacent pair merged
//!
//! // One 256-byte segment buffer, at bus address 0x8_0000, in memory we own.
//! let mut segment = [0u8; 256];
//! assert_eq!(plan.segments_needed(16), 1);
//! let layout = builder.build(&pieces, &mut [SegmentBuf::new(0x8_0000, &mut segment)])?;
//!
//! // The controller's view: walk SGL1 with the segment in its memory.
//! let mem = SliceMemory::new(0x8_0000, &mut segment);
//! let walker = SglWalker::new(layout.sgl1.to_raw(), Direction::Read, plan.len(), &caps, &mem);
//! let walked: Vec<Piece> = walker.into_iter().collect::<Result<_, _>>().unwrap();
//! assert_eq!(walked, [
//!     Piece::Data(Extent::new(0x1_0000, 0x1000)),
//!     Piece::Skip(0x200),
//!     Piece::Data(Extent::new(0x3_0000, 0x223)),
//! ]);
//! # Ok::<(), nvme_dma::sgl::BuildError>(())
//! ```

use core::fmt;

mod build;
mod caps;
pub mod descriptor;
mod error;
mod walk;

pub use build::{contiguous_mptr, MetadataLayout, SegmentBuf, SglBuilder, SglLayout, SglPlan};
pub use caps::{Capability, SglCaps, WalkLimits};
pub use descriptor::{
    DataDescriptor, Descriptor, DescriptorError, SegmentKind, SegmentPointer, Sgl1,
};
pub use error::{BuildError, DescriptorAt, TypeProblem, WalkError};
pub use walk::{contiguous_metadata, SglWalker, BATCH_DESCRIPTORS};

pub(crate) use build::{data_block_sgl1, place, write_metadata_pointer};

/// Whether an SGL describes a command's data or its metadata: length errors are Data SGL
/// Length Invalid for one and Metadata SGL Length Invalid for the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SglRole {
    /// The data SGL, from SGL1.
    Data,
    /// The metadata SGL, from MPTR (PSDT 10b), or a contiguous metadata buffer.
    Metadata,
}

impl fmt::Display for SglRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SglRole::Data => "data",
            SglRole::Metadata => "metadata",
        })
    }
}
