"""``gan-hub push``: upload a model folder (checked to load first) to a Hugging Face Hub repo."""

from __future__ import annotations

from pathlib import Path

from .parsing import CommandParser

EXAMPLES = """examples:
  gan-hub push runs/dcgan-mnist/model my-org/dcgan-mnist
  gan-hub push runs/cgan-mnist/model my-org/cgan-mnist --private --message "Retrained for 20k steps"

The folder must load with Generator.from_pretrained (config.json and model.safetensors agree);
its files go up as they are (README.md is the model card). Log in first with `hf auth login`,
or set HF_TOKEN. HF_ENDPOINT points the upload at another Hub-protocol server."""


def build_parser(prog: str = "gan-hub push") -> CommandParser:
    p = CommandParser(
        prog=prog, description="Upload a model folder to a Hub repo, creating the repo if needed.", epilog=EXAMPLES
    )
    p.add_argument("folder", metavar="FOLDER", type=Path, help="model folder (e.g. runs/NAME/model)")
    p.add_argument("repo_id", metavar="ORG/NAME", help="Hub repo to upload to")
    p.add_argument(
        "--private", action="store_true", help="create the repo as private (an existing repo keeps its visibility)"
    )
    p.add_argument("--message", default="Upload gan-hub model", help="commit message")
    return p


def check_model_folder(folder: Path) -> None:
    """Raise unless ``folder`` loads as a generator: never publish a folder users cannot load."""
    from ..hub import Generator

    if not folder.is_dir():
        raise FileNotFoundError(f"model folder {folder} does not exist")
    Generator.from_pretrained(folder)


def push_model_folder(folder: Path, repo_id: str, private: bool = False, message: str = "Upload gan-hub model") -> str:
    """Create the repo (if needed) and upload the folder's files, hidden ones left out; returns the commit URL."""
    from huggingface_hub import HfApi

    api = HfApi()
    api.create_repo(repo_id, exist_ok=True, private=private)
    commit = api.upload_folder(repo_id=repo_id, folder_path=str(folder), commit_message=message, ignore_patterns=[".*"])
    return str(commit.commit_url)


def main(argv: list[str] | None = None, prog: str = "gan-hub push") -> int:
    from huggingface_hub.errors import HfHubHTTPError
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    from .errors import user_errors

    parser = build_parser(prog)
    args = parser.parse_args(argv)
    try:
        validate_repo_id(args.repo_id)
    except HFValidationError as err:
        parser.error(f"{args.repo_id!r} is not a Hub repo id (write ORG/NAME): {err}")
    if args.repo_id.count("/") != 1:
        parser.error(f"{args.repo_id!r} is not a Hub repo id: write ORG/NAME")
    with user_errors(parser):
        check_model_folder(args.folder)
    try:
        url = push_model_folder(args.folder, args.repo_id, args.private, args.message)
    except HfHubHTTPError as err:
        first_line = str(err).splitlines()[0]
        hint = " (log in with `hf auth login` or set HF_TOKEN)" if "401" in first_line or "403" in first_line else ""
        parser.exit(1, f"{prog}: error: the Hub refused the upload: {first_line}{hint}\n")
    print(f"pushed {args.folder} to {args.repo_id}: {url}")
    return 0
