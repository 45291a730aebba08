"""A gunicorn web worker SIGKILLed in the middle of an admin upload's save.

Staff sign in over HTTP (production settings, behind a TLS proxy as X-Forwarded-Proto says),
upload the corpus's largest transcript, preview it and press save. The moment the save is
seen holding an open write transaction, gunicorn's workers are frozen (SIGSTOP), the one
serving that connection is killed, and the master starts another. Afterwards: the site
answers, everything committed before is unchanged, nothing of the killed save shows, the
same upload goes through again, and the index equals the database once the indexer drained.
"""

import hashlib
import http.client
import json
import re
import select
import uuid
from dataclasses import dataclass
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

import pytest

from .processes import (
    PATIENCE_S,
    check_index,
    frozen,
    gunicorn,
    import_files,
    kill_pid,
    production,
    queue_length,
    role,
    run,
    running,
    socket_owners,
    stop,
    stuck_write_transaction,
    wait_until,
    writer_in_transaction,
)

pytestmark = [pytest.mark.corpus, pytest.mark.slow]

UPLOAD = "/admin/speeches/speech/import/"
SAVE = "/admin/speeches/speech/import/save/"
CHANGE = re.compile(r"^/admin/speeches/speech/(\d+)/change/$")
STAFF, PASSWORD = "editor", "a-long-test-password-9781"
COMMITTED_FIRST = 3


def test_a_worker_killed_while_saving_an_upload_loses_and_half_writes_nothing(
    env, corpus, tmp_path
):
    folder = corpus.folder
    files = sorted(corpus.files, key=lambda f: f.stat().st_size)
    big, data = files[-1], files[-1].read_bytes()
    import_files(env, files[:COMMITTED_FIRST], corpus.metadata)
    run(
        {**env, "DJANGO_SUPERUSER_PASSWORD": PASSWORD},
        "manage.py",
        "createsuperuser",
        "--noinput",
        "--username",
        STAFF,
        "--email",
        "editor@example.org",
    )
    web = production(env)
    log = tmp_path / "gunicorn.log"

    with gunicorn(web, log_path=log) as server, running(env, "manage.py", "run_indexer") as indexer:
        wait_until(lambda: queue_length(env) == 0, what="the indexer to index the first imports")
        before = role(env, "state", folder)
        staff = Staff(server)
        staff.sign_in()

        preview = staff.preview(big.name, data)
        killed = _kill_the_worker_saving(server, env, staff.send_post(SAVE, preview.save_fields()))
        assert killed.stuck, "the save's transaction was over before its worker froze"
        with pytest.raises((ConnectionError, http.client.HTTPException)):
            killed.connection.getresponse()
        wait_until(
            lambda: len(set(server.workers()) - {killed.pid}) == 2,
            what="gunicorn to replace the killed worker",
        )
        # PostgreSQL rolls back once the backend reads the closed connection.
        wait_until(lambda: not writer_in_transaction(env), what="the rollback")

        _assert_unchanged(role(env, "state", folder), before)
        _assert_the_site_answers(staff, before)

        again = staff.preview(big.name, data)
        assert again.paragraphs == preview.paragraphs
        status, headers, _ = staff.post(SAVE, again.save_fields())
        saved = CHANGE.match(headers.get("Location", ""))
        assert status == 302 and saved, (status, headers.get("Location"))
        wait_until(lambda: queue_length(env) == 0, what="the indexer to index the upload")
        indexer_err = stop(indexer)

    final = role(env, "state", folder)
    _assert_saved_whole(final, before, pk=saved.group(1), data=data, preview=preview, name=big.name)
    assert "Traceback" not in indexer_err, indexer_err
    text = log.read_text(errors="replace")
    assert "Traceback" not in text, text[-3000:]
    assert f"Worker (pid:{killed.pid}) was sent SIGKILL" in text, text[-3000:]
    report, consistent = check_index(env)
    assert consistent, report


@dataclass
class Killed:
    connection: http.client.HTTPConnection
    pid: int
    stuck: bool  # frozen inside a write transaction that could no longer commit


def _kill_the_worker_saving(server, env, connection):
    """Wait for the save's write transaction, freeze every worker (none can commit or answer
    meanwhile), and SIGKILL the one holding this client's connection."""
    client_port = connection.sock.getsockname()[1]
    wait_until(
        lambda: writer_in_transaction(env) or _answered(connection),
        what="the save's write transaction",
        interval=0.001,
    )
    with frozen(server.workers()) as workers:
        assert not _answered(connection), "the save was answered before it was seen writing"
        owners = socket_owners(workers, port=urlsplit(server.base).port, peer_port=client_port)
        assert len(owners) == 1, f"workers {workers} holding the connection: {owners}"
        stuck = stuck_write_transaction(env)
        kill_pid(owners[0])
    return Killed(connection, owners[0], stuck)


def _answered(connection):
    return bool(select.select([connection.sock], [], [], 0)[0])


def _assert_the_site_answers(staff, state):
    published = sorted(int(pk) for pk, s in state["speeches"].items() if s["status"] == "published")
    assert len(published) == COMMITTED_FIRST
    for path in ["/", "/speeches/", *(f"/speeches/{pk}/" for pk in published), UPLOAD]:
        status, _, _ = staff.get(path)
        assert status == 200, path
    status, _, body = staff.get("/api/v1/speeches")
    assert status == 200
    listed = json.loads(body)
    assert (listed["count"], sorted(s["id"] for s in listed["results"])) == (
        len(published),
        published,
    )


def _assert_unchanged(after, before):
    left = {pk: s for pk, s in after["speeches"].items() if pk not in before["speeches"]}
    assert not left, f"the killed save left speeches behind: {left}"
    assert not any(after["orphans"].values()), f"the killed save left rows: {after['orphans']}"
    for pk, speech in before["speeches"].items():
        assert after["speeches"].get(pk) == speech, f"committed speech {pk} changed or vanished"
    assert after == before
    assert all(s["numbered"] and s["complete"] for s in after["speeches"].values()), after


def _assert_saved_whole(final, before, *, pk, data, preview, name):
    sha = hashlib.sha256(data).hexdigest()
    for old, speech in before["speeches"].items():
        assert final["speeches"][old] == speech, f"speech {old} changed"
    assert set(final["speeches"]) == {*before["speeches"], pk}
    speech = final["speeches"][pk]
    body = hashlib.sha256("\n\n".join(preview.paragraphs).encode()).hexdigest()
    assert (speech["body"], speech["status"], speech["sources"]) == (body, "published", [sha])
    assert speech["numbered"] and speech["complete"]
    assert final["sources"][sha] == {"speech": int(pk), "name": name, "byte_equal": True}
    assert not any(final["orphans"].values()), final["orphans"]


# A staff member's browser, spoken to in plain HTTP ----------------------------------------


class Staff:
    """Cookies, CSRF tokens, Referer and Origin as a browser sends them, behind the TLS proxy
    production settings expect (X-Forwarded-Proto: https; the cookies are Secure)."""

    def __init__(self, server):
        parts = urlsplit(server.base)
        self.host, self.port = parts.hostname, parts.port
        self.origin = f"https://{self.host}:{self.port}"
        self.cookies = {}

    def sign_in(self):
        login = "/admin/login/?next=/admin/"
        fields = Page(self.get(login)[2]).form(having="username")
        fields.update(username=STAFF, password=PASSWORD)
        status, headers, _ = self.post(login, fields)
        assert (status, headers.get("Location")) == (302, "/admin/"), status
        assert "sessionid" in self.cookies

    def preview(self, filename, data):
        fields = Page(self.get(UPLOAD)[2]).form(having="text")
        status, _, html = self.post(UPLOAD, fields, files={"file": (filename, data)})
        assert status == 200, f"the upload answered {status}, not its preview"
        page = Page(html)
        assert page.paragraphs, "the preview shows no paragraphs"
        return page

    def get(self, path):
        return self.answer(self.send("GET", path))

    def post(self, path, fields, *, files=None):
        return self.answer(self.send_post(path, fields, files=files))

    def send_post(self, path, fields, *, files=None):
        """Send the request; its connection is returned with the answer not yet read."""
        if files:
            body, content_type = _multipart(fields, files)
        else:
            body, content_type = urlencode(fields).encode(), "application/x-www-form-urlencoded"
        headers = {"Content-Type": content_type, "Referer": self.origin + path}
        return self.send("POST", path, body=body, headers={**headers, "Origin": self.origin})

    def send(self, method, path, *, body=None, headers=()):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=PATIENCE_S)
        cookies = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        headers = {"X-Forwarded-Proto": "https", "Cookie": cookies, **dict(headers)}
        connection.request(method, path, body=body, headers=headers)
        return connection

    def answer(self, connection):
        try:
            response = connection.getresponse()
            body = response.read().decode()
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return response.status, response.headers, body


def _multipart(fields, files):
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    for name, (filename, data) in files.items():
        head = (
            f"--{boundary}\r\nContent-Disposition: form-data; "
            f'name="{name}"; filename="{filename}"\r\nContent-Type: text/plain\r\n\r\n'
        )
        parts.append(head.encode() + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class Page(HTMLParser):
    """The fields of a page's forms as a browser would submit them, and the paragraph preview."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.forms, self.paragraphs = [], []
        self._text = self._select = self._item = None
        self.feed(html)
        self.close()

    def form(self, *, having):
        return next(dict(fields) for fields in self.forms if having in fields)

    def save_fields(self):
        # The source names no kind; a reviewer picks one, as the form asks.
        fields = self.form(having="sha256")
        return {**fields, "kind": fields.get("kind") or "报告", "_publish": "1"}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "form":
            self.forms.append({})
        elif tag == "input" and name and attrs.get("type") not in ("submit", "file"):
            self.forms[-1][name] = attrs.get("value") or ""
        elif tag == "textarea":
            self._text = [name, ""]
        elif tag == "select":
            self._select = name
        elif tag == "option" and "selected" in attrs:
            self.forms[-1][self._select] = attrs.get("value") or ""
        elif tag == "ol" and attrs.get("id") == "paragraphs":
            self._item = ""
        elif tag == "li" and self._item is not None:
            self._item = ""

    def handle_data(self, data):
        if self._text is not None:
            self._text[1] += data
        elif self._item is not None:
            self._item += data

    def handle_endtag(self, tag):
        if tag == "textarea" and self._text:
            name, value = self._text
            # Browsers drop the newline right after <textarea>, as Django's widget expects.
            self.forms[-1][name] = value.removeprefix("\n")
            self._text = None
        elif tag == "li" and self._item is not None:
            self.paragraphs.append(self._item)
            self._item = ""
        elif tag == "ol" and self._item is not None:
            self._item = None
