"""Solara's front-end assets cache and the ``copsim viz`` command (no network, no server)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile

import pytest

from copsim import cli
from copsim.viz import assets, server


def npm_tarball(files: dict[str, bytes]) -> bytes:
    """An npm-style .tgz with everything under ``package/``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_find_versions_reads_exact_versions_only():
    text = (
        'src="{{cdn}}/requirejs@2.3.6/require.js" '
        "{{cdn}}/@widgetti/solara-vuetify-app@10.1.1/dist/x.css "
        "${cdn}/@widgetti/vue-grid-layout@2.3.13-alpha.2/dist/a.js "
        '"/font-awesome@4.5.0/css/font-awesome.min.css" vega@5/build/vega.js'
    )
    found = assets.find_versions(text, (*assets.PACKAGES, "vega"))
    assert found == {
        "@widgetti/solara-vuetify-app": "10.1.1",
        "requirejs": "2.3.6",
        "font-awesome": "4.5.0",
        "@widgetti/vue-grid-layout": "2.3.13-alpha.2",
    }


def test_required_assets_come_from_the_installed_solara():
    pytest.importorskip("solara")
    required = {a.name: a for a in assets.required_assets()}
    assert set(required) == set(assets.PACKAGES)
    template = (assets.solara_sources()[0]).read_text()
    assert required["@widgetti/solara-vuetify-app"].spec in template


def test_integrity_check():
    data = b"hello"
    good = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    assets.check_integrity(data, good)
    with pytest.raises(ValueError, match="does not match"):
        assets.check_integrity(b"tampered", good)
    with pytest.raises(ValueError, match="unsupported"):
        assets.check_integrity(data, "md5-xyz")


def test_fetch_unpacks_into_the_cache_and_is_idempotent(tmp_path, monkeypatch):
    tarball = npm_tarball({"dist/app.js": b"console.log(1)", "package.json": b"{}"})
    digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    calls = []

    def fake_get(url: str, timeout: float = 60.0) -> bytes:
        calls.append(url)
        if url.endswith(".tgz"):
            return tarball
        return json.dumps(
            {"dist": {"tarball": "https://r/x/-/x-1.0.0.tgz", "integrity": digest}}
        ).encode()

    monkeypatch.setattr(assets, "_get", fake_get)
    asset = assets.Asset("@scope/x", "1.0.0")
    monkeypatch.setattr(assets, "required_assets", lambda: [asset])
    assert assets.missing_assets(tmp_path) == [asset]
    assert assets.install(tmp_path, quiet=True) == [asset]
    assert (tmp_path / "@scope/x@1.0.0/dist/app.js").read_bytes() == b"console.log(1)"
    assert calls[0] == "https://registry.npmjs.org/@scope%2Fx/1.0.0"
    assert assets.missing_assets(tmp_path) == []
    assert assets.install(tmp_path, quiet=True) == []  # nothing fetched the second time
    assert len(calls) == 2


def test_registry_can_be_overridden(monkeypatch):
    monkeypatch.setenv("COPSIM_NPM_REGISTRY", "http://mirror.local/npm/")
    assert assets.registry_url() == "http://mirror.local/npm"


# ----------------------------------------------------------------------------- copsim viz


def test_viz_subcommand_documents_host_and_port(capsys):
    with pytest.raises(SystemExit):
        cli.main(["viz", "--help"])
    out = capsys.readouterr().out
    assert "--host" in out and "--port" in out and "--no-open" in out


def test_viz_subcommand_passes_host_and_port(monkeypatch):
    seen: dict = {}

    def fake_serve(host: str, port: int, open_browser: bool) -> int:
        seen.update(host=host, port=port, open_browser=open_browser)
        return 0

    monkeypatch.setattr(server, "serve", fake_serve)
    assert cli.main(["viz", "--host", "0.0.0.0", "--port", "9001", "--no-open"]) == 0
    assert seen == {"host": "0.0.0.0", "port": 9001, "open_browser": False}
    assert cli.main(["viz", "--port", "0"]) == 0
    assert seen["port"] > 0 and seen["host"] == "localhost" and seen["open_browser"] is True
    assert cli.main(["viz", "--port", "70000"]) == 2


def test_solara_is_run_offline_in_production_mode():
    args = server.solara_args("localhost", 8765, open_browser=False)
    assert args[:2] == ["run", "copsim.viz.app"]
    assert "--production" in args and "--no-check-version" in args and "--no-open" in args
    assert args[args.index("--port") + 1] == "8765"
