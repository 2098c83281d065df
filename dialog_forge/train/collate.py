"""Batching :class:`~dialog_forge.train.masking.Encoded` examples into tensors.

* :func:`pad_collate` -- right-pads to the longest example. Which positions are padding is known from each
  example's length, so padded labels are ``-100`` and ``attention_mask`` is 0 there *by position*; the pad
  id is never compared with label ids, so a tokenizer whose pad token equals EOS keeps its real EOS label
  (case U20).
* :func:`pack_examples` + :func:`packed_collate` -- greedy first-fit packing of several examples into rows
  of at most ``max_length`` tokens. ``position_ids`` restart at 0 for every example and no 2-D attention
  mask is passed, so Transformers builds a block-diagonal causal mask from the position ids
  (``masking_utils.find_packed_sequence_indices``; it only does so without a KV cache, so the forward pass
  must use ``use_cache=False``, as the trainer does): packed samples do not attend to each other. The first
  label of every packed sample is ``-100`` so no token is predicted across a sample boundary.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .masking import IGNORE_INDEX, Encoded


def pad_collate(batch: Sequence[Encoded], pad_id: int) -> dict[str, torch.Tensor]:
    """``{"input_ids", "attention_mask", "labels"}``, each ``LongTensor[B, T]`` with ``T`` the longest
    example; padding on the right."""
    T = max(len(e) for e in batch)
    ids = torch.full((len(batch), T), pad_id, dtype=torch.long)
    labels = torch.full((len(batch), T), IGNORE_INDEX, dtype=torch.long)
    att = torch.zeros((len(batch), T), dtype=torch.long)
    for i, e in enumerate(batch):
        n = len(e)
        ids[i, :n] = torch.tensor(e.input_ids, dtype=torch.long)
        labels[i, :n] = torch.tensor(e.labels, dtype=torch.long)
        att[i, :n] = 1
    return {"input_ids": ids, "attention_mask": att, "labels": labels}


def pack_examples(examples: Sequence[Encoded], max_length: int) -> list[list[Encoded]]:
    """Group examples into rows whose total length is at most ``max_length`` (first-fit in the given
    order, so a shuffled order gives shuffled rows). Each example is shorter than ``max_length`` already."""
    rows: list[list[Encoded]] = []
    room: list[int] = []
    for e in examples:
        for k, free in enumerate(room):
            if len(e) <= free:
                rows[k].append(e)
                room[k] -= len(e)
                break
        else:
            rows.append([e])
            room.append(max_length - len(e))
    return rows


def packed_collate(rows: Sequence[Sequence[Encoded]], pad_id: int) -> dict[str, torch.Tensor]:
    """``{"input_ids", "position_ids", "labels"}`` for packed rows (``LongTensor[B, T]``). Padding at the end
    of a row gets its own position run and ``-100`` labels; no ``attention_mask`` (see module docstring)."""
    T = max(sum(len(e) for e in r) for r in rows)
    ids = torch.full((len(rows), T), pad_id, dtype=torch.long)
    labels = torch.full((len(rows), T), IGNORE_INDEX, dtype=torch.long)
    pos = torch.zeros((len(rows), T), dtype=torch.long)
    for i, r in enumerate(rows):
        at = 0
        for e in r:
            n = len(e)
            ids[i, at:at + n] = torch.tensor(e.input_ids)
            lab = torch.tensor(e.labels)
            lab[0] = IGNORE_INDEX  # never predicted from the previous sample
            labels[i, at:at + n] = lab
            pos[i, at:at + n] = torch.arange(n)
            at += n
        if at < T:
            pos[i, at:] = torch.arange(T - at)
    return {"input_ids": ids, "position_ids": pos, "labels": labels}


def supervised_count(batch: dict[str, torch.Tensor]) -> int:
    """Number of predicted (shifted) supervised tokens in a collated batch: labels[:, 1:] != -100."""
    return int((batch["labels"][:, 1:] != IGNORE_INDEX).sum())
