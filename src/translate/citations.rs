//! Citations: Bedrock's `citationsContent` reply blocks (and `citation` stream deltas) -> OpenAI
//! `annotations` on the assistant message.
//!
//! Bedrock answers with a `citationsContent` block (botocore `CitationsContentBlock`: generated
//! `content` text plus `citations`) when a document was sent with citations enabled. Its text
//! joins the message's `content` like any text, and each citation becomes one annotation whose
//! `start_index`/`end_index` are the character offsets of that block's text in `content`:
//!
//! - a web location -> OpenAI's own `{"type": "url_citation", "url_citation": {"url", "title",
//!   "start_index", "end_index"}}`;
//! - a document location -> `{"type": "document_citation", "document_citation": {"title",
//!   "document_index", "location": {"type": "char" | "page" | "chunk" | "search_result",
//!   "start", "end"}, "cited_text", "start_index", "end_index"}}` (a gateway type; OpenAI's chat
//!   API has no document citation).
//!
//! Streamed, Bedrock sends the block's text as text deltas and its citations as `citation`
//! deltas (botocore `CitationsDelta`); [`StreamCitations`] collects them and gives the
//! annotations when the block ends, whatever their order.

use aws_sdk_bedrockruntime::types::{Citation, CitationLocation, CitationsDelta};
use serde_json::{Value, json};

/// The annotation of one citation backing `content[start..end]` (in characters).
fn annotation(
    title: Option<&str>,
    cited_text: Option<String>,
    location: Option<&CitationLocation>,
    start: usize,
    end: usize,
) -> Value {
    if let Some(CitationLocation::Web(web)) = location {
        return json!({
            "type": "url_citation",
            "url_citation": {
                "url": web.url().unwrap_or_default(),
                "title": title.or(web.domain()).unwrap_or_default(),
                "start_index": start,
                "end_index": end,
            }
        });
    }
    let (kind, index, from, to) = match location {
        Some(CitationLocation::DocumentChar(l)) => ("char", l.document_index(), l.start(), l.end()),
        Some(CitationLocation::DocumentPage(l)) => ("page", l.document_index(), l.start(), l.end()),
        Some(CitationLocation::DocumentChunk(l)) => {
            ("chunk", l.document_index(), l.start(), l.end())
        }
        Some(CitationLocation::SearchResultLocation(l)) => {
            ("search_result", l.search_result_index(), l.start(), l.end())
        }
        _ => ("unknown", None, None, None),
    };
    json!({
        "type": "document_citation",
        "document_citation": {
            "title": title,
            "document_index": index,
            "location": { "type": kind, "start": from, "end": to },
            "cited_text": cited_text,
            "start_index": start,
            "end_index": end,
        }
    })
}

/// The annotations of a whole reply's citation, for text at `start..end` of `content`.
pub fn reply_annotation(citation: &Citation, start: usize, end: usize) -> Value {
    let cited: Vec<&str> = citation
        .source_content()
        .iter()
        .filter_map(|c| c.as_text().ok().map(String::as_str))
        .collect();
    annotation(
        citation.title(),
        (!cited.is_empty()).then(|| cited.concat()),
        citation.location(),
        start,
        end,
    )
}

/// Citations of a stream: text offsets and the `citation` deltas of the block in flight.
#[derive(Debug, Default)]
pub struct StreamCitations {
    /// Characters of `content` sent so far.
    chars: usize,
    /// The text block in flight and where its text starts in `content`.
    block: Option<(i32, usize)>,
    /// Citation deltas of that block, waiting for its end.
    pending: Vec<CitationsDelta>,
}

impl StreamCitations {
    /// Text of block `index` was streamed as content.
    pub fn on_text(&mut self, index: i32, text: &str) {
        self.start_block(index);
        self.chars += text.chars().count();
    }

    /// A `citation` delta of block `index`.
    pub fn on_citation(&mut self, index: i32, citation: &CitationsDelta) {
        self.start_block(index);
        self.pending.push(citation.clone());
    }

    /// Block `index` ended: the annotations of its citations, if it had any.
    pub fn on_block_stop(&mut self, index: i32) -> Option<Vec<Value>> {
        let (block, start) = self.block.take()?;
        if block != index {
            self.block = Some((block, start));
            return None;
        }
        let pending = std::mem::take(&mut self.pending);
        let annotations: Vec<Value> = pending
            .iter()
            .map(|c| {
                let cited: Vec<&str> = c.source_content().iter().filter_map(|s| s.text()).collect();
                annotation(
                    c.title(),
                    (!cited.is_empty()).then(|| cited.concat()),
                    c.location(),
                    start,
                    self.chars,
                )
            })
            .collect();
        (!annotations.is_empty()).then_some(annotations)
    }

    fn start_block(&mut self, index: i32) {
        if self.block.map(|(b, _)| b) != Some(index) {
            self.block = Some((index, self.chars));
            self.pending.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_bedrockruntime::types::{
        CitationSourceContent, CitationSourceContentDelta, DocumentCharLocation, WebLocation,
    };

    fn char_location() -> CitationLocation {
        CitationLocation::DocumentChar(
            DocumentCharLocation::builder()
                .document_index(0)
                .start(0)
                .end(12)
                .build(),
        )
    }

    #[test]
    fn a_document_citation_names_its_place_and_text() {
        let citation = Citation::builder()
            .title("Policy")
            .source_content(CitationSourceContent::Text("Refunds take".into()))
            .location(char_location())
            .build();
        let a = reply_annotation(&citation, 5, 20);
        assert_eq!(a["type"], "document_citation");
        let d = &a["document_citation"];
        assert_eq!(d["title"], "Policy");
        assert_eq!(d["cited_text"], "Refunds take");
        assert_eq!(
            d["location"],
            json!({"type": "char", "start": 0, "end": 12})
        );
        assert_eq!(
            (d["start_index"].clone(), d["end_index"].clone()),
            (json!(5), json!(20))
        );
    }

    #[test]
    fn a_web_citation_is_openais_url_citation() {
        let citation = Citation::builder()
            .location(CitationLocation::Web(
                WebLocation::builder()
                    .url("https://example.com/a")
                    .domain("example.com")
                    .build(),
            ))
            .build();
        let a = reply_annotation(&citation, 0, 3);
        assert_eq!(
            a,
            json!({"type": "url_citation", "url_citation": {
                "url": "https://example.com/a", "title": "example.com",
                "start_index": 0, "end_index": 3}})
        );
    }

    #[test]
    fn stream_citations_cover_their_blocks_text_in_either_order() {
        let delta = CitationsDelta::builder()
            .title("Policy")
            .source_content(
                CitationSourceContentDelta::builder()
                    .text("Refunds")
                    .build(),
            )
            .location(char_location())
            .build();
        let mut s = StreamCitations::default();
        s.on_text(0, "Hello. ");
        assert_eq!(s.on_block_stop(0), None, "no citation, no annotation");
        s.on_citation(1, &delta);
        s.on_text(1, "Cited");
        s.on_text(1, " text");
        let a = s.on_block_stop(1).unwrap();
        assert_eq!(a[0]["document_citation"]["start_index"], 7);
        assert_eq!(a[0]["document_citation"]["end_index"], 17);
        assert_eq!(a[0]["document_citation"]["cited_text"], "Refunds");
        s.on_text(2, "ab");
        s.on_citation(2, &delta);
        let a = s.on_block_stop(2).unwrap();
        assert_eq!(a[0]["document_citation"]["start_index"], 17);
        assert_eq!(a[0]["document_citation"]["end_index"], 19);
    }
}
