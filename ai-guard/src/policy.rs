//! Access policy: which roles and tenants may use which AI feature. Deny by default.
//!
//! ```
//! use ai_guard::policy::AccessPolicy;
//! let policy = AccessPolicy::new()
//!     .allow("summarize_ticket", &["agent", "supervisor"], &["*"])
//!     .allow("refund_decision", &["supervisor"], &["acme"]);
//! assert!(policy.check("summarize_ticket", Some("agent"), Some("globex")).is_ok());
//! let denied = policy.check("refund_decision", Some("agent"), Some("acme")).unwrap_err();
//! assert_eq!(denied.kind(), ai_core::ErrorKind::Guard);
//! assert!(denied.message().contains("role `agent`"));
//! assert!(policy.check("translate", Some("supervisor"), Some("acme")).is_err(), "unknown feature");
//! ```

use std::collections::BTreeMap;

use ai_core::{AiError, ErrorKind, Result};

#[derive(Debug, Clone, Default)]
struct Grant {
    roles: Vec<String>,
    tenants: Vec<String>,
}

impl Grant {
    fn role_ok(&self, role: Option<&str>) -> bool {
        self.roles
            .iter()
            .any(|r| r == "*" || Some(r.as_str()) == role)
    }
    fn tenant_ok(&self, tenant: Option<&str>) -> bool {
        self.tenants
            .iter()
            .any(|t| t == "*" || Some(t.as_str()) == tenant)
    }
}

/// Grants per feature; anything not granted is denied.
#[derive(Debug, Clone, Default)]
pub struct AccessPolicy {
    features: BTreeMap<String, Vec<Grant>>,
}

impl AccessPolicy {
    /// A policy that denies everything.
    pub fn new() -> Self {
        Self::default()
    }

    /// Let `roles` in `tenants` use `feature` (`"*"` matches any role or tenant, including
    /// none given).
    pub fn allow(mut self, feature: &str, roles: &[&str], tenants: &[&str]) -> Self {
        self.features
            .entry(feature.to_owned())
            .or_default()
            .push(Grant {
                roles: roles.iter().map(|s| (*s).to_owned()).collect(),
                tenants: tenants.iter().map(|s| (*s).to_owned()).collect(),
            });
        self
    }

    /// Read a policy from JSON: `{"feature": [{"roles": ["agent"], "tenants": ["*"]}, …], …}`.
    ///
    /// # Errors
    /// `Config` when the JSON does not have that shape.
    pub fn from_json(json: &str) -> Result<Self> {
        let v: BTreeMap<String, Vec<BTreeMap<String, Vec<String>>>> = serde_json::from_str(json)
            .map_err(|e| AiError::config(format!("access policy JSON: {e}")))?;
        let mut p = Self::new();
        for (feature, grants) in v {
            for g in grants {
                let list = |k: &str| g.get(k).cloned().unwrap_or_default();
                p.features.entry(feature.clone()).or_default().push(Grant {
                    roles: list("roles"),
                    tenants: list("tenants"),
                });
            }
        }
        Ok(p)
    }

    /// `Ok` when `role` in `tenant` may use `feature`; otherwise a `Guard` error whose message
    /// says why and can be shown to the caller.
    ///
    /// # Errors
    /// `Guard` when access is denied.
    pub fn check(&self, feature: &str, role: Option<&str>, tenant: Option<&str>) -> Result<()> {
        let deny =
            |why: String| Err(AiError::new(ErrorKind::Guard, why).with_code("access_denied"));
        let Some(grants) = self.features.get(feature) else {
            return deny(format!(
                "the AI feature `{feature}` is not enabled for anyone"
            ));
        };
        if grants
            .iter()
            .any(|g| g.role_ok(role) && g.tenant_ok(tenant))
        {
            return Ok(());
        }
        let role_s = role.unwrap_or("(none)");
        let tenant_s = tenant.unwrap_or("(none)");
        if grants.iter().any(|g| g.role_ok(role)) {
            deny(format!(
                "tenant `{tenant_s}` may not use the AI feature `{feature}`"
            ))
        } else {
            deny(format!(
                "role `{role_s}` may not use the AI feature `{feature}`"
            ))
        }
    }
}
