//! `wire_roundtrip`: any 64 bytes as a submission entry, any 16 as a completion entry and as
//! an SGL descriptor. Decoding then encoding gives the same bytes; the field accessors, read
//! and written back one by one, rebuild the same bytes (so they cover every bit and do not
//! overlap); every field reads what its bit positions in the specification hold; a typed
//! descriptor re-encodes to the raw one with only its reserved bytes cleared; every typed view
//! of the command dwords, decoded from the entry and written back over it, changes nothing;
//! and PSDT decodes as a controller must read it.

use arbitrary::Arbitrary;
use nvme_dma::dptr::{self, DataPointer, MetadataPointer, PsdtError};
use nvme_dma::sgl::{Capability, Descriptor, DescriptorError, Sgl1, SglCaps};
use nvme_dma::spec::{
    Abort, CommandId, CompletionEntry, CreateIoCq, CreateIoSq, DatasetManagement, DeleteIoQueue,
    Fuse, GetFeatures, Identify, NumberOfQueues, Psdt, SetFeatures, SglDescriptor,
    SglDescriptorType, SglSubtype, Status, SubmissionEntry, WriteZeroes,
};
use nvme_dma::QueueKind;

/// Raw wire bytes, and the queue and capabilities to decode the entry's PSDT against.
#[derive(Clone, Debug, PartialEq, Eq, Arbitrary)]
pub struct WireInput {
    /// A submission queue entry.
    pub sqe: SubmissionEntry,
    /// A completion queue entry.
    pub cqe: CompletionEntry,
    /// An SGL descriptor.
    pub descriptor: SglDescriptor,
    /// The queue the entry arrived on.
    pub queue: QueueKind,
    /// The controller's SGL support.
    pub caps: SglCaps,
}

crate::encode_fields!(WireInput {
    sqe,
    cqe,
    descriptor,
    queue,
    caps
});

fn le32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
}

fn le64(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap())
}

/// Run every wire check on one input.
pub fn check(input: &WireInput) {
    let sqe = input.sqe.to_bytes();
    check_sqe(&sqe);
    check_typed_views(&input.sqe);
    check_cqe(&input.cqe.to_bytes());
    check_descriptor(&input.descriptor.to_bytes());
    check_psdt_decode(&sqe, input.queue, &input.caps);
}

fn check_sqe(bytes: &[u8; 64]) {
    let e = SubmissionEntry::from_bytes(*bytes);
    assert_eq!(e.to_bytes(), *bytes, "SQE decode -> encode");

    // CDW0 by its sub-fields (Base spec figure "Command Dword 0").
    let cdw0 = le32(bytes, 0);
    assert_eq!(e.cdw0(), cdw0);
    assert_eq!(u32::from(e.opcode().0), cdw0 & 0xff);
    assert_eq!(u32::from(e.fuse().to_bits()), (cdw0 >> 8) & 3);
    assert_eq!(u32::from(e.cdw0_reserved()), (cdw0 >> 10) & 0xf);
    assert_eq!(u32::from(e.psdt().to_bits()), (cdw0 >> 14) & 3);
    assert_eq!(u32::from(e.cid()), cdw0 >> 16);
    assert_eq!(Fuse::from_bits(e.fuse().to_bits()), e.fuse());
    assert_eq!(Psdt::from_bits(e.psdt().to_bits()), e.psdt());
    assert_eq!(e.nsid(), le32(bytes, 4));
    assert_eq!((e.cdw2(), e.cdw3()), (le32(bytes, 8), le32(bytes, 12)));
    assert_eq!(e.mptr(), le64(bytes, 16));
    assert_eq!((e.prp1(), e.prp2()), (le64(bytes, 24), le64(bytes, 32)));
    assert_eq!(e.sgl1().to_bytes()[..], bytes[24..40]);
    for n in 0..=u8::MAX {
        let expected = (10..=15)
            .contains(&n)
            .then(|| le32(bytes, 40 + 4 * usize::from(n - 10)));
        assert_eq!(e.cdw(n).ok(), expected, "CDW{n}");
    }

    // The sub-field setters rebuild CDW0 from nothing, so they cover it and do not overlap.
    let mut rebuilt = SubmissionEntry::default();
    rebuilt.set_cid(e.cid());
    rebuilt.set_psdt(e.psdt());
    rebuilt.set_cdw0_reserved(e.cdw0_reserved());
    rebuilt.set_fuse(e.fuse());
    rebuilt.set_opcode(e.opcode());
    rebuilt.set_nsid(e.nsid());
    rebuilt.set_cdw2(e.cdw2());
    rebuilt.set_cdw3(e.cdw3());
    rebuilt.set_mptr(e.mptr());
    rebuilt.set_sgl1(e.sgl1());
    for n in 10..=15 {
        rebuilt.set_cdw(n, e.cdw(n).unwrap()).unwrap();
    }
    assert_eq!(rebuilt.to_bytes(), *bytes, "SQE rebuilt field by field");
    let mut untouched = e;
    assert!(untouched.set_cdw(9, 1).is_err() && untouched == e);
}

/// Every typed view decodes any entry, and writing what it decoded back over the entry leaves
/// it as it was: the view reads exactly the bits it writes.
fn check_typed_views(e: &SubmissionEntry) {
    fn same<V: std::fmt::Debug>(
        e: &SubmissionEntry,
        view: V,
        write_to: fn(&V, &mut SubmissionEntry),
    ) {
        let mut again = *e;
        write_to(&view, &mut again);
        assert_eq!(again, *e, "{view:?} written back changed the entry");
    }
    same(e, CreateIoCq::from_sqe(e), CreateIoCq::write_to);
    same(e, CreateIoSq::from_sqe(e), CreateIoSq::write_to);
    same(e, DeleteIoQueue::from_sqe(e), DeleteIoQueue::write_to);
    same(e, Identify::from_sqe(e), Identify::write_to);
    same(e, Abort::from_sqe(e), Abort::write_to);
    same(e, GetFeatures::from_sqe(e), GetFeatures::write_to);
    same(e, SetFeatures::from_sqe(e), SetFeatures::write_to);
    same(e, NumberOfQueues::from_sqe(e), NumberOfQueues::write_to);
    same(e, WriteZeroes::from_sqe(e), WriteZeroes::write_to);
    same(
        e,
        DatasetManagement::from_sqe(e),
        DatasetManagement::write_to,
    );
    same(e, e.block_range(), |r, sqe| sqe.set_block_range(*r));
}

fn check_cqe(bytes: &[u8; 16]) {
    let e = CompletionEntry::from_bytes(*bytes);
    assert_eq!(e.to_bytes(), *bytes, "CQE decode -> encode");
    let dw3 = le32(bytes, 12);
    assert_eq!((e.dw0(), e.dw1()), (le32(bytes, 0), le32(bytes, 4)));
    assert_eq!(e.dw2(), le32(bytes, 8));
    assert_eq!(e.dw3(), dw3);
    assert_eq!(
        (u32::from(e.sqhd()), u32::from(e.sqid())),
        (le32(bytes, 8) & 0xffff, le32(bytes, 8) >> 16)
    );
    assert_eq!(u32::from(e.cid()), dw3 & 0xffff);
    assert_eq!(e.phase(), dw3 & (1 << 16) != 0);

    // The Status Field, DW3 bits 31:17: SC 24:17, SCT 27:25, CRD 29:28, M 30, DNR 31.
    let s = e.status();
    assert_eq!(u32::from(s.raw()), dw3 >> 17);
    assert_eq!(u32::from(s.sc()), (dw3 >> 17) & 0xff);
    assert_eq!(u32::from(s.sct().to_raw()), (dw3 >> 25) & 7);
    assert_eq!(u32::from(s.crd()), (dw3 >> 28) & 3);
    assert_eq!(s.more(), dw3 & (1 << 30) != 0);
    assert_eq!(s.dnr(), dw3 & (1 << 31) != 0);
    assert_eq!(Status::from_raw(s.raw()), s);
    let rebuilt = Status::new(s.sct(), s.sc())
        .with_crd(s.crd())
        .with_more(s.more())
        .with_dnr(s.dnr());
    assert_eq!(rebuilt, s, "status rebuilt from its fields");

    let rebuilt = CompletionEntry::new(
        CommandId {
            sqid: e.sqid(),
            cid: e.cid(),
        },
        e.sqhd(),
        s,
        e.phase(),
    )
    .with_dw0(e.dw0())
    .with_dw1(e.dw1());
    assert_eq!(rebuilt.to_bytes(), *bytes, "CQE rebuilt field by field");
}

/// What a typed descriptor must re-encode to, from the specification's table alone: `None`
/// for a type/subtype pair that is not defined for PCIe and fabrics data pointers, else the
/// raw bytes with the bytes that pair leaves reserved cleared.
fn expected_reencoding(raw: &[u8; 16]) -> Option<[u8; 16]> {
    let (ty, sub) = (raw[15] >> 4, raw[15] & 0xf);
    let mut out = *raw;
    let clear_reserved = |out: &mut [u8; 16]| out[12..15].fill(0);
    match (ty, sub) {
        // Data Block (Address or Offset), Segment, Last Segment: address and length.
        (0, 0 | 1) | (2 | 3, 0) => clear_reserved(&mut out),
        // Bit Bucket: length only.
        (1, 0) => {
            out[..8].fill(0);
            clear_reserved(&mut out);
        }
        // Keyed Data Block: address, 24-bit length and 32-bit key fill bytes 14:0.
        (4, 0 | 0xa..=0xf) => {}
        // Transport Data Block: length only, transport-specific subtypes.
        (5, 0xa..=0xf) => {
            out[..8].fill(0);
            clear_reserved(&mut out);
        }
        _ => return None,
    }
    Some(out)
}

fn check_descriptor(bytes: &[u8; 16]) {
    let raw = SglDescriptor::from_bytes(*bytes);
    assert_eq!(raw.to_bytes(), *bytes, "descriptor decode -> encode");
    assert_eq!(raw.address(), le64(bytes, 0));
    assert_eq!(raw.length(), le32(bytes, 8));
    assert_eq!(raw.type_specific()[..], bytes[12..15]);
    assert_eq!(raw.identifier(), bytes[15]);
    assert_eq!(raw.keyed_length(), le32(bytes, 8) & 0x00ff_ffff);
    assert_eq!(raw.key(), le32(bytes, 11));
    let (ty, sub) = (raw.descriptor_type(), raw.subtype());
    assert_eq!(
        (ty.to_nibble(), sub.to_nibble()),
        (bytes[15] >> 4, bytes[15] & 0xf)
    );
    assert_eq!(SglDescriptorType::from_nibble(ty.to_nibble()), ty);
    assert_eq!(SglSubtype::from_nibble(sub.to_nibble()), sub);

    let mut rebuilt = SglDescriptor::default();
    rebuilt.set_identifier(raw.identifier());
    rebuilt.set_type_specific(raw.type_specific());
    rebuilt.set_length(raw.length());
    rebuilt.set_address(raw.address());
    assert_eq!(rebuilt, raw, "descriptor rebuilt field by field");
    let mut by_nibbles = raw;
    by_nibbles.set_identifier(0);
    by_nibbles.set_subtype(sub);
    by_nibbles.set_descriptor_type(ty);
    assert_eq!(by_nibbles, raw, "type and subtype rebuilt");
    let mut keyed = SglDescriptor::from_bytes([0; 16]);
    keyed.set_address(raw.address());
    keyed.set_keyed_length(raw.keyed_length());
    keyed.set_key(raw.key());
    keyed.set_identifier(raw.identifier());
    assert_eq!(
        keyed, raw,
        "keyed form rebuilt: length and key cover bytes 14:8"
    );

    let parsed = Descriptor::parse(&raw);
    match (parsed, expected_reencoding(bytes)) {
        (Ok(d), Some(expected)) => {
            assert_eq!(d.to_raw().to_bytes(), expected, "{d:?} re-encoded");
            assert_eq!(Descriptor::parse(&d.to_raw()), Ok(d), "parse . to_raw");
            assert_eq!(Sgl1::parse(&raw).map(|s| s.descriptor()), Ok(d));
            assert_eq!(Sgl1::parse(&raw).unwrap().to_raw(), d.to_raw());
        }
        (Err(e), None) => {
            assert_eq!(
                e.status(),
                Status::SGL_DESCRIPTOR_TYPE_INVALID.with_dnr(true)
            );
            assert!(!e.to_string().is_empty());
            let kind_ok = match e {
                DescriptorError::ReservedType(n) => (6..=0xe).contains(&n) && n == bytes[15] >> 4,
                DescriptorError::VendorSpecific => bytes[15] >> 4 == 0xf,
                _ => bytes[15] >> 4 <= 5,
            };
            assert!(kind_ok, "{e:?} for identifier {:#04x}", bytes[15]);
        }
        (parsed, expected) => {
            panic!(
                "identifier {:#04x}: parsed {parsed:?}, expected {expected:?}",
                bytes[15]
            )
        }
    }
}

/// PSDT read as a controller must (NVMe Base Specification 2.1, 4.2): 11b reserved; an
/// SGL on the admin queue, or one the controller does not support, refused; everything else
/// the pointers the bytes hold.
fn check_psdt_decode(bytes: &[u8; 64], queue: QueueKind, caps: &SglCaps) {
    let sqe = SubmissionEntry::from_bytes(*bytes);
    let psdt = bytes[1] >> 6;
    let expected = match psdt {
        3 => Err(PsdtError::Reserved),
        1 | 2 if queue == QueueKind::Admin => Err(PsdtError::SglOnAdminQueue),
        1 | 2 if !caps.supported() => Err(PsdtError::NotSupported(Capability::Sgl)),
        2 if !caps.has(Capability::MetadataSgl) => {
            Err(PsdtError::NotSupported(Capability::MetadataSgl))
        }
        _ => Ok(()),
    };
    let decoded = dptr::decode(&sqe, queue, caps);
    match (decoded, expected) {
        (Err(got), Err(want)) => {
            assert_eq!(got, want);
            assert_eq!(got.status(), Status::INVALID_FIELD.with_dnr(true));
        }
        (Ok(pointers), Ok(())) => {
            let mptr = le64(bytes, 16);
            let (data, metadata) = match psdt {
                0 => (
                    DataPointer::Prp {
                        prp1: le64(bytes, 24),
                        prp2: le64(bytes, 32),
                    },
                    MetadataPointer::Contiguous {
                        mptr,
                        sgl_data: false,
                    },
                ),
                1 => (
                    DataPointer::Sgl(SglDescriptor::from_bytes(bytes[24..40].try_into().unwrap())),
                    MetadataPointer::Contiguous {
                        mptr,
                        sgl_data: true,
                    },
                ),
                _ => (
                    DataPointer::Sgl(SglDescriptor::from_bytes(bytes[24..40].try_into().unwrap())),
                    MetadataPointer::Sgl(mptr),
                ),
            };
            assert_eq!((pointers.data, pointers.metadata), (data, metadata));
        }
        (got, want) => panic!("PSDT {psdt:02b} on {queue:?}: decoded {got:?}, expected {want:?}"),
    }
}
