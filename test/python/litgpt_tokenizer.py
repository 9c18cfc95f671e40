"""Train a small byte-level BPE tokenizer on a folder of .txt files, offline, for LitGPT.

usage: python litgpt_tokenizer.py TEXT_DIR OUT_DIR [VOCAB_SIZE]

Writes OUT_DIR/tokenizer.json and OUT_DIR/tokenizer_config.json (LitGPT's Tokenizer
needs `tokenizer_class`, and a BOS and an EOS token: TextFiles encodes with a BOS,
SFT appends an EOS). Prints {"vocab_size": N} as the last line.
"""
import glob
import json
import os
import sys

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

text_dir, out_dir = sys.argv[1], sys.argv[2]
vocab_size = int(sys.argv[3]) if len(sys.argv) > 3 else 2048
files = sorted(glob.glob(os.path.join(text_dir, "*.txt")))
if not files:
    sys.exit(f"no .txt files in {text_dir}")

special = "<|endoftext|>"
tokenizer = Tokenizer(models.BPE())
tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
tokenizer.decoder = decoders.ByteLevel()
trainer = trainers.BpeTrainer(
    vocab_size=vocab_size,
    special_tokens=[special],
    initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    show_progress=False,
)
tokenizer.train(files, trainer)
os.makedirs(out_dir, exist_ok=True)
tokenizer.save(os.path.join(out_dir, "tokenizer.json"))
with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as fp:
    json.dump(
        {
            "tokenizer_class": "PreTrainedTokenizerFast",
            "bos_token": special,
            "eos_token": special,
            "add_bos_token": False,
        },
        fp,
    )
print(json.dumps({"vocab_size": tokenizer.get_vocab_size()}))
