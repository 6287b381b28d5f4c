//! Writes the seed corpora, `corpus/<target>/<name>`, from the typed seeds in `src/seeds.rs`.
//! The output is deterministic, so on a clean checkout this rewrites the committed files with
//! identical bytes; after a change to the seeds or the input encoding, commit what it wrote.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use nvme_dma_fuzz::{seeds, TARGETS};

#[test]
fn seed_corpora_are_written_and_nothing_else_is_there() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut names: BTreeSet<(String, String)> = BTreeSet::new();
    for seed in seeds::all() {
        assert!(
            TARGETS.contains(&seed.target),
            "unknown target {}",
            seed.target
        );
        assert!(
            names.insert((seed.target.to_string(), seed.name.clone())),
            "two seeds named {}/{}",
            seed.target,
            seed.name
        );
        let dir = root.join(seed.target);
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join(&seed.name);
        if fs::read(&path).ok().as_deref() != Some(&seed.bytes[..]) {
            // Write beside, then rename: a concurrent replay never sees half a file.
            let partial = dir.join(format!(".{}.partial", seed.name));
            fs::write(&partial, &seed.bytes).unwrap();
            fs::rename(&partial, &path).unwrap();
        }
    }
    for target in TARGETS {
        let count = names.iter().filter(|(t, _)| t == target).count();
        assert!((12..=60).contains(&count), "{target} has {count} seeds");
        let stale: Vec<String> = fs::read_dir(root.join(target))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|f| !f.starts_with('.') && !names.contains(&(target.to_string(), f.clone())))
            .collect();
        assert!(
            stale.is_empty(),
            "corpus/{target} holds files no seed writes (delete them, or move a reproducer \
             to regressions/{target}/): {stale:?}"
        );
    }
}
