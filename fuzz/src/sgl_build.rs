//! `sgl_build_walk`: the SGL builder against the independent oracle of the integration tests,
//! then the built layout walked back.
//!
//! Checks: the builder accepts exactly the pieces the oracle accepts (for any SGLS bits, MSDBD,
//! direction, transfer length and maximum); an accepted layout walks back to exactly the
//! pieces (merged, and cut where the transfer ends), reading exactly the descriptors the
//! layout holds; the builder writes only the descriptor slots the layout needs, in the segment
//! buffers it was given, and nothing at all when it refuses (for bad pieces or too little
//! segment memory).

use arbitrary::{Arbitrary, Result, Unstructured};
use nvme_dma::sgl::{Capability, SglBuilder, SglCaps, SglWalker};
use nvme_dma::spec::Sgls;
use nvme_dma::Extent;
use nvme_dma::{Direction, Piece};
use nvme_dma_testkit::oracle::{sgl_normalize_all, sgl_oracle_accepts, OracleCaps, SEGMENT_REGION};

use crate::descriptor_memory::{
    assert_untouched, assert_written_exactly, chained_use, memory_of, segments_of, Buffers, POISON,
};
use crate::encode::{self, Encode};

/// At most this many pieces.
pub const MAX_PIECES: usize = 16;
/// Layouts of more descriptors are checked against the oracle but not built or walked (the
/// default walk limits allow 4096).
pub const MAX_BUILD_DESCRIPTORS: u64 = 4096;
/// Layouts needing more segments are not walked (the default walk limits allow 256).
pub const MAX_BUILD_SEGMENTS: u64 = 256;
/// Segment buffers sit this far apart.
const SEGMENT_STRIDE: u64 = 0x1_0000;

/// One piece, as any public `Piece` or shaped so that merging and alignment come up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PieceSpec {
    /// This piece (capsule data becomes host data at the same numbers, transport data a
    /// skip: the oracle knows data, skips and keyed data).
    Raw(Piece),
    /// Data at `offset` in region `region` (regions are 2^36 bytes apart).
    Near {
        /// Which region.
        region: u8,
        /// Offset in the region.
        offset: u32,
        /// Length.
        len: u32,
    },
    /// Data right after the previous data piece (so the two merge).
    After {
        /// Length.
        len: u32,
    },
}

/// Pieces for one command and the controller it goes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SglBuildInput {
    /// SGLS (support, bit bucket, keyed, LLDTS, ...).
    pub sgls: u32,
    /// MSDBD.
    pub msdbd: u8,
    /// The data direction.
    pub direction: Direction,
    /// The transfer length as a difference from what the pieces describe, if it is given.
    pub transfer_delta: Option<i32>,
    /// MDTS in bytes, if any.
    pub max_transfer: Option<u64>,
    /// Descriptors per segment buffer, less two (modulo 255).
    pub capacity: u8,
    /// Segment buffers supplied beyond what the plan needs (modulo 3).
    pub spare_segments: u8,
    /// The pieces.
    pub pieces: Vec<PieceSpec>,
}

impl<'a> Arbitrary<'a> for PieceSpec {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(match u.arbitrary::<u8>()? % 3 {
            0 => PieceSpec::Near {
                region: u.arbitrary()?,
                offset: u.arbitrary()?,
                len: u.arbitrary()?,
            },
            1 => PieceSpec::After {
                len: u.arbitrary()?,
            },
            _ => PieceSpec::Raw(u.arbitrary()?),
        })
    }
}

impl Encode for PieceSpec {
    fn encode(&self, out: &mut Vec<u8>) {
        match *self {
            PieceSpec::Near {
                region,
                offset,
                len,
            } => {
                0u8.encode(out);
                region.encode(out);
                offset.encode(out);
                len.encode(out);
            }
            PieceSpec::After { len } => {
                1u8.encode(out);
                len.encode(out);
            }
            PieceSpec::Raw(p) => {
                2u8.encode(out);
                p.encode(out);
            }
        }
    }
}

impl<'a> Arbitrary<'a> for SglBuildInput {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let sgls = u.arbitrary()?;
        let msdbd = u.arbitrary()?;
        let direction = u.arbitrary()?;
        let transfer_delta = encode::option(u)?;
        let max_transfer = encode::option(u)?;
        let capacity = u.arbitrary()?;
        let spare_segments = u.arbitrary()?;
        let n = encode::count(u, MAX_PIECES)?;
        let pieces = (0..n).map(|_| u.arbitrary()).collect::<Result<_>>()?;
        Ok(SglBuildInput {
            sgls,
            msdbd,
            direction,
            transfer_delta,
            max_transfer,
            capacity,
            spare_segments,
            pieces,
        })
    }
}

impl Encode for SglBuildInput {
    fn encode(&self, out: &mut Vec<u8>) {
        self.sgls.encode(out);
        self.msdbd.encode(out);
        self.direction.encode(out);
        self.transfer_delta.encode(out);
        self.max_transfer.encode(out);
        self.capacity.encode(out);
        self.spare_segments.encode(out);
        encode::collection(&self.pieces, MAX_PIECES, out);
    }
}

/// The pieces the specs describe.
pub fn resolve(specs: &[PieceSpec]) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut data_end = 1u64 << 36;
    for spec in specs {
        let piece = match *spec {
            PieceSpec::Raw(Piece::Capsule { offset, len }) => Piece::Data(Extent::new(offset, len)),
            PieceSpec::Raw(Piece::Transport(n)) => Piece::Skip(n),
            PieceSpec::Raw(p) => p,
            PieceSpec::Near {
                region,
                offset,
                len,
            } => Piece::Data(Extent::new(
                ((u64::from(region) + 1) << 36) + u64::from(offset),
                u64::from(len),
            )),
            PieceSpec::After { len } => Piece::Data(Extent::new(data_end, u64::from(len))),
        };
        if let Piece::Data(e) = piece {
            data_end = e.addr.wrapping_add(e.len);
        }
        out.push(piece);
    }
    out
}

/// The pieces a walk of `transfer` bytes yields: the pieces cut where the transfer ends,
/// then merged as a walker reports them.
fn cut(pieces: &[Piece], transfer: u64) -> Vec<Piece> {
    let mut left = transfer;
    let mut out = Vec::new();
    for p in pieces {
        let take = p.len().min(left);
        left -= take;
        out.push(match *p {
            Piece::Data(e) => Piece::Data(Extent::new(e.addr, take)),
            Piece::Keyed { extent, key } => Piece::Keyed {
                extent: Extent::new(extent.addr, take),
                key,
            },
            Piece::Skip(_) => Piece::Skip(take),
            other => panic!("{other} is not generated"),
        });
    }
    sgl_normalize_all(out)
}

/// Run every SGL build-and-walk check on one input.
pub fn check(input: &SglBuildInput) {
    let pieces = resolve(&input.pieces);
    let caps = SglCaps::new(Sgls::from_bits_retain(input.sgls)).with_msdbd(input.msdbd);
    let direction = input.direction;
    let described = pieces.iter().fold(0u64, |a, p| a.wrapping_add(p.len()));
    let wanted = input
        .transfer_delta
        .map(|d| described.wrapping_add_signed(i64::from(d)));
    let mut builder = SglBuilder::new(caps, direction);
    if let Some(t) = wanted {
        builder = builder.with_transfer_len(t);
    }
    if let Some(m) = input.max_transfer {
        builder = builder.with_max_transfer(m);
    }
    let oracle = OracleCaps {
        supported: caps.supported(),
        dword: caps.dword_granular(),
        bit_bucket: caps.has(Capability::BitBucket),
        keyed: caps.has(Capability::Keyed),
        lldts: caps.has(Capability::Lldts),
        msdbd: caps.msdbd().map(u64::from),
    };
    let accepted = sgl_oracle_accepts(&pieces, direction, oracle, wanted, input.max_transfer);
    let plan = builder.plan(&pieces);
    assert_eq!(plan.is_ok(), accepted, "{pieces:x?}: plan {plan:?}");
    if let [single] = pieces[..] {
        let inline = builder.build_inline(single);
        assert_eq!(
            inline.is_ok(),
            plan.as_ref().is_ok_and(|p| p.descriptors() == 1),
            "inline {inline:?}, plan {plan:?}"
        );
    }
    let capacity = 2 + u64::from(input.capacity % 255);
    let plan = match plan {
        Ok(plan) => plan,
        Err(e) => {
            assert!(!e.to_string().is_empty());
            let mut given: Buffers = vec![(SEGMENT_REGION, vec![POISON; 64])];
            let mut segments = segments_of(&mut given);
            assert_eq!(builder.build(&pieces, &mut segments), Err(e));
            drop(segments);
            return assert_untouched(&given, "a refused build");
        }
    };
    let transfer = plan.transfer_len();
    assert_eq!(plan.len(), described);
    assert_eq!(transfer, wanted.unwrap_or(described));
    if plan.descriptors() > MAX_BUILD_DESCRIPTORS
        || plan.segments_needed(capacity) > MAX_BUILD_SEGMENTS
    {
        return;
    }

    let expected = if plan.is_inline() {
        Vec::new()
    } else {
        chained_use(plan.descriptors(), capacity, capacity)
    };
    assert_eq!(plan.segments_needed(capacity), expected.len() as u64);
    let spare = usize::from(input.spare_segments % 3);
    let size = (capacity * 16 + 5) as usize;
    let mut buffers: Buffers = (0..expected.len() + spare)
        .map(|i| {
            (
                SEGMENT_REGION + SEGMENT_STRIDE * i as u64,
                vec![POISON; size],
            )
        })
        .collect();

    if let Some(short) = expected.len().checked_sub(1) {
        let mut segments = segments_of(&mut buffers[..short]);
        assert!(builder.build(&pieces, &mut segments).is_err());
        drop(segments);
        assert_untouched(&buffers, "too little segment memory");
    }

    let mut segments = segments_of(&mut buffers);
    let layout = builder
        .build(&pieces, &mut segments)
        .expect("planned layout builds");
    drop(segments);
    assert_eq!(layout.plan, plan);
    assert_eq!(layout.segments_used, expected.len());
    assert_written_exactly(&buffers, &expected, 16);

    let mem = memory_of(&buffers);
    let walked: std::result::Result<Vec<Piece>, _> =
        SglWalker::new(layout.sgl1.to_raw(), direction, transfer, &caps, &mem)
            .into_iter()
            .collect();
    assert_eq!(walked, Ok(cut(&pieces, transfer)), "walked back");
    let held: u64 = expected.iter().sum();
    if transfer == described {
        assert_eq!(mem.bytes_read(), 16 * held, "descriptors read");
    } else {
        assert!(mem.bytes_read() <= 16 * held);
    }
    assert_eq!(mem.write_count(), 0);
}
