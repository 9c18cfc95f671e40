// `npm run bench`: every benchmark suite in one run, printed as Markdown
// tables (copied into docs/benchmarks.md with the machine line).
// Options: --only build (suites: build, dev, anki, ask, datasets, assets, mongo), --sizes 1000,10000, --runs 5.
import {parseArgs} from 'node:util'
import {benchBuild, formatBuild} from './build-bench.js'
import {benchDev, formatDev} from './dev-bench.js'
import {benchAnki} from './anki-bench.js'
import {benchAssets} from './assets-bench.js'
import {benchAsk} from './ask-bench.js'
import {benchDatasets} from './datasets-bench.js'
import {benchMongo} from './mongo-bench.js'
import {machine} from './lib.js'

const {values} = parseArgs({
  options: {only: {type: 'string'}, sizes: {type: 'string'}, runs: {type: 'string'}}
})
const only = values.only ? new Set(values.only.split(',')) : undefined
const sizes = (values.sizes ?? '1000,10000').split(',').map(Number)
const runs = Number(values.runs ?? 5)

console.log(`Machine: ${machine()}\n`)
if (!only || only.has('build')) {
  console.log('## Build\n')
  console.log(formatBuild(await benchBuild({sizes, runs})) + '\n')
}
if (!only || only.has('dev')) {
  console.log('## Dev server\n')
  console.log(formatDev(await benchDev({sizes: (values.sizes ? sizes : [100, 10000])})) + '\n')
}
if (!only || only.has('anki')) {
  console.log((await benchAnki({runs: Math.min(runs, 5)})) + '\n')
}
if (!only || only.has('ask')) {
  console.log((await benchAsk()) + '\n')
}
if (!only || only.has('datasets')) {
  console.log('## Datasets\n')
  console.log((await benchDatasets()) + '\n')
}
if (!only || only.has('assets')) {
  console.log((await benchAssets()) + '\n')
}
if (!only || only.has('mongo')) {
  console.log('## MongoDB trees (FerretDB)\n\n' + (await benchMongo({files: 10000})) + '\n')
}
