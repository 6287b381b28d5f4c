//! The fields of Command Dword 0 that are values of their own: [`Opcode`] and the data
//! direction its low bits encode, [`Fuse`] and [`Psdt`]. Other code uses them apart from any
//! entry; `mod.rs` keeps the entry that packs them, with the CID.

use core::fmt;

use crate::spec::bits::Bits;

/// Bit positions inside the opcode.
mod field {
    use super::Bits;

    /// Data transfer direction: bits 1:0 of the opcode.
    pub(super) const DIRECTION: Bits = Bits::new(0, 2);
}

/// Command opcode (CDW0 bits 7:0).
///
/// An open newtype: every byte is an `Opcode`. Admin and NVM command set opcodes share one
/// number space (02h is Get Log Page on the admin queue and Read on an I/O queue; only the
/// queue tells them apart), so the named constants carry an `ADMIN_` or `NVM_` prefix.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Opcode(pub u8);

/// Admin command set opcodes (valid on the admin submission queue, queue 0).
impl Opcode {
    /// 00h Delete I/O Submission Queue.
    pub const ADMIN_DELETE_IO_SQ: Self = Self(0x00);
    /// 01h Create I/O Submission Queue.
    pub const ADMIN_CREATE_IO_SQ: Self = Self(0x01);
    /// 02h Get Log Page.
    pub const ADMIN_GET_LOG_PAGE: Self = Self(0x02);
    /// 04h Delete I/O Completion Queue.
    pub const ADMIN_DELETE_IO_CQ: Self = Self(0x04);
    /// 05h Create I/O Completion Queue.
    pub const ADMIN_CREATE_IO_CQ: Self = Self(0x05);
    /// 06h Identify.
    pub const ADMIN_IDENTIFY: Self = Self(0x06);
    /// 08h Abort.
    pub const ADMIN_ABORT: Self = Self(0x08);
    /// 09h Set Features.
    pub const ADMIN_SET_FEATURES: Self = Self(0x09);
    /// 0Ah Get Features.
    pub const ADMIN_GET_FEATURES: Self = Self(0x0A);
    /// 0Ch Asynchronous Event Request.
    pub const ADMIN_ASYNC_EVENT_REQUEST: Self = Self(0x0C);
}

/// NVM command set opcodes (valid on I/O submission queues).
impl Opcode {
    /// 00h Flush.
    pub const NVM_FLUSH: Self = Self(0x00);
    /// 01h Write.
    pub const NVM_WRITE: Self = Self(0x01);
    /// 02h Read.
    pub const NVM_READ: Self = Self(0x02);
    /// 05h Compare.
    pub const NVM_COMPARE: Self = Self(0x05);
    /// 08h Write Zeroes.
    pub const NVM_WRITE_ZEROES: Self = Self(0x08);
    /// 09h Dataset Management.
    pub const NVM_DATASET_MANAGEMENT: Self = Self(0x09);
}

impl Opcode {
    /// The data transfer direction encoded in opcode bits 1:0, which holds for every
    /// standard opcode of every command set.
    #[must_use]
    #[inline]
    pub const fn direction(self) -> DataDirection {
        match field::DIRECTION.get_u8(self.0 as u64) {
            0b00 => DataDirection::None,
            0b01 => DataDirection::HostToController,
            0b10 => DataDirection::ControllerToHost,
            _ => DataDirection::Bidirectional,
        }
    }

    /// The specification's name of this opcode read as an admin command, if it is one of the
    /// named `ADMIN_*` constants.
    #[must_use]
    #[inline]
    pub const fn admin_name(self) -> Option<&'static str> {
        Some(match self {
            Self::ADMIN_DELETE_IO_SQ => "Delete I/O Submission Queue",
            Self::ADMIN_CREATE_IO_SQ => "Create I/O Submission Queue",
            Self::ADMIN_GET_LOG_PAGE => "Get Log Page",
            Self::ADMIN_DELETE_IO_CQ => "Delete I/O Completion Queue",
            Self::ADMIN_CREATE_IO_CQ => "Create I/O Completion Queue",
            Self::ADMIN_IDENTIFY => "Identify",
            Self::ADMIN_ABORT => "Abort",
            Self::ADMIN_SET_FEATURES => "Set Features",
            Self::ADMIN_GET_FEATURES => "Get Features",
            Self::ADMIN_ASYNC_EVENT_REQUEST => "Asynchronous Event Request",
            _ => return None,
        })
    }

    /// The specification's name of this opcode read as an NVM command set I/O command, if it
    /// is one of the named `NVM_*` constants.
    #[must_use]
    #[inline]
    pub const fn nvm_name(self) -> Option<&'static str> {
        Some(match self {
            Self::NVM_FLUSH => "Flush",
            Self::NVM_WRITE => "Write",
            Self::NVM_READ => "Read",
            Self::NVM_COMPARE => "Compare",
            Self::NVM_WRITE_ZEROES => "Write Zeroes",
            Self::NVM_DATASET_MANAGEMENT => "Dataset Management",
            _ => return None,
        })
    }
}

impl fmt::Debug for Opcode {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Opcode({:02X}h)", self.0)
    }
}

/// Data transfer direction, opcode bits 1:0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataDirection {
    /// 00b: no data transfer.
    None,
    /// 01b: host to controller (the controller reads host memory, e.g. Write).
    HostToController,
    /// 10b: controller to host (the controller writes host memory, e.g. Read, Identify).
    ControllerToHost,
    /// 11b: bidirectional.
    Bidirectional,
}

/// FUSE, Fused Operation (CDW0 bits 9:8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Fuse {
    /// 00b: normal operation.
    #[default]
    Normal,
    /// 01b: first command of a fused operation.
    FirstOfFused,
    /// 10b: second command of a fused operation.
    SecondOfFused,
    /// 11b: reserved.
    Reserved,
}

impl Fuse {
    /// Decodes the 2-bit field; bits above bit 1 of `bits` are ignored.
    #[must_use]
    #[inline]
    pub const fn from_bits(bits: u8) -> Self {
        match bits & 0b11 {
            0b00 => Self::Normal,
            0b01 => Self::FirstOfFused,
            0b10 => Self::SecondOfFused,
            _ => Self::Reserved,
        }
    }

    /// The 2-bit field value.
    #[must_use]
    #[inline]
    pub const fn to_bits(self) -> u8 {
        match self {
            Self::Normal => 0b00,
            Self::FirstOfFused => 0b01,
            Self::SecondOfFused => 0b10,
            Self::Reserved => 0b11,
        }
    }
}

/// PSDT, PRP or SGL for Data Transfer (CDW0 bits 15:14): how DPTR and MPTR are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Psdt {
    /// 00b: PRPs are used for this transfer (DPTR = PRP1 + PRP2; MPTR is a dword-aligned
    /// metadata address). The only value allowed for admin commands over PCIe.
    #[default]
    Prp,
    /// 01b: an SGL is used for the data (DPTR = SGL1); MPTR, when the command has metadata,
    /// is the address of one contiguous metadata buffer. What a command without metadata
    /// sets to use an SGL.
    Sgl,
    /// 10b: an SGL is used for the data (DPTR = SGL1) and for the metadata: MPTR is the
    /// qword-aligned address of an SGL segment holding exactly one metadata SGL descriptor.
    SglMetadataSgl,
    /// 11b: reserved; a controller answers Invalid Field in Command.
    Reserved,
}

impl Psdt {
    /// Decodes the 2-bit field; bits above bit 1 of `bits` are ignored.
    #[must_use]
    #[inline]
    pub const fn from_bits(bits: u8) -> Self {
        match bits & 0b11 {
            0b00 => Self::Prp,
            0b01 => Self::Sgl,
            0b10 => Self::SglMetadataSgl,
            _ => Self::Reserved,
        }
    }

    /// The 2-bit field value.
    #[must_use]
    #[inline]
    pub const fn to_bits(self) -> u8 {
        match self {
            Self::Prp => 0b00,
            Self::Sgl => 0b01,
            Self::SglMetadataSgl => 0b10,
            Self::Reserved => 0b11,
        }
    }

    /// Whether DPTR holds SGL1 (01b or 10b).
    #[must_use]
    #[inline]
    pub const fn is_sgl(self) -> bool {
        matches!(self, Self::Sgl | Self::SglMetadataSgl)
    }
}
