"""Solara's front-end assets, cached locally so the view works offline.

Solara serves its JavaScript and CSS through a proxy at ``/_solara/cdn/``:
on the first request it fetches the file from a public CDN and keeps it in a
cache folder inside the environment.  A classroom behind a filtering proxy
(or a machine with no network) gets a blank page.  This module fills that
cache ahead of time from the npm registry, so every file the teaching view
asks for is already on disk.

The versions are read from the installed Solara (its page template and widget
sources), so an upgrade of Solara fetches the versions it asks for.  Run it as
``python -m copsim.viz.assets`` (``scripts/setup_extras.sh`` does); it is
idempotent and only downloads packages that are not cached yet.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

#: npm packages the view loads through Solara's proxy (Vue 2 line; no Markdown, so
#: no katex or mermaid).
PACKAGES = (
    "@widgetti/solara-vuetify-app",
    "requirejs",
    "font-awesome",
    "@widgetti/vue-grid-layout",
)
#: Where to download from unless ``COPSIM_NPM_REGISTRY`` or ``NPM_CONFIG_REGISTRY`` says otherwise.
DEFAULT_REGISTRY = "https://registry.npmjs.org"
#: Marker written into a package folder once it is completely unpacked.
COMPLETE = ".copsim-complete"


@dataclass(frozen=True)
class Asset:
    """One npm package at the exact version Solara asks for."""

    name: str
    version: str

    @property
    def spec(self) -> str:
        """``name@version``, also the folder name in Solara's cache."""
        return f"{self.name}@{self.version}"


def solara_sources() -> list[Path]:
    """The installed Solara files that name the front-end packages and versions."""
    import solara
    import solara.server.settings

    root = Path(solara.__file__).parent
    files = [root / "server" / "templates" / "solara.html.j2"]
    files += sorted((root / "widgets" / "vue").glob("*.vue"))
    files.append(Path(solara.server.settings.__file__))
    return [f for f in files if f.is_file()]


def find_versions(text: str, packages: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    """The exact version each package is referenced at in ``text`` (first hit wins).

    >>> find_versions('src="{{cdn}}/requirejs@2.3.6/require.js"', ("requirejs",))
    {'requirejs': '2.3.6'}
    """
    found: dict[str, str] = {}
    for name in packages:
        pattern = rf"(?<![\w@-]){re.escape(name)}@(\d+\.\d+\.\d+(?:-[\w.]+)?)/"
        match = re.search(pattern, text)
        if match:
            found[name] = match.group(1)
    return found


def required_assets() -> list[Asset]:
    """The packages (at Solara's versions) the view needs; raises if one is not named."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in solara_sources())
    versions = find_versions(text)
    missing = [name for name in PACKAGES if name not in versions]
    if missing:
        raise RuntimeError(f"cannot tell which version of {missing} the installed Solara uses")
    return [Asset(name, versions[name]) for name in PACKAGES]


def cache_dir() -> Path:
    """Solara's asset cache for this environment (``<prefix>/share/solara/cdn``)."""
    import solara.server.settings

    return Path(solara.server.settings.assets.proxy_cache_dir)


def is_cached(asset: Asset, cache: Path) -> bool:
    """True when ``asset`` was completely unpacked into ``cache`` before."""
    return (cache / asset.spec / COMPLETE).is_file()


def missing_assets(cache: Path | None = None) -> list[Asset]:
    """The required packages not yet in the cache."""
    cache = cache if cache is not None else cache_dir()
    return [a for a in required_assets() if not is_cached(a, cache)]


def registry_url() -> str:
    """The npm registry to use, no trailing slash: an environment override, else the
    registry the machine's own npm client is configured with, else npm's default."""
    url = os.environ.get("COPSIM_NPM_REGISTRY") or os.environ.get("NPM_CONFIG_REGISTRY")
    return (url or _npm_configured_registry() or DEFAULT_REGISTRY).rstrip("/")


def _npm_configured_registry() -> str | None:
    """``npm config get registry`` when npm is installed (mirrors, proxies), else None."""
    npm = shutil.which("npm")
    if npm is None:
        return None
    try:
        done = subprocess.run(
            [npm, "config", "get", "registry"], capture_output=True, text=True, timeout=20
        )
    except (OSError, subprocess.SubprocessError):
        return None
    url = done.stdout.strip()
    return url if done.returncode == 0 and url.startswith(("http://", "https://")) else None


def _get(url: str, timeout: float = 60.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def check_integrity(data: bytes, integrity: str) -> None:
    """Raise ``ValueError`` unless ``data`` matches an npm ``sha512-...`` integrity string."""
    algo, _, expected = integrity.partition("-")
    if algo not in {"sha512", "sha384", "sha256"}:
        raise ValueError(f"unsupported integrity algorithm {algo!r}")
    digest = base64.b64encode(hashlib.new(algo, data).digest()).decode()
    if digest != expected:
        raise ValueError("downloaded package does not match the registry's integrity hash")


def unpack(tarball: bytes, target: Path) -> None:
    """Unpack an npm tarball's ``package/`` folder into ``target`` (replacing it)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as tar:
            tar.extractall(tmp, filter="data")
        roots = [p for p in Path(tmp).iterdir() if p.is_dir()]
        if len(roots) != 1:
            raise ValueError(f"unexpected tarball layout: {[p.name for p in roots]}")
        if target.exists():
            shutil.rmtree(target)
        roots[0].rename(target)
    (target / COMPLETE).write_text("unpacked from the npm registry\n", encoding="utf-8")


def fetch(asset: Asset, cache: Path, registry: str | None = None) -> Path:
    """Download ``asset`` from the npm registry, check it and unpack it into ``cache``."""
    registry = registry or registry_url()
    name = asset.name.replace("/", "%2F") if asset.name.startswith("@") else asset.name
    meta = json.loads(_get(f"{registry}/{name}/{asset.version}"))
    data = _get(meta["dist"]["tarball"])
    if "integrity" in meta["dist"]:
        check_integrity(data, meta["dist"]["integrity"])
    target = cache / asset.spec
    unpack(data, target)
    return target


def install(cache: Path | None = None, quiet: bool = False) -> list[Asset]:
    """Fetch every required package that is not cached yet; returns what was fetched."""
    cache = cache if cache is not None else cache_dir()
    todo = missing_assets(cache)
    for asset in todo:
        if not quiet:
            print(f"   fetching {asset.spec} from the npm registry")
        fetch(asset, cache)
    return todo


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m copsim.viz.assets [--check]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report what is missing")
    args = parser.parse_args(argv)
    cache = cache_dir()
    if args.check:
        missing = missing_assets(cache)
        for asset in missing:
            print(f"missing: {asset.spec}")
        return 1 if missing else 0
    try:
        fetched = install(cache)
    except OSError as exc:
        print(
            f"could not fetch Solara's assets ({exc}); the view needs network on first use",
            file=sys.stderr,
        )
        return 1
    done = "fetched " + ", ".join(a.spec for a in fetched) if fetched else "already cached"
    print(f"   solara assets in {cache}: {done}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
