//! `Keyhold::handle` and `Keyhold::handle_with_identity`, the byte-level
//! entry every door calls. An input is up to 8 records
//! `[caller][len u16 LE][request bytes]` run in order against the fixture
//! (five callers, fixed keys from the vectors; see `keyhold_fuzz::fixture`);
//! a caller byte with the high bit set sends the caller as identity bytes.
//! Every response goes through `keyhold_fuzz::oracle::Session`.
#![no_main]

use keyhold_fuzz::{fixture, oracle::Session};

const MAX_REQUESTS: usize = 8;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    fixture::with_fixture(|fx| {
        let mut session = Session::new(fx, data);
        let mut rest = data;
        for _ in 0..MAX_REQUESTS {
            let Some((&selector, tail)) = rest.split_first() else {
                break;
            };
            let (len, tail) = match tail {
                [a, b, body @ ..] => (usize::from(u16::from_le_bytes([*a, *b])), body),
                _ => (tail.len(), tail),
            };
            let (body, next) = tail.split_at(len.min(tail.len()));
            rest = next;
            let index = usize::from(selector & 0x7f) % fx.callers.len();
            let caller = &fx.callers[index];
            let response = if selector & 0x80 != 0 {
                let identity = keyhold_core::caller_to_identity_bytes(caller);
                fx.engine.handle_with_identity(&identity, body)
            } else {
                fx.engine.handle(caller, body)
            };
            session.check(index, body, &response);
        }
    });
});
