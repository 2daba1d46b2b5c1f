//! Token accounting in the emulator's unit: one whitespace-separated word is
//! one token. Also the word-sized pieces a streamed text is cut into.

/// Number of words (tokens) in `text`.
pub fn count(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

/// Splits `text` into pieces of one word each, the whitespace after a word
/// staying with it, so that the pieces concatenate back to `text` exactly.
/// Leading whitespace forms its own piece.
pub fn stream_pieces(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut in_trailing_space = false;
    for (index, ch) in text.char_indices() {
        if ch.is_whitespace() {
            in_trailing_space = true;
        } else if in_trailing_space {
            if index > start {
                pieces.push(&text[start..index]);
            }
            start = index;
            in_trailing_space = false;
        }
    }
    if start < text.len() {
        pieces.push(&text[start..]);
    }
    pieces
}

/// The first `limit` words of `text` (with the spacing between them kept),
/// and whether anything was cut.
pub fn truncate(text: &str, limit: u64) -> (&str, bool) {
    let mut words = 0;
    let mut in_word = false;
    for (index, ch) in text.char_indices() {
        if ch.is_whitespace() {
            in_word = false;
        } else if !in_word {
            in_word = true;
            if words == limit {
                return (text[..index].trim_end(), true);
            }
            words += 1;
        }
    }
    (text, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_words() {
        assert_eq!(count("  hello   big\nworld "), 3);
        assert_eq!(count(""), 0);
    }

    #[test]
    fn pieces_concatenate_to_the_text() {
        for text in ["hello big world", " lead  and trail ", "one", "", "a\n\nb"] {
            let pieces = stream_pieces(text);
            assert_eq!(pieces.concat(), text);
            assert!(pieces.iter().all(|piece| !piece.is_empty()));
        }
        assert_eq!(
            stream_pieces("hello big world"),
            ["hello ", "big ", "world"]
        );
    }

    #[test]
    fn truncates_to_a_word_count() {
        assert_eq!(truncate("a b  c d", 3), ("a b  c", true));
        assert_eq!(truncate("a b", 2), ("a b", false));
        assert_eq!(truncate("a b", 5), ("a b", false));
    }
}
