//! `digitctl`: developer commands for the suite.
//!
//! `digitctl token` mints a signed dev JWT for a user with given roles and tenant, for
//! `curl`, the Postman collection and local testing of `AUTH_MODE=jwt` services.

use digit_core::{Role, UserInfo, UserType};
use std::process::ExitCode;

const USAGE: &str = "digitctl — developer commands for digit-rs

Usage:
  digitctl token [options]     print a signed HS256 JWT for a dev user

Options for token:
  --user-uuid UUID        user uuid (default: a new random uuid)
  --user-name NAME        userName (default: dev-user)
  --name NAME             display name (default: the user name)
  --user-type TYPE        CITIZEN | EMPLOYEE | SYSTEM (default: EMPLOYEE)
  --mobile NUMBER         mobileNumber
  --tenant TENANT         user's tenant and the default tenant of every role (default: pg.citya)
  --roles CODES           comma list; CODE or CODE@TENANT (default: EMPLOYEE)
  --secret SECRET         HS256 secret (default: $JWT_SECRET)
  --issuer ISS            iss claim (default: $JWT_ISSUER, or none)
  --ttl-seconds N         lifetime (default: 86400)
  --json                  print {\"token\":…, \"userInfo\":…} instead of the bare token
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("token") => match token(&args[1..]) {
            Ok(out) => {
                println_out(&out);
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("digitctl token: {e}\n\n{USAGE}");
                ExitCode::from(2)
            }
        },
        Some("--help" | "-h" | "help") | None => {
            println_out(USAGE);
            ExitCode::SUCCESS
        }
        Some(other) => {
            eprintln!("digitctl: unknown command '{other}'\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn println_out(s: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", s.trim_end());
}

fn token(args: &[String]) -> Result<String, String> {
    let mut opts = std::collections::HashMap::new();
    let mut json = false;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        if flag == "--json" {
            json = true;
            continue;
        }
        let name = flag
            .strip_prefix("--")
            .ok_or_else(|| format!("unexpected argument '{flag}'"))?;
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        opts.insert(name.to_owned(), value.clone());
    }
    let get = |k: &str| opts.get(k).cloned();
    let tenant = get("tenant").unwrap_or_else(|| "pg.citya".into());
    let user_type = match get("user-type")
        .unwrap_or_else(|| "EMPLOYEE".into())
        .to_ascii_uppercase()
        .as_str()
    {
        "CITIZEN" => UserType::Citizen,
        "EMPLOYEE" => UserType::Employee,
        "SYSTEM" => UserType::System,
        other => return Err(format!("unknown user type '{other}'")),
    };
    let roles = get("roles")
        .unwrap_or_else(|| "EMPLOYEE".into())
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|spec| {
            let (code, role_tenant) = spec.split_once('@').unwrap_or((spec, tenant.as_str()));
            Role {
                id: None,
                name: Some(code.to_owned()),
                code: code.to_owned(),
                tenant_id: Some(role_tenant.to_owned()),
            }
        })
        .collect();
    let user_name = get("user-name").unwrap_or_else(|| "dev-user".into());
    let user = UserInfo {
        id: None,
        uuid: Some(get("user-uuid").unwrap_or_else(|| uuid::Uuid::new_v4().to_string())),
        name: Some(get("name").unwrap_or_else(|| user_name.clone())),
        user_name: Some(user_name),
        user_type: Some(user_type),
        mobile_number: get("mobile"),
        email_id: None,
        tenant_id: Some(tenant),
        roles,
    };
    let secret = get("secret")
        .or_else(|| std::env::var("JWT_SECRET").ok())
        .filter(|s| !s.is_empty())
        .ok_or("no secret: pass --secret or set JWT_SECRET")?;
    let issuer = get("issuer")
        .or_else(|| std::env::var("JWT_ISSUER").ok())
        .filter(|s| !s.is_empty());
    let ttl: i64 = get("ttl-seconds")
        .unwrap_or_else(|| "86400".into())
        .parse()
        .map_err(|_| "bad --ttl-seconds")?;
    let token = digit_service::jwt::mint_hs256(&user, secret.as_bytes(), ttl, issuer.as_deref())
        .map_err(|e| e.to_string())?;
    if json {
        serde_json::to_string_pretty(&serde_json::json!({"token": token, "userInfo": user}))
            .map_err(|e| e.to_string())
    } else {
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use digit_service::jwt::TokenVerifier;
    use jsonwebtoken::{Algorithm, DecodingKey};

    #[test]
    fn minted_token_verifies_with_roles_and_tenants() {
        let args: Vec<String> = [
            "--user-uuid",
            "u-9",
            "--roles",
            "GRO,CSR@pg",
            "--tenant",
            "pg.cityb",
            "--secret",
            "k",
            "--user-type",
            "employee",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let token = token(&args).unwrap();
        let user = TokenVerifier::new(DecodingKey::from_secret(b"k"), Algorithm::HS256, None)
            .verify(&token)
            .unwrap();
        assert_eq!(user.uuid.as_deref(), Some("u-9"));
        assert_eq!(user.roles[0].tenant_id.as_deref(), Some("pg.cityb"));
        assert_eq!(user.roles[1].code, "CSR");
        assert_eq!(user.roles[1].tenant_id.as_deref(), Some("pg"));
    }

    #[test]
    fn bad_arguments_are_reported() {
        assert!(token(&[
            "--user-type".into(),
            "ALIEN".into(),
            "--secret".into(),
            "k".into()
        ])
        .is_err());
        assert!(token(&["stray".into()]).is_err());
        assert!(token(&["--ttl-seconds".into()]).is_err());
    }
}
