"""The load test's input file as an OCI artifact: pulled with oras, then checked.

An artifact (docs/loadtest.md) is an OCI image manifest whose artifactType is
ARTIFACT_TYPE, whose config blob is the dataset's own manifest (dataset.json:
count, seed, sha256, counts per municipality and weather) and whose one layer
is the file, tweets.jsonl: one JSON object per line, a tweet with its id.

verify() refuses the folder unless the file's digest is the layer's, the
layer's is the one dataset.json names, dataset.json is the manifest's config,
and the file holds dataset.json's count of lines.
"""

import hashlib
import json
import os
import subprocess

ARTIFACT_TYPE = "application/vnd.weather-tweets.loadtest.v1"
CONFIG_MEDIA_TYPE = "application/vnd.weather-tweets.loadtest.config.v1+json"
LAYER_MEDIA_TYPE = "application/vnd.weather-tweets.tweets.v1+jsonl"
FILE = "tweets.jsonl"


class ArtifactError(Exception):
    """The artifact could not be pulled, or is not what its manifest says."""


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def _oras(args, oras, user, password):
    cmd = [oras, *args]
    if user:
        cmd += ["--username", user, "--password-stdin"]
    try:
        r = subprocess.run(cmd, input=(password or "").encode(), capture_output=True, timeout=300)
    except FileNotFoundError as e:
        raise ArtifactError(f"oras is not installed ({oras}): it pulls the artifact") from e
    except subprocess.TimeoutExpired as e:
        raise ArtifactError(f"oras {args[0]} {args[1]}: no answer within 300 s") from e
    if r.returncode != 0:
        raise ArtifactError(f"oras {' '.join(args[:3])}: {(r.stderr or r.stdout).decode().strip()}")
    return r.stdout


def repository(reference):
    """host:port/name of a reference host:port/name:tag or host:port/name@digest."""
    if "@" in reference:
        return reference.split("@", 1)[0]
    head, _, last = reference.rpartition("/")
    last = last.split(":", 1)[0]
    return f"{head}/{last}" if head else last


def pull(reference, dest, oras="oras", user="", password="", plain_http=False):
    """Pulls the artifact into dest: tweets.jsonl, manifest.json (the OCI manifest), dataset.json (its config)."""
    os.makedirs(dest, exist_ok=True)
    flags = ["--plain-http"] if plain_http else []
    manifest = _oras(["manifest", "fetch", reference, *flags], oras, user, password)
    with open(os.path.join(dest, "manifest.json"), "wb") as f:
        f.write(manifest)
    m = json.loads(manifest)
    if m.get("artifactType") != ARTIFACT_TYPE:
        raise ArtifactError(f"{reference} is not a load-test artifact: its artifactType is {m.get('artifactType')!r}, not {ARTIFACT_TYPE!r}")
    _oras(["blob", "fetch", f"{repository(reference)}@{m['config']['digest']}", "--output", os.path.join(dest, "dataset.json"), *flags], oras, user, password)
    _oras(["pull", reference, "--output", dest, *flags], oras, user, password)
    return dest


def verify(dest):
    """Checks a pulled artifact; returns dataset.json's content. Raises ArtifactError naming what differs."""
    paths = {n: os.path.join(dest, n) for n in ("manifest.json", "dataset.json", FILE)}
    for n, p in paths.items():
        if not os.path.isfile(p):
            raise ArtifactError(f"{dest}: {n} is missing; pull the artifact first")
    with open(paths["manifest.json"], "rb") as f:
        manifest = json.load(f)
    layers = [l for l in manifest.get("layers", []) if l.get("mediaType") == LAYER_MEDIA_TYPE]
    if len(layers) != 1:
        raise ArtifactError(f"the artifact's manifest has {len(layers)} layers of type {LAYER_MEDIA_TYPE}; expected 1")
    layer = layers[0]
    file_digest = _sha256(paths[FILE])
    if file_digest != layer["digest"] or os.path.getsize(paths[FILE]) != layer["size"]:
        raise ArtifactError(f"{FILE} is not the artifact's layer: its digest is {file_digest}, the manifest says {layer['digest']}")
    config_digest = _sha256(paths["dataset.json"])
    if config_digest != manifest["config"]["digest"]:
        raise ArtifactError(f"dataset.json is not the artifact's config: its digest is {config_digest}, the manifest says {manifest['config']['digest']}")
    with open(paths["dataset.json"], "rb") as f:
        dataset = json.load(f)
    if "sha256:" + dataset.get("sha256", "") != file_digest:
        raise ArtifactError(f"{FILE} does not match its dataset manifest: dataset.json says sha256:{dataset.get('sha256')}, the file is {file_digest}")
    with open(paths[FILE], "rb") as f:
        lines = sum(1 for _ in f)
    if lines != dataset.get("count"):
        raise ArtifactError(f"{FILE} has {lines} lines; dataset.json says {dataset.get('count')}")
    return dataset
