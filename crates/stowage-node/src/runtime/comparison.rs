//! napi-rs's own ways of running an operation, beside ours (`runtime/promise.rs`), so that
//! `bench/runtime-comparison.mjs` can measure both in one process. Compiled only with the
//! `runtime-comparison` cargo feature, which no published build turns on.
//!
//! Each method runs the very future the public `head`, `get` or `put` runs (on a store that
//! is not local), so the runtime is the only difference:
//! - `__headAsyncFn`, `__getAsyncFn`, `__putAsyncFn`: `#[napi] async fn`, on napi-rs's tokio
//!   runtime; every call creates a threadsafe function of its own and settles through it.
//! - `__headAsyncTask`, `__getAsyncTask`, `__putAsyncTask`: `AsyncTask`, on libuv's thread
//!   pool, blocking that thread on the future (napi-rs's `block_on`).
//! - `__headTsfn`, `__getTsfn`, `__putTsfn`: spawned on napi-rs's tokio runtime, the result
//!   handed to a Node-style callback through napi-rs's `ThreadsafeFunction` (the JavaScript
//!   side wraps it in a promise).
//!
//! Failures become plain `Error`s here (no `code`): only the successful path is measured.

use std::future::Future;
use std::pin::Pin;

use bytes::Bytes;
use napi::bindgen_prelude::{block_on, spawn, AsyncTask, Buffer, ToNapiValue, TypeName};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Task};
use napi_derive::napi;

use crate::error::{StorageFailure, StorageResult};
use crate::io::releasing::borrow_buffer;
use crate::meta::NativeObjectMeta;
use crate::ops::get::get_object;
use crate::ops::get_result::NativeGetResult;
use crate::ops::head::head_object;
use crate::ops::put::put_object;
use crate::store::NativeStore;
use crate::upload::settings::NativePutResult;

type Work<T> = Pin<Box<dyn Future<Output = StorageResult<T>> + Send>>;

fn to_napi(failure: StorageFailure) -> napi::Error {
    napi::Error::from_reason(failure.message)
}

/// An operation as an `AsyncTask`: `compute` blocks a libuv thread on the future.
pub struct Blocking<T> {
    work: Option<Work<T>>,
    /// A `put`'s body, let go in `resolve`/`reject` on the JavaScript thread.
    borrowed: Option<Bytes>,
}

impl<T> Blocking<T> {
    fn new(work: impl Future<Output = StorageResult<T>> + Send + 'static) -> AsyncTask<Self>
    where
        T: Send + 'static + ToNapiValue + TypeName,
    {
        AsyncTask::new(Self {
            work: Some(Box::pin(work)),
            borrowed: None,
        })
    }
}

impl<T: Send + 'static + ToNapiValue + TypeName> Task for Blocking<T> {
    type Output = T;
    type JsValue = T;

    fn compute(&mut self) -> napi::Result<T> {
        let work = self.work.take().expect("computed once");
        block_on(work).map_err(to_napi)
    }

    fn resolve(&mut self, _env: Env, output: T) -> napi::Result<T> {
        self.borrowed = None;
        Ok(output)
    }

    fn reject(&mut self, _env: Env, err: napi::Error) -> napi::Result<T> {
        self.borrowed = None;
        Err(err)
    }
}

/// Run `work` on napi-rs's tokio runtime and hand its outcome to `callback`.
fn call_back<T: ToNapiValue + Send + 'static>(
    work: impl Future<Output = StorageResult<T>> + Send + 'static,
    callback: ThreadsafeFunction<T>,
) {
    spawn(async move {
        let outcome = work.await.map_err(to_napi);
        callback.call(outcome, ThreadsafeFunctionCallMode::NonBlocking);
    });
}

#[napi]
impl NativeStore {
    #[napi(js_name = "__headAsyncFn")]
    pub async fn head_async_fn(&self, path: String) -> napi::Result<NativeObjectMeta> {
        head_object(self.inner.clone(), path).await.map_err(to_napi)
    }

    #[napi(js_name = "__getAsyncFn")]
    pub async fn get_async_fn(&self, path: String) -> napi::Result<NativeGetResult> {
        get_object(self.inner.clone(), path, None)
            .await
            .map_err(to_napi)
    }

    #[napi(js_name = "__putAsyncFn")]
    pub async fn put_async_fn(&self, path: String, data: Buffer) -> napi::Result<NativePutResult> {
        let put = put_object(self.inner.clone(), path, borrow_buffer(data), None, None);
        Ok(put.await.map_err(to_napi)?.value)
    }

    #[napi(js_name = "__headAsyncTask")]
    pub fn head_async_task(&self, path: String) -> AsyncTask<Blocking<NativeObjectMeta>> {
        Blocking::new(head_object(self.inner.clone(), path))
    }

    #[napi(js_name = "__getAsyncTask")]
    pub fn get_async_task(&self, path: String) -> AsyncTask<Blocking<NativeGetResult>> {
        Blocking::new(get_object(self.inner.clone(), path, None))
    }

    #[napi(js_name = "__putAsyncTask")]
    pub fn put_async_task(
        &self,
        path: String,
        data: Buffer,
    ) -> AsyncTask<Blocking<NativePutResult>> {
        let borrowed = borrow_buffer(data);
        let inner = self.inner.clone();
        let body = borrowed.clone();
        AsyncTask::new(Blocking {
            work: Some(Box::pin(async move {
                Ok(put_object(inner, path, body, None, None).await?.value)
            })),
            borrowed: Some(borrowed),
        })
    }

    #[napi(js_name = "__headTsfn")]
    pub fn head_tsfn(&self, path: String, callback: ThreadsafeFunction<NativeObjectMeta>) {
        call_back(head_object(self.inner.clone(), path), callback)
    }

    #[napi(js_name = "__getTsfn")]
    pub fn get_tsfn(&self, path: String, callback: ThreadsafeFunction<NativeGetResult>) {
        call_back(get_object(self.inner.clone(), path, None), callback)
    }

    #[napi(js_name = "__putTsfn")]
    pub fn put_tsfn(
        &self,
        path: String,
        data: Buffer,
        callback: ThreadsafeFunction<NativePutResult>,
    ) {
        let inner = self.inner.clone();
        let borrowed = borrow_buffer(data);
        call_back(
            async move { Ok(put_object(inner, path, borrowed, None, None).await?.value) },
            callback,
        )
    }
}
