//! Every committed corpus file and every crash reproducer, run through its target's checks
//! exactly as the fuzz target decodes it: the fuzz targets' regression test, on any toolchain.

use std::fs;
use std::path::Path;

use nvme_dma_fuzz::{run_target, seeds, TARGETS};

fn replay_dir(target: &str, dir: &Path) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let mut count = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        if path.file_name().unwrap().to_string_lossy().starts_with('.') {
            continue;
        }
        let data = fs::read(&path).unwrap();
        println!("{}", path.display());
        run_target(target, &data);
        count += 1;
    }
    count
}

#[test]
fn committed_corpora_and_reproducers_pass_every_check() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for target in TARGETS {
        let seeds = replay_dir(target, &root.join("corpus").join(target));
        assert!(seeds > 0, "corpus/{target} is empty: run the seeds test");
        replay_dir(target, &root.join("regressions").join(target));
    }
}

#[test]
fn seeds_pass_every_check() {
    for seed in seeds::all() {
        println!("{}/{}", seed.target, seed.name);
        run_target(seed.target, &seed.bytes);
    }
}
