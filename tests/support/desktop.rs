//! The window under test: a private Xvfb display, `tauri-driver` in front of WebKitWebDriver,
//! and a WebDriver client (fantoccini) that drives the real app as a person would.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};

use crate::session::Session;

/// An Xvfb display of its own.
pub struct Display {
    pub name: String,
    child: Child,
}

impl Display {
    pub fn start() -> Display {
        // -displayfd: Xvfb picks a free display number and writes it on that fd when ready.
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1700x1100x24",
                "-nolisten",
                "tcp",
                // Without it the server resets whenever its last client leaves (a window
                // closed between two starts), and a client connecting meanwhile is refused.
                "-noreset",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb runs (apt package xvfb; `make test` installs it)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("Xvfb reports its display");
        let number: u32 = line
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("Xvfb printed {line:?}"));
        Display {
            name: format!(":{number}"),
            child,
        }
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `tauri-driver`, found on PATH or in ~/.cargo/bin (`make test` installs it).
pub fn tauri_driver_path() -> PathBuf {
    let candidates = std::env::var_os("PATH")
        .map(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("tauri-driver"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default()
        .into_iter()
        .chain(std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo/bin/tauri-driver")));
    for c in candidates {
        if c.is_file() {
            return c;
        }
    }
    panic!("tauri-driver is not installed: `cargo install tauri-driver --version ^2 --locked` (`make test` does)")
}

/// An XEmbed tray (trayer, 200x32 at the top right of the screen) on a test's display: what
/// the app's indicator falls back to without a StatusNotifier host, and what tells it that
/// closing the window may hide it there. Dropping it takes the tray down.
pub struct TrayHost {
    child: Child,
}

impl TrayHost {
    pub fn start(display: &str) -> TrayHost {
        let child = Command::new("trayer")
            .args(["--edge", "top", "--align", "right", "--widthtype", "pixel"])
            .args(["--width", "200", "--height", "32"])
            .args(["--transparent", "false", "--tint", "0x333333"])
            .env("DISPLAY", display)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("trayer runs (apt package trayer; `make test` installs it)");
        // It holds the system-tray selection once it is up.
        let (conn, screen) = x11rb::connect(Some(display)).expect("connect to Xvfb");
        let selection = intern(&conn, &format!("_NET_SYSTEM_TRAY_S{screen}"));
        let deadline = Instant::now() + Duration::from_secs(20);
        while x11rb::protocol::xproto::ConnectionExt::get_selection_owner(&conn, selection)
            .unwrap()
            .reply()
            .unwrap()
            .owner
            == x11rb::NONE
        {
            assert!(Instant::now() < deadline, "trayer never took the tray");
            std::thread::sleep(Duration::from_millis(100));
        }
        TrayHost { child }
    }
}

impl Drop for TrayHost {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A StatusNotifier tray on a session's bus, as KDE's panel or GNOME's AppIndicator extension
/// is one: the watcher (status-notifier-watcher) and, `with_host`, a host that shows the items
/// (gtk-sni-tray-standalone, a bar at the top of `display`). Dropping it takes both down.
pub struct SniTray {
    children: Vec<Child>,
}

impl SniTray {
    pub fn start(session: &Session, display: &str, with_host: bool) -> SniTray {
        let spawn = |program: &str, args: &[&str]| {
            let mut cmd = Command::new(program);
            session.apply(&mut cmd);
            cmd.args(args)
                .env("DISPLAY", display)
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            cmd.spawn().unwrap_or_else(|e| {
                panic!(
                    "{program} runs (apt packages haskell-status-notifier-item-utils and \
                     haskell-gtk-sni-tray-utils; `make test` installs them): {e}"
                )
            })
        };
        let mut tray = SniTray {
            children: vec![spawn("status-notifier-watcher", &[])],
        };
        tray.wait_for(session, "the watcher on the bus", |hosts| hosts.is_some());
        if with_host {
            tray.children
                .push(spawn("gtk-sni-tray-standalone", &["--top", "--end"]));
            tray.wait_for(session, "a host registered", |hosts| hosts == Some(true));
        }
        tray
    }

    fn wait_for(&self, session: &Session, what: &str, done: impl Fn(Option<bool>) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !done(hosts_registered(session)) {
            assert!(Instant::now() < deadline, "no StatusNotifier tray: {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// The watcher's IsStatusNotifierHostRegistered, or None while no watcher answers.
fn hosts_registered(session: &Session) -> Option<bool> {
    let mut cmd = Command::new("gdbus");
    session.apply(&mut cmd);
    let out = cmd
        .args([
            "call",
            "--session",
            "--dest",
            "org.kde.StatusNotifierWatcher",
        ])
        .args(["--object-path", "/StatusNotifierWatcher"])
        .args(["--method", "org.freedesktop.DBus.Properties.Get"])
        .args([
            "org.kde.StatusNotifierWatcher",
            "IsStatusNotifierHostRegistered",
        ])
        .output()
        .expect("gdbus runs (apt package libglib2.0-bin)");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).contains("true"))
}

impl Drop for SniTray {
    fn drop(&mut self) {
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The app running in a real window, driven over WebDriver. Dropping it closes the app.
pub struct App {
    pub client: Client,
    driver: Child,
    /// The driver's group was killed (its number may since belong to another).
    ended: bool,
    display: Display,
    log_path: PathBuf,
}

impl App {
    /// Starts the GUI binary in `session` (its HOME, D-Bus and keyring) on a new display.
    pub async fn launch(session: &Session, extra_env: &[(&str, &str)]) -> App {
        let display = Display::start();
        let port = crate::free_port();
        let native_port = crate::free_port();
        let mut cmd = Command::new(tauri_driver_path());
        cmd.args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native_port.to_string(),
        ])
        .args(["--native-driver", "/usr/bin/WebKitWebDriver"]);
        // What the driver and the app print goes to a log beside the screenshots, for failures.
        let log_path = crate::artifacts_dir().join(format!("app-{port}.log"));
        let log = std::fs::File::create(&log_path).expect("create the app's log");
        cmd.stdout(log.try_clone().unwrap()).stderr(log);
        session.apply(&mut cmd);
        cmd.env("DISPLAY", &display.name)
            .env_remove("WAYLAND_DISPLAY");
        // Fewer WebKit processes and no GPU paths under Xvfb.
        cmd.env("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        // A group of its own: killed, tauri-driver would leave WebKitWebDriver (and the app)
        // behind, one per test, each holding WebKit's libraries (and skewing PSS in benches).
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let driver = cmd.spawn().expect("tauri-driver starts");

        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "wry".into());
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": crate::bins::gui_path() }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(60);
        let client = loop {
            match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => break c,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                Err(e) => panic!("no WebDriver session with the app within 60 s: {e}"),
            }
        };
        App {
            client,
            driver,
            ended: false,
            display,
            log_path,
        }
    }

    /// Where what the driver and the app printed goes.
    pub fn log_path(&self) -> PathBuf {
        self.log_path.clone()
    }

    pub fn display_name(&self) -> &str {
        &self.display.name
    }

    /// Answers the passphrase dialog: creates the vault with `passphrase` (typed twice) when
    /// it is new, unlocks it otherwise; returns once the vault is open.
    pub async fn enter_passphrase(&self, passphrase: &str) {
        let dialog = self
            .find(
                "//dialog[@id='unlock-dialog' and @open]",
                "the passphrase dialog",
            )
            .await;
        let creating = self
            .find("//*[@id='unlock-title']", "its title")
            .await
            .text()
            .await
            .unwrap()
            == "Protect your new vault";
        let _ = dialog;
        self.type_into("Passphrase", passphrase).await;
        if creating {
            self.type_into("Repeat the passphrase", passphrase).await;
            self.button("Create vault").await.click().await.unwrap();
        } else {
            self.button("Unlock").await.click().await.unwrap();
        }
        self.text("Vault: passphrase").await;
    }

    /// Waits for an element found by XPath; panics with `what` if it never comes.
    pub async fn find(&self, xpath: &str, what: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(20))
            .for_element(Locator::XPath(xpath))
            .await
            .unwrap_or_else(|e| panic!("{what} did not appear ({xpath}): {e}"))
    }

    /// Picks `action` in the token table's row menu of `account` at `provider`, as a person
    /// does: the row's "More actions" button, then the item.
    pub async fn row_action(&self, provider: &str, account: &str, action: &str) {
        self.find(
            &format!(
                "{}//button[@aria-label={}]",
                token_row(account),
                xpath_literal(&format!("More actions for {account} at {provider}"))
            ),
            "the row's menu button",
        )
        .await
        .click()
        .await
        .unwrap();
        self.find(
            &format!(
                "//*[@role='menu']//button[normalize-space()={}]",
                xpath_literal(action)
            ),
            action,
        )
        .await
        .click()
        .await
        .unwrap();
    }

    /// The page as it is now (the DOM serialized).
    pub async fn page_source(&self) -> String {
        self.client.source().await.expect("the page source")
    }

    /// A button with exactly this visible text, as a person finds it.
    pub async fn button(&self, text: &str) -> fantoccini::elements::Element {
        self.find(
            &format!("//button[normalize-space()={}]", xpath_literal(text)),
            &format!("button {text:?}"),
        )
        .await
    }

    /// Clicks the button labelled `text`. A view that the core's events re-render (a refresh
    /// tells the token table) can replace the button between finding and clicking it; it is
    /// found again then, as a person would click the new one.
    pub async fn click(&self, text: &str) {
        for attempt in 0.. {
            match self.button(text).await.click().await {
                Ok(()) => return,
                Err(e) if attempt < 10 && format!("{e:?}").contains("StaleElementReference") => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("clicking {text:?}: {e}"),
            }
        }
    }

    /// Any element with exactly this visible text.
    pub async fn text(&self, text: &str) -> fantoccini::elements::Element {
        self.find(
            &format!("//*[normalize-space()={}]", xpath_literal(text)),
            &format!("text {text:?}"),
        )
        .await
    }

    /// The input, select or text area labelled `label`, as a person finds it.
    pub async fn field(&self, label: &str) -> fantoccini::elements::Element {
        let xpath = format!(
            "//*[self::input or self::select or self::textarea][@id=//label[normalize-space()={}]/@for]",
            xpath_literal(label)
        );
        self.find(&xpath, &format!("field labelled {label:?}"))
            .await
    }

    /// Picks the option showing `option` in the select labelled `label`, as a click would.
    pub async fn choose(&self, label: &str, option: &str) {
        let select = self.field(label).await;
        self.scroll_to(&select).await;
        select.click().await.unwrap();
        let xpath = format!(
            "//select[@id=//label[normalize-space()={}]/@for]/option[normalize-space()={}]",
            xpath_literal(label),
            xpath_literal(option)
        );
        self.find(&xpath, &format!("option {option:?} of {label:?}"))
            .await
            .click()
            .await
            .unwrap();
    }

    /// What the X clipboard (the CLIPBOARD selection) holds now, as text: asked of its owner,
    /// as a paste would.
    pub async fn clipboard(&self) -> String {
        use x11rb::connection::Connection;
        use x11rb::protocol::xproto::{AtomEnum, ConnectionExt, CreateWindowAux, WindowClass};
        use x11rb::protocol::Event;
        let (conn, screen) = x11rb::connect(Some(&self.display.name)).expect("connect to Xvfb");
        let root = conn.setup().roots[screen].root;
        let window = conn.generate_id().unwrap();
        conn.create_window(
            x11rb::COPY_DEPTH_FROM_PARENT,
            window,
            root,
            0,
            0,
            1,
            1,
            0,
            WindowClass::INPUT_OUTPUT,
            0,
            &CreateWindowAux::new(),
        )
        .unwrap();
        let atom = |name: &str| intern(&conn, name);
        let (clipboard, utf8, property) = (
            atom("CLIPBOARD"),
            atom("UTF8_STRING"),
            atom("OAUTH_DESK_PASTE"),
        );
        conn.convert_selection(window, clipboard, utf8, property, x11rb::CURRENT_TIME)
            .unwrap();
        conn.flush().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(Event::SelectionNotify(e)) = conn.poll_for_event().unwrap() {
                if e.property == x11rb::NONE {
                    return String::new();
                }
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the clipboard's owner did not answer"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let reply = conn
            .get_property(false, window, property, AtomEnum::ANY, 0, 1 << 20)
            .unwrap()
            .reply()
            .unwrap();
        String::from_utf8_lossy(&reply.value).into_owned()
    }

    /// Brings `element` to the middle of the view, as a person scrolls to it: below the
    /// form's sticky buttons, or under a notice, a click would land on those.
    pub async fn scroll_to(&self, element: &fantoccini::elements::Element) {
        self.client
            .execute(
                "arguments[0].scrollIntoView({block: 'center'})",
                vec![serde_json::to_value(element).unwrap()],
            )
            .await
            .unwrap();
    }

    /// Replaces what the field labelled `label` holds with `text`, typing it.
    pub async fn type_into(&self, label: &str, text: &str) {
        let f = self.field(label).await;
        if f.clear().await.is_err() {
            // Out of reach where it is (under a notice, below the sticky buttons): scrolled
            // to, as a person would.
            self.scroll_to(&f).await;
            f.clear().await.unwrap();
        }
        // Emptying by typing (a character and Backspace) fires the input events a person's
        // typing would; `clear` alone does not.
        let keys = if text.is_empty() { "x\u{E003}" } else { text };
        f.send_keys(keys).await.unwrap();
    }

    /// The current value of the field labelled `label`.
    pub async fn value(&self, label: &str) -> String {
        self.field(label)
            .await
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default()
    }

    /// Waits until the field labelled `label` holds `expected`.
    pub async fn wait_value(&self, label: &str, expected: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let v = self.value(label).await;
            if v == expected {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "field {label:?} holds {v:?}, not {expected:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the error shown beside the field labelled `label` contains `says`.
    pub async fn error_beside(&self, label: &str, says: &str) -> String {
        let xpath = format!(
            "//*[@id=concat(//label[normalize-space()={}]/@for, '-error')]",
            xpath_literal(label)
        );
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = self
                .find(&xpath, &format!("the error slot of {label:?}"))
                .await
                .text()
                .await
                .unwrap_or_default();
            if text.contains(says) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "beside {label:?} the window shows {text:?}, not {says:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until no element has exactly this visible text.
    pub async fn text_gone(&self, text: &str) {
        let xpath = format!("//*[normalize-space()={}]", xpath_literal(text));
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self
            .client
            .find_all(Locator::XPath(&xpath))
            .await
            .unwrap()
            .is_empty()
        {
            assert!(Instant::now() < deadline, "{text:?} is still shown");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Saves a screenshot of the window, as the X server shows it, under
    /// `<target>/test-artifacts/NAME.png`. (X rather than WebDriver: WebKitWebDriver's own
    /// screenshot command was seen to hang for good with the accessibility bus up.)
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        self.screenshot_of("^OAuth Desk$", name).await
    }

    /// Types into the window whose title matches `title` (a regular expression), through the X
    /// server as a keyboard would: for windows WebDriver cannot drive (the login window's
    /// private, incognito web context is outside the automation session). Each step is either
    /// text to type or a key name such as "Tab" or "Return".
    pub async fn keyboard(&self, title: &str, steps: &[&str]) {
        let deadline = Instant::now() + Duration::from_secs(20);
        let window = loop {
            if let Some(w) = self.window_id(title) {
                break w.to_string();
            }
            assert!(Instant::now() < deadline, "no window titled {title:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let xdo = |args: &[&str]| {
            let status = Command::new("xdotool")
                .args(args)
                .env("DISPLAY", &self.display.name)
                .status()
                .unwrap();
            assert!(status.success(), "xdotool {args:?} failed");
        };
        xdo(&["windowfocus", "--sync", &window]);
        for step in steps {
            let keys = [
                "Tab",
                "shift+Tab",
                "Return",
                "Escape",
                "Down",
                "Up",
                "space",
                "alt+1",
                "alt+2",
                "alt+3",
                "alt+4",
            ];
            if keys.contains(step) {
                xdo(&["key", "--clearmodifiers", step]);
            } else {
                xdo(&["type", "--delay", "20", step]);
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Closes the window titled like `title` as its close button would: a WM_DELETE_WINDOW
    /// message, which GTK answers by closing the window cleanly.
    pub async fn close_window(&self, title: &str) {
        use x11rb::connection::Connection;
        use x11rb::protocol::xproto::{ClientMessageEvent, ConnectionExt, EventMask};
        let window = self
            .window_id(title)
            .unwrap_or_else(|| panic!("no window titled {title:?}"));
        let (conn, _) = x11rb::connect(Some(&self.display.name)).expect("connect to Xvfb");
        let atom = |name: &str| intern(&conn, name);
        let (protocols, delete) = (atom("WM_PROTOCOLS"), atom("WM_DELETE_WINDOW"));
        let event = ClientMessageEvent::new(32, window, protocols, [delete, 0, 0, 0, 0]);
        conn.send_event(false, window, EventMask::NO_EVENT, event)
            .unwrap();
        conn.flush().unwrap();
    }

    /// Closes a window with its close button and waits until it is gone, pressing again every
    /// 2 s: on a loaded machine a window still setting itself up can miss the first press, as
    /// it can for a person.
    ///
    /// Under Xvfb, with no window manager, a loaded machine can leave GTK not reading X input
    /// for tens of seconds after the window shows. gdb shows the close message drained from
    /// the socket but never turned into a GDK event. That fits GTK waiting for the
    /// ConfigureNotify that answers a resize request of its own: a window manager always
    /// answers one (ICCCM 4.1.5), X does not when the size asked for is the size the window
    /// has. Before pressing again, the window is therefore made a pixel wider, which gives it a
    /// real ConfigureNotify; this was seen to end the wait. The wait is 60 s, as CI once
    /// needed more than 30.
    pub async fn close_window_until_gone(&self, title: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut first = true;
        loop {
            if !std::mem::take(&mut first) {
                self.widen(title);
            }
            self.close_window(title).await;
            let pressed = Instant::now();
            while pressed.elapsed() < Duration::from_secs(2) {
                if self.window_id(title).is_none() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            assert!(Instant::now() < deadline, "window {title:?} never closed");
        }
    }

    /// Makes the window titled like `title`, if still shown, one pixel wider.
    fn widen(&self, title: &str) {
        use x11rb::connection::Connection;
        use x11rb::protocol::xproto::{ConfigureWindowAux, ConnectionExt};
        let Some(window) = self.window_id(title) else {
            return;
        };
        let (conn, _) = x11rb::connect(Some(&self.display.name)).expect("connect to Xvfb");
        // Gone meanwhile: nothing to widen.
        let Ok(g) = conn.get_geometry(window).unwrap().reply() else {
            return;
        };
        let wider = ConfigureWindowAux::new().width(u32::from(g.width) + 1);
        conn.configure_window(window, &wider).unwrap();
        conn.flush().unwrap();
    }

    /// The X id of the first shown window whose title matches `title` (a regular expression).
    fn window_id(&self, title: &str) -> Option<u32> {
        let out = Command::new("xdotool")
            .args(["search", "--onlyvisible", "--name", title])
            .env("DISPLAY", &self.display.name)
            .output()
            .expect("xdotool runs (`make test` installs it)");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .map(|id| id.parse().unwrap())
    }

    /// Waits until a window titled like `title` is shown (true) or gone (false).
    pub async fn wait_window(&self, title: &str, shown: bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if self.window_id(title).is_some() == shown {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "window {title:?} never became {}",
                if shown { "shown" } else { "gone" }
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// A screenshot of the window whose title matches `title` (a regular expression).
    pub async fn screenshot_of(&self, title: &str, name: &str) -> PathBuf {
        // Let the page paint what the last command changed.
        tokio::time::sleep(Duration::from_millis(300)).await;
        let path = crate::artifacts_dir().join(format!("{name}.png"));
        let window = self
            .window_id(title)
            .map_or_else(|| "root".to_owned(), |w| w.to_string());
        let status = Command::new("import")
            .args(["-window", &window, path.to_str().unwrap()])
            .env("DISPLAY", &self.display.name)
            .status()
            .expect("ImageMagick's import runs (`make test` installs it)");
        assert!(
            status.success(),
            "import could not take a screenshot: {status}"
        );
        let png = std::fs::read(&path).unwrap();
        assert!(png.starts_with(b"\x89PNG"), "the screenshot is a PNG");
        path
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        self.kill_driver();
    }

    /// Ends tauri-driver and whatever it started (WebKitWebDriver, the app), once: after the
    /// wait its group's number is free for another.
    fn kill_driver(&mut self) {
        if std::mem::replace(&mut self.ended, true) {
            return;
        }
        // Safety: kill(2) on the group this App started; no memory is involved.
        unsafe { libc::kill(-(self.driver.id() as libc::pid_t), libc::SIGKILL) };
        let _ = self.driver.wait();
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.kill_driver();
    }
}

fn xpath_literal(s: &str) -> String {
    if !s.contains('\'') {
        format!("'{s}'")
    } else {
        format!("concat('{}')", s.replace('\'', "', \"'\", '"))
    }
}

/// The X atom named `name`.
fn intern(conn: &impl x11rb::protocol::xproto::ConnectionExt, name: &str) -> u32 {
    conn.intern_atom(false, name.as_bytes())
        .unwrap()
        .reply()
        .unwrap()
        .atom
}

/// The token table's row of `account` (an XPath).
pub fn token_row(account: &str) -> String {
    format!(
        "//table[contains(@class,'tokens')]//tr[td[normalize-space()={}]]",
        xpath_literal(account)
    )
}
