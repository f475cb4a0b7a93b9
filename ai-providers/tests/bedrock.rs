//! AWS Bedrock's stream framing against recorded ConverseStream bodies (rig's cassettes of
//! `amazon.nova-lite-v1:0`): every frame decodes with its CRCs checked, whole or split anyhow.
#![cfg(feature = "bedrock")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use ai_providers::eventstream::{EventStreamDecoder, Frame, HeaderValue};
use common::{fixtures_in, read};
use serde_json::Value;

fn decode(body: &[u8], step: usize) -> Vec<Result<Frame, String>> {
    let mut d = EventStreamDecoder::default();
    let mut out = Vec::new();
    for c in body.chunks(step.max(1)) {
        d.feed(c, &mut out);
    }
    d.finish(&mut out);
    out.into_iter()
        .map(|r| r.map_err(|e| e.to_string()))
        .collect()
}

#[test]
fn every_recorded_converse_stream_decodes_frame_by_frame() {
    let mut frames = 0;
    let files = fixtures_in("bedrock", ".bin");
    assert_eq!(files.len(), 9);
    for bin in files {
        let body = read(&bin);
        let expected: Value =
            serde_json::from_slice(&read(&bin.replace(".bin", ".decoded.json"))).unwrap();
        let events = expected["events"].as_array().unwrap();
        let whole = decode(&body, body.len());
        assert_eq!(whole.len(), events.len(), "{bin}");
        for (got, want) in whole.iter().zip(events) {
            let f = got.as_ref().unwrap_or_else(|e| panic!("{bin}: {e}"));
            for (name, value) in want["headers"].as_object().unwrap() {
                assert_eq!(
                    f.string_header(name),
                    value.as_str(),
                    "{bin}: header {name}"
                );
            }
            let payload: Value = serde_json::from_slice(&f.payload).unwrap();
            assert_eq!(payload, want["payload"], "{bin}");
            assert_eq!(
                f.encode().len() as u64,
                want["total_length"].as_u64().unwrap()
            );
        }
        for step in [1, 7, 64] {
            assert_eq!(decode(&body, step), whole, "{bin} split every {step}");
        }
        frames += whole.len();
    }
    assert_eq!(frames, 213, "all recorded frames");
}

#[test]
fn text_under_the_event_stream_type_is_refused() {
    // A mock that sends SSE with `content-type: application/vnd.amazon.eventstream`.
    let out = decode(
        &read("bedrock/not_eventstream_sse_under_eventstream_type.body"),
        64,
    );
    assert_eq!(out.len(), 1);
    assert!(
        out[0]
            .as_ref()
            .unwrap_err()
            .contains("invalid event-stream frame")
    );
}

#[test]
fn encoded_frames_decode_to_themselves() {
    let f = Frame::new(
        br#"{"contentBlockDelta":{"delta":{"text":"Hi"},"contentBlockIndex":0}}"#.to_vec(),
    )
    .header(
        ":event-type",
        HeaderValue::String("contentBlockDelta".into()),
    )
    .header(
        ":content-type",
        HeaderValue::String("application/json".into()),
    )
    .header(":message-type", HeaderValue::String("event".into()));
    let mut body = f.encode();
    body.extend(f.encode());
    assert_eq!(decode(&body, 3), vec![Ok(f.clone()), Ok(f)]);
}

mod provider {
    use std::sync::{Arc, Mutex};

    use ai_core::{
        ChatModel, ChatRequest, EmbeddingModel, ErrorKind, FinishReason, StreamAccumulator,
    };
    use ai_providers::bedrock::{AwsCredentials, BedrockProvider};
    use ai_providers::eventstream::{Frame, HeaderValue};
    use ai_testkit::{MockResponse, MockServer};
    use futures::StreamExt;
    use serde_json::{Value, json};

    use super::{fixtures_in, read};

    fn event(kind: &str, payload: Value) -> Vec<u8> {
        Frame::json_event(kind, &payload)
    }

    fn model(url: &str) -> BedrockProvider {
        BedrockProvider::in_region("us-east-1")
            .credentials(AwsCredentials::new(
                "AKIDEXAMPLE",
                "secret-key",
                Some("session-tok".into()),
            ))
            .base_url(url)
            .model("amazon.nova-lite-v1:0")
            .build()
            .unwrap()
    }

    async fn collect(
        m: &BedrockProvider,
        req: ChatRequest,
    ) -> (ai_core::ChatResponse, Option<ai_core::AiError>) {
        let mut s = m.stream(req).await.unwrap();
        let mut acc = StreamAccumulator::new();
        while let Some(item) = s.next().await {
            match item {
                Ok(e) => acc.push(&e),
                Err(e) => return (acc.finish(), Some(e)),
            }
        }
        (acc.finish(), None)
    }

    #[tokio::test]
    async fn recorded_streams_play_through_the_provider() {
        for bin in fixtures_in("bedrock", ".bin") {
            let body = read(&bin);
            let server = MockServer::start(move |_| {
                MockResponse::new(200, body.clone())
                    .header("content-type", "application/vnd.amazon.eventstream")
            })
            .await
            .unwrap();
            let (r, err) = collect(&model(&server.url("")), ChatRequest::user("hi")).await;
            assert!(err.is_none(), "{bin}: {err:?}");
            assert!(
                !r.text().is_empty() || !r.message.tool_calls.is_empty(),
                "{bin}"
            );
            for call in &r.message.tool_calls {
                assert!(call.arguments_json().is_ok(), "{bin}: {}", call.arguments);
                assert!(!call.id.is_empty() && !call.name.is_empty(), "{bin}");
            }
            let u = r.usage.expect("usage from metadata");
            assert!(u.input_tokens > 0 && u.output_tokens > 0, "{bin}");
            assert_ne!(r.finish_reason, FinishReason::Unknown, "{bin}");
        }
    }

    #[tokio::test]
    async fn requests_are_signed_and_shaped_for_converse() {
        let ok = json!({"output":{"message":{"role":"assistant","content":[{"text":"ok"}]}},"stopReason":"end_turn","usage":{"inputTokens":3,"outputTokens":1,"totalTokens":4}});
        let server = MockServer::start(move |_| MockResponse::json(200, ok.to_string()))
            .await
            .unwrap();
        let m = model(&server.url(""));
        let mut req = ChatRequest::new(vec![
            ai_core::Message::system("Be brief."),
            ai_core::Message::user("Weather?"),
        ])
        .max_tokens(5)
        .temperature(0.0);
        req.tools = vec![ai_core::Tool {
            name: "get_weather".into(),
            description: None,
            parameters: json!({"type":"object"}),
            strict: None,
        }];
        req.tool_choice = Some(ai_core::ToolChoice::Required);
        assert_eq!(m.generate(req).await.unwrap().text(), "ok");
        let r = &server.requests()[0];
        assert_eq!(r.path, "/model/amazon.nova-lite-v1%3A0/converse");
        let auth = r.header("authorization").unwrap();
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
            "{auth}"
        );
        assert!(auth.contains("/us-east-1/bedrock/aws4_request"), "{auth}");
        assert!(
            auth.contains("SignedHeaders=")
                && auth.contains("content-type")
                && auth.contains("host"),
            "{auth}"
        );
        let sig = auth.rsplit("Signature=").next().unwrap();
        assert_eq!(sig.len(), 64, "{auth}");
        assert!(r.header("x-amz-date").is_some());
        assert_eq!(r.header("x-amz-security-token"), Some("session-tok"));
        let b: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(b["system"][0]["text"], "Be brief.");
        assert_eq!(b["inferenceConfig"]["maxTokens"], 5);
        assert_eq!(
            b["toolConfig"]["tools"][0]["toolSpec"]["name"],
            "get_weather"
        );
        assert_eq!(b["toolConfig"]["toolChoice"], json!({"any":{}}));
        assert!(!format!("{m:?}").contains("secret-key"));
        // A tool round trip: the call as toolUse, the result as toolResult in a user turn.
        let mut assistant = ai_core::Message::assistant("");
        assistant.tool_calls = vec![ai_core::ToolCall {
            id: "t1".into(),
            name: "get_weather".into(),
            arguments: r#"{"city":"Paris"}"#.into(),
        }];
        let turn = ChatRequest::new(vec![
            ai_core::Message::user("Weather?"),
            assistant,
            ai_core::Message::tool_result("t1", r#"{"temp":21}"#),
            ai_core::Message::tool_result("t1", "sunny"),
        ]);
        let body = ai_providers::bedrock::encode::encode(&turn).unwrap();
        assert_eq!(
            body["messages"][1]["content"][0],
            json!({"toolUse":{"toolUseId":"t1","name":"get_weather","input":{"city":"Paris"}}})
        );
        assert_eq!(
            body["messages"][2]["content"],
            json!([
                {"toolResult":{"toolUseId":"t1","content":[{"json":{"temp":21}}]}},
                {"toolResult":{"toolUseId":"t1","content":[{"text":"sunny"}]}}
            ])
        );
        // A Bedrock API key goes as a bearer token instead.
        let k = BedrockProvider::in_region("us-east-1")
            .api_key("bedrock-key")
            .base_url(server.url(""))
            .model("m")
            .build()
            .unwrap();
        k.generate(ChatRequest::user("hi")).await.unwrap();
        assert_eq!(
            server.requests()[1].header("authorization"),
            Some("Bearer bedrock-key")
        );
        assert!(
            BedrockProvider::in_region("us-east-1")
                .model("m")
                .build()
                .is_err(),
            "credentials required"
        );
    }

    #[tokio::test]
    async fn aws_exceptions_map_to_error_kinds() {
        for (status, name, kind) in [
            (429, "ThrottlingException", ErrorKind::RateLimited),
            (429, "ModelNotReadyException", ErrorKind::Unavailable),
            (400, "ValidationException", ErrorKind::BadRequest),
            (
                400,
                "ServiceQuotaExceededException",
                ErrorKind::QuotaExceeded,
            ),
            (403, "AccessDeniedException", ErrorKind::Auth),
            (404, "ResourceNotFoundException", ErrorKind::NotFound),
            (408, "ModelTimeoutException", ErrorKind::Timeout),
            (424, "ModelErrorException", ErrorKind::Provider),
            (500, "InternalServerException", ErrorKind::Provider),
            (503, "ServiceUnavailableException", ErrorKind::Unavailable),
        ] {
            let server = MockServer::start(move |_| {
                MockResponse::json(status, r#"{"message":"details"}"#).header(
                    "x-amzn-errortype",
                    &format!("{name}:http://internal.amazon.com/coral/com.amazon.bedrock/"),
                )
            })
            .await
            .unwrap();
            let e = model(&server.url(""))
                .generate(ChatRequest::user("hi"))
                .await
                .unwrap_err();
            assert_eq!((e.kind(), e.code()), (kind, Some(name)), "{name}");
            assert_eq!(e.status(), Some(status));
            assert_eq!(e.message(), "details");
        }
        // An exception frame after some text ends the stream with that error.
        let mut body = event("messageStart", json!({"role":"assistant"}));
        body.extend(event(
            "contentBlockDelta",
            json!({"delta":{"text":"Hel"},"contentBlockIndex":0}),
        ));
        body.extend(
            Frame::new(br#"{"message":"Too many requests"}"#.to_vec())
                .header(
                    ":exception-type",
                    HeaderValue::String("throttlingException".into()),
                )
                .header(
                    ":content-type",
                    HeaderValue::String("application/json".into()),
                )
                .header(":message-type", HeaderValue::String("exception".into()))
                .encode(),
        );
        let server = MockServer::start(move |_| MockResponse::new(200, body.clone()))
            .await
            .unwrap();
        let (partial, err) = collect(&model(&server.url("")), ChatRequest::user("hi")).await;
        assert_eq!(partial.text(), "Hel");
        let err = err.unwrap();
        assert_eq!(err.kind(), ErrorKind::RateLimited);
        assert!(err.is_retryable());
    }

    #[tokio::test]
    async fn credentials_come_from_the_environment_or_a_profile() {
        let env = |pairs: Vec<(&'static str, String)>| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
        };
        let c = AwsCredentials::from_env_or_profile(&env(vec![
            ("AWS_ACCESS_KEY_ID", "AKIA1".into()),
            ("AWS_SECRET_ACCESS_KEY", "s1".into()),
        ]))
        .unwrap();
        assert_eq!(c.access_key_id, "AKIA1");
        assert!(c.session_token.is_none());
        let dir = std::env::temp_dir().join(format!("aws-creds-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("credentials");
        std::fs::write(&file, "[default]\naws_access_key_id = AKIA_DEF\naws_secret_access_key = d\n\n[profile work]\n# comment\naws_access_key_id=AKIA_WORK\naws_secret_access_key=w\naws_session_token=t\n").unwrap();
        let path = file.to_string_lossy().into_owned();
        let c = AwsCredentials::from_env_or_profile(&env(vec![
            ("AWS_SHARED_CREDENTIALS_FILE", path.clone()),
            ("AWS_PROFILE", "work".into()),
        ]))
        .unwrap();
        assert_eq!(c.access_key_id, "AKIA_WORK");
        assert!(c.session_token.is_some());
        let c = AwsCredentials::from_env_or_profile(&env(vec![(
            "AWS_SHARED_CREDENTIALS_FILE",
            path.clone(),
        )]))
        .unwrap();
        assert_eq!(c.access_key_id, "AKIA_DEF");
        let e = AwsCredentials::from_env_or_profile(&env(vec![
            ("AWS_SHARED_CREDENTIALS_FILE", path),
            ("AWS_PROFILE", "nope".into()),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("nope"));
        assert_eq!(
            AwsCredentials::from_env_or_profile(&env(vec![]))
                .unwrap_err()
                .kind(),
            ErrorKind::Config
        );
        let secret = AwsCredentials::new("AKIA2", "very-secret-value", Some("token-value".into()));
        let debug = format!("{secret:?}");
        assert!(
            !debug.contains("very-secret") && !debug.contains("token-value"),
            "{debug}"
        );
    }

    #[tokio::test]
    async fn titan_and_cohere_embeddings_through_invoke_model() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s2 = seen.clone();
        let server = MockServer::start(move |r| {
            let b: Value = serde_json::from_slice(&r.body).unwrap();
            s2.lock().unwrap().push(r.path.clone());
            let body = if let Some(t) = b["inputText"].as_str() {
                json!({"embedding": [t.len() as f32, 1.0], "inputTextTokenCount": 1})
            } else {
                let n = b["texts"].as_array().unwrap().len();
                json!({"embeddings": {"float": (0..n).map(|i| vec![i as f32, 2.0]).collect::<Vec<_>>()}, "texts": b["texts"]})
            };
            MockResponse::json(200, body.to_string())
        })
        .await
        .unwrap();
        let texts: Vec<String> = vec!["a".into(), "bbb".into()];
        let titan = model(&server.url(""));
        assert_eq!(
            titan.embed(&texts).await.unwrap(),
            vec![vec![1.0, 1.0], vec![3.0, 1.0]]
        );
        let cohere = BedrockProvider::in_region("us-east-1")
            .credentials(AwsCredentials::new("A", "S", None))
            .base_url(server.url(""))
            .embed_model("cohere.embed-english-v3")
            .build()
            .unwrap();
        let many: Vec<String> = (0..100).map(|i| i.to_string()).collect();
        let v = cohere.embed(&many).await.unwrap();
        assert_eq!((v.len(), v[99][0]), (100, 3.0), "batches of 96, order kept");
        let paths = seen.lock().unwrap().clone();
        assert_eq!(paths[0], "/model/amazon.titan-embed-text-v2%3A0/invoke");
        assert_eq!(paths.len(), 4, "two Titan calls, two Cohere batches");
    }
}
