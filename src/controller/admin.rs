//! Admin commands: Identify, queue creation and deletion, Number of Queues, Get Log Page,
//! Abort and Asynchronous Event Request; and the state they keep (logs, counters, events).

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use zerocopy::{FromZeros, IntoBytes};

use super::config::ControllerConfig;
use super::datapath::{self, fail};
use super::profile::Deviation;
use super::queue::{CompletionQueue, QueueMemory, SubmissionQueue};
use super::trace::DmaPurpose;
use super::{Engine, Outcome, CQE_BYTES, SQE_BYTES};
use crate::memory::DmaMemory;
use crate::spec::features::FID_NUMBER_OF_QUEUES;
use crate::spec::identify::{CNS_ACTIVE_NAMESPACE_LIST, CNS_CONTROLLER, CNS_NAMESPACE};
use crate::spec::log::{
    ErrorInformationEntry, LogPageRequest, SmartCounter, SmartLog, LID_ERROR_INFORMATION, LID_SMART,
};
use crate::spec::{
    CreateIoCq, CreateIoSq, DeleteIoQueue, GetFeatures, Identify, IdentifyController,
    NumberOfQueues, Opcode, QueueCount, QueueSize, SetFeatures, Status, StatusCodeType,
    SubmissionEntry,
};
use crate::Direction;
use crate::QueueKind;

/// Asynchronous Event Request Limit Exceeded (command specific 05h).
const ASYNC_LIMIT_EXCEEDED: Status = Status::new(StatusCodeType::CommandSpecific, 0x05);
/// Feature Identifier Not Saveable (command specific 0Dh).
const NOT_SAVEABLE: Status = Status::new(StatusCodeType::CommandSpecific, 0x0D);
/// Command Sequence Error (generic 0Ch).
const COMMAND_SEQUENCE_ERROR: Status = Status::new(StatusCodeType::Generic, 0x0C);
/// CNS 03h: the Namespace Identification Descriptor list of an active namespace, mandatory
/// since NVMe 1.3.
const CNS_NAMESPACE_DESCRIPTORS: u8 = 0x03;
/// LID 03h: Firmware Slot Information, a mandatory log page.
const LID_FIRMWARE_SLOT: u8 = 0x03;
/// Identify Controller FRMW: one firmware slot (bits 3:1 = 1), and slot 1 read only (bit 0).
/// The specification allows 1 to 7 slots; 0 is not a valid count.
const FRMW_ONE_READ_ONLY_SLOT: u8 = 1 << 1 | 1;

/// An asynchronous event the controller reports through an Asynchronous Event Request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AsyncEvent {
    /// Error status 00h: write to an invalid doorbell register.
    InvalidDoorbellRegister,
    /// Error status 01h: invalid doorbell write value.
    InvalidDoorbellValue,
}

impl AsyncEvent {
    /// Completion DW0: event type 0 (error status), the information code, log page 01h.
    fn dw0(self) -> u32 {
        let info = match self {
            AsyncEvent::InvalidDoorbellRegister => 0x00,
            AsyncEvent::InvalidDoorbellValue => 0x01,
        };
        u32::from(LID_ERROR_INFORMATION) << 16 | info << 8
    }
}

/// Admin-side state: features, held requests, logs and counters.
#[derive(Debug)]
pub(crate) struct AdminState {
    /// Number of Queues granted (I/O SQs, I/O CQs).
    queues_granted: (u16, u16),
    held_async_requests: VecDeque<u16>,
    pending_events: VecDeque<AsyncEvent>,
    async_limit: usize,
    error_log: VecDeque<ErrorInformationEntry>,
    error_log_capacity: usize,
    error_count: u64,
    smart: SmartLog,
    /// Bytes read and written by the host, for data units (thousands of 512-byte units).
    bytes_read: u64,
    bytes_written: u64,
}

impl AdminState {
    pub fn new(config: &ControllerConfig) -> Self {
        let mut smart = SmartLog::new_zeroed();
        smart.composite_temperature.set(313);
        smart.available_spare = 100;
        smart.available_spare_threshold = 10;
        smart.set_counter(SmartCounter::PowerCycles, 1);
        AdminState {
            queues_granted: (config.max_io_queues, config.max_io_queues),
            held_async_requests: VecDeque::new(),
            pending_events: VecDeque::new(),
            async_limit: usize::from(config.async_event_limit),
            error_log: VecDeque::new(),
            error_log_capacity: usize::from(config.error_log_entries),
            error_count: 0,
            smart,
            bytes_read: 0,
            bytes_written: 0,
        }
    }

    /// A controller reset drops held requests, events and the Number of Queues setting.
    pub fn reset(&mut self, config: &ControllerConfig) {
        self.held_async_requests.clear();
        self.pending_events.clear();
        self.queues_granted = (config.max_io_queues, config.max_io_queues);
    }

    pub fn queue_event(&mut self, event: AsyncEvent) {
        self.pending_events.push_back(event);
    }

    /// Whether [`next_async_completion`](Self::next_async_completion) has something to return.
    pub fn async_completion_ready(&self) -> bool {
        !self.held_async_requests.is_empty() && !self.pending_events.is_empty()
    }

    /// A held request to complete with a pending event: (CID, DW0).
    pub fn next_async_completion(&mut self) -> Option<(u16, u32)> {
        if self.held_async_requests.is_empty() {
            return None;
        }
        let event = self.pending_events.pop_front()?;
        let cid = self.held_async_requests.pop_front()?;
        Some((cid, event.dw0()))
    }

    pub fn log_error(&mut self, sqid: u16, sqe: &SubmissionEntry, status: Status) {
        self.error_count = self.error_count.saturating_add(1);
        let mut entry = ErrorInformationEntry::new_zeroed();
        entry.error_count.set(self.error_count);
        entry.sqid.set(sqid);
        entry.cid.set(sqe.cid());
        entry.status_field.set(status.raw() << 1);
        entry.parameter_error_location.set(0xffff);
        entry.namespace.set(sqe.nsid());
        self.error_log.push_front(entry);
        self.error_log.truncate(self.error_log_capacity);
    }

    pub fn count_io(&mut self, write: bool, bytes: u64) {
        let (counter, total) = if write {
            (SmartCounter::HostWriteCommands, &mut self.bytes_written)
        } else {
            (SmartCounter::HostReadCommands, &mut self.bytes_read)
        };
        *total = total.saturating_add(bytes);
        let commands = self.smart.counter(counter).saturating_add(1);
        self.smart.set_counter(counter, commands);
    }

    pub fn smart(&self) -> SmartLog {
        let mut smart = self.smart;
        // Data units: thousands of 512-byte units, rounded up.
        let units = |bytes: u64| u128::from(bytes.div_ceil(512).div_ceil(1000));
        smart.set_counter(SmartCounter::DataUnitsRead, units(self.bytes_read));
        smart.set_counter(SmartCounter::DataUnitsWritten, units(self.bytes_written));
        smart.set_counter(SmartCounter::ErrorLogEntries, u128::from(self.error_count));
        smart
    }

    fn error_log_bytes(&self) -> Vec<u8> {
        let mut bytes = alloc::vec![0u8; self.error_log_capacity.saturating_mul(64)];
        for (slot, entry) in bytes.chunks_exact_mut(64).zip(&self.error_log) {
            slot.copy_from_slice(entry.as_bytes());
        }
        bytes
    }
}

/// The fields both queue creation commands have.
struct QueueFields {
    qid: u16,
    size: QueueSize,
    contiguous: bool,
}

impl From<CreateIoCq> for QueueFields {
    fn from(c: CreateIoCq) -> Self {
        QueueFields {
            qid: c.qid,
            size: c.size,
            contiguous: c.contiguous,
        }
    }
}

impl From<CreateIoSq> for QueueFields {
    fn from(c: CreateIoSq) -> Self {
        QueueFields {
            qid: c.qid,
            size: c.size,
            contiguous: c.contiguous,
        }
    }
}

impl<M: DmaMemory + ?Sized> Engine<'_, '_, M> {
    pub(crate) fn admin_command(&mut self, sqe: &SubmissionEntry) -> Outcome {
        let result = match sqe.opcode() {
            Opcode::ADMIN_IDENTIFY => self.identify(sqe),
            Opcode::ADMIN_CREATE_IO_CQ => self.create_cq(sqe),
            Opcode::ADMIN_CREATE_IO_SQ => self.create_sq(sqe),
            Opcode::ADMIN_DELETE_IO_SQ => self.delete_sq(sqe),
            Opcode::ADMIN_DELETE_IO_CQ => self.delete_cq(sqe),
            Opcode::ADMIN_SET_FEATURES => self.set_features(sqe),
            Opcode::ADMIN_GET_FEATURES => self.get_features(sqe),
            Opcode::ADMIN_GET_LOG_PAGE => self.get_log_page(sqe),
            // Commands complete during the doorbell write that submits them, so none is
            // ever outstanding to abort: DW0 bit 0 set means "not aborted".
            Opcode::ADMIN_ABORT => Ok(1),
            Opcode::ADMIN_ASYNC_EVENT_REQUEST => {
                if self.admin.held_async_requests.len() >= self.admin.async_limit {
                    Err(fail(ASYNC_LIMIT_EXCEEDED))
                } else {
                    self.admin.held_async_requests.push_back(sqe.cid());
                    return Outcome::Held;
                }
            }
            _ => Err(fail(Status::INVALID_OPCODE)),
        };
        Outcome::from_result(result)
    }

    /// Walk the command's data pointer as a controller-to-host transfer of `bytes.len()`
    /// bytes, then send them.
    fn send_to_host(&mut self, sqe: &SubmissionEntry, bytes: &[u8]) -> Result<u32, Status> {
        self.send_padded(sqe, bytes, bytes.len() as u64)
    }

    /// As [`Self::send_to_host`], for a transfer of `total` bytes: `bytes`, then zeros.
    fn send_padded(
        &mut self,
        sqe: &SubmissionEntry,
        bytes: &[u8],
        total: u64,
    ) -> Result<u32, Status> {
        self.gather(sqe, QueueKind::Admin, Direction::Read, (total, 0))?;
        datapath::send(self.port, bytes, total, &self.scratch.data)?;
        Ok(0)
    }

    /// NN: the highest valid namespace identifier.
    pub(crate) fn namespace_ids(&self) -> u32 {
        let active = u32::try_from(self.namespaces.len()).unwrap_or(u32::MAX);
        self.config.namespace_ids.unwrap_or(active).max(active)
    }

    /// Whether the controller's profile makes `deviation`.
    fn has(&self, deviation: Deviation) -> bool {
        self.config.profile.has(deviation)
    }

    fn identify(&mut self, sqe: &SubmissionEntry) -> Result<u32, Status> {
        let Identify { cns, nsid, .. } = Identify::from_sqe(sqe);
        let data: Vec<u8> = match cns {
            CNS_NAMESPACE => match self.namespace(nsid) {
                Some(ns) => ns.identify().as_bytes().to_vec(),
                // An inactive namespace identifier: a zero-filled data structure (the
                // exception 3.2.1.5 allows for).
                None if (1..=self.namespace_ids()).contains(&nsid) => alloc::vec![0u8; 4096],
                None => return Err(fail(Status::INVALID_NAMESPACE_OR_FORMAT)),
            },
            CNS_CONTROLLER => self.identify_controller().as_bytes().to_vec(),
            CNS_NAMESPACE_DESCRIPTORS => {
                self.active_namespace(nsid)?;
                if self.has(Deviation::NamespaceDescriptorsWithoutIdentifier) {
                    command_set_descriptor()
                } else {
                    namespace_descriptors(self.config.serial, nsid)
                }
            }
            CNS_ACTIVE_NAMESPACE_LIST => {
                if nsid >= 0xffff_fffe {
                    return Err(fail(Status::INVALID_NAMESPACE_OR_FORMAT));
                }
                let mut list = alloc::vec![0u8; 4096];
                let count = u32::try_from(self.namespaces.len()).unwrap_or(u32::MAX);
                let active = (1..=count).filter(|&id| id > nsid);
                for (slot, id) in list.chunks_exact_mut(4).zip(active) {
                    slot.copy_from_slice(&id.to_le_bytes());
                }
                list
            }
            _ => return Err(fail(Status::INVALID_FIELD)),
        };
        self.send_to_host(sqe, &data)
    }

    fn identify_controller(&self) -> IdentifyController {
        let config = self.config;
        let mut id = IdentifyController::default();
        let pad = |dst: &mut [u8], src: &str| {
            dst.fill(b' ');
            for (d, s) in dst.iter_mut().zip(src.bytes()) {
                *d = s;
            }
        };
        pad(&mut id.sn, config.serial);
        pad(&mut id.mn, config.model);
        id.fr = firmware_revision();
        id.mdts = config.mdts;
        id.cntlid.set(1);
        id.ver.set(config.version.raw());
        id.acl = 3;
        id.frmw = FRMW_ONE_READ_ONLY_SLOT;
        id.aerl = config.async_event_limit.saturating_sub(1);
        // LPA bit 2: extended data (NUMDU and the offset) for Get Log Page.
        id.lpa = 1 << 2;
        id.elpe = config.error_log_entries.saturating_sub(1);
        id.sqes = 0x66;
        id.cqes = 0x44;
        id.nn.set(self.namespace_ids());
        // ONCS: Compare (bit 0), Dataset Management (bit 2), Write Zeroes (bit 3).
        id.oncs.set(0b1101);
        id.sgls.set(config.sgls.bits());
        id
    }

    pub(crate) fn namespace(&self, nsid: u32) -> Option<&super::Namespace> {
        self.namespaces
            .get(usize::try_from(nsid.checked_sub(1)?).ok()?)
    }

    /// The active namespace `nsid`, or the status for a command naming another: Invalid
    /// Field in Command for an inactive identifier (1 to NN), Invalid Namespace or Format for
    /// an invalid one (Base 2.1, 3.2.1.5 NSID and Namespace Relationships).
    pub(crate) fn active_namespace(&self, nsid: u32) -> Result<&super::Namespace, Status> {
        match self.namespace(nsid) {
            Some(ns) => Ok(ns),
            None if (1..=self.namespace_ids()).contains(&nsid) => Err(fail(Status::INVALID_FIELD)),
            None => Err(fail(Status::INVALID_NAMESPACE_OR_FORMAT)),
        }
    }

    /// The checks queue creation shares: id, size, contiguity, the base address and its
    /// memory. Returns where the queue lives.
    fn new_queue_memory(
        &mut self,
        sqe: &SubmissionEntry,
        f: &QueueFields,
        entry_bytes: u64,
        existing: bool,
        granted: u16,
    ) -> Result<QueueMemory, Status> {
        if f.qid == 0 || f.qid > granted || existing {
            return Err(fail(Status::INVALID_QUEUE_IDENTIFIER));
        }
        if f.size.get() < 2 || f.size.get() > self.config.max_queue_entries {
            return Err(fail(Status::INVALID_QUEUE_SIZE));
        }
        if !f.contiguous && self.config.contiguous_queues_required {
            return Err(fail(Status::INVALID_FIELD));
        }
        let page = self.page_bytes();
        let base = sqe.prp1();
        if !self.rules.page_size.is_aligned(base) {
            return Err(fail(Status::PRP_OFFSET_INVALID));
        }
        let bytes = u64::from(f.size.get()).saturating_mul(entry_bytes);
        let cmb_allowed = |caps: crate::spec::CmbSz| {
            if entry_bytes == SQE_BYTES {
                caps.sqs()
            } else {
                caps.cqs()
            }
        };
        let probe = |port: &super::DmaPort<'_, M>, addr: u64, len: u64| -> Result<(), Status> {
            match port.probe(DmaPurpose::QueueListFetch, addr, len) {
                Err(_) => Err(fail(Status::DATA_TRANSFER_ERROR)),
                Ok(true) if !port.cmb_caps().is_some_and(cmb_allowed) => {
                    Err(fail(Status::INVALID_USE_OF_CMB))
                }
                Ok(_) => Ok(()),
            }
        };
        if f.contiguous {
            probe(self.port, base, bytes)?;
            return Ok(QueueMemory::Contiguous(base));
        }
        // PC = 0: PRP1 points at a PRP list naming every page of the queue; a list that
        // fills its page continues from the page its last entry names.
        let count = bytes.div_ceil(page);
        let per_page = page / 8;
        let mut pages = Vec::new();
        let mut slot = base;
        let mut in_page = 0u64;
        while (pages.len() as u64) < count {
            let mut entry = [0u8; 8];
            self.port
                .read(DmaPurpose::QueueListFetch, slot, &mut entry)
                .map_err(|_| fail(Status::DATA_TRANSFER_ERROR))?;
            let value = u64::from_le_bytes(entry);
            if !self.rules.page_size.is_aligned(value) {
                return Err(fail(Status::PRP_OFFSET_INVALID));
            }
            let remaining = count.saturating_sub(pages.len() as u64);
            if in_page.saturating_add(1) == per_page && remaining > 1 {
                slot = value;
                in_page = 0;
                continue;
            }
            probe(self.port, value, page)?;
            pages.push(value);
            slot = slot.saturating_add(8);
            in_page = in_page.saturating_add(1);
        }
        Ok(QueueMemory::Pages(pages))
    }

    fn create_cq(&mut self, sqe: &SubmissionEntry) -> Result<u32, Status> {
        let create = CreateIoCq::from_sqe(sqe);
        let f = QueueFields::from(create);
        let exists = self.queues.cq(f.qid).is_some();
        let granted = self.admin.queues_granted.1;
        if self.regs.cc.iocqes() != 4 {
            return Err(fail(Status::INVALID_FIELD));
        }
        if create.interrupts && create.vector >= self.config.interrupt_vectors {
            return Err(fail(Status::INVALID_INTERRUPT_VECTOR));
        }
        let memory = self.new_queue_memory(sqe, &f, CQE_BYTES, exists, granted)?;
        let size = u16::try_from(f.size.get()).map_err(|_| fail(Status::INVALID_QUEUE_SIZE))?;
        if let Some(slot) = self.queues.cqs.get_mut(usize::from(f.qid)) {
            *slot = Some(CompletionQueue::new(memory, size));
        }
        Ok(0)
    }

    fn create_sq(&mut self, sqe: &SubmissionEntry) -> Result<u32, Status> {
        let create = CreateIoSq::from_sqe(sqe);
        let f = QueueFields::from(create);
        let cqid = create.cqid;
        let exists = self.queues.sq(f.qid).is_some();
        let granted = self.admin.queues_granted.0;
        if self.regs.cc.iosqes() != 6 {
            return Err(fail(Status::INVALID_FIELD));
        }
        let cq_missing = cqid == 0 || self.queues.cq(cqid).is_none();
        let sq_valid = f.qid != 0 && f.qid <= granted && !exists;
        if cq_missing && (sq_valid || self.has(Deviation::CompletionQueueCheckedFirst)) {
            return Err(fail(Status::COMPLETION_QUEUE_INVALID));
        }
        let memory = self.new_queue_memory(sqe, &f, SQE_BYTES, exists, granted)?;
        let size = u16::try_from(f.size.get()).map_err(|_| fail(Status::INVALID_QUEUE_SIZE))?;
        if let Some(slot) = self.queues.sqs.get_mut(usize::from(f.qid)) {
            *slot = Some(SubmissionQueue {
                memory,
                size,
                head: 0,
                tail: 0,
                cqid,
            });
        }
        Ok(0)
    }

    fn delete_sq(&mut self, sqe: &SubmissionEntry) -> Result<u32, Status> {
        let DeleteIoQueue { qid } = DeleteIoQueue::from_sqe(sqe);
        match self.queues.sqs.get_mut(usize::from(qid)) {
            Some(slot @ Some(_)) if qid != 0 => {
                *slot = None;
                Ok(0)
            }
            _ => Err(fail(Status::INVALID_QUEUE_IDENTIFIER)),
        }
    }

    fn delete_cq(&mut self, sqe: &SubmissionEntry) -> Result<u32, Status> {
        let DeleteIoQueue { qid } = DeleteIoQueue::from_sqe(sqe);
        if qid == 0 || self.queues.cq(qid).is_none() {
            return Err(fail(
                if self.has(Deviation::DeleteCqAnswersCompletionQueueInvalid) {
                    Status::COMPLETION_QUEUE_INVALID
                } else {
                    Status::INVALID_QUEUE_IDENTIFIER
                },
            ));
        }
        if self.queues.sqs.iter().flatten().any(|sq| sq.cqid == qid) {
            let dnr = !self.has(Deviation::InvalidQueueDeletionWithoutDnr);
            return Err(Status::INVALID_QUEUE_DELETION.with_dnr(dnr));
        }
        if let Some(slot) = self.queues.cqs.get_mut(usize::from(qid)) {
            *slot = None;
        }
        Ok(0)
    }

    fn set_features(&mut self, sqe: &SubmissionEntry) -> Result<u32, Status> {
        let set = SetFeatures::from_sqe(sqe);
        if set.save {
            return Err(fail(NOT_SAVEABLE));
        }
        match set.fid {
            FID_NUMBER_OF_QUEUES => {
                let requested = NumberOfQueues::from_sqe(sqe);
                // 65,536 queues (FFFFh zero-based) may not be asked for.
                if [requested.submission, requested.completion]
                    .iter()
                    .any(|n| n.get() == QueueCount::MAX)
                {
                    return Err(fail(Status::INVALID_FIELD));
                }
                if self.queues.io_queues_exist() {
                    return Err(fail(COMMAND_SEQUENCE_ERROR));
                }
                let max = u32::from(self.config.max_io_queues);
                let everything = self.has(Deviation::QueuesAllocatedBeyondRequest);
                let grant = |requested: QueueCount| {
                    let n = if everything {
                        max
                    } else {
                        requested.get().min(max)
                    };
                    u16::try_from(n).unwrap_or(u16::MAX)
                };
                self.admin.queues_granted =
                    (grant(requested.submission), grant(requested.completion));
                Ok(self.queues_dw0())
            }
            _ => Err(fail(Status::INVALID_FIELD)),
        }
    }

    fn get_features(&mut self, sqe: &SubmissionEntry) -> Result<u32, Status> {
        match GetFeatures::from_sqe(sqe).fid {
            FID_NUMBER_OF_QUEUES => Ok(self.queues_dw0()),
            _ => Err(fail(Status::INVALID_FIELD)),
        }
    }

    /// Number of Queues DW0: NSQA and NCQA, what was granted.
    fn queues_dw0(&self) -> u32 {
        let (sq, cq) = self.admin.queues_granted;
        let granted = |n: u16| QueueCount::from_zero_based(n.saturating_sub(1));
        NumberOfQueues {
            submission: granted(sq),
            completion: granted(cq),
        }
        .to_dw0()
    }

    fn get_log_page(&mut self, sqe: &SubmissionEntry) -> Result<u32, Status> {
        let req = LogPageRequest::from_sqe(sqe);
        let page: Vec<u8> = match req.lid {
            LID_ERROR_INFORMATION => self.admin.error_log_bytes(),
            LID_FIRMWARE_SLOT => {
                firmware_slot_log(if self.has(Deviation::FirmwareSlotRevisionNotFr) {
                    *b"1.0     "
                } else {
                    firmware_revision()
                })
            }
            LID_SMART => {
                // Controller-wide only: NSID 0 or FFFFFFFFh (LPA bit 0 is clear).
                if sqe.nsid() != 0 && sqe.nsid() != u32::MAX {
                    return Err(fail(Status::INVALID_FIELD));
                }
                self.admin.smart().as_bytes().to_vec()
            }
            _ => return Err(fail(Status::INVALID_FIELD)),
        };
        let size = page.len() as u64;
        let past_end = if self.has(Deviation::LogOffsetAtPageEndRefused) {
            req.offset >= size
        } else {
            req.offset > size
        };
        if req.offset % 4 != 0 || past_end {
            return Err(fail(Status::INVALID_FIELD));
        }
        if !self.rules.max_transfer.allows(req.len) {
            return Err(fail(Status::INVALID_FIELD));
        }
        // The whole requested length is transferred; bytes past the end of the page are
        // zeros (the specification leaves them undefined).
        let start = usize::try_from(req.offset).unwrap_or(usize::MAX);
        let rest = page.get(start..).unwrap_or_default();
        let rest = rest
            .get(..usize::try_from(req.len).unwrap_or(usize::MAX))
            .unwrap_or(rest);
        let total = if self.has(Deviation::LogDataStopsAtPageEnd) {
            rest.len() as u64
        } else {
            req.len
        };
        self.send_padded(sqe, rest, total)
    }
}

/// The firmware revision (Identify Controller FR, and slot 1 of the firmware slot log): the
/// crate's version, space padded to 8 bytes.
fn firmware_revision() -> [u8; 8] {
    let mut fr = [b' '; 8];
    for (d, s) in fr.iter_mut().zip(env!("CARGO_PKG_VERSION").bytes()) {
        *d = s;
    }
    fr
}

/// The Firmware Slot Information log page (512 bytes): AFI names slot 1 as the active slot
/// (bits 2:0) with no activation pending; FRS1 (bytes 15:8) holds `revision`, the running
/// one, which is the FR Identify Controller reports.
fn firmware_slot_log(revision: [u8; 8]) -> Vec<u8> {
    let mut page = alloc::vec![0u8; 512];
    if let Some(afi) = page.first_mut() {
        *afi = 1;
    }
    if let Some(frs1) = page.get_mut(8..16) {
        frs1.copy_from_slice(&revision);
    }
    page
}

/// A Namespace Identification Descriptor list holding only a Command Set Identifier
/// descriptor (NIDT 4h, NIDL 1) for the NVM command set (CSI 0).
fn command_set_descriptor() -> Vec<u8> {
    let mut list = alloc::vec![0u8; 4096];
    if let Some(header) = list.get_mut(..4) {
        header.copy_from_slice(&[4, 1, 0, 0]);
    }
    list
}

/// The Namespace Identification Descriptor list of namespace `nsid` (4096 bytes): one UUID
/// descriptor (NIDT 3h, NIDL 16), then zeros, which end the list. A namespace must keep its
/// identifier while it exists, so the UUID is a function of the serial number and the NSID
/// (an FNV-1a hash of both), with the RFC 4122 variant and version 4 bits set.
fn namespace_descriptors(serial: &str, nsid: u32) -> Vec<u8> {
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for byte in serial.bytes().chain(nsid.to_le_bytes()) {
        hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut uuid = [0u8; 16];
    let (high, low) = uuid.split_at_mut(8);
    high.copy_from_slice(&hash.to_be_bytes());
    low.copy_from_slice(&(hash.rotate_left(29) ^ u64::from(nsid)).to_be_bytes());
    if let Some(version) = uuid.get_mut(6) {
        *version = *version & 0x0f | 0x40;
    }
    if let Some(variant) = uuid.get_mut(8) {
        *variant = *variant & 0x3f | 0x80;
    }
    let mut list = alloc::vec![0u8; 4096];
    if let Some(header) = list.get_mut(..4) {
        header.copy_from_slice(&[3, 16, 0, 0]);
    }
    if let Some(body) = list.get_mut(4..20) {
        body.copy_from_slice(&uuid);
    }
    list
}
