#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| lanyard::fuzz_api::fuzz_one(
    lanyard::fuzz_api::redaction,
    data
));
