//! CMBLOC and CMBSZ, the Controller Memory Buffer registers (offsets 38h and 3Ch), with their
//! field positions. Both are optional and describe a region of controller memory, not the
//! controller's state, so they stand apart from the registers that bring a controller up.

use crate::spec::bits::Bits;

/// Field positions of the CMB registers, one module each.
mod field {
    use super::Bits;

    pub(super) mod cmbloc {
        use super::Bits;
        pub(crate) const BIR: Bits = Bits::new(0, 3);
        pub(crate) const OFST: Bits = Bits::new(12, 20);
    }

    pub(super) mod cmbsz {
        use super::Bits;
        pub(crate) const SQS: Bits = Bits::bit(0);
        pub(crate) const CQS: Bits = Bits::bit(1);
        pub(crate) const LISTS: Bits = Bits::bit(2);
        pub(crate) const RDS: Bits = Bits::bit(3);
        pub(crate) const WDS: Bits = Bits::bit(4);
        pub(crate) const SZU: Bits = Bits::new(8, 4);
        pub(crate) const SZ: Bits = Bits::new(12, 20);
    }
}

/// CMBLOC, Controller Memory Buffer Location (offset 38h, 32 bits): where the CMB lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct CmbLoc(pub u32);

impl CmbLoc {
    /// All fields zero.
    #[must_use]
    pub const fn new() -> Self {
        Self(0)
    }

    /// The raw 32-bit value.
    #[must_use]
    pub const fn raw(self) -> u32 {
        self.0
    }

    /// BIR, Base Indicator Register (bits 2:0): which BAR holds the CMB (0h = BAR0 at config
    /// offset 10h, 2h–5h = BAR2–BAR5; 1h, 6h and 7h reserved).
    #[must_use]
    pub const fn bir(self) -> u8 {
        field::cmbloc::BIR.get_u8(self.0 as u64)
    }

    /// Sets BIR (3 bits).
    #[must_use]
    pub const fn with_bir(self, bir: u8) -> Self {
        Self(field::cmbloc::BIR.set32(self.0, bir as u64))
    }

    /// OFST, Offset (bits 31:12): the CMB's offset in that BAR, in CMBSZ.SZU units.
    #[must_use]
    pub const fn ofst(self) -> u32 {
        field::cmbloc::OFST.get_u32(self.0 as u64)
    }

    /// Sets OFST (20 bits).
    #[must_use]
    pub const fn with_ofst(self, ofst: u32) -> Self {
        Self(field::cmbloc::OFST.set32(self.0, ofst as u64))
    }

    /// The CMB's byte offset in its BAR: OFST × the unit of `size`; `None` if the unit is
    /// reserved or the product overflows.
    #[must_use]
    pub const fn offset_bytes(self, size: CmbSz) -> Option<u64> {
        match size.size_unit_bytes() {
            Some(unit) => (self.ofst() as u64).checked_mul(unit),
            None => None,
        }
    }
}

/// CMBSZ, Controller Memory Buffer Size (offset 3Ch, 32 bits): how big the CMB is and what
/// it may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct CmbSz(pub u32);

impl CmbSz {
    /// All fields zero (no CMB).
    #[must_use]
    pub const fn new() -> Self {
        Self(0)
    }

    /// The raw 32-bit value.
    #[must_use]
    pub const fn raw(self) -> u32 {
        self.0
    }

    /// SQS, Submission Queue Support (bit 0): I/O submission queues may live in the CMB.
    #[must_use]
    pub const fn sqs(self) -> bool {
        field::cmbsz::SQS.get_bool(self.0 as u64)
    }

    /// Sets SQS.
    #[must_use]
    pub const fn with_sqs(self, v: bool) -> Self {
        Self(field::cmbsz::SQS.set32(self.0, v as u64))
    }

    /// CQS, Completion Queue Support (bit 1): I/O completion queues may live in the CMB.
    #[must_use]
    pub const fn cqs(self) -> bool {
        field::cmbsz::CQS.get_bool(self.0 as u64)
    }

    /// Sets CQS.
    #[must_use]
    pub const fn with_cqs(self, v: bool) -> Self {
        Self(field::cmbsz::CQS.set32(self.0, v as u64))
    }

    /// LISTS, PRP SGL List Support (bit 2): PRP lists and SGL segments may live in the CMB.
    #[must_use]
    pub const fn lists(self) -> bool {
        field::cmbsz::LISTS.get_bool(self.0 as u64)
    }

    /// Sets LISTS.
    #[must_use]
    pub const fn with_lists(self, v: bool) -> Self {
        Self(field::cmbsz::LISTS.set32(self.0, v as u64))
    }

    /// RDS, Read Data Support (bit 3): data read from the controller may land in the CMB.
    #[must_use]
    pub const fn rds(self) -> bool {
        field::cmbsz::RDS.get_bool(self.0 as u64)
    }

    /// Sets RDS.
    #[must_use]
    pub const fn with_rds(self, v: bool) -> Self {
        Self(field::cmbsz::RDS.set32(self.0, v as u64))
    }

    /// WDS, Write Data Support (bit 4): data written to the controller may come from the CMB.
    #[must_use]
    pub const fn wds(self) -> bool {
        field::cmbsz::WDS.get_bool(self.0 as u64)
    }

    /// Sets WDS.
    #[must_use]
    pub const fn with_wds(self, v: bool) -> Self {
        Self(field::cmbsz::WDS.set32(self.0, v as u64))
    }

    /// SZU, Size Units (bits 11:8): 0h 4 KiB, 1h 64 KiB, 2h 1 MiB, 3h 16 MiB, 4h 256 MiB,
    /// 5h 4 GiB, 6h 64 GiB; 7h–Fh reserved.
    #[must_use]
    pub const fn szu(self) -> u8 {
        field::cmbsz::SZU.get_u8(self.0 as u64)
    }

    /// Sets SZU (4 bits).
    #[must_use]
    pub const fn with_szu(self, szu: u8) -> Self {
        Self(field::cmbsz::SZU.set32(self.0, szu as u64))
    }

    /// SZ, Size (bits 31:12), in SZU units.
    #[must_use]
    pub const fn sz(self) -> u32 {
        field::cmbsz::SZ.get_u32(self.0 as u64)
    }

    /// Sets SZ (20 bits).
    #[must_use]
    pub const fn with_sz(self, sz: u32) -> Self {
        Self(field::cmbsz::SZ.set32(self.0, sz as u64))
    }

    /// The size unit in bytes, 4 KiB × 16^SZU; `None` for the reserved SZU values 7h–Fh.
    #[must_use]
    pub const fn size_unit_bytes(self) -> Option<u64> {
        match self.szu() {
            // 4096 << (4 × szu) for szu ≤ 6 is at most 2^36.
            szu @ 0..=6 => Some(4096u64 << ((szu as u32) << 2)),
            _ => None,
        }
    }

    /// The CMB size in bytes, SZ × the size unit; `None` if SZU is reserved.
    #[must_use]
    pub const fn size_bytes(self) -> Option<u64> {
        match self.size_unit_bytes() {
            Some(unit) => (self.sz() as u64).checked_mul(unit),
            None => None,
        }
    }
}
