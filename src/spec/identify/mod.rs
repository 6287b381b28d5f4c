//! Identify data structures and the fields of them that data pointers depend on (NVMe Base
//! Specification, "Identify Controller Data Structure"; NVM Command Set Specification,
//! "Identify Namespace Data Structure").
//!
//! The Identify command (admin opcode 06h) returns one 4096-byte structure chosen by the CNS
//! field in CDW10 bits 7:0. Two of them are modelled here as zerocopy structs:
//! [`IdentifyController`] (CNS 01h) and [`IdentifyNamespace`] (CNS 00h). Only the fields this
//! crate uses are named; every other byte range is kept as a raw array named after the bytes
//! it covers (`bytes_84_255` is bytes 255:84), so any 4096 bytes decode and encode back
//! unchanged.
//!
//! SGLS, the SGL support the controller reports, is [`Sgls`] and [`SglSupport`], defined in a
//! file of their own and re-exported here.

use core::fmt;

use zerocopy::little_endian::{U16, U32, U64};
use zerocopy::{FromBytes, FromZeros, Immutable, IntoBytes, KnownLayout, Unaligned};

use super::bits::Bits;
use super::registers::Vs;

mod sgls;

pub use sgls::{SglSupport, Sgls};

/// CNS 00h: Identify Namespace data structure for the namespace in NSID.
pub const CNS_NAMESPACE: u8 = 0x00;
/// CNS 01h: Identify Controller data structure.
pub const CNS_CONTROLLER: u8 = 0x01;
/// CNS 02h: Active Namespace ID list (up to 1024 NSIDs greater than the NSID in the command).
pub const CNS_ACTIVE_NAMESPACE_LIST: u8 = 0x02;

/// Size in bytes of every Identify data structure.
pub const IDENTIFY_DATA_SIZE: usize = 4096;

/// Bit positions inside the Identify fields that pack more than one value.
mod field {
    use super::Bits;

    /// FLBAS bits 3:0, format index bits 3:0.
    pub(super) const FLBAS_INDEX_LOW: Bits = Bits::new(0, 4);
    /// FLBAS bit 4, metadata at the end of each logical block (extended LBA).
    pub(super) const FLBAS_EXTENDED: Bits = Bits::bit(4);
    /// FLBAS bits 6:5, format index bits 5:4 (NVMe 2.0+, when NLBAF > 16).
    pub(super) const FLBAS_INDEX_HIGH: Bits = Bits::new(5, 2);
    /// LBAF byte 3 bits 1:0, RP, Relative Performance.
    pub(super) const LBAF_RP: Bits = Bits::new(0, 2);
    /// SQES/CQES bits 3:0, required (minimum) entry size as a power of two.
    pub(super) const ES_REQUIRED: Bits = Bits::new(0, 4);
    /// SQES/CQES bits 7:4, maximum entry size as a power of two.
    pub(super) const ES_MAX: Bits = Bits::new(4, 4);
}

/// The Maximum Data Transfer Size of a controller, from Identify Controller MDTS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MaxTransfer {
    /// No limit: MDTS is 0, or the limit is 2^64 bytes or more, which no transfer length
    /// can reach.
    Unlimited,
    /// At most this many bytes per command.
    Bytes(u64),
}

impl MaxTransfer {
    /// Whether a transfer of `len` bytes is within the limit.
    #[must_use]
    pub const fn allows(self, len: u64) -> bool {
        match self {
            Self::Unlimited => true,
            Self::Bytes(max) => len <= max,
        }
    }

    /// The limit in bytes, or `None` when unlimited.
    #[must_use]
    pub const fn bytes(self) -> Option<u64> {
        match self {
            Self::Unlimited => None,
            Self::Bytes(max) => Some(max),
        }
    }
}

/// The maximum transfer size for MDTS value `mdts` and the controller's minimum memory page
/// size in bytes (`Cap::page_size_min`, 2^(12 + CAP.MPSMIN)): 2^MDTS × that page size.
///
/// MDTS = 0 means no limit. A product of 2^64 bytes or more is also [`MaxTransfer::Unlimited`]:
/// such a limit cannot be exceeded by any transfer whose length fits in a `u64`, so the two are
/// the same in effect; this function never overflows or panics. A command larger than the
/// limit fails with Invalid Field in Command.
#[must_use]
pub const fn mdts_bytes(mdts: u8, mpsmin_page_bytes: u64) -> MaxTransfer {
    if mdts == 0 {
        return MaxTransfer::Unlimited;
    }
    let Some(pages) = 2u64.checked_pow(mdts as u32) else {
        return MaxTransfer::Unlimited;
    };
    match pages.checked_mul(mpsmin_page_bytes) {
        Some(bytes) => MaxTransfer::Bytes(bytes),
        None => MaxTransfer::Unlimited,
    }
}

/// Text of an ASCII, space-padded Identify field (SN, MN, FR) without its padding; `None` if
/// it is not valid UTF-8.
fn ascii_field(bytes: &[u8]) -> Option<&str> {
    core::str::from_utf8(bytes)
        .ok()
        .map(|s| s.trim_end_matches([' ', '\0']))
}

/// Identify Controller data structure (CNS 01h), 4096 bytes.
///
/// Named fields are public and keep the specification's names and byte positions (checked at
/// compile time); `bytes_X_Y` arrays hold fields this crate does not name, byte for byte.
/// Any 4096 bytes decode (`IdentifyController::read_from_bytes`); nothing here panics.
#[repr(C)]
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
pub struct IdentifyController {
    /// Bytes 1:0, VID, PCI Vendor ID.
    pub vid: U16,
    /// Bytes 3:2, SSVID, PCI Subsystem Vendor ID.
    pub ssvid: U16,
    /// Bytes 23:4, SN, Serial Number (ASCII, space padded).
    pub sn: [u8; 20],
    /// Bytes 63:24, MN, Model Number (ASCII, space padded).
    pub mn: [u8; 40],
    /// Bytes 71:64, FR, Firmware Revision (ASCII, space padded).
    pub fr: [u8; 8],
    /// Byte 72, RAB, Recommended Arbitration Burst (a power of two).
    pub rab: u8,
    /// Bytes 75:73, IEEE OUI Identifier.
    pub ieee: [u8; 3],
    /// Byte 76, CMIC, Controller Multi-Path I/O and Namespace Sharing Capabilities.
    pub cmic: u8,
    /// Byte 77, MDTS, Maximum Data Transfer Size: 2^MDTS minimum-size pages; 0 = no limit.
    pub mdts: u8,
    /// Bytes 79:78, CNTLID, Controller ID.
    pub cntlid: U16,
    /// Bytes 83:80, VER, Version (same layout as the VS register).
    pub ver: U32,
    /// Bytes 255:84: RTD3R, RTD3E, OAES, CTRATT, … (not named here).
    pub bytes_84_255: [u8; 172],
    /// Bytes 257:256, OACS, Optional Admin Command Support.
    pub oacs: U16,
    /// Byte 258, ACL, Abort Command Limit (zero-based).
    pub acl: u8,
    /// Byte 259, AERL, Asynchronous Event Request Limit (zero-based).
    pub aerl: u8,
    /// Byte 260, FRMW, Firmware Updates.
    pub frmw: u8,
    /// Byte 261, LPA, Log Page Attributes.
    pub lpa: u8,
    /// Byte 262, ELPE, Error Log Page Entries (zero-based).
    pub elpe: u8,
    /// Bytes 511:263: NPSS, AVSCC, … (not named here).
    pub bytes_263_511: [u8; 249],
    /// Byte 512, SQES, Submission Queue Entry Size: bits 3:0 required, 7:4 maximum, as
    /// powers of two.
    pub sqes: u8,
    /// Byte 513, CQES, Completion Queue Entry Size: bits 3:0 required, 7:4 maximum.
    pub cqes: u8,
    /// Bytes 515:514, MAXCMD, Maximum Outstanding Commands (required for fabrics; may be 0
    /// over PCIe).
    pub maxcmd: U16,
    /// Bytes 519:516, NN, Number of Namespaces: the largest valid NSID.
    pub nn: U32,
    /// Bytes 521:520, ONCS, Optional NVM Command Support.
    pub oncs: U16,
    /// Bytes 524:522: FUSES, FNA (not named here).
    pub bytes_522_524: [u8; 3],
    /// Byte 525, VWC, Volatile Write Cache.
    pub vwc: u8,
    /// Bytes 535:526: AWUN, AWUPF, NVSCC, NWPC, ACWU, … (not named here).
    pub bytes_526_535: [u8; 10],
    /// Bytes 539:536, SGLS, SGL Support; read through [`IdentifyController::sgls`].
    pub sgls: U32,
    /// Bytes 1802:540: MNAN, SUBNQN, IOCCSZ, IORCSZ, ICDOFF, FCATT, … (not named here).
    pub bytes_540_1802: [u8; 1263],
    /// Byte 1803, MSDBD, Maximum SGL Data Block Descriptors per command (fabrics);
    /// 0 = no limit.
    pub msdbd: u8,
    /// Bytes 4095:1804: OFCS, power state descriptors, vendor specific (not named here).
    pub bytes_1804_4095: [u8; 2292],
}

const _: () = {
    use core::mem::{offset_of, size_of};
    type T = IdentifyController;
    assert!(size_of::<T>() == IDENTIFY_DATA_SIZE);
    assert!(offset_of!(T, sn) == 4);
    assert!(offset_of!(T, mn) == 24);
    assert!(offset_of!(T, fr) == 64);
    assert!(offset_of!(T, rab) == 72);
    assert!(offset_of!(T, ieee) == 73);
    assert!(offset_of!(T, cmic) == 76);
    assert!(offset_of!(T, mdts) == 77);
    assert!(offset_of!(T, cntlid) == 78);
    assert!(offset_of!(T, ver) == 80);
    assert!(offset_of!(T, oacs) == 256);
    assert!(offset_of!(T, acl) == 258);
    assert!(offset_of!(T, aerl) == 259);
    assert!(offset_of!(T, frmw) == 260);
    assert!(offset_of!(T, lpa) == 261);
    assert!(offset_of!(T, elpe) == 262);
    assert!(offset_of!(T, sqes) == 512);
    assert!(offset_of!(T, cqes) == 513);
    assert!(offset_of!(T, maxcmd) == 514);
    assert!(offset_of!(T, nn) == 516);
    assert!(offset_of!(T, oncs) == 520);
    assert!(offset_of!(T, vwc) == 525);
    assert!(offset_of!(T, sgls) == 536);
    assert!(offset_of!(T, msdbd) == 1803);
};

impl Default for IdentifyController {
    /// The all-zero structure.
    fn default() -> Self {
        Self::new_zeroed()
    }
}

impl IdentifyController {
    /// SGLS as flags.
    #[must_use]
    pub const fn sgls(&self) -> Sgls {
        Sgls::from_bits_retain(self.sgls.get())
    }

    /// Writes SGLS.
    pub fn set_sgls(&mut self, sgls: Sgls) {
        self.sgls = U32::new(sgls.bits());
    }

    /// SN, the raw 20-byte serial number.
    #[must_use]
    pub const fn serial(&self) -> &[u8; 20] {
        &self.sn
    }

    /// SN as text without its padding; `None` if not UTF-8.
    #[must_use]
    pub fn serial_str(&self) -> Option<&str> {
        ascii_field(&self.sn)
    }

    /// MN, the raw 40-byte model number.
    #[must_use]
    pub const fn model(&self) -> &[u8; 40] {
        &self.mn
    }

    /// MN as text without its padding; `None` if not UTF-8.
    #[must_use]
    pub fn model_str(&self) -> Option<&str> {
        ascii_field(&self.mn)
    }

    /// FR, the raw 8-byte firmware revision.
    #[must_use]
    pub const fn firmware_revision(&self) -> &[u8; 8] {
        &self.fr
    }

    /// FR as text without its padding; `None` if not UTF-8.
    #[must_use]
    pub fn firmware_revision_str(&self) -> Option<&str> {
        ascii_field(&self.fr)
    }

    /// VER, the NVMe version the controller implements.
    #[must_use]
    pub const fn version(&self) -> Vs {
        Vs(self.ver.get())
    }

    /// The maximum data transfer size, from MDTS and the controller's minimum page size in
    /// bytes (`Cap::page_size_min`). See [`mdts_bytes`].
    #[must_use]
    pub const fn max_transfer(&self, mpsmin_page_bytes: u64) -> MaxTransfer {
        mdts_bytes(self.mdts, mpsmin_page_bytes)
    }

    /// SQES bits 3:0: the required (smallest) submission entry size, log2 bytes (6 = 64 B).
    #[must_use]
    pub const fn sqes_required(&self) -> u8 {
        field::ES_REQUIRED.get_u8(self.sqes as u64)
    }

    /// SQES bits 7:4: the largest submission entry size, log2 bytes.
    #[must_use]
    pub const fn sqes_max(&self) -> u8 {
        field::ES_MAX.get_u8(self.sqes as u64)
    }

    /// CQES bits 3:0: the required (smallest) completion entry size, log2 bytes (4 = 16 B).
    #[must_use]
    pub const fn cqes_required(&self) -> u8 {
        field::ES_REQUIRED.get_u8(self.cqes as u64)
    }

    /// CQES bits 7:4: the largest completion entry size, log2 bytes.
    #[must_use]
    pub const fn cqes_max(&self) -> u8 {
        field::ES_MAX.get_u8(self.cqes as u64)
    }
}

impl fmt::Debug for IdentifyController {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentifyController")
            .field("vid", &format_args!("{:#06x}", self.vid.get()))
            .field("ssvid", &format_args!("{:#06x}", self.ssvid.get()))
            .field("sn", &self.serial_str())
            .field("mn", &self.model_str())
            .field("fr", &self.firmware_revision_str())
            .field("mdts", &self.mdts)
            .field("cntlid", &self.cntlid.get())
            .field("ver", &self.version())
            .field("oacs", &format_args!("{:#06x}", self.oacs.get()))
            .field("sqes", &format_args!("{:#04x}", self.sqes))
            .field("cqes", &format_args!("{:#04x}", self.cqes))
            .field("nn", &self.nn.get())
            .field("oncs", &format_args!("{:#06x}", self.oncs.get()))
            .field("vwc", &self.vwc)
            .field("sgls", &self.sgls())
            .field("msdbd", &self.msdbd)
            .finish_non_exhaustive()
    }
}

/// LBA Format data structure (LBAFn in Identify Namespace), 4 bytes: one block size and
/// metadata size the namespace can be formatted with.
///
/// ```text
///  bits   31:26      25:24   23:16   15:0
///         reserved   RP      LBADS   MS
/// ```
#[repr(C)]
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Default,
    FromBytes,
    IntoBytes,
    KnownLayout,
    Immutable,
    Unaligned,
)]
pub struct LbaFormat {
    /// Bits 15:0, MS, Metadata Size in bytes per logical block (0 = no metadata).
    pub ms: U16,
    /// Bits 23:16, LBADS, LBA Data Size as a power of two (9 = 512 B, 12 = 4 KiB); values
    /// below 9 mean the format is not supported.
    pub lbads: u8,
    /// Bits 31:24: RP, Relative Performance, in bits 1:0; bits 7:2 reserved.
    pub rp: u8,
}

const _: () = assert!(size_of::<LbaFormat>() == 4);

impl LbaFormat {
    /// A format with metadata size `ms`, data size 2^`lbads` and relative performance `rp`
    /// (masked to 2 bits).
    #[must_use]
    pub const fn new(ms: u16, lbads: u8, rp: u8) -> Self {
        Self {
            ms: U16::new(ms),
            lbads,
            rp: rp & 0b11,
        }
    }

    /// MS, metadata bytes per logical block.
    #[must_use]
    pub const fn metadata_size(&self) -> u16 {
        self.ms.get()
    }

    /// RP, Relative Performance (0 best … 3 degraded).
    #[must_use]
    pub const fn relative_performance(&self) -> u8 {
        field::LBAF_RP.get_u8(self.rp as u64)
    }

    /// The logical block data size in bytes, 2^LBADS; `None` when LBADS is below 9 (the
    /// format is not supported) or 64 and above (not representable).
    #[must_use]
    pub const fn lba_size_bytes(&self) -> Option<u64> {
        if self.lbads < 9 {
            return None;
        }
        1u64.checked_shl(self.lbads as u32)
    }
}

impl fmt::Debug for LbaFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LbaFormat")
            .field("ms", &self.ms.get())
            .field("lbads", &self.lbads)
            .field("rp", &self.rp)
            .finish()
    }
}

/// Identify Namespace data structure for the NVM command set (CNS 00h), 4096 bytes.
///
/// Holds 64 LBA format slots (bytes 383:128) as NVMe 2.0 defines them; before 2.0 only the
/// first 16 (bytes 191:128) existed and the rest was reserved, i.e. zero. Any 4096 bytes
/// decode; nothing here panics.
#[repr(C)]
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned,
)]
pub struct IdentifyNamespace {
    /// Bytes 7:0, NSZE, Namespace Size in logical blocks (LBAs 0..NSZE exist).
    pub nsze: U64,
    /// Bytes 15:8, NCAP, Namespace Capacity: blocks that may be allocated.
    pub ncap: U64,
    /// Bytes 23:16, NUSE, Namespace Utilization: blocks currently allocated.
    pub nuse: U64,
    /// Byte 24, NSFEAT, Namespace Features.
    pub nsfeat: u8,
    /// Byte 25, NLBAF, Number of LBA Formats, **zero-based**: formats 0..=NLBAF are valid.
    pub nlbaf_z: u8,
    /// Byte 26, FLBAS, Formatted LBA Size: the format in use (bits 3:0 and 6:5) and whether
    /// metadata is extended (bit 4). Read through [`IdentifyNamespace::flbas_index`].
    pub flbas: u8,
    /// Byte 27, MC, Metadata Capabilities.
    pub mc: u8,
    /// Byte 28, DPC, End-to-end Data Protection Capabilities.
    pub dpc: u8,
    /// Byte 29, DPS, End-to-end Data Protection Type Settings.
    pub dps: u8,
    /// Bytes 127:30: NMIC, RESCAP, …, NGUID, EUI64 (not named here).
    pub bytes_30_127: [u8; 98],
    /// Bytes 383:128, LBAF0..LBAF63, the LBA Format descriptors.
    pub lbaf: [LbaFormat; 64],
    /// Bytes 4095:384, vendor specific.
    pub bytes_384_4095: [u8; 3712],
}

const _: () = {
    use core::mem::{offset_of, size_of};
    type T = IdentifyNamespace;
    assert!(size_of::<T>() == IDENTIFY_DATA_SIZE);
    assert!(offset_of!(T, ncap) == 8);
    assert!(offset_of!(T, nuse) == 16);
    assert!(offset_of!(T, nsfeat) == 24);
    assert!(offset_of!(T, nlbaf_z) == 25);
    assert!(offset_of!(T, flbas) == 26);
    assert!(offset_of!(T, mc) == 27);
    assert!(offset_of!(T, dpc) == 28);
    assert!(offset_of!(T, dps) == 29);
    assert!(offset_of!(T, lbaf) == 128);
    assert!(offset_of!(T, bytes_384_4095) == 384);
};

impl Default for IdentifyNamespace {
    /// The all-zero structure.
    fn default() -> Self {
        Self::new_zeroed()
    }
}

impl IdentifyNamespace {
    /// The index of the LBA format the namespace is formatted with: FLBAS bits 3:0, plus
    /// bits 6:5 as index bits 5:4 (NVMe 2.0; zero on older controllers).
    #[must_use]
    pub const fn flbas_index(&self) -> u8 {
        let low = field::FLBAS_INDEX_LOW.get_u8(self.flbas as u64);
        let high = field::FLBAS_INDEX_HIGH.get_u8(self.flbas as u64);
        high << 4 | low
    }

    /// Sets the format index in FLBAS (bits 3:0 and 6:5; `index` masked to 6 bits); bit 4
    /// and bit 7 are kept.
    pub fn set_flbas_index(&mut self, index: u8) {
        let raw = field::FLBAS_INDEX_LOW.set8(self.flbas, u64::from(index));
        self.flbas = field::FLBAS_INDEX_HIGH.set8(raw, u64::from(index >> 4));
    }

    /// FLBAS bit 4: metadata is transferred at the end of each logical block's data (an
    /// extended LBA) rather than in a separate buffer pointed to by MPTR.
    #[must_use]
    pub const fn metadata_extended(&self) -> bool {
        field::FLBAS_EXTENDED.get_bool(self.flbas as u64)
    }

    /// Sets FLBAS bit 4.
    pub fn set_metadata_extended(&mut self, extended: bool) {
        self.flbas = field::FLBAS_EXTENDED.set8(self.flbas, u64::from(extended));
    }

    /// The number of LBA formats the namespace supports: NLBAF + 1.
    #[must_use]
    pub const fn lba_format_count(&self) -> u16 {
        // At most 255 + 1: never saturates.
        (self.nlbaf_z as u16).saturating_add(1)
    }

    /// LBA format slot `index` (0..=63), whether or not NLBAF says it is valid.
    #[must_use]
    pub fn lba_format(&self, index: u8) -> Option<LbaFormat> {
        self.lbaf.get(usize::from(index)).copied()
    }

    /// The LBA format in use (slot [`IdentifyNamespace::flbas_index`]).
    #[must_use]
    pub fn current_lba_format(&self) -> Option<LbaFormat> {
        self.lba_format(self.flbas_index())
    }
}

impl fmt::Debug for IdentifyNamespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentifyNamespace")
            .field("nsze", &self.nsze.get())
            .field("ncap", &self.ncap.get())
            .field("nuse", &self.nuse.get())
            .field("nsfeat", &self.nsfeat)
            .field("nlbaf_z", &self.nlbaf_z)
            .field("flbas", &self.flbas)
            .field("current_lba_format", &self.current_lba_format())
            .field("mc", &self.mc)
            .field("dpc", &self.dpc)
            .field("dps", &self.dps)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
