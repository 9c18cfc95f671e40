import {readFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {contextMessage} from '../src/node/ask/prompt.js'
import {Retriever, TokenEstimator} from '../src/node/ask/retrieval.js'
import {loadConfig, type Config} from '../src/node/config/load.js'
import {Project} from './helpers/project.js'

// Retrieval over the compiler's records of the example site (content/): each
// question of the fixture names the section it should cite. The right section
// must be in the top 3 every time, and first at least 80% of the time.

interface Question {
  page: string
  question: string
  section: string
  scope?: 'page' | 'site'
  expectPage?: string
}

const repo = path.join(import.meta.dirname, '..')
const questions = JSON.parse(readFileSync(path.join(import.meta.dirname, 'fixtures', 'ask', 'questions.json'), 'utf8')) as Question[]

describe('retrieval on content/', () => {
  let project: Project
  let config: Config
  let retriever: Retriever

  beforeAll(async () => {
    // A copy, so nothing here touches the repository's own .tagpress/.
    project = Project.copyOf(repo)
    config = await loadConfig(project.dir, {}, {})
    retriever = new Retriever(config)
  })

  afterAll(() => project?.dispose())

  it('ranks the expected section top 3 on every question and first on at least 80%', async () => {
    expect(questions.length).toBeGreaterThanOrEqual(20)
    let first = 0
    const misses: string[] = []
    for (const item of questions) {
      const ranked = await retriever.rank(item.question, {page: item.page, scope: item.scope ?? 'page'})
      const sections: string[] = []
      for (const {unit} of ranked) {
        const key = unit.page + '#' + unit.anchor
        if (!sections.includes(key)) sections.push(key)
      }
      const position = sections.indexOf((item.expectPage ?? item.page) + '#' + item.section)
      if (position === 0) first++
      if (position < 0 || position > 2) misses.push(item.question + ' → ' + sections.slice(0, 3).join(', '))
    }
    console.log('retrieval: top-1 ' + first + '/' + questions.length + ' (' + ((100 * first) / questions.length).toFixed(1) + '%), top-3 ' + (questions.length - misses.length) + '/' + questions.length)
    expect(misses).toEqual([])
    expect(first / questions.length).toBeGreaterThanOrEqual(0.8)
  })

  it('fills the token budget in document order, with anchors and chapter paths, and cites by label', async () => {
    const {parts, sources} = await retriever.context('How do I pull a model and tell tagpress which one to use?', {page: 'ask/backends', scope: 'page', budget: 500})
    const tokens = parts.reduce((sum, part) => sum + part.unit.tokens, 0)
    expect(tokens).toBeLessThanOrEqual(500)
    expect(parts.map((part) => part.unit.anchor)).toContain('ollama')
    const orders = parts.map((part) => part.unit.order)
    expect(orders).toEqual([...orders].sort((a, b) => a - b))
    expect(sources.map((source) => source.label)).toEqual(sources.map((_, index) => String(index + 1)))
    const ollama = sources.find((source) => source.anchor === 'ollama')!
    expect(ollama.href).toBe('/ask/backends.html#ollama')
    expect(ollama.path).toBe('Model backends › Ollama')
    const message = contextMessage({fileId: 'ask/backends', title: 'Model backends'}, parts, 'q')
    expect(message).toContain('<section label="' + ollama.label + '" page="ask/backends" path="Model backends › Ollama" title="Ollama">')
    expect(message).toContain('ollama pull llama3.2')
  })

  it('a tiny budget still gives the best section, shortened; no match gives the page from its start', async () => {
    const tiny = await retriever.context('What does mask_prompt do?', {page: 'outputs/litgpt', scope: 'page', budget: 100})
    expect(tiny.parts).toHaveLength(1)
    expect(tiny.parts[0]!.unit.anchor).toBe('useful-options')
    const none = await retriever.context('zzzz qqqq', {page: 'guide/intro', scope: 'page', budget: 2000})
    expect(none.parts[0]!.unit.order).toBe(0)
  })

  it('whole site: finds the section on another page', async () => {
    const ranked = await retriever.rank('Which LitGPT option computes the loss on the answer only?', {page: 'ask/panel', scope: 'site'})
    expect(ranked[0]!.unit.page + '#' + ranked[0]!.unit.anchor).toBe('outputs/litgpt#useful-options')
  })

  it('follows edits: a changed page is compiled again', async () => {
    project.write('guide/intro.md', readFileSync(path.join(repo, 'content', 'guide', 'intro.md'), 'utf8') + '\n## [/T]Zebra crossings[T/]\n\nStripes for pedestrians.\n')
    const ranked = await retriever.rank('Where do pedestrians cross?', {page: 'guide/intro', scope: 'page'})
    expect(ranked[0]!.unit.anchor).toBe('zebra-crossings')
  })

  it('estimates tokens and calibrates from the backend’s own counts, only ever more conservative', () => {
    const estimator = new TokenEstimator()
    expect(estimator.estimate('abcd'.repeat(100))).toBe(100)
    estimator.calibrate(4000, 1600)
    expect(estimator.charsPerToken).toBe(2.5)
    estimator.calibrate(4000, 500)
    expect(estimator.charsPerToken).toBe(2.5)
  })
})
