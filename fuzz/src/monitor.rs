//! A host memory that watches every DMA the mock controller makes and checks it against what
//! the commands it fetched allow: the oracle of the `controller` target.
//!
//! The monitor sits between the controller and a [`SimMemory`]. It knows the queues (the
//! harness refreshes them from [`MockController::queues`] after every register write), so it
//! recognises a 64-byte read at a submission queue's head slot as a command fetch and a
//! 16-byte write at a completion queue's tail slot as a completion. Between the two it holds
//! the command in flight, with what the command may touch, worked out independently from the
//! same bytes and the same memory the controller sees:
//!
//! * **writes**: only inside the buffers its data and metadata pointers describe, walked with
//!   the crate's walkers over memory as it was at the fetch, for the opcodes that move data to
//!   the host (Read, Identify, Get Log Page); never into the register window; nothing at all,
//!   except its completion, when it fails;
//! * **reads**: at most [`Context::read_budget`] bytes (the work bound);
//! * **its completion**: at the completion queue's next slot, with the current phase tag, its
//!   SQ id and CID, and an SQ head just past its slot (commands run one at a time).
//!
//! A completion with no command in flight must answer an Asynchronous Event Request the
//! monitor saw fetched and not yet completed. Any other DMA is a violation. Violations panic,
//! which libFuzzer reports as a crash.

use std::cell::RefCell;

use nvme_dma::controller::{MockController, NamespaceConfig, QueueRole, QueueView};
use nvme_dma::dptr::{self};
use nvme_dma::sgl::SglCaps;
use nvme_dma::spec::log::LogPageRequest;
use nvme_dma::spec::{CompletionEntry, Opcode, Status, SubmissionEntry};
use nvme_dma::walk::Walk;
use nvme_dma::QueueKind;
use nvme_dma::{Direction, Piece};
use nvme_dma::{DmaFault, DmaMemory, Extent, PageSize, SimMemory};

/// What the monitor needs to know about the controller to judge a command.
#[derive(Clone, Debug)]
pub struct Context {
    /// Namespaces 1, 2, … as configured.
    pub namespaces: Vec<NamespaceConfig>,
    /// The SGL rules the controller walks with (its SGLS and walk limits).
    pub caps: SglCaps,
    /// The controller's register window (BAR0): no DMA may touch it.
    pub registers: Extent,
    /// Most bytes any one command may read (see `read_budget`).
    pub read_budget: u64,
}

impl Context {
    /// The work bound per command, in bytes read: the SQE (64); data and a separate metadata
    /// buffer, each at most `max_transfer`; the descriptors of both pointers (SGL: the
    /// walker's documented `16 (D + S)` bytes for `D` descriptors and `S` segments, plus 16
    /// for a walk that starts at MPTR; PRP: a list entry per page plus a chain entry per list
    /// page, 8 bytes each, and one more page of slack for an offset first entry); a
    /// Dataset Management range list (4 KiB); and the PRP list of a queue created with
    /// PC = 0 (a slot per page of the largest queue).
    pub fn read_budget(caps: &SglCaps, max_transfer: u64, page: PageSize) -> u64 {
        let pages = max_transfer / page.bytes() + 2;
        let prp = 2 * (pages + pages / (page.bytes() / 8 - 1) + 1) * 8;
        let limits = caps.limits();
        let sgl = (u64::from(limits.max_descriptors) + u64::from(limits.max_segments)) * 16 + 16;
        let queue_list = (65_536 * 64 / 4096) * 8;
        64 + 2 * max_transfer + 2 * prp.max(sgl) + 4096 + queue_list
    }
}

/// A submission queue slot a command may have come from.
#[derive(Clone, Copy, Debug)]
struct Source {
    sqid: u16,
    slot: u16,
    sq_size: u16,
    cqid: u16,
}

impl Source {
    /// The SQ head a completion reports once this slot is consumed.
    fn next_head(&self) -> u16 {
        next_slot(self.slot, self.sq_size)
    }
}

/// A command between its fetch and its completion.
#[derive(Debug)]
struct InFlight {
    /// Every SQ whose head slot is where the fetch read (more than one only when the host
    /// created queues over each other's memory; the completion tells which it was).
    sources: Vec<Source>,
    sqe: SubmissionEntry,
    allowed: Vec<Extent>,
    bytes_read: u64,
    wrote: Vec<Extent>,
}

/// A completion queue's next slot and phase, as the monitor expects them.
#[derive(Debug)]
struct CqTrack {
    view: QueueView,
    tail: u16,
    phase: bool,
}

/// One completion the monitor saw posted.
#[derive(Clone, Copy, Debug)]
pub struct Posted {
    /// The SQ the command came from.
    pub sqid: u16,
    /// Its opcode, or `None` for an Asynchronous Event Request completed later.
    pub opcode: Option<Opcode>,
    /// The status it completed with.
    pub status: Status,
}

#[derive(Debug, Default)]
struct Watch {
    sqs: Vec<QueueView>,
    cqs: Vec<CqTrack>,
    current: Option<InFlight>,
    /// CIDs of Asynchronous Event Requests fetched and still held by the controller.
    held_events: Vec<u16>,
    posted: Vec<Posted>,
    page: Option<PageSize>,
}

/// Host memory with the controller's DMA checked as it happens.
pub struct Monitor {
    /// The memory behind it; the harness writes queue entries here directly (host stores).
    pub mem: SimMemory,
    context: Context,
    watch: RefCell<Watch>,
}

impl Monitor {
    /// A monitor over `mem` for a controller described by `context`.
    pub fn new(mem: SimMemory, context: Context) -> Self {
        Monitor {
            mem,
            context,
            watch: RefCell::new(Watch::default()),
        }
    }

    /// Take the controller's queues as they are now, checking first that every completion
    /// queue the monitor tracked ended where the completions it saw put it; and drop the
    /// command in flight, which must have completed unless the controller has failed (CSTS.CFS)
    /// or it is an Asynchronous Event Request the controller holds.
    pub fn sync(&self, controller: &MockController, failed: bool) {
        let mut watch = self.watch.borrow_mut();
        watch.end_command(failed);
        // A completion queue deleted and created again since the last sync starts afresh.
        let recreated = watch.posted.iter().any(|p| {
            p.sqid == 0
                && p.status.is_success()
                && matches!(
                    p.opcode,
                    Some(Opcode::ADMIN_CREATE_IO_CQ | Opcode::ADMIN_DELETE_IO_CQ)
                )
        });
        let views: Vec<QueueView> = controller.queues().collect();
        for view in views.iter().filter(|_| !recreated) {
            if let QueueRole::Completion { phase } = view.role {
                let before = watch.cqs.iter().find(|t| t.view.qid == view.qid);
                if let Some(track) = before.filter(|t| t.view.slot(0) == view.slot(0)) {
                    assert_eq!(
                        (track.tail, track.phase),
                        (view.tail, phase),
                        "CQ {}: the controller's tail and phase differ from the completions posted",
                        view.qid
                    );
                }
            }
        }
        let (sqs, cqs): (Vec<QueueView>, Vec<QueueView>) = views
            .into_iter()
            .partition(|v| matches!(v.role, QueueRole::Submission { .. }));
        watch.sqs = sqs;
        watch.cqs = cqs
            .into_iter()
            .filter_map(|view| match view.role {
                QueueRole::Completion { phase } => Some(CqTrack {
                    tail: view.tail,
                    phase,
                    view,
                }),
                QueueRole::Submission { .. } => None,
            })
            .collect();
        if !controller.is_ready() {
            watch.held_events.clear();
        }
        watch.page = Some(controller.page_size());
    }

    /// The completions posted since the last call.
    pub fn take_posted(&self) -> Vec<Posted> {
        std::mem::take(&mut self.watch.borrow_mut().posted)
    }

    /// The writes a command fetched as `sqe` from `sqid` may make: the data (and metadata)
    /// buffers its pointers describe, for the commands that move data to the host; nothing
    /// for every other command, or when its pointers do not walk.
    fn allowed_writes(&self, sqe: &SubmissionEntry, sqid: u16, page: PageSize) -> Vec<Extent> {
        let (queue, lens) = if sqid == 0 {
            (QueueKind::Admin, admin_data_len(sqe).map(|len| (len, 0)))
        } else {
            (QueueKind::Io, self.read_lens(sqe))
        };
        let Some((data, metadata)) = lens else {
            return Vec::new();
        };
        let caps = &self.context.caps;
        let Ok(ptrs) = dptr::decode(sqe, queue, caps) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        // A command without metadata has no metadata pointer: MPTR is not looked at.
        let metadata_walk = (metadata > 0)
            .then(|| ptrs.walk_metadata(Direction::Read, metadata, caps, &self.mem))
            .into_iter()
            .flatten();
        let walks = ptrs
            .walk_data(Direction::Read, data, page, caps, &self.mem)
            .pieces()
            .chain(metadata_walk);
        for piece in walks {
            match piece {
                Ok(Piece::Data(e)) => out.push(e),
                Ok(_) => {}
                Err(_) => return Vec::new(),
            }
        }
        out
    }

    /// Data and separate-metadata lengths of an NVM Read (the only I/O command that writes
    /// host memory); `None` for any other command or namespace.
    fn read_lens(&self, sqe: &SubmissionEntry) -> Option<(u64, u64)> {
        if sqe.opcode() != Opcode::NVM_READ {
            return None;
        }
        let ns = self
            .context
            .namespaces
            .get(usize::try_from(sqe.nsid()).ok()?.checked_sub(1)?)?;
        let nlb = sqe.block_range().blocks();
        let (lba, ms) = (u64::from(ns.lba_size), u64::from(ns.metadata_size));
        Some(if ns.extended {
            (nlb * (lba + ms), 0)
        } else {
            (nlb * lba, nlb * ms)
        })
    }

    fn on_read(&self, addr: u64, len: usize) {
        let mut watch = self.watch.borrow_mut();
        let len = len as u64;
        assert!(
            !overlaps(self.context.registers, Extent::new(addr, len)),
            "DMA read of {len} bytes at {addr:#x} reaches the register window {:?}",
            self.context.registers
        );
        if let Some(cmd) = watch.current.as_mut().filter(|c| !c.is_event_request()) {
            cmd.bytes_read += len;
            assert!(
                cmd.bytes_read <= self.context.read_budget,
                "command {:?} read {} bytes, more than the bound {}",
                cmd.sqe,
                cmd.bytes_read,
                self.context.read_budget
            );
            return;
        }
        // No command running (an event request the controller holds is over now): this
        // must be the fetch of the next one, at some SQ's head.
        watch.end_command(false);
        let sources: Vec<Source> = watch
            .sqs
            .iter()
            .filter(|q| len == 64 && q.slot(q.head) == Some(addr))
            .filter_map(|q| match q.role {
                QueueRole::Submission { cqid } => Some(Source {
                    sqid: q.qid,
                    slot: q.head,
                    sq_size: q.size,
                    cqid,
                }),
                QueueRole::Completion { .. } => None,
            })
            .collect();
        assert!(
            !sources.is_empty(),
            "DMA read of {len} bytes at {addr:#x} outside any command"
        );
        let mut bytes = [0u8; 64];
        if self.mem.peek(addr, &mut bytes).is_err() {
            return; // The fetch fails: a fatal error, checked at the end of the step.
        }
        let sqe = SubmissionEntry::from_bytes(bytes);
        let page = watch.page.unwrap_or(PageSize::SIZE_4K);
        drop(watch);
        // Admin or I/O: when the sources disagree, either may be right.
        let mut allowed = Vec::new();
        for admin in [true, false] {
            if let Some(s) = sources.iter().find(|s| (s.sqid == 0) == admin) {
                allowed.extend(self.allowed_writes(&sqe, s.sqid, page));
            }
        }
        self.watch.borrow_mut().current = Some(InFlight {
            sources,
            sqe,
            allowed,
            bytes_read: 64,
            wrote: Vec::new(),
        });
    }

    fn on_write(&self, addr: u64, data: &[u8]) {
        let mut watch = self.watch.borrow_mut();
        let range = Extent::new(addr, data.len() as u64);
        assert!(
            !overlaps(self.context.registers, range),
            "DMA write {range:?} reaches the register window {:?}",
            self.context.registers
        );
        if let Ok(bytes) = <[u8; 16]>::try_from(data) {
            if watch.completion(addr, CompletionEntry::from_bytes(bytes)) {
                return;
            }
        }
        let Some(cmd) = watch.current.as_mut() else {
            panic!("DMA write {range:?} outside any command");
        };
        assert!(
            cmd.allowed.iter().any(|&e| contains(e, range)),
            "command {:?} wrote {range:?}, outside its buffers {:?}",
            cmd.sqe,
            cmd.allowed
        );
        cmd.wrote.push(range);
    }
}

impl InFlight {
    /// An Asynchronous Event Request from the admin queue: the controller may hold it.
    fn is_event_request(&self) -> bool {
        self.sqe.opcode() == Opcode::ADMIN_ASYNC_EVENT_REQUEST
            && self.sources.iter().any(|s| s.sqid == 0)
    }

    /// The source a completion names, if it names this command.
    fn answered_by(&self, entry: &CompletionEntry) -> Option<Source> {
        if entry.cid() != self.sqe.cid() {
            return None;
        }
        self.sources
            .iter()
            .copied()
            .find(|s| s.sqid == entry.sqid())
    }
}

impl Watch {
    /// The command in flight is over without a completion: fine for an Asynchronous Event
    /// Request (the controller holds it) or after a fatal error; a violation otherwise.
    fn end_command(&mut self, failed: bool) {
        if let Some(cmd) = self.current.take() {
            if cmd.is_event_request() {
                self.held_events.push(cmd.sqe.cid());
                self.advance_sq(0);
            } else {
                assert!(
                    failed,
                    "command {:?} from {:?} never completed",
                    cmd.sqe, cmd.sources
                );
            }
        }
    }

    /// The controller consumed the head slot of `sqid`.
    fn advance_sq(&mut self, sqid: u16) {
        if let Some(q) = self.sqs.iter_mut().find(|q| q.qid == sqid) {
            q.head = next_slot(q.head, q.size);
        }
    }

    /// If `entry` written at `addr` is a completion, check it and account for it. It is one
    /// when it lands on the tail slot of the right completion queue and names the command in
    /// flight, or (on the admin queue) an event request the controller holds; any other
    /// 16-byte write is judged as data.
    fn completion(&mut self, addr: u64, entry: CompletionEntry) -> bool {
        let source = self
            .current
            .as_ref()
            .and_then(|cmd| cmd.answered_by(&entry));
        let held = self.held_events.iter().position(|&c| c == entry.cid());
        let cqid = match (source, held) {
            (Some(s), _) => s.cqid,
            (None, Some(_)) if entry.sqid() == 0 => 0,
            _ => return false,
        };
        let Some(track) = self
            .cqs
            .iter_mut()
            .find(|t| t.view.qid == cqid && t.view.slot(t.tail) == Some(addr))
        else {
            return false;
        };
        assert_eq!(entry.phase(), track.phase, "CQ {cqid}: wrong phase tag");
        track.tail = next_slot(track.tail, track.view.size);
        if track.tail == 0 {
            track.phase = !track.phase;
        }
        let status = entry.status();
        let opcode = match (source, held) {
            (Some(source), _) => {
                let cmd = self.current.take().expect("answers the command in flight");
                assert_eq!(
                    entry.sqhd(),
                    source.next_head(),
                    "SQ head in the completion of {:?}",
                    cmd.sqe
                );
                assert!(
                    status.is_success() || cmd.wrote.is_empty(),
                    "command {:?} failed with {status} but wrote {:?}",
                    cmd.sqe,
                    cmd.wrote
                );
                self.advance_sq(source.sqid);
                Some(cmd.sqe.opcode())
            }
            (None, Some(i)) => {
                self.held_events.remove(i);
                assert!(
                    status.is_success(),
                    "an event request completed with {status}"
                );
                None
            }
            (None, None) => return false,
        };
        self.posted.push(Posted {
            sqid: entry.sqid(),
            opcode,
            status,
        });
        true
    }
}

/// The slot after `slot` in a ring of `size` slots.
fn next_slot(slot: u16, size: u16) -> u16 {
    if slot + 1 >= size {
        0
    } else {
        slot + 1
    }
}

/// Whether two ranges share a byte (ranges running past 2^64 end there).
fn overlaps(a: Extent, b: Extent) -> bool {
    let last = |e: Extent| e.last_byte().unwrap_or(u64::MAX);
    !a.is_empty() && !b.is_empty() && a.addr <= last(b) && b.addr <= last(a)
}

/// Whether `outer` holds every byte of `inner`.
fn contains(outer: Extent, inner: Extent) -> bool {
    let last = |e: Extent| e.last_byte().unwrap_or(u64::MAX);
    inner.is_empty()
        || (outer.addr <= inner.addr && last(inner) <= last(outer) && !outer.is_empty())
}

/// Bytes an admin command writes to the host: Identify's 4 KiB and Get Log Page's NUMD.
fn admin_data_len(sqe: &SubmissionEntry) -> Option<u64> {
    match sqe.opcode() {
        Opcode::ADMIN_IDENTIFY => Some(4096),
        Opcode::ADMIN_GET_LOG_PAGE => Some(LogPageRequest::from_sqe(sqe).len),
        _ => None,
    }
}

impl DmaMemory for Monitor {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), DmaFault> {
        self.on_read(addr, buf.len());
        self.mem.read(addr, buf)
    }

    fn write(&mut self, addr: u64, data: &[u8]) -> Result<(), DmaFault> {
        self.on_write(addr, data);
        self.mem.write(addr, data)
    }

    fn probe(&self, addr: u64, len: u64) -> Result<(), DmaFault> {
        self.mem.probe(addr, len)
    }
}
