//! Stand-in.
/// NVMe status field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Status(u16);
impl Status {
    /// Generic 04h.
    pub const DATA_TRANSFER_ERROR: Status = Status(0x04);
    /// Generic 13h.
    pub const PRP_OFFSET_INVALID: Status = Status(0x13);
    /// Set DNR.
    pub const fn with_dnr(self, dnr: bool) -> Self {
        if dnr {
            Status(self.0 | 1 << 14)
        } else {
            Status(self.0 & !(1 << 14))
        }
    }
    /// Raw.
    pub const fn raw(self) -> u16 {
        self.0
    }
}
impl core::fmt::Display for Status {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}
