//! The gateway's CSS and JavaScript as a browser gets them: named by their content and cached
//! for good, brotli- or gzip-compressed for a client that takes it, revalidated by ETag.

use std::io::Read;
use std::path::Path;

use reqwest::header::{
    ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, ETAG, IF_NONE_MATCH, VARY,
};
use speedrack_tests::web::{Gateway, WebClient};

struct Fetched {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

async fn fetch(client: &WebClient, path: &str, headers: &[(&str, &str)]) -> Fetched {
    let mut request = client.http.get(client.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.expect("GET");
    Fetched {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        body: response.bytes().await.expect("a body").to_vec(),
    }
}

fn header(fetched: &Fetched, name: reqwest::header::HeaderName) -> String {
    fetched
        .headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut plain)
        .expect("valid gzip");
    plain
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    brotli::Decompressor::new(bytes, 4096)
        .read_to_end(&mut plain)
        .expect("valid brotli");
    plain
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assets_are_named_by_content_cached_for_good_and_sent_compressed() {
    // No daemon: the page says so, and links its assets all the same.
    let gateway = Gateway::start(Path::new("/nonexistent/speedrack.sock")).await;
    let client = gateway.client();
    let page = client.get("/").await;
    let mut paths = page.attrs("link[rel='stylesheet']", "href");
    paths.extend(page.attrs("script[src]", "src"));
    paths.extend(page.attrs("script[data-worker]", "data-worker"));
    assert!(paths.len() >= 7, "{paths:?}");
    let (mut plain_total, mut gzip_total, mut brotli_total) = (0, 0, 0);
    for path in &paths {
        assert!(
            path.starts_with("/assets/") && !path.contains('?'),
            "{path}"
        );
        let plain = fetch(&client, path, &[]).await;
        assert_eq!(plain.status, 200, "{path}");
        assert_eq!(
            header(&plain, CACHE_CONTROL),
            "public, max-age=31536000, immutable",
            "{path}"
        );
        assert_eq!(header(&plain, CONTENT_ENCODING), "", "{path}");
        let zipped = fetch(&client, path, &[("accept-encoding", "gzip, deflate")]).await;
        assert_eq!(header(&zipped, CONTENT_ENCODING), "gzip", "{path}");
        assert_eq!(header(&zipped, VARY), "accept-encoding", "{path}");
        assert!(zipped.body.len() < plain.body.len(), "{path}");
        assert!(gunzip(&zipped.body) == plain.body, "{path}: the same file");
        let etag = header(&zipped, ETAG);
        assert_ne!(etag, header(&plain, ETAG), "{path}: one tag per encoding");
        let again = fetch(
            &client,
            path,
            &[
                (ACCEPT_ENCODING.as_str(), "gzip"),
                (IF_NONE_MATCH.as_str(), &etag),
            ],
        )
        .await;
        assert_eq!(again.status, 304, "{path}");
        let brotli = fetch(&client, path, &[("accept-encoding", "gzip, deflate, br")]).await;
        assert_eq!(header(&brotli, CONTENT_ENCODING), "br", "{path}");
        assert!(brotli.body.len() < zipped.body.len(), "{path}");
        assert!(
            unbrotli(&brotli.body) == plain.body,
            "{path}: the same file"
        );
        plain_total += plain.body.len();
        gzip_total += zipped.body.len();
        brotli_total += brotli.body.len();
    }
    eprintln!(
        "assets of a page: {plain_total} bytes, {gzip_total} gzipped, {brotli_total} in brotli"
    );
    // The plain name still answers, with whatever this build has: revalidated every time.
    let unversioned = fetch(&client, "/assets/htmx.min.js", &[]).await;
    assert_eq!(unversioned.status, 200);
    assert_eq!(header(&unversioned, CACHE_CONTROL), "no-cache");
}
