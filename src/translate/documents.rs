//! Documents: OpenAI `file` content parts -> Converse document blocks.
//!
//! Bedrock takes pdf, csv, doc, docx, xls, xlsx, html, txt and md, and a document name made only
//! of alphanumerics, single spaces, hyphens, parentheses and square brackets (the name is part
//! of the prompt, which is why it is restricted). Names are sanitized rather than refused.

use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::types::{
    CitationsConfig, DocumentBlock, DocumentFormat, DocumentSource,
};

use std::collections::HashSet;

use crate::error::ApiError;
use crate::openai::chat::FilePart;
use crate::translate::images::{decode_base64, parse_data_url};

/// Document names already used in one request: Bedrock refuses duplicates, so a repeated name
/// gets a ` (2)`, ` (3)`... suffix.
#[derive(Debug, Default)]
pub struct DocumentNames {
    used: HashSet<String>,
}

impl DocumentNames {
    /// A sanitized name for `filename`, unique within the request.
    pub fn claim(&mut self, filename: &str) -> String {
        let base = sanitize_name(filename, self.used.len() + 1);
        let mut name = base.clone();
        let mut n = 2;
        while !self.used.insert(name.clone()) {
            name = format!("{base} ({n})");
            n += 1;
        }
        name
    }
}

/// Builds the document block for a `file` part at `param`, named uniquely within the request.
pub fn document_block(
    file: &FilePart,
    param: &str,
    names: &mut DocumentNames,
) -> Result<DocumentBlock, ApiError> {
    if file.file_id.is_some() && file.file_data.is_none() {
        return Err(ApiError::invalid_param(
            param,
            format!(
                "`{param}` refers to an uploaded file id; this gateway has no Files API. Send the file inline as `file_data` (a base64 data URL)."
            ),
        ));
    }
    let data = file.file_data.as_deref().ok_or_else(|| {
        ApiError::invalid_param(
            param,
            format!("`{param}` needs `file.file_data` (a base64 data URL)."),
        )
    })?;
    let (media_type, bytes) = if data.starts_with("data:") {
        let url = parse_data_url(data).map_err(|why| {
            ApiError::invalid_param(
                param,
                format!("The file data at `{param}` is not usable: {why}."),
            )
        })?;
        (url.media_type, url.bytes)
    } else {
        let bytes = decode_base64(data).map_err(|e| {
            ApiError::invalid_param(
                param,
                format!("The file data at `{param}` is not valid base64 ({e})."),
            )
        })?;
        (String::new(), bytes)
    };
    let filename = file.filename.as_deref().unwrap_or("");
    let format = document_format(&media_type, filename, &bytes).ok_or_else(|| {
        ApiError::invalid_param(
            param,
            format!("The file at `{param}` is not a type Bedrock accepts (pdf, csv, doc, docx, xls, xlsx, html, txt, md)."),
        )
    })?;
    let citations = file
        .citations
        .map(|c| CitationsConfig::builder().enabled(c.enabled).build())
        .transpose()
        .map_err(|e| ApiError::invalid_param(param, e.to_string()))?;
    DocumentBlock::builder()
        .format(format)
        .name(names.claim(filename))
        .source(DocumentSource::Bytes(Blob::new(bytes)))
        .set_citations(citations)
        .build()
        .map_err(|e| ApiError::invalid_param(param, e.to_string()))
}

/// The document format from the media type, else the file extension, else the bytes.
pub fn document_format(media_type: &str, filename: &str, bytes: &[u8]) -> Option<DocumentFormat> {
    let by_type = match media_type {
        "application/pdf" => Some(DocumentFormat::Pdf),
        "text/csv" => Some(DocumentFormat::Csv),
        "application/msword" => Some(DocumentFormat::Doc),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => {
            Some(DocumentFormat::Docx)
        }
        "application/vnd.ms-excel" => Some(DocumentFormat::Xls),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => {
            Some(DocumentFormat::Xlsx)
        }
        "text/html" => Some(DocumentFormat::Html),
        "text/plain" => Some(DocumentFormat::Txt),
        "text/markdown" => Some(DocumentFormat::Md),
        _ => None,
    };
    let extension = filename
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase());
    let by_extension = match extension.as_deref() {
        Some("pdf") => Some(DocumentFormat::Pdf),
        Some("csv") => Some(DocumentFormat::Csv),
        Some("doc") => Some(DocumentFormat::Doc),
        Some("docx") => Some(DocumentFormat::Docx),
        Some("xls") => Some(DocumentFormat::Xls),
        Some("xlsx") => Some(DocumentFormat::Xlsx),
        Some("html" | "htm") => Some(DocumentFormat::Html),
        Some("txt") => Some(DocumentFormat::Txt),
        Some("md" | "markdown") => Some(DocumentFormat::Md),
        _ => None,
    };
    by_type
        .or(by_extension)
        .or_else(|| bytes.starts_with(b"%PDF-").then_some(DocumentFormat::Pdf))
}

/// A name Bedrock accepts: the file stem with other characters turned into single spaces.
pub fn sanitize_name(filename: &str, ordinal: usize) -> String {
    let base = filename.rsplit(['/', '\\']).next().unwrap_or(filename);
    let stem = base.rsplit_once('.').map_or(base, |(stem, _)| stem);
    let mut name = String::with_capacity(stem.len());
    for c in stem.chars() {
        let allowed = c.is_ascii_alphanumeric() || matches!(c, '-' | '(' | ')' | '[' | ']');
        if allowed {
            name.push(c);
        } else if !name.ends_with(' ') && !name.is_empty() {
            name.push(' ');
        }
    }
    let name = name.trim_end().chars().take(200).collect::<String>();
    if name.is_empty() {
        format!("document-{ordinal}")
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_within_a_request() {
        let mut names = DocumentNames::default();
        assert_eq!(names.claim("r.pdf"), "r");
        assert_eq!(names.claim("r.txt"), "r (2)");
        assert_eq!(names.claim("r"), "r (3)");
        assert_eq!(names.claim(""), "document-4");
    }

    #[test]
    fn names_are_sanitized() {
        assert_eq!(
            sanitize_name("Q3 report (final)_v2.pdf", 1),
            "Q3 report (final) v2"
        );
        assert_eq!(sanitize_name("../../etc/passwd", 1), "passwd");
        assert_eq!(sanitize_name("", 3), "document-3");
        assert_eq!(sanitize_name("a  b..c.txt", 1), "a b c");
    }

    #[test]
    fn builds_pdf_block_and_rejects_unknown_types() {
        let file = FilePart {
            file_data: Some("data:application/pdf;base64,JVBERi0xLjQK".into()),
            filename: Some("r.pdf".into()),
            file_id: None,
            citations: None,
        };
        let block = document_block(
            &file,
            "messages[0].content[0]",
            &mut DocumentNames::default(),
        )
        .unwrap();
        assert_eq!(block.format, DocumentFormat::Pdf);
        assert_eq!(block.name, "r");
        let exe = FilePart {
            file_data: Some("data:application/x-msdownload;base64,TVqQAA==".into()),
            filename: Some("x.exe".into()),
            file_id: None,
            citations: None,
        };
        assert_eq!(
            document_block(&exe, "p", &mut DocumentNames::default())
                .unwrap_err()
                .status
                .as_u16(),
            400
        );
    }
}
