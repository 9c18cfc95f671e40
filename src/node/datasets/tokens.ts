import {existsSync, readFileSync} from 'node:fs'
import path from 'node:path'
import {UserError} from '../errors.js'

/** Counts tokens: exactly with a configured `tokenizer.json`, else a fast estimate. */
export interface TokenCounter {
  /** `approximate` or the tokenizer file's name. */
  method: string
  exact: boolean
  count(text: string): number
  /** The end-of-text token, when the tokenizer names one (the separator of pretraining documents). */
  eos?: string
}

/** About four UTF-8 bytes per token: the usual figure for English with a BPE vocabulary of 30k–100k. */
export const approximateCounter: TokenCounter = {
  method: 'approximate (UTF-8 bytes ÷ 4)',
  exact: false,
  count: (text) => Math.ceil(Buffer.byteLength(text) / 4)
}

/** The line that ends each pretraining document: the tokenizer's end-of-text token, else `<|endoftext|>` (GPT-2, GPT-NeoX/Pythia, Qwen, Phi). */
export function textSeparator(tokenizerFile: string | undefined): string {
  if (!tokenizerFile) return defaultSeparator
  try {
    const json = JSON.parse(readFileSync(tokenizerFile, 'utf8')) as {added_tokens?: Array<{content: string; special?: boolean}>}
    return readEos(tokenizerFile, json) ?? defaultSeparator
  } catch {
    return defaultSeparator
  }
}

export const defaultSeparator = '<|endoftext|>'

function readEos(tokenizerFile: string, json: {added_tokens?: Array<{content: string; special?: boolean}>}): string | undefined {
  const configFile = path.join(path.dirname(tokenizerFile), 'tokenizer_config.json')
  if (existsSync(configFile)) {
    try {
      const eos = tokenName((JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>).eos_token)
      if (eos) return eos
    } catch {
      // Fall back to the tokenizer's special tokens.
    }
  }
  return guessEos(json.added_tokens ?? [])
}

/** A counter for `litgpt.tokenizer` (a Hugging Face `tokenizer.json`), or the estimate without one. */
export async function tokenCounter(tokenizerFile: string | undefined): Promise<TokenCounter> {
  if (!tokenizerFile) return approximateCounter
  let json: {added_tokens?: Array<{content: string; special?: boolean}>}
  try {
    json = JSON.parse(readFileSync(tokenizerFile, 'utf8'))
  } catch (error) {
    throw new UserError('`litgpt.tokenizer` must be a readable tokenizer.json (' + tokenizerFile + ': ' + (error as Error).message + ')')
  }
  const configFile = path.join(path.dirname(tokenizerFile), 'tokenizer_config.json')
  let config: Record<string, unknown> = {}
  if (existsSync(configFile)) {
    try {
      config = JSON.parse(readFileSync(configFile, 'utf8'))
    } catch {
      config = {}
    }
  }
  const {Tokenizer} = await import('@huggingface/tokenizers')
  let tokenizer: InstanceType<typeof Tokenizer>
  try {
    tokenizer = new Tokenizer(json, config)
  } catch (error) {
    throw new UserError('`litgpt.tokenizer` could not be loaded (' + tokenizerFile + ': ' + (error as Error).message + ')')
  }
  const eos = readEos(tokenizerFile, json)
  return {
    method: path.basename(tokenizerFile),
    exact: true,
    count: (text) => tokenizer.encode(text, {add_special_tokens: false}).ids.length,
    ...(eos ? {eos} : {})
  }
}

function tokenName(value: unknown): string | undefined {
  if (typeof value === 'string' && value) return value
  if (value && typeof value === 'object' && typeof (value as {content?: unknown}).content === 'string') return (value as {content: string}).content
  return undefined
}

const knownEos = ['<|endoftext|>', '<|end_of_text|>', '</s>', '<eos>', '<|im_end|>']

function guessEos(added: Array<{content: string; special?: boolean}>): string | undefined {
  const special = new Set(added.filter((token) => token.special !== false).map((token) => token.content))
  return knownEos.find((token) => special.has(token))
}
