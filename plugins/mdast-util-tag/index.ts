export {tagFromMarkdown} from './from-markdown.js'
export {tagToMarkdown} from './to-markdown.js'
export type {TagBlock, TagKind, TagMarker, TagPhrase} from './types.js'
