"""Reading and writing: input files (encoding sniffing, compression, containers), dialogue formats,
canonical record streams, Parquet shards with a manifest, and the rejects sink."""
