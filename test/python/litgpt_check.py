"""Load tagpress's LitGPT folders with LitGPT's own data modules and report what they saw.

usage: python litgpt_check.py LITGPT_DIR TOKENIZER_DIR SFT_MAX_SEQ_LENGTH TEXT_MAX_SEQ_LENGTH MICRO_BATCH_SIZE

For each instruction folder (qa, blocks, chapters, all): litgpt.data.JSON loads it
(train.jsonl + val.jsonl, no random split), SFTDataset tokenizes every record with
the alpaca prompt style, and both dataloaders are iterated to the end. For the text
folders: litgpt.data.TextFiles tokenizes them (litdata optimize, into a copy) and
gives one training and one validation batch. Prints one JSON object.
"""
import json
import shutil
import sys
import tempfile
from pathlib import Path

from litgpt.data import JSON, TextFiles
from litgpt.prompts import PromptStyle
from litgpt.tokenizer import Tokenizer


def main() -> None:
    root, tokenizer_dir = Path(sys.argv[1]), Path(sys.argv[2])
    max_seq_length, text_max_seq_length, batch_size = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    tokenizer = Tokenizer(tokenizer_dir)
    alpaca = PromptStyle.from_name("alpaca")
    report = {"json": {}, "text": {}}

    for folder in ("qa", "blocks", "chapters", "all"):
        path = root / folder
        if not path.is_dir():
            continue
        data = JSON(json_path=path, mask_prompt=True, num_workers=0)
        data.connect(tokenizer=tokenizer, batch_size=batch_size, max_seq_length=max_seq_length)
        data.setup()
        train, val = data.get_splits()
        batches = {"train": 0, "val": 0}
        labelled = 0
        for name, loader in (("train", data.train_dataloader()), ("val", data.val_dataloader())):
            for batch in loader:
                assert batch["input_ids"].shape == batch["labels"].shape
                assert batch["input_ids"].shape[1] <= max_seq_length
                labelled += int((batch["labels"] != -100).sum())
                batches[name] += 1
        report["json"][folder] = {
            "train": len(train),
            "val": len(val),
            "batches": batches,
            "labelled_tokens": labelled,
            "first": train[0],
            "first_prompt": alpaca.apply(prompt=train[0]["instruction"], **train[0]),
        }

    work = Path(tempfile.mkdtemp())
    try:
        for split in ("train", "val"):
            (work / split).mkdir()
            for file in sorted((root / "text" / split).glob("*.txt")):
                shutil.copy(file, work / split / file.name)
        text = TextFiles(train_data_path=work / "train", val_data_path=work / "val", num_workers=0)
        text.connect(tokenizer=tokenizer, batch_size=batch_size, max_seq_length=text_max_seq_length)
        text.prepare_data()
        train_batch = next(iter(text.train_dataloader()))
        val_batch = next(iter(text.val_dataloader()))
        report["text"] = {
            "train_batch": list(train_batch.shape),
            "val_batch": list(val_batch.shape),
            "val_batches": sum(1 for _ in text.val_dataloader()),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(json.dumps(report))


# litdata's optimize() starts worker processes that import this module again.
if __name__ == "__main__":
    main()
