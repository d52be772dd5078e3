//! The vendored CSS and JavaScript (see `web/assets/README.md`), embedded in the binary and
//! served with an ETag; pages link them under a versioned URL that may be cached for a year.
//!
//! Only the files listed here exist: the file name from the URL is looked up in this table and
//! never used as a path.

use std::sync::OnceLock;

use axum::extract::{Path, Query};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

const ASSETS: [Asset; 7] = [
    Asset {
        name: "bootstrap.min.css",
        content_type: CSS,
        bytes: include_bytes!("../assets/bootstrap.min.css"),
    },
    Asset {
        name: "bootstrap.min.js",
        content_type: JS,
        bytes: include_bytes!("../assets/bootstrap.min.js"),
    },
    Asset {
        name: "htmx.min.js",
        content_type: JS,
        bytes: include_bytes!("../assets/htmx.min.js"),
    },
    Asset {
        name: "sse.min.js",
        content_type: JS,
        bytes: include_bytes!("../assets/sse.min.js"),
    },
    Asset {
        name: "speedrack.js",
        content_type: JS,
        bytes: include_bytes!("../assets/speedrack.js"),
    },
    Asset {
        name: "speedrack-worker.js",
        content_type: JS,
        bytes: include_bytes!("../assets/speedrack-worker.js"),
    },
    Asset {
        name: "speedrack.css",
        content_type: CSS,
        bytes: include_bytes!("../assets/speedrack.css"),
    },
];

/// FNV-1a: not for security, only to tell versions of a file apart.
fn fingerprint(bytes: &[u8]) -> String {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// Each asset's fingerprint, computed once.
fn fingerprints() -> &'static [String] {
    static PRINTS: OnceLock<Vec<String>> = OnceLock::new();
    PRINTS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|asset| fingerprint(asset.bytes))
            .collect()
    })
}

fn find(name: &str) -> Option<(&'static Asset, &'static str)> {
    let index = ASSETS.iter().position(|asset| asset.name == name)?;
    Some((&ASSETS[index], fingerprints()[index].as_str()))
}

/// The URL path of an asset (without the prefix), versioned by its content.
pub fn versioned_path(name: &str) -> String {
    match find(name) {
        Some((_, print)) => format!("/assets/{name}?v={print}"),
        None => format!("/assets/{name}"),
    }
}

#[derive(Debug, Deserialize)]
pub struct Version {
    v: Option<String>,
}

/// GET /assets/{file}
pub async fn serve(
    Path(file): Path<String>,
    Query(version): Query<Version>,
    headers: HeaderMap,
) -> Response {
    let Some((asset, print)) = find(&file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let etag = format!("\"{print}\"");
    // A URL naming this exact version can be cached for good; anything else must revalidate.
    let cache = if version.v.as_deref() == Some(print) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut response_headers = HeaderMap::new();
    response_headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response_headers.insert(ETAG, value);
    }
    let matches = headers
        .get(IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|tag| tag.trim() == etag));
    if matches {
        return (StatusCode::NOT_MODIFIED, response_headers).into_response();
    }
    response_headers.insert(CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    (response_headers, asset.bytes).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_is_embedded_and_versioned() {
        for asset in &ASSETS {
            assert!(!asset.bytes.is_empty(), "{}", asset.name);
            let path = versioned_path(asset.name);
            assert!(
                path.starts_with(&format!("/assets/{}?v=", asset.name)),
                "{path}"
            );
        }
        assert_ne!(fingerprint(b"a"), fingerprint(b"b"));
        assert!(find("../Cargo.toml").is_none());
    }
}
