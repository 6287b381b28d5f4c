//! The command as a whole: bad arguments, exit codes, help, colour, and the demo checked
//! against the library.

mod common;

use std::process::Command;

use common::{addr, hex, json, run, stderr, stdout};
use nvme_dma::prp::PrpBuilder;
use nvme_dma::sgl::{SglBuilder, SglCaps};
use nvme_dma::spec::{SglSupport, Sgls};
use nvme_dma::Direction;
use nvme_dma::{Extent, PageSize};

/// A bad argument: exit 2, nothing on stdout, one line on stderr that names the argument.
fn bad(args: &[&str], names: &str) {
    let out = run(args);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
    assert!(out.stdout.is_empty(), "{args:?}: {}", stdout(&out));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{args:?}: one line, got {err:?}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(names), "{args:?}: {names:?} in {err:?}");
}

#[test]
fn bad_arguments_get_one_line_naming_them() {
    bad(&["prp", "0x10g+5"], "<ADDR+LEN>");
    bad(&["prp", "0x1000"], "ADDR+LEN");
    bad(&["prp", "0xffffffffffffffff+2"], "2^64");
    bad(&["prp"], "<ADDR+LEN>");
    bad(
        &["prp", "--page-size", "3000", "0x1000+0x1000"],
        "--page-size",
    );
    bad(&["prp", "--list", "nowhere", "0x1000+0x1000"], "--list");
    bad(&["prp", "--frobnicate", "0x1000+0x1000"], "--frobnicate");
    bad(&["sgl", "skip:x"], "<PIECE>");
    bad(&["sgl", "--sgls", "0x100000000", "0x1000+4"], "--sgls");
    bad(&["sgl", "--msdbd", "256", "0x1000+4"], "--msdbd");
    bad(
        &["sgl", "--direction", "sideways", "0x1000+4"],
        "--direction",
    );
    bad(&["decode", "--as", "prp", "00"], "--as");
    bad(&["teleport"], "teleport");
    bad(&["exec"], "<SCENARIO>");
    bad(
        &["exec", "x.json", "--max-payload", "lots"],
        "--max-payload",
    );
    bad(&["exec", "x.json", "--profile", "lenient"], "--profile");
    bad(
        &["exec", "x.json", "--profile", "strict+no-such-switch"],
        "nvme-dma profiles",
    );
    bad(&["profiles", "extra"], "extra");
    // --json changes nothing for bad arguments: the error is text on stderr.
    bad(&["--json", "prp", "0x10g+5"], "<ADDR+LEN>");
    // A layout needing more descriptor memory than the tool lays out is refused up front.
    bad(&["prp", "0x0+0x800000000"], "<ADDR+LEN>");
}

#[test]
fn an_unwritable_picture_exits_3_naming_the_file() {
    let out = run(&["prp", "0x1000+0x1000", "--svg", "/nonexistent/dir/x.svg"]);
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("/nonexistent/dir/x.svg"), "{err}");
}

#[test]
fn help_documents_exit_codes_and_version_works() {
    let out = run(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = stdout(&out);
    for needle in [
        "Exit codes",
        "demo",
        "prp",
        "sgl",
        "decode",
        "exec",
        "profiles",
        "NO_COLOR",
        "docs/cli-json.md",
        "docs/scenario.md",
    ] {
        assert!(help.contains(needle), "{needle} in {help}");
    }
    let out = run(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains(env!("CARGO_PKG_VERSION")));
    // No arguments: the help, as a usage error.
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(2));
}

/// Run under a pseudo-terminal (util-linux `script`), so the tool sees a terminal.
fn on_terminal(args: &str, no_color: Option<&str>) -> String {
    let line = format!("{} {args}", env!("CARGO_BIN_EXE_nvme-dma"));
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"])
        .env_remove("NO_COLOR");
    if let Some(value) = no_color {
        cmd.env("NO_COLOR", value);
    }
    let out = cmd.output().expect("util-linux `script` runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    let args = "prp 0x10200+0xe00 0x50000+0x2000";
    assert!(
        on_terminal(args, None).contains("\x1b["),
        "colour on a terminal"
    );
    assert!(
        !on_terminal(args, Some("1")).contains("\x1b["),
        "NO_COLOR=1"
    );
    assert!(
        !on_terminal(&format!("--json {args}"), None).contains("\x1b["),
        "JSON"
    );
    // Into a pipe: none.
    assert!(!stdout(&run(&["prp", "0x10200+0xe00"])).contains('\x1b'));
}

#[test]
fn the_demo_verifies_its_data_and_matches_the_library() {
    let out = run(&["demo"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    for step in 1..=4 {
        assert!(text.contains(&format!("Step {step} of 4")), "{text}");
    }
    assert!(text.contains("mock NVMe controller"), "{text}");
    assert!(text.contains("PRP → SGL ✓"), "{text}");
    assert!(text.contains("SGL → PRP ✓"), "{text}");
    for row in ["PRP write", "SGL write", "PRP read", "SGL read"] {
        assert!(text.contains(row), "{row} in {text}");
    }

    let (doc, code) = json(&["demo"]);
    assert_eq!(code, 0);
    let extents: Vec<Extent> = doc["extents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| Extent::new(addr(&e["addr"]), e["len"].as_u64().unwrap()))
        .collect();
    let total: u64 = extents.iter().map(|e| e.len).sum();

    // Step 2 is the library's PRP plan for those extents.
    let plan = PrpBuilder::new(PageSize::SIZE_4K).plan(&extents).unwrap();
    assert_eq!(doc["prp"]["prp1"], hex(extents[0].addr));
    assert_eq!(doc["prp"]["pages"], plan.pages());
    assert_eq!(doc["prp"]["list_entries"], plan.list_entries());
    // Step 3 is the library's SGL plan.
    let caps = SglCaps::new(Sgls::from_support(SglSupport::ByteAligned) | Sgls::BIT_BUCKET);
    let sgl = SglBuilder::new(caps, Direction::Read)
        .plan(&extents)
        .unwrap();
    assert_eq!(doc["sgl"]["descriptors"], sgl.descriptors());
    assert_eq!(doc["sgl"]["length"], sgl.len());
    // Step 4: each layout read back, on the mock controller, what the other wrote.
    let verification = doc["verification"].as_array().unwrap();
    assert_eq!(verification.len(), 2);
    let pairs: Vec<(&str, &str)> = verification
        .iter()
        .map(|v| {
            assert_eq!(v["verified"], true, "{v}");
            assert_eq!(v["bytes"], total);
            assert_eq!(v["executor"], "controller");
            (
                v["written_with"].as_str().unwrap(),
                v["layout"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(pairs, [("prp", "sgl"), ("sgl", "prp")]);
    // Each command's trace: the descriptors the layout needs, fetched once, and every byte
    // of data moved. PRP: the list holds an entry per page after PRP1's. SGL: SGL1 points at
    // one segment holding a descriptor per extent.
    let list_bytes = plan.list_entries() * 8;
    let segment_bytes = sgl.descriptors() * 16;
    let costs = doc["costs"].as_array().unwrap();
    assert_eq!(costs.len(), 4);
    for c in costs {
        let want = match c["layout"].as_str().unwrap() {
            "prp" => list_bytes,
            "sgl" => segment_bytes,
            other => panic!("layout {other}"),
        };
        let cost = &c["cost"];
        assert_eq!(cost["descriptor_bytes"], want, "{c}");
        assert_eq!(cost["descriptor_fetches"], 1, "{c}");
        assert_eq!(cost["data_bytes"], total, "{c}");
        assert!(c["status"]
            .as_str()
            .unwrap()
            .starts_with("Successful Completion"));
        let tlps = ["read_requests", "read_completions", "writes"]
            .iter()
            .map(|k| cost[k].as_u64().unwrap())
            .sum::<u64>();
        assert_eq!(cost["tlps"], tlps);
    }
    assert_eq!(doc["link"]["max_payload"], 256);
}
