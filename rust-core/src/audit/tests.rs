use super::*;

fn chain(n: u64) -> Vec<AuditRecord> {
    let mut head = AuditChain::resume(None);
    (0..n)
        .map(|i| {
            let outcome = (i % 3 == 2).then_some(ErrorCode::PermissionDenied);
            let key_id = (i % 2 == 0).then(|| KeyId::from_u64(0x1000 + i));
            head.append(
                1_700_000_000_000 + i as i64,
                format!("unix uid={}", 1000 + i),
                Operation::ALL[(i as usize) % Operation::ALL.len()],
                key_id,
                outcome,
            )
        })
        .collect()
}

/// Serves `records` like a store: up to `page` records with seq >= from.
fn verify_paged(records: &[AuditRecord], page: usize) -> AuditVerdict {
    verify_chain(&mut |from| {
        Ok(records
            .iter()
            .skip_while(|r| r.seq < from)
            .take(page)
            .cloned()
            .collect())
    })
    .unwrap()
}

/// Serves `records` in storage order regardless of seq (as a log whose rows
/// were moved would be read back).
fn verify_as_stored(records: &[AuditRecord], page: usize) -> AuditVerdict {
    let mut offset = 0usize;
    verify_chain(&mut |_from| {
        let out: Vec<_> = records.iter().skip(offset).take(page).cloned().collect();
        offset += out.len();
        Ok(out)
    })
    .unwrap()
}

fn broken_at(seq: u64) -> Option<u64> {
    Some(seq)
}

#[test]
fn resume_starts_at_one_with_zero_prev_hash() {
    let mut head = AuditChain::resume(None);
    let r = head.append(5, "c".into(), Operation::Sign, None, None);
    assert_eq!(r.seq, 1);
    assert_eq!(r.prev_hash, [0u8; 32]);
    assert_eq!(r.hash, record_hash(&r));

    let mut resumed = AuditChain::resume(Some(&r));
    assert_eq!(head, resumed);
    let r2 = resumed.append(6, "c".into(), Operation::Verify, None, None);
    assert_eq!(r2.seq, 2);
    assert_eq!(r2.prev_hash, r.hash);
}

#[test]
fn intact_chain_verifies_with_any_page_size() {
    let records = chain(25);
    for page in [1, 2, 7, 25, 100] {
        assert_eq!(
            verify_paged(&records, page),
            AuditVerdict {
                entries: 25,
                first_broken_seq: None
            }
        );
    }
}

#[test]
fn empty_log_verifies() {
    assert_eq!(
        verify_paged(&[], 10),
        AuditVerdict {
            entries: 0,
            first_broken_seq: None
        }
    );
}

#[test]
fn edited_field_is_reported_at_its_seq() {
    let base = chain(10);
    let edits: [fn(&mut AuditRecord); 8] = [
        |r| r.time_ms += 1,
        |r| r.caller.push('x'),
        |r| r.operation = Operation::DeleteKey,
        |r| r.key_id = Some(KeyId::from_u64(42)),
        |r| r.key_id = None,
        |r| r.outcome = Some(ErrorCode::Internal),
        |r| r.outcome = None,
        |r| r.hash[31] ^= 1,
    ];
    for (i, edit) in edits.iter().enumerate() {
        let mut records = base.clone();
        let before = records[5].clone();
        edit(&mut records[5]);
        if records[5] == before {
            // Some edits are no-ops on this record (e.g. key_id already None).
            edit(&mut records[4]);
            assert_eq!(
                verify_paged(&records, 3).first_broken_seq,
                broken_at(5),
                "edit {i}"
            );
            continue;
        }
        assert_eq!(
            verify_paged(&records, 3).first_broken_seq,
            broken_at(6),
            "edit {i}"
        );
    }
}

#[test]
fn edit_with_recomputed_hash_breaks_the_next_link() {
    let mut records = chain(10);
    records[3].caller = "someone else".into();
    records[3].hash = record_hash(&records[3]);
    let v = verify_paged(&records, 4);
    assert_eq!(v.first_broken_seq, broken_at(5));
    assert_eq!(v.entries, 5);
}

#[test]
fn removed_record_is_reported_at_the_missing_seq() {
    let mut records = chain(10);
    records.remove(6); // seq 7
    assert_eq!(verify_paged(&records, 2).first_broken_seq, broken_at(7));
    let mut first_gone = chain(10);
    first_gone.remove(0);
    assert_eq!(verify_paged(&first_gone, 2).first_broken_seq, broken_at(1));
}

#[test]
fn removed_and_renumbered_record_is_reported() {
    // seq 4 removed, later records renumbered to close the gap.
    let mut records = chain(8);
    records.remove(3);
    for r in &mut records[3..] {
        r.seq -= 1;
    }
    assert_eq!(verify_paged(&records, 3).first_broken_seq, broken_at(4));
}

#[test]
fn reordered_records_are_reported_at_the_first_out_of_place_seq() {
    let mut records = chain(10);
    records.swap(4, 5); // seqs 5 and 6
    assert_eq!(verify_as_stored(&records, 3).first_broken_seq, broken_at(5));
    // Swapping their seq numbers too does not help: the links break.
    let (a, b) = (records[4].seq, records[5].seq);
    records[4].seq = b;
    records[5].seq = a;
    assert_eq!(verify_as_stored(&records, 3).first_broken_seq, broken_at(5));
}

#[test]
fn wrong_prev_hash_is_reported_even_with_a_matching_hash() {
    let mut records = chain(6);
    records[2].prev_hash = [7u8; 32];
    records[2].hash = record_hash(&records[2]);
    assert_eq!(verify_paged(&records, 10).first_broken_seq, broken_at(3));

    let mut first = chain(3);
    first[0].prev_hash = [1u8; 32];
    first[0].hash = record_hash(&first[0]);
    assert_eq!(verify_paged(&first, 10).first_broken_seq, broken_at(1));
}

#[test]
fn hash_encoding_is_unambiguous() {
    let mut head = AuditChain::resume(None);
    let a = head.append(1, "ab".into(), Operation::Sign, None, None);
    // Same bytes spread differently across fields must hash differently.
    let mut b = a.clone();
    b.caller = "a".into();
    assert_ne!(record_hash(&a), record_hash(&b));
    let mut c = a.clone();
    c.key_id = Some(KeyId::from_u64(0));
    assert_ne!(record_hash(&a), record_hash(&c));
    let mut d = a.clone();
    d.outcome = Some(ErrorCode::MalformedRequest);
    assert_ne!(record_hash(&a), record_hash(&d));
    let mut e = a.clone();
    e.seq = 2;
    assert_ne!(record_hash(&a), record_hash(&e));
}

/// Pins the encoding: a change to `record_hash` breaks every stored log.
#[test]
fn record_hash_known_answer() {
    let record = AuditRecord {
        seq: 1,
        time_ms: 1_700_000_000_000,
        caller: "unix uid=1000 gid=1000 pid=42".into(),
        operation: Operation::GenerateKey,
        key_id: Some(KeyId::from_u64(0x0123_4567_89ab_cdef)),
        outcome: None,
        prev_hash: [0u8; 32],
        hash: [0u8; 32],
    };
    // Independent computation of the documented encoding.
    let mut input = Vec::new();
    input.extend_from_slice(b"keyhold/audit/v1");
    input.extend_from_slice(&[0u8; 32]);
    input.extend_from_slice(&1u64.to_be_bytes());
    input.extend_from_slice(&1_700_000_000_000i64.to_be_bytes());
    input.extend_from_slice(&29u32.to_be_bytes());
    input.extend_from_slice(b"unix uid=1000 gid=1000 pid=42");
    input.extend_from_slice(&12u32.to_be_bytes());
    input.extend_from_slice(b"generate_key");
    input.extend_from_slice(&[1, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef]);
    input.extend_from_slice(&[0]);
    let expected: [u8; 32] = Sha256::digest(&input).into();
    assert_eq!(record_hash(&record), expected);
    assert_eq!(
        hex::encode(record_hash(&record)),
        KNOWN_HASH,
        "record_hash encoding changed"
    );
}

/// Computed independently (Python hashlib) from the encoding above.
const KNOWN_HASH: &str = "7aa26abd4b5a5e1f3172c453b3c5e1db45b2be22bbec0f1c67d75610789b8c34";

#[test]
fn page_errors_propagate() {
    let err = verify_chain(&mut |_| Err(crate::Error::StorageOther("disk".into()))).unwrap_err();
    assert!(matches!(err, crate::Error::StorageOther(_)));
}

#[test]
fn anchors_carry_their_mac_under_the_store_keys() {
    use crate::integrity::StoreIntegrity;
    let (a, b) = (StoreIntegrity::for_tests(1), StoreIntegrity::for_tests(2));
    let anchor = AuditAnchor::keyed(&a, 5, [9; 32], 2);
    assert!(anchor.is_authentic(&a));
    assert!(!anchor.is_authentic(&b));
    for tampered in [
        AuditAnchor { seq: 4, ..anchor },
        AuditAnchor {
            head: [8; 32],
            ..anchor
        },
        AuditAnchor {
            keyed_from: 1,
            ..anchor
        },
    ] {
        assert!(!tampered.is_authentic(&a));
    }
}
