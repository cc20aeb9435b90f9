use super::*;

fn mask(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) | 1)
        .collect()
}

#[test]
fn finds_masked_needles_in_a_buffer() {
    let needle = b"correct horse battery staple";
    let n = MaskedNeedle::from_plain("n", needle, mask(needle.len(), 7));
    let mut hay = vec![0u8; 100];
    hay.extend_from_slice(needle);
    hay.extend_from_slice(b"xx");
    hay.extend_from_slice(needle);
    assert_eq!(n.find_all(&hay), vec![100, 100 + needle.len() + 2]);
    assert!(n.find_all(&hay[..120]).is_empty());
}

#[test]
fn hex_form_matches_the_lowercase_hex() {
    let needle = [0xde, 0xad, 0xbe, 0xef, 0x01];
    let n = MaskedNeedle::from_plain("n", &needle, mask(5, 3));
    let h = n.hex_form("h", mask(10, 9));
    assert!(h.matches(b"deadbeef01"));
    assert!(!h.matches(b"DEADBEEF01"));
}

#[test]
fn scanning_this_process_finds_a_planted_needle_and_not_an_absent_one() {
    // Positive control: plant a needle in a heap buffer.
    let planted: Vec<u8> = (0..32u8).map(|i| i.wrapping_mul(73) ^ 0x5a).collect();
    let control = MaskedNeedle::from_plain("control", &planted, mask(32, 1));
    // Negative: a needle that exists only in masked form here.
    let absent_mask = mask(32, 2);
    let absent_masked: Vec<u8> = (0..32u8)
        .map(|i| i.wrapping_mul(151) ^ 0xc3)
        .zip(&absent_mask)
        .map(|(a, m)| a ^ m)
        .collect();
    let absent = MaskedNeedle::new("absent", absent_masked, absent_mask);
    let report = scan_process(None, &[control, absent]).unwrap();
    let planted_at = planted.as_ptr() as u64;
    assert!(
        report.hits_of("control").any(|h| h.address == planted_at),
        "the planted control must be found at its address: {:?}",
        report.hits_of("control").collect::<Vec<_>>()
    );
    assert_eq!(report.hits_of("absent").count(), 0, "{:?}", report.hits);
    assert!(report.regions_scanned > 5 && report.bytes_scanned > 1 << 20);
    std::hint::black_box(&planted);
}

#[test]
fn maps_lines_parse() {
    let l = "7f00a000-7f00b000 r-xp 00000000 08:01 1234 /usr/lib/x.so";
    assert_eq!(parse_maps_line(l), Some((0x7f00a000, 0x7f00b000, "r-xp")));
    assert_eq!(parse_maps_line("garbage"), None);
}
