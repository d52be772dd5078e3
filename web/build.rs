//! Compresses the front-end assets once, at build time: each `.css` and `.js` file of `assets/`
//! becomes `OUT_DIR/NAME.gz` and `OUT_DIR/NAME.br` (gzip and brotli, best compression), which
//! `src/assets.rs` embeds beside the file itself. Nothing is compressed while serving.

use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let assets = Path::new("assets");
    println!("cargo::rerun-if-changed=assets");
    let entries = std::fs::read_dir(assets).expect("web/assets/ is readable");
    for entry in entries {
        let path = entry.expect("web/assets/ lists").path();
        let served = matches!(
            path.extension().and_then(|ext| ext.to_str()),
            Some("css" | "js")
        );
        if !served {
            continue;
        }
        println!("cargo::rerun-if-changed={}", path.display());
        let bytes = std::fs::read(&path).expect("an asset is readable");
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        encoder.write_all(&bytes).expect("gzip in memory");
        let gzip = encoder.finish().expect("gzip in memory");
        let name = path.file_name().expect("a file name").to_string_lossy();
        std::fs::write(out.join(format!("{name}.gz")), gzip).expect("OUT_DIR is writable");
        // Quality 11 (best) and a 4 MiB window, larger than any of the files.
        let mut brotli = brotli::CompressorWriter::new(Vec::new(), 4096, 11, 22);
        brotli.write_all(&bytes).expect("brotli in memory");
        std::fs::write(out.join(format!("{name}.br")), brotli.into_inner())
            .expect("OUT_DIR is writable");
    }
}
