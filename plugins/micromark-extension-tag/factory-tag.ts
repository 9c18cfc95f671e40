import {asciiAlphanumeric} from 'micromark-util-character'
import {codes} from 'micromark-util-symbol'
import type {Code, Effects, State, TokenType} from 'micromark-util-types'
import {maxIdSize, maxNameSize} from './names.js'

function asciiUpperAlpha(code: Code): boolean {
  return code !== null && code >= codes.uppercaseA && code <= codes.uppercaseZ
}

/** Token names for one context (text or flow), so both share this grammar. */
export interface TagTokenTypes {
  tag: TokenType
  marker: TokenType
  name: TokenType
  idMarker: TokenType
  id: TokenType
}

/**
 * Parse one tag: open `[/NAME]`, `[/NAME#id]`, close `[NAME/]`, void `[/NAME/]`.
 *
 * ```markdown
 * > | [/Q#install]How?[Q/]
 *     ^^^^^^^^^^^^    ^^^^
 * ```
 *
 * A `[NAME]` without a slash is not a tag (GFM task items, links), and only
 * known names are tags, so Markdown without tags parses exactly as before.
 */
export function factoryTag(
  effects: Effects,
  ok: State,
  nok: State,
  names: ReadonlySet<string>,
  types: TagTokenTypes
): State {
  let leadingSlash = false
  let name = ''
  let idSize = 0

  return start

  /** At `[`. */
  function start(code: Code): State | undefined {
    if (code !== codes.leftSquareBracket) return nok(code)
    effects.enter(types.tag)
    effects.enter(types.marker)
    effects.consume(code)
    return afterBracket
  }

  /** After `[`: a slash (open/void) or a name (close). */
  function afterBracket(code: Code): State | undefined {
    if (code === codes.slash) {
      leadingSlash = true
      effects.consume(code)
      effects.exit(types.marker)
      return nameStart
    }
    effects.exit(types.marker)
    return nameStart(code)
  }

  function nameStart(code: Code): State | undefined {
    if (!asciiUpperAlpha(code)) return nok(code)
    effects.enter(types.name)
    return nameInside(code)
  }

  function nameInside(code: Code): State | undefined {
    if (asciiUpperAlpha(code) && name.length < maxNameSize) {
      name += String.fromCharCode(code as number)
      effects.consume(code)
      return nameInside
    }
    // Unknown names are not syntax: `[/OK]` stays text.
    if (!names.has(name)) return nok(code)
    effects.exit(types.name)
    if (code === codes.numberSign && leadingSlash) {
      effects.enter(types.idMarker)
      effects.consume(code)
      effects.exit(types.idMarker)
      return idStart
    }
    return afterName(code)
  }

  function idStart(code: Code): State | undefined {
    if (!asciiAlphanumeric(code)) return nok(code)
    effects.enter(types.id)
    return idInside(code)
  }

  function idInside(code: Code): State | undefined {
    if (
      (asciiAlphanumeric(code) || code === codes.dash || code === codes.underscore || code === codes.dot) &&
      idSize < maxIdSize
    ) {
      idSize++
      effects.consume(code)
      return idInside
    }
    effects.exit(types.id)
    return afterName(code)
  }

  /** After the name (and id): `]` (open), `/]` (close or void). */
  function afterName(code: Code): State | undefined {
    if (code === codes.slash) {
      effects.enter(types.marker)
      effects.consume(code)
      return closingBracket
    }
    if (code === codes.rightSquareBracket && leadingSlash) {
      effects.enter(types.marker)
      effects.consume(code)
      effects.exit(types.marker)
      effects.exit(types.tag)
      return ok
    }
    return nok(code)
  }

  function closingBracket(code: Code): State | undefined {
    if (code !== codes.rightSquareBracket) return nok(code)
    effects.consume(code)
    effects.exit(types.marker)
    effects.exit(types.tag)
    return ok
  }
}
