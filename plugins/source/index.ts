export {stripTags} from './strip-tags.js'
export {dedentContinuation} from './dedent.js'
