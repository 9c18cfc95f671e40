import {createHash} from 'node:crypto'
import {readdirSync, readFileSync, rmSync, rmdirSync, statSync} from 'node:fs'
import path from 'node:path'
import {writeAtomicSync} from '../fs/atomic.js'
import type {BuildOutput, OutputContext, OutputFile, OutputResult, PublishedFile} from '../outputs/types.js'
import {toolVersion} from '../version.js'
import {tokenCounter} from '../datasets/tokens.js'
import {convertSource, docsSize, type Doc, type Kind} from './convert.js'
import {renderReadme, type ReadmeFile} from './readme.js'
import {LayoutBuilder, SpeculativeFiles, isText, litgptDir, type StreamStat} from './layout.js'
import {PreviousFiles, SegmentFileWriter, sameSegments, type FileState, type Segment} from './segments.js'

/**
 * Per kind, by the threshold rule: `[records, in validation, min training point, its
 * document index, its text tokens, max validation point, its index, its text tokens]`.
 */
type KindSummary = [number, number, number, number, number, number, number, number]

interface Summary {
  k: Partial<Record<Kind, KindSummary>>
  /** Text tokens in validation and in training, by the threshold rule. */
  tv: number
  tt: number
}

interface SourceState {
  /** The published compile (`PublishedFile.key`). */
  key: string
  /** The key of its segments: `key` plus any split decision that was forced on its records (omitted when that is `key`). */
  seg?: string
  sum: Summary
  /** Its share of each stream, `[stream index, ...StreamStat]` (streams listed in the state). */
  st: Array<[number, ...StreamStat]>
  /** Instruction records over the context length: `[id, tokens, kind]`, at most three. */
  over?: Array<[string, number, Kind]>
}

/** An output file as the state keeps it; its segments follow from the sources (see `layoutOf`). */
interface FileSummary {
  stream: string
  sha256: string
}

interface AuxState {
  bytes: number
  records: number
  sha256: string
}

/** Kept in `.tagpress/litgpt-state.json` (the build's own state only holds its digest). */
interface LitgptState {
  version: 2
  settings: string
  streams: string[]
  /** Sources in build order. */
  order: string[]
  sources: Record<string, SourceState>
  files: Record<string, FileSummary>
  aux: Record<string, AuxState>
}

/** What the build keeps for this output: which state file goes with this out folder. */
interface StatePointer {
  version: 2
  digest: string
}

/** 0 train, 1 validation, 2 both (a kind with a single record). */
type Side = 0 | 1 | 2

interface Forced {
  sft?: Side
  text?: Side
}

/** Forced split decisions, per source, per document index. */
type ForcedMap = Map<string, Map<number, Forced>>

function force(forced: ForcedMap, source: string, index: number, decision: Forced): void {
  let map = forced.get(source)
  if (!map) {
    map = new Map()
    forced.set(source, map)
  }
  map.set(index, {...map.get(index), ...decision})
}

/**
 * Characters of converted documents kept between the passes, when they were not written in the first (see
 * `SpeculativeFiles`: a first build whose split decisions were not forced). A small corpus is converted once; a
 * large one is converted again where it is written: at 10,000 files a 64 M budget held ~150 MB through the step (its peak 533 →
 * 383 MB without a memo) and saved ~0.5 s of a 6–7 s step, less than this host's spread (no state: 5.8–7.1 s against
 * 6.6–7.4 s with 8 M, two runs each; 1,000 files within noise).
 */
const memoBudget = 8 * 1024 * 1024

export const litgptOutput: BuildOutput = {
  name: 'litgpt',
  write: writeLitgpt
}

/**
 * `out/datasets/litgpt/`: instruction-tuning folders (LitGPT `--data JSON`)
 * per kind and combined, the same records as chat messages, pretraining text
 * folders (`--data TextFiles`), token statistics, provenance and a README with
 * the commands. A rebuild rewrites only the files whose sources changed and
 * copies every unchanged source's bytes from the previous files.
 */
async function writeLitgpt(context: OutputContext): Promise<OutputResult> {
  const {config} = context
  const options = config.litgpt
  const outDir = config.out
  const baseDir = path.join(outDir, litgptDir)
  const counter = await tokenCounter(options.tokenizer)
  const separator = counter.eos ?? '<|endoftext|>'
  const kinds = [...new Set(options.kinds)]
  const settings = hash(JSON.stringify([toolVersion, options, counter.method, separator, 1]))
  const stateFile = path.join(context.stateDir, 'litgpt-state.json')
  const previousState = readState(stateFile, context.previous)
  const sameSettings = previousState?.settings === settings
  const previousSources = sameSettings ? previousState.sources : {}
  const streams = [...jsonlStreams(kinds), ...textStreams]
  const oldFiles = sameSettings ? layoutOf(previousState, options.textFileBytes, previousState.files) : new Map<string, FileState>()
  const previous = new PreviousFiles(outDir, Object.fromEntries(oldFiles))

  const files = context.files.filter((file) => file.meta.settings.datasets !== false)
  const conversion = {kinds, seed: options.seed, counter}
  const fraction = options.valFraction
  const need = Math.ceil(options.microBatchSize * (options.contextLength + 1) * (counter.exact ? 1 : 1.5))

  // 1. Summaries: from the state for unchanged sources, else by converting the source's records.
  const memo = new Map<string, Doc[]>()
  let memoSize = 0
  const docsOf = (file: PublishedFile): Doc[] => {
    const cached = memo.get(file.source)
    if (cached) return cached
    const docs = convertSource(file.parts(), conversion)
    const size = docsSize(docs)
    if (memoSize + size <= memoBudget) {
      memo.set(file.source, docs)
      memoSize += size
    }
    return docs
  }
  const summaries = new Map<string, Summary>()
  // A converted source's share of each stream as the threshold rule alone splits it, taken in the same pass: step 3
  // then converts only the few sources with a forced decision again (a cold build converted every source three times).
  const unforced = new Map<string, ReturnType<typeof sourceStats>>()
  const stopping = () => context.stopping?.() === true
  // With nothing to reuse, every source is converted here: its shares are written here too (see `SpeculativeFiles`).
  const speculative = Object.keys(previousSources).length === 0 ? new SpeculativeFiles(outDir, options.textFileBytes) : undefined
  try {
    files.forEach((file, index) => {
      const old = previousSources[file.source]
      if (old && old.key === file.key) {
        summaries.set(file.source, old.sum)
        return
      }
      if (speculative && index % 256 === 255 && stopping()) throw stopped
      // Written at once, never kept: no memo for a source whose shares are on disk.
      const docs = speculative ? convertSource(file.parts(), conversion) : docsOf(file)
      summaries.set(file.source, summarize(docs, fraction))
      const segments = sourceSegments(docs, undefined, fraction, kinds, separator, options.contextLength)
      const stats = segmentStats(segments, docs, kinds, options.contextLength)
      unforced.set(file.source, stats)
      speculative?.add(file.source, file.key, streams.flatMap((stream): Array<[string, StreamStat, string]> => {
        const share = segments.get(stream)
        return share ? [[stream, stats.stats[stream] as StreamStat, share.parts.join('')]] : []
      }))
    })
  } catch (error) {
    speculative?.abort()
    if (error === stopped) return {files: [], stopped: true}
    throw error
  }

  // 2. Split decisions that the threshold rule cannot make alone.
  const forced: ForcedMap = new Map()
  let textVal = 0
  let textTrain = 0
  for (const summary of summaries.values()) {
    textVal += summary.tv
    textTrain += summary.tt
  }
  for (const kind of kinds) {
    let total = 0
    let inVal = 0
    // Ties (equal points) go to the earlier source.
    let minTrain: {source: string; point: number; index: number; tokens: number} | undefined
    let maxVal: {source: string; point: number; index: number; tokens: number} | undefined
    for (const file of files) {
      const entry = summaries.get(file.source)?.k[kind]
      if (!entry) continue
      total += entry[0]
      inVal += entry[1]
      if (entry[0] - entry[1] > 0 && (!minTrain || entry[2] < minTrain.point)) minTrain = {source: file.source, point: entry[2], index: entry[3], tokens: entry[4]}
      if (entry[1] > 0 && (!maxVal || entry[5] > maxVal.point)) maxVal = {source: file.source, point: entry[5], index: entry[6], tokens: entry[7]}
    }
    if (total === 1) {
      // One record: in both splits, so neither is empty.
      const only = (minTrain ?? maxVal) as NonNullable<typeof minTrain>
      force(forced, only.source, only.index, {sft: 2, text: 2})
      if (minTrain) textVal += only.tokens
      else textTrain += only.tokens
    } else if (total > 1 && inVal === 0 && minTrain) {
      force(forced, minTrain.source, minTrain.index, {sft: 1, text: 1})
      textVal += minTrain.tokens
      textTrain -= minTrain.tokens
    } else if (total > 1 && inVal === total && maxVal) {
      force(forced, maxVal.source, maxVal.index, {sft: 0, text: 0})
      textTrain += maxVal.tokens
      textVal -= maxVal.tokens
    }
  }
  // Pretraining validation must hold one batch (LitGPT stops with "stack expects a non-empty TensorList" otherwise):
  // top it up with the training documents nearest to the threshold.
  if (textVal < need && textTrain > 0) {
    const candidates: Array<{source: string; order: number; index: number; point: number; tokens: number}> = []
    files.forEach((file, order) => {
      docsOf(file).forEach((doc, index) => {
        if (textSide(doc, forced.get(file.source)?.get(index), fraction) === 0) candidates.push({source: file.source, order, index, point: doc.point, tokens: doc.textTokens})
      })
    })
    candidates.sort((a, b) => a.point - b.point || a.order - b.order || a.index - b.index)
    for (const candidate of candidates) {
      if (textVal >= need || textTrain - candidate.tokens < need) break
      force(forced, candidate.source, candidate.index, {text: 1})
      textVal += candidate.tokens
      textTrain -= candidate.tokens
    }
  }
  if (kinds.length > 0 && textVal + textTrain > 0 && (textVal < need || textTrain < need)) {
    const shortOf = textVal < need ? 'validation' : 'training'
    context.warn(
      `LitGPT pretraining text: the ${shortOf} folder holds about ${shortOf === 'validation' ? textVal : textTrain} tokens, fewer than one batch ` +
        `(litgpt.microBatchSize ${options.microBatchSize} × (litgpt.contextLength ${options.contextLength} + 1)${counter.exact ? '' : ', with a margin for the estimate'} = ${need}); ` +
        'lower litgpt.contextLength or add text, or `litgpt pretrain` will stop on it'
    )
  }

  // 3. Each source's segment key and its share of every stream.
  const sources: Record<string, SourceState> = {}
  for (const file of files) {
    const decisions = forced.get(file.source)
    const seg = decisions
      ? hash(file.key + '\n' + [...decisions].sort((a, b) => a[0] - b[0]).map(([index, decision]) => index + ':' + (decision.sft ?? '-') + (decision.text ?? '-')).join(' '))
      : undefined
    const old = previousSources[file.source]
    if (old && old.key === file.key && old.seg === seg) {
      sources[file.source] = old
      continue
    }
    const {stats, over} = (!decisions && unforced.get(file.source)) || sourceStats(docsOf(file), decisions, fraction, kinds, separator, options.contextLength)
    sources[file.source] = {
      key: file.key,
      ...(seg ? {seg} : {}),
      sum: summaries.get(file.source) as Summary,
      st: streams.flatMap((stream, index): Array<[number, ...StreamStat]> => (stats[stream] ? [[index, ...(stats[stream] as StreamStat)]] : [])),
      ...(over.length > 0 ? {over} : {})
    }
  }
  const state: LitgptState = {version: 2, settings, streams, order: files.map((file) => file.source), sources, files: {}, aux: {}}

  // 4. Layout: the segments of every file.
  const layout = layoutOf(state, options.textFileBytes)

  // 5. Write the files whose segments changed, copying unchanged segments from the previous files.
  const changed = new Map<string, FileState>()
  for (const [file, fileState] of layout) {
    const old = oldFiles.get(file)
    if (old && old.stream === fileState.stream && sameSegments(old.segments, fileState.segments) && previous.intact(file)) fileState.sha256 = old.sha256
    else changed.set(file, fileState)
  }
  const writers: SegmentFileWriter[] = []
  try {
    const written = speculative?.finish(layout)
    if (written) writers.push(...written)
    else if (changed.size > 0) writeChanged(changed, files, outDir, previous, writers, (file) => sourceSegments(docsOf(file), forced.get(file.source), fraction, kinds, separator), stopping)
    // Nothing is in place yet: a newer edit may still leave every file (and the state) as the previous build wrote them.
    if (stopping()) throw stopped
    for (const writer of writers) writer.commit()
  } catch (error) {
    for (const writer of writers) writer.abort()
    speculative?.abort()
    if (error === stopped) return {files: [], stopped: true}
    throw error
  } finally {
    previous.close()
  }

  // Files of the previous build that are no longer produced; LitGPT's cache of text that changed.
  const textChanged = new Set<string>()
  for (const fileState of changed.values()) if (isText(fileState.stream)) textChanged.add(fileState.stream)
  for (const [file, old] of Object.entries(previousState?.files ?? {})) {
    if (layout.has(file)) continue
    rmSync(path.join(outDir, file), {force: true})
    if (isText(old.stream)) textChanged.add(old.stream)
  }
  if (!previousState) for (const stream of textStreams) textChanged.add(stream)
  for (const stream of textChanged) {
    // TextFiles keeps its tokenized copy in `<train_data_path>/train` and `<val_data_path>/val` and reuses it blindly.
    rmSync(path.join(baseDir, stream, path.basename(stream)), {recursive: true, force: true})
  }

  // 6. Provenance, statistics and the README.
  const aux: Record<string, AuxState> = {}
  const oldAux = previousState?.aux ?? {}
  const writeAux = (name: string, text: string, records: number): void => {
    const file = litgptDir + '/' + name
    const data = Buffer.from(text)
    const sha256 = createHash('sha256').update(data).digest('hex')
    const old = oldAux[file]
    if (!(old && old.sha256 === sha256 && statSync(path.join(outDir, file), {throwIfNoEntry: false})?.size === data.length)) {
      writeAtomicSync(path.join(outDir, file), data)
    }
    aux[file] = {bytes: data.length, records, sha256}
  }
  const sourceLines = files.map(
    (file) =>
      JSON.stringify({
        source: file.source,
        file_id: file.meta.fileId,
        sha256: file.meta.hash,
        tags: file.meta.settings.tags ?? [],
        records: file.meta.counts
      }) + '\n'
  )
  writeAux('sources.jsonl', sourceLines.join(''), files.length)

  const fileList: ReadmeFile[] = [...layout].map(([file, state]) => ({
    path: file.slice(litgptDir.length + 1),
    stream: state.stream,
    records: state.records,
    bytes: state.bytes,
    sha256: state.sha256,
    tokens: state.tokens,
    maxTokens: state.maxTokens,
    over: state.over
  }))
  const overList: Array<[string, number, Kind]> = []
  for (const file of files) overList.push(...((sources[file.source] as SourceState).over ?? []))
  overList.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
  const stats = {
    tokens: counter.method,
    exact: counter.exact,
    context_length: options.contextLength,
    micro_batch_size: options.microBatchSize,
    pretraining_validation_minimum: options.microBatchSize * (options.contextLength + 1),
    text_separator: separator,
    longest: overList.slice(0, 10).map(([id, tokens]) => ({id, tokens})),
    files: Object.fromEntries(
      fileList.map((file) => [
        file.path,
        {records: file.records, bytes: file.bytes, tokens: file.tokens, max_tokens: file.maxTokens, mean_tokens: file.records ? Math.round(file.tokens / file.records) : 0, over_context: file.over}
      ])
    )
  }
  writeAux('stats.json', JSON.stringify(stats, null, 2) + '\n', fileList.length)
  for (const kind of kinds) {
    const over = fileList.filter((file) => file.stream === kind + '/train.jsonl' || file.stream === kind + '/val.jsonl').reduce((sum, file) => sum + file.over, 0)
    if (over === 0) continue
    const longest = overList.find((entry) => entry[2] === kind)
    context.warn(
      `${over} LitGPT ${kind} record${over === 1 ? ' is' : 's are'} longer than litgpt.contextLength (${options.contextLength} tokens${counter.exact ? '' : ', estimated'})` +
        (longest ? `; the longest, ${longest[0]}, has ${longest[1]}` : '') +
        '; LitGPT cuts them at --train.max_seq_length'
    )
  }
  const readme = renderReadme({
    config,
    buildId: context.buildId,
    toolVersion,
    kinds,
    files: fileList,
    sources: files.map((file) => ({source: file.source, sha256: file.meta.hash})),
    sourcesSha256: (aux[litgptDir + '/sources.jsonl'] as AuxState).sha256,
    statsSha256: (aux[litgptDir + '/stats.json'] as AuxState).sha256,
    counter,
    separator,
    textTokens: {val: textVal, train: textTrain, need}
  })
  writeAux('README.md', readme, 0)

  if (!previousState) removeStrays(baseDir, new Set([...layout.keys(), ...Object.keys(aux)].map((file) => path.join(outDir, file))))
  else for (const file of Object.keys(previousState.aux ?? {})) if (!aux[file]) rmSync(path.join(outDir, file), {force: true})

  const result: OutputFile[] = []
  for (const [file, fileState] of layout) {
    result.push({path: file, records: fileState.records, bytes: fileState.bytes, sha256: fileState.sha256})
    state.files[file] = {stream: fileState.stream, sha256: fileState.sha256}
  }
  for (const [file, entry] of Object.entries(aux)) result.push({path: file, records: entry.records, bytes: entry.bytes, sha256: entry.sha256})
  state.aux = aux
  const text = JSON.stringify(state)
  writeAtomicSync(stateFile, text)
  return {files: result, state: {version: 2, digest: createHash('sha256').update(text).digest('hex').slice(0, 32)}}
}

/** Thrown through the writing when a newer edit waits (`context.stopping`). */
const stopped = new Error('stopped for a newer edit')

/** The JSONL files, in the order they are listed: per kind, combined, then every kind as chat messages. */
export function jsonlStreams(kinds: readonly Kind[]): string[] {
  const streams: string[] = []
  for (const group of [...kinds, 'all']) for (const split of ['train', 'val']) streams.push(group + '/' + split + '.jsonl')
  streams.push('chat/train.jsonl', 'chat/val.jsonl')
  return streams
}

const textStreams = ['text/train', 'text/val'] as const

/** The files of a state and their segments (see `LayoutBuilder`); `known` adds the hashes. */
function layoutOf(state: LitgptState, textFileBytes: number, known?: Record<string, FileSummary>): Map<string, FileState> {
  const builder = new LayoutBuilder(textFileBytes, known)
  for (const source of state.order) {
    const entry = state.sources[source]
    if (!entry) continue
    for (const [index, ...stat] of entry.st) if (stat[1] > 0) builder.add(source, entry.seg ?? entry.key, state.streams[index] as string, stat)
  }
  return builder.layout(state.streams)
}

function sftSide(doc: Doc, decision: Forced | undefined, fraction: number): Side {
  if (decision?.sft !== undefined) return decision.sft
  return doc.point < fraction ? 1 : 0
}

function textSide(doc: Doc, decision: Forced | undefined, fraction: number): Side {
  if (decision?.text !== undefined) return decision.text
  return sftSide(doc, decision, fraction)
}

function summarize(docs: readonly Doc[], fraction: number): Summary {
  const summary: Summary = {k: {}, tv: 0, tt: 0}
  docs.forEach((doc, index) => {
    const entry = (summary.k[doc.kind] ??= [0, 0, 2, -1, 0, -1, -1, 0])
    entry[0]++
    if (doc.point < fraction) {
      entry[1]++
      summary.tv += doc.textTokens
      if (doc.point > entry[5]) {
        entry[5] = doc.point
        entry[6] = index
        entry[7] = doc.textTokens
      }
    } else {
      summary.tt += doc.textTokens
      if (doc.point < entry[2]) {
        entry[2] = doc.point
        entry[3] = index
        entry[4] = doc.textTokens
      }
    }
  })
  return summary
}

interface StreamText {
  parts: string[]
  records: number
  tokens: number
  maxTokens: number
  over: number
}

/** A source's text in every stream, under the split decisions. */
function sourceSegments(docs: readonly Doc[], forced: Map<number, Forced> | undefined, fraction: number, kinds: readonly Kind[], separator: string, contextLength = Infinity): Map<string, StreamText> {
  const streams = new Map<string, StreamText>()
  const push = (stream: string, text: string, tokens: number, counted = true): void => {
    let entry = streams.get(stream)
    if (!entry) {
      entry = {parts: [], records: 0, tokens: 0, maxTokens: 0, over: 0}
      streams.set(stream, entry)
    }
    entry.parts.push(text)
    entry.records++
    entry.tokens += tokens
    entry.maxTokens = Math.max(entry.maxTokens, tokens)
    if (counted && tokens > contextLength) entry.over++
  }
  const suffix = separator ? '\n' + separator + '\n' : '\n\n'
  // Per kind first, then combined (docs are already in kind order), so every stream is in source order.
  docs.forEach((doc, index) => {
    if (!kinds.includes(doc.kind)) return
    const decision = forced?.get(index)
    const side = sftSide(doc, decision, fraction)
    for (const split of splitsOf(side)) {
      push(doc.kind + '/' + split + '.jsonl', doc.sft, doc.sftTokens)
      push('all/' + split + '.jsonl', doc.sft, doc.sftTokens)
      push('chat/' + split + '.jsonl', doc.chat, doc.chatTokens)
    }
    for (const split of splitsOf(textSide(doc, decision, fraction))) push('text/' + split, doc.text + suffix, doc.textTokens, false)
  })
  return streams
}

function splitsOf(side: Side): Array<'train' | 'val'> {
  return side === 0 ? ['train'] : side === 1 ? ['val'] : ['train', 'val']
}

function sourceStats(
  docs: readonly Doc[],
  forced: Map<number, Forced> | undefined,
  fraction: number,
  kinds: readonly Kind[],
  separator: string,
  contextLength: number
): {stats: Record<string, StreamStat>; over: Array<[string, number, Kind]>} {
  return segmentStats(sourceSegments(docs, forced, fraction, kinds, separator, contextLength), docs, kinds, contextLength)
}

/** A source's share of each stream in numbers, and its longest instruction records over the context length. */
function segmentStats(
  segments: ReadonlyMap<string, StreamText>,
  docs: readonly Doc[],
  kinds: readonly Kind[],
  contextLength: number
): {stats: Record<string, StreamStat>; over: Array<[string, number, Kind]>} {
  const stats: Record<string, StreamStat> = {}
  for (const [stream, entry] of segments) {
    let bytes = 0
    for (const part of entry.parts) bytes += Buffer.byteLength(part)
    stats[stream] = [bytes, entry.records, entry.tokens, entry.maxTokens, entry.over]
  }
  const over = docs
    .filter((doc) => kinds.includes(doc.kind) && doc.sftTokens > contextLength)
    .map((doc): [string, number, Kind] => [doc.id, doc.sftTokens, doc.kind])
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
  return {stats, over}
}

/** One pass over the sources: every changed file gets its segments in order, copied when possible. */
function writeChanged(
  changed: Map<string, FileState>,
  files: readonly PublishedFile[],
  outDir: string,
  previous: PreviousFiles,
  writers: SegmentFileWriter[],
  generate: (file: PublishedFile) => Map<string, StreamText>,
  stopping: () => boolean
): void {
  // For each source, the changed files it contributes to; for each file, the index of its last source.
  const order = new Map(files.map((file, index) => [file.source, index]))
  const tasks = new Map<number, Array<{file: string; state: FileState; segment: Segment}>>()
  const last = new Map<string, number>()
  for (const [file, state] of changed) {
    for (const segment of state.segments) {
      const index = order.get(segment[0]) as number
      const list = tasks.get(index) ?? []
      list.push({file, state, segment})
      tasks.set(index, list)
      last.set(file, index)
    }
  }
  const open = new Map<string, SegmentFileWriter>()
  for (let index = 0; index < files.length; index++) {
    if (index % 256 === 255 && stopping()) throw stopped
    const list = tasks.get(index)
    if (!list) continue
    const file = files[index] as PublishedFile
    let generated: Map<string, StreamText> | undefined
    for (const {file: target, state, segment} of list) {
      let writer = open.get(target)
      if (!writer) {
        writer = new SegmentFileWriter(path.join(outDir, target), previous)
        writers.push(writer)
        open.set(target, writer)
      }
      const located = previous.locate(state.stream, segment[0], segment[1])
      if (located && located.bytes === segment[2]) writer.copy(located.fd, located.offset, located.bytes)
      else {
        generated ??= generate(file)
        writer.append((generated.get(state.stream)?.parts ?? []).join(''))
      }
      if (last.get(target) === index) {
        state.sha256 = writer.finish()
        open.delete(target)
      }
    }
  }
}

/** Without a previous state: remove files of ours that this build did not produce (an older build's). */
function removeStrays(dir: string, keep: Set<string>): void {
  let entries
  try {
    entries = readdirSync(dir, {withFileTypes: true})
  } catch {
    return
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) {
      removeStrays(full, keep)
      try {
        rmdirSync(full)
      } catch {
        // Not empty: something we keep is inside.
      }
    } else if (!keep.has(full) && (/\.(jsonl|json|md)$/.test(entry.name) || /^part-\d{5}\.txt$/.test(entry.name))) rmSync(full, {force: true})
  }
}

/** The previous state, if the build's pointer says it belongs to the out folder being built. */
function readState(file: string, pointer: unknown): LitgptState | undefined {
  const expected = pointer as StatePointer | undefined
  if (!expected || expected.version !== 2 || typeof expected.digest !== 'string') return undefined
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
  if (createHash('sha256').update(text).digest('hex').slice(0, 32) !== expected.digest) return undefined
  const state = JSON.parse(text) as LitgptState
  return state.version === 2 ? state : undefined
}

function hash(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 40)
}

