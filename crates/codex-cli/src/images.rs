//! `-i/--image FILE`: images attached to the first prompt, sent to the model as `data:` URLs.
//! The type comes from the file's first bytes, never its name: a `.png` that is really a
//! JPEG goes as JPEG, and a text file named `.png` is refused before anything is sent.

use std::io::Read as _;
use std::path::Path;

use anyhow::{Context as _, Result, bail};
use base64::Engine as _;
use codex_agent::model::Image;

/// The largest image sent: providers refuse bigger ones (OpenAI's limit is 20 MB), and the
/// whole file goes into the request and the session log.
pub const MAX_IMAGE_BYTES: u64 = 20 * 1024 * 1024;

/// The image type of `bytes`, by their magic numbers: PNG, JPEG, GIF or WebP.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// Each file as an image with a `data:MIME;base64,…` URL, in order; the first that cannot be
/// sent is an error naming it.
pub fn load(files: &[impl AsRef<Path>]) -> Result<Vec<Image>> {
    files.iter().map(|f| load_one(f.as_ref())).collect()
}

fn load_one(path: &Path) -> Result<Image> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("--image {}: cannot read the file", path.display()))?;
    let mut bytes = Vec::new();
    // One byte past the cap tells a file that is too big without reading all of it.
    file.take(MAX_IMAGE_BYTES + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("--image {}: cannot read the file", path.display()))?;
    if bytes.len() as u64 > MAX_IMAGE_BYTES {
        bail!(
            "--image {}: larger than {} MiB; attach a smaller image",
            path.display(),
            MAX_IMAGE_BYTES / (1024 * 1024)
        );
    }
    let Some(mime) = sniff(&bytes) else {
        bail!(
            "--image {}: not a PNG, JPEG, GIF or WebP image; attach one of those",
            path.display()
        );
    };
    Ok(Image {
        path: path.display().to_string(),
        url: format!(
            "data:{mime};base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&bytes)
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_type_comes_from_the_magic_bytes() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff(&[0xff, 0xd8, 0xff, 0xe0]), Some("image/jpeg"));
        assert_eq!(sniff(b"GIF89a.."), Some("image/gif"));
        assert_eq!(sniff(b"RIFF\x10\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"RIFF\x10\0\0\0WAVEfmt "), None);
        assert_eq!(sniff(b"%PDF-1.7"), None);
        assert_eq!(sniff(b""), None);
    }
}
