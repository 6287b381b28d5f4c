//! [`DmaMemory`] over rust-vmm's guest memory, for emulators built on `vm-memory` (Cloud
//! Hypervisor, Firecracker and others).

use std::boxed::Box;
use std::ops::Deref;
use std::rc::Rc;
use std::sync::Arc;

use vm_memory::{
    Bytes, GuestAddress, GuestMemory, GuestMemoryLoadGuard, GuestMemoryRegion,
    GuestRegionCollection, Permissions,
};

use super::{DmaFault, DmaMemory};

/// Something that hands out a [`GuestMemory`] to read and write: the memory itself, a
/// reference to it, or one of the pointers and guards a VMM passes guest memory around in.
///
/// Implemented for
/// - `GuestRegionCollection<R>`, owned: `GuestMemoryMmap<B>` for any dirty bitmap `B`;
/// - `&M`, `Box<M>`, `Rc<M>` and `Arc<M>` for any `M: GuestMemory` (an `IommuMemory`, or
///   your own `GuestMemoryBackend`, goes in through one of these);
/// - `GuestMemoryLoadGuard<M>`, what `GuestMemoryAtomic::memory()` returns.
///
/// A VMM with a guard type of its own implements it in one line, returning the memory the
/// guard dereferences to. (It is not a blanket implementation over [`Deref`] because that would
/// rule out owned memory: Rust cannot rule out that vm-memory one day gives
/// `GuestRegionCollection` a `Deref` of its own.)
pub trait AsGuestMemory {
    /// The memory accesses go to.
    type Memory: GuestMemory + ?Sized;

    /// Borrows that memory.
    fn guest_memory(&self) -> &Self::Memory;
}

impl<R: GuestMemoryRegion> AsGuestMemory for GuestRegionCollection<R> {
    type Memory = Self;

    fn guest_memory(&self) -> &Self {
        self
    }
}

impl<M: GuestMemory + ?Sized> AsGuestMemory for &M {
    type Memory = M;

    fn guest_memory(&self) -> &M {
        self
    }
}

impl<M: GuestMemory + ?Sized> AsGuestMemory for Box<M> {
    type Memory = M;

    fn guest_memory(&self) -> &M {
        self
    }
}

impl<M: GuestMemory + ?Sized> AsGuestMemory for Rc<M> {
    type Memory = M;

    fn guest_memory(&self) -> &M {
        self
    }
}

impl<M: GuestMemory + ?Sized> AsGuestMemory for Arc<M> {
    type Memory = M;

    fn guest_memory(&self) -> &M {
        self
    }
}

impl<M: GuestMemory> AsGuestMemory for GuestMemoryLoadGuard<M> {
    type Memory = M;

    fn guest_memory(&self) -> &M {
        self.deref()
    }
}

/// A guest's memory as the DMA engine of an emulated NVMe controller sees it.
///
/// Wraps anything that is or points to a [`GuestMemory`] (see [`AsGuestMemory`]). Every access is
/// checked against the guest's memory before a byte moves, so an access that runs off the end of
/// a region or into a hole (or, behind an IOMMU, into an unmapped page) fails whole, as
/// [`DmaMemory`] requires, instead of copying the part that fits.
///
/// # Which vm-memory
///
/// The adapter is built against the vm-memory release re-exported as
/// [`nvme_dma::memory::vm_memory`](crate::memory::vm_memory) (0.18). Build your guest memory
/// with that re-export, or depend on the same major.minor release of `vm-memory` so that Cargo
/// resolves both to one crate. A `GuestMemoryMmap` from another release (0.16, say) is a
/// different type that implements that release's traits, not the ones the adapter asks for, and
/// the wrapped memory is not a [`DmaMemory`]. The compiler then says that ``the method `write`
/// exists for struct `GuestMemoryDma<&GuestMemoryMmap>`, but its trait bounds were not
/// satisfied`` (``&GuestMemoryMmap: AsGuestMemory``), or, where a `DmaMemory` is expected, that
/// ``the trait `GuestMemoryBackend` is not implemented for `GuestMemoryMmap` `` with the note
/// ``required for `GuestMemoryMmap` to implement `nvme_dma::memory::vm_memory::GuestMemory` ``,
/// pointing at a vm-memory 0.18 impl while the memory came from the other release.
///
/// # Forms
///
/// Owned memory, for a controller that owns the guest RAM (tests, a small emulator):
///
/// ```
/// use nvme_dma::memory::vm_memory::{GuestAddress, GuestMemoryMmap};
/// use nvme_dma::memory::GuestMemoryDma;
/// use nvme_dma::DmaMemory;
///
/// let ram = GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), 0x10000)]).unwrap();
/// let mut dma = GuestMemoryDma(ram);
/// dma.write(0x1000, b"nvme").unwrap();
/// let mut back = [0u8; 4];
/// dma.read(0x1000, &mut back).unwrap();
/// assert_eq!(&back, b"nvme");
/// ```
///
/// A reference, when the VMM keeps the memory and lends it for one doorbell write:
///
/// ```
/// use nvme_dma::memory::vm_memory::{Bytes, GuestAddress, GuestMemoryMmap};
/// use nvme_dma::memory::GuestMemoryDma;
/// use nvme_dma::DmaMemory;
///
/// let ram = GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), 0x10000)]).unwrap();
/// GuestMemoryDma(&ram).write(0x2000, &[7; 8]).unwrap();
/// let byte: u8 = ram.read_obj(GuestAddress(0x2007)).unwrap();
/// assert_eq!(byte, 7);
/// ```
///
/// The snapshot of a `GuestMemoryAtomic`, as Cloud Hypervisor and vhost-user backends hold guest
/// memory so that it can be hot-plugged. Take one `memory()` guard per doorbell write (as a
/// virtio device takes one per descriptor chain): the controller probes a command's buffers
/// and then moves its data, and both must see the same memory map for a command that fails to
/// change nothing. The adapter therefore takes the guard, not the `GuestMemoryAtomic` itself.
///
/// ```
/// use nvme_dma::memory::vm_memory::{
///     GuestAddress, GuestAddressSpace, GuestMemoryAtomic, GuestMemoryMmap,
/// };
/// use nvme_dma::memory::GuestMemoryDma;
/// use nvme_dma::DmaMemory;
///
/// let ram = GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), 0x10000)]).unwrap();
/// let atomic = GuestMemoryAtomic::new(ram);
/// let mut dma = GuestMemoryDma(atomic.memory());
/// dma.write(0x3000, &[1, 2]).unwrap();
/// assert!(dma.probe(0xffff, 2).is_err());
/// ```
///
/// An `Arc` (or `Rc`), for one memory map that devices share and nobody replaces:
///
/// ```
/// use std::sync::Arc;
/// use nvme_dma::memory::vm_memory::{GuestAddress, GuestMemoryMmap};
/// use nvme_dma::memory::GuestMemoryDma;
/// use nvme_dma::DmaMemory;
///
/// let ram = GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), 0x10000)]).unwrap();
/// let ram = Arc::new(ram);
/// let mut dma = GuestMemoryDma(Arc::clone(&ram));
/// dma.write(0x4000, &[3]).unwrap();
/// ```
///
/// A device generic over vm-memory's `GuestAddressSpace`, the way rust-vmm devices store their
/// memory, wraps `memory()` and so accepts `&M`, `Arc<M>`, `Rc<M>` and `GuestMemoryAtomic<M>`
/// alike:
///
/// ```
/// use nvme_dma::memory::vm_memory::{
///     GuestAddress, GuestAddressSpace, GuestMemoryAtomic, GuestMemoryMmap,
/// };
/// use nvme_dma::memory::{AsGuestMemory, GuestMemoryDma};
/// use nvme_dma::DmaMemory;
///
/// struct Device<AS: GuestAddressSpace> {
///     mem: AS,
/// }
///
/// impl<AS: GuestAddressSpace> Device<AS>
/// where
///     AS::T: AsGuestMemory,
/// {
///     fn doorbell(&mut self) -> bool {
///         let mut dma = GuestMemoryDma(self.mem.memory());
///         // controller.write32(&mut dma, offset, value) goes here.
///         dma.write(0x100, &[1]).is_ok()
///     }
/// }
///
/// let ram = GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), 0x1000)]).unwrap();
/// assert!(Device { mem: &ram }.doorbell());
/// assert!(Device { mem: GuestMemoryAtomic::new(ram) }.doorbell());
/// ```
#[derive(Debug)]
pub struct GuestMemoryDma<G>(pub G);

impl<G: AsGuestMemory> GuestMemoryDma<G> {
    /// The guest memory accesses go to.
    pub fn guest_memory(&self) -> &G::Memory {
        self.0.guest_memory()
    }

    fn check(&self, addr: u64, len: usize, access: Permissions) -> Result<(), DmaFault> {
        // An empty access needs no memory; anything else must lie wholly in guest memory that
        // allows it (behind an IOMMU a page may be mapped for one direction only).
        if len == 0
            || self
                .guest_memory()
                .check_range(GuestAddress(addr), len, access)
        {
            Ok(())
        } else {
            Err(fault(addr, len))
        }
    }
}

fn fault(addr: u64, len: usize) -> DmaFault {
    DmaFault {
        addr,
        len: u64::try_from(len).unwrap_or(u64::MAX),
    }
}

impl<G: AsGuestMemory> DmaMemory for GuestMemoryDma<G> {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), DmaFault> {
        self.check(addr, buf.len(), Permissions::Read)?;
        self.guest_memory()
            .read_slice(buf, GuestAddress(addr))
            .map_err(|_| fault(addr, buf.len()))
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), DmaFault> {
        self.check(addr, data.len(), Permissions::Write)?;
        self.guest_memory()
            .write_slice(data, GuestAddress(addr))
            .map_err(|_| fault(addr, data.len()))
    }

    fn probe(&self, addr: u64, len: u64) -> Result<(), DmaFault> {
        let n = usize::try_from(len).map_err(|_| DmaFault { addr, len })?;
        // A probe does not say which way the data will go, and an IOMMU may map a buffer the
        // device only reads (or only writes), so either permission will do; the access itself
        // is checked again for its direction.
        self.check(addr, n, Permissions::Read)
            .or_else(|_| self.check(addr, n, Permissions::Write))
    }
}
