"""A Hugging Face Hub-protocol server on loopback, for tests.

The unmodified ``huggingface_hub`` client (2.x, legacy HTTP/LFS transfer: no Xet) can create repos,
push (``upload_file``, ``upload_folder``, ``create_commit``, ``push_to_hub``) and pull
(``hf_hub_download``, ``snapshot_download``, ``model_info``, ``list_repo_files``...) against it.

Usage in a test (the fixtures are registered by ``pytest_plugins = ["tests.hub_server"]`` in
``tests/conftest.py``)::

    def test_roundtrip(hub_env, tmp_path):
        from huggingface_hub import HfApi, hf_hub_download
        repo_id = hub_env.repo_id("demo")               # "test-user/demo-<unique>"
        api = HfApi()                                   # endpoint/token come from the patched env
        api.create_repo(repo_id, exist_ok=True)
        api.upload_folder(folder_path=tmp_path / "model", repo_id=repo_id)
        path = hf_hub_download(repo_id, "config.json")

``hub_server`` (session) starts one server per test session; ``hub_env`` (per test) points the
client at it and gives the test a fresh, empty cache. Repos live on the server for the whole
session, so use a unique repo name per test (e.g. ``hub_env.repo_id("my-test")``).
The server records every request as ``(method, path)`` in ``hub_server.requests``.

``hub_env`` sets HF_ENDPOINT, HF_HUB_DISABLE_XET=1, HF_HUB_OFFLINE=0, HF_TOKEN, HF_HOME and
HF_HUB_CACHE, and, because ``huggingface_hub`` reads them once at import time, also patches
``huggingface_hub.constants`` (ENDPOINT, HUGGINGFACE_CO_URL_TEMPLATE, HF_HUB_DISABLE_XET,
HF_HUB_OFFLINE, the cache/token paths, HF_URL_HOSTS) and the endpoint of the module-level ``HfApi``
behind ``huggingface_hub.create_repo``/``upload_folder``/... (``huggingface_hub.hf_api.api``).
An ``HfApi`` created *before* the fixture ran keeps its old endpoint: create clients inside tests.

Standalone: ``python -m tests.hub_server [port]`` serves until interrupted.

What the server implements (paths as the client sends them; ``{repo}`` is ``ns/name`` and
``{type}`` is ``models``, ``datasets`` or ``spaces``):

* ``POST /api/repos/create`` (409 if it exists, which ``exist_ok=True`` accepts), ``DELETE /api/repos/delete``
* ``GET /api/whoami-v2`` (any bearer token is a valid ``test-user`` token), ``POST /api/validate-yaml``
* ``GET /api/{type}`` (``list_models``: filter by tag, search, author, limit)
* ``GET /api/{type}/{repo}`` and ``.../revision/{rev}``: repo info with ``sha`` and ``siblings``
  (``?blobs=true`` adds size, blobId and lfs)
* ``GET /api/{type}/{repo}/tree/{rev}[/{path}]`` (``recursive``; cursor pagination through a
  ``Link: <...>; rel="next"`` header, page size ``HubServer.tree_page_size``),
  ``POST .../paths-info/{rev}``, ``GET .../refs``, ``GET .../commits/{rev}``
* ``POST /api/{type}/{repo}/preupload/{rev}``: ``lfs`` when the path matches an ``filter=lfs``
  pattern of the revision's ``.gitattributes`` (every new repo gets the usual Hub default one in
  an initial commit), when the file is >= 10 MiB, or when its first 512 bytes contain a NUL byte;
  ``regular`` otherwise
* ``POST /{repo}.git/info/lfs/objects/batch`` (basic transfer; upload + verify actions pointing at
  ``PUT /{repo}.git/info/lfs/objects/{sha256}`` and ``POST /{repo}.git/info/lfs/objects/verify``)
* ``POST /api/{type}/{repo}/commit/{branch}``: NDJSON with header/file/lfsFile/deletedFile/deletedFolder
  (honours ``parentCommit`` with 412; ``create_pr`` is refused)
* ``GET|HEAD /{repo}/resolve/{rev}/{path}``: content served directly (no CDN redirect), ``Range``
  supported, with ``X-Repo-Commit``, quoted ``ETag`` (git blob id), and for LFS files
  ``X-Linked-Etag`` (quoted sha256) and ``X-Linked-Size``; 404s carry ``X-Error-Code``
  (``RepoNotFound``, ``RevisionNotFound``, ``EntryNotFound``) which the client maps to its exceptions.

Write endpoints answer 401 without an ``Authorization: Bearer <anything>`` header (like the Hub;
``HubServer(require_token_for_writes=False)`` turns that off); reads need no token.
Revisions: branch names (only ``main`` exists) and full 40-hex commit shas. Datasets/spaces use the
same code with their URL prefixes, but only models are exercised by the tests.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from fnmatch import fnmatchcase
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator
from urllib.parse import parse_qs, quote, unquote, urlencode

import pytest

DEFAULT_USER = "test-user"
DEFAULT_TOKEN = "hf_loopback_test_token"
LFS_SIZE_THRESHOLD = 10 * 1024 * 1024  # files this big always go through LFS
DEFAULT_GITATTRIBUTES = "".join(
    f"{pattern} filter=lfs diff=lfs merge=lfs -text\n"
    for pattern in (
        "*.7z *.arrow *.bin *.bz2 *.ckpt *.ftz *.gz *.h5 *.joblib *.lfs.* *.mlmodel *.model *.msgpack *.npy "
        "*.npz *.onnx *.ot *.parquet *.pb *.pickle *.pkl *.pt *.pth *.rar *.safetensors saved_model/**/* "
        "*.tar.* *.tar *.tflite *.tgz *.wasm *.xz *.zip *.zst *tfevents*"
    ).split()
)
TYPE_BY_PLURAL = {"models": "model", "datasets": "dataset", "spaces": "space"}
URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
SHA1_RE = re.compile(r"[0-9a-f]{40}")
SHA256_RE = re.compile(r"[0-9a-f]{64}")


def git_blob_id(data: bytes) -> str:
    """The git object id of a blob with this content."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# ---- storage -----------------------------------------------------------------------------------


class HubError(Exception):
    """An error answered to the client: status, optional X-Error-Code, message (and extra headers)."""

    def __init__(
        self, status: int, message: str, code: str | None = None, headers: dict | None = None, body: dict | None = None
    ):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}
        self.body = body or {}


@dataclass(frozen=True)
class Entry:
    """A file in a commit: its content is the object ``sha256`` in the store; ``oid`` is its git blob id
    (for LFS files, the blob id of the LFS pointer), as the Hub reports it."""

    sha256: str
    size: int
    lfs: bool
    oid: str

    @classmethod
    def regular(cls, sha256: str, data: bytes) -> "Entry":
        return cls(sha256, len(data), False, git_blob_id(data))

    @classmethod
    def large(cls, sha256: str, size: int) -> "Entry":
        return cls(sha256, size, True, git_blob_id(lfs_pointer(sha256, size)))

    def tree_json(self, path: str) -> dict:
        item = {"type": "file", "oid": self.oid, "size": self.size, "path": path}
        if self.lfs:
            item["lfs"] = {
                "oid": self.sha256,
                "size": self.size,
                "pointerSize": len(lfs_pointer(self.sha256, self.size)),
            }
        return item


@dataclass
class Commit:
    sha: str
    parent: str | None
    title: str
    message: str
    date: float
    files: dict[str, Entry]


@dataclass
class Repo:
    repo_type: str
    repo_id: str
    private: bool
    created: float
    refs: dict[str, str] = field(default_factory=dict)  # branch -> commit sha
    commits: dict[str, Commit] = field(default_factory=dict)


class HubStore:
    """Repos with git-like commits; file contents are content-addressed objects on disk."""

    def __init__(self, root: Path):
        self.root = Path(root)
        (self.root / "objects").mkdir(parents=True, exist_ok=True)
        self.repos: dict[tuple[str, str], Repo] = {}
        self.lock = threading.RLock()

    # objects
    def object_path(self, sha256: str) -> Path:
        return self.root / "objects" / sha256[:2] / sha256[2:]

    def has_object(self, sha256: str, size: int | None = None) -> bool:
        path = self.object_path(sha256)
        return path.is_file() and (size is None or path.stat().st_size == size)

    def put_bytes(self, data: bytes) -> str:
        sha256 = hashlib.sha256(data).hexdigest()
        if not self.has_object(sha256):
            self._install(sha256, lambda f: f.write(data))
        return sha256

    def put_stream(self, expected_sha256: str, chunks: Iterator[bytes]) -> int:
        """Store an upload, checking that its sha256 is the announced one. Returns its size."""
        digest, size = hashlib.sha256(), 0

        def write(f):
            nonlocal size
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                f.write(chunk)
            if digest.hexdigest() != expected_sha256:
                raise HubError(400, f"uploaded content has sha256 {digest.hexdigest()}, expected {expected_sha256}")

        self._install(expected_sha256, write)
        return size

    def _install(self, sha256: str, write) -> None:
        path = self.object_path(sha256)
        path.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as f:
                write(f)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise

    # repos and revisions
    def create_repo(self, repo_type: str, repo_id: str, private: bool) -> bool:
        """Create with an initial commit holding the default .gitattributes; False if it exists."""
        with self.lock:
            if (repo_type, repo_id) in self.repos:
                return False
            repo = Repo(repo_type, repo_id, private, time.time())
            self.repos[(repo_type, repo_id)] = repo
            data = DEFAULT_GITATTRIBUTES.encode()
            files = {".gitattributes": Entry.regular(self.put_bytes(data), data)}
            self._add_commit(repo, "main", files, "initial commit", "")
            return True

    def delete_repo(self, repo_type: str, repo_id: str) -> None:
        with self.lock:
            if self.repos.pop((repo_type, repo_id), None) is None:
                raise HubError(404, f"Repository {repo_id} not found", "RepoNotFound")

    def repo(self, repo_type: str, repo_id: str) -> Repo:
        with self.lock:
            try:
                return self.repos[(repo_type, repo_id)]
            except KeyError:
                raise HubError(404, f"Repository {repo_id} not found", "RepoNotFound") from None

    def resolve(self, repo: Repo, revision: str) -> Commit:
        with self.lock:
            sha = repo.refs.get(revision) or (revision if SHA1_RE.fullmatch(revision) else None)
            if sha is None or sha not in repo.commits:
                raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
            return repo.commits[sha]

    def lfs_patterns(self, commit: Commit) -> list[str]:
        entry = commit.files.get(".gitattributes")
        if entry is None:
            return []
        text = self.object_path(entry.sha256).read_text(errors="replace")
        return [
            line.split()[0]
            for line in text.splitlines()
            if line.strip() and not line.startswith("#") and "filter=lfs" in line.split()[1:]
        ]

    def is_lfs(self, commit: Commit, path: str, size: int, sample: bytes) -> bool:
        if size >= LFS_SIZE_THRESHOLD or b"\0" in sample:
            return True
        for pattern in self.lfs_patterns(commit):
            if "/" in pattern.rstrip("/"):
                if fnmatchcase(path, pattern.lstrip("/")):
                    return True
            elif fnmatchcase(path.rsplit("/", 1)[-1], pattern):
                return True
        return False

    def commit(
        self, repo: Repo, branch: str, operations: list[dict], title: str, message: str, parent: str | None
    ) -> Commit:
        with self.lock:
            if branch not in repo.refs:
                raise HubError(404, f"Invalid rev id: {branch}", "RevisionNotFound")
            head = repo.commits[repo.refs[branch]]
            if parent is not None and parent != head.sha:
                raise HubError(412, f"A commit has happened since. Parent commit {parent} is not {head.sha}")
            files = dict(head.files)
            for op in operations:
                key, value = op.get("key"), op.get("value") or {}
                path = value.get("path", "").strip("/")
                if not path:
                    raise HubError(400, f"operation {key} has no path")
                if key == "file":
                    data = (
                        base64.b64decode(value["content"])
                        if value.get("encoding") == "base64"
                        else value["content"].encode()
                    )
                    files[path] = Entry.regular(self.put_bytes(data), data)
                elif key == "lfsFile":
                    oid = value.get("oid", "")
                    if not self.has_object(oid):
                        raise HubError(400, f"LFS object {oid} for {path} was never uploaded")
                    files[path] = Entry.large(oid, self.object_path(oid).stat().st_size)
                elif key == "deletedFile":
                    if files.pop(path, None) is None:
                        raise HubError(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
                elif key == "deletedFolder":
                    doomed = [p for p in files if p.startswith(path + "/")]
                    if not doomed:
                        raise HubError(404, f"A folder with this name doesn't exist: {path}", "EntryNotFound")
                    for p in doomed:
                        del files[p]
                else:
                    raise HubError(400, f"unknown commit operation {key!r}")
            return self._add_commit(repo, branch, files, title, message)

    def _add_commit(self, repo: Repo, branch: str, files: dict[str, Entry], title: str, message: str) -> Commit:
        parent = repo.refs.get(branch)
        date = time.time()
        tree = json.dumps(sorted((p, e.sha256, e.lfs) for p, e in files.items()))
        sha = hashlib.sha1(
            f"{parent}\n{tree}\n{title}\n{message}\n{time.time_ns()}\n{len(repo.commits)}".encode()
        ).hexdigest()
        commit = Commit(sha, parent, title, message, date, files)
        repo.commits[sha] = commit
        repo.refs[branch] = sha
        record = {
            "sha": sha,
            "parent": parent,
            "title": title,
            "message": message,
            "date": iso(date),
            "files": {p: {"sha256": e.sha256, "size": e.size, "lfs": e.lfs} for p, e in files.items()},
        }
        commits_dir = self.root / "repos" / repo.repo_type / repo.repo_id / "commits"
        commits_dir.mkdir(parents=True, exist_ok=True)
        (commits_dir / f"{sha}.json").write_text(json.dumps(record, indent=1))
        (commits_dir.parent / "refs.json").write_text(json.dumps(repo.refs, indent=1))
        return commit


# ---- HTTP --------------------------------------------------------------------------------------

_REPO = r"(?P<ns>[^/]+)/(?P<name>[^/]+?)"
_API = r"/api/(?P<plural>models|datasets|spaces)/" + _REPO
_GIT = r"/(?P<prefix>datasets/|spaces/)?" + _REPO + r"\.git/info/lfs/objects"
ROUTES: list[tuple[str, re.Pattern, str]] = [
    (m, re.compile(p + r"$"), h)
    for m, p, h in [
        ("POST", r"/api/repos/create", "create_repo"),
        ("DELETE", r"/api/repos/delete", "delete_repo"),
        ("GET", r"/api/whoami-v2", "whoami"),
        ("POST", r"/api/validate-yaml", "validate_yaml"),
        ("GET", r"/api/(?P<plural>models|datasets|spaces)", "list_repos"),
        ("GET", _API, "repo_info"),
        ("GET", _API + r"/revision/(?P<rev>[^/]+)", "repo_info"),
        ("GET", _API + r"/tree/(?P<rev>[^/]+)(?:/(?P<path>.*))?", "tree"),
        ("POST", _API + r"/paths-info/(?P<rev>[^/]+)", "paths_info"),
        ("GET", _API + r"/refs", "refs"),
        ("GET", _API + r"/commits/(?P<rev>[^/]+)", "commits"),
        ("POST", _API + r"/preupload/(?P<rev>[^/]+)", "preupload"),
        ("POST", _API + r"/commit/(?P<rev>[^/]+)", "commit"),
        ("POST", _GIT + r"/batch", "lfs_batch"),
        ("POST", _GIT + r"/verify", "lfs_verify"),
        ("PUT", _GIT + r"/(?P<oid>[0-9a-f]{64})", "lfs_upload"),
        ("GET", r"/(?P<prefix>datasets/|spaces/)?" + _REPO + r"/resolve/(?P<rev>[^/]+)/(?P<path>.+)", "resolve"),
        ("HEAD", r"/(?P<prefix>datasets/|spaces/)?" + _REPO + r"/resolve/(?P<rev>[^/]+)/(?P<path>.+)", "resolve"),
    ]
]
WRITE_HANDLERS = {"create_repo", "delete_repo", "preupload", "commit", "lfs_batch", "lfs_verify"}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_HTTPServer"

    def log_message(self, format, *args):  # quiet: requests are recorded in HubServer.requests
        pass

    def do_GET(self):
        self._dispatch("GET")

    def do_HEAD(self):
        self._dispatch("HEAD")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    # plumbing
    @property
    def hub(self) -> "HubServer":
        return self.server.hub

    @property
    def store(self) -> HubStore:
        return self.server.hub.store

    @property
    def base(self) -> str:
        return f"http://{self.headers.get('Host') or self.hub.endpoint.split('://', 1)[1]}"

    def _dispatch(self, method: str) -> None:
        raw_path, _, query = self.path.partition("?")
        self.query = parse_qs(query)
        self.hub.requests.append((method, unquote(raw_path)))
        self._body_read = self._responded = False
        try:
            for route_method, pattern, handler in ROUTES:
                match = pattern.match(raw_path) if route_method == method else None
                if match:
                    args = {k: unquote(v) for k, v in match.groupdict().items() if v is not None}
                    if handler in WRITE_HANDLERS and self.hub.require_token_for_writes:
                        self._check_token()
                    getattr(self, "h_" + handler)(**args)
                    break
            else:
                raise HubError(404, f"no route for {method} {raw_path}")
        except HubError as err:
            if self._responded:
                raise
            headers = {"X-Error-Message": err.message.encode("ascii", "backslashreplace").decode(), **err.headers}
            if err.code:
                headers["X-Error-Code"] = err.code
            self._json({"error": err.message, **err.body}, err.status, headers)
        except Exception as err:  # a bug in the server: answer 500 and let socketserver print the traceback
            self.close_connection = True
            if not self._responded:
                self._json({"error": f"hub test server error: {err!r}"}, 500)
            raise

    def _check_token(self) -> None:
        auth = self.headers.get("Authorization", "")
        if not auth.lower().startswith("bearer ") or not auth[7:].strip():
            raise HubError(401, "You must be authenticated (no bearer token sent) to write to the Hub")

    def _iter_body(self) -> Iterator[bytes]:
        self._body_read = True
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            while True:
                size = int(self.rfile.readline(1024).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65536) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return
                while size:
                    chunk = self.rfile.read(min(size, 1 << 20))
                    if not chunk:
                        raise HubError(400, "truncated chunked body")
                    size -= len(chunk)
                    yield chunk
                self.rfile.readline(1024)
        else:
            remaining = int(self.headers.get("Content-Length") or 0)
            while remaining:
                chunk = self.rfile.read(min(remaining, 1 << 20))
                if not chunk:
                    raise HubError(400, "truncated body")
                remaining -= len(chunk)
                yield chunk

    def _read_body(self) -> bytes:
        return b"".join(self._iter_body())

    def _drain_body(self) -> None:
        if not self._body_read:
            try:
                for _ in self._iter_body():
                    pass
            except Exception:
                self.close_connection = True

    def _read_json(self):
        try:
            return json.loads(self._read_body() or b"{}")
        except json.JSONDecodeError as err:
            raise HubError(400, f"invalid JSON body: {err}") from None

    def _send(
        self,
        status: int,
        body: bytes = b"",
        headers: dict | None = None,
        content_type: str = "application/json",
        length: int | None = None,
    ) -> None:
        self._drain_body()
        self._responded = True
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def _json(self, obj, status: int = 200, headers: dict | None = None, content_type="application/json") -> None:
        self._send(status, json.dumps(obj).encode(), headers, content_type)

    def _repo(self, plural: str | None = None, prefix: str | None = None, *, ns: str, name: str) -> Repo:
        repo_type = (
            TYPE_BY_PLURAL[plural]
            if plural
            else {"": "model", "datasets/": "dataset", "spaces/": "space"}[prefix or ""]
        )
        return self.store.repo(repo_type, f"{ns}/{name}")

    def _flag(self, name: str) -> bool:
        return self.query.get(name, ["false"])[-1].lower() in ("1", "true")

    # account
    def h_whoami(self):
        self._check_token()
        self._json(
            {
                "type": "user",
                "id": "0" * 24,
                "name": self.hub.user,
                "fullname": "Test User",
                "email": f"{self.hub.user}@example.com",
                "emailVerified": True,
                "isPro": False,
                "orgs": [],
                "auth": {"type": "access_token", "accessToken": {"displayName": "loopback", "role": "write"}},
            }
        )

    def h_validate_yaml(self):
        self._read_body()
        self._json({"errors": [], "warnings": []})

    # repos
    def _repo_id_from_body(self, body: dict) -> tuple[str, str]:
        if not body.get("name"):
            raise HubError(400, "missing repo name")
        repo_type = body.get("type") or "model"
        if repo_type not in URL_PREFIX:
            raise HubError(400, f"unsupported repo type {repo_type!r}")
        return repo_type, f"{body.get('organization') or self.hub.user}/{body['name']}"

    def h_create_repo(self):
        body = self._read_json()
        repo_type, repo_id = self._repo_id_from_body(body)
        private = bool(body.get("private")) or body.get("visibility") == "private"
        url = f"{self.base}/{URL_PREFIX[repo_type]}{repo_id}"
        if not self.store.create_repo(repo_type, repo_id, private):
            # create_repo(exist_ok=True) accepts the 409 and reads "url" from it
            raise HubError(409, f"You already created this {repo_type} repo: {repo_id}", body={"url": url})
        self._json({"url": url, "name": repo_id, "id": repo_id})

    def h_delete_repo(self):
        self.store.delete_repo(*self._repo_id_from_body(self._read_json()))
        self._send(200)

    def h_repo_info(self, plural, ns, name, rev="main"):
        repo = self._repo(plural, ns=ns, name=name)
        commit = self.store.resolve(repo, rev)
        blobs = self._flag("blobs")
        siblings = []
        for path in sorted(commit.files):
            sibling = {"rfilename": path}
            if blobs:
                entry = commit.files[path]
                item = entry.tree_json(path)
                sibling.update(size=entry.size, blobId=entry.oid)
                if entry.lfs:
                    sibling["lfs"] = {
                        "size": entry.size,
                        "sha256": entry.sha256,
                        "pointerSize": item["lfs"]["pointerSize"],
                    }
            siblings.append(sibling)
        info = {
            "_id": hashlib.sha1(repo.repo_id.encode()).hexdigest()[:24],
            "id": repo.repo_id,
            "author": repo.repo_id.split("/")[0],
            "sha": commit.sha,
            "lastModified": iso(commit.date),
            "createdAt": iso(repo.created),
            "private": repo.private,
            "gated": False,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "siblings": siblings,
            "usedStorage": sum(e.size for e in commit.files.values()),
        }
        if repo.repo_type == "model":
            info["modelId"] = repo.repo_id
        self._json(info)

    def h_list_repos(self, plural):
        """Repo listing with the filters ``HfApi.list_models`` sends: filter (a tag; like the Hub, the
        card's ``library_name`` counts as a tag), search (substring of the id), author, and limit."""
        repo_type = plural[:-1]
        tag, search, author = (self.query.get(k, [None])[0] for k in ("filter", "search", "author"))
        limit = int(self.query.get("limit", ["1000"])[0])
        found = []
        with self.store.lock:
            repos = [r for (t, _), r in sorted(self.store.repos.items()) if t == repo_type and not r.private]
        for repo in repos:
            commit = self.store.resolve(repo, "main")
            library, tags = self._card_tags(commit)
            if (
                (tag and tag not in tags)
                or (search and search.lower() not in repo.repo_id.lower())
                or (author and repo.repo_id.split("/")[0] != author)
            ):
                continue
            found.append(
                {
                    "_id": hashlib.sha1(repo.repo_id.encode()).hexdigest()[:24],
                    "id": repo.repo_id,
                    "modelId": repo.repo_id,
                    "author": repo.repo_id.split("/")[0],
                    "sha": commit.sha,
                    "lastModified": iso(commit.date),
                    "createdAt": iso(repo.created),
                    "private": False,
                    "downloads": 0,
                    "likes": 0,
                    "tags": tags,
                    "library_name": library,
                }
            )
        self._json(found[:limit])

    def _card_tags(self, commit: Commit) -> tuple[str | None, list[str]]:
        """(library_name, tags) from the README's YAML front matter; the library is one of the tags."""
        import yaml

        entry = commit.files.get("README.md")
        text = self.store.object_path(entry.sha256).read_text(errors="replace") if entry else ""
        match = re.match(r"---\s*\n(.*?)\n---", text, re.DOTALL)
        meta = (yaml.safe_load(match.group(1)) if match else None) or {}
        library = meta.get("library_name")
        tags = [str(t) for t in meta.get("tags") or []]
        return library, list(dict.fromkeys(([library] if library else []) + tags))

    def h_refs(self, plural, ns, name):
        repo = self._repo(plural, ns=ns, name=name)
        with self.store.lock:
            branches = [{"name": b, "ref": f"refs/heads/{b}", "targetCommit": sha} for b, sha in repo.refs.items()]
        self._json({"branches": branches, "converts": [], "tags": [], "pullRequests": []})

    def h_commits(self, plural, ns, name, rev):
        repo = self._repo(plural, ns=ns, name=name)
        commit, history = self.store.resolve(repo, rev), []
        while commit is not None:
            history.append(
                {
                    "id": commit.sha,
                    "title": commit.title,
                    "message": commit.message,
                    "authors": [{"user": self.hub.user}],
                    "date": iso(commit.date),
                }
            )
            commit = repo.commits.get(commit.parent) if commit.parent else None
        self._paginated(history, 50)

    # trees
    @staticmethod
    def _folder_json(path: str, files: dict[str, Entry]) -> dict:
        listing = sorted((p, e.oid) for p, e in files.items() if p.startswith(path + "/"))
        return {"type": "directory", "oid": hashlib.sha1(json.dumps(listing).encode()).hexdigest(), "path": path}

    def _tree_items(self, commit: Commit, path: str, recursive: bool) -> list[dict]:
        path = path.strip("/")
        prefix = path + "/" if path else ""
        if path and path in commit.files:
            raise HubError(404, f"{path} is a file, not a directory", "EntryNotFound")
        files, folders = [], set()
        for p in commit.files:
            if not p.startswith(prefix):
                continue
            parts = p[len(prefix) :].split("/")
            if recursive:
                files.append(p)
                folders.update(prefix + "/".join(parts[:i]) for i in range(1, len(parts)))
            elif len(parts) == 1:
                files.append(p)
            else:
                folders.add(prefix + parts[0])
        if path and not files and not folders:
            raise HubError(
                404, f"{path} does not exist at {commit.sha}", "EntryNotFound", {"X-Repo-Commit": commit.sha}
            )
        items = [self._folder_json(f, commit.files) for f in folders]
        items += [commit.files[p].tree_json(p) for p in files]
        return sorted(items, key=lambda item: item["path"])

    def _paginated(self, items: list, page_size: int) -> None:
        try:
            start = int(base64.urlsafe_b64decode(self.query["cursor"][-1]).decode()) if "cursor" in self.query else 0
        except ValueError:
            raise HubError(400, "invalid cursor") from None
        page, headers = items[start : start + page_size], {}
        if start + page_size < len(items):
            params = {k: v[-1] for k, v in self.query.items()}
            params["cursor"] = base64.urlsafe_b64encode(str(start + page_size).encode()).decode()
            headers["Link"] = f'<{self.base}{self.path.partition("?")[0]}?{urlencode(params)}>; rel="next"'
        self._json(page, headers=headers)

    def h_tree(self, plural, ns, name, rev, path=""):
        commit = self.store.resolve(self._repo(plural, ns=ns, name=name), rev)
        items = self._tree_items(commit, path, self._flag("recursive"))
        expand = self._flag("expand")
        if expand:
            for item in items:
                item["lastCommit"] = {"id": commit.sha, "title": commit.title, "date": iso(commit.date)}
        self._paginated(items, min(self.hub.tree_page_size, 50) if expand else self.hub.tree_page_size)

    def h_paths_info(self, plural, ns, name, rev):
        commit = self.store.resolve(self._repo(plural, ns=ns, name=name), rev)
        raw = self._read_body()
        if "json" in self.headers.get("Content-Type", ""):
            paths = json.loads(raw or b"{}").get("paths", [])
        else:
            paths = parse_qs(raw.decode()).get("paths", [])
        out = []
        for path in paths:
            path = path.strip("/")
            if path in commit.files:
                out.append(commit.files[path].tree_json(path))
            elif any(p.startswith(path + "/") for p in commit.files):
                out.append(self._folder_json(path, commit.files))
        self._json(out)

    # push
    def h_preupload(self, plural, ns, name, rev):
        if self._flag("create_pr"):
            raise HubError(400, "create_pr is not supported by the test hub")
        commit = self.store.resolve(self._repo(plural, ns=ns, name=name), rev)
        out = []
        for item in self._read_json().get("files", []):
            path = item["path"].strip("/")
            lfs = self.store.is_lfs(commit, path, int(item.get("size", 0)), base64.b64decode(item.get("sample", "")))
            existing = commit.files.get(path)
            remote_oid = None if existing is None else (existing.sha256 if existing.lfs else existing.oid)
            out.append(
                {
                    "path": item["path"],
                    "uploadMode": "lfs" if lfs else "regular",
                    "shouldIgnore": False,
                    "oid": remote_oid,
                }
            )
        self._json({"files": out, "commitOid": commit.sha})

    def h_lfs_batch(self, ns, name, prefix=None):
        repo = self._repo(prefix=prefix, ns=ns, name=name)
        body = self._read_json()
        if body.get("operation") != "upload":
            raise HubError(400, "the test hub only supports LFS uploads (downloads go through /resolve)")
        href = f"{self.base}/{URL_PREFIX[repo.repo_type]}{repo.repo_id}.git/info/lfs/objects"
        objects = []
        for obj in body.get("objects", []):
            oid, size = obj.get("oid"), obj.get("size")
            if not isinstance(oid, str) or not SHA256_RE.fullmatch(oid) or not isinstance(size, int) or size < 0:
                objects.append(
                    {
                        "oid": str(oid),
                        "size": size if isinstance(size, int) else 0,
                        "error": {"code": 422, "message": "invalid oid or size"},
                    }
                )
            elif self.store.has_object(oid, size):
                objects.append({"oid": oid, "size": size})  # no actions: already uploaded
            else:
                objects.append(
                    {
                        "oid": oid,
                        "size": size,
                        "authenticated": True,
                        "actions": {
                            "upload": {"href": f"{href}/{oid}", "expires_in": 3600},
                            "verify": {"href": f"{href}/verify", "expires_in": 3600},
                        },
                    }
                )
        self._json(
            {"transfer": "basic", "objects": objects, "hash_algo": "sha256"},
            content_type="application/vnd.git-lfs+json",
        )

    def h_lfs_upload(self, ns, name, oid, prefix=None):
        self._repo(prefix=prefix, ns=ns, name=name)
        self.store.put_stream(oid, self._iter_body())
        self._send(200)

    def h_lfs_verify(self, ns, name, prefix=None):
        self._repo(prefix=prefix, ns=ns, name=name)
        body = self._read_json()
        if not self.store.has_object(str(body.get("oid")), body.get("size")):
            raise HubError(404, f"LFS object {body.get('oid')} of size {body.get('size')} was not uploaded")
        self._json({"success": True})

    def h_commit(self, plural, ns, name, rev):
        if self._flag("create_pr"):
            raise HubError(400, "create_pr is not supported by the test hub")
        repo = self._repo(plural, ns=ns, name=name)
        if SHA1_RE.fullmatch(rev) and rev not in repo.refs:
            raise HubError(400, f"cannot commit on a commit sha ({rev}): use a branch name")
        lines = [json.loads(line) for line in self._read_body().splitlines() if line.strip()]
        if not lines or lines[0].get("key") != "header":
            raise HubError(400, "the commit payload must start with a header line")
        header = lines[0]["value"]
        commit = self.store.commit(
            repo, rev, lines[1:], header.get("summary", ""), header.get("description", ""), header.get("parentCommit")
        )
        self._json(
            {
                "success": True,
                "commitOid": commit.sha,
                "pullRequestUrl": None,
                "commitUrl": f"{self.base}/{URL_PREFIX[repo.repo_type]}{repo.repo_id}/commit/{commit.sha}",
            }
        )

    # pull
    def h_resolve(self, ns, name, rev, path, prefix=None):
        repo = self._repo(prefix=prefix, ns=ns, name=name)
        commit = self.store.resolve(repo, rev)
        entry = commit.files.get(path)
        if entry is None:
            raise HubError(404, f"Entry not found: {path}", "EntryNotFound", {"X-Repo-Commit": commit.sha})
        headers = {
            "X-Repo-Commit": commit.sha,
            "ETag": f'"{entry.oid}"',
            "Accept-Ranges": "bytes",
            "Content-Disposition": f"inline; filename*=UTF-8''{quote(path.rsplit('/', 1)[-1])}",
        }
        if entry.lfs:
            headers.update({"X-Linked-Etag": f'"{entry.sha256}"', "X-Linked-Size": str(entry.size)})
        start, end, status = 0, entry.size, 200
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", "").strip())
        if match and (match.group(1) or match.group(2)):
            if match.group(1):
                start = int(match.group(1))
                end = min(int(match.group(2)) + 1, entry.size) if match.group(2) else entry.size
            else:  # suffix range: the last N bytes
                start = max(entry.size - int(match.group(2)), 0)
            if start >= entry.size or start >= end:
                raise HubError(
                    416,
                    f"range not satisfiable for {entry.size} bytes",
                    headers={"Content-Range": f"bytes */{entry.size}"},
                )
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{entry.size}"
        self._send(status, headers=headers, content_type="application/octet-stream", length=end - start)
        if self.command == "GET":
            with open(self.store.object_path(entry.sha256), "rb") as f:
                f.seek(start)
                remaining = end - start
                while remaining:
                    chunk = f.read(min(remaining, 1 << 20))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    remaining -= len(chunk)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    hub: "HubServer"


class HubServer:
    """The server plus what tests need: ``endpoint``, ``token``, ``store``, ``requests``."""

    def __init__(
        self,
        root: str | Path,
        host: str = "127.0.0.1",
        port: int = 0,
        user: str = DEFAULT_USER,
        token: str = DEFAULT_TOKEN,
        require_token_for_writes: bool = True,
        tree_page_size: int = 1000,
    ):
        self.store = HubStore(Path(root))
        self.user, self.token = user, token
        self.require_token_for_writes = require_token_for_writes
        self.tree_page_size = tree_page_size
        self.requests: list[tuple[str, str]] = []
        self._httpd = _HTTPServer((host, port), _Handler)
        self._httpd.hub = self
        self.endpoint = f"http://{host}:{self._httpd.server_address[1]}"
        self._thread: threading.Thread | None = None

    def start(self) -> "HubServer":
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="hub-test-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> "HubServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def repo_id(self, name: str) -> str:
        """A repo id under the server's user, unique within the session (repos outlive a test)."""
        return f"{self.user}/{name}-{len(self.store.repos)}-{time.time_ns() % 10**9}"


# ---- pytest fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def hub_server(tmp_path_factory) -> Iterator[HubServer]:
    """One loopback Hub server for the test session (repos persist across tests)."""
    with HubServer(tmp_path_factory.mktemp("hub-server")) as server:
        yield server


@pytest.fixture
def hub_env(hub_server, monkeypatch, tmp_path) -> Iterator[HubServer]:
    """Point huggingface_hub at ``hub_server`` with a fresh cache; returns the server."""
    import huggingface_hub
    from huggingface_hub import constants
    from huggingface_hub.utils import _cache_manager, _http

    home = tmp_path / "hf-home"
    cache = home / "hub"
    cache.mkdir(parents=True)
    env = {
        "HF_ENDPOINT": hub_server.endpoint,
        "HF_HUB_DISABLE_XET": "1",
        "HF_HUB_OFFLINE": "0",
        "HF_TOKEN": hub_server.token,
        "HF_HOME": str(home),
        "HF_HUB_CACHE": str(cache),
        "HF_XET_CACHE": str(home / "xet"),
        "HF_ASSETS_CACHE": str(home / "assets"),
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "NO_PROXY": ",".join(filter(None, [os.environ.get("NO_PROXY"), "127.0.0.1", "localhost"])),
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for key in ("TRANSFORMERS_OFFLINE", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "HUGGINGFACE_HUB_CACHE"):
        monkeypatch.delenv(key, raising=False)

    patches = {
        "ENDPOINT": hub_server.endpoint,
        "HUGGINGFACE_CO_URL_TEMPLATE": hub_server.endpoint + "/{repo_id}/resolve/{revision}/{filename}",
        "HF_HUB_DISABLE_XET": True,
        "HF_HUB_OFFLINE": False,
        "HF_HUB_DISABLE_TELEMETRY": True,
        "HF_HOME": str(home),
        "HF_HUB_CACHE": str(cache),
        "HUGGINGFACE_HUB_CACHE": str(cache),
        "HF_ASSETS_CACHE": str(home / "assets"),
        "HUGGINGFACE_ASSETS_CACHE": str(home / "assets"),
        "HF_XET_CACHE": str(home / "xet"),
        "HF_TOKEN_PATH": str(home / "token"),
        "HF_STORED_TOKENS_PATH": str(home / "stored_tokens"),
        "HF_URL_HOSTS": constants.HF_URL_HOSTS | {"127.0.0.1"},
    }
    for name, value in patches.items():
        if hasattr(constants, name):
            monkeypatch.setattr(constants, name, value)
    monkeypatch.setattr(_cache_manager, "HF_HUB_CACHE", str(cache), raising=False)
    # The module-level HfApi behind huggingface_hub.create_repo / upload_folder / model_info / ...
    monkeypatch.setattr(huggingface_hub.hf_api.api, "endpoint", hub_server.endpoint)
    _http.close_session()  # the shared httpx client is rebuilt lazily, with the env above
    yield hub_server
    _http.close_session()


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="hub-server-") as root:
        server = HubServer(root, port=int(sys.argv[1]) if len(sys.argv) > 1 else 0)
        print(f"serving the test Hub at {server.endpoint} (data in {root}); HF_TOKEN can be anything")
        with server:
            try:
                threading.Event().wait()
            except KeyboardInterrupt:
                pass
