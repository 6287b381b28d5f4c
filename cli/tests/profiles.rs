//! `nvme-dma profiles` lists exactly the library's profiles and switches, and `exec` runs a
//! scenario under the profile it names or `--profile` gives.

mod common;

use std::path::Path;

use common::{json, run, stderr, stdout};
use nvme_dma::controller::{Deviation, DeviationKind, Profile};

fn scenario(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/scenarios")
        .join(name);
    assert!(path.exists(), "{}", path.display());
    path.display().to_string()
}

const QEMU_SCENARIO: &str = "profile-qemu-prp1-not-dword-aligned.json";

#[test]
fn profiles_json_is_the_librarys_lists() {
    let (doc, code) = json(&["profiles"]);
    assert_eq!(code, 0);
    let profiles = doc["profiles"].as_array().unwrap();
    assert_eq!(profiles.len(), Profile::NAMED.len());
    for ((name, profile), p) in Profile::NAMED.iter().zip(profiles) {
        assert_eq!(p["name"], *name);
        let on: Vec<&str> = profile.deviations().map(Deviation::name).collect();
        assert_eq!(p["switches"], serde_json::json!(on), "{name}");
        assert!(!p["description"].as_str().unwrap().is_empty());
    }
    let switches = doc["switches"].as_array().unwrap();
    assert_eq!(switches.len(), Deviation::ALL.len());
    for (d, s) in Deviation::ALL.iter().zip(switches) {
        assert_eq!(s["name"], d.name());
        assert_eq!(s["rule"], d.rule());
        let kind = match d.kind() {
            DeviationKind::Violation => "violation",
            DeviationKind::Choice => "choice",
            DeviationKind::Observation => "observation",
        };
        assert_eq!(s["kind"], kind, "{d}");
        let in_qemu = s["profiles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "qemu");
        assert_eq!(in_qemu, Profile::QEMU_7_2.has(*d), "{d}");
        assert!(!s["profiles"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p == "strict"));
    }
}

#[test]
fn profiles_text_names_every_switch_its_kind_and_rule() {
    let out = run(&["profiles"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    for (name, _) in Profile::NAMED {
        assert!(text.contains(&format!("  {name} ")), "{name} in {text}");
    }
    for d in Deviation::ALL {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{} ", d.name())))
            .unwrap_or_else(|| panic!("no line for {d} in {text}"));
        let kind = match d.kind() {
            DeviationKind::Violation => "violation",
            DeviationKind::Choice => "choice",
            DeviationKind::Observation => "observation",
        };
        assert!(line.contains(kind), "{line}");
        assert_eq!(line.contains("qemu"), Profile::QEMU_7_2.has(d), "{line}");
        // The rule follows, wrapped: its first words are on the next line.
        let first_words: String = d
            .rule()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            text.contains(&format!("rule: {first_words}")),
            "{d}: {first_words}"
        );
    }
}

#[test]
fn the_qemu_scenario_holds_under_its_profile_and_fails_under_strict() {
    let file = scenario(QEMU_SCENARIO);
    let (doc, code) = json(&["exec", &file]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["controller"]["profile"], "qemu");
    assert_eq!(
        doc["commands"][0]["completion"]["status"]["name"],
        "Successful Completion"
    );

    let (doc, code) = json(&["exec", &file, "--profile", "strict"]);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(doc["controller"]["profile"], "strict");
    let write = &doc["commands"][0];
    assert_eq!(write["completion"]["status"]["name"], "PRP Offset Invalid");
    assert_eq!(write["ok"], false);
    assert_eq!(doc["checks"][0]["ok"], false);
    let text = run(&["exec", &file, "--profile", "strict"]);
    assert_eq!(text.status.code(), Some(1));
    assert!(
        stdout(&text).contains("Profile: strict"),
        "{}",
        stdout(&text)
    );

    // The one switch the scenario needs is enough, and the report names the profile so.
    let (doc, code) = json(&["exec", &file, "--profile", "strict+prp1-not-dword-aligned"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(
        doc["controller"]["profile"],
        "strict+prp1-not-dword-aligned"
    );
    // And qemu without it is strict on this rule again.
    let (_, code) = json(&["exec", &file, "--profile", "qemu-prp1-not-dword-aligned"]);
    assert_eq!(code, 1);
}

#[test]
fn a_scenario_without_a_profile_runs_strict() {
    let (doc, code) = json(&["exec", &scenario("prp1-not-dword-aligned.json")]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["controller"]["profile"], "strict");
}

#[test]
fn a_bad_profile_in_a_scenario_names_the_field() {
    for (text, says) in [
        ("lenient", "strict or qemu"),
        ("qemu+bogus", "nvme-dma profiles"),
        ("", "strict or qemu"),
    ] {
        let body = format!(
            r#"{{ "schema": "nvme-dma-scenario/1", "controller": {{ "profile": "{text}" }},
                "commands": [ {{ "opcode": "flush", "expect": {{ "status": "Successful Completion" }} }} ] }}"#
        );
        let path = std::env::temp_dir().join(format!(
            "nvme-dma-profile-{}-{}.json",
            std::process::id(),
            text.replace('+', "_")
        ));
        std::fs::write(&path, body).unwrap();
        let file = path.display().to_string();
        // A good --profile does not excuse a bad field: the scenario is still wrong.
        for extra in [&[][..], &["--profile", "strict"][..]] {
            let mut args = vec!["exec", file.as_str()];
            args.extend_from_slice(extra);
            let out = run(&args);
            assert_eq!(out.status.code(), Some(2), "{text:?}: {}", stdout(&out));
            let err = stderr(&out);
            assert_eq!(err.lines().count(), 1, "{err}");
            assert!(err.contains("controller.profile"), "{err}");
            assert!(err.contains(says), "{says:?} in {err}");
        }
        let _ = std::fs::remove_file(&path);
    }
}
