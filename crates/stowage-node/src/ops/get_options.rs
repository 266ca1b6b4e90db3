//! `get`'s options and the byte ranges of `get`, `getRange` and `getRanges`, checked.

use std::ops::Range;

use chrono::{DateTime, Utc};
use napi_derive::napi;
use object_store::{GetOptions, GetRange};

use crate::error::{StorageFailure, StorageResult};

/// Options of `get`, as users write them (`signal` is added by the TypeScript layer).
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct NativeGetOptions {
    /// `{ start, end? }`: bytes `[start, end)` (to the end without `end`); `{ suffix }`: the
    /// last `suffix` bytes.
    #[napi(ts_type = "{ start: number; end?: number } | { suffix: number }")]
    pub range: Option<NativeRange>,
    /// Only if the object's etag is this one (`PRECONDITION_FAILED` otherwise).
    pub if_match: Option<String>,
    /// Only if the object's etag is not this one (`NOT_MODIFIED` otherwise).
    pub if_none_match: Option<String>,
    /// Only if the object changed after this time (`NOT_MODIFIED` otherwise).
    pub if_modified_since: Option<DateTime<Utc>>,
    /// Only if the object did not change after this time (`PRECONDITION_FAILED` otherwise).
    pub if_unmodified_since: Option<DateTime<Utc>>,
    /// A particular version of the object, where the backend keeps versions.
    pub version: Option<String>,
}

/// A byte range of `get`, one of its two forms; checked by `get_options`.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct NativeRange {
    pub start: Option<f64>,
    pub end: Option<f64>,
    pub suffix: Option<f64>,
}

fn byte_offset(name: &str, value: f64) -> StorageResult<u64> {
    if value.fract() != 0.0 || !(0.0..=9_007_199_254_740_991.0).contains(&value) {
        return Err(StorageFailure::invalid_config(format!(
            "{name} must be a non-negative whole number, got {value}"
        )));
    }
    Ok(value as u64)
}

/// `[start, end)` from JavaScript numbers; an empty or inverted range is refused.
pub fn byte_range(start: f64, end: f64) -> StorageResult<Range<u64>> {
    let (start, end) = (byte_offset("start", start)?, byte_offset("end", end)?);
    if end <= start {
        return Err(StorageFailure::invalid_config(format!(
            "a range needs end > start, got [{start}, {end})"
        )));
    }
    Ok(start..end)
}

/// Checked `GetOptions` from what JavaScript passed.
pub fn get_options(options: Option<NativeGetOptions>) -> StorageResult<GetOptions> {
    {
        let options = options.unwrap_or_default();
        let range = match options.range.map(|r| (r.start, r.end, r.suffix)) {
            None => None,
            Some((Some(start), Some(end), None)) => {
                Some(GetRange::Bounded(byte_range(start, end)?))
            }
            Some((Some(start), None, None)) => Some(GetRange::Offset(byte_offset("start", start)?)),
            Some((None, None, Some(suffix))) => {
                Some(GetRange::Suffix(byte_offset("suffix", suffix)?))
            }
            _ => {
                return Err(StorageFailure::invalid_config(
                    "range takes either { start, end? } or { suffix }",
                ))
            }
        };
        Ok(GetOptions {
            if_match: options.if_match,
            if_none_match: options.if_none_match,
            if_modified_since: options.if_modified_since,
            if_unmodified_since: options.if_unmodified_since,
            range,
            version: options.version,
            ..Default::default()
        })
    }
}
