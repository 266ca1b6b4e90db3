use std::sync::Arc;

use napi_derive::napi;
use object_store::memory::InMemory;

use crate::capabilities::Capabilities;
use crate::store::{NativeStore, StoreInner};
use crate::upload::part_size::NO_PART_LIMITS;

pub fn memory_store() -> StoreInner {
    StoreInner {
        store: Arc::new(InMemory::new()),
        signer: None,
        prefix: None,
        local_root: None,
        description: "MemoryStore".to_string(),
        in_process: true,
        part_limits: NO_PART_LIMITS,
        capabilities: Capabilities::MEMORY,
        presigned_multipart: None,
    }
}

#[napi]
impl NativeStore {
    /// A store that keeps objects in this process's memory.
    #[napi(factory)]
    pub fn memory() -> Self {
        NativeStore::new(memory_store())
    }
}
