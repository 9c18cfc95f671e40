export {tagSyntax, type Options} from './syntax.js'
export {defaultTagNames} from './names.js'
export type {} from './types.js'
