//! `decode`: every field of a submission entry, a completion entry or an SGL descriptor, named,
//! with its bytes, its value and what it means. The library's wire types do the decoding.

use nvme_dma::sgl::{DataDescriptor, Descriptor, SegmentKind};
use nvme_dma::spec::{
    CompletionEntry, DataDirection, Fuse, Opcode, Psdt, SglDescriptor, SglDescriptorType,
    SglSubtype, Status, StatusCodeType, SubmissionEntry,
};
use serde::Serialize;

use crate::style::Style;
use crate::text::{wrap_column, Out};

/// What the bytes are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// A 64-byte submission queue entry.
    Sqe,
    /// A 16-byte completion queue entry.
    Cqe,
    /// A 16-byte SGL descriptor.
    Sgl,
}

/// The decoded bytes.
#[derive(Clone, Debug, Serialize)]
pub struct Decoded {
    /// `sqe`, `cqe` or `sgl_descriptor`.
    pub kind: &'static str,
    /// Bytes decoded.
    pub size: usize,
    /// Every field, in byte order.
    pub fields: Vec<Field>,
    /// What the fields mean together (an SGL descriptor as a controller reads it).
    pub notes: Vec<String>,
}

/// One named field.
#[derive(Clone, Debug, Serialize)]
pub struct Field {
    /// The specification's name (with its containing field: `SGL1.Length`).
    pub name: String,
    /// Byte range in the structure, high:low (`3:0`), or one byte (`15`).
    pub bytes: String,
    /// Bit range within the dword or byte, when the field is narrower than its bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bits: Option<&'static str>,
    /// The value, in hex.
    pub value: String,
    /// What it means.
    pub meaning: String,
}

fn field(
    name: &str,
    bytes: &str,
    bits: Option<&'static str>,
    value: u64,
    meaning: String,
) -> Field {
    Field {
        name: name.into(),
        bytes: bytes.into(),
        bits,
        value: format!("{value:#x}"),
        meaning,
    }
}

/// Decode `bytes` as `kind`; the caller has checked the length.
pub fn decode(kind: Kind, bytes: &[u8]) -> Option<Decoded> {
    Some(match kind {
        Kind::Sqe => {
            let entry = SubmissionEntry::from_bytes(bytes.try_into().ok()?);
            let notes = if entry.psdt().is_sgl() {
                vec![format!("SGL1: {}", whole_meaning(&entry.sgl1()))]
            } else {
                Vec::new()
            };
            Decoded {
                kind: "sqe",
                size: SubmissionEntry::SIZE,
                fields: sqe(&entry),
                notes,
            }
        }
        Kind::Cqe => {
            let entry = CompletionEntry::from_bytes(bytes.try_into().ok()?);
            Decoded {
                kind: "cqe",
                size: CompletionEntry::SIZE,
                fields: cqe(&entry),
                notes: vec![format!("Status: {}", entry.status())],
            }
        }
        Kind::Sgl => {
            let descriptor = SglDescriptor::from_bytes(bytes.try_into().ok()?);
            Decoded {
                kind: "sgl_descriptor",
                size: SglDescriptor::SIZE,
                fields: sgl(&descriptor, "", 0),
                notes: vec![whole_meaning(&descriptor)],
            }
        }
    })
}

fn opcode_meaning(opcode: Opcode) -> String {
    let names: Vec<String> = [
        opcode.nvm_name().map(|n| format!("{n} (NVM I/O command)")),
        opcode.admin_name().map(|n| format!("{n} (admin command)")),
    ]
    .into_iter()
    .flatten()
    .collect();
    let name = if names.is_empty() {
        "an opcode this tool has no name for".to_string()
    } else {
        names.join(" or ")
    };
    let direction = match opcode.direction() {
        DataDirection::None => "no data transfer",
        DataDirection::HostToController => "data moves host → controller",
        DataDirection::ControllerToHost => "data moves controller → host",
        DataDirection::Bidirectional => "bidirectional data transfer",
    };
    format!("{name}; bits 1:0 say {direction}")
}

fn sqe(e: &SubmissionEntry) -> Vec<Field> {
    let psdt = e.psdt();
    let mut fields = vec![
        field("OPC", "0", Some("CDW0 7:0"), u64::from(e.opcode().0), opcode_meaning(e.opcode())),
        field(
            "FUSE",
            "1",
            Some("CDW0 9:8"),
            u64::from(e.fuse().to_bits()),
            match e.fuse() {
                Fuse::Normal => "normal operation",
                Fuse::FirstOfFused => "first command of a fused operation",
                Fuse::SecondOfFused => "second command of a fused operation",
                Fuse::Reserved => "reserved",
            }
            .into(),
        ),
        field(
            "reserved",
            "1",
            Some("CDW0 13:10"),
            u64::from(e.cdw0_reserved()),
            if e.cdw0_reserved() == 0 {
                "reserved, zero".into()
            } else {
                "reserved, but not zero".into()
            },
        ),
        field(
            "PSDT",
            "1",
            Some("CDW0 15:14"),
            u64::from(psdt.to_bits()),
            match psdt {
                Psdt::Prp => "00b: PRPs for the data; MPTR is a contiguous metadata buffer",
                Psdt::Sgl => {
                    "01b: an SGL for the data (DPTR is SGL1); MPTR is a contiguous metadata buffer"
                }
                Psdt::SglMetadataSgl => {
                    "10b: an SGL for the data (DPTR is SGL1); MPTR points at an SGL segment of one descriptor"
                }
                Psdt::Reserved => "11b: reserved; a controller answers Invalid Field in Command",
            }
            .into(),
        ),
        field(
            "CID",
            "3:2",
            Some("CDW0 31:16"),
            u64::from(e.cid()),
            "command identifier, echoed in the completion entry".into(),
        ),
        field(
            "NSID",
            "7:4",
            None,
            u64::from(e.nsid()),
            match e.nsid() {
                0 => "namespace identifier: 0, not used".into(),
                u32::MAX => "namespace identifier: FFFFFFFFh, every namespace".into(),
                n => format!("namespace identifier {n}"),
            },
        ),
        field("CDW2", "11:8", None, u64::from(e.cdw2()), "command specific".into()),
        field("CDW3", "15:12", None, u64::from(e.cdw3()), "command specific".into()),
        field(
            "MPTR",
            "23:16",
            None,
            e.mptr(),
            match psdt {
                Psdt::SglMetadataSgl => {
                    "metadata pointer: address of an SGL segment holding the metadata descriptor"
                }
                _ => "metadata pointer: address of a contiguous metadata buffer (0 if none)",
            }
            .into(),
        ),
    ];
    if psdt.is_sgl() {
        fields.extend(sgl(&e.sgl1(), "SGL1.", 24));
    } else {
        fields.push(field(
            "PRP1",
            "31:24",
            None,
            e.prp1(),
            "PRP entry 1: the first data byte; the only data entry that may have a page offset"
                .into(),
        ));
        fields.push(field(
            "PRP2",
            "39:32",
            None,
            e.prp2(),
            "PRP entry 2: unused, the second data page, or a PRP list pointer (the length decides)"
                .into(),
        ));
    }
    for n in 10u8..=15 {
        let low = 40 + (n - 10) * 4;
        fields.push(Field {
            name: format!("CDW{n}"),
            bytes: format!("{}:{low}", low + 3),
            bits: None,
            value: format!("{:#x}", e.cdw(n).unwrap_or(0)),
            meaning: "command specific".into(),
        });
    }
    fields
}

fn cqe(e: &CompletionEntry) -> Vec<Field> {
    let status = e.status();
    vec![
        field(
            "DW0",
            "3:0",
            None,
            u64::from(e.dw0()),
            "command specific".into(),
        ),
        field(
            "DW1",
            "7:4",
            None,
            u64::from(e.dw1()),
            "command specific".into(),
        ),
        field(
            "SQHD",
            "9:8",
            Some("DW2 15:0"),
            u64::from(e.sqhd()),
            "submission queue head: entries up to here may be reused".into(),
        ),
        field(
            "SQID",
            "11:10",
            Some("DW2 31:16"),
            u64::from(e.sqid()),
            "submission queue the command came from".into(),
        ),
        field(
            "CID",
            "13:12",
            Some("DW3 15:0"),
            u64::from(e.cid()),
            "command identifier of the completed command".into(),
        ),
        field(
            "P",
            "14",
            Some("DW3 16"),
            u64::from(e.phase()),
            "phase tag: flips on each pass through the queue, so the host sees new entries".into(),
        ),
        field(
            "SC",
            "15:14",
            Some("DW3 24:17"),
            u64::from(status.sc()),
            status_name(status),
        ),
        field(
            "SCT",
            "15",
            Some("DW3 27:25"),
            u64::from(status.sct().to_raw()),
            match status.sct() {
                StatusCodeType::Generic => "generic command status".into(),
                StatusCodeType::CommandSpecific => "command specific status".into(),
                StatusCodeType::MediaAndDataIntegrity => "media and data integrity error".into(),
                StatusCodeType::PathRelated => "path related status".into(),
                StatusCodeType::VendorSpecific => "vendor specific".into(),
                StatusCodeType::Reserved(_) => "reserved".into(),
            },
        ),
        field(
            "CRD",
            "15",
            Some("DW3 29:28"),
            u64::from(status.crd()),
            match status.crd() {
                0 => "command retry delay: none".into(),
                n => format!("command retry delay: wait CRDT{n} before retrying"),
            },
        ),
        field(
            "M",
            "15",
            Some("DW3 30"),
            u64::from(status.more()),
            if status.more() {
                "more: details in the Error Information log page".into()
            } else {
                "more: no further status information".into()
            },
        ),
        field(
            "DNR",
            "15",
            Some("DW3 31"),
            u64::from(status.dnr()),
            if status.dnr() {
                "do not retry: the same command would fail again".into()
            } else {
                "a retry may succeed".into()
            },
        ),
    ]
}

fn status_name(status: Status) -> String {
    if status.is_success() {
        return "Successful Completion".into();
    }
    match status.name() {
        Some(name) => format!("status code: {name}"),
        None => "status code this tool has no name for".into(),
    }
}

/// The fields of one SGL descriptor; `prefix` names the containing field, `base` its first byte.
fn sgl(d: &SglDescriptor, prefix: &str, base: u8) -> Vec<Field> {
    let range = |high: u8, low: u8| {
        if high == low {
            format!("{}", base + low)
        } else {
            format!("{}:{}", base + high, base + low)
        }
    };
    let keyed = d.descriptor_type() == SglDescriptorType::KeyedDataBlock;
    let mut fields = vec![field(
        &format!("{prefix}Address"),
        &range(7, 0),
        None,
        d.address(),
        match d.descriptor_type() {
            SglDescriptorType::BitBucket | SglDescriptorType::TransportDataBlock => {
                "address: unused by this type".into()
            }
            _ if d.subtype() == SglSubtype::Offset => {
                "an offset into the command capsule's data".into()
            }
            _ => "bus address".into(),
        },
    )];
    if keyed {
        fields.push(field(
            &format!("{prefix}Length"),
            &range(10, 8),
            None,
            u64::from(d.keyed_length()),
            format!(
                "{} bytes (24-bit length of a keyed data block)",
                d.keyed_length()
            ),
        ));
        fields.push(field(
            &format!("{prefix}Key"),
            &range(14, 11),
            None,
            u64::from(d.key()),
            "key that grants access to the remote memory".into(),
        ));
    } else {
        fields.push(field(
            &format!("{prefix}Length"),
            &range(11, 8),
            None,
            u64::from(d.length()),
            length_meaning(d),
        ));
        let [a, b, c] = d.type_specific();
        fields.push(field(
            &format!("{prefix}reserved"),
            &range(14, 12),
            None,
            u64::from(u32::from_le_bytes([a, b, c, 0])),
            "reserved for this type".into(),
        ));
    }
    fields.push(field(
        &format!("{prefix}Type"),
        &range(15, 15),
        Some("7:4"),
        u64::from(d.descriptor_type().to_nibble()),
        type_name(d.descriptor_type()).into(),
    ));
    fields.push(field(
        &format!("{prefix}Subtype"),
        &range(15, 15),
        Some("3:0"),
        u64::from(d.subtype().to_nibble()),
        match d.subtype() {
            SglSubtype::Address => "Address".into(),
            SglSubtype::Offset => "Offset".into(),
            SglSubtype::TransportSpecific(n) => format!("transport specific ({n:X}h)"),
            SglSubtype::Reserved(n) => format!("reserved ({n:X}h)"),
        },
    ));
    fields
}

fn length_meaning(d: &SglDescriptor) -> String {
    let len = d.length();
    match d.descriptor_type() {
        SglDescriptorType::Segment | SglDescriptorType::LastSegment => {
            format!("{len} bytes of segment: {} descriptor(s)", len / 16)
        }
        _ => format!("{len} bytes"),
    }
}

fn type_name(t: SglDescriptorType) -> &'static str {
    match t {
        SglDescriptorType::DataBlock => "Data Block",
        SglDescriptorType::BitBucket => "Bit Bucket",
        SglDescriptorType::Segment => "Segment",
        SglDescriptorType::LastSegment => "Last Segment",
        SglDescriptorType::KeyedDataBlock => "Keyed Data Block",
        SglDescriptorType::TransportDataBlock => "Transport Data Block",
        SglDescriptorType::Reserved(_) => "reserved",
        SglDescriptorType::VendorSpecific => "vendor specific",
    }
}

/// The descriptor as a controller reads it: typed, or why it would be refused.
fn whole_meaning(d: &SglDescriptor) -> String {
    match Descriptor::parse(d) {
        Ok(Descriptor::Data(data)) => match data {
            DataDescriptor::Block { addr, len } if addr == 0 && len == 0 => {
                "the null descriptor: a Data Block of no bytes".into()
            }
            DataDescriptor::Block { addr, len } => format!("{len} bytes of data at {addr:#x}"),
            DataDescriptor::CapsuleBlock { offset, len } => {
                format!("{len} bytes at offset {offset:#x} of the capsule's data")
            }
            DataDescriptor::BitBucket { len } => {
                format!("{len} bytes a read discards (nothing in a write)")
            }
            DataDescriptor::Keyed { addr, len, key, .. } => {
                format!("{len} bytes of remote memory at {addr:#x}, key {key:#x}")
            }
            DataDescriptor::Transport { len, .. } => format!("{len} bytes the transport carries"),
        },
        Ok(Descriptor::Pointer(p)) => format!(
            "points to {} segment at {:#x} of {} descriptor(s){}",
            match p.kind {
                SegmentKind::Segment => "a (not last)",
                SegmentKind::LastSegment => "the last",
            },
            p.addr,
            p.len / 16,
            if p.addr & 7 != 0 || p.len == 0 || p.len % 16 != 0 {
                " — but segments are qword aligned and a non-zero multiple of 16 bytes long \
                 (Invalid SGL Segment Descriptor)"
            } else {
                ""
            }
        ),
        Err(e) => format!("a controller refuses it: {e} ({})", e.status()),
    }
}

/// Where the meaning column starts: two spaces, then bytes, bits, field and value, each
/// padded and followed by a space.
const MEANING_COLUMN: usize = 2 + 8 + 12 + 21 + 21;

/// The narrowest meaning column: on a terminal narrower than the table, lines run past its
/// edge and the terminal folds them, which reads better than a word or two per line.
const MIN_MEANING_WIDTH: usize = 32;

/// The fields as a table `width` columns wide; the meaning column takes what the others
/// leave.
pub fn text(decoded: &Decoded, style: &Style, width: usize) -> String {
    let mut out = Out::default();
    out.line(style.heading(match decoded.kind {
        "sqe" => "Submission queue entry (64 bytes)",
        "cqe" => "Completion queue entry (16 bytes)",
        _ => "SGL descriptor (16 bytes)",
    }));
    out.line(style.dim(format!(
        "  {:<7} {:<11} {:<20} {:<20} meaning",
        "bytes", "bits", "field", "value"
    )));
    let indent = " ".repeat(MEANING_COLUMN);
    let meaning_width = width.saturating_sub(MEANING_COLUMN).max(MIN_MEANING_WIDTH);
    for f in &decoded.fields {
        out.line(format!(
            "  {:<7} {:<11} {:<20} {} {}",
            f.bytes,
            f.bits.unwrap_or(""),
            f.name,
            style.addr(format!("{:<20}", f.value)),
            wrap_column(&f.meaning, meaning_width, &indent)
        ));
    }
    let note_width = width.saturating_sub(4).max(MIN_MEANING_WIDTH);
    for note in &decoded.notes {
        out.line(format!("  {}", wrap_column(note, note_width, "    ")));
    }
    out.0
}
