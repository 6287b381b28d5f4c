//! Where a driver and a controller meet: BAR0 registers and host memory.
//!
//! A real NVMe driver touches its device in exactly two ways: it reads and writes the
//! controller's registers (memory-mapped at BAR0), and it reads and writes host memory that the
//! controller reaches by DMA (queues, PRP lists, SGL segments, data). [`RegisterAccess`] is the
//! first; [`DmaMemory`](crate::DmaMemory) is the second. The host driver in `host` is generic over
//! both, so the same code brings up the mock controller in `controller` and a real
//! device model such as QEMU's (driven over its qtest protocol).
//!
//! Register offsets are byte offsets from the start of BAR0
//! ([`spec::registers::offset`](crate::spec::registers::offset) names them).

/// Reads and writes of an NVMe controller's memory-mapped registers (BAR0).
///
/// Implementations report transport failures (a device model that went away, say) as
/// `Self::Error`; register semantics (a reserved bit ignored, a doorbell for a missing queue)
/// are the controller's business, never an error here.
pub trait RegisterAccess {
    /// What can go wrong in reaching the registers at all.
    type Error: core::fmt::Debug + core::fmt::Display;

    /// A 32-bit read at `offset`.
    fn read32(&mut self, offset: u64) -> Result<u32, Self::Error>;

    /// A 32-bit write at `offset`.
    fn write32(&mut self, offset: u64, value: u32) -> Result<(), Self::Error>;

    /// A 64-bit read at `offset` (CAP, ASQ, ACQ).
    ///
    /// The default is two 32-bit reads, low dword first, which the specification allows for
    /// every 64-bit register; an implementation with a native 64-bit access overrides it.
    fn read64(&mut self, offset: u64) -> Result<u64, Self::Error> {
        let low = self.read32(offset)?;
        let high = self.read32(offset.wrapping_add(4))?;
        Ok(u64::from(high) << 32 | u64::from(low))
    }

    /// A 64-bit write at `offset`; the default is two 32-bit writes, low dword first.
    fn write64(&mut self, offset: u64, value: u64) -> Result<(), Self::Error> {
        #[allow(clippy::cast_possible_truncation)] // taking the low dword is the intent
        self.write32(offset, value as u32)?;
        self.write32(offset.wrapping_add(4), (value >> 32) as u32)
    }
}

impl<R: RegisterAccess + ?Sized> RegisterAccess for &mut R {
    type Error = R::Error;

    fn read32(&mut self, offset: u64) -> Result<u32, Self::Error> {
        (**self).read32(offset)
    }

    fn write32(&mut self, offset: u64, value: u32) -> Result<(), Self::Error> {
        (**self).write32(offset, value)
    }

    fn read64(&mut self, offset: u64) -> Result<u64, Self::Error> {
        (**self).read64(offset)
    }

    fn write64(&mut self, offset: u64, value: u64) -> Result<(), Self::Error> {
        (**self).write64(offset, value)
    }
}
