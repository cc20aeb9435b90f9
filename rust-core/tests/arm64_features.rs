//! On aarch64, shows which ARMv8 extensions the crypto crates find at run
//! time (`aes` and `sha2` pick the hardware AES and SHA-256 code paths, and
//! `pmull` the GHASH one). `scripts/arm64-check.sh` runs the suites under
//! qemu-user, whose default CPU has these extensions, and sets
//! `KEYHOLD_EXPECT_ARMV8_CRYPTO=1` so this test fails if they are not
//! detected, i.e. if the vectors did not run on the ARMv8 paths.

#[cfg(target_arch = "aarch64")]
#[test]
fn armv8_crypto_extensions_are_detected() {
    let features = [
        ("aes", std::arch::is_aarch64_feature_detected!("aes")),
        ("pmull", std::arch::is_aarch64_feature_detected!("pmull")),
        ("sha2", std::arch::is_aarch64_feature_detected!("sha2")),
    ];
    println!("aarch64 features: {features:?}");
    if std::env::var_os("KEYHOLD_EXPECT_ARMV8_CRYPTO").is_some() {
        for (name, found) in features {
            assert!(found, "aarch64 feature {name} not detected");
        }
    }
}
