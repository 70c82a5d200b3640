"""Named annotation sources: bundled copies, and the checked download from a real local HTTP server.

Every test here runs with the network blocked except for 127.0.0.1, so a download that
escapes the local server fails instead of reaching the internet.
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from relabel import DownloadError, InputError, RelabelWarning
from relabel.loading import sources
from relabel.loading.sources import known_sources, source_path

REAL_SHA256 = "d83e9bff374c631aae8439eb064c7019acc56e1b3bc3f56b8380c2a710b0220b"
REAL_SIZE = 388_478
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Refuse name lookups and connections to anything but the loopback interface."""
    real_getaddrinfo, real_connect = socket.getaddrinfo, socket.socket.connect

    def getaddrinfo(host, *args, **kwargs):
        if host not in LOOPBACK:
            raise OSError(f"network blocked in tests: lookup of {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    def connect(sock, address):
        if isinstance(address, tuple) and address[0] not in LOOPBACK:
            raise OSError(f"network blocked in tests: connection to {address!r}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "*")


@pytest.fixture(scope="module")
def real_bytes() -> bytes:
    """The bytes of ReaL's real.json, from the copy that imagenet-x bundles."""
    pytest.importorskip("imagenet_x")
    return source_path("real").read_bytes()


@dataclass
class Server:
    url: str
    requests: list[str] = field(default_factory=list)


@pytest.fixture
def serve():
    """Start HTTP servers on 127.0.0.1 that answer every GET with the given bytes; stop them afterwards."""
    running = []

    def start(body: bytes) -> Server:
        server = Server(url="")

        class Handler(BaseHTTPRequestHandler):
            timeout = 5

            def do_GET(self):  # noqa: N802 - http.server's naming
                server.requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        running.append((httpd, thread))
        server.url = f"http://127.0.0.1:{httpd.server_port}/real.json"
        return server

    yield start
    for httpd, thread in running:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ---------------------------------------------------------------- download


def test_download_is_fetched_once_and_checked(tmp_path, serve, real_bytes):
    server = serve(real_bytes)
    first = source_path("real", search_installed=False, url=server.url, cache_dir=tmp_path)
    assert first == tmp_path / "real.json"
    assert sha256(first) == REAL_SHA256
    assert server.requests == ["/real.json"]
    second = source_path("real", search_installed=False, url=server.url, cache_dir=tmp_path)
    assert second == first
    assert server.requests == ["/real.json"]  # served from the cache


def test_a_corrupted_cached_file_is_downloaded_again(tmp_path, serve, real_bytes):
    server = serve(real_bytes)
    (tmp_path / "real.json").write_text("[[0]]")
    path = source_path("real", search_installed=False, url=server.url, cache_dir=tmp_path)
    assert sha256(path) == REAL_SHA256
    assert len(server.requests) == 1


def test_different_bytes_fail_the_checksum_and_are_not_kept(tmp_path, serve, real_bytes):
    server = serve(real_bytes.replace(b"[970, 795]", b"[970, 796]", 1))
    with pytest.raises(DownloadError, match=rf"download of {server.url} failed its checksum \(expected sha256 {REAL_SHA256}"):
        source_path("real", search_installed=False, url=server.url, cache_dir=tmp_path)
    assert server.requests == ["/real.json"]
    assert not (tmp_path / "real.json").exists()


def test_an_unreachable_port_is_a_download_error(tmp_path):
    with socket.socket() as probe:  # a port that was free a moment ago and has no listener now
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/real.json"
    with pytest.raises(DownloadError, match=rf"could not download {url}"):
        source_path("real", search_installed=False, url=url, cache_dir=tmp_path)


def test_the_pinned_url_is_never_reached_from_tests(tmp_path):
    with pytest.raises(DownloadError, match=r"could not download https://raw\.githubusercontent\.com/.*network blocked"):
        source_path("real", search_installed=False, cache_dir=tmp_path)


def test_original_val_labels_have_no_download(tmp_path):
    with pytest.raises(DownloadError, match=r"'imagenet-val-labels' .*cannot be downloaded; install one of \[imagenet_x\]"):
        source_path("imagenet-val-labels", search_installed=False, cache_dir=tmp_path)


def test_unknown_source_lists_the_known_ones():
    assert known_sources() == ["imagenet-val-labels", "real"]
    expected = r"unknown annotation source 'reaL2'; expected one of \['imagenet-val-labels', 'real'\]"
    with pytest.raises(InputError, match=expected):
        source_path("reaL2")


# ---------------------------------------------------------------- bundled copies


def test_installed_imagenet_x_copy_is_returned_and_matches_the_pin():
    imagenet_x = pytest.importorskip("imagenet_x")
    path = source_path("real")
    assert path == Path(imagenet_x.__file__).parent / "annotations" / "imagenet_real_labels.jsonl"
    assert path.stat().st_size == REAL_SIZE
    assert sha256(path) == REAL_SHA256
    assert json.loads(path.read_text())[:2] == [[], [970, 795]]


def test_catalogue_pins_the_real_checksum():
    entry = sources._catalogue()["real"]
    assert entry["sha256"] == REAL_SHA256
    assert entry["url"] == "https://raw.githubusercontent.com/google-research/reassessed-imagenet/master/real.json"


@pytest.fixture
def fake_package(tmp_path, monkeypatch):
    """A package ``relabel_fake_bundle`` on sys.path; returns a function that puts a data file in it."""
    package = tmp_path / "site" / "relabel_fake_bundle"
    (package / "data").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))

    def bundle(body: bytes) -> Path:
        path = package / "data" / "real.json"
        path.write_bytes(body)
        catalogue = json.loads(json.dumps(sources._catalogue()))
        catalogue["real"]["bundled_in"] = [
            ["relabel_fake_bundle", "data/real.json"],
            ["imagenet_x", "annotations/imagenet_real_labels.jsonl"],
        ]
        monkeypatch.setattr(sources, "_catalogue", lambda: catalogue)
        return path

    return bundle


def test_a_bundled_copy_is_found_without_importing_its_package(fake_package, real_bytes):
    path = fake_package(real_bytes)
    assert source_path("real") == path


def test_an_altered_bundled_copy_is_skipped_with_a_warning(fake_package, real_bytes):
    altered = fake_package(real_bytes + b"\n")
    with pytest.warns(RelabelWarning, match=rf"bundled copies \['{altered}'\] differ from the pinned sha256"):
        path = source_path("real")
    assert path.name == "imagenet_real_labels.jsonl"
