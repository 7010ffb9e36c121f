"""How a score is named: the standard names for the Inception network, "classifier ..." for any other scorer."""


def metric_label(scorer_name: str, metric: str) -> str:
    """'IS', 'FID', 'KID' for Inception-v3; 'classifier IS' etc. for any other scorer."""
    short = {"is": "IS", "fid": "FID", "kid": "KID"}[metric]
    return short if scorer_name == "inception-v3" else f"classifier {short}"
