//! A real notification service for the tests: dunst (Debian's `dunst`) on the test's D-Bus
//! session and X display, keeping each notification until it is acted on; and dbus-monitor
//! recording what OAuth Desk asked it to show (org.freedesktop.Notifications.Notify).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::session::Session;

pub struct Notices {
    daemon: Child,
    monitor: Child,
    log: PathBuf,
    session_env: Vec<(String, String)>,
    display: String,
}

impl Notices {
    pub fn start(session: &Session, display: &str) -> Notices {
        let dir = session.home().join("notices");
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("dunstrc");
        // Shown until acted on: the test chooses the action.
        std::fs::write(
            &config,
            "[global]\nfont = DejaVu Sans 10\n[urgency_low]\ntimeout = 0\n[urgency_normal]\ntimeout = 0\n[urgency_critical]\ntimeout = 0\n",
        )
        .unwrap();
        let env = session.env();
        let daemon = Command::new("dunst")
            .arg("-config")
            .arg(&config)
            .envs(env.clone())
            .env("DISPLAY", display)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dunst runs (apt package dunst; `make test` installs it)");
        let log = dir.join("notify.log");
        let monitor = Command::new("dbus-monitor")
            .args([
                "--session",
                "type='method_call',interface='org.freedesktop.Notifications',member='Notify'",
            ])
            .envs(env.clone())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-monitor runs (apt package dbus)");
        let n = Notices {
            daemon,
            monitor,
            log,
            session_env: env,
            display: display.to_owned(),
        };
        // Up once it answers on the bus.
        let deadline = Instant::now() + Duration::from_secs(10);
        while !n.dunstctl(&["count"]).status.success() {
            assert!(Instant::now() < deadline, "dunst did not come up");
            std::thread::sleep(Duration::from_millis(100));
        }
        n
    }

    fn dunstctl(&self, args: &[&str]) -> std::process::Output {
        Command::new("dunstctl")
            .args(args)
            .envs(self.session_env.clone())
            .env("DISPLAY", &self.display)
            .output()
            .expect("dunstctl runs")
    }

    /// What the notifications asked so far say (their strings, as dbus-monitor prints them).
    pub fn said(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until a notification has said `text`.
    pub fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let said = self.said();
            if said.contains(text) {
                return said;
            }
            assert!(
                Instant::now() < deadline,
                "no notification said {text:?}:\n{said}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Closes every notification shown, as a person dismisses them.
    pub fn dismiss_all(&self) {
        let out = self.dunstctl(&["close-all"]);
        assert!(out.status.success(), "dunstctl close-all: {out:?}");
    }

    /// Clicks the newest notification shown, as a person does: its default action.
    pub fn click(&self) {
        let out = self.dunstctl(&["action", "0"]);
        assert!(out.status.success(), "dunstctl action: {out:?}");
    }
}

impl Drop for Notices {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
        let _ = self.monitor.kill();
        let _ = self.monitor.wait();
    }
}
