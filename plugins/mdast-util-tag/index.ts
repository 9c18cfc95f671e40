export {tagFromMarkdown} from './from-markdown.js'
export {tagToMarkdown} from './to-markdown.js'
export {tagToHast} from './to-hast.js'
export type {TagBlock, TagKind, TagMarker, TagPhrase} from './types.js'
