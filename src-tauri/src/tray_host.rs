//! Whether the desktop shows a tray icon now. The icon can be built on any desktop with the
//! appindicator library, yet nothing shows it unless a StatusNotifier host (KDE, GNOME with its
//! AppIndicator extension, most panels) is registered, or, on X11, an XEmbed tray holds the
//! system-tray selection (the library falls back to one). Hiding the window into a tray no one
//! shows would leave OAuth Desk running with no way back to it but the command line.

use std::time::Duration;

/// How long the session bus may take to say: a wedged bus must not keep the window open.
const ASK_BUS_FOR: Duration = Duration::from_secs(2);

/// Whether a tray is there to hold the icon. Blocks on the session bus and the X server: call
/// it off the window's thread.
pub fn present() -> bool {
    status_notifier_host() || (on_x11() && xembed_tray())
}

fn status_notifier_host() -> bool {
    let (tx, rx) = std::sync::mpsc::channel();
    let asking = std::thread::Builder::new()
        .name("tray-host".into())
        .spawn(move || {
            let _ = tx.send(ask_watcher());
        });
    asking.is_ok() && rx.recv_timeout(ASK_BUS_FOR).unwrap_or(false)
}

/// The StatusNotifierWatcher's word on whether a host shows its items.
fn ask_watcher() -> bool {
    let asked = zbus::block_on(async {
        let conn = zbus::Connection::session().await?;
        let reply = conn
            .call_method(
                Some("org.kde.StatusNotifierWatcher"),
                "/StatusNotifierWatcher",
                Some("org.freedesktop.DBus.Properties"),
                "Get",
                &(
                    "org.kde.StatusNotifierWatcher",
                    "IsStatusNotifierHostRegistered",
                ),
            )
            .await?;
        let body = reply.body();
        let value: zbus::Variant = body.deserialize()?;
        Ok::<_, zbus::Error>(bool::try_from(value).unwrap_or(false))
    });
    match asked {
        Ok(registered) => registered,
        Err(e) => {
            tracing::debug!("no StatusNotifier host: {e}");
            false
        }
    }
}

/// GTK draws the window through X11 when there is no Wayland display, or when told to.
fn on_x11() -> bool {
    std::env::var_os("WAYLAND_DISPLAY").is_none()
        || std::env::var("GDK_BACKEND").is_ok_and(|b| b.starts_with("x11"))
}

/// Whether a program owns `_NET_SYSTEM_TRAY_S<screen>` (the freedesktop system tray spec).
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
