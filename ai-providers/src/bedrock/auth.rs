//! AWS credentials for Bedrock and SigV4 request signing (the `aws-sigv4` crate).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use ai_core::{AiError, Result};
use async_trait::async_trait;
use secrecy::{ExposeSecret, SecretString};

/// An access key, its secret, and a session token for temporary credentials.
#[derive(Clone)]
pub struct AwsCredentials {
    /// `AKIA…` / `ASIA…`.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: SecretString,
    /// For temporary (STS, SSO) credentials.
    pub session_token: Option<SecretString>,
}

impl std::fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// Something that hands out current credentials (rotated ones, an SDK's provider chain).
#[async_trait]
pub trait CredentialSource: Send + Sync + std::fmt::Debug {
    /// Valid credentials.
    async fn credentials(&self) -> Result<AwsCredentials>;
}

#[async_trait]
impl CredentialSource for AwsCredentials {
    async fn credentials(&self) -> Result<AwsCredentials> {
        Ok(self.clone())
    }
}

/// Shared handle to a credential source.
pub type SharedCredentialSource = Arc<dyn CredentialSource>;

impl AwsCredentials {
    /// Fixed credentials.
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        session_token: Option<String>,
    ) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret_access_key: SecretString::from(secret_access_key.into()),
            session_token: session_token.map(SecretString::from),
        }
    }

    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, else the shared
    /// credentials file (`AWS_SHARED_CREDENTIALS_FILE` or `~/.aws/credentials`) for the profile
    /// `AWS_PROFILE` (default `default`), read through `get`.
    ///
    /// # Errors
    /// `Config` when neither has credentials.
    pub fn from_env_or_profile(get: &dyn Fn(&str) -> Option<String>) -> Result<Self> {
        let var = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        if let (Some(id), Some(secret)) = (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
            return Ok(Self::new(id, secret, var("AWS_SESSION_TOKEN")));
        }
        let file = var("AWS_SHARED_CREDENTIALS_FILE")
            .map(PathBuf::from)
            .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".aws/credentials")));
        let profile = var("AWS_PROFILE").unwrap_or_else(|| "default".into());
        match file {
            Some(path) if path.is_file() => {
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    AiError::config(format!("cannot read `{}`: {e}", path.display()))
                })?;
                Self::from_profile_file(&text, &profile)
            }
            _ => Err(AiError::config(
                "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile in ~/.aws/credentials",
            )),
        }
    }

    /// The credentials of `profile` in a shared credentials file's text (INI).
    ///
    /// # Errors
    /// `Config` when the profile or its keys are missing.
    pub fn from_profile_file(text: &str, profile: &str) -> Result<Self> {
        let mut section = String::new();
        let (mut id, mut secret, mut token) = (None, None, None);
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('#') || line.starts_with(';') || line.is_empty() {
                continue;
            }
            if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
                section = name.trim().trim_start_matches("profile ").trim().to_owned();
                continue;
            }
            if section != profile {
                continue;
            }
            if let Some((k, v)) = line.split_once('=') {
                let v = Some(v.trim().to_owned());
                match k.trim() {
                    "aws_access_key_id" => id = v,
                    "aws_secret_access_key" => secret = v,
                    "aws_session_token" => token = v,
                    _ => {}
                }
            }
        }
        match (id, secret) {
            (Some(id), Some(secret)) => Ok(Self::new(id, secret, token)),
            _ => Err(AiError::config(format!(
                "the AWS credentials file has no access key and secret for profile `{profile}`"
            ))),
        }
    }
}

/// The headers SigV4 adds (`authorization`, `x-amz-date`, `x-amz-security-token`) for a request.
pub(crate) fn sign(
    creds: &AwsCredentials,
    region: &str,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    time: SystemTime,
) -> Result<Vec<(String, String)>> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings};
    let identity = aws_credential_types::Credentials::new(
        creds.access_key_id.clone(),
        creds.secret_access_key.expose_secret().to_owned(),
        creds
            .session_token
            .as_ref()
            .map(|t| t.expose_secret().to_owned()),
        None,
        "ai-providers",
    )
    .into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("bedrock")
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| AiError::config(format!("cannot sign the request: {e}")))?
        .into();
    let request = SignableRequest::new(
        method,
        url,
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .map_err(|e| AiError::config(format!("cannot sign the request: {e}")))?;
    let (instructions, _) = aws_sigv4::http_request::sign(request, &params)
        .map_err(|e| AiError::config(format!("cannot sign the request: {e}")))?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect())
}
