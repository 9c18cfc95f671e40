/** MiniSearch, re-exported so its lazy chunk is named `minisearch-*.js`. */
export {default} from 'minisearch'
