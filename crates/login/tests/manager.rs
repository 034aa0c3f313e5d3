//! The AuthManager against a real OAuth issuer on loopback (`codex_scripted_model::issuer`).

use codex_login::{AuthDotJson, AuthManager, Issuer, TokenData, storage};
use codex_scripted_model::issuer::{self, Issued};

fn tokens(t: &Issued) -> TokenData {
    TokenData {
        id_token: t.id_token.clone(),
        access_token: t.access_token.clone(),
        refresh_token: t.refresh_token.clone(),
        account_id: Some(issuer::ACCOUNT_ID.into()),
    }
}

fn token_requests(server: &issuer::Issuer) -> usize {
    server
        .requests()
        .iter()
        .filter(|r| r.path == "/oauth/token")
        .count()
}

#[tokio::test]
async fn a_fresh_token_is_used_as_is() {
    let server = issuer::Issuer::start().expect("issuer");
    let home = tempfile::tempdir().expect("home");
    let t = server.issue();
    let client = Issuer::new(&server.base_url(), "client").expect("client");
    let manager = AuthManager::new(home.path().into(), client, tokens(&t));
    let bearer = manager.bearer().await.expect("bearer");
    assert_eq!(bearer.token, t.access_token);
    assert_eq!(bearer.account_id.as_deref(), Some(issuer::ACCOUNT_ID));
    assert_eq!(token_requests(&server), 0);
    assert!(!storage::path(home.path()).exists(), "nothing to save");
}

#[tokio::test]
async fn an_expiring_token_is_renewed_once_and_saved() {
    let server = issuer::Issuer::start().expect("issuer");
    let home = tempfile::tempdir().expect("home");
    server.set_access_ttl(30); // inside the minute before expiry
    let old = server.issue();
    server.set_access_ttl(3600);
    storage::save(home.path(), &AuthDotJson::chatgpt(tokens(&old))).expect("save");
    let client = Issuer::new(&server.base_url(), "client").expect("client");
    let manager = AuthManager::new(home.path().into(), client, tokens(&old));
    let first = manager.bearer().await.expect("bearer");
    let second = manager.bearer().await.expect("bearer");
    let new = &server.issued()[1];
    assert_eq!(first.token, new.access_token);
    assert_eq!(second, first, "the renewed token is kept");
    assert_eq!(token_requests(&server), 1);
    let saved = storage::load(home.path()).expect("load").expect("saved");
    assert_eq!(saved.tokens, Some(tokens(new)));
}

#[tokio::test]
async fn a_token_another_codex_renewed_is_adopted_without_asking_the_issuer() {
    let server = issuer::Issuer::start().expect("issuer");
    let home = tempfile::tempdir().expect("home");
    server.set_access_ttl(-60);
    let old = server.issue();
    server.set_access_ttl(3600);
    let renewed_elsewhere = server.issue();
    storage::save(
        home.path(),
        &AuthDotJson::chatgpt(tokens(&renewed_elsewhere)),
    )
    .expect("save");
    let client = Issuer::new(&server.base_url(), "client").expect("client");
    let manager = AuthManager::new(home.path().into(), client, tokens(&old));
    let bearer = manager.bearer().await.expect("bearer");
    assert_eq!(bearer.token, renewed_elsewhere.access_token);
    assert_eq!(token_requests(&server), 0);
}

#[tokio::test]
async fn a_refused_refresh_says_to_sign_in_again_without_the_token() {
    let server = issuer::Issuer::start().expect("issuer");
    let home = tempfile::tempdir().expect("home");
    server.set_access_ttl(-60);
    let mut stale = tokens(&server.issue());
    stale.refresh_token = "rt-revoked-secret".into();
    let client = Issuer::new(&server.base_url(), "client").expect("client");
    let manager = AuthManager::new(home.path().into(), client, stale);
    let e = manager.bearer().await.expect_err("refused").to_string();
    assert_eq!(
        e,
        "the ChatGPT sign-in has expired and cannot be renewed: run `codex login` again"
    );
    assert!(!storage::path(home.path()).exists(), "nothing was written");
}
