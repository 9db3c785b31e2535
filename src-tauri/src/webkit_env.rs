//! WebKitGTK settings that only the environment reaches: wry builds the `WebKitWebContext`
//! itself and Tauri offers no hook for its construct-only properties.

const MEMORY_MONITOR: &str = "WEBKIT_DISABLE_MEMORY_PRESSURE_MONITOR";

/// Turns WebKit's memory-pressure monitor off, unless the user has set the variable. The monitor
/// is made for a browser of many tabs. Its web-process half reads `/proc/self/smaps` every 30 s,
/// about 13 ms of CPU each time for the token table and more as the page maps more. Its
/// UI-process half (the "PressureMonitor" thread) polls memory every few seconds, 5 to 6 ms a
/// minute. So an idle window never rests: together they were most of its idle minute
/// (`make bench`, `BENCH_THREADS=1`). What the monitor buys is caches released and a runaway
/// page killed near the machine's memory limit. The window's page is our own code and holds a
/// few megabytes; a login window shows a provider's sign-in page for a minute. WebKit reads
/// the variable as it creates its process pool and again for each web process it starts, so it
/// stays set for the whole run, and is set here, before the first webview, with no other
/// thread yet. A program the window starts inherits it: WebKit's own processes, and the system
/// browser when a sign-in moves there (only a WebKitGTK browser, such as Epiphany, started
/// afresh by it, would read it).
pub fn quiet_memory_monitor() {
    if std::env::var_os(MEMORY_MONITOR).is_none() {
        std::env::set_var(MEMORY_MONITOR, "1");
    }
}
