//! One listing of Bedrock's models, as the gateway reads it: what `GET /models` shows, every id
//! Bedrock knows, and the foundation model behind each inference profile. Built from the
//! listing calls' answers ([`ModelListing`]), without I/O.
//!
//! Listed, chat models first and the others after them (a client that picks the first model,
//! as Open WebUI does, gets one it can chat with), each group by id: foundation models that are
//! ACTIVE, answer in TEXT or EMBEDDING (or are an image model `/images/generations` drives) and
//! can be invoked
//! by their bare id (ON_DEMAND; a model reachable only through an INFERENCE_PROFILE shows up as
//! its profiles); ACTIVE system-defined profiles (by id) and application profiles (by ARN, the
//! form Bedrock invokes them by). Known, for the check: every id either listing returned,
//! whatever its status.
//!
//! Longer than ~450 lines only because its unit tests live beside the code.

use std::collections::{HashMap, HashSet};

use aws_sdk_bedrock::types::{
    FoundationModelSummary, InferenceProfileSummary, InferenceProfileType,
};
use serde::Serialize;

use crate::bedrock::ModelListing;

/// One entry of `GET /models`, in OpenAI's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelEntry {
    pub id: String,
    pub object: &'static str,
    /// Unix seconds: an inference profile's creation time; 0 for foundation models, which
    /// Bedrock lists without a date.
    pub created: i64,
    pub owned_by: String,
}

/// One listing of Bedrock's models.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// What `GET /models` shows: chat models, then embedding and image models, each group sorted by id.
    pub models: Vec<ModelEntry>,
    /// Every id and ARN Bedrock reported.
    known: HashSet<String>,
    /// Inference profile id or ARN -> the foundation model id it routes to.
    underlying: HashMap<String, String>,
    /// Foundation models Bedrock serves only through inference profiles (no ON_DEMAND in
    /// `inferenceTypesSupported`): their bare id is refused, see [`crate::profile_routing`].
    profile_only: HashSet<String>,
    /// Foundation model id -> the ACTIVE system-defined profiles that contain it.
    system_profiles: HashMap<String, Vec<SystemProfile>>,
    /// Foundation model id and ARN -> what ListFoundationModels says it takes and does.
    published: HashMap<String, Published>,
}

/// What ListFoundationModels publishes about a model that capabilities can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Published {
    /// `inputModalities` holds `IMAGE`.
    pub images: bool,
    /// `inputModalities` holds `VIDEO` (Nova Lite and Pro in a real listing; not in botocore's
    /// `ModelModality` enum, so read as a string).
    pub video: bool,
    /// `inputModalities` holds `SPEECH` (Mistral Voxtral) or `AUDIO`.
    pub audio: bool,
    /// `responseStreamingSupported` (absent counts as unknown, so not recorded).
    pub streaming: Option<bool>,
    /// `outputModalities` holds `EMBEDDING`: an embedding model, never a chat model.
    pub embedding: bool,
}

impl Published {
    /// `caps` with what Bedrock publishes in place of the hand table's guesses: image, video
    /// and audio input, no stream at all (so no streamed tool use either) for a model Bedrock
    /// lists as not streaming, and whether it is an embedding model (its output modality, which
    /// no id prefix can get wrong).
    pub fn apply(
        self,
        caps: crate::capabilities::Capabilities,
    ) -> crate::capabilities::Capabilities {
        crate::capabilities::Capabilities {
            images: self.images,
            video: self.video,
            audio: self.audio,
            streaming: caps.streaming && self.streaming != Some(false),
            tool_streaming: caps.tool_streaming && self.streaming != Some(false),
            embedding: self.embedding,
            ..caps
        }
    }
}

/// A system-defined (cross-region) inference profile, as resolution needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemProfile {
    /// `us.anthropic.claude-...`: the id to invoke.
    pub id: String,
    /// The regions its model ARNs name: where Bedrock may route a request.
    pub regions: Vec<String>,
}

impl Snapshot {
    /// The snapshot of one listing.
    pub fn from_listing(listing: &ModelListing) -> Self {
        Snapshot::build(&listing.models, &listing.profiles)
    }

    /// Builds the snapshot from ListFoundationModels and ListInferenceProfiles results.
    pub fn build(models: &[FoundationModelSummary], profiles: &[InferenceProfileSummary]) -> Self {
        let mut snapshot = Snapshot::default();
        let mut providers: HashMap<&str, String> = HashMap::new();
        // Listed models that answer in no TEXT (image generators): listed after the chat models.
        let mut no_text_output: HashSet<&str> = HashSet::new();
        for model in models {
            if !model
                .output_modalities()
                .iter()
                .any(|m| m.as_str() == "TEXT")
            {
                no_text_output.insert(model.model_id());
            }
            let owner = owner_name(model.provider_name());
            snapshot.known.insert(model.model_id().to_string());
            snapshot.known.insert(model.model_arn().to_string());
            providers.insert(model.model_id(), owner.clone());
            let takes = |modality: &str| {
                model
                    .input_modalities()
                    .iter()
                    .any(|m| m.as_str() == modality)
            };
            let published = Published {
                images: takes("IMAGE"),
                video: takes("VIDEO"),
                audio: takes("SPEECH") || takes("AUDIO"),
                streaming: model.response_streaming_supported(),
                embedding: model
                    .output_modalities()
                    .iter()
                    .any(|m| m.as_str() == "EMBEDDING"),
            };
            snapshot
                .published
                .insert(model.model_id().to_string(), published);
            snapshot
                .published
                .insert(model.model_arn().to_string(), published);
            if is_profile_only(model) {
                snapshot.profile_only.insert(model.model_id().to_string());
            }
            if is_listed_model(model) {
                snapshot.models.push(ModelEntry {
                    id: model.model_id().to_string(),
                    object: "model",
                    created: 0,
                    owned_by: owner,
                });
            }
        }
        for profile in profiles {
            let id = profile.inference_profile_id();
            let arn = profile.inference_profile_arn();
            snapshot.known.insert(id.to_string());
            snapshot.known.insert(arn.to_string());
            let base = foundation_model_of(profile.models().iter().filter_map(|m| m.model_arn()));
            if let Some(base) = &base {
                snapshot.underlying.insert(id.to_string(), base.clone());
                snapshot.underlying.insert(arn.to_string(), base.clone());
            }
            if profile.status().as_str() != "ACTIVE" {
                continue;
            }
            let application = *profile.r#type() == InferenceProfileType::Application;
            if let (false, Some(base)) = (application, &base) {
                let regions = profile
                    .models()
                    .iter()
                    .filter_map(|m| m.model_arn())
                    .filter_map(|model_arn| model_arn.split(':').nth(3))
                    .map(str::to_string)
                    .collect();
                snapshot
                    .system_profiles
                    .entry(base.clone())
                    .or_default()
                    .push(SystemProfile {
                        id: id.to_string(),
                        regions,
                    });
            }
            let owned_by = if application {
                // arn:aws:bedrock:REGION:ACCOUNT:application-inference-profile/ID
                arn.split(':').nth(4).unwrap_or("account").to_string()
            } else {
                base.as_deref()
                    .and_then(|base| providers.get(base).cloned())
                    .unwrap_or_else(|| "bedrock".to_string())
            };
            snapshot.models.push(ModelEntry {
                id: if application { arn } else { id }.to_string(),
                object: "model",
                created: profile.created_at().map_or(0, |t| t.secs()),
                owned_by,
            });
        }
        snapshot.models.sort_by(|a, b| a.id.cmp(&b.id));
        snapshot.models.dedup_by(|a, b| a.id == b.id);
        let models = std::mem::take(&mut snapshot.models);
        let (others, chat): (Vec<_>, Vec<_>) = models.into_iter().partition(|entry| {
            no_text_output.contains(entry.id.as_str())
                || snapshot.published(&entry.id).is_some_and(|p| p.embedding)
        });
        snapshot.models = chat;
        snapshot.models.extend(others);
        snapshot
    }

    /// What Bedrock publishes about `model_id`, a foundation model id or ARN or an inference
    /// profile that routes to one.
    pub fn published(&self, model_id: &str) -> Option<Published> {
        let base = self
            .underlying
            .get(model_id)
            .map_or(model_id, String::as_str);
        self.published.get(base).copied()
    }

    /// Whether Bedrock listed `model_id` (any status).
    pub fn knows(&self, model_id: &str) -> bool {
        self.known.contains(model_id)
    }

    /// The `GET /models` entry with this id.
    pub fn entry(&self, id: &str) -> Option<&ModelEntry> {
        self.models.iter().find(|entry| entry.id == id)
    }

    /// The foundation model an inference profile (id or ARN) routes to.
    pub fn underlying_model(&self, profile: &str) -> Option<&str> {
        self.underlying.get(profile).map(String::as_str)
    }

    /// Whether `model_id` is the bare id of a model Bedrock serves only through profiles.
    pub fn is_profile_only(&self, model_id: &str) -> bool {
        self.profile_only.contains(model_id)
    }

    /// The ACTIVE system-defined profiles that contain `model_id`, in listing order.
    pub fn system_profiles(&self, model_id: &str) -> &[SystemProfile] {
        self.system_profiles
            .get(model_id)
            .map_or(&[], Vec::as_slice)
    }
}

/// The foundation model id in the first foundation-model ARN of a profile's models (a
/// cross-region profile names the same model once per region).
pub(super) fn foundation_model_of<'a>(
    model_arns: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    model_arns
        .into_iter()
        .find_map(|model_arn| model_arn.rsplit_once("foundation-model/"))
        .map(|(_, base)| base.to_string())
}

fn is_listed_model(model: &FoundationModelSummary) -> bool {
    let active = model
        .model_lifecycle()
        .is_none_or(|lifecycle| lifecycle.status().as_str() == "ACTIVE");
    // Image models are listed when the gateway can drive them (`/images/generations`).
    let output = model
        .output_modalities()
        .iter()
        .any(|m| matches!(m.as_str(), "TEXT" | "EMBEDDING"))
        || crate::translate::image_generation::ImageFamily::of(model.model_id()).is_some();
    // A model offered only through INFERENCE_PROFILE cannot be invoked by its bare id; its
    // profiles are listed instead.
    let on_demand = model
        .inference_types_supported()
        .iter()
        .any(|t| t.as_str() == "ON_DEMAND");
    active && output && on_demand
}

/// ACTIVE, answers in TEXT or EMBEDDING, and reachable only through an INFERENCE_PROFILE.
fn is_profile_only(model: &FoundationModelSummary) -> bool {
    let types = model.inference_types_supported();
    let active = model
        .model_lifecycle()
        .is_none_or(|lifecycle| lifecycle.status().as_str() == "ACTIVE");
    active
        && types.iter().any(|t| t.as_str() == "INFERENCE_PROFILE")
        && !types.iter().any(|t| t.as_str() == "ON_DEMAND")
}

/// `owned_by` from a provider name: `Mistral AI` -> `mistral-ai`.
fn owner_name(provider: Option<&str>) -> String {
    match provider.map(str::trim).filter(|p| !p.is_empty()) {
        Some(provider) => provider.to_ascii_lowercase().replace(' ', "-"),
        None => "bedrock".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_bedrock::primitives::DateTime;
    use aws_sdk_bedrock::types::{
        FoundationModelLifecycle, FoundationModelLifecycleStatus, InferenceProfileModel,
        InferenceProfileStatus, InferenceType, ModelModality,
    };

    fn model(
        id: &str,
        output: ModelModality,
        types: &[&str],
        status: &str,
    ) -> FoundationModelSummary {
        let mut builder = FoundationModelSummary::builder()
            .model_arn(format!("arn:aws:bedrock:us-east-1::foundation-model/{id}"))
            .model_id(id)
            .provider_name("Mistral AI")
            .output_modalities(output)
            .model_lifecycle(
                FoundationModelLifecycle::builder()
                    .status(FoundationModelLifecycleStatus::from(status))
                    .build()
                    .unwrap(),
            );
        for t in types {
            builder = builder.inference_types_supported(InferenceType::from(*t));
        }
        builder.build().unwrap()
    }

    fn profile(
        id: &str,
        arn: &str,
        kind: InferenceProfileType,
        base: &str,
    ) -> InferenceProfileSummary {
        InferenceProfileSummary::builder()
            .inference_profile_name(id)
            .inference_profile_id(id)
            .inference_profile_arn(arn)
            .models(
                InferenceProfileModel::builder()
                    .model_arn(format!(
                        "arn:aws:bedrock:us-west-2::foundation-model/{base}"
                    ))
                    .build(),
            )
            .status(InferenceProfileStatus::Active)
            .r#type(kind)
            .created_at(DateTime::from_secs(1_724_716_800))
            .build()
            .unwrap()
    }

    #[test]
    fn lists_what_clients_can_invoke_and_knows_everything() {
        let snapshot = Snapshot::build(
            &[
                model(
                    "mistral.large",
                    ModelModality::Text,
                    &["ON_DEMAND"],
                    "ACTIVE",
                ),
                model(
                    "mistral.only-profile",
                    ModelModality::Text,
                    &["INFERENCE_PROFILE"],
                    "ACTIVE",
                ),
                model("mistral.old", ModelModality::Text, &["ON_DEMAND"], "LEGACY"),
                model(
                    "mistral.painter",
                    ModelModality::Image,
                    &["ON_DEMAND"],
                    "ACTIVE",
                ),
                model(
                    "mistral.provisioned",
                    ModelModality::Embedding,
                    &["PROVISIONED"],
                    "ACTIVE",
                ),
            ],
            &[
                profile(
                    "us.mistral.large",
                    "arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.mistral.large",
                    InferenceProfileType::SystemDefined,
                    "mistral.large",
                ),
                profile(
                    "team1",
                    "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/team1",
                    InferenceProfileType::Application,
                    "mistral.large",
                ),
            ],
        );
        let ids: Vec<&str> = snapshot.models.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/team1",
                "mistral.large",
                "us.mistral.large",
            ]
        );
        // Reachable only through a profile: known (Bedrock decides), not listed.
        assert!(snapshot.knows("mistral.only-profile"));
        assert!(snapshot.knows("mistral.old"));
        assert!(snapshot.knows("mistral.painter"));
        assert!(!snapshot.knows("mistral.typo"));
        let profile = snapshot.entry("us.mistral.large").unwrap();
        assert!(!snapshot.published("us.mistral.large").unwrap().embedding);
        assert_eq!(profile.owned_by, "mistral-ai");
        assert_eq!(profile.created, 1_724_716_800);
        let app = &snapshot.models[0];
        assert_eq!(app.owned_by, "111122223333");
        assert_eq!(
            snapshot.underlying_model(
                "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/team1"
            ),
            Some("mistral.large")
        );
    }

    #[test]
    fn chat_models_come_before_embedding_models() {
        let snapshot = Snapshot::build(
            &[
                model(
                    "a.embed",
                    ModelModality::Embedding,
                    &["ON_DEMAND"],
                    "ACTIVE",
                ),
                model("z.chat", ModelModality::Text, &["ON_DEMAND"], "ACTIVE"),
                model("b.chat", ModelModality::Text, &["ON_DEMAND"], "ACTIVE"),
            ],
            &[profile(
                "us.a.embed",
                "arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.a.embed",
                InferenceProfileType::SystemDefined,
                "a.embed",
            )],
        );
        let ids: Vec<&str> = snapshot.models.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["b.chat", "z.chat", "a.embed", "us.a.embed"]);
    }
}

#[cfg(test)]
mod published_tests {
    use super::*;
    use crate::capabilities::capabilities;

    #[test]
    fn the_listing_decides_images_and_a_non_streaming_model_never_streams_tools() {
        let claude = capabilities("anthropic.claude-3-haiku-20240307-v1:0");
        let text_only = Published {
            images: false,
            video: false,
            audio: false,
            streaming: Some(false),
            embedding: false,
        };
        let caps = text_only.apply(claude);
        assert!(!caps.images && !caps.tool_streaming && !caps.streaming);
        assert_eq!(caps.tools, claude.tools, "the rest is the table's");
        let llama = capabilities("meta.llama3-3-70b-instruct-v1:0");
        let vision = Published {
            images: true,
            video: true,
            audio: true,
            streaming: None,
            embedding: false,
        };
        let caps = vision.apply(llama);
        assert!(caps.images && caps.video && caps.audio && caps.streaming);
        assert_eq!(
            caps.tool_streaming, llama.tool_streaming,
            "unknown streaming keeps the table"
        );
    }

    #[test]
    fn an_embedding_output_makes_an_embedding_model_whatever_its_id() {
        let nova = capabilities("amazon.nova-2-multimodal-embeddings-v1:0");
        let listed = Published {
            images: true,
            video: false,
            audio: false,
            streaming: Some(false),
            embedding: true,
        };
        assert!(listed.apply(nova).embedding);
        let text = Published {
            embedding: false,
            ..listed
        };
        assert!(!text.apply(capabilities("cohere.embed-v4:0")).embedding);
    }
}
