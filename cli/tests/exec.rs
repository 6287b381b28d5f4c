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
    assert!(files.len() >= 24, "{files:?}");
    let mut statuses = Vec::new();
    let mut kinds = Vec::new();
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
        let steps = doc["steps"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        assert!(
            commands.is_empty() != steps.is_empty(),
            "{file}: commands or steps, one of them"
        );
        // Every step that can state an expectation does.
        for s in steps {
            let kind = s["kind"].as_str().unwrap();
            kinds.push(kind.to_string());
            assert_eq!(s["ok"], true, "{file}: {s:#}");
            if ["command", "reap", "read", "reset", "shutdown"].contains(&kind) {
                assert!(
                    !s["expect"].is_null(),
                    "{file}: step {} ({kind}) has no expectation",
                    s["index"]
                );
            }
            if kind == "command" {
                statuses.push(s["completion"]["status"]["name"].as_str().unwrap().into());
            }
        }
        if steps.is_empty() {
            assert!(
                tally["total"].as_u64().unwrap() > commands.len() as u64,
                "{file}: checks too"
            );
        }
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
    // And every kind of step.
    for kind in [
        "command", "submit", "ring", "doorbell", "reap", "write", "read", "reset", "shutdown",
    ] {
        assert!(
            kinds.iter().any(|k| k == kind),
            "no scenario has a {kind} step"
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

/// A scenario with `steps` on one queue pair of `entries` slots, a namespace of 64 blocks and
/// 4 KiB of pattern at 0x100000.
fn with_steps(entries: u16, steps: &str) -> String {
    format!(
        r#"{{
      "schema": "nvme-dma-scenario/1",
      "namespaces": [ {{ "blocks": 64 }} ],
      "memory": [ {{ "addr": "0x100000", "len": "0x1000", "pattern": 3 }} ],
      "queues": [ {{ "qid": 1, "entries": {entries} }} ],
      "steps": [ {steps} ]
    }}"#
    )
}

/// Run a scenario that must fail exactly one expectation; return the failing step's report
/// and the text report.
fn one_failure(name: &str, text: &str) -> (serde_json::Value, String) {
    let file = temp(name, text);
    let (doc, code) = json(&["exec", &file]);
    assert_eq!(code, 1, "{name}: {doc:#}");
    assert_eq!(doc["expectations"]["failed"], 1, "{name}: {doc:#}");
    let failed: Vec<&serde_json::Value> = doc["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["ok"] == false)
        .collect();
    assert_eq!(failed.len(), 1, "{name}: {doc:#}");
    let out = run(&["exec", &file]);
    assert_eq!(out.status.code(), Some(1), "{name}");
    let text = stdout(&out);
    assert!(text.contains("Result: 1 of"), "{name}: {text}");
    assert!(text.contains('✗'), "{name}: {text}");
    (failed[0].clone(), text)
}

#[test]
fn a_full_completion_queue_holds_back_completions_until_the_host_frees_slots() {
    let (doc, code) = json(&["exec", &scenario("cq-full-not-overwritten.json")]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["commands"], serde_json::json!([]));
    let steps = doc["steps"].as_array().unwrap();
    let purposes = |s: &serde_json::Value| -> Vec<String> {
        s["trace"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["purpose"].as_str().unwrap().to_string())
            .collect()
    };
    // Submitting moves nothing: the controller has not been told.
    assert_eq!(steps[0]["kind"], "submit");
    assert_eq!(steps[0]["slot"], "0x8002000");
    assert!(purposes(&steps[0]).is_empty());
    // Ringing once runs all three.
    assert_eq!(steps[3]["doorbell"]["value"], 3);
    assert_eq!(
        purposes(&steps[3])
            .iter()
            .filter(|p| *p == "cqe_post")
            .count(),
        3
    );
    // While the queue is full, nothing is posted; freeing the slots posts both.
    assert_eq!(steps[7]["kind"], "ring");
    assert!(!purposes(&steps[7]).contains(&"cqe_post".to_string()));
    assert_eq!(steps[8]["completions"], serde_json::json!([]));
    assert_eq!(steps[9]["doorbell"]["register"], "cq_head");
    assert_eq!(
        purposes(&steps[9])
            .iter()
            .filter(|p| *p == "cqe_post")
            .count(),
        2
    );
    // The second lands in slot 0 on the next pass round the ring: its phase tag flips.
    let last = steps[10]["completions"].as_array().unwrap();
    let phases: Vec<bool> = last.iter().map(|c| c["phase"].as_bool().unwrap()).collect();
    assert_eq!(phases, [true, false]);
    let text = stdout(&run(&["exec", &scenario("cq-full-not-overwritten.json")]));
    for needle in [
        "Step 5 of 11 · taken, but the slots stay in use: reap queue 1: 3 taken, CQ head doorbell not rung",
        "✓ no completion waiting",
        "cq_head doorbell 0x100c <- 3",
        "All steps:",
    ] {
        assert!(text.contains(needle), "{needle:?} in\n{text}");
    }
}

#[test]
fn ignored_doorbells_are_reported_as_controller_events() {
    let (doc, _) = json(&["exec", &scenario("doorbell-queue-never-created.json")]);
    let steps = doc["steps"].as_array().unwrap();
    let bad = &steps[3];
    assert_eq!(bad["kind"], "doorbell");
    // Queue 5's SQ tail doorbell: 1000h + (2 × 5) × 4.
    assert_eq!(bad["doorbell"]["offset"], "0x1028");
    assert!(
        bad["events"][0].as_str().unwrap().contains("no such queue"),
        "{bad:#}"
    );
    let (doc, _) = json(&["exec", &scenario("sq-tail-out-of-range.json")]);
    let bad = &doc["steps"][3];
    assert_eq!(bad["doorbell"]["value"], 16);
    assert!(
        bad["events"][0]
            .as_str()
            .unwrap()
            .contains("invalid value 16"),
        "{bad:#}"
    );
}

#[test]
fn register_steps_follow_the_doorbell_stride_and_show_the_value() {
    let (doc, _) = json(&["exec", &scenario("register-read-cap.json")]);
    let steps = doc["steps"].as_array().unwrap();
    let cap = &steps[0]["register"];
    assert_eq!(cap["name"], "CAP");
    assert_eq!(cap["bits"], 64);
    let value = addr(&cap["value"]);
    assert_eq!(value & 0xffff, 255, "MQES");
    assert_eq!(value >> 32 & 0xf, 1, "DSTRD");
    assert_eq!(steps[0]["expect"]["mask"], "0xffff");
    // The high dword read alone agrees with the 64-bit read.
    assert_eq!(addr(&steps[6]["register"]["value"]), value >> 32);
    // Stride 1: queue 1's SQ tail doorbell is 8 bytes past queue 0's CQ head doorbell.
    let text = r#"{
      "schema": "nvme-dma-scenario/1",
      "controller": { "doorbell_stride": 1 },
      "steps": [ { "submit": { "opcode": "flush" } }, { "ring": {} },
                 { "reap": { "expect": [ { "status": "success", "cid": 1 } ] } } ]
    }"#;
    let (doc, code) = json(&["exec", &temp("stride", text)]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["steps"][1]["doorbell"]["offset"], "0x1010");
    assert_eq!(doc["steps"][2]["doorbell"]["offset"], "0x1018");
}

#[test]
fn a_reset_without_enable_leaves_the_controller_down() {
    let text = with_steps(
        16,
        r#"{ "command": { "opcode": "flush", "expect": { "status": "success" } } },
           { "reset": { "enable": false, "expect": { "rdy": false, "shst": "normal" } } },
           { "submit": { "opcode": "flush" } },
           { "ring": {} },
           { "reap": { "expect": [] } },
           { "reset": { "expect": { "rdy": false } } },
           { "ring": {} },
           { "reap": { "expect": [] } },
           { "command": { "opcode": "flush", "cid": 9, "expect": { "status": "success", "sq_head": 1 } } }"#,
    );
    let (doc, code) = json(&["exec", &temp("reset-down", &text)]);
    assert_eq!(code, 0, "{doc:#}");
    let steps = doc["steps"].as_array().unwrap();
    assert_eq!(steps[1]["enable"], false);
    assert_eq!(steps[1]["csts"]["rdy"], false);
    // The controller is not ready: the ring is ignored and nothing runs.
    assert!(steps[3]["trace"].as_array().unwrap().is_empty());
    assert!(
        steps[3]["events"][0]
            .as_str()
            .unwrap()
            .contains("while not ready"),
        "{:#}",
        steps[3]
    );
    // Brought back up, the host's queue starts empty again: the flush submitted before is
    // gone with the old queue, so ringing again runs nothing.
    assert_eq!(steps[5]["enable"], true);
    assert!(steps[6]["trace"].as_array().unwrap().is_empty());
}

#[test]
fn failed_step_expectations_exit_1_and_say_what_differed() {
    // A completion where none was expected.
    let (step, _) = one_failure(
        "reap-none",
        &with_steps(
            16,
            r#"{ "submit": { "opcode": "flush" } }, { "ring": {} }, { "reap": { "expect": [] } }"#,
        ),
    );
    assert_eq!(
        step["failures"][0],
        "expected no completion waiting on queue 1, but the controller posted 1"
    );
    // Fewer completions than expected.
    let (step, _) = one_failure(
        "reap-fewer",
        &with_steps(
            16,
            r#"{ "submit": { "opcode": "flush" } }, { "ring": {} },
               { "reap": { "expect": [ { "status": "success" }, { "status": "success" } ] } }"#,
        ),
    );
    assert_eq!(
        step["failures"][0],
        "expected 2 completions on queue 1, took 1"
    );
    // One expected, none posted (the command was never rung).
    let (step, _) = one_failure(
        "reap-missing",
        &with_steps(
            16,
            r#"{ "submit": { "opcode": "flush" } }, { "reap": { "expect": [ { "status": "success" } ] } }"#,
        ),
    );
    assert_eq!(
        step["failures"][0],
        "expected 1 completion on queue 1, but none was posted"
    );
    // A field of one completion.
    let (step, text) = one_failure(
        "reap-head",
        &with_steps(
            16,
            r#"{ "submit": { "opcode": "flush" } }, { "ring": {} },
               { "reap": { "expect": [ { "status": "success", "cid": 1, "sq_head": 2 } ] } }"#,
        ),
    );
    assert_eq!(
        step["failures"][0],
        "completion 1 (CID 1): expected SQ head 2, got 1"
    );
    assert!(text.contains("✗ CID 1 on SQ 1"), "{text}");
    // A register under a mask.
    let (step, _) = one_failure(
        "read-mask",
        &with_steps(
            16,
            r#"{ "read": { "register": "cap", "mask": "0xffff", "expect": "0x3fe" } }"#,
        ),
    );
    let failure = step["failures"][0].as_str().unwrap();
    assert!(
        failure.starts_with("expected CAP & 0xffff = 0x3fe, got 0x3ff"),
        "{failure}"
    );
    // A whole register.
    let (step, _) = one_failure(
        "read-whole",
        &with_steps(
            16,
            r#"{ "read": { "register": "vs", "expect": "0x20000" } }"#,
        ),
    );
    assert_eq!(step["failures"][0], "expected VS = 0x20000, got 0x10400");
    // CSTS after a shutdown and after a reset.
    let (step, text) = one_failure(
        "shutdown",
        &with_steps(
            16,
            r#"{ "shutdown": { "kind": "abrupt", "expect": { "shst": "normal" } } }"#,
        ),
    );
    assert_eq!(
        step["failures"][0],
        "expected CSTS.SHST normal (00b), got complete (10b)"
    );
    assert!(text.contains("✗ CSTS 0x9"), "{text}");
    let (step, _) = one_failure(
        "reset",
        &with_steps(16, r#"{ "reset": { "expect": { "rdy": true } } }"#),
    );
    assert_eq!(step["failures"][0], "expected CSTS.RDY 1, got 0");
    // A command step's completion fields.
    let (step, _) = one_failure(
        "command-head",
        &with_steps(
            16,
            r#"{ "command": { "opcode": "flush", "expect": { "status": "success", "sq_head": 5 } } }"#,
        ),
    );
    assert_eq!(step["failures"][0], "expected SQ head 5, got 1");
    // The event a shipped scenario expects, with the other error code.
    let text = std::fs::read_to_string(scenario("sq-tail-out-of-range.json"))
        .unwrap()
        .replace(r#""dw0": "0x10100""#, r#""dw0": "0x10000""#);
    let (step, _) = one_failure("event-code", &text);
    assert_eq!(
        step["failures"][0],
        "completion 1 (CID 100): expected DW0 0x10000, got 0x10100"
    );
}

#[test]
fn malformed_steps_name_the_field() {
    let steps = |s: &str| with_steps(16, s);
    refused(
        "steps-kind",
        &steps(r#"{ "poke": {} }"#),
        &["steps[0]", "`poke` is not a step", "reap"],
    );
    refused(
        "steps-two",
        &steps(r#"{ "ring": {}, "reap": {} }"#),
        &["steps[0]", "`ring` and `reap`", "its own step"],
    );
    refused(
        "steps-field",
        &steps(r#"{ "reap": { "queue": 1, "expected": [] } }"#),
        &["steps[0].reap.expected", "unknown field"],
    );
    refused(
        "steps-and-commands",
        r#"{ "schema": "nvme-dma-scenario/1", "commands": [ { "opcode": "flush" } ],
             "steps": [ { "ring": {} } ] }"#,
        &["steps", "not both"],
    );
    refused(
        "steps-empty",
        r#"{ "schema": "nvme-dma-scenario/1", "steps": [] }"#,
        &["steps", "at least one"],
    );
    refused(
        "submit-expect",
        &steps(r#"{ "submit": { "opcode": "flush", "expect": { "status": "success" } } }"#),
        &["steps[0].submit.expect", "reap"],
    );
    refused(
        "ring-queue",
        &steps(r#"{ "ring": { "queue": 3 } }"#),
        &["steps[0].ring.queue", "not created", "doorbell"],
    );
    refused(
        "doorbell-which",
        &steps(r#"{ "doorbell": { "queue": 1, "sq_tail": 1, "cq_head": 0 } }"#),
        &["steps[0].doorbell", "sq_tail", "cq_head"],
    );
    refused(
        "doorbell-outside",
        &steps(r#"{ "doorbell": { "queue": 5000, "sq_tail": 1 } }"#),
        &["steps[0].doorbell.queue", "register window"],
    );
    refused(
        "doorbell-value",
        &steps(r#"{ "doorbell": { "queue": 1, "sq_tail": "0x100000000" } }"#),
        &["steps[0].doorbell.sq_tail", "32-bit"],
    );
    refused(
        "reap-status",
        &steps(r#"{ "reap": { "expect": [ { "status": "fine" } ] } }"#),
        &["steps[0].reap.expect[0].status", "PRP Offset Invalid"],
    );
    refused(
        "reap-count",
        &steps(
            r#"{ "reap": { "count": 1, "expect": [ { "status": "success" }, { "status": "success" } ] } }"#,
        ),
        &["steps[0].reap.expect", "count"],
    );
    refused(
        "register-name",
        &steps(r#"{ "read": { "register": "capp" } }"#),
        &["steps[0].read.register", "CAP, VS"],
    );
    refused(
        "register-misaligned",
        &steps(r#"{ "write": { "register": "0x15", "value": 1 } }"#),
        &["steps[0].write.register", "not aligned"],
    );
    refused(
        "register-outside",
        &steps(r#"{ "read": { "register": "0x10000" } }"#),
        &["steps[0].read.register", "outside"],
    );
    refused(
        "register-bits",
        &steps(r#"{ "read": { "register": "cc", "bits": 64 } }"#),
        &["steps[0].read.bits", "CC is 32 bits"],
    );
    refused(
        "register-value",
        &steps(r#"{ "write": { "register": "cc", "value": "0x100000000" } }"#),
        &["steps[0].write.value", "32-bit"],
    );
    refused(
        "read-mask-alone",
        &steps(r#"{ "read": { "register": "csts", "mask": 1 } }"#),
        &["steps[0].read.mask", "expect"],
    );
    refused(
        "read-outside-mask",
        &steps(r#"{ "read": { "register": "csts", "mask": 1, "expect": 3 } }"#),
        &["steps[0].read.expect", "outside the mask"],
    );
    refused(
        "shutdown-kind",
        &steps(r#"{ "shutdown": { "kind": "gentle" } }"#),
        &["steps[0].shutdown.kind", "normal", "abrupt"],
    );
    refused(
        "csts-field",
        &steps(r#"{ "reset": { "expect": { "ready": false } } }"#),
        &["steps[0].reset.expect.ready", "unknown field"],
    );
    // Found while running: the host's queue is full (3 commands fit 4 slots).
    refused(
        "submit-full",
        &with_steps(
            4,
            r#"{ "submit": { "opcode": "flush" } }, { "submit": { "opcode": "flush" } },
               { "submit": { "opcode": "flush" } }, { "submit": { "opcode": "flush" } }"#,
        ),
        &["steps[3].submit", "full"],
    );
}
