//! `nvme-dma exec`: every shipped scenario holds its expectations; the report's completions,
//! trace, cost and digests agree with rules worked out here; a failed expectation exits 1;
//! a scenario that cannot be read names the field at fault.

mod common;

use std::path::{Path, PathBuf};

use common::{addr, json, run, stderr, stdout};
use nvme_dma::prp::PrpBuilder;
use nvme_dma::{Extent, PageSize};

/// The scenarios shipped at the repository root.
fn shipped() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("examples/scenarios exists")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn scenario(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/scenarios")
        .join(name);
    assert!(path.exists(), "{}", path.display());
    path.display().to_string()
}

/// Write `text` to a fresh file for one test and return its path.
fn temp(name: &str, text: &str) -> String {
    let path =
        std::env::temp_dir().join(format!("nvme-dma-exec-{}-{name}.json", std::process::id()));
    std::fs::write(&path, text).expect("temp file written");
    path.display().to_string()
}

#[test]
fn every_shipped_scenario_holds_its_expectations() {
    let files = shipped();
    assert!(files.len() >= 17, "{files:?}");
    let mut statuses = Vec::new();
    for file in &files {
        let file = file.display().to_string();
        let (doc, code) = json(&["exec", &file]);
        assert_eq!(code, 0, "{file}: {doc:#}");
        let tally = &doc["expectations"];
        assert_eq!(tally["failed"], 0, "{file}");
        let commands = doc["commands"].as_array().unwrap();
        // Every command states what it must complete with, so every scenario is a test.
        for c in commands {
            assert!(
                c["expect"].is_object(),
                "{file}: command {} has no expectation",
                c["index"]
            );
            assert_eq!(c["ok"], true, "{file}: {c:#}");
            let got = c["completion"]["status"]["name"].as_str().unwrap();
            assert_eq!(got, c["expect"]["status"], "{file}");
            statuses.push(got.to_string());
        }
        assert!(
            tally["total"].as_u64().unwrap() > commands.len() as u64,
            "{file}: checks too"
        );
        // Text mode agrees.
        let out = run(&["exec", &file]);
        assert_eq!(out.status.code(), Some(0), "{file}: {}", stderr(&out));
        assert!(stdout(&out).contains("Result: all"), "{file}");
    }
    // Between them, the scenarios show every way a data pointer fails that the task names.
    for status in [
        "Successful Completion",
        "PRP Offset Invalid",
        "Data Transfer Error",
        "SGL Descriptor Type Invalid",
        "Invalid Number of SGL Descriptors",
        "Data SGL Length Invalid",
        "Invalid SGL Segment Descriptor",
        "SGL Data Block Granularity Invalid",
        "Invalid Field in Command",
        "Invalid Use of Controller Memory Buffer",
    ] {
        assert!(
            statuses.iter().any(|s| s == status),
            "no scenario completes with {status}"
        );
    }
}

#[test]
fn a_prp_write_is_traced_as_the_library_lays_it_out() {
    let file = scenario("prp-write-read.json");
    let (doc, _) = json(&["exec", &file]);
    let write = &doc["commands"][1];
    assert_eq!(write["layout"], "prp");
    assert_eq!(write["opcode_name"], "Write");
    let extents = [
        Extent::new(0x10_0800, 0x800),
        Extent::new(0x20_0000, 0x1000),
        Extent::new(0x30_0000, 0x800),
    ];
    let plan = PrpBuilder::new(PageSize::SIZE_4K).plan(&extents).unwrap();
    let trace = write["trace"].as_array().unwrap();
    let purposes: Vec<&str> = trace
        .iter()
        .map(|a| a["purpose"].as_str().unwrap())
        .collect();
    assert_eq!(
        purposes,
        [
            "sqe_fetch",
            "prp_list_fetch",
            "data_read",
            "data_read",
            "data_read",
            "cqe_post"
        ]
    );
    // The list holds an entry for every page after PRP1's, 8 bytes each.
    assert_eq!(trace[1]["len"], plan.list_entries() * 8);
    // The data comes from the extents, in order.
    let reads: Vec<Extent> = trace[2..5]
        .iter()
        .map(|a| Extent::new(addr(&a["addr"]), a["len"].as_u64().unwrap()))
        .collect();
    assert_eq!(reads, extents);
    // The SQE carries what the trace fetched: PRP1 is the first extent.
    let sqe = write["sqe"].as_str().unwrap();
    assert_eq!(
        &sqe[48..64],
        "0008100000000000",
        "PRP1 = 0x100800, little-endian"
    );
    let cost = &write["cost"];
    assert_eq!(cost["descriptor_bytes"], plan.list_entries() * 8);
    assert_eq!(cost["data_bytes"], 0x2000);
    let completion = &write["completion"];
    assert_eq!(completion["cid"], 2);
    assert_eq!(completion["sqid"], 1);
    assert_eq!(completion["sq_head"], 1, "the first command on queue 1");
}

#[test]
fn the_cost_follows_the_pcie_rules_and_the_link_is_configurable() {
    let file = scenario("prp-write-read.json");
    // The raw Read: 8 KiB written to host memory in 256-byte posted writes (32), a CQE (1
    // write), and the 64-byte SQE fetched with one request answered by one completion.
    let (doc, _) = json(&["exec", &file]);
    let read = &doc["commands"][2];
    assert_eq!(read["sqe"].as_str().unwrap().len(), 128);
    let cost = &read["cost"];
    assert_eq!(
        (
            cost["writes"].as_u64(),
            cost["read_requests"].as_u64(),
            cost["read_completions"].as_u64()
        ),
        (Some(33), Some(1), Some(1))
    );
    assert_eq!(cost["tlps"], 35);
    assert_eq!(cost["payload_bytes"], 8192 + 64 + 16);
    assert_eq!(cost["overhead_bytes"], 35 * 24);
    // With 128-byte payloads the data needs twice the writes.
    let (doc, _) = json(&["exec", &file, "--max-payload", "128"]);
    assert_eq!(doc["link"]["max_payload"], 128);
    assert_eq!(doc["commands"][2]["cost"]["writes"], 65);
    // Totals are the sum of the commands.
    let commands = doc["commands"].as_array().unwrap();
    let tlps: u64 = commands
        .iter()
        .map(|c| c["cost"]["tlps"].as_u64().unwrap())
        .sum();
    assert_eq!(doc["total"]["tlps"], tlps);
}

#[test]
fn accesses_in_the_cmb_cost_nothing_on_the_link() {
    let (doc, _) = json(&["exec", &scenario("cmb-mixed.json")]);
    let write = &doc["commands"][0];
    let trace = write["trace"].as_array().unwrap();
    for a in trace {
        let want = match a["purpose"].as_str().unwrap() {
            "prp_list_fetch" | "data_read" => "cmb",
            _ => "host",
        };
        assert_eq!(a["target"], want, "{a}");
    }
    let host_bytes: u64 = trace
        .iter()
        .filter(|a| a["target"] == "host")
        .map(|a| a["len"].as_u64().unwrap())
        .sum();
    assert_eq!(write["cost"]["payload_bytes"], host_bytes);
    assert_eq!(write["cost"]["data_bytes"], 24 * 512);
    assert_eq!(doc["controller"]["cmb"]["len"], 1 << 20);
}

#[test]
fn text_shows_each_completion_its_trace_cost_and_the_digests() {
    let out = run(&["exec", &scenario("prp-list-entry-offset.json")]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    for needle in [
        "Command 1 of 1",
        "Write on queue 1, CID 1",
        "✓ PRP Offset Invalid (SCT 0h, SC 13h, DNR)",
        "SQ head 1",
        "(expected PRP Offset Invalid)",
        "PRP list fetch",
        "Cost: 16 descriptor bytes in 1 fetch",
        "Checks",
        "✓ namespace 1, blocks 0+24 holds every byte 0x00",
        "Digests (FNV-1a 64)",
        "namespace 1, blocks 0+2048",
        "Result: all 2 expectations hold",
    ] {
        assert!(text.contains(needle), "{needle:?} in\n{text}");
    }
}

#[test]
fn digests_are_fnv1a_64_and_can_be_expected() {
    // "foobar" hashes to 85944171f73967e8 in the FNV reference vectors.
    let text = r#"{
      "schema": "nvme-dma-scenario/1",
      "namespaces": [ { "blocks": 8 } ],
      "memory": [ { "addr": "0x100000", "hex": "666f6f626172" } ],
      "commands": [ { "opcode": "flush", "expect": { "status": "success" } } ],
      "digests": [
        { "memory": "0x100000+6", "fnv1a64": "0x85944171f73967e8" },
        { "namespace": 1, "nlb": 0, "slba": 0 }
      ]
    }"#;
    let out = run(&["exec", &temp("digest-bad-range", text)]);
    assert_eq!(out.status.code(), Some(2), "nlb 0 is refused");
    assert!(stderr(&out).contains("digests[1].nlb"), "{}", stderr(&out));
    let text = text.replace(r#", "nlb": 0, "slba": 0"#, "");
    let (doc, code) = json(&["exec", &temp("digest", &text)]);
    assert_eq!(code, 0, "{doc:#}");
    let digests = doc["digests"].as_array().unwrap();
    // The region, the namespace, then the two listed.
    assert_eq!(digests.len(), 4);
    assert_eq!(digests[0]["fnv1a64"], "0x85944171f73967e8");
    assert_eq!(digests[2]["expected"], "0x85944171f73967e8");
    assert_eq!(digests[2]["ok"], true);
    // 8 blocks of zeros digest alike however they are named.
    assert_eq!(digests[1]["fnv1a64"], digests[3]["fnv1a64"]);
    assert_eq!(digests[1]["bytes"], 4096);
    let wrong = text.replace("0x85944171f73967e8", "0x85944171f73967e9");
    let (doc, code) = json(&["exec", &temp("digest-wrong", &wrong)]);
    assert_eq!(code, 1);
    assert_eq!(doc["digests"][2]["ok"], false);
    assert_eq!(doc["expectations"]["failed"], 1);
}

#[test]
fn a_failed_expectation_exits_1_and_says_what_differed() {
    let text = std::fs::read_to_string(scenario("prp-list-entry-offset.json"))
        .unwrap()
        .replace(
            r#""status": "PRP Offset Invalid", "dnr": true"#,
            r#""status": "Successful Completion""#,
        );
    let file = temp("failed", &text);
    let (doc, code) = json(&["exec", &file]);
    assert_eq!(code, 1);
    let c = &doc["commands"][0];
    assert_eq!(c["ok"], false);
    assert_eq!(
        c["failures"][0],
        "expected Successful Completion, got PRP Offset Invalid"
    );
    assert_eq!(doc["expectations"]["failed"], 1);
    let out = run(&["exec", &file]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("✗ PRP Offset Invalid"), "{text}");
    assert!(
        text.contains("Result: 1 of 2 expectations failed"),
        "{text}"
    );
}

#[test]
fn a_check_that_does_not_hold_names_the_first_difference() {
    let text = r#"{
      "schema": "nvme-dma-scenario/1",
      "memory": [ { "addr": "0x100000", "len": 512, "fill": 7 } ],
      "commands": [
        { "opcode": "write", "slba": 2, "nlb": 1, "prp1": "0x100000", "expect": { "status": "success" } }
      ],
      "checks": [ { "namespace": 1, "slba": 2, "nlb": 1, "equals": { "fill": 8 } } ]
    }"#;
    let (doc, code) = json(&["exec", &temp("check", text)]);
    assert_eq!(code, 1);
    assert_eq!(doc["checks"][0]["ok"], false);
    assert_eq!(doc["checks"][0]["detail"], "byte 0 is 0x07, not 0x08");
}

/// A scenario that cannot be used: exit 2, nothing on stdout (even with --json), one line on
/// stderr naming the file and the field.
fn refused(name: &str, text: &str, names: &[&str]) {
    let file = temp(name, text);
    for json in [false, true] {
        let mut args = vec!["exec", file.as_str()];
        if json {
            args.insert(0, "--json");
        }
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", stdout(&out));
        assert!(out.stdout.is_empty(), "{name}: {}", stdout(&out));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(&file), "{err}");
        for needle in names {
            assert!(err.contains(needle), "{needle:?} in {err}");
        }
    }
}

#[test]
fn malformed_scenarios_name_the_field() {
    let head = r#"{ "schema": "nvme-dma-scenario/1", "commands": ["#;
    let scenario = |command: &str| format!("{head}{command}] }}");
    refused(
        "nlb-type",
        &scenario(r#"{ "opcode": "read", "nlb": "x" }"#),
        &["commands[0].nlb", "not a number", "line 1"],
    );
    refused(
        "typo",
        &scenario(r#"{ "opcode": "read", "nbl": 3 }"#),
        &["commands[0].nbl", "unknown field"],
    );
    refused(
        "syntax",
        "{ \"schema\": \"nvme-dma-scenario/1\",\n \"commands\": [ { \"opcode\": \"read\", } ] }",
        &["commands[0]", "line 2"],
    );
    refused(
        "schema",
        r#"{ "schema": "nvme-dma-scenario/9", "commands": [] }"#,
        &["schema", "nvme-dma-scenario/1"],
    );
    refused(
        "opcode",
        &scenario(r#"{ "opcode": "reed" }"#),
        &["commands[0].opcode", "Read"],
    );
    refused(
        "raw-and-fields",
        &scenario(r#"{ "sqe": "00", "nlb": 1 }"#),
        &["commands[0].nlb", "raw"],
    );
    refused(
        "raw-length",
        &scenario(r#"{ "sqe": "0011" }"#),
        &["commands[0].sqe", "2 bytes"],
    );
    refused(
        "status",
        &scenario(r#"{ "opcode": "flush", "expect": { "status": "Everything Fine" } }"#),
        &["commands[0].expect.status", "PRP Offset Invalid"],
    );
    refused(
        "queue",
        &scenario(r#"{ "opcode": "flush", "queue": 5 }"#),
        &["commands[0].queue", "not created"],
    );
    refused(
        "descriptor",
        &scenario(r#"{ "opcode": "read", "nlb": 1, "sgl1": { "type": "blob" } }"#),
        &["commands[0].sgl1.type", "data_block"],
    );
    refused(
        "pointer-twice",
        &scenario(r#"{ "opcode": "read", "nlb": 1, "prp1": 0, "sgl1": { "type": "data_block" } }"#),
        &["commands[0].sgl1", "PRP1"],
    );
    refused(
        "host-overlap",
        r#"{ "schema": "nvme-dma-scenario/1", "memory": [ { "addr": "0x8000000", "len": 16 } ],
             "commands": [ { "opcode": "flush" } ] }"#,
        &["host.queue_memory", "memory[0]"],
    );
    refused(
        "huge-region",
        r#"{ "schema": "nvme-dma-scenario/1", "memory": [ { "addr": 0, "len": "16G", "fill": 1 } ],
             "commands": [ { "opcode": "flush" } ] }"#,
        &["memory[0].len", "at most"],
    );
    refused(
        "host-past-the-end",
        r#"{ "schema": "nvme-dma-scenario/1", "host": { "queue_memory": "0xfffffffffffff000" },
             "commands": [ { "opcode": "flush" } ] }"#,
        &["host.queue_memory", "end of the address space"],
    );
    refused(
        "page-size",
        r#"{ "schema": "nvme-dma-scenario/1", "controller": { "page_size": 3000 },
             "commands": [ { "opcode": "flush" } ] }"#,
        &["controller.page_size"],
    );
    refused(
        "cmb",
        r#"{ "schema": "nvme-dma-scenario/1", "controller": { "cmb": { "addr": "0x1000", "size": 100 } },
             "commands": [ { "opcode": "flush" } ] }"#,
        &["controller.cmb.size"],
    );
    refused(
        "split",
        &scenario(
            r#"{ "opcode": "write", "nlb": 8, "data": { "extents": ["0x100000+0x200", "0x200000+0xe00"], "policy": "prp" } }"#,
        ),
        &["commands[0].data"],
    );
}

#[test]
fn a_missing_scenario_file_is_named() {
    let out = run(&["exec", "no/such/scenario.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no/such/scenario.json"), "{err}");
    assert!(err.contains("cannot read the scenario"), "{err}");
}

#[test]
fn every_command_form_builds_the_same_entry() {
    // A Read of blocks 2..6 to 0x400000, given as fields, as raw bytes, and as fields with the
    // dwords overridden: the three SQEs are the bytes the NVMe layout puts there.
    let raw = "02000700 01000000 00000000 00000000 0000000000000000 0000400000000000 \
               0000000000000000 02000000 00000000 03000000 00000000 00000000 00000000";
    let text = format!(
        r#"{{
      "schema": "nvme-dma-scenario/1",
      "memory": [ {{ "addr": "0x400000", "len": "0x1000" }} ],
      "commands": [
        {{ "opcode": "read", "cid": 7, "slba": 2, "nlb": 4, "prp1": "0x400000", "expect": {{ "status": "success" }} }},
        {{ "sqe": "{raw}", "expect": {{ "status": "0x00" }} }},
        {{ "opcode": 2, "cid": 7, "cdw10": 2, "cdw12": 3, "prp1": 4194304, "expect": {{ "status": "0/0" }} }}
      ]
    }}"#
    );
    let (doc, code) = json(&["exec", &temp("forms", &text)]);
    assert_eq!(code, 0, "{doc:#}");
    let want: String = raw.split_whitespace().collect();
    for c in doc["commands"].as_array().unwrap() {
        assert_eq!(c["sqe"], want.as_str(), "{c:#}");
        assert_eq!(c["completion"]["cid"], 7);
    }
}

#[test]
fn an_sgl_layout_from_extents_and_metadata_goes_through_dptr() {
    // A namespace with 8 bytes of separate metadata per block: the library lays out an SGL for
    // the data and, with PSDT 01b, MPTR for the contiguous metadata buffer.
    let text = r#"{
      "schema": "nvme-dma-scenario/1",
      "namespaces": [ { "blocks": 64, "metadata_size": 8 } ],
      "memory": [
        { "addr": "0x100000", "len": "0x400", "pattern": 1 },
        { "addr": "0x300000", "len": 16, "pattern": 2 }
      ],
      "commands": [
        { "opcode": "write", "slba": 0, "nlb": 2,
          "data": { "extents": ["0x100000+0x400"], "metadata": ["0x300000+16"], "policy": "sgl" },
          "expect": { "status": "success" } }
      ],
      "checks": [ { "namespace": 1, "slba": 0, "nlb": 2, "equals": { "pattern": 1 } } ]
    }"#;
    let (doc, code) = json(&["exec", &temp("metadata", text)]);
    assert_eq!(code, 0, "{doc:#}");
    let c = &doc["commands"][0];
    assert_eq!(c["layout"], "sgl");
    let purposes: Vec<&str> = c["trace"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["purpose"].as_str().unwrap())
        .collect();
    assert!(purposes.contains(&"metadata_read"), "{purposes:?}");
    assert_eq!(c["cost"]["data_bytes"], 0x400 + 16);
}

#[test]
fn a_scenario_without_expectations_reports_and_exits_0() {
    let text = r#"{
      "schema": "nvme-dma-scenario/1",
      "namespaces": [ { "blocks": 16, "lba_size": 4096 } ],
      "memory": [ { "addr": "0x100000", "len": "0x1000", "fill": 1 } ],
      "commands": [ { "opcode": "write", "slba": 15, "nlb": 1, "prp1": "0x100000" } ]
    }"#;
    let file = temp("no-expectations", text);
    let (doc, code) = json(&["exec", &file]);
    assert_eq!(code, 0);
    assert_eq!(doc["expectations"]["total"], 0);
    let c = &doc["commands"][0];
    assert_eq!(c["ok"], true);
    assert!(c.get("expect").is_none());
    assert_eq!(c["completion"]["status"]["name"], "Successful Completion");
    // The one 4 KiB block written is the last of the namespace's 16.
    assert_eq!(c["cost"]["data_bytes"], 4096);
    let out = run(&["exec", &file]);
    let text = stdout(&out);
    assert!(text.contains("• Successful Completion"), "{text}");
    assert!(text.contains("Result: no expectations stated"), "{text}");
}
