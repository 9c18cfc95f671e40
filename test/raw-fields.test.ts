import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {describe, expect, it} from 'vitest'
import {exportBatches} from '../src/node/datasets/export.js'
import {readLineBatches} from '../src/node/datasets/lines.js'
import {filterFields, qaInstructionLine} from '../src/node/datasets/raw-fields.js'
import {toInstruction, type QaItem} from '../src/node/datasets/records.js'

// Records the way tagpress writes them (JSON.stringify), chosen to trip a hand-written reader.
const tricky: QaItem[] = [
  {id: 'a#q', file_id: 'a', chapter_id: '1', chapter_tree: ['Guide', 'Setup'], question: 'What is "id":?', answer: 'A key in a value: "answer":"no"', url: 'a.html#q'},
  {id: 'b#q', file_id: 'b', chapter_id: '1.2', chapter_tree: [], question: 'Ends in a backslash \\', answer: 'Two \\\\" and a tab\tand a newline\n', url: 'b.html#q'},
  {id: 'c#q', file_id: 'c', chapter_id: '2', chapter_tree: ['Ünïcødé ✓', 'emoji 🎉', 'quote " > arrow'], question: 'Straße?', answer: 'line\u2028separator', url: 'c.html#q'},
  {id: 'd#q', file_id: 'd', chapter_id: '3', chapter_tree: ['lone \ud800 surrogate'], question: 'Broken \udc00 too', answer: 'ok', url: 'd.html#q'},
  {id: 'e#q', file_id: 'e', chapter_id: '4', chapter_tree: ['path \\u0041 literal'], question: 'slash / and \\/', answer: '', url: 'e.html#q'}
]

describe('reading record lines without parsing them', () => {
  it('splices the same instruction line that parse and stringify give, or declines', () => {
    for (const record of tricky) {
      const line = JSON.stringify(record)
      const expected = JSON.stringify(toInstruction('qa', record))
      const spliced = qaInstructionLine(line)
      // A lone surrogate is written as a \u escape: the splice declines and the parser's path replaces it.
      if (record.id === 'd#q' || record.id === 'e#q') expect(spliced).toBeUndefined()
      else expect(spliced).toBe(expected)
    }
  })

  it('declines lines tagpress did not write that way', () => {
    expect(qaInstructionLine('{"id": "x", "question": "q", "answer": "a", "chapter_tree": []}')).toBeUndefined()
    expect(qaInstructionLine('{"id":"x","question":"q","answer":"a","chapter_tree":[1]}')).toBeUndefined()
    expect(qaInstructionLine('{"id":"x","question":"q","answer":"a","chapter_tree":["open')).toBeUndefined()
    expect(qaInstructionLine('{"id":"x","question":"q","chapter_tree":[]}')).toBeUndefined()
  })

  it('reads the filter fields, or declines when one holds an escape', () => {
    expect(filterFields(JSON.stringify(tricky[0]))).toEqual({id: 'a#q', file_id: 'a', chapter_id: '1'})
    expect(filterFields('{"id":"a\\"b","file_id":"a"}')).toBeUndefined()
    expect(filterFields('{"id":7}')).toBeUndefined()
  })

  it('an Alpaca export equals parse-and-stringify record by record, across reads and batches', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tagpress-raw-'))
    try {
      // Enough records for several 256 KB reads, so lines cross read and batch boundaries.
      const records = Array.from({length: 6000}, (_, index) => ({...tricky[index % tricky.length]!, id: `p${index}#q`, question: `Q${index} ${tricky[index % tricky.length]!.question}`}))
      writeFileSync(path.join(dir, 'qa.jsonl'), records.map((record) => JSON.stringify(record) + '\n').join(''))
      const out: string[] = []
      for await (const batch of exportBatches({datasetsDir: dir, dataset: 'qa', format: 'alpaca'})) out.push(...(batch.items ?? []))
      expect(out).toEqual(records.map((record) => JSON.stringify(toInstruction('qa', record)) + '\n'))
      let lines = 0
      let first = 1
      for await (const batch of readLineBatches(path.join(dir, 'qa.jsonl'), {chunkSize: 1000, batchSize: 300})) {
        expect(batch.first).toBe(first)
        batch.lines.forEach((line, index) => expect(JSON.parse(line).id).toBe(records[lines + index]!.id))
        lines += batch.lines.length
        first += batch.lines.length
      }
      expect(lines).toBe(records.length)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
