//! The token table fits the window: at the default size (1100x720) and a large one
//! (1600x1000), in light and dark mode, with 3 providers and 12 accounts, no row wraps its
//! actions onto a second line and nothing runs off the side; long names are cut with an
//! ellipsis and whole in their tooltip. Screenshots: tokens-fit-*.png.

use oauth_desk_tests::cli::{add_provider_by_hand, run};
use oauth_desk_tests::desktop::App;
use oauth_desk_tests::session::Session;
use oauth_desk_tests::signin::ok;
use serde_json::Value;

const PASSPHRASE: &str = "gui table passphrase";
const PASS: (&str, &str) = ("OAUTH_DESK_PASSPHRASE", PASSPHRASE);
const LONG_PROVIDER: &str = "Contoso Identity Platform for the European Production Tenant";
const LONG_ACCOUNT: &str = "a.very.long.service.account.name@subdomain.example.contoso.com";

fn vault_of_twelve() -> Session {
    let s = Session::without_keyring();
    for name in ["Work", "Personal GitHub", LONG_PROVIDER] {
        add_provider_by_hand(&s, &[PASS], name, &[], "");
    }
    let accounts: Vec<(&str, String)> = (0..12)
        .map(|i| {
            let provider = ["Work", "Personal GitHub", LONG_PROVIDER][i % 3];
            let account = if i == 2 {
                LONG_ACCOUNT.to_owned()
            } else {
                format!("user{i}@example.com")
            };
            (provider, account)
        })
        .collect();
    for (i, (provider, account)) in accounts.iter().enumerate() {
        let mut response = serde_json::json!({
            "access_token": format!("token-{i}"),
            "refresh_token": format!("refresh-{i}"),
            "expires_in": lifetime(i),
            "scope": "openid profile email offline_access api:read",
        });
        if lifetime(i) < 300 {
            // Not for the refresher to try (the provider is not there): its row would say so.
            response.as_object_mut().unwrap().remove("refresh_token");
        }
        ok(run(
            &s,
            &["token", "import", provider, "--account", account],
            &[PASS],
            &response.to_string(),
        ));
    }
    s
}

/// Ten minutes and more for most; one token in its last minute (its countdown shows seconds)
/// and one for eight days (it shows days and hours, and nothing on its row changes for an
/// hour and more).
fn lifetime(i: usize) -> usize {
    match i {
        10 => 8 * 86400,
        11 => 45,
        // "in ~13h 35m": the longest shape of a countdown ahead.
        9 => 13 * 3600 + 39 * 60,
        _ => 600 + i * 300,
    }
}

/// Each row's action buttons and their tops, the row heights, and whether the view overflows
/// sideways; the long names' cut and tooltip.
const MEASURE: &str = r#"
const view = document.getElementById('view');
const rows = [...document.querySelectorAll('table.tokens tbody tr')].map((r) => ({
  tops: [...r.querySelectorAll('td.row-actions button')].map((b) => Math.round(b.getBoundingClientRect().top)),
  height: Math.round(r.getBoundingClientRect().height),
}));
const cutCountdowns = [...document.querySelectorAll('table.tokens td.countdown .left')]
  .filter((c) => c.scrollWidth > c.clientWidth)
  .map((c) => c.textContent);
const clips = [...document.querySelectorAll('table.tokens .clip')]
  .filter((c) => c.scrollWidth > c.clientWidth)
  .map((c) => ({ text: c.textContent, title: c.title, ellipsis: getComputedStyle(c).textOverflow }));
return { rows, clips, cutCountdowns, overflow: view.scrollWidth > view.clientWidth + 1,
         dark: matchMedia('(prefers-color-scheme: dark)').matches };
"#;

async fn measure(app: &App) -> Value {
    app.client
        .execute(MEASURE, vec![])
        .await
        .expect("the page measures itself")
}

async fn check_fits(app: &App, size: (u32, u32), dark: bool) {
    app.client.set_window_size(size.0, size.1).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let m = measure(app).await;
    let rows = m["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 12, "{m}");
    for row in rows {
        let tops: Vec<i64> = row["tops"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_i64().unwrap())
            .collect();
        assert_eq!(tops.len(), 2, "Copy and the menu: {m}");
        assert!(
            tops.windows(2).all(|w| w[0] == w[1]),
            "a row wrapped its actions at {size:?}: {m}"
        );
    }
    let first = rows[0]["height"].as_i64().unwrap();
    assert!(
        rows.iter().all(|r| r["height"].as_i64() == Some(first)),
        "every row one line high at {size:?}: {m}"
    );
    assert_eq!(
        m["overflow"], false,
        "nothing runs off the side at {size:?}: {m}"
    );
    assert_eq!(m["dark"], dark, "{m}");
    assert_eq!(
        m["cutCountdowns"],
        serde_json::json!([]),
        "every countdown whole at {size:?}: {m}"
    );
    let clips = m["clips"].as_array().unwrap();
    for long in [LONG_PROVIDER, LONG_ACCOUNT] {
        let cut = clips
            .iter()
            .find(|c| c["text"] == long)
            .unwrap_or_else(|| panic!("{long} is cut at {size:?}: {m}"));
        assert_eq!(cut["title"], long, "whole in the tooltip");
        assert_eq!(cut["ellipsis"], "ellipsis");
    }
}

/// The countdowns change only when what they show does: the token in its last minute (or
/// just past it) shows seconds and changes each one; a token in its last ten minutes shows
/// minutes, one further away five minutes ("~"); the eight-day token's cell is not written.
const WATCH_COUNTDOWNS: &str = r#"
const done = arguments[arguments.length - 1];
const cells = [...document.querySelectorAll('td.countdown[data-expires]')]
  .sort((a, b) => Number(a.dataset.expires) - Number(b.dataset.expires));
const watched = { soon: cells[0], minutes: cells[1], fives: cells[2], far: cells[cells.length - 1] };
const texts = (which) => watched[which].querySelector('.left').textContent;
const writes = { soon: 0, minutes: 0, fives: 0, far: 0 };
const observers = Object.keys(watched).map((which) => {
  const o = new MutationObserver((records) => { writes[which] += records.length; });
  o.observe(watched[which], { subtree: true, childList: true, characterData: true, attributes: true });
  return o;
});
const all = () => Object.fromEntries(Object.keys(watched).map((w) => [w, texts(w)]));
const before = all();
setTimeout(() => {
  observers.forEach((o) => o.disconnect());
  done({ before, after: all(), writes });
}, 2600);
"#;

async fn check_countdowns(app: &App) {
    let seen = app
        .client
        .execute_async(WATCH_COUNTDOWNS, vec![])
        .await
        .expect("the page watches its countdowns");
    let (before, after) = (&seen["before"], &seen["after"]);
    let shape = |v: &serde_json::Value| digits_as_n(v.as_str().unwrap_or_default());
    for text in [&before["soon"], &after["soon"]] {
        assert!(
            ["in Ns", "expired Ns ago"].contains(&shape(text).as_str()),
            "seconds in the last minute: {seen}"
        );
    }
    assert_ne!(
        before["soon"], after["soon"],
        "the last minute ticks: {seen}"
    );
    assert_eq!(
        shape(&after["minutes"]),
        "in Nm",
        "minutes without seconds: {seen}"
    );
    assert_eq!(
        shape(&after["fives"]),
        "in ~Nm",
        "five minutes at a time, said to be so: {seen}"
    );
    assert_eq!(shape(&after["far"]), "in Nd Nh", "days and hours: {seen}");
    assert_eq!(
        seen["writes"]["far"], 0,
        "an unchanged countdown is not written: {seen}"
    );
}

/// "in 12m" as "in Nm".
fn digits_as_n(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if !c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('N') {
            out.push('N');
        }
    }
    out
}

async fn table_fits(dark: bool) {
    let session = tokio::task::spawn_blocking(vault_of_twelve).await.unwrap();
    let env: &[(&str, &str)] = if dark {
        &[("GTK_THEME", "Adwaita:dark")]
    } else {
        &[]
    };
    let app = App::launch(&session, env).await;
    app.enter_passphrase(PASSPHRASE).await;
    app.button("Tokens").await.click().await.unwrap();
    app.text("Showing 1–12 of 12").await;
    check_countdowns(&app).await;
    let mode = if dark { "dark" } else { "light" };
    for size in [(1100, 720), (1600, 1000)] {
        check_fits(&app, size, dark).await;
        app.screenshot(&format!("tokens-fit-{}x{}-{mode}", size.0, size.1))
            .await;
    }
    app.close().await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_table_fits_in_light_mode() {
    table_fits(false).await;
}

#[tokio::test(flavor = "current_thread")]
async fn the_table_fits_in_dark_mode() {
    table_fits(true).await;
}
