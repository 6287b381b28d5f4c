//! Running the built `nvme-dma` binary and reading what it prints.

#![allow(dead_code)]

use std::process::{Command, Output};

use serde_json::Value;

/// Run `nvme-dma` with `args`, colour left to the tool (stdout is a pipe here, so none).
pub fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nvme-dma"))
        .args(args)
        .env_remove("NO_COLOR")
        .output()
        .expect("the nvme-dma binary runs")
}

/// Standard output as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).expect("stdout is UTF-8")
}

/// Standard error as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).expect("stderr is UTF-8")
}

/// Run with `--json`, check the envelope, and return the document and the exit code.
pub fn json(args: &[&str]) -> (Value, i32) {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let out = run(&all);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "--json output is JSON ({e}):\n{}\nstderr: {}",
            stdout(&out),
            stderr(&out)
        )
    });
    assert_eq!(doc["schema"], "nvme-dma-cli/1");
    assert_eq!(doc["command"], args[0]);
    let code = out.status.code().expect("exited normally");
    assert_eq!(doc["ok"], code == 0, "ok agrees with the exit code");
    (doc, code)
}

/// A `0x` hex string as JSON shows addresses.
pub fn hex(value: u64) -> Value {
    Value::from(format!("{value:#x}"))
}

/// A JSON hex string back to a number.
pub fn addr(value: &Value) -> u64 {
    let text = value.as_str().expect("an address is a string");
    u64::from_str_radix(text.trim_start_matches("0x"), 16).expect("hex")
}

/// The one line of a refused layout's text that marks the extent or piece breaking the rule.
pub fn marked_line(text: &str) -> &str {
    let marked: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("✗ breaks the rule"))
        .collect();
    assert_eq!(marked.len(), 1, "one marked line in\n{text}");
    marked[0]
}
