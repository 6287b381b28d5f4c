//! The host side of NVMe: queue rings and a small polling driver.
//!
//! * [`SqRing`], [`CqRing`] and [`CidAllocator`] are the bookkeeping every driver does: tails
//!   and heads that wrap, a queue that is full one slot early, phase tags, command identifiers
//!   that are never reused while in flight. They are `no_std` and allocate nothing.
//! * [`Driver`] (with the `alloc` feature) brings a controller up and moves data through it,
//!   over any device that implements [`RegisterAccess`](crate::bus::RegisterAccess) for its
//!   registers and [`DmaMemory`](crate::DmaMemory) for the host memory it reaches. The driver
//!   meets a controller only there, as a real driver meets hardware.
//!
//! # Example
//!
//! Bring a controller up, write a buffer with an SGL when the controller has them, and read it
//! back through PRPs. `round_trip` takes anything implementing both traits; here it runs on
//! the crate's mock controller in simulated host memory, and the project's QEMU conformance
//! tests pass a client of QEMU's qtest protocol to the same driver.
//!
//! ```
//! use nvme_dma::bus::RegisterAccess;
//! use nvme_dma::controller::{ControllerConfig, Machine, MockController};
//! use nvme_dma::dptr::SglPolicy;
//! use nvme_dma::host::{Driver, DriverConfig, DriverError};
//! use nvme_dma::spec::Psdt;
//! use nvme_dma::{DmaMemory, Extent, SimMemory};
//!
//! /// Write three pieces from LBA 0, clear them, read them back; returns the bytes read.
//! fn round_trip<B: RegisterAccess + DmaMemory>(device: B) -> Result<Vec<u8>, DriverError<B::Error>> {
//!     // The driver may use 1 MiB of bus addresses from 16 MiB up for queues and descriptors.
//!     let config = DriverConfig::new(Extent::new(16 << 20, 1 << 20));
//!     let mut driver = Driver::start(device, config)?; // enable, identify, one I/O queue pair
//!
//!     // A 12 KiB buffer in three pieces, outside the driver's arena.
//!     let pieces = [
//!         Extent::new(0x40_0000, 0x1000),
//!         Extent::new(0x48_0000, 0x2000),
//!         Extent::new(0x50_0000, 0x1000),
//!     ];
//!     for (i, piece) in pieces.iter().enumerate() {
//!         driver.bus_mut().write(piece.addr, &vec![i as u8 + 1; piece.len as usize])?;
//!     }
//!     let written = driver.write(0, &pieces, SglPolicy::Always)?; // an SGL if the controller has them
//!     assert_eq!(written.commands[0].filled.psdt, Psdt::Sgl); // one command: it fits MDTS
//!     for piece in &pieces {
//!         driver.bus_mut().write(piece.addr, &vec![0; piece.len as usize])?;
//!     }
//!     let read = driver.read(0, &pieces, SglPolicy::Never)?; // PRPs: PRP1 and a PRP list
//!     assert_eq!(read.commands[0].filled.psdt, Psdt::Prp);
//!     let mut back = Vec::new();
//!     for piece in &pieces {
//!         let mut bytes = vec![0; piece.len as usize];
//!         driver.bus().read(piece.addr, &mut bytes)?;
//!         back.extend(bytes);
//!     }
//!     driver.shutdown()?;
//!     Ok(back)
//! }
//!
//! // The mock controller with its default configuration, and 32 MiB of host memory.
//! let mut memory = SimMemory::new();
//! memory.map(0, 32 << 20)?;
//! let controller = MockController::new(ControllerConfig::default())?;
//! let back = round_trip(Machine::new(controller, memory))?;
//! assert_eq!(back, [vec![1; 0x1000], vec![2; 0x2000], vec![3; 0x1000]].concat());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod cid;
mod ring;

#[cfg(test)]
mod props;

#[cfg(feature = "alloc")]
mod arena;
#[cfg(feature = "alloc")]
mod driver;
#[cfg(feature = "alloc")]
mod error;

pub use cid::CidAllocator;
pub use ring::{CqRing, RingError, SqRing, MAX_QUEUE_ENTRIES, MIN_QUEUE_ENTRIES};

#[cfg(feature = "alloc")]
pub use arena::{ArenaError, DmaArena};
#[cfg(feature = "alloc")]
pub use driver::{
    CommandReport, Driver, DriverConfig, IoReport, Namespace, NoNamespace, MAX_DRIVER_QUEUE_ENTRIES,
};
#[cfg(feature = "alloc")]
pub use error::DriverError;
