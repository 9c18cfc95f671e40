import {factorySpace} from 'micromark-factory-space'
import {markdownLineEnding, markdownSpace} from 'micromark-util-character'
import {codes, types} from 'micromark-util-symbol'
import type {Code, Construct, Effects, Extension, State, TokenizeContext} from 'micromark-util-types'
import {factoryTag, type TagTokenTypes} from './factory-tag.js'
import {defaultTagNames} from './names.js'

/** Options of the syntax extension. */
export interface Options {
  /** Tag names to recognise (default: `Q`, `A`, `T`, `BLOCKREAD`, `CHAPTREEREAD`). */
  names?: readonly string[] | null | undefined
}

const textTypes: TagTokenTypes = {
  tag: 'tagText',
  marker: 'tagTextMarker',
  name: 'tagTextName',
  idMarker: 'tagTextIdMarker',
  id: 'tagTextId'
}

const flowTypes: TagTokenTypes = {
  tag: 'tagFlow',
  marker: 'tagFlowMarker',
  name: 'tagFlowName',
  idMarker: 'tagFlowIdMarker',
  id: 'tagFlowId'
}

/**
 * Create a micromark extension for tagpress tags.
 *
 * A tag alone on its line is flow (it ends the paragraph above it, like a
 * blank line); anywhere else in prose it is text. Code, HTML, link
 * destinations and escapes never reach these constructs, so tags there stay
 * literal.
 */
export function tagSyntax(options?: Options | null): Extension {
  const names = new Set(options?.names ?? defaultTagNames)
  const text: Construct = {name: 'tagText', tokenize: tokenizeText}
  const flow: Construct = {name: 'tagFlow', tokenize: tokenizeFlow}
  return {
    text: {[codes.leftSquareBracket]: text},
    flow: {[codes.leftSquareBracket]: flow}
  }

  function tokenizeText(this: TokenizeContext, effects: Effects, ok: State, nok: State): State {
    return factoryTag(effects, ok, nok, names, textTypes)
  }

  /**
   * A tag alone on its line.
   *
   * ```markdown
   * > | [/BLOCKREAD/]
   *     ^^^^^^^^^^^^^
   * ```
   */
  function tokenizeFlow(this: TokenizeContext, effects: Effects, ok: State, nok: State): State {
    return factoryTag(effects, after, nok, names, flowTypes)

    function after(code: Code): State | undefined {
      return markdownSpace(code) ? factorySpace(effects, end, types.whitespace)(code) : end(code)
    }

    function end(code: Code): State | undefined {
      // Anything after it on the line: the paragraph and the text construct take it.
      return code === codes.eof || markdownLineEnding(code) ? ok(code) : nok(code)
    }
  }
}
