//! Laws of the wire formats, checked on generated inputs.
//!
//! The round-trip laws prove that the public getters and setters reach every bit: if any bit
//! had no accessor, copying the fields one by one into a zeroed value would lose it.

use nvme_dma::spec::log::LogPageRequest;
use nvme_dma::spec::registers::{cq_head_doorbell, sq_tail_doorbell};
use nvme_dma::spec::{
    mdts_bytes, Abort, BlockRange, Cap, Cc, CommandId, CompletionEntry, CreateIoCq, CreateIoSq,
    DatasetManagement, DeleteIoQueue, DsmRange, DsmRangeCount, GetFeatures, Identify, MaxTransfer,
    NumberOfQueues, QueueCount, QueuePriority, QueueSize, SetFeatures, SglDescriptor,
    ShutdownNotification, Status, StatusCodeType, SubmissionEntry, WriteZeroes,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use zerocopy::{FromBytes, IntoBytes};

fn bytes<const N: usize>() -> impl Strategy<Value = [u8; N]> {
    prop::collection::vec(any::<u8>(), N).prop_map(|v| <[u8; N]>::try_from(v).unwrap())
}

/// Copies every field of `src` through the public accessors into a zeroed entry.
fn copy_sqe(src: &SubmissionEntry) -> SubmissionEntry {
    let mut dst = SubmissionEntry::default();
    dst.set_opcode(src.opcode());
    dst.set_fuse(src.fuse());
    dst.set_cdw0_reserved(src.cdw0_reserved());
    dst.set_psdt(src.psdt());
    dst.set_cid(src.cid());
    dst.set_nsid(src.nsid());
    dst.set_cdw2(src.cdw2());
    dst.set_cdw3(src.cdw3());
    dst.set_mptr(src.mptr());
    dst.set_prp1(src.prp1());
    dst.set_prp2(src.prp2());
    dst.set_cdw10(src.cdw10());
    dst.set_cdw11(src.cdw11());
    dst.set_cdw12(src.cdw12());
    dst.set_cdw13(src.cdw13());
    dst.set_cdw14(src.cdw14());
    dst.set_cdw15(src.cdw15());
    dst
}

proptest! {
    #[test]
    fn sqe_accessors_cover_every_bit(raw in bytes::<64>()) {
        let entry = SubmissionEntry::from_bytes(raw);
        prop_assert_eq!(copy_sqe(&entry).to_bytes(), raw);
    }

    #[test]
    fn sqe_numbered_cdws_and_sgl1_cover_their_bytes(raw in bytes::<64>()) {
        let entry = SubmissionEntry::from_bytes(raw);
        let mut dst = SubmissionEntry::default();
        dst.set_cdw0(entry.cdw0());
        dst.set_nsid(entry.nsid());
        dst.set_cdw2(entry.cdw2());
        dst.set_cdw3(entry.cdw3());
        dst.set_mptr(entry.mptr());
        dst.set_sgl1(entry.sgl1());
        for n in 10..=15 {
            dst.set_cdw(n, entry.cdw(n).unwrap()).unwrap();
        }
        prop_assert_eq!(dst.to_bytes(), raw);
        prop_assert_eq!(&entry.sgl1().to_bytes()[..], &raw[24..40]);
    }

    #[test]
    fn sqe_builders_match_setters(raw in bytes::<64>()) {
        let src = SubmissionEntry::from_bytes(raw);
        let mut built = SubmissionEntry::new(src.opcode(), src.cid())
            .with_fuse(src.fuse())
            .with_psdt(src.psdt())
            .with_nsid(src.nsid())
            .with_cdw2(src.cdw2())
            .with_cdw3(src.cdw3())
            .with_mptr(src.mptr())
            .with_prp1(src.prp1())
            .with_prp2(src.prp2())
            .with_cdw10(src.cdw10())
            .with_cdw11(src.cdw11())
            .with_cdw12(src.cdw12())
            .with_cdw13(src.cdw13())
            .with_cdw14(src.cdw14())
            .with_cdw15(src.cdw15());
        built.set_cdw0_reserved(src.cdw0_reserved());
        prop_assert_eq!(built.to_bytes(), raw);
    }

    #[test]
    fn cqe_accessors_cover_every_bit(raw in bytes::<16>()) {
        let src = CompletionEntry::from_bytes(raw);
        let mut dst = CompletionEntry::default();
        dst.set_dw0(src.dw0());
        dst.set_dw1(src.dw1());
        dst.set_sqhd(src.sqhd());
        dst.set_sqid(src.sqid());
        dst.set_cid(src.cid());
        dst.set_status(src.status());
        dst.set_phase(src.phase());
        prop_assert_eq!(dst.to_bytes(), raw);

        let built = CompletionEntry::new(CommandId { sqid: src.sqid(), cid: src.cid() }, src.sqhd(), src.status(), src.phase())
            .with_dw0(src.dw0())
            .with_dw1(src.dw1());
        prop_assert_eq!(built, src);
        prop_assert_eq!(src.dw2().to_le_bytes(), [raw[8], raw[9], raw[10], raw[11]]);
        prop_assert_eq!(src.dw3().to_le_bytes(), [raw[12], raw[13], raw[14], raw[15]]);
    }

    #[test]
    fn sgl_accessors_cover_every_bit(raw in bytes::<16>()) {
        let src = SglDescriptor::from_bytes(raw);

        // Generic view: address, length, type-specific bytes, type, subtype.
        let mut dst = SglDescriptor::default();
        dst.set_address(src.address());
        dst.set_length(src.length());
        dst.set_type_specific(src.type_specific());
        dst.set_descriptor_type(src.descriptor_type());
        dst.set_subtype(src.subtype());
        prop_assert_eq!(dst.to_bytes(), raw);

        // Keyed Data Block view: address, 24-bit length, key, identifier byte.
        let mut keyed = SglDescriptor::default();
        keyed.set_address(src.address());
        keyed.set_keyed_length(src.keyed_length());
        keyed.set_key(src.key());
        keyed.set_identifier(src.identifier());
        prop_assert_eq!(keyed.to_bytes(), raw);

        // The typed constructor agrees.
        let built = SglDescriptor::new(src.address(), src.length(), src.descriptor_type(), src.subtype())
            .with_type_specific(src.type_specific());
        prop_assert_eq!(built, src);
    }

    #[test]
    fn status_raw_round_trip(x in any::<u16>()) {
        let s = Status::from_raw(x);
        prop_assert_eq!(s.raw(), x & 0x7FFF);
        let rebuilt = Status::new(s.sct(), s.sc())
            .with_crd(s.crd())
            .with_more(s.more())
            .with_dnr(s.dnr());
        prop_assert_eq!(rebuilt, s);
    }

    #[test]
    fn status_display_never_panics_and_shows_the_code(x in any::<u16>()) {
        let s = Status::from_raw(x);
        let text = s.to_string();
        let code = format!("(SCT {:X}h, SC {:02X}h", s.sct().to_raw(), s.sc());
        prop_assert!(text.contains(&code), "{} lacks {}", text, code);
        match s.name() {
            Some(name) => prop_assert!(text.starts_with(name)),
            None => prop_assert!(text.starts_with("unknown status")),
        }
        prop_assert_eq!(text.contains(", DNR"), s.dnr());
        prop_assert_eq!(text.contains(", M"), s.more());
        prop_assert_eq!(text.contains(", CRD "), s.crd() != 0);
        let _ = format!("{s:?}");
    }

    #[test]
    fn named_statuses_keep_their_name_under_any_flags(crd in 0u8..4, more: bool, dnr: bool) {
        for (status, name) in Status::named() {
            let flagged = status.with_crd(crd).with_more(more).with_dnr(dnr);
            prop_assert_eq!(flagged.name(), Some(name));
            prop_assert!(flagged.to_string().starts_with(name));
            prop_assert!(flagged.same_code(status));
        }
    }

    #[test]
    fn cap_fields_do_not_overlap(raw in any::<u64>()) {
        let cap = Cap(raw);
        let rebuilt = Cap::new()
            .with_mqes_z(cap.mqes_z())
            .with_cqr(cap.cqr())
            .with_ams(cap.ams())
            .with_to(cap.to())
            .with_dstrd(cap.dstrd())
            .with_nssrs(cap.nssrs())
            .with_css(cap.css())
            .with_mpsmin(cap.mpsmin())
            .with_mpsmax(cap.mpsmax())
            .with_cmbs(cap.cmbs());
        // The named fields: bits 15:0, 18:16, 36:24, 44:37, 55:48, 57.
        let named: u64 = 0x0000_0000_0007_FFFF
            | 0x0000_001F_FF00_0000
            | 0x0000_1FE0_0000_0000
            | 0x00FF_0000_0000_0000
            | 0x0200_0000_0000_0000;
        prop_assert_eq!(rebuilt.raw(), raw & named);
        prop_assert!(cap.page_size_min() >= 4096 && cap.page_size_max() <= 128 << 20);
    }

    #[test]
    fn cc_fields_do_not_overlap(raw in any::<u32>()) {
        let cc = Cc(raw);
        let rebuilt = Cc::new()
            .with_en(cc.en())
            .with_css(cc.css())
            .with_mps(cc.mps())
            .with_ams(cc.ams())
            .with_shn(cc.shn())
            .with_iosqes(cc.iosqes())
            .with_iocqes(cc.iocqes());
        // The named fields: bit 0 and bits 23:4.
        prop_assert_eq!(rebuilt.raw(), raw & 0x00FF_FFF1);
        prop_assert_eq!(ShutdownNotification::from_bits(cc.shn().to_bits()), cc.shn());
    }

    #[test]
    fn doorbells_follow_the_formula(qid in any::<u16>(), dstrd in any::<u8>()) {
        let stride = 4u128 << dstrd.min(15);
        let sq = 0x1000 + 2 * u128::from(qid) * stride;
        let cq = 0x1000 + (2 * u128::from(qid) + 1) * stride;
        if dstrd <= 15 {
            prop_assert_eq!(sq_tail_doorbell(qid, dstrd).map(u128::from), Some(sq));
            prop_assert_eq!(cq_head_doorbell(qid, dstrd).map(u128::from), Some(cq));
        } else {
            prop_assert_eq!(sq_tail_doorbell(qid, dstrd), None);
            prop_assert_eq!(cq_head_doorbell(qid, dstrd), None);
        }
    }

    #[test]
    fn mdts_matches_exact_arithmetic(mdts in any::<u8>(), mpsmin in 0u8..16) {
        let page = 4096u64 << mpsmin;
        let got = mdts_bytes(mdts, page);
        let exact = if mdts >= 64 { None } else { (1u128 << mdts).checked_mul(u128::from(page)) };
        match (mdts, exact) {
            (0, _) => prop_assert_eq!(got, MaxTransfer::Unlimited),
            (_, Some(v)) if v <= u128::from(u64::MAX) => {
                prop_assert_eq!(got, MaxTransfer::Bytes(u64::try_from(v).unwrap()));
            }
            _ => prop_assert_eq!(got, MaxTransfer::Unlimited),
        }
    }

    #[test]
    fn sct_values_round_trip(raw in 0u8..8) {
        prop_assert_eq!(StatusCodeType::from_raw(raw).to_raw(), raw);
    }
}

// ---- The typed views of the command dwords ----

/// Which bits of an entry a view's fields cover: NSID and CDW10 to CDW15, as masks written
/// from the layouts in the specification.
#[derive(Clone, Copy)]
struct Fields {
    nsid: u32,
    cdw: [u32; 6],
}

impl Fields {
    const fn cdw10_11(cdw10: u32, cdw11: u32) -> Self {
        Fields {
            nsid: 0,
            cdw: [cdw10, cdw11, 0, 0, 0, 0],
        }
    }

    /// `sqe` with every bit outside the fields cleared (`keep = true`: inside them).
    fn select(self, sqe: &SubmissionEntry, keep: bool) -> SubmissionEntry {
        let pick = |value: u32, mask: u32| if keep { value & mask } else { value & !mask };
        let mut out = if keep {
            SubmissionEntry::default()
        } else {
            *sqe
        };
        out.set_nsid(pick(sqe.nsid(), self.nsid));
        for (n, mask) in (10..=15).zip(self.cdw) {
            out.set_cdw(n, pick(sqe.cdw(n).unwrap(), mask)).unwrap();
        }
        out
    }
}

/// The laws every view keeps, for a valid `x` and any entry `raw`:
/// * `from_sqe(write_to(x)) == x`, written over any entry, whose bits outside the fields
///   stay as they were (`keeps_the_rest`);
/// * `write_to(from_sqe(sqe))` on a zeroed entry reproduces exactly the fields' bits of `sqe`,
///   and on `sqe` itself changes nothing (`keeps_the_rest`).
fn view_laws<V: Copy + PartialEq + std::fmt::Debug>(
    x: V,
    raw: [u8; 64],
    fields: Fields,
    keeps_the_rest: bool,
    from_sqe: fn(&SubmissionEntry) -> V,
    write_to: fn(&V, &mut SubmissionEntry),
) -> Result<(), TestCaseError> {
    let sqe = SubmissionEntry::from_bytes(raw);

    let mut written = sqe;
    write_to(&x, &mut written);
    prop_assert_eq!(from_sqe(&written), x);
    if keeps_the_rest {
        prop_assert_eq!(fields.select(&written, false), fields.select(&sqe, false));
    }

    let decoded = from_sqe(&sqe);
    let mut zeroed = SubmissionEntry::default();
    write_to(&decoded, &mut zeroed);
    prop_assert_eq!(zeroed, fields.select(&sqe, true));
    if keeps_the_rest {
        let mut again = sqe;
        write_to(&decoded, &mut again);
        prop_assert_eq!(again, sqe);
    }
    Ok(())
}

fn queue_size() -> impl Strategy<Value = QueueSize> {
    (1..=QueueSize::MAX).prop_map(|n| QueueSize::new(n).unwrap())
}

fn queue_count() -> impl Strategy<Value = QueueCount> {
    (1..=QueueCount::MAX).prop_map(|n| QueueCount::new(n).unwrap())
}

fn priority() -> impl Strategy<Value = QueuePriority> {
    (0u8..4).prop_map(QueuePriority::from_bits)
}

fn block_range() -> impl Strategy<Value = BlockRange> {
    (any::<u64>(), 1..=BlockRange::MAX_BLOCKS).prop_map(|(s, n)| BlockRange::new(s, n).unwrap())
}

proptest! {
    #[test]
    fn counts_take_exactly_one_to_their_max(n in any::<u32>(), z in any::<u16>(), z8 in any::<u8>()) {
        prop_assert_eq!(QueueSize::new(n).is_ok(), (1..=65_536).contains(&n));
        prop_assert_eq!(QueueCount::new(n).map(QueueCount::get).ok(), QueueCount::new(n).ok().map(|_| n));
        prop_assert_eq!(DsmRangeCount::new(n).is_ok(), (1..=256).contains(&n));
        let size = QueueSize::from_zero_based(z);
        prop_assert_eq!(QueueSize::new(size.get()), Ok(size));
        prop_assert_eq!(size.zero_based(), z);
        let ranges = DsmRangeCount::from_zero_based(z8);
        prop_assert_eq!(DsmRangeCount::new(ranges.get()), Ok(ranges));
    }

    #[test]
    fn create_io_cq_round_trips(
        qid: u16, size in queue_size(), contiguous: bool, interrupts: bool, vector: u16,
        raw in bytes::<64>(),
    ) {
        let x = CreateIoCq { qid, size, contiguous, interrupts, vector };
        // CDW10 all; CDW11 bits 1:0 and 31:16.
        let fields = Fields::cdw10_11(u32::MAX, 0xFFFF_0003);
        view_laws(x, raw, fields, true, CreateIoCq::from_sqe, CreateIoCq::write_to)?;
    }

    #[test]
    fn create_io_sq_round_trips(
        qid: u16, size in queue_size(), contiguous: bool, priority in priority(), cqid: u16,
        raw in bytes::<64>(),
    ) {
        let x = CreateIoSq { qid, size, contiguous, priority, cqid };
        // CDW10 all; CDW11 bits 2:0 and 31:16.
        let fields = Fields::cdw10_11(u32::MAX, 0xFFFF_0007);
        view_laws(x, raw, fields, true, CreateIoSq::from_sqe, CreateIoSq::write_to)?;
    }

    #[test]
    fn delete_io_queue_round_trips(qid: u16, raw in bytes::<64>()) {
        let fields = Fields::cdw10_11(0x0000_FFFF, 0);
        view_laws(DeleteIoQueue { qid }, raw, fields, true, DeleteIoQueue::from_sqe, DeleteIoQueue::write_to)?;
    }

    #[test]
    fn identify_round_trips(cns: u8, cntid: u16, nsid: u32, raw in bytes::<64>()) {
        // NSID; CDW10 bits 7:0 and 31:16.
        let fields = Fields { nsid: u32::MAX, ..Fields::cdw10_11(0xFFFF_00FF, 0) };
        view_laws(Identify { cns, cntid, nsid }, raw, fields, true, Identify::from_sqe, Identify::write_to)?;
    }

    #[test]
    fn features_round_trip(
        fid: u8, save: bool, submission in queue_count(), completion in queue_count(),
        raw in bytes::<64>(), dw0: u32,
    ) {
        let get = Fields::cdw10_11(0x0000_00FF, 0);
        view_laws(GetFeatures { fid }, raw, get, true, GetFeatures::from_sqe, GetFeatures::write_to)?;
        let set = Fields::cdw10_11(0x8000_00FF, 0);
        view_laws(SetFeatures { fid, save }, raw, set, true, SetFeatures::from_sqe, SetFeatures::write_to)?;
        let queues = NumberOfQueues { submission, completion };
        let cdw11 = Fields::cdw10_11(0, u32::MAX);
        view_laws(queues, raw, cdw11, true, NumberOfQueues::from_sqe, NumberOfQueues::write_to)?;
        prop_assert_eq!(NumberOfQueues::from_dw0(queues.to_dw0()), queues);
        prop_assert_eq!(NumberOfQueues::from_dw0(dw0).to_dw0(), dw0);
    }

    #[test]
    fn abort_round_trips(sqid: u16, cid: u16, raw in bytes::<64>()) {
        let fields = Fields::cdw10_11(u32::MAX, 0);
        view_laws(Abort { sqid, cid }, raw, fields, true, Abort::from_sqe, Abort::write_to)?;
    }

    #[test]
    fn block_views_round_trip(range in block_range(), deallocate: bool, raw in bytes::<64>()) {
        // CDW10 and CDW11, the Starting LBA; CDW12 bits 15:0, and bit 25 for Write Zeroes.
        let nlb = Fields { nsid: 0, cdw: [u32::MAX, u32::MAX, 0x0000_FFFF, 0, 0, 0] };
        view_laws(range, raw, nlb, true, SubmissionEntry::block_range, |r, sqe| sqe.set_block_range(*r))?;
        let zeroes = Fields { nsid: 0, cdw: [u32::MAX, u32::MAX, 0x0200_FFFF, 0, 0, 0] };
        let x = WriteZeroes { range, deallocate };
        view_laws(x, raw, zeroes, true, WriteZeroes::from_sqe, WriteZeroes::write_to)?;
    }

    #[test]
    fn dataset_management_round_trips(
        nr: u8, integral_read: bool, integral_write: bool, deallocate: bool,
        raw in bytes::<64>(), range in bytes::<16>(),
    ) {
        let ranges = DsmRangeCount::new(u32::from(nr) + 1).unwrap();
        let x = DatasetManagement { ranges, integral_read, integral_write, deallocate };
        // CDW10 bits 7:0; CDW11 bits 2:0.
        let fields = Fields::cdw10_11(0x0000_00FF, 0x0000_0007);
        view_laws(x, raw, fields, true, DatasetManagement::from_sqe, DatasetManagement::write_to)?;
        let decoded = DsmRange::read_from_bytes(&range[..]).unwrap();
        prop_assert_eq!(decoded.as_bytes(), &range[..]);
        prop_assert_eq!(decoded.slba.get(), u64::from_le_bytes(range[8..].try_into().unwrap()));
    }

    #[test]
    fn log_page_request_round_trips(
        lid: u8, dwords in 1..=1u64 << 32, offset: u64, raw in bytes::<64>(),
    ) {
        let x = LogPageRequest { lid, len: dwords * 4, offset };
        // CDW10 bits 7:0 and 31:16; CDW11 bits 15:0; CDW12 and CDW13. `write_to` writes
        // CDW10 to CDW13 whole, LSP, RAE and LSI as zeros.
        let fields = Fields { nsid: 0, cdw: [0xFFFF_00FF, 0x0000_FFFF, u32::MAX, u32::MAX, 0, 0] };
        view_laws(x, raw, fields, false, LogPageRequest::from_sqe, |r, sqe| r.write_to(sqe).unwrap())?;
    }
}
