import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {pathToFileURL} from 'node:url'
import {UserError} from '../errors.js'
import {validate, type Schema} from './schema.js'
import type {Config} from './types.js'

export type {Config} from './types.js'

const settings: Schema = {
  type: 'object',
  properties: {
    blockread: {type: 'enum', values: ['all', false]},
    chaptread: {type: 'enum', values: ['all', false]},
    datasets: {type: 'boolean'},
    anki: {type: 'boolean'},
    draft: {type: 'boolean'},
    tags: {type: 'array', items: {type: 'string'}}
  }
}

const configSchema: Schema = {
  type: 'object',
  properties: {
    $schema: {type: 'string'},
    content: {type: 'string'},
    out: {type: 'string'},
    site: {
      type: 'object',
      properties: {
        title: {type: 'string'},
        base: {type: 'string', pattern: /^\/(.*\/)?$/, describe: 'a path that starts and ends with `/` (like `/` or `/docs/`)'},
        url: {type: 'string', pattern: /^https?:\/\/[^\s]+$/, describe: 'an absolute http(s) URL'},
        lang: {type: 'string'},
        description: {type: 'string'},
        editLink: {type: 'string', pattern: /:path/, describe: 'a URL containing `:path`'}
      }
    },
    folders: {type: 'record', values: settings},
    anki: {
      type: 'object',
      properties: {
        deck: {type: 'string'},
        instruction: {type: 'string'},
        answerIntro: {type: 'string'},
        packages: {type: 'enum', values: ['project', 'folder', 'file']}
      }
    },
    litgpt: {
      type: 'object',
      properties: {
        kinds: {type: 'array', items: {type: 'enum', values: ['qa', 'blocks', 'chapters']}},
        valFraction: {type: 'number', min: 0, max: 0.5},
        seed: {type: 'number', integer: true},
        contextLength: {type: 'number', integer: true, min: 16},
        microBatchSize: {type: 'number', integer: true, min: 1},
        textFileBytes: {type: 'number', integer: true, min: 1024},
        tokenizer: {type: 'string'},
        license: {type: 'string'}
      }
    },
    mongo: {type: 'object', properties: {uri: {type: 'string'}, db: {type: 'string'}}},
    llm: {
      type: 'object',
      properties: {
        backend: {type: 'enum', values: ['ollama', 'openai']},
        host: {type: 'string'},
        model: {type: 'string'},
        options: {type: 'record', values: {type: 'any'}}
      }
    },
    server: {
      type: 'object',
      properties: {port: {type: 'number', integer: true, min: 0, max: 65535}, host: {type: 'string'}, token: {type: 'string'}}
    }
  }
}

/** Command-line values that override everything else. */
export interface Overrides {
  config?: string
  content?: string
  out?: string
  base?: string
  mongo?: string
  db?: string
  port?: number
  host?: string
}

export const configNames = ['tagpress.config.json', 'tagpress.config.js', 'tagpress.config.mjs']

/**
 * Load and validate the config. Unknown keys and wrong types are one
 * `UserError` listing every problem with the file's name.
 */
export async function loadConfig(cwd: string, overrides: Overrides = {}, env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  const file = overrides.config ? path.resolve(cwd, overrides.config) : configNames.map((name) => path.join(cwd, name)).find(existsSync)
  if (overrides.config && file && !existsSync(file)) throw new UserError('No config file at ' + file)
  const raw = file ? await readConfigFile(file) : {}
  const problems: string[] = []
  validate(raw, configSchema, '', problems)
  if (problems.length > 0) {
    throw new UserError(path.relative(cwd, file ?? '') + ': invalid config:\n' + problems.map((problem) => '  - ' + problem).join('\n'))
  }
  const root = file ? path.dirname(file) : cwd
  const fromFile = raw as Partial<Record<string, Record<string, unknown>>> & {content?: string; out?: string}
  const site = fromFile.site ?? {}
  const port = overrides.port ?? (env.PORT ? Number(env.PORT) : (fromFile.server?.port as number | undefined))
  const config: Config = {
    root,
    content: path.resolve(root, overrides.content ?? fromFile.content ?? 'content'),
    out: path.resolve(root, overrides.out ?? fromFile.out ?? 'out'),
    ...(file ? {file} : {}),
    site: {
      title: (site.title as string | undefined) ?? projectName(root),
      base: normalizeBase(overrides.base ?? (site.base as string | undefined) ?? '/'),
      ...(site.url ? {url: String(site.url).replace(/\/?$/, '/')} : {}),
      lang: (site.lang as string | undefined) ?? 'en',
      ...(site.description ? {description: site.description as string} : {}),
      ...(site.editLink ? {editLink: site.editLink as string} : {})
    },
    folders: (raw as {folders?: Config['folders']}).folders ?? {},
    anki: {
      deck: (fromFile.anki?.deck as string | undefined) ?? projectName(root),
      ...(fromFile.anki?.instruction ? {instruction: fromFile.anki.instruction as string} : {}),
      answerIntro: (fromFile.anki?.answerIntro as string | undefined) ?? '',
      packages: (fromFile.anki?.packages as Config['anki']['packages'] | undefined) ?? 'project'
    },
    litgpt: {
      kinds: (fromFile.litgpt?.kinds as Config['litgpt']['kinds'] | undefined) ?? ['qa', 'blocks', 'chapters'],
      valFraction: (fromFile.litgpt?.valFraction as number | undefined) ?? 0.1,
      seed: (fromFile.litgpt?.seed as number | undefined) ?? 42,
      contextLength: (fromFile.litgpt?.contextLength as number | undefined) ?? 2048,
      microBatchSize: (fromFile.litgpt?.microBatchSize as number | undefined) ?? 1,
      textFileBytes: (fromFile.litgpt?.textFileBytes as number | undefined) ?? 1 << 20,
      ...(fromFile.litgpt?.tokenizer ? {tokenizer: path.resolve(root, fromFile.litgpt.tokenizer as string)} : {}),
      ...(fromFile.litgpt?.license ? {license: fromFile.litgpt.license as string} : {})
    },
    mongo: {
      ...(pick(overrides.mongo, env.MONGODB_URI, fromFile.mongo?.uri as string | undefined) ? {uri: pick(overrides.mongo, env.MONGODB_URI, fromFile.mongo?.uri as string | undefined) as string} : {}),
      db: overrides.db ?? (fromFile.mongo?.db as string | undefined) ?? 'tagpress'
    },
    llm: {
      backend: (fromFile.llm?.backend as Config['llm']['backend'] | undefined) ?? 'ollama',
      host: pick(env.OLLAMA_HOST && normalizeHost(env.OLLAMA_HOST), fromFile.llm?.host as string | undefined) ?? 'http://127.0.0.1:11434',
      model: pick(env.TAGPRESS_MODEL, fromFile.llm?.model as string | undefined) ?? 'qwen2.5:0.5b',
      options: (fromFile.llm?.options as Record<string, unknown> | undefined) ?? {}
    },
    server: {
      ...(port !== undefined && Number.isFinite(port) ? {port} : {}),
      host: overrides.host ?? (fromFile.server?.host as string | undefined) ?? '127.0.0.1',
      ...(pick(env.TAGPRESS_TOKEN, fromFile.server?.token as string | undefined) ? {token: pick(env.TAGPRESS_TOKEN, fromFile.server?.token as string | undefined) as string} : {})
    }
  }
  return config
}

async function readConfigFile(file: string): Promise<unknown> {
  if (file.endsWith('.json')) {
    try {
      return JSON.parse(readFileSync(file, 'utf8'))
    } catch (error) {
      throw new UserError(file + ': not valid JSON: ' + (error as Error).message)
    }
  }
  const module = (await import(pathToFileURL(file).href)) as {default?: unknown}
  return module.default ?? {}
}

function pick<T>(...values: Array<T | undefined | '' | false>): T | undefined {
  for (const value of values) if (value !== undefined && value !== '' && value !== false) return value
  return undefined
}

function normalizeBase(base: string): string {
  let value = base.startsWith('/') ? base : '/' + base
  if (!value.endsWith('/')) value += '/'
  return value
}

/** `OLLAMA_HOST` may be `0.0.0.0:11434` or a bare host, as the Ollama CLI accepts. */
function normalizeHost(host: string): string {
  return /^https?:\/\//.test(host) ? host : 'http://' + host
}

function projectName(root: string): string {
  const packageFile = path.join(root, 'package.json')
  if (existsSync(packageFile)) {
    try {
      const name = (JSON.parse(readFileSync(packageFile, 'utf8')) as {name?: string}).name
      if (name) return name
    } catch {
      // Fall back to the folder's name.
    }
  }
  return path.basename(root)
}
