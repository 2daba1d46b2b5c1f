//! Bedrock's conversation rules, one function per rule, each named after it.
//!
//! OpenAI accepts almost any sequence of messages; Converse wants a conversation that starts with
//! a user turn, alternates roles, holds no blank text and puts tool results first in their turn.
//! The per-role builders in `messages.rs` produce turns; the rules here shape those turns into a
//! conversation Bedrock accepts. Each rule says why it exists.

use aws_sdk_bedrockruntime::types::{ContentBlock, ConversationRole, SystemContentBlock};

use crate::error::ApiError;

/// Text inserted when a conversation starts with an assistant turn, which Bedrock refuses.
pub const CONVERSATION_START: &str = "(conversation start)";

/// Text added to a user turn that holds documents and nothing else (Bedrock requires text).
pub const DOCUMENTS_ONLY: &str = "(see the attached documents)";

/// One turn: a role and its content blocks.
pub type Turn = (ConversationRole, Vec<ContentBlock>);

/// Turns as they are built, with the rules that apply while building applied on every push.
#[derive(Default)]
pub struct Turns {
    turns: Vec<Turn>,
}

impl Turns {
    /// Adds blocks for a role, merging them into the last turn if it has the same role.
    pub fn push(&mut self, role: ConversationRole, blocks: Vec<ContentBlock>) {
        if is_cache_points_only(&blocks) {
            return;
        }
        merge_same_role_turns(&mut self.turns, role, blocks);
    }

    pub fn into_vec(self) -> Vec<Turn> {
        self.turns
    }
}

/// Bedrock wants roles to alternate; OpenAI allows consecutive same-role messages (and tool
/// results as messages of their own, which are user content to Bedrock): same-role turns merge.
pub fn merge_same_role_turns(
    turns: &mut Vec<Turn>,
    role: ConversationRole,
    blocks: Vec<ContentBlock>,
) {
    match turns.last_mut() {
        Some((last, existing)) if *last == role => existing.extend(blocks),
        _ => turns.push((role, blocks)),
    }
}

/// A turn of nothing but cache points (or of nothing) would be an empty turn to Bedrock, which
/// refuses empty content: such a turn is not added.
pub fn is_cache_points_only(blocks: &[ContentBlock]) -> bool {
    blocks
        .iter()
        .all(|b| matches!(b, ContentBlock::CachePoint(_)))
}

/// Bedrock refuses blank text blocks; OpenAI clients send empty strings freely: blank text is
/// dropped.
pub fn is_blank_text(text: &str) -> bool {
    text.trim().is_empty()
}

/// A system or developer message after the first user turn stays where it is, as user text:
/// hoisted into `system`, it could leave the conversation ending with an assistant turn, an
/// accidental prefill (NextChat asks for its memory summary this way), which newer Claude models
/// refuse and older ones merely continue.
pub fn late_system_message_becomes_user_text(turns: &mut Turns, texts: Vec<String>) {
    turns.push(
        ConversationRole::User,
        texts.into_iter().map(ContentBlock::Text).collect(),
    );
}

/// OpenAI answers a conversation of system messages alone; Bedrock needs a user turn: with no
/// turn at all, the system text (and the text folded for a model without a system prompt)
/// becomes the user turn. An error if there is no text at all.
pub fn system_only_conversation_becomes_user_turn(
    turns: &mut Vec<Turn>,
    system: &mut Vec<SystemContentBlock>,
    folded_system: &mut Vec<String>,
) -> Result<(), ApiError> {
    if !turns.is_empty() {
        return Ok(());
    }
    let mut texts: Vec<String> = system
        .drain(..)
        .filter_map(|block| match block {
            SystemContentBlock::Text(text) => Some(text),
            _ => None,
        })
        .collect();
    texts.append(folded_system);
    if texts.is_empty() {
        return Err(ApiError::invalid_param(
            "messages",
            "`messages` must contain at least one message with content.",
        ));
    }
    turns.push((
        ConversationRole::User,
        vec![ContentBlock::Text(texts.join("\n\n"))],
    ));
    Ok(())
}

/// Moves toolResult blocks (each with the cache point that follows it) ahead of the other
/// blocks of a user turn, keeping both groups in order: Bedrock wants tool results first, and a
/// client may put a user note between two tool messages.
pub fn tool_results_first(blocks: &mut Vec<ContentBlock>) {
    let first_other = blocks
        .iter()
        .position(|b| !matches!(b, ContentBlock::ToolResult(_) | ContentBlock::CachePoint(_)));
    let Some(first_other) = first_other else {
        return;
    };
    if !blocks[first_other..]
        .iter()
        .any(|b| matches!(b, ContentBlock::ToolResult(_)))
    {
        return;
    }
    let mut results = Vec::new();
    let mut others = Vec::new();
    let mut last_was_result = false;
    for block in blocks.drain(..) {
        let is_result = match block {
            ContentBlock::ToolResult(_) => true,
            ContentBlock::CachePoint(_) => last_was_result,
            _ => false,
        };
        last_was_result = is_result;
        if is_result {
            results.push(block)
        } else {
            others.push(block)
        }
    }
    results.append(&mut others);
    *blocks = results;
}

/// Bedrock refuses a turn of documents without any text: such a turn gets a short note.
pub fn documents_need_text(blocks: &mut Vec<ContentBlock>) {
    let has_document = blocks
        .iter()
        .any(|b| matches!(b, ContentBlock::Document(_)));
    if has_document && !blocks.iter().any(|b| matches!(b, ContentBlock::Text(_))) {
        blocks.push(ContentBlock::Text(DOCUMENTS_ONLY.into()));
    }
}

/// Bedrock wants the user to speak first; OpenAI lets an assistant greeting lead. The
/// instructions of a model without a system prompt (`folded_system`) lead the first user turn;
/// before an assistant turn they make the opening user turn, or a placeholder does.
pub fn first_turn_is_user(turns: &mut Vec<Turn>, folded_system: Vec<String>) {
    let folded =
        (!folded_system.is_empty()).then(|| ContentBlock::Text(folded_system.join("\n\n")));
    match turns.first_mut() {
        Some((ConversationRole::User, blocks)) => {
            if let Some(text) = folded {
                blocks.insert(0, text);
            }
        }
        _ => {
            let opening = folded.unwrap_or_else(|| ContentBlock::Text(CONVERSATION_START.into()));
            turns.insert(0, (ConversationRole::User, vec![opening]));
        }
    }
}

/// A conversation may end with an assistant prefill; Bedrock refuses one that ends in
/// whitespace, so the trailing whitespace is trimmed.
pub fn prefill_has_no_trailing_whitespace(turns: &mut [Turn]) {
    if let Some((ConversationRole::Assistant, blocks)) = turns.last_mut()
        && let Some(ContentBlock::Text(text)) = blocks.last_mut()
    {
        let trimmed = text.trim_end().len();
        text.truncate(trimmed);
    }
}

/// Nova (no tool caching) refuses a cache point right after a toolResult: a tool message's
/// cache marker is honoured only for a model that caches tools.
pub fn tool_result_may_take_cache_point(tool_caching: bool) -> bool {
    tool_caching
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_bedrockruntime::primitives::Blob;
    use aws_sdk_bedrockruntime::types::{
        CachePointBlock, CachePointType, DocumentBlock, DocumentFormat, DocumentSource,
        ToolResultBlock, ToolResultContentBlock,
    };

    fn text(t: &str) -> ContentBlock {
        ContentBlock::Text(t.into())
    }

    fn result(id: &str) -> ContentBlock {
        ContentBlock::ToolResult(
            ToolResultBlock::builder()
                .tool_use_id(id)
                .content(ToolResultContentBlock::Text("r".into()))
                .build()
                .unwrap(),
        )
    }

    fn point() -> ContentBlock {
        ContentBlock::CachePoint(
            CachePointBlock::builder()
                .r#type(CachePointType::Default)
                .build()
                .unwrap(),
        )
    }

    fn document() -> ContentBlock {
        ContentBlock::Document(
            DocumentBlock::builder()
                .format(DocumentFormat::Pdf)
                .name("r")
                .source(DocumentSource::Bytes(Blob::new(b"%PDF".to_vec())))
                .build()
                .unwrap(),
        )
    }

    fn is_text(block: &ContentBlock, want: &str) -> bool {
        matches!(block, ContentBlock::Text(t) if t == want)
    }

    #[test]
    fn same_role_turns_merge_and_roles_alternate() {
        let mut turns = Vec::new();
        merge_same_role_turns(&mut turns, ConversationRole::User, vec![text("a")]);
        merge_same_role_turns(&mut turns, ConversationRole::User, vec![text("b")]);
        merge_same_role_turns(&mut turns, ConversationRole::Assistant, vec![text("c")]);
        assert_eq!(turns.len(), 2);
        assert_eq!(turns[0].1.len(), 2);
        assert_eq!(turns[1].0, ConversationRole::Assistant);
    }

    #[test]
    fn a_turn_of_cache_points_only_is_not_added() {
        let mut turns = Turns::default();
        turns.push(ConversationRole::User, vec![point()]);
        turns.push(ConversationRole::Assistant, vec![]);
        assert!(turns.into_vec().is_empty());
        assert!(!is_cache_points_only(&[text("a"), point()]));
    }

    #[test]
    fn blank_text_is_blank() {
        assert!(is_blank_text(""));
        assert!(is_blank_text(" \n\t"));
        assert!(!is_blank_text(" a "));
    }

    #[test]
    fn a_late_system_message_joins_the_user_turn() {
        let mut turns = Turns::default();
        turns.push(ConversationRole::User, vec![text("q")]);
        late_system_message_becomes_user_text(&mut turns, vec!["be brief".into()]);
        let turns = turns.into_vec();
        assert_eq!(turns.len(), 1);
        assert!(is_text(&turns[0].1[1], "be brief"));
    }

    #[test]
    fn a_system_only_conversation_becomes_a_user_turn() {
        let mut turns = Vec::new();
        let mut system = vec![SystemContentBlock::Text("a".into())];
        let mut folded = vec!["b".to_string()];
        system_only_conversation_becomes_user_turn(&mut turns, &mut system, &mut folded).unwrap();
        assert!(system.is_empty() && folded.is_empty());
        assert!(is_text(&turns[0].1[0], "a\n\nb"));

        let err = system_only_conversation_becomes_user_turn(
            &mut Vec::new(),
            &mut Vec::new(),
            &mut Vec::new(),
        )
        .unwrap_err();
        assert_eq!(err.param.as_deref(), Some("messages"));

        let mut turns = vec![(ConversationRole::User, vec![text("q")])];
        let mut system = vec![SystemContentBlock::Text("s".into())];
        system_only_conversation_becomes_user_turn(&mut turns, &mut system, &mut Vec::new())
            .unwrap();
        assert_eq!(system.len(), 1, "left alone when there are turns");
    }

    #[test]
    fn tool_results_move_first_with_their_cache_points() {
        let mut blocks = vec![result("a"), text("note"), result("b"), point(), text("end")];
        tool_results_first(&mut blocks);
        assert!(matches!(&blocks[0], ContentBlock::ToolResult(r) if r.tool_use_id == "a"));
        assert!(matches!(&blocks[1], ContentBlock::ToolResult(r) if r.tool_use_id == "b"));
        assert!(matches!(blocks[2], ContentBlock::CachePoint(_)));
        assert!(is_text(&blocks[3], "note"));
        assert!(is_text(&blocks[4], "end"));

        let mut untouched = vec![text("a"), point()];
        tool_results_first(&mut untouched);
        assert!(is_text(&untouched[0], "a"));
    }

    #[test]
    fn a_turn_of_documents_gets_text() {
        let mut blocks = vec![document()];
        documents_need_text(&mut blocks);
        assert!(is_text(&blocks[1], DOCUMENTS_ONLY));
        let mut blocks = vec![document(), text("read this")];
        documents_need_text(&mut blocks);
        assert_eq!(blocks.len(), 2);
    }

    #[test]
    fn the_first_turn_is_the_users() {
        let mut turns = vec![(ConversationRole::Assistant, vec![text("hello!")])];
        first_turn_is_user(&mut turns, Vec::new());
        assert_eq!(turns[0].0, ConversationRole::User);
        assert!(is_text(&turns[0].1[0], CONVERSATION_START));

        let mut turns = vec![(ConversationRole::Assistant, vec![text("hello!")])];
        first_turn_is_user(&mut turns, vec!["rules".into()]);
        assert!(is_text(&turns[0].1[0], "rules"));

        let mut turns = vec![(ConversationRole::User, vec![text("hi")])];
        first_turn_is_user(&mut turns, vec!["rules".into()]);
        assert_eq!(turns.len(), 1);
        assert!(is_text(&turns[0].1[0], "rules"));
        assert!(is_text(&turns[0].1[1], "hi"));
    }

    #[test]
    fn a_prefill_loses_its_trailing_whitespace() {
        let mut turns = vec![
            (ConversationRole::User, vec![text("q ")]),
            (ConversationRole::Assistant, vec![text("The answer is \n")]),
        ];
        prefill_has_no_trailing_whitespace(&mut turns);
        assert!(is_text(&turns[1].1[0], "The answer is"));
        prefill_has_no_trailing_whitespace(&mut turns[..1]);
        assert!(is_text(&turns[0].1[0], "q "), "user text is left alone");
    }

    #[test]
    fn a_tool_result_takes_a_cache_point_only_with_tool_caching() {
        assert!(tool_result_may_take_cache_point(true));
        assert!(!tool_result_may_take_cache_point(false));
    }
}
