//! The `vm-memory` adapter: rust-vmm's mmap-backed guest memory as the host memory of the mock
//! controller, holes between regions included.
#![cfg(feature = "vm-memory")]

#[path = "support/rig.rs"]
mod rig;

use nvme_dma::controller::ControllerConfig;
use nvme_dma::dptr::SglPolicy;
use nvme_dma::memory::GuestMemoryDma;
use nvme_dma::spec::{Opcode, Status};
use nvme_dma::{DmaFault, DmaMemory, Extent};
use rig::{pattern, Rig, DATA, RAM};
use vm_memory::{GuestAddress, GuestMemoryMmap};

/// Guest RAM as the rig expects it, plus a second region after a 1 MiB hole.
const SECOND: u64 = RAM.len + 0x10_0000;

fn guest() -> GuestMemoryDma<GuestMemoryMmap<()>> {
    let regions = [
        (GuestAddress(RAM.addr), RAM.len as usize),
        (GuestAddress(SECOND), 0x10_0000),
    ];
    GuestMemoryDma(GuestMemoryMmap::from_ranges(&regions).unwrap())
}

#[test]
fn accesses_fail_whole_at_region_ends_and_holes() {
    let mut mem = guest();
    mem.write(RAM.len - 4, &[1, 2, 3, 4]).unwrap();
    // Runs past the end of the first region into the hole: refused, nothing written.
    assert_eq!(
        mem.write(RAM.len - 2, &[9; 4]),
        Err(DmaFault { addr: RAM.len - 2, len: 4 })
    );
    let mut back = [0u8; 4];
    mem.read(RAM.len - 4, &mut back).unwrap();
    assert_eq!(back, [1, 2, 3, 4]);
    assert!(mem.read(SECOND - 1, &mut back).is_err());
    assert!(mem.probe(SECOND, 0x10_0000).is_ok());
    assert!(mem.probe(SECOND, 0x10_0001).is_err());
    assert!(mem.read(u64::MAX - 1, &mut back).is_err());
}

#[test]
fn the_controller_moves_data_through_guest_memory() {
    let mut rig = Rig::on(ControllerConfig::default(), guest(), 0);
    rig.create_io_pair(1, 16);
    let data = pattern(21, 32 * 1024);
    // Written from the second region, read back into the first with an SGL.
    rig.poke(SECOND + 0x200, &data);
    let src = [Extent::new(SECOND + 0x200, data.len() as u64)];
    let c = rig.io(1, Opcode::NVM_WRITE, (1, 64, 64), &src, SglPolicy::Never);
    assert!(c.status().is_success(), "{}", c.status());
    let dst = [Extent::new(DATA + 0x1000, 0x3000), Extent::new(DATA + 0x8000, 0x5000)];
    let c = rig.io(1, Opcode::NVM_READ, (1, 64, 64), &dst, SglPolicy::Always);
    assert!(c.status().is_success(), "{}", c.status());
    let back: Vec<u8> = dst.iter().flat_map(|e| rig.peek(e.addr, e.len as usize)).collect();
    assert_eq!(back, data);
    // A read whose buffer runs into the hole fails with nothing written.
    rig.poke(RAM.len - 0x1000, &[0x77; 0x1000]);
    let c = rig.io(1, Opcode::NVM_READ, (1, 64, 16), &[Extent::new(RAM.len - 0x1000, 0x2000)], SglPolicy::Always);
    assert_eq!(c.status(), Status::DATA_TRANSFER_ERROR.with_dnr(true));
    assert_eq!(rig.peek(RAM.len - 0x1000, 0x1000), vec![0x77; 0x1000]);
}
