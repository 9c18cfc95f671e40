import path from 'node:path'
import {parseArgs} from 'node:util'
import rehypeStringify from 'rehype-stringify'
import remarkGfm from 'remark-gfm'
import remarkParse from 'remark-parse'
import remarkRehype from 'remark-rehype'
import {unified} from 'unified'
import {cleanField, escapeHtml} from '../../node/anki/html.js'
import {guidFor} from '../../node/anki/ids.js'
import {fieldNames, type FieldName} from '../../node/anki/notetype.js'
import {deckComponent, tagsOf} from '../../node/anki/plan.js'
import {writeApkg, type DeckNote} from '../../node/anki/writer.js'
import {openStore} from '../../node/ask/store.js'
import type {NodeDoc, SessionDoc, Source} from '../../node/ask/types.js'
import {loadConfig, type Config} from '../../node/config/load.js'
import {toChat, wellFormed, type InstructionRecord} from '../../node/datasets/records.js'
import {inValidation, splitPoint} from '../../node/datasets/split.js'
import {writeAtomic} from '../../node/fs/atomic.js'

export const exportConversationsUsage = `Usage: tagpress export conversations [-o DIR] [--config FILE]

Writes the finished (immutable) answers of the ask panel's conversations as
learning material, in DIR (default: out/conversations/):

  qa.jsonl                   one Q/A record per answer, with its model (name, digest, options) and time
  litgpt/{train,val}.jsonl   LitGPT instruction data (--data JSON), with the same provenance
  litgpt/chat/{train,val}.jsonl   the same as chat messages, earlier turns of the conversation included
  anki/conversations.apkg    an Anki deck: AnswerIntro "By <model>:", ParentRef the parent node

Ephemeral sessions, and answers that failed or are still streaming, are left out.
`

/** One exported answer, as `qa.jsonl` holds it. */
export interface ConversationRecord {
  id: string
  session_id: string
  parent_id: string
  page: string
  question: string
  answer: string
  citations: Array<Pick<Source, 'id' | 'href' | 'title' | 'path'>>
  model: {backend: string; name: string; digest?: string; options: Record<string, unknown>}
  answered_at: string
  attempts: number
}

/** `tagpress export conversations`: immutable nodes as Q/A records, LitGPT data and an Anki deck. */
export async function runExportConversations(args: string[]): Promise<number> {
  const {values} = parseArgs({
    args,
    options: {output: {type: 'string', short: 'o'}, config: {type: 'string'}, out: {type: 'string'}, help: {type: 'boolean', short: 'h'}},
    allowPositionals: false,
    strict: true
  })
  if (values.help) {
    process.stdout.write(exportConversationsUsage)
    return 0
  }
  const config = await loadConfig(process.cwd(), {...(values.config ? {config: values.config} : {}), ...(values.out ? {out: values.out} : {})})
  const dir = path.resolve(values.output ?? path.join(config.out, 'conversations'))
  const store = await openStore(config)
  await store.init()
  try {
    const nodes = await store.listImmutable()
    const sessions = new Map<string, SessionDoc>()
    for (const node of nodes) if (!sessions.has(node.tree_id)) sessions.set(node.tree_id, (await store.getSession(node.tree_id)) as SessionDoc)
    const trees = new Map<string, Map<string, NodeDoc>>()
    for (const id of sessions.keys()) trees.set(id, new Map((await store.listTree(id)).map((node) => [node._id, node])))
    const counts = await exportConversations(config, dir, nodes, sessions, trees)
    process.stderr.write('tagpress: exported ' + counts.records + ' answers from ' + sessions.size + ' sessions to ' + path.relative(process.cwd(), dir) + '/ (' + counts.train + ' train, ' + counts.val + ' val, ' + counts.cards + ' cards)\n')
    return 0
  } finally {
    await store.close()
  }
}

const markdown = unified().use(remarkParse).use(remarkGfm).use(remarkRehype).use(rehypeStringify)

/** Write the three outputs; every file is replaced atomically. */
export async function exportConversations(
  config: Config,
  dir: string,
  nodes: NodeDoc[],
  sessions: Map<string, SessionDoc>,
  trees: Map<string, Map<string, NodeDoc>>
): Promise<{records: number; train: number; val: number; cards: number}> {
  const records: string[] = []
  const split = {train: [] as string[], val: [] as string[]}
  const chats = {train: [] as string[], val: [] as string[]}
  const notes: DeckNote[] = []
  const perSession = new Map<string, number>()
  for (const node of nodes) {
    const session = sessions.get(node.tree_id)
    const model = {backend: node.model.backend, name: node.model.name, ...(node.model.digest ? {digest: node.model.digest} : {}), options: node.model.options}
    const answeredAt = node.finished_at ?? node.updated_at
    const record: ConversationRecord = {
      id: node._id,
      session_id: node.tree_id,
      parent_id: node.parent_id,
      page: node.page,
      question: node.question,
      answer: node.answer,
      citations: node.citations.map(({id, href, title, path: chapterPath}) => ({id, href, title, path: chapterPath})),
      model,
      answered_at: answeredAt,
      attempts: node.attempts
    }
    records.push(JSON.stringify(record) + '\n')

    // LitGPT: the question, the page's path as input, the answer with its citation labels resolved to section titles.
    const output = resolveCitations(node.answer, node.sources)
    const source = node.sources[0]
    const instruction: InstructionRecord & {provenance: Record<string, unknown>} = {
      instruction: wellFormed(node.question),
      input: wellFormed(source ? source.path.split(' › ')[0] ?? '' : ''),
      output: wellFormed(output),
      id: node._id,
      kind: 'qa',
      provenance: {model, answered_at: answeredAt, session_id: node.tree_id, parent_id: node.parent_id, page: node.page}
    }
    const side = inValidation(splitPoint(config.litgpt.seed, node._id), config.litgpt.valFraction) ? 'val' : 'train'
    split[side].push(JSON.stringify(instruction) + '\n')
    // Chat: the conversation's earlier turns (the ancestors' finished answers) come first.
    const tree = trees.get(node.tree_id) ?? new Map<string, NodeDoc>()
    const turns: Array<{role: 'user' | 'assistant'; content: string}> = []
    for (const ancestor of node.ancestors) {
      const earlier = tree.get(ancestor)
      if (earlier?.state === 'immutable') turns.push({role: 'user', content: wellFormed(earlier.question)}, {role: 'assistant', content: wellFormed(resolveCitations(earlier.answer, earlier.sources))})
    }
    const chat = toChat(instruction)
    chats[side].push(JSON.stringify({...chat, messages: [...turns, ...chat.messages], provenance: instruction.provenance}) + '\n')

    // Anki: one note per answer, in a deck per session.
    const n = (perSession.get(node.tree_id) ?? 0) + 1
    perSession.set(node.tree_id, n)
    const title = session?.title || node.tree_id
    const fields: Record<FieldName, string> = {
      Instruction: cleanField(escapeHtml('Conversation › ' + title + ' · question ' + n)),
      Question: cleanField(escapeHtml(node.question)),
      AnswerIntro: cleanField(escapeHtml('By ' + node.model.name + ':')),
      Answer: cleanField(String(markdown.processSync(resolveCitations(node.answer, node.sources)))),
      ParentRef: cleanField(escapeHtml(node.parent_id))
    }
    notes.push({
      guid: guidFor('tagpress', config.anki.deck, 'conversation', node._id),
      fields: fieldNames.map((name) => fields[name]),
      tags: ['conversation', ...tagsOf(node.page, undefined)],
      deck: [config.anki.deck, 'Conversations', title].map(deckComponent).join('::'),
      mod: Math.floor(Date.parse(answeredAt) / 1000)
    })
  }
  await writeAtomic(path.join(dir, 'qa.jsonl'), records.join(''))
  for (const side of ['train', 'val'] as const) {
    await writeAtomic(path.join(dir, 'litgpt', side + '.jsonl'), split[side].join(''))
    await writeAtomic(path.join(dir, 'litgpt', 'chat', side + '.jsonl'), chats[side].join(''))
  }
  await writeAtomic(path.join(dir, 'anki', 'conversations.apkg'), await writeApkg({notes, media: []}))
  return {records: records.length, train: split.train.length, val: split.val.length, cards: notes.length}
}

/** `[§2]` → `[Section title]`: labels mean nothing outside the prompt they were given in. */
function resolveCitations(answer: string, sources: Source[]): string {
  const byLabel = new Map(sources.map((source) => [source.label, source.title]))
  return answer.replace(/\[§\s?(\d{1,3})\]/g, (whole, label: string) => {
    const title = byLabel.get(label)
    return title ? '[' + title + ']' : whole
  })
}
