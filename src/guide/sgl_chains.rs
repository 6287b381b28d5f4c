//! # SGL chains
//!
//! An SGL (Scatter Gather List) describes a transfer run by run instead of page by page (NVMe
//! Base Specification 2.x, 4.3.2). Each run is one 16-byte descriptor with an address and a
//! length of any size, at any alignment the controller allows. Descriptors live in the command
//! (SGL1) and in **segments**: arrays of descriptors in host memory, linked into a chain.
//!
//! ## The descriptors
//!
//! ```text
//!  byte  0       7 8     11 12  14 15
//!       ┌─────────┬────────┬──────┬────┐
//!       │ Address │ Length │ rsvd │ ID │   ID = type (bits 7:4) · subtype (bits 3:0)
//!       └─────────┴────────┴──────┴────┘
//! ```
//!
//! | type | name | what it says |
//! |---|---|---|
//! | 0h | Data Block | `Length` bytes of the transfer at `Address` |
//! | 1h | Bit Bucket | `Length` bytes a read throws away (no address) |
//! | 2h | Segment | the next segment is at `Address`, `Length / 16` descriptors, and it is not the last |
//! | 3h | Last Segment | the same, and the segment it names is the last one |
//!
//! ```
//! use nvme_dma::sgl::{DataDescriptor, Descriptor, SegmentKind, SegmentPointer};
//! use nvme_dma::spec::{SglDescriptor, SglDescriptorType, SglSubtype};
//!
//! // The 16 bytes of a Last Segment descriptor naming 3 descriptors at 0x8_0000.
//! let raw = SglDescriptor::new(0x8_0000, 48, SglDescriptorType::LastSegment, SglSubtype::Address);
//! assert_eq!(raw.to_bytes()[15], 0x30); // type 3h, subtype 0h
//! assert_eq!(
//!     Descriptor::parse(&raw).unwrap(),
//!     Descriptor::Pointer(SegmentPointer { addr: 0x8_0000, len: 48, kind: SegmentKind::LastSegment })
//! );
//!
//! // A Data Block: 4096 bytes at 0x1000.
//! let raw = SglDescriptor::new(0x1000, 4096, SglDescriptorType::DataBlock, SglSubtype::Address);
//! assert_eq!(
//!     Descriptor::parse(&raw).unwrap(),
//!     Descriptor::Data(DataDescriptor::Block { addr: 0x1000, len: 4096 })
//! );
//! ```
//!
//! `nvme-dma decode --as sgl HEX` names every field of any 16 bytes and says what a controller
//! makes of them.
//!
//! ## Three shapes of chain
//!
//! The builder always makes the smallest layout the rules allow:
//!
//! ```text
//!  1 descriptor                 SGL1 = Data Block ─────────────────────────────▶ data
//!
//!  fits one segment             SGL1 = Last Segment ──▶ ┌ [0] Data ──▶ data
//!                                                       │ [1] Data ──▶ data
//!                                                       └ [2] Data ──▶ data
//!
//!  more than one segment        SGL1 = Segment ──▶ ┌ [0] Data       ┌─▶ ┌ [0] Data
//!                                                  └ [1] Last Seg ───┘   └ [1] Data
//! ```
//!
//! Only the **last** descriptor of a segment may point onward, so a segment that continues
//! spends one slot on the pointer. A pointer says whether the segment it names is the last
//! one: Segment (2h) for "more follow", Last Segment (3h) for "this is the end".
//!
//! ```
//! use nvme_dma::{Extent, Piece};
//! use nvme_dma::sgl::{DataDescriptor, Descriptor, SegmentBuf, SegmentKind, SglBuilder, SglCaps};
//! use nvme_dma::{Direction};
//! use nvme_dma::spec::{SglDescriptor, SglSupport, Sgls};
//!
//! let caps = SglCaps::new(Sgls::from_support(SglSupport::ByteAligned));
//! let builder = SglBuilder::new(caps, Direction::Write);
//!
//! // One run: SGL1 is the Data Block itself, and no segment memory is touched.
//! let one = builder.build(&[Extent::new(0x1_0000, 0x3000)], &mut [])?;
//! assert_eq!(one.segments_used, 0);
//! assert_eq!(
//!     one.sgl1.descriptor(),
//!     Descriptor::Data(DataDescriptor::Block { addr: 0x1_0000, len: 0x3000 })
//! );
//!
//! // Three runs in two-slot segments: segment 0 holds a run and the pointer onward, and the
//! // pointer in its last slot is a Last Segment descriptor, because the 2 runs left fit.
//! let runs = [Extent::new(0x1_0000, 0x10), Extent::new(0x2_0000, 0x10), Extent::new(0x3_0000, 0x10)];
//! let plan = builder.plan(&runs)?;
//! assert_eq!(plan.segments_needed(2), 2);
//! let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
//! let layout = builder.build(&runs, &mut [SegmentBuf::new(0x8_0000, &mut a), SegmentBuf::new(0x9_0000, &mut b)])?;
//! let Descriptor::Pointer(first) = layout.sgl1.descriptor() else { panic!("SGL1 points at a segment") };
//! assert_eq!((first.addr, first.len, first.kind), (0x8_0000, 32, SegmentKind::Segment));
//! let onward = Descriptor::parse(&SglDescriptor::from_bytes(a[16..].try_into().unwrap())).unwrap();
//! let Descriptor::Pointer(next) = onward else { panic!("slot 1 points onward") };
//! assert_eq!((next.addr, next.len, next.kind), (0x9_0000, 32, SegmentKind::LastSegment));
//! # Ok::<(), nvme_dma::sgl::BuildError>(())
//! ```
//!
//! Physically adjacent pieces merge into one descriptor, and a run longer than a descriptor's
//! 32-bit length takes several; [`SglPlan`](crate::sgl::SglPlan) counts both before anything
//! is written.
//!
//! ## Bit buckets: skipping bytes in a read
//!
//! In a read, a Bit Bucket tells the controller to drop part of the data instead of writing
//! it to host memory: a header you do not want, the gap between two blocks you do. It counts
//! toward the transfer length. In a write there is nothing to drop, so the builder refuses one.
//!
//! ```
//! use nvme_dma::{Extent, Piece, SliceMemory};
//! use nvme_dma::sgl::{BuildError, SegmentBuf, SglBuilder, SglCaps, SglWalker};
//! use nvme_dma::{Direction};
//! use nvme_dma::spec::{SglSupport, Sgls};
//!
//! let caps = SglCaps::new(Sgls::from_support(SglSupport::ByteAligned) | Sgls::BIT_BUCKET);
//! // Read 3 blocks of 512 bytes, keeping the first and the last.
//! let pieces = [
//!     Piece::Data(Extent::new(0x1_0000, 512)),
//!     Piece::Skip(512),
//!     Piece::Data(Extent::new(0x2_0000, 512)),
//! ];
//! let read = SglBuilder::new(caps, Direction::Read);
//! let mut segment = [0u8; 48];
//! let layout = read.build(&pieces, &mut [SegmentBuf::new(0x8_0000, &mut segment)])?;
//! assert_eq!(layout.plan.len(), 1536); // the skipped bytes are part of the transfer
//!
//! // The controller walks it back: data, skip, data.
//! let mem = SliceMemory::new(0x8_0000, &mut segment);
//! let walked: Vec<Piece> = SglWalker::new(layout.sgl1.to_raw(), Direction::Read, 1536, &caps, &mem)
//!     .into_iter()
//!     .collect::<Result<_, _>>()
//!     .unwrap();
//! assert_eq!(walked, pieces);
//!
//! // A write has nothing to throw away.
//! let write = SglBuilder::new(caps, Direction::Write);
//! assert!(matches!(write.plan(&pieces), Err(BuildError::SkipInWrite { index: 1, .. })));
//! # Ok::<(), BuildError>(())
//! ```
//!
//! ## Alignment: byte or dword
//!
//! SGLS bits 1:0 say whether the controller takes Data Blocks at any byte address and length
//! (01b) or only dword-aligned, dword-granular ones (10b). The second kind answers SGL Data
//! Block Granularity Invalid to anything else, and the builder refuses it first:
//!
//! ```
//! use nvme_dma::Extent;
//! use nvme_dma::sgl::{BuildError, SglBuilder, SglCaps};
//! use nvme_dma::{Direction};
//! use nvme_dma::spec::{SglSupport, Sgls};
//!
//! let dword = SglBuilder::new(SglCaps::new(Sgls::from_support(SglSupport::DwordAligned)), Direction::Read);
//! assert!(dword.plan(&[Extent::new(0x1000, 0x200)]).is_ok());
//! let err = dword.plan(&[Extent::new(0x1001, 0x200)]).unwrap_err();
//! assert!(matches!(err, BuildError::Granularity { index: 0, .. }));
//! ```
//!
//! ## What a controller refuses
//!
//! The chain lives in host memory, where anything can be written, so a controller checks each
//! descriptor before it moves any data. A pointer that is not the last descriptor of its
//! segment is Invalid Number of SGL Descriptors; a pointer inside the last segment is Invalid
//! SGL Segment Descriptor. Both come with Do Not Retry.
//!
//! ```
//! use nvme_dma::SliceMemory;
//! use nvme_dma::sgl::{SglCaps, SglWalker};
//! use nvme_dma::walk::Walk;
//! use nvme_dma::{Direction};
//! use nvme_dma::spec::{SglDescriptor, SglDescriptorType, SglSubtype, SglSupport, Sgls, Status};
//!
//! let caps = SglCaps::new(Sgls::from_support(SglSupport::ByteAligned));
//! let data = SglDescriptor::new(0x1_0000, 0x100, SglDescriptorType::DataBlock, SglSubtype::Address);
//! let pointer = SglDescriptor::new(0x9_0000, 16, SglDescriptorType::LastSegment, SglSubtype::Address);
//!
//! // A segment whose first descriptor points onward and whose second is data.
//! let mut segment = [0u8; 32];
//! segment[..16].copy_from_slice(&pointer.to_bytes());
//! segment[16..].copy_from_slice(&data.to_bytes());
//! let mem = SliceMemory::new(0x8_0000, &mut segment);
//! let sgl1 = SglDescriptor::new(0x8_0000, 32, SglDescriptorType::Segment, SglSubtype::Address);
//! let err = SglWalker::new(sgl1, Direction::Write, 0x200, &caps, &mem).validate().unwrap_err();
//! assert_eq!(err.status(), Status::INVALID_NUMBER_OF_SGL_DESCRIPTORS.with_dnr(true));
//!
//! // The same pointer as the last descriptor of a Last Segment: nothing may follow the last.
//! let mut last = [0u8; 32];
//! last[..16].copy_from_slice(&data.to_bytes());
//! last[16..].copy_from_slice(&pointer.to_bytes());
//! let mem = SliceMemory::new(0x8_0000, &mut last);
//! let sgl1 = SglDescriptor::new(0x8_0000, 32, SglDescriptorType::LastSegment, SglSubtype::Address);
//! let err = SglWalker::new(sgl1, Direction::Write, 0x200, &caps, &mem).validate().unwrap_err();
//! assert_eq!(err.status(), Status::INVALID_SGL_SEGMENT_DESCRIPTOR.with_dnr(true));
//! ```
//!
//! The specification bounds neither the number of descriptors nor of segments (a chain may even
//! point back at itself), so the walker bounds its own work with
//! [`WalkLimits`](crate::sgl::WalkLimits).
