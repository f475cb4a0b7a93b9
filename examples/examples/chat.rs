//! A small chat CLI over any OpenAI-compatible provider.
//!
//! ```text
//! cargo run -p examples --example chat -- --provider openai-compatible \
//!     --base-url http://127.0.0.1:18080/v1 --model smollm2-135m-instruct --stream "Hello"
//! cargo run -p examples --example chat -- --json "Hello"     # provider from the environment
//! ```
//!
//! With no `--provider`, the provider comes from `ai_providers::from_env()` (`AI_PROVIDER`,
//! `OPENAI_API_KEY`, `OPENAI_BASE_URL`, `AI_MODEL`…). `--json` prints one JSON line with
//! `text`, `finish_reason` and `usage`. Exit status 1 on error, with the error on stderr.

use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use ai_core::layers::{RetryLayer, Stack, TimeoutLayer};
use ai_core::{ChatModel, ChatRequest, Message, StreamAccumulator, StreamEvent};
use ai_providers::openai::{Auth, OpenAiProvider};
use clap::Parser;
use futures::StreamExt;

#[derive(Parser, Debug)]
#[command(about = "Ask a chat model a question")]
struct Args {
    /// openai, azure, openai-compatible (or vllm, tgi, llamacpp, ollama, lmstudio); default:
    /// read everything from the environment.
    #[arg(long)]
    provider: Option<String>,
    /// Base URL of the server (for openai-compatible), e.g. http://127.0.0.1:8080/v1.
    #[arg(long)]
    base_url: Option<String>,
    /// Model name.
    #[arg(long)]
    model: Option<String>,
    /// API key (otherwise OPENAI_API_KEY when set).
    #[arg(long, env = "OPENAI_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// Stream the answer as it arrives.
    #[arg(long)]
    stream: bool,
    /// Print one JSON line with text, finish_reason and usage.
    #[arg(long)]
    json: bool,
    /// Optional system prompt.
    #[arg(long)]
    system: Option<String>,
    /// Output token limit.
    #[arg(long, default_value_t = 256)]
    max_tokens: u32,
    /// Sampling temperature.
    #[arg(long, default_value_t = 0.0)]
    temperature: f32,
    /// Total timeout in seconds.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
    /// The prompt.
    prompt: String,
}

fn build_provider(args: &Args) -> ai_core::Result<Arc<dyn ChatModel>> {
    let Some(kind) = args.provider.as_deref() else {
        let mut builder = ai_providers::builder_from_env()?;
        if let Some(m) = &args.model {
            builder = builder.model(m.clone());
        }
        return Ok(Arc::new(builder.build()?));
    };
    let mut builder = match kind {
        "openai" => {
            let key = args.api_key.clone().ok_or_else(|| {
                ai_core::AiError::config(
                    "--api-key or OPENAI_API_KEY is needed for --provider openai",
                )
            })?;
            let mut b = OpenAiProvider::openai(key);
            if let Some(url) = &args.base_url {
                b = b.base_url(url.clone());
            }
            b
        }
        "azure" => {
            // Azure needs endpoint, deployment and version: take them from the environment.
            ai_providers::env::builder_from(&|name| {
                if name == "AI_PROVIDER" {
                    Some("azure".into())
                } else {
                    std::env::var(name).ok()
                }
            })?
        }
        other => {
            let name: &'static str = match other {
                "vllm" => "vllm",
                "tgi" => "tgi",
                "llamacpp" => "llamacpp",
                "ollama" => "ollama",
                "lmstudio" => "lmstudio",
                _ => "openai_compatible",
            };
            let url = args.base_url.clone().ok_or_else(|| {
                ai_core::AiError::config(format!("--base-url is needed for --provider {other}"))
            })?;
            let mut b = OpenAiProvider::compatible(url, name);
            if let Some(key) = &args.api_key {
                b = b.auth(Auth::Bearer(key.clone().into()));
            }
            b
        }
    };
    if let Some(m) = &args.model {
        builder = builder.model(m.clone());
    }
    Ok(Arc::new(builder.build()?))
}

async fn run(args: Args) -> ai_core::Result<()> {
    let provider = build_provider(&args)?;
    let model = Stack::new()
        .layer(TimeoutLayer::new().total(Duration::from_secs(args.timeout)))
        .layer(RetryLayer::default())
        .build_chat(provider);
    let mut messages = Vec::new();
    if let Some(s) = &args.system {
        messages.push(Message::system(s.clone()));
    }
    messages.push(Message::user(args.prompt.clone()));
    let request = ChatRequest::new(messages)
        .max_tokens(args.max_tokens)
        .temperature(args.temperature);

    let response = if args.stream {
        let mut stream = model.stream(request).await?;
        let mut acc = StreamAccumulator::new();
        let mut out = std::io::stdout();
        while let Some(event) = stream.next().await {
            let event = event?;
            if let (false, StreamEvent::TextDelta { text }) = (args.json, &event) {
                let _ = out.write_all(text.as_bytes());
                let _ = out.flush();
            }
            acc.push(&event);
        }
        if !args.json {
            println!();
        }
        acc.finish()
    } else {
        let r = model.generate(request).await?;
        if !args.json {
            println!("{}", r.text());
        }
        r
    };
    if args.json {
        let line = serde_json::json!({
            "text": response.text(),
            "finish_reason": response.finish_reason.as_str(),
            "usage": response.usage,
            "model": response.model,
        });
        println!("{line}");
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
