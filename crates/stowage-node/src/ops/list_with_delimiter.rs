//! `listWithDelimiter`: one level under a prefix, its objects and its sub-directories.

use napi::bindgen_prelude::PromiseRaw;
use napi::Env;
use napi_derive::napi;

use crate::key::parse_prefix;
use crate::meta::NativeObjectMeta;
use crate::store::NativeStore;

/// The result of `listWithDelimiter`.
#[napi(object)]
pub struct NativeListResult {
    pub objects: Vec<NativeObjectMeta>,
    /// Directories directly under the prefix, without a trailing `/`.
    pub common_prefixes: Vec<String>,
}

#[napi]
impl NativeStore {
    /// One level under `prefix`: its objects and its sub-directories.
    #[napi]
    pub fn list_with_delimiter<'env>(
        &self,
        env: &'env Env,
        prefix: Option<String>,
    ) -> napi::Result<PromiseRaw<'env, NativeListResult>> {
        let inner = self.inner.clone();
        self.run(env, async move {
            let prefix = parse_prefix(prefix.as_deref())?;
            if let (Some(root), Some(prefix)) = (&inner.local_root, &prefix) {
                root.confine(prefix)?;
            }
            let result = inner.store.list_with_delimiter(prefix.as_ref()).await?;
            Ok(NativeListResult {
                objects: result.objects.into_iter().map(Into::into).collect(),
                common_prefixes: result
                    .common_prefixes
                    .into_iter()
                    .map(|p| p.to_string())
                    .collect(),
            })
        })
    }
}
