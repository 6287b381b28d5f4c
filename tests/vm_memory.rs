//! The `vm-memory` adapter: rust-vmm's guest memory as the host memory of the crate's walkers
//! and mock controller, in every form a VMM hands it over (owned, borrowed, shared, as the
//! snapshot of a `GuestMemoryAtomic`, behind an IOMMU), holes between regions included.
#![cfg(feature = "vm-memory")]

use nvme_dma_testkit::rig;

use std::rc::Rc;
use std::sync::{Arc, RwLock, RwLockReadGuard};

use nvme_dma::controller::ControllerConfig;
use nvme_dma::dptr::SglPolicy;
use nvme_dma::memory::vm_memory as vmm;
use nvme_dma::memory::{AsGuestMemory, GuestMemoryDma};
use nvme_dma::prp::{PrpBuilder, PrpListPage, PrpWalker, WalkError};
use nvme_dma::spec::{Opcode, Status};
use nvme_dma::{DmaFault, DmaMemory, Extent, PageSize};
use nvme_dma_testkit::pattern::pattern;
use rig::{Rig, DATA, RAM};
use vmm::iommu::{Error as IommuError, Iommu, IommuMemory, Iotlb, IotlbIterator, IovaRange};
use vmm::{
    Bytes, GuestAddress, GuestAddressSpace, GuestMemory, GuestMemoryAtomic, GuestMemoryMmap,
    Permissions,
};

/// Guest RAM as the rig expects it, plus a second region after a 1 MiB hole.
const SECOND: u64 = RAM.len + 0x10_0000;
const SECOND_LEN: u64 = 0x10_0000;

fn mmap() -> GuestMemoryMmap<()> {
    let regions = [
        (GuestAddress(RAM.addr), RAM.len as usize),
        (GuestAddress(SECOND), SECOND_LEN as usize),
    ];
    GuestMemoryMmap::from_ranges(&regions).unwrap()
}

/// Reads through the adapter see what vm-memory itself wrote, and writes through the adapter
/// land where vm-memory itself reads, at unaligned addresses in both regions. Returns the last
/// bytes written and their address, for the caller to look for through its own handle.
fn round_trip<G: AsGuestMemory>(dma: &mut GuestMemoryDma<G>) -> (u64, Vec<u8>) {
    let seeded = pattern(1, 0x2345);
    dma.guest_memory()
        .write_slice(&seeded, GuestAddress(DATA + 3))
        .unwrap();
    let mut back = vec![0u8; seeded.len()];
    dma.read(DATA + 3, &mut back).unwrap();
    assert_eq!(back, seeded);

    let data = pattern(2, 0x1801);
    for at in [DATA + 0x1_0005, SECOND + SECOND_LEN - data.len() as u64] {
        dma.write(at, &data).unwrap();
        let mut direct = vec![0u8; data.len()];
        dma.guest_memory()
            .read_slice(&mut direct, GuestAddress(at))
            .unwrap();
        assert_eq!(direct, data, "write at {at:#x}");
    }
    (SECOND + SECOND_LEN - data.len() as u64, data)
}

/// An access that runs off a region's end, into the hole or past 2^64 fails whole: the fault
/// names the whole access and nothing of a refused write reaches memory.
fn fails_whole<G: AsGuestMemory>(dma: &mut GuestMemoryDma<G>) {
    dma.write(RAM.len - 4, &[1, 2, 3, 4]).unwrap();
    // From the end of the first region into the hole: refused, its first two bytes unwritten.
    assert_eq!(
        dma.write(RAM.len - 2, &[9; 4]),
        Err(DmaFault {
            addr: RAM.len - 2,
            len: 4
        })
    );
    let mut back = [0u8; 4];
    dma.guest_memory()
        .read_slice(&mut back, GuestAddress(RAM.len - 4))
        .unwrap();
    assert_eq!(back, [1, 2, 3, 4]);
    // Across the whole hole, from the first region into the second: both ends unwritten.
    dma.write(SECOND, &[5; 4]).unwrap();
    let long = vec![0xee; (SECOND - RAM.len + 8) as usize];
    assert_eq!(
        dma.write(RAM.len - 4, &long),
        Err(DmaFault {
            addr: RAM.len - 4,
            len: long.len() as u64
        })
    );
    let mut tail = [0u8; 4];
    dma.guest_memory()
        .read_slice(&mut tail, GuestAddress(SECOND))
        .unwrap();
    assert_eq!((back, tail), ([1, 2, 3, 4], [5; 4]));

    assert_eq!(
        dma.read(SECOND - 1, &mut back),
        Err(DmaFault {
            addr: SECOND - 1,
            len: 4
        })
    );
    assert_eq!(
        dma.read(RAM.len, &mut []),
        Ok(()),
        "an empty access needs no memory"
    );
    assert!(dma.probe(SECOND, SECOND_LEN).is_ok());
    assert!(dma.probe(SECOND, SECOND_LEN + 1).is_err());
    assert!(dma.probe(RAM.len - 1, 2).is_err());
    assert!(dma.read(u64::MAX - 1, &mut back).is_err());
    assert!(dma.write(u64::MAX - 1, &back).is_err());
    assert!(dma.probe(u64::MAX, u64::MAX).is_err());
}

#[test]
fn owned_memory() {
    let mut dma = GuestMemoryDma(mmap());
    let (at, data) = round_trip(&mut dma);
    fails_whole(&mut dma);
    // The memory is the adapter's own: taken back out, it holds what was written.
    let mem = dma.0;
    let mut back = vec![0u8; data.len()];
    mem.read_slice(&mut back, GuestAddress(at)).unwrap();
    assert_eq!(back, data);
}

#[test]
fn borrowed_memory() {
    let mem = mmap();
    let (at, data) = round_trip(&mut GuestMemoryDma(&mem));
    fails_whole(&mut GuestMemoryDma(&mem));
    let mut back = vec![0u8; data.len()];
    mem.read_slice(&mut back, GuestAddress(at)).unwrap();
    assert_eq!(back, data);
}

#[test]
fn shared_memory() {
    let mem = Arc::new(mmap());
    let (at, data) = round_trip(&mut GuestMemoryDma(Arc::clone(&mem)));
    fails_whole(&mut GuestMemoryDma(Arc::clone(&mem)));
    let mut back = vec![0u8; data.len()];
    mem.read_slice(&mut back, GuestAddress(at)).unwrap();
    assert_eq!(back, data);

    let mem = Rc::new(mmap());
    let (at, data) = round_trip(&mut GuestMemoryDma(Rc::clone(&mem)));
    fails_whole(&mut GuestMemoryDma(Box::new(mmap())));
    mem.read_slice(&mut back, GuestAddress(at)).unwrap();
    assert_eq!(back, data);
}

#[test]
fn atomic_memory_through_its_guard() {
    let atomic = GuestMemoryAtomic::new(mmap());
    let (at, data) = round_trip(&mut GuestMemoryDma(atomic.memory()));
    fails_whole(&mut GuestMemoryDma(atomic.memory()));
    let mut back = vec![0u8; data.len()];
    atomic
        .memory()
        .read_slice(&mut back, GuestAddress(at))
        .unwrap();
    assert_eq!(back, data);

    // A guard is a snapshot: hot-unplugging the second region does not pull it from under an
    // adapter already holding the old map, and the next guard no longer has it.
    let mut old = GuestMemoryDma(atomic.memory());
    let first = [(GuestAddress(RAM.addr), RAM.len as usize)];
    atomic
        .lock()
        .unwrap()
        .replace(GuestMemoryMmap::from_ranges(&first).unwrap());
    assert!(old.write(SECOND, &[1]).is_ok());
    let mut new = GuestMemoryDma(atomic.memory());
    assert_eq!(
        new.write(SECOND, &[1]),
        Err(DmaFault {
            addr: SECOND,
            len: 1
        })
    );
}

/// The way a rust-vmm device stores its memory: generic over `GuestAddressSpace`, one
/// `memory()` snapshot per doorbell.
struct Device<AS: GuestAddressSpace> {
    mem: AS,
}

impl<AS: GuestAddressSpace> Device<AS>
where
    AS::T: AsGuestMemory,
{
    fn doorbell(&self, addr: u64, data: &[u8]) -> Result<(), DmaFault> {
        GuestMemoryDma(self.mem.memory()).write(addr, data)
    }
}

#[test]
fn a_device_generic_over_the_address_space() {
    let mem = mmap();
    Device { mem: &mem }.doorbell(0x1000, &[1]).unwrap();
    let arc = Arc::new(mmap());
    Device {
        mem: Arc::clone(&arc),
    }
    .doorbell(0x1000, &[2])
    .unwrap();
    let atomic = GuestMemoryAtomic::new(mmap());
    Device {
        mem: atomic.clone(),
    }
    .doorbell(0x1000, &[3])
    .unwrap();
    let read = |m: &GuestMemoryMmap<()>| m.read_obj::<u8>(GuestAddress(0x1000)).unwrap();
    assert_eq!((read(&mem), read(&arc), read(&atomic.memory())), (1, 2, 3));
    assert!(Device { mem: &mem }.doorbell(SECOND - 1, &[0; 2]).is_err());
}

#[test]
fn the_prp_walker_reads_lists_from_guest_memory() {
    let mem = mmap();
    let dma = GuestMemoryDma(&mem);
    let ps = PageSize::SIZE_4K;
    // Data in both regions; the list page in the second.
    let extents = [
        Extent::new(DATA + 0x200, 0xe00),
        Extent::new(DATA + 0x5000, 0x2000),
        Extent::new(SECOND + 0x3000, 0x1000),
        Extent::new(DATA + 0x9000, 0x400),
    ];
    let builder = PrpBuilder::new(ps);
    let plan = builder.plan(&extents).unwrap();
    let list_at = SECOND + 0x8000;
    let mut list = [0u8; 4096];
    let layout = builder
        .build(&extents, &mut [PrpListPage::new(list_at, &mut list)])
        .unwrap();
    assert_eq!(layout.list_pages_used, 1);
    mem.write_slice(&list, GuestAddress(list_at)).unwrap();
    let walk = |prp2: u64| {
        PrpWalker::new(layout.pair.prp1, prp2, plan.len(), ps, &dma)
            .extents()
            .collect::<Result<Vec<Extent>, WalkError>>()
    };
    assert_eq!(walk(layout.pair.prp2.raw()).unwrap(), extents);

    // A list that starts in the last slot of the first region: that slot chains to the next
    // list page, which lies in the hole.
    let tail = RAM.len - 8;
    let chained = RAM.len + 0x2000;
    mem.write_obj(chained, GuestAddress(tail)).unwrap();
    assert_eq!(
        walk(tail),
        Err(WalkError::ListFetchFault {
            addr: chained,
            len: 4 * 8
        })
    );
    // And a list pointer into the hole faults on the first fetch.
    assert!(matches!(
        walk(RAM.len + 0x1000),
        Err(WalkError::ListFetchFault { addr, .. }) if addr == RAM.len + 0x1000
    ));
}

fn controller_moves_data<G: AsGuestMemory>(dma: GuestMemoryDma<G>) {
    let mut rig = Rig::on(ControllerConfig::default(), dma, 0);
    rig.create_io_pair(1, 16);
    let data = pattern(21, 32 * 1024);
    // Written from the second region, read back into the first with an SGL.
    rig.poke(SECOND + 0x200, &data);
    let src = [Extent::new(SECOND + 0x200, data.len() as u64)];
    let c = rig.io(1, Opcode::NVM_WRITE, (1, 64, 64), &src, SglPolicy::Never);
    assert!(c.status().is_success(), "{}", c.status());
    let dst = [
        Extent::new(DATA + 0x1000, 0x3000),
        Extent::new(DATA + 0x8000, 0x5000),
    ];
    let c = rig.io(1, Opcode::NVM_READ, (1, 64, 64), &dst, SglPolicy::Always);
    assert!(c.status().is_success(), "{}", c.status());
    let back: Vec<u8> = dst
        .iter()
        .flat_map(|e| rig.peek(e.addr, e.len as usize))
        .collect();
    assert_eq!(back, data);
    // A read whose buffer runs into the hole fails with nothing written.
    rig.poke(RAM.len - 0x1000, &[0x77; 0x1000]);
    let c = rig.io(
        1,
        Opcode::NVM_READ,
        (1, 64, 16),
        &[Extent::new(RAM.len - 0x1000, 0x2000)],
        SglPolicy::Always,
    );
    assert_eq!(c.status(), Status::DATA_TRANSFER_ERROR.with_dnr(true));
    assert_eq!(rig.peek(RAM.len - 0x1000, 0x1000), vec![0x77; 0x1000]);
}

#[test]
fn the_controller_moves_data_through_guest_memory() {
    controller_moves_data(GuestMemoryDma(mmap()));
    let atomic = GuestMemoryAtomic::new(mmap());
    controller_moves_data(GuestMemoryDma(atomic.memory()));
}

/// An IOMMU with a fixed set of mappings: what is not in its IOTLB is not mapped.
#[derive(Debug)]
struct FixedIommu(RwLock<Iotlb>);

impl Iommu for FixedIommu {
    type IotlbGuard<'a> = RwLockReadGuard<'a, Iotlb>;

    fn translate(
        &self,
        iova: GuestAddress,
        length: usize,
        access: Permissions,
    ) -> Result<IotlbIterator<Self::IotlbGuard<'_>>, IommuError> {
        Iotlb::lookup(self.0.read().unwrap(), iova, length, access).map_err(|_| {
            IommuError::CannotResolve {
                iova_range: IovaRange { base: iova, length },
                reason: "not mapped for this access".into(),
            }
        })
    }
}

#[test]
fn behind_an_iommu_each_direction_is_checked() {
    const TO_DEVICE: u64 = 0x10_0000; // mapped read-only, as a guest maps a buffer to be sent
    const FROM_DEVICE: u64 = 0x20_0000; // mapped write-only, as one to be filled
    let mut tlb = Iotlb::new();
    tlb.set_mapping(
        GuestAddress(TO_DEVICE),
        GuestAddress(DATA),
        0x2000,
        Permissions::Read,
    )
    .unwrap();
    tlb.set_mapping(
        GuestAddress(FROM_DEVICE),
        GuestAddress(DATA + 0x2000),
        0x2000,
        Permissions::Write,
    )
    .unwrap();
    let mem = IommuMemory::new(mmap(), FixedIommu(RwLock::new(tlb)), true, ());
    assert!(mem.physical_memory().is_none(), "the IOMMU is bypassed");
    let phys = mem.get_backend();
    phys.write_slice(&[0x5a; 0x2000], GuestAddress(DATA))
        .unwrap();
    phys.write_slice(&[0xa5; 0x2000], GuestAddress(DATA + 0x2000))
        .unwrap();
    let mut dma = GuestMemoryDma(&mem);

    // Either mapping passes a probe, since a probe does not say which way data will go.
    assert!(dma.probe(TO_DEVICE, 0x2000).is_ok());
    assert!(dma.probe(FROM_DEVICE, 0x2000).is_ok());
    assert!(
        dma.probe(TO_DEVICE + 0x1000, 0x2000).is_err(),
        "runs past the mapping"
    );
    assert!(
        dma.probe(DATA, 1).is_err(),
        "physical addresses are not bus addresses"
    );

    let mut buf = [0u8; 0x10];
    dma.read(TO_DEVICE + 0x1ff0, &mut buf).unwrap();
    assert_eq!(buf, [0x5a; 0x10]);
    assert_eq!(
        dma.write(TO_DEVICE, &[0; 4]),
        Err(DmaFault {
            addr: TO_DEVICE,
            len: 4
        })
    );
    assert_eq!(
        dma.read(FROM_DEVICE, &mut buf),
        Err(DmaFault {
            addr: FROM_DEVICE,
            len: 0x10
        })
    );
    dma.write(FROM_DEVICE + 0x10, &[1; 4]).unwrap();
    let mut phys_back = [0u8; 8];
    phys.read_slice(&mut phys_back, GuestAddress(DATA + 0x200c))
        .unwrap();
    assert_eq!(phys_back, [0xa5, 0xa5, 0xa5, 0xa5, 1, 1, 1, 1]);
    // Nothing of the refused write reached the read-only page.
    phys.read_slice(&mut phys_back, GuestAddress(DATA)).unwrap();
    assert_eq!(phys_back, [0x5a; 8]);
}
