//! The local REST API (`oauth-desk serve`) against the real test provider: every endpoint, a
//! whole sign-in started through /connect, bad requests, and the API, the CLI and the vault
//! used at once with one refresh for everyone.

use std::time::{Duration, Instant};

use oauth_desk_tests::cli::{json, run, stdout, Running};
use oauth_desk_tests::idp::{self, Idp, Options};
use oauth_desk_tests::session::Session;
use oauth_desk_tests::signin::ok;
use oauth_desk_tests::user::User;
use reqwest::blocking::{Client, RequestBuilder};
use serde_json::{json, Value};

const PASS: (&str, &str) = ("OAUTH_DESK_PASSPHRASE", "api tests");

struct Api {
    base: String,
    key: String,
    http: Client,
    _server: Running,
}

impl Api {
    fn start(s: &Session) -> Api {
        let key = stdout(&ok(run(s, &["api", "key"], &[PASS], "")))
            .trim()
            .to_owned();
        assert_eq!(key.len(), 64, "a 256-bit key in hex");
        let mut server = Running::start(s, &["serve", "--port", "0"], &[PASS]);
        let line = server.line();
        let base = line
            .strip_prefix("listening on ")
            .expect("the address line")
            .to_owned();
        Api {
            base,
            key,
            http: oauth_desk_tests::http(),
            _server: server,
        }
    }
    fn url(&self, path: &str) -> String {
        format!("{}/api/v1/oauth2{path}", self.base)
    }
    fn authed(&self, r: RequestBuilder) -> RequestBuilder {
        r.bearer_auth(&self.key)
    }
    fn get(&self, path: &str) -> (u16, Value) {
        send(self.authed(self.http.get(self.url(path))))
    }
    fn post(&self, path: &str, body: Value) -> (u16, Value) {
        send(self.authed(self.http.post(self.url(path))).json(&body))
    }
    fn put(&self, path: &str, body: Value) -> (u16, Value) {
        send(self.authed(self.http.put(self.url(path))).json(&body))
    }
    fn delete(&self, path: &str) -> (u16, Value) {
        send(self.authed(self.http.delete(self.url(path))))
    }
}

fn send(r: RequestBuilder) -> (u16, Value) {
    let resp = r.send().unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn provider_json(idp: &Idp) -> Value {
    json!({
        "name": "Test IdP",
        "issuer": idp.issuer,
        "authorization_url": idp.endpoint("authorization_endpoint"),
        "token_url": idp.endpoint("token_endpoint"),
        "revocation_url": idp.endpoint("revocation_endpoint"),
        "userinfo_url": idp.endpoint("userinfo_endpoint"),
        "jwks_uri": idp.endpoint("jwks_uri"),
        "client_id": idp::BASIC.id,
        "client_secret": idp::BASIC.secret.unwrap(),
        "scopes": ["openid", "email", "offline_access"],
    })
}

/// Starts a sign-in through /connect, plays the user, and waits for it to be done.
fn sign_in(api: &Api, who: &str) -> Value {
    let (status, started) = api.get(&format!("/connect/Test%20IdP?account={who}"));
    assert_eq!(status, 200, "{started}");
    let url = started["url"].as_str().unwrap();
    let (code, _) = User::new(who).sign_in(url).expect("the user signs in");
    assert_eq!(code, 200);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, st) = api.get(&format!("/signin/{}", started["id"].as_str().unwrap()));
        if st["status"] != "pending" {
            assert_eq!(st["status"], "done", "{st}");
            return st;
        }
        assert!(Instant::now() < deadline, "the sign-in did not finish");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn every_endpoint_against_the_test_provider() {
    let idp = Idp::start();
    let s = Session::without_keyring();
    let api = Api::start(&s);

    let (status, created) = api.post("/app", provider_json(&idp));
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["has_client_secret"], true);
    let (_, list) = api.get("/app");
    assert_eq!(list.as_array().unwrap().len(), 1);
    let everything = format!("{created}{list}");
    assert!(
        !everything.contains(idp::BASIC.secret.unwrap()),
        "the secret is never returned"
    );
    let mut update = provider_json(&idp);
    update["client_secret"] = json!("");
    update["color"] = json!("#123456");
    let (status, updated) = api.put("/app/Test%20IdP", update);
    assert_eq!(
        (status, updated["color"].clone()),
        (200, json!("#123456")),
        "{updated}"
    );
    assert_eq!(
        updated["has_client_secret"], true,
        "an empty secret keeps the stored one"
    );
    assert_eq!(api.get("/app/Test%20IdP").1["name"], "Test IdP");

    // A whole sign-in started through /connect, then a token the provider says is active.
    let done = sign_in(&api, "alice");
    assert_eq!(done["signed_in"]["account"], "alice");
    let (status, got) = api.get("/user/Test%20IdP/alice");
    assert_eq!(status, 200, "{got}");
    let token = got["token"].as_str().unwrap().to_owned();
    assert!(idp.introspect(&idp::BASIC, &token));
    let (status, refreshed) = api.post("/user/Test%20IdP/alice/refresh", json!({}));
    assert_eq!(status, 200, "{refreshed}");
    let (_, after) = api.get("/user/Test%20IdP/alice");
    assert_ne!(after["token"], json!(token), "refresh gave a new token");
    // Each token handed out is in the activity log, with its account, never the token.
    let log = json(&ok(run(&s, &["activity", "--json"], &[PASS], "")));
    let handed: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "token handed out")
        .collect();
    assert_eq!(handed.len(), 2, "{log}");
    assert_eq!(handed[0]["account"], "alice");
    assert!(handed[0]["detail"].as_str().unwrap().contains("REST API"));
    assert!(!log.to_string().contains(&token), "never the token");

    // Set and update a user's token (StoreOAuth2User).
    let (status, set) = api.post(
        "/user/Test%20IdP",
        json!({"account": "bot", "access_token": "set-token", "expires_in": 3600}),
    );
    assert_eq!(status, 201, "{set}");
    assert_eq!(api.get("/user/Test%20IdP/bot").1["token"], "set-token");
    let (status, _) = api.put(
        "/user/Test%20IdP/bot",
        json!({"access_token": "updated-token", "expires_in": 3600}),
    );
    assert_eq!(status, 200);
    assert_eq!(api.get("/user/Test%20IdP/bot").1["token"], "updated-token");

    // Revoke: the provider says inactive, and the account needs sign-in.
    let current = api.get("/user/Test%20IdP/alice").1["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, revoked) = api.delete("/user/Test%20IdP/alice");
    assert_eq!(
        (status, revoked["outcome"].clone()),
        (200, json!("at_provider")),
        "{revoked}"
    );
    assert!(!idp.introspect(&idp::BASIC, &current));
    let (status, needs) = api.get("/user/Test%20IdP/alice");
    assert_eq!(
        (status, needs["code"].clone()),
        (409, json!("needs_signin"))
    );

    let (status, removed) = api.delete("/app/Test%20IdP");
    assert_eq!((status, removed["tokens_removed"].clone()), (200, json!(2)));
    let (status, doc) = api.get("/../openapi.json");
    assert_eq!(status, 200);
    assert!(
        doc["paths"]["/api/v1/oauth2/user/{name}/{account}"].is_object(),
        "the OpenAPI document is served"
    );
}

#[test]
fn bad_requests_get_the_right_status_and_change_nothing() {
    let idp = Idp::start();
    let s = Session::without_keyring();
    let api = Api::start(&s);
    assert_eq!(api.post("/app", provider_json(&idp)).0, 201);
    let before = json(&ok(run(&s, &["provider", "list", "--json"], &[PASS], "")));

    let bare = |r: RequestBuilder| {
        let resp = r.send().unwrap();
        (resp.status().as_u16(), resp.text().unwrap())
    };
    assert_eq!(
        bare(api.http.get(api.url("/app"))),
        (401, String::new()),
        "no key, no detail"
    );
    assert_eq!(
        bare(api.http.get(api.url("/app")).bearer_auth("0".repeat(64))),
        (401, String::new())
    );
    let rebinding = bare(
        api.authed(api.http.get(api.url("/app")))
            .header("Host", "evil.example"),
    );
    assert_eq!(rebinding.0, 403, "a non-loopback Host is refused");
    let malformed = send(
        api.authed(api.http.post(api.url("/app")))
            .header("content-type", "application/json")
            .body("{\"name\": "),
    );
    assert_eq!(
        (malformed.0, malformed.1["code"].clone()),
        (422, json!("invalid_input"))
    );
    let secretive = send(
        api.authed(api.http.post(api.url("/app")))
            .body(r#"{"name":"x","client_secret":12345678}"#),
    );
    assert_eq!(secretive.0, 422);
    assert!(
        !secretive.1.to_string().contains("12345678"),
        "a bad value is never echoed"
    );
    let huge = json!({ "name": "x".repeat(70_000) });
    assert_eq!(
        send(api.authed(api.http.post(api.url("/app"))).json(&huge)).0,
        413,
        "bodies are capped"
    );
    let invalid = api.post(
        "/app",
        json!({ "name": "Other", "token_url": "http://evil.example/token", "client_id": "c" }),
    );
    assert_eq!(
        (invalid.0, invalid.1["fields"][0]["field"].clone()),
        (422, json!("token_url"))
    );
    assert_eq!(api.get("/app/Nope").0, 404);
    assert_eq!(api.get("/user/Test%20IdP/nobody").0, 404);
    assert_eq!(api.get("/user/Nope/alice").0, 404);
    assert_eq!(api.get("/signin/not-an-id").0, 404);
    let after = json(&ok(run(&s, &["provider", "list", "--json"], &[PASS], "")));
    assert_eq!(after, before, "nothing changed");
}

/// The API, the CLI and the vault at once, with a token due for refresh and rotating refresh
/// tokens: one refresh at the provider, one token for every caller.
#[test]
fn the_api_and_the_cli_share_the_vault_and_one_refresh() {
    let idp = Idp::start_with(Options {
        access_ttl: Some(70),
        keep_refresh_tokens: false,
        ..Default::default()
    });
    let s = Session::without_keyring();
    let api = Api::start(&s);
    assert_eq!(api.post("/app", provider_json(&idp)).0, 201);
    sign_in(&api, "alice");
    // 70 s tokens, a 60 s margin: after 11 s the token is due, and a fresh one is not.
    std::thread::sleep(Duration::from_secs(11));
    let url = api.url("/user/Test%20IdP/alice");
    let key = api.key.clone();
    let api_callers: Vec<_> = (0..10)
        .map(|_| {
            let (url, key) = (url.clone(), key.clone());
            std::thread::spawn(move || {
                let v: Value = oauth_desk_tests::http()
                    .get(url)
                    .bearer_auth(key)
                    .send()
                    .unwrap()
                    .json()
                    .unwrap();
                v["token"].as_str().expect("a token").to_owned()
            })
        })
        .collect();
    let cli_callers: Vec<_> = (0..5)
        .map(|_| Running::start(&s, &["token", "get", "Test IdP"], &[PASS]))
        .collect();
    let mut tokens = std::collections::BTreeSet::new();
    for c in api_callers {
        tokens.insert(c.join().unwrap());
    }
    for c in cli_callers {
        tokens.insert(stdout(&ok(c.finish())).trim().to_owned());
    }
    assert_eq!(tokens.len(), 1, "every caller got the same token");
    assert_eq!(
        idp.grants("refresh_token"),
        1,
        "one refresh at the provider"
    );
}

/// Issue 16: an API key is not enough to send the client secret or a refresh token to a new
/// host. The real provider is the original host; a canned server (it records every request)
/// is the new token host that a PUT points the provider at.
#[test]
fn a_put_to_a_new_token_host_sends_nothing_there_on_refresh() {
    use oauth_desk_tests::canned::{Canned, CannedServer};
    let idp = Idp::start();
    let s = Session::without_keyring();
    let api = Api::start(&s);
    let (status, created) = api.post("/app", provider_json(&idp));
    assert_eq!(status, 201, "{created}");
    sign_in(&api, "alice");
    let refresh_token = {
        let v = s.open_vault(PASS.1);
        let t = oauth_desk_core::vault::tokens::get(v.conn(), "Test IdP", "alice").unwrap();
        t.refresh_token.unwrap().expose().clone()
    };
    let answer = r#"{"access_token":"from-the-new-host","token_type":"Bearer","expires_in":3600}"#;
    let new_host = CannedServer::start(vec![("/token".into(), Canned::json(answer))]);

    let mut moved = provider_json(&idp);
    moved["client_secret"] = json!("");
    moved["token_url"] = json!(format!("{}/token", new_host.base));
    let (status, updated) = api.put("/app/Test%20IdP", moved);
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["has_client_secret"], false, "{updated}");
    assert!(
        updated["notice"]
            .as_str()
            .is_some_and(|n| n.contains("moved to another host")),
        "{updated}"
    );
    // The served document says so too: PUT's answer may carry `notice` (its schema forbids
    // any property it does not name).
    let (_, doc) = send(api.authed(api.http.get(format!("{}/api/v1/openapi.json", api.base))));
    let answer = &doc["paths"]["/api/v1/oauth2/app/{name}"]["put"]["responses"]["200"];
    let schema = answer["content"]["application/json"]["schema"]["$ref"]
        .as_str()
        .and_then(|r| r.rsplit('/').next())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        doc["components"]["schemas"][&schema]["properties"]["notice"]["type"], "string",
        "the OpenAPI document names the notice PUT /app/{{name}} answers with"
    );
    let (status, refreshed) = api.post("/user/Test%20IdP/alice/refresh", json!({}));
    assert_eq!(
        (status, refreshed["code"].clone()),
        (409, json!("needs_signin")),
        "{refreshed}"
    );
    idp::assert_sent_nothing(&new_host, &[&refresh_token]);
}

#[test]
fn a_client_is_registered_updated_and_deleted_at_the_provider_through_the_api() {
    let iat = "api-initial-access-token";
    let idp = Idp::start_with(idp::Options {
        registration_token: Some(iat),
        ..Default::default()
    });
    let s = Session::without_keyring();
    let api = Api::start(&s);
    let body = json!({
        "name": "Registered",
        "issuer": idp.issuer,
        "authorization_url": idp.endpoint("authorization_endpoint"),
        "token_url": idp.endpoint("token_endpoint"),
        "registration_url": idp.endpoint("registration_endpoint"),
        "scopes": ["openid", "email"],
    });
    // Without the initial access token the provider wants: its refusal, and nothing stored.
    let (status, said) = api.post("/registration", body.clone());
    assert_eq!(status, 502, "{said}");
    assert_eq!(api.get("/app").1, json!([]));
    // A client id or secret in the body: the provider gives those.
    let mut typed = body.clone();
    typed["client_id"] = "mine".into();
    assert_eq!(api.post("/registration", typed).0, 422);

    let (status, view) = send(
        api.authed(api.http.post(api.url("/registration")))
            .header("X-Initial-Access-Token", iat)
            .json(&body),
    );
    assert_eq!(status, 201, "{view}");
    assert_eq!(view["registered"], true);
    assert_eq!(view["has_client_secret"], true);
    assert!(!view.to_string().contains(iat));

    let (status, view) = api.put("/app/Registered", {
        let mut changed = body.clone();
        changed["scopes"] = json!(["openid"]);
        changed["client_id"] = view["client_id"].clone();
        changed
    });
    assert_eq!(status, 200, "{view}");
    let (status, view) = send(api.authed(api.http.put(api.url("/app/Registered/registration"))));
    assert_eq!(status, 200, "{view}");
    let (uri, token): (String, String) = s
        .open_vault(PASS.1)
        .conn()
        .query_row(
            "SELECT client_uri, access_token FROM registrations",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let (_, registered) = send(api.http.get(&uri).bearer_auth(&token));
    assert_eq!(registered["scope"], "openid", "{registered}");

    let (status, gone) = api.delete("/app/Registered?deregister=true");
    assert_eq!(status, 200, "{gone}");
    assert_eq!(api.get("/app").1, json!([]));
    let (status, _) = send(api.http.get(&uri).bearer_auth(&token));
    assert_eq!(status, 401, "the client is gone at the provider");
    // A provider OAuth Desk did not register: said, and kept.
    assert_eq!(api.post("/app", provider_json(&idp)).0, 201);
    let name = provider_json(&idp)["name"].as_str().unwrap().to_owned();
    let (status, _) = api.delete(&format!("/app/{name}?deregister=true"));
    assert_eq!(status, 409);
    assert_eq!(api.get(&format!("/app/{name}")).0, 200);
}

#[test]
fn a_token_is_exchanged_through_the_api() {
    let idp = Idp::start();
    let s = Session::without_keyring();
    let api = Api::start(&s);
    assert_eq!(api.post("/app", provider_json(&idp)).0, 201);
    let mut back = provider_json(&idp);
    back["name"] = "Back".into();
    assert_eq!(api.post("/app", back).0, 201);
    sign_in(&api, "alice");

    let (status, got) = api.post(
        "/user/Back/exchange",
        json!({"subject": "Test IdP:alice", "audience": "orders-api", "scopes": ["openid"]}),
    );
    assert_eq!(status, 201, "{got}");
    assert_eq!(got["account"], "exchanged from Test IdP / alice");
    let exchanged = idp.received("exchanges");
    assert_eq!(exchanged[0]["subject"], "alice");
    assert_eq!(exchanged[0]["audience"], "orders-api");
    let (status, token) = api.get("/user/Back/exchanged%20from%20Test%20IdP%20%2F%20alice");
    assert_eq!(status, 200, "{token}");
    assert!(idp.introspect(&idp::BASIC, token["token"].as_str().unwrap()));

    // The same label again: an exchanged account is exchanged anew (a signed-in one would
    // be refused, 409).
    let (status, again) = api.post(
        "/user/Back/exchange",
        json!({"subject": "Test IdP:alice", "account": "exchanged from Test IdP / alice"}),
    );
    assert_eq!(status, 201, "{again}");
    assert_eq!(idp.received("exchanges").len(), 2);
    // An unknown field, a subject not in the vault.
    assert_eq!(
        api.post("/user/Back/exchange", json!({"subject": "x", "evil": 1}))
            .0,
        422
    );
    assert_eq!(
        api.post("/user/Back/exchange", json!({"subject": "Nobody"}))
            .0,
        404
    );
}
