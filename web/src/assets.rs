//! The vendored CSS and JavaScript (see `web/assets/README.md`) and ours, embedded in the
//! binary with their brotli and gzip forms (made once, by `build.rs`) and served with an ETag. Pages link each
//! under a name that carries a hash of its content (`htmx.min.HASH.js`), cached for a year as
//! immutable; the plain name is served too, revalidated every time.
//!
//! Only the files listed here exist: the file name from the URL is looked up in this table and
//! never used as a path. Nothing is compressed while serving.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
    gzip: &'static [u8],
    brotli: &'static [u8],
}

const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

macro_rules! asset {
    ($name:literal, $content_type:expr) => {
        Asset {
            name: $name,
            content_type: $content_type,
            bytes: include_bytes!(concat!("../assets/", $name)),
            gzip: include_bytes!(concat!(env!("OUT_DIR"), "/", $name, ".gz")),
            brotli: include_bytes!(concat!(env!("OUT_DIR"), "/", $name, ".br")),
        }
    };
}

const ASSETS: [Asset; 7] = [
    asset!("bootstrap.min.css", CSS),
    asset!("bootstrap.min.js", JS),
    asset!("htmx.min.js", JS),
    asset!("sse.min.js", JS),
    asset!("speedrack.js", JS),
    asset!("speedrack-worker.js", JS),
    asset!("speedrack.css", CSS),
];

/// FNV-1a: not for security, only to tell versions of a file apart.
fn fingerprint(bytes: &[u8]) -> String {
    let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}

/// `NAME.HASH.EXT` for `NAME.EXT`.
fn hashed_name(name: &str, print: &str) -> String {
    match name.rsplit_once('.') {
        Some((stem, extension)) => format!("{stem}.{print}.{extension}"),
        None => format!("{name}.{print}"),
    }
}

/// Each asset's fingerprint and hashed name, computed once.
fn versions() -> &'static [(String, String)] {
    static VERSIONS: OnceLock<Vec<(String, String)>> = OnceLock::new();
    VERSIONS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|asset| {
                let print = fingerprint(asset.bytes);
                let hashed = hashed_name(asset.name, &print);
                (print, hashed)
            })
            .collect()
    })
}

/// How a request named an asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Naming {
    /// By its hashed name: that content for good.
    Hashed,
    /// By its plain name: whatever this build has.
    Plain,
}

fn find(file: &str) -> Option<(&'static Asset, &'static str, Naming)> {
    let versions = versions();
    ASSETS
        .iter()
        .zip(versions)
        .find_map(|(asset, (print, hashed))| {
            if *hashed == file {
                Some((asset, print.as_str(), Naming::Hashed))
            } else if asset.name == file {
                Some((asset, print.as_str(), Naming::Plain))
            } else {
                None
            }
        })
}

/// The URL path of an asset (without the prefix), named by its content.
pub fn versioned_path(name: &str) -> String {
    match ASSETS.iter().position(|asset| asset.name == name) {
        Some(index) => format!("/assets/{}", versions()[index].1),
        None => format!("/assets/{name}"),
    }
}

/// A form an asset is sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Brotli,
    Gzip,
    Identity,
}

impl Encoding {
    /// The smallest form the client takes.
    fn chosen(headers: &HeaderMap) -> Encoding {
        if accepts(headers, "br") {
            Encoding::Brotli
        } else if accepts(headers, "gzip") {
            Encoding::Gzip
        } else {
            Encoding::Identity
        }
    }

    fn body(self, asset: &Asset) -> &'static [u8] {
        match self {
            Encoding::Brotli => asset.brotli,
            Encoding::Gzip => asset.gzip,
            Encoding::Identity => asset.bytes,
        }
    }

    /// Its `Content-Encoding`, also the ETag's suffix; none for the file itself.
    fn token(self) -> Option<&'static str> {
        match self {
            Encoding::Brotli => Some("br"),
            Encoding::Gzip => Some("gzip"),
            Encoding::Identity => None,
        }
    }
}

/// Whether the client takes `coding` (`Accept-Encoding`, a `q=0` refusing it).
fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    headers
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let offered = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|param| {
                let param = param.trim();
                param
                    .strip_prefix("q=")
                    .is_some_and(|q| q.trim().parse::<f32>() == Ok(0.0))
            });
            (offered.eq_ignore_ascii_case(coding) || offered == "*") && !refused
        })
}

/// GET /assets/{file}
pub async fn serve(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let Some((asset, print, naming)) = find(&file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let encoding = Encoding::chosen(&headers);
    let etag = match encoding.token() {
        Some(token) => format!("\"{print}-{token}\""),
        None => format!("\"{print}\""),
    };
    let cache = match naming {
        Naming::Hashed => "public, max-age=31536000, immutable",
        Naming::Plain => "no-cache",
    };
    let mut response_headers = HeaderMap::new();
    response_headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    response_headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
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
    if let Some(token) = encoding.token() {
        response_headers.insert(CONTENT_ENCODING, HeaderValue::from_static(token));
    }
    (response_headers, encoding.body(asset)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_is_embedded_compressed_and_named_by_its_content() {
        for asset in &ASSETS {
            assert!(!asset.bytes.is_empty(), "{}", asset.name);
            assert!(asset.gzip.len() < asset.bytes.len(), "{}", asset.name);
            assert!(asset.brotli.len() < asset.gzip.len(), "{}", asset.name);
            let path = versioned_path(asset.name);
            let (hashed, print, naming) = find(&path["/assets/".len()..]).expect("found");
            assert_eq!(hashed.name, asset.name);
            assert_eq!(naming, Naming::Hashed);
            assert!(path.contains(print), "{path}");
            assert_eq!(find(asset.name).map(|found| found.2), Some(Naming::Plain));
        }
        assert_eq!(hashed_name("htmx.min.js", "abc"), "htmx.min.abc.js");
        assert_ne!(fingerprint(b"a"), fingerprint(b"b"));
        assert!(find("../Cargo.toml").is_none());
    }

    #[test]
    fn the_smallest_form_the_client_takes_is_sent() {
        let check = |accept: &str, expected: Encoding| {
            let mut headers = HeaderMap::new();
            headers.insert(
                ACCEPT_ENCODING,
                HeaderValue::from_str(accept).expect("a header"),
            );
            assert_eq!(Encoding::chosen(&headers), expected, "{accept}");
        };
        check("gzip, deflate, br, zstd", Encoding::Brotli);
        check("GZIP", Encoding::Gzip);
        check("br;q=0, gzip;q=0.5", Encoding::Gzip);
        check("*", Encoding::Brotli);
        check("gzip;q=0", Encoding::Identity);
        check("gzip; q=0.0, identity", Encoding::Identity);
        check("deflate, identity", Encoding::Identity);
        check("", Encoding::Identity);
        assert_eq!(Encoding::chosen(&HeaderMap::new()), Encoding::Identity);
    }
}
