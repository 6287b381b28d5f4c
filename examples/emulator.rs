//! An emulated NVMe controller's data path over rust-vmm guest memory (`vm-memory`, as Cloud
//! Hypervisor and Firecracker hold it). A guest driver writes a scattered buffer to the disk
//! and reads it back into another; the emulator decodes each command against its
//! capabilities (MDTS enforced), walks the PRPs through guest memory and moves the data
//! between guest memory and a `Vec<u8>` disk. Then three hostile commands, each completed
//! with the status a controller must post, and not one byte moved for any of them.
//!
//! Run: `cargo run --example emulator --features vm-memory`

use std::error::Error;

use nvme_dma::dptr::{self, ControllerCaps, DescriptorMemory, DeviceCommand, DeviceError};
use nvme_dma::dptr::{Outcome, Request, SglPolicy, Transfer};
use nvme_dma::memory::vm_memory::{Bytes, GuestAddress, GuestMemoryMmap};
use nvme_dma::memory::{DataMover, GuestMemoryDma};
use nvme_dma::prp::PrpListPage;
use nvme_dma::sgl::SglCaps;
use nvme_dma::spec::{BlockRange, MaxTransfer, Opcode, Sgls, Status, SubmissionEntry};
use nvme_dma::{Direction, DmaMemory, Extent, PageSize, Piece, QueueKind};

/// What the emulated controller reports in Identify: 4 KiB pages, no SGLs, MDTS 128 KiB.
const CAPS: ControllerCaps = ControllerCaps {
    page_size: PageSize::SIZE_4K,
    sgl: SglCaps::new(Sgls::empty()),
    max_transfer: MaxTransfer::Bytes(128 * 1024),
};
const BLOCK: u64 = 512;
/// Where the guest driver keeps its PRP list page.
const LIST: u64 = 0x20_0000;

type Tamper = fn(&mut SubmissionEntry, &GuestMemoryMmap) -> Result<(), Box<dyn Error>>;

fn main() -> Result<(), Box<dyn Error>> {
    let ram = GuestMemoryMmap::<()>::from_ranges(&[(GuestAddress(0), 4 << 20)])?;
    let mut disk = vec![0u8; 1 << 20];

    // The guest writes 16 KiB from three places to LBA 8.
    let source = [
        Extent::new(0x10_0800, 0x800),
        Extent::new(0x12_0000, 0x2000),
        Extent::new(0x15_0000, 0x1800),
    ];
    let data: Vec<u8> = (0..0x4000u32).map(|i| (i * 7 + i / 256) as u8).collect();
    scatter(&ram, &source, &data)?;
    println!("Guest: Write 16 KiB to LBA 8 from {}", list(&source));
    let write = guest_command(&ram, Opcode::NVM_WRITE, 1, 8, &source)?;
    assert_eq!(execute(&write, &ram, &mut disk), Status::SUCCESS);
    assert_eq!(
        disk[0x1000..0x5000],
        data,
        "LBA 8 on, the disk holds the data"
    );

    // The guest reads it back into a buffer elsewhere.
    let target = [
        Extent::new(0x30_0000, 0x3000),
        Extent::new(0x34_0000, 0x1000),
    ];
    println!("\nGuest: Read 16 KiB from LBA 8 into {}", list(&target));
    let read = guest_command(&ram, Opcode::NVM_READ, 2, 8, &target)?;
    assert_eq!(execute(&read, &ram, &mut disk), Status::SUCCESS);
    assert_eq!(gather(&ram, &target)?, data, "read back what was written");
    println!("  the bytes read back equal the bytes written");

    // Hostile commands: the same Read, tampered with. Each fails before any byte moves.
    let hostile: [(&str, Tamper); 3] = [
        ("PRP list entry 1 with an offset (0x302010)", |_, ram| {
            Ok(ram.write_slice(&0x30_2010u64.to_le_bytes(), GuestAddress(LIST + 8))?)
        }),
        ("PRP1 outside guest memory (4 GiB)", |sqe, _| {
            sqe.set_prp1(1 << 32);
            Ok(())
        }),
        ("a Read of 256 KiB, past MDTS", |sqe, _| {
            sqe.set_block_range(BlockRange::new(8, 512)?);
            Ok(())
        }),
    ];
    for (what, tamper) in hostile {
        println!("\nHostile: {what}");
        let mut sqe = guest_command(&ram, Opcode::NVM_READ, 3, 8, &target)?;
        scatter(&ram, &target, &[0xee; 0x4000])?;
        tamper(&mut sqe, &ram)?;
        let status = execute(&sqe, &ram, &mut disk);
        assert_ne!(status, Status::SUCCESS);
        let untouched = gather(&ram, &target)?.iter().all(|&b| b == 0xee);
        assert!(untouched, "a failed command moves nothing");
        println!("  completes with {status}; guest buffer untouched");
    }
    Ok(())
}

/// The guest driver's side: a command for `buffer` at `lba`, its PRP list (if it needs one)
/// written to guest memory at `LIST`.
fn guest_command(
    ram: &GuestMemoryMmap,
    opcode: Opcode,
    cid: u16,
    lba: u64,
    buffer: &[Extent],
) -> Result<SubmissionEntry, Box<dyn Error>> {
    let direction = match opcode {
        Opcode::NVM_WRITE => Direction::Write,
        _ => Direction::Read,
    };
    let len: u64 = buffer.iter().map(|e| e.len).sum();
    let range = BlockRange::new(lba, len / BLOCK)?;
    let mut sqe = SubmissionEntry::new(opcode, cid)
        .with_nsid(1)
        .with_block_range(range);
    let mut page = vec![0u8; 4096];
    let mut lists = [PrpListPage::new(LIST, &mut page)];
    let mut memory = DescriptorMemory {
        prp_lists: &mut lists,
        ..DescriptorMemory::none()
    };
    let request = Request::new(buffer, direction, QueueKind::Io);
    let Outcome::Filled(filled) =
        dptr::fill_sqe(&mut sqe, &request, &CAPS, SglPolicy::Never, &mut memory)?
    else {
        return Err("no single command carries this buffer".into());
    };
    if filled.lists_used > 0 {
        ram.write_slice(&page, GuestAddress(LIST))?;
    }
    println!(
        "  guest driver: PRP1 {:#x}, PRP2 {:#x}, {} PRP list page",
        sqe.prp1(),
        sqe.prp2(),
        filled.lists_used
    );
    Ok(sqe)
}

/// The emulator's side of one command: the status it completes with.
fn execute(sqe: &SubmissionEntry, ram: &GuestMemoryMmap, disk: &mut [u8]) -> Status {
    let range = sqe.block_range();
    println!(
        "  emulator fetches: {} blocks from LBA {}, PRP1 {:#x}, PRP2 {:#x}",
        range.blocks(),
        range.slba(),
        sqe.prp1(),
        sqe.prp2()
    );
    let bytes = |blocks: u64| usize::try_from(blocks.checked_mul(BLOCK)?).ok();
    let store = bytes(range.slba())
        .zip(bytes(range.blocks()))
        .and_then(|(at, len)| disk.get_mut(at..at.checked_add(len)?));
    let Some(store) = store else {
        return Status::LBA_OUT_OF_RANGE.with_dnr(true);
    };
    let transfer = match sqe.opcode() {
        Opcode::NVM_WRITE => Transfer::write(store.len() as u64),
        Opcode::NVM_READ => Transfer::read(store.len() as u64),
        _ => return Status::INVALID_OPCODE.with_dnr(true),
    };
    // One DMA view of guest memory per doorbell, so probing and moving see the same map.
    let mut dma = GuestMemoryDma(ram);
    match data_path(sqe, transfer, &mut dma, store) {
        Ok(()) => Status::SUCCESS,
        Err(e) => {
            println!("  emulator: {e}\n  rule: {}", e.rule().id());
            e.status()
        }
    }
}

/// Decode, walk, move: any failure is the completion status, and comes before a byte moves.
fn data_path<M: DmaMemory>(
    sqe: &SubmissionEntry,
    transfer: Transfer,
    mem: &mut M,
    store: &mut [u8],
) -> Result<(), DeviceError> {
    let cmd = DeviceCommand::decode(sqe, QueueKind::Io, &CAPS, transfer)?;
    // Room for the longest walk MDTS allows, worked out once at compile time.
    const ROOM: usize = match CAPS.max_data_pieces() {
        Some(room) => room as usize,
        None => panic!("the emulator's controller has an MDTS"),
    };
    let mut pieces = [Piece::Skip(0); ROOM];
    let n = cmd.data_pieces(mem, &mut pieces)?;
    let walked: Vec<String> = pieces[..n].iter().map(Piece::to_string).collect();
    println!("  emulator walks: {}", walked.join(", "));
    let mut mover = DataMover::new(&pieces[..n], mem)?;
    match transfer.direction {
        Direction::Write => mover.from_host(mem, store)?,
        Direction::Read => mover.to_host(mem, store)?,
    }
    println!("  emulator moved {} bytes", store.len());
    Ok(())
}

fn scatter(ram: &GuestMemoryMmap, extents: &[Extent], data: &[u8]) -> Result<(), Box<dyn Error>> {
    let mut at = 0;
    for e in extents {
        ram.write_slice(&data[at..at + e.len as usize], GuestAddress(e.addr))?;
        at += e.len as usize;
    }
    Ok(())
}

fn gather(ram: &GuestMemoryMmap, extents: &[Extent]) -> Result<Vec<u8>, Box<dyn Error>> {
    let mut out = Vec::new();
    for e in extents {
        let mut bytes = vec![0u8; e.len as usize];
        ram.read_slice(&mut bytes, GuestAddress(e.addr))?;
        out.extend(bytes);
    }
    Ok(out)
}

fn list(extents: &[Extent]) -> String {
    let parts: Vec<String> = extents.iter().map(Extent::to_string).collect();
    parts.join(", ")
}
