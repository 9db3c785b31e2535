//! Whether the desktop shows the tray icon now. The icon is built wherever the appindicator
//! library is, yet nothing shows it unless a StatusNotifier host (KDE, GNOME with its
//! AppIndicator extension, most panels) is registered with the watcher, or, with no watcher,
//! an XEmbed tray holds the X11 system-tray selection (the library then falls back to one).
//! Hiding the window into a tray no one shows would leave OAuth Desk running out of sight.

use std::time::Duration;

/// How long the session bus may take to answer. One that takes longer is taken to show the
/// tray, as before this check: quitting stops the agent and the REST API, hiding stops nothing.
const ASK_BUS_FOR: Duration = Duration::from_secs(2);

const WATCHER: &str = "org.kde.StatusNotifierWatcher";

/// Whether a tray shows the icon. Blocks on the session bus (at most `ASK_BUS_FOR`) and the X
/// server: call it off the window's thread.
pub fn shown() -> bool {
    match watcher() {
        Watcher::Hosts(hosts) => hosts,
        Watcher::None => on_x11() && xembed_tray(),
        Watcher::Unknown => true,
    }
}

enum Watcher {
    /// A watcher, and whether a host that shows its items is registered with it.
    Hosts(bool),
    /// No watcher on the bus (or no bus).
    None,
    /// The bus did not answer in time.
    Unknown,
}

/// Asks on a thread of its own, so that a wedged bus costs the wait and no more; the thread
/// ends when the bus answers or its connection fails.
fn watcher() -> Watcher {
    let (tx, rx) = std::sync::mpsc::channel();
    let asking = std::thread::Builder::new()
        .name("tray-host".into())
        .spawn(move || {
            let _ = tx.send(ask_watcher());
        });
    match asking {
        Ok(_) => rx.recv_timeout(ASK_BUS_FOR).unwrap_or(Watcher::Unknown),
        Err(_) => Watcher::Unknown,
    }
}

fn ask_watcher() -> Watcher {
    let asked = zbus::block_on(async {
        let conn = zbus::Connection::session().await?;
        // Asked first, so that the property call below never starts an activatable watcher.
        let has_owner = conn
            .call_method(
                Some("org.freedesktop.DBus"),
                "/org/freedesktop/DBus",
                Some("org.freedesktop.DBus"),
                "NameHasOwner",
                &WATCHER,
            )
            .await?
            .body()
            .deserialize::<bool>()?;
        if !has_owner {
            return Ok(Watcher::None);
        }
        let reply = conn
            .call_method(
                Some(WATCHER),
                "/StatusNotifierWatcher",
                Some("org.freedesktop.DBus.Properties"),
                "Get",
                &(WATCHER, "IsStatusNotifierHostRegistered"),
            )
            .await?;
        let body = reply.body();
        let value: zbus::Variant = body.deserialize()?;
        Ok::<_, zbus::Error>(Watcher::Hosts(bool::try_from(value).unwrap_or(false)))
    });
    asked.unwrap_or_else(|e| {
        tracing::debug!("no StatusNotifier watcher: {e}");
        Watcher::None
    })
}

/// GTK draws the window through X11 when there is no Wayland display, or when told to.
fn on_x11() -> bool {
    std::env::var_os("WAYLAND_DISPLAY").is_none()
        || std::env::var("GDK_BACKEND").is_ok_and(|b| b.starts_with("x11"))
}

/// Whether a program owns `_NET_SYSTEM_TRAY_S<screen>` (the freedesktop system tray spec). The
/// X server is the one the window is drawn on: if it stalls, so does the window.
fn xembed_tray() -> bool {
    use x11rb::protocol::xproto::ConnectionExt;
    let owned = || -> Result<bool, Box<dyn std::error::Error>> {
        let (conn, screen) = x11rb::connect(None)?;
        let name = format!("_NET_SYSTEM_TRAY_S{screen}");
        let atom = conn.intern_atom(true, name.as_bytes())?.reply()?.atom;
        if atom == x11rb::NONE {
            return Ok(false);
        }
        let owner = conn.get_selection_owner(atom)?.reply()?.owner;
        Ok(owner != x11rb::NONE)
    };
    owned().unwrap_or_else(|e| {
        tracing::debug!("no XEmbed tray: {e}");
        false
    })
}
