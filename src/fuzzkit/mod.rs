//! A kit for fuzzing other projects' NVMe code: an emulator's device model, or a driver's
//! PRP and SGL builder, under cargo-fuzz.
//!
//! Everything the crate knows about data pointers, valid and hostile, as generators that turn
//! a fuzzer's bytes into a case, each with its oracle:
//!
//! * **For an emulator under test**, [`DataPointerCase`]: a Read or Write whose data pointer
//!   is laid out in a [`MemoryImage`] of host memory, labelled ([`Label`]) as one of three
//!   kinds: a valid layout the crate's builders made (every [`Shape`]), a near-valid one with
//!   exactly one named rule broken ([`Label::NearValid`]), or a hostile one ([`Hostile`]:
//!   loops, wraps, lists across the register window, bytes near valid ones). Its oracle,
//!   [`DataPointerCase::expected`], says what a controller with a given
//!   [`Profile`](crate::controller::Profile) does: the pieces it moves, the status it
//!   completes with, or that it hangs; [`DataPointerCase::check_read`] and
//!   [`DataPointerCase::check_write`] judge what the emulator did to host memory and to its
//!   media.
//! * **For a driver under test**, [`DriverCase`]: a request (extents, page size, MDTS, SGL
//!   capabilities, descriptor memory) and a checker, [`DriverCase::check`], that takes the
//!   submission entry and descriptor memory the driver wrote and says whether the data
//!   pointer is valid and carries exactly the request's extents, naming the first rule broken
//!   in the crate's own words.
//!
//! ```
//! use arbitrary::{Arbitrary, Unstructured};
//! use nvme_dma::controller::Profile;
//! use nvme_dma::fuzzkit::{DataPointerCase, Outcome};
//! use nvme_dma::SimMemory;
//!
//! // In a fuzz target, the bytes come from the fuzzer.
//! let bytes: Vec<u8> = (0u32..4096).map(|i| (i.wrapping_mul(2654435761) >> 13) as u8).collect();
//! let case = DataPointerCase::arbitrary(&mut Unstructured::new(&bytes))?;
//! let mut memory = SimMemory::new();
//! case.map_into(&mut memory);
//! case.image.write_to(&mut memory)?;
//! // ... hand `case.sqe(...)` and `memory` to the emulator under test, then compare with:
//! match case.expected(Profile::STRICT).outcome {
//!     Outcome::Moves(pieces) => assert!(!pieces.is_empty()),
//!     Outcome::Fails(status) => assert!(!status.is_success()),
//!     Outcome::Hangs => unreachable!("a strict controller never hangs"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Reproducible and bounded
//!
//! A case is a pure function of the fuzzer's bytes and the [`Target`]: the same bytes make
//! the same case. Every case is small ([`MAX_BLOCKS`] blocks of data, [`MAX_PIECES`] pieces,
//! [`MAX_SEGMENTS`] SGL segments), so making one, writing its image and computing its oracle
//! take bounded work and a fuzz target never times out on the kit's side.

mod driver;
mod emulator;
mod generate;
mod image;

pub use driver::{DriverCase, DriverFinding};
pub use emulator::{DataPointerCase, Expected, Hostile, Label, Outcome, Shape};
pub use image::MemoryImage;

use crate::dptr::ControllerCaps;
use crate::extent::{Extent, PageSize};
use crate::sgl::SglCaps;
use crate::spec::{mdts_bytes, SglSupport, Sgls};

/// The most blocks a generated command moves.
pub const MAX_BLOCKS: u32 = 64;
/// The most pieces a generated transfer is cut into.
pub const MAX_PIECES: usize = 24;
/// The most segments a generated SGL chains through (hostile loops aside).
pub const MAX_SEGMENTS: usize = 6;

/// Where a case may put things in host memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Space {
    /// Host memory for data buffers.
    pub data: Extent,
    /// Host memory for PRP lists and SGL segments; disjoint from `data`.
    pub descriptors: Extent,
    /// An address range with no memory behind it, for buffers that must fault.
    pub unmapped: Extent,
    /// The controller's register window, if a case may point into it.
    pub registers: Option<Extent>,
    /// The controller memory buffer, if the controller has one: valid cases may put their
    /// data and lists there (all of them, as the specification asks), hostile ones may mix
    /// it with host memory or run a list into it. Its bytes are written through the image
    /// at their bus addresses; an emulator routes them into its buffer.
    pub cmb: Option<Extent>,
}

impl Space {
    /// 16 MiB of data at 16 MiB, 4 MiB of descriptors at 8 MiB, nothing at 1 TiB, and a
    /// register window at `0xfebf_0000` (the mock controller's default).
    pub const DEFAULT: Space = Space {
        data: Extent::new(0x0100_0000, 0x0100_0000),
        descriptors: Extent::new(0x0080_0000, 0x0040_0000),
        unmapped: Extent::new(0x100_0000_0000, 0x1000_0000),
        registers: Some(Extent::new(0xfebf_0000, 0x4000)),
        cmb: None,
    };

    /// [`Space::DEFAULT`] with a 4 MiB controller memory buffer at `0xfd00_0000`.
    pub const WITH_CMB: Space = Space {
        cmb: Some(Extent::new(0xfd00_0000, 0x0040_0000)),
        ..Space::DEFAULT
    };
}

/// The controller a case is made for: what it accepts, and where memory is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target {
    /// The memory page size (CC.MPS).
    pub page_size: PageSize,
    /// MDTS, in 4 KiB pages as a power of two (CAP.MPSMIN = 0); 0 for no limit.
    pub mdts: u8,
    /// SGL support as Identify Controller reports it.
    pub sgls: Sgls,
    /// The namespace's logical block size in bytes.
    pub block_size: u64,
    /// Bytes of separate metadata per block (0: none), which MPTR points to.
    pub metadata: u16,
    /// Where the case may put data and descriptors.
    pub space: Space,
}

impl Target {
    /// A target with 4 KiB pages, MDTS 128 KiB, dword-aligned SGLs with bit buckets, 512-byte
    /// blocks and [`Space::DEFAULT`]: the mock controller's default configuration.
    pub const DEFAULT: Target = Target {
        page_size: PageSize::SIZE_4K,
        mdts: 5,
        sgls: Sgls::from_support(SglSupport::DwordAligned).union(Sgls::BIT_BUCKET),
        block_size: 512,
        metadata: 0,
        space: Space::DEFAULT,
    };

    /// What a host-side builder or a device-side walker needs to know of this controller.
    pub fn caps(&self) -> ControllerCaps {
        ControllerCaps {
            page_size: self.page_size,
            sgl: SglCaps::new(self.sgls),
            max_transfer: mdts_bytes(self.mdts, 4096),
        }
    }

    /// The most blocks one command may move here: MDTS and [`MAX_BLOCKS`].
    pub fn max_blocks(&self) -> u32 {
        let by_mdts = self.caps().max_transfer.bytes().map_or(u64::MAX, |bytes| {
            bytes.checked_div(self.block_size).unwrap_or(0)
        });
        u32::try_from(by_mdts.min(u64::from(MAX_BLOCKS))).unwrap_or(MAX_BLOCKS)
    }
}

impl<'a> arbitrary::Arbitrary<'a> for Target {
    /// A target drawn from the fuzzer's bytes: page size 4 to 64 KiB, MDTS from 8 KiB to
    /// none, SGL support from none to byte-aligned with bit buckets, LLDTS and metadata SGLs,
    /// separate metadata or none, and a controller memory buffer or none.
    fn arbitrary(u: &mut arbitrary::Unstructured<'a>) -> arbitrary::Result<Self> {
        let page_size = PageSize::from_mps(u.int_in_range(0..=4)?).unwrap_or(PageSize::SIZE_4K);
        let mdts = u.int_in_range(0u8..=7)?;
        let support = *u.choose(&[
            SglSupport::None,
            SglSupport::DwordAligned,
            SglSupport::ByteAligned,
        ])?;
        let mut sgls = Sgls::from_support(support);
        if support != SglSupport::None {
            if u.arbitrary()? {
                sgls = sgls.union(Sgls::BIT_BUCKET);
            }
            if u.ratio(1, 4)? {
                sgls = sgls.union(Sgls::LLDTS);
            }
            if u.ratio(1, 3)? {
                sgls = sgls.union(Sgls::MPTR_SGL);
            }
        }
        let metadata = if u.ratio(1, 4)? {
            *u.choose(&[8u16, 16, 64])?
        } else {
            0
        };
        let space = if u.ratio(1, 4)? {
            Space::WITH_CMB
        } else {
            Space::DEFAULT
        };
        Ok(Target {
            page_size,
            mdts,
            sgls,
            block_size: 512,
            metadata,
            space,
        })
    }
}
