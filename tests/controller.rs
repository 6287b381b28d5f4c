//! The mock controller, one test per behaviour and status path: bring-up, admin commands,
//! NVM commands, data pointers, the CMB, self-protection, doorbells and the DMA trace.

use nvme_dma_testkit::guest::dnr;
use nvme_dma_testkit::rig;

use nvme_dma::bus::RegisterAccess;
use nvme_dma::controller::{
    CmbConfig, ControllerConfig, ControllerEvent, DmaPurpose, DmaTarget, NamespaceConfig, PcieLink,
};
use nvme_dma::dptr::SglPolicy;
use nvme_dma::spec::features::FID_NUMBER_OF_QUEUES;
use nvme_dma::spec::identify::{CNS_ACTIVE_NAMESPACE_LIST, CNS_CONTROLLER, CNS_NAMESPACE};
use nvme_dma::spec::log::{
    ErrorInformationEntry, LogPageRequest, SmartCounter, SmartLog, LID_ERROR_INFORMATION, LID_SMART,
};
use nvme_dma::spec::registers::{cq_head_doorbell, offset, sq_tail_doorbell};
use nvme_dma::spec::{
    Abort, BlockRange, Cap, Cc, CreateIoCq, CreateIoSq, Csts, DatasetManagement, DsmRange,
    DsmRangeCount, GetFeatures, Identify, IdentifyController, IdentifyNamespace, NumberOfQueues,
    Opcode, Psdt, QueueCount, SetFeatures, SglDescriptor, SglDescriptorType as SglType, SglSubtype,
    Status, StatusCodeType, SubmissionEntry, Vs, WriteZeroes,
};
use nvme_dma::Extent;
use nvme_dma_testkit::pattern::pattern;
use rig::{
    create_cq, create_cq_with, create_sq, create_sq_with, delete_queue, queue_size, Rig, DATA,
};
use zerocopy::{FromBytes, IntoBytes};

fn identify(rig: &mut Rig, cns: u8, nsid: u32, buf: u64) -> Status {
    rig.admin(identify_sqe(cns, nsid).with_prp1(buf))
}

/// Identify CNS `cns` about `nsid`, no data pointer yet.
fn identify_sqe(cns: u8, nsid: u32) -> SubmissionEntry {
    let mut sqe = SubmissionEntry::new(Opcode::ADMIN_IDENTIFY, 0);
    Identify::namespace(cns, nsid).write_to(&mut sqe);
    sqe
}

/// A Dataset Management command on namespace 1 over the ranges at `at`.
fn dsm_sqe(dsm: DatasetManagement, at: u64) -> SubmissionEntry {
    let mut sqe = SubmissionEntry::new(Opcode::NVM_DATASET_MANAGEMENT, 0)
        .with_nsid(1)
        .with_prp1(at);
    dsm.write_to(&mut sqe);
    sqe
}

fn get_log(rig: &mut Rig, lid: u8, len: u64, offset: u64, buf: u64) -> Status {
    let mut sqe = SubmissionEntry::new(Opcode::ADMIN_GET_LOG_PAGE, 0).with_prp1(buf);
    LogPageRequest { lid, len, offset }
        .write_to(&mut sqe)
        .unwrap();
    rig.admin(sqe)
}

fn rig_with_io() -> Rig {
    let mut rig = Rig::new(ControllerConfig::default());
    rig.create_io_pair(1, 64);
    rig
}

/// Whether blocks `slba .. slba + nlb` of namespace 1 hold only zeros (nothing was stored).
fn blocks_are_zero(rig: &Rig, slba: u64, nlb: u64) -> bool {
    let data = rig.m.controller.namespace_data(1, slba, nlb).unwrap();
    data.iter().all(|&b| b == 0)
}

/// Write a PRP list (little-endian 8-byte entries) into host memory at `at`.
fn poke_list(rig: &mut Rig, at: u64, entries: &[u64]) {
    let bytes: Vec<u8> = entries.iter().flat_map(|e| e.to_le_bytes()).collect();
    rig.poke(at, &bytes);
}

// ---- bring-up and registers ----

#[test]
fn registers_report_the_configuration() {
    let config = ControllerConfig {
        doorbell_stride: 2,
        max_queue_entries: 256,
        contiguous_queues_required: true,
        ..ControllerConfig::default()
    };
    let mut rig = Rig::new(config);
    let cap = Cap(rig.m.read64(offset::CAP).unwrap());
    assert_eq!(cap.max_queue_entries(), 256);
    assert!(cap.cqr());
    assert_eq!(cap.dstrd(), 2);
    assert_eq!((cap.mpsmin(), cap.mpsmax()), (0, 4));
    assert_eq!(cap.css() & 1, 1);
    assert_eq!(Vs(rig.m.read32(offset::VS).unwrap()), Vs::V1_4);
    assert!(Csts::from_bits_retain(rig.m.read32(offset::CSTS).unwrap()).contains(Csts::RDY));
    // Doorbells at stride 16 work: an admin command completes.
    assert!(identify(&mut rig, CNS_CONTROLLER, 0, DATA).is_success());
}

#[test]
fn enable_with_a_page_size_outside_the_range_sets_cfs_and_stays_not_ready() {
    let config = ControllerConfig {
        mps_max: 1,
        ..ControllerConfig::default()
    };
    let mut rig = Rig::new(config);
    // Disable, then enable with MPS = 2 (16 KiB) which CAP.MPSMAX = 1 forbids.
    rig.m.write32(offset::CC, 0).unwrap();
    assert!(!rig.m.controller.is_ready());
    let cc = Cc::new()
        .with_en(true)
        .with_mps(2)
        .with_iosqes(6)
        .with_iocqes(4);
    rig.m.write32(offset::CC, cc.raw()).unwrap();
    let csts = Csts::from_bits_retain(rig.m.read32(offset::CSTS).unwrap());
    assert!(!csts.contains(Csts::RDY) && csts.contains(Csts::CFS));
    assert!(matches!(
        rig.m.controller.events().last(),
        Some(ControllerEvent::EnableRefused(_))
    ));
}

#[test]
fn enable_refuses_misaligned_admin_queues() {
    let mut rig = Rig::new(ControllerConfig::default());
    rig.m.write32(offset::CC, 0).unwrap();
    rig.m.write64(offset::ASQ, 0x10_0800).unwrap();
    rig.m
        .write32(offset::CC, Cc::new().with_en(true).raw())
        .unwrap();
    assert!(!rig.m.controller.is_ready());
}

#[test]
fn disable_resets_queues_and_a_larger_page_size_works_after_re_enable() {
    let mut rig = rig_with_io();
    rig.m.write32(offset::CC, 0).unwrap();
    assert!(!rig.m.controller.is_ready());
    // A fresh bring-up with 8 KiB pages: the old I/O queue 1 is gone, so it can be created again.
    let mut rig = Rig::with_mps(ControllerConfig::default(), 1);
    rig.create_io_pair(1, 16);
    let data = pattern(1, 16 * 1024);
    rig.poke(DATA + 0x1000, &data);
    let ext = [Extent::new(DATA + 0x1000, 16 * 1024)];
    let c = rig.io(1, Opcode::NVM_WRITE, (1, 0, 32), &ext, SglPolicy::Never);
    assert!(c.status().is_success());
    assert_eq!(rig.m.controller.namespace_data(1, 0, 32).unwrap(), data);
}

// ---- Identify ----

#[test]
fn identify_controller_names_limits_and_capabilities() {
    let mut rig = Rig::new(ControllerConfig::default());
    assert!(identify(&mut rig, CNS_CONTROLLER, 0, DATA).is_success());
    let id = IdentifyController::read_from_bytes(&rig.peek(DATA, 4096)).unwrap();
    let config = rig.m.controller.config().clone();
    assert_eq!(id.mdts, config.mdts);
    assert_eq!(id.sgls(), config.sgls);
    assert_eq!((id.sqes, id.cqes), (0x66, 0x44));
    assert_eq!(id.nn.get(), 1);
    assert_eq!(id.serial_str(), Some(config.serial));
    assert_eq!(id.model_str(), Some(config.model));
    assert_eq!(id.version(), Vs::V1_4);
}

#[test]
fn identify_namespace_reports_size_use_and_format() {
    let config = ControllerConfig {
        namespaces: vec![
            NamespaceConfig::new(1000, 512),
            NamespaceConfig::new(64, 4096).with_metadata(16, true),
        ],
        ..ControllerConfig::default()
    };
    let mut rig = Rig::new(config);
    rig.create_io_pair(1, 8);
    let data = pattern(2, 8192);
    rig.poke(DATA, &data);
    let c = rig.io(
        1,
        Opcode::NVM_WRITE,
        (1, 10, 16),
        &[Extent::new(DATA, 8192)],
        SglPolicy::Never,
    );
    assert!(c.status().is_success());
    assert!(identify(&mut rig, CNS_NAMESPACE, 1, DATA).is_success());
    let id = IdentifyNamespace::read_from_bytes(&rig.peek(DATA, 4096)).unwrap();
    assert_eq!(
        (id.nsze.get(), id.ncap.get(), id.nuse.get()),
        (1000, 1000, 16)
    );
    assert_eq!(id.current_lba_format().unwrap().lba_size_bytes(), Some(512));
    assert!(identify(&mut rig, CNS_NAMESPACE, 2, DATA).is_success());
    let id = IdentifyNamespace::read_from_bytes(&rig.peek(DATA, 4096)).unwrap();
    let format = id.current_lba_format().unwrap();
    assert_eq!(
        (format.lba_size_bytes(), format.metadata_size()),
        (Some(4096), 16)
    );
    assert!(id.metadata_extended());
    assert_eq!(id.nuse.get(), 0);
}

#[test]
fn identify_active_namespace_list_and_invalid_namespaces() {
    let config = ControllerConfig {
        namespaces: vec![NamespaceConfig::new(8, 512); 3],
        ..ControllerConfig::default()
    };
    let mut rig = Rig::new(config);
    assert!(identify(&mut rig, CNS_ACTIVE_NAMESPACE_LIST, 1, DATA).is_success());
    let list = rig.peek(DATA, 16);
    assert_eq!(list, [2, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    let invalid = dnr(Status::INVALID_NAMESPACE_OR_FORMAT);
    assert_eq!(identify(&mut rig, CNS_NAMESPACE, 0, DATA), invalid);
    assert_eq!(identify(&mut rig, CNS_NAMESPACE, 4, DATA), invalid);
    assert_eq!(
        identify(&mut rig, CNS_ACTIVE_NAMESPACE_LIST, 0xffff_fffe, DATA),
        invalid
    );
    assert_eq!(
        identify(&mut rig, 0x7f, 0, DATA),
        dnr(Status::INVALID_FIELD)
    );
}

#[test]
fn identify_with_an_sgl_on_the_admin_queue_is_invalid_field() {
    let mut rig = Rig::new(ControllerConfig::default());
    let sqe = identify_sqe(CNS_CONTROLLER, 0)
        .with_prp1(DATA)
        .with_psdt(Psdt::Sgl);
    assert_eq!(rig.admin(sqe), dnr(Status::INVALID_FIELD));
    rig.poke(DATA, &[0xee; 16]);
    assert_eq!(
        rig.peek(DATA, 16),
        [0xee; 16],
        "a failed Identify wrote memory"
    );
}

/// PSDT is part of CDW0 for every command, so a command that moves no data is held to it
/// too: 11b is reserved on any queue, and admin commands over PCIe use PRPs only (Base 2.2,
/// 4.1.1, Figure 91). Each is Invalid Field in Command, with DNR, and the command has no
/// effect.
#[test]
fn psdt_is_checked_on_commands_that_move_no_data() {
    let mut rig = Rig::new(ControllerConfig::default());
    rig.create_io_pair(1, 16);
    let flush = |psdt| {
        SubmissionEntry::new(Opcode::NVM_FLUSH, 0)
            .with_nsid(1)
            .with_psdt(psdt)
    };
    assert!(rig.exec(1, flush(Psdt::Prp)).status().is_success());
    // The default controller supports SGLs: PSDT 01b on a Flush is a valid value.
    assert!(rig.exec(1, flush(Psdt::Sgl)).status().is_success());
    assert_eq!(
        rig.exec(1, flush(Psdt::Reserved)).status(),
        dnr(Status::INVALID_FIELD)
    );
    let get_queues = |psdt| {
        let mut sqe = SubmissionEntry::new(Opcode::ADMIN_GET_FEATURES, 0).with_psdt(psdt);
        GetFeatures {
            fid: FID_NUMBER_OF_QUEUES,
        }
        .write_to(&mut sqe);
        sqe
    };
    assert!(rig.exec(0, get_queues(Psdt::Prp)).status().is_success());
    for psdt in [Psdt::Sgl, Psdt::SglMetadataSgl, Psdt::Reserved] {
        let c = rig.exec(0, get_queues(psdt));
        assert_eq!(c.status(), dnr(Status::INVALID_FIELD), "{psdt:?}");
        assert_eq!(
            c.dw0(),
            0,
            "{psdt:?}: a refused Get Features returned a value"
        );
    }
    // A Set Features refused for its PSDT changes nothing: on a controller with no I/O
    // queues yet, the queues it asks for are not granted.
    let mut fresh = Rig::new(ControllerConfig::default());
    let mut set = SubmissionEntry::new(Opcode::ADMIN_SET_FEATURES, 0).with_psdt(Psdt::Reserved);
    SetFeatures {
        fid: FID_NUMBER_OF_QUEUES,
        save: false,
    }
    .write_to(&mut set);
    let four = NumberOfQueues {
        submission: QueueCount::from_zero_based(3),
        completion: QueueCount::from_zero_based(3),
    };
    four.write_to(&mut set);
    let before = fresh.exec(0, get_queues(Psdt::Prp)).dw0();
    assert_ne!(before, four.to_dw0());
    assert_eq!(fresh.admin(set), dnr(Status::INVALID_FIELD));
    assert_eq!(fresh.exec(0, get_queues(Psdt::Prp)).dw0(), before);
    assert!(fresh.admin(set.with_psdt(Psdt::Prp)).is_success());
    assert_eq!(fresh.exec(0, get_queues(Psdt::Prp)).dw0(), four.to_dw0());
    // An Asynchronous Event Request with PSDT 11b completes at once instead of being held.
    let aer = SubmissionEntry::new(Opcode::ADMIN_ASYNC_EVENT_REQUEST, 0).with_psdt(Psdt::Reserved);
    assert_eq!(rig.admin(aer), dnr(Status::INVALID_FIELD));
}

/// Without SGL support PSDT 01b is an unsupported value, on a Flush as on a Read.
#[test]
fn an_sgl_psdt_without_sgl_support_is_refused_on_a_flush() {
    let mut rig = Rig::new(ControllerConfig {
        sgls: nvme_dma::spec::Sgls::from_support(nvme_dma::spec::SglSupport::None),
        ..ControllerConfig::default()
    });
    rig.create_io_pair(1, 16);
    let flush = SubmissionEntry::new(Opcode::NVM_FLUSH, 0)
        .with_nsid(1)
        .with_psdt(Psdt::Sgl);
    assert_eq!(rig.exec(1, flush).status(), dnr(Status::INVALID_FIELD));
}

// ---- queue creation and deletion ----

#[test]
fn create_queue_statuses() {
    let config = ControllerConfig {
        max_queue_entries: 64,
        ..ControllerConfig::default()
    };
    let mut rig = Rig::new(config);
    let base = rig.alloc_queue_mem(0x4000);
    let qid_err = dnr(Status::INVALID_QUEUE_IDENTIFIER);
    let size_err = dnr(Status::INVALID_QUEUE_SIZE);
    assert_eq!(rig.admin(create_cq(0, 16, base)), qid_err);
    assert_eq!(rig.admin(create_cq(65, 16, base)), qid_err);
    assert_eq!(rig.admin(create_cq(1, 1, base)), size_err);
    assert_eq!(rig.admin(create_cq(1, 65, base)), size_err);
    assert_eq!(
        rig.admin(create_cq(1, 16, base + 8)),
        dnr(Status::PRP_OFFSET_INVALID)
    );
    let vector = CreateIoCq {
        interrupts: true,
        vector: 500,
        ..CreateIoCq::polled(1, queue_size(16))
    };
    let vector = create_cq_with(vector, base);
    assert_eq!(rig.admin(vector), dnr(Status::INVALID_INTERRUPT_VECTOR));
    assert!(rig.admin(create_cq(1, 16, base)).is_success());
    assert_eq!(rig.admin(create_cq(1, 16, base)), qid_err, "duplicate CQ");
    let sq_base = rig.alloc_queue_mem(0x4000);
    let cq_invalid = dnr(Status::COMPLETION_QUEUE_INVALID);
    assert_eq!(rig.admin(create_sq(1, 16, sq_base, 2)), cq_invalid);
    assert_eq!(rig.admin(create_sq(1, 16, sq_base, 0)), cq_invalid);
    assert!(rig.admin(create_sq(1, 16, sq_base, 1)).is_success());
    assert_eq!(
        rig.admin(create_sq(1, 16, sq_base, 1)),
        qid_err,
        "duplicate SQ"
    );
}

#[test]
fn queue_in_unmapped_memory_is_refused_at_creation() {
    let mut rig = Rig::new(ControllerConfig::default());
    let s = rig.admin(create_cq(1, 16, 0x4000_0000_0000));
    assert_eq!(s, dnr(Status::DATA_TRANSFER_ERROR));
}

#[test]
fn deleting_a_cq_before_its_sq_is_invalid_queue_deletion() {
    let mut rig = rig_with_io();
    let del_cq = |qid| delete_queue(Opcode::ADMIN_DELETE_IO_CQ, qid);
    let del_sq = |qid| delete_queue(Opcode::ADMIN_DELETE_IO_SQ, qid);
    assert_eq!(rig.admin(del_cq(1)), dnr(Status::INVALID_QUEUE_DELETION));
    assert_eq!(rig.admin(del_sq(2)), dnr(Status::INVALID_QUEUE_IDENTIFIER));
    assert_eq!(rig.admin(del_sq(0)), dnr(Status::INVALID_QUEUE_IDENTIFIER));
    assert!(rig.admin(del_sq(1)).is_success());
    assert!(rig.admin(del_cq(1)).is_success());
    assert_eq!(rig.admin(del_cq(1)), dnr(Status::INVALID_QUEUE_IDENTIFIER));
    assert_eq!(rig.admin(del_cq(0)), dnr(Status::INVALID_QUEUE_IDENTIFIER));
}

#[test]
fn non_contiguous_queues_follow_their_prp_list_and_cqr_forbids_them() {
    let mut rig = Rig::new(ControllerConfig::default());
    // A 128-entry SQ (8 KiB) on two scattered pages named by a PRP list.
    let list = rig.alloc_queue_mem(4096);
    let (p0, p1) = (rig.alloc_queue_mem(4096), rig.alloc_queue_mem(4096));
    let _gap = rig.alloc_queue_mem(4096);
    poke_list(&mut rig, list, &[p1, p0]);
    let cq = rig.alloc_queue_mem(128 * 16);
    assert!(rig.admin(create_cq(1, 128, cq)).is_success());
    let paged = CreateIoSq {
        contiguous: false,
        ..CreateIoSq::contiguous(1, queue_size(128), 1)
    };
    let sq = create_sq_with(paged, list);
    assert!(rig.admin(sq).is_success());
    rig.queues.insert(
        1,
        rig::HostQueue {
            sq_base: 0,
            cq_base: cq,
            size: 128,
            sq_tail: 0,
            cq_head: 0,
            phase: true,
            cqid: 1,
        },
    );
    // Slot 70 lives at p0 + 6 × 64: write a Flush there and ring the doorbell at tail 71.
    for slot in 0..71u64 {
        let sqe = SubmissionEntry::new(Opcode::NVM_FLUSH, slot as u16).with_nsid(1);
        let page = if slot < 64 { p1 } else { p0 };
        rig.poke(page + (slot % 64) * 64, &sqe.to_bytes());
    }
    rig.m.write32(sq_tail_doorbell(1, 0).unwrap(), 71).unwrap();
    let cids: Vec<u16> = std::iter::from_fn(|| rig.reap(1))
        .map(|c| c.cid())
        .collect();
    assert_eq!(cids, (0..71).collect::<Vec<u16>>());

    let mut strict = Rig::new(ControllerConfig {
        contiguous_queues_required: true,
        ..ControllerConfig::default()
    });
    let cq = strict.alloc_queue_mem(4096);
    assert_eq!(
        strict.admin(create_cq_with(
            CreateIoCq {
                contiguous: false,
                ..CreateIoCq::polled(1, queue_size(16))
            },
            cq
        )),
        dnr(Status::INVALID_FIELD)
    );
}

#[test]
fn number_of_queues_is_granted_then_fixed_once_queues_exist() {
    let mut rig = Rig::new(ControllerConfig::default());
    let queues = |nsq: u32, ncq: u32| NumberOfQueues {
        submission: QueueCount::new(nsq).unwrap(),
        completion: QueueCount::new(ncq).unwrap(),
    };
    let set = |nsq: u32, ncq: u32| {
        let mut sqe = SubmissionEntry::new(Opcode::ADMIN_SET_FEATURES, 0);
        SetFeatures {
            fid: FID_NUMBER_OF_QUEUES,
            save: false,
        }
        .write_to(&mut sqe);
        queues(nsq, ncq).write_to(&mut sqe);
        sqe
    };
    let get = |fid| {
        let mut sqe = SubmissionEntry::new(Opcode::ADMIN_GET_FEATURES, 0);
        GetFeatures { fid }.write_to(&mut sqe);
        sqe
    };
    let c = rig.exec(0, set(4, 2));
    assert!(c.status().is_success());
    assert_eq!(NumberOfQueues::from_dw0(c.dw0()), queues(4, 2));
    let c = rig.exec(0, get(FID_NUMBER_OF_QUEUES));
    assert_eq!(NumberOfQueues::from_dw0(c.dw0()), queues(4, 2));
    assert_eq!(rig.admin(set(65_536, 1)), dnr(Status::INVALID_FIELD));
    // Two CQs were granted (NCQA = 1): CQ 3 is beyond them.
    let base = rig.alloc_queue_mem(4096);
    assert_eq!(
        rig.admin(create_cq(3, 16, base)),
        dnr(Status::INVALID_QUEUE_IDENTIFIER)
    );
    rig.create_io_pair(1, 16);
    assert_eq!(
        rig.admin(set(2, 2)),
        dnr(Status::new(StatusCodeType::Generic, 0x0C)),
        "Command Sequence Error once I/O queues exist"
    );
    assert_eq!(rig.admin(get(0x55)), dnr(Status::INVALID_FIELD));
}

// ---- log pages ----

#[test]
fn smart_log_counts_real_io_and_error_log_records_failures() {
    let mut rig = rig_with_io();
    let ext = [Extent::new(DATA, 4096)];
    for _ in 0..3 {
        assert!(rig
            .io(1, Opcode::NVM_WRITE, (1, 0, 8), &ext, SglPolicy::Never)
            .status()
            .is_success());
    }
    assert!(rig
        .io(1, Opcode::NVM_READ, (1, 0, 8), &ext, SglPolicy::Never)
        .status()
        .is_success());
    let bad = rig.io(1, Opcode::NVM_READ, (1, 1 << 40, 8), &ext, SglPolicy::Never);
    assert_eq!(bad.status(), dnr(Status::LBA_OUT_OF_RANGE));
    let buf = DATA + 0x10_0000;
    assert!(get_log(&mut rig, LID_SMART, 512, 0, buf).is_success());
    let smart = SmartLog::read_from_bytes(&rig.peek(buf, 512)).unwrap();
    assert_eq!(smart.counter(SmartCounter::HostWriteCommands), 3);
    assert_eq!(smart.counter(SmartCounter::HostReadCommands), 1);
    // 3 × 4 KiB = 24 units of 512 bytes: one thousand-unit, rounded up.
    assert_eq!(smart.counter(SmartCounter::DataUnitsWritten), 1);
    assert_eq!(smart.counter(SmartCounter::ErrorLogEntries), 1);
    assert!(get_log(&mut rig, LID_ERROR_INFORMATION, 64, 0, buf).is_success());
    let entry = ErrorInformationEntry::read_from_bytes(&rig.peek(buf, 64)).unwrap();
    assert_eq!(entry.error_count.get(), 1);
    assert_eq!(entry.sqid.get(), 1);
    assert_eq!(entry.cid.get(), bad.cid());
    assert_eq!(
        entry.status_field.get() >> 1,
        dnr(Status::LBA_OUT_OF_RANGE).raw()
    );
}

#[test]
fn log_page_offsets_at_and_past_the_end() {
    let mut rig = Rig::new(ControllerConfig::default());
    let buf = DATA;
    // Offset 508 of the 512-byte SMART page, 8 bytes: 4 bytes of the page, then zeros.
    rig.poke(buf, &[0xaa; 8]);
    assert!(get_log(&mut rig, LID_SMART, 8, 508, buf).is_success());
    assert_eq!(rig.peek(buf + 4, 4), [0; 4]);
    // At the end: nothing of the page left, zeros returned.
    assert!(get_log(&mut rig, LID_SMART, 4, 512, buf).is_success());
    // Past the end, misaligned, unknown page, per-namespace SMART.
    assert_eq!(
        get_log(&mut rig, LID_SMART, 4, 516, buf),
        dnr(Status::INVALID_FIELD)
    );
    assert_eq!(
        get_log(&mut rig, LID_SMART, 4, 2, buf),
        dnr(Status::INVALID_FIELD)
    );
    assert_eq!(
        get_log(&mut rig, 0x7e, 4, 0, buf),
        dnr(Status::INVALID_FIELD)
    );
    let mut sqe = SubmissionEntry::new(Opcode::ADMIN_GET_LOG_PAGE, 0)
        .with_prp1(buf)
        .with_nsid(1);
    LogPageRequest {
        lid: LID_SMART,
        len: 512,
        offset: 0,
    }
    .write_to(&mut sqe)
    .unwrap();
    assert_eq!(rig.admin(sqe), dnr(Status::INVALID_FIELD));
    // Beyond MDTS (128 KiB).
    assert_eq!(
        get_log(&mut rig, LID_SMART, 256 * 1024, 0, buf),
        dnr(Status::INVALID_FIELD)
    );
}

#[test]
fn abort_reports_not_aborted_and_unknown_opcodes_are_invalid() {
    let mut rig = rig_with_io();
    let mut abort = SubmissionEntry::new(Opcode::ADMIN_ABORT, 0);
    Abort { sqid: 1, cid: 5 }.write_to(&mut abort);
    let c = rig.exec(0, abort);
    assert!(c.status().is_success());
    assert_eq!(c.dw0() & 1, 1);
    assert_eq!(
        rig.admin(SubmissionEntry::new(Opcode(0x7f), 0)),
        dnr(Status::INVALID_OPCODE)
    );
    assert_eq!(
        rig.exec(1, SubmissionEntry::new(Opcode(0x7f), 0)).status(),
        dnr(Status::INVALID_OPCODE)
    );
}

// ---- NVM commands ----

#[test]
fn write_then_read_round_trips_with_prp_and_sgl_layouts() {
    let mut rig = rig_with_io();
    let data = pattern(3, 3 * 4096);
    // Written from three scattered extents with PRPs (offset first page, list).
    let src = [
        Extent::new(DATA + 0x200, 0xe00),
        Extent::new(DATA + 0x5000, 0x1000),
        Extent::new(DATA + 0x9000, 0x1200),
    ];
    let mut at = 0;
    for e in &src {
        rig.poke(e.addr, &data[at..at + e.len as usize]);
        at += e.len as usize;
    }
    assert!(rig
        .io(1, Opcode::NVM_WRITE, (1, 100, 24), &src, SglPolicy::Never)
        .status()
        .is_success());
    assert_eq!(rig.m.controller.namespace_data(1, 100, 24).unwrap(), data);
    // Read back through an SGL of odd-length pieces.
    let dst = [
        Extent::new(DATA + 0x20_0000, 0x10),
        Extent::new(DATA + 0x30_0004, 0x1ff0),
        Extent::new(DATA + 0x40_0000, 0x1000),
    ];
    let c = rig.io(1, Opcode::NVM_READ, (1, 100, 24), &dst, SglPolicy::Always);
    assert!(c.status().is_success());
    let back: Vec<u8> = dst
        .iter()
        .flat_map(|e| rig.peek(e.addr, e.len as usize))
        .collect();
    assert_eq!(back, data);
}

#[test]
fn write_zeroes_and_deallocate_free_blocks_and_read_as_zeros() {
    let mut rig = rig_with_io();
    let ext = [Extent::new(DATA, 8 * 512)];
    rig.poke(DATA, &pattern(4, 4096));
    assert!(rig
        .io(1, Opcode::NVM_WRITE, (1, 0, 8), &ext, SglPolicy::Never)
        .status()
        .is_success());
    assert!(rig
        .io(1, Opcode::NVM_WRITE, (1, 8, 8), &ext, SglPolicy::Never)
        .status()
        .is_success());
    // Write Zeroes blocks 2..4 (stay allocated), with DEAC blocks 4..6 (freed).
    let wz = Rig::io_sqe(Opcode::NVM_WRITE_ZEROES, 1, 2, 2);
    assert!(rig.exec(1, wz).status().is_success());
    let mut wz = SubmissionEntry::new(Opcode::NVM_WRITE_ZEROES, 0).with_nsid(1);
    WriteZeroes {
        range: BlockRange::new(4, 2).unwrap(),
        deallocate: true,
    }
    .write_to(&mut wz);
    assert!(rig.exec(1, wz).status().is_success());
    let data = rig.m.controller.namespace_data(1, 0, 8).unwrap();
    assert!(data[1024..3072].iter().all(|&b| b == 0));
    assert_eq!(&data[..1024], &pattern(4, 1024)[..]);
    // Dataset Management, deallocate ranges (8, 8): blocks 8..16.
    rig.poke(DATA + 0x8000, DsmRange::new(8, 8).as_bytes());
    let one = DsmRangeCount::new(1).unwrap();
    let dsm = dsm_sqe(DatasetManagement::deallocate(one), DATA + 0x8000);
    assert!(rig.exec(1, dsm).status().is_success());
    assert!(blocks_are_zero(&rig, 8, 8));
    assert!(identify(&mut rig, CNS_NAMESPACE, 1, DATA + 0x10000).is_success());
    let id = IdentifyNamespace::read_from_bytes(&rig.peek(DATA + 0x10000, 4096)).unwrap();
    assert_eq!(
        id.nuse.get(),
        6,
        "16 written, 2 deallocated by Write Zeroes, 8 by DSM"
    );
}

#[test]
fn dataset_management_with_one_bad_range_deallocates_nothing() {
    let mut rig = rig_with_io();
    rig.poke(DATA, &pattern(5, 4096));
    let ext = [Extent::new(DATA, 4096)];
    assert!(rig
        .io(1, Opcode::NVM_WRITE, (1, 0, 8), &ext, SglPolicy::Never)
        .status()
        .is_success());
    let ranges = [DsmRange::new(0, 8), DsmRange::new(1 << 40, 1)];
    rig.poke(DATA + 0x8000, ranges.as_bytes());
    let two = DsmRangeCount::new(2).unwrap();
    let dsm = dsm_sqe(DatasetManagement::deallocate(two), DATA + 0x8000);
    assert_eq!(rig.exec(1, dsm).status(), dnr(Status::LBA_OUT_OF_RANGE));
    assert_eq!(
        rig.m.controller.namespace_data(1, 0, 8).unwrap(),
        pattern(5, 4096)
    );
}

#[test]
fn compare_matches_and_fails() {
    let mut rig = rig_with_io();
    let data = pattern(6, 4096);
    rig.poke(DATA, &data);
    let ext = [Extent::new(DATA, 4096)];
    assert!(rig
        .io(1, Opcode::NVM_WRITE, (1, 40, 8), &ext, SglPolicy::Never)
        .status()
        .is_success());
    let c = rig.io(1, Opcode::NVM_COMPARE, (1, 40, 8), &ext, SglPolicy::Never);
    assert!(c.status().is_success());
    rig.poke(DATA + 4095, &[data[4095] ^ 1]);
    let c = rig.io(1, Opcode::NVM_COMPARE, (1, 40, 8), &ext, SglPolicy::Never);
    assert_eq!(
        c.status(),
        dnr(Status::new(StatusCodeType::MediaAndDataIntegrity, 0x85))
    );
}

#[test]
fn namespace_range_and_transfer_size_statuses() {
    let mut rig = rig_with_io();
    let blocks = rig.m.controller.config().namespaces[0].blocks;
    let read = |rig: &mut Rig, nsid: u32, slba: u64, nlb: u32| {
        let ext = [Extent::new(DATA, u64::from(nlb) * 512)];
        rig.io(
            1,
            Opcode::NVM_READ,
            (nsid, slba, nlb),
            &ext,
            SglPolicy::Never,
        )
        .status()
    };
    assert_eq!(
        read(&mut rig, 2, 0, 8),
        dnr(Status::INVALID_NAMESPACE_OR_FORMAT)
    );
    assert_eq!(
        read(&mut rig, 0, 0, 8),
        dnr(Status::INVALID_NAMESPACE_OR_FORMAT)
    );
    assert!(read(&mut rig, 1, blocks - 8, 8).is_success());
    assert_eq!(
        read(&mut rig, 1, blocks - 7, 8),
        dnr(Status::LBA_OUT_OF_RANGE)
    );
    // SLBA + NLB wrapping past 2^64.
    let wrap = Rig::io_sqe(Opcode::NVM_READ, 1, u64::MAX, 8).with_prp1(DATA);
    assert_eq!(rig.exec(1, wrap).status(), dnr(Status::LBA_OUT_OF_RANGE));
    // MDTS is 128 KiB: 256 blocks pass, 257 do not.
    assert!(read(&mut rig, 1, 0, 256).is_success());
    let too_big = Rig::io_sqe(Opcode::NVM_READ, 1, 0, 264).with_prp1(DATA);
    assert_eq!(rig.exec(1, too_big).status(), dnr(Status::INVALID_FIELD));
    // Flush: every namespace, one namespace, a missing one.
    let flush = |nsid| SubmissionEntry::new(Opcode::NVM_FLUSH, 0).with_nsid(nsid);
    assert!(rig.exec(1, flush(u32::MAX)).status().is_success());
    assert!(rig.exec(1, flush(1)).status().is_success());
    assert_eq!(
        rig.exec(1, flush(9)).status(),
        dnr(Status::INVALID_NAMESPACE_OR_FORMAT)
    );
}

/// NSID FFFFFFFFh on an NVM command that does not support the broadcast value: Invalid
/// Field in Command (Base 2.2, 4.1.1, Figure 92, NSID), not Invalid Namespace or Format,
/// which is for an invalid NSID. Only Flush supports it. Nothing is read or written.
#[test]
fn the_broadcast_nsid_is_invalid_field_on_commands_that_do_not_support_it() {
    let mut rig = Rig::new(ControllerConfig::default());
    rig.create_io_pair(1, 16);
    rig.poke(DATA + 0x2000, &pattern(5, 4096));
    let stored = Rig::io_sqe(Opcode::NVM_WRITE, 1, 0, 8).with_prp1(DATA + 0x2000);
    assert!(rig.exec(1, stored).status().is_success());
    rig.poke(DATA, &pattern(4, 4096));
    let eight_blocks = |opcode| Rig::io_sqe(opcode, u32::MAX, 0, 8).with_prp1(DATA);
    let mut dsm = SubmissionEntry::new(Opcode::NVM_DATASET_MANAGEMENT, 0)
        .with_nsid(u32::MAX)
        .with_prp1(DATA);
    DatasetManagement::deallocate(DsmRangeCount::new(1).unwrap()).write_to(&mut dsm);
    let mut zeroes = SubmissionEntry::new(Opcode::NVM_WRITE_ZEROES, 0).with_nsid(u32::MAX);
    WriteZeroes {
        range: BlockRange::new(0, 8).unwrap(),
        deallocate: false,
    }
    .write_to(&mut zeroes);
    for sqe in [
        eight_blocks(Opcode::NVM_READ),
        eight_blocks(Opcode::NVM_WRITE),
        eight_blocks(Opcode::NVM_COMPARE),
        zeroes,
        dsm,
    ] {
        assert_eq!(
            rig.exec(1, sqe).status(),
            dnr(Status::INVALID_FIELD),
            "{:?}",
            sqe.opcode()
        );
    }
    assert_eq!(
        rig.m.controller.namespace_data(1, 0, 8).unwrap(),
        pattern(5, 4096)
    );
    assert_eq!(rig.peek(DATA, 4096), pattern(4, 4096));
    // An NSID past the last namespace is still Invalid Namespace or Format.
    assert_eq!(
        rig.exec(
            1,
            Rig::io_sqe(Opcode::NVM_READ, 0xffff_fffe, 0, 8).with_prp1(DATA)
        )
        .status(),
        dnr(Status::INVALID_NAMESPACE_OR_FORMAT)
    );
}

#[test]
fn separate_and_extended_metadata_round_trip() {
    let config = ControllerConfig {
        namespaces: vec![
            NamespaceConfig::new(256, 512).with_metadata(8, false),
            NamespaceConfig::new(256, 512).with_metadata(8, true),
        ],
        ..ControllerConfig::default()
    };
    let mut rig = Rig::new(config);
    rig.create_io_pair(1, 16);
    let data = pattern(7, 4096);
    let meta = pattern(8, 64);
    rig.poke(DATA, &data);
    rig.poke(DATA + 0x8000, &meta);
    let mut w = Rig::io_sqe(Opcode::NVM_WRITE, 1, 0, 8)
        .with_prp1(DATA)
        .with_mptr(DATA + 0x8000);
    w.set_prp2(0);
    assert!(rig.exec(1, w).status().is_success());
    let r = Rig::io_sqe(Opcode::NVM_READ, 1, 0, 8)
        .with_prp1(DATA + 0x10000)
        .with_mptr(DATA + 0x18000);
    assert!(rig.exec(1, r).status().is_success());
    assert_eq!(rig.peek(DATA + 0x10000, 4096), data);
    assert_eq!(rig.peek(DATA + 0x18000, 64), meta);
    // Extended: 8 blocks of 520 bytes interleaved in one buffer, no MPTR.
    let ext = pattern(9, 8 * 520);
    rig.poke(DATA + 0x20000, &ext);
    let src = [Extent::new(DATA + 0x20000, ext.len() as u64)];
    let c = rig.io(1, Opcode::NVM_WRITE, (2, 0, 8), &src, SglPolicy::Always);
    assert!(c.status().is_success());
    let stored = rig.m.controller.namespace_data(2, 0, 8).unwrap();
    let expected: Vec<u8> = ext.chunks(520).flat_map(|b| b[..512].to_vec()).collect();
    assert_eq!(
        stored, expected,
        "data stored without the interleaved metadata"
    );
    let dst = [Extent::new(DATA + 0x30000, ext.len() as u64)];
    assert!(rig
        .io(1, Opcode::NVM_READ, (2, 0, 8), &dst, SglPolicy::Always)
        .status()
        .is_success());
    assert_eq!(rig.peek(DATA + 0x30000, ext.len()), ext);
}

// ---- data pointers: validate before moving ----

#[test]
fn a_bad_prp_list_entry_fails_the_write_before_any_data_moves() {
    let mut rig = rig_with_io();
    rig.poke(DATA, &pattern(10, 4 * 4096));
    let list = DATA + 0x10_0000;
    // PRP1 page 0, list of pages 1, 2, 3 where the last has an offset.
    let entries = [DATA + 0x1000, DATA + 0x2000, DATA + 0x3010];
    poke_list(&mut rig, list, &entries);
    let w = Rig::io_sqe(Opcode::NVM_WRITE, 1, 0, 32)
        .with_prp1(DATA)
        .with_prp2(list);
    assert_eq!(rig.exec(1, w).status(), dnr(Status::PRP_OFFSET_INVALID));
    assert!(blocks_are_zero(&rig, 0, 32));
}

#[test]
fn a_read_whose_last_buffer_is_unmapped_writes_no_host_memory() {
    let mut rig = rig_with_io();
    rig.poke(DATA, &pattern(11, 8192));
    let ext = [Extent::new(DATA, 8192)];
    assert!(rig
        .io(1, Opcode::NVM_WRITE, (1, 0, 16), &ext, SglPolicy::Never)
        .status()
        .is_success());
    let before = rig.peek(DATA + 0x40000, 4096);
    // PRP1 mapped, PRP2 beyond mapped RAM.
    let r = Rig::io_sqe(Opcode::NVM_READ, 1, 0, 16)
        .with_prp1(DATA + 0x40000)
        .with_prp2(rig::RAM.len + 0x1000);
    assert_eq!(rig.exec(1, r).status(), dnr(Status::DATA_TRANSFER_ERROR));
    assert_eq!(rig.peek(DATA + 0x40000, 4096), before);
}

#[test]
fn dma_into_the_register_window_is_refused_with_no_side_effect() {
    let config = ControllerConfig {
        bar0: 0x0200_0000, // inside mapped RAM, so only the window check can refuse it
        ..ControllerConfig::default()
    };
    let mut rig = Rig::new(config);
    rig.create_io_pair(1, 16);
    let bar0 = 0x0200_0000u64;
    rig.poke(bar0 - 0x1000, &[0x5a; 0x1000]);
    // A read whose buffer starts one page below the window and runs into it.
    let dst = [Extent::new(bar0 - 0x1000, 0x2000)];
    rig.m.controller.set_tracing(true);
    let c = rig.io(1, Opcode::NVM_READ, (1, 0, 16), &dst, SglPolicy::Never);
    assert_eq!(c.status(), dnr(Status::DATA_TRANSFER_ERROR));
    // The trace names the buffer that was refused; nothing was written.
    let trace = rig.m.controller.take_trace();
    let refused: Vec<_> = trace
        .accesses()
        .iter()
        .filter(|a| a.target == DmaTarget::Refused)
        .map(|a| (a.purpose, a.addr))
        .collect();
    assert_eq!(refused, [(DmaPurpose::DataWrite, bar0 - 0x1000)]);
    assert!(!trace
        .accesses()
        .iter()
        .any(|a| a.purpose == DmaPurpose::DataWrite && a.target != DmaTarget::Refused));
    assert_eq!(rig.peek(bar0 - 0x1000, 0x1000), vec![0x5a; 0x1000]);
    // A write from inside the window: refused, the namespace unchanged.
    let src = [Extent::new(bar0 + 0x1000, 0x1000)];
    let c = rig.io(1, Opcode::NVM_WRITE, (1, 0, 8), &src, SglPolicy::Never);
    assert_eq!(c.status(), dnr(Status::DATA_TRANSFER_ERROR));
    assert!(blocks_are_zero(&rig, 0, 8));
}

// ---- controller memory buffer ----

fn cmb_rig(cmb: CmbConfig) -> Rig {
    let mut rig = Rig::new(ControllerConfig {
        cmb: Some(cmb),
        ..ControllerConfig::default()
    });
    rig.create_io_pair(1, 16);
    rig
}

const CMB_ADDR: u64 = 0x1_0000_0000;

#[test]
fn cmb_registers_and_all_in_cmb_transfers() {
    let mut rig = cmb_rig(CmbConfig::new(CMB_ADDR, 1 << 20));
    let cmbsz = nvme_dma::spec::CmbSz(rig.m.read32(offset::CMBSZ).unwrap());
    assert_eq!(cmbsz.size_bytes(), Some(1 << 20));
    assert!(cmbsz.lists() && cmbsz.wds() && cmbsz.rds());
    // Data in the CMB, PRP list in the CMB: fine.
    let data = pattern(12, 3 * 4096);
    rig.poke(CMB_ADDR, &data);
    let list = CMB_ADDR + 0x8_0000;
    poke_list(&mut rig, list, &[(CMB_ADDR + 0x1000), (CMB_ADDR + 0x2000)]);
    let w = Rig::io_sqe(Opcode::NVM_WRITE, 1, 0, 24)
        .with_prp1(CMB_ADDR)
        .with_prp2(list);
    rig.m.controller.set_tracing(true);
    assert!(rig.exec(1, w).status().is_success());
    assert_eq!(rig.m.controller.namespace_data(1, 0, 24).unwrap(), data);
    let trace = rig.m.controller.take_trace();
    let data_reads: Vec<_> = trace
        .accesses()
        .iter()
        .filter(|a| matches!(a.purpose, DmaPurpose::DataRead | DmaPurpose::PrpListFetch))
        .collect();
    assert!(!data_reads.is_empty() && data_reads.iter().all(|a| a.target == DmaTarget::Cmb));
}

#[test]
fn mixing_cmb_and_host_memory_is_invalid_use_of_cmb() {
    let mut rig = cmb_rig(CmbConfig::new(CMB_ADDR, 1 << 20));
    // PRP list in the CMB, data in host memory.
    let list = CMB_ADDR + 0x8_0000;
    poke_list(&mut rig, list, &[(DATA + 0x1000), (DATA + 0x2000)]);
    let w = Rig::io_sqe(Opcode::NVM_WRITE, 1, 0, 24)
        .with_prp1(DATA)
        .with_prp2(list);
    assert_eq!(rig.exec(1, w).status(), dnr(Status::INVALID_USE_OF_CMB));
    // First page in the CMB, second in host memory.
    let w = Rig::io_sqe(Opcode::NVM_WRITE, 1, 0, 16)
        .with_prp1(CMB_ADDR)
        .with_prp2(DATA);
    assert_eq!(rig.exec(1, w).status(), dnr(Status::INVALID_USE_OF_CMB));
    assert!(blocks_are_zero(&rig, 0, 24));
}

/// The CMB's last page and the host page right after it, in one command. The walker merges
/// physically adjacent pages into one extent; that extent straddles the CMB's edge, and it
/// must be judged as what it is, data partly in host memory and partly in the CMB (Invalid
/// Use of CMB), the same answer as for a host page elsewhere, not as one unreachable range
/// (Data Transfer Error).
#[test]
fn a_buffer_straddling_the_cmb_edge_is_invalid_use_of_cmb() {
    // A CMB laid over the rig's RAM, so that the page after its end is host memory.
    const BASE: u64 = 0x0400_0000;
    const SIZE: u64 = 1 << 20;
    let last = BASE + SIZE - 0x1000;
    let mut rig = cmb_rig(CmbConfig::new(BASE, SIZE));
    rig.poke(BASE + SIZE, &pattern(3, 0x1000));
    let adjacent = |opcode| {
        Rig::io_sqe(opcode, 1, 0, 16)
            .with_prp1(last)
            .with_prp2(BASE + SIZE)
    };
    let apart = Rig::io_sqe(Opcode::NVM_WRITE, 1, 0, 16)
        .with_prp1(last)
        .with_prp2(DATA);
    assert_eq!(rig.exec(1, apart).status(), dnr(Status::INVALID_USE_OF_CMB));
    rig.m.controller.set_tracing(true);
    for opcode in [Opcode::NVM_WRITE, Opcode::NVM_READ] {
        assert_eq!(
            rig.exec(1, adjacent(opcode)).status(),
            dnr(Status::INVALID_USE_OF_CMB),
            "{opcode:?}"
        );
    }
    // The same through one SGL Data Block that runs over the edge.
    let block = SglDescriptor::new(
        last + 0x800,
        0x2000,
        SglType::DataBlock,
        SglSubtype::Address,
    );
    let sgl = Rig::io_sqe(Opcode::NVM_WRITE, 1, 0, 16)
        .with_psdt(Psdt::Sgl)
        .with_sgl1(block);
    assert_eq!(rig.exec(1, sgl).status(), dnr(Status::INVALID_USE_OF_CMB));
    // Nothing moved: no data access was made, refused or not.
    let trace = rig.m.controller.take_trace();
    assert!(!trace
        .accesses()
        .iter()
        .any(|a| matches!(a.purpose, DmaPurpose::DataRead | DmaPurpose::DataWrite)));
    assert!(blocks_are_zero(&rig, 0, 16));
    assert_eq!(rig.peek(BASE + SIZE, 0x1000), pattern(3, 0x1000));
}

#[test]
fn cmb_uses_cmbsz_does_not_allow_are_refused() {
    let mut rig = cmb_rig(CmbConfig {
        lists: false,
        read_data: false,
        ..CmbConfig::new(CMB_ADDR, 1 << 20)
    });
    let list = CMB_ADDR + 0x8_0000;
    poke_list(&mut rig, list, &[(CMB_ADDR + 0x1000), (CMB_ADDR + 0x2000)]);
    let w = Rig::io_sqe(Opcode::NVM_WRITE, 1, 0, 24)
        .with_prp1(CMB_ADDR)
        .with_prp2(list);
    assert_eq!(rig.exec(1, w).status(), dnr(Status::INVALID_USE_OF_CMB));
    // Write data from the CMB is allowed; read data into it is not.
    let w = Rig::io_sqe(Opcode::NVM_WRITE, 1, 0, 8).with_prp1(CMB_ADDR);
    assert!(rig.exec(1, w).status().is_success());
    let r = Rig::io_sqe(Opcode::NVM_READ, 1, 0, 8).with_prp1(CMB_ADDR);
    assert_eq!(rig.exec(1, r).status(), dnr(Status::INVALID_USE_OF_CMB));
}

#[test]
fn a_submission_queue_in_the_cmb_works_and_is_refused_without_sqs() {
    let mut rig = cmb_rig(CmbConfig::new(CMB_ADDR, 1 << 20));
    let cq = rig.alloc_queue_mem(16 * 16);
    assert!(rig.admin(create_cq(2, 16, cq)).is_success());
    assert!(rig
        .admin(create_sq(2, 16, CMB_ADDR + 0xf_0000, 2))
        .is_success());
    rig.queues.insert(
        2,
        rig::HostQueue {
            sq_base: CMB_ADDR + 0xf_0000,
            cq_base: cq,
            size: 16,
            sq_tail: 0,
            cq_head: 0,
            phase: true,
            cqid: 2,
        },
    );
    let c = rig.exec(2, SubmissionEntry::new(Opcode::NVM_FLUSH, 0).with_nsid(1));
    assert!(c.status().is_success());

    let mut no_sqs = cmb_rig(CmbConfig {
        submission_queues: false,
        ..CmbConfig::new(CMB_ADDR, 1 << 20)
    });
    let cq = no_sqs.alloc_queue_mem(16 * 16);
    assert!(no_sqs.admin(create_cq(2, 16, cq)).is_success());
    assert_eq!(
        no_sqs.admin(create_sq(2, 16, CMB_ADDR, 2)),
        dnr(Status::INVALID_USE_OF_CMB)
    );
}

// ---- queues, doorbells, phase ----

#[test]
fn a_full_completion_queue_is_never_overwritten() {
    let mut rig = Rig::new(ControllerConfig::default());
    // CQ of 4 slots holds 3 completions; SQ of 16.
    let cq = rig.alloc_queue_mem(4 * 16);
    let sq = rig.alloc_queue_mem(16 * 64);
    assert!(rig.admin(create_cq(1, 4, cq)).is_success());
    assert!(rig.admin(create_sq(1, 16, sq, 1)).is_success());
    rig.queues.insert(1, rig::HostQueue::new(sq, cq, 4, 1));
    // The rig's SQ bookkeeping uses `size` for both: submit directly at SQ slots instead.
    for i in 0..6u16 {
        let sqe = SubmissionEntry::new(Opcode::NVM_FLUSH, 100 + i).with_nsid(1);
        rig.poke(sq + u64::from(i) * 64, &sqe.to_bytes());
    }
    rig.m.write32(sq_tail_doorbell(1, 0).unwrap(), 6).unwrap();
    // Three posted, the fourth slot still holds zeros (phase 0).
    let posted: Vec<u8> = rig.peek(cq, 64);
    let phases: Vec<bool> = posted.chunks(16).map(|c| c[14] & 1 == 1).collect();
    assert_eq!(phases, [true, true, true, false]);
    let first: Vec<u16> = (0..3).map(|_| rig.reap(1).unwrap().cid()).collect();
    assert_eq!(first, [100, 101, 102]);
    // Reaping rang the CQ head doorbell each time, so the rest arrived.
    let rest: Vec<u16> = std::iter::from_fn(|| rig.reap(1))
        .map(|c| c.cid())
        .collect();
    assert_eq!(rest, [103, 104, 105]);
}

/// A tail pushed past a full SQ's head would make it look empty and lose its commands: the
/// write is an Invalid Doorbell Write Value ("attempted to add a command to a full
/// Submission Queue"), ignored, recorded and reported, and the queued commands still run.
#[test]
fn a_tail_past_a_full_submission_queues_head_is_an_invalid_doorbell_value() {
    let mut rig = Rig::new(ControllerConfig::default());
    // SQ of 4 slots; CQ of 2, which holds one completion, so the SQ stalls behind it.
    let cq = rig.alloc_queue_mem(2 * 16);
    let sq = rig.alloc_queue_mem(4 * 64);
    assert!(rig.admin(create_cq(1, 2, cq)).is_success());
    assert!(rig.admin(create_sq(1, 4, sq, 1)).is_success());
    // The rig's bookkeeping follows the CQ (2 slots); SQ slots are written directly.
    rig.queues.insert(1, rig::HostQueue::new(sq, cq, 2, 1));
    let put = |rig: &mut Rig, slot: u16, cid: u16| {
        let sqe = SubmissionEntry::new(Opcode::NVM_FLUSH, cid).with_nsid(1);
        rig.poke(sq + u64::from(slot) * 64, &sqe.to_bytes());
    };
    let tail = |rig: &mut Rig, value: u32| {
        rig.m
            .write32(sq_tail_doorbell(1, 0).unwrap(), value)
            .unwrap();
    };
    let head_tail = |rig: &Rig| {
        let view = rig.m.controller.submission_queue(1).unwrap();
        (view.head, view.tail)
    };
    // Two commands run and are reaped; a third runs and fills the CQ: head 3, tail 3.
    for slot in 0..2 {
        put(&mut rig, slot, slot);
        tail(&mut rig, u32::from(slot) + 1);
        assert_eq!(rig.reap(1).map(|c| c.cid()), Some(slot));
    }
    put(&mut rig, 2, 2);
    tail(&mut rig, 3);
    // Three more fill the SQ behind the full CQ: head 3, tail 2.
    for (slot, cid) in [(3, 10), (0, 11), (1, 12)] {
        put(&mut rig, slot, cid);
    }
    tail(&mut rig, 2);
    assert_eq!(head_tail(&rig), (3, 2));
    let events = rig.m.controller.events().len();
    // A fourth: tail 3 would make the queue look empty.
    put(&mut rig, 2, 13);
    tail(&mut rig, 3);
    assert_eq!(head_tail(&rig), (3, 2), "the over-full tail was taken");
    assert!(matches!(
        rig.m.controller.events()[events..],
        [ControllerEvent::InvalidDoorbellValue { value: 3, .. }]
    ));
    // Nothing was lost: the three queued commands complete as the CQ frees up.
    let cids: Vec<u16> = std::iter::from_fn(|| rig.reap(1))
        .map(|c| c.cid())
        .collect();
    assert_eq!(cids, [2, 10, 11, 12]);
    assert_eq!(head_tail(&rig), (2, 2));
    // With the queue empty again, adding three (its capacity) is fine.
    for (slot, cid) in [(2, 20), (3, 21), (0, 22)] {
        put(&mut rig, slot, cid);
    }
    tail(&mut rig, 1);
    assert_eq!(rig.m.controller.events().len(), events + 1);
    let cids: Vec<u16> = std::iter::from_fn(|| rig.reap(1))
        .map(|c| c.cid())
        .collect();
    assert_eq!(cids, [20, 21, 22]);
}

/// A tail that adds more entries than are free, though it does not reach the head's slot
/// from behind in one step: with two queued on a 4-slot queue, one slot is free, and a tail
/// two ahead is refused.
#[test]
fn a_tail_adding_more_entries_than_are_free_is_refused() {
    let mut rig = Rig::new(ControllerConfig::default());
    let cq = rig.alloc_queue_mem(2 * 16);
    let sq = rig.alloc_queue_mem(4 * 64);
    assert!(rig.admin(create_cq(1, 2, cq)).is_success());
    assert!(rig.admin(create_sq(1, 4, sq, 1)).is_success());
    for slot in 0..4u16 {
        let sqe = SubmissionEntry::new(Opcode::NVM_FLUSH, slot).with_nsid(1);
        rig.poke(sq + u64::from(slot) * 64, &sqe.to_bytes());
    }
    // Slot 0 runs and fills the CQ; slots 1 and 2 wait: head 1, tail 3, one slot free.
    rig.m.write32(sq_tail_doorbell(1, 0).unwrap(), 3).unwrap();
    let view = rig.m.controller.submission_queue(1).unwrap();
    assert_eq!((view.head, view.tail), (1, 3));
    rig.m.write32(sq_tail_doorbell(1, 0).unwrap(), 1).unwrap();
    assert!(matches!(
        rig.m.controller.events().last(),
        Some(ControllerEvent::InvalidDoorbellValue { value: 1, .. })
    ));
    // Adding the one free slot's worth is accepted: the queue is then full.
    rig.m.write32(sq_tail_doorbell(1, 0).unwrap(), 0).unwrap();
    let view = rig.m.controller.submission_queue(1).unwrap();
    assert_eq!((view.head, view.tail), (1, 0));
}

#[test]
fn phase_tags_flip_on_every_wrap_and_sq_head_is_reported() {
    let mut rig = Rig::new(ControllerConfig::default());
    rig.create_io_pair(1, 4);
    for round in 0..10u16 {
        let c = rig.exec(1, SubmissionEntry::new(Opcode::NVM_FLUSH, 0).with_nsid(1));
        assert!(c.status().is_success());
        assert_eq!(c.sqhd(), (round + 1) % 4);
    }
}

#[test]
fn invalid_doorbell_writes_are_ignored_recorded_and_reported_by_aer() {
    let mut rig = rig_with_io();
    let aer_cid = 0x4242;
    rig.submit(
        0,
        &SubmissionEntry::new(Opcode::ADMIN_ASYNC_EVENT_REQUEST, aer_cid),
    );
    assert!(
        rig.reap(0).is_none(),
        "an AER completes only when an event happens"
    );
    // Tail beyond the queue size (64).
    rig.m.write32(sq_tail_doorbell(1, 0).unwrap(), 64).unwrap();
    assert!(matches!(
        rig.m.controller.events().last(),
        Some(ControllerEvent::InvalidDoorbellValue { value: 64, .. })
    ));
    let c = rig.reap(0).expect("the AER completed");
    assert_eq!(c.cid(), aer_cid);
    assert_eq!(
        c.dw0(),
        0x01 << 16 | 0x01 << 8,
        "error event, invalid doorbell value, log 01h"
    );
    // A doorbell for a queue that does not exist: recorded; no AER is outstanding now.
    rig.m.write32(sq_tail_doorbell(9, 0).unwrap(), 1).unwrap();
    assert!(matches!(
        rig.m.controller.events().last(),
        Some(ControllerEvent::InvalidDoorbellRegister { .. })
    ));
    // Queue 1 still works: the bad tail changed nothing.
    let c = rig.exec(1, SubmissionEntry::new(Opcode::NVM_FLUSH, 0).with_nsid(1));
    assert!(c.status().is_success());
    // A CQ head releasing entries never posted.
    rig.m.write32(cq_head_doorbell(1, 0).unwrap(), 30).unwrap();
    assert!(matches!(
        rig.m.controller.events().last(),
        Some(ControllerEvent::InvalidDoorbellValue { value: 30, .. })
    ));
    // The queued event now completes a new AER straight away.
    rig.submit(
        0,
        &SubmissionEntry::new(Opcode::ADMIN_ASYNC_EVENT_REQUEST, 7),
    );
    let c = rig.reap(0).unwrap();
    assert!(c.dw0() >> 8 & 0xff <= 1);
}

#[test]
fn aer_beyond_the_limit_is_refused() {
    let mut rig = Rig::new(ControllerConfig {
        async_event_limit: 1,
        ..ControllerConfig::default()
    });
    rig.submit(
        0,
        &SubmissionEntry::new(Opcode::ADMIN_ASYNC_EVENT_REQUEST, 1),
    );
    let c = rig.exec(
        0,
        SubmissionEntry::new(Opcode::ADMIN_ASYNC_EVENT_REQUEST, 0),
    );
    assert_eq!(
        c.status(),
        dnr(Status::new(StatusCodeType::CommandSpecific, 0x05))
    );
}

#[test]
fn reused_cids_complete_in_order() {
    let mut rig = rig_with_io();
    for _ in 0..3 {
        rig.submit(1, &SubmissionEntry::new(Opcode::NVM_FLUSH, 77).with_nsid(1));
    }
    let cids: Vec<u16> = std::iter::from_fn(|| rig.reap(1))
        .map(|c| c.cid())
        .collect();
    assert_eq!(cids, [77, 77, 77]);
}

#[test]
fn an_unfetchable_sqe_is_fatal() {
    let mut rig = rig_with_io();
    // Creation probes the queue memory, so create it mapped, then take the memory away.
    let sq = rig.alloc_queue_mem(4096);
    let cq = rig.alloc_queue_mem(4096);
    assert!(rig.admin(create_cq(2, 16, cq)).is_success());
    assert!(rig.admin(create_sq(2, 16, sq, 2)).is_success());
    rig.m.memory.unmap(sq, 4096);
    rig.m.write32(sq_tail_doorbell(2, 0).unwrap(), 1).unwrap();
    let csts = Csts::from_bits_retain(rig.m.read32(offset::CSTS).unwrap());
    assert!(csts.contains(Csts::CFS));
}

// ---- the trace and its PCIe cost ----

#[test]
fn the_trace_shows_what_a_layout_costs() {
    let mut rig = rig_with_io();
    let extents: Vec<Extent> = (0..16)
        .map(|i| Extent::new(DATA + i * 0x2000, 0x1000))
        .collect();
    rig.m.controller.set_tracing(true);
    let c = rig.io(
        1,
        Opcode::NVM_WRITE,
        (1, 0, 128),
        &extents,
        SglPolicy::Never,
    );
    assert!(c.status().is_success());
    let prp = rig.m.controller.take_trace();
    let c = rig.io(
        1,
        Opcode::NVM_WRITE,
        (1, 0, 128),
        &extents,
        SglPolicy::Always,
    );
    assert!(c.status().is_success());
    let sgl = rig.m.controller.take_trace();
    let link = PcieLink::TYPICAL;
    let (p, s) = (prp.summary(&link), sgl.summary(&link));
    // PRP: 15 list entries (120 bytes) after PRP1; SGL: 16 descriptors (256 bytes).
    assert_eq!(p.descriptor_bytes, 120);
    assert_eq!(s.descriptor_bytes, 256);
    assert_eq!((p.data_bytes, s.data_bytes), (65536, 65536));
    assert_eq!(p.queue_bytes, 64 + 16);
    let kinds: Vec<DmaPurpose> = prp.accesses().iter().map(|a| a.purpose).collect();
    assert_eq!(kinds.first(), Some(&DmaPurpose::SqeFetch));
    assert_eq!(kinds.last(), Some(&DmaPurpose::CqePost));
    assert!(p.pcie.tlps() > 0 && p.pcie.efficiency() < 1.0);
    assert!(s.pcie.overhead_bytes >= p.pcie.overhead_bytes - 2 * 24);
}

// ---- found by the differential against QEMU (tests/qemu_differential.rs) ----

#[test]
fn one_read_only_firmware_slot_and_its_log_page() {
    let mut rig = Rig::new(ControllerConfig::default());
    assert!(identify(&mut rig, CNS_CONTROLLER, 0, DATA).is_success());
    let id = IdentifyController::read_from_bytes(&rig.peek(DATA, 4096)).unwrap();
    // FRMW: 1 to 7 slots in bits 3:1; here one, and slot 1 is read only (bit 0).
    assert_eq!((id.frmw >> 1) & 0x7, 1);
    assert_eq!(id.frmw & 1, 1);
    // Firmware Slot Information (LID 03h), a mandatory page: slot 1 active, holding FR.
    let buf = DATA + 0x1000;
    rig.poke(buf, &[0xee; 512]);
    assert!(get_log(&mut rig, 0x03, 512, 0, buf).is_success());
    let page = rig.peek(buf, 512);
    assert_eq!(page[0], 0x01, "AFI: slot 1 active, no activation pending");
    assert_eq!(page[8..16], id.fr, "FRS1 is the revision Identify reports");
    assert!(
        page[16..].iter().all(|&b| b == 0),
        "slots 2-7 empty, the rest reserved"
    );
    // Offsets work there as on every page: the last dword, then past the end.
    assert!(get_log(&mut rig, 0x03, 4, 508, buf).is_success());
    assert_eq!(
        get_log(&mut rig, 0x03, 4, 516, buf),
        dnr(Status::INVALID_FIELD)
    );
}

#[test]
fn namespace_identification_descriptors_name_each_active_namespace() {
    let config = ControllerConfig {
        namespaces: vec![NamespaceConfig::new(8, 512); 2],
        ..ControllerConfig::default()
    };
    let mut rig = Rig::new(config);
    let mut uuids = Vec::new();
    for nsid in [1, 2] {
        rig.poke(DATA, &[0xee; 4096]);
        assert!(identify(&mut rig, 0x03, nsid, DATA).is_success());
        let list = rig.peek(DATA, 4096);
        // One UUID descriptor (NIDT 3h, NIDL 16), then zeros: NIDL 0 ends the list.
        assert_eq!(list[..4], [3, 16, 0, 0]);
        let uuid = list[4..20].to_vec();
        assert_eq!(uuid[6] >> 4, 4, "UUID version 4");
        assert_eq!(uuid[8] >> 6, 0b10, "RFC 4122 variant");
        assert!(list[20..].iter().all(|&b| b == 0));
        // The same namespace keeps its identifier.
        assert!(identify(&mut rig, 0x03, nsid, DATA).is_success());
        assert_eq!(rig.peek(DATA + 4, 16), uuid);
        uuids.push(uuid);
    }
    assert_ne!(uuids[0], uuids[1], "each namespace has its own identifier");
    let invalid = dnr(Status::INVALID_NAMESPACE_OR_FORMAT);
    assert_eq!(identify(&mut rig, 0x03, 0, DATA), invalid);
    assert_eq!(identify(&mut rig, 0x03, 3, DATA), invalid);
    assert_eq!(identify(&mut rig, 0x03, u32::MAX, DATA), invalid);
}

#[test]
fn fused_commands_are_refused_and_change_nothing() {
    let mut rig = rig_with_io();
    let data = pattern(9, 512);
    rig.poke(DATA, &data);
    for fuse in [
        nvme_dma::spec::Fuse::FirstOfFused,
        nvme_dma::spec::Fuse::SecondOfFused,
        nvme_dma::spec::Fuse::Reserved,
    ] {
        let mut sqe = Rig::io_sqe(Opcode::NVM_WRITE, 1, 0, 1).with_prp1(DATA);
        sqe.set_fuse(fuse);
        assert_eq!(
            rig.exec(1, sqe).status(),
            dnr(Status::INVALID_FIELD),
            "{fuse:?}"
        );
        let mut admin = identify_sqe(CNS_CONTROLLER, 0).with_prp1(DATA + 0x1000);
        admin.set_fuse(fuse);
        assert_eq!(rig.admin(admin), dnr(Status::INVALID_FIELD), "{fuse:?}");
    }
    assert_eq!(
        rig.m.controller.namespace_data(1, 0, 1).unwrap(),
        vec![0; 512]
    );
    // The same write without FUSE goes through.
    let sqe = Rig::io_sqe(Opcode::NVM_WRITE, 1, 0, 1).with_prp1(DATA);
    assert!(rig.exec(1, sqe).status().is_success());
    assert_eq!(rig.m.controller.namespace_data(1, 0, 1).unwrap(), data);
}
