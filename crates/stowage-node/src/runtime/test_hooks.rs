//! Hooks for the test suite only, compiled with the `test-hooks` cargo feature, which
//! release builds leave out: users never get a way to make the addon panic. They are
//! static methods of `NativeStore` left out of the generated types, so the published
//! `.d.ts` (generated the same by debug and release builds) never mentions them.

use napi::bindgen_prelude::PromiseRaw;
use napi::Env;
use napi_derive::napi;

use crate::runtime::promise::promise;
use crate::store::NativeStore;

#[napi]
impl NativeStore {
    /// Panics inside the native module on purpose; tests use it to prove a panic
    /// becomes a rejected promise and the process lives on.
    #[napi(js_name = "__panicForTest", skip_typescript)]
    #[cfg_attr(test, allow(dead_code))] // napi-rs registers it only outside `cargo test`
    pub fn panic_for_test(env: &Env, message: String) -> napi::Result<PromiseRaw<'_, ()>> {
        promise(env, false, async move {
            if message.is_empty() {
                return Ok(());
            }
            panic!("{message}");
        })
    }
}
