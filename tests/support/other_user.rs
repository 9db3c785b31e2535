//! Another local user for the trust-boundary tests: the tests run as root, and `setpriv` runs a
//! process as uid 65534 ("nobody"). That user plants folders and sockets where OAuth Desk looks
//! for its own, answers as a fake token agent, or knocks on OAuth Desk's sockets.
//!
//! The processes it runs are small Perl programs (perl-base is part of every Debian system):
//! the real thing, a process of another uid on a real socket, with no helper binary to build.

use std::io::{BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};

pub const NOBODY: u32 = 65534;

/// A command that runs `program` as nobody, without root's groups or capabilities.
pub fn as_nobody(program: &str) -> Command {
    let mut cmd = Command::new("setpriv");
    cmd.args([
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--inh-caps=-all",
        "--",
        program,
    ]);
    cmd
}

/// A scratch folder anybody may write in, as /tmp is (mode 1777).
pub fn shared_tmp() -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("a scratch folder");
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    d
}

/// Makes `dir` as nobody's own folder with `mode`.
pub fn nobodys_dir(dir: &Path, mode: u32) {
    std::fs::create_dir(dir).expect("make the folder");
    std::os::unix::fs::chown(dir, Some(NOBODY), Some(NOBODY))
        .expect("chown (the tests run as root)");
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A fake token agent of nobody's: listens at `socket` and answers every request with `token`.
/// What it was asked is kept, to show whether any name reached it.
pub struct FakeAgent {
    child: Child,
    out: BufReader<ChildStdout>,
}

const FAKE_AGENT: &str = r#"
use IO::Socket::UNIX;
$| = 1;
$SIG{PIPE} = 'IGNORE'; # a client that hangs up unanswered does not end it
my ($path, $token) = @ARGV;
my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Local => $path, Listen => 5)
    or die "listen on $path: $!";
chmod 0777, $path;
print "ready\n";
while (my $c = $s->accept) {
    my $line = <$c>;
    print "asked: $line" if defined $line;
    print $c qq({"token":"$token","code":null,"message":null}\n);
    close $c;
}
"#;

impl FakeAgent {
    /// Starts it as nobody and waits until it listens.
    pub fn start(socket: &Path, token: &str) -> FakeAgent {
        let mut child = as_nobody("perl")
            .args(["-e", FAKE_AGENT])
            .arg(socket)
            .arg(token)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("setpriv and perl run");
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut ready = String::new();
        out.read_line(&mut ready).unwrap();
        assert_eq!(
            ready,
            "ready\n",
            "the fake agent listens at {}",
            socket.display()
        );
        FakeAgent { child, out }
    }

    /// Stops it; what it was asked, one line per request.
    pub fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut asked = String::new();
        let _ = self.out.read_to_string(&mut asked);
        asked
    }
}

const KNOCK: &str = r#"
use IO::Socket::UNIX;
$| = 1;
$SIG{PIPE} = 'IGNORE'; # a server that hangs up first is an answer too
my ($path, $ask) = @ARGV;
my $c = IO::Socket::UNIX->new(Type => SOCK_STREAM(), Peer => $path) or die "connect $path: $!";
print $c "$ask\n";
my $line = <$c>;
print defined $line ? "answer: $line" : "no answer\n";
"#;

/// Connects to `socket` as nobody, sends `line`, and says what came back: `answer: ...` or
/// `no answer`.
pub fn knock(socket: &Path, line: &str) -> String {
    let out = as_nobody("perl")
        .args(["-e", KNOCK])
        .arg(socket)
        .arg(line)
        .stdin(Stdio::null())
        .output()
        .expect("setpriv and perl run");
    assert!(
        out.status.success(),
        "nobody could connect: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
