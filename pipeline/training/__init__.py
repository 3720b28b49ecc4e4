"""The training check: validate written shards, then train a small language model on them.

``shards`` needs only pyarrow; ``tokenizer``, ``model`` and ``train`` need the optional ``train``
extra (``pip install -e '.[train]'``: torch, tokenizers, matplotlib) and are imported on demand.
"""
