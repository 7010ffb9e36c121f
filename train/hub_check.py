"""Before training with --push-to-hub: is there a token, and does the Hub endpoint accept it? (a few seconds at
most)."""

from __future__ import annotations

import concurrent.futures

TIMEOUT_S = 10.0


def check_push_access(repo_id: str, timeout: float = TIMEOUT_S) -> str:
    """The user name the token belongs to; ValueError/ConnectionError saying what to fix otherwise."""
    from huggingface_hub import HfApi, constants, get_token

    token = get_token()
    if not token:
        raise ValueError("no Hugging Face token: log in with `hf auth login` or set HF_TOKEN before training")
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    try:
        name = pool.submit(lambda: HfApi(token=token).whoami()["name"]).result(timeout=timeout)
    except concurrent.futures.TimeoutError:
        raise ConnectionError(f"the Hub at {constants.ENDPOINT} did not answer within {timeout:g} s") from None
    except Exception as err:  # noqa: BLE001  (offline, bad token, bad endpoint: all stop the run here)
        raise ConnectionError(
            f"the Hub at {constants.ENDPOINT} refused or could not check the token ({type(err).__name__}: {err})"
        ) from None
    finally:
        pool.shutdown(wait=False)
    return name
