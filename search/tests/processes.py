"""Real processes for the tests that need them: gunicorn, the indexer, imports, rebuilds.

They share a database they can all open: a fresh SQLite file, or, when the suite runs on
PostgreSQL, the live test database (tests use `transactional_db`, so that what the processes
commit is theirs to see and is flushed afterwards). Roles that read that database from a
child process: `python -m search.tests.processes ROLE`.
"""

import contextlib
import fcntl
import hashlib
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import django
from django.conf import settings
from django.db import connection

from .ports import children, free_port

ROOT = settings.BASE_DIR
# A guard against a hang, never a measurement: every step normally takes seconds.
PATIENCE_S = 180


def database_url(tmp_path):
    """(URL, needs_migrate): a fresh SQLite file, or the live PostgreSQL test database."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'archive.sqlite3'}", True
    return (
        f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or 'localhost'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}",
        False,
    )


def environment(tmp_path):
    """The environment of one test's processes (dev settings), its database migrated."""
    url, needs_migrate = database_url(tmp_path)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.dev",
        "ARCHIVE_DATA_DIR": str(tmp_path / "data"),
        "DATABASE_URL": url,
        "ARCHIVE_SEARCH_RATE": "0",
        # Lines reach the test as they are written, not when a pipe buffer fills.
        "PYTHONUNBUFFERED": "1",
    }
    if needs_migrate:
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        run(env, "manage.py", "migrate", "-v0")
    return env


def production(env):
    """The same processes under production settings, as gunicorn serves them."""
    prod = {
        **env,
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "DJANGO_SECRET_KEY": "test-only-not-secret-" + "x" * 40,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
    }
    run(prod, "manage.py", "collectstatic", "--noinput", "-v0")
    return prod


def sqlite_path(env):
    url = env["DATABASE_URL"]
    return Path(url.removeprefix("sqlite:///")) if url.startswith("sqlite:") else None


def index_path(env):
    return Path(env["ARCHIVE_DATA_DIR"]) / "whoosh_index"


def run(env, *args, check=True, timeout=PATIENCE_S):
    args = [str(arg) for arg in args]
    proc = subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and proc.returncode:
        raise AssertionError(f"{' '.join(args)} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return proc


def run_expect_fail(env, *args):
    proc = run(env, *args, check=False)
    assert proc.returncode != 0, f"{' '.join(args)} should have failed:\n{proc.stdout}"
    return proc.stderr


def start(env, *args, **kwargs):
    kwargs.setdefault("stdout", subprocess.PIPE)
    kwargs.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen(
        [sys.executable, *(str(arg) for arg in args)], cwd=ROOT, env=env, **kwargs
    )


def stop(proc, *, timeout=30):
    """Ask a child to exit (SIGTERM), kill it if it has not; returns its stderr."""
    proc.terminate()
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return err.decode(errors="replace") if isinstance(err, bytes) else err or ""


def kill(proc):
    """SIGKILL: no handler, no cleanup, as when the machine or the OOM killer takes it."""
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def kill_pid(pid):
    """SIGKILL a process this test started indirectly (an orphaned helper), if still there."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def alive(pid):
    """Whether `pid` runs still: a zombie (dead, not yet reaped) does not count."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"


def import_files(env, files, metadata, *, background=False, check=True):
    """`import_transcripts` of `files`, published with their metadata: run, or started."""
    args = ("manage.py", "import_transcripts", *files, "--publish", "--metadata", metadata)
    return start(env, *args) if background else run(env, *args, check=check)


@contextlib.contextmanager
def running(env, *args):
    """A long-lived child (run_indexer), stopped at the end; yields the Popen."""
    proc = start(env, *args)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            stop(proc)


class Lines:
    """Collects a child's output lines in a thread, so that a test can wait for one."""

    def __init__(self, stream):
        self.lines, self.closed, self._changed = [], False, threading.Condition()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream):
        # Progress bars end their updates with \r, not \n.
        buffer = b""
        while chunk := stream.read1(65536):
            buffer += chunk.replace(b"\r", b"\n")
            *complete, buffer = buffer.split(b"\n")
            with self._changed:
                self.lines += [line.decode(errors="replace") for line in complete]
                self._changed.notify_all()
        with self._changed:
            self.lines.append(buffer.decode(errors="replace"))
            self.closed = True
            self._changed.notify_all()

    def wait_for(self, predicate, *, what):
        """Block until predicate(lines) is true; fails if the stream ends first."""
        with self._changed:
            ok = self._changed.wait_for(
                lambda: predicate(self.lines) or self.closed, timeout=PATIENCE_S
            )
            if not ok or not predicate(self.lines):
                raise AssertionError(f"never saw {what}; output:\n" + "\n".join(self.lines[-20:]))

    def wait_closed(self):
        self.wait_for(lambda lines: self.closed, what="the end of the output")


_CREATED = re.compile(r"新建 #(\d+)")


def created_ids(lines):
    """The ids import_transcripts reports as created (it prints a line after each commit)."""
    return [int(m.group(1)) for line in lines if (m := _CREATED.search(line))]


def wait_until(condition, *, what, interval=0.2):
    deadline = time.monotonic() + PATIENCE_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(interval)


# The database and the index, seen from outside the processes that write them ------------


def writer_in_transaction(env):
    """Whether some process holds an open write transaction on the database right now."""
    path = sqlite_path(env)
    if path is None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
            )
            return cursor.fetchone()[0] > 0
    probe = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return True
    else:
        probe.execute("ROLLBACK")
        return False
    finally:
        probe.close()


def index_writer_busy(env):
    """Whether some process holds the index's writer lock (search/backend.py)."""
    with open(f"{index_path(env)}.writer.lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def role(env, name, *args):
    """Run a role of this module in a child process; returns what it printed, as JSON."""
    out = run(env, "-m", "search.tests.processes", name, *map(str, args)).stdout
    return json.loads(out.strip().splitlines()[-1])


def queue_length(env):
    return role(env, "queue")


def check_index(env, *flags):
    """check_search_index's output and whether it found the index equal to the database."""
    proc = run(env, "manage.py", "check_search_index", *flags, check=False)
    return proc.stdout + proc.stderr, proc.returncode == 0 and "索引与数据库一致" in proc.stdout


# gunicorn and a database link that can be cut ---------------------------------------------


class Server:
    def __init__(self, proc, port):
        self.proc, self.base = proc, f"http://127.0.0.1:{port}"

    def get(self, path, *, timeout=60):
        """(status, headers, body) of a GET; error statuses are answers too."""
        try:
            with urllib.request.urlopen(self.base + path, timeout=timeout) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def workers(self):
        return children(self.proc.pid)

    def restart_workers(self):
        """New workers (SIGHUP), as after a deploy: they start with no database connection."""
        old = set(self.workers())
        self.proc.send_signal(signal.SIGHUP)
        wait_until(
            lambda: not old & set(self.workers()) and len(self.workers()) == len(old),
            what="gunicorn to replace its workers",
        )
        self._wait_answering()

    def _wait_answering(self):
        def answering():
            assert self.proc.poll() is None, f"gunicorn exited {self.proc.returncode}"
            try:
                self.get("/robots.txt", timeout=5)
            except OSError:
                return False
            return True

        wait_until(answering, what="gunicorn to answer")


@contextlib.contextmanager
def gunicorn(env, *, log_path, workers=2):
    port = free_port()
    with open(log_path, "ab") as log:
        proc = start(
            env,
            "-m",
            "gunicorn",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "120",
            "config.wsgi:application",
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Server(proc, port)
    try:
        server._wait_answering()
        yield server
    finally:
        stop(proc)


class TcpProxy:
    """A loopback relay in front of the database server, which a test can cut and restore.

    Cut, it closes every relayed connection (a client sees the server vanish mid-session)
    and closes new ones as soon as they arrive (connecting fails at once).
    """

    def __init__(self, host, port):
        self.target = (host, int(port))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.up, self.open, self.closed = True, set(), False
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                server = socket.create_connection(self.target) if self.up else None
            except OSError:
                server = None
            with self.lock:
                if server is None or not self.up:
                    _close(client, server)
                    continue
                self.open |= {client, server}
            for source, sink in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with self.lock:
                self.open -= {source, sink}
            _close(source, sink)

    def cut(self):
        with self.lock:
            self.up = False
            links, self.open = self.open, set()
        _close(*links)

    def restore(self):
        self.up = True

    def close(self):
        self.closed = True
        self.cut()
        self.listener.close()


def _close(*sockets):
    for sock in sockets:
        if sock is None:
            continue
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()


# A web worker frozen and killed in the middle of a request --------------------------------


def socket_owners(pids, *, port, peer_port):
    """Which of `pids` hold the accepted TCP connection from `peer_port` to their `port`."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote = (int(end.rsplit(":", 1)[1], 16) for end in fields[1:3])
            if (local, remote) == (port, peer_port):
                inodes.add(f"socket:[{fields[9]}]")
    owners = []
    for pid in pids:
        with contextlib.suppress(OSError):
            if any(os.readlink(fd) in inodes for fd in Path(f"/proc/{pid}/fd").iterdir()):
                owners.append(pid)
    return owners


@contextlib.contextmanager
def frozen(pids):
    """SIGSTOP these processes for the block, so that none can finish what it is doing;
    those still alive afterwards go on (SIGCONT)."""
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield pids
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


def stuck_write_transaction(env):
    """With the writers frozen: whether a write transaction is open that cannot commit now.

    SQLite: the frozen writer holds the write lock, and only it could commit. PostgreSQL: the
    backend must wait for its frozen client ('idle in transaction'); a backend still running
    a statement may be running the COMMIT the client sent just before it froze.
    """
    if sqlite_path(env) is not None:
        return writer_in_transaction(env)

    def states():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT state FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
            )
            return [state for (state,) in cursor.fetchall()]

    wait_until(
        lambda: all(s == "idle in transaction" for s in states()),
        what="the open transaction to wait for its client",
        interval=0.01,
    )
    return bool(states())


# Roles, run in a child process against the test's database ------------------------------


def _queue():
    from search.models import IndexTask

    return IndexTask.objects.count()


def _touch(*pks):
    """Save these speeches again: each queues an index task and makes its entry stale."""
    from speeches import services
    from speeches.models import Speech

    for speech in Speech.objects.filter(pk__in=pks):
        services.touch(speech=speech)
    return len(pks)


def _state(source_dir):
    """Every speech, source file and row that belongs to nothing, checked against the files
    in `source_dir` the speeches were imported from."""
    from search.models import IndexTask
    from speeches.models import Event, Organization, Person, SourceFile, Speech

    sources = {}
    for source in SourceFile.objects.order_by("pk"):
        stored = Path(settings.MEDIA_ROOT) / source.stored_path
        data = stored.read_bytes() if stored.is_file() else None
        sources[source.sha256] = {
            "speech": source.speech_id,
            "name": source.original_name,
            "byte_equal": data is not None
            and hashlib.sha256(data).hexdigest() == source.sha256
            and len(data) == source.size
            and data == (Path(source_dir) / source.original_name).read_bytes(),
        }
    speeches = {}
    for speech in Speech.objects.prefetch_related("paragraphs", "source_files"):
        paragraphs = list(speech.paragraphs.all())
        texts = [p.text for p in paragraphs]
        files = list(speech.source_files.all())
        speeches[speech.pk] = {
            "title": speech.title,
            "status": speech.status,
            "body": hashlib.sha256("\n\n".join(texts).encode()).hexdigest(),
            "numbered": [p.position for p in paragraphs] == list(range(1, len(texts) + 1)),
            "complete": bool(files) and texts == _expected_paragraphs(files[0]),
            "sources": sorted(f.sha256 for f in files),
        }
    live = Speech.objects.values("pk")
    return {
        "speeches": speeches,
        "sources": sources,
        "orphans": {
            "source files without a speech": SourceFile.objects.filter(speech=None).count(),
            "speeches without a source file": Speech.objects.filter(source_files=None).count(),
            "people without a speech": Person.objects.filter(speeches=None).count(),
            "events without a speech": Event.objects.filter(speeches=None).count(),
            "organizations without a speech": Organization.objects.filter(
                speeches=None, organized_events=None
            ).count(),
            "index tasks of no speech": IndexTask.objects.exclude(speech_id__in=live).count(),
        },
    }


def _expected_paragraphs(source):
    """The body an import of this file makes, parsed again from the kept original."""
    from speeches.importing.decoding import decode_upload
    from speeches.importing.parsing import parse_transcript
    from speeches.services import merge_fields

    data = (Path(settings.MEDIA_ROOT) / source.stored_path).read_bytes()
    parsed = parse_transcript(decode_upload(data=data, filename=source.original_name).text)
    return merge_fields(parsed=parsed, metadata={}, filename=source.original_name)["paragraphs"]


ROLES = {"queue": _queue, "touch": _touch, "state": _state}

if __name__ == "__main__":
    django.setup()
    name, *arguments = sys.argv[1:]
    print(json.dumps(ROLES[name](*arguments), ensure_ascii=False))
