"""Fine-tuning on dialogue shards: one record's path from Parquet shard to trained adapter.

``config`` (TrainConfig: every flag) -> ``data`` (train/val records) -> ``templates`` + ``masking`` (render,
labels from character offsets) -> ``collate`` (padding / packing) -> ``methods`` (base model + peft wrapper)
-> ``trainer`` (the loop; ``stages`` for multi-stage runs) -> ``run_dir`` (the output contract).
Around it: ``api`` (Python entry points), ``dryrun`` (parameter and memory estimate), ``recommend``
(method decision tree), ``export`` (merge / data formats), ``tiny`` (offline test model).
"""
