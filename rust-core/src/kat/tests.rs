use super::*;
use crate::algorithm::Algorithm;

#[test]
fn known_answer_tests_pass() {
    run_known_answer_tests().unwrap();
}

#[test]
fn pairwise_consistency_passes_for_every_algorithm() {
    for algorithm in Algorithm::ALL {
        let key = PrivateKey::generate(*algorithm).unwrap();
        pairwise_consistency(&key).unwrap();
    }
}
