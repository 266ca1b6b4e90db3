//! `get`'s options and the byte ranges of `get`, `getRange` and `getRanges`, checked.

use std::ops::Range;

use chrono::{DateTime, Utc};
use napi_derive::napi;
use object_store::{GetOptions, GetRange};

use crate::error::{StorageFailure, StorageResult};

/// Options of `get`, flattened by the TypeScript layer.
#[napi(object)]
#[derive(Default)]
pub struct NativeGetOptions {
    pub range_start: Option<f64>,
    pub range_end: Option<f64>,
    pub suffix: Option<f64>,
    pub if_match: Option<String>,
    pub if_none_match: Option<String>,
    pub if_modified_since: Option<DateTime<Utc>>,
    pub if_unmodified_since: Option<DateTime<Utc>>,
    pub version: Option<String>,
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
        let range = match (options.range_start, options.range_end, options.suffix) {
            (None, None, None) => None,
            (Some(start), Some(end), None) => Some(GetRange::Bounded(byte_range(start, end)?)),
            (Some(start), None, None) => Some(GetRange::Offset(byte_offset("start", start)?)),
            (None, None, Some(suffix)) => Some(GetRange::Suffix(byte_offset("suffix", suffix)?)),
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
