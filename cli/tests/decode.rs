//! `nvme-dma decode`: entries and descriptors built with the library's wire types, printed as
//! hex, decoded by the command, and every field compared with the value that was set.

mod common;

use std::collections::HashMap;

use common::{json, run, stderr, stdout};
use nvme_dma::spec::{
    CommandId, CompletionEntry, Opcode, Psdt, SglDescriptor, SglDescriptorType, SglSubtype, Status,
    StatusCodeType, SubmissionEntry,
};
use serde_json::Value;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The decoded fields by name: (bytes, value).
fn fields(doc: &Value) -> HashMap<String, (String, u64)> {
    doc["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let value = f["value"].as_str().unwrap().trim_start_matches("0x");
            (
                f["name"].as_str().unwrap().to_string(),
                (
                    f["bytes"].as_str().unwrap().to_string(),
                    u64::from_str_radix(value, 16).unwrap(),
                ),
            )
        })
        .collect()
}

/// Every byte of the structure is covered by some field.
fn covers_every_byte(doc: &Value, size: usize) {
    let mut covered = vec![false; size];
    for f in doc["fields"].as_array().unwrap() {
        let range = f["bytes"].as_str().unwrap();
        let (high, low) = match range.split_once(':') {
            Some((h, l)) => (h.parse::<usize>().unwrap(), l.parse::<usize>().unwrap()),
            None => {
                let b = range.parse::<usize>().unwrap();
                (b, b)
            }
        };
        covered[low..=high].iter_mut().for_each(|c| *c = true);
    }
    assert!(covered.iter().all(|&c| c), "uncovered bytes in {doc}");
}

#[test]
fn a_submission_entry_names_every_field() {
    let mut sqe = SubmissionEntry::new(Opcode::NVM_READ, 0x1234)
        .with_nsid(1)
        .with_mptr(0x7000)
        .with_prp1(0x10200)
        .with_prp2(0x80000)
        .with_cdw10(0xdead_beef)
        .with_cdw12(7);
    sqe.set_cdw(15, 0x55).unwrap();
    let bytes = hex(&sqe.to_bytes());
    let (doc, code) = json(&["decode", &bytes]);
    assert_eq!(code, 0);
    assert_eq!(doc["kind"], "sqe");
    assert_eq!(doc["size"], 64);
    covers_every_byte(&doc, 64);
    let f = fields(&doc);
    assert_eq!(f["OPC"].1, u64::from(Opcode::NVM_READ.0));
    assert_eq!(f["CID"], ("3:2".into(), 0x1234));
    assert_eq!(f["PSDT"].1, 0);
    assert_eq!(f["NSID"], ("7:4".into(), 1));
    assert_eq!(f["MPTR"], ("23:16".into(), 0x7000));
    assert_eq!(f["PRP1"], ("31:24".into(), 0x10200));
    assert_eq!(f["PRP2"], ("39:32".into(), 0x80000));
    assert_eq!(f["CDW10"], ("43:40".into(), 0xdead_beef));
    assert_eq!(f["CDW12"].1, 7);
    assert_eq!(f["CDW15"], ("63:60".into(), 0x55));

    // Meanings wrap: compare with the whitespace folded.
    let text = stdout(&run(&["decode", &bytes]));
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(text.contains("Read (NVM I/O command)"), "{text}");
    assert!(text.contains("Get Log Page (admin command)"), "{text}");
    assert!(text.contains("controller → host"), "{text}");
}

#[test]
fn a_submission_entry_with_an_sgl_decodes_sgl1() {
    let sgl1 = SglDescriptor::new(
        0x8_0000,
        48,
        SglDescriptorType::LastSegment,
        SglSubtype::Address,
    );
    let sqe = SubmissionEntry::new(Opcode::NVM_WRITE, 9)
        .with_psdt(Psdt::Sgl)
        .with_sgl1(sgl1);
    let (doc, code) = json(&["decode", &hex(&sqe.to_bytes())]);
    assert_eq!(code, 0);
    covers_every_byte(&doc, 64);
    let f = fields(&doc);
    assert_eq!(f["PSDT"].1, 1);
    assert!(!f.contains_key("PRP1"));
    assert_eq!(f["SGL1.Address"], ("31:24".into(), 0x8_0000));
    assert_eq!(f["SGL1.Length"], ("35:32".into(), 48));
    assert_eq!(f["SGL1.Type"], ("39".into(), 3));
    assert!(doc["notes"][0]
        .as_str()
        .unwrap()
        .contains("the last segment at 0x80000 of 3"));
}

#[test]
fn a_completion_entry_names_every_field() {
    let status = Status::PRP_OFFSET_INVALID.with_dnr(true);
    let cqe = CompletionEntry::new(
        CommandId {
            sqid: 1,
            cid: 0x1234,
        },
        5,
        status,
        true,
    )
    .with_dw0(0xabcd);
    let bytes = hex(&cqe.to_bytes());
    let (doc, code) = json(&["decode", "--as", "cqe", &bytes]);
    assert_eq!(code, 0);
    assert_eq!(doc["kind"], "cqe");
    covers_every_byte(&doc, 16);
    let f = fields(&doc);
    assert_eq!(f["DW0"].1, 0xabcd);
    assert_eq!(f["SQHD"], ("9:8".into(), 5));
    assert_eq!(f["SQID"], ("11:10".into(), 1));
    assert_eq!(f["CID"], ("13:12".into(), 0x1234));
    assert_eq!(f["P"].1, 1);
    assert_eq!(f["SC"].1, u64::from(status.sc()));
    assert_eq!(f["SCT"].1, u64::from(status.sct().to_raw()));
    assert_eq!(f["DNR"].1, 1);
    assert_eq!(f["M"].1, 0);
    assert_eq!(doc["notes"][0], format!("Status: {status}"));
    let text = stdout(&run(&["decode", "--as", "cqe", &bytes]));
    assert!(text.contains("PRP Offset Invalid"), "{text}");
}

#[test]
fn sgl_descriptors_decode_with_what_a_controller_makes_of_them() {
    let block = SglDescriptor::new(
        0x1000,
        4096,
        SglDescriptorType::DataBlock,
        SglSubtype::Address,
    );
    let (doc, code) = json(&["decode", "--as", "sgl", &hex(&block.to_bytes())]);
    assert_eq!(code, 0);
    covers_every_byte(&doc, 16);
    let f = fields(&doc);
    assert_eq!(f["Address"], ("7:0".into(), 0x1000));
    assert_eq!(f["Length"], ("11:8".into(), 4096));
    assert_eq!(f["Type"], ("15".into(), 0));
    assert_eq!(doc["notes"][0], "4096 bytes of data at 0x1000");

    let keyed = SglDescriptor::new(
        0x2000,
        0,
        SglDescriptorType::KeyedDataBlock,
        SglSubtype::Address,
    )
    .with_key(0xdead_beef);
    let mut keyed = keyed;
    keyed.set_keyed_length(0x10);
    let (doc, _) = json(&["decode", "--as", "sgl", &hex(&keyed.to_bytes())]);
    let f = fields(&doc);
    assert_eq!(f["Key"], ("14:11".into(), 0xdead_beef));
    assert_eq!(f["Length"], ("10:8".into(), 0x10));
    covers_every_byte(&doc, 16);

    // A reserved type: decoded all the same, with the status a controller answers.
    let mut reserved = block;
    reserved.set_descriptor_type(SglDescriptorType::Reserved(7));
    let (doc, code) = json(&["decode", "--as", "sgl", &hex(&reserved.to_bytes())]);
    assert_eq!(code, 0);
    assert!(doc["notes"][0]
        .as_str()
        .unwrap()
        .contains("SGL Descriptor Type Invalid"));
}

#[test]
fn hex_may_be_split_and_separated() {
    let block = SglDescriptor::new(
        0x1000,
        16,
        SglDescriptorType::DataBlock,
        SglSubtype::Address,
    );
    let bytes = hex(&block.to_bytes());
    let spaced = format!("0x{} {}:{}", &bytes[..8], &bytes[8..20], &bytes[20..]);
    let (doc, code) = json(&["decode", "--as", "sgl", &spaced]);
    assert_eq!(code, 0);
    assert_eq!(fields(&doc)["Address"].1, 0x1000);
}

#[test]
fn wrong_lengths_and_ambiguity_are_usage_errors() {
    let sixteen = "00".repeat(16);
    for (args, needle) in [
        (vec!["decode", sixteen.as_str()], "--as"),
        (vec!["decode", "abc"], "<HEX>"),
        (vec!["decode", "zz"], "<HEX>"),
        (vec!["decode", &"00".repeat(20)], "20 bytes"),
        (vec!["decode", "--as", "sqe", sixteen.as_str()], "64 bytes"),
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{needle} in {err}");
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn an_asynchronous_event_request_over_its_limit_is_named() {
    // Command Specific Status 05h: more Asynchronous Event Requests outstanding than AERL + 1.
    let status = Status::new(StatusCodeType::CommandSpecific, 0x05);
    let cqe = CompletionEntry::new(CommandId { sqid: 0, cid: 7 }, 1, status, true);
    let bytes = hex(&cqe.to_bytes());
    let (doc, code) = json(&["decode", "--as", "cqe", &bytes]);
    assert_eq!(code, 0);
    let sc = doc["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "SC")
        .unwrap();
    assert_eq!(
        sc["meaning"],
        "status code: Asynchronous Event Request Limit Exceeded"
    );
    assert_eq!(
        doc["notes"][0],
        "Status: Asynchronous Event Request Limit Exceeded (SCT 1h, SC 05h)"
    );
}

/// `decode`'s text with `COLUMNS` set to `columns` (or unset), into a pipe.
fn decode_text(args: &[&str], columns: Option<&str>) -> String {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_nvme-dma"));
    command.arg("decode").args(args).env_remove("COLUMNS");
    if let Some(columns) = columns {
        command.env("COLUMNS", columns);
    }
    let out = command.output().expect("the nvme-dma binary runs");
    assert_eq!(out.status.code(), Some(0));
    String::from_utf8(out.stdout).expect("stdout is UTF-8")
}

/// The lines that continue a meaning (they start at the meaning column, 64 spaces in), each
/// with whether another continuation of the same meaning follows it.
fn continuations(text: &str) -> Vec<(&str, bool)> {
    let indent = " ".repeat(64);
    let lines: Vec<&str> = text.lines().collect();
    lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with(&indent))
        .map(|(i, l)| {
            let more = lines.get(i + 1).is_some_and(|n| n.starts_with(&indent));
            (*l, more)
        })
        .collect()
}

#[test]
fn meanings_wrap_to_the_width_not_one_word_per_line() {
    let sqe = SubmissionEntry::new(Opcode::NVM_READ, 1)
        .with_psdt(Psdt::SglMetadataSgl)
        .to_bytes();
    let bytes = hex(&sqe);

    // Into a pipe without COLUMNS: 100 columns, and a meaning that must wrap is cut into
    // lines of several words that fill the column.
    let text = decode_text(&[&bytes], None);
    let wrapped = continuations(&text);
    assert!(
        !wrapped.is_empty(),
        "a long meaning wraps at 100 columns:\n{text}"
    );
    for (line, more) in &wrapped {
        assert!(
            line.chars().count() <= 100,
            "{line:?} is wider than 100:\n{text}"
        );
        if *more {
            assert!(
                line.split_whitespace().count() > 1,
                "one word on a line that is not a meaning's last:\n{text}"
            );
        }
    }
    for line in text.lines() {
        assert!(
            line.chars().count() <= 100,
            "{line:?} is wider than 100:\n{text}"
        );
    }

    // A wide terminal (or COLUMNS) keeps every meaning on its field's line.
    let text = decode_text(&[&bytes], Some("200"));
    assert!(continuations(&text).is_empty(), "{text}");
    let fields = text.lines().filter(|l| l.starts_with("  ")).count();
    assert!(fields > 20, "{text}");

    // A narrow one still puts several words on a line: the column keeps a useful width.
    let text = decode_text(&[&bytes], Some("40"));
    for (line, more) in continuations(&text) {
        if more {
            assert!(line.split_whitespace().count() > 1, "{text}");
        }
    }
}
