//! Bedrock Runtime calls: Converse, ConverseStream and InvokeModel, with errors already mapped
//! for OpenAI clients.

use aws_sdk_bedrockruntime::error::SdkError;
use aws_sdk_bedrockruntime::operation::converse::ConverseOutput;
use aws_sdk_bedrockruntime::primitives::Blob;
use aws_sdk_bedrockruntime::primitives::event_stream::EventReceiver;
use aws_sdk_bedrockruntime::types::ConverseStreamOutput;
use aws_sdk_bedrockruntime::types::error::ConverseStreamOutputError;

use super::Bedrock;
use crate::embeddings::token_count::InputTokenCount;
use crate::error::ApiError;
use crate::translate::ConverseInput;
use crate::translate::errors::{from_bedrock_code, from_sdk_error};

/// Sets every field of a [`ConverseInput`] but the guardrail on a Converse or ConverseStream
/// request builder: the two builders are different types with the same setters.
macro_rules! with_converse_input {
    ($builder:expr, $input:expr) => {{
        let input: ConverseInput = $input;
        $builder
            .model_id(input.model_id)
            .set_messages(Some(input.messages))
            .set_system((!input.system.is_empty()).then_some(input.system))
            .set_inference_config(input.inference_config)
            .set_tool_config(input.tool_config)
            .set_additional_model_request_fields(input.additional_model_request_fields)
            .set_performance_config(input.performance_config)
            .set_service_tier(input.service_tier)
            .set_prompt_variables(input.prompt_variables)
            .set_request_metadata(input.request_metadata)
            .set_output_config(input.output_config)
    }};
}

impl Bedrock {
    /// One Converse call.
    pub async fn converse(&self, input: ConverseInput) -> Result<ConverseOutput, ApiError> {
        let guardrail = input.guardrail_config.clone();
        with_converse_input!(self.runtime.converse(), input)
            .set_guardrail_config(guardrail)
            .send()
            .await
            .map_err(|e| from_sdk_error(&e))
    }

    /// Opens a ConverseStream. Errors before the first event come back here, as for Converse.
    pub async fn converse_stream(&self, input: ConverseInput) -> Result<ConverseEvents, ApiError> {
        let guardrail = input.guardrail_config.clone().map(stream_guardrail);
        let output = with_converse_input!(self.runtime.converse_stream(), input)
            .set_guardrail_config(guardrail)
            .send()
            .await
            .map_err(|e| from_sdk_error(&e))?;
        Ok(ConverseEvents {
            receiver: output.stream,
        })
    }

    /// One InvokeModel call with a JSON body (embeddings), with Bedrock's input token count.
    pub async fn invoke_model(
        &self,
        model_id: &str,
        body: Vec<u8>,
    ) -> Result<InvokeModelAnswer, ApiError> {
        let tokens = InputTokenCount::default();
        let output = self
            .runtime
            .invoke_model()
            .model_id(model_id)
            .content_type("application/json")
            .accept("application/json")
            .body(Blob::new(body))
            .customize()
            .interceptor(tokens.clone())
            .send()
            .await
            .map_err(|e| from_sdk_error(&e))?;
        Ok(InvokeModelAnswer {
            body: output.body.into_inner(),
            input_tokens: tokens.get(),
        })
    }
}

/// An InvokeModel answer: the model's JSON body and the `X-Amzn-Bedrock-Input-Token-Count`.
#[derive(Debug, Clone)]
pub struct InvokeModelAnswer {
    pub body: Vec<u8>,
    pub input_tokens: Option<u64>,
}

/// ConverseStream takes its own guardrail type, with the same fields.
fn stream_guardrail(
    g: aws_sdk_bedrockruntime::types::GuardrailConfiguration,
) -> aws_sdk_bedrockruntime::types::GuardrailStreamConfiguration {
    aws_sdk_bedrockruntime::types::GuardrailStreamConfiguration::builder()
        .guardrail_identifier(g.guardrail_identifier)
        .guardrail_version(g.guardrail_version)
        .trace(g.trace)
        .build()
}

/// The events of one ConverseStream, with errors already in OpenAI terms.
pub struct ConverseEvents {
    receiver: EventReceiver<ConverseStreamOutput, ConverseStreamOutputError>,
}

impl ConverseEvents {
    /// The next event, `None` at the end, or the error that ended the stream.
    pub async fn next(&mut self) -> Result<Option<ConverseStreamOutput>, ApiError> {
        self.receiver.recv().await.map_err(|e| match &e {
            // Exceptions inside the event stream come without an error code: name them by type.
            SdkError::ServiceError(service) => {
                let err = service.err();
                from_bedrock_code(Some(stream_error_code(err)), err.meta().message())
            }
            _ => from_sdk_error(&e),
        })
    }
}

fn stream_error_code(err: &ConverseStreamOutputError) -> &'static str {
    match err {
        ConverseStreamOutputError::ThrottlingException(_) => "ThrottlingException",
        ConverseStreamOutputError::ValidationException(_) => "ValidationException",
        ConverseStreamOutputError::ServiceUnavailableException(_) => "ServiceUnavailableException",
        ConverseStreamOutputError::InternalServerException(_) => "InternalServerException",
        ConverseStreamOutputError::ModelStreamErrorException(_) => "ModelStreamErrorException",
        _ => "UnknownStreamError",
    }
}
