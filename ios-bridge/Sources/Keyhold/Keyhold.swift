// Keyhold: the Swift API apps import.
//
// - `KeyholdStore`: the core's verbs as async methods, run on one serial
//   queue (never the main thread), throwing `KeyholdStoreError`.
// - Sealers: `SecureEnclaveSealer` (devices; Apple-only adapter over
//   `EnclaveSealerCore`), `SoftwareSealer` (Simulator, previews, tests;
//   not hardware-backed), or any type implementing `Sealer`.
// - The generated bindings (module KeyholdUniFFI) are re-exported for their
//   records and enums (`KeySpec`, `KeyOptions`, `KeyRef`, `Payload`, ...);
//   renames between the two live in Naming.swift.
//
// There is no cryptography or policy in this module apart from the
// sealers' wrapping: every rule is in the Rust core.

@_exported import KeyholdUniFFI
