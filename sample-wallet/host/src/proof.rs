//! Proof that this process never held the private key: scan our own memory
//! for the published private key of m/44'/60'/0'/0/0 of the BIP39 test
//! mnemonic, in raw and hex form, without ever materialising it. The key is
//! stored only as `key XOR MASK` next to `MASK`; windows are compared as
//! `(byte ^ mask[i]) == masked[i]`. A positive control planted in a heap
//! buffer shows the same scan does find what is there.

use keyhold_client::memscan::{MaskedNeedle, ScanReport, scan_process};
use std::hint::black_box;
use zeroize::Zeroizing;

/// `key XOR KEY_MASK` for the published private key of m/44'/60'/0'/0/0 of
/// "abandon ... about" (its address is 0x9858EfFD232B4033E47d90003D41EC34EcaEda94).
const KEY_MASKED: [u8; 32] = [
    0x9d, 0x8d, 0x0c, 0x1a, 0xf6, 0xd0, 0x1b, 0x0a, 0xb6, 0x5e, 0x78, 0x8b, 0xf3, 0xbb, 0x42, 0xbb,
    0x7e, 0x94, 0xf5, 0x6a, 0x36, 0x59, 0x06, 0x0e, 0x29, 0xd2, 0xd8, 0x33, 0x18, 0xca, 0x1d, 0x55,
];
/// SHA-256("keyhold sample wallet: raw needle mask").
const KEY_MASK: [u8; 32] = [
    0x87, 0x39, 0x20, 0xde, 0xe4, 0x66, 0x03, 0xb7, 0x5c, 0x64, 0x21, 0x15, 0xcf, 0x20, 0xec, 0xa2,
    0xe0, 0x2b, 0xf6, 0x62, 0xa3, 0xe9, 0x3f, 0xe7, 0xf2, 0xcc, 0xe8, 0xe9, 0xe3, 0xd8, 0xaa, 0x72,
];
/// SHA-512("keyhold sample wallet: hex needle mask"), for the hex form.
const HEX_MASK: [u8; 64] = [
    0x5d, 0xf4, 0x4a, 0x17, 0x32, 0x95, 0x9b, 0x90, 0x42, 0x73, 0x03, 0xdd, 0x92, 0xf8, 0x48, 0x02,
    0x6d, 0x30, 0xde, 0xff, 0x42, 0x42, 0xf4, 0xf3, 0xa3, 0xd6, 0x8b, 0xdf, 0x20, 0x19, 0x87, 0x58,
    0xeb, 0xfe, 0x06, 0x63, 0xed, 0xd9, 0x5a, 0x4b, 0xfc, 0xad, 0xc6, 0xf8, 0x79, 0x3b, 0x38, 0xf4,
    0x1c, 0xb2, 0x65, 0xfd, 0x9d, 0x91, 0x71, 0x9a, 0xf4, 0xba, 0xc4, 0x49, 0xc6, 0x97, 0x86, 0xde,
];

const RAW: &str = "private key of m/44'/60'/0'/0/0 (32 raw bytes)";
const HEX: &str = "private key of m/44'/60'/0'/0/0 (64 hex chars)";
const CONTROL: &str = "positive control (32 random bytes planted on the heap)";

/// What the scan showed.
pub struct Proof {
    /// The scan itself.
    pub report: ScanReport,
    /// Address where the control was planted.
    pub control_address: u64,
}

impl Proof {
    /// Occurrences of the private key (raw or hex).
    pub fn key_hits(&self) -> usize {
        self.report.hits_of(RAW).count() + self.report.hits_of(HEX).count()
    }

    /// True when the control was found where it was planted.
    pub fn control_found(&self) -> bool {
        self.report
            .hits_of(CONTROL)
            .any(|h| h.address == self.control_address)
    }

    /// Human-readable lines.
    pub fn describe(&self) -> Vec<String> {
        let r = &self.report;
        let mut lines = vec![format!(
            "scanned {} readable mappings of /proc/self/mem ({:.1} MiB; {} unreadable)",
            r.regions_scanned,
            r.bytes_scanned as f64 / (1024.0 * 1024.0),
            r.regions_unreadable
        )];
        lines.push(format!("{RAW}: {} hit(s)", r.hits_of(RAW).count()));
        lines.push(format!("{HEX}: {} hit(s)", r.hits_of(HEX).count()));
        for h in r.hits_of(RAW).chain(r.hits_of(HEX)) {
            lines.push(format!("  at {:#x} in {}", h.address, h.mapping));
        }
        lines.push(format!(
            "{CONTROL}: {} hit(s), {} at the planted address {:#x}",
            r.hits_of(CONTROL).count(),
            if self.control_found() {
                "including one"
            } else {
                "NONE"
            },
            self.control_address
        ));
        lines
    }
}

/// Runs the scan with the positive control.
pub fn scan_self() -> Result<Proof, String> {
    let raw = MaskedNeedle::new(
        RAW,
        black_box(KEY_MASKED).to_vec(),
        black_box(KEY_MASK).to_vec(),
    );
    let hex = raw.hex_form(HEX, black_box(HEX_MASK).to_vec());
    let mut planted = Zeroizing::new(vec![0u8; 32]);
    let mut mask = vec![0u8; 32];
    getrandom::fill(&mut planted).map_err(|e| format!("getrandom: {e}"))?;
    getrandom::fill(&mut mask).map_err(|e| format!("getrandom: {e}"))?;
    let control = MaskedNeedle::from_plain(CONTROL, &planted, mask);
    let control_address = planted.as_ptr() as u64;
    let report = scan_process(None, &[raw, hex, control])
        .map_err(|e| format!("cannot scan /proc/self/mem: {e}"))?;
    black_box(&planted);
    Ok(Proof {
        report,
        control_address,
    })
}
