//! The workspace's pinned `uniffi-bindgen`: generates the Swift and Kotlin
//! bindings from the built `keyhold_uniffi` library (library mode), so the
//! generator always matches the scaffolding's uniffi version.

fn main() {
    uniffi::uniffi_bindgen_main()
}
