"""The loopback Hub server (tests/hub_server.py) against the real, unmodified huggingface_hub client.

huggingface_hub is imported at module level on purpose: the ``hub_env`` fixture must redirect a
client that was imported before it ran.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import huggingface_hub
import pytest
from huggingface_hub import HfApi, hf_hub_download, snapshot_download
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

CONFIG = b'{"arch": "dcgan", "latent_dim": 64}\n'
WEIGHTS = os.urandom(2 * 1024 * 1024)  # matches *.safetensors in the default .gitattributes => LFS
NOTES = b"nested text file\n"
NOTES_PATH = "docs/nötes 1.txt"  # non-ASCII and a space: exercises URL quoting


@pytest.fixture
def pushed(hub_env, tmp_path):
    """A repo with config.json (regular), model.safetensors (LFS) and a nested text file, pushed with upload_folder."""
    folder = tmp_path / "model"
    (folder / "docs").mkdir(parents=True)
    (folder / "config.json").write_bytes(CONFIG)
    (folder / "model.safetensors").write_bytes(WEIGHTS)
    (folder / NOTES_PATH).write_bytes(NOTES)
    api = HfApi()
    repo_id = hub_env.repo_id("roundtrip")
    assert api.create_repo(repo_id).repo_id == repo_id
    commit = api.upload_folder(folder_path=folder, repo_id=repo_id, commit_message="first weights")
    return api, repo_id, commit.oid, folder


def test_fixture_patches_client_imported_earlier(hub_env):
    from huggingface_hub import constants

    assert constants.ENDPOINT == hub_env.endpoint
    assert constants.HF_HUB_DISABLE_XET is True
    assert huggingface_hub.hf_api.api.endpoint == hub_env.endpoint
    assert HfApi().whoami()["name"] == hub_env.user
    assert huggingface_hub.whoami()["name"] == hub_env.user  # module-level HfApi instance
    assert Path(constants.HF_HUB_CACHE).is_dir() and not any(Path(constants.HF_HUB_CACHE).iterdir())


def test_create_repo_exist_ok(hub_env):
    api = HfApi()
    repo_id = hub_env.repo_id("exists")
    url = api.create_repo(repo_id)
    assert url == f"{hub_env.endpoint}/{repo_id}" and url.repo_type == "model"
    assert api.create_repo(repo_id, exist_ok=True).repo_id == repo_id
    with pytest.raises(HfHubHTTPError) as err:
        api.create_repo(repo_id)
    assert err.value.response.status_code == 409
    # a new repo holds only the Hub's default .gitattributes
    assert api.list_repo_files(repo_id) == [".gitattributes"]


def test_upload_folder_decides_regular_and_lfs(pushed, hub_env):
    api, repo_id, sha, _ = pushed
    weights_oid = hashlib.sha256(WEIGHTS).hexdigest()
    lfs_root = f"/{repo_id}.git/info/lfs/objects"
    # the weights (and only them) went through the LFS batch API and a PUT of their bytes
    assert ("PUT", f"{lfs_root}/{weights_oid}") in hub_env.requests
    assert [r for r in hub_env.requests if r[0] == "PUT" and r[1].startswith(lfs_root)] == [
        ("PUT", f"{lfs_root}/{weights_oid}")
    ]
    siblings = {s.rfilename: s for s in api.model_info(repo_id, files_metadata=True).siblings}
    assert siblings["model.safetensors"].lfs is not None
    assert siblings["model.safetensors"].lfs.sha256 == weights_oid
    assert siblings["model.safetensors"].size == len(WEIGHTS)
    assert siblings["config.json"].lfs is None and siblings["config.json"].size == len(CONFIG)
    assert siblings[NOTES_PATH].lfs is None


def test_hf_hub_download_each_file(pushed):
    _, repo_id, sha, _ = pushed
    for name, content in [("config.json", CONFIG), ("model.safetensors", WEIGHTS), (NOTES_PATH, NOTES)]:
        path = Path(hf_hub_download(repo_id, name))
        assert path.read_bytes() == content, name
        assert f"snapshots/{sha}/" in path.as_posix()  # X-Repo-Commit was honoured


def test_snapshot_download_whole_repo(pushed):
    _, repo_id, sha, folder = pushed
    snapshot = Path(snapshot_download(repo_id))
    assert snapshot.name == sha
    got = {p.relative_to(snapshot).as_posix(): p.read_bytes() for p in snapshot.rglob("*") if p.is_file()}
    want = {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert got.pop(".gitattributes").startswith(b"*.")
    assert got == want


def test_old_revision_keeps_old_content(pushed, hub_env):
    api, repo_id, first_sha, _ = pushed
    new_config, new_weights = b'{"arch": "wgan"}\n', os.urandom(1024 * 1024)
    second = api.upload_file(path_or_fileobj=new_config, path_in_repo="config.json", repo_id=repo_id)
    third = api.upload_file(path_or_fileobj=new_weights, path_in_repo="model.safetensors", repo_id=repo_id)
    assert len({first_sha, second.oid, third.oid}) == 3
    assert api.model_info(repo_id).sha == third.oid
    assert Path(hf_hub_download(repo_id, "config.json")).read_bytes() == new_config
    assert Path(hf_hub_download(repo_id, "model.safetensors")).read_bytes() == new_weights
    assert Path(hf_hub_download(repo_id, "config.json", revision=first_sha)).read_bytes() == CONFIG
    assert Path(hf_hub_download(repo_id, "model.safetensors", revision=first_sha)).read_bytes() == WEIGHTS
    assert Path(hf_hub_download(repo_id, "config.json", revision=second.oid)).read_bytes() == new_config
    assert api.model_info(repo_id, revision=first_sha).sha == first_sha
    assert [c.commit_id for c in api.list_repo_commits(repo_id)][:3] == [third.oid, second.oid, first_sha]


def test_model_info_and_listing(pushed, hub_env, monkeypatch):
    api, repo_id, sha, _ = pushed
    expected = sorted([".gitattributes", "config.json", NOTES_PATH, "model.safetensors"])
    info = huggingface_hub.model_info(repo_id)  # module-level function
    assert info.id == repo_id and info.sha == sha
    assert sorted(s.rfilename for s in info.siblings) == expected
    assert sorted(api.list_repo_files(repo_id)) == expected
    top = {(type(e).__name__, e.path) for e in api.list_repo_tree(repo_id)}
    assert ("RepoFolder", "docs") in top and ("RepoFile", NOTES_PATH) not in top
    assert [e.path for e in api.list_repo_tree(repo_id, path_in_repo="docs")] == [NOTES_PATH]
    # pagination: the client must follow the Link header through all pages
    monkeypatch.setattr(hub_env, "tree_page_size", 2)
    before = len(hub_env.requests)
    assert sorted(api.list_repo_files(repo_id)) == expected
    tree_calls = [r for r in hub_env.requests[before:] if "/tree/" in r[1]]
    assert len(tree_calls) >= 3  # 5 entries (4 files + docs/) in pages of 2


def test_missing_repo_file_and_revision(pushed, hub_env):
    api, repo_id, _, _ = pushed
    missing = hub_env.repo_id("does-not-exist")
    with pytest.raises(RepositoryNotFoundError):
        api.model_info(missing)
    with pytest.raises(RepositoryNotFoundError):
        hf_hub_download(missing, "config.json")
    with pytest.raises(RepositoryNotFoundError):
        snapshot_download(missing)
    with pytest.raises(RemoteEntryNotFoundError) as err:
        hf_hub_download(repo_id, "no-such-file.bin")
    assert isinstance(err.value, EntryNotFoundError)
    with pytest.raises(RevisionNotFoundError):
        hf_hub_download(repo_id, "config.json", revision="0" * 40)
    with pytest.raises(RevisionNotFoundError):
        api.model_info(repo_id, revision="no-such-branch")
    assert not api.file_exists(repo_id, "no-such-file.bin")
    assert api.file_exists(repo_id, NOTES_PATH)


def test_delete_file_and_unchanged_upload(pushed, hub_env, tmp_path):
    api, repo_id, sha, folder = pushed
    # re-uploading identical files is a no-op (the client compares preupload oids): no new commit
    assert api.upload_folder(folder_path=folder, repo_id=repo_id).oid == sha
    deleted = api.delete_file(NOTES_PATH, repo_id=repo_id)
    assert NOTES_PATH not in api.list_repo_files(repo_id)
    assert NOTES_PATH in api.list_repo_files(repo_id, revision=sha)
    with pytest.raises(EntryNotFoundError):
        hf_hub_download(repo_id, NOTES_PATH, revision=deleted.oid)
