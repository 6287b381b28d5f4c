//! A round trip through the crate's host driver and mock controller: bring the controller up,
//! write a pattern to the namespace from one scatter list (as an SGL), read it back through a
//! different scatter list (as PRPs), and compare. Then a transfer larger than the
//! controller's maximum (MDTS), which the driver splits into several commands. The driver's
//! report says what each command was; the controller's DMA trace, what it fetched for each.
//!
//! Run: `cargo run --example driver_round_trip`

use nvme_dma::controller::{ControllerConfig, DmaPurpose, DmaTrace, Machine, MockController};
use nvme_dma::dptr::SglPolicy;
use nvme_dma::host::{Driver, DriverConfig, IoReport};
use nvme_dma::spec::Psdt;
use nvme_dma::{DmaFault, DmaMemory, Extent, SimMemory};

type Device = Machine<SimMemory>;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 32 MiB of host memory and the mock controller (MDTS 128 KiB, dword-aligned SGLs).
    let mut memory = SimMemory::new();
    memory.set_logging(false);
    memory.map(0, 32 << 20)?;
    let controller = MockController::new(ControllerConfig::default())?;
    // The driver keeps its queues and descriptor pages in 1 MiB from 16 MiB up.
    let config = DriverConfig::new(Extent::new(16 << 20, 1 << 20));
    let mut driver = Driver::start(Machine::new(controller, memory), config)?;
    let caps = *driver.controller();
    let ns = driver.namespace();
    println!(
        "Controller up: {} pages, {} SGLs, MDTS {} KiB; namespace {}: {} blocks of {} bytes",
        caps.page_size,
        if caps.sgl.dword_granular() {
            "dword-aligned"
        } else {
            "byte-aligned"
        },
        caps.max_transfer.bytes().unwrap_or(0) / 1024,
        ns.nsid,
        ns.blocks,
        ns.block_size
    );
    driver.bus_mut().controller.set_tracing(true);

    // 48 KiB written from five dword-aligned pieces that break PRP rules: an SGL carries them.
    let source = [
        Extent::new(0x40_0100, 0x2f00),
        Extent::new(0x48_0000, 0x1000),
        Extent::new(0x4a_0040, 0x3fc0),
        Extent::new(0x50_0000, 0x4000),
        Extent::new(0x56_0000, 0x140),
    ];
    let data = pattern(0xc000, 1);
    scatter(driver.bus_mut(), &source, &data)?;
    let written = driver.write(100, &source, SglPolicy::Always)?;
    assert_eq!(written.last().ok_or("no command")?.filled.psdt, Psdt::Sgl);
    report(
        "Write 48 KiB to LBA 100 from 5 pieces",
        &written,
        &mut driver,
    )?;

    // Read back into three page-friendly pieces elsewhere: PRP1 and one PRP list page.
    let target = [
        Extent::new(0x60_0800, 0x800),
        Extent::new(0x62_0000, 0x5000),
        Extent::new(0x68_0000, 0x6800),
    ];
    let read = driver.read(100, &target, SglPolicy::Never)?;
    assert_eq!(read.last().ok_or("no command")?.filled.psdt, Psdt::Prp);
    report("Read 48 KiB from LBA 100 into 3 pieces", &read, &mut driver)?;
    assert_eq!(
        gather(driver.bus(), &target)?,
        data,
        "read back what was written"
    );
    println!("  48 KiB read back through a different scatter list: equal");

    // 320 KiB, more than MDTS allows one command: the driver splits it. A split is made of
    // PRP commands (dptr's splitter), whatever the policy.
    let big = [
        Extent::new(0x80_0000, 0x3_0000),
        Extent::new(0xc0_0000, 0x2_0000),
    ];
    let data = pattern(0x5_0000, 2);
    scatter(driver.bus_mut(), &big, &data)?;
    let written = driver.write(2048, &big, SglPolicy::Always)?;
    report(
        "Write 320 KiB to LBA 2048 (MDTS 128 KiB)",
        &written,
        &mut driver,
    )?;
    assert_eq!(written.commands.len(), 3, "128 + 128 + 64 KiB");
    let back = [Extent::new(0x120_0000, 0x5_0000)];
    let read = driver.read(2048, &back, SglPolicy::Never)?;
    report("Read it back into one buffer", &read, &mut driver)?;
    assert_eq!(
        gather(driver.bus(), &back)?,
        data,
        "split read of a split write"
    );
    println!("  320 KiB read back: equal");

    driver.shutdown()?;
    Ok(())
}

/// What a transfer took, command by command: the driver's report of each command (its blocks
/// and data pointer), and what the controller fetched for it, from its DMA trace.
fn report(what: &str, transfer: &IoReport, driver: &mut Driver<Device>) -> Result<(), DmaFault> {
    let trace: DmaTrace = driver.bus_mut().controller.take_trace();
    let page_size = driver.controller().page_size;
    println!("\n{what}: {} command(s)", transfer.commands.len());
    let mut commands = transfer.commands.iter();
    let (mut bytes, mut pages, mut data) = (0, Vec::new(), 0);
    for access in trace.accesses() {
        match access.purpose {
            DmaPurpose::PrpListFetch | DmaPurpose::SglSegmentFetch => {
                bytes += access.len;
                let page = page_size.page_base(access.addr);
                if !pages.contains(&page) {
                    pages.push(page);
                }
            }
            DmaPurpose::DataRead | DmaPurpose::DataWrite => data += access.len,
            DmaPurpose::CqePost => {
                let Some(command) = commands.next() else {
                    continue;
                };
                let pointer = match (command.filled.psdt, bytes) {
                    (Psdt::Prp, 0) => "PRP1 and PRP2 alone".to_string(),
                    (Psdt::Prp, _) => format!("PRPs: {} list entries", bytes / 8),
                    (_, 0) => "an SGL: SGL1 alone".to_string(),
                    _ => format!("an SGL: {} descriptors", bytes / 16),
                };
                print!(
                    "  LBA {} + {} blocks: {data:>6} data bytes through {pointer}",
                    command.blocks.slba(),
                    command.blocks.blocks()
                );
                match pages.len() {
                    0 => println!(),
                    1 => println!(" in 1 page"),
                    k => println!(" in {k} pages"),
                }
                (bytes, data) = (0, 0);
                pages.clear();
            }
            _ => {}
        }
    }
    Ok(())
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31) ^ seed ^ (i >> 9) as u8)
        .collect()
}

fn scatter(mem: &mut Device, extents: &[Extent], data: &[u8]) -> Result<(), DmaFault> {
    let mut at = 0;
    for e in extents {
        mem.write(e.addr, &data[at..at + e.len as usize])?;
        at += e.len as usize;
    }
    Ok(())
}

fn gather(mem: &Device, extents: &[Extent]) -> Result<Vec<u8>, DmaFault> {
    let mut out = Vec::new();
    for e in extents {
        let mut bytes = vec![0u8; e.len as usize];
        mem.read(e.addr, &mut bytes)?;
        out.extend(bytes);
    }
    Ok(out)
}
