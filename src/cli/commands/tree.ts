import {readFileSync} from 'node:fs'
import path from 'node:path'
import {parseArgs} from 'node:util'
import {loadConfig} from '../../node/config/load.js'
import {UserError} from '../../node/errors.js'
import {projectOf} from '../../node/mongo/cache.js'
import {nodesFile} from '../../node/mongo/output.js'
import type {TreeDocument} from '../../node/mongo/schema.js'
import {assembleTrees, defaultLabel, renderTree, subtree, type TreeNode} from '../../node/mongo/tree.js'

const usage = `Usage: tagpress tree [--mongo URI] [--db NAME] [--ids] [--depth N] [FILE_ID | NODE_ID]

Print Q&A trees the way anytree's RenderTree does. Without an id: every
document tree of the project. From MongoDB when a URI is given (--mongo,
MONGODB_URI or mongo.uri), else from out/mongo/nodes.jsonl.

  --mongo URI     read from this MongoDB
  --db NAME       its database (default: tagpress)
  --config FILE   config file (default: tagpress.config.json if present)
  --out DIR       output folder holding mongo/nodes.jsonl (default: out/)
  --ids           show each node's _id
  --depth N       show N levels below each root
  -h, --help      this help
`

/** `tagpress tree [--mongo uri] [--db name] [<file_id or node id>]`. */
export async function runTree(args: string[]): Promise<number> {
  const {values, positionals} = parseArgs({
    args,
    options: {
      mongo: {type: 'string'},
      db: {type: 'string'},
      config: {type: 'string'},
      out: {type: 'string'},
      ids: {type: 'boolean'},
      depth: {type: 'string'},
      help: {type: 'boolean', short: 'h'}
    },
    allowPositionals: true,
    strict: true
  })
  if (values.help) {
    process.stdout.write(usage)
    return 0
  }
  if (positionals.length > 1) throw new UserError('tagpress tree takes at most one id, not ' + positionals.length + '\n\n' + usage)
  const depth = values.depth === undefined ? Infinity : Number(values.depth)
  if (!(depth === Infinity || (Number.isInteger(depth) && depth >= 0))) throw new UserError('--depth must be a whole number (0 or more)')
  const config = await loadConfig(process.cwd(), {
    ...(values.config ? {config: values.config} : {}),
    ...(values.out ? {out: values.out} : {}),
    ...(values.mongo ? {mongo: values.mongo} : {}),
    ...(values.db ? {db: values.db} : {})
  })
  const id = positionals[0]
  const project = projectOf(config)
  let roots: Array<TreeNode<TreeDocument>>
  let source: string

  if (config.mongo.uri) {
    const {TreeStore} = await import('../../node/mongo/store.js')
    const store = await TreeStore.connect(config.mongo.uri, config.mongo.db)
    source = store.where
    try {
      if (id !== undefined) {
        const tree = await store.loadTree(id)
        roots = tree ? [tree] : []
      } else {
        roots = await store.loadForest(project)
      }
    } catch (error) {
      throw store.userError(error, 'read')
    } finally {
      await store.close()
    }
  } else {
    const file = path.join(config.out, nodesFile)
    source = path.relative(process.cwd(), file) || file
    const docs = readNodes(file)
    const forest = assembleTrees(docs)
    if (id !== undefined) {
      const found = forest.map((root) => subtree(root, id)).find((node) => node !== undefined)
      roots = found ? [found] : []
    } else {
      roots = forest.filter((root) => root.doc.kind === 'file')
    }
  }

  if (roots.length === 0) {
    if (id !== undefined) throw new UserError('No node `' + id + '` in ' + source + ' (a file id like `guide/intro`, or a node id like `guide/intro#q-…`)')
    process.stderr.write('tagpress: no document trees of project `' + project + '` in ' + source + (config.mongo.uri ? ' (run `tagpress build --mongo …` first)' : ' (run `tagpress build` first)') + '\n')
    return 1
  }
  // `tagpress tree | head` closes the pipe early: that is not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0)
    throw error
  })
  const label = values.ids ? (doc: TreeDocument) => defaultLabel(doc) + '  [' + doc._id + ']' : defaultLabel
  process.stdout.write(roots.map((root) => renderTree(root, label, depth)).join(''))
  return 0
}

/** The nodes of `nodes.jsonl` (relaxed Extended JSON: for these documents, JSON). */
function readNodes(file: string): TreeDocument[] {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    throw new UserError('No ' + file + ': run `tagpress build` first, or pass --mongo URI to read from MongoDB')
  }
  const docs: TreeDocument[] = []
  let line = 0
  for (const row of text.split('\n')) {
    line++
    if (row.trim() === '') continue
    try {
      docs.push(JSON.parse(row) as TreeDocument)
    } catch (error) {
      throw new UserError(file + ':' + line + ': not valid JSON: ' + (error as Error).message)
    }
  }
  return docs
}
