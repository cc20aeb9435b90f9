//! Not a fuzz target: writes every target's seed corpus (see
//! `keyhold_fuzz::seeds`, built from `rust-core/tests/vectors/`) under the
//! directory named by `KEYHOLD_FUZZ_SEED_DIR` (one subdirectory per target)
//! and runs `keyhold_fuzz::oracle::self_check` (exit status 1 when a check
//! no longer fails on a response that breaks its property), all before
//! fuzzing starts; run it with `-runs=0` (as `fuzz/smoke.sh` does).
#![no_main]

libfuzzer_sys::fuzz_target!(
    init: {
        let dir = std::env::var_os("KEYHOLD_FUZZ_SEED_DIR")
            .map(std::path::PathBuf::from)
            .expect("set KEYHOLD_FUZZ_SEED_DIR to the corpus root");
        let mut total = 0;
        for (target, seeds) in keyhold_fuzz::seeds::all() {
            let target_dir = dir.join(target);
            std::fs::create_dir_all(&target_dir).expect("create the corpus directory");
            for (name, bytes) in &seeds {
                std::fs::write(target_dir.join(format!("seed-{name}")), bytes)
                    .expect("write a seed");
            }
            println!("{target}: {} seeds", seeds.len());
            total += seeds.len();
        }
        println!("KEYHOLD-SEEDS: {total}");
        match keyhold_fuzz::oracle::self_check() {
            Ok(n) => println!("KEYHOLD-ORACLE-CHECKS: {n} passed"),
            Err(e) => {
                eprintln!("oracle self-check failed: {e}");
                std::process::exit(1);
            }
        }
    },
    |_data: &[u8]| {}
);
