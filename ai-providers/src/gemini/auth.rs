//! OAuth access tokens for Vertex AI: a caller's token, a service-account key (a signed JWT
//! exchanged for a token), an `authorized_user` file (a refresh token), or application default
//! credentials. Tokens are cached and refreshed five minutes before they expire; concurrent
//! callers wait for one refresh.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ai_core::{AiError, ErrorKind, Result};
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

/// The scope Vertex AI needs.
pub const CLOUD_PLATFORM_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";
/// Google's OAuth token endpoint.
pub const GOOGLE_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";
/// Refresh this long before a token expires.
const REFRESH_MARGIN: Duration = Duration::from_secs(300);

/// Something that hands out bearer tokens.
#[async_trait]
pub trait TokenSource: Send + Sync + std::fmt::Debug {
    /// A valid access token.
    async fn token(&self) -> Result<SecretString>;
}

/// A token the caller obtained (and refreshes) itself.
#[derive(Clone)]
pub struct StaticToken(SecretString);

impl StaticToken {
    /// Wrap a token.
    pub fn new(token: impl Into<String>) -> Self {
        Self(SecretString::from(token.into()))
    }
}

impl std::fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StaticToken([redacted])")
    }
}

#[async_trait]
impl TokenSource for StaticToken {
    async fn token(&self) -> Result<SecretString> {
        Ok(self.0.clone())
    }
}

fn auth_err(msg: impl Into<String>) -> AiError {
    AiError::new(ErrorKind::Auth, msg).with_provider("google-oauth")
}

enum Grant {
    ServiceAccount {
        email: String,
        key: Box<ring::rsa::KeyPair>,
        key_id: Option<String>,
    },
    RefreshToken {
        client_id: String,
        client_secret: SecretString,
        refresh_token: SecretString,
    },
}

/// Tokens from a Google credentials file (`service_account` or `authorized_user`), cached.
pub struct GoogleCredentials {
    grant: Grant,
    token_uri: String,
    scope: String,
    client: reqwest::Client,
    timeout: Duration,
    cache: tokio::sync::Mutex<Option<(SecretString, Instant)>>,
}

impl std::fmt::Debug for GoogleCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.grant {
            Grant::ServiceAccount { email, .. } => format!("service_account {email}"),
            Grant::RefreshToken { .. } => "authorized_user".to_owned(),
        };
        f.debug_struct("GoogleCredentials")
            .field("kind", &kind)
            .field("token_uri", &self.token_uri)
            .finish_non_exhaustive()
    }
}

fn pem_to_der(pem: &str) -> Result<Vec<u8>> {
    let body: String = pem
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("-----") && !l.is_empty())
        .collect();
    STANDARD
        .decode(body)
        .map_err(|e| AiError::config(format!("the private key is not valid PEM: {e}")))
}

impl GoogleCredentials {
    /// Parse a credentials file's JSON.
    ///
    /// # Errors
    /// `Config` for JSON that is not a `service_account` or `authorized_user` credential, or a
    /// private key that is not a PKCS#8 RSA key.
    pub fn from_json(json: &str) -> Result<Self> {
        let v: Value = serde_json::from_str(json)
            .map_err(|e| AiError::config(format!("the credentials are not JSON: {e}")))?;
        let s = |k: &str| v[k].as_str().map(str::to_owned);
        let need =
            |k: &str| s(k).ok_or_else(|| AiError::config(format!("the credentials have no `{k}`")));
        let (grant, token_uri) = match v["type"].as_str() {
            Some("service_account") => {
                let der = pem_to_der(&need("private_key")?)?;
                let key = ring::rsa::KeyPair::from_pkcs8(&der).map_err(|e| {
                    AiError::config(format!("the private key is not a PKCS#8 RSA key: {e}"))
                })?;
                (
                    Grant::ServiceAccount {
                        email: need("client_email")?,
                        key: Box::new(key),
                        key_id: s("private_key_id"),
                    },
                    s("token_uri").unwrap_or_else(|| GOOGLE_TOKEN_URI.to_owned()),
                )
            }
            Some("authorized_user") => (
                Grant::RefreshToken {
                    client_id: need("client_id")?,
                    client_secret: SecretString::from(need("client_secret")?),
                    refresh_token: SecretString::from(need("refresh_token")?),
                },
                s("token_uri").unwrap_or_else(|| GOOGLE_TOKEN_URI.to_owned()),
            ),
            other => {
                return Err(AiError::config(format!(
                    "unsupported credential type {other:?} (expected service_account or authorized_user)"
                )));
            }
        };
        let timeout = Duration::from_secs(30);
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(timeout)
            .build()
            .map_err(|e| AiError::config(format!("could not build the HTTP client: {e}")))?;
        Ok(Self {
            grant,
            token_uri,
            scope: CLOUD_PLATFORM_SCOPE.to_owned(),
            client,
            timeout,
            cache: tokio::sync::Mutex::new(None),
        })
    }

    /// Read a credentials file.
    ///
    /// # Errors
    /// `Config` when the file cannot be read or parsed.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| {
            AiError::config(format!("cannot read credentials `{}`: {e}", path.display()))
        })?;
        Self::from_json(&text)
    }

    /// Application default credentials: the file named by `GOOGLE_APPLICATION_CREDENTIALS`,
    /// else gcloud's `application_default_credentials.json`. (The metadata server of Google's
    /// own machines is not consulted.)
    ///
    /// # Errors
    /// `Config` when neither exists or the file is unusable.
    pub fn application_default() -> Result<Self> {
        Self::application_default_with(|k| std::env::var_os(k))
    }

    /// [`GoogleCredentials::application_default`] reading variables through `lookup` (for
    /// services whose settings come from elsewhere, and for tests).
    ///
    /// # Errors
    /// `Config` when neither file exists or the file is unusable.
    pub fn application_default_with(
        lookup: impl Fn(&str) -> Option<std::ffi::OsString>,
    ) -> Result<Self> {
        if let Some(p) = lookup("GOOGLE_APPLICATION_CREDENTIALS").filter(|p| !p.is_empty()) {
            return Self::from_file(PathBuf::from(p));
        }
        let base = lookup("CLOUDSDK_CONFIG")
            .map(PathBuf::from)
            .or_else(|| lookup("HOME").map(|h| PathBuf::from(h).join(".config/gcloud")));
        match base.map(|b| b.join("application_default_credentials.json")) {
            Some(p) if p.is_file() => Self::from_file(p),
            _ => Err(AiError::config(
                "no application default credentials: set GOOGLE_APPLICATION_CREDENTIALS to a key file or run `gcloud auth application-default login`",
            )),
        }
    }

    /// Another token endpoint (a proxy, a test server).
    pub fn with_token_uri(mut self, uri: impl Into<String>) -> Self {
        self.token_uri = uri.into();
        self
    }

    /// Another scope (space-separated).
    pub fn with_scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = scope.into();
        self
    }

    /// The signed JWT assertion for a service account, valid for an hour from `now`.
    fn assertion(&self, now: u64) -> Result<String> {
        let Grant::ServiceAccount { email, key, key_id } = &self.grant else {
            return Err(AiError::config("not a service account"));
        };
        let mut header = json!({ "alg": "RS256", "typ": "JWT" });
        if let Some(k) = key_id {
            header["kid"] = json!(k);
        }
        let claims = json!({
            "iss": email, "scope": self.scope, "aud": self.token_uri,
            "iat": now, "exp": now + 3600,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut sig = vec![0u8; key.public().modulus_len()];
        key.sign(
            &ring::signature::RSA_PKCS1_SHA256,
            &ring::rand::SystemRandom::new(),
            signing_input.as_bytes(),
            &mut sig,
        )
        .map_err(|_| auth_err("could not sign the token request"))?;
        Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig)))
    }

    async fn fetch(&self) -> Result<(SecretString, Duration)> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let form: Vec<(&str, String)> = match &self.grant {
            Grant::ServiceAccount { .. } => vec![
                (
                    "grant_type",
                    "urn:ietf:params:oauth:grant-type:jwt-bearer".into(),
                ),
                ("assertion", self.assertion(now)?),
            ],
            Grant::RefreshToken {
                client_id,
                client_secret,
                refresh_token,
            } => vec![
                ("grant_type", "refresh_token".into()),
                ("client_id", client_id.clone()),
                ("client_secret", client_secret.expose_secret().to_owned()),
                ("refresh_token", refresh_token.expose_secret().to_owned()),
            ],
        };
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&form)
            .finish();
        let response = self
            .client
            .post(&self.token_uri)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .timeout(self.timeout)
            .body(body)
            .send()
            .await
            .map_err(|e| crate::error_map::from_transport("google-oauth", e))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| crate::error_map::from_transport("google-oauth", e))?;
        let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if !status.is_success() {
            // OAuth errors: {"error": "invalid_grant", "error_description": "…"}; never echo
            // the request (it holds the assertion or refresh token).
            let what = v["error_description"]
                .as_str()
                .or_else(|| v["error"].as_str())
                .unwrap_or("no reason given");
            let kind = if status.as_u16() == 429 || status.is_server_error() {
                ErrorKind::Unavailable
            } else {
                ErrorKind::Auth
            };
            return Err(AiError::new(
                kind,
                format!("the token endpoint refused ({status}): {what}"),
            )
            .with_status(status.as_u16())
            .with_provider("google-oauth"));
        }
        let token = v["access_token"]
            .as_str()
            .filter(|t| !t.is_empty())
            .ok_or_else(|| auth_err("the token endpoint returned no access_token"))?;
        let lifetime = Duration::from_secs(v["expires_in"].as_u64().unwrap_or(3600));
        Ok((SecretString::from(token.to_owned()), lifetime))
    }
}

#[async_trait]
impl TokenSource for GoogleCredentials {
    async fn token(&self) -> Result<SecretString> {
        let mut cache = self.cache.lock().await;
        if let Some((token, expires)) = cache.as_ref()
            && Instant::now() + REFRESH_MARGIN < *expires
        {
            return Ok(token.clone());
        }
        let (token, lifetime) = self.fetch().await?;
        *cache = Some((token.clone(), Instant::now() + lifetime));
        Ok(token)
    }
}

/// Shared handle to a token source.
pub type SharedTokenSource = Arc<dyn TokenSource>;
