//! Inference profiles: ListInferenceProfiles (paged, `nextToken`), GetInferenceProfile and
//! CreateInferenceProfile, over the system-defined profiles of the catalogue, the account's
//! application profiles and those created through this emulator.

use super::*;

/// The regions a system-defined profile's prefix routes to.
fn regions(prefix: &str) -> &'static [&'static str] {
    match prefix {
        "us" => &["us-east-1", "us-east-2", "us-west-2"],
        "eu" => &["eu-central-1", "eu-west-1", "eu-west-3"],
        "apac" => &["ap-northeast-1", "ap-southeast-1", "ap-southeast-2"],
        _ => &["us-east-1", "eu-west-1", "ap-northeast-1"],
    }
}

/// `{"modelArn"}` entries for `model_id` in each of `regions`.
fn model_arns(model_id: &str, regions: &[&str]) -> Vec<Value> {
    regions
        .iter()
        .map(|region| json!({ "modelArn": format!("arn:aws:bedrock:{region}::foundation-model/{model_id}") }))
        .collect()
}

/// An application profile as ListInferenceProfiles and GetInferenceProfile describe it.
fn application_profile(
    arn: &str,
    name: &str,
    description: &str,
    created_at: &str,
    models: Vec<Value>,
) -> Value {
    json!({
        "inferenceProfileName": name,
        "description": description,
        "createdAt": created_at,
        "updatedAt": created_at,
        "inferenceProfileArn": arn,
        "models": models,
        "inferenceProfileId": arn.rsplit('/').next().unwrap_or(arn),
        "status": "ACTIVE",
        "type": "APPLICATION",
    })
}

/// Every inference profile the emulated account sees, system-defined first, then the
/// account's application profiles and those created through this emulator.
fn all_profiles(created: Vec<Value>) -> Vec<Value> {
    let mut profiles = Vec::new();
    for model in MODELS {
        for prefix in model.profile_prefixes {
            let id = format!("{prefix}.{}", model.id);
            let group = prefix.to_ascii_uppercase();
            let regions = regions(prefix);
            profiles.push(json!({
                "inferenceProfileName": format!("{group} {} {}", model.provider, model.name),
                "description": format!("Routes requests to {} {} in {}.", model.provider, model.name, regions.join(", ")),
                "createdAt": SYSTEM_CREATED_AT,
                "updatedAt": SYSTEM_UPDATED_AT,
                "inferenceProfileArn": format!("arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/{id}"),
                "models": model_arns(model.id, regions),
                "inferenceProfileId": id,
                "status": "ACTIVE",
                "type": "SYSTEM_DEFINED",
            }));
        }
    }
    let chat_model = catalog::resolve_chat_model(APPLICATION_PROFILE_ARN)
        .map(|resolved| resolved.model.id)
        .unwrap_or("anthropic.claude-3-5-haiku-20241022-v1:0");
    for (arn, model_id, description) in [
        (
            APPLICATION_PROFILE_ARN,
            chat_model,
            "Chat traffic of the emulated team.",
        ),
        (
            EMBEDDING_PROFILE_ARN,
            EMBEDDING_PROFILE_MODEL,
            "Embedding traffic of the emulated team.",
        ),
    ] {
        let id = arn.rsplit('/').next().unwrap_or(arn);
        profiles.push(application_profile(
            arn,
            id,
            description,
            APPLICATION_CREATED_AT,
            model_arns(model_id, &[REGION]),
        ));
    }
    profiles.extend(created);
    profiles
}

/// A page token: the offset and filter it continues, opaque to clients.
fn page_token(offset: usize, type_filter: Option<&str>) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!(
        "emu-page:{offset}:{}",
        type_filter.unwrap_or("ALL")
    ))
}

fn parse_page_token(token: &str, type_filter: Option<&str>) -> Option<usize> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let rest = text.strip_prefix("emu-page:")?;
    let (offset, filter) = rest.split_once(':')?;
    (filter == type_filter.unwrap_or("ALL")).then_some(())?;
    offset.parse().ok()
}

pub(super) async fn list_inference_profiles(
    Extension(state): Extension<Arc<ControlPlane>>,
    headers: HeaderMap,
    query: Result<Query<HashMap<String, String>>, QueryRejection>,
) -> Response {
    state.inference_profiles.fetch_add(1, Ordering::SeqCst);
    let behaviour = state.behaviour();
    listing_delay(&behaviour).await;
    let Ok(Query(query)) = query else {
        return ApiError::validation("The query string is malformed.").into_response();
    };
    match inference_profiles(&headers, &behaviour, &query, state.created()) {
        Ok(body) => Json(body).into_response(),
        Err(error) => error.into_response(),
    }
}

fn inference_profiles(
    headers: &HeaderMap,
    behaviour: &ListingBehaviour,
    query: &HashMap<String, String>,
    created: Vec<Value>,
) -> Result<Value, ApiError> {
    check_permission(headers, behaviour, "ListInferenceProfiles")?;
    let asked = match query.get("maxResults") {
        None => DEFAULT_PAGE_SIZE,
        Some(value) => match value.parse::<usize>() {
            Ok(size) if (1..=1000).contains(&size) => size,
            _ => {
                return Err(ApiError::constraint(
                    value,
                    "maxResults",
                    "have value less than or equal to 1000 and greater than or equal to 1",
                ));
            }
        },
    };
    let page_size = behaviour
        .max_page_size
        .map_or(asked, |cap| asked.min(cap.max(1)));
    let type_filter = enum_param(query, "type", &["SYSTEM_DEFINED", "APPLICATION"])?;
    let offset = match query.get("nextToken") {
        None => 0,
        Some(token) => parse_page_token(token, type_filter)
            .ok_or_else(|| ApiError::validation("The provided nextToken is invalid."))?,
    };
    let matching: Vec<Value> = all_profiles(created)
        .into_iter()
        .filter(|p| type_filter.is_none_or(|t| p["type"] == t))
        .collect();
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(page_size)
        .cloned()
        .collect();
    let end = offset + page.len();
    let mut body = json!({ "inferenceProfileSummaries": page });
    if behaviour.endless_pages || end < matching.len() {
        // An endless paginator keeps handing out the page after the last (which is empty).
        body["nextToken"] = json!(page_token(end.max(offset + 1), type_filter));
    }
    Ok(body)
}

pub(super) async fn get_inference_profile(
    Extension(state): Extension<Arc<ControlPlane>>,
    id: Result<Path<String>, PathRejection>,
) -> Response {
    state.get_inference_profile.fetch_add(1, Ordering::SeqCst);
    let Ok(Path(id)) = id else {
        return ApiError::validation("The inference profile identifier is malformed.")
            .into_response();
    };
    let found = all_profiles(state.created()).into_iter().find(|p| {
        p["inferenceProfileId"] == id.as_str() || p["inferenceProfileArn"] == id.as_str()
    });
    match found {
        Some(profile) => Json(profile).into_response(),
        None => ApiError::new(
            ErrorKind::ResourceNotFound,
            format!("Inference profile {id} not found."),
        )
        .into_response(),
    }
}

pub(super) async fn create_inference_profile(
    Extension(state): Extension<Arc<ControlPlane>>,
    body: Bytes,
) -> Response {
    state
        .create_inference_profile
        .fetch_add(1, Ordering::SeqCst);
    match create_profile(&state, &body) {
        Ok(arn) => (
            StatusCode::CREATED,
            Json(json!({ "inferenceProfileArn": arn, "status": "ACTIVE" })),
        )
            .into_response(),
        Err(error) => error.into_response(),
    }
}

/// Checks a CreateInferenceProfile body, records the profile, and returns its new ARN.
fn create_profile(state: &ControlPlane, body: &[u8]) -> Result<String, ApiError> {
    let body: Value = serde_json::from_slice(body).map_err(|error| {
        ApiError::malformed("", format!("the request body is not valid JSON ({error})"))
    })?;
    let mut reader = ObjectReader::new(&body, "")?;
    let (value, path) = reader.required("inferenceProfileName")?;
    let name = as_str(value, &path)?.to_string();
    let valid_name = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b" _-".contains(&b))
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric());
    if !valid_name {
        return Err(ApiError::constraint(
            &name,
            "inferenceProfileName",
            "satisfy regular expression pattern: ^([0-9a-zA-Z][ _-]?)+$",
        ));
    }
    let description = match reader.optional("description") {
        Some((value, path)) => as_str(value, &path)?.to_string(),
        None => String::new(),
    };
    for key in ["clientRequestToken", "tags"] {
        let _ = reader.optional(key);
    }
    let (source, source_path) = reader.required("modelSource")?;
    let mut source = ObjectReader::new(source, &source_path)?;
    let (value, path) = source.required("copyFrom")?;
    let copy_from = as_str(value, &path)?.to_string();
    source.finish()?;
    reader.finish()?;

    let (model_id, regions) = model_source(&copy_from).ok_or_else(|| {
        ApiError::new(
            ErrorKind::ResourceNotFound,
            format!("The model source {copy_from} was not found."),
        )
    })?;
    let mut created = state
        .created
        .lock()
        .map_err(|_| ApiError::new(ErrorKind::InternalServer, "state is unavailable"))?;
    if created
        .iter()
        .any(|p| p["inferenceProfileName"] == name.as_str())
    {
        return Err(ApiError::validation(format!(
            "An inference profile named {name} already exists."
        )));
    }
    let number = NEXT_PROFILE.fetch_add(1, Ordering::Relaxed);
    let id =
        crate::signing::digest_hex(&[b"inference-profile", &number.to_le_bytes(), name.as_bytes()]);
    let arn = format!(
        "arn:aws:bedrock:{REGION}:{ACCOUNT}:application-inference-profile/{}",
        &id[..12]
    );
    created.push(application_profile(
        &arn,
        &name,
        &description,
        CREATED_AT,
        model_arns(model_id, regions),
    ));
    if let Ok(mut registry) = CREATED_PROFILES.lock() {
        registry.insert(arn.clone(), model_id);
    }
    Ok(arn)
}

/// The model and regions of a `copyFrom` ARN: a foundation model, or a system-defined
/// inference profile (whose regions the new profile inherits).
fn model_source(arn: &str) -> Option<(&'static str, &'static [&'static str])> {
    let resource = arn.strip_prefix("arn:aws:bedrock:")?;
    let (_region, rest) = resource.split_once(':')?;
    let (_account, rest) = rest.split_once(':')?;
    let (kind, id) = rest.split_once('/')?;
    match kind {
        "foundation-model" => catalog::lookup(id).map(|model| (model.id, &[REGION][..])),
        "inference-profile" => {
            let (prefix, base) = id.split_once('.')?;
            let model = catalog::lookup(base)?;
            model
                .profile_prefixes
                .contains(&prefix)
                .then(|| (model.id, regions(prefix)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::listing::foundation_models::foundation_models;
    use crate::listing::query;

    #[test]
    fn pages_through_profiles() {
        let headers = HeaderMap::new();
        let mut seen = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let mut q = query(&[("type", "SYSTEM_DEFINED")]);
            if let Some(t) = &token {
                q.insert("nextToken".into(), t.clone());
            }
            let body =
                inference_profiles(&headers, &ListingBehaviour::default(), &q, Vec::new()).unwrap();
            let page = body["inferenceProfileSummaries"].as_array().unwrap();
            assert!(page.len() <= DEFAULT_PAGE_SIZE);
            seen.extend(
                page.iter()
                    .map(|p| p["inferenceProfileId"].as_str().unwrap().to_string()),
            );
            match body["nextToken"].as_str() {
                Some(next) => token = Some(next.to_string()),
                None => break,
            }
        }
        assert!(seen.len() > DEFAULT_PAGE_SIZE);
        assert!(seen.contains(&"us.anthropic.claude-3-5-haiku-20241022-v1:0".to_string()));
        let bad = inference_profiles(
            &headers,
            &ListingBehaviour::default(),
            &query(&[("nextToken", "bogus")]),
            Vec::new(),
        )
        .unwrap_err();
        assert_eq!(bad.kind, ErrorKind::Validation);
    }

    #[test]
    fn behaviour_caps_pages_and_can_page_forever() {
        let headers = HeaderMap::new();
        let capped = ListingBehaviour {
            max_page_size: Some(3),
            ..Default::default()
        };
        let body = inference_profiles(
            &headers,
            &capped,
            &query(&[("maxResults", "1000")]),
            Vec::new(),
        )
        .unwrap();
        assert_eq!(
            body["inferenceProfileSummaries"].as_array().unwrap().len(),
            3
        );
        assert!(body["nextToken"].is_string());
        let endless = ListingBehaviour {
            endless_pages: true,
            ..Default::default()
        };
        let body = inference_profiles(
            &headers,
            &endless,
            &query(&[("maxResults", "1000"), ("type", "APPLICATION")]),
            Vec::new(),
        )
        .unwrap();
        assert!(body["nextToken"].is_string());
        let denied = ListingBehaviour {
            denied: true,
            ..Default::default()
        };
        let err = foundation_models(&headers, &denied, &query(&[])).unwrap_err();
        assert_eq!(err.kind, ErrorKind::AccessDenied);
    }

    #[test]
    fn created_profiles_are_listed_and_resolvable() {
        let state = ControlPlane::default();
        let body = json!({
            "inferenceProfileName": "team embeddings",
            "modelSource": {"copyFrom": "arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0"}
        });
        let arn = create_profile(&state, body.to_string().as_bytes()).unwrap();
        assert!(
            arn.starts_with(
                "arn:aws:bedrock:us-east-1:111122223333:application-inference-profile/"
            )
        );
        assert_eq!(
            created_profile_model(&arn),
            Some("amazon.titan-embed-text-v2:0")
        );
        let listed = all_profiles(state.created());
        assert!(
            listed
                .iter()
                .any(|p| p["inferenceProfileArn"] == arn.as_str())
        );
        // Names are unique per account; unknown sources are refused.
        assert!(create_profile(&state, body.to_string().as_bytes()).is_err());
        let unknown = json!({
            "inferenceProfileName": "x",
            "modelSource": {"copyFrom": "arn:aws:bedrock:us-east-1::foundation-model/nope"}
        });
        let err = create_profile(&state, unknown.to_string().as_bytes()).unwrap_err();
        assert_eq!(err.kind, ErrorKind::ResourceNotFound);
        let system = model_source(
            "arn:aws:bedrock:us-east-1:111122223333:inference-profile/us.anthropic.claude-3-5-haiku-20241022-v1:0",
        )
        .unwrap();
        assert_eq!(system.1, regions("us"));
    }
}
