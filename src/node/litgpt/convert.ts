import {alpacaPrompt, datasetNames, toChat, toInstruction, toText, userText, type DatasetName, type DatasetRecord} from '../datasets/records.js'
import {splitPoint} from '../datasets/split.js'
import type {TokenCounter} from '../datasets/tokens.js'

export type Kind = DatasetName

/** One record of a source, converted for every LitGPT file it can go into. */
export interface Doc {
  kind: Kind
  id: string
  /** Split point in [0, 1): validation when below `valFraction`. */
  point: number
  /** Instruction record, one JSON line with its `\n`. */
  sft: string
  /** Chat record, one JSON line with its `\n`. */
  chat: string
  /** Plain-text document (no separator). */
  text: string
  /** Tokens LitGPT trains on: the `alpaca` prompt, the output and EOS. */
  sftTokens: number
  chatTokens: number
  /** The document and its separator. */
  textTokens: number
}

export interface Conversion {
  kinds: readonly Kind[]
  seed: number
  counter: TokenCounter
}

/** Convert one source's records (its JSONL parts) into documents, kinds in config order, records in file order. */
export function convertSource(parts: Record<string, string>, conversion: Conversion): Doc[] {
  const docs: Doc[] = []
  const {counter} = conversion
  for (const kind of conversion.kinds) {
    if (!datasetNames.includes(kind)) continue
    const jsonl = parts[kind] ?? ''
    let start = 0
    while (start < jsonl.length) {
      let end = jsonl.indexOf('\n', start)
      if (end === -1) end = jsonl.length
      const line = jsonl.slice(start, end)
      start = end + 1
      if (line.trim() === '') continue
      const record = JSON.parse(line) as DatasetRecord
      const instruction = toInstruction(kind, record)
      const text = toText(kind, record)
      const sft = JSON.stringify(instruction) + '\n'
      const chat = JSON.stringify(toChat(instruction)) + '\n'
      docs.push({
        kind,
        id: instruction.id,
        point: splitPoint(conversion.seed, instruction.id),
        sft,
        chat,
        text,
        sftTokens: counter.count(alpacaPrompt(instruction) + instruction.output) + 1,
        chatTokens: counter.count(userText(instruction) + '\n\n' + instruction.output),
        textTokens: counter.count(text) + 1
      })
    }
  }
  return docs
}

/** Characters held by a source's documents (for the conversion memo's budget). */
export function docsSize(docs: readonly Doc[]): number {
  let size = 0
  for (const doc of docs) size += doc.sft.length + doc.chat.length + doc.text.length + 64
  return size
}
