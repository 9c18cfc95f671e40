/**
 * The dataset records (SPEC §2) and what tagpress makes of them for trainers:
 * instruction records (`{"instruction","input","output"}`, LitGPT's `JSON`
 * module and the Alpaca layout), chat records (`{"messages":[…]}`, for TRL,
 * Axolotl and the like) and plain-text documents (pretraining).
 */

/** The three datasets of `out/datasets/`. */
export type DatasetName = 'qa' | 'blocks' | 'chapters'
export const datasetNames: readonly DatasetName[] = ['qa', 'blocks', 'chapters']

export interface BlockItem {
  id: string
  file_id: string
  block_index: number
  kind: string
  lang?: string
  chapter_id: string
  chapter_tree: string[]
  content: string
}

export interface ChapterItem {
  file_id: string
  chapter_id: string
  chapter_tree: string[]
  title: string
  level: number
  content: string
}

export interface QaItem {
  id: string
  file_id: string
  chapter_id: string
  chapter_tree: string[]
  question: string
  answer: string
  url: string
}

export type DatasetRecord = BlockItem | ChapterItem | QaItem

/** An instruction record: the keys LitGPT's `JSON` module reads, plus where it came from. */
export interface InstructionRecord {
  instruction: string
  input: string
  output: string
  id: string
  kind: 'qa' | 'block' | 'chapter'
}

export interface ChatRecord {
  messages: Array<{role: 'user' | 'assistant'; content: string}>
  id: string
  kind: InstructionRecord['kind']
}

const kindOf: Record<DatasetName, InstructionRecord['kind']> = {qa: 'qa', blocks: 'block', chapters: 'chapter'}

/** Lone surrogates become U+FFFD: JSON would escape them, and Python's UTF-8 encoder (the tokenizer) rejects them. */
export function wellFormed(text: string): string {
  const string = text as unknown as {isWellFormed?: () => boolean; toWellFormed?: () => string}
  if (string.isWellFormed && string.toWellFormed) return string.isWellFormed() ? text : string.toWellFormed()
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
}

/** The chapter path as one line: `Guide > Setup > Install`. */
export function chapterPath(tree: readonly string[]): string {
  return tree.join(' > ')
}

/**
 * A record's identity, for the split and for filters: block and Q/A items
 * have an `id`; a chapter item's is `<file_id>#chapter<chapter_id>`, the
 * counterpart of a block's `<file_id>#block<block_index>`.
 */
export function recordId(dataset: DatasetName, record: DatasetRecord): string {
  if (dataset === 'chapters') return record.file_id + '#chapter' + record.chapter_id
  return (record as BlockItem | QaItem).id
}

/** A code block as Markdown: fenced, with its language, the fence longer than any backtick run inside. */
export function fence(code: string, lang?: string): string {
  let longest = 0
  for (const match of code.matchAll(/`+/g)) longest = Math.max(longest, match[0].length)
  const ticks = '`'.repeat(Math.max(3, longest + 1))
  return ticks + (lang ?? '') + '\n' + code + '\n' + ticks
}

/** A block item's Markdown: its content, or for code the fenced code. */
export function blockMarkdown(record: BlockItem): string {
  return record.kind === 'code' ? fence(record.content, record.lang) : record.content
}

/**
 * The instruction record of a dataset record:
 * - Q/A pair: the question, with the chapter path as `input` (context), the answer as `output`;
 * - block item: the user's `Q=<file_id>#<block_index>` pattern, the block's Markdown as `output`;
 * - chapter item: the chapter path as the instruction, the whole chapter as `output`.
 */
export function toInstruction(dataset: DatasetName, record: DatasetRecord): InstructionRecord {
  const id = recordId(dataset, record)
  const kind = kindOf[dataset]
  if (dataset === 'qa') {
    const qa = record as QaItem
    return {instruction: wellFormed(qa.question), input: wellFormed(chapterPath(qa.chapter_tree)), output: wellFormed(qa.answer), id, kind}
  }
  if (dataset === 'blocks') {
    const block = record as BlockItem
    return {instruction: wellFormed(block.file_id + '#' + block.block_index), input: '', output: wellFormed(blockMarkdown(block)), id, kind}
  }
  const chapter = record as ChapterItem
  const instruction = chapter.chapter_tree.length > 0 ? chapterPath(chapter.chapter_tree) : chapter.title || chapter.file_id
  return {instruction: wellFormed(instruction), input: '', output: wellFormed(chapter.content), id, kind}
}

/** The user turn of a chat record: the context (if any), a blank line, the instruction. */
export function userText(record: InstructionRecord): string {
  return record.input ? record.input + '\n\n' + record.instruction : record.instruction
}

export function toChat(record: InstructionRecord): ChatRecord {
  return {
    messages: [
      {role: 'user', content: userText(record)},
      {role: 'assistant', content: record.output}
    ],
    id: record.id,
    kind: record.kind
  }
}

/** A record as a plain-text document: Q/A as question, blank line, answer; blocks and chapters as their Markdown. */
export function toText(dataset: DatasetName, record: DatasetRecord): string {
  let text: string
  if (dataset === 'qa') text = (record as QaItem).question + '\n\n' + (record as QaItem).answer
  else if (dataset === 'blocks') text = blockMarkdown(record as BlockItem)
  else text = (record as ChapterItem).content
  // A BOM at the start of a text file would be read as text by LitGPT.
  return wellFormed(text).replace(/^\uFEFF+/, '').trim()
}

/** LitGPT's `alpaca` prompt (litgpt/prompts.py `Alpaca.apply`): what the model sees before the response. */
export function alpacaPrompt(record: Pick<InstructionRecord, 'instruction' | 'input'>): string {
  if (record.input) {
    return (
      'Below is an instruction that describes a task, paired with an input that provides further context. ' +
      'Write a response that appropriately completes the request.\n\n' +
      `### Instruction:\n${record.instruction}\n\n### Input:\n${record.input}\n\n### Response:\n`
    )
  }
  return (
    'Below is an instruction that describes a task. Write a response that appropriately completes the request.\n\n' +
    `### Instruction:\n${record.instruction}\n\n### Response:\n`
  )
}

/** Keys that crash LitGPT's `SFTDataset` (`prompt_style.apply(prompt=…, **example)`). */
export const forbiddenKeys = ['prompt', 'self'] as const
