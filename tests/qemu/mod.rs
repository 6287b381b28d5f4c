//! QEMU's NVMe controller as a device for the host driver, reached through QEMU's qtest
//! protocol: no guest OS, the test is the host.
//!
//! [`Qemu::start`] runs `qemu-system-x86_64 -machine q35 -accel tcg -S -qtest stdio` with a
//! raw image file as an `nvme` device, finds the controller on PCI bus 0 through the
//! configuration ports 0xcf8/0xcfc, places BAR0 and turns on memory decoding and bus
//! mastering. [`Qemu`] then implements [`RegisterAccess`] (qtest `readl`/`writel`/`readq`/
//! `writeq` at BAR0) and [`DmaMemory`] (qtest `read`/`write` of guest RAM), so
//! `nvme_dma::host::Driver` drives it as it would drive the mock controller.
//!
//! Each test file starts one QEMU and runs all its cases on it. Without QEMU, [`Qemu::start`]
//! returns `None` after saying loudly that the tests are skipped; with `NVME_DMA_REQUIRE_QEMU=1`
//! (set by scripts/test.sh, and so in CI) a missing QEMU fails the test instead.
#![allow(dead_code)]

use std::cell::RefCell;
use std::fmt;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub mod layouts;

use nvme_dma::bus::RegisterAccess;
use nvme_dma::controller::{ControllerConfig, Machine, MockController, NamespaceConfig, Profile};
use nvme_dma::spec::{SglSupport, Sgls, Status, Vs};
use nvme_dma::{DmaFault, DmaMemory, Extent, SimMemory};

/// The emulator binary.
const QEMU: &str = "qemu-system-x86_64";

/// Set to 1 to make a missing QEMU a failure rather than a skip.
pub const REQUIRE_ENV: &str = "NVME_DMA_REQUIRE_QEMU";

/// Guest RAM QEMU gives the machine by default (q35: 128 MiB from address 0).
pub const GUEST_RAM: u64 = 128 << 20;

/// Guest RAM the tests may use: everything above the first MiB (which holds the BIOS ROM
/// shadows) up to the end of RAM.
pub const USABLE_RAM: Extent = Extent::new(1 << 20, GUEST_RAM - (1 << 20));

/// Where BAR0 goes: inside q35's PCI hole below 4 GiB, clear of MMCONFIG (0xb0000000, 256 MiB)
/// and of the IOAPIC and LAPIC near 0xfec00000.
pub const BAR0: u64 = 0xe000_0000;

/// PCI vendor and device ID of QEMU's NVMe controller (Red Hat, 1b36:0010).
const NVME_VENDOR_DEVICE: u32 = 0x0010_1b36;

/// Size of the namespace's image file.
pub const IMAGE_BYTES: u64 = 16 << 20;

/// A qtest exchange that failed: the pipe broke, or QEMU answered FAIL or nonsense.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QtestError(pub String);

impl fmt::Display for QtestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "qtest: {}", self.0)
    }
}

impl std::error::Error for QtestError {}

struct Pipes {
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    line: String,
}

/// How long one qtest exchange may take before QEMU is taken to hang. QEMU 7.2 can spin
/// for good on a looping SGL, deaf to qtest and to SIGTERM: only SIGKILL stops it.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// Kills QEMU with SIGKILL when an exchange outlives its deadline, so that a hung QEMU ends
/// the exchange (its pipe closes) instead of the test.
struct Watchdog {
    /// When the exchange in progress must have been answered; `None` between exchanges.
    deadline: Arc<Mutex<Option<Instant>>>,
    /// Set once QEMU was killed.
    fired: Arc<AtomicBool>,
    /// Tells the thread to end.
    stop: Arc<AtomicBool>,
}

impl Watchdog {
    fn start(pid: u32) -> Watchdog {
        let deadline = Arc::new(Mutex::new(None::<Instant>));
        let (fired, stop) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicBool::new(false)),
        );
        let (d, f, s) = (deadline.clone(), fired.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(20));
                let due = d.lock().map(|d| d.is_some_and(|t| Instant::now() > t));
                if due.unwrap_or(false) {
                    let _ = Command::new("kill")
                        .args(["-KILL", &pid.to_string()])
                        .status();
                    f.store(true, Ordering::Relaxed);
                    return;
                }
            }
        });
        Watchdog {
            deadline,
            fired,
            stop,
        }
    }

    fn arm(&self, timeout: Duration) {
        if let Ok(mut d) = self.deadline.lock() {
            *d = Some(Instant::now() + timeout);
        }
    }

    fn disarm(&self) {
        if let Ok(mut d) = self.deadline.lock() {
            *d = None;
        }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// A running QEMU with one NVMe controller, driven over qtest.
pub struct Qemu {
    child: Child,
    watchdog: Watchdog,
    /// How long each exchange may take ([`DEFAULT_TIMEOUT`] unless set).
    timeout: std::cell::Cell<Duration>,
    pipes: RefCell<Pipes>,
    image: PathBuf,
    /// PCI device number of the controller on bus 0.
    pub pci_device: u8,
    /// qtest commands sent, for the record.
    commands: RefCell<u64>,
}

impl fmt::Debug for Qemu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Qemu")
            .field("pid", &self.child.id())
            .field("image", &self.image)
            .finish_non_exhaustive()
    }
}

/// True when a missing QEMU must fail the test.
fn qemu_required() -> bool {
    std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1")
}

impl Qemu {
    /// Start QEMU for the test file `name` with a fresh zeroed image, or `None` (with a loud
    /// note) when QEMU is not installed and not required. Extra `-device nvme` properties
    /// (`mdts=7`, say) go in `nvme_props`.
    pub fn start(name: &str, nvme_props: &str) -> Option<Qemu> {
        let found = Command::new(QEMU)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            if qemu_required() {
                panic!(
                    "{QEMU} is not installed but {REQUIRE_ENV}=1: run scripts/install-qemu.sh \
                     (Debian package qemu-system-x86)"
                );
            }
            // Straight to the stderr stream, past the test harness's output capture, so a
            // passing `cargo test` still shows it.
            let _ = writeln!(
                std::io::stderr(),
                "\n!!! SKIPPED {name}: {QEMU} is not installed, so the QEMU conformance\n\
                 !!! tests did not run. Install it with scripts/install-qemu.sh, or run\n\
                 !!! scripts/test.sh, which installs it and requires these tests to run.\n"
            );
            return None;
        }
        let image = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("nvme-dma-{name}-{}.img", std::process::id()));
        File::create(&image)
            .and_then(|f| f.set_len(IMAGE_BYTES))
            .expect("create the namespace image");
        let drive = format!(
            "file={},if=none,id=nvm0,format=raw,cache=writeback",
            image.display()
        );
        let device = format!("nvme,serial=nvmedma0,drive=nvm0{nvme_props}");
        let mut child = Command::new(QEMU)
            .args(["-machine", "q35", "-accel", "tcg", "-S", "-display", "none"])
            .args(["-nodefaults", "-qtest", "stdio", "-qtest-log", "none"])
            .args(["-drive", &drive, "-device", &device])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start QEMU");
        let stdin = child.stdin.take().expect("QEMU's stdin");
        let stdout = BufReader::new(child.stdout.take().expect("QEMU's stdout"));
        let watchdog = Watchdog::start(child.id());
        let mut qemu = Qemu {
            child,
            watchdog,
            timeout: std::cell::Cell::new(DEFAULT_TIMEOUT),
            pipes: RefCell::new(Pipes {
                stdin,
                stdout,
                line: String::new(),
            }),
            image,
            pci_device: 0,
            commands: RefCell::new(0),
        };
        qemu.setup_pci()
            .expect("set up the NVMe controller's PCI function");
        Some(qemu)
    }

    /// Send one qtest command and return what follows `OK` in its answer. Asynchronous `IRQ`
    /// lines are skipped.
    pub fn command(&self, cmd: &str) -> Result<String, QtestError> {
        if self.killed() {
            return Err(QtestError(format!(
                "QEMU was killed (it hung) before {cmd:?}"
            )));
        }
        self.watchdog.arm(self.timeout.get());
        let answer = self.exchange(cmd);
        self.watchdog.disarm();
        if answer.is_err() && self.killed() {
            return Err(QtestError(format!(
                "QEMU did not answer {cmd:?} within {:?} and was killed",
                self.timeout.get()
            )));
        }
        answer
    }

    /// How long each exchange may take from now on before QEMU is killed.
    pub fn set_timeout(&self, timeout: Duration) {
        self.timeout.set(timeout);
    }

    /// Whether the watchdog killed QEMU: it hung.
    pub fn killed(&self) -> bool {
        self.watchdog.fired.load(Ordering::Relaxed)
    }

    fn exchange(&self, cmd: &str) -> Result<String, QtestError> {
        *self.commands.borrow_mut() += 1;
        let mut pipes = self.pipes.borrow_mut();
        let Pipes {
            stdin,
            stdout,
            line,
        } = &mut *pipes;
        stdin
            .write_all(cmd.as_bytes())
            .and_then(|()| stdin.write_all(b"\n"))
            .and_then(|()| stdin.flush())
            .map_err(|e| QtestError(format!("sending {cmd:?}: {e}")))?;
        loop {
            line.clear();
            let n = stdout
                .read_line(line)
                .map_err(|e| QtestError(format!("reading the answer to {cmd:?}: {e}")))?;
            if n == 0 {
                return Err(QtestError(format!("QEMU closed the pipe after {cmd:?}")));
            }
            let answer = line.trim_end();
            if answer.starts_with("IRQ") {
                continue;
            }
            return match answer.strip_prefix("OK") {
                Some(rest) => Ok(rest.trim_start().to_string()),
                None => Err(QtestError(format!("{cmd:?} answered {answer:?}"))),
            };
        }
    }

    /// How many qtest commands have been sent.
    pub fn commands_sent(&self) -> u64 {
        *self.commands.borrow()
    }

    fn value(&self, cmd: &str) -> Result<u64, QtestError> {
        let answer = self.command(cmd)?;
        let digits = answer.strip_prefix("0x").unwrap_or(&answer);
        u64::from_str_radix(digits, 16)
            .map_err(|_| QtestError(format!("{cmd:?} answered {answer:?}, not a number")))
    }

    /// A dword of the controller's PCI configuration space.
    pub fn config_read(&self, reg: u8) -> Result<u32, QtestError> {
        self.config_read_at(self.pci_device, reg)
    }

    fn config_read_at(&self, device: u8, reg: u8) -> Result<u32, QtestError> {
        self.command(&format!("outl 0xcf8 {:#x}", config_address(device, reg)))?;
        self.value("inl 0xcfc").map(|v| v as u32)
    }

    fn config_write(&self, reg: u8, value: u32) -> Result<(), QtestError> {
        self.command(&format!(
            "outl 0xcf8 {:#x}",
            config_address(self.pci_device, reg)
        ))?;
        self.command(&format!("outl 0xcfc {value:#x}")).map(|_| ())
    }

    /// Find the controller on bus 0, put its 64-bit BAR0 at [`BAR0`], enable memory space and
    /// bus mastering.
    fn setup_pci(&mut self) -> Result<(), QtestError> {
        let device = (0..32u8)
            .find(|&d| self.config_read_at(d, 0).ok() == Some(NVME_VENDOR_DEVICE))
            .ok_or_else(|| QtestError("no NVMe controller (1b36:0010) on bus 0".into()))?;
        self.pci_device = device;
        // BAR0 is a 64-bit memory BAR (type bits 2:1 = 10b): the high dword is BAR1.
        let bar = self.config_read(0x10)?;
        if bar & 0x7 != 0x4 {
            return Err(QtestError(format!(
                "BAR0 is not a 64-bit memory BAR: {bar:#x}"
            )));
        }
        self.config_write(0x10, BAR0 as u32)?;
        self.config_write(0x14, (BAR0 >> 32) as u32)?;
        // Command register: Memory Space Enable (bit 1) and Bus Master Enable (bit 2).
        self.config_write(0x04, 0x6)?;
        Ok(())
    }

    /// The namespace image's bytes at `offset`, read from the file QEMU writes.
    pub fn image_bytes(&self, offset: u64, len: usize) -> Vec<u8> {
        let mut file = File::open(&self.image).expect("open the namespace image");
        file.seek(SeekFrom::Start(offset))
            .expect("seek in the image");
        let mut bytes = vec![0; len];
        file.read_exact(&mut bytes).expect("read the image");
        bytes
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        // QEMU keeps running when the qtest pipe closes: stop it.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.image);
    }
}

/// The value for port 0xcf8 that selects dword `reg` of function 0 of `device` on bus 0.
fn config_address(device: u8, reg: u8) -> u32 {
    0x8000_0000 | u32::from(device) << 11 | u32::from(reg & 0xfc)
}

fn bar0(offset: u64) -> Result<u64, QtestError> {
    BAR0.checked_add(offset)
        .ok_or_else(|| QtestError(format!("register offset {offset:#x} is out of range")))
}

impl RegisterAccess for Qemu {
    type Error = QtestError;

    fn read32(&mut self, offset: u64) -> Result<u32, QtestError> {
        self.value(&format!("readl {:#x}", bar0(offset)?))
            .map(|v| v as u32)
    }

    fn write32(&mut self, offset: u64, value: u32) -> Result<(), QtestError> {
        self.command(&format!("writel {:#x} {value:#x}", bar0(offset)?))
            .map(|_| ())
    }

    fn read64(&mut self, offset: u64) -> Result<u64, QtestError> {
        self.value(&format!("readq {:#x}", bar0(offset)?))
    }

    fn write64(&mut self, offset: u64, value: u64) -> Result<(), QtestError> {
        self.command(&format!("writeq {:#x} {value:#x}", bar0(offset)?))
            .map(|_| ())
    }
}

/// Whether `len` bytes at `addr` lie in the RAM the tests may use.
fn in_ram(addr: u64, len: usize) -> Result<(), DmaFault> {
    let fault = DmaFault {
        addr,
        len: len as u64,
    };
    let end = addr.checked_add(len as u64).ok_or(fault)?;
    let ram_end = USABLE_RAM.addr + USABLE_RAM.len;
    if addr < USABLE_RAM.addr || end > ram_end {
        return Err(fault);
    }
    Ok(())
}

impl DmaMemory for Qemu {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), DmaFault> {
        in_ram(addr, buf.len())?;
        if buf.is_empty() {
            return Ok(());
        }
        let fault = DmaFault {
            addr,
            len: buf.len() as u64,
        };
        let answer = self
            .command(&format!("read {addr:#x} {:#x}", buf.len()))
            .map_err(|_| fault)?;
        let hex = answer.strip_prefix("0x").ok_or(fault)?;
        if hex.len() != buf.len() * 2 {
            return Err(fault);
        }
        for (byte, pair) in buf.iter_mut().zip(hex.as_bytes().chunks(2)) {
            let text = std::str::from_utf8(pair).map_err(|_| fault)?;
            *byte = u8::from_str_radix(text, 16).map_err(|_| fault)?;
        }
        Ok(())
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), DmaFault> {
        in_ram(addr, data.len())?;
        if data.is_empty() {
            return Ok(());
        }
        let mut cmd = format!("write {addr:#x} {:#x} 0x", data.len());
        cmd.reserve(data.len() * 2);
        for byte in data {
            use std::fmt::Write as _;
            let _ = write!(cmd, "{byte:02x}");
        }
        self.command(&cmd).map(|_| ()).map_err(|_| DmaFault {
            addr,
            len: data.len() as u64,
        })
    }
}

/// The mock controller as QEMU 7.2's default `nvme` device reports itself (CONFORMANCE.md,
/// "What QEMU 7.2 reports"), with the same image-sized namespace and BAR0 where the qtest
/// client puts QEMU's.
pub fn qemu_like() -> ControllerConfig {
    ControllerConfig {
        max_queue_entries: 2048,
        contiguous_queues_required: true,
        doorbell_stride: 0,
        mps_min: 0,
        mps_max: 4,
        timeout_500ms: 15,
        version: Vs::V1_4,
        mdts: 7,
        sgls: Sgls::from_support(SglSupport::ByteAligned),
        max_io_queues: 64,
        interrupt_vectors: 65,
        async_event_limit: 4,
        error_log_entries: 1,
        bar0: BAR0,
        cmb: None,
        namespaces: vec![NamespaceConfig::new(IMAGE_BYTES / 512, 512)],
        namespace_ids: Some(256),
        serial: "nvmedma0",
        model: "QEMU NVMe Ctrl",
        ..ControllerConfig::default()
    }
}

/// The mock controller configured as QEMU reports itself ([`qemu_like`]) with `profile`, over
/// simulated host memory as large as QEMU's RAM.
pub fn mock_machine(profile: Profile) -> Machine<SimMemory> {
    let mut memory = SimMemory::new();
    memory.set_logging(false);
    memory
        .map(0, GUEST_RAM)
        .expect("map the mock's host memory");
    let config = ControllerConfig {
        profile,
        ..qemu_like()
    };
    Machine::new(
        MockController::new(config).expect("a valid configuration"),
        memory,
    )
}

/// A status as the conformance tests print it: `success`, or `Generic 0Dh DNR`.
pub fn show(status: Status) -> String {
    if status.is_success() {
        return "success".into();
    }
    format!(
        "{:?} {:02X}h{}",
        status.sct(),
        status.sc(),
        if status.dnr() { " DNR" } else { "" }
    )
}
