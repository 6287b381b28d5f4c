//! Controller registers in PCIe BAR0 (NVMe Base Specification, "Controller Registers"; NVMe
//! over PCIe Transport Specification for the doorbells).
//!
//! ```text
//!  offset  register  size  meaning
//!  00h     CAP       8     Controller Capabilities
//!  08h     VS        4     Version
//!  0Ch     INTMS     4     Interrupt Mask Set
//!  10h     INTMC     4     Interrupt Mask Clear
//!  14h     CC        4     Controller Configuration
//!  1Ch     CSTS      4     Controller Status
//!  20h     NSSR      4     NVM Subsystem Reset
//!  24h     AQA       4     Admin Queue Attributes
//!  28h     ASQ       8     Admin Submission Queue Base Address
//!  30h     ACQ       8     Admin Completion Queue Base Address
//!  38h     CMBLOC    4     Controller Memory Buffer Location
//!  3Ch     CMBSZ     4     Controller Memory Buffer Size
//!  1000h   doorbells       SQ y tail at 1000h + (2y)(4 << DSTRD),
//!                          CQ y head at 1000h + (2y + 1)(4 << DSTRD)
//! ```
//!
//! Each register is a newtype over its raw value with one getter and one `with_` builder per
//! field; field positions live in a `field` module per register. Setters mask their input to
//! the field's width. No method panics.
//!
//! The Controller Memory Buffer registers, [`CmbLoc`] and [`CmbSz`], are defined in a file of
//! their own and re-exported here.

use core::fmt;

use super::bits::Bits;

mod cmb;

pub use cmb::{CmbLoc, CmbSz};

/// Byte offsets of the registers from the start of BAR0.
pub mod offset {
    /// CAP, Controller Capabilities (64 bits).
    pub const CAP: u64 = 0x00;
    /// VS, Version (32 bits).
    pub const VS: u64 = 0x08;
    /// INTMS, Interrupt Mask Set (32 bits).
    pub const INTMS: u64 = 0x0C;
    /// INTMC, Interrupt Mask Clear (32 bits).
    pub const INTMC: u64 = 0x10;
    /// CC, Controller Configuration (32 bits).
    pub const CC: u64 = 0x14;
    /// CSTS, Controller Status (32 bits).
    pub const CSTS: u64 = 0x1C;
    /// NSSR, NVM Subsystem Reset (32 bits, optional).
    pub const NSSR: u64 = 0x20;
    /// AQA, Admin Queue Attributes (32 bits).
    pub const AQA: u64 = 0x24;
    /// ASQ, Admin Submission Queue Base Address (64 bits, page aligned).
    pub const ASQ: u64 = 0x28;
    /// ACQ, Admin Completion Queue Base Address (64 bits, page aligned).
    pub const ACQ: u64 = 0x30;
    /// CMBLOC, Controller Memory Buffer Location (32 bits, optional).
    pub const CMBLOC: u64 = 0x38;
    /// CMBSZ, Controller Memory Buffer Size (32 bits, optional).
    pub const CMBSZ: u64 = 0x3C;
    /// Start of the doorbell registers: SQ 0 Tail Doorbell.
    pub const DOORBELL_BASE: u64 = 0x1000;
}

/// The value that, written to NSSR, starts an NVM Subsystem Reset: "NVMe" in ASCII.
pub const NSSR_RESET_VALUE: u32 = 0x4E56_4D65;

/// Memory page size in bytes for a 4-bit MPS value: 2^(12 + MPS) (4 KiB up to 128 MiB).
///
/// Only bits 3:0 of `mps` are used, so the result always fits.
#[must_use]
pub const fn page_size_bytes(mps: u8) -> u64 {
    4096u64.wrapping_shl((mps & 0xF) as u32)
}

/// The largest valid DSTRD value: a doorbell stride of 4 << 15 bytes.
pub const DSTRD_MAX: u8 = 15;

/// Byte offset in BAR0 of the Submission Queue `qid` Tail Doorbell for doorbell stride
/// `dstrd` (CAP.DSTRD): 1000h + (2 × qid) × (4 << DSTRD).
///
/// `None` if `dstrd` is above 15, which the 4-bit CAP.DSTRD field cannot hold.
#[must_use]
pub const fn sq_tail_doorbell(qid: u16, dstrd: u8) -> Option<u64> {
    doorbell(qid, dstrd, 0)
}

/// Byte offset in BAR0 of the Completion Queue `qid` Head Doorbell for doorbell stride
/// `dstrd` (CAP.DSTRD): 1000h + (2 × qid + 1) × (4 << DSTRD).
///
/// `None` if `dstrd` is above 15.
#[must_use]
pub const fn cq_head_doorbell(qid: u16, dstrd: u8) -> Option<u64> {
    doorbell(qid, dstrd, 1)
}

/// 1000h + (2 × qid + which) × (4 << dstrd), computed without any chance of overflow.
const fn doorbell(qid: u16, dstrd: u8, which: u64) -> Option<u64> {
    if dstrd > DSTRD_MAX {
        return None;
    }
    let stride = 4u64 << dstrd;
    let Some(index) = (qid as u64).checked_mul(2) else {
        return None;
    };
    let Some(index) = index.checked_add(which) else {
        return None;
    };
    let Some(distance) = index.checked_mul(stride) else {
        return None;
    };
    offset::DOORBELL_BASE.checked_add(distance)
}

/// Field positions of every register but the CMB's (those are in `cmb`), one module each.
mod field {
    use super::Bits;

    pub(super) mod cap {
        use super::Bits;
        pub(crate) const MQES: Bits = Bits::new(0, 16);
        pub(crate) const CQR: Bits = Bits::bit(16);
        pub(crate) const AMS: Bits = Bits::new(17, 2);
        pub(crate) const TO: Bits = Bits::new(24, 8);
        pub(crate) const DSTRD: Bits = Bits::new(32, 4);
        pub(crate) const NSSRS: Bits = Bits::bit(36);
        pub(crate) const CSS: Bits = Bits::new(37, 8);
        pub(crate) const MPSMIN: Bits = Bits::new(48, 4);
        pub(crate) const MPSMAX: Bits = Bits::new(52, 4);
        pub(crate) const CMBS: Bits = Bits::bit(57);
    }

    pub(super) mod cc {
        use super::Bits;
        pub(crate) const EN: Bits = Bits::bit(0);
        pub(crate) const CSS: Bits = Bits::new(4, 3);
        pub(crate) const MPS: Bits = Bits::new(7, 4);
        pub(crate) const AMS: Bits = Bits::new(11, 3);
        pub(crate) const SHN: Bits = Bits::new(14, 2);
        pub(crate) const IOSQES: Bits = Bits::new(16, 4);
        pub(crate) const IOCQES: Bits = Bits::new(20, 4);
    }

    pub(super) mod csts {
        use super::Bits;
        pub(crate) const SHST: Bits = Bits::new(2, 2);
    }

    pub(super) mod aqa {
        use super::Bits;
        pub(crate) const ASQS: Bits = Bits::new(0, 12);
        pub(crate) const ACQS: Bits = Bits::new(16, 12);
    }

    pub(super) mod vs {
        use super::Bits;
        pub(crate) const TER: Bits = Bits::new(0, 8);
        pub(crate) const MNR: Bits = Bits::new(8, 8);
        pub(crate) const MJR: Bits = Bits::new(16, 16);
    }
}

/// CAP, Controller Capabilities (offset 00h, 64 bits, read-only to the host).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Cap(pub u64);

impl Cap {
    /// All fields zero; fill with the `with_` builders.
    #[must_use]
    pub const fn new() -> Self {
        Self(0)
    }

    /// The raw 64-bit value.
    #[must_use]
    pub const fn raw(self) -> u64 {
        self.0
    }

    /// MQES, Maximum Queue Entries Supported (bits 15:0), **zero-based**: an I/O queue may
    /// have at most `mqes_z + 1` entries. At least 1 (two entries) on a real controller.
    #[must_use]
    pub const fn mqes_z(self) -> u16 {
        field::cap::MQES.get_u16(self.0)
    }

    /// Sets MQES (zero-based).
    #[must_use]
    pub const fn with_mqes_z(self, mqes_z: u16) -> Self {
        Self(field::cap::MQES.set(self.0, mqes_z as u64))
    }

    /// The most entries an I/O queue may have: MQES + 1 (1..=65536).
    #[must_use]
    pub const fn max_queue_entries(self) -> u32 {
        // At most 65535 + 1: never saturates.
        (self.mqes_z() as u32).saturating_add(1)
    }

    /// CQR, Contiguous Queues Required (bit 16): I/O queues must be physically contiguous
    /// (Create I/O SQ/CQ with PC = 0 is then Invalid Field).
    #[must_use]
    pub const fn cqr(self) -> bool {
        field::cap::CQR.get_bool(self.0)
    }

    /// Sets CQR.
    #[must_use]
    pub const fn with_cqr(self, cqr: bool) -> Self {
        Self(field::cap::CQR.set_bool(self.0, cqr))
    }

    /// AMS, Arbitration Mechanism Supported (bits 18:17): bit 17 weighted round robin with
    /// urgent priority class, bit 18 vendor specific. Round robin is always supported.
    #[must_use]
    pub const fn ams(self) -> u8 {
        field::cap::AMS.get_u8(self.0)
    }

    /// Sets AMS (2 bits).
    #[must_use]
    pub const fn with_ams(self, ams: u8) -> Self {
        Self(field::cap::AMS.set(self.0, ams as u64))
    }

    /// TO, Timeout (bits 31:24): worst-case time for CSTS.RDY to follow CC.EN, in 500 ms units.
    #[must_use]
    pub const fn to(self) -> u8 {
        field::cap::TO.get_u8(self.0)
    }

    /// Sets TO.
    #[must_use]
    pub const fn with_to(self, to: u8) -> Self {
        Self(field::cap::TO.set(self.0, to as u64))
    }

    /// TO in milliseconds (TO × 500).
    #[must_use]
    pub const fn timeout_ms(self) -> u32 {
        // At most 255 × 500: never saturates.
        (self.to() as u32).saturating_mul(500)
    }

    /// DSTRD, Doorbell Stride (bits 35:32): doorbells are `4 << DSTRD` bytes apart.
    #[must_use]
    pub const fn dstrd(self) -> u8 {
        field::cap::DSTRD.get_u8(self.0)
    }

    /// Sets DSTRD (4 bits).
    #[must_use]
    pub const fn with_dstrd(self, dstrd: u8) -> Self {
        Self(field::cap::DSTRD.set(self.0, dstrd as u64))
    }

    /// NSSRS, NVM Subsystem Reset Supported (bit 36).
    #[must_use]
    pub const fn nssrs(self) -> bool {
        field::cap::NSSRS.get_bool(self.0)
    }

    /// Sets NSSRS.
    #[must_use]
    pub const fn with_nssrs(self, nssrs: bool) -> Self {
        Self(field::cap::NSSRS.set_bool(self.0, nssrs))
    }

    /// CSS, Command Sets Supported (bits 44:37): bit 37 NVM command set, bit 43 I/O command
    /// sets beyond NVM, bit 44 admin command set only.
    #[must_use]
    pub const fn css(self) -> u8 {
        field::cap::CSS.get_u8(self.0)
    }

    /// Sets CSS.
    #[must_use]
    pub const fn with_css(self, css: u8) -> Self {
        Self(field::cap::CSS.set(self.0, css as u64))
    }

    /// MPSMIN, Memory Page Size Minimum (bits 51:48): smallest page 2^(12 + MPSMIN).
    #[must_use]
    pub const fn mpsmin(self) -> u8 {
        field::cap::MPSMIN.get_u8(self.0)
    }

    /// Sets MPSMIN (4 bits).
    #[must_use]
    pub const fn with_mpsmin(self, mpsmin: u8) -> Self {
        Self(field::cap::MPSMIN.set(self.0, mpsmin as u64))
    }

    /// MPSMAX, Memory Page Size Maximum (bits 55:52): largest page 2^(12 + MPSMAX).
    #[must_use]
    pub const fn mpsmax(self) -> u8 {
        field::cap::MPSMAX.get_u8(self.0)
    }

    /// Sets MPSMAX (4 bits).
    #[must_use]
    pub const fn with_mpsmax(self, mpsmax: u8) -> Self {
        Self(field::cap::MPSMAX.set(self.0, mpsmax as u64))
    }

    /// CMBS, Controller Memory Buffer Supported (bit 57, NVMe 1.4+).
    #[must_use]
    pub const fn cmbs(self) -> bool {
        field::cap::CMBS.get_bool(self.0)
    }

    /// Sets CMBS.
    #[must_use]
    pub const fn with_cmbs(self, cmbs: bool) -> Self {
        Self(field::cap::CMBS.set_bool(self.0, cmbs))
    }

    /// The smallest memory page size in bytes, 2^(12 + MPSMIN).
    #[must_use]
    pub const fn page_size_min(self) -> u64 {
        page_size_bytes(self.mpsmin())
    }

    /// The largest memory page size in bytes, 2^(12 + MPSMAX).
    #[must_use]
    pub const fn page_size_max(self) -> u64 {
        page_size_bytes(self.mpsmax())
    }
}

impl fmt::Debug for Cap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cap")
            .field("mqes_z", &self.mqes_z())
            .field("cqr", &self.cqr())
            .field("ams", &self.ams())
            .field("to", &self.to())
            .field("dstrd", &self.dstrd())
            .field("nssrs", &self.nssrs())
            .field("css", &format_args!("{:#04x}", self.css()))
            .field("mpsmin", &self.mpsmin())
            .field("mpsmax", &self.mpsmax())
            .field("cmbs", &self.cmbs())
            .field("raw", &format_args!("{:#018x}", self.0))
            .finish()
    }
}

/// CC.SHN, Shutdown Notification (CC bits 15:14).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ShutdownNotification {
    /// 00b: no notification, no effect.
    #[default]
    None,
    /// 01b: normal shutdown notification.
    Normal,
    /// 10b: abrupt shutdown notification.
    Abrupt,
    /// 11b: reserved.
    Reserved,
}

impl ShutdownNotification {
    /// Decodes the 2-bit field; bits above bit 1 of `bits` are ignored.
    #[must_use]
    pub const fn from_bits(bits: u8) -> Self {
        match bits & 0b11 {
            0b00 => Self::None,
            0b01 => Self::Normal,
            0b10 => Self::Abrupt,
            _ => Self::Reserved,
        }
    }

    /// The 2-bit field value.
    #[must_use]
    pub const fn to_bits(self) -> u8 {
        match self {
            Self::None => 0b00,
            Self::Normal => 0b01,
            Self::Abrupt => 0b10,
            Self::Reserved => 0b11,
        }
    }
}

/// CC, Controller Configuration (offset 14h, 32 bits, written by the host).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Cc(pub u32);

impl Cc {
    /// All fields zero (controller disabled).
    #[must_use]
    pub const fn new() -> Self {
        Self(0)
    }

    /// The raw 32-bit value.
    #[must_use]
    pub const fn raw(self) -> u32 {
        self.0
    }

    /// EN, Enable (bit 0): 1 starts the controller, 0 resets it.
    #[must_use]
    pub const fn en(self) -> bool {
        field::cc::EN.get_bool(self.0 as u64)
    }

    /// Sets EN.
    #[must_use]
    pub const fn with_en(self, en: bool) -> Self {
        Self(field::cc::EN.set32(self.0, en as u64))
    }

    /// CSS, I/O Command Set Selected (bits 6:4): 000b NVM command set, 110b all supported
    /// I/O command sets, 111b admin command set only.
    #[must_use]
    pub const fn css(self) -> u8 {
        field::cc::CSS.get_u8(self.0 as u64)
    }

    /// Sets CSS (3 bits).
    #[must_use]
    pub const fn with_css(self, css: u8) -> Self {
        Self(field::cc::CSS.set32(self.0, css as u64))
    }

    /// MPS, Memory Page Size (bits 10:7): the host's page size is 2^(12 + MPS); must lie
    /// within CAP.MPSMIN..=CAP.MPSMAX. PRP entries are built on this page size.
    #[must_use]
    pub const fn mps(self) -> u8 {
        field::cc::MPS.get_u8(self.0 as u64)
    }

    /// Sets MPS (4 bits).
    #[must_use]
    pub const fn with_mps(self, mps: u8) -> Self {
        Self(field::cc::MPS.set32(self.0, mps as u64))
    }

    /// The memory page size in bytes, 2^(12 + MPS).
    #[must_use]
    pub const fn page_size(self) -> u64 {
        page_size_bytes(self.mps())
    }

    /// AMS, Arbitration Mechanism Selected (bits 13:11): 000b round robin, 001b weighted
    /// round robin with urgent priority class, 111b vendor specific.
    #[must_use]
    pub const fn ams(self) -> u8 {
        field::cc::AMS.get_u8(self.0 as u64)
    }

    /// Sets AMS (3 bits).
    #[must_use]
    pub const fn with_ams(self, ams: u8) -> Self {
        Self(field::cc::AMS.set32(self.0, ams as u64))
    }

    /// SHN, Shutdown Notification (bits 15:14).
    #[must_use]
    pub const fn shn(self) -> ShutdownNotification {
        ShutdownNotification::from_bits(field::cc::SHN.get_u8(self.0 as u64))
    }

    /// Sets SHN.
    #[must_use]
    pub const fn with_shn(self, shn: ShutdownNotification) -> Self {
        Self(field::cc::SHN.set32(self.0, shn.to_bits() as u64))
    }

    /// IOSQES, I/O Submission Queue Entry Size (bits 19:16), as a power of two: 6 for the
    /// 64-byte entries of the NVM command set.
    #[must_use]
    pub const fn iosqes(self) -> u8 {
        field::cc::IOSQES.get_u8(self.0 as u64)
    }

    /// Sets IOSQES (4 bits).
    #[must_use]
    pub const fn with_iosqes(self, iosqes: u8) -> Self {
        Self(field::cc::IOSQES.set32(self.0, iosqes as u64))
    }

    /// IOCQES, I/O Completion Queue Entry Size (bits 23:20), as a power of two: 4 for
    /// 16-byte entries.
    #[must_use]
    pub const fn iocqes(self) -> u8 {
        field::cc::IOCQES.get_u8(self.0 as u64)
    }

    /// Sets IOCQES (4 bits).
    #[must_use]
    pub const fn with_iocqes(self, iocqes: u8) -> Self {
        Self(field::cc::IOCQES.set32(self.0, iocqes as u64))
    }
}

impl fmt::Debug for Cc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cc")
            .field("en", &self.en())
            .field("css", &self.css())
            .field("mps", &self.mps())
            .field("ams", &self.ams())
            .field("shn", &self.shn())
            .field("iosqes", &self.iosqes())
            .field("iocqes", &self.iocqes())
            .field("raw", &format_args!("{:#010x}", self.0))
            .finish()
    }
}

bitflags::bitflags! {
    /// CSTS, Controller Status (offset 1Ch, 32 bits, read-only to the host).
    ///
    /// The one-bit fields are flags; SHST (bits 3:2) is a 2-bit field read with
    /// [`Csts::shst`] and written with [`Csts::with_shst`]. Build from a register value with
    /// `Csts::from_bits_retain`, which keeps SHST and any bit this type does not name.
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
    pub struct Csts: u32 {
        /// RDY, Ready (bit 0): the controller is ready to process commands after CC.EN = 1.
        const RDY = 1 << 0;
        /// CFS, Controller Fatal Status (bit 1): a fatal error the host can only reset away.
        const CFS = 1 << 1;
        /// NSSRO, NVM Subsystem Reset Occurred (bit 4), write 1 to clear.
        const NSSRO = 1 << 4;
        /// PP, Processing Paused (bit 5).
        const PP = 1 << 5;
    }
}

/// CSTS.SHST, Shutdown Status (CSTS bits 3:2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ShutdownStatus {
    /// 00b: normal operation, no shutdown requested.
    #[default]
    Normal,
    /// 01b: shutdown processing occurring.
    Occurring,
    /// 10b: shutdown processing complete.
    Complete,
    /// 11b: reserved.
    Reserved,
}

impl ShutdownStatus {
    /// Decodes the 2-bit field; bits above bit 1 of `bits` are ignored.
    #[must_use]
    pub const fn from_bits(bits: u8) -> Self {
        match bits & 0b11 {
            0b00 => Self::Normal,
            0b01 => Self::Occurring,
            0b10 => Self::Complete,
            _ => Self::Reserved,
        }
    }

    /// The 2-bit field value.
    #[must_use]
    pub const fn to_bits(self) -> u8 {
        match self {
            Self::Normal => 0b00,
            Self::Occurring => 0b01,
            Self::Complete => 0b10,
            Self::Reserved => 0b11,
        }
    }
}

impl Csts {
    /// SHST, Shutdown Status (bits 3:2).
    #[must_use]
    pub const fn shst(self) -> ShutdownStatus {
        ShutdownStatus::from_bits(field::csts::SHST.get_u8(self.bits() as u64))
    }

    /// This status with SHST replaced; every other bit is kept.
    #[must_use]
    pub const fn with_shst(self, shst: ShutdownStatus) -> Self {
        Self::from_bits_retain(field::csts::SHST.set32(self.bits(), shst.to_bits() as u64))
    }
}

/// AQA, Admin Queue Attributes (offset 24h, 32 bits): the admin queue sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Aqa(pub u32);

impl Aqa {
    /// Both sizes zero.
    #[must_use]
    pub const fn new() -> Self {
        Self(0)
    }

    /// The raw 32-bit value.
    #[must_use]
    pub const fn raw(self) -> u32 {
        self.0
    }

    /// ASQS, Admin Submission Queue Size (bits 11:0), **zero-based**: entries = ASQS + 1,
    /// from 2 to 4096.
    #[must_use]
    pub const fn asqs_z(self) -> u16 {
        field::aqa::ASQS.get_u16(self.0 as u64)
    }

    /// Sets ASQS (zero-based, 12 bits).
    #[must_use]
    pub const fn with_asqs_z(self, asqs_z: u16) -> Self {
        Self(field::aqa::ASQS.set32(self.0, asqs_z as u64))
    }

    /// ACQS, Admin Completion Queue Size (bits 27:16), **zero-based**: entries = ACQS + 1.
    #[must_use]
    pub const fn acqs_z(self) -> u16 {
        field::aqa::ACQS.get_u16(self.0 as u64)
    }

    /// Sets ACQS (zero-based, 12 bits).
    #[must_use]
    pub const fn with_acqs_z(self, acqs_z: u16) -> Self {
        Self(field::aqa::ACQS.set32(self.0, acqs_z as u64))
    }
}

/// VS, Version (offset 08h, 32 bits); also the layout of Identify Controller VER.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Vs(pub u32);

impl Vs {
    /// NVMe 1.3.0.
    pub const V1_3: Self = Self::new(1, 3, 0);
    /// NVMe 1.4.0.
    pub const V1_4: Self = Self::new(1, 4, 0);
    /// NVMe 2.0.0.
    pub const V2_0: Self = Self::new(2, 0, 0);

    /// The version `major.minor.tertiary`.
    #[must_use]
    pub const fn new(major: u16, minor: u8, tertiary: u8) -> Self {
        let raw = field::vs::MJR.set32(0, major as u64);
        let raw = field::vs::MNR.set32(raw, minor as u64);
        Self(field::vs::TER.set32(raw, tertiary as u64))
    }

    /// The raw 32-bit value.
    #[must_use]
    pub const fn raw(self) -> u32 {
        self.0
    }

    /// MJR, Major Version Number (bits 31:16).
    #[must_use]
    pub const fn major(self) -> u16 {
        field::vs::MJR.get_u16(self.0 as u64)
    }

    /// MNR, Minor Version Number (bits 15:8).
    #[must_use]
    pub const fn minor(self) -> u8 {
        field::vs::MNR.get_u8(self.0 as u64)
    }

    /// TER, Tertiary Version Number (bits 7:0).
    #[must_use]
    pub const fn tertiary(self) -> u8 {
        field::vs::TER.get_u8(self.0 as u64)
    }
}

impl fmt::Debug for Vs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Vs({self})")
    }
}

impl fmt::Display for Vs {
    /// `1.4.0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major(), self.minor(), self.tertiary())
    }
}

#[cfg(test)]
mod tests;
