#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| oauth_desk_core::fuzzing::exchange_answer(data));
