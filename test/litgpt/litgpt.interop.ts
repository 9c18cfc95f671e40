// The LitGPT interop suite (`npm run test:litgpt`): the real LitGPT 0.5.13, in a
// cached venv (scripts/setup/venv.sh litgpt, requirements in test/python/litgpt.txt),
// loads and trains on what `tagpress build` writes to out/datasets/litgpt/:
//   1. its JSON data module loads every instruction folder (train.jsonl + val.jsonl),
//      tokenizes every record with the alpaca prompt style, and the prompts it makes
//      are the ones tagpress expects; TextFiles tokenizes the text folders;
//   2. `litgpt pretrain` trains a tiny model from scratch on the text folders, with a
//      tokenizer trained here on the corpus (no hub downloads), on the CPU;
//   3. `litgpt finetune_full` fine-tunes that model on the Q/A folder.
// Each run must end with a finite loss. Off CI, a machine without Python skips it.
import {spawnSync, type SpawnSyncReturns} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {alpacaPrompt} from '../../src/node/datasets/records.js'
import {Project} from '../helpers/project.js'

const repo = path.join(import.meta.dirname, '..', '..')
const python = path.join(repo, 'test', 'python')
const contextLength = 128
const microBatch = 2
const sftLength = 512

let venv: string | undefined
let project: Project
const timings: Record<string, number> = {}

const env = {
  ...process.env,
  HF_HUB_OFFLINE: '1',
  HF_HUB_DISABLE_TELEMETRY: '1',
  LITDATA_DISABLE_VERSION_CHECK: '1',
  LT_ACCELERATOR: 'cpu',
  TORCHDYNAMO_DISABLE: '1',
  CUDA_VISIBLE_DEVICES: '',
  PYTHONUNBUFFERED: '1'
}

function run(label: string, command: string, args: string[]): SpawnSyncReturns<string> {
  const started = performance.now()
  const result = spawnSync(command, args, {cwd: project.dir, env, encoding: 'utf8', maxBuffer: 1 << 28})
  timings[label] = (performance.now() - started) / 1000
  if (result.status !== 0) {
    throw new Error(`${label} failed (exit ${result.status}):\n${command} ${args.join(' ')}\n${(result.stdout ?? '').slice(-4000)}\n${(result.stderr ?? '').slice(-6000)}`)
  }
  writeFileSync(path.join(project.dir, label + '.log'), result.stdout + '\n--- stderr ---\n' + result.stderr)
  return result
}

function lastJson(output: string): any {
  const line = output.trim().split('\n').pop() ?? ''
  return JSON.parse(line)
}

/** Every `loss train: X` and the final `val loss: X` a LitGPT run printed. */
function losses(output: string): {train: number[]; finalVal: number} {
  const train = [...output.matchAll(/loss train: (\S+?),/g)].map((match) => Number(match[1]))
  const final = /Final evaluation \| val loss: (\S+) \|/.exec(output)
  return {train, finalVal: final ? Number(final[1]) : Number.NaN}
}

beforeAll(() => {
  const started = performance.now()
  const setup = spawnSync('bash', [path.join(repo, 'scripts/setup/venv.sh'), 'litgpt'], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit']})
  timings.venv = (performance.now() - started) / 1000
  if (setup.status === 0) venv = setup.stdout.trim().split('\n').pop()
  else if (process.env.CI) throw new Error('Could not create the LitGPT venv (scripts/setup/venv.sh litgpt)')
  if (!venv) return
  project = Project.copyOf(repo)
  project.write('../tagpress.config.json', JSON.stringify({litgpt: {contextLength, microBatchSize: microBatch, textFileBytes: 8192}}))
  const build = project.build()
  expect(build.status).toBe(0)
})

afterAll(() => {
  if (Object.keys(timings).length > 0) console.log('LitGPT interop timings (s): ' + JSON.stringify(Object.fromEntries(Object.entries(timings).map(([key, value]) => [key, Math.round(value * 10) / 10]))))
  if (process.env.TAGPRESS_KEEP) console.log('kept ' + project?.dir)
  else project?.dispose()
})

describe('LitGPT 0.5.13 reads and trains on out/datasets/litgpt', () => {
  it('trains a tokenizer on the corpus, offline', (context) => {
    if (!venv) return context.skip()
    const result = run('tokenizer', path.join(venv, 'bin', 'python'), [path.join(python, 'litgpt_tokenizer.py'), 'out/datasets/litgpt/text/train', 'tok', '1024'])
    expect(lastJson(result.stdout).vocab_size).toBe(1024)
  })

  it("loads every folder with LitGPT's JSON and TextFiles modules, and formats our records with its alpaca style", (context) => {
    if (!venv) return context.skip()
    const result = run('loaders', path.join(venv, 'bin', 'python'), [path.join(python, 'litgpt_check.py'), 'out/datasets/litgpt', 'tok', String(sftLength), String(contextLength), String(microBatch)])
    const report = lastJson(result.stdout)
    const lines = (file: string): string[] => project.read('out/datasets/litgpt/' + file).trimEnd().split('\n')
    for (const folder of ['qa', 'blocks', 'chapters', 'all']) {
      const seen = report.json[folder]
      expect(seen.train).toBe(lines(folder + '/train.jsonl').length)
      expect(seen.val).toBe(lines(folder + '/val.jsonl').length)
      expect(seen.val).toBeGreaterThan(0)
      expect(seen.batches.train).toBe(Math.ceil(seen.train / microBatch))
      expect(seen.batches.val).toBe(Math.ceil(seen.val / microBatch))
      expect(seen.labelled_tokens).toBeGreaterThan(0)
      expect(seen.first).toEqual(JSON.parse(lines(folder + '/train.jsonl')[0] as string))
      expect(seen.first_prompt).toBe(alpacaPrompt(seen.first))
    }
    expect(report.text.train_batch).toEqual([microBatch, contextLength + 1])
    expect(report.text.val_batch).toEqual([microBatch, contextLength + 1])
    expect(report.text.val_batches).toBeGreaterThanOrEqual(1)
  })

  it('pretrains a tiny model from scratch on the text folders (litgpt pretrain, CPU, 32-true) to a finite loss', (context) => {
    if (!venv) return context.skip()
    const config = `model_name: tagpress-tiny
model_config:
  name: tagpress-tiny
  block_size: ${sftLength}
  n_layer: 2
  n_head: 2
  n_embd: 64
  vocab_size: 1024
  padding_multiple: 64
out_dir: runs/pretrain
precision: 32-true
tokenizer_dir: tok
devices: 1
num_nodes: 1
logger_name: csv
seed: 42
data:
  class_path: litgpt.data.TextFiles
  init_args:
    train_data_path: out/datasets/litgpt/text/train
    val_data_path: out/datasets/litgpt/text/val
    num_workers: 0
train:
  max_tokens: 40000
  max_seq_length: ${contextLength}
  micro_batch_size: ${microBatch}
  global_batch_size: ${microBatch}
  lr_warmup_steps: 5
  save_interval: 1000
  log_interval: 10
  max_norm: 1.0
  min_lr: 6.0e-5
eval:
  interval: 50
  max_iters: 2
  final_validation: true
optimizer:
  class_path: torch.optim.AdamW
  init_args:
    lr: 0.003
    weight_decay: 0.1
    betas: [0.9, 0.95]
`
    writeFileSync(path.join(project.dir, 'pretrain.yaml'), config)
    const result = run('pretrain', path.join(venv, 'bin', 'litgpt'), ['pretrain', '--config', 'pretrain.yaml'])
    const output = result.stdout + result.stderr
    const {train, finalVal} = losses(output)
    console.log(`litgpt pretrain: ${train.length} logged train losses, first ${train[0]}, last ${train.at(-1)}; final val loss ${finalVal}`)
    expect(train.length).toBeGreaterThan(0)
    expect(train.every(Number.isFinite)).toBe(true)
    expect(Number.isFinite(finalVal)).toBe(true)
    expect(train.at(-1) as number).toBeLessThan(train[0] as number)
    expect(output).toMatch(/Total tokens\s*:\s*39,936/)
  })

  it('fine-tunes it on the Q/A folder (litgpt finetune_full --data JSON) to a finite loss', (context) => {
    if (!venv) return context.skip()
    run('convert', path.join(venv, 'bin', 'litgpt'), ['convert_pretrained_checkpoint', 'runs/pretrain/final', 'runs/base'])
    const result = run('finetune', path.join(venv, 'bin', 'litgpt'), [
      'finetune_full', 'runs/base',
      '--data', 'JSON', '--data.json_path', 'out/datasets/litgpt/qa', '--data.mask_prompt', 'true', '--data.num_workers', '0',
      '--train.max_seq_length', String(sftLength), '--train.micro_batch_size', String(microBatch), '--train.global_batch_size', String(microBatch),
      '--train.epochs', '2', '--train.lr_warmup_steps', '2', '--train.log_interval', '5', '--train.save_interval', '1000',
      '--eval.interval', '20', '--eval.max_iters', '2', '--eval.max_new_tokens', '5',
      '--precision', '32-true', '--logger_name', 'csv', '--out_dir', 'runs/sft'
    ])
    const output = result.stdout + result.stderr
    const {train, finalVal} = losses(output)
    console.log(`litgpt finetune_full: ${train.length} logged train losses, first ${train[0]}, last ${train.at(-1)}; final val loss ${finalVal}`)
    expect(train.length).toBeGreaterThan(0)
    expect(train.every((loss) => Number.isFinite(loss) && loss > 0)).toBe(true)
    expect(Number.isFinite(finalVal)).toBe(true)
    expect(readFileSync(path.join(project.dir, 'runs/sft/final/prompt_style.yaml'), 'utf8')).toMatch(/Alpaca/)
  })
})
