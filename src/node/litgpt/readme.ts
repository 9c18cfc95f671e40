import path from 'node:path'
import {stringify} from 'yaml'
import type {Config} from '../config/types.js'
import type {TokenCounter} from '../datasets/tokens.js'
import type {Kind} from './convert.js'

export interface ReadmeFile {
  /** Relative to the litgpt folder. */
  path: string
  stream: string
  records: number
  bytes: number
  sha256: string
  tokens: number
  maxTokens: number
  over: number
}

export interface ReadmeInput {
  config: Config
  buildId: string
  toolVersion: string
  kinds: readonly Kind[]
  files: readonly ReadmeFile[]
  sources: ReadonlyArray<{source: string; sha256: string}>
  sourcesSha256: string
  statsSha256: string
  counter: TokenCounter
  separator: string
  textTokens: {val: number; train: number; need: number}
}

const kindNames: Record<Kind | 'all', string> = {
  qa: 'Q/A pairs: the question as `instruction`, the chapter path as `input`, the answer as `output`',
  blocks: 'block items: `<file_id>#<block_index>` as `instruction` (the `Q=<id>` pattern), the block\'s Markdown as `output`',
  chapters: 'chapter items: the chapter path as `instruction`, the whole chapter (Markdown) as `output`',
  all: 'every kind above, in one folder'
}

/** How many sources the card lists by name before pointing to `sources.jsonl`. */
const listedSources = 100

/** The generated `README.md`: a Hugging Face dataset card (YAML front matter) with the exact LitGPT commands. */
export function renderReadme(input: ReadmeInput): string {
  const {config, files, kinds, counter} = input
  const options = config.litgpt
  const dir = displayDir(config)
  const groups = [...kinds, 'all'] as Array<Kind | 'all'>
  const has = (file: string): boolean => files.some((item) => item.path === file)
  const folders = groups.filter((group) => has(group + '/train.jsonl') && has(group + '/val.jsonl'))
  const textTrain = files.filter((file) => file.stream === 'text/train')
  const textVal = files.filter((file) => file.stream === 'text/val')
  const total = (list: readonly ReadmeFile[], key: 'records' | 'tokens'): number => list.reduce((sum, file) => sum + file[key], 0)
  const records = total(files.filter((file) => file.stream === 'all/train.jsonl' || file.stream === 'all/val.jsonl'), 'records')

  const configs: Array<Record<string, unknown>> = []
  for (const group of folders) {
    configs.push({
      config_name: group,
      ...(group === 'all' ? {default: true} : {}),
      data_files: [
        {split: 'train', path: group + '/train.jsonl'},
        {split: 'validation', path: group + '/val.jsonl'}
      ]
    })
  }
  if (has('chat/train.jsonl') && has('chat/val.jsonl')) {
    configs.push({
      config_name: 'chat',
      data_files: [
        {split: 'train', path: 'chat/train.jsonl'},
        {split: 'validation', path: 'chat/val.jsonl'}
      ]
    })
  }
  if (textTrain.length > 0 && textVal.length > 0) {
    configs.push({
      config_name: 'text',
      data_files: [
        {split: 'train', path: 'text/train/*.txt'},
        {split: 'validation', path: 'text/val/*.txt'}
      ]
    })
  }
  const card: Record<string, unknown> = {
    pretty_name: config.site.title,
    ...(options.license ? {license: options.license} : {}),
    language: [config.site.lang],
    task_categories: ['question-answering', 'text-generation'],
    size_categories: [sizeCategory(records)],
    tags: ['tagpress', 'litgpt'],
    configs
  }

  const lines: string[] = []
  lines.push('---', stringify(card, {lineWidth: 0}).trimEnd(), '---', '')
  lines.push(`# ${escape(config.site.title)}: training corpora for LitGPT`, '')
  lines.push(
    `Written by tagpress ${input.toolVersion} (build \`${input.buildId}\`) from ${input.sources.length} source file${input.sources.length === 1 ? '' : 's'}. ` +
      'Do not edit: every build rewrites this folder. Run the commands below from the project root' +
      (config.file ? ' (the folder of `' + path.basename(config.file) + '`)' : '') + '.',
    ''
  )

  lines.push('## Files', '')
  lines.push(
    'Instruction records are `{"instruction", "input", "output", "id", "kind"}` (LitGPT reads the first three and ignores the rest); ' +
      'chat records are `{"messages": [{"role": "user", …}, {"role": "assistant", …}], "id", "kind"}`. ' +
      'Every file is UTF-8 without BOM, one record a line, no blank lines.',
    ''
  )
  lines.push('| file | records | tokens | longest | over context | SHA-256 |', '| --- | ---: | ---: | ---: | ---: | --- |')
  for (const file of files) {
    lines.push(`| \`${file.path}\` | ${file.records} | ${file.tokens} | ${file.maxTokens} | ${file.stream.startsWith('text/') ? '' : file.over} | \`${file.sha256}\` |`)
  }
  lines.push('')
  lines.push(
    `Tokens: ${counter.exact ? 'exact, counted with `' + counter.method + '`' : counter.method + '; set `litgpt.tokenizer` to a tokenizer.json for exact counts'}. ` +
      'An instruction record counts its `alpaca` prompt, its output and the EOS token, as LitGPT trains on it. ' +
      `"Over context" counts records longer than \`litgpt.contextLength\` (${options.contextLength}). ` +
      'Per-file statistics are also in `stats.json`.',
    ''
  )
  for (const group of folders) lines.push(`- \`${group}/\`: ${kindNames[group]}.`)
  if (folders.length > 0) lines.push('- `chat/`: the records of `all/` as chat messages (the `input`, when there is one, then a blank line, then the `instruction`), for TRL, Axolotl and other chat trainers; `tagpress export litgpt --format chat --filter kind=qa` gives one kind.')
  if (textTrain.length > 0) {
    lines.push(
      `- \`text/train/\`, \`text/val/\`: the same records as plain text for pretraining, packed into files of about ${options.textFileBytes} bytes, ` +
        `each document followed by a line \`${input.separator}\`.`
    )
  }
  const missing = kinds.filter((kind) => !folders.includes(kind))
  if (missing.length > 0) lines.push(`- No ${missing.join(', ')} records in this build: no folder for ${missing.length === 1 ? 'it' : 'them'}.`)
  lines.push('')

  lines.push('## Split', '')
  lines.push(
    `A record is in validation when SHA-256 of \`${options.seed}:<id>\` (litgpt.seed, the record's id), read as a number in [0, 1), is below ` +
      `litgpt.valFraction (${options.valFraction}). A record keeps its split when others change. When a kind has no record in validation, ` +
      'the one nearest to the threshold goes there, so LitGPT never sees an empty validation set; a kind with a single record is in both. ' +
      `The pretraining validation folder is topped up with the training documents nearest to the threshold until it holds one batch: ` +
      `litgpt.microBatchSize × (litgpt.contextLength + 1) = ${options.microBatchSize * (options.contextLength + 1)} tokens` +
      (counter.exact ? '' : ' (× 1.5 for the estimate)') +
      `; it holds about ${input.textTokens.val}, training about ${input.textTokens.train}.`,
    ''
  )

  lines.push('## LitGPT commands', '')
  lines.push(
    'For LitGPT 0.5.x (`pip install \'litgpt[extra]\'`). `<checkpoint_dir>` is a model downloaded with `litgpt download <repo_id>` ' +
      '(for example `checkpoints/EleutherAI/pythia-160m`); `<model_name>` is its name (`pythia-160m`).',
    ''
  )
  if (folders.length > 0) {
    lines.push('Fine-tune with LoRA (or `litgpt finetune_full`) on one folder; `--data.mask_prompt true` trains on the answers only:', '')
    lines.push('```bash')
    for (const group of folders) {
      lines.push(
        `litgpt finetune_lora <checkpoint_dir> --data JSON --data.json_path ${dir}/${group} --data.mask_prompt true --train.max_seq_length ${options.contextLength} --out_dir runs/${group}-lora`
      )
    }
    lines.push('```', '')
    lines.push(
      'A folder holds `train.jsonl` and `val.jsonl`, so LitGPT does not split at random; do not pass `--data.val_split_fraction` with it. ' +
        'Only the default `alpaca` prompt style reads `input` (the chapter path of a Q/A pair).',
      ''
    )
  }
  if (textTrain.length > 0 && textVal.length > 0) {
    lines.push('Continued pretraining on the text (TextFiles keeps its tokenized copy in `text/train/train/` and `text/val/val/`; tagpress deletes it when the text changes):', '')
    lines.push('```bash')
    lines.push(
      `litgpt pretrain <model_name> --initial_checkpoint_dir <checkpoint_dir> --tokenizer_dir <checkpoint_dir> --data TextFiles ` +
        `--data.train_data_path ${dir}/text/train --data.val_data_path ${dir}/text/val ` +
        `--train.max_seq_length ${options.contextLength} --train.micro_batch_size ${options.microBatchSize} --train.max_tokens ${roundUp(total(textTrain, 'tokens'))} --out_dir runs/pretrain`
    )
    lines.push('```', '')
    lines.push(
      `\`--train.max_tokens\` above is about one pass over the training text (${total(textTrain, 'tokens')} tokens); ` +
        `keep \`--train.max_seq_length\` and \`--train.micro_batch_size\` at most what this folder was sized for (litgpt.contextLength, litgpt.microBatchSize).`,
      ''
    )
  }
  if (folders.length > 0) {
    lines.push('The chat files with the Hugging Face `datasets` library:', '')
    lines.push('```python')
    lines.push('from datasets import load_dataset')
    lines.push(`chat = load_dataset("json", data_files={"train": "${dir}/chat/train.jsonl", "validation": "${dir}/chat/val.jsonl"})`)
    lines.push('```', '')
  }

  lines.push('## Provenance', '')
  lines.push(`- Build id: \`${input.buildId}\` (a hash of the sources, the configuration and the tool version); tool: tagpress ${input.toolVersion}.`)
  lines.push(`- Licence: ${options.license ? options.license : 'not set (set `litgpt.license` in tagpress.config.json)'}.`)
  lines.push(`- Sources: ${input.sources.length} file${input.sources.length === 1 ? '' : 's'}, each with its SHA-256 and tags in \`sources.jsonl\` (SHA-256 \`${input.sourcesSha256}\`).`)
  lines.push(`- Statistics: \`stats.json\` (SHA-256 \`${input.statsSha256}\`). The build's \`manifest.json\` lists every file here with its records and SHA-256.`)
  lines.push('')
  if (input.sources.length > 0 && input.sources.length <= listedSources) {
    lines.push('| source | SHA-256 |', '| --- | --- |')
    for (const source of input.sources) lines.push(`| \`${source.source}\` | \`${source.sha256}\` |`)
    lines.push('')
  }
  return lines.join('\n')
}

/** The litgpt folder as the commands name it: relative to the project root, with `/`. */
function displayDir(config: Config): string {
  const relative = path.relative(config.root, path.join(config.out, 'datasets', 'litgpt')).split(path.sep).join('/')
  return relative === '' ? '.' : relative
}

function sizeCategory(count: number): string {
  if (count < 1000) return 'n<1K'
  if (count < 10000) return '1K<n<10K'
  if (count < 100000) return '10K<n<100K'
  if (count < 1000000) return '100K<n<1M'
  if (count < 10000000) return '1M<n<10M'
  return 'n>10M'
}

function roundUp(value: number): number {
  if (value <= 1000) return Math.max(1000, value)
  const step = 10 ** Math.floor(Math.log10(value) - 1)
  return Math.ceil(value / step) * step
}

function escape(text: string): string {
  return text.replace(/[\\`*_[\]<>]/g, '\\$&')
}
